//! A second acquisition inside one process: refused at once, never a self-deadlock.

use crate::helper::REPLY_DEADLINE;
use reflock::{Access, ErrorKind, LockFile, Wait};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::Instant;

/// Joins `handle`, failing the test instead of hanging if it does not finish in time.
#[track_caller]
fn join_within<T>(handle: JoinHandle<T>) -> T {
    let end = Instant::now() + REPLY_DEADLINE;
    while !handle.is_finished() {
        assert!(Instant::now() < end, "the thread is stuck (self-deadlock?)");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    handle.join().unwrap()
}

#[test]
fn second_acquire_in_the_same_process_is_refused_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let guard = LockFile::new(&path).try_exclusive().unwrap();

    // Another LockFile value, and another spelling of the same path: same file, same refusal.
    let other_spelling = dir.path().join(".").join("app.lock");
    for lock in [LockFile::new(&path), LockFile::new(&other_spelling)] {
        for access in [Access::Exclusive, Access::Shared] {
            for wait in [Wait::Try, Wait::Timeout(std::time::Duration::from_secs(30))] {
                let err = lock.acquire(access, wait).unwrap_err();
                assert_eq!(
                    err.kind(),
                    ErrorKind::HeldByThisProcess,
                    "{access:?} {wait:?}"
                );
            }
        }
    }

    // Blocking mode, from another thread: returns the error instead of waiting for ever.
    let p = path.clone();
    let blocked = std::thread::spawn(move || LockFile::new(p).exclusive().map(drop));
    let err = join_within(blocked).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HeldByThisProcess);

    guard.release().unwrap();
    let again = LockFile::new(&path).exclusive().unwrap();
    drop(again);
    drop(LockFile::new(&path).shared().unwrap());
}

#[test]
fn threads_racing_for_one_file_get_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("app.lock"));
    let threads = 8;
    let start = Arc::new(Barrier::new(threads));
    let tried = Arc::new(Barrier::new(threads));
    let racers: Vec<_> = (0..threads)
        .map(|_| {
            let (path, start, tried) = (path.clone(), start.clone(), tried.clone());
            std::thread::spawn(move || {
                start.wait();
                let result = LockFile::new(&*path).try_exclusive();
                // Hold on until everyone has tried, so a winner cannot release early.
                tried.wait();
                match result {
                    Ok(_) => true,
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::HeldByThisProcess);
                        false
                    }
                }
            })
        })
        .collect();
    let winners = racers
        .into_iter()
        .map(join_within)
        .filter(|&won| won)
        .count();
    assert_eq!(winners, 1);
}

#[test]
fn dropping_and_releasing_both_free_the_lock_for_this_process() {
    let dir = tempfile::tempdir().unwrap();
    let lock = LockFile::new(dir.path().join("app.lock"));
    drop(lock.try_exclusive().unwrap());
    lock.try_exclusive().unwrap().release().unwrap();
    drop(lock.try_shared().unwrap());
    lock.try_shared().unwrap().release().unwrap();
    drop(lock.try_exclusive().unwrap());
}

/// The floor takes the same OS lock reflock does, so each excludes the other: a benchmark's
/// floor row measures the lock reflock is built on, not some other one.
#[test]
fn the_floor_and_reflock_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let floor = reflock::floor::FloorLock::new(&path);

    let held = floor.lock().unwrap();
    let refused = LockFile::new(&path).try_exclusive().unwrap_err();
    assert_eq!(refused.kind(), reflock::ErrorKind::Contended);
    held.release().unwrap();

    let guard = LockFile::new(&path).try_exclusive().unwrap();
    drop(guard);
    floor.lock().unwrap().release().unwrap();
}
