//! How many scenarios ended in each verdict.

use lockcheck_model::{RunResult, Verdict};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Scenario counts per verdict for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed: the lock misbehaved.
    pub failed: usize,
    /// Scenarios skipped, e.g. for a missing capability.
    pub skipped: usize,
    /// Scenarios whose adapter or harness misbehaved.
    pub broken: usize,
    /// All scenarios.
    pub total: usize,
}

impl Totals {
    /// Counts the verdicts of `run`.
    pub fn of(run: &RunResult) -> Totals {
        let mut totals = Totals::default();
        for scenario in &run.scenarios {
            match scenario.verdict {
                Verdict::Pass => totals.passed += 1,
                Verdict::Fail { .. } => totals.failed += 1,
                Verdict::Skip { .. } => totals.skipped += 1,
                Verdict::Broken { .. } => totals.broken += 1,
            }
            totals.total += 1;
        }
        totals
    }
}
