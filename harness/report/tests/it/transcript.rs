//! Transcript lines, event by event.

use lockcheck_model::{BrokenReason, EventKind, Fault, History, Observation};
use lockcheck_protocol::{Op, Response, Status};
use lockcheck_report::transcript;

use crate::fixture::{event, ms, received, sent, try_exclusive};

#[track_caller]
fn check(history: &History, events: &[usize], expect: &str) {
    assert_eq!(transcript(history, events).join("\n"), expect);
}

fn history(events: Vec<lockcheck_model::Event>) -> History {
    History {
        seed: 1,
        iteration: 0,
        events,
    }
}

#[test]
fn requests_and_responses() {
    let h = history(vec![
        sent(12_345_678, "b", 3, try_exclusive()),
        received(
            ms(13),
            "b",
            Response {
                t_ns: Some(5),
                ..Response::new(3, Status::Ok)
            },
        ),
    ]);
    check(
        &h,
        &[0, 1],
        "+12.345ms  b -> {\"id\":3,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n\
         +13.000ms  b <- {\"id\":3,\"status\":\"ok\"}",
    );
}

#[test]
fn columns_align() {
    let h = history(vec![
        sent(ms(2), "a", 1, Op::Release),
        sent(ms(1_234), "c.17", 1, Op::Exit),
    ]);
    check(
        &h,
        &[0, 1],
        "   +2.000ms  a    -> {\"id\":1,\"op\":\"release\"}\n\
         +1234.000ms  c.17 -> {\"id\":1,\"op\":\"exit\"}",
    );
}

#[test]
fn order_and_repeats_follow_the_indices() {
    let h = history(vec![
        sent(ms(1), "a", 1, Op::Release),
        sent(ms(2), "a", 2, Op::Exit),
    ]);
    check(
        &h,
        &[1, 0, 1],
        "+2.000ms  a -> {\"id\":2,\"op\":\"exit\"}\n\
         +1.000ms  a -> {\"id\":1,\"op\":\"release\"}\n\
         +2.000ms  a -> {\"id\":2,\"op\":\"exit\"}",
    );
    check(&h, &[], "");
}

#[test]
fn missing_event_is_reported_not_a_panic() {
    let h = history(vec![sent(ms(1), "a", 1, Op::Release)]);
    check(
        &h,
        &[0, 7],
        "+1.000ms  a -> {\"id\":1,\"op\":\"release\"}\n\
         (event #7 is not in the history, which has 1)",
    );
}

#[test]
fn other_events() {
    let p = |s: &str| s.to_owned();
    let h = history(vec![
        event(
            0,
            EventKind::Spawned {
                participant: p("a"),
                pid: 7,
            },
        ),
        event(
            1_000,
            EventKind::Fault {
                participant: Some(p("a")),
                fault: Fault::Stop,
            },
        ),
        event(
            2_000,
            EventKind::Fault {
                participant: None,
                fault: Fault::Plant {
                    detail: p("dead pid 9"),
                },
            },
        ),
        event(
            3_000,
            EventKind::Fault {
                participant: None,
                fault: Fault::ChmodDir { mode: 0o500 },
            },
        ),
        event(
            4_000,
            EventKind::Exited {
                participant: p("a"),
                code: Some(3),
                signal: None,
            },
        ),
        event(
            5_000,
            EventKind::Stderr {
                participant: p("a"),
                line: p("warning: x"),
            },
        ),
        event(
            6_000,
            EventKind::Observed {
                observation: Observation::Victim {
                    unchanged: false,
                    detail: Some(p("truncated")),
                },
            },
        ),
        event(
            7_000,
            EventKind::Broken {
                participant: Some(p("a")),
                reason: BrokenReason::BadLine {
                    message: p("expected value"),
                    line: p("hello!"),
                },
            },
        ),
        event(
            8_000,
            EventKind::Broken {
                participant: None,
                reason: BrokenReason::EarlyExit {
                    code: None,
                    signal: Some(9),
                },
            },
        ),
    ]);
    check(
        &h,
        &(0..9).collect::<Vec<_>>(),
        "+0.000ms  a spawned (pid 7)\n\
         +0.001ms  a !! stop\n\
         +0.002ms    !! planted lock file: dead pid 9\n\
         +0.003ms    !! lock directory mode set to 500\n\
         +0.004ms  a exited (code 3)\n\
         +0.005ms  a stderr: warning: x\n\
         +0.006ms    victim file changed: truncated\n\
         +0.007ms  a broken: adapter printed a line that is not protocol JSON: expected value: `hello!`\n\
         +0.008ms    broken: adapter exited while a response was outstanding (signal 9)",
    );
}

#[test]
fn huge_payloads_are_cut() {
    let h = history(vec![event(
        0,
        EventKind::Stderr {
            participant: "a".to_owned(),
            line: "é".repeat(1_000),
        },
    )]);
    let line = &transcript(&h, &[0])[0];
    assert_eq!(line, &format!("+0.000ms  a stderr: {}…", "é".repeat(100)));
}
