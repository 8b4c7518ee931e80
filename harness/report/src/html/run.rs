//! `report.html`: a header (who was tested, with what, where and when, the totals and the
//! replay command), then one section per scenario with its timeline and findings: failures
//! first and open, passes collapsed.

use lockcheck_model::bench::Machine;
use lockcheck_model::{Judgement, RunResult, ScenarioResult, Verdict};
use maud::{Markup, html};

use lockcheck_protocol::Status;

use super::page::page;
use super::palette::status_colour;
use super::timeline::timeline;
use crate::transcript::transcript;
use crate::{Cell, Tool};

/// Most evidence lines shown per finding; `report.json` has every event.
const MAX_EVIDENCE_LINES: usize = 40;

/// What the page says that the run's results do not: when and where it ran, and how to rerun
/// it. The caller finds these out; this crate reads no clock and no machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunContext {
    /// When the run was made, as the caller writes it (e.g. `2026-12-02 17:30 UTC`).
    pub date: String,
    /// The machine, with the file system of the directory the lock files were made in.
    pub machine: Machine,
    /// The command that reruns the whole run.
    pub replay: String,
}

/// The order sections appear in, and whether a section starts open: what needs reading first.
fn rank(judgement: Judgement) -> (u8, bool) {
    match judgement {
        Judgement::Fail => (0, true),
        Judgement::Xpass => (1, true),
        Judgement::Broken => (2, true),
        Judgement::Xfail => (3, true),
        Judgement::XfailNotShown => (4, false),
        Judgement::Skip => (5, false),
        Judgement::Pass => (6, false),
    }
}

/// `report.html` for `run`, whose scenarios `cells` judge (one cell per scenario, in the
/// same order, as [`Cell::judge`] makes them).
pub fn report_html(run: &RunResult, cells: &[Cell], context: &RunContext) -> String {
    let mut order: Vec<(&ScenarioResult, &Cell)> = run.scenarios.iter().zip(cells).collect();
    order.sort_by_key(|(_, cell)| rank(cell.verdict).0);
    let who = match &run.implementation {
        Some(i) => format!("{} {} ({})", i.name, i.version, i.language),
        None => format!("{} (no hello)", run.manifest),
    };
    let body = html! {
        h1 { "lockcheck: " (who) }
        (header(run, cells, context))
        h2 { "Scenarios" }
        p.legend {
            "Each timeline has a lane per participant. Bars are the holds the checker credits (from the "
            "acquire's answer to the release's request); holds it proves overlapping are red, over a band "
            "marking the overlap. Ticks above a lane's line are requests, below it answers, coloured by "
            "status (" (status_legend()) "). × is a SIGKILL, a dashed box a SIGSTOP until its SIGCONT, a "
            "circle an exit, a diamond on the runner's lane a file-system fault or observation. Hover any "
            "mark for its exact time."
        }
        @for (result, cell) in order {
            (section(result, cell))
        }
    };
    page(&format!("lockcheck: {who}"), body)
}

fn status_legend() -> Markup {
    html! {
        @for (i, status) in Status::ALL.iter().enumerate() {
            @if i > 0 { ", " }
            span style={ "color: " (status_colour(*status)) } { (status.as_str()) }
        }
    }
}

fn header(run: &RunResult, cells: &[Cell], context: &RunContext) -> Markup {
    let m = &context.machine;
    html! {
        dl.meta {
            dt { "manifest" } dd { (run.manifest) }
            dt { "lockcheck" } dd { (Tool::current().version) }
            dt { "seed" } dd { (run.seed) }
            dt { "date" } dd { (context.date) }
            dt { "OS" } dd { (m.os) ", kernel " (m.kernel) }
            dt { "CPUs" } dd { (m.cpus) " × " (m.cpu) }
            dt { "lock directory" } dd { (m.lock_fs) }
            dt { "duration" } dd { (run.duration_ms) " ms" }
            dt { "totals" } dd.totals {
                (crate::terminal::plural(cells.len(), "scenario")) ":"
                @for judgement in Judgement::ALL {
                    @let n = cells.iter().filter(|c| c.verdict == judgement).count();
                    @if n > 0 {
                        " " span class={ "badge j-" (judgement.as_str()) } { (n) " " (judgement.as_str()) }
                    }
                }
            }
            dt { "replay" } dd { code { (context.replay) } }
        }
    }
}

fn section(result: &ScenarioResult, cell: &Cell) -> Markup {
    let judgement = cell.verdict.as_str();
    html! {
        section.scenario id=(result.scenario) data-judgement=(judgement) {
            details open[rank(cell.verdict).1] {
                summary {
                    span class={ "badge j-" (judgement) } { (judgement) }
                    " " span.name { (result.level.as_str()) "::" (result.scenario) }
                    " " span.duration { (result.duration_ms) " ms" }
                    @if let Some(note) = &cell.evidence {
                        " " span.note { "— " (note) }
                    }
                }
                (timeline(result))
                (verdict_details(result))
                @if !result.replay.is_empty() {
                    p.replay { "replay: " code { (result.replay) } }
                }
            }
        }
    }
}

/// The findings with their evidence, or why the scenario was skipped or broken.
fn verdict_details(result: &ScenarioResult) -> Markup {
    match &result.verdict {
        Verdict::Pass => html! {},
        Verdict::Skip { .. } | Verdict::Broken { .. } => html! {
            p.reason { (result.verdict.reason().unwrap_or_default()) }
        },
        Verdict::Fail { findings } => html! {
            div.findings {
                @for finding in findings {
                    div class={ "finding check-" (finding.kind.check_name()) } {
                        p {
                            span.check { (finding.kind.check_name()) }
                            @if let Some(step) = finding.step { " at step " (step) }
                            ": " (finding.summary())
                        }
                        @if let Some(history) = &result.history {
                            @let shown = &finding.evidence[..finding.evidence.len().min(MAX_EVIDENCE_LINES)];
                            @if !shown.is_empty() {
                                pre.evidence { @for line in transcript(history, shown) { (line) "\n" } }
                            }
                            @if shown.len() < finding.evidence.len() {
                                p.no-history {
                                    (finding.evidence.len() - shown.len()) " more events; report.json has them"
                                }
                            }
                        }
                    }
                }
            }
        },
    }
}
