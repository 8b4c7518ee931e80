//! Waiting for a moment, and how long to wait for an answer.

use std::time::{Duration, Instant};

use lockcheck_protocol::Wait;

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
