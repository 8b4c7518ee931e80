//! Nothing a participant starts outlives its iteration, even a daemon: a `setsid` grandchild
//! that ignores SIGTERM and SIGHUP is out of every process group the runner kills, and only
//! the iteration's cgroup reaches it.

#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::{Path, PathBuf};

use lockcheck_model::{Containment, NoCgroup, RunResult, Verdict};
use lockcheck_runner::{AdapterSpec, RunOptions};

use crate::support::{HELLO, quick, responder, runs_as_root, scenario, sh};

const ONE_ACQUIRE: &str = r#"
id = "one-acquire"
level = "core"
description = "a takes the lock"
catches = "nothing: its adapter leaves a daemon behind"
requires = ["exclusive", "try"]

[[participants]]
name = "a"

[[steps]]
who = "a"
do = "acquire"
"#;

/// The command-line word that marks the daemons of these tests.
const MARKER: &str = "lockcheck-test-daemon";

/// An adapter that notes its cgroup in `pids`'s sibling `cgroups`, then starts a daemon (its
/// own session, SIGTERM and SIGHUP ignored, a child of its own), which appends its pid to
/// `pids`, and says hello once it has.
fn daemonising(pids: &Path) -> AdapterSpec {
    let cgroups = pids.with_file_name("cgroups");
    let (pids, cgroups) = (pids.display(), cgroups.display());
    sh(&format!(
        r#"grep '^0::' /proc/self/cgroup >> {cgroups}
before=$(cat {pids} 2>/dev/null | wc -l)
setsid sh -c 'trap "" TERM HUP; echo $$ >> {pids}; while :; do sleep 1; done' {MARKER} </dev/null >/dev/null 2>&1 &
while [ "$(cat {pids} | wc -l)" -le "$before" ]; do :; done
{}"#,
        responder(
            HELLO,
            r#"echo "{\"type\":\"response\",\"id\":$id,\"status\":\"ok\"}""#
        )
    ))
}

/// The daemons that wrote their pid to `pids` and are still running.
fn live_daemons(pids: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(pids).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter(|pid: &u32| {
            // A zombie's command line is empty, and a reused pid's lacks the marker.
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.split(|&b| b == 0).any(|w| w == MARKER.as_bytes()))
        })
        .collect()
}

/// Kills the daemons' sessions when the test ends, so that a failure leaves none behind.
struct Reaper(PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in live_daemons(&self.0) {
            // Each daemon leads its own process group (setsid).
            if let Some(group) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
        }
    }
}

fn run(pids: &Path, opts: &RunOptions) -> RunResult {
    let result = lockcheck_runner::run(
        &daemonising(pids),
        &[scenario(ONE_ACQUIRE)],
        opts,
        &mut |_| {},
    );
    assert_eq!(result.scenarios[0].verdict, Verdict::Pass, "{result:#?}");
    result
}

#[test]
fn a_setsid_daemon_dies_with_its_iterations_cgroup() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let _reaper = Reaper(pids.clone());
    let result = run(&pids, &quick());
    // Turned off (LOCKCHECK_NO_CGROUP) the test goes on, and fails: that is the point.
    if let Containment::ProcessGroups {
        why: NoCgroup::Unavailable | NoCgroup::NotUsable { .. },
    } = &result.containment
    {
        assert!(
            !runs_as_root(),
            "running as root, yet the runner fell back to process groups: {:?}",
            result.containment
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipped: no cgroup v2 this unprivileged runner may write"
        );
        return;
    }
    // The probe's adapter and the iteration's each started one.
    let started = std::fs::read_to_string(&pids).unwrap().lines().count();
    assert_eq!(started, 2);
    assert_eq!(live_daemons(&pids), Vec::<u32>::new());
    // Each ran in a cgroup of its own under this process's, and none is left.
    let parent = lockcheck_runner::cgroup_parent(&quick()).expect("cgroups are in force");
    let own = format!("lockcheck-{}", std::process::id());
    let text = std::fs::read_to_string(dir.path().join("cgroups")).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|line| {
            let (within, name) = line.rsplit_once('/').unwrap();
            assert!(within.ends_with(&own), "{line} is not under {own}");
            name
        })
        .collect();
    assert_eq!(names.len(), 2);
    assert_ne!(names[0], names[1]);
    for name in names {
        assert!(
            !parent.join(name).exists(),
            "{name} is left under {}",
            parent.display()
        );
    }
}

#[test]
fn process_groups_alone_leave_a_setsid_daemon_running() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let _reaper = Reaper(pids.clone());
    let opts = RunOptions {
        cgroups: false,
        ..quick()
    };
    let result = run(&pids, &opts);
    assert_eq!(
        result.containment,
        Containment::ProcessGroups {
            why: NoCgroup::Disabled
        }
    );
    assert_eq!(live_daemons(&pids).len(), 2);
}
