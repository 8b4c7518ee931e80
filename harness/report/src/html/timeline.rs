//! One scenario's timeline as inline SVG: a lane per participant (and one for the runner's own
//! faults and observations), the credited holds as bars, each request and answer as a tick
//! coloured by its status, faults as markers, and a violation's overlapping holds in
//! [`VIOLATION`](super::palette::VIOLATION) over a band marking their overlap. Every mark's
//! `<title>` gives its exact times, so hovering it shows them.

use std::collections::HashSet;
use std::fmt::Write as _;

use lockcheck_model::{EventKind, Fault, FindingKind, History, Interval, ScenarioResult, Verdict};
use lockcheck_protocol::Status;
use maud::{Markup, Render, html};

use crate::transcript::{millis, transcript};

/// More participants than this are drawn as one summary lane (holds, faults and the
/// violation, without ticks), with every lane behind a `<details>`.
pub const MAX_LANES: usize = 12;
/// Most request and answer ticks drawn per timeline: a timeline is drawn up to the time of
/// the first one past it (and to the end of any violation). A churn failure has tens of
/// thousands, and the first ones show the pattern; `report.json` has every event.
const MAX_TICKS: usize = 1_000;

const GUTTER: f64 = 120.0;
const PLOT_WIDTH: f64 = 760.0;
const RIGHT_MARGIN: f64 = 20.0;
const TOP: f64 = 6.0;
const LANE_HEIGHT: f64 = 26.0;
const AXIS_HEIGHT: f64 = 24.0;
const LABEL_CHARS: usize = 15;
const RUNNER_LANE: &str = "runner";

/// The timeline of `result`'s kept history, or a line saying why there is none.
pub fn timeline(result: &ScenarioResult) -> Markup {
    let Some(history) = &result.history else {
        let why = match &result.verdict {
            Verdict::Skip { .. } => "not run: the scenario was skipped",
            _ => "history not kept",
        };
        return html! { div.timeline { p.no-history { (why) } } };
    };
    let marks = Marks::of(result, history);
    let lanes = Lanes::of(history, &result.holds);
    if lanes.participants.len() <= MAX_LANES {
        return html! { div.timeline { (svg(&marks, &lanes, &Lanes::full, true)) (cut_note(&marks)) } };
    }
    let summary = Lanes {
        participants: vec![format!("{} participants", lanes.participants.len())],
        runner: lanes.runner,
    };
    html! {
        div.timeline {
            (svg(&marks, &summary, &|_: &Lanes, _: &str| Some(0), false))
            details.lanes {
                summary { "every lane (" (lanes.participants.len()) " participants)" }
                (svg(&marks, &lanes, &Lanes::full, true))
            }
            (cut_note(&marks))
        }
    }
}

/// The lanes of a timeline: participants in the order they first appear, then the runner's
/// when it did something of its own.
struct Lanes {
    participants: Vec<String>,
    runner: bool,
}

/// Which participant lane a participant or holder name is drawn on.
type LaneOf<'a> = dyn Fn(&Lanes, &str) -> Option<usize> + 'a;

impl Lanes {
    fn of(history: &History, holds: &[Interval]) -> Lanes {
        let mut participants: Vec<String> = Vec::new();
        let mut runner = false;
        for event in &history.events {
            let who = match &event.kind {
                EventKind::Spawned { participant, .. }
                | EventKind::Hello { participant, .. }
                | EventKind::Sent { participant, .. }
                | EventKind::Received { participant, .. }
                | EventKind::Exited { participant, .. } => Some(participant),
                EventKind::Fault {
                    participant: Some(participant),
                    ..
                } => Some(participant),
                EventKind::Fault {
                    participant: None, ..
                }
                | EventKind::Observed { .. } => {
                    runner = true;
                    None
                }
                EventKind::Stderr { .. } | EventKind::Broken { .. } => None,
            };
            if let Some(who) = who
                && !participants.contains(who)
            {
                participants.push(who.clone());
            }
        }
        let mut lanes = Lanes {
            participants,
            runner,
        };
        for hold in holds {
            if lanes.full(&hold.holder).is_none() {
                lanes.participants.push(hold.holder.clone());
            }
        }
        lanes
    }

