//! The in-process handle registry: which lock files this process holds or is acquiring.
//!
//! OS file locks cannot refuse a second acquisition by the same process: with `flock` a second
//! open file description of the same file simply blocks behind the first (a self-deadlock), and
//! with `LockFileEx` the same happens per handle. So before touching the OS lock, every
//! acquisition registers the file's identity (device + inode, or volume + file index on
//! Windows) here, and a second registration of the same identity is refused. An entry lives
//! from before the OS lock is requested until after it has been released, so while an entry
//! exists no other handle in this process can be waiting for, or holding, the OS lock on that
//! file.

use crate::sync::{Arc, Mutex, MutexGuard};
use std::sync::OnceLock;

/// Identity of an open file: (device, inode) on Unix, (volume serial, file index) on Windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FileId {
    pub(crate) device: u64,
    pub(crate) file: u64,
}

/// The set of files this process currently holds or is acquiring.
#[derive(Debug)]
pub(crate) struct Registry {
    entries: Mutex<Vec<FileId>>,
}

/// Proof that a file is registered; dropping it removes the entry.
#[derive(Debug)]
pub(crate) struct Ticket {
    registry: Arc<Registry>,
    id: FileId,
}

/// Returned when the file is already registered by another handle of this process.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AlreadyRegistered;

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The registry shared by every `LockFile` in this process. (The loom models build their
    /// own registries and never reach this one.)
    pub(crate) fn global() -> &'static Arc<Registry> {
        static GLOBAL: OnceLock<Arc<Registry>> = OnceLock::new();
        GLOBAL.get_or_init(|| Arc::new(Registry::new()))
    }

    fn entries(&self) -> MutexGuard<'_, Vec<FileId>> {
        // The critical sections below cannot panic halfway, so a poisoned list is still valid.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers `id`, or refuses if another handle of this process already has it. The check
    /// and the insertion happen under one lock: that is what makes the refusal race-free.
    pub(crate) fn register(this: &Arc<Registry>, id: FileId) -> Result<Ticket, AlreadyRegistered> {
        let mut entries = this.entries();
        if entries.contains(&id) {
            return Err(AlreadyRegistered);
        }
        entries.push(id);
        drop(entries);
        Ok(Ticket {
            registry: Arc::clone(this),
            id,
        })
    }

    /// How many files are registered (for tests and diagnostics).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }
}

impl Ticket {
    /// The registered file.
    pub(crate) fn id(&self) -> FileId {
        self.id
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut entries = self.registry.entries();
        if let Some(at) = entries.iter().position(|id| *id == self.id) {
            entries.swap_remove(at);
        }
    }
}

#[cfg(test)]
mod tests;
