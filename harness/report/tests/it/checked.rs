//! Run results made by the real checker: catalogue scenarios, histories written as a lock
//! would produce them, and `lockcheck_model::check` for the verdict and credited holds.

use std::collections::{HashMap, VecDeque};

use lockcheck_model::{
    Event, EventKind, Fault, History, RunResult, ScenarioResult, Verdict, check, credited_holds,
};
use lockcheck_protocol::{Op, Request, Response, Status};

use crate::fixture::implementation;
pub use crate::fixture::try_exclusive;

/// A history under construction: requests get ids per participant, and each answer answers
/// its participant's oldest unanswered request.
#[derive(Default)]
pub struct Script {
    events: Vec<Event>,
    next_id: HashMap<String, u64>,
    pending: HashMap<String, VecDeque<u64>>,
    round: Option<u32>,
}

impl Script {
    fn push(&mut self, ms: f64, step: Option<u32>, kind: EventKind) -> &mut Script {
        self.events.push(Event {
            at_ns: (ms * 1e6) as u64,
            step,
            round: self.round,
            kind,
        });
        self
    }

    pub fn spawn(&mut self, ms: f64, who: &str, pid: u32) -> &mut Script {
        let participant = who.to_owned();
        self.push(ms, None, EventKind::Spawned { participant, pid })
    }

    pub fn send(&mut self, ms: f64, who: &str, step: u32, op: Op) -> &mut Script {
        let id = self.next_id.entry(who.to_owned()).or_default();
        *id += 1;
        let request = Request::new(*id, op);
        self.pending
            .entry(who.to_owned())
            .or_default()
            .push_back(*id);
        let participant = who.to_owned();
        self.push(
            ms,
            Some(step),
            EventKind::Sent {
                participant,
                request,
            },
        )
    }

    pub fn answer(&mut self, ms: f64, who: &str, step: u32, status: Status) -> &mut Script {
        let id = self
            .pending
            .get_mut(who)
            .and_then(VecDeque::pop_front)
            .expect("an outstanding request");
        let participant = who.to_owned();
        let response = Response::new(id, status);
        self.push(
            ms,
            Some(step),
            EventKind::Received {
                participant,
                response,
            },
        )
    }

    pub fn fault(&mut self, ms: f64, who: &str, step: u32, fault: Fault) -> &mut Script {
        let participant = Some(who.to_owned());
        self.push(ms, Some(step), EventKind::Fault { participant, fault })
    }

    pub fn killed(&mut self, ms: f64, who: &str) -> &mut Script {
        let participant = who.to_owned();
        self.push(
            ms,
            None,
            EventKind::Exited {
                participant,
                code: None,
                signal: Some(9),
            },
        )
    }

    /// Later events are of race round `round`.
    pub fn round(&mut self, round: u32) -> &mut Script {
        self.round = Some(round);
        self
    }

    pub fn history(&mut self) -> History {
        History {
            seed: 7,
            iteration: 0,
            events: std::mem::take(&mut self.events),
        }
    }
}

