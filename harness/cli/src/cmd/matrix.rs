//! `lockcheck matrix`: run the catalogue against reflock and every manifest in
//! `fixtures/impls/`, judge each verdict against the implementation's expectations, and write
//! the cross-implementation matrix (`reports/matrix.md` and `reports/matrix.json`).
//! `--write-expectations` also rewrites each expectations file from the run, for review.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use std::{env, fs};

use anyhow::Context;
use lockcheck_model::{
    Expectation, Expectations, Placeholders, RunResult, Scenario, ScenarioResult, Verdict,
};
use lockcheck_runner::{AdapterSpec, PrepareEnv, Prepared, RunOptions};
use serde::Serialize;

use crate::catalogue;
use crate::cli::MatrixArgs;
use crate::exit::Exit;

/// One implementation's row.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    /// `name version (language)` from the adapter's hello, when it said hello.
    implementation: Option<String>,
    /// The manifest, relative to the project root (`None` for the built-in reflock).
    manifest: Option<String>,
    description: Option<String>,
    /// `ready`, `unavailable` or `setup_failed`.
    setup: &'static str,
    setup_ms: u64,
    run_ms: u64,
    /// Why the row has no results, when it has none.
    note: Option<String>,
    cells: Vec<Cell>,
}

/// One implementation × scenario.
#[derive(Debug, Serialize)]
struct Cell {
    scenario: String,
    /// `pass`, `fail`, `xfail` (an expected failure), `xpass` (an expected failure that
    /// passed: the expectation is stale), `skip` or `broken`.
    verdict: &'static str,
    /// One line: the first finding, the skip reason, or the expectation's reason.
    evidence: Option<String>,
    link: Option<String>,
    replay: String,
}

