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

use lockcheck_protocol::{ErrorKind, Mode, Op, Request, Response, Status};

use crate::history::{BrokenReason, Event, EventKind, Fault, History, Observation};
use crate::scenario::{Action, Bounds, Expect, Outcome, Scenario};
use crate::verdict::{Finding, FindingKind, Interval, Verdict};

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

/// Judges one run of `scenario`.
pub fn check(scenario: &Scenario, history: &History) -> Verdict {
    let checker = Checker::new(scenario, history);
    let mut findings = Findings::default();
    checker.overlaps(&mut findings);
    let unsupported = checker.exchanges(&mut findings);
    checker.races(&mut findings);
    checker.observations(&mut findings);
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
                describe_broken(participant.as_deref(), reason),
            )),
            _ => None,
        });
    match (broken, unsupported) {
        (Some((a, text)), Some((b, _))) if a <= b => Verdict::Broken { reason: text },
        (_, Some((_, text))) => Verdict::Broken { reason: text },
        (Some((_, text)), None) => Verdict::Broken { reason: text },
        (None, None) => Verdict::Pass,
    }
}

/// The sentence a `broken` verdict gives for a broken event.
pub fn describe_broken(participant: Option<&str>, reason: &BrokenReason) -> String {
    match participant {
        Some(p) => format!("participant {p}: {reason}"),
        None => reason.to_string(),
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
        self.list.push(Finding {
            summary: kind.to_string(),
            kind,
            step,
            evidence,
        });
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

    /// Outcome, latency, holder and thread-race checks on every answered request. Returns the
    /// first `unsupported` answer the scenario did not allow, as a broken reason.
    fn exchanges(&self, findings: &mut Findings) -> Option<(u64, String)> {
        let mut unsupported: Option<(u64, String)> = None;
        for exchange in &self.exchanges {
            let Some(received) = exchange.received else {
                continue;
            };
            let Some(response) = self.response(received) else {
                continue;
            };
            let Some(index) = exchange.step else {
                continue;
            };
            let Some(step) = self.scenario.steps.get(index as usize) else {
                continue;
            };
            let p = exchange.participant;
            let Some(expect) =
                self.expectation(index as usize, &step.action, &exchange.request.op, p)
            else {
                continue;
            };
            if !expect.accepts(response.status, response.kind) {
                if response.status == Status::Unsupported {
                    let at = self.at(received);
                    if unsupported.as_ref().is_none_or(|(t, _)| at < *t) {
                        let reason = BrokenReason::Unsupported {
                            op: exchange.request.op.name().to_owned(),
                        };
                        unsupported = Some((at, describe_broken(Some(p), &reason)));
                    }
                } else {
                    let mut evidence = vec![exchange.sent, received];
                    evidence.extend(self.open_by(index, received));
                    findings.push(
                        FindingKind::Outcome {
                            participant: p.to_owned(),
                            expected: render_expect(&expect),
                            got: render_response(response),
                        },
                        Some(index),
                        evidence,
                    );
                }
                continue;
            }
            match (&step.action, &exchange.request.op) {
                (Action::Acquire { bounds, .. }, Op::Acquire { .. }) => {
                    self.latency(findings, p, *bounds, exchange.sent, received, index);
                    if let Some(k) = self.await_step(index as usize, p)
                        && let Some(Action::Await { bounds, .. }) =
                            self.scenario.steps.get(k).map(|s| &s.action)
                        && let Some(reference) = self.first_of_step(k.checked_sub(1))
                    {
                        self.latency(findings, p, *bounds, reference, received, k as u32);
                    }
                }
                (Action::Holder { holder_is }, Op::Holder) if response.status == Status::Ok => {
                    self.holder(findings, holder_is.as_deref(), response, received, exchange);
                }
                (Action::ThreadRace { max_winners, .. }, Op::ThreadRace { .. }) => {
                    if let Some(got) = response.winners
                        && got > *max_winners
                    {
                        findings.push(
                            FindingKind::Winners {
                                round: exchange.round.unwrap_or(0),
                                expected: format!("at most {max_winners}"),
                                got,
                            },
                            Some(index),
                            vec![exchange.sent, received],
                        );
                    }
                }
                _ => {}
            }
        }
        unsupported
    }

    /// What a step accepts for a request it sent; `None` when the request is not one the step
    /// is known to send (nothing can be proven about it).
    fn expectation(&self, index: usize, action: &Action, op: &Op, p: &str) -> Option<Expect> {
        let any_of = |outcomes: &[Outcome]| Some(Expect(outcomes.to_vec()));
        match (action, op) {
            (
                Action::Acquire {
                    expect, background, ..
                },
                Op::Acquire { .. },
            ) => {
                if *background
                    && let Some(k) = self.await_step(index, p)
                    && let Some(Action::Await { expect, .. }) =
                        self.scenario.steps.get(k).map(|s| &s.action)
                {
                    return Some(expect.clone());
                }
                Some(expect.clone())
            }
            (Action::Release { expect }, Op::Release)
            | (Action::SecondHandle { expect, .. }, Op::SecondHandle { .. }) => {
                Some(expect.clone())
            }
            (Action::Race { .. }, Op::Acquire { .. }) => {
                any_of(&[Outcome::Ok, Outcome::Busy, Outcome::Timeout])
            }
            (Action::CrashAcquire { .. }, Op::Acquire { .. }) => {
                any_of(&[Outcome::Ok, Outcome::Busy])
            }
            (Action::Race { .. } | Action::Churn { .. }, Op::Release)
            | (Action::Churn { .. }, Op::Acquire { .. })
            | (Action::Holder { .. }, Op::Holder)
            | (Action::SpawnChild, Op::SpawnChild)
            | (Action::TouchFd, Op::TouchFd)
            | (Action::ThreadRace { .. }, Op::ThreadRace { .. })
            | (Action::Exit, Op::Exit) => any_of(&[Outcome::Ok]),
            (Action::ReleaseSecond, Op::ReleaseSecond) => {
                any_of(&[Outcome::Ok, Outcome::Error(Some(ErrorKind::NotHeld))])
            }
            _ => None,
        }
    }

    /// The first `await` after step `index` that collects `p`'s background acquire.
    fn await_step(&self, index: usize, p: &str) -> Option<usize> {
        let acquire = self.scenario.steps.get(index)?;
        if !matches!(
            acquire.action,
            Action::Acquire {
                background: true,
                ..
            }
        ) {
            return None;
        }
        self.scenario
            .steps
            .iter()
            .enumerate()
            .skip(index + 1)
            .find(|(_, s)| {
                matches!(s.action, Action::Await { .. })
                    && s.who
                        .as_deref()
                        .is_some_and(|w| self.scenario.resolve(w).iter().any(|m| m == p))
            })
            .map(|(k, _)| k)
    }

    /// The first request sent or fault injected by step `index`.
    fn first_of_step(&self, index: Option<usize>) -> Option<usize> {
        let index = u32::try_from(index?).ok()?;
        self.order.iter().copied().find(|&i| {
            self.events[i].step == Some(index)
                && matches!(
                    self.events[i].kind,
                    EventKind::Sent { .. } | EventKind::Fault { .. }
                )
        })
    }

    fn latency(
        &self,
        findings: &mut Findings,
        p: &str,
        bounds: Bounds,
        from: usize,
        to: usize,
        step: u32,
    ) {
        let measured_ns = self.at(to).saturating_sub(self.at(from));
        let measured_ms = measured_ns as f64 / 1e6;
        let mut push = |bound: String| {
            findings.push(
                FindingKind::Latency {
                    participant: p.to_owned(),
                    bound,
                    measured_ms,
                },
                Some(step),
                vec![from, to],
            );
        };
        if let Some(min) = bounds.min_ms
            && measured_ns < min.saturating_mul(1_000_000)
        {
            push(format!(">= {min} ms"));
        }
        if let Some(within) = bounds.within_ms
            && measured_ns > within.saturating_mul(1_000_000)
        {
            push(format!("<= {within} ms"));
        }
    }

    fn holder(
        &self,
        findings: &mut Findings,
        holder_is: Option<&str>,
        response: &Response,
        received: usize,
        exchange: &Exchange<'_>,
    ) {
        let got_pid = response.holder.as_ref().and_then(|h| h.pid);
        let at = self.at(received);
        let (ok, expected) = match holder_is {
            Some(name) => match self.pid_of(name, at) {
                Some(pid) => (got_pid == Some(pid), format!("{name} (pid {pid})")),
                // Without the holder's pid nothing can be proven.
                None => return,
            },
            None => (got_pid.is_none(), "nobody".to_owned()),
        };
        if ok {
            return;
        }
        let got = match (got_pid, &response.holder) {
            (Some(pid), _) => match self.name_of(pid, at) {
                Some(name) => format!("pid {pid} ({name})"),
                None => format!("pid {pid}"),
            },
            (None, Some(_)) => "a holder without a pid".to_owned(),
            (None, None) => "nobody".to_owned(),
        };
        findings.push(
            FindingKind::Holder { expected, got },
            exchange.step,
            vec![exchange.sent, received],
        );
    }

    /// The pid of the latest `Spawned` of `name` at or before `at`.
    fn pid_of(&self, name: &str, at: u64) -> Option<u32> {
        self.spawned(at)
            .filter(|(p, _)| *p == name)
            .last()
            .map(|(_, pid)| pid)
    }

    fn name_of(&self, pid: u32, at: u64) -> Option<&'h str> {
        self.spawned(at)
            .filter(|(_, q)| *q == pid)
            .last()
            .map(|(p, _)| p)
    }

    fn spawned(&self, at: u64) -> impl Iterator<Item = (&'h str, u32)> + '_ {
        self.order
            .iter()
            .map(|&i| &self.events[i])
            .take_while(move |e| e.at_ns <= at)
            .filter_map(|e| match &e.kind {
                EventKind::Spawned { participant, pid } => Some((participant.as_str(), *pid)),
                _ => None,
            })
    }

    /// Exactly one winner per race round. More is always a proof; none only counts once every
    /// contender of the round has answered.
    fn races(&self, findings: &mut Findings) {
        struct Round {
            winners: u32,
            unanswered: bool,
            evidence: Vec<usize>,
        }
        let mut rounds: Vec<((u32, u32), Round)> = Vec::new();
        for exchange in &self.exchanges {
            let (Some(index), Op::Acquire { .. }) = (exchange.step, &exchange.request.op) else {
                continue;
            };
            let is_race = self
                .scenario
                .steps
                .get(index as usize)
                .is_some_and(|s| matches!(s.action, Action::Race { .. }));
            if !is_race {
                continue;
            }
            let key = (index, exchange.round.unwrap_or(0));
            let position = match rounds.iter().position(|(k, _)| *k == key) {
                Some(pos) => pos,
                None => {
                    rounds.push((
                        key,
                        Round {
                            winners: 0,
                            unanswered: false,
                            evidence: Vec::new(),
                        },
                    ));
                    rounds.len() - 1
                }
            };
            let round = &mut rounds[position].1;
            match exchange
                .received
                .and_then(|r| self.response(r).map(|resp| (r, resp)))
            {
                Some((r, resp)) if resp.status == Status::Ok => {
                    round.winners += 1;
                    round.evidence.push(r);
                }
                Some(_) => {}
                None => round.unanswered = true,
            }
        }
        for ((step, round), r) in rounds {
            if r.winners > 1 || (r.winners == 0 && !r.unanswered) {
                findings.push(
                    FindingKind::Winners {
                        round,
                        expected: "exactly 1".to_owned(),
                        got: r.winners,
                    },
                    Some(step),
                    r.evidence,
                );
            }
        }
    }

    fn observations(&self, findings: &mut Findings) {
        for &i in &self.order {
            let EventKind::Observed { observation } = &self.events[i].kind else {
                continue;
            };
            let step = self.events[i].step;
            match observation {
                Observation::Victim {
                    unchanged: false,
                    detail,
                } => findings.push(
                    FindingKind::Victim {
                        detail: detail
                            .clone()
                            .unwrap_or_else(|| "its contents changed".to_owned()),
                    },
                    step,
                    vec![i],
                ),
                Observation::LockPath {
                    file_type,
                    mode: Some(mode),
                } if file_type == "file" || file_type == "directory" => {
                    let forbid = step
                        .and_then(|s| self.scenario.steps.get(s as usize))
                        .and_then(|s| match s.action {
                            Action::CheckMode { forbid } => Some(forbid),
                            _ => None,
                        });
                    if let Some(forbid) = forbid
                        && mode & forbid != 0
                    {
                        findings.push(
                            FindingKind::FileSystem {
                                detail: format!(
                                    "the lock {file_type} was created with mode {mode:04o}, \
                                     which has the forbidden bits {:04o}",
                                    mode & forbid
                                ),
                            },
                            step,
                            vec![i],
                        );
                    }
                }
                Observation::Leftovers { paths } if !paths.is_empty() => findings.push(
                    FindingKind::FileSystem {
                        detail: format!("left behind: {}", paths.join(", ")),
                    },
                    step,
                    vec![i],
                ),
                _ => {}
            }
        }
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
        .map(|o| match o {
            Outcome::Ok => "ok".to_owned(),
            Outcome::Busy => "busy".to_owned(),
            Outcome::Timeout => "timeout".to_owned(),
            Outcome::Unsupported => "unsupported".to_owned(),
            Outcome::Error(None) => "error".to_owned(),
            Outcome::Error(Some(kind)) => format!("error:{}", kind.as_str()),
        })
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
