//! A verdict judged against what was expected of the implementation: the one rule that the
//! matrix, the nextest gate, the mutant gate, the sensitivity benchmark and `lockcheck run
//! --impl` all apply.

use serde::{Deserialize, Serialize};

use crate::expectations::{Expectation, fired_checks, wrong_check};
use crate::verdict::Verdict;

/// One scenario's verdict against the implementation's expectation for it.
///
/// The rule, in full:
/// - no expectation: `pass`, `fail`, `skip` and `broken` are the verdict's own;
/// - an expected failure whose check fired is `xfail`, whatever else fired; a failure by
///   other checks only is `fail`;
/// - an expected failure that passed is `xpass` (the expectation is stale), unless the
///   expectation is `intermittent`: then it is `xfail_not_shown`, which fails nothing;
/// - a skip is a skip, expected failure or not: the implementation does not declare what
///   the scenario needs (or the machine cannot inject the fault), so nothing was judged;
/// - a broken run is broken, expected failure or not: it says nothing about the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// Every check held, and nothing was expected to fail.
    Pass,
    /// A failure nobody expected, or an expected one by the wrong check.
    Fail,
    /// The expected failure, by its check.
    Xfail,
    /// An expected failure that passed: the expectation is stale.
    Xpass,
    /// An intermittent expected failure that did not show in this run.
    XfailNotShown,
    /// The scenario did not apply.
    Skip,
    /// The adapter or harness misbehaved.
    Broken,
}

lockcheck_protocol::vocabulary!(Judgement {
    Pass => "pass",
    Fail => "fail",
    Xfail => "xfail",
    Xpass => "xpass",
    XfailNotShown => "xfail_not_shown",
    Skip => "skip",
    Broken => "broken",
});

impl Judgement {
    /// Judges `verdict` against `expected`, the implementation's expectation for the
    /// scenario, if it has one.
    pub fn of(verdict: &Verdict, expected: Option<&Expectation>) -> Judgement {
        match (verdict, expected) {
            (Verdict::Pass, None) => Judgement::Pass,
            (Verdict::Pass, Some(e)) if e.intermittent.is_some() => Judgement::XfailNotShown,
            (Verdict::Pass, Some(_)) => Judgement::Xpass,
            (Verdict::Fail { .. }, Some(e))
                if fired_checks(verdict).contains(&e.check.as_str()) =>
            {
                Judgement::Xfail
            }
            (Verdict::Fail { .. }, _) => Judgement::Fail,
            (Verdict::Skip { .. }, _) => Judgement::Skip,
            (Verdict::Broken { .. }, _) => Judgement::Broken,
        }
    }

    /// Whether this judgement fails a gate: an unexpected failure or a stale expectation.
    /// A broken run fails it too, but as its own kind ([`Judgement::Broken`]).
    pub fn is_failure(self) -> bool {
        matches!(self, Judgement::Fail | Judgement::Xpass)
    }

    /// Whether a gate accepts this judgement: neither a failure nor broken.
    pub fn is_accepted(self) -> bool {
        !self.is_failure() && self != Judgement::Broken
    }

    /// Why the verdict was judged so against `expected`, in one line, when there is more to
    /// say than the verdict: the expectation's reason, or what fired instead of its check.
    pub fn explain(self, verdict: &Verdict, expected: Option<&Expectation>) -> Option<String> {
        let e = expected?;
        Some(match self {
            Judgement::Xfail => e.reason.clone(),
            Judgement::Xpass => format!("expected to fail ({}), but it passed", e.reason),
            Judgement::XfailNotShown => format!(
                "expected to fail ({}), which shows only in some runs: {}",
                e.reason,
                e.intermittent.as_deref().unwrap_or_default()
            ),
            Judgement::Fail => format!(
                "expected to fail by the `{}` check ({}), but {}",
                e.check,
                e.reason,
                wrong_check(&e.check, &fired_checks(verdict))
            ),
            Judgement::Pass | Judgement::Skip | Judgement::Broken => return None,
        })
    }
}

#[cfg(test)]
mod tests;
