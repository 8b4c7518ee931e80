//! `report.json`: the written document, and reading it back.

use lockcheck_report::{
    REPORT_VERSION, ReadError, ReadErrorKind, TOOL_NAME, Totals, from_json, to_json,
};

use crate::fixture;

/// The tool version changes with every release; the snapshot should not.
fn redact_tool_version(text: &str) -> String {
    let needle = format!(
        "\"name\": \"{TOOL_NAME}\",\n    \"version\": \"{}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&needle), "no tool version in\n{text}");
    text.replace(
        &needle,
        &format!("\"name\": \"{TOOL_NAME}\",\n    \"version\": \"[version]\""),
    )
}

#[test]
fn document() {
    insta::assert_snapshot!(redact_tool_version(&to_json(&fixture::run())));
}

#[test]
fn reads_back_what_it_writes() {
    let run = fixture::run();
    let doc = from_json(&to_json(&run)).unwrap();
    assert_eq!(doc.report_version, REPORT_VERSION);
    assert_eq!(doc.tool.name, "lockcheck");
    assert_eq!(doc.tool.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc.totals,
        Totals {
            passed: 1,
            failed: 4,
            skipped: 1,
            broken: 1,
            total: 7
        }
    );
    assert_eq!(doc.run, run);
}

#[test]
fn top_level_keys() {
    let value: serde_json::Value = serde_json::from_str(&to_json(&fixture::run())).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec!["report_version", "tool", "run", "totals"];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(value["report_version"], 2);
}

#[track_caller]
fn check_rejected(text: &str, message: &str) -> ReadError {
    let err = from_json(text).expect_err(text);
    assert_eq!(err.to_string(), message);
    err
}

#[test]
fn rejects_other_versions_first() {
    // A version-3 document fails on its version, not on whatever field it no longer has;
    // so does a version-1 document, whose broken reasons were text.
    for found in [3, 1, 0] {
        let err = check_rejected(
            &format!(r#"{{"report_version": {found}, "something": "new"}}"#),
            &format!(
                "report_version {found} is not supported: this lockcheck reads version 2 \
                 (rerun the suite, or use the lockcheck that wrote it)"
            ),
        );
        assert!(matches!(
            err.kind(),
            ReadErrorKind::UnsupportedVersion { found: f } if *f == found
        ));
    }
}

#[test]
fn rejects_documents_without_a_version() {
    for text in [r#"{"run": {}}"#, r#"{"report_version": "1"}"#, "[1]"] {
        let err = check_rejected(
            text,
            "report has no integer `report_version`; is it a lockcheck report?",
        );
        assert!(matches!(err.kind(), ReadErrorKind::MissingVersion));
    }
}

#[test]
fn rejects_garbage_and_invalid_documents() {
    let err = from_json("<html>").unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::NotJson(_)), "{err}");
    let err = from_json(r#"{"report_version": 2, "tool": {"name": "lockcheck"}}"#).unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::Invalid(_)), "{err}");
    assert!(
        err.to_string().starts_with("report version 2 is invalid: "),
        "{err}"
    );
}

/// A finding's summary is derived from its kind: one edited in the JSON is not believed.
#[test]
fn a_summary_read_back_is_derived_again() {
    let run = fixture::run();
    let text = to_json(&run);
    let real = "\"summary\": \"round 1 had 2 winners, expected exactly 1\"";
    assert!(text.contains(real), "{text}");
    let forged = text.replace(real, "\"summary\": \"all fine\"");
    assert_eq!(from_json(&forged).unwrap().run, run);
}
