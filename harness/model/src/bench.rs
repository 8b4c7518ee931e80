//! The contention benchmark's samples, the figures computed from them, and their summaries
//! over repeats: pure, like the checker.
//!
//! A sample is one acquisition stamped on the system-wide monotonic clock (PROTOCOL.md,
//! "bench"). A hold is credited from `acquired` to `releasing`, the same rule the checker
//! uses, so two overlapping credited holds prove two holders. That proof is a finding of the
//! benchmark, kept apart from the conformance verdicts.

use std::collections::BTreeMap;
use std::fmt;

use hdrhistogram::Histogram;
use lockcheck_protocol::BENCH_SAMPLES_HEADER as SAMPLES_HEADER;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One acquisition: nanoseconds on the system-wide monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Sample {
    /// Just before the acquire call.
    pub requested: u64,
    /// Just after it returned with the lock.
    pub acquired: u64,
    /// Just before the release call.
    pub releasing: u64,
    /// Just after it returned.
    pub released: u64,
}

/// What one contender's process did in one measurement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contender {
    /// Its acquisitions, in order.
    pub samples: Vec<Sample>,
    /// User + system CPU time over the loop, when known.
    pub cpu_ns: Option<u64>,
}

/// Why a samples file was refused: the line (1-based) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplesError {
    /// 1-based line number; 0 for the file as a whole.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for SamplesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => f.write_str(&self.problem),
            line => write!(f, "line {line}: {}", self.problem),
        }
    }
}

impl std::error::Error for SamplesError {}

/// Reads a samples file and checks it against the protocol's rules: the header, four
/// integers a line, `requested ≤ acquired ≤ releasing ≤ released`, each line starting no
/// earlier than the previous one ended, `expected` lines, and every stamp within `window`
/// (the runner's own clock readings around the request: a sample outside it was not taken on
/// the system-wide clock).
pub fn parse_samples(
    text: &str,
    expected: u64,
    window: (u64, u64),
) -> Result<Vec<Sample>, SamplesError> {
    let at = |line: usize, problem: String| SamplesError { line, problem };
    let mut lines = text.lines();
    match lines.next() {
        Some(SAMPLES_HEADER) => {}
        Some(other) => {
            return Err(at(
                1,
                format!(
                    "expected the header `{SAMPLES_HEADER}`, found `{}`",
                    clip(other, 60)
                ),
            ));
        }
        None => return Err(at(0, "the file is empty".to_owned())),
    }
    let mut samples = Vec::new();
    let mut previous_end = window.0;
    for (index, line) in lines.enumerate() {
        let number = index + 2;
        let mut fields = line.split(' ');
        let mut stamp = [0u64; 4];
        for slot in &mut stamp {
            let field = fields.next().unwrap_or("");
            *slot = field.parse().map_err(|_| {
                at(
                    number,
                    format!(
                        "expected four integers separated by spaces, found `{}`",
                        clip(line, 60)
                    ),
                )
            })?;
        }
        if fields.next().is_some() {
            return Err(at(
                number,
                format!("expected four integers, found more: `{}`", clip(line, 60)),
            ));
        }
        let [requested, acquired, releasing, released] = stamp;
        if !(requested <= acquired && acquired <= releasing && releasing <= released) {
            return Err(at(
                number,
                "the stamps are out of order (requested ≤ acquired ≤ releasing ≤ released)"
                    .to_owned(),
            ));
        }
        if requested < previous_end {
            let problem = if samples.is_empty() {
                format!(
                    "requested at {requested} ns, before the runner sent the request ({} ns): \
                     not the system-wide monotonic clock?",
                    window.0
                )
            } else {
                "requested before the previous acquisition was released".to_owned()
            };
            return Err(at(number, problem));
        }
        if released > window.1 {
            return Err(at(
                number,
                format!(
                    "released at {released} ns, after the runner received the answer ({} ns): \
                     not the system-wide monotonic clock?",
                    window.1
                ),
            ));
        }
        previous_end = released;
        samples.push(Sample {
            requested,
            acquired,
            releasing,
            released,
        });
    }
    if samples.len() as u64 != expected {
        return Err(at(
            0,
            format!(
                "the answer says {expected} acquisitions, the file has {}",
                samples.len()
            ),
        ));
    }
    Ok(samples)
}

