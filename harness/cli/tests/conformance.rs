//! The conformance gate: one nextest test per implementation × scenario, named
//! `<implementation>::<level>::<scenario>`, e.g. `reflock::crash::stale-race-50`.
//!
//! Listing only reads scenario files and manifests; no adapter starts until a test runs. A test
//! passes when the verdict is what the implementation's expectations say: `pass`, or `fail` by
//! the listed check for a listed known failure (a failure of another check is not the known
//! one, and fails the test). An unexpected pass of a listed failure fails the test (the
//! expectation is stale), and so does `broken`: the harness or adapter misbehaved.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use lockcheck_model::{
    Expectation, Expectations, Manifest, Placeholders, RunResult, Scenario, Verdict,
};
use lockcheck_report::TerminalOptions;
use lockcheck_runner::{AdapterSpec, PrepareEnv, Prepared, RunOptions};

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

/// What a trial starts: the built-in reflock adapter, or a manifest from `fixtures/impls`.
#[derive(Clone)]
enum Implementation {
    Builtin(AdapterSpec),
    Manifest {
        path: PathBuf,
        manifest: Manifest,
        expectations: Expectations,
    },
}

impl Implementation {
    fn name(&self) -> &str {
        match self {
            Implementation::Builtin(spec) => &spec.name,
            Implementation::Manifest { manifest, .. } => &manifest.name,
        }
    }

    fn expectation(&self, scenario: &str) -> Option<&Expectation> {
        match self {
            Implementation::Builtin(_) => None,
            Implementation::Manifest { expectations, .. } => expectations.get(scenario),
        }
    }
}

/// The cargo target directory: the lockcheck binary lives in `<target>/<profile>/`.
fn target_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_lockcheck"));
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root().join("target"))
}

fn placeholders() -> Placeholders {
    Placeholders {
        lockcheck: env!("CARGO_BIN_EXE_lockcheck").to_owned(),
        root: root().display().to_string(),
        target: target_dir().display().to_string(),
    }
}

/// Every manifest in `fixtures/impls`, with its expectations file.
fn manifests() -> Result<Vec<Implementation>, String> {
    let dir = root().join("fixtures/impls");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = read(&path)?;
            let manifest = lockcheck_model::parse_manifest(&path.display().to_string(), &text)
                .map_err(|e| e.to_string())?;
            let expectations = match &manifest.expectations {
                Some(file) => {
                    let file = root().join(file);
                    lockcheck_model::parse_expectations(&file.display().to_string(), &read(&file)?)
                        .map_err(|e| e.to_string())?
                }
                None => Expectations::default(),
            };
            Ok(Implementation::Manifest {
                path,
                manifest,
                expectations,
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn trials() -> Result<Vec<Trial>, String> {
    let scenarios = catalogue()?;
    let reflock = Implementation::Builtin(AdapterSpec {
        name: "reflock".to_owned(),
        command: vec![
            env!("CARGO_BIN_EXE_lockcheck").to_owned(),
            "adapter".to_owned(),
        ],
        env: Vec::new(),
    });
    let mut implementations = vec![reflock];
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
    let (spec, replay_base) = match implementation {
        Implementation::Builtin(spec) => (spec.clone(), "lockcheck run".to_owned()),
        Implementation::Manifest { path, manifest, .. } => {
            let env = PrepareEnv::under_target(&target_dir());
            let spec = match lockcheck_runner::prepare(manifest, &placeholders(), &env) {
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
            (
                spec,
                format!(
                    "lockcheck run --impl {}",
                    path.strip_prefix(root()).unwrap_or(path).display()
                ),
            )
        }
    };
    let opts = RunOptions {
        replay_base,
        ..RunOptions::default()
    };
    let result = lockcheck_runner::run(&spec, std::slice::from_ref(scenario), &opts, &mut |_| {});
    let verdict = &result.scenarios[0].verdict;
    match (verdict, implementation.expectation(&scenario.id)) {
        (Verdict::Pass, None) => Ok(()),
        (Verdict::Fail { .. }, Some(expected)) => {
            let fired = lockcheck_model::fired_checks(verdict);
            if fired.contains(&expected.check.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "expected to fail by the `{}` check ({}), but {}: not the known failure\n{}",
                    expected.check,
                    expected.reason,
                    lockcheck_model::wrong_check(&expected.check, &fired),
                    explain(&result)
                )
                .into())
            }
        }
        // The implementation does not claim what the scenario needs: nothing to judge.
        (Verdict::Skip { reason }, None) => {
            // libtest-mimic cannot turn a running test into an ignored one; the reason is kept
            // in the captured output (`--success-output immediate` shows it).
            #[allow(clippy::print_stdout)]
            {
                println!("skipped: {reason}");
            }
            Ok(())
        }
        (Verdict::Pass | Verdict::Skip { .. }, Some(expected)) => Err(format!(
            "expected to fail ({}), but the verdict is {}: the expectation is stale; remove it from the expectations file",
            expected.reason,
            verdict.name()
        )
        .into()),
        (Verdict::Fail { .. } | Verdict::Broken { .. }, _) => Err(explain(&result).into()),
    }
}

/// The terminal report of a one-scenario run, for the failure message.
fn explain(result: &RunResult) -> String {
    lockcheck_report::summary(result, &TerminalOptions { color: false })
}
