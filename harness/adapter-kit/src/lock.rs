//! What an adapter supplies: one lock object on the lock path, as the lock's users hold one.

use std::time::Duration;

use lockcheck_protocol::{ErrorKind, HolderInfo, Mode};

/// How an acquisition waits. The session has already checked the request, so a timed wait
/// always comes with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Do not wait.
    Try,
    /// Wait as long as it takes.
    Block,
    /// Wait at most this long.
    Timeout(Duration),
}

/// What a lock operation says, before the session puts it on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: for an acquisition, this object holds the lock now. Answered `ok`.
    Ok,
    /// Someone else holds the lock. Answered `busy`, with the message if there is one.
    Busy(Option<String>),
    /// The wait ran out. Answered `timeout`, with the message if there is one.
    TimedOut(Option<String>),
    /// Anything else: answered `error` with this kind and message.
    Failed(ErrorKind, String),
}

/// One lock object on the lock path. A session owns a primary one; it makes a second one for
/// `second_handle` and one per thread for `thread_race` through [`Lock::fresh`].
pub trait Lock: Send {
    /// Takes the lock. Only called while this object does not hold it.
    fn acquire(&mut self, mode: Mode, wait: Wait) -> Outcome;

    /// Releases the lock. Only called while this object holds it.
    fn release(&mut self) -> Outcome;

    /// The fencing token of the lock this object holds, for implementations that have them.
    /// Read right after a successful acquisition.
    fn token(&self) -> Option<u64> {
        None
    }

    /// Who holds the lock, from the lock's own records. Only called when the adapter declares
    /// `holder_info`.
    fn holder(&mut self) -> Result<Option<HolderInfo>, Outcome> {
        Ok(None)
    }

    /// A new, independent lock object for the same path, as a second `open` by the same
    /// program would make.
    fn fresh(&self) -> Box<dyn Lock>;
}
