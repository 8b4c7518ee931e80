//! The conformance gate: one nextest test per implementation × scenario, named
//! `<implementation>::<level>::<scenario>`, e.g. `reflock::crash::stale-race-50`.
//!
//! Listing only reads scenario files and manifests; no adapter starts until a test runs. A test
//! passes when the verdict is what the implementation's expectations say: `pass`, or `fail` by
//! the listed check for a listed known failure (a failure of another check is not the known
//! one, and fails the test). An unexpected pass of a listed failure fails the test (the
//! expectation is stale), and so does `broken`: the harness or adapter misbehaved.
//!
//! Every implementation runs every level, the opt-in network level too: its known failures
//! are recorded like any other, and the built-in reflock runs plain and strict.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use lockcheck::{
    Project, Replay, TargetDir, builtin_expectations, reflock_spec, reflock_strict_spec,
};
use lockcheck_model::{
    Expectation, Expectations, Judgement, Level, Manifest, RunResult, Scenario, Verdict,
};
use lockcheck_report::{Cell, TerminalOptions};
use lockcheck_runner::{AdapterSpec, Prepared, RunOptions};

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

/// The `lockcheck` binary, found at run time under nextest (see [`lockcheck::test_binary`]).
fn lockcheck_exe() -> PathBuf {
    lockcheck::test_binary("lockcheck", env!("CARGO_BIN_EXE_lockcheck"))
}

/// This repository, with `{target}` the directory cargo built the lockcheck binary in.
fn project() -> Project {
    let root = Project::find(Path::new(env!("CARGO_MANIFEST_DIR")), TargetDir::UnderRoot)
        .expect("the crate lives in the lockcheck repository")
        .root;
    Project::at(root, TargetDir::At(target_dir()))
}

/// Every scenario file in `scenarios/`, parsed.
fn catalogue() -> Result<Vec<Scenario>, String> {
    project().scenarios().map_err(|e| format!("{e:#}"))
}

/// What a trial starts: the built-in reflock adapter, or a manifest from `fixtures/impls`.
#[derive(Clone)]
enum Implementation {
    /// Its spec, known failures, and how a replay line names it.
    Builtin(AdapterSpec, Expectations, Replay),
    Manifest {
        path: PathBuf,
        manifest: Manifest,
        expectations: Expectations,
    },
}

impl Implementation {
    fn name(&self) -> &str {
        match self {
            Implementation::Builtin(spec, ..) => &spec.name,
            Implementation::Manifest { manifest, .. } => &manifest.name,
        }
    }

    fn expectation(&self, scenario: &str) -> Option<&Expectation> {
        match self {
            Implementation::Builtin(_, expectations, _)
            | Implementation::Manifest { expectations, .. } => expectations.get(scenario),
        }
    }
}

/// The cargo target directory: the lockcheck binary lives in `<target>/<profile>/`.
fn target_dir() -> PathBuf {
    lockcheck_exe()
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("the lockcheck binary is in <target>/<profile>/")
}

/// Every manifest in `fixtures/impls`, with its expectations file.
fn manifests() -> Result<Vec<Implementation>, String> {
    let project = project();
    let load = || -> anyhow::Result<Vec<Implementation>> {
        let mut implementations = Vec::new();
        for path in project.manifest_paths()? {
            let manifest = project.manifest(&path)?;
            let expectations = project.expectations(&manifest)?;
            implementations.push(Implementation::Manifest {
                path,
                manifest,
                expectations,
            });
        }
        Ok(implementations)
    };
    load().map_err(|e| format!("{e:#}"))
}

