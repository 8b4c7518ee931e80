//! The checker: a scenario and the history of one run in, a verdict with evidence out.
//!
//! Soundness is the point. A `fail` must be a proof, never a suspicion, so every hold the
//! checker reasons about is an inner bound of the true hold: it starts when the runner *read*
//! the `ok` (the lock was granted before that) and ends when the runner *sent* the release or
//! the kill (the lock is dropped after that). Two such inner intervals that intersect prove
//! two holders at once, whatever the scheduling noise.
//!
//! The checker never panics and never returns an error: a history it cannot make sense of is
//! judged on what it can prove.

use std::collections::{HashMap, HashSet};

use lockcheck_protocol::{Mode, Op, Request, Response, Status};

use crate::history::{Event, EventKind, Fault, History, Observation};
use crate::scenario::{Expect, Outcome, Scenario};
use crate::verdict::{Finding, FindingKind, Interval, Verdict};

mod answers;
mod recovery;

pub use recovery::{MeasuredRecovery, measured_recovery};

/// At most this many findings of one kind are reported per history; a lock that is not a
/// lock at all fails churn thousands of times, and the first few say everything.
pub const MAX_FINDINGS_PER_KIND: usize = 20;

/// Combines the verdicts of a scenario's repetitions: fail beats broken beats skip beats
/// pass. The first verdict of the winning rank is kept whole, so its evidence still indexes
/// the history of the iteration it came from.
pub fn merge(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let rank = |v: &Verdict| match v {
        Verdict::Pass => 0,
        Verdict::Skip { .. } => 1,
        Verdict::Broken { .. } => 2,
        Verdict::Fail { .. } => 3,
    };
    let mut best = Verdict::Pass;
    for verdict in verdicts {
        if rank(&verdict) > rank(&best) {
            best = verdict;
        }
    }
    best
}

/// The holds the checker credits in one run of `scenario`, in the order they were granted:
/// the intervals it reasons about, for reports to draw.
pub fn credited_holds(scenario: &Scenario, history: &History) -> Vec<Interval> {
    let checker = Checker::new(scenario, history);
    checker
        .holds()
        .iter()
        .map(|h| checker.interval(h))
        .collect()
}

/// Judges one run of `scenario`.
pub fn check(scenario: &Scenario, history: &History) -> Verdict {
    let checker = Checker::new(scenario, history);
    let mut findings = Findings::default();
    // A misdeclared recovery first: it is the cause of any overlap a pause then shows.
    checker.recovery(&mut findings);
    checker.overlaps(&mut findings);
    let unsupported = checker.exchanges(&mut findings);
    checker.races(&mut findings);
    checker.observations(&mut findings);
    checker.liveness(&mut findings);
    checker.drop_follow_ons(&mut findings);
    if !findings.list.is_empty() {
        return Verdict::Fail {
            findings: findings.list,
        };
    }
    let broken = checker
        .order
        .iter()
        .find_map(|&i| match &history.events[i].kind {
            EventKind::Broken {
                participant,
                reason,
            } => Some((
                history.events[i].at_ns,
                Verdict::broken(participant.as_deref(), reason.clone()),
            )),
            _ => None,
        });
    match (broken, unsupported) {
        (Some((a, broken)), Some((b, _))) if a <= b => broken,
        (_, Some((_, broken))) => broken,
        (Some((_, broken)), None) => broken,
        (None, None) => Verdict::Pass,
    }
}

#[derive(Default)]
struct Findings {
    list: Vec<Finding>,
    per_kind: HashMap<&'static str, usize>,
}

impl Findings {
    fn push(&mut self, kind: FindingKind, step: Option<u32>, evidence: Vec<usize>) {
        let key = kind.check_name();
        let count = self.per_kind.entry(key).or_default();
        if *count >= MAX_FINDINGS_PER_KIND {
            return;
        }
        *count += 1;
        self.list.push(Finding::new(kind, step, evidence));
    }
}

/// A request and, if it came, its response.
struct Exchange<'h> {
    participant: &'h str,
    request: &'h Request,
    sent: usize,
    received: Option<usize>,
    step: Option<u32>,
    round: Option<u32>,
}

/// A proven hold under construction.
struct Hold {
    holder: String,
    mode: Mode,
    /// The acquire request's `Sent` event: the lock file was opened after this.
    requested: usize,
    from: usize,
    to: Option<usize>,
}

struct Checker<'s, 'h> {
    scenario: &'s Scenario,
    events: &'h [Event],
    /// Event indices sorted by time; ties keep recording order.
    order: Vec<usize>,
    exchanges: Vec<Exchange<'h>>,
    /// Exchange index of each `Received` event.
    answer_of: HashMap<usize, usize>,
}