/// `line` cut to at most `max` bytes at a character boundary, for quoting in an error.
fn clip(line: &str, max: usize) -> String {
    match line.len() > max {
        true => format!("{}...", &line[..line.floor_char_boundary(max)]),
        false => line.to_owned(),
    }
}

/// The 50th and 99th percentiles and the maximum of a set of durations, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Quantiles {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl Quantiles {
    /// The quantiles of `values`, `None` when there are none. Percentiles come from an HDR
    /// histogram at three significant digits; the maximum is exact.
    pub fn of(values: impl IntoIterator<Item = u64>) -> Option<Quantiles> {
        let mut histogram = Histogram::<u64>::new(3).expect("3 significant digits is valid");
        let mut max = 0;
        for value in values {
            // Auto-resizing, so recording fails only past u64's range, which a duration in
            // nanoseconds never reaches.
            let _ = histogram.record(value);
            max = max.max(value);
        }
        (!histogram.is_empty()).then(|| Quantiles {
            p50: histogram.value_at_quantile(0.5).min(max),
            p99: histogram.value_at_quantile(0.99).min(max),
            max,
        })
    }
}

/// Two credited holds that overlap: proof of two holders at once, from the samples alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Overlap {
    /// The contender whose hold began first, and its acquisition's index.
    pub first: (usize, usize),
    /// The contender that acquired while `first` still held.
    pub second: (usize, usize),
    /// How long both held, in nanoseconds.
    pub overlap_ns: u64,
}

/// Every figure of one measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Metrics {
    /// Contenders measured.
    pub contenders: usize,
    /// Acquisitions of all contenders together.
    pub acquisitions: u64,
    /// From the first request to the last release, in nanoseconds.
    pub window_ns: u64,
    /// Acquisitions per second over the window.
    pub throughput: f64,
    /// Request to the end of the release, per acquisition: the uncontended cost at N = 1.
    pub latency_ns: Option<Quantiles>,
    /// Request to acquisition, per acquisition.
    pub wait_ns: Option<Quantiles>,
    /// From one holder's release to the next holder's acquisition, counted only where the
    /// next holder was already waiting when the release began.
    pub handoff_ns: Option<Quantiles>,
    /// How many handoffs were counted.
    pub handoffs: u64,
    /// Jain's fairness index over per-contender acquisition counts: 1 is perfectly even,
    /// 1/N is one contender taking everything.
    pub jain: f64,
    /// Share of consecutive acquisitions (in time order) made by a different contender.
    pub owner_changes: f64,
    /// Contenders' CPU time per acquisition, in nanoseconds, when every contender's is known.
    pub cpu_per_acquisition_ns: Option<f64>,
    /// Two holders at once, if the samples show it.
    pub overlap: Option<Overlap>,
}