    /// The lane of `who`: a participant's own, which its second handles (`a#2`) and threads
    /// (`a/t1`) share.
    fn full(&self, who: &str) -> Option<usize> {
        self.participants.iter().position(|p| {
            who == p
                || who
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with('#') || rest.starts_with('/'))
        })
    }

    fn count(&self) -> usize {
        self.participants.len() + usize::from(self.runner)
    }

    fn runner_lane(&self) -> usize {
        self.participants.len()
    }
}

/// What a timeline draws, read once from the result and its history.
struct Marks<'r> {
    /// The span drawn: from just before the first request or fault (spawning and hellos
    /// are not drawn, and can take most of a short scenario) to the last event or hold end.
    start_ns: u64,
    end_ns: u64,
    holds: Vec<&'r Interval>,
    /// The intervals of every overlap finding, pairwise.
    overlaps: Vec<(&'r Interval, &'r Interval)>,
    ticks: Vec<Tick<'r>>,
    /// When the timeline stops short of the history's end, for too many ticks: that time,
    /// and how many events after it are not drawn.
    cut: Option<(u64, usize)>,
    pauses: Vec<Pause<'r>>,
    signals: Vec<Signal<'r>>,
    runner: Vec<RunnerMark>,
    /// Each mark's `<title>`: the event's transcript line, by event index.
    lines: Vec<String>,
}

struct Tick<'r> {
    who: &'r str,
    at_ns: u64,
    event: usize,
    /// The answer's status; `None` for a request.
    status: Option<Status>,
    evidence: bool,
}

struct Pause<'r> {
    who: &'r str,
    from_ns: u64,
    /// When it was continued; `None` when it never was.
    to_ns: Option<u64>,
}

enum SignalKind {
    Kill,
    Term,
    Exit,
}

struct Signal<'r> {
    who: &'r str,
    at_ns: u64,
    kind: SignalKind,
    event: usize,
}

struct RunnerMark {
    at_ns: u64,
    event: usize,
    fault: bool,
}

