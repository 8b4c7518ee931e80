//! Verdicts and the evidence behind them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use lockcheck_protocol::Recovery;

use crate::history::BrokenReason;

/// The checker's judgement of one scenario against one implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// At least one check failed; each finding carries its evidence.
    Fail {
        /// What went wrong.
        findings: Vec<Finding>,
    },
    /// The scenario did not apply (a capability is missing).
    Skip {
        /// Why.
        reason: String,
    },
    /// The adapter or harness misbehaved; says nothing about the lock.
    Broken {
        /// The participant at fault, if one is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
        /// What went wrong; [`Verdict::reason`] renders it.
        reason: BrokenReason,
    },
}

impl Verdict {
    /// A broken verdict: `participant` (if one is at fault) misbehaved so.
    pub fn broken(participant: Option<&str>, reason: BrokenReason) -> Verdict {
        Verdict::Broken {
            participant: participant.map(str::to_owned),
            reason,
        }
    }

    /// Why a skip or broken verdict is one, as a sentence: the one rendering of a broken
    /// reason. `None` for a pass or a failure (their findings say why).
    pub fn reason(&self) -> Option<String> {
        match self {
            Verdict::Skip { reason } => Some(reason.clone()),
            Verdict::Broken {
                participant: Some(p),
                reason,
            } => Some(format!("participant {p}: {reason}")),
            Verdict::Broken {
                participant: None,
                reason,
            } => Some(reason.to_string()),
            Verdict::Pass | Verdict::Fail { .. } => None,
        }
    }

    /// The verdict's name, as its JSON `verdict` tag writes it: `pass`, `fail`, `skip` or
    /// `broken`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Skip { .. } => "skip",
            Verdict::Broken { .. } => "broken",
        }
    }
}

/// One failed check, with evidence. Built only by [`Finding::new`], so its summary is always
/// the one its kind renders (a summary read from JSON is derived again, not trusted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(from = "FindingFields")]
pub struct Finding {
    /// Which check failed.
    #[serde(flatten)]
    pub kind: FindingKind,
    /// Scenario step (0-based index) the finding is about, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    /// One line for humans, derived from `kind`.
    summary: String,
    /// Indices into the history's events that show it (a transcript excerpt).
    pub evidence: Vec<usize>,
}

impl Finding {
    /// A finding of `kind` about `step`, shown by the history's events `evidence`.
    pub fn new(kind: FindingKind, step: Option<u32>, evidence: Vec<usize>) -> Finding {
        Finding {
            summary: kind.to_string(),
            kind,
            step,
            evidence,
        }
    }

    /// One line for humans: what the kind says.
    pub fn summary(&self) -> &str {
        &self.summary
    }
}

/// One failed check, with evidence (its `summary` is derived again on reading).
#[derive(Deserialize, JsonSchema)]
struct FindingFields {
    #[serde(flatten)]
    kind: FindingKind,
    /// Scenario step (0-based index) the finding is about, if one.
    #[serde(default)]
    step: Option<u32>,
    /// One line for humans, derived from the check's fields.
    #[serde(default, rename = "summary")]
    _summary: Option<String>,
    /// Indices into the history's events that show it (a transcript excerpt).
    evidence: Vec<usize>,
}

impl From<FindingFields> for Finding {
    fn from(f: FindingFields) -> Finding {
        Finding::new(f.kind, f.step, f.evidence)
    }
}

/// The kinds of failed checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum FindingKind {
    /// Two holders whose proven hold intervals overlap.
    Overlap {
        /// The first holder's interval.
        first: Interval,
        /// The second holder's interval.
        second: Interval,
    },
    /// A response other than the step allowed.
    Outcome {
        /// Participant.
        participant: String,
        /// What the step accepted.
        expected: String,
        /// What came back.
        got: String,
    },
    /// A response outside the step's latency bounds.
    Latency {
        /// Participant.
        participant: String,
        /// The bound, e.g. `>= 300 ms` or `<= 50 ms`.
        bound: String,
        /// Measured milliseconds.
        measured_ms: f64,
    },
    /// A race round with more or fewer winners than allowed.
    Winners {
        /// Round.
        round: u32,
        /// Allowed winners, as text (e.g. `exactly 1`).
        expected: String,
        /// Actual winners.
        got: u32,
    },
    /// `holder` reported the wrong process.
    Holder {
        /// Who should have been reported.
        expected: String,
        /// What was reported.
        got: String,
    },
    /// The symlink victim was modified.
    Victim {
        /// What changed.
        detail: String,
    },
    /// A waiting acquire went unanswered while the lock was free: another participant's
    /// `try`, sent once the waiter had waited the runner's whole budget, got the lock (a lost
    /// wake-up).
    Liveness {
        /// The participant whose acquire was never answered.
        participant: String,
        /// The participant whose `try` found the lock free.
        prober: String,
        /// How long the waiter had waited when the `try` was sent, in milliseconds.
        waited_ms: u64,
    },
    /// A crashed holder's lock became free later than the implementation declares
    /// (beyond the scenario's slack), as a `measure_recovery` wait timed it.
    Recovery {
        /// What the implementation's hello declares.
        declared: Recovery,
        /// From the kill to the waiter's `ok`, in milliseconds.
        measured_ms: u64,
    },
    /// A file-system check failed: the lock file's mode, or files left behind.
    FileSystem {
        /// What was found, e.g. `lock file mode 0666 is group- or world-writable`.
        detail: String,
    },
}

