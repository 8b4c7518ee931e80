//! lockcheck reports: run results turned into text for people and for programs.
//!
//! Architecture invariant: this crate only formats. It starts no process, reads no environment
//! variable and touches no file; callers pass what it needs (such as whether to use colour) and
//! write the strings it returns.
//!
//! One module per format, each a few plain functions: [`summary`] for the terminal, [`to_json`]
//! and [`from_json`] for `report.json`, [`junit`] for `junit.xml`, [`summary_markdown`] for
//! `summary.md` (`$GITHUB_STEP_SUMMARY`), [`report_html`] for `report.html`, [`Matrix`] with
//! [`matrix_markdown`] and [`matrix_html`] for `lockcheck matrix` (`reports/matrix.json`,
//! `.md` and `.html`), the `bench_*` functions and charts for `lockcheck bench`,
//! [`checklist`] for `lockcheck adapter-check`, and [`settled`] and [`interrupted`] for the
//! lines a run streams. [`transcript`] and [`Totals`] are shared by the formats;
//! [`reproducible`] makes a run render the same on every machine and every run.

mod adapter_check;
mod bench;
mod html;
mod json;
mod junit;
mod matrix;
mod progress;
mod reproducible;
mod schema;
mod summary_md;
mod terminal;
mod totals;
mod transcript;

pub use adapter_check::checklist;
pub use bench::{
    baseline_changes, bench_from_json, bench_markdown, bench_schema, bench_table, bench_to_json,
    format_value, handoff_svg, throughput_svg,
};
pub use html::{
    MAX_LANES, Rgb, RunContext, VIOLATION, matrix_html, report_html, timeline_file, timeline_href,
};
pub use json::{
    REPORT_VERSION, ReadError, ReadErrorKind, ReportDoc, TOOL_NAME, Tool, from_json, report_schema,
    to_json,
};
pub use junit::junit;
pub use matrix::{Cell, Matrix, Row, ScenarioHead, expectations_toml, matrix_markdown};
pub use progress::{interrupted, settled};
pub use reproducible::{PathPlaceholder, reproducible};
pub use summary_md::summary_markdown;
pub use terminal::{TerminalOptions, judgements, summary};
pub use totals::Totals;
pub use transcript::transcript;

use schema::schema_text;
