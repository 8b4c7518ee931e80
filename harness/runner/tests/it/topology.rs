//! Topologies set up for real: the adapters are shell scripts that report what they see
//! (their PID, their file system, their path to the lock file) in the `message` of their
//! `holder` answers, so each test shows the topology from inside the participant.

#![cfg(target_os = "linux")]

use std::time::Duration;

use lockcheck_model::{EventKind, History, Verdict};
use lockcheck_runner::{AdapterSpec, RunOptions};

use crate::support::{HELLO, parse_hello, responder, scenario, sh};

/// An adapter whose `holder` answer's message is the output of the shell snippet `report`,
/// whose `acquire` runs `acquire` (which calls `answer STATUS`), and which answers `ok` to
/// everything else.
fn reporter(report: &str, acquire: &str) -> AdapterSpec {
    let respond = format!(
        r#"op=$(printf '%s' "$line" | sed 's/.*"op":"\([a-z_]*\)".*/\1/')
  case "$op" in
    holder) printf '{{"type":"response","id":%s,"status":"ok","message":"%s"}}\n' "$id" "$( ({report}) | tr '\n' ' ' | sed 's/ $//')" ;;
    acquire) {acquire} ;;
    *) answer ok ;;
  esac"#
    );
    sh(&format!(
        r#"answer() {{ printf '{{"type":"response","id":%s,"status":"%s"}}\n' "$id" "$1"; }}
{}"#,
        responder(HELLO, &respond)
    ))
}

fn toml(top: &str, participants: &str, steps: &str) -> String {
    format!(
        "id = \"t\"\nlevel = \"topology\"\ndescription = \"d\"\ncatches = \"c\"\n\
         requires = [\"exclusive\", \"try\", \"holder_info\"]\n{top}\n{participants}\n{steps}"
    )
}

/// Runs the scenario, keeping its history.
fn run(spec: &AdapterSpec, text: &str) -> (Verdict, History) {
    let opts = RunOptions {
        request_timeout: Duration::from_secs(5),
        hello_timeout: Duration::from_secs(5),
        keep_history: true,
        ..RunOptions::default()
    };
    let mut hello = parse_hello(HELLO);
    hello
        .capabilities
        .push(lockcheck_protocol::Capability::HolderInfo);
    let result = lockcheck_runner::run_scenario(spec, &scenario(text), &hello, &opts);
    (result.verdict, result.history.expect("kept"))
}

/// `(participant, message)` of every `holder` answer, in order.
fn reports(history: &History) -> Vec<(String, String)> {
    let mut holder_ids = Vec::new();
    let mut out = Vec::new();
    for e in &history.events {
        match &e.kind {
            EventKind::Sent {
                participant,
                request,
            } if request.op.name() == "holder" => {
                holder_ids.push((participant.clone(), request.id))
            }
            EventKind::Received {
                participant,
                response,
            } if holder_ids.contains(&(participant.clone(), response.id)) => {
                out.push((
                    participant.clone(),
                    response.message.clone().unwrap_or_default(),
                ));
            }
            _ => {}
        }
    }
    out
}

fn spawned_pid(history: &History, who: &str) -> u32 {
    history
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Spawned { participant, pid } if participant == who => Some(*pid),
            _ => None,
        })
        .expect("spawned")
}

fn mounted_tmpfs_count() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(" lockcheck ") || l.contains("lockcheck-t-"))
        .count()
}

const HOLDER: &str = "[[steps]]\nwho = \"a\"\ndo = \"holder\"\n";