impl<'s, 'h> Checker<'s, 'h> {
    fn new(scenario: &'s Scenario, history: &'h History) -> Self {
        let events = history.events.as_slice();
        let mut order: Vec<usize> = (0..events.len()).collect();
        order.sort_by_key(|&i| events[i].at_ns);

        let mut exchanges: Vec<Exchange<'h>> = Vec::new();
        let mut answer_of = HashMap::new();
        let mut pending: HashMap<(&'h str, u64), usize> = HashMap::new();
        for &i in &order {
            let event = &events[i];
            match &event.kind {
                EventKind::Sent {
                    participant,
                    request,
                } => {
                    pending.insert((participant.as_str(), request.id), exchanges.len());
                    exchanges.push(Exchange {
                        participant,
                        request,
                        sent: i,
                        received: None,
                        step: event.step,
                        round: event.round,
                    });
                }
                EventKind::Received {
                    participant,
                    response,
                } => {
                    if let Some(x) = pending.remove(&(participant.as_str(), response.id)) {
                        let exchange = &mut exchanges[x];
                        exchange.received = Some(i);
                        exchange.step = exchange.step.or(event.step);
                        exchange.round = exchange.round.or(event.round);
                        answer_of.insert(i, x);
                    }
                }
                _ => {}
            }
        }
        Checker {
            scenario,
            events,
            order,
            exchanges,
            answer_of,
        }
    }

    fn at(&self, event: usize) -> u64 {
        self.events[event].at_ns
    }

    fn response(&self, event: usize) -> Option<&'h Response> {
        match &self.events.get(event)?.kind {
            EventKind::Received { response, .. } => Some(response),
            _ => None,
        }
    }

    /// The runner's look at who had the lock file open, taken for step `index` after the
    /// response `received`: evidence for why an acquire was refused.
    fn open_by(&self, index: u32, received: usize) -> Option<usize> {
        self.order.iter().copied().find(|&i| {
            let event = &self.events[i];
            event.step == Some(index)
                && event.at_ns >= self.at(received)
                && matches!(
                    event.kind,
                    EventKind::Observed {
                        observation: Observation::OpenBy { .. }
                    }
                )
        })
    }

    /// Proven holds, in the order they started.
    fn holds(&self) -> Vec<Hold> {
        let mut holds: Vec<Hold> = Vec::new();
        let mut open: HashMap<String, usize> = HashMap::new();
        // Participants that can no longer take the lock: exited, killed, or asked to exit.
        let mut gone: HashSet<&'h str> = HashSet::new();
        // Participants whose end the runner caused (exit request, kill, term).
        let mut ended_on_purpose: HashSet<&'h str> = HashSet::new();
        // Per participant, the send of the latest request that was answered: the process was
        // alive and holding whatever it held when it read that request.
        let mut last_answered: HashMap<&'h str, usize> = HashMap::new();

        let close =
            |open: &mut HashMap<String, usize>, holds: &mut Vec<Hold>, holder: &str, at: usize| {
                if let Some(h) = open.remove(holder) {
                    holds[h].to = Some(at);
                }
            };

        for &i in &self.order {
            match &self.events[i].kind {
                EventKind::Sent {
                    participant,
                    request,
                } => {
                    let p = participant.as_str();
                    match request.op {
                        Op::Release => close(&mut open, &mut holds, p, i),
                        Op::ReleaseSecond => close(&mut open, &mut holds, &second(p), i),
                        Op::Exit => {
                            close(&mut open, &mut holds, p, i);
                            close(&mut open, &mut holds, &second(p), i);
                            gone.insert(p);
                            ended_on_purpose.insert(p);
                        }
                        _ => {}
                    }
                }
                EventKind::Received {
                    participant,
                    response,
                } => {
                    let p = participant.as_str();
                    let Some(&x) = self.answer_of.get(&i) else {
                        continue;
                    };
                    let exchange = &self.exchanges[x];
                    let newer = last_answered
                        .get(p)
                        .is_none_or(|&s| self.at(s) <= self.at(exchange.sent));
                    if newer {
                        last_answered.insert(p, exchange.sent);
                    }
                    if response.status != Status::Ok || gone.contains(p) {
                        continue;
                    }
                    let (holder, mode) = match &exchange.request.op {
                        Op::Acquire { mode, .. } => (p.to_owned(), *mode),
                        Op::SecondHandle { mode } => (second(p), *mode),
                        _ => continue,
                    };
                    if !open.contains_key(&holder) {
                        open.insert(holder.clone(), holds.len());
                        holds.push(Hold {
                            holder,
                            mode,
                            requested: exchange.sent,
                            from: i,
                            to: None,
                        });
                    }
                }
                EventKind::Fault {
                    participant: Some(p),
                    fault: Fault::Kill | Fault::Term,
                } => {
                    let p = p.as_str();
                    close(&mut open, &mut holds, p, i);
                    close(&mut open, &mut holds, &second(p), i);
                    gone.insert(p);
                    ended_on_purpose.insert(p);
                }
                EventKind::Exited { participant, .. }
                | EventKind::Broken {
                    participant: Some(participant),
                    ..
                } => {
                    let p = participant.as_str();
                    if !ended_on_purpose.contains(p) {
                        // Died on its own: held at least until it last read a request.
                        let end = last_answered.get(p).copied();
                        for holder in [p.to_owned(), second(p)] {
                            if let Some(h) = open.remove(&holder) {
                                holds[h].to = Some(end.unwrap_or(holds[h].from));
                            }
                        }
                    }
                    gone.insert(p);
                }
                _ => {}
            }
        }
        holds
    }

