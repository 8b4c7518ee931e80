//! The HTML pages: `report.html` for one run ([`report_html`]), `matrix.html` for the
//! cross-implementation matrix ([`matrix_html`]), each self-contained (inline CSS and SVG, no
//! script, nothing fetched), so that it opens from a CI artifact offline.

mod matrix;
mod page;
mod palette;
mod run;
mod timeline;

pub use matrix::{matrix_html, timeline_file, timeline_href};
pub use palette::{Rgb, VIOLATION};
pub use run::{RunContext, report_html};
pub use timeline::MAX_LANES;
