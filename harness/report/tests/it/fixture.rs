//! Hand-made run results covering every verdict and every kind of finding.

use lockcheck_model::{
    BrokenReason, Event, EventKind, Expectation, Expectations, Fault, Finding, FindingKind,
    History, Interval, Level, RunResult, ScenarioResult, Verdict,
};
use lockcheck_protocol::{
    Capability, ErrorKind, Hello, Implementation, Mode, Op, Recovery, Request, Response, Status,
    Wait,
};
use lockcheck_report::Cell;

pub fn ms(ms: u64) -> u64 {
    ms * 1_000_000
}

pub fn event(at_ns: u64, kind: EventKind) -> Event {
    Event {
        at_ns,
        step: None,
        round: None,
        kind,
    }
}

pub fn sent(at_ns: u64, participant: &str, id: u64, op: Op) -> Event {
    event(
        at_ns,
        EventKind::Sent {
            participant: participant.to_owned(),
            request: Request::new(id, op),
        },
    )
}

pub fn received(at_ns: u64, participant: &str, response: Response) -> Event {
    event(
        at_ns,
        EventKind::Received {
            participant: participant.to_owned(),
            response,
        },
    )
}

pub fn try_exclusive() -> Op {
    Op::Acquire {
        mode: Mode::Exclusive,
        wait: Wait::Try,
        timeout_ms: None,
    }
}

pub fn implementation() -> Implementation {
    Implementation {
        name: "mutant-unlink".to_owned(),
        version: "0.1.0".to_owned(),
        language: "rust".to_owned(),
    }
}

fn hello() -> Hello {
    Hello {
        protocol: 1,
        implementation: implementation(),
        capabilities: vec![Capability::Exclusive, Capability::Try, Capability::Timeout],
        recovery: Recovery::Kernel,
        timed_start: false,
    }
}

/// Two participants acquire; b's acquire succeeds while a still holds.
fn race_history() -> History {
    let mut events = vec![
        event(
            ms(1),
            EventKind::Spawned {
                participant: "a".to_owned(),
                pid: 4121,
            },
        ),
        event(
            ms(1) + 5_000,
            EventKind::Spawned {
                participant: "b".to_owned(),
                pid: 4122,
            },
        ),
        event(
            ms(3),
            EventKind::Hello {
                participant: "a".to_owned(),
                hello: hello(),
            },
        ),
        sent(ms(12), "a", 3, try_exclusive()),
        received(
            12_345_678,
            "a",
            Response {
                token: Some(7),
                t_ns: Some(99_000),
                ..Response::new(3, Status::Ok)
            },
        ),
        sent(ms(14), "b", 3, try_exclusive()),
        received(15_000_100, "b", Response::new(3, Status::Ok)),
        event(
            ms(16),
            EventKind::Stderr {
                participant: "b".to_owned(),
                line: "unlinked stale lock file".to_owned(),
            },
        ),
        sent(ms(20), "a", 4, Op::Release),
    ];
    for e in &mut events[3..] {
        e.step = Some(2);
        e.round = Some(17);
    }
    History {
        seed: 42,
        iteration: 3,
        events,
    }
}

fn timeout_history() -> History {
    History {
        seed: 42,
        iteration: 0,
        events: vec![
            sent(
                ms(5),
                "b",
                2,
                Op::Acquire {
                    mode: Mode::Exclusive,
                    wait: Wait::Timeout,
                    timeout_ms: Some(250),
                },
            ),
            received(ms(5) + 1_250_000, "b", Response::new(2, Status::Ok)),
            sent(ms(7), "b", 3, Op::Release),
            received(
                ms(8),
                "b",
                Response::error(3, ErrorKind::NotHeld, "release: not held"),
            ),
        ],
    }
}

fn broken_history() -> History {
    History {
        seed: 42,
        iteration: 0,
        events: vec![
            sent(ms(40), "b", 1, try_exclusive()),
            event(
                ms(41),
                EventKind::Fault {
                    participant: Some("a".to_owned()),
                    fault: Fault::Kill,
                },
            ),
            event(
                ms(42),
                EventKind::Exited {
                    participant: "a".to_owned(),
                    code: None,
                    signal: Some(9),
                },
            ),
            event(
                ms(5_040),
                EventKind::Broken {
                    participant: Some("b".to_owned()),
                    reason: BrokenReason::Hang {
                        op: "acquire".to_owned(),
                        waited_ms: 5_000,
                    },
                },
            ),
        ],
    }
}