    fn interval(&self, hold: &Hold) -> Interval {
        Interval {
            holder: hold.holder.clone(),
            mode: hold.mode.as_str().to_owned(),
            from_ns: self.at(hold.from),
            to_ns: hold.to.map(|t| self.at(t)),
        }
    }

    /// Times at which the runner removed the lock file's name (unlink, symlink, directory
    /// removal). A holder that opened the lock file before such a moment may hold a file that
    /// no longer has the path's name, which nobody opening the path afterwards can see: an
    /// overlap between it and a holder that opened the path afterwards is the hazard of
    /// deleting a held lock file, not proof that the lock is broken. Overlaps between holders
    /// on the same side of every such moment still count.
    fn path_replacements(&self) -> Vec<u64> {
        self.order
            .iter()
            .filter(|&&i| {
                matches!(
                    self.events[i].kind,
                    EventKind::Fault {
                        fault: Fault::Unlink | Fault::Symlink | Fault::RemoveDir,
                        ..
                    }
                )
            })
            .map(|&i| self.at(i))
            .collect()
    }

    fn overlaps(&self, findings: &mut Findings) {
        let replaced = self.path_replacements();
        // The runner records such a fault before performing it and sends nothing meanwhile,
        // so a hold granted before the fault's time opened the old file, and one requested
        // after it opened the path after the removal. Anything else could be either.
        let same_file = |a: &Hold, b: &Hold, u: u64| {
            let granted_before = |h: &Hold| self.at(h.from) < u;
            let requested_after = |h: &Hold| self.at(h.requested) > u;
            (granted_before(a) && granted_before(b)) || (requested_after(a) && requested_after(b))
        };
        let separated = |a: &Hold, b: &Hold| replaced.iter().any(|&u| !same_file(a, b, u));
        let mut holds: Vec<(Interval, &Hold)> = Vec::new();
        let all = self.holds();
        for hold in &all {
            let interval = self.interval(hold);
            if interval.to_ns.is_none_or(|to| to > interval.from_ns) {
                holds.push((interval, hold));
            }
        }
        holds.sort_by_key(|(iv, _)| iv.from_ns);
        for (i, (first, a)) in holds.iter().enumerate() {
            for (second, b) in &holds[i + 1..] {
                if first.to_ns.is_some_and(|to| second.from_ns >= to) {
                    break;
                }
                if a.holder == b.holder
                    || (a.mode == Mode::Shared && b.mode == Mode::Shared)
                    || separated(a, b)
                {
                    continue;
                }
                // max(from) < min(to), spelled out rather than left to the sort and break.
                let start = first.from_ns.max(second.from_ns);
                let end = [first.to_ns, second.to_ns].into_iter().flatten().min();
                if end.is_some_and(|end| start >= end) {
                    continue;
                }
                let mut evidence = vec![a.from];
                evidence.extend(a.to);
                evidence.push(b.from);
                evidence.extend(b.to);
                let step = self.events[b.from].step;
                findings.push(
                    FindingKind::Overlap {
                        first: first.clone(),
                        second: second.clone(),
                    },
                    step,
                    evidence,
                );
            }
        }
    }
}

impl Checker<'_, '_> {
    /// Once two holders are proven, the scenario's script no longer describes the lock: an
    /// answer to a request sent after the second holder got the lock (its release refused, a
    /// reacquire answered `already held`, a holder report naming the other) is a consequence
    /// of the overlap, not a second cause. Those findings are dropped so the overlap leads
    /// alone; answers to requests sent before it are kept, and so is every proof in its own
    /// right (overlaps, race winners, lost wake-ups, file-system findings).
    fn drop_follow_ons(&self, findings: &mut Findings) {
        let broke = findings
            .list
            .iter()
            .filter_map(|f| match &f.kind {
                FindingKind::Overlap { first, second } => Some(first.from_ns.max(second.from_ns)),
                _ => None,
            })
            .min();
        let Some(broke) = broke else {
            return;
        };
        findings.list.retain(|f| {
            let answer = matches!(
                f.kind,
                FindingKind::Outcome { .. }
                    | FindingKind::Latency { .. }
                    | FindingKind::Holder { .. }
            );
            !answer || f.evidence.first().is_none_or(|&sent| self.at(sent) < broke)
        });
    }
}

fn second(participant: &str) -> String {
    format!("{participant}#2")
}

/// An expectation as scenario files write it: `ok`, `busy|timeout`, `error:not_held`.
pub fn render_expect(expect: &Expect) -> String {
    if expect.0.is_empty() {
        return "anything".to_owned();
    }
    expect
        .0
        .iter()
        .map(Outcome::to_string)
        .collect::<Vec<_>>()
        .join("|")
}

/// A response in the same vocabulary, with its message: `error:permission_denied (EACCES)`.
pub fn render_response(response: &Response) -> String {
    let mut text = response.status.as_str().to_owned();
    if let Some(kind) = response.kind {
        text.push(':');
        text.push_str(kind.as_str());
    }
    if let Some(message) = &response.message {
        text.push_str(&format!(" ({})", lockcheck_protocol::head(message, 200)));
    }
    text
}
