//! Every message reflock can show, built from fixed inputs. The integration tests snapshot the
//! same messages as they arise from real processes and files; these cover the ones that are
//! hard to provoke on a test machine (permission denied as root, a file system without locks).

use super::{Error, NotRegular, Op};
use crate::holder::Holder;
use std::io;
use std::path::Path;
use std::time::Duration;

const PATH: &str = "/run/app.lock";

#[track_caller]
fn check(name: &str, error: Error) {
    let mut settings = insta::Settings::clone_current();
    // OS error numbers and texts differ between platforms.
    settings.add_filter(r"\(os error \d+\)", "(os error <n>)");
    settings.add_filter(r": [^:\n]*\(os error <n>\)", ": <os error>");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, error.to_string()));
}

fn os(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

#[test]
fn contended_with_holder() {
    check(
        "contended_with_holder",
        Error::contended(Path::new(PATH), Some(Holder::example())),
    );
}

#[test]
fn contended_without_holder() {
    check(
        "contended_without_holder",
        Error::contended(Path::new(PATH), None),
    );
}

#[test]
fn contended_by_a_holder_on_another_host() {
    let mut holder = Holder::example();
    holder.set_host_for_test("build-07.elsewhere");
    check(
        "contended_remote_holder",
        Error::contended(Path::new(PATH), Some(holder)),
    );
}

/// A holder that recorded another PID namespace than this process's: its pid is not
/// named as if it were one here. Linux only, where processes have a PID namespace.
#[cfg(target_os = "linux")]
#[test]
fn contended_by_a_holder_in_another_pid_namespace() {
    let mut holder = Holder::example();
    let mine = holder.pid_namespace();
    assert_ne!(mine, 0, "this process's PID namespace is known");
    holder.set_pid_namespace_for_test(mine + 1);
    assert!(holder.in_another_pid_namespace());
    check(
        "contended_holder_in_another_pid_namespace",
        Error::contended(Path::new(PATH), Some(holder)),
    );
}

#[test]
fn timed_out_with_holder() {
    let error = Error::timed_out(
        Path::new(PATH),
        Duration::from_millis(300),
        Some(Holder::example()),
    );
    check("timed_out_with_holder", error);
}

#[cfg(unix)]
#[test]
fn permission_denied() {
    check(
        "permission_denied",
        Error::os(Path::new(PATH), Op::Open, os(libc::EACCES)),
    );
}

#[cfg(unix)]
#[test]
fn missing_directory() {
    check(
        "missing_directory",
        Error::os(Path::new(PATH), Op::Open, os(libc::ENOENT)),
    );
}

#[test]
fn not_regular_files() {
    for (name, what) in [
        ("not_regular_symlink", NotRegular::Symlink),
        ("not_regular_directory", NotRegular::Directory),
        ("not_regular_special", NotRegular::Special),
        ("not_regular_reparse_point", NotRegular::ReparsePoint),
        ("not_regular_hard_linked", NotRegular::HardLinked),
    ] {
        check(name, Error::not_regular(Path::new(PATH), what));
    }
}

#[cfg(unix)]
#[test]
fn unsupported_file_system() {
    check(
        "unsupported",
        Error::os(Path::new(PATH), Op::Lock, os(libc::ENOSYS)),
    );
}

/// The file system is named when `statfs` told it.
#[cfg(unix)]
#[test]
fn unsupported_on_a_known_file_system() {
    let error =
        Error::os(Path::new(PATH), Op::Lock, os(libc::ENOSYS)).on(Some(crate::FsKind::NineP));
    assert_eq!(error.fs_kind(), Some(crate::FsKind::NineP));
    check("unsupported_on_9p", error);
}

#[test]
fn held_by_this_process() {
    check(
        "held_by_this_process",
        Error::held_by_this_process(Path::new(PATH)),
    );
}

#[cfg(unix)]
#[test]
fn io_errors_name_the_operation() {
    for (name, op) in [
        ("io_open", Op::Open),
        ("io_lock", Op::Lock),
        ("io_read_holder", Op::ReadHolder),
        ("io_write_holder", Op::WriteHolder),
        ("io_release", Op::Release),
    ] {
        check(name, Error::os(Path::new(PATH), op, os(libc::ENOSPC)));
    }
}

#[test]
fn relative_path_without_directory_names_the_current_directory() {
    #[cfg(unix)]
    let error = Error::os(Path::new("app.lock"), Op::Open, os(libc::ENOENT));
    #[cfg(windows)]
    let error = Error::os(Path::new("app.lock"), Op::Open, os(3));
    assert!(
        error.to_string().contains("directory . does not exist"),
        "{error}"
    );
}

#[test]
fn dates_are_proleptic_gregorian() {
    use super::civil_from_days;
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(59), (1970, 3, 1));
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(civil_from_days(20_049), (2024, 11, 22));
    assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
}

#[test]
fn client_local_in_strict_mode() {
    let error = Error::client_local(Path::new(PATH), crate::FsKind::Fuse);
    assert_eq!(error.kind(), crate::ErrorKind::ClientLocal);
    assert_eq!(error.fs_kind(), Some(crate::FsKind::Fuse));
    check("client_local", error);
}