fn trials() -> Result<Vec<Trial>, String> {
    let scenarios = catalogue()?;
    let reflock = Implementation::Builtin(
        reflock_spec(&lockcheck_exe()),
        builtin_expectations(false),
        Replay::builtin(),
    );
    let strict = Implementation::Builtin(
        reflock_strict_spec(&lockcheck_exe()),
        builtin_expectations(true),
        Replay::builtin_strict(),
    );
    let mut implementations = vec![reflock, strict];
    implementations.extend(manifests()?);
    let mut trials = Vec::new();
    for implementation in &implementations {
        // An expectation naming a scenario that does not exist would never be checked.
        if let Implementation::Manifest {
            expectations, path, ..
        } = implementation
        {
            for entry in &expectations.entries {
                if !scenarios.iter().any(|s| s.id == entry.scenario) {
                    let message = format!(
                        "{}: expects scenario `{}` to fail, but there is no such scenario",
                        path.display(),
                        entry.scenario
                    );
                    trials.push(Trial::test(
                        format!("{}::expectations", implementation.name()),
                        move || Err(message.clone().into()),
                    ));
                }
            }
        }
        for scenario in &scenarios {
            let name = format!(
                "{}::{}::{}",
                implementation.name(),
                scenario.level.as_str(),
                scenario.id
            );
            let (implementation, scenario) = (implementation.clone(), scenario.clone());
            trials.push(Trial::test(name, move || {
                conform(&implementation, &scenario)
            }));
        }
    }
    Ok(trials)
}

/// Sets the implementation up, runs one scenario, and judges the verdict against the
/// implementation's expectations.
fn conform(implementation: &Implementation, scenario: &Scenario) -> Result<(), Failed> {
    if scenario.level == Level::Network {
        lockcheck::ensure_bindfs(&project().root);
    }
    let (spec, replay) = match implementation {
        Implementation::Builtin(spec, _, replay) => (spec.clone(), replay.clone()),
        Implementation::Manifest { path, manifest, .. } => {
            let project = project();
            let vars = project.placeholders(&lockcheck_exe());
            let spec = match lockcheck_runner::prepare(manifest, &vars, &project.prepare_env()) {
                Prepared::Ready(spec) => spec,
                Prepared::Unavailable { reason } => {
                    return Err(format!(
                        "`{}` cannot run on this machine: {reason}",
                        manifest.name
                    )
                    .into());
                }
                Prepared::Failed(error) => return Err(error.to_string().into()),
            };
            (spec, Replay::manifest(project.relative(path)))
        }
    };
    let opts = RunOptions {
        replay: Some(replay.for_runner()),
        ..RunOptions::default()
    };
    let result = lockcheck_runner::run(&spec, std::slice::from_ref(scenario), &opts, &mut |_| {});
    let verdict = &result.scenarios[0].verdict;
    let expected = implementation.expectation(&scenario.id);
    let judgement = Judgement::of(verdict, expected);
    let why = judgement.explain(verdict, expected);
    match judgement {
        Judgement::Pass | Judgement::Xfail => Ok(()),
        // libtest-mimic cannot turn a running test into an ignored one; the reason is kept
        // in the captured output (`--success-output immediate` shows it).
        #[allow(clippy::print_stdout)]
        Judgement::Skip | Judgement::XfailNotShown => {
            match (verdict, why) {
                (Verdict::Skip { reason }, _) => println!("skipped: {reason}"),
                (_, why) => println!("{judgement}: {}", why.unwrap_or_default()),
            }
            Ok(())
        }
        Judgement::Xpass => Err(format!(
            "{}: the expectation is stale; remove it from the expectations file",
            why.unwrap_or_default()
        )
        .into()),
        Judgement::Fail | Judgement::Broken => Err(match why {
            Some(why) => format!(
                "{why}: not the known failure\n{}",
                explain(&result, expected)
            ),
            None => explain(&result, expected),
        }
        .into()),
    }
}

/// The terminal report of a one-scenario run judged against `expected`, for the failure
/// message.
fn explain(result: &RunResult, expected: Option<&Expectation>) -> String {
    let cells: Vec<Cell> = result
        .scenarios
        .iter()
        .map(|s| Cell::judge(s, expected))
        .collect();
    lockcheck_report::summary(result, &cells, &TerminalOptions { color: false })
}
