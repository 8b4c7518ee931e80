//! The soak run: the whole catalogue against reflock, pass after pass in one runner process,
//! for `--minutes N` (10 by default), each pass with its own seed. It reports the flake rate
//! (passes in which any scenario failed, broke, or passed against one of reflock's known
//! failures: judged as the gate judges) and whether anything grows
//! or is left behind: the runner's open descriptors, threads and child processes, and after
//! each pass the participants still alive, `lockcheck-*` temp directories and cgroups.
//!
//! Not a test: `ci/soak.sh [MINUTES]` runs it and writes `reports/soak.md`, or
//! `cargo bench -p lockcheck --bench soak -- --minutes 10` prints the same Markdown.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lockcheck::{Project, TargetDir, builtin_expectations, reflock_spec};
use lockcheck_model::{Containment, Expectations, Judgement, RunResult, Verdict};
use lockcheck_runner::RunOptions;

/// What one look at the runner and its leftovers found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gauges {
    descriptors: usize,
    threads: usize,
    /// The runner's children: its watchdog, and participants not reaped.
    children: usize,
    /// Processes started with a lock path under the soak's temp root.
    participants: usize,
    temp_dirs: usize,
    cgroups: usize,
}

impl Gauges {
    fn read(temp_root: &Path, cgroups: Option<&Path>) -> Gauges {
        let me = std::process::id();
        let (children, participants) = processes(me, temp_root);
        Gauges {
            descriptors: entries(Path::new("/proc/self/fd")),
            threads: entries(Path::new("/proc/self/task")),
            children,
            participants,
            temp_dirs: entries(temp_root),
            // The parent and each iteration cgroup in it.
            cgroups: cgroups.map_or(0, |dir| {
                if dir.is_dir() {
                    1 + subdirectories(dir)
                } else {
                    0
                }
            }),
        }
    }
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().count())
}

fn subdirectories(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .count()
    })
}

/// The runner's live children, and the live processes whose environment holds a lock path
/// under `temp_root`.
fn processes(me: u32, temp_root: &Path) -> (usize, usize) {
    let needle = format!("LOCKCHECK_LOCK_PATH={}", temp_root.display());
    let (mut children, mut participants) = (0, 0);
    let Ok(proc) = std::fs::read_dir("/proc") else {
        return (0, 0);
    };
    for entry in proc.flatten() {
        if entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
            .is_none()
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command name: state, then the parent's pid.
        let mut fields = stat
            .rsplit_once(')')
            .map_or("", |(_, r)| r)
            .split_whitespace();
        let state = fields.next().unwrap_or("");
        let parent = fields.next().and_then(|p| p.parse::<u32>().ok());
        if state == "Z" {
            continue;
        }
        if parent == Some(me) {
            children += 1;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|&b| b == 0)
            .any(|var| var.starts_with(needle.as_bytes()))
        {
            participants += 1;
        }
    }
    (children, participants)
}

/// One reading of [`Gauges`].
type Gauge = fn(&Gauges) -> usize;

/// One pass: its seed, how long it took, what did not pass, and the gauges after it.
struct Pass {
    seed: u64,
    took: Duration,
    not_passed: Vec<String>,
    after: Gauges,
}

/// The scenarios of `result` that misbehaved as judged against reflock's known failures
/// (`expectations`): failures, stale expectations and broken verdicts.
fn not_passed(result: &RunResult, expectations: &Expectations) -> Vec<String> {
    result
        .scenarios
        .iter()
        .filter(|s| {
            let judgement = Judgement::of(&s.verdict, expectations.get(&s.scenario));
            judgement.is_failure() || judgement == Judgement::Broken
        })
        .map(|s| {
            let kind = match &s.verdict {
                Verdict::Fail { findings } => format!("fail ({} findings)", findings.len()),
                other => format!("broken: {}", other.reason().unwrap_or_default()),
            };
            format!("{}::{} {kind}", s.level.as_str(), s.scenario)
        })
        .collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

struct Args {
    minutes: f64,
}

fn args() -> Args {
    let mut minutes = 10.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        // cargo bench passes `--bench`; anything else unknown is ignored too.
        if arg == "--minutes" {
            minutes = args
                .next()
                .and_then(|m| m.parse().ok())
                .filter(|m: &f64| *m > 0.0)
                .expect("--minutes takes a positive number");
        }
    }
    Args { minutes }
}

