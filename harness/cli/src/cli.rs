//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use lockcheck_model::Level;
use lockcheck_protocol::Vocabulary;

use crate::exit;

/// Conformance suite and contention benchmark for instance locks.
#[derive(Debug, Parser)]
#[command(name = "lockcheck", version, after_help = exit::TABLE)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run conformance scenarios against a lock implementation (reflock by default).
    Run(RunArgs),
    /// List the scenarios and what each requires.
    List(CatalogueArgs),
    /// Serve reflock behind the adapter protocol on stdin/stdout (started by `run`).
    Adapter(AdapterArgs),
    /// Check an adapter against the protocol's rules (PROTOCOL.md) and print a checklist.
    AdapterCheck(AdapterCheckArgs),
    /// Run every implementation in fixtures/impls (and reflock); write reports/matrix.md + .json.
    Matrix(MatrixArgs),
    /// Benchmark contention: throughput, handoff latency, fairness and CPU of reflock (or
    /// --impl), side by side with the bare OS lock measured in the same run.
    Bench(BenchArgs),
}

/// Which scenarios to use.
#[derive(Debug, clap::Args)]
pub struct CatalogueArgs {
    /// Add the scenarios in this file, or in every *.toml under this directory, to the
    /// built-in catalogue (repeatable; see docs/scenarios.md).
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Use only the --scenarios files, without the built-in catalogue.
    #[arg(long, requires = "scenarios")]
    pub replace_catalogue: bool,
    /// Only scenarios whose id, or name as printed (`core::exclusive-basic`), matches this
    /// glob (repeatable).
    #[arg(long = "scenario", value_name = "GLOB")]
    pub scenario: Vec<String>,
    /// Only scenarios of this level: core, crash, pause, process, shared, fs, topology, network
    /// (repeatable). Without it or --scenario every level but network runs.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub level: Vec<Level>,
}

/// `lockcheck run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Implementation manifest (TOML); the built-in reflock adapter when absent.
    #[arg(long = "impl", value_name = "MANIFEST")]
    pub manifest: Option<PathBuf>,
    /// Test the built-in reflock in strict mode, which refuses file systems whose locks may
    /// be local to one client (FUSE, NFS, SMB, 9p).
    #[arg(long, conflicts_with = "manifest")]
    pub strict: bool,
    /// Seed for race order and planted garbage; printed in every replay command.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write report.json, report.html, junit.xml and summary.md (for $GITHUB_STEP_SUMMARY)
    /// into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// What to print on stdout: the human summary, or one of the report's formats
    /// (progress and notices go to stderr either way).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
    /// Zero every time, duration and pid, and replace temporary and absolute paths with
    /// placeholders, in every output: two runs with the same seed then print and write the
    /// same bytes (also set by LOCKCHECK_REPRODUCIBLE=1).
    #[arg(long)]
    pub reproducible: bool,
    /// Judge verdicts as they are, without the manifest's expectations file (its known
    /// failures then fail the run).
    #[arg(long, requires = "manifest")]
    pub ignore_expectations: bool,
    /// Which scenarios.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
}

/// `lockcheck run --message-format`: what stdout carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// The terminal summary, with evidence under each failure.
    Human,
    /// report.json.
    Json,
    /// junit.xml.
    Junit,
    /// summary.md.
    Markdown,
}

/// `lockcheck bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Implementation manifest (TOML) to measure beside the floor (repeatable); reflock when
    /// absent.
    #[arg(long = "impl", value_name = "MANIFEST")]
    pub manifests: Vec<PathBuf>,
    /// Measure reflock and every manifest in fixtures/impls/ (a set-up that fails is a row
    /// saying why).
    #[arg(long)]
    pub all: bool,
    /// Contender counts, comma-separated [default: 1,2,8,50; with --quick 1,2,8].
    #[arg(long, value_name = "N,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u32).range(1..=200))]
    pub contenders: Vec<u32>,
    /// Hold times in microseconds, comma-separated [default: 0].
    #[arg(long = "hold-us", value_name = "US,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub hold_us: Vec<u64>,
    /// Length of each measurement in milliseconds [default: 250; with --quick 100].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub duration: Option<u64>,
    /// Repeats of every measurement, for the median and the spread [default: 5; with --quick 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeats: Option<u32>,
    /// Fewer contender counts, shorter and fewer repeats: a first look in a few seconds.
    #[arg(long)]
    pub quick: bool,
    /// Write bench.json, bench.md, throughput.svg and handoff.svg into this directory.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Save this run as a named baseline (under the target directory).
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Compare with a saved baseline; a change is flagged only beyond both runs' noise.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
}

/// `lockcheck adapter`.
#[derive(Debug, clap::Args)]
pub struct AdapterArgs {
    /// Serve the floor instead: the bare OS lock (open + flock + unlock + close) that
    /// `lockcheck bench` measures every implementation against. It supports only `bench`.
    #[arg(long)]
    pub floor: bool,
    /// Serve reflock in strict mode (`LockFile::strict`): it refuses file systems whose locks
    /// may be local to one client.
    #[arg(long, conflicts_with = "floor")]
    pub strict: bool,
}

/// `lockcheck adapter-check`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when the adapter keeps every rule checked, 102 when it \
breaks one (see `lockcheck --help` for the others).\n\nExamples:\n  lockcheck adapter-check --impl \
fixtures/impls/filelock.toml\n  lockcheck adapter-check -- python3 my_adapter.py"
)]
pub struct AdapterCheckArgs {
    /// Implementation manifest (TOML): its set-up is run, then its command is checked.
    #[arg(long = "impl", value_name = "MANIFEST", conflicts_with = "command")]
    pub manifest: Option<PathBuf>,
    /// The adapter's command line, after `--` (or reflock's built-in adapter with neither).
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// `lockcheck matrix`.
#[derive(Debug, clap::Args)]
pub struct MatrixArgs {
    /// Seed for race order and planted garbage.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write matrix.md and matrix.json here instead of `reports/`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also rewrite each implementation's expectations file from this run, for review.
    #[arg(long)]
    pub write_expectations: bool,
    /// Which scenarios.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
}

/// A `--level` value: a bad one is a usage error, reported by clap with exit status 2.
fn parse_level(name: &str) -> Result<Level, String> {
    Level::from_name(name).ok_or_else(|| {
        let names: Vec<_> = Level::names().collect();
        format!(
            "unknown level `{name}`, expected one of: {}",
            names.join(", ")
        )
    })
}
