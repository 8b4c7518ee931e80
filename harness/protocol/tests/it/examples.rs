//! One value of every request and message shape, shared by the wire and schema tests.

use lockcheck_protocol::{
    AdapterMessage, Capability, ErrorKind, Hello, HolderInfo, Implementation, Mode, Op, Recovery,
    Request, Response, Status, Wait,
};

/// Every op, with its fields set in each way that changes the wire shape.
pub fn requests() -> Vec<Request> {
    let ops = vec![
        Op::Acquire {
            mode: Mode::Exclusive,
            wait: Wait::Try,
            timeout_ms: None,
        },
        Op::Acquire {
            mode: Mode::Shared,
            wait: Wait::Block,
            timeout_ms: None,
        },
        Op::Acquire {
            mode: Mode::Exclusive,
            wait: Wait::Timeout,
            timeout_ms: Some(250),
        },
        Op::Release,
        Op::Holder,
        Op::SpawnChild,
        Op::TouchFd,
        Op::SecondHandle {
            mode: Mode::Exclusive,
        },
        Op::ReleaseSecond,
        Op::ThreadRace {
            threads: 8,
            hold_ms: 20,
        },
        Op::Bench {
            hold_us: 0,
            duration_ms: 300,
            max_acquisitions: 1_000_000,
            samples: "/tmp/lockcheck-bench-Qx1/c0.samples".to_owned(),
        },
        Op::Exit,
    ];
    ops.into_iter()
        .zip(1..)
        .map(|(op, id)| Request::new(id, op))
        .collect()
}

pub fn hello(recovery: Recovery) -> Hello {
    Hello {
        protocol: 1,
        implementation: Implementation {
            name: "filelock".to_owned(),
            version: "3.16.1".to_owned(),
            language: "python".to_owned(),
        },
        capabilities: Capability::ALL.to_vec(),
        recovery,
        timed_start: false,
    }
}

/// Every hello recovery, every status, every error kind, and every optional field.
pub fn messages() -> Vec<AdapterMessage> {
    let mut out: Vec<AdapterMessage> = [
        Recovery::Kernel,
        Recovery::StalePid,
        Recovery::Lease { ms: 30_000 },
        Recovery::None,
    ]
    .into_iter()
    .map(|r| AdapterMessage::Hello(hello(r)))
    .collect();
    for status in Status::ALL {
        let kind = (status == Status::Error).then_some(ErrorKind::Io);
        out.push(AdapterMessage::Response(Response {
            kind,
            t_ns: Some(1_000),
            ..Response::new(1, status)
        }));
    }
    for kind in ErrorKind::ALL {
        out.push(AdapterMessage::Response(Response::error(
            2,
            kind,
            format!("failed with {kind}"),
        )));
    }
    out.push(AdapterMessage::Response(Response {
        holder: Some(HolderInfo {
            pid: Some(4121),
            host: Some("ci-7".to_owned()),
            detail: Some("app --serve".to_owned()),
        }),
        ..Response::new(3, Status::Ok)
    }));
    out.push(AdapterMessage::Response(Response {
        holder: Some(HolderInfo::default()),
        ..Response::new(4, Status::Ok)
    }));
    out.push(AdapterMessage::Response(Response {
        child_pid: Some(4188),
        ..Response::new(5, Status::Ok)
    }));
    out.push(AdapterMessage::Response(Response {
        winners: Some(1),
        ..Response::new(6, Status::Ok)
    }));
    out.push(AdapterMessage::Response(Response {
        acquisitions: Some(184_467),
        cpu_ns: Some(297_110_000),
        ..Response::new(7, Status::Ok)
    }));
    out.push(AdapterMessage::Response(Response {
        token: Some(u64::MAX),
        t_ns: Some(u64::MAX),
        ..Response::new(u64::MAX, Status::Ok)
    }));
    out
}
