//! Every error a user can see from the command line, snapshot-tested.

use crate::assert_redacted_snapshot;
use crate::support::{lockcheck, scenario_file, write};

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
    check_error(&["list", "--level", "bogus"], 2, "unknown_level");
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
fn every_bad_scenario_file_is_reported_not_only_the_first() {
    let dir = tempfile::tempdir().unwrap();
    scenario_file(dir.path(), "one/bad-level.toml", "")
        .to_str()
        .unwrap();
    let text = std::fs::read_to_string(dir.path().join("one/bad-level.toml")).unwrap();
    write(
        dir.path(),
        "one/bad-level.toml",
        &text.replace("\"core\"", "\"kernel\""),
    );
    scenario_file(dir.path(), "two/deeper/renamed.toml", "")
        .to_str()
        .unwrap();
    let text = std::fs::read_to_string(dir.path().join("two/deeper/renamed.toml")).unwrap();
    write(
        dir.path(),
        "two/deeper/renamed.toml",
        &text.replace("\"renamed\"", "\"other-name\""),
    );
    std::fs::write(dir.path().join("two/latin1.toml"), b"id = \"caf\xe9\"\n").unwrap();
    let output = lockcheck()
        .current_dir(dir.path())
        .args(["list", "--scenarios", "."])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    assert_redacted_snapshot!(
        "every_bad_scenario_file",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_scenario_with_a_built_in_id_is_refused_at_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), "exclusive-basic.toml", "");
    check_error(
        &["list", "--scenarios", path.to_str().unwrap()],
        3,
        "built_in_id",
    );
}

#[test]
fn an_empty_scenario_folder_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    check_error(
        &[
            "list",
            "--scenarios",
            dir.path().join("empty").to_str().unwrap(),
        ],
        3,
        "empty_scenario_dir",
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

/// `run --impl` with a manifest whose adapter is `program`: lockcheck could not run (3).
#[track_caller]
fn check_adapter_program(program: &str, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let program = program.replace("{dir}", dir.path().to_str().unwrap());
    let manifest = write(
        dir.path(),
        "impl.toml",
        &format!("name = \"x\"\ncommand = [\"{program}\"]\n"),
    );
    check_error(
        &[
            "run",
            "--impl",
            manifest.to_str().unwrap(),
            "--scenario",
            "exclusive-basic",
        ],
        3,
        name,
    );
}

#[test]
fn a_missing_adapter_program_and_a_non_executable_one_exit_alike() {
    check_adapter_program("{dir}/no-such-adapter", "adapter_missing");
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "adapter.sh", "echo hi\n");
    check_adapter_program(script.to_str().unwrap(), "adapter_not_executable");
}

#[test]
fn an_unwritable_report_directory_is_found_before_any_scenario_runs() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the report directory would be: no one, root included, can write
    // a report inside it.
    let file = write(dir.path(), "not-a-dir", "");
    let report = file.join("report");
    check_error(
        &["run", "--report", report.to_str().unwrap()],
        3,
        "report_dir_unwritable",
    );
}

#[test]
fn unknown_message_format() {
    check_error(
        &["run", "--message-format", "xml"],
        2,
        "unknown_message_format",
    );
}

#[test]
fn run_help_lists_the_formats_and_reproducible_mode() {
    let output = lockcheck().args(["run", "--help"]).output().expect("runs");
    assert!(output.status.success());
    assert_redacted_snapshot!("run_help", String::from_utf8_lossy(&output.stdout));
}

/// clap's tip names `adapter-check`, not only `adapter` (which serves reflock).
#[test]
fn a_misspelt_adapter_check_is_pointed_at_adapter_check() {
    check_error(&["adapter-chek"], 2, "adapter_check_misspelt");
}

#[test]
fn adapter_check_takes_a_manifest_or_a_command_not_both() {
    check_error(
        &["adapter-check", "--impl", "x.toml", "--", "python3", "a.py"],
        2,
        "adapter_check_both",
    );
}
