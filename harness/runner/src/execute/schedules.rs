//! Steps that pace several participants against each other: races with jittered starts,
//! kills in the middle of an acquire, and acquire-hold-release churn.

use std::time::{Duration, Instant};

use lockcheck_model::{BrokenReason, RaceEnd, Step, WaitSpec};
use lockcheck_protocol::{Mode, Op, Status, Wait};

use super::timing::{wait_limit, wait_until};
use super::{Broken, Iteration, State, StepResult};

/// How long before a timed race's first start its requests go out, plus a little per racer:
/// long enough for a debug-built runner to write 50 requests and their adapters to read them.
const TIMED_LEAD: Duration = Duration::from_millis(1);
const TIMED_LEAD_PER_RACER: Duration = Duration::from_micros(40);

/// A race step's settings.
#[derive(Debug, Clone, Copy)]
pub(super) struct RaceSettings {
    /// Rounds at most; a round with two winners ends the step.
    pub rounds: u32,
    /// How each try waits for the lock.
    pub wait: WaitSpec,
    /// How long the winners hold once every member has answered.
    pub hold: Duration,
    /// Each member tries at its own random moment within this of a common start.
    pub jitter: Duration,
    /// What happens to the winners after the hold.
    pub end: RaceEnd,
}

impl Iteration<'_> {
    /// Every member tries, each after its own random delay within `jitter`; the winners hold
    /// until all have answered, then release or are killed. Killed winners leave the race.
    /// The step ends early after a round with more than one winner.
    pub(super) fn race(&mut self, step: &Step, index: u32, race: &RaceSettings) -> StepResult {
        let RaceSettings {
            rounds,
            wait,
            hold,
            jitter,
            end,
        } = *race;
        let (wait, timeout_ms) = wait.resolve(self.recovery, self.scenario.recovery_slack_ms);
        let limit = wait_limit(wait, timeout_ms, self.opts.request_timeout);
        let mut members = self.members(step)?;
        // Winners killed by an earlier race are out of the running.
        members.retain(|&who| self.parts[who].state != State::Gone);
        let op = Op::Acquire {
            mode: Mode::Exclusive,
            wait,
            timeout_ms,
        };
        for round in 0..rounds {
            let (ids, last_due) = self.send_jittered(&mut members, &op, index, round, jitter)?;
            let deadline = last_due + limit;
            let mut winners = Vec::new();
            for (&who, &id) in members.iter().zip(&ids) {
                if self.await_one(who, id, deadline)?.status == Status::Ok {
                    winners.push(who);
                }
            }
            self.pause(hold)?;
            match end {
                RaceEnd::Release => {
                    let ids = self.send_all(&winners, &Op::Release, index, Some(round))?;
                    self.await_all(&winners, &ids, Instant::now() + self.opts.request_timeout)?;
                }
                RaceEnd::Kill => {
                    for &who in &winners {
                        self.kill(who, index)?;
                    }
                    members.retain(|who| !winners.contains(who));
                }
            }
            // Two winners in one round already fail the scenario; later rounds add no evidence,
            // and against a lease lock each of them costs a whole lease.
            if winners.len() > 1 {
                break;
            }
        }
        Ok(())
    }

    /// Has every member carry out `op` at its own random moment in `[0, jitter]` after a
    /// common start. An adapter with `timed_start` gets every request at once, each saying how
    /// long to wait, so the racers start from their own timers; otherwise each request is
    /// written at its moment. Reorders `members` to match the returned ids, and returns the
    /// instant the last member is due to start.
    fn send_jittered(
        &mut self,
        members: &mut [usize],
        op: &Op,
        index: u32,
        round: u32,
        jitter: Duration,
    ) -> Result<(Vec<u64>, Instant), Broken> {
        let spread = jitter.as_nanos() as u64;
        self.rng.shuffle(members);
        let mut schedule: Vec<(u64, usize)> = members
            .iter()
            .map(|&who| (self.rng.u64(0..=spread), who))
            .collect();
        schedule.sort_by_key(|&(delay, _)| delay);
        // Time for every timed request to be written and read before the first is due.
        let lead = if self.timed_start {
            TIMED_LEAD + TIMED_LEAD_PER_RACER * schedule.len() as u32
        } else {
            Duration::ZERO
        };
        let start = Instant::now() + lead;
        let mut ids = Vec::with_capacity(schedule.len());
        let mut due = start;
        for (slot, &(delay, who)) in schedule.iter().enumerate() {
            due = start + Duration::from_nanos(delay);
            members[slot] = who;
            let after_us = if self.timed_start {
                Some(due.saturating_duration_since(Instant::now()).as_micros() as u64)
            } else {
                wait_until(due);
                None
            };
            ids.push(self.send_after(who, op.clone(), index, Some(round), after_us)?);
        }
        Ok((ids, due))
    }

    /// The first members acquire and are killed holding the lock; the median of their round
    /// trips calibrates the others, who are each killed at a random moment within `window`
    /// round trips of their request, one after the other. The kill moments are stratified
    /// (one in each of n equal slices of the window, in random order), so that even a few
    /// dozen victims cover every point of an acquire.
    pub(super) fn crash_acquire(&mut self, step: &Step, index: u32, window: f64) -> StepResult {
        const CALIBRATE: usize = 3;
        let op = Op::Acquire {
            mode: Mode::Exclusive,
            wait: Wait::Try,
            timeout_ms: None,
        };
        let members = self.members(step)?;
        let calibrators = members.len().saturating_sub(1).clamp(1, CALIBRATE);
        let mut trips = Vec::with_capacity(calibrators);
        let victims = members.len().saturating_sub(calibrators);
        let mut slices: Vec<f64> = (0..victims)
            .map(|i| (i as f64 + self.rng.f64()) / victims as f64)
            .collect();
        self.rng.shuffle(&mut slices);
        for (round, who) in members.into_iter().enumerate() {
            let sent = Instant::now();
            let id = self.send(who, op.clone(), index, Some(round as u32))?;
            if round < calibrators {
                self.await_one(who, id, sent + self.opts.request_timeout)?;
                trips.push(sent.elapsed());
            } else {
                trips.sort_unstable();
                let trip = trips[trips.len() / 2];
                let slice = slices[round - calibrators];
                wait_until(sent + trip.mul_f64(window * slice));
            }
            self.kill(who, index)?;
        }
        Ok(())
    }

    /// Every member loops acquire (blocking), hold, release until `length` has passed.
    pub(super) fn churn(
        &mut self,
        step: &Step,
        index: u32,
        length: Duration,
        hold: Duration,
        mode: Mode,
    ) -> StepResult {
        #[derive(Clone, Copy)]
        enum Phase {
            Acquiring(u64),
            Holding(Instant),
            Releasing(u64),
            Done,
        }
        let members = self.members(step)?;
        let end = Instant::now() + length;
        let hard_deadline = end + self.opts.request_timeout;
        let acquire = Op::Acquire {
            mode,
            wait: Wait::Block,
            timeout_ms: None,
        };
        let mut loops = vec![0u32; members.len()];
        let mut phases = Vec::with_capacity(members.len());
        for &who in &members {
            phases.push(Phase::Acquiring(self.send(
                who,
                acquire.clone(),
                index,
                Some(0),
            )?));
        }
        loop {
            let now = Instant::now();
            let mut next_wake = hard_deadline;
            for (slot, &who) in members.iter().enumerate() {
                phases[slot] = match phases[slot] {
                    Phase::Acquiring(id) => match self.parts[who].answered.remove(&id) {
                        Some(r) if r.status == Status::Ok => Phase::Holding(now + hold),
                        // The checker reports the unexpected answer; this member stops.
                        Some(_) => Phase::Done,
                        None => Phase::Acquiring(id),
                    },
                    Phase::Holding(until) if now >= until => {
                        Phase::Releasing(self.send(who, Op::Release, index, Some(loops[slot]))?)
                    }
                    Phase::Releasing(id) => match self.parts[who].answered.remove(&id) {
                        Some(_) if now < end => {
                            loops[slot] += 1;
                            Phase::Acquiring(self.send(
                                who,
                                acquire.clone(),
                                index,
                                Some(loops[slot]),
                            )?)
                        }
                        Some(_) => Phase::Done,
                        None => Phase::Releasing(id),
                    },
                    other => other,
                };
                if let Phase::Holding(until) = phases[slot] {
                    next_wake = next_wake.min(until);
                }
            }
            if phases.iter().all(|p| matches!(p, Phase::Done)) {
                return Ok(());
            }
            if Instant::now() >= hard_deadline {
                let stuck = members
                    .iter()
                    .zip(&phases)
                    .find(|(_, p)| !matches!(p, Phase::Done))
                    .map(|(&who, _)| self.parts[who].name.clone());
                return Err(Broken {
                    participant: stuck,
                    reason: BrokenReason::Hang {
                        op: "acquire".to_owned(),
                        waited_ms: (length + self.opts.request_timeout).as_millis() as u64,
                    },
                });
            }
            if next_wake > Instant::now() {
                self.pump(next_wake)?;
            }
        }
    }
}
