//! `lockcheck matrix`: run the catalogue against reflock and every manifest in
//! `fixtures/impls/`, judge each verdict against the implementation's expectations, and write
//! the cross-implementation matrix (`reports/matrix.md`, `reports/matrix.json`, and
//! `reports/matrix.html` with each failure's timeline under `reports/timelines/`).
//! `--write-expectations` also rewrites each expectations file from the run, for review.
//! This module runs and writes; `lockcheck_report::matrix_markdown` and friends format.

use std::io::Write;
use std::time::Instant;
use std::{env, fs};

use anyhow::Context;
use lockcheck::{
    Project, Replay, TargetDir, builtin_expectations, reflock_spec, reflock_strict_spec,
};
use lockcheck_model::{Expectations, Judgement, RunResult, Scenario};
use lockcheck_report::{Cell, Matrix, Row, ScenarioHead, expectations_toml, matrix_markdown};
use lockcheck_runner::{AdapterSpec, Prepared, RunOptions};

use crate::catalogue;
use crate::cli::MatrixArgs;
use crate::exit::Exit;

pub fn matrix(args: &MatrixArgs) -> anyhow::Result<Exit> {
    let scenarios = catalogue::select(&args.catalogue)?;
    let cwd = env::current_dir().context("cannot read the working directory")?;
    let project = Project::containing(&cwd, TargetDir::CargoEnvOrUnderRoot)?;
    let root = &project.root;
    let exe = env::current_exe().context("cannot find the lockcheck binary")?;
    let vars = project.placeholders(&exe);
    let prepare_env = project.prepare_env();

    let mut rows = Vec::new();
    let mut results = Vec::new();
    let builtins = [
        (
            reflock_spec(&exe),
            Replay::builtin(),
            "the reference lock, built in (`lockcheck adapter`)",
            false,
        ),
        (
            reflock_strict_spec(&exe),
            Replay::builtin_strict(),
            "the reference lock in strict mode (`lockcheck adapter --strict`), which refuses file systems whose locks may be local to one client",
            true,
        ),
    ];
    for (spec, replay, description, strict) in builtins {
        let (row, result) = run_row(
            &spec.name.clone(),
            None,
            replay,
            Some(description.to_owned()),
            Ok(spec),
            0,
            &scenarios,
            &builtin_expectations(strict),
            args.seed,
        );
        rows.push(row);
        results.push(result);
    }

    for path in project.manifest_paths()? {
        let rel = project.relative(&path);
        let manifest = project.manifest(&path)?;
        let expectations = project.expectations(&manifest)?;
        progress(&format!("preparing {}", manifest.name));
        let started = Instant::now();
        let prepared = lockcheck_runner::prepare(&manifest, &vars, &prepare_env);
        let setup_ms = started.elapsed().as_millis() as u64;
        let spec = match prepared {
            Prepared::Ready(spec) => Ok(spec),
            Prepared::Unavailable { reason } => Err(("unavailable", reason)),
            Prepared::Failed(error) => Err(("setup_failed", error.to_string())),
        };
        let replay = Replay::manifest(rel.as_str());
        let (row, result) = run_row(
            &manifest.name,
            Some(rel),
            replay,
            manifest.description.clone(),
            spec,
            setup_ms,
            &scenarios,
            &expectations,
            args.seed,
        );
        if args.write_expectations
            && let Some(file) = &manifest.expectations
        {
            let path = root.join(file);
            let text = expectations_toml(&row, &expectations);
            fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        }
        rows.push(row);
        results.push(result);
    }

    let matrix = Matrix {
        seed: args.seed,
        scenarios: scenarios
            .iter()
            .map(|s| ScenarioHead {
                id: s.id.clone(),
                level: s.level.as_str(),
            })
            .collect(),
        implementations: rows,
    };
    let out = args.out.clone().unwrap_or_else(|| root.join("reports"));
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = serde_json::to_string_pretty(&matrix)? + "\n";
    fs::write(out.join("matrix.json"), json)
        .with_context(|| format!("cannot write {}", out.join("matrix.json").display()))?;
    fs::write(out.join("matrix.md"), matrix_markdown(&matrix))
        .with_context(|| format!("cannot write {}", out.join("matrix.md").display()))?;
    crate::html::write_matrix_pages(&out, &matrix, &results)?;

    let exit = Exit::of(
        matrix
            .implementations
            .iter()
            .flat_map(|r| &r.cells)
            .map(|c| c.verdict),
    );
    let mut stdout = std::io::stdout().lock();
    for row in &matrix.implementations {
        let count = |j: Judgement| row.cells.iter().filter(|c| c.verdict == j).count();
        writeln!(
            stdout,
            "{:<20} {:>3} pass {:>3} fail {:>3} xfail {:>3} xfail_not_shown {:>3} xpass {:>3} skip {:>3} broken  setup {:>6} ms  run {:>7} ms{}",
            row.name,
            count(Judgement::Pass),
            count(Judgement::Fail),
            count(Judgement::Xfail),
            count(Judgement::XfailNotShown),
            count(Judgement::Xpass),
            count(Judgement::Skip),
            count(Judgement::Broken),
            row.setup_ms,
            row.run_ms,
            row.note
                .as_deref()
                .map(|n| format!("  ({})", first_line(n)))
                .unwrap_or_default(),
        )?;
    }
    writeln!(
        stdout,
        "wrote {}, {} and {}",
        out.join("matrix.md").display(),
        out.join("matrix.json").display(),
        out.join("matrix.html").display()
    )?;
    Ok(exit)
}

