//! reflock: the reference instance lock.
//!
//! A lock file whose exclusion comes from the operating system's lock on an open file
//! (`flock(2)` on Linux and macOS, `LockFileEx` on Windows), so a crashed holder's lock is
//! free at once. On top of that it tells who holds it (pid, process start time, host,
//! command; on Linux from the kernel's lock table, elsewhere from a record the holder writes
//! into the file), hands out fencing tokens, refuses a second acquisition from the same
//! process instead of deadlocking, and explains every failure with a `help:` line. On Linux
//! an acquisition that does not ask for its token writes nothing into the lock file, and on
//! Linux and macOS a `LockFile` keeps its file open between acquisitions, so taking the lock
//! again costs a check of the path and the `flock`, less than opening and closing the file.
//!
//! ```
//! use reflock::{ErrorKind, LockFile};
//!
//! # fn main() -> Result<(), reflock::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("app.lock");
//! let lock = LockFile::new(path);
//! let guard = lock.try_exclusive()?;
//! println!("running with fencing token {}", guard.token()?);
//!
//! // Anyone can ask who holds it, without disturbing the lock.
//! let holder = lock.holder()?.expect("we hold it");
//! assert_eq!(holder.pid(), std::process::id());
//!
//! // A second acquisition in the same process is refused, never a deadlock.
//! let again = lock.try_exclusive().unwrap_err();
//! assert_eq!(again.kind(), ErrorKind::HeldByThisProcess);
//!
//! guard.release()?;
//! # Ok(())
//! # }
//! ```

mod error;
pub mod floor;
mod fs_kind;
mod holder;
mod lock;
#[cfg(target_os = "linux")]
pub mod lock_table;
mod metadata;
mod registry;
mod sync;
mod sys;

pub use error::{Error, ErrorKind};
pub use fs_kind::{Exclusion, FsKind};
pub use holder::Holder;
pub use lock::{Access, LockFile, LockGuard, Wait};
