//! `lockcheck run`: run the catalogue against one implementation and report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::{env, fs};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lockcheck::project::read_manifest;
use lockcheck::{
    Project, Replay, TargetDir, builtin_expectations, reflock_spec, reflock_strict_spec,
};
use lockcheck_model::{Expectations, Manifest, RunResult};
use lockcheck_report::{Cell, TerminalOptions};
use lockcheck_runner::{AdapterSpec, Prepared, RunEvent, RunOptions};

use crate::catalogue;
use crate::cli::{MessageFormat, RunArgs};
use crate::exit::Exit;
use crate::interrupt;
use crate::reproducible;

pub fn run(args: &RunArgs) -> anyhow::Result<Exit> {
    let scenarios = catalogue::select(&args.catalogue)?;
    if let Some(dir) = &args.report {
        check_report_dir(dir)?;
    }
    let (spec, replay) = match &args.manifest {
        Some(path) => (
            manifest_spec(path)?,
            Replay::manifest(path.display().to_string()),
        ),
        None if args.strict => (builtin_strict_spec()?, Replay::builtin_strict()),
        None => (builtin_spec()?, Replay::builtin()),
    };
    let (expectations, source) = match &args.manifest {
        Some(path) if !args.ignore_expectations => manifest_expectations(path)?,
        Some(_) => (Expectations::default(), String::new()),
        None => (
            builtin_expectations(args.strict),
            "fixtures/expectations/reflock.toml (built in)".to_owned(),
        ),
    };
    let cancel = interrupt::on_stop_signals()?;
    let opts = RunOptions {
        seed: args.seed,
        replay: Some(replay.for_runner()),
        cancel: cancel.clone(),
        // Every scenario of report.html gets a timeline, passes too.
        keep_history: args.report.is_some(),
        ..RunOptions::default()
    };

    // Each scenario's line goes to stderr as it settles; the summary at the end, to stdout.
    let streamed = TerminalOptions {
        color: std::io::stderr().is_terminal() && colour_allowed(),
    };
    let progress = ProgressBar::new(scenarios.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let result = lockcheck_runner::run(&spec, &scenarios, &opts, &mut |event| match event {
        RunEvent::ScenarioStarted { scenario, .. } => {
            progress.set_message(catalogue::name(scenario));
        }
        RunEvent::ScenarioFinished {
            result,
            index,
            total,
        } => {
            let judgement = Cell::judge(result, expectations.get(&result.scenario)).verdict;
            stream(
                &progress,
                &lockcheck_report::settled(result, judgement, index, total, &streamed),
            );
            progress.inc(1);
        }
        RunEvent::Probed { .. } => {}
    });
    progress.finish_and_clear();

    let result = if reproducible::enabled(args.reproducible) {
        lockcheck_report::reproducible(&result, &reproducible::placeholders())
    } else {
        result
    };
    let cells: Vec<Cell> = result
        .scenarios
        .iter()
        .map(|r| Cell::judge(r, expectations.get(&r.scenario)))
        .collect();
    let stdout_text = stdout_text(args.message_format, &result, &cells, &source);
    std::io::stdout().lock().write_all(stdout_text.as_bytes())?;
    if let Some(dir) = &args.report {
        write_report(dir, &result, &cells)?;
        crate::html::write_run_page(dir, &result, &cells, &replay, &args.catalogue)?;
    }
    if let Some((signal, exit)) = interrupt::stopped_by(&cancel).filter(|_| result.interrupted) {
        let note = lockcheck_report::interrupted(signal, result.scenarios.len(), scenarios.len());
        std::io::stderr().write_all(note.as_bytes())?;
        return Ok(exit);
    }
    Ok(Exit::of(cells.iter().map(|c| c.verdict)))
}

/// `NO_COLOR` is unset or empty.
fn colour_allowed() -> bool {
    env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints a streamed `line` above the progress bar, or on stderr when there is no bar (stderr
/// is not a terminal).
fn stream(progress: &ProgressBar, line: &str) {
    if progress.is_hidden() {
        let _ = std::io::stderr().write_all(line.as_bytes());
    } else {
        progress.println(line.trim_end());
    }
}

/// What `--message-format` puts on stdout: the terminal summary and the judgements against
/// `source`, the expectations file, or one of the report's files.
fn stdout_text(format: MessageFormat, result: &RunResult, cells: &[Cell], source: &str) -> String {
    match format {
        MessageFormat::Human => {
            lockcheck_report::summary(result, cells, &terminal_options())
                + &lockcheck_report::judgements(cells, source)
        }
        MessageFormat::Json => lockcheck_report::to_json(result),
        MessageFormat::Junit => lockcheck_report::junit(result, cells),
        MessageFormat::Markdown => lockcheck_report::summary_markdown(result, cells),
    }
}

/// Colour when stdout is a terminal and `NO_COLOR` is not set.
pub(crate) fn terminal_options() -> TerminalOptions {
    TerminalOptions {
        color: std::io::stdout().is_terminal() && colour_allowed(),
    }
}

/// The expectations file a manifest names, and its path for messages.
fn manifest_expectations(path: &Path) -> anyhow::Result<(Expectations, String)> {
    let (manifest, project) = manifest_project(path)?;
    let source = manifest.expectations.clone().unwrap_or_default();
    Ok((project.expectations(&manifest)?, source))
}

/// The built-in implementation: this binary's own `adapter` subcommand (reflock).
pub(crate) fn builtin_spec() -> anyhow::Result<AdapterSpec> {
    let exe = env::current_exe()
        .context("cannot find the lockcheck binary to start its built-in adapter")?;
    Ok(reflock_spec(&exe))
}

/// The built-in reflock in strict mode: `adapter --strict`.
fn builtin_strict_spec() -> anyhow::Result<AdapterSpec> {
    let exe = env::current_exe()
        .context("cannot find the lockcheck binary to start its built-in adapter")?;
    Ok(reflock_strict_spec(&exe))
}

/// This binary, which manifests know as `{lockcheck}`.
pub(crate) fn lockcheck_exe() -> anyhow::Result<PathBuf> {
    env::current_exe().context("cannot find the lockcheck binary")
}

/// Reads a manifest, and finds the project it belongs to (its own directory when it is in
/// none), whose root its paths are relative to.
fn manifest_project(path: &Path) -> anyhow::Result<(Manifest, Project)> {
    let manifest = read_manifest(path, &path.display().to_string())?;
    // Placeholders expand to absolute paths: adapters run from the runner's directory.
    let absolute = fs::canonicalize(path)
        .with_context(|| format!("cannot resolve manifest path {}", path.display()))?;
    let dir = absolute.parent().unwrap_or(Path::new("."));
    // `{target}` is what cargo's is, as for `matrix`: never the source checkout when
    // CARGO_TARGET_DIR says otherwise.
    let project = Project::find(dir, TargetDir::CargoEnvOrUnderRoot)
        .unwrap_or_else(|| Project::at(dir.to_owned(), TargetDir::CargoEnvOrUnderRoot));
    Ok((manifest, project))
}

/// Reads a manifest and runs its `setup` (once, cached under `{target}/lockcheck-setup/`).
/// A missing toolchain or a failed set-up ends the run with a message, before any scenario.
pub(crate) fn manifest_spec(path: &Path) -> anyhow::Result<AdapterSpec> {
    let (manifest, project) = manifest_project(path)?;
    if !manifest.setup.is_empty() && std::io::stderr().is_terminal() {
        // Progress, not output: a first set-up can take a while (venvs, npm, cargo).
        let _ = writeln!(std::io::stderr(), "preparing `{}`...", manifest.name);
    }
    let vars = project.placeholders(&lockcheck_exe()?);
    match lockcheck_runner::prepare(&manifest, &vars, &project.prepare_env()) {
        Prepared::Ready(spec) => Ok(spec),
        Prepared::Unavailable { reason } => Err(anyhow::anyhow!(
            "cannot test `{}` on this machine: {reason}\n  help: install it, or leave `{}` out \
             (`lockcheck matrix` and the test suite report it as skipped)",
            manifest.name,
            path.display()
        )),
        Prepared::Failed(error) => Err(error.into()),
    }
}

/// Creates the report directory and writes and removes a file in it, so that a directory the
/// report cannot be written to is found before the first scenario rather than after the last.
fn check_report_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create report directory {}", dir.display()))?;
    let probe = dir.join(format!(".lockcheck-writable-{}", std::process::id()));
    fs::write(&probe, b"")
        .with_context(|| format!("cannot write in report directory {}", dir.display()))?;
    fs::remove_file(&probe).with_context(|| format!("cannot remove {} again", probe.display()))?;
    Ok(())
}

fn write_report(dir: &Path, result: &RunResult, cells: &[Cell]) -> anyhow::Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create report directory {}", dir.display()))?;
    let files = [
        ("report.json", lockcheck_report::to_json(result)),
        ("junit.xml", lockcheck_report::junit(result, cells)),
        (
            "summary.md",
            lockcheck_report::summary_markdown(result, cells),
        ),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
