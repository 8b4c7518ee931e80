//! What reflock does with the file at the lock path.

use reflock::{ErrorKind, LockFile};
#[cfg(unix)]
fn snapshot(path: &std::path::Path) -> (Vec<u8>, std::fs::Metadata) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap(),
    )
}

#[cfg(unix)]
#[test]
fn symlink_at_the_path_is_refused_and_the_victim_left_alone() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("precious");
    std::fs::write(&victim, "keep me\n").unwrap();
    let (content, meta) = snapshot(&victim);
    let path = dir.path().join("app.lock");
    std::os::unix::fs::symlink(&victim, &path).unwrap();

    for result in [
        LockFile::new(&path).try_exclusive(),
        LockFile::new(&path).try_shared(),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::NotRegularFile);
    }
    assert_eq!(
        LockFile::new(&path).holder().unwrap_err().kind(),
        ErrorKind::NotRegularFile
    );
    let (after, after_meta) = snapshot(&victim);
    assert_eq!(after, content);
    assert_eq!(after_meta.mtime_nsec(), meta.mtime_nsec());
    assert_eq!(after_meta.mode(), meta.mode());
    assert!(
        std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[cfg(unix)]
#[test]
fn dangling_symlink_is_refused_and_its_target_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("created-by-mistake");
    let path = dir.path().join("app.lock");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert_eq!(
        LockFile::new(&path).try_exclusive().unwrap_err().kind(),
        ErrorKind::NotRegularFile
    );
    assert!(!target.exists());
}

#[test]
fn directory_at_the_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    std::fs::create_dir(&path).unwrap();
    assert_eq!(
        LockFile::new(&path).try_exclusive().unwrap_err().kind(),
        ErrorKind::NotRegularFile
    );
}

#[cfg(unix)]
#[test]
fn fifo_at_the_path_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        LockFile::new(&path).try_exclusive().unwrap_err().kind(),
        ErrorKind::NotRegularFile
    );
    assert_eq!(
        LockFile::new(&path).holder().unwrap_err().kind(),
        ErrorKind::NotRegularFile
    );
}

#[test]
fn hard_link_at_the_path_is_refused_and_the_other_file_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other");
    std::fs::write(&other, "not a lock file\n").unwrap();
    let path = dir.path().join("app.lock");
    std::fs::hard_link(&other, &path).unwrap();
    assert_eq!(
        LockFile::new(&path).try_exclusive().unwrap_err().kind(),
        ErrorKind::NotRegularFile
    );
    assert_eq!(std::fs::read(&other).unwrap(), b"not a lock file\n");
}

#[test]
fn missing_directory_is_reported_and_nothing_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("app.lock");
    assert_eq!(
        LockFile::new(&path).try_exclusive().unwrap_err().kind(),
        ErrorKind::MissingDirectory
    );
    assert!(!dir.path().join("missing").exists());
    assert_eq!(LockFile::new(&path).holder().unwrap(), None);
}

/// The process umask, from /proc (reading it with umask(2) would change it for other threads).
#[cfg(target_os = "linux")]
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .unwrap();
    u32::from_str_radix(line.trim(), 8).unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn created_file_is_private_by_default_and_takes_a_custom_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode_of = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    let default = dir.path().join("default.lock");
    drop(LockFile::new(&default).try_exclusive().unwrap());
    assert_eq!(mode_of(&default), 0o600 & !umask());

    let custom = dir.path().join("custom.lock");
    drop(LockFile::new(&custom).mode(0o644).try_exclusive().unwrap());
    assert_eq!(mode_of(&custom), 0o644 & !umask());
    assert_ne!(
        0o644 & !umask(),
        0o600,
        "umask {:o} hides the difference",
        umask()
    );
}

