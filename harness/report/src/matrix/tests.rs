//! The matrix: cells judged against expectations, regenerated expectations, and the Markdown
//! table.

use lockcheck_model::{
    Expectation, Expectations, Finding, FindingKind, Level, ScenarioResult, Verdict,
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
    }
}

#[test]
fn cells_are_judged_against_expectations() {
    let e = expected("touch-fd");
    assert_eq!(
        Cell::judge(&result("a", Verdict::Pass), None).verdict,
        "pass"
    );
    assert_eq!(
        Cell::judge(&result("touch-fd", Verdict::Pass), Some(&e)).verdict,
        "xpass"
    );
    assert_eq!(
        Cell::judge(&result("touch-fd", fail()), Some(&e)).verdict,
        "xfail"
    );
    let other_check = Expectation {
        check: "overlap".to_owned(),
        ..e.clone()
    };
    let wrong = Cell::judge(&result("touch-fd", fail()), Some(&other_check));
    assert_eq!(
        (wrong.verdict, wrong.evidence.as_deref()),
        (
            "fail",
            Some(
                "expected to fail by the `overlap` check, but the `overlap` check did not fire; `outcome` did: b got `ok`, expected `busy`"
            )
        )
    );
    let unexpected = Cell::judge(&result("a", fail()), None);
    assert_eq!(
        (unexpected.verdict, unexpected.evidence.as_deref()),
        ("fail", Some("b got `ok`, expected `busy`"))
    );
    let skip = Verdict::Skip {
        reason: "missing capabilities: shared".into(),
    };
    assert_eq!(Cell::judge(&result("a", skip), None).verdict, "skip");
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
        entries: vec![expected("touch-fd")],
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
        ])],
    };
    insta::assert_snapshot!("matrix_markdown", matrix_markdown(&matrix));
}
