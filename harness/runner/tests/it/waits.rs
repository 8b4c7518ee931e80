//! Waits: a background acquire is established as waiting before the scenario goes on, and a
//! waiter that is never answered while the lock is free is a lost wake-up, not a hang.

use std::time::Duration;

use lockcheck_model::{EventKind, FindingKind, History, Observation, ScenarioResult, Verdict};
use lockcheck_protocol::{Op, Status};
use lockcheck_runner::{AdapterSpec, RunOptions};

use crate::support::{HELLO, parse_hello, responder, scenario, sh};

/// A holds; B acquires in the background with `wait = "block"`; A releases; B is awaited.
const HANDOFF: &str = r#"
id = "handoff"
level = "core"
description = "a holds, b blocks in the background, a releases, b gets it"
catches = "waiters that are not woken"
requires = ["exclusive", "try", "block"]

[[participants]]
name = "a"
[[participants]]
name = "b"

[[steps]]
who = "a"
do = "acquire"

[[steps]]
who = "b"
do = "acquire"
wait = "block"
background = true

[[steps]]
who = "a"
do = "release"

[[steps]]
who = "b"
do = "await"
expect = "ok"
"#;

/// A shell adapter on util-linux `flock(1)`: `try` is `flock -n`, release `flock -u`, and a
/// blocking acquire runs `block`, a snippet that sees the lock file open on descriptor 9.
fn flock_adapter(block: &str) -> AdapterSpec {
    let respond = format!(
        r#"answer() {{ printf '{{"type":"response","id":%s,"status":"%s"}}\n' "$id" "$1"; }}
  case "$line" in
    *'"op":"acquire"'*'"wait":"block"'*) exec 9>>"$LOCKCHECK_LOCK_PATH"; {block} ;;
    *'"op":"acquire"'*) exec 9>>"$LOCKCHECK_LOCK_PATH"; if flock -n 9; then answer ok; else answer busy; fi ;;
    *'"op":"release"'*) flock -u 9; answer ok ;;
    *) answer ok ;;
  esac"#
    );
    sh(&responder(HELLO, &respond))
}

fn history(spec: &AdapterSpec, toml: &str, request_timeout: Duration) -> (ScenarioResult, History) {
    let opts = RunOptions {
        request_timeout,
        hello_timeout: Duration::from_secs(5),
        keep_history: true,
        ..RunOptions::default()
    };
    let mut result =
        lockcheck_runner::run_scenario(spec, &scenario(toml), &parse_hello(HELLO), &opts);
    let history = result.history.take().expect("the history is kept");
    (result, history)
}

/// Index of the first event that is `a`'s release being sent.
fn release_sent(history: &History) -> usize {
    history
        .events
        .iter()
        .position(|e| {
            matches!(&e.kind, EventKind::Sent { participant, request }
                if participant == "a" && request.op == Op::Release)
        })
        .expect("a's release was sent")
}

/// Index and content of the one `waiting` observation.
fn waiting(history: &History) -> (usize, Option<u32>) {
    let found: Vec<_> = history
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.kind {
            EventKind::Observed {
                observation:
                    Observation::Waiting {
                        participant,
                        blocked_pid,
                        ..
                    },
            } => {
                assert_eq!(participant, "b");
                Some((i, *blocked_pid))
            }
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", history.events);
    found[0]
}

#[test]
fn a_slow_waiter_is_seen_blocked_in_proc_locks_before_the_holder_releases() {
    // B reads its request, dawdles, and only then blocks in the kernel: without the pacing,
    // A's release overtakes it and B never waits at all.
    let spec = flock_adapter("sleep 0.1; flock 9; answer ok");
    let (result, history) = history(&spec, HANDOFF, Duration::from_secs(5));
    assert_eq!(result.verdict.name(), "pass", "{:#?}", result.verdict);
    let (at, blocked_pid) = waiting(&history);
    assert!(blocked_pid.is_some(), "the kernel listed no waiter");
    assert!(
        at < release_sent(&history),
        "a released before b was seen waiting"
    );
}

#[test]
fn a_polling_waiter_is_given_the_fixed_delay_before_the_holder_releases() {
    // Nothing lists a waiter that polls with `flock -n`: the runner falls back to a delay.
    let spec = flock_adapter("until flock -n 9; do sleep 0.01; done; answer ok");
    let (result, history) = history(&spec, HANDOFF, Duration::from_secs(5));
    assert_eq!(result.verdict.name(), "pass", "{:#?}", result.verdict);
    let (at, blocked_pid) = waiting(&history);
    assert_eq!(blocked_pid, None);
    assert!(
        at < release_sent(&history),
        "a released before b was given its delay"
    );
}

#[test]
fn a_waiter_never_woken_while_the_lock_is_free_is_a_liveness_failure() {
    // B's wait never ends, though A has released: the runner has A try the lock.
    let spec = flock_adapter("sleep 600");
    let (result, history) = history(&spec, HANDOFF, Duration::from_millis(700));
    let Verdict::Fail { findings } = &result.verdict else {
        panic!("expected a failure, got {:#?}", result.verdict);
    };
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let FindingKind::Liveness {
        participant,
        prober,
        ..
    } = &findings[0].kind
    else {
        panic!("not a liveness finding: {findings:#?}");
    };
    assert_eq!((participant.as_str(), prober.as_str()), ("b", "a"));
    let probe_answer = findings[0].evidence[2];
    assert!(
        matches!(&history.events[probe_answer].kind,
            EventKind::Received { participant, response } if participant == "a" && response.status == Status::Ok),
        "{:#?}",
        history.events[probe_answer]
    );
}

#[test]
fn a_waiter_never_answered_while_the_lock_is_held_is_still_a_hang() {
    // C holds the lock throughout, so A's probe is refused and nothing is proven.
    let held = HANDOFF.replace(
        "[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n",
        "[[participants]]\nname = \"c\"\n\n[[steps]]\nwho = \"c\"\ndo = \"acquire\"\n\n\
         [[steps]]\nwho = \"a\"\ndo = \"acquire\"\nexpect = \"busy\"\n",
    );
    let spec = flock_adapter("flock 9; answer ok");
    let (result, history) = history(&spec, &held, Duration::from_millis(700));
    assert!(
        matches!(&result.verdict, Verdict::Broken { .. })
            && result
                .verdict
                .reason()
                .is_some_and(|r| r.contains("did not answer `acquire`")),
        "{:#?}",
        result.verdict
    );
    let probed = history.events.iter().any(|e| {
        matches!(&e.kind, EventKind::Received { participant, response }
            if participant == "a" && response.status == Status::Busy && e.step == Some(4))
    });
    assert!(probed, "a's probe was refused: {:#?}", history.events);
}
