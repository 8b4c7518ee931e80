//! Nothing outlives a run, even when `lockcheck run` itself is SIGKILLed mid-scenario: no
//! participant, no child of one, no FUSE daemon, and no temp directory.

#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::write;

/// A holder that starts a long-lived child, then a long pause during which the run is killed.
const LINGER: &str = r#"
id = "linger"
level = "process"
description = "a holds and starts a child, b and c wait; then a long sleep"
catches = "nothing: this scenario exists to be interrupted"
requires = ["exclusive", "try", "spawn_child"]

[[participants]]
name = "a"
[[participants]]
name = "b"
count = 2

[[steps]]
who = "a"
do = "acquire"

[[steps]]
who = "a"
do = "spawn_child"

[[steps]]
who = "a"
do = "stop"

[[steps]]
do = "sleep"
ms = 60000
"#;

/// PIDs of live processes whose environment names a lock under `root`.
fn processes_under(root: &Path) -> Vec<u32> {
    let needle = format!("LOCKCHECK_LOCK_PATH={}", root.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc is readable")
        .flatten()
    {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        });
        if !zombie
            && environ
                .split(|&b| b == 0)
                .any(|var| var.starts_with(needle.as_bytes()))
        {
            found.push(pid);
        }
    }
    found
}

#[track_caller]
fn wait_until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills whatever is left under the root when the test ends, so a failing run of this test
/// does not leave its own processes behind.
struct Reaper<'a>(&'a Path);

impl Drop for Reaper<'_> {
    fn drop(&mut self) {
        for pid in processes_under(self.0)
            .into_iter()
            .chain(commands_under(self.0))
        {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}

#[test]
fn sigkilled_run_leaves_no_participant_or_child_behind() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "linger.toml", LINGER);
    let tmp_root = dir.path().join("tmp");
    std::fs::create_dir(&tmp_root).unwrap();
    let _reaper = Reaper(&tmp_root);

    let mut run = std::process::Command::new(assert_cmd::cargo::cargo_bin("lockcheck"))
        .args(["run", "--replace-catalogue", "--scenarios"])
        .arg(&scenarios)
        .env("TMPDIR", &tmp_root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lockcheck starts");

    // Three adapters and the child `a` started: four processes carry the lock path.
    wait_until(
        "the participants and the child are running",
        Duration::from_secs(20),
        || processes_under(&tmp_root).len() >= 4,
    );
    let before = processes_under(&tmp_root);
    run.kill().expect("SIGKILL lockcheck");
    run.wait().expect("reaped");

    wait_until(
        "every participant and child is gone",
        Duration::from_secs(10),
        || processes_under(&tmp_root).is_empty(),
    );
    assert!(before.len() >= 4, "saw {before:?}");
    // The watchdog also removes the iteration's temp directory, lock file and all.
    wait_until(
        "the run's temp directory is removed",
        Duration::from_secs(10),
        || std::fs::read_dir(&tmp_root).unwrap().next().is_none(),
    );
}

/// Two hosts on FUSE mounts, a holding, then a long pause during which the run is killed.
const LINGER_HOSTS: &str = r#"
id = "linger-hosts"
level = "network"
description = "a holds through one FUSE mount, b waits on the other; then a long sleep"
catches = "nothing: this scenario exists to be interrupted"
requires = ["exclusive", "try"]

[[participants]]
name = "a"
host = "a"
[[participants]]
name = "b"
host = "b"

[[steps]]
who = "a"
do = "acquire"

[[steps]]
do = "sleep"
ms = 60000
"#;

/// PIDs of live processes whose command line names a path under `root`: the FUSE daemons.
fn commands_under(root: &Path) -> Vec<u32> {
    let needle = root.display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc is readable")
        .flatten()
    {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        // A zombie's command line is empty.
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn sigkilled_run_leaves_no_fuse_daemon_behind() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "linger-hosts.toml", LINGER_HOSTS);
    let tmp_root = dir.path().join("tmp");
    std::fs::create_dir(&tmp_root).unwrap();
    let _reaper = Reaper(&tmp_root);

    let mut run = std::process::Command::new(assert_cmd::cargo::cargo_bin("lockcheck"))
        .args([
            "run",
            "--replace-catalogue",
            "--level",
            "network",
            "--scenarios",
        ])
        .arg(&scenarios)
        .env("TMPDIR", &tmp_root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lockcheck starts");

    // Both adapters start only once both mounts are up.
    wait_until(
        "the participants are running",
        Duration::from_secs(20),
        || processes_under(&tmp_root).len() >= 2,
    );
    let daemons = commands_under(&tmp_root);
    run.kill().expect("SIGKILL lockcheck");
    run.wait().expect("reaped");

    wait_until(
        "every participant and FUSE daemon is gone",
        Duration::from_secs(10),
        || processes_under(&tmp_root).is_empty() && commands_under(&tmp_root).is_empty(),
    );
    assert!(daemons.len() >= 2, "saw the daemons {daemons:?}");
    wait_until(
        "the run's temp directory is removed",
        Duration::from_secs(10),
        || std::fs::read_dir(&tmp_root).unwrap().next().is_none(),
    );
}
