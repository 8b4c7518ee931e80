//! The handle a `LockFile` keeps open between acquisitions (Linux and macOS): whatever the
//! path has become in the meantime, the next acquisition locks the file the path names, with
//! every check a fresh open makes.

#![cfg(unix)]

use crate::helper::Helper;
use reflock::{ErrorKind, LockFile};
use rstest::rstest;
use std::path::Path;

/// What happens at the lock path while a `LockFile` that has been released sits idle.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Another file is renamed over it.
    Replaced,
    /// It is deleted.
    Deleted,
    /// It is deleted and a symbolic link to another file put in its place.
    Symlink,
    /// It gains a second name.
    HardLinked,
    /// It is deleted and a FIFO put in its place.
    Fifo,
}

fn apply(change: Change, path: &Path) {
    let dir = path.parent().unwrap();
    match change {
        Change::Replaced => {
            let new = dir.join("new");
            std::fs::write(&new, "").unwrap();
            std::fs::rename(&new, path).unwrap();
        }
        Change::Deleted => std::fs::remove_file(path).unwrap(),
        Change::Symlink => {
            std::fs::write(dir.join("victim"), "keep me\n").unwrap();
            std::fs::remove_file(path).unwrap();
            std::os::unix::fs::symlink(dir.join("victim"), path).unwrap();
        }
        Change::HardLinked => std::fs::hard_link(path, dir.join("second name")).unwrap(),
        Change::Fifo => {
            std::fs::remove_file(path).unwrap();
            rustix::fs::mknodat(
                rustix::fs::CWD,
                path,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_bits_truncate(0o600),
                0,
            )
            .unwrap();
        }
    }
}

#[rstest]
#[case::replaced(Change::Replaced)]
#[case::deleted(Change::Deleted)]
#[case::symlink(Change::Symlink)]
#[case::hard_linked(Change::HardLinked)]
#[case::fifo(Change::Fifo)]
fn the_next_acquisition_locks_what_the_path_names_now(#[case] change: Change) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let idle = LockFile::new(&path);
    idle.try_exclusive().unwrap().release().unwrap();
    apply(change, &path);
    match change {
        Change::Replaced | Change::Deleted => {
            // The file now at the path, held by another `LockFile` of this process: a handle
            // still on the old file would lock that instead and succeed.
            let holder = LockFile::new(&path).try_exclusive().unwrap();
            let again = idle.try_exclusive().unwrap_err();
            assert_eq!(again.kind(), ErrorKind::HeldByThisProcess, "{again}");
            holder.release().unwrap();
            idle.try_exclusive().unwrap().release().unwrap();
        }
        Change::Symlink | Change::HardLinked | Change::Fifo => {
            let refused = idle.try_exclusive().unwrap_err();
            assert_eq!(refused.kind(), ErrorKind::NotRegularFile, "{refused}");
        }
    }
    if let Change::Symlink = change {
        assert_eq!(
            std::fs::read(dir.path().join("victim")).unwrap(),
            b"keep me\n"
        );
    }
}

/// The descriptors this process has open on `path`.
#[cfg(target_os = "linux")]
fn descriptors_on(path: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter(|fd| {
            std::fs::read_link(fd.as_ref().unwrap().path())
                .ok()
                .as_deref()
                == Some(path)
        })
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn one_descriptor_is_kept_and_closed_with_the_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let file = LockFile::new(&path);
    for _ in 0..100 {
        file.try_exclusive().unwrap().release().unwrap();
        file.try_shared().unwrap().release().unwrap();
        assert_eq!(descriptors_on(&path), 1);
    }
    // A clone keeps its own.
    let clone = file.clone();
    clone.try_exclusive().unwrap().release().unwrap();
    assert_eq!(descriptors_on(&path), 2);
    drop(file);
    drop(clone);
    assert_eq!(descriptors_on(&path), 0);
}

/// A `try` that loses to another process keeps its descriptor for the next attempt, so a
/// polling caller neither opens the file on every attempt nor piles up descriptors.
#[cfg(target_os = "linux")]
#[test]
fn a_lost_try_keeps_its_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let mut holder = Helper::serve(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));
    let file = LockFile::new(&path);
    for _ in 0..10 {
        assert_eq!(
            file.try_exclusive().unwrap_err().kind(),
            ErrorKind::Contended
        );
        assert_eq!(descriptors_on(&path), 1);
    }
    holder.kill();
    file.try_exclusive().unwrap().release().unwrap();
    assert_eq!(descriptors_on(&path), 1);
}

#[test]
fn a_forked_child_does_not_lock_through_the_parents_kept_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let mut forker = Helper::start("fork-after-release", &path, "");
    // The child holds the lock through a handle of its own, so the parent is refused; through
    // the inherited one the parent's `flock` would succeed on the shared open file.
    assert_eq!(forker.reply(), "child holds");
    assert_eq!(forker.reply(), "parent busy");
    assert!(forker.wait_exit().success());
}
