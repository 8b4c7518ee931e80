//! The cross-implementation matrix written by `lockcheck matrix`: its serialisable shape
//! (`reports/matrix.json`), the Markdown table (`reports/matrix.md`), and the expectations file
//! a run implies.

use std::collections::BTreeMap;

use lockcheck_model::{Expectation, Expectations, Judgement, ScenarioResult, Verdict};
use serde::Serialize;

/// The whole matrix: every implementation × every scenario of one run.
#[derive(Debug, Serialize)]
pub struct Matrix {
    /// The seed every row ran with.
    pub seed: u64,
    /// The scenarios, in catalogue order: the rows of the Markdown verdict table.
    pub scenarios: Vec<ScenarioHead>,
    /// One row per implementation, reflock first.
    pub implementations: Vec<Row>,
}

/// A scenario as the matrix names it.
#[derive(Debug, Serialize)]
pub struct ScenarioHead {
    /// The scenario id.
    pub id: String,
    /// Its level (`core`, `crash`, ...).
    pub level: &'static str,
}

/// One implementation's row.
#[derive(Debug, Serialize)]
pub struct Row {
    /// The implementation's name from its manifest (`reflock` for the built-in one).
    pub name: String,
    /// `name version (language)` from the adapter's hello, when it said hello.
    pub implementation: Option<String>,
    /// The manifest, relative to the project root (`None` for the built-in reflock).
    pub manifest: Option<String>,
    /// The manifest's description.
    pub description: Option<String>,
    /// `ready`, `unavailable` or `setup_failed`.
    pub setup: &'static str,
    /// How long set-up took.
    pub setup_ms: u64,
    /// How long the scenarios took.
    pub run_ms: u64,
    /// Why the row has no results, when it has none.
    pub note: Option<String>,
    /// One cell per scenario.
    pub cells: Vec<Cell>,
}

/// One implementation × scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The scenario id.
    pub scenario: String,
    /// The judgement of the verdict against the implementation's expectations
    /// ([`Judgement`] says the rule).
    pub verdict: Judgement,
    /// One line: the first finding, the skip reason, or the expectation's reason.
    pub evidence: Option<String>,
    /// The expectation's upstream link, if any.
    pub link: Option<String>,
    /// The command that replays this scenario.
    pub replay: String,
    /// The checks that fired, in finding order (what a regenerated expectation names).
    #[serde(skip)]
    pub checks: Vec<&'static str>,
    /// Whether the expectations file lists the scenario.
    #[serde(skip)]
    pub expected: bool,
}

impl Cell {
    /// Judges one scenario's verdict against the implementation's expectation for it, if it
    /// has one, with the evidence a reader needs for that judgement.
    pub fn judge(result: &ScenarioResult, expected: Option<&Expectation>) -> Cell {
        let verdict = Judgement::of(&result.verdict, expected);
        let first = match &result.verdict {
            Verdict::Fail { findings } => findings.first().map(|f| first_line(f.summary())),
            _ => None,
        };
        let evidence = match (verdict.explain(&result.verdict, expected), &result.verdict) {
            (Some(why), _) if verdict == Judgement::Fail => {
                Some(format!("{why}: {}", first.unwrap_or("")))
            }
            (Some(why), _) => Some(why),
            (None, Verdict::Fail { .. }) => first.map(str::to_owned),
            (None, Verdict::Skip { .. } | Verdict::Broken { .. }) => {
                result.verdict.reason().map(|r| first_line(&r).to_owned())
            }
            (None, Verdict::Pass) => None,
        };
        Cell {
            scenario: result.scenario.clone(),
            verdict,
            evidence,
            link: expected.and_then(|e| e.link.clone()),
            replay: result.replay.clone(),
            checks: lockcheck_model::fired_checks(&result.verdict),
            expected: expected.is_some(),
        }
    }
}

