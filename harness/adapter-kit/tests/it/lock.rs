//! What the kit gives lock code: the reading of I/O errors and the polled wait.

use std::io;
use std::time::{Duration, Instant};

use lockcheck_adapter_kit::{Outcome, Wait, poll};
use lockcheck_protocol::ErrorKind;

#[test]
fn io_errors_read_as_reflock_reads_them() {
    let kind = |kind: io::ErrorKind| match Outcome::from_io(&io::Error::new(kind, "text")) {
        Outcome::Failed(kind, message) => {
            assert_eq!(message, "text");
            kind
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(kind(io::ErrorKind::NotFound), ErrorKind::MissingDirectory);
    assert_eq!(
        kind(io::ErrorKind::NotADirectory),
        ErrorKind::MissingDirectory
    );
    assert_eq!(
        kind(io::ErrorKind::PermissionDenied),
        ErrorKind::PermissionDenied
    );
    assert_eq!(kind(io::ErrorKind::Unsupported), ErrorKind::Unsupported);
    assert_eq!(kind(io::ErrorKind::IsADirectory), ErrorKind::NotRegularFile);
    assert_eq!(kind(io::ErrorKind::StorageFull), ErrorKind::Io);
}

#[cfg(unix)]
#[test]
fn os_errors_read_by_their_errno() {
    let kind = |errno| match Outcome::from_io(&io::Error::from_raw_os_error(errno)) {
        Outcome::Failed(kind, _) => kind,
        other => panic!("{other:?}"),
    };
    // ENOENT, ENOTDIR, EACCES, EPERM, EISDIR and EROFS, numbered alike on Linux and macOS.
    assert_eq!(kind(2), ErrorKind::MissingDirectory);
    assert_eq!(kind(20), ErrorKind::MissingDirectory);
    assert_eq!(kind(13), ErrorKind::PermissionDenied);
    assert_eq!(kind(1), ErrorKind::PermissionDenied);
    assert_eq!(kind(21), ErrorKind::NotRegularFile);
    assert_eq!(kind(30), ErrorKind::Io);
}

#[test]
fn context_goes_before_a_failure_only() {
    let failed = Outcome::Failed(ErrorKind::Io, "disk full".to_owned());
    assert_eq!(
        failed.context("cannot write /x"),
        Outcome::Failed(ErrorKind::Io, "cannot write /x: disk full".to_owned())
    );
    let busy = Outcome::Busy(Some("held".to_owned()));
    assert_eq!(busy.clone().context("cannot lock"), busy);
}

#[test]
fn a_try_is_one_attempt() {
    let mut attempts = 0;
    let outcome = poll(Wait::Try, Duration::from_millis(1), || {
        attempts += 1;
        Outcome::Busy(None)
    });
    assert_eq!(outcome, Outcome::Busy(None));
    assert_eq!(attempts, 1);
}

#[test]
fn a_wait_retries_while_busy_and_stops_at_any_other_answer() {
    for wait in [Wait::Block, Wait::Timeout(Duration::from_secs(60))] {
        let mut attempts = 0;
        let outcome = poll(wait, Duration::from_millis(1), || {
            attempts += 1;
            match attempts {
                1 | 2 => Outcome::Busy(None),
                _ => Outcome::Failed(ErrorKind::Io, "gone".to_owned()),
            }
        });
        assert_eq!(outcome, Outcome::Failed(ErrorKind::Io, "gone".to_owned()));
        assert_eq!(attempts, 3, "{wait:?}");
    }
}

/// Not before the limit, and not a whole interval after it: the last sleep ends at the limit.
#[test]
fn a_timeout_ends_at_its_limit() {
    let limit = Duration::from_millis(30);
    let started = Instant::now();
    let mut last = started;
    let outcome = poll(Wait::Timeout(limit), Duration::from_secs(10), || {
        last = Instant::now();
        Outcome::Busy(None)
    });
    assert_eq!(outcome, Outcome::TimedOut(None));
    assert!(
        last - started >= limit,
        "last attempt after {:?}",
        last - started
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
