//! Every error a user can see from the command line, snapshot-tested.

use crate::assert_redacted_snapshot;
use crate::support::{lockcheck, write};

#[track_caller]
fn check_error(args: &[&str], code: i32, name: &str) {
    let output = lockcheck().args(args).output().expect("runs");
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "errors go to stderr only");
    assert_redacted_snapshot!(name, String::from_utf8_lossy(&output.stderr));
}

#[test]
fn unknown_scenario_glob_matches_nothing() {
    check_error(&["run", "--scenario", "no-such-*"], 3, "no_match");
}

#[test]
fn unknown_level() {
    check_error(&["list", "--level", "bogus"], 3, "unknown_level");
}

#[test]
fn missing_scenario_dir() {
    check_error(
        &["list", "--scenarios", "/nonexistent/scenarios"],
        3,
        "missing_scenario_dir",
    );
}

#[test]
fn malformed_scenario_file_names_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.toml",
        "id = \"bad\"\nlevel = \"core\"\ndescription = \"x\"\ncatches = \"y\"\nrequires = [\"exclusive\"]\n\n[[participants]]\nname = \"a\"\n\n[[steps]]\nwho = \"zed\"\ndo = \"acquire\"\n",
    );
    check_error(
        &["list", "--scenarios", dir.path().to_str().unwrap()],
        3,
        "malformed_scenario",
    );
}

#[test]
fn missing_manifest() {
    check_error(
        &["run", "--impl", "/nonexistent/impl.toml"],
        3,
        "missing_manifest",
    );
}

#[test]
fn malformed_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "impl.toml",
        "name = \"x\"\ncommand = \"not-a-list\"\n",
    );
    check_error(
        &["run", "--impl", path.to_str().unwrap()],
        3,
        "malformed_manifest",
    );
}

#[test]
fn adapter_outside_a_run() {
    let output = lockcheck()
        .arg("adapter")
        .env_remove("LOCKCHECK_LOCK_PATH")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    assert_redacted_snapshot!(
        "adapter_outside_a_run",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn usage_error_exits_2() {
    let output = lockcheck().args(["run", "--bogus"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert_redacted_snapshot!("usage_error", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn help_documents_exit_codes() {
    let output = lockcheck().arg("--help").output().expect("runs");
    assert!(output.status.success());
    assert_redacted_snapshot!("help", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn bench_against_a_baseline_never_saved() {
    let target = tempfile::tempdir().unwrap();
    let output = lockcheck()
        .env("CARGO_TARGET_DIR", target.path())
        .args(["bench", "--baseline", "before-fix"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(output.stdout.is_empty(), "nothing is measured");
    assert_redacted_snapshot!(
        "bench_missing_baseline",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bench_baseline_name_that_is_a_path() {
    check_error(
        &["bench", "--save-baseline", "../elsewhere"],
        3,
        "bench_bad_baseline_name",
    );
}

#[test]
fn bench_with_no_contenders() {
    check_error(&["bench", "--contenders", "0"], 2, "bench_zero_contenders");
}
