//! The scenario catalogue in `scenarios/`: every file parses, and its id is its file name.

use lockcheck_model::parse_scenario;

use crate::support::catalogue_files;

#[test]
fn every_scenario_file_parses_and_is_named_after_its_id() {
    let files = catalogue_files();
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable scenario");
        let name = format!("scenarios/{}", path.file_name().unwrap().to_string_lossy());
        match parse_scenario(&name, &text) {
            Err(e) => problems.push(e.to_string()),
            Ok(s) => {
                let stem = path.file_stem().unwrap().to_string_lossy();
                if s.id != stem {
                    problems.push(format!("{name}: id `{}` differs from the file name", s.id));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn catalogue_has_every_scenario_of_the_design() {
    let ids: Vec<String> = catalogue_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        ids,
        [
            "bind-mount",
            "blocking-handoff",
            "churn",
            "crash-holder",
            "crash-mid-acquire",
            "deleted-while-held",
            "exclusive-basic",
            "exclusive-vs-shared",
            "exec-child",
            "exit-without-release",
            "full-disk",
            "holder-after-contention",
            "holder-info",
            "lock-file-mode",
            "missing-dir",
            "no-permission",
            "overlay-lower-layer",
            "pause-holder",
            "pause-past-recovery",
            "pid-namespace-crash",
            "pid-namespace-exclusion",
            "pid-namespace-foreign",
            "pid-reuse",
            "planted-stale",
            "race-50",
            "read-only-dir",
            "release-twice",
            "second-handle",
            "shared-coexist",
            "stale-race-50",
            "symlink-at-path",
            "symlinked-dir",
            "threads-race",
            "timeout-honored",
            "touch-fd",
            "try-does-not-block",
            "two-hosts",
        ]
    );
}

#[test]
fn every_level_has_scenarios() {
    let mut levels = Vec::new();
    for path in catalogue_files() {
        let text = std::fs::read_to_string(&path).expect("readable scenario");
        let scenario = parse_scenario("s.toml", &text).unwrap_or_else(|e| panic!("{e}"));
        if !levels.contains(&scenario.level) {
            levels.push(scenario.level);
        }
    }
    levels.sort();
    assert_eq!(levels, lockcheck_model::Level::ALL);
}
