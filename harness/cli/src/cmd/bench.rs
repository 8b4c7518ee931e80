//! `lockcheck bench`: the contention benchmark. The floor (the bare OS lock), then each
//! implementation, measured at every contender count and hold time, repeats interleaved so
//! that the machine's noise falls on all rows alike. This module runs and writes files;
//! `lockcheck_runner::measure` measures, `lockcheck_model::bench` computes the figures and
//! `lockcheck_report` formats them.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use std::{env, fs};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lockcheck::{Project, TargetDir};
use lockcheck_model::bench::{
    BENCH_REPORT_VERSION, BenchCell, BenchReport, BenchRow, Driver, Metrics, PlanSummary, metrics,
    summarize,
};
use lockcheck_protocol::Hello;
use lockcheck_runner::{AdapterSpec, BenchPlan};

use crate::cli::BenchArgs;
use crate::cmd::adapter::FLOOR_NAME;
use crate::cmd::run;
use crate::exit::Exit;

/// Round trips measured for an adapter the runner drives.
const ROUND_TRIPS: u32 = 200;

/// Acquisitions all contenders of one measurement may record together (bounds memory and
/// the samples files).
const MAX_SAMPLES_PER_MEASUREMENT: u64 = 4_000_000;

/// One implementation to measure: how to start it, or why it cannot be.
struct Candidate {
    name: String,
    floor: bool,
    spec: Result<AdapterSpec, String>,
}

