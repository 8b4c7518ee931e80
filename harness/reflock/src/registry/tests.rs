//! Models of the handle registry. Under `--cfg loom` the `loom_*` tests explore every
//! interleaving (run them with `cargo test -p reflock --lib -- loom`); without loom they run
//! once each as ordinary threaded tests.

use super::{AlreadyRegistered, FileId, Registry};
use crate::sync::{Arc, Mutex};

#[cfg(loom)]
use loom::{model, thread};
#[cfg(not(loom))]
use std::thread;
#[cfg(not(loom))]
fn model(f: impl Fn() + Sync + Send + 'static) {
    f()
}

const FILE: FileId = FileId { device: 1, file: 7 };
const OTHER: FileId = FileId { device: 1, file: 8 };

/// Stands in for the OS lock: counts the handles of this process that are inside the section
/// where they may wait for or hold the OS lock on `FILE`.
struct OsSide {
    inside: Mutex<u32>,
}

impl OsSide {
    fn enter(&self) {
        let mut inside = self.inside.lock().unwrap();
        assert_eq!(
            *inside, 0,
            "two handles of one process reached the OS lock together"
        );
        *inside += 1;
    }
    fn leave(&self) {
        *self.inside.lock().unwrap() -= 1;
    }
}

/// One acquisition as `LockFile::acquire` does it: register, take the OS lock, release it,
/// then drop the ticket.
fn acquire_and_release(registry: &Arc<Registry>, os: &OsSide, id: FileId) -> bool {
    match Registry::register(registry, id) {
        Ok(ticket) => {
            os.enter();
            os.leave();
            drop(ticket);
            true
        }
        Err(AlreadyRegistered) => false,
    }
}

#[test]
fn loom_same_file_from_two_threads_never_reaches_the_os_lock_twice() {
    model(|| {
        let registry = Arc::new(Registry::new());
        let os = Arc::new(OsSide {
            inside: Mutex::new(0),
        });
        let (r, o) = (Arc::clone(&registry), Arc::clone(&os));
        let other = thread::spawn(move || acquire_and_release(&r, &o, FILE));
        let here = acquire_and_release(&registry, &os, FILE);
        let there = other.join().unwrap();
        // At least one of the two always gets through: a refusal only happens while the other
        // handle is registered.
        assert!(here || there);
        assert_eq!(registry.len(), 0, "a ticket leaked its entry");
    });
}

#[test]
fn loom_dropped_ticket_frees_the_file_for_the_next_handle() {
    model(|| {
        let registry = Arc::new(Registry::new());
        let held = Registry::register(&registry, FILE).unwrap();
        let r = Arc::clone(&registry);
        let releaser = thread::spawn(move || drop(held));
        // Racing the release: refused or admitted, never anything else, and never stuck.
        let raced = Registry::register(&r, FILE);
        releaser.join().unwrap();
        drop(raced);
        // Once the release has happened, the file is always free again.
        let again = Registry::register(&registry, FILE);
        assert!(
            again.is_ok(),
            "file still registered after every ticket was dropped"
        );
    });
}

#[test]
fn loom_different_files_do_not_refuse_each_other() {
    model(|| {
        let registry = Arc::new(Registry::new());
        let r = Arc::clone(&registry);
        let other = thread::spawn(move || Registry::register(&r, OTHER).map(drop));
        let here = Registry::register(&registry, FILE);
        assert!(here.is_ok());
        assert_eq!(other.join().unwrap(), Ok(()));
    });
}
