//! `lockcheck run`: run the catalogue against one implementation and report.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::{env, fs};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lockcheck_model::{RunResult, Verdict};
use lockcheck_report::TerminalOptions;
use lockcheck_runner::{AdapterSpec, PrepareEnv, Prepared, RunEvent, RunOptions};

use crate::catalogue;
use crate::cli::RunArgs;
use crate::exit::Exit;

pub fn run(args: &RunArgs) -> anyhow::Result<Exit> {
    let scenarios = catalogue::select(&args.catalogue)?;
    let spec = match &args.manifest {
        Some(path) => manifest_spec(path)?,
        None => builtin_spec()?,
    };
    let mut replay_base = String::from("lockcheck run");
    if let Some(path) = &args.manifest {
        replay_base.push_str(&format!(" --impl {}", path.display()));
    }
    let opts = RunOptions {
        seed: args.seed,
        replay_base,
        ..RunOptions::default()
    };

    let progress = ProgressBar::new(scenarios.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let result = lockcheck_runner::run(&spec, &scenarios, &opts, &mut |event| match event {
        RunEvent::ScenarioStarted { scenario, .. } => {
            progress.set_message(format!("{}::{}", scenario.level.as_str(), scenario.id));
        }
        RunEvent::ScenarioFinished { .. } => progress.inc(1),
        RunEvent::Probed { .. } => {}
    });
    progress.finish_and_clear();

    let color =
        std::io::stdout().is_terminal() && env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let summary = lockcheck_report::summary(&result, &TerminalOptions { color });
    std::io::stdout().lock().write_all(summary.as_bytes())?;
    if let Some(dir) = &args.report {
        write_report(dir, &result)?;
    }
    Ok(exit_code(&result))
}

/// The built-in implementation: this binary's own `adapter` subcommand (reflock).
pub(crate) fn builtin_spec() -> anyhow::Result<AdapterSpec> {
    let exe = env::current_exe()
        .context("cannot find the lockcheck binary to start its built-in adapter")?;
    Ok(AdapterSpec {
        name: "reflock".to_owned(),
        command: vec![exe.display().to_string(), "adapter".to_owned()],
        env: Vec::new(),
    })
}

/// Reads a manifest and runs its `setup` (once, cached under `{target}/lockcheck-setup/`).
/// A missing toolchain or a failed set-up ends the run with a message, before any scenario.
pub(crate) fn manifest_spec(path: &Path) -> anyhow::Result<AdapterSpec> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read manifest {}", path.display()))?;
    let manifest = lockcheck_model::parse_manifest(&path.display().to_string(), &text)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let exe = env::current_exe().context("cannot find the lockcheck binary")?;
    // Placeholders expand to absolute paths: adapters run from the runner's directory.
    let absolute = fs::canonicalize(path)
        .with_context(|| format!("cannot resolve manifest path {}", path.display()))?;
    let root = project_root(&absolute);
    let target = root.join("target");
    let vars = lockcheck_model::Placeholders {
        lockcheck: exe.display().to_string(),
        root: root.display().to_string(),
        target: target.display().to_string(),
    };
    if !manifest.setup.is_empty() && std::io::stderr().is_terminal() {
        // Progress, not output: a first set-up can take a while (venvs, npm, cargo).
        let _ = writeln!(std::io::stderr(), "preparing `{}`...", manifest.name);
    }
    match lockcheck_runner::prepare(&manifest, &vars, &PrepareEnv::under_target(&target)) {
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

/// `{root}` in a manifest: the nearest ancestor of the manifest that has a `fixtures/`
/// directory (manifests live in `fixtures/impls/`), else the manifest's own directory.
fn project_root(manifest: &Path) -> &Path {
    let dir = manifest.parent().unwrap_or(Path::new("."));
    dir.ancestors()
        .find(|d| d.join("fixtures").is_dir())
        .unwrap_or(dir)
}

fn write_report(dir: &Path, result: &RunResult) -> anyhow::Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create report directory {}", dir.display()))?;
    let path = dir.join("report.json");
    fs::write(&path, lockcheck_report::to_json(result))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn exit_code(result: &RunResult) -> Exit {
    let any = |f: fn(&Verdict) -> bool| result.scenarios.iter().any(|s| f(&s.verdict));
    if any(|v| matches!(v, Verdict::Fail { .. })) {
        Exit::Failed
    } else if any(|v| matches!(v, Verdict::Broken { .. })) {
        Exit::Broken
    } else {
        Exit::Ok
    }
}