/// The expectations file a run implies: every failing scenario, keeping the entries that still
/// fail by their check, and a FIXME with the evidence and the first check that fired for new
/// ones (and for entries whose check no longer fires, keeping their link).
pub fn expectations_toml(row: &Row, old: &Expectations) -> String {
    let entries = row
        .cells
        .iter()
        .filter(|c| {
            matches!(
                c.verdict,
                Judgement::Fail | Judgement::Xfail | Judgement::XfailNotShown
            )
        })
        .map(|c| match old.get(&c.scenario) {
            Some(e) if c.verdict != Judgement::Fail => e.clone(),
            kept => Expectation {
                scenario: c.scenario.clone(),
                check: c.checks.first().copied().unwrap_or_default().to_owned(),
                reason: format!(
                    "FIXME: confirm in the library's source or docs, then explain: {}",
                    c.evidence.as_deref().unwrap_or("failed")
                ),
                link: kept.and_then(|e| e.link.clone()),
                intermittent: None,
            },
        })
        .collect();
    let header = format!(
        "# Scenarios `{}` is known to fail, with the reason and the upstream link where one exists.\n\
         # Regenerate with `lockcheck matrix --write-expectations`, then review every FIXME.\n\n",
        row.name
    );
    header + &Expectations { entries }.to_toml()
}

/// `reports/matrix.md`: the implementations, a scenario × implementation verdict table, and
/// the evidence for every cell that is not a pass or a skip.
pub fn matrix_markdown(matrix: &Matrix) -> String {
    let mut out = String::from(
        "# lockcheck: the cross-implementation matrix\n\n\
         Generated by `lockcheck matrix` (regenerate with that command from the repository root).\n\
         Each cell is one scenario's verdict against one implementation: `pass`; **FAIL**, a\n\
         failure nobody expected; `xfail`, a known failure listed with its reason in\n\
         `fixtures/expectations/`; **XPASS**, a listed failure that passed (a stale\n\
         expectation); `xfail_not_shown`, a listed failure that shows only in some runs\n\
         (its entry says why) and did not show in this one; `skip`, the implementation does\n\
         not declare what the scenario needs;\n\
         **BROKEN**, the adapter or harness misbehaved.\n\n",
    );
    out.push_str("## Implementations\n\n| implementation | version | setup | description |\n|---|---|---|---|\n");
    for row in &matrix.implementations {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.name,
            row.implementation.as_deref().unwrap_or("-"),
            match row.setup {
                "ready" => "ready".to_owned(),
                other => format!(
                    "{other}: {}",
                    escape(first_line(row.note.as_deref().unwrap_or("")))
                ),
            },
            escape(row.description.as_deref().unwrap_or("")),
        ));
    }
    // Implementations as columns keeps the table narrow enough to read.
    out.push_str("\n## Verdicts\n\n| scenario |");
    for row in &matrix.implementations {
        out.push_str(&format!(" {} |", row.name));
    }
    out.push_str("\n|---|");
    for _ in &matrix.implementations {
        out.push_str("---|");
    }
    out.push('\n');
    for head in &matrix.scenarios {
        out.push_str(&format!("| {}::{} |", head.level, head.id));
        for row in &matrix.implementations {
            let verdict = row
                .cells
                .iter()
                .find(|c| c.scenario == head.id)
                .map_or("-", |c| match c.verdict {
                    Judgement::Fail => "**FAIL**",
                    Judgement::Xpass => "**XPASS**",
                    Judgement::Broken => "**BROKEN**",
                    other => other.as_str(),
                });
            out.push_str(&format!(" {verdict} |"));
        }
        out.push('\n');
    }
    out.push_str("\n## Evidence\n\nEvery cell that is not a pass or a skip, with its reason or first finding and a replay command.\n\n");
    let mut by_impl: BTreeMap<usize, Vec<&Cell>> = BTreeMap::new();
    for (i, row) in matrix.implementations.iter().enumerate() {
        for c in &row.cells {
            if !matches!(c.verdict, Judgement::Pass | Judgement::Skip) {
                by_impl.entry(i).or_default().push(c);
            }
        }
    }
    if by_impl.is_empty() {
        out.push_str("Nothing failed.\n");
    }
    for (i, cells) in by_impl {
        let row = &matrix.implementations[i];
        out.push_str(&format!("### {}\n\n", row.name));
        for c in cells {
            out.push_str(&format!(
                "- `{}` {}: {}{}\n  replay: `{}`\n",
                c.scenario,
                c.verdict,
                escape(c.evidence.as_deref().unwrap_or("")),
                c.link
                    .as_deref()
                    .map(|l| format!(" ([upstream]({l}))"))
                    .unwrap_or_default(),
                c.replay
            ));
        }
        out.push('\n');
    }
    out
}

/// A Markdown table cell's text: a `|` would end the cell.
pub(crate) fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests;
