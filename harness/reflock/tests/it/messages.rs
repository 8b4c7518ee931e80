//! The messages users see, as they arise from real files and processes. Pids, paths, times,
//! durations and command lines are redacted so the snapshots hold on any machine.

use crate::helper::Helper;
use reflock::LockFile;
use std::time::Duration;

#[track_caller]
fn check(name: &str, dir: &tempfile::TempDir, error: reflock::Error) {
    let mut settings = insta::Settings::clone_current();
    let tmp = dir.path().display().to_string();
    settings.add_filter(&regex_escape(&tmp), "<tmp>");
    // Windows separators, so that one snapshot serves every platform.
    #[cfg(windows)]
    settings.add_filter(r"\\", "/");
    settings.add_filter(r"pid \d+", "pid <pid>");
    settings.add_filter(r"kill \d+", "kill <pid>");
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "<time>");
    settings.add_filter(r"after \d+(\.\d+)?[mµn]?s", "after <duration>");
    settings.add_filter(r"`[^`]*helper::entry[^`]*`", "`<command>`");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, error.to_string()));
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain(Some(c))
        })
        .collect()
}

#[test]
fn multi_process_message_when_another_process_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    let mut holder = Helper::serve(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));
    check(
        "real_contended",
        &dir,
        LockFile::new(&path).try_exclusive().unwrap_err(),
    );
    let timed_out = LockFile::new(&path).exclusive_timeout(Duration::from_millis(50));
    check("real_timed_out", &dir, timed_out.unwrap_err());
    assert_eq!(holder.ask("release"), "released");
    assert!(holder.ask("acquire sh try").starts_with("ok "));
    check(
        "real_contended_shared",
        &dir,
        LockFile::new(&path).try_exclusive().unwrap_err(),
    );
}

#[test]
fn message_for_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run").join("app.lock");
    check(
        "real_missing_directory",
        &dir,
        LockFile::new(path).try_exclusive().unwrap_err(),
    );
}

#[cfg(unix)]
#[test]
fn message_for_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
    check(
        "real_symlink",
        &dir,
        LockFile::new(path).try_exclusive().unwrap_err(),
    );
}

#[test]
fn message_for_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    std::fs::create_dir(&path).unwrap();
    check(
        "real_directory",
        &dir,
        LockFile::new(path).try_exclusive().unwrap_err(),
    );
}

#[test]
fn message_for_a_second_acquisition_in_this_process() {
    let dir = tempfile::tempdir().unwrap();
    let lock = LockFile::new(dir.path().join("app.lock"));
    let _guard = lock.try_exclusive().unwrap();
    check(
        "real_held_by_this_process",
        &dir,
        lock.exclusive().unwrap_err(),
    );
}