impl FindingKind {
    /// Every check's short name, as [`FindingKind::check_name`] gives it: what expectations
    /// and mutant manifests may name as the check that must fire.
    pub const CHECK_NAMES: &[&str] = &[
        "overlap", "outcome", "latency", "winners", "holder", "victim", "liveness", "recovery",
        "files",
    ];

    /// The check's short name, e.g. `overlap`, as reports label it.
    pub fn check_name(&self) -> &'static str {
        match self {
            FindingKind::Overlap { .. } => "overlap",
            FindingKind::Outcome { .. } => "outcome",
            FindingKind::Latency { .. } => "latency",
            FindingKind::Winners { .. } => "winners",
            FindingKind::Holder { .. } => "holder",
            FindingKind::Victim { .. } => "victim",
            FindingKind::Liveness { .. } => "liveness",
            FindingKind::Recovery { .. } => "recovery",
            FindingKind::FileSystem { .. } => "files",
        }
    }
}

/// A proven hold: the holder held the lock at least from `from_ns` (acquire answer received)
/// to `to_ns` (release sent or process killed), on the runner's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Interval {
    /// Participant name, with `#2` appended for its second handle or `/tN` for a thread.
    pub holder: String,
    /// `exclusive` or `shared`.
    pub mode: String,
    /// Start, ns since the iteration started.
    pub from_ns: u64,
    /// End, ns since the iteration started; `None` means still held when the history ends.
    pub to_ns: Option<u64>,
}

/// Nanoseconds as milliseconds with three decimals.
fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let to = self.to_ns.map_or_else(|| "end".to_owned(), ms);
        write!(
            f,
            "{} ({}, {} to {})",
            self.holder,
            self.mode,
            ms(self.from_ns),
            to
        )
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FindingKind::Overlap { first, second } => {
                let from = first.from_ns.max(second.from_ns);
                let to = match (first.to_ns, second.to_ns) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                write!(f, "two holders at once: {first} and {second}")?;
                match to {
                    Some(to) => write!(f, " overlap for at least {}", ms(to.saturating_sub(from))),
                    None => write!(f, " overlap until the end of the run"),
                }
            }
            FindingKind::Outcome {
                participant,
                expected,
                got,
            } => write!(f, "{participant} got `{got}`, expected `{expected}`"),
            FindingKind::Latency {
                participant,
                bound,
                measured_ms,
            } => write!(
                f,
                "{participant} got its answer after {measured_ms:.1} ms, expected {bound}"
            ),
            FindingKind::Winners {
                round,
                expected,
                got,
            } => write!(f, "round {round} had {got} winners, expected {expected}"),
            FindingKind::Holder { expected, got } => {
                write!(f, "`holder` reported {got}, expected {expected}")
            }
            FindingKind::Victim { detail } => {
                write!(f, "the symlink victim was modified: {detail}")
            }
            FindingKind::Liveness {
                participant,
                prober,
                waited_ms,
            } => write!(
                f,
                "{participant}'s acquire was not answered after {waited_ms} ms, though the lock \
                 was free: {prober}'s try got it (a lost wake-up)"
            ),
            FindingKind::Recovery {
                declared,
                measured_ms,
            } => {
                let declared = match declared {
                    Recovery::Kernel => "kernel recovery".to_owned(),
                    Recovery::StalePid => "stale-PID recovery".to_owned(),
                    Recovery::Lease { ms } => format!("a {ms} ms lease"),
                    Recovery::None => "no recovery".to_owned(),
                };
                write!(
                    f,
                    "declared {declared}, measured ≈ {:.1} s: a crashed holder's lock became \
                     free only then, so pauses and waits sized by the declaration are too short",
                    *measured_ms as f64 / 1000.0
                )
            }
            FindingKind::FileSystem { detail } => f.write_str(detail),
        }
    }
}
