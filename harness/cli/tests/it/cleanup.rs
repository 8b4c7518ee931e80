//! Nothing outlives a run, even when `lockcheck run` itself is SIGKILLed mid-scenario: no
//! participant, no child of one, no daemon one started (through the run's cgroups), no FUSE
//! daemon, and no temp directory or cgroup. A run stopped by SIGINT or SIGTERM ends as
//! cleanly, with the settled scenarios in its report.

#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{runs_as_root, write};

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
        for pid in processes_under(self.0) {
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

    let mut run = std::process::Command::new(crate::support::lockcheck_exe())
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

/// A `lockcheck` run that a failing test SIGKILLs rather than leaves running.
struct Run(std::process::Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scenario that settles at once, then two that would sleep for a minute each.
fn quick_then_slow(dir: &Path) {
    let scenario = |id: &str, steps: &str| {
        format!(
            "id = \"{id}\"\nlevel = \"core\"\ndescription = \"x\"\ncatches = \"y\"\n\
             requires = [\"exclusive\", \"try\"]\n\n[[participants]]\nname = \"a\"\n\n\
             [[steps]]\nwho = \"a\"\ndo = \"acquire\"\n{steps}"
        )
    };
    write(dir, "a-quick.toml", &scenario("a-quick", ""));
    let slow = "\n[[steps]]\ndo = \"sleep\"\nms = 60000\n";
    write(dir, "b-slow.toml", &scenario("b-slow", slow));
    write(dir, "c-slow.toml", &scenario("c-slow", slow));
}

/// Starts `lockcheck run` on [`quick_then_slow`], waits for the first scenario's streamed
/// line, sends `signal`, and returns the exit status, the report and what stderr said.
fn interrupt_run(signal: &str) -> (Option<i32>, serde_json::Value, String) {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    quick_then_slow(&scenarios);
    let tmp_root = dir.path().join("tmp");
    std::fs::create_dir(&tmp_root).unwrap();
    let _reaper = Reaper(&tmp_root);
    let report = dir.path().join("report");

    let mut run = Run(std::process::Command::new(crate::support::lockcheck_exe())
        .args(["run", "--replace-catalogue", "--scenarios"])
        .arg(&scenarios)
        .arg("--report")
        .arg(&report)
        .env("TMPDIR", &tmp_root)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lockcheck starts"));
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = std::io::BufReader::new(run.0.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the first scenario's line is streamed");
    // The second scenario's participant is up (or starting): the stop must end it.
    wait_until(
        "the slow scenario's participant runs",
        Duration::from_secs(20),
        || !processes_under(&tmp_root).is_empty(),
    );
    let killed = std::process::Command::new("kill")
        .args([signal, &run.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Bounded: the slow scenario would take a minute, the stop takes a moment.
    let end = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = run.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < end, "lockcheck did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut said = vec![first];
    said.extend(rx.iter());
    assert_eq!(processes_under(&tmp_root), Vec::<u32>::new());
    let text = std::fs::read_to_string(report.join("report.json")).expect("report.json written");
    let doc = serde_json::from_str(&text).unwrap();
    (status.code(), doc, said.join("\n"))
}

#[test]
fn sigint_stops_the_run_and_reports_the_settled_scenarios_as_interrupted() {
    let (code, doc, stderr) = interrupt_run("-INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(doc["run"]["interrupted"], true);
    let ids: Vec<&str> = doc["run"]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a-quick"]);
    crate::assert_redacted_snapshot!("sigint_stderr", stderr);
}

#[test]
fn sigterm_stops_the_run_with_its_own_status() {
    let (code, doc, stderr) = interrupt_run("-TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert_eq!(doc["run"]["interrupted"], true);
    crate::assert_redacted_snapshot!("sigterm_stderr", stderr);
}

/// A manifest whose adapter first starts a daemon (its own session, SIGTERM and SIGHUP
/// ignored) that appends its pid to `pids`, then becomes reflock's adapter.
fn daemonising_manifest(dir: &Path, pids: &Path) -> std::path::PathBuf {
    let script = format!(
        r#"setsid sh -c 'trap "" TERM HUP; echo $$ >> {pids}; while :; do sleep 1; done' lockcheck-test-daemon </dev/null >/dev/null 2>&1 &
until [ -s {pids} ]; do :; done
exec "$0" adapter"#,
        pids = pids.display()
    );
    let manifest = format!(
        "name = \"daemonising\"\ncommand = [\"sh\", \"-c\", '''{script}''', \"{{lockcheck}}\"]\n"
    );
    write(dir, "daemonising.toml", &manifest)
}

/// The pids in `pids` whose process still runs as a daemon of these tests.
fn live_daemons(pids: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(pids).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter(|pid: &u32| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                cmdline
                    .split(|&b| b == 0)
                    .any(|w| w == b"lockcheck-test-daemon")
            })
        })
        .collect()
}

/// Kills the daemons' sessions (each leads its own group) when the test ends.
struct DaemonReaper<'a>(&'a Path);

impl Drop for DaemonReaper<'_> {
    fn drop(&mut self) {
        for pid in live_daemons(self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-9", "--", &format!("-{pid}")])
                .status();
        }
    }
}

#[test]
fn sigkilled_run_leaves_no_daemon_or_cgroup_behind() {
    // Where a lockcheck started from here puts its cgroups: beside this process's.
    let Some(own) = lockcheck_runner::cgroup_parent(&lockcheck_runner::RunOptions::default())
    else {
        assert!(
            !runs_as_root(),
            "running as root, yet no cgroup v2 is usable for the runner"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipped: no cgroup v2 this unprivileged runner may write"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "linger.toml", LINGER);
    let pids = dir.path().join("pids");
    let manifest = daemonising_manifest(dir.path(), &pids);
    let _reaper = DaemonReaper(&pids);

    let mut run = Run(std::process::Command::new(crate::support::lockcheck_exe())
        .args(["run", "--replace-catalogue", "--scenarios"])
        .arg(&scenarios)
        .arg("--impl")
        .arg(&manifest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lockcheck starts"));
    let cgroups = own.with_file_name(format!("lockcheck-{}", run.0.id()));
    // The iteration's three participants each started one (the probe's died with it).
    wait_until("the daemons are running", Duration::from_secs(20), || {
        live_daemons(&pids).len() >= 3
    });
    assert!(
        cgroups.is_dir(),
        "{} exists while it runs",
        cgroups.display()
    );
    run.0.kill().expect("SIGKILL lockcheck");
    run.0.wait().expect("reaped");

    wait_until("every daemon is gone", Duration::from_secs(10), || {
        live_daemons(&pids).is_empty()
    });
    wait_until(
        "the run's cgroups are removed",
        Duration::from_secs(10),
        || !cgroups.exists(),
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

    let mut run = std::process::Command::new(crate::support::lockcheck_exe())
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
