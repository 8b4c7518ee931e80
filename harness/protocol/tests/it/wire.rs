//! The exact wire format of every request and message, and that it reads back unchanged.

use lockcheck_protocol::{AdapterMessage, Op, Request, parse_adapter_message, parse_request};

use crate::examples;

fn lines<T: serde::Serialize>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn requests_wire_format() {
    insta::assert_snapshot!(lines(&examples::requests()));
}

#[test]
fn adapter_messages_wire_format() {
    insta::assert_snapshot!(lines(&examples::messages()));
}

#[test]
fn requests_round_trip() {
    for request in examples::requests() {
        let line = serde_json::to_string(&request).unwrap();
        assert_eq!(parse_request(&line), Ok(request), "{line}");
    }
}

#[test]
fn adapter_messages_round_trip() {
    for message in examples::messages() {
        let line = serde_json::to_string(&message).unwrap();
        assert_eq!(parse_adapter_message(&line), Ok(message), "{line}");
    }
}

#[test]
fn examples_cover_every_op() {
    let mut seen: Vec<&str> = examples::requests().iter().map(|r| r.op.name()).collect();
    seen.dedup();
    assert_eq!(seen, Op::NAMES);
}

#[test]
fn op_name_is_the_wire_tag() {
    for Request { op, .. } in examples::requests() {
        let value = serde_json::to_value(&op).unwrap();
        assert_eq!(value["op"], op.name());
    }
}

#[test]
fn names_are_the_wire_names() {
    use lockcheck_protocol::{Capability, ErrorKind, Mode, Status, Vocabulary, Wait};
    #[track_caller]
    fn check<T: serde::Serialize + Vocabulary + std::fmt::Debug>() {
        for &value in T::all() {
            assert_eq!(serde_json::to_value(value).unwrap(), value.name());
            assert_eq!(T::from_name(value.name()), Some(value));
        }
    }
    check::<Capability>();
    check::<ErrorKind>();
    check::<Status>();
    check::<Mode>();
    check::<Wait>();
}

#[test]
fn op_capabilities() {
    let got: Vec<String> = examples::requests()
        .into_iter()
        .map(|r| {
            let caps: Vec<&str> = r.op.capabilities().iter().map(|c| c.as_str()).collect();
            format!(
                "{} => [{}]",
                serde_json::to_string(&r.op).unwrap(),
                caps.join(", ")
            )
        })
        .collect();
    insta::assert_snapshot!(got.join("\n"));
}

#[track_caller]
fn check_tolerant_request(line: &str, expect: Op) {
    assert_eq!(parse_request(line).map(|r| r.op), Ok(expect), "{line}");
}

#[test]
fn requests_ignore_unknown_fields() {
    check_tolerant_request(r#"{"id":1,"op":"release","priority":3}"#, Op::Release);
    check_tolerant_request(r#"{"op":"exit","x":{"y":[1]},"id":1}"#, Op::Exit);
    check_tolerant_request(
        r#"{"id":1,"op":"acquire","mode":"shared","wait":"try","hint":"fast"}"#,
        Op::Acquire {
            mode: lockcheck_protocol::Mode::Shared,
            wait: lockcheck_protocol::Wait::Try,
            timeout_ms: None,
        },
    );
    check_tolerant_request(
        r#"{"id":1,"op":"thread_race","threads":2,"hold_ms":0,"pin":true}"#,
        Op::ThreadRace {
            threads: 2,
            hold_ms: 0,
        },
    );
}

#[test]
fn adapter_messages_ignore_unknown_fields() {
    let hello = parse_adapter_message(
        r#"{"type":"hello","protocol":1,"os":"linux","implementation":{"name":"filelock","version":"3.16.1","language":"python","vendor":"x"},"capabilities":["exclusive","shared","try","block","timeout","holder_info","spawn_child","touch_fd","second_handle","threads","bench"],"recovery":{"kind":"kernel","note":"flock"}}"#,
    );
    assert_eq!(
        hello,
        Ok(AdapterMessage::Hello(examples::hello(
            lockcheck_protocol::Recovery::Kernel
        )))
    );
    let response = parse_adapter_message(
        r#"{"type":"response","id":9,"status":"ok","elapsed_ms":3,"holder":{"pid":1,"uid":0}}"#,
    );
    let AdapterMessage::Response(response) = response.unwrap() else {
        panic!("not a response");
    };
    assert_eq!(response.id, 9);
    assert_eq!(response.holder.unwrap().pid, Some(1));
}