#[test]
fn an_own_pid_namespace_makes_the_adapter_pid_1_and_the_runner_s_signals_reach_it() {
    // `$$` is the shell's PID as it sees it; its /proc is its namespace's own.
    let spec = reporter(r#"echo "$$ $(cat /proc/1/comm)""#, "answer ok");
    let participants = "[[participants]]\nname = \"a\"\npid_namespace = \"own\"\n\
                        [[participants]]\nname = \"b\"\n";
    let steps = format!(
        "{HOLDER}[[steps]]\nwho = \"b\"\ndo = \"holder\"\n\
         [[steps]]\nwho = \"a\"\ndo = \"stop\"\n[[steps]]\nwho = \"a\"\ndo = \"cont\"\n\
         {HOLDER}[[steps]]\nwho = \"a\"\ndo = \"kill\"\n"
    );
    let (verdict, history) = run(&spec, &toml("", participants, &steps));
    assert_eq!(verdict, Verdict::Pass, "{history:#?}");
    let reports = reports(&history);
    // PID 1, and PID 1 of its own /proc is itself.
    assert_eq!(
        reports[0],
        ("a".to_owned(), "1 sh".to_owned()),
        "{reports:?}"
    );
    let (_, b) = &reports[1];
    assert_eq!(
        b.split(' ').next(),
        Some(spawned_pid(&history, "b").to_string().as_str()),
        "b runs in the runner's namespace: {reports:?}"
    );
    assert_ne!(
        spawned_pid(&history, "a"),
        1,
        "the runner records a's own PID"
    );
    // SIGSTOP and SIGCONT reached it (it answered after them), and SIGKILL ended it.
    assert_eq!(reports[2].0, "a");
    let killed = history.events.iter().any(|e| {
        matches!(&e.kind, EventKind::Exited { participant, signal: Some(9), .. } if participant == "a")
    });
    assert!(killed, "{history:#?}");
}

#[test]
fn a_full_tmpfs_takes_an_empty_file_but_no_byte_and_is_gone_afterwards() {
    let before = mounted_tmpfs_count();
    let spec = reporter(
        r#"d=$(dirname "$LOCKCHECK_LOCK_PATH"); : > "$LOCKCHECK_LOCK_PATH" && echo created; printf x > "$LOCKCHECK_LOCK_PATH" 2>/dev/null || echo full; stat -f -c %T "$d"; grep -c ' lockcheck ' /proc/1/mountinfo"#,
        "answer ok",
    );
    let (verdict, history) = run(
        &spec,
        &toml(
            "lock_dir = { fs = \"tmpfs\", size = \"16k\", full = true }",
            "[[participants]]\nname = \"a\"\n",
            HOLDER,
        ),
    );
    assert_eq!(verdict, Verdict::Pass, "{history:#?}");
    // Created, full, a tmpfs, and not mounted in the host's namespace (init's) meanwhile.
    assert_eq!(reports(&history)[0].1, "created full tmpfs 0");
    assert_eq!(mounted_tmpfs_count(), before, "nothing stays mounted");
}

#[test]
fn a_read_only_mount_refuses_the_lock_file() {
    let spec = reporter(
        r#"( : > "$LOCKCHECK_LOCK_PATH" ) 2>&1 | sed 's/.*: //'"#,
        "answer ok",
    );
    let (verdict, history) = run(
        &spec,
        &toml(
            "lock_dir = { fs = \"tmpfs\", size = \"16k\", read_only = true }",
            "[[participants]]\nname = \"a\"\n",
            HOLDER,
        ),
    );
    assert_eq!(verdict, Verdict::Pass, "{history:#?}");
    assert_eq!(reports(&history)[0].1, "Read-only file system");
}

#[test]
fn bind_mounted_and_symlinked_views_reach_the_same_file_by_other_paths() {
    let spec = reporter(
        r#"d=$(dirname "$LOCKCHECK_LOCK_PATH"); : > "$LOCKCHECK_LOCK_PATH"; echo "$(basename "$d") $(stat -L -c %i "$LOCKCHECK_LOCK_PATH")""#,
        "answer ok",
    );
    let participants = "[[participants]]\nname = \"a\"\nview = \"bind_mount\"\n\
                        [[participants]]\nname = \"b\"\nview = \"symlinked_dir\"\n\
                        [[participants]]\nname = \"c\"\n";
    let steps = format!(
        "{HOLDER}[[steps]]\nwho = \"b\"\ndo = \"holder\"\n[[steps]]\nwho = \"c\"\ndo = \"holder\"\n"
    );
    let (verdict, history) = run(&spec, &toml("", participants, &steps));
    assert_eq!(verdict, Verdict::Pass, "{history:#?}");
    let seen: Vec<Vec<String>> = reports(&history)
        .into_iter()
        .map(|(_, m)| m.split(' ').map(str::to_owned).collect())
        .collect();
    let dirs: Vec<&str> = seen.iter().map(|s| s[0].as_str()).collect();
    assert_eq!(dirs, ["bind", "link", "locks"]);
    assert!(
        seen.iter().all(|s| s[1] == seen[2][1]),
        "one inode: {seen:?}"
    );
}

/// The processes whose command line mentions `needle`, other than this test's own.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) && !cmdline.contains("lockcheck_runner") {
            found.push(cmdline);
        }
    }
    found
}

