//! The committed JSON Schemas under `schema/` are what the types say. `LOCKCHECK_BLESS=1`
//! rewrites them.

use std::path::PathBuf;

/// Fails when `schema/NAME` differs from `fresh`; with `LOCKCHECK_BLESS=1`, writes it.
#[track_caller]
pub fn check_committed(name: &str, fresh: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    if std::env::var_os("LOCKCHECK_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: regenerate it with `LOCKCHECK_BLESS=1 cargo nextest run -p lockcheck-report`",
        path.display()
    );
}

/// `schema/report.schema.json` is the schema of `report.json`.
#[test]
fn report_schema_is_committed() {
    check_committed("report.schema.json", &lockcheck_report::report_schema());
}

/// The schema names what a reader needs: the version, a broken verdict's typed reason, and
/// the findings' checks.
#[test]
fn report_schema_describes_the_document() {
    let schema: serde_json::Value =
        serde_json::from_str(&lockcheck_report::report_schema()).unwrap();
    let text = schema.to_string();
    for needle in [
        "report_version",
        "BrokenReason",
        "\"hang\"",
        "\"overlap\"",
        "summary",
    ] {
        assert!(text.contains(needle), "no {needle} in the report schema");
    }
}
