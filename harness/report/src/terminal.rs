//! The summary printed at the end of `lockcheck run`.

use std::fmt::Write as _;

use lockcheck_model::{
    EventKind, Finding, FindingKind, History, Interval, Judgement, RunResult, ScenarioResult,
    Verdict,
};

use crate::transcript::{millis, transcript};
use crate::{Cell, Totals};

/// Most transcript lines shown per finding; the JSON report has the whole history.
const MAX_EVIDENCE_LINES: usize = 12;
/// Findings shown per failed scenario; a lock that locks nothing yields dozens, and the first
/// few say all a terminal reader needs. The JSON report has every one.
const MAX_FINDINGS_SHOWN: usize = 3;
/// Transcript lines shown from the end of a broken scenario's history.
const BROKEN_TAIL_LINES: usize = 6;

const INDENT: &str = "       ";
const DETAIL_INDENT: &str = "         ";

/// How to render the terminal summary. The caller decides, e.g. from `NO_COLOR` and whether
/// stdout is a terminal; this crate reads no environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalOptions {
    /// Use ANSI colours.
    pub color: bool,
}

/// The end-of-run summary: a header, one line per scenario labelled by its judgement in
/// `cells` (one per scenario, in the same order) with evidence under failures, and a totals
/// line. Every line ends with a newline.
pub fn summary(run: &RunResult, cells: &[Cell], opts: &TerminalOptions) -> String {
    let paint = Paint(opts.color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "lockcheck {}: {}, seed {}",
        run.manifest,
        implementation_line(run),
        run.seed
    );
    let names: Vec<String> = run.scenarios.iter().map(ScenarioResult::name).collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let times: Vec<String> = run
        .scenarios
        .iter()
        .map(|s| duration(s.duration_ms))
        .collect();
    let time_width = times.iter().map(String::len).max().unwrap_or(0);
    for (((scenario, cell), name), time) in run.scenarios.iter().zip(cells).zip(&names).zip(&times)
    {
        let (label, note) = verdict_label(scenario, cell.verdict, paint);
        let line = format!("{label} {name:<name_width$}  {time:>time_width$}  {note}");
        let _ = writeln!(out, "{}", line.trim_end());
        match &scenario.verdict {
            Verdict::Fail { findings } => fail_details(&mut out, scenario, findings, paint),
            Verdict::Broken { .. } => broken_details(&mut out, scenario, paint),
            Verdict::Pass | Verdict::Skip { .. } => {}
        }
    }
    let totals = Totals::of(run);
    let count = |n: usize, word: &str, color: &str| {
        let text = format!("{n} {word}");
        if n == 0 {
            text
        } else {
            paint.paint(color, &text)
        }
    };
    let _ = writeln!(
        out,
        "\n{}, {}, {}, {} in {}",
        count(totals.passed, "passed", GREEN),
        count(totals.failed, "failed", RED),
        count(totals.skipped, "skipped", YELLOW),
        count(totals.broken, "broken", MAGENTA),
        duration(run.duration_ms),
    );
    out
}

/// A scenario's judgement as a summary line starts it, painted and padded to one width, and
/// the note that follows the line: findings, or a skip's or broken verdict's reason.
pub(crate) fn verdict_label(
    scenario: &ScenarioResult,
    judgement: Judgement,
    paint: Paint,
) -> (String, String) {
    let (label, color) = label(judgement);
    let note = match &scenario.verdict {
        Verdict::Pass => String::new(),
        Verdict::Fail { findings } => {
            let mut note = plural(findings.len(), "finding");
            if let Some(history) = scenario
                .history
                .as_ref()
                .filter(|_| scenario.iterations > 1)
            {
                let _ = write!(note, " in iteration {}", history.iteration + 1);
            }
            note
        }
        Verdict::Skip { .. } | Verdict::Broken { .. } => reason(&scenario.verdict),
    };
    let padded = format!(
        "{}{}",
        paint.paint(color, label),
        " ".repeat(6 - label.len())
    );
    (padded, note)
}

