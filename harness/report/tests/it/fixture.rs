//! Run results covering every verdict: constructed histories, judged by the real checker, so
//! that what the reports print is what the checker says.

use lockcheck_model::{
    BrokenReason, Event, EventKind, Expectation, Expectations, Fault, History, Observation,
    RunResult, Scenario, ScenarioResult, Verdict, parse_scenario,
};
use lockcheck_protocol::{
    Capability, Hello, HolderInfo, Implementation, Mode, Op, Recovery, Request, Response, Status,
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
        capabilities: vec![
            Capability::Exclusive,
            Capability::Try,
            Capability::Timeout,
            Capability::HolderInfo,
        ],
        recovery: Recovery::Kernel,
        timed_start: false,
    }
}

/// A scenario of the catalogue, as the checker reads it.
fn catalogue(id: &str) -> Scenario {
    let text = match id {
        "exclusive-basic" => include_str!("../../../../scenarios/exclusive-basic.toml"),
        "timeout-honored" => include_str!("../../../../scenarios/timeout-honored.toml"),
        "symlink-at-path" => include_str!("../../../../scenarios/symlink-at-path.toml"),
        "holder-info" => include_str!("../../../../scenarios/holder-info.toml"),
        "shared-coexist" => include_str!("../../../../scenarios/shared-coexist.toml"),
        "crash-holder" => include_str!("../../../../scenarios/crash-holder.toml"),
        "blocking-handoff" => include_str!("../../../../scenarios/blocking-handoff.toml"),
        other => panic!("no fixture reads scenario `{other}`"),
    };
    parse_scenario(&format!("{id}.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

/// Three racers, one round: few enough to read, as many checks as race-50's.
const RACE: &str = r#"
id = "race"
level = "core"
description = "Three participants race for the lock."
catches = "more than one winner"
requires = ["exclusive", "try"]
[[participants]]
name = "c"
count = 3
[[steps]]
who = "c"
do = "race"
rounds = 1
"#;

fn spawned(at_ns: u64, participant: &str, pid: u32) -> Event {
    event(
        at_ns,
        EventKind::Spawned {
            participant: participant.to_owned(),
            pid,
        },
    )
}

/// `events` with each one's step (and race round) set.
fn at_steps(events: Vec<(Option<u32>, Event)>, round: Option<u32>) -> Vec<Event> {
    events
        .into_iter()
        .map(|(step, mut e)| {
            e.step = step;
            e.round = step.and(round);
            e
        })
        .collect()
}

fn ok(id: u64) -> Response {
    Response::new(id, Status::Ok)
}

/// a takes the lock, b finds it busy, a releases, b takes and releases it.
fn exclusive_basic_history() -> History {
    let events = vec![
        (None, spawned(0, "a", 4121)),
        (None, spawned(5_000, "b", 4122)),
        (Some(0), sent(ms(1), "a", 1, try_exclusive())),
        (Some(0), received(ms(2), "a", ok(1))),
        (Some(1), sent(ms(3), "b", 1, try_exclusive())),
        (
            Some(1),
            received(ms(4), "b", Response::new(1, Status::Busy)),
        ),
        (Some(2), sent(ms(5), "a", 2, Op::Release)),
        (Some(2), received(ms(6), "a", ok(2))),
        (Some(3), sent(ms(7), "b", 2, try_exclusive())),
        (Some(3), received(ms(8), "b", ok(2))),
        (Some(4), sent(ms(9), "b", 3, Op::Release)),
        (Some(4), received(ms(10), "b", ok(3))),
    ];
    History {
        seed: 42,
        iteration: 0,
        events: at_steps(events, None),
    }
}

/// Two of three racers win the same round; one says why on its stderr.
fn race_history() -> History {
    let mut events = vec![
        (None, spawned(ms(1), "c.0", 4121)),
        (None, spawned(ms(1) + 5_000, "c.1", 4122)),
        (None, spawned(ms(1) + 9_000, "c.2", 4123)),
        (
            None,
            event(
                ms(3),
                EventKind::Hello {
                    participant: "c.0".to_owned(),
                    hello: hello(),
                },
            ),
        ),
    ];
    let step = Some(0);
    events.extend([
        (step, sent(ms(12), "c.0", 1, try_exclusive())),
        (step, sent(ms(12) + 2_000, "c.1", 1, try_exclusive())),
        (step, sent(ms(12) + 4_000, "c.2", 1, try_exclusive())),
        (
            step,
            received(
                12_345_678,
                "c.0",
                Response {
                    token: Some(7),
                    t_ns: Some(99_000),
                    ..ok(1)
                },
            ),
        ),
        (step, received(15_000_100, "c.1", ok(1))),
        (
            step,
            received(15_200_000, "c.2", Response::new(1, Status::Busy)),
        ),
        (
            step,
            event(
                ms(16),
                EventKind::Stderr {
                    participant: "c.1".to_owned(),
                    line: "unlinked stale lock file".to_owned(),
                },
            ),
        ),
        (step, sent(ms(20), "c.0", 2, Op::Release)),
        (step, received(ms(21), "c.0", ok(2))),
        (step, sent(ms(22), "c.1", 2, Op::Release)),
        (step, received(ms(23), "c.1", ok(2))),
    ]);
    History {
        seed: 42,
        iteration: 3,
        events: at_steps(events, Some(1)),
    }
}

/// b's acquire with a 300 ms timeout gives up after 1.25 ms.
fn timeout_history() -> History {
    let acquire = Op::Acquire {
        mode: Mode::Exclusive,
        wait: Wait::Timeout,
        timeout_ms: Some(300),
    };
    let events = vec![
        (None, spawned(0, "a", 4121)),
        (None, spawned(0, "b", 4122)),
        (Some(0), sent(ms(1), "a", 1, try_exclusive())),
        (Some(0), received(ms(2), "a", ok(1))),
        (Some(1), sent(ms(5), "b", 1, acquire)),
        (
            Some(1),
            received(ms(5) + 1_250_000, "b", Response::new(1, Status::Timeout)),
        ),
        (Some(2), sent(ms(7), "a", 2, Op::Release)),
        (Some(2), received(ms(8), "a", ok(2))),
    ];
    History {
        seed: 42,
        iteration: 0,
        events: at_steps(events, None),
    }
}

/// The lock path is a symlink to a victim file; a's acquire follows it and truncates it.
fn symlink_history() -> History {
    let events = vec![
        (None, spawned(0, "a", 4121)),
        (
            Some(0),
            event(
                ms(1),
                EventKind::Fault {
                    participant: None,
                    fault: Fault::Symlink,
                },
            ),
        ),
        (Some(1), sent(ms(2), "a", 1, try_exclusive())),
        (Some(1), received(ms(3), "a", ok(1))),
        (
            Some(2),
            event(
                ms(4),
                EventKind::Observed {
                    observation: Observation::Victim {
                        unchanged: false,
                        detail: Some("truncated to 0 bytes".to_owned()),
                    },
                },
            ),
        ),
    ];
    History {
        seed: 42,
        iteration: 0,
        events: at_steps(events, None),
    }
}

/// a holds the lock; asked who does, b's adapter names pid 1.
fn holder_history() -> History {
    let holder = |pid| Response {
        holder: Some(HolderInfo {
            pid: Some(pid),
            host: None,
            detail: None,
        }),
        ..ok(1)
    };
    let events = vec![
        (None, spawned(0, "a", 4121)),
        (None, spawned(0, "b", 4122)),
        (Some(0), sent(ms(1), "a", 1, try_exclusive())),
        (Some(0), received(ms(2), "a", ok(1))),
        (Some(1), sent(ms(3), "b", 1, Op::Holder)),
        (Some(1), received(ms(4), "b", holder(1))),
        (Some(2), sent(ms(5), "a", 2, Op::Holder)),
        (
            Some(2),
            received(
                ms(6),
                "a",
                Response {
                    id: 2,
                    ..holder(4121)
                },
            ),
        ),
        (Some(3), sent(ms(7), "a", 3, Op::Release)),
        (Some(3), received(ms(8), "a", ok(3))),
        (Some(4), sent(ms(9), "b", 2, Op::Holder)),
        (Some(4), received(ms(10), "b", ok(2))),
    ];
    History {
        seed: 42,
        iteration: 0,
        events: at_steps(events, None),
    }
}

/// a is killed while it holds the lock; b waits for it and never hears back.
fn broken_history() -> History {
    let recovery_wait = Op::Acquire {
        mode: Mode::Exclusive,
        wait: Wait::Block,
        timeout_ms: None,
    };
    let events = vec![
        (None, spawned(0, "a", 4121)),
        (None, spawned(0, "b", 4122)),
        (Some(0), sent(ms(1), "a", 1, try_exclusive())),
        (Some(0), received(ms(2), "a", ok(1))),
        (
            Some(1),
            event(
                ms(41),
                EventKind::Fault {
                    participant: Some("a".to_owned()),
                    fault: Fault::Kill,
                },
            ),
        ),
        (
            Some(1),
            event(
                ms(42),
                EventKind::Exited {
                    participant: "a".to_owned(),
                    code: None,
                    signal: Some(9),
                },
            ),
        ),
        (Some(2), sent(ms(43), "b", 1, recovery_wait)),
        (
            Some(2),
            event(
                ms(5_043),
                EventKind::Broken {
                    participant: Some("b".to_owned()),
                    reason: BrokenReason::Hang {
                        op: "acquire".to_owned(),
                        waited_ms: 5_000,
                    },
                },
            ),
        ),
    ];
    History {
        seed: 42,
        iteration: 0,
        events: at_steps(events, None),
    }
}

/// blocking-handoff where b's blocking acquire is never answered after a releases; once the
/// runner gave up on b, a's try got the lock: a lost wake-up.
fn lost_wakeup_history() -> History {
    let block = Op::Acquire {
        mode: Mode::Exclusive,
        wait: Wait::Block,
        timeout_ms: None,
    };
    let events = vec![
        (None, spawned(0, "a", 4121)),
        (None, spawned(0, "b", 4122)),
        (Some(0), sent(ms(1), "a", 1, try_exclusive())),
        (Some(0), received(ms(2), "a", ok(1))),
        (Some(1), sent(ms(3), "b", 1, block)),
        (Some(2), sent(ms(50), "a", 2, Op::Release)),
        (Some(2), received(ms(51), "a", ok(2))),
        (Some(3), sent(ms(10_050), "a", 3, try_exclusive())),
        (Some(3), received(ms(10_051), "a", ok(3))),
        (
            Some(3),
            event(
                ms(10_052),
                EventKind::Broken {
                    participant: Some("b".to_owned()),
                    reason: BrokenReason::Hang {
                        op: "acquire".to_owned(),
                        waited_ms: 10_000,
                    },
                },
            ),
        ),
    ];
    History {
        seed: 42,
        iteration: 0,
        events: at_steps(events, None),
    }
}

/// A run of blocking-handoff alone, failed by the liveness check.
pub fn lost_wakeup_run() -> RunResult {
    let result = checked(
        &catalogue("blocking-handoff"),
        lost_wakeup_history(),
        10_060,
    );
    assert_eq!(
        lockcheck_model::fired_checks(&result.verdict),
        ["liveness"],
        "{:?}",
        result.verdict
    );
    RunResult {
        scenarios: vec![result],
        duration_ms: 10_100,
        ..run()
    }
}

/// The result of `scenario` whose history the checker judged: its verdict and credited holds
/// are the checker's own.
fn checked(scenario: &Scenario, history: History, duration_ms: u64) -> ScenarioResult {
    ScenarioResult {
        verdict: lockcheck_model::check(scenario, &history),
        holds: lockcheck_model::credited_holds(scenario, &history),
        history: Some(history),
        ..result(scenario, Verdict::Pass, duration_ms)
    }
}

fn result(scenario: &Scenario, verdict: Verdict, duration_ms: u64) -> ScenarioResult {
    let id = &scenario.id;
    ScenarioResult {
        scenario: id.clone(),
        level: scenario.level,
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

/// One scenario of every verdict, each the checker's verdict on a constructed history (the
/// skip is the scenario's own reason for the adapter's capabilities); the failures carry
/// every kind of finding a history of a few participants can show.
pub fn run() -> RunResult {
    let pass = {
        let mut pass = checked(&catalogue("exclusive-basic"), exclusive_basic_history(), 12);
        // A pass keeps no history, as the runner keeps none.
        pass.history = None;
        pass.holds.clear();
        pass
    };
    let race = ScenarioResult {
        iterations: 4,
        ..checked(
            &parse_scenario("race.toml", RACE).unwrap(),
            race_history(),
            1_340,
        )
    };
    let timeout = checked(&catalogue("timeout-honored"), timeout_history(), 260);
    let symlink = checked(&catalogue("symlink-at-path"), symlink_history(), 31);
    let holder = checked(&catalogue("holder-info"), holder_history(), 9);
    let shared = catalogue("shared-coexist");
    let skip = result(
        &shared,
        Verdict::Skip {
            reason: shared
                .applicability(&hello())
                .expect("the fixture adapter cannot share"),
        },
        0,
    );
    let broken = checked(&catalogue("crash-holder"), broken_history(), 5_100);
    let run = RunResult {
        implementation: Some(implementation()),
        manifest: "mutant-unlink".to_owned(),
        seed: 42,
        scenarios: vec![pass, race, timeout, symlink, holder, skip, broken],
        duration_ms: 12_345,
        interrupted: false,
        containment: lockcheck_model::Containment::Cgroup,
    };
    let verdicts: Vec<&str> = run.scenarios.iter().map(|s| s.verdict.name()).collect();
    assert_eq!(
        verdicts,
        ["pass", "fail", "fail", "fail", "fail", "skip", "broken"],
        "the checker no longer judges the fixture's histories as the fixture says"
    );
    run
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
            expect("race", "overlap", "unlinks a live holder's file"),
            expect("exclusive-basic", "outcome", "grants every try"),
            expect("timeout-honored", "holder", "reports no holder"),
        ],
    };
    run.scenarios
        .iter()
        .map(|s| Cell::judge(s, expectations.get(&s.scenario)))
        .collect()
}
