//! `report.json`: the whole run, versioned, for programs.

use lockcheck_model::RunResult;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Totals;

/// Version of the `report.json` document (2: a broken verdict carries its participant and a
/// typed reason; a finding's summary is derived from its kind). Bump it when a field changes
/// meaning or goes away; readers reject versions they do not know.
pub const REPORT_VERSION: u32 = 2;

/// The tool name recorded in reports.
pub const TOOL_NAME: &str = "lockcheck";

/// A `report.json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportDoc {
    /// Always [`REPORT_VERSION`] for documents this crate writes or accepts.
    pub report_version: u32,
    /// What wrote the report.
    pub tool: Tool,
    /// Everything the run produced.
    pub run: RunResult,
    /// Verdict counts, so that readers need not recount.
    pub totals: Totals,
}

/// The program that wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    /// [`TOOL_NAME`].
    pub name: String,
    /// lockcheck's version.
    pub version: String,
}

impl Tool {
    /// This build of lockcheck.
    pub fn current() -> Tool {
        Tool {
            name: TOOL_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The borrowed twin of [`ReportDoc`], so that writing a report does not copy the run.
#[derive(Serialize)]
struct ReportDocRef<'a> {
    report_version: u32,
    tool: Tool,
    run: &'a RunResult,
    totals: Totals,
}

/// The `report.json` document for `run`: pretty-printed JSON ending with a newline.
pub fn to_json(run: &RunResult) -> String {
    let doc = ReportDocRef {
        report_version: REPORT_VERSION,
        tool: Tool::current(),
        run,
        totals: Totals::of(run),
    };
    // Serialising plain data structs with string keys cannot fail.
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of [`to_json`]'s output, committed as `schema/report.schema.json`.
pub fn report_schema() -> String {
    crate::schema_text(schemars::schema_for!(ReportDoc))
}

/// Why a `report.json` could not be read.
#[derive(Debug)]
pub struct ReadError {
    kind: ReadErrorKind,
}

/// What kind of problem a [`ReadError`] is.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// The text is not a JSON object.
    NotJson(serde_json::Error),
    /// There is no integer `report_version`.
    MissingVersion,
    /// The document is of a version this build does not read.
    UnsupportedVersion {
        /// The version the document declares.
        found: u64,
    },
    /// The version is right but the document does not match it.
    Invalid(serde_json::Error),
}

impl ReadError {
    /// What went wrong.
    pub fn kind(&self) -> &ReadErrorKind {
        &self.kind
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ReadErrorKind::NotJson(e) => write!(f, "report is not a JSON object: {e}"),
            ReadErrorKind::MissingVersion => {
                f.write_str("report has no integer `report_version`; is it a lockcheck report?")
            }
            ReadErrorKind::UnsupportedVersion { found } => write!(
                f,
                "report_version {found} is not supported: this lockcheck reads version \
                 {REPORT_VERSION} (rerun the suite, or use the lockcheck that wrote it)"
            ),
            ReadErrorKind::Invalid(e) => {
                write!(f, "report version {REPORT_VERSION} is invalid: {e}")
            }
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ReadErrorKind::NotJson(e) | ReadErrorKind::Invalid(e) => Some(e),
            ReadErrorKind::MissingVersion | ReadErrorKind::UnsupportedVersion { .. } => None,
        }
    }
}

/// Reads a `report.json`. The version is checked first, so that a document from another
/// version is reported as such rather than as a confusing missing field.
pub fn from_json(text: &str) -> Result<ReportDoc, ReadError> {
    let fail = |kind| ReadError { kind };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| fail(ReadErrorKind::NotJson(e)))?;
    let version = value
        .get("report_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| fail(ReadErrorKind::MissingVersion))?;
    if version != u64::from(REPORT_VERSION) {
        return Err(fail(ReadErrorKind::UnsupportedVersion { found: version }));
    }
    serde_json::from_value(value).map_err(|e| fail(ReadErrorKind::Invalid(e)))
}