/// Computes every figure of one measurement.
pub fn metrics(contenders: &[Contender]) -> Metrics {
    let mut all: Vec<(usize, usize, Sample)> = contenders
        .iter()
        .enumerate()
        .flat_map(|(who, c)| c.samples.iter().enumerate().map(move |(i, s)| (who, i, *s)))
        .collect();
    all.sort_by_key(|&(_, _, s)| (s.acquired, s.releasing));
    let acquisitions = all.len() as u64;
    let start = all.iter().map(|(_, _, s)| s.requested).min().unwrap_or(0);
    let end = all.iter().map(|(_, _, s)| s.released).max().unwrap_or(0);
    let window_ns = end.saturating_sub(start);

    let mut handoffs = Vec::new();
    let mut overlap: Option<Overlap> = None;
    let mut owner_changes = 0u64;
    // The hold that ends last among those acquired so far: a later acquisition before its end
    // overlaps it.
    let mut latest: Option<(usize, usize, Sample)> = None;
    for pair in all.windows(2) {
        let ((prev_who, _, prev), (next_who, _, next)) = (pair[0], pair[1]);
        if prev_who != next_who {
            owner_changes += 1;
        }
        if next.requested < prev.releasing && next.acquired >= prev.releasing {
            handoffs.push(next.acquired - prev.releasing);
        }
    }
    for &(who, index, sample) in &all {
        if let Some((held_by, held_index, held)) = latest {
            if sample.acquired < held.releasing && overlap.is_none() && held_by != who {
                overlap = Some(Overlap {
                    first: (held_by, held_index),
                    second: (who, index),
                    overlap_ns: held.releasing.min(sample.releasing) - sample.acquired,
                });
            }
            if sample.releasing > held.releasing {
                latest = Some((who, index, sample));
            }
        } else {
            latest = Some((who, index, sample));
        }
    }

    let counts: Vec<f64> = contenders.iter().map(|c| c.samples.len() as f64).collect();
    let sum: f64 = counts.iter().sum();
    let squares: f64 = counts.iter().map(|x| x * x).sum();
    let jain = if squares > 0.0 {
        sum * sum / (counts.len() as f64 * squares)
    } else {
        0.0
    };
    let cpu: Option<u64> = contenders.iter().map(|c| c.cpu_ns).sum();
    Metrics {
        contenders: contenders.len(),
        acquisitions,
        window_ns,
        throughput: if window_ns > 0 {
            acquisitions as f64 * 1e9 / window_ns as f64
        } else {
            0.0
        },
        latency_ns: Quantiles::of(all.iter().map(|(_, _, s)| s.released - s.requested)),
        wait_ns: Quantiles::of(all.iter().map(|(_, _, s)| s.acquired - s.requested)),
        handoffs: handoffs.len() as u64,
        handoff_ns: Quantiles::of(handoffs),
        jain,
        owner_changes: if acquisitions > 1 {
            owner_changes as f64 / (acquisitions - 1) as f64
        } else {
            0.0
        },
        cpu_per_acquisition_ns: cpu
            .filter(|_| acquisitions > 0)
            .map(|cpu| cpu as f64 / acquisitions as f64),
        overlap,
    }
}

/// Whether a larger value of a figure is better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Throughput, fairness.
    Higher,
    /// Latencies, CPU.
    Lower,
}

/// The figures a benchmark reports, each taken from one measurement's [`Metrics`]: the one
/// table reports, ratios and baselines all read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// Acquisitions per second, all contenders together.
    Throughput,
    /// Request to end of release, median (the uncontended cost at N = 1).
    LatencyP50,
    /// Request to end of release, 99th percentile.
    LatencyP99,
    /// Release to the waiting next holder's acquisition, median.
    HandoffP50,
    /// Handoff, 99th percentile.
    HandoffP99,
    /// Handoff, longest.
    HandoffMax,
    /// Request to acquisition, median.
    WaitP50,
    /// Request to acquisition, 99th percentile.
    WaitP99,
    /// The longest wait for the lock: starvation.
    WaitMax,
    /// Jain's index over per-contender acquisitions.
    Jain,
    /// CPU time per acquisition.
    CpuPerAcquisition,
}

impl Figure {
    /// Every figure, in report order.
    pub const ALL: [Figure; 11] = [
        Figure::Throughput,
        Figure::LatencyP50,
        Figure::LatencyP99,
        Figure::HandoffP50,
        Figure::HandoffP99,
        Figure::HandoffMax,
        Figure::WaitP50,
        Figure::WaitP99,
        Figure::WaitMax,
        Figure::Jain,
        Figure::CpuPerAcquisition,
    ];