fn main() {
    let args = args();
    let root = Project::find(Path::new(env!("CARGO_MANIFEST_DIR")), TargetDir::UnderRoot)
        .expect("the crate lives in the lockcheck repository")
        .root;
    let scenarios = Project::at(root, TargetDir::UnderRoot)
        .scenarios()
        .expect("the catalogue loads");
    let spec = reflock_spec(Path::new(env!("CARGO_BIN_EXE_lockcheck")));
    let expectations = builtin_expectations(false);
    let temp = tempfile::tempdir().expect("a temp root");
    let temp_root: PathBuf = temp.path().to_owned();
    let mut opts = RunOptions {
        temp_root: Some(temp_root.clone()),
        ..RunOptions::default()
    };
    let cgroups = lockcheck_runner::cgroup_parent(&opts);
    let load_before = load_average();
    let before = Gauges::read(&temp_root, cgroups.as_deref());
    let started = Instant::now();
    let budget = Duration::from_secs_f64(args.minutes * 60.0);
    let mut passes = Vec::new();
    let mut containment = None;
    while started.elapsed() < budget {
        opts.seed = passes.len() as u64;
        let pass_started = Instant::now();
        let result = lockcheck_runner::run(&spec, &scenarios, &opts, &mut |_| {});
        containment.get_or_insert(result.containment.clone());
        passes.push(Pass {
            seed: opts.seed,
            took: pass_started.elapsed(),
            not_passed: not_passed(&result, &expectations),
            after: Gauges::read(&temp_root, cgroups.as_deref()),
        });
    }
    let report = render(
        &args,
        scenarios.len(),
        containment,
        &load_before,
        before,
        started.elapsed(),
        &passes,
    );
    let _ = std::io::stdout().write_all(report.as_bytes());
}

fn render(
    args: &Args,
    scenarios: usize,
    containment: Option<Containment>,
    load_before: &str,
    before: Gauges,
    took: Duration,
    passes: &[Pass],
) -> String {
    let mut out = String::new();
    let flaky = passes.iter().filter(|p| !p.not_passed.is_empty()).count();
    let rate = if passes.is_empty() {
        0.0
    } else {
        100.0 * flaky as f64 / passes.len() as f64
    };
    let containment = match containment {
        Some(Containment::Cgroup) => "a cgroup per iteration".to_owned(),
        Some(Containment::ProcessGroups { why }) => format!("process groups only ({why:?})"),
        None => "none ran".to_owned(),
    };
    let _ = writeln!(out, "# Soak run\n");
    let _ = writeln!(
        out,
        "`ci/soak.sh {}`: the catalogue ({scenarios} scenarios) against reflock, pass after \
         pass in one runner process, seed = pass number, for {:.0} s; a {} build; containment: \
         {containment}; kernel {}; load average {load_before} at the start, {} at the end.\n",
        args.minutes,
        took.as_secs_f64(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        kernel(),
        load_average(),
    );
    let _ = writeln!(
        out,
        "**Flake rate: {flaky} of {} passes ({rate:.1} %)** had a scenario that failed, broke \
         or passed a known failure (judged against `fixtures/expectations/reflock.toml`, as \
         the gate judges).\n",
        passes.len()
    );
    let last = passes.last().map_or(before, |p| p.after);
    let max = |f: Gauge| passes.iter().map(|p| f(&p.after)).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "| gauge | before | after the first pass | after the last | most after any |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: |");
    let first = passes.first().map_or(before, |p| p.after);
    let rows: [(&str, Gauge); 6] = [
        ("runner's open descriptors", |g| g.descriptors),
        ("runner's threads", |g| g.threads),
        ("runner's child processes (the watchdog)", |g| g.children),
        ("participants still alive", |g| g.participants),
        ("`lockcheck-*` temp directories left", |g| g.temp_dirs),
        ("cgroups left (`lockcheck-<pid>` and its children)", |g| {
            g.cgroups
        }),
    ];
    for (name, gauge) in rows {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            gauge(&before),
            gauge(&first),
            gauge(&last),
            max(gauge)
        );
    }
    let _ = writeln!(out);
    if flaky > 0 {
        let _ = writeln!(out, "## Passes with a scenario that did not pass\n");
        for pass in passes.iter().filter(|p| !p.not_passed.is_empty()) {
            let _ = writeln!(out, "- seed {}: {}", pass.seed, pass.not_passed.join("; "));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Each pass\n");
    let _ = writeln!(
        out,
        "| seed | s | not passed | descriptors | threads | children |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: |");
    for pass in passes {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {} | {} | {} | {} |",
            pass.seed,
            pass.took.as_secs_f64(),
            pass.not_passed.len(),
            pass.after.descriptors,
            pass.after.threads,
            pass.after.children
        );
    }
    out
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}