#[allow(clippy::too_many_arguments)]
fn run_row(
    name: &str,
    manifest: Option<String>,
    replay: Replay,
    description: Option<String>,
    spec: Result<AdapterSpec, (&'static str, String)>,
    setup_ms: u64,
    scenarios: &[Scenario],
    expectations: &Expectations,
    seed: u64,
) -> (Row, Option<RunResult>) {
    let spec = match spec {
        Ok(spec) => spec,
        Err((setup, note)) => {
            // No results: a missing toolchain is a skip, a failed set-up is broken.
            let verdict = if setup == "unavailable" {
                Judgement::Skip
            } else {
                Judgement::Broken
            };
            let cells = scenarios
                .iter()
                .map(|s| Cell {
                    scenario: s.id.clone(),
                    verdict,
                    evidence: Some(first_line(&note).to_owned()),
                    link: None,
                    replay: replay.command(&s.id, seed),
                    checks: Vec::new(),
                    expected: false,
                })
                .collect();
            let row = Row {
                name: name.to_owned(),
                implementation: None,
                manifest,
                description,
                setup,
                setup_ms,
                run_ms: 0,
                note: Some(note),
                cells,
            };
            return (row, None);
        }
    };
    let opts = RunOptions {
        seed,
        replay: Some(replay.for_runner()),
        ..RunOptions::default()
    };
    let total = scenarios.len();
    let result = lockcheck_runner::run(&spec, scenarios, &opts, &mut |event| {
        if let lockcheck_runner::RunEvent::ScenarioStarted {
            scenario, index, ..
        } = event
        {
            progress(&format!("{name} {}/{total} {}", index + 1, scenario.id));
        }
    });
    let cells = result
        .scenarios
        .iter()
        .map(|r| Cell::judge(r, expectations.get(&r.scenario)))
        .collect();
    let row = Row {
        name: name.to_owned(),
        implementation: implementation(&result),
        manifest,
        description,
        setup: "ready",
        setup_ms,
        run_ms: result.duration_ms,
        note: None,
        cells,
    };
    (row, Some(result))
}

fn implementation(result: &RunResult) -> Option<String> {
    result
        .implementation
        .as_ref()
        .map(|i| format!("{} {} ({})", i.name, i.version, i.language))
}

/// A note's first line, for the one-line summary and unavailable cells.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// One progress line on stderr (the matrix itself goes to files).
fn progress(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

#[cfg(test)]
mod tests;