#[test]
fn multi_process_contender_never_truncates_or_rewrites_a_held_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let mut holder = crate::helper::Helper::serve(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));
    let before = std::fs::read(&path).unwrap();
    assert!(!before.is_empty());
    for _ in 0..3 {
        assert_eq!(
            LockFile::new(&path).try_exclusive().unwrap_err().kind(),
            ErrorKind::Contended
        );
        assert_eq!(
            LockFile::new(&path).try_shared().unwrap_err().kind(),
            ErrorKind::Contended
        );
        LockFile::new(&path).holder().unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn tokens_increase_with_every_exclusive_acquisition() {
    let dir = tempfile::tempdir().unwrap();
    let lock = LockFile::new(dir.path().join("app.lock"));
    let tokens: Vec<u64> = (0..4)
        .map(|_| lock.try_exclusive().unwrap().token().unwrap())
        .collect();
    assert_eq!(tokens, [1, 2, 3, 4]);
    // Shared holders see the latest exclusive token without advancing it.
    assert_eq!(lock.try_shared().unwrap().token().unwrap(), 4);
    assert_eq!(lock.try_exclusive().unwrap().token().unwrap(), 5);
}

#[test]
fn holder_reports_this_process_while_held_and_nobody_after_release() {
    let dir = tempfile::tempdir().unwrap();
    let lock = LockFile::new(dir.path().join("app.lock"));
    assert_eq!(lock.holder().unwrap(), None, "no file yet");
    let guard = lock.try_exclusive().unwrap();
    let holder = lock.holder().unwrap().unwrap();
    assert_eq!(holder.pid(), std::process::id());
    assert!(holder.is_local());
    assert!(holder.command().contains("it"), "{}", holder.command());
    let token = guard.token().unwrap();
    let holder = lock.holder().unwrap().unwrap();
    assert_eq!(holder.pid(), std::process::id());
    assert_eq!(holder.token(), Some(token));
    assert!(holder.command().contains("it"), "{}", holder.command());
    assert!(holder.acquired_at().unwrap() <= std::time::SystemTime::now());
    guard.release().unwrap();
    assert_eq!(lock.holder().unwrap(), None);
    let record = std::fs::read_to_string(lock.path()).unwrap();
    assert!(record.contains("\nstate free\n"), "{record}");
}

/// On Linux the kernel's lock table names the holder, so an acquisition that does not ask
/// for its token writes nothing, and the file's content cannot make `holder` lie.
#[cfg(target_os = "linux")]
#[test]
fn on_linux_the_kernel_names_the_holder_and_an_acquisition_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let lock = LockFile::new(&path);
    let guard = lock.try_exclusive().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"", "nothing written");
    assert_eq!(
        lock.holder().unwrap().map(|h| h.pid()),
        Some(std::process::id())
    );
    // A record planted by someone else, naming a live process (our parent), while we hold.
    let parent = rustix::process::getppid().unwrap().as_raw_nonzero().get() as u32;
    let planted = format!(
        "reflock-holder v1\nstate held\ntoken 7\npid {parent}\npidns 0\nstart 0\nboot b\nhost h\nsince 0.000000000\ncommand planted\nend\n"
    );
    std::fs::write(&path, planted).unwrap();
    let holder = lock.holder().unwrap().unwrap();
    assert_eq!(holder.pid(), std::process::id());
    assert_eq!(holder.token(), None);
    guard.release().unwrap();
    assert_eq!(lock.holder().unwrap(), None, "free, whatever the file says");
    // Tokens are counted for the holders that ask, from the count in the file.
    let guard = lock.try_exclusive().unwrap();
    assert_eq!(guard.token().unwrap(), 8);
    assert_eq!(guard.token().unwrap(), 8, "asked twice, counted once");
}

#[test]
fn garbage_in_the_lock_file_is_overwritten_by_the_next_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let lock = LockFile::new(&path);
    assert_eq!(lock.holder().unwrap(), None);
    let guard = lock.try_exclusive().unwrap();
    assert_eq!(guard.token().unwrap(), 1);
    assert_eq!(
        lock.holder().unwrap().map(|h| h.pid()),
        Some(std::process::id())
    );
    assert!(
        std::fs::metadata(&path).unwrap().len() < 4096,
        "old garbage was not cut off"
    );
}

/// `/dev/shm` is a tmpfs on Linux: its kind is told, and strict mode locks there, since a
/// tmpfs is this machine's own.
#[cfg(target_os = "linux")]
#[test]
fn strict_mode_locks_on_a_file_system_local_to_this_machine() {
    use reflock::{Exclusion, FsKind};
    let dir = tempfile::tempdir_in("/dev/shm").unwrap();
    let lock = LockFile::new(dir.path().join("app.lock")).strict(true);
    let kind = lock.fs_kind().unwrap();
    assert_eq!(
        (kind, kind.exclusion()),
        (FsKind::Tmpfs, Exclusion::Machine)
    );
    let guard = lock.try_exclusive().unwrap();
    guard.release().unwrap();
}