#[test]
fn two_hosts_reach_one_directory_through_fuse_mounts_whose_flocks_are_their_own() {
    let id = "fuse-hosts";
    let before = mounted_tmpfs_count();
    // `acquire` is a plain flock(1) on a descriptor the adapter keeps open, as a flock-based
    // lock does; `holder` shows the participant's directory, its file system and what it
    // reads in the lock file.
    let spec = reporter(
        r#"d=$(dirname "$LOCKCHECK_LOCK_PATH"); [ "$LOCKCHECK_PARTICIPANT" = a ] && echo from-a > "$LOCKCHECK_LOCK_PATH"; echo "$(basename "$d") $(stat -f -c %T "$d") $(cat "$LOCKCHECK_LOCK_PATH")""#,
        r#"exec 9>>"$LOCKCHECK_LOCK_PATH"; if flock -n 9; then answer ok; else answer busy; fi"#,
    );
    let participants = "[[participants]]\nname = \"a\"\nhost = \"a\"\n\
                        [[participants]]\nname = \"b\"\nhost = \"b\"\n";
    let steps = format!(
        "{HOLDER}[[steps]]\nwho = \"b\"\ndo = \"holder\"\n\
         [[steps]]\nwho = \"a\"\ndo = \"acquire\"\n\
         [[steps]]\nwho = \"b\"\ndo = \"acquire\"\nexpect = \"busy\"\n"
    );
    let text = toml("", participants, &steps).replace("id = \"t\"", &format!("id = \"{id}\""));
    let (verdict, history) = run(&spec, &text);
    let seen: Vec<String> = reports(&history).into_iter().map(|(_, m)| m).collect();
    // One backing directory: what a wrote through its mount, b reads through its own.
    assert_eq!(
        seen,
        ["host-a fuseblk from-a", "host-b fuseblk from-a"],
        "{history:#?}"
    );
    // The mounts share no flock: b takes the lock a holds, and the checker proves it.
    let Verdict::Fail { findings } = &verdict else {
        panic!("two holders expected: {verdict:?}");
    };
    assert!(
        findings.iter().any(|f| f.kind.check_name() == "overlap"),
        "{findings:#?}"
    );
    // Neither the mounts nor the FUSE daemons outlive the iteration.
    assert_eq!(mounted_tmpfs_count(), before, "nothing stays mounted");
    let prefix = format!("lockcheck-{id}-");
    assert_eq!(processes_mentioning(&prefix), Vec::<String>::new());
    let temp_dirs: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    assert_eq!(temp_dirs, Vec::<std::path::PathBuf>::new());
}

#[test]
fn an_overlay_lock_dir_ships_the_lock_file_in_its_lower_layer() {
    let spec = reporter(
        r#"d=$(dirname "$LOCKCHECK_LOCK_PATH"); [ -e "$LOCKCHECK_LOCK_PATH" ] && echo shipped; stat -f -c %T "$d"; ls "$d/../overlay/lower""#,
        "answer ok",
    );
    let (verdict, history) = run(
        &spec,
        &toml(
            "lock_dir = { fs = \"overlay\" }",
            "[[participants]]\nname = \"a\"\n",
            HOLDER,
        ),
    );
    assert_eq!(verdict, Verdict::Pass, "{history:#?}");
    assert_eq!(reports(&history)[0].1, "shipped overlayfs app.lock");
}

/// An overlay's layers (its work directory, a copy-up) and the shipped file are the
/// runner's, not a lock's leftovers; so are the files another view shows.
#[test]
fn an_overlay_s_layers_and_other_views_are_no_leftovers() {
    let spec = reporter("echo seen", "answer ok");
    let participants = "[[participants]]\nname = \"a\"\nview = \"bind_mount\"\n";
    let steps = format!("{HOLDER}[[steps]]\ndo = \"check_leftovers\"\n");
    let (verdict, history) = run(
        &spec,
        &toml("lock_dir = { fs = \"overlay\" }", participants, &steps),
    );
    assert_eq!(verdict, Verdict::Pass, "{history:#?}");
}
