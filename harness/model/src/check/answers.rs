//! The checks on answers: each response against its step's expectation and latency bounds,
//! holder reports, thread races and the runner's own observations.

use lockcheck_protocol::{ErrorKind, Op, Response, Status, Wait};

use super::{Checker, Exchange, Findings, render_expect, render_response};
use crate::history::{BrokenReason, EventKind, Observation};
use crate::scenario::{Action, Bounds, Expect, Outcome};
use crate::verdict::{FindingKind, Verdict};

impl<'h> Checker<'_, 'h> {
    /// Outcome, latency, holder and thread-race checks on every answered request. Returns the
    /// first `unsupported` answer the scenario did not allow, as a broken verdict.
    pub(super) fn exchanges(&self, findings: &mut Findings) -> Option<(u64, Verdict)> {
        let mut unsupported: Option<(u64, Verdict)> = None;
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
                        unsupported = Some((at, Verdict::broken(Some(p), reason)));
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
                // Another participant's `try` in a waiting step is the runner's probe for a
                // lost wake-up (see `liveness`), not the step's own request.
                let member = self.scenario.steps[index]
                    .who
                    .as_deref()
                    .is_none_or(|w| self.scenario.resolve(w).iter().any(|m| m == p));
                if !member {
                    return None;
                }
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
    pub(super) fn races(&self, findings: &mut Findings) {
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

    pub(super) fn observations(&self, findings: &mut Findings) {
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

    /// Lost wake-ups. When a waiting acquire goes unanswered for the runner's whole budget,
    /// the runner asks another participant, one with nothing outstanding, to `try` the lock
    /// as part of the same step. If that `try` gets the lock while the waiter's acquire is
    /// still unanswered, and the prober held nothing when it asked, the lock was free and the
    /// waiter was never told: a liveness failure, not a hung adapter.
    pub(super) fn liveness(&self, findings: &mut Findings) {
        let holds = self.holds();
        let held_by = |p: &str, at: u64| {
            holds.iter().any(|h| {
                h.holder == p && self.at(h.from) <= at && h.to.is_none_or(|to| self.at(to) > at)
            })
        };
        for probe in &self.exchanges {
            let (
                Some(index),
                Op::Acquire {
                    wait: Wait::Try, ..
                },
                Some(received),
            ) = (probe.step, &probe.request.op, probe.received)
            else {
                continue;
            };
            let Some(step) = self.scenario.steps.get(index as usize) else {
                continue;
            };
            let waits = matches!(step.action, Action::Await { .. } | Action::Acquire { .. });
            let members = step
                .who
                .as_deref()
                .map(|w| self.scenario.resolve(w))
                .unwrap_or_default();
            if !waits
                || members.iter().any(|m| m == probe.participant)
                || self
                    .response(received)
                    .is_none_or(|r| r.status != Status::Ok)
                || held_by(probe.participant, self.at(probe.sent))
            {
                continue;
            }
            let answered_after =
                |x: &Exchange<'_>| x.received.is_none_or(|r| self.at(r) > self.at(received));
            let waiter = self.exchanges.iter().find(|x| {
                members.iter().any(|m| m == x.participant)
                    && matches!(x.request.op, Op::Acquire { wait, .. } if wait != Wait::Try)
                    && self.at(x.sent) < self.at(probe.sent)
                    && answered_after(x)
            });
            if let Some(waiter) = waiter {
                findings.push(
                    FindingKind::Liveness {
                        participant: waiter.participant.to_owned(),
                        prober: probe.participant.to_owned(),
                        waited_ms: (self.at(probe.sent) - self.at(waiter.sent)) / 1_000_000,
                    },
                    Some(index),
                    vec![waiter.sent, probe.sent, received],
                );
            }
        }
    }
}