    /// Its value in `metrics`, `None` where it was not measured (no handoff at N = 1, CPU
    /// unknown). Durations are in nanoseconds.
    pub fn of(self, metrics: &Metrics) -> Option<f64> {
        let q = |q: Option<Quantiles>, pick: fn(Quantiles) -> u64| q.map(|q| pick(q) as f64);
        match self {
            Figure::Throughput => Some(metrics.throughput),
            Figure::LatencyP50 => q(metrics.latency_ns, |q| q.p50),
            Figure::LatencyP99 => q(metrics.latency_ns, |q| q.p99),
            Figure::HandoffP50 => q(metrics.handoff_ns, |q| q.p50),
            Figure::HandoffP99 => q(metrics.handoff_ns, |q| q.p99),
            Figure::HandoffMax => q(metrics.handoff_ns, |q| q.max),
            Figure::WaitP50 => q(metrics.wait_ns, |q| q.p50),
            Figure::WaitP99 => q(metrics.wait_ns, |q| q.p99),
            Figure::WaitMax => q(metrics.wait_ns, |q| q.max),
            Figure::Jain => (metrics.contenders > 1).then_some(metrics.jain),
            Figure::CpuPerAcquisition => metrics.cpu_per_acquisition_ns,
        }
    }

    /// Which way is better.
    pub fn better(self) -> Better {
        match self {
            Figure::Throughput | Figure::Jain => Better::Higher,
            _ => Better::Lower,
        }
    }

    /// The name used in reports and JSON, e.g. `handoff_p50`.
    pub fn name(self) -> &'static str {
        match self {
            Figure::Throughput => "throughput",
            Figure::LatencyP50 => "latency_p50",
            Figure::LatencyP99 => "latency_p99",
            Figure::HandoffP50 => "handoff_p50",
            Figure::HandoffP99 => "handoff_p99",
            Figure::HandoffMax => "handoff_max",
            Figure::WaitP50 => "wait_p50",
            Figure::WaitP99 => "wait_p99",
            Figure::WaitMax => "wait_max",
            Figure::Jain => "jain",
            Figure::CpuPerAcquisition => "cpu_per_acquisition",
        }
    }

    /// Whether the figure is a duration in nanoseconds (else a rate or an index).
    pub fn is_duration(self) -> bool {
        !matches!(self, Figure::Throughput | Figure::Jain)
    }
}

/// A figure over repeats: the median, and the range as the measure of noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Spread {
    /// The median of the repeats.
    pub median: f64,
    /// The smallest repeat.
    pub min: f64,
    /// The largest repeat.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }

    /// The range's width relative to the median, e.g. 0.08 for ±4 %.
    pub fn relative_range(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median.abs()
        }
    }
}

/// Every figure of a set of repeats, as spreads.
pub fn summarize(repeats: &[Metrics]) -> BTreeMap<Figure, Spread> {
    Figure::ALL
        .into_iter()
        .filter_map(|figure| {
            let values: Vec<f64> = repeats.iter().filter_map(|m| figure.of(m)).collect();
            Spread::of(&values).map(|spread| (figure, spread))
        })
        .collect()
}

/// How a figure compares with a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The ranges of repeats overlap: no change beyond the measured noise.
    WithinNoise,
    /// Every repeat is better than every baseline repeat.
    Better,
    /// Every repeat is worse than every baseline repeat.
    Worse,
}

/// Compares `now` with `baseline`: a change only when the two ranges of repeats do not
/// overlap, so that a difference inside either run's own noise is never flagged.
pub fn compare(figure: Figure, baseline: Spread, now: Spread) -> Change {
    let higher = now.min > baseline.max;
    let lower = now.max < baseline.min;
    match (figure.better(), higher, lower) {
        (Better::Higher, true, _) | (Better::Lower, _, true) => Change::Better,
        (Better::Higher, _, true) | (Better::Lower, true, _) => Change::Worse,
        _ => Change::WithinNoise,
    }
}

