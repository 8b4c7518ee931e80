//! The conformance gate: one nextest test per implementation × scenario, named
//! `<implementation>::<level>::<scenario>`, e.g. `reflock::crash::stale-race-50`.
//!
//! Listing only reads scenario files and manifests; no adapter starts until a test runs. A test
//! passes when the verdict is what the implementation's expectations say: `pass`, or `fail` for
//! a listed known failure. An unexpected pass of a listed failure fails the test (the
//! expectation is stale), and so does `broken`: the harness or adapter misbehaved.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use lockcheck_model::{RunResult, Scenario, Verdict};
use lockcheck_report::TerminalOptions;
use lockcheck_runner::{AdapterSpec, RunOptions};

fn main() {
    let args = Arguments::from_args();
    let trials = match trials() {
        Ok(trials) => trials,
        Err(message) => {
            // A broken catalogue must not look like an empty, passing suite.
            vec![Trial::test("catalogue::load", move || Err(message.into()))]
        }
    };
    libtest_mimic::run(&args, trials).exit();
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every scenario file in `scenarios/`, parsed.
fn catalogue() -> Result<Vec<Scenario>, String> {
    let dir = root().join("scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            lockcheck_model::parse_scenario(&path.display().to_string(), &text)
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn trials() -> Result<Vec<Trial>, String> {
    let scenarios = catalogue()?;
    let reflock = AdapterSpec {
        name: "reflock".to_owned(),
        command: vec![
            env!("CARGO_BIN_EXE_lockcheck").to_owned(),
            "adapter".to_owned(),
        ],
        env: Vec::new(),
    };
    let mut trials = Vec::new();
    for scenario in scenarios {
        let name = format!(
            "{}::{}::{}",
            reflock.name,
            scenario.level.as_str(),
            scenario.id
        );
        let spec = reflock.clone();
        trials.push(Trial::test(name, move || conform(&spec, &scenario)));
    }
    Ok(trials)
}

/// Runs one scenario against one implementation and judges the verdict.
fn conform(spec: &AdapterSpec, scenario: &Scenario) -> Result<(), Failed> {
    let opts = RunOptions {
        replay_base: format!("lockcheck run --impl {}", spec.name),
        ..RunOptions::default()
    };
    let result = lockcheck_runner::run(spec, std::slice::from_ref(scenario), &opts, &mut |_| {});
    let verdict = &result.scenarios[0].verdict;
    match verdict {
        Verdict::Pass => Ok(()),
        Verdict::Fail { .. } | Verdict::Broken { .. } | Verdict::Skip { .. } => {
            Err(explain(&result).into())
        }
    }
}

/// The terminal report of a one-scenario run, for the failure message.
fn explain(result: &RunResult) -> String {
    lockcheck_report::summary(result, &TerminalOptions { color: false })
}