impl<'r> Marks<'r> {
    fn of(result: &'r ScenarioResult, history: &'r History) -> Marks<'r> {
        let findings = match &result.verdict {
            Verdict::Fail { findings } => findings.as_slice(),
            _ => &[],
        };
        let overlaps: Vec<(&Interval, &Interval)> = findings
            .iter()
            .filter_map(|f| match &f.kind {
                FindingKind::Overlap { first, second } => Some((first, second)),
                _ => None,
            })
            .collect();
        let evidence: HashSet<usize> = findings
            .iter()
            .flat_map(|f| f.evidence.iter().copied())
            .collect();
        let mut marks = Marks {
            start_ns: 0,
            end_ns: 1,
            holds: result.holds.iter().collect(),
            overlaps,
            ticks: Vec::new(),
            cut: None,
            pauses: Vec::new(),
            signals: Vec::new(),
            runner: Vec::new(),
            lines: Vec::new(),
        };
        let cutoff = history
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Sent { .. } | EventKind::Received { .. }))
            .nth(MAX_TICKS)
            .map(|e| e.at_ns);
        for (index, event) in history.events.iter().enumerate() {
            if let Some(cutoff) = cutoff.filter(|&c| event.at_ns >= c) {
                marks.cut = Some((cutoff, history.events.len() - index));
                break;
            }
            marks.end_ns = marks.end_ns.max(event.at_ns);
            let at_ns = event.at_ns;
            let tick = |who: &'r str, status| Tick {
                who,
                at_ns,
                event: index,
                status,
                evidence: evidence.contains(&index),
            };
            match &event.kind {
                EventKind::Sent { participant, .. } => marks.ticks.push(tick(participant, None)),
                EventKind::Received {
                    participant,
                    response,
                } => marks.ticks.push(tick(participant, Some(response.status))),
                EventKind::Fault {
                    participant: Some(who),
                    fault,
                } => match fault {
                    Fault::Stop => marks.pauses.push(Pause {
                        who,
                        from_ns: at_ns,
                        to_ns: None,
                    }),
                    Fault::Cont => {
                        if let Some(pause) = marks
                            .pauses
                            .iter_mut()
                            .rev()
                            .find(|p| p.who == who && p.to_ns.is_none())
                        {
                            pause.to_ns = Some(at_ns);
                        }
                    }
                    Fault::Kill => marks.signal(who, at_ns, SignalKind::Kill, index),
                    Fault::Term => marks.signal(who, at_ns, SignalKind::Term, index),
                    _ => marks.runner.push(RunnerMark {
                        at_ns,
                        event: index,
                        fault: true,
                    }),
                },
                EventKind::Exited { participant, .. } => {
                    marks.signal(participant, at_ns, SignalKind::Exit, index);
                }
                EventKind::Fault {
                    participant: None, ..
                } => marks.runner.push(RunnerMark {
                    at_ns,
                    event: index,
                    fault: true,
                }),
                EventKind::Observed { .. } => marks.runner.push(RunnerMark {
                    at_ns,
                    event: index,
                    fault: false,
                }),
                EventKind::Spawned { .. }
                | EventKind::Hello { .. }
                | EventKind::Stderr { .. }
                | EventKind::Broken { .. } => {}
            }
        }
        if let Some((cutoff, _)) = marks.cut {
            marks.holds.retain(|h| h.from_ns < cutoff);
        }
        let violations = marks.overlaps.iter().flat_map(|(a, b)| [*a, *b]);
        for hold in marks.holds.iter().copied().chain(violations) {
            marks.end_ns = marks.end_ns.max(hold.to_ns.unwrap_or(hold.from_ns));
        }
        let first = history
            .events
            .iter()
            .find(|e| matches!(e.kind, EventKind::Sent { .. } | EventKind::Fault { .. }))
            .map_or(0, |e| e.at_ns);
        let first = result.holds.iter().map(|h| h.from_ns).fold(first, u64::min);
        marks.start_ns = first.saturating_sub((marks.end_ns - first) / 50);
        marks.end_ns = marks.end_ns.max(marks.start_ns + 1);
        let all: Vec<usize> = (0..history.events.len()).collect();
        marks.lines = transcript(history, &all);
        marks
    }

    fn signal(&mut self, who: &'r str, at_ns: u64, kind: SignalKind, event: usize) {
        self.signals.push(Signal {
            who,
            at_ns,
            kind,
            event,
        });
    }

    fn x(&self, ns: u64) -> f64 {
        let offset = ns.saturating_sub(self.start_ns) as f64;
        GUTTER + offset / (self.end_ns - self.start_ns) as f64 * PLOT_WIDTH
    }

    fn title(&self, event: usize) -> &str {
        self.lines.get(event).map_or("", |line| line.trim_start())
    }
}

/// A hold's hover text: who, the mode, and its exact start and end.
fn hold_title(hold: &Interval, violation: bool) -> String {
    let to = hold.to_ns.map_or_else(
        || "the end of the run".to_owned(),
        |ns| format!("+{}ms", millis(ns)),
    );
    let what = if violation {
        "overlapping hold"
    } else {
        "credited hold"
    };
    format!(
        "{what}: {} ({}) from +{}ms to {to}",
        hold.holder,
        hold.mode,
        millis(hold.from_ns)
    )
}

fn label(name: &str) -> String {
    if name.chars().count() <= LABEL_CHARS {
        return name.to_owned();
    }
    let head: String = name.chars().take(LABEL_CHARS - 1).collect();
    format!("{head}…")
}

/// A round step for an axis spanning `end_ns`: 1, 2 or 5 times a power of ten, giving at most
/// ten ticks.
fn axis_step(end_ns: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for factor in [1, 2, 5] {
            let candidate = step * factor;
            if end_ns / candidate <= 10 {
                return candidate;
            }
        }
        step *= 10;
    }
}

/// An axis label: the time in milliseconds, with the decimals the step needs.
fn axis_label(ns: u64, step: u64) -> String {
    let decimals = (0..=6)
        .find(|&d| step.is_multiple_of(10u64.pow(6 - d)))
        .unwrap_or(6) as usize;
    format!("{:.decimals$} ms", ns as f64 / 1e6)
}