#[derive(Debug, Serialize)]
struct Matrix {
    seed: u64,
    scenarios: Vec<ScenarioHead>,
    implementations: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct ScenarioHead {
    id: String,
    level: &'static str,
}

pub fn matrix(args: &MatrixArgs) -> anyhow::Result<Exit> {
    let scenarios = catalogue::select(&args.catalogue)?;
    let cwd = env::current_dir().context("cannot read the working directory")?;
    let root = project_root(&cwd)?;
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let exe = env::current_exe().context("cannot find the lockcheck binary")?;
    let vars = Placeholders {
        lockcheck: exe.display().to_string(),
        root: root.display().to_string(),
        target: target.display().to_string(),
    };
    let prepare_env = PrepareEnv::under_target(&target);

    let mut rows = Vec::new();
    let reflock = AdapterSpec {
        name: "reflock".to_owned(),
        command: vec![exe.display().to_string(), "adapter".to_owned()],
        env: Vec::new(),
    };
    rows.push(run_row(
        "reflock",
        None,
        Some("the reference lock, built in (`lockcheck adapter`)".to_owned()),
        Ok(reflock),
        0,
        &scenarios,
        &Expectations::default(),
        args.seed,
    ));

    for path in manifests(&root.join("fixtures/impls"))? {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = fs::read_to_string(&path).with_context(|| format!("cannot read {rel}"))?;
        let manifest =
            lockcheck_model::parse_manifest(&rel, &text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let expectations = match &manifest.expectations {
            Some(file) => read_expectations(&root, file)?,
            None => Expectations::default(),
        };
        progress(&format!("preparing {}", manifest.name));
        let started = Instant::now();
        let prepared = lockcheck_runner::prepare(&manifest, &vars, &prepare_env);
        let setup_ms = started.elapsed().as_millis() as u64;
        let spec = match prepared {
            Prepared::Ready(spec) => Ok(spec),
            Prepared::Unavailable { reason } => Err(("unavailable", reason)),
            Prepared::Failed(error) => Err(("setup_failed", error.to_string())),
        };
        let row = run_row(
            &manifest.name,
            Some(rel),
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
            let text = regenerate(&row, &expectations);
            fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        }
        rows.push(row);
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
    fs::write(out.join("matrix.md"), markdown(&matrix))
        .with_context(|| format!("cannot write {}", out.join("matrix.md").display()))?;

    let unexpected = matrix
        .implementations
        .iter()
        .flat_map(|r| &r.cells)
        .filter(|c| matches!(c.verdict, "fail" | "xpass" | "broken"))
        .count();
    let mut stdout = std::io::stdout().lock();
    for row in &matrix.implementations {
        let count = |v: &str| row.cells.iter().filter(|c| c.verdict == v).count();
        writeln!(
            stdout,
            "{:<20} {:>3} pass {:>3} fail {:>3} xfail {:>3} xpass {:>3} skip {:>3} broken  setup {:>6} ms  run {:>7} ms{}",
            row.name,
            count("pass"),
            count("fail"),
            count("xfail"),
            count("xpass"),
            count("skip"),
            count("broken"),
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
        "wrote {} and {}",
        out.join("matrix.md").display(),
        out.join("matrix.json").display()
    )?;
    Ok(if unexpected > 0 {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

#[allow(clippy::too_many_arguments)]
fn run_row(
    name: &str,
    manifest: Option<String>,
    description: Option<String>,
    spec: Result<AdapterSpec, (&'static str, String)>,
    setup_ms: u64,
    scenarios: &[Scenario],
    expectations: &Expectations,
    seed: u64,
) -> Row {
    let replay_base = match &manifest {
        Some(rel) => format!("lockcheck run --impl {rel}"),
        None => "lockcheck run".to_owned(),
    };
    let replay = |id: &str| format!("{replay_base} --scenario {id} --seed {seed}");
    let spec = match spec {
        Ok(spec) => spec,
        Err((setup, note)) => {
            // No results: a missing toolchain is a skip, a failed set-up is broken.
            let verdict = if setup == "unavailable" {
                "skip"
            } else {
                "broken"
            };
            let cells = scenarios
                .iter()
                .map(|s| Cell {
                    scenario: s.id.clone(),
                    verdict,
                    evidence: Some(first_line(&note).to_owned()),
                    link: None,
                    replay: replay(&s.id),
                })
                .collect();
            return Row {
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
        }
    };
    let opts = RunOptions {
        seed,
        replay_base: replay_base.clone(),
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
        .map(|r| cell(r, expectations.get(&r.scenario)))
        .collect();
    Row {
        name: name.to_owned(),
        implementation: implementation(&result),
        manifest,
        description,
        setup: "ready",
        setup_ms,
        run_ms: result.duration_ms,
        note: None,
        cells,
    }
}

fn implementation(result: &RunResult) -> Option<String> {
    result
        .implementation
        .as_ref()
        .map(|i| format!("{} {} ({})", i.name, i.version, i.language))
}

fn cell(result: &ScenarioResult, expected: Option<&Expectation>) -> Cell {
    let (verdict, evidence) = match (&result.verdict, expected) {
        (Verdict::Pass, None) => ("pass", None),
        (Verdict::Pass, Some(e)) => ("xpass", Some(format!("expected to fail: {}", e.reason))),
        (Verdict::Fail { .. }, Some(e)) => ("xfail", Some(e.reason.clone())),
        (Verdict::Fail { findings }, None) => (
            "fail",
            findings.first().map(|f| first_line(&f.summary).to_owned()),
        ),
        (Verdict::Skip { reason }, _) => ("skip", Some(reason.clone())),
        (Verdict::Broken { reason }, _) => ("broken", Some(first_line(reason).to_owned())),
    };
    Cell {
        scenario: result.scenario.clone(),
        verdict,
        evidence,
        link: expected.and_then(|e| e.link.clone()),
        replay: result.replay.clone(),
    }
}

/// The expectations file a run implies: every failing scenario, keeping the reason and link
/// of entries that still fail, and a FIXME with the evidence for new ones.
fn regenerate(row: &Row, old: &Expectations) -> String {
    let entries = row
        .cells
        .iter()
        .filter(|c| matches!(c.verdict, "fail" | "xfail"))
        .map(|c| match old.get(&c.scenario) {
            Some(e) => e.clone(),
            None => Expectation {
                scenario: c.scenario.clone(),
                reason: format!(
                    "FIXME: confirm in the library's source or docs, then explain: {}",
                    c.evidence.as_deref().unwrap_or("failed")
                ),
                link: None,
            },
        })
        .collect();
    let header = format!(
        "# Scenarios `{}` is known to fail, with the reason and the upstream link where one exists.\n\
         # Regenerate with `lockcheck matrix --write-expectations`, then review every FIXME.\n\n",
        row.name
    );
    header + &Expectations { entries }.to_toml()
}

fn markdown(matrix: &Matrix) -> String {
    let mut out = String::from(
        "# lockcheck: the cross-implementation matrix\n\n\
         Generated by `lockcheck matrix` (regenerate with that command from the repository root).\n\
         Each cell is one scenario's verdict against one implementation: `pass`; **FAIL**, a\n\
         failure nobody expected; `xfail`, a known failure listed with its reason in\n\
         `fixtures/expectations/`; **XPASS**, a listed failure that passed (a stale\n\
         expectation); `skip`, the implementation does not declare what the scenario needs;\n\
         **BROKEN**, the adapter or harness misbehaved.\n\n",
    );
    out.push_str("## Implementations\n\n| implementation | version | setup | description |\n|---|---|---|---|\n");
    for row in &matrix.implementations {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.name,
            row.implementation.as_deref().unwrap_or("-"),
            match row.setup {
                "ready" => "ready".to_owned(),
                other => format!(
                    "{other}: {}",
                    escape(first_line(row.note.as_deref().unwrap_or("")))
                ),
            },
            escape(row.description.as_deref().unwrap_or("")),
        ));
    }
    // Implementations as columns keeps the table narrow enough to read.
    out.push_str("\n## Verdicts\n\n| scenario |");
    for row in &matrix.implementations {
        out.push_str(&format!(" {} |", row.name));
    }
    out.push_str("\n|---|");
    for _ in &matrix.implementations {
        out.push_str("---|");
    }
    out.push('\n');
    for head in &matrix.scenarios {
        out.push_str(&format!("| {}::{} |", head.level, head.id));
        for row in &matrix.implementations {
            let verdict = row
                .cells
                .iter()
                .find(|c| c.scenario == head.id)
                .map_or("-", |c| match c.verdict {
                    "fail" => "**FAIL**",
                    "xpass" => "**XPASS**",
                    "broken" => "**BROKEN**",
                    other => other,
                });
            out.push_str(&format!(" {verdict} |"));
        }
        out.push('\n');
    }
    out.push_str("\n## Evidence\n\nEvery cell that is not a pass or a skip, with its reason or first finding and a replay command.\n\n");
    let mut by_impl: BTreeMap<usize, Vec<&Cell>> = BTreeMap::new();
    for (i, row) in matrix.implementations.iter().enumerate() {
        for c in &row.cells {
            if !matches!(c.verdict, "pass" | "skip") {
                by_impl.entry(i).or_default().push(c);
            }
        }
    }
    if by_impl.is_empty() {
        out.push_str("Nothing failed.\n");
    }
    for (i, cells) in by_impl {
        let row = &matrix.implementations[i];
        out.push_str(&format!("### {}\n\n", row.name));
        for c in cells {
            out.push_str(&format!(
                "- `{}` {}: {}{}\n  replay: `{}`\n",
                c.scenario,
                c.verdict,
                escape(c.evidence.as_deref().unwrap_or("")),
                c.link
                    .as_deref()
                    .map(|l| format!(" ([upstream]({l}))"))
                    .unwrap_or_default(),
                c.replay
            ));
        }
        out.push('\n');
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn read_expectations(root: &Path, file: &str) -> anyhow::Result<Expectations> {
    let path = root.join(file);
    match fs::read_to_string(&path) {
        Ok(text) => {
            lockcheck_model::parse_expectations(file, &text).map_err(|e| anyhow::anyhow!("{e}"))
        }
        // A new implementation's file is created by `--write-expectations`.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Expectations::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Every `*.toml` in `dir`, sorted.
fn manifests(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The nearest ancestor of `cwd` (the working directory) that has `fixtures/impls/`.
fn project_root(cwd: &Path) -> anyhow::Result<PathBuf> {
    cwd.ancestors()
        .find(|d| d.join("fixtures/impls").is_dir())
        .map(Path::to_owned)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no fixtures/impls/ in {} or above it\n  help: run `lockcheck matrix` inside the lockcheck repository",
                cwd.display()
            )
        })
}

/// One progress line on stderr (the matrix itself goes to files).
fn progress(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

#[cfg(test)]
mod tests;
