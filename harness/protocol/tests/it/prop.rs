//! Property tests: arbitrary requests and responses survive the wire, and no line panics the
//! parsers.

use lockcheck_protocol::{
    AdapterMessage, ErrorKind, HolderInfo, Mode, Op, Request, RequestErrorKind, Response, Status,
    Wait, parse_adapter_message, parse_request,
};
use proptest::prelude::*;

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Exclusive), Just(Mode::Shared)]
}

fn wait() -> impl Strategy<Value = Wait> {
    prop_oneof![Just(Wait::Try), Just(Wait::Block), Just(Wait::Timeout)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (mode(), wait(), any::<Option<u64>>()).prop_map(|(mode, wait, timeout_ms)| Op::Acquire {
            mode,
            wait,
            timeout_ms
        }),
        Just(Op::Release),
        Just(Op::Holder),
        Just(Op::SpawnChild),
        Just(Op::TouchFd),
        mode().prop_map(|mode| Op::SecondHandle { mode }),
        Just(Op::ReleaseSecond),
        (any::<u32>(), any::<u64>())
            .prop_map(|(threads, hold_ms)| Op::ThreadRace { threads, hold_ms }),
        (any::<u64>(), any::<u64>(), any::<u64>(), ".*").prop_map(
            |(hold_us, duration_ms, max_acquisitions, samples)| Op::Bench {
                hold_us,
                duration_ms,
                max_acquisitions,
                samples,
            }
        ),
        Just(Op::Exit),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    (any::<u64>(), op()).prop_map(|(id, op)| Request::new(id, op))
}

fn response() -> impl Strategy<Value = Response> {
    let holder = proptest::option::of(
        (
            any::<Option<u32>>(),
            proptest::option::of(".*"),
            proptest::option::of(".*"),
        )
            .prop_map(|(pid, host, detail)| HolderInfo { pid, host, detail }),
    );
    (
        any::<u64>(),
        proptest::sample::select(Status::ALL.to_vec()),
        proptest::sample::select(ErrorKind::ALL.to_vec()),
        proptest::option::of(".*"),
        holder,
        any::<(Option<u32>, Option<u32>, Option<u64>, Option<u64>)>(),
        any::<(Option<u64>, Option<u64>)>(),
    )
        .prop_map(
            |(
                id,
                status,
                kind,
                message,
                holder,
                (child_pid, winners, token, t_ns),
                (acquisitions, cpu_ns),
            )| Response {
                id,
                status,
                kind: (status == Status::Error).then_some(kind),
                message,
                holder,
                child_pid,
                winners,
                acquisitions,
                cpu_ns,
                token,
                t_ns,
            },
        )
}

proptest! {
    #[test]
    fn requests_round_trip(request in request()) {
        let line = serde_json::to_string(&request).unwrap();
        prop_assert!(!line.contains('\n'));
        prop_assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), request.clone());
        match parse_request(&line) {
            Ok(parsed) => prop_assert_eq!(parsed, request),
            Err(err) => {
                // The one request the types can express but the protocol forbids.
                let forbidden = matches!(
                    request.op,
                    Op::Acquire { wait: Wait::Timeout, timeout_ms: None, .. }
                );
                prop_assert!(forbidden, "{line}: {err}");
                prop_assert_eq!(err.kind(), &RequestErrorKind::Malformed);
                prop_assert_eq!(err.id(), Some(request.id));
            }
        }
    }

    #[test]
    fn responses_round_trip(response in response()) {
        let message = AdapterMessage::Response(response);
        let line = serde_json::to_string(&message).unwrap();
        prop_assert!(!line.contains('\n'));
        prop_assert_eq!(parse_adapter_message(&line), Ok(message));
    }

    #[test]
    fn arbitrary_lines_never_panic(line in ".*") {
        let _ = parse_request(&line);
        let _ = parse_adapter_message(&line);
    }

    #[test]
    fn arbitrary_objects_never_panic(
        id in proptest::option::of(any::<i64>()),
        op in proptest::option::of(prop_oneof![Just("acquire".to_owned()), ".*"]),
        extra in proptest::collection::btree_map("[a-z_]{1,12}", any::<i32>(), 0..4),
    ) {
        let mut map = serde_json::Map::new();
        for (k, v) in extra {
            map.insert(k, v.into());
        }
        if let Some(id) = id { map.insert("id".into(), id.into()); }
        if let Some(op) = op { map.insert("op".into(), op.into()); }
        let line = serde_json::Value::Object(map).to_string();
        if let Err(err) = parse_request(&line)
            && let Some(response) = err.to_response()
        {
            prop_assert_eq!(Some(response.id), err.id());
        }
    }
}
