//! Waiting for a moment, how long to wait for an answer, making sure a background acquire
//! really waits before the scenario goes on, and asking whether the lock is free when a
//! waiter is never answered.

use std::time::{Duration, Instant};

use lockcheck_model::Observation;
use lockcheck_protocol::{Mode, Op, Wait};

use super::{Iteration, State, StepResult};
use crate::sys;

/// How long a background acquire is given to start waiting where nothing lists blocked
/// waiters: a lock that polls, or a platform without `/proc/locks`. Long enough for any
/// adapter to have read the request and made its first attempt; a lock the kernel lists
/// costs only the moment it takes to appear.
const PRESUMED_WAITING: Duration = Duration::from_millis(250);

/// Returns at `deadline`: sleeps through most of a long wait, and yields the processor for
/// the last stretch, because a sleep may overshoot by more than the delays a race needs.
pub(super) fn wait_until(deadline: Instant) {
    const SPIN: Duration = Duration::from_millis(1);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        if left > SPIN {
            std::thread::sleep(left - SPIN);
        } else {
            std::thread::yield_now();
        }
    }
}

/// How long to wait for the answer to an acquire: its own timeout plus the request budget.
pub(super) fn wait_limit(wait: Wait, timeout_ms: Option<u64>, budget: Duration) -> Duration {
    match wait {
        Wait::Timeout => budget + Duration::from_millis(timeout_ms.unwrap_or(0)),
        Wait::Try | Wait::Block => budget,
    }
}

impl Iteration<'_> {
    /// Returns once each member's background acquire (request `ids`) is waiting, so that what
    /// the next step does (a release) finds a waiter, not a request still in a pipe: when the
    /// kernel lists one more blocked waiter on the lock file, or else after
    /// [`PRESUMED_WAITING`]. An acquire answered meanwhile is not waiting and needs nothing.
    /// How each wait was established is recorded as an [`Observation::Waiting`].
    pub(super) fn until_waiting(
        &mut self,
        index: u32,
        members: &[usize],
        ids: &[u64],
    ) -> StepResult {
        let started = Instant::now();
        let deadline = started + PRESUMED_WAITING;
        let path = self.dir.lock_path().to_owned();
        let mut listed = 0;
        for (&who, &id) in members.iter().zip(ids) {
            let blocked_pid = loop {
                if self.parts[who].answered.contains_key(&id) {
                    break None;
                }
                if let Some(pids) = sys::blocked_on(&path)
                    && pids.len() > listed
                {
                    listed += 1;
                    break pids.get(listed - 1).copied();
                }
                let now = Instant::now();
                if now >= deadline {
                    break None;
                }
                self.pump(deadline.min(now + Duration::from_millis(1)))?;
            };
            if self.parts[who].answered.contains_key(&id) {
                continue;
            }
            let observation = Observation::Waiting {
                participant: self.parts[who].name.clone(),
                blocked_pid,
                waited_ms: started.elapsed().as_millis() as u64,
            };
            self.observe(index, observation);
        }
        Ok(())
    }

    /// After `waiter`'s waiting acquire went unanswered for the whole budget: asks another
    /// participant with nothing outstanding to `try` the lock in the same mode, as part of
    /// step `index`. Its answer is evidence for the checker, which tells a lost wake-up (the
    /// lock was free) from a hung adapter; whatever goes wrong here leaves it unproven.
    pub(super) fn probe_free(&mut self, index: u32, waiter: usize, mode: Mode) {
        let idle = |q: usize| {
            let part = &self.parts[q];
            q != waiter
                && part.state == State::Running
                && part.adapter.is_some()
                && part.outstanding.is_empty()
                && part.background.is_empty()
        };
        let Some(prober) = (0..self.parts.len()).find(|&q| idle(q)) else {
            return;
        };
        let op = Op::Acquire {
            mode,
            wait: Wait::Try,
            timeout_ms: None,
        };
        if let Ok(id) = self.send(prober, op, index, None) {
            let deadline = Instant::now() + self.opts.request_timeout;
            let _ = self.await_one(prober, id, deadline);
        }
    }
}
