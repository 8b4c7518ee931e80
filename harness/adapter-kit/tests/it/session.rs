//! The session's bookkeeping: what is held, by which handle, and what was declared.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use lockcheck_adapter_kit::Session;
use lockcheck_protocol::{Capability, ErrorKind, HolderInfo, Response, Status};

use crate::support::{
    Fake, NOWHERE, already_held, answers, hello, ok_with_token, serve_session, serve_with, timeless,
};

#[test]
fn acquire_release_bookkeeping() {
    let acquire = "{\"id\":ID,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n";
    let input = [
        acquire.replace("ID", "1"),
        acquire.replace("ID", "2"),
        "{\"id\":3,\"op\":\"release\"}\n".to_owned(),
        "{\"id\":4,\"op\":\"release\"}\n".to_owned(),
        acquire.replace("ID", "5"),
    ]
    .concat();
    assert_eq!(
        answers(&input),
        [
            ok_with_token(1, 1),
            already_held(2, "this participant already holds the lock"),
            Response::new(3, Status::Ok),
            Response::error(4, ErrorKind::NotHeld, "the lock is not held"),
            ok_with_token(5, 2),
        ]
    );
}

#[test]
fn the_second_handle_is_its_own_lock_object() {
    let input = concat!(
        "{\"id\":1,\"op\":\"second_handle\",\"mode\":\"exclusive\"}\n",
        "{\"id\":2,\"op\":\"second_handle\",\"mode\":\"exclusive\"}\n",
        "{\"id\":3,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
        "{\"id\":4,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"timeout\",\"timeout_ms\":1}\n",
        "{\"id\":5,\"op\":\"holder\"}\n",
        "{\"id\":6,\"op\":\"release_second\"}\n",
        "{\"id\":7,\"op\":\"release_second\"}\n",
    );
    assert_eq!(
        answers(input),
        [
            ok_with_token(1, 1),
            already_held(2, "the second handle already holds the lock"),
            Response {
                message: Some("taken".to_owned()),
                ..Response::new(3, Status::Busy)
            },
            Response::new(4, Status::Timeout),
            Response {
                holder: Some(HolderInfo {
                    pid: Some(42),
                    ..HolderInfo::default()
                }),
                ..Response::new(5, Status::Ok)
            },
            Response::new(6, Status::Ok),
            Response::error(
                7,
                ErrorKind::NotHeld,
                "the second handle does not hold the lock"
            ),
        ]
    );
}

#[test]
fn an_undeclared_capability_is_unsupported() {
    let served = serve_with(
        &[Capability::Exclusive, Capability::Try],
        NOWHERE,
        "{\"id\":1,\"op\":\"holder\"}\n{\"id\":2,\"op\":\"acquire\",\"mode\":\"shared\",\"wait\":\"try\"}\n{\"id\":3,\"op\":\"release\"}\n",
    );
    let responses: Vec<Response> = served.responses.into_iter().map(timeless).collect();
    let unsupported = |id, op: &str| Response {
        message: Some(format!("`fake` does not implement `{op}`")),
        ..Response::new(id, Status::Unsupported)
    };
    assert_eq!(
        responses,
        [
            unsupported(1, "holder"),
            unsupported(2, "acquire"),
            Response::error(3, ErrorKind::NotHeld, "the lock is not held"),
        ]
    );
}

#[test]
fn release_all_releases_what_is_held_once() {
    let strays = Arc::new(AtomicU32::new(0));
    let mut session = Session::new(
        hello(&Capability::ALL),
        NOWHERE,
        Fake::counting_strays(strays.clone()),
    );
    let served = serve_session(
        &mut session,
        "{\"id\":1,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
    );
    assert_eq!(served.responses[0].status, Status::Ok);
    session.release_all();
    // Released: a new acquisition through the same session succeeds, and a second
    // `release_all` does not release again.
    session.release_all();
    assert_eq!(strays.load(Ordering::SeqCst), 0);
    let served = serve_session(
        &mut session,
        "{\"id\":2,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
    );
    assert_eq!(served.responses[0].status, Status::Ok);
}

/// PROTOCOL.md, "`release` when not held": the implementation's own release is called, so a
/// lock that removes whatever is at the path on every release is caught; its answer is the
/// lock's.
#[test]
fn a_release_when_not_held_reaches_the_lock() {
    let strays = Arc::new(AtomicU32::new(0));
    let mut session = Session::new(
        hello(&Capability::ALL),
        NOWHERE,
        Fake::counting_strays(strays.clone()),
    );
    let served = serve_session(
        &mut session,
        "{\"id\":1,\"op\":\"release\"}\n{\"id\":2,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n{\"id\":3,\"op\":\"release\"}\n{\"id\":4,\"op\":\"release\"}\n",
    );
    let statuses: Vec<Status> = served.responses.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Status::Error, Status::Ok, Status::Ok, Status::Error]
    );
    assert_eq!(
        strays.load(Ordering::SeqCst),
        2,
        "both stray releases reach the lock"
    );
}
