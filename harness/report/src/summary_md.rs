//! `summary.md`: a short Markdown summary of a run for `$GITHUB_STEP_SUMMARY`: the totals,
//! the scenarios that did not pass with their judgement and finding, and how to replay each
//! failure.

use std::fmt::Write as _;

use lockcheck_model::{Judgement, RunResult};

use crate::Cell;
use crate::matrix::escape;
use crate::terminal::{duration, implementation_line, judgement_counts};

/// The Markdown summary of `run`, whose scenarios were judged as `cells` (one per scenario,
/// in the same order).
pub fn summary_markdown(run: &RunResult, cells: &[Cell]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## lockcheck {}: {}, seed {}\n",
        run.manifest,
        implementation_line(run),
        run.seed
    );
    let counts = judgement_counts(cells);
    let counts = if counts.is_empty() {
        "no scenarios".to_owned()
    } else {
        counts.join(", ")
    };
    let _ = writeln!(out, "**{counts}** in {}\n", duration(run.duration_ms));

    let noted: Vec<(String, &Cell)> = run
        .scenarios
        .iter()
        .zip(cells)
        .filter(|(_, c)| c.verdict != Judgement::Pass)
        .map(|(s, c)| (s.name(), c))
        .collect();
    if noted.is_empty() {
        out.push_str("Every scenario passed.\n");
        return out;
    }
    out.push_str("| scenario | judgement | finding |\n|---|---|---|\n");
    for (name, c) in &noted {
        let judgement = match c.verdict {
            j if !j.is_accepted() => format!("**{j}**"),
            j => j.to_string(),
        };
        let _ = writeln!(
            out,
            "| `{name}` | {judgement} | {} |",
            escape(c.evidence.as_deref().unwrap_or(""))
        );
    }
    let replays: Vec<&str> = noted
        .iter()
        .filter(|(_, c)| !c.verdict.is_accepted() && !c.replay.is_empty())
        .map(|(_, c)| c.replay.as_str())
        .collect();
    if !replays.is_empty() {
        let _ = writeln!(
            out,
            "\nReplay each failure:\n\n```sh\n{}\n```",
            replays.join("\n")
        );
    }
    out
}