/// `name version (language)` from the adapter's hello, or that it never said one.
pub(crate) fn implementation_line(run: &RunResult) -> String {
    match &run.implementation {
        Some(i) => format!("{} {} ({})", i.name, i.version, i.language),
        None => "implementation unknown (no hello)".to_owned(),
    }
}

/// A judgement's label and colour: the verdict's own, except that an expected failure is
/// `XFAIL` and a stale expectation `XPASS`; an intermittent one not shown passed.
fn label(judgement: Judgement) -> (&'static str, &'static str) {
    match judgement {
        Judgement::Pass | Judgement::XfailNotShown => ("PASS", GREEN),
        Judgement::Fail => ("FAIL", RED),
        Judgement::Xfail => ("XFAIL", YELLOW),
        Judgement::Xpass => ("XPASS", RED),
        Judgement::Skip => ("SKIP", YELLOW),
        Judgement::Broken => ("BROKEN", MAGENTA),
    }
}

fn fail_details(out: &mut String, scenario: &ScenarioResult, findings: &[Finding], paint: Paint) {
    let hidden_findings = findings.len().saturating_sub(MAX_FINDINGS_SHOWN);
    for finding in &findings[..findings.len() - hidden_findings] {
        let step = finding
            .step
            .map(|s| format!(" at step {s}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{INDENT}{}{step}: {}",
            paint.paint(BOLD, finding.kind.check_name()),
            finding.summary()
        );
        for line in finding_detail(&finding.kind) {
            let _ = writeln!(out, "{DETAIL_INDENT}{line}");
        }
        if finding.evidence.is_empty() {
            continue;
        }
        let Some(history) = &scenario.history else {
            let _ = writeln!(out, "{DETAIL_INDENT}(no history kept)");
            continue;
        };
        let shown = &finding.evidence[..finding.evidence.len().min(MAX_EVIDENCE_LINES)];
        for line in transcript(history, shown) {
            let _ = writeln!(out, "{DETAIL_INDENT}{}", paint.paint(DIM, &line));
        }
        let hidden = finding.evidence.len() - shown.len();
        if hidden > 0 {
            let _ = writeln!(
                out,
                "{DETAIL_INDENT}... {} not shown",
                plural(hidden, "event")
            );
        }
    }
    if hidden_findings > 0 {
        let _ = writeln!(
            out,
            "{INDENT}... and {} (every finding is in report.json)",
            plural(hidden_findings, "more finding")
        );
    }
    replay(out, scenario, paint);
}

fn broken_details(out: &mut String, scenario: &ScenarioResult, paint: Paint) {
    if let Some(history) = &scenario.history {
        let len = history.events.len();
        let mut shown: Vec<usize> = (len.saturating_sub(BROKEN_TAIL_LINES)..len).collect();
        // Why an adapter died is usually on its stderr, which 50 racers can push far out of
        // the tail: the culprit's last lines are shown wherever they are.
        shown.extend(culprit_stderr(history));
        shown.sort_unstable();
        shown.dedup();
        if !shown.is_empty() {
            let _ = writeln!(out, "{INDENT}last events:");
        }
        for line in transcript(history, &shown) {
            let _ = writeln!(out, "{DETAIL_INDENT}{}", paint.paint(DIM, &line));
        }
    }
    replay(out, scenario, paint);
}

/// Indices of the last stderr lines of the participant a broken history blames.
fn culprit_stderr(history: &History) -> Vec<usize> {
    let culprit = history.events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Broken {
            participant: Some(who),
            ..
        } => Some(who),
        _ => None,
    });
    let Some(culprit) = culprit else {
        return Vec::new();
    };
    let mut lines: Vec<usize> = history
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            matches!(&e.kind, EventKind::Stderr { participant, .. } if participant == culprit)
        })
        .map(|(i, _)| i)
        .collect();
    lines.drain(..lines.len().saturating_sub(BROKEN_TAIL_LINES));
    lines
}

fn replay(out: &mut String, scenario: &ScenarioResult, paint: Paint) {
    if !scenario.replay.is_empty() {
        let _ = writeln!(
            out,
            "{INDENT}replay: {}",
            paint.paint(BOLD, &scenario.replay)
        );
    }
}

