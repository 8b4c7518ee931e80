//! `parse_request` and `parse_adapter_message` on bad lines: what kind of error, which id, and
//! what answer an adapter would give.

use lockcheck_protocol::{
    AdapterMessage, ErrorKind, MAX_LINE_BYTES, Op, RequestErrorKind, Status, parse_adapter_message,
    parse_request,
};

/// Parses `line`, which must fail, and checks the error's id, kind and the answer built from it
/// (`None` when the adapter should not answer), rendered as `status/kind`.
#[track_caller]
fn check_err(line: &str, id: Option<u64>, kind: RequestErrorKind, answer: Option<&str>) {
    let err = parse_request(line).expect_err(line);
    assert_eq!(err.id(), id, "id of {line}: {err}");
    assert_eq!(err.kind(), &kind, "kind of {line}: {err}");
    let got = err.to_response().map(|r| {
        assert_eq!(Some(r.id), id);
        match r.kind {
            Some(kind) => format!("{}/{kind}", r.status),
            None => r.status.to_string(),
        }
    });
    assert_eq!(got.as_deref(), answer, "answer to {line}");
}

fn unknown(op: &str) -> RequestErrorKind {
    RequestErrorKind::UnknownOp { op: op.to_owned() }
}

#[test]
fn unknown_op_is_answered_unsupported() {
    check_err(
        r#"{"id":5,"op":"downgrade","mode":"shared"}"#,
        Some(5),
        unknown("downgrade"),
        Some("unsupported"),
    );
    // An unknown op is unknown even when its fields would be nonsense for a known one.
    check_err(
        r#"{"id":6,"op":"Acquire","mode":7}"#,
        Some(6),
        unknown("Acquire"),
        Some("unsupported"),
    );
}

#[test]
fn malformed_with_id_is_answered_bad_request() {
    let bad = Some("error/bad_request");
    check_err(r#"{"id":1}"#, Some(1), RequestErrorKind::Malformed, bad);
    check_err(
        r#"{"id":1,"op":3}"#,
        Some(1),
        RequestErrorKind::Malformed,
        bad,
    );
    check_err(
        r#"{"id":2,"op":"acquire"}"#,
        Some(2),
        RequestErrorKind::Malformed,
        bad,
    );
    check_err(
        r#"{"id":3,"op":"acquire","mode":"exclusive","wait":"forever"}"#,
        Some(3),
        RequestErrorKind::Malformed,
        bad,
    );
    check_err(
        r#"{"id":4,"op":"acquire","mode":"exclusive","wait":"timeout"}"#,
        Some(4),
        RequestErrorKind::Malformed,
        bad,
    );
    check_err(
        r#"{"id":5,"op":"thread_race","threads":-1,"hold_ms":0}"#,
        Some(5),
        RequestErrorKind::Malformed,
        bad,
    );
}

#[test]
fn malformed_without_id_is_not_answered() {
    for line in [
        "",
        "acquire",
        "{\"id\":1,",
        "[1,2]",
        "null",
        r#"{"op":"release"}"#,
        r#"{"id":-1,"op":"release"}"#,
        r#"{"id":1.5,"op":"release"}"#,
        r#"{"id":"1","op":"release"}"#,
        r#"{"id":18446744073709551616,"op":"release"}"#,
    ] {
        check_err(line, None, RequestErrorKind::Malformed, None);
    }
}

#[test]
fn too_long_line_is_rejected_before_parsing() {
    let padding = " ".repeat(MAX_LINE_BYTES);
    let line = format!(r#"{{"id":1,"op":"release"}}{padding}"#);
    check_err(&line, None, RequestErrorKind::TooLong, None);
    let request = r#"{"id":1,"op":"release"}"#;
    let fits = request.to_owned() + &" ".repeat(MAX_LINE_BYTES - request.len());
    assert_eq!(fits.len(), MAX_LINE_BYTES);
    assert_eq!(parse_request(&fits).map(|r| r.op), Ok(Op::Release));
}

#[test]
fn trailing_newline_is_allowed() {
    for line in [
        "{\"id\":1,\"op\":\"release\"}\n",
        "{\"id\":1,\"op\":\"release\"}\r\n",
    ] {
        assert_eq!(parse_request(line).map(|r| r.op), Ok(Op::Release));
    }
    let message = parse_adapter_message("{\"type\":\"response\",\"id\":1,\"status\":\"ok\"}\r\n");
    assert!(matches!(message, Ok(AdapterMessage::Response(r)) if r.status == Status::Ok));
}

#[test]
fn error_messages() {
    let messages: Vec<String> = [
        "not json",
        r#"{"op":"release"}"#,
        r#"{"id":2,"op":"acquire"}"#,
        r#"{"id":4,"op":"acquire","mode":"exclusive","wait":"timeout"}"#,
        r#"{"id":5,"op":"downgrade"}"#,
    ]
    .iter()
    .map(|line| parse_request(line).unwrap_err().to_string())
    .collect();
    insta::assert_snapshot!(messages.join("\n"));
}

#[track_caller]
fn check_bad_message(line: &str) -> String {
    parse_adapter_message(line).expect_err(line)
}

#[test]
fn bad_adapter_messages() {
    let errors = [
        "hello",
        r#"{"id":1,"status":"ok"}"#,
        r#"{"type":"response","id":1,"status":"held"}"#,
        r#"{"type":"response","id":1,"status":"error","message":"no kind"}"#,
        r#"{"type":"response","id":1,"status":"error","kind":"disk_on_fire"}"#,
        r#"{"type":"hello","protocol":1,"implementation":{"name":"x","version":"1","language":"c"},"capabilities":["teleport"],"recovery":{"kind":"kernel"}}"#,
        r#"{"type":"hello","protocol":1,"implementation":{"name":"x","version":"1","language":"c"},"capabilities":[],"recovery":{"kind":"lease"}}"#,
    ]
    .map(check_bad_message);
    insta::assert_snapshot!(errors.join("\n"));
}

#[test]
fn error_response_with_kind_is_accepted() {
    let message =
        parse_adapter_message(r#"{"type":"response","id":1,"status":"error","kind":"not_held"}"#);
    let Ok(AdapterMessage::Response(response)) = message else {
        panic!("{message:?}");
    };
    assert_eq!(response.kind, Some(ErrorKind::NotHeld));
}