pub fn bench(args: &BenchArgs) -> anyhow::Result<Exit> {
    let plan = Settings::from_args(args);
    let exe = env::current_exe().context("cannot find the lockcheck binary")?;
    let baselines = baselines_dir()?;
    // Checked before anything is measured, so that a typo costs nothing.
    if let Some(name) = &args.save_baseline {
        baseline_path(&baselines, name)?;
    }
    let baseline = match &args.baseline {
        Some(name) => Some(read_baseline(&baselines, name)?),
        None => None,
    };
    if let Some(dir) = &args.report {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create report directory {}", dir.display()))?;
    }

    let mut candidates = vec![Candidate {
        name: FLOOR_NAME.to_owned(),
        floor: true,
        spec: Ok(AdapterSpec {
            name: FLOOR_NAME.to_owned(),
            command: vec![
                exe.display().to_string(),
                "adapter".to_owned(),
                "--floor".to_owned(),
            ],
            env: Vec::new(),
        }),
    }];
    if args.manifests.is_empty() || args.all {
        candidates.push(Candidate {
            name: "reflock".to_owned(),
            floor: false,
            spec: run::builtin_spec().map_err(|e| format!("{e:#}")),
        });
    }
    let mut manifests = args.manifests.clone();
    if args.all {
        let cwd = env::current_dir().context("cannot read the working directory")?;
        let project = Project::containing(&cwd, TargetDir::CargoEnvOrUnderRoot)?;
        manifests.extend(project.manifest_paths()?);
    }
    for path in &manifests {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        // With one --impl a set-up failure is an error; in a whole-matrix run it is a row.
        let spec = run::manifest_spec(path).map_err(|e| format!("{e:#}"));
        if let (Err(reason), false) = (&spec, args.all) {
            anyhow::bail!("{reason}");
        }
        candidates.push(Candidate {
            name: spec.as_ref().map_or(name, |s| s.name.clone()),
            floor: false,
            spec,
        });
    }

    let report = measure_all(&candidates, &plan);
    let table = lockcheck_report::bench_table(&report);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(table.as_bytes())?;
    if let Some((name, baseline)) = args.baseline.as_ref().zip(baseline.as_ref()) {
        let changes = lockcheck_report::baseline_changes(&report, baseline);
        if changes.is_empty() {
            writeln!(
                stdout,
                "against baseline `{name}`: no change beyond the noise"
            )?;
        } else {
            writeln!(stdout, "against baseline `{name}`:")?;
            for line in changes {
                writeln!(stdout, "  {line}")?;
            }
        }
    }
    if let Some(dir) = &args.report {
        write_report(dir, &report)?;
    }
    if let Some(name) = &args.save_baseline {
        fs::create_dir_all(&baselines)
            .with_context(|| format!("cannot create {}", baselines.display()))?;
        let path = baseline_path(&baselines, name)?;
        fs::write(&path, lockcheck_report::bench_to_json(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(stdout, "saved baseline `{name}` ({})", path.display())?;
    }
    Ok(exit_code(&report))
}

/// The plan with `--quick` and the defaults applied.
struct Settings {
    contenders: Vec<u32>,
    hold_us: Vec<u64>,
    duration: Duration,
    repeats: u32,
}

impl Settings {
    fn from_args(args: &BenchArgs) -> Settings {
        let default_contenders: &[u32] = if args.quick {
            &[1, 2, 8]
        } else {
            &[1, 2, 8, 50]
        };
        Settings {
            contenders: if args.contenders.is_empty() {
                default_contenders.to_vec()
            } else {
                args.contenders.clone()
            },
            hold_us: if args.hold_us.is_empty() {
                vec![0]
            } else {
                args.hold_us.clone()
            },
            duration: Duration::from_millis(args.duration.unwrap_or(if args.quick {
                100
            } else {
                250
            })),
            repeats: args.repeats.unwrap_or(if args.quick { 2 } else { 5 }),
        }
    }
}

/// Probes every candidate, then measures every cell `repeats` times, interleaving rows.
fn measure_all(candidates: &[Candidate], settings: &Settings) -> BenchReport {
    let base = BenchPlan {
        contenders: 1,
        hold: Duration::ZERO,
        duration: settings.duration,
        max_acquisitions: MAX_SAMPLES_PER_MEASUREMENT,
        hello_timeout: Duration::from_secs(10),
        temp_root: None,
    };
    let probe_opts = lockcheck_runner::RunOptions::default();
    let mut rows: Vec<(BenchRow, Option<(AdapterSpec, Hello)>)> = candidates
        .iter()
        .map(|c| {
            let mut row = BenchRow {
                name: c.name.clone(),
                implementation: None,
                floor: c.floor,
                driver: None,
                round_trip_ns: None,
                unavailable: None,
                cells: Vec::new(),
            };
            let spec = match &c.spec {
                Ok(spec) => match lockcheck_runner::probe(spec, &probe_opts) {
                    Ok(hello) => {
                        row.implementation = Some(hello.implementation.clone());
                        match lockcheck_runner::driver(&hello) {
                            Ok(driver) => {
                                row.driver = Some(driver);
                                if driver == Driver::Runner {
                                    match lockcheck_runner::round_trip(spec, &base, ROUND_TRIPS) {
                                        Ok(trip) => row.round_trip_ns = Some(trip),
                                        Err(e) => row.unavailable = Some(e.to_string()),
                                    }
                                }
                            }
                            Err(e) => row.unavailable = Some(e.to_string()),
                        }
                        row.unavailable.is_none().then(|| (spec.clone(), hello))
                    }
                    Err(e) => {
                        row.unavailable = Some(e.to_string());
                        None
                    }
                },
                Err(reason) => {
                    row.unavailable = Some(reason.clone());
                    None
                }
            };
            (row, spec)
        })
        .collect();

    let keys: Vec<(u32, u64)> = settings
        .hold_us
        .iter()
        .flat_map(|&hold| settings.contenders.iter().map(move |&n| (n, hold)))
        .collect();
    let live = rows.iter().filter(|(_, spec)| spec.is_some()).count();
    let progress = progress_bar((settings.repeats as usize * keys.len() * live) as u64);
    // repeats[row][key]: the figures of each repeat so far, or why the cell broke.
    let mut measured: Vec<Vec<Result<Vec<Metrics>, String>>> = rows
        .iter()
        .map(|_| vec![Ok(Vec::new()); keys.len()])
        .collect();
    for repeat in 0..settings.repeats {
        for (k, &(contenders, hold_us)) in keys.iter().enumerate() {
            for (r, (row, spec)) in rows.iter().enumerate() {
                let Some((spec, hello)) = spec else { continue };
                progress.set_message(format!(
                    "{} × {contenders}, repeat {}/{}",
                    row.name,
                    repeat + 1,
                    settings.repeats
                ));
                progress.inc(1);
                let Ok(so_far) = &mut measured[r][k] else {
                    continue;
                };
                let plan = BenchPlan {
                    contenders,
                    hold: Duration::from_micros(hold_us),
                    max_acquisitions: (MAX_SAMPLES_PER_MEASUREMENT / u64::from(contenders)).max(1),
                    ..base.clone()
                };
                match lockcheck_runner::measure(spec, hello, &plan) {
                    Ok(samples) => so_far.push(metrics(&samples)),
                    Err(e) => measured[r][k] = Err(e.to_string()),
                }
            }
        }
    }
    progress.finish_and_clear();

    for ((row, _), cells) in rows.iter_mut().zip(measured) {
        if row.unavailable.is_some() {
            continue;
        }
        row.cells = keys
            .iter()
            .zip(cells)
            .map(|(&(contenders, hold_us), outcome)| match outcome {
                Ok(repeats) => BenchCell {
                    contenders,
                    hold_us,
                    summary: summarize(&repeats),
                    repeats,
                    broken: None,
                },
                Err(reason) => BenchCell {
                    contenders,
                    hold_us,
                    summary: Default::default(),
                    repeats: Vec::new(),
                    broken: Some(reason),
                },
            })
            .collect();
    }
    BenchReport {
        version: BENCH_REPORT_VERSION,
        lockcheck: env!("CARGO_PKG_VERSION").to_owned(),
        machine: lockcheck_runner::describe_machine(&env::temp_dir()),
        plan: PlanSummary {
            contenders: settings.contenders.clone(),
            hold_us: settings.hold_us.clone(),
            duration_ms: settings.duration.as_millis() as u64,
            repeats: settings.repeats,
        },
        rows: rows.into_iter().map(|(row, _)| row).collect(),
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

fn write_report(dir: &Path, report: &BenchReport) -> anyhow::Result<()> {
    let files = [
        ("bench.json", lockcheck_report::bench_to_json(report)),
        ("bench.md", lockcheck_report::bench_markdown(report)),
        ("throughput.svg", lockcheck_report::throughput_svg(report)),
        ("handoff.svg", lockcheck_report::handoff_svg(report)),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Where baselines are kept: `{target}/lockcheck-bench/baselines/`, the target directory being
/// `CARGO_TARGET_DIR` or `target/` of the project the working directory is in.
fn baselines_dir() -> anyhow::Result<PathBuf> {
    let cwd = env::current_dir().context("cannot read the working directory")?;
    let target = TargetDir::CargoEnvOrUnderRoot;
    let project = Project::find(&cwd, target.clone()).unwrap_or_else(|| Project::at(cwd, target));
    Ok(project.target.join("lockcheck-bench").join("baselines"))
}

fn baseline_path(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    anyhow::ensure!(
        valid,
        "baseline name `{name}` must be letters, digits, `-`, `_` and `.`"
    );
    Ok(dir.join(format!("{name}.json")))
}

fn read_baseline(dir: &Path, name: &str) -> anyhow::Result<BenchReport> {
    let path = baseline_path(dir, name)?;
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "no baseline `{name}` ({})\n  help: save one first with `lockcheck bench --save-baseline {name}`",
            path.display()
        )
    })?;
    lockcheck_report::bench_from_json(&text)
        .map_err(|e| anyhow::anyhow!("baseline {}: {e}", path.display()))
}

/// 100 when some samples show two holders at once, 101 when a cell broke, else 0.
fn exit_code(report: &BenchReport) -> Exit {
    let cells = || report.rows.iter().flat_map(|r| &r.cells);
    if cells().any(|c| c.overlap().is_some()) {
        Exit::Failed
    } else if cells().any(|c| c.broken.is_some()) {
        Exit::Broken
    } else {
        Exit::Ok
    }
}