/// The finding's own fields, in a line or two, so the evidence reads without the summary.
fn finding_detail(kind: &FindingKind) -> Vec<String> {
    match kind {
        FindingKind::Overlap { first, second } => {
            let width = first
                .holder
                .chars()
                .count()
                .max(second.holder.chars().count());
            vec![interval(first, width), interval(second, width)]
        }
        FindingKind::Outcome {
            participant,
            expected,
            got,
        } => vec![format!("{participant}: expected {expected}, got {got}")],
        FindingKind::Latency {
            participant,
            bound,
            measured_ms,
        } => vec![format!(
            "{participant}: took {measured_ms:.3} ms, bound {bound}"
        )],
        FindingKind::Winners {
            round,
            expected,
            got,
        } => vec![format!("round {round}: expected {expected}, got {got}")],
        FindingKind::Holder { expected, got } => {
            vec![format!("holder: expected {expected}, got {got}")]
        }
        FindingKind::Victim { detail } => vec![format!("victim: {detail}")],
        FindingKind::Liveness {
            participant,
            prober,
            waited_ms,
        } => vec![format!(
            "{participant}: waited {waited_ms} ms unanswered; {prober}: try got the lock"
        )],
        FindingKind::Recovery { measured_ms, .. } => vec![format!(
            "recovery: {measured_ms} ms from the killed holder's exit to the waiter's ok"
        )],
        FindingKind::FileSystem { detail } => vec![detail.clone()],
    }
}

fn interval(i: &Interval, width: usize) -> String {
    let to = match i.to_ns {
        Some(ns) => format!("{} ms", millis(ns)),
        None => "end of history".to_owned(),
    };
    format!(
        "{:<width$}  {}  held {} ms .. {to}",
        i.holder,
        i.mode,
        millis(i.from_ns)
    )
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `12 ms` below ten seconds, `12.3 s` above.
pub(crate) fn duration(ms: u64) -> String {
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        format!("{}.{} s", ms / 1_000, (ms % 1_000) / 100)
    }
}

pub(crate) const GREEN: &str = "32";
pub(crate) const RED: &str = "1;31";
pub(crate) const YELLOW: &str = "33";
const MAGENTA: &str = "1;35";
pub(crate) const BOLD: &str = "1";
pub(crate) const DIM: &str = "2";

/// Wraps text in an ANSI SGR sequence, or not.
#[derive(Clone, Copy)]
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    pub(crate) fn paint(self, sgr: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The scenarios whose judgement against the expectations file `source` is more than their
/// verdict (expected failures, stale expectations, failures by another check), one line
/// each, then the judgement counts; empty when nothing was expected of any scenario.
pub fn judgements(cells: &[Cell], source: &str) -> String {
    let mut out = String::new();
    let noted: Vec<&Cell> = cells
        .iter()
        .filter(|c| {
            c.expected
                && matches!(
                    c.verdict,
                    Judgement::Xfail
                        | Judgement::Xpass
                        | Judgement::XfailNotShown
                        | Judgement::Fail
                )
        })
        .collect();
    if noted.is_empty() {
        return out;
    }
    let _ = writeln!(out, "judged against {source}:");
    for c in noted {
        let _ = writeln!(
            out,
            "  {:<15} {}: {}",
            c.verdict.as_str(),
            c.scenario,
            c.evidence.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(out, "  {}", judgement_counts(cells).join(", "));
    out
}

/// `3 pass`, `1 xfail`, ...: how many cells have each judgement, in `Judgement::ALL`'s
/// order, leaving out those with none.
pub(crate) fn judgement_counts(cells: &[Cell]) -> Vec<String> {
    Judgement::ALL
        .into_iter()
        .filter_map(|j| {
            let n = cells.iter().filter(|c| c.verdict == j).count();
            (n > 0).then(|| format!("{n} {j}"))
        })
        .collect()
}

/// A skip's or broken verdict's reason.
fn reason(verdict: &Verdict) -> String {
    verdict.reason().unwrap_or_default()
}
