//! What an implementation declares it can do, so scenarios it cannot run are skipped.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One thing an implementation supports. Scenarios list the capabilities they require.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// `acquire` with `mode: exclusive`.
    Exclusive,
    /// `acquire` with `mode: shared` (readers coexist, writers exclude everyone).
    Shared,
    /// `acquire` with `wait: try`: answer `busy` at once when held.
    Try,
    /// `acquire` with `wait: block`: wait until the lock is free.
    Block,
    /// `acquire` with `wait: timeout`: give up with `timeout` after `timeout_ms`.
    Timeout,
    /// `holder`: report who holds the lock, from the implementation's own diagnostics.
    HolderInfo,
    /// `spawn_child`: start a long-lived child process the way users of the lock would.
    SpawnChild,
    /// `touch_fd`: open and close the lock path through another descriptor.
    TouchFd,
    /// `second_handle`: acquire through a second, independent handle in the same process.
    SecondHandle,
    /// `thread_race`: several threads of one process race for the lock.
    Threads,
    /// `bench`: the adapter runs a timed acquire / hold / release loop itself and writes
    /// timestamped samples (see PROTOCOL.md, "bench").
    Bench,
}

crate::vocabulary!(Capability {
    Exclusive => "exclusive",
    Shared => "shared",
    Try => "try",
    Block => "block",
    Timeout => "timeout",
    HolderInfo => "holder_info",
    SpawnChild => "spawn_child",
    TouchFd => "touch_fd",
    SecondHandle => "second_handle",
    Threads => "threads",
    Bench => "bench",
});

/// How the lock of a holder that died without releasing becomes free again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recovery {
    /// The OS drops the lock when the holder's last descriptor closes (flock, LockFileEx).
    Kernel,
    /// The next contender notices that the PID in the lock file is dead and breaks the lock.
    StalePid,
    /// The lock expires at the latest `ms` milliseconds after the holder last refreshed it
    /// (the worst case, including any lease stamped into the future).
    Lease {
        /// Lease length in milliseconds.
        ms: u64,
    },
    /// A crashed holder's lock is never recovered without human help.
    None,
}

/// The command line of a process that does nothing for about ten minutes: the child
/// `spawn_child` starts, and the runner's bystander processes. `sleep 600`; Windows has no
/// `sleep`, so there it is `ping` ten minutes long.
pub const IDLE_COMMAND: &[&str] = if cfg!(windows) {
    &["cmd", "/C", "ping -n 600 127.0.0.1 >NUL"]
} else {
    &["sleep", "600"]
};
