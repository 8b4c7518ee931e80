//! `matrix.html`: scenarios × implementations, each cell coloured by its judgement, each
//! failure linking to its timeline in the implementation's page under `timelines/`.

use lockcheck_model::Judgement;
use maud::html;

use super::page::page;
use crate::{Cell, Matrix, Row};

/// Where `matrix.html` expects the timelines of `implementation`'s failures, relative to it:
/// a `report.html` of those scenarios, one section (`#scenario-id`) each.
pub fn timeline_file(implementation: &str) -> String {
    format!("timelines/{implementation}.html")
}

/// The link from `cell` to its timeline: for the verdicts whose history a run keeps (a
/// failure, expected or not, and a broken run) of an implementation that ran.
pub fn timeline_href(row: &Row, cell: &Cell) -> Option<String> {
    let kept = matches!(
        cell.verdict,
        Judgement::Fail | Judgement::Xfail | Judgement::Broken
    );
    (kept && row.setup == "ready")
        .then(|| format!("{}#{}", timeline_file(&row.name), cell.scenario))
}

/// `matrix.html` for `matrix`.
pub fn matrix_html(matrix: &Matrix) -> String {
    let body = html! {
        h1 { "lockcheck: the cross-implementation matrix" }
        p {
            "Seed " (matrix.seed) ". Each cell is one scenario's verdict against one implementation, judged against its expectations; "
            "a failure links to its timeline. Hover a cell for its evidence."
        }
        p.legend {
            @for judgement in Judgement::ALL {
                span class={ "badge j-" (judgement.as_str()) } { (judgement.as_str()) } " "
            }
        }
        table.matrix {
            thead {
                tr {
                    th { "scenario" }
                    @for row in &matrix.implementations {
                        th title=(row.implementation.as_deref().unwrap_or(row.setup)) { (row.name) }
                    }
                }
            }
            tbody {
                @for head in &matrix.scenarios {
                    tr {
                        th.scenario { (head.level) "::" (head.id) }
                        @for row in &matrix.implementations {
                            @match row.cells.iter().find(|c| c.scenario == head.id) {
                                None => td { "-" },
                                Some(cell) => {
                                    @let judgement = cell.verdict.as_str();
                                    td class={ "j-" (judgement) }
                                        title=(cell.evidence.as_deref().unwrap_or(judgement)) {
                                        @match timeline_href(row, cell) {
                                            Some(href) => a href=(href) { (judgement) },
                                            None => (judgement),
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("lockcheck: the cross-implementation matrix", body)
}
