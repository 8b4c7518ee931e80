//! `summary.md`, for `$GITHUB_STEP_SUMMARY`.

use lockcheck_model::{RunResult, Verdict};
use lockcheck_report::summary_markdown;

use crate::fixture;

#[test]
fn every_verdict() {
    let run = fixture::run();
    insta::assert_snapshot!(summary_markdown(&run, &fixture::cells(&run)));
}

#[test]
fn judged_against_expectations() {
    let run = fixture::run();
    insta::assert_snapshot!(summary_markdown(&run, &fixture::judged_cells(&run)));
}

#[test]
fn a_passing_run_says_so() {
    let run = RunResult {
        scenarios: fixture::run()
            .scenarios
            .into_iter()
            .filter(|s| s.verdict == Verdict::Pass)
            .collect(),
        ..fixture::run()
    };
    insta::assert_snapshot!(summary_markdown(&run, &fixture::cells(&run)));
}