/// The catalogue scenario `id`, judged by the checker on `history` (kept, with its holds).
pub fn checked(id: &str, history: History) -> ScenarioResult {
    let path = format!("{}/../../scenarios/{id}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("catalogue scenario");
    let scenario = lockcheck_model::parse_scenario(&format!("{id}.toml"), &text).expect("parses");
    ScenarioResult {
        scenario: id.to_owned(),
        level: scenario.level,
        verdict: check(&scenario, &history),
        iterations: 1,
        duration_ms: 30,
        replay: format!("lockcheck run --impl no-op.toml --scenario {id} --seed 7"),
        holds: credited_holds(&scenario, &history),
        history: Some(history),
    }
}

/// `exclusive-basic` against a lock that grants everything: b gets the lock a holds.
pub fn no_op_exclusive_basic() -> ScenarioResult {
    let mut s = Script::default();
    s.spawn(0.5, "a", 4121).spawn(0.6, "b", 4122);
    s.send(2.0, "a", 0, try_exclusive())
        .answer(2.4, "a", 0, Status::Ok);
    s.send(4.0, "b", 1, try_exclusive())
        .answer(4.3, "b", 1, Status::Ok);
    s.send(6.0, "a", 2, Op::Release)
        .answer(6.2, "a", 2, Status::Ok);
    s.send(8.0, "b", 3, try_exclusive())
        .answer(8.1, "b", 3, Status::Ok);
    s.send(10.0, "b", 4, Op::Release)
        .answer(10.2, "b", 4, Status::Ok);
    checked("exclusive-basic", s.history())
}

/// `pause-holder` against a sound lock: b is refused while a is stopped.
pub fn sound_pause_holder() -> ScenarioResult {
    let mut s = Script::default();
    s.spawn(0.5, "a", 4121).spawn(0.6, "b", 4122);
    s.send(2.0, "a", 0, try_exclusive())
        .answer(2.3, "a", 0, Status::Ok);
    s.fault(3.0, "a", 1, Fault::Stop);
    s.send(20.0, "b", 3, try_exclusive())
        .answer(20.2, "b", 3, Status::Busy);
    s.fault(21.0, "a", 4, Fault::Cont);
    s.send(22.0, "a", 5, Op::Release)
        .answer(22.3, "a", 5, Status::Ok);
    s.send(23.0, "b", 6, try_exclusive())
        .answer(23.2, "b", 6, Status::Ok);
    s.send(24.0, "b", 7, Op::Release)
        .answer(24.1, "b", 7, Status::Ok);
    checked("pause-holder", s.history())
}

/// `crash-holder` against a sound lock: a is killed holding it, and b then gets it.
pub fn sound_crash_holder() -> ScenarioResult {
    let mut s = Script::default();
    s.spawn(0.5, "a", 4121).spawn(0.6, "b", 4122);
    s.send(2.0, "a", 0, try_exclusive())
        .answer(2.3, "a", 0, Status::Ok);
    s.fault(3.0, "a", 1, Fault::Kill).killed(3.4, "a");
    s.send(4.0, "b", 2, try_exclusive())
        .answer(4.2, "b", 2, Status::Ok);
    s.send(5.0, "b", 3, Op::Release)
        .answer(5.1, "b", 3, Status::Ok);
    checked("crash-holder", s.history())
}

/// `race-50` against a lock that grants everything: every racer wins each of `rounds`
/// rounds.
pub fn no_op_race_50(rounds: u32) -> ScenarioResult {
    let mut s = Script::default();
    let racers: Vec<String> = (0..50).map(|i| format!("c.{i}")).collect();
    for (i, who) in racers.iter().enumerate() {
        s.spawn(0.1 + i as f64 * 0.01, who, 5000 + i as u32);
    }
    for round in 0..rounds {
        let start = 2.0 + f64::from(round) * 10.0;
        s.round(round);
        for (i, who) in racers.iter().enumerate() {
            let at = start + i as f64 * 0.02;
            s.send(at, who, 0, try_exclusive())
                .answer(at + 0.3, who, 0, Status::Ok);
        }
        for (i, who) in racers.iter().enumerate() {
            let at = start + 3.0 + i as f64 * 0.02;
            s.send(at, who, 0, Op::Release)
                .answer(at + 0.1, who, 0, Status::Ok);
        }
    }
    checked("race-50", s.history())
}

/// A skipped scenario: it never ran, so there is no history.
pub fn skipped(id: &str) -> ScenarioResult {
    ScenarioResult {
        scenario: id.to_owned(),
        level: lockcheck_model::Level::Shared,
        verdict: Verdict::Skip {
            reason: "the implementation does not declare `shared`".to_owned(),
        },
        iterations: 0,
        duration_ms: 0,
        replay: String::new(),
        history: None,
        holds: Vec::new(),
    }
}

/// A run of `scenarios`, in that order.
pub fn run(scenarios: Vec<ScenarioResult>) -> RunResult {
    RunResult {
        implementation: Some(implementation()),
        manifest: "no-op".to_owned(),
        seed: 7,
        scenarios,
        duration_ms: 120,
        interrupted: false,
        containment: lockcheck_model::Containment::Cgroup,
    }
}
