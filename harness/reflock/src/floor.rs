//! The floor: the bare OS lock, with none of reflock's safeguards, for benchmarks to measure
//! every lock against.
//!
//! [`FloorLock::lock`] is open (create if missing) + blocking `flock(LOCK_EX)` on Unix, or
//! `CreateFileW` + blocking `LockFileEx` on Windows; [`FloorGuard::release`] is unlock +
//! close. No symlink refusal, no holder record, no fencing token, no same-process check, no
//! timed wait: the least work a lock that opens its file for each acquisition can do, which
//! is what makes it the floor. (A lock that keeps its file open, as a reused
//! [`LockFile`](crate::LockFile) does on Unix, skips the open and the close and can cost
//! less.) Do not use it as a lock; use [`LockFile`](crate::LockFile).

use std::io;
use std::path::{Path, PathBuf};

use crate::sys::FloorHandle;

/// The bare OS lock on one path.
#[derive(Clone, Debug)]
pub struct FloorLock {
    path: PathBuf,
}

/// A held floor lock. Dropping it closes the file, which frees the lock too.
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct FloorGuard {
    handle: FloorHandle,
}

impl FloorLock {
    /// The floor lock on `path`.
    pub fn new(path: impl Into<PathBuf>) -> FloorLock {
        FloorLock { path: path.into() }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file (creating it if missing) and waits in the kernel until it is locked
    /// exclusively.
    pub fn lock(&self) -> io::Result<FloorGuard> {
        FloorHandle::lock(&self.path).map(|handle| FloorGuard { handle })
    }
}

impl FloorGuard {
    /// Unlocks and closes the file.
    pub fn release(self) -> io::Result<()> {
        self.handle.release()
    }
}
