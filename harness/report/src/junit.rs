//! `junit.xml`: one test suite per implementation, one test case per scenario, for CI systems
//! that read JUnit (GitHub's test reporters, GitLab, Jenkins).

use std::time::Duration;

use lockcheck_model::{Judgement, RunResult, ScenarioResult, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::{Cell, TOOL_NAME};

/// The JUnit XML of `run`, whose scenarios were judged as `cells` (one per scenario, in the
/// same order). The judgement decides each case: `fail` and `xpass` are failures, `broken`
/// an error, `skip` skipped; `pass`, `xfail` and `xfail_not_shown` pass, the expected
/// failures with a note on their output saying why.
pub fn junit(run: &RunResult, cells: &[Cell]) -> String {
    let mut suite = TestSuite::new(run.manifest.as_str());
    suite.set_time(millis(run.duration_ms));
    for (scenario, cell) in run.scenarios.iter().zip(cells) {
        suite.add_test_case(case(run, scenario, cell));
    }
    let mut report = Report::new(TOOL_NAME);
    report.set_time(millis(run.duration_ms));
    report.add_test_suite(suite);
    // Serialising a report built from owned strings cannot fail.
    report.to_string().unwrap_or_default()
}

fn case(run: &RunResult, scenario: &ScenarioResult, cell: &Cell) -> TestCase {
    let evidence = cell.evidence.clone().unwrap_or_default();
    let status = match cell.verdict {
        Judgement::Broken => non_success(NonSuccessKind::Error, cell, details(scenario)),
        Judgement::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(evidence.as_str());
            status
        }
        j if j.is_failure() => non_success(NonSuccessKind::Failure, cell, details(scenario)),
        // Passed, or failed as expected: the gate accepts it.
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(scenario.name(), status);
    case.set_classname(run.manifest.as_str());
    case.set_time(millis(scenario.duration_ms));
    case.add_property(Property::new("judgement", cell.verdict.as_str()));
    if matches!(cell.verdict, Judgement::Xfail | Judgement::XfailNotShown) {
        case.set_system_out(format!("{}: {evidence}\n", cell.verdict));
    }
    case
}

fn non_success(kind: NonSuccessKind, cell: &Cell, description: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status
        .set_message(cell.evidence.as_deref().unwrap_or_default())
        .set_type(cell.verdict.as_str())
        .set_description(description);
    status
}

/// Every finding (or the broken reason) on its own line, then the replay command.
fn details(scenario: &ScenarioResult) -> String {
    let mut lines: Vec<String> = match &scenario.verdict {
        Verdict::Fail { findings } => findings
            .iter()
            .map(|f| format!("{}: {}", f.kind.check_name(), f.summary()))
            .collect(),
        verdict => verdict.reason().into_iter().collect(),
    };
    if !scenario.replay.is_empty() {
        lines.push(format!("replay: {}", scenario.replay));
    }
    lines.join("\n")
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}