/// Who ran the acquire / release loop of a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// The adapter, through the `bench` op: the figures are the lock's own.
    Adapter,
    /// The runner, one `acquire` and one `release` request per acquisition: every figure
    /// includes the protocol's round trips.
    Runner,
}

/// The version of the bench report's JSON; bumped on any change of its shape.
pub const BENCH_REPORT_VERSION: u32 = 1;

/// Everything one `lockcheck bench` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BenchReport {
    /// [`BENCH_REPORT_VERSION`].
    pub version: u32,
    /// The lockcheck version that measured.
    pub lockcheck: String,
    /// Where it was measured.
    pub machine: Machine,
    /// What was measured.
    pub plan: PlanSummary,
    /// One row per implementation, the floor first.
    pub rows: Vec<BenchRow>,
}

/// The machine a benchmark ran on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Machine {
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// Kernel release.
    pub kernel: String,
    /// CPU model, where known.
    pub cpu: String,
    /// Logical CPUs available to the run.
    pub cpus: usize,
    /// File system type of the directory the lock files were in, e.g. `ext4`.
    pub lock_fs: String,
}

/// The measurement plan of a benchmark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanSummary {
    /// Contender counts measured.
    pub contenders: Vec<u32>,
    /// Hold times measured, in microseconds.
    pub hold_us: Vec<u64>,
    /// Length of each measurement, in milliseconds.
    pub duration_ms: u64,
    /// Repeats of every measurement.
    pub repeats: u32,
}

/// One implementation's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BenchRow {
    /// Manifest name, `reflock`, or `os-floor`.
    pub name: String,
    /// The implementation as its adapter introduced itself.
    pub implementation: Option<lockcheck_protocol::Implementation>,
    /// Whether this is the floor row every ratio is taken against.
    pub floor: bool,
    /// Who ran the loop.
    pub driver: Option<Driver>,
    /// The protocol's own round trip to this adapter, when the runner drove it.
    pub round_trip_ns: Option<Quantiles>,
    /// Why nothing was measured (no set-up, no hello), if so.
    pub unavailable: Option<String>,
    /// One cell per contender count × hold time.
    pub cells: Vec<BenchCell>,
}

/// The measurements of one implementation at one contender count and hold time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BenchCell {
    /// Contender processes.
    pub contenders: u32,
    /// Hold time, in microseconds.
    pub hold_us: u64,
    /// Each figure over the repeats (empty when broken).
    pub summary: BTreeMap<Figure, Spread>,
    /// Every repeat's figures.
    pub repeats: Vec<Metrics>,
    /// Why the cell has no figures: the adapter or harness misbehaved.
    pub broken: Option<String>,
}

impl BenchCell {
    /// The first overlap any repeat's samples show: two holders at once.
    pub fn overlap(&self) -> Option<Overlap> {
        self.repeats.iter().find_map(|m| m.overlap)
    }
}

impl BenchReport {
    /// The floor's cell at the same contender count and hold time as `cell`.
    pub fn floor_cell(&self, cell: &BenchCell) -> Option<&BenchCell> {
        self.rows
            .iter()
            .find(|r| r.floor)?
            .cells
            .iter()
            .find(|c| (c.contenders, c.hold_us) == (cell.contenders, cell.hold_us))
    }

    /// `figure` of `cell` as a multiple of the floor's, by medians.
    pub fn ratio_to_floor(&self, cell: &BenchCell, figure: Figure) -> Option<f64> {
        let value = cell.summary.get(&figure)?.median;
        let floor = self.floor_cell(cell)?.summary.get(&figure)?.median;
        ratio(value, Some(floor))
    }
}

/// `value` as a multiple of the floor's, `None` when the floor's is zero or missing.
pub fn ratio(value: f64, floor: Option<f64>) -> Option<f64> {
    floor.filter(|f| *f != 0.0).map(|f| value / f)
}
