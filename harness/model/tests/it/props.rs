//! Property tests: histories of a correct mutex pass, any injected overlap fails, and no
//! history at all makes the checker panic.

use lockcheck_model::{
    BrokenReason, Event, EventKind, Fault, FindingKind, History, Observation, Scenario, Verdict,
    check, parse_scenario,
};
use lockcheck_protocol::{HolderInfo, Mode, Op, Request, Response, Status, Wait};
use proptest::prelude::*;

use crate::support::catalogue_scenario;

const MODEL: &str = r#"
id = "model"
level = "core"
description = "Participants take turns on one lock; others try it while it is held."
catches = "checker regressions"
requires = ["exclusive", "try", "block"]
[[participants]]
name = "p"
count = 4
[[steps]]
who = "p"
do = "acquire"
wait = "block"
[[steps]]
who = "p.0"
do = "release"
[[steps]]
who = "p.0"
do = "acquire"
expect = "busy"
[[steps]]
who = "p.0"
do = "kill"
"#;

const PARTICIPANTS: usize = 4;

fn model() -> Scenario {
    parse_scenario("model.toml", MODEL).unwrap_or_else(|e| panic!("{e}"))
}

/// One turn of the lock: who takes it, the gaps between the events, whether someone else
/// tries it meanwhile, and whether the holder is killed instead of releasing.
#[derive(Debug, Clone)]
struct Turn {
    who: usize,
    wait_back: u64,
    grant_gap: u64,
    ack_gap: u64,
    hold: u64,
    effect_gap: u64,
    answer_gap: u64,
    busy: Option<(usize, u64)>,
    kill: bool,
}

/// A gap in nanoseconds, zero half the time so that ties on the clock are common.
fn gap(max: u64) -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), 0..max]
}

fn turn() -> impl Strategy<Value = Turn> {
    (
        0..PARTICIPANTS,
        0..50u64,
        gap(20),
        gap(20),
        0..50u64,
        gap(10),
        gap(10),
        proptest::option::of((0..PARTICIPANTS, 0..100u64)),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(who, wait_back, grant_gap, ack_gap, hold, effect_gap, answer_gap, busy, kill)| Turn {
                who,
                wait_back,
                grant_gap,
                ack_gap,
                hold,
                effect_gap,
                answer_gap,
                busy,
                kill,
            },
        )
}

/// Where one turn's events landed, for the mutations.
#[derive(Debug, Clone)]
struct Held {
    who: usize,
    acquire_sent: usize,
    ack: usize,
    /// Release sent or kill.
    end: usize,
    /// Release answered, when released.
    answer: Option<usize>,
}

struct Built {
    history: History,
    held: Vec<Held>,
}

fn name(p: usize) -> String {
    format!("p.{p}")
}

fn sent(at_ns: u64, step: u32, p: usize, id: u64, op: Op) -> Event {
    Event {
        at_ns,
        step: Some(step),
        round: None,
        kind: EventKind::Sent {
            participant: name(p),
            request: Request::new(id, op),
        },
    }
}

fn received(at_ns: u64, step: u32, p: usize, id: u64, status: Status) -> Event {
    Event {
        at_ns,
        step: Some(step),
        round: None,
        kind: EventKind::Received {
            participant: name(p),
            response: Response::new(id, status),
        },
    }
}