fn scenario(level: Level, id: &str, verdict: Verdict, duration_ms: u64) -> ScenarioResult {
    ScenarioResult {
        scenario: id.to_owned(),
        level,
        verdict,
        iterations: 1,
        duration_ms,
        replay: format!(
            "lockcheck run --impl fixtures/impls/mutant-unlink.toml --scenario {id} --seed 42"
        ),
        history: None,
        holds: Vec::new(),
    }
}

/// One scenario of every verdict; the failures carry every kind of finding.
pub fn run() -> RunResult {
    let pass = scenario(Level::Core, "exclusive-basic", Verdict::Pass, 12);
    let race = ScenarioResult {
        iterations: 4,
        history: Some(race_history()),
        ..scenario(
            Level::Core,
            "race-50",
            Verdict::Fail {
                findings: vec![
                    Finding::new(
                        FindingKind::Overlap {
                            first: Interval {
                                holder: "a".to_owned(),
                                mode: "exclusive".to_owned(),
                                from_ns: 12_345_678,
                                to_ns: Some(ms(20)),
                            },
                            second: Interval {
                                holder: "b".to_owned(),
                                mode: "exclusive".to_owned(),
                                from_ns: 15_000_100,
                                to_ns: None,
                            },
                        },
                        Some(2),
                        vec![3, 4, 5, 6, 8],
                    ),
                    Finding::new(
                        FindingKind::Winners {
                            round: 17,
                            expected: "exactly 1".to_owned(),
                            got: 2,
                        },
                        Some(2),
                        vec![4, 6],
                    ),
                ],
            },
            1_340,
        )
    };
    let timeout = ScenarioResult {
        history: Some(timeout_history()),
        ..scenario(
            Level::Core,
            "timeout-honored",
            Verdict::Fail {
                findings: vec![
                    Finding::new(
                        FindingKind::Outcome {
                            participant: "b".to_owned(),
                            expected: "timeout".to_owned(),
                            got: "ok".to_owned(),
                        },
                        Some(1),
                        vec![0, 1],
                    ),
                    Finding::new(
                        FindingKind::Latency {
                            participant: "b".to_owned(),
                            bound: ">= 250 ms".to_owned(),
                            measured_ms: 1.25,
                        },
                        Some(1),
                        vec![0, 1],
                    ),
                ],
            },
            260,
        )
    };
    let holder = scenario(
        Level::Fs,
        "symlink-at-path",
        Verdict::Fail {
            findings: vec![
                Finding::new(
                    FindingKind::Victim {
                        detail: "truncated to 0 bytes".to_owned(),
                    },
                    None,
                    vec![],
                ),
                Finding::new(
                    FindingKind::Holder {
                        expected: "a (pid 4121)".to_owned(),
                        got: "pid 1".to_owned(),
                    },
                    Some(3),
                    vec![7],
                ),
            ],
        },
        31,
    );
    let skip = scenario(
        Level::Shared,
        "shared-coexist",
        Verdict::Skip {
            reason: "missing capability: shared".to_owned(),
        },
        0,
    );
    let broken = ScenarioResult {
        history: Some(broken_history()),
        ..scenario(
            Level::Crash,
            "crash-holder",
            Verdict::broken(
                Some("b"),
                BrokenReason::Hang {
                    op: "acquire".to_owned(),
                    waited_ms: 5000,
                },
            ),
            5_100,
        )
    };
    RunResult {
        implementation: Some(implementation()),
        manifest: "mutant-unlink".to_owned(),
        seed: 42,
        scenarios: vec![pass, race, timeout, holder, skip, broken],
        duration_ms: 12_345,
    }
}

/// Each scenario of `run` judged with no expectation: its verdict as it is.
pub fn cells(run: &RunResult) -> Vec<Cell> {
    run.scenarios.iter().map(|s| Cell::judge(s, None)).collect()
}

/// The fixture run's scenarios judged against known failures: race-50's overlap (an
/// `xfail`), an `exclusive-basic` failure that passed (an `xpass`), and timeout-honored
/// expected to fail by a check that did not fire (a `fail`).
pub fn judged_cells(run: &RunResult) -> Vec<Cell> {
    let expect = |scenario: &str, check: &str, reason: &str| Expectation {
        scenario: scenario.to_owned(),
        check: check.to_owned(),
        reason: reason.to_owned(),
        link: None,
        intermittent: None,
    };
    let expectations = Expectations {
        entries: vec![
            expect("race-50", "overlap", "unlinks a live holder's file"),
            expect("exclusive-basic", "outcome", "grants every try"),
            expect("timeout-honored", "holder", "reports no holder"),
        ],
    };
    run.scenarios
        .iter()
        .map(|s| Cell::judge(s, expectations.get(&s.scenario)))
        .collect()
}