/// Where the timeline stops short of the history, if it does.
fn cut_note(marks: &Marks<'_>) -> Markup {
    let Some((cutoff, left_out)) = marks.cut else {
        return html! {};
    };
    html! {
        p.no-history {
            "Drawn up to +" (millis(cutoff)) "ms (and any violation): the " (left_out)
            " events after it are not; report.json has every event."
        }
    }
}

/// The timeline's SVG with `lanes`, each mark on the lane `lane_of` gives it; request and
/// answer `ticks` only when asked (on a summary lane they would be a smear).
fn svg(marks: &Marks<'_>, lanes: &Lanes, lane_of: &LaneOf<'_>, ticks: bool) -> Markup {
    let height = TOP + lanes.count() as f64 * LANE_HEIGHT + AXIS_HEIGHT;
    let width = GUTTER + PLOT_WIDTH + RIGHT_MARGIN;
    let lane_y = |lane: usize| TOP + lane as f64 * LANE_HEIGHT;
    let at = |who: &str| lane_of(lanes, who).map(lane_y);
    let axis_y = TOP + lanes.count() as f64 * LANE_HEIGHT;
    let step = axis_step(marks.end_ns - marks.start_ns);
    let first_tick = marks.start_ns.div_ceil(step) * step;
    let violations: Vec<&Interval> = marks.overlaps.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let mut names: Vec<&str> = lanes.participants.iter().map(String::as_str).collect();
    if lanes.runner {
        names.push(RUNNER_LANE);
    }
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(px(width)) height=(px(height))
            viewBox={ "0 0 " (width) " " (height) } role="img" {
            @for (lane, name) in names.iter().enumerate() {
                @let y = lane_y(lane) + LANE_HEIGHT / 2.0;
                text.lane-label x="4" y=(px(y + 4.0)) { title { (name) } (label(name)) }
                line.lane-line x1=(px(GUTTER)) x2=(px(GUTTER + PLOT_WIDTH)) y1=(px(y)) y2=(px(y)) {}
            }
            @for (first, second) in &marks.overlaps {
                @if let (Some(a), Some(b)) = (at(&first.holder), at(&second.holder)) {
                    @let from = first.from_ns.max(second.from_ns);
                    @let to = match (first.to_ns, second.to_ns) {
                        (Some(a), Some(b)) => a.min(b),
                        (a, b) => a.or(b).unwrap_or(marks.end_ns),
                    };
                    rect.overlap-band x=(px(marks.x(from))) y=(px(a.min(b)))
                        width=(px((marks.x(to) - marks.x(from)).max(2.0)))
                        height=(px((a - b).abs() + LANE_HEIGHT)) {
                        title { "two holders at once from +" (millis(from)) "ms to +" (millis(to)) "ms" }
                    }
                }
            }
            @for pause in &marks.pauses {
                @if let Some(y) = at(pause.who) {
                    @let to = pause.to_ns.unwrap_or(marks.end_ns);
                    rect.paused x=(px(marks.x(pause.from_ns))) y=(px(y + 1.0))
                        width=(px((marks.x(to) - marks.x(pause.from_ns)).max(2.0))) height=(px(LANE_HEIGHT - 2.0)) {
                        title {
                            (pause.who) " stopped (SIGSTOP) at +" (millis(pause.from_ns)) "ms, "
                            @match pause.to_ns {
                                Some(to) => { "continued (SIGCONT) at +" (millis(to)) "ms" }
                                None => { "never continued" }
                            }
                        }
                    }
                }
            }
            @for hold in marks.holds.iter().filter(|h| !violations.contains(h)) {
                (bar(marks, hold, at(&hold.holder), "hold"))
            }
            @for hold in &violations {
                (bar(marks, hold, at(&hold.holder), "violation"))
            }
            @for tick in marks.ticks.iter().filter(|_| ticks) {
                @if let Some(y) = at(tick.who) {
                    @let x = marks.x(tick.at_ns);
                    @let (y1, y2) = match tick.status {
                        None => (y + 3.0, y + LANE_HEIGHT / 2.0),
                        Some(_) => (y + LANE_HEIGHT / 2.0, y + LANE_HEIGHT - 3.0),
                    };
                    line class={
                        @match tick.status {
                            None => "request",
                            Some(status) => { "status-" (status.as_str()) },
                        }
                        @if tick.evidence { " evidence" }
                    }
                        x1=(px(x)) x2=(px(x)) y1=(px(y1)) y2=(px(y2)) {
                        title { (marks.title(tick.event)) }
                    }
                }
            }
            @for signal in &marks.signals {
                @if let Some(y) = at(signal.who) {
                    @let x = marks.x(signal.at_ns);
                    @let mid = y + LANE_HEIGHT / 2.0;
                    @match signal.kind {
                        SignalKind::Kill => path.kill d={
                            "M" (px(x - 5.0)) " " (px(mid - 5.0)) " L" (px(x + 5.0)) " " (px(mid + 5.0))
                            " M" (px(x - 5.0)) " " (px(mid + 5.0)) " L" (px(x + 5.0)) " " (px(mid - 5.0))
                        } { title { "SIGKILL: " (marks.title(signal.event)) } },
                        SignalKind::Term => path.term d={
                            "M" (px(x)) " " (px(mid - 6.0)) " L" (px(x)) " " (px(mid + 6.0))
                        } { title { "SIGTERM: " (marks.title(signal.event)) } },
                        SignalKind::Exit => circle.exit cx=(px(x)) cy=(px(mid)) r="3" {
                            title { (marks.title(signal.event)) }
                        },
                    }
                }
            }
            @if lanes.runner {
                @let mid = lane_y(lanes.runner_lane()) + LANE_HEIGHT / 2.0;
                @for mark in &marks.runner {
                    @let x = marks.x(mark.at_ns);
                    path class=(if mark.fault { "runner-fault" } else { "observation" }) d={
                        "M" (px(x)) " " (px(mid - 5.0)) " L" (px(x + 5.0)) " " (px(mid)) " L" (px(x)) " " (px(mid + 5.0))
                        " L" (px(x - 5.0)) " " (px(mid)) " Z"
                    } { title { (marks.title(mark.event)) } }
                }
            }
            line.axis x1=(px(GUTTER)) x2=(px(GUTTER + PLOT_WIDTH)) y1=(px(axis_y)) y2=(px(axis_y)) {}
            @for t in (first_tick..=marks.end_ns).step_by(step as usize) {
                line.axis x1=(px(marks.x(t))) x2=(px(marks.x(t))) y1=(px(axis_y)) y2=(px(axis_y + 4.0)) {}
                text.axis-label x=(px(marks.x(t))) y=(px(axis_y + 16.0)) text-anchor="middle" {
                    (axis_label(t, step))
                }
            }
        }
    }
}

