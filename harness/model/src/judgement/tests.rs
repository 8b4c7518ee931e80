//! The judgement table: every verdict against no expectation, a steady one and an
//! intermittent one.

use super::Judgement;
use crate::expectations::Expectation;
use crate::history::BrokenReason;
use crate::verdict::{Finding, FindingKind, Verdict};

fn expectation(check: &str, intermittent: Option<&str>) -> Expectation {
    Expectation {
        scenario: "crash-mid-acquire".into(),
        check: check.into(),
        reason: "a crashed contender's file is refused".into(),
        link: None,
        intermittent: intermittent.map(Into::into),
    }
}

fn fail() -> Verdict {
    Verdict::Fail {
        findings: vec![Finding::new(
            FindingKind::Outcome {
                participant: "c".into(),
                expected: "ok".into(),
                got: "busy".into(),
            },
            Some(2),
            Vec::new(),
        )],
    }
}

#[track_caller]
fn check(verdict: &Verdict, expected: Option<&Expectation>, want: Judgement) {
    assert_eq!(
        Judgement::of(verdict, expected),
        want,
        "{verdict:?} against {expected:?}"
    );
}

#[test]
fn every_verdict_against_every_kind_of_expectation() {
    let skip = Verdict::Skip {
        reason: "missing capabilities: shared".into(),
    };
    let broken = Verdict::broken(
        Some("b"),
        BrokenReason::Hang {
            op: "acquire".into(),
            waited_ms: 5000,
        },
    );
    let steady = expectation("outcome", None);
    let flaky = expectation("outcome", Some("timing decides whether a file is left"));
    let other = expectation("overlap", None);
    let other_flaky = expectation("overlap", Some("timing"));

    check(&Verdict::Pass, None, Judgement::Pass);
    check(&fail(), None, Judgement::Fail);
    check(&skip, None, Judgement::Skip);
    check(&broken, None, Judgement::Broken);

    check(&Verdict::Pass, Some(&steady), Judgement::Xpass);
    check(&fail(), Some(&steady), Judgement::Xfail);
    check(&fail(), Some(&other), Judgement::Fail);
    check(&skip, Some(&steady), Judgement::Skip);
    check(&broken, Some(&steady), Judgement::Broken);

    check(&Verdict::Pass, Some(&flaky), Judgement::XfailNotShown);
    check(&fail(), Some(&flaky), Judgement::Xfail);
    check(&fail(), Some(&other_flaky), Judgement::Fail);
    check(&skip, Some(&flaky), Judgement::Skip);
    check(&broken, Some(&flaky), Judgement::Broken);
}

#[test]
fn only_failures_and_stale_expectations_fail_a_gate() {
    let failing: Vec<_> = Judgement::ALL
        .into_iter()
        .filter(|j| j.is_failure())
        .collect();
    assert_eq!(failing, [Judgement::Fail, Judgement::Xpass]);
    let accepted: Vec<_> = Judgement::ALL
        .into_iter()
        .filter(|j| j.is_accepted())
        .collect();
    assert_eq!(
        accepted,
        [
            Judgement::Pass,
            Judgement::Xfail,
            Judgement::XfailNotShown,
            Judgement::Skip
        ]
    );
}

#[test]
fn names_are_the_serde_names() {
    for j in Judgement::ALL {
        assert_eq!(serde_json::to_value(j).unwrap(), j.as_str());
    }
}

#[test]
fn explanations_name_the_expectation() {
    let flaky = expectation("outcome", Some("timing decides whether a file is left"));
    let other = expectation("overlap", None);
    let explain = |v: &Verdict, e: &Expectation| Judgement::of(v, Some(e)).explain(v, Some(e));
    insta::assert_snapshot!(
        [
            explain(&Verdict::Pass, &flaky),
            explain(&Verdict::Pass, &other),
            explain(&fail(), &flaky),
            explain(&fail(), &other),
            Judgement::Pass.explain(&Verdict::Pass, None),
        ]
        .map(|e| format!("{e:?}"))
        .join("\n")
    );
}