/// A history of a correct lock: each grant comes strictly after the previous holder's
/// release (or death) took effect, the runner reads the grant after it happened and sends
/// the release before it takes effect.
fn build(turns: &[Turn]) -> Built {
    let mut events = Vec::new();
    let mut held = Vec::new();
    let mut alive = [true; PARTICIPANTS];
    let mut free_at = [0u64; PARTICIPANTS];
    let mut ids = [0u64; PARTICIPANTS];
    for (p, _) in alive.iter().enumerate() {
        events.push(Event {
            at_ns: 0,
            step: None,
            round: None,
            kind: EventKind::Spawned {
                participant: name(p),
                pid: 100 + p as u32,
            },
        });
    }
    let mut lock_free_at = 0u64;
    for turn in turns {
        let living: Vec<usize> = (0..PARTICIPANTS).filter(|&p| alive[p]).collect();
        if living.is_empty() {
            break;
        }
        let p = living[turn.who % living.len()];
        let acquire_at = free_at[p].max(lock_free_at.saturating_sub(turn.wait_back));
        // Equal timestamps are allowed: the clock has finite resolution.
        let granted = lock_free_at.max(acquire_at) + turn.grant_gap;
        let ack = granted + turn.ack_gap;
        let end = ack + 2 + turn.hold;
        let effect = end + turn.effect_gap;

        ids[p] += 1;
        let id = ids[p];
        let acquire_sent = events.len();
        events.push(sent(
            acquire_at,
            0,
            p,
            id,
            Op::Acquire {
                mode: Mode::Exclusive,
                wait: Wait::Block,
                timeout_ms: None,
            },
        ));
        let ack_index = events.len();
        events.push(received(ack, 0, p, id, Status::Ok));

        if let Some((q, offset)) = turn.busy {
            let t = ack + offset % (end - ack + 1);
            if q != p && alive[q] && free_at[q] <= t {
                ids[q] += 1;
                let op = Op::Acquire {
                    mode: Mode::Exclusive,
                    wait: Wait::Try,
                    timeout_ms: None,
                };
                events.push(sent(t, 2, q, ids[q], op));
                events.push(received(t + 1, 2, q, ids[q], Status::Busy));
                free_at[q] = t + 2;
            }
        }

        let end_index = events.len();
        let answer = if turn.kill {
            events.push(Event {
                at_ns: end,
                step: Some(3),
                round: None,
                kind: EventKind::Fault {
                    participant: Some(name(p)),
                    fault: Fault::Kill,
                },
            });
            events.push(Event {
                at_ns: effect + 1,
                step: Some(3),
                round: None,
                kind: EventKind::Exited {
                    participant: name(p),
                    code: None,
                    signal: Some(9),
                },
            });
            alive[p] = false;
            None
        } else {
            ids[p] += 1;
            events.push(sent(end, 1, p, ids[p], Op::Release));
            let answered = effect + turn.answer_gap;
            events.push(received(answered, 1, p, ids[p], Status::Ok));
            free_at[p] = answered + 1;
            Some(end_index + 1)
        };
        held.push(Held {
            who: p,
            acquire_sent,
            ack: ack_index,
            end: end_index,
            answer,
        });
        lock_free_at = effect;
    }
    Built {
        history: History {
            seed: 0,
            iteration: 0,
            events,
        },
        held,
    }
}

/// Sorts events by time, as the runner records them, keeping the order of ties.
fn sorted(mut history: History) -> History {
    history.events.sort_by_key(|e| e.at_ns);
    history
}

fn has_overlap(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Fail { findings }
        if findings.iter().any(|f| matches!(f.kind, FindingKind::Overlap { .. })))
}

proptest! {
    #[test]
    fn a_correct_mutex_passes(turns in prop::collection::vec(turn(), 0..40)) {
        let built = build(&turns);
        let verdict = check(&model(), &sorted(built.history));
        prop_assert_eq!(verdict, Verdict::Pass);
    }

    /// The previous holder's release is sent only after the next holder's grant was read.
    #[test]
    fn a_late_release_is_an_overlap(
        turns in prop::collection::vec(turn(), 2..40),
        pick in any::<prop::sample::Index>(),
        extra in 0..100u64,
    ) {
        let built = build(&turns);
        let candidates: Vec<usize> = (0..built.held.len().saturating_sub(1))
            .filter(|&i| built.held[i].who != built.held[i + 1].who && built.held[i].answer.is_some())
            .collect();
        prop_assume!(!candidates.is_empty());
        let i = candidates[pick.index(candidates.len())];
        let (this, next) = (&built.held[i], &built.held[i + 1]);
        let mut history = built.history.clone();
        let late = history.events[next.ack].at_ns + 1 + extra;
        history.events[this.end].at_ns = late;
        if let Some(answer) = this.answer {
            history.events[answer].at_ns = late + 1;
        }
        let verdict = check(&model(), &sorted(history));
        prop_assert!(has_overlap(&verdict), "{:?}", verdict);
    }

    /// The next holder's grant is read while the previous holder still holds.
    #[test]
    fn an_early_grant_is_an_overlap(
        turns in prop::collection::vec(turn(), 2..40),
        pick in any::<prop::sample::Index>(),
        offset in any::<u64>(),
    ) {
        let built = build(&turns);
        let candidates: Vec<usize> = (0..built.held.len().saturating_sub(1))
            .filter(|&i| built.held[i].who != built.held[i + 1].who)
            .collect();
        prop_assume!(!candidates.is_empty());
        let i = candidates[pick.index(candidates.len())];
        let (this, next) = (&built.held[i], &built.held[i + 1]);
        let mut history = built.history.clone();
        let from = history.events[this.ack].at_ns;
        let to = history.events[this.end].at_ns;
        let early = from + 1 + offset % (to - from - 1);
        history.events[next.ack].at_ns = early;
        let acquire = &mut history.events[next.acquire_sent];
        acquire.at_ns = acquire.at_ns.min(early - 1);
        let verdict = check(&model(), &sorted(history));
        prop_assert!(has_overlap(&verdict), "{:?}", verdict);
    }

    #[test]
    fn garbage_never_panics(
        events in prop::collection::vec(any_event(), 0..60),
        which in 0..CATALOGUE.len(),
    ) {
        let scenario = catalogue(which);
        let history = History { seed: 1, iteration: 0, events };
        let verdict = check(&scenario, &history);
        if let Verdict::Fail { findings } = &verdict {
            for f in findings {
                prop_assert!(!f.summary().is_empty());
                prop_assert!(f.evidence.iter().all(|&e| e < history.events.len()));
            }
        }
    }
}

