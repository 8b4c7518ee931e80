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

impl Capability {
    /// Every capability, in declaration order.
    pub const ALL: [Capability; 11] = [
        Capability::Exclusive,
        Capability::Shared,
        Capability::Try,
        Capability::Block,
        Capability::Timeout,
        Capability::HolderInfo,
        Capability::SpawnChild,
        Capability::TouchFd,
        Capability::SecondHandle,
        Capability::Threads,
        Capability::Bench,
    ];

    /// The wire name, e.g. `holder_info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Exclusive => "exclusive",
            Capability::Shared => "shared",
            Capability::Try => "try",
            Capability::Block => "block",
            Capability::Timeout => "timeout",
            Capability::HolderInfo => "holder_info",
            Capability::SpawnChild => "spawn_child",
            Capability::TouchFd => "touch_fd",
            Capability::SecondHandle => "second_handle",
            Capability::Threads => "threads",
            Capability::Bench => "bench",
        }
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
