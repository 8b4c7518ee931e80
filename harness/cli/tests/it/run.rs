//! `lockcheck run` and `lockcheck list` end to end.

use crate::assert_redacted_snapshot;
use crate::support::{lockcheck, noop_manifest};

#[test]
fn list_shows_every_scenario_and_its_requirements() {
    let output = lockcheck().arg("list").output().expect("runs");
    assert!(output.status.success());
    insta::assert_snapshot!("list", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn reflock_passes_exclusive_basic() {
    let output = lockcheck()
        .args(["run", "--scenario", "exclusive-basic"])
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_redacted_snapshot!("run_pass", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn a_lock_that_locks_nothing_fails_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = noop_manifest(dir.path());
    let output = lockcheck()
        .args([
            "run",
            "--impl",
            manifest.to_str().unwrap(),
            "--scenario",
            "exclusive-basic",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(100),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_redacted_snapshot!("run_fail", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn report_json_has_a_version_and_every_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockcheck()
        .args([
            "run",
            "--level",
            "core",
            "--scenario",
            "*-basic",
            "--scenario",
            "try-*",
            "--report",
        ])
        .arg(dir.path().join("out"))
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text = std::fs::read_to_string(dir.path().join("out/report.json")).expect("report written");
    let doc = lockcheck_report::from_json(&text).expect("report reads back");
    assert_eq!(doc.report_version, lockcheck_report::REPORT_VERSION);
    let ids: Vec<_> = doc
        .run
        .scenarios
        .iter()
        .map(|s| s.scenario.as_str())
        .collect();
    assert_eq!(ids, ["exclusive-basic", "try-does-not-block"]);
}

/// Without CAP_SYS_ADMIN (dropped from the bounding set by util-linux's setpriv(1), which
/// takes it from root's capabilities at exec), every topology scenario is skipped with the
/// reason, and counted as skipped, not passed.
#[cfg(target_os = "linux")]
#[test]
fn topology_scenarios_are_skipped_with_the_reason_without_cap_sys_admin() {
    let lockcheck = crate::support::lockcheck_exe();
    let output = std::process::Command::new("setpriv")
        .args(["--bounding-set", "-sys_admin", "--"])
        .arg(lockcheck)
        .args(["run", "--level", "topology", "--scenario", "full-disk"])
        .args(["--scenario", "symlinked-dir"])
        .env("NO_COLOR", "1")
        .output()
        .expect("setpriv runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_redacted_snapshot!(
        "run_topology_unprivileged",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn run_expands_target_to_cargo_target_dir_as_matrix_does() {
    let dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let manifest = crate::support::write(
        dir.path(),
        "impl.toml",
        "name = \"reflock-again\"\ncommand = [\"{lockcheck}\", \"adapter\"]\n\
         setup = [[\"sh\", \"-c\", \"mkdir -p {target} && touch {target}/set-up-here\"]]\n",
    );
    let output = lockcheck()
        .env("CARGO_TARGET_DIR", target.path())
        .args(["run", "--impl", manifest.to_str().unwrap()])
        .args(["--scenario", "exclusive-basic"])
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(target.path().join("set-up-here").exists());
    assert!(
        !dir.path().join("target").exists(),
        "nothing under the manifest's folder"
    );
}

/// Runs `exclusive-basic` against the manifest `base` extended with `expectations = "x.toml"`
/// holding `entry`, plus `extra` arguments; the exit code and stdout.
fn judged(base: &str, entry: &str, extra: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = match base {
        "noop" => noop_manifest(dir.path()),
        _ => crate::support::write(
            dir.path(),
            "reflock.toml",
            &format!(
                "name = \"reflock\"\ncommand = [{:?}, \"adapter\"]\n",
                crate::support::lockcheck_exe()
            ),
        ),
    };
    let text = std::fs::read_to_string(&manifest).unwrap() + "expectations = \"x.toml\"\n";
    std::fs::write(&manifest, text).unwrap();
    crate::support::write(
        dir.path(),
        "x.toml",
        &format!(
            "[[fail]]\nscenario = \"exclusive-basic\"\nreason = \"grants every acquire\"\n{entry}"
        ),
    );
    let output = lockcheck()
        .args(["run", "--scenario", "exclusive-basic", "--impl"])
        .arg(&manifest)
        .args(extra)
        .output()
        .expect("runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn run_impl_judges_verdicts_against_the_expectations_file() {
    let (code, xfail) = judged("noop", "check = \"outcome\"\n", &[]);
    assert_eq!(code, Some(0), "{xfail}");
    assert_redacted_snapshot!("run_xfail", xfail);

    let (code, other) = judged("noop", "check = \"latency\"\n", &[]);
    assert_eq!(code, Some(100), "{other}");
    assert!(
        other.contains("fail            exclusive-basic: expected to fail by the `latency` check"),
        "{other}"
    );

    let (code, ignored) = judged("noop", "check = \"outcome\"\n", &["--ignore-expectations"]);
    assert_eq!(code, Some(100), "{ignored}");
    assert!(!ignored.contains("judged against"), "{ignored}");
}

#[test]
fn run_impl_fails_on_a_stale_expectation_unless_it_is_intermittent() {
    let (code, stale) = judged("reflock", "check = \"outcome\"\n", &[]);
    assert_eq!(code, Some(100), "{stale}");
    assert!(stale.contains("xpass           exclusive-basic: expected to fail (grants every acquire), but it passed"), "{stale}");

    let (code, flaky) = judged(
        "reflock",
        "check = \"outcome\"\nintermittent = \"shows in some runs\"\n",
        &[],
    );
    assert_eq!(code, Some(0), "{flaky}");
    assert!(
        flaky.contains("xfail_not_shown exclusive-basic:"),
        "{flaky}"
    );
}

/// A failing scenario's report keeps the holds the checker credited, among them the two
/// that overlap.
#[test]
fn report_json_keeps_the_credited_holds_of_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = noop_manifest(dir.path());
    let output = lockcheck()
        .args(["run", "--scenario", "exclusive-basic", "--impl"])
        .arg(&manifest)
        .arg("--report")
        .arg(dir.path().join("out"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(100));
    let text = std::fs::read_to_string(dir.path().join("out/report.json")).unwrap();
    let doc = lockcheck_report::from_json(&text).unwrap();
    let result = &doc.run.scenarios[0];
    let lockcheck_model::Verdict::Fail { findings } = &result.verdict else {
        panic!("{:?}", result.verdict);
    };
    let overlap = findings
        .iter()
        .find_map(|f| match &f.kind {
            lockcheck_model::FindingKind::Overlap { first, second } => Some((first, second)),
            _ => None,
        })
        .expect("an overlap");
    assert!(result.holds.contains(overlap.0), "{:?}", result.holds);
    assert!(result.holds.contains(overlap.1), "{:?}", result.holds);
}

/// `--report` also writes what CI systems read: `junit.xml`, a case per scenario named as
/// printed, and `summary.md` with the failure's replay command.
#[test]
fn report_dir_has_junit_and_a_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = noop_manifest(dir.path());
    let output = lockcheck()
        .args(["run", "--scenario", "exclusive-basic", "--impl"])
        .arg(&manifest)
        .arg("--report")
        .arg(dir.path().join("out"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(100));
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<testcase name="core::exclusive-basic" classname="noop""#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<failure message="two holders at once"#),
        "{junit}"
    );
    let summary = std::fs::read_to_string(dir.path().join("out/summary.md")).unwrap();
    assert!(
        summary.contains("| `core::exclusive-basic` | **fail** |"),
        "{summary}"
    );
    assert!(
        summary.contains("--scenario exclusive-basic --seed 0\n```"),
        "{summary}"
    );
}

/// `--message-format` prints on stdout exactly what `--report` writes in that format, and
/// nothing else; `human` is the terminal summary.
#[test]
fn message_format_prints_one_report_format_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = noop_manifest(dir.path());
    for (format, file) in [
        ("json", "report.json"),
        ("junit", "junit.xml"),
        ("markdown", "summary.md"),
        ("human", ""),
    ] {
        let out = dir.path().join(format);
        let output = lockcheck()
            .args(["run", "--scenario", "exclusive-basic", "--impl"])
            .arg(&manifest)
            .args(["--message-format", format, "--report"])
            .arg(&out)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(100), "{format}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        if file.is_empty() {
            assert!(
                stdout.starts_with("lockcheck noop: noop 0 (sh), seed 0\nFAIL "),
                "{stdout}"
            );
        } else {
            assert_eq!(
                stdout,
                std::fs::read_to_string(out.join(file)).unwrap(),
                "{format}"
            );
        }
    }
}

/// Runs `scenarios` against a fresh no-op manifest (in a temporary directory of its own)
/// with its report written to `dir`.
fn noop_report(dir: &std::path::Path, scenarios: &[&str], reproducible: &[&str], env: &str) {
    let manifest = noop_manifest(dir);
    let mut cmd = lockcheck();
    cmd.args(["run", "--impl"]).arg(&manifest);
    for s in scenarios {
        cmd.args(["--scenario", s]);
    }
    if !env.is_empty() {
        cmd.env("LOCKCHECK_REPRODUCIBLE", env);
    }
    let output = cmd
        .args(reproducible)
        .arg("--report")
        .arg(dir.join("out"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(100));
}

/// Two runs of the same failing scenarios with the same seed, one with `--reproducible` and one
/// with `LOCKCHECK_REPRODUCIBLE=1`, each with its manifest in a temporary directory of its
/// own, write the same bytes in every format: times, durations, pids and paths are gone.
#[test]
fn reproducible_runs_write_the_same_bytes() {
    // One participant each, so that the order of events in a failure's history is the
    // steps' own (several participants say hello in whichever order they start).
    let scenarios = ["missing-dir", "lock-file-mode"];
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    noop_report(one.path(), &scenarios, &["--reproducible"], "");
    noop_report(two.path(), &scenarios, &[], "1");
    for file in ["report.json", "junit.xml", "summary.md"] {
        let read =
            |dir: &tempfile::TempDir| std::fs::read_to_string(dir.path().join("out").join(file));
        let (a, b) = (read(&one).unwrap(), read(&two).unwrap());
        let first = a.lines().zip(b.lines()).find(|(x, y)| x != y);
        assert!(a == b, "{file} differs, first at {first:?}");
    }
    let summary = std::fs::read_to_string(one.path().join("out/summary.md")).unwrap();
    insta::assert_snapshot!("reproducible_summary", summary);
}

/// Without it, the same two runs differ (their replay commands name their own manifests),
/// so the test above shows what reproducible mode does.
#[test]
fn runs_differ_without_reproducible() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    noop_report(one.path(), &["exclusive-basic"], &[], "");
    noop_report(two.path(), &["exclusive-basic"], &[], "0");
    let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join("out/summary.md"));
    assert_ne!(read(&one).unwrap(), read(&two).unwrap());
}

fn listed(args: &[&str]) -> String {
    let output = lockcheck().arg("list").args(args).output().expect("runs");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_network_level_runs_only_when_asked_for() {
    assert!(!listed(&[]).contains("network::two-hosts"));
    assert!(listed(&["--level", "network"]).contains("network::two-hosts"));
    // A replay line names the scenario alone.
    assert!(listed(&["--scenario", "two-hosts"]).contains("network::two-hosts"));
}

/// Two FUSE mounts of one directory: strict reflock refuses to lock there and passes; plain
/// reflock lets both hosts in, its known failure. Needs root and bindfs, installed here
/// where missing.
#[cfg(target_os = "linux")]
#[test]
fn strict_reflock_refuses_two_hosts_and_plain_reflock_fails_it_as_expected() {
    lockcheck::ensure_bindfs(&crate::support::repo_root());
    for (name, strict) in [("run_network_strict", true), ("run_network_plain", false)] {
        let mut cmd = lockcheck();
        cmd.args(["run", "--level", "network"]).env("NO_COLOR", "1");
        if strict {
            cmd.arg("--strict");
        }
        let output = cmd.output().expect("runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_redacted_snapshot!(name, String::from_utf8_lossy(&output.stdout));
    }
}

/// Without bindfs on the PATH the two hosts cannot be mounted: skipped with the reason, and
/// counted as skipped, never as passed.
#[cfg(target_os = "linux")]
#[test]
fn two_hosts_are_skipped_with_the_reason_without_bindfs() {
    let output = lockcheck()
        .args(["run", "--level", "network"])
        .env("PATH", "/nonexistent")
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    assert_redacted_snapshot!(
        "run_network_without_bindfs",
        String::from_utf8_lossy(&output.stdout)
    );
}
