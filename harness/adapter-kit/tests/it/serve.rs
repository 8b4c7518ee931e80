//! The loop: `hello` first, one answer per request line, bad lines, `after_us`, `exit`, `t_ns`.

use lockcheck_adapter_kit::{Ended, Session};
use lockcheck_protocol::{Capability, ErrorKind, Response, Status};

use crate::support::{Fake, NOWHERE, answers, hello, only, serve_all, serve_session};

/// `after_us` delays the work, not just the answer: the acquire's `t_ns` is at least that
/// long after the previous answer's. The hello offers it, whatever the caller's said.
#[test]
fn after_us_starts_the_request_that_much_later() {
    let mut plain = hello(&Capability::ALL);
    plain.timed_start = false;
    let mut session = Session::new(plain, NOWHERE, Fake::boxed());
    let served = serve_session(
        &mut session,
        "{\"id\":1,\"op\":\"holder\"}\n\
         {\"id\":2,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\",\"after_us\":30000}\n",
    );
    assert!(served.hello.timed_start);
    let t: Vec<u64> = served.responses.iter().map(|r| r.t_ns.unwrap()).collect();
    assert_eq!(served.responses[1].status, Status::Ok);
    assert!(
        t[1] - t[0] >= 30_000_000,
        "answered {} ns apart",
        t[1] - t[0]
    );
}

#[test]
fn hello_comes_first_even_without_requests() {
    let served = serve_all("");
    assert_eq!(served.hello, hello(&Capability::ALL));
    assert!(served.responses.is_empty());
    assert_eq!(served.ended, Ended::EndOfInput);
}

#[test]
fn a_line_without_a_usable_id_goes_to_errors_and_reading_goes_on() {
    let served = serve_all("not json\n{\"op\":\"release\"}\n\n   \n{\"id\":3,\"op\":\"exit\"}\n");
    let errors = served.errors.clone();
    assert_eq!(only(served), Response::new(3, Status::Ok));
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), 2, "{errors}");
    assert!(
        lines[0].starts_with("fake: ignoring a bad request line: not JSON"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "fake: ignoring a bad request line: missing field `id`"
    );
}

#[test]
fn a_malformed_line_with_an_id_is_a_bad_request() {
    let response = only(serve_all(
        "{\"id\":7,\"op\":\"acquire\",\"mode\":\"sideways\"}\n",
    ));
    assert_eq!(response.id, 7);
    assert_eq!(response.status, Status::Error);
    assert_eq!(response.kind, Some(ErrorKind::BadRequest));
    assert!(
        response
            .message
            .as_deref()
            .unwrap()
            .starts_with("op `acquire`: "),
        "{response:?}"
    );
}

#[test]
fn a_timed_acquire_without_its_limit_is_a_bad_request() {
    let response = only(serve_all(
        "{\"id\":1,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"timeout\"}\n",
    ));
    assert_eq!(
        response,
        Response::error(
            1,
            ErrorKind::BadRequest,
            "`acquire` with `wait: timeout` needs `timeout_ms`"
        )
    );
}

#[test]
fn an_unknown_op_is_unsupported_and_reading_goes_on() {
    assert_eq!(
        answers("{\"id\":5,\"op\":\"downgrade\"}\n{\"id\":6,\"op\":\"release\"}\n"),
        [
            Response {
                message: Some("unknown op `downgrade`".to_owned()),
                ..Response::new(5, Status::Unsupported)
            },
            Response::error(6, ErrorKind::NotHeld, "the lock is not held"),
        ]
    );
}

#[test]
fn exit_answers_then_stops_reading() {
    let served = serve_all(
        "{\"id\":1,\"op\":\"exit\"}\n{\"id\":2,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
    );
    assert_eq!(served.ended, Ended::Exit);
    assert_eq!(only(served), Response::new(1, Status::Ok));
}

/// Strictly: a clock that does not move would pass `<=`.
#[test]
fn t_ns_grows() {
    let served = serve_all("{\"id\":1,\"op\":\"release\"}\n{\"id\":2,\"op\":\"release\"}\n");
    let t: Vec<u64> = served.responses.iter().map(|r| r.t_ns.unwrap()).collect();
    assert!(t[0] < t[1], "{t:?}");
}
