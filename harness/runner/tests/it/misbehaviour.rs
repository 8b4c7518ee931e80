//! Each way an adapter can misbehave gives `broken` with its reason, never a hang, a panic or
//! a verdict on the lock.

use lockcheck_model::BrokenReason;

use crate::support::{self, HELLO, TWO_PARTY, broken_reason, run, sh};

/// A shell adapter that says hello, then answers each request through `respond`, a shell
/// snippet that sees the request id in `$id`.
fn responder(respond: &str) -> String {
    support::responder(HELLO, respond)
}

#[track_caller]
fn check(script: &str, expect: impl Fn(&BrokenReason) -> bool) {
    check_spec(&sh(script), expect);
}

#[track_caller]
fn check_spec(spec: &lockcheck_runner::AdapterSpec, expect: impl Fn(&BrokenReason) -> bool) {
    let result = run(spec, TWO_PARTY);
    let reason = broken_reason(&result);
    assert!(expect(&reason), "unexpected broken reason: {reason:#?}");
}

#[test]
fn garbage_instead_of_hello() {
    check(
        "echo 'hello world'; sleep 5",
        |r| matches!(r, BrokenReason::BadHello { line, .. } if line == "hello world"),
    );
}

#[test]
fn wrong_protocol_version() {
    let hello = HELLO.replace(r#""protocol":1"#, r#""protocol":2"#);
    check(
        &format!("echo '{hello}'; sleep 5"),
        |r| matches!(r, BrokenReason::BadHello { message, .. } if message.contains("protocol version 2")),
    );
}

#[test]
fn silent_adapter_hangs_at_hello() {
    check(
        "sleep 5",
        |r| matches!(r, BrokenReason::Hang { op, .. } if op == "hello"),
    );
}

#[test]
fn garbage_line_after_hello() {
    check(
        &responder("echo 'not json at all'"),
        |r| matches!(r, BrokenReason::BadLine { line, .. } if line == "not json at all"),
    );
}

#[test]
fn partial_line_then_exit() {
    check(
        &responder(r#"printf '{"id":%s,"status":"o' "$id"; exit 0"#),
        |r| matches!(r, BrokenReason::BadLine { message, .. } if message.contains("middle of a line")),
    );
}

#[test]
fn huge_line() {
    check(
        &responder("head -c 2000000 /dev/zero | tr '\\0' x; echo"),
        |r| matches!(r, BrokenReason::LineTooLong { bytes } if *bytes > 1 << 20),
    );
}

#[test]
fn early_eof() {
    check(&responder("exit 0"), |r| {
        matches!(r, BrokenReason::EarlyExit { code: Some(0), .. })
    });
}

#[test]
fn crash() {
    check(&responder("kill -SEGV $$"), |r| {
        matches!(
            r,
            BrokenReason::EarlyExit {
                signal: Some(11),
                ..
            }
        )
    });
}

#[test]
fn hang_on_request() {
    check(
        &responder("sleep 30"),
        |r| matches!(r, BrokenReason::Hang { op, .. } if op == "acquire"),
    );
}

#[test]
fn wrong_response_id() {
    check(
        &responder(r#"echo '{"type":"response","id":999,"status":"ok"}'"#),
        |r| matches!(r, BrokenReason::UnexpectedId { id: 999 }),
    );
}

#[test]
fn missing_program() {
    let spec = lockcheck_runner::AdapterSpec {
        name: "missing".to_owned(),
        command: vec!["/nonexistent/lockcheck-adapter".to_owned()],
        env: Vec::new(),
    };
    check_spec(
        &spec,
        |r| matches!(r, BrokenReason::SpawnFailed { message } if message.contains("/nonexistent/lockcheck-adapter")),
    );
}

#[test]
fn probe_reports_a_bad_hello() {
    let error =
        lockcheck_runner::probe(&sh("echo 'hello world'"), &crate::support::quick()).unwrap_err();
    assert!(
        matches!(error, lockcheck_runner::ProbeError::BadHello { .. }),
        "{error:?}"
    );
}

#[test]
fn probe_reports_silence() {
    let error = lockcheck_runner::probe(&sh("sleep 5"), &crate::support::quick()).unwrap_err();
    assert!(
        matches!(error, lockcheck_runner::ProbeError::NoHello { .. }),
        "{error:?}"
    );
}

#[test]
fn probe_reports_early_exit() {
    let error = lockcheck_runner::probe(&sh("exit 3"), &crate::support::quick()).unwrap_err();
    assert!(
        matches!(error, lockcheck_runner::ProbeError::Exited { .. }),
        "{error:?}"
    );
    insta::assert_snapshot!("probe_exit_silent", error.to_string());
}

#[test]
fn an_adapter_that_dies_before_hello_shows_its_stderr_tail_and_status() {
    // The first mistake of every adapter author: an import that fails.
    let script = "for i in $(seq 1 30); do echo \"  frame $i\" >&2; done; \
                  echo 'ModuleNotFoundError: No module named filelock' >&2; exit 1";
    let error = lockcheck_runner::probe(&sh(script), &crate::support::quick()).unwrap_err();
    insta::assert_snapshot!("probe_exit_traceback", error.to_string());
}

#[test]
fn an_adapter_killed_before_hello_says_by_which_signal() {
    let error =
        lockcheck_runner::probe(&sh("echo dying >&2; kill -9 $$"), &crate::support::quick())
            .unwrap_err();
    insta::assert_snapshot!("probe_exit_signal", error.to_string());
}

#[test]
fn an_over_long_hello_from_a_live_adapter_is_not_called_an_exit() {
    let script = "echo about to flood >&2; head -c 1100000 /dev/zero | tr '\\0' x; sleep 30";
    let error = lockcheck_runner::probe(&sh(script), &crate::support::quick()).unwrap_err();
    assert!(
        matches!(error, lockcheck_runner::ProbeError::HelloTooLong { .. }),
        "{error:?}"
    );
    insta::assert_snapshot!("probe_hello_too_long", error.to_string());
}

/// An adapter that exits on `exit` without answering it: what exit-without-release sends.
#[test]
fn exit_without_an_answer() {
    let script = responder(
        r#"case "$line" in
    *'"op":"exit"'*) exit 0 ;;
    *) printf '{"type":"response","id":%s,"status":"ok"}\n' "$id" ;;
  esac"#,
    );
    let toml = "id = \"t\"\nlevel = \"crash\"\ndescription = \"d\"\ncatches = \"c\"\n\
                requires = [\"exclusive\", \"try\"]\n[[participants]]\nname = \"a\"\n\
                [[steps]]\nwho = \"a\"\ndo = \"acquire\"\n[[steps]]\nwho = \"a\"\ndo = \"exit\"\n";
    let reason = broken_reason(&run(&sh(&script), toml));
    assert!(
        matches!(reason, BrokenReason::EarlyExit { code: Some(0), .. }),
        "{reason:#?}"
    );
}