/// A coordinate, to a tenth of a pixel.
struct Px(f64);

impl Render for Px {
    fn render_to(&self, buffer: &mut String) {
        let _ = write!(buffer, "{:.1}", self.0);
    }
}

fn px(value: f64) -> Px {
    Px(value)
}

fn bar(marks: &Marks<'_>, hold: &Interval, y: Option<f64>, class: &str) -> Markup {
    let Some(y) = y else {
        return html! {};
    };
    let to = hold.to_ns.unwrap_or(marks.end_ns);
    let x = marks.x(hold.from_ns);
    html! {
        rect class=(class) x=(px(x)) y=(px(y + 6.0)) width=(px((marks.x(to) - x).max(2.0)))
            height=(px(LANE_HEIGHT - 12.0)) {
            title { (hold_title(hold, class == "violation")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round_and_give_at_most_ten_ticks() {
        assert_eq!(axis_step(9), 1);
        assert_eq!(axis_step(15), 2);
        assert_eq!(axis_step(45), 5);
        assert_eq!(axis_step(100), 10);
        assert_eq!(axis_step(23_000_000), 5_000_000);
    }

    #[test]
    fn axis_labels_have_the_decimals_of_their_step() {
        assert_eq!(axis_label(8_000_000, 1_000_000), "8 ms");
        assert_eq!(axis_label(8_200_000, 100_000), "8.2 ms");
        assert_eq!(axis_label(8_250_000, 50_000), "8.25 ms");
        assert_eq!(axis_label(1_500, 500), "0.0015 ms");
    }
}
