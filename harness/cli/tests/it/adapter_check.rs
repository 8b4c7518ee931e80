//! `lockcheck adapter-check`: every adapter with a manifest in `fixtures/impls/` and the built-in
//! reflock keep every rule; each deliberately broken adapter (`fixtures/adapters/bad/adapter.py
//! FAULT`) breaks the rule it is written to break, and its checklist says so.

use std::process::Output;

use crate::support::lockcheck;

use crate::support::repo_root as root;

/// `lockcheck adapter-check ARGS` from the repository root, with `PYTHONUNBUFFERED=1` set as
/// on the machines that hid missing flushes, and the other masked variables unset so that
/// the checklist's environment line does not depend on the machine.
fn adapter_check(args: &[&str]) -> Output {
    let mut cmd = lockcheck();
    cmd.current_dir(root()).env("PYTHONUNBUFFERED", "1");
    for (name, _) in lockcheck_runner::MASKED_ENV {
        if *name != "PYTHONUNBUFFERED" {
            cmd.env_remove(name);
        }
    }
    cmd.arg("adapter-check").args(args).output().expect("runs")
}

/// Redacts what varies between runs: clocks, pids, the binary's path, the version.
macro_rules! assert_checklist_snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r#""t_ns": ?\d+"#, r#""t_ns":<t_ns>"#),
            (r#""child_pid": ?\d+"#, r#""child_pid":<pid>"#),
            (r"\bpid \d+", "pid <pid>"),
            (r"answered \d+(\.\d+)?(ns|µs|ms|s) after", "answered <duration> after"),
            (r"\S*/lockcheck adapter\b", "<lockcheck> adapter"),
            (r"reflock \d+\.\d+\.\d+", "reflock <version>"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

/// The titles of the rules the checklist marks `MISS`.
fn missed(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("MISS  "))
        .map(|l| l.split(" (PROTOCOL.md").next().unwrap())
        .collect()
}

/// The bad adapter with `fault` breaks exactly the rules titled `rules`, and exits 102.
#[track_caller]
fn check_fault(fault: &str, rules: &[&str]) {
    let output = adapter_check(&["--", "python3", "fixtures/adapters/bad/adapter.py", fault]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(missed(&stdout), rules, "{stdout}");
    let code = if rules.is_empty() { 0 } else { 102 };
    assert_eq!(output.status.code(), Some(code), "{stdout}");
    assert_checklist_snapshot!(format!("bad_{fault}"), stdout);
}

#[test]
fn the_built_in_reflock_keeps_every_rule() {
    let output = adapter_check(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_checklist_snapshot!("reflock", stdout);
}

#[test]
fn the_bad_adapter_without_a_fault_keeps_every_rule() {
    check_fault("none", &[]);
}

#[test]
fn an_adapter_that_does_not_echo_ids() {
    check_fault("no-echo", &["Echo the `id` in the response"]);
}

#[test]
fn an_adapter_that_answers_twice() {
    check_fault("answers-twice", &["One response per request"]);
}

#[test]
fn an_adapter_whose_t_ns_goes_back() {
    check_fault("t-ns-backwards", &["Timestamps"]);
}

/// It flushes nothing, and passes only where `PYTHONUNBUFFERED` is set, as it is here: the
/// checklist says that adapter-check removed it.
#[test]
fn an_adapter_that_never_flushes() {
    check_fault("no-flush", &["Flush after every line"]);
}

#[test]
fn an_adapter_that_dies_at_a_malformed_line() {
    check_fault("dies-at-malformed", &["Malformed requests"]);
}

#[test]
fn an_adapter_that_does_not_exit_at_the_end_of_input() {
    check_fault("no-exit-at-eof", &["End of input"]);
}

#[test]
fn an_adapter_with_a_garbage_hello() {
    check_fault("garbage-hello", &["The `hello` line"]);
}

/// The child keeps the adapter's stdout open, so the adapter's exit at the end of input is
/// hidden too.
#[test]
fn an_adapter_whose_child_inherits_the_protocol_pipes() {
    check_fault(
        "child-inherits-pipes",
        &["Spawned children and the protocol's pipes", "End of input"],
    );
}

#[test]
fn an_adapter_whose_release_when_not_held_is_busy() {
    check_fault("stray-release-busy", &["`release` when not held"]);
}

#[test]
fn an_adapter_whose_zero_timeout_is_busy() {
    check_fault("timeout-zero-busy", &["`timeout_ms: 0`"]);
}

#[test]
fn an_adapter_that_exits_without_answering_exit() {
    check_fault("exit-without-answer", &["`exit` is a clean exit"]);
}

#[test]
fn an_adapter_that_starts_before_after_us() {
    check_fault("early-start", &["Timed starts"]);
}

#[test]
fn an_adapter_that_answers_an_unknown_op_with_an_error() {
    check_fault("unknown-op-error", &["Unknown ops"]);
}

#[test]
fn an_adapter_that_declares_spawn_child_but_does_not_do_it() {
    check_fault("unsupported-spawn", &["Requests"]);
}

#[test]
fn an_adapter_that_logs_to_stdout() {
    check_fault("stdout-log", &["stdout is for the protocol only"]);
}

#[test]
fn adapter_check_help() {
    let output = adapter_check(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!("help", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn an_adapter_that_cannot_be_started() {
    let output = adapter_check(&["--", "/nonexistent/adapter"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(missed(&stdout), ["The `hello` line"], "{stdout}");
    assert_eq!(output.status.code(), Some(102), "{stdout}");
    assert_checklist_snapshot!("not_started", stdout);
}

/// One test per manifest; `every_manifest_has_a_test` keeps the list whole.
macro_rules! manifests {
    ($($test:ident => $name:literal,)*) => {
        const MANIFESTS: &[&str] = &[$($name),*];
        mod manifest {
            use super::*;
            $(
                #[test]
                fn $test() {
                    let manifest = format!("fixtures/impls/{}.toml", $name);
                    let output = adapter_check(&["--impl", &manifest]);
                    let stdout = String::from_utf8_lossy(&output.stdout);
                    assert_eq!(
                        output.status.code(),
                        Some(0),
                        "{stdout}\n{}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                    assert!(missed(&stdout).is_empty(), "{stdout}");
                }
            )*
        }
    };
}

manifests! {
    fasteners_rw => "fasteners-rw",
    fasteners => "fasteners",
    fd_lock => "fd-lock",
    filelock_soft => "filelock-soft",
    filelock => "filelock",
    flock_cli => "flock-cli",
    fs4 => "fs4",
    portalocker => "portalocker",
    proper_lockfile => "proper-lockfile",
    python_fcntl_flock => "python-fcntl-flock",
    seed_000 => "seed-000",
    seed_001_heartbeat => "seed-001-heartbeat",
    seed_001 => "seed-001",
    seed_002 => "seed-002",
    seed_003 => "seed-003",
    seed_004 => "seed-004",
    std_file_lock => "std-file-lock",
}

#[test]
fn every_manifest_has_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("fixtures/impls"))
        .expect("fixtures/impls is readable")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<&str> = MANIFESTS.to_vec();
    listed.sort();
    assert_eq!(
        found, listed,
        "add the manifest to `manifests!` in this file"
    );
}
