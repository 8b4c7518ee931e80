//! The matrix: cells judged against expectations, regenerated expectations, and the Markdown
//! table.

use lockcheck_model::{
    Expectation, Expectations, Finding, FindingKind, Judgement, Level, ScenarioResult, Verdict,
};

use super::{Cell, Matrix, Row, ScenarioHead, expectations_toml, matrix_markdown};

fn result(id: &str, verdict: Verdict) -> ScenarioResult {
    ScenarioResult {
        scenario: id.to_owned(),
        level: Level::Core,
        verdict,
        iterations: 1,
        duration_ms: 1,
        replay: format!("lockcheck run --impl fixtures/impls/x.toml --scenario {id} --seed 0"),
        history: None,
        holds: Vec::new(),
    }
}

fn fail() -> Verdict {
    Verdict::Fail {
        findings: vec![Finding::new(
            FindingKind::Outcome {
                participant: "b".into(),
                expected: "busy".into(),
                got: "ok".into(),
            },
            Some(3),
            Vec::new(),
        )],
    }
}

fn expected(id: &str) -> Expectation {
    Expectation {
        scenario: id.to_owned(),
        check: "outcome".to_owned(),
        reason: "lockf locks are per process".to_owned(),
        link: Some("https://example.org/1".to_owned()),
        intermittent: None,
    }
}

#[test]
fn cells_are_judged_against_expectations() {
    let e = expected("touch-fd");
    assert_eq!(
        Cell::judge(&result("a", Verdict::Pass), None).verdict,
        Judgement::Pass
    );
    assert_eq!(
        Cell::judge(&result("touch-fd", Verdict::Pass), Some(&e)).verdict,
        Judgement::Xpass
    );
    assert_eq!(
        Cell::judge(&result("touch-fd", fail()), Some(&e)).verdict,
        Judgement::Xfail
    );
    let other_check = Expectation {
        check: "overlap".to_owned(),
        ..e.clone()
    };
    let wrong = Cell::judge(&result("touch-fd", fail()), Some(&other_check));
    assert_eq!(
        (wrong.verdict, wrong.evidence.as_deref()),
        (
            Judgement::Fail,
            Some(
                "expected to fail by the `overlap` check (lockf locks are per process), but the `overlap` check did not fire; `outcome` did: b got `ok`, expected `busy`"
            )
        )
    );
    let unexpected = Cell::judge(&result("a", fail()), None);
    assert_eq!(
        (unexpected.verdict, unexpected.evidence.as_deref()),
        (Judgement::Fail, Some("b got `ok`, expected `busy`"))
    );
    let skip = Verdict::Skip {
        reason: "missing capabilities: shared".into(),
    };
    assert_eq!(
        Cell::judge(&result("a", skip), None).verdict,
        Judgement::Skip
    );
}

fn row(cells: Vec<Cell>) -> Row {
    Row {
        name: "x".into(),
        implementation: Some("x 1.0 (python)".into()),
        manifest: Some("fixtures/impls/x.toml".into()),
        description: Some("a lock | with a pipe".into()),
        setup: "ready",
        setup_ms: 1,
        run_ms: 2,
        note: None,
        cells,
    }
}

#[test]
fn regenerated_expectations_keep_reasons_and_mark_new_failures() {
    let old = Expectations {
        entries: vec![expected("touch-fd"), expected("churn")],
    };
    let cells = vec![
        Cell::judge(&result("touch-fd", fail()), old.get("touch-fd")),
        Cell::judge(&result("churn", Verdict::Pass), old.get("churn")),
        Cell::judge(&result("second-handle", fail()), None),
    ];
    insta::assert_snapshot!(
        "matrix_regenerated_expectations",
        expectations_toml(&row(cells), &old)
    );
}

#[test]
fn markdown_matrix() {
    let old = Expectations {
        entries: vec![
            expected("touch-fd"),
            Expectation {
                intermittent: Some("timing decides whether a file is left".into()),
                ..expected("crash-mid-acquire")
            },
        ],
    };
    let matrix = Matrix {
        seed: 0,
        scenarios: vec![
            ScenarioHead {
                id: "touch-fd".into(),
                level: "process",
            },
            ScenarioHead {
                id: "second-handle".into(),
                level: "process",
            },
            ScenarioHead {
                id: "shared-coexist".into(),
                level: "shared",
            },
            ScenarioHead {
                id: "crash-mid-acquire".into(),
                level: "crash",
            },
        ],
        implementations: vec![row(vec![
            Cell::judge(&result("touch-fd", fail()), old.get("touch-fd")),
            Cell::judge(&result("second-handle", fail()), None),
            Cell::judge(
                &result(
                    "shared-coexist",
                    Verdict::Skip {
                        reason: "no shared".into(),
                    },
                ),
                None,
            ),
            Cell::judge(
                &result("crash-mid-acquire", Verdict::Pass),
                old.get("crash-mid-acquire"),
            ),
        ])],
    };
    insta::assert_snapshot!("matrix_markdown", matrix_markdown(&matrix));
}
