//! Set-up: runs once, is cached by key, is serialised between processes, and reports a
//! missing toolchain as unavailable and a failing command as an error.

use std::fs;
use std::path::Path;
use std::process::Command;

use lockcheck_model::{Manifest, Placeholders};

use super::{PrepareEnv, Prepared, prepare};

/// Environment variable that turns `prepare_child` into a child process's body.
const CHILD_DIR: &str = "LOCKCHECK_TEST_PREPARE_DIR";

/// A manifest read from TOML, as the CLI reads one (robust to new optional keys).
fn manifest(name: &str, command: &[&str], setup: &[&[&str]]) -> Manifest {
    let argv = |a: &[&str]| serde_json::to_string(a).unwrap();
    let setup: Vec<String> = setup.iter().map(|c| argv(c)).collect();
    let text = format!(
        "name = \"{name}\"\ncommand = {}\nsetup = [{}]\n",
        argv(command),
        setup.join(", ")
    );
    lockcheck_model::parse_manifest("test.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn vars(root: &Path) -> Placeholders {
    Placeholders {
        lockcheck: "/bin/true".to_owned(),
        root: root.display().to_string(),
        target: root.join("target").display().to_string(),
    }
}

fn env(root: &Path) -> PrepareEnv {
    PrepareEnv::under_target(&root.join("target"))
}

/// A manifest whose set-up appends a line to `{root}/count` after `sleep_s` seconds.
fn counting(sleep_s: &str) -> Manifest {
    let script = format!("sleep {sleep_s}; echo ran >> '{{root}}/count'");
    manifest("counting", &["/bin/sh"], &[&["sh", "-c", &script]])
}

fn runs(root: &Path) -> usize {
    fs::read_to_string(root.join("count"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[track_caller]
fn ready(prepared: Prepared) -> Vec<String> {
    match prepared {
        Prepared::Ready(spec) => spec.command,
        other => panic!("expected ready, got {other:?}"),
    }
}

fn redact(text: &str, root: &Path) -> String {
    text.replace(&root.display().to_string(), "<root>")
}

#[test]
fn setup_runs_once_and_the_command_is_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        "once",
        &["/bin/sh", "{root}/adapter.sh"],
        &[&["sh", "-c", "echo ran >> '{root}/count'"]],
    );
    let cmd = ready(prepare(&m, &vars(dir.path()), &env(dir.path())));
    assert_eq!(
        cmd,
        [
            "/bin/sh".to_owned(),
            format!("{}/adapter.sh", dir.path().display())
        ]
    );
    let _ = ready(prepare(&m, &vars(dir.path()), &env(dir.path())));
    assert_eq!(runs(dir.path()), 1);
}

#[test]
fn editing_a_named_project_directory_runs_setup_again() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("adapter");
    fs::create_dir_all(src.join("src")).unwrap();
    fs::write(src.join("Cargo.toml"), "a").unwrap();
    fs::write(src.join("src/main.rs"), "one").unwrap();
    let m = manifest(
        "edited",
        &["/bin/sh"],
        &[&[
            "sh",
            "-c",
            "echo ran >> '{root}/count'",
            "x",
            "{root}/adapter/Cargo.toml",
        ]],
    );
    let _ = ready(prepare(&m, &vars(dir.path()), &env(dir.path())));
    let _ = ready(prepare(&m, &vars(dir.path()), &env(dir.path())));
    assert_eq!(runs(dir.path()), 1);
    fs::write(src.join("src/main.rs"), "two").unwrap();
    let _ = ready(prepare(&m, &vars(dir.path()), &env(dir.path())));
    assert_eq!(runs(dir.path()), 2);
}

#[test]
fn threads_preparing_at_once_set_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let m = counting("0.2");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| ready(prepare(&m, &vars(dir.path()), &env(dir.path()))));
        }
    });
    assert_eq!(runs(dir.path()), 1);
}

/// The body of the child processes of `processes_preparing_at_once_set_up_once`; does nothing
/// when run as an ordinary test.
#[test]
fn prepare_child() {
    if let Some(root) = std::env::var_os(CHILD_DIR) {
        let root = Path::new(&root);
        let _ = ready(prepare(&counting("0.3"), &vars(root), &env(root)));
    }
}

#[test]
fn processes_preparing_at_once_set_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "setup::tests::prepare_child",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD_DIR, dir.path())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(runs(dir.path()), 1);
}

#[test]
fn a_missing_setup_toolchain_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(
        "needs-tool",
        &["/bin/sh"],
        &[&["lockcheck-no-such-toolchain", "-m", "venv", "{target}/venv"]],
    );
    match prepare(&m, &vars(dir.path()), &env(dir.path())) {
        Prepared::Unavailable { reason } => {
            insta::assert_snapshot!("setup_toolchain_missing", redact(&reason, dir.path()));
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[test]
fn a_missing_adapter_program_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest("needs-program", &["lockcheck-no-such-program", "x"], &[]);
    match prepare(&m, &vars(dir.path()), &env(dir.path())) {
        Prepared::Unavailable { reason } => {
            insta::assert_snapshot!("setup_adapter_program_missing", reason);
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[test]
fn an_adapter_path_the_setup_did_not_create_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest("no-venv", &["{target}/venv/bin/python"], &[&["true"]]);
    match prepare(&m, &vars(dir.path()), &env(dir.path())) {
        Prepared::Failed(error) => insta::assert_snapshot!(
            "setup_adapter_path_missing",
            redact(&error.to_string(), dir.path())
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn a_failing_command_is_named_with_its_status_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let script = "echo ran >> '{root}/count'; for i in $(seq 1 30); do echo line $i; done; \
                  echo 'ERROR: No matching distribution found for filelock==0.0.0' >&2; exit 3";
    let m = manifest("pinned", &["/bin/sh"], &[&["true"], &["sh", "-c", script]]);
    let first = match prepare(&m, &vars(dir.path()), &env(dir.path())) {
        Prepared::Failed(error) => error,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert_eq!(first.problem, "exited with status 3");
    insta::assert_snapshot!(
        "setup_command_failed",
        redact(&first.to_string(), dir.path())
    );

    // A second test process shortly after gets the same error without running it again.
    let again = match prepare(&m, &vars(dir.path()), &env(dir.path())) {
        Prepared::Failed(error) => error,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert_eq!(runs(dir.path()), 1);
    assert_eq!(
        (&again.command, &again.problem, &again.tail),
        (&first.command, &first.problem, &first.tail)
    );
    assert!(again.reused_after.is_some());

    // Deleting the record retries.
    fs::remove_file(dir.path().join("target/lockcheck-setup/pinned/failed")).unwrap();
    assert!(matches!(
        prepare(&m, &vars(dir.path()), &env(dir.path())),
        Prepared::Failed(_)
    ));
    assert_eq!(runs(dir.path()), 2);
}

#[test]
fn a_command_killed_by_a_signal_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest("killed", &["/bin/sh"], &[&["sh", "-c", "kill -9 $$"]]);
    match prepare(&m, &vars(dir.path()), &env(dir.path())) {
        Prepared::Failed(error) => assert_eq!(error.problem, "was killed by signal 9"),
        other => panic!("expected a failure, got {other:?}"),
    }
}