const CATALOGUE: [&str; 3] = [MODEL, "race-50", "pause-holder"];

fn catalogue(which: usize) -> Scenario {
    match CATALOGUE[which] {
        MODEL => model(),
        id => catalogue_scenario(id),
    }
}

fn any_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "p.0", "p.1", "c.3", "zz", ""]).prop_map(str::to_owned)
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<bool>(), 0..3u8, proptest::option::of(0..500u64)).prop_map(|(shared, w, t)| {
            Op::Acquire {
                mode: if shared {
                    Mode::Shared
                } else {
                    Mode::Exclusive
                },
                wait: [Wait::Try, Wait::Block, Wait::Timeout][w as usize],
                timeout_ms: t,
            }
        }),
        Just(Op::Release),
        Just(Op::Holder),
        Just(Op::SpawnChild),
        Just(Op::TouchFd),
        any::<bool>().prop_map(|s| Op::SecondHandle {
            mode: if s { Mode::Shared } else { Mode::Exclusive }
        }),
        Just(Op::ReleaseSecond),
        (0..8u32, 0..5u64).prop_map(|(threads, hold_ms)| Op::ThreadRace { threads, hold_ms }),
        Just(Op::Exit),
    ]
}

fn any_response() -> impl Strategy<Value = Response> {
    (
        0..5u64,
        prop::sample::select(vec![
            Status::Ok,
            Status::Busy,
            Status::Timeout,
            Status::Error,
            Status::Unsupported,
        ]),
        proptest::option::of(proptest::option::of(90..110u32)),
        proptest::option::of(0..5u32),
        proptest::option::of(".{0,8}"),
    )
        .prop_map(|(id, status, holder, winners, message)| {
            let mut r = Response::new(id, status);
            r.holder = holder.map(|pid| HolderInfo {
                pid,
                ..HolderInfo::default()
            });
            r.winners = winners;
            r.message = message;
            r
        })
}

fn any_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        (any_name(), 90..110u32)
            .prop_map(|(participant, pid)| EventKind::Spawned { participant, pid }),
        (any_name(), 0..5u64, any_op()).prop_map(|(participant, id, op)| EventKind::Sent {
            participant,
            request: Request::new(id, op),
        }),
        (any_name(), any_response()).prop_map(|(participant, response)| EventKind::Received {
            participant,
            response
        }),
        (proptest::option::of(any_name()), 0..4u8).prop_map(|(participant, f)| EventKind::Fault {
            participant,
            fault: [Fault::Kill, Fault::Stop, Fault::Cont, Fault::Term][f as usize].clone(),
        }),
        any_name().prop_map(|participant| EventKind::Exited {
            participant,
            code: None,
            signal: Some(9),
        }),
        (proptest::option::of(any_name())).prop_map(|participant| EventKind::Broken {
            participant,
            reason: BrokenReason::Hang {
                op: "acquire".into(),
                waited_ms: 1,
            },
        }),
        any::<bool>().prop_map(|unchanged| EventKind::Observed {
            observation: Observation::Victim {
                unchanged,
                detail: None,
            },
        }),
    ]
}

fn any_event() -> impl Strategy<Value = Event> {
    (
        prop_oneof![0..20u64, any::<u64>()],
        proptest::option::of(prop_oneof![0..12u32, any::<u32>()]),
        proptest::option::of(0..4u32),
        any_kind(),
    )
        .prop_map(|(at_ns, step, round, kind)| Event {
            at_ns,
            step,
            round,
            kind,
        })
}
