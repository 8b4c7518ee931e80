//! What an adapter supplies: one lock object on the lock path, as the lock's users hold one;
//! and the two things most locks' adapters need to say what happened: the reading of an I/O
//! error, and a polled wait for locks that can only try.

use std::fmt::Display;
use std::io;
use std::time::{Duration, Instant};

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

impl Outcome {
    /// The protocol's reading of an I/O error on the lock path, with the error's text as the
    /// message. The kinds are reflock's: a missing parent (or one that is not a directory) is
    /// `missing_directory`, EACCES/EPERM `permission_denied`, a file system without locks
    /// `unsupported`, a directory at the lock path `not_regular_file`, the rest `io`.
    pub fn from_io(error: &io::Error) -> Outcome {
        let kind = match error.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => ErrorKind::MissingDirectory,
            io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            io::ErrorKind::Unsupported => ErrorKind::Unsupported,
            io::ErrorKind::IsADirectory => ErrorKind::NotRegularFile,
            _ => ErrorKind::Io,
        };
        Outcome::Failed(kind, error.to_string())
    }

    /// A failure with `context: ` before its message (`cannot open /tmp/x.lock: ...`); any
    /// other outcome as it is.
    pub fn context(self, context: impl Display) -> Outcome {
        match self {
            Outcome::Failed(kind, message) => {
                Outcome::Failed(kind, format!("{context}: {message}"))
            }
            other => other,
        }
    }
}

/// An acquisition for a lock that can only try: `attempt` once for [`Wait::Try`]; otherwise
/// again every `every` while it answers [`Outcome::Busy`], until it answers anything else or,
/// for [`Wait::Timeout`], the limit has passed ([`Outcome::TimedOut`]). The last sleep ends at
/// the limit, so that the last attempt is made then.
pub fn poll(wait: Wait, every: Duration, mut attempt: impl FnMut() -> Outcome) -> Outcome {
    let deadline = match wait {
        Wait::Try => return attempt(),
        Wait::Block => None,
        Wait::Timeout(limit) => Some(Instant::now() + limit),
    };
    loop {
        match attempt() {
            Outcome::Busy(_) => {}
            other => return other,
        }
        let pause = match deadline {
            None => every,
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => every.min(left),
                _ => return Outcome::TimedOut(None),
            },
        };
        std::thread::sleep(pause);
    }
}

/// One lock object on the lock path. A session owns a primary one; it makes a second one for
/// `second_handle` and one per thread for `thread_race` through [`Lock::fresh`].
pub trait Lock: Send {
    /// Takes the lock. Only called while this object does not hold it.
    fn acquire(&mut self, mode: Mode, wait: Wait) -> Outcome;

    /// Releases the lock. Also called when this object does not hold it (a `release` when
    /// not held, PROTOCOL.md "Rules the runner relies on"): do then what the implementation's
    /// own release does, and answer [`Outcome::Ok`] or [`Outcome::Failed`] with
    /// [`ErrorKind::NotHeld`].
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
