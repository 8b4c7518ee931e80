//! The catalogue's faults, observations and process settings, executed for real: shell
//! adapters do just enough to show that each one happened the way the history says.

use std::time::Duration;

use lockcheck_model::{
    EventKind, Fault, FindingKind, History, Observation, ScenarioResult, Verdict,
};
use lockcheck_protocol::Hello;
use lockcheck_protocol::Op;
use lockcheck_runner::{AdapterSpec, RunOptions};

use crate::support::{parse_hello, responder, scenario, sh};

/// A hello declaring everything the scenarios below use.
const HELLO: &str = r#"{"type":"hello","protocol":1,"implementation":{"name":"sh","version":"0","language":"sh"},"capabilities":["exclusive","try","spawn_child"],"recovery":{"kind":"kernel"}}"#;

/// A shell adapter that answers each request with the snippet given for its op (which sees
/// `$id` and `$LOCKCHECK_LOCK_PATH`, and calls `answer STATUS [EXTRA-JSON]`), and `ok` to
/// every other op.
fn adapter(ops: &[(&str, &str)]) -> AdapterSpec {
    let mut cases = String::new();
    for (op, snippet) in ops {
        cases.push_str(&format!("    {op}) {snippet} ;;\n"));
    }
    let respond = format!(
        r#"op=$(printf '%s' "$line" | sed 's/.*"op":"\([a-z_]*\)".*/\1/')
  case "$op" in
{cases}    *) answer ok ;;
  esac"#
    );
    sh(&format!(
        r#"answer() {{ printf '{{"type":"response","id":%s,"status":"%s"%s}}\n' "$id" "$1" "$2"; }}
{}"#,
        responder(HELLO, &respond)
    ))
}

fn run(spec: &AdapterSpec, toml: &str) -> ScenarioResult {
    run_with(spec, toml, false)
}

/// [`run`], as if the adapter's hello said `timed_start` (the shell adapters ignore
/// `after_us`; what the runner sends is what is looked at).
fn run_with(spec: &AdapterSpec, toml: &str, timed_start: bool) -> ScenarioResult {
    run_keeping(spec, toml, timed_start, false)
}

fn run_keeping(
    spec: &AdapterSpec,
    toml: &str,
    timed_start: bool,
    keep_history: bool,
) -> ScenarioResult {
    let hello = Hello {
        timed_start,
        ..parse_hello(HELLO)
    };
    let opts = RunOptions {
        request_timeout: Duration::from_secs(5),
        hello_timeout: Duration::from_secs(5),
        keep_history,
        ..RunOptions::default()
    };
    lockcheck_runner::run_scenario(spec, &scenario(toml), &hello, &opts)
}

/// Runs a scenario and keeps its history whatever the verdict.
fn history_of(spec: &AdapterSpec, toml: &str) -> (Verdict, History) {
    history_of_with(spec, toml, false)
}

fn history_of_with(spec: &AdapterSpec, toml: &str, timed_start: bool) -> (Verdict, History) {
    let result = run_keeping(spec, toml, timed_start, true);
    let history = result.history.expect("the history is kept");
    (result.verdict, history)
}

fn header(extra: &str, participants: &str) -> String {
    format!(
        "id = \"t\"\nlevel = \"fs\"\ndescription = \"d\"\ncatches = \"c\"\n\
         requires = [\"exclusive\", \"try\", \"spawn_child\"]\n{extra}\n{participants}\n"
    )
}

const A: &str = "[[participants]]\nname = \"a\"\n";

fn observations(history: &History) -> Vec<&Observation> {
    history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Observed { observation } => Some(observation),
            _ => None,
        })
        .collect()
}

fn messages(history: &History, op: &str) -> Vec<String> {
    let mut sent = std::collections::HashMap::new();
    let mut out = Vec::new();
    for e in &history.events {
        match &e.kind {
            EventKind::Sent {
                participant,
                request,
            } => {
                sent.insert((participant.clone(), request.id), request.op.clone());
            }
            EventKind::Received {
                participant,
                response,
            } if sent
                .get(&(participant.clone(), response.id))
                .is_some_and(|o| o.name() == op) =>
            {
                out.push(response.message.clone().unwrap_or_default());
            }
            _ => {}
        }
    }
    out
}

fn faults(history: &History) -> Vec<&Fault> {
    history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Fault { fault, .. } => Some(fault),
            _ => None,
        })
        .collect()
}

#[test]
fn unprivileged_participants_cannot_write_an_unwritable_directory_even_under_root() {
    // The adapter itself tries what a lock would: create a file in the lock directory.
    let spec = adapter(&[(
        "acquire",
        r#"if ( : > "$LOCKCHECK_LOCK_PATH" ) 2>/dev/null; then answer ok; else answer error ",\"kind\":\"permission_denied\""; fi"#,
    )]);
    let steps = "[[steps]]\ndo = \"chmod_dir\"\nmode = \"0555\"\n\
                 [[steps]]\nwho = \"a\"\ndo = \"acquire\"\nexpect = \"error:permission_denied\"\n";
    let result = run(
        &spec,
        &format!("{}{steps}", header("unprivileged = true", A)),
    );
    assert_eq!(result.verdict, Verdict::Pass, "{:#?}", result.history);

    // Without the key, a root runner's participants write through the permission bits.
    let plain = run(&spec, &format!("{}{steps}", header("", A)));
    if rustix::process::geteuid().is_root() {
        assert!(
            matches!(plain.verdict, Verdict::Fail { .. }),
            "{:?}",
            plain.verdict
        );
    } else {
        assert_eq!(plain.verdict, Verdict::Pass);
    }
}

#[test]
fn the_scenario_umask_reaches_participants_and_check_mode_judges_the_file() {
    let spec = adapter(&[("acquire", r#": > "$LOCKCHECK_LOCK_PATH"; answer ok"#)]);
    let steps = "[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n[[steps]]\ndo = \"check_mode\"\n";
    let (verdict, history) =
        history_of(&spec, &format!("{}{steps}", header("umask = \"0000\"", A)));
    assert_eq!(
        observations(&history),
        [&Observation::LockPath {
            file_type: "file".into(),
            mode: Some(0o666)
        }]
    );
    let Verdict::Fail { findings } = verdict else {
        panic!("expected fail, got {verdict:?}")
    };
    assert!(
        findings.iter().any(
            |f| matches!(&f.kind, FindingKind::FileSystem { detail } if detail.contains("0666"))
        ),
        "{findings:#?}"
    );

    let (_, history) = history_of(&spec, &format!("{}{steps}", header("umask = \"0077\"", A)));
    assert_eq!(
        observations(&history),
        [&Observation::LockPath {
            file_type: "file".into(),
            mode: Some(0o600)
        }]
    );
}

#[test]
fn a_removed_directory_that_comes_back_is_a_leftover() {
    let steps = "[[steps]]\ndo = \"remove_dir\"\n[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n\
                 expect = \"error:missing_directory\"\n[[steps]]\ndo = \"check_leftovers\"\n";
    let toml = format!("{}{steps}", header("", A));
    let careful = adapter(&[(
        "acquire",
        r#"if [ -d "$(dirname "$LOCKCHECK_LOCK_PATH")" ]; then answer ok; else answer error ",\"kind\":\"missing_directory\""; fi"#,
    )]);
    assert_eq!(run(&careful, &toml).verdict, Verdict::Pass);
    let (_, history) = history_of(&careful, &toml);
    assert!(faults(&history).contains(&&Fault::RemoveDir));
    assert_eq!(
        observations(&history),
        [&Observation::Leftovers { paths: vec![] }]
    );

    let recreates = adapter(&[(
        "acquire",
        r#"mkdir -p "$(dirname "$LOCKCHECK_LOCK_PATH")"; : > "$LOCKCHECK_LOCK_PATH"; answer error ",\"kind\":\"missing_directory\"""#,
    )]);
    let (_, history) = history_of(&recreates, &toml);
    assert_eq!(
        observations(&history),
        [&Observation::Leftovers {
            paths: vec!["locks/".into(), "locks/app.lock".into()]
        }]
    );
}

#[test]
fn crash_acquire_kills_every_member_once_after_calibrating_on_the_first_three() {
    let spec = adapter(&[("acquire", "answer ok")]);
    let toml = format!(
        "{}[[steps]]\nwho = \"v\"\ndo = \"crash_acquire\"\n",
        header(
            "",
            &format!("{A}[[participants]]\nname = \"v\"\ncount = 6\n")
        )
    );
    let (_, history) = history_of(&spec, &toml);
    let kills = faults(&history)
        .iter()
        .filter(|f| ***f == Fault::Kill)
        .count();
    assert_eq!(kills, 6);
    let sent: Vec<&str> = history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Sent {
                participant,
                request,
            } if matches!(request.op, Op::Acquire { .. }) => Some(participant.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, ["v.0", "v.1", "v.2", "v.3", "v.4", "v.5"]);
    // The calibrators' answers are awaited; every member has exited by the end.
    let answered = messages(&history, "acquire").len();
    assert!((3..=6).contains(&answered), "{answered} answers");
    let exited = history
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Exited { participant, .. } if participant.starts_with("v.")))
        .count();
    assert_eq!(exited, 6);
}

#[test]
fn jittered_race_requests_spread_over_the_window_and_killed_winners_leave() {
    // A lock that grants everyone: every contender wins, and is killed at the round's end.
    let spec = adapter(&[("acquire", "answer ok")]);
    let toml = format!(
        "{}[[steps]]\nwho = \"c\"\ndo = \"race\"\nrounds = 2\njitter_us = 40000\nend = \"kill\"\n",
        header(
            "",
            &format!("{A}[[participants]]\nname = \"c\"\ncount = 6\n")
        )
    );
    let (verdict, history) = history_of(&spec, &toml);
    assert!(matches!(verdict, Verdict::Fail { .. }));
    let sends: Vec<u64> = history
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Sent { request, .. } if matches!(request.op, Op::Acquire { .. })))
        .map(|e| e.at_ns)
        .collect();
    // All six won round 0 and were killed, so round 1 had nobody to send to.
    assert_eq!(sends.len(), 6);
    let spread = sends.iter().max().unwrap() - sends.iter().min().unwrap();
    assert!(
        (5_000_000..60_000_000).contains(&spread),
        "requests spread over {spread} ns"
    );
    assert_eq!(
        faults(&history)
            .iter()
            .filter(|f| ***f == Fault::Kill)
            .count(),
        6
    );
    let releases = history
        .events
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::Sent { participant, request }
                if participant.starts_with("c.") && request.op == Op::Release)
        })
        .count();
    assert_eq!(releases, 0);
}

#[test]
fn a_child_outlives_its_killed_parent_until_the_iteration_ends() {
    // b answers busy while the process a's child recorded is alive (a zombie is dead).
    let spec = adapter(&[
        (
            "spawn_child",
            r#"sleep 600 & echo $! > "$LOCKCHECK_LOCK_PATH.child"; answer ok ",\"child_pid\":$!""#,
        ),
        (
            "acquire",
            r#"if [ -f "$LOCKCHECK_LOCK_PATH.child" ] && grep -q '^State:.*[RSD]' "/proc/$(cat "$LOCKCHECK_LOCK_PATH.child")/status" 2>/dev/null; then answer busy; else answer ok; fi"#,
        ),
    ]);
    let toml = format!(
        "{}[[steps]]\nwho = \"a\"\ndo = \"spawn_child\"\n[[steps]]\nwho = \"a\"\ndo = \"kill\"\n\
         [[steps]]\nwho = \"b\"\ndo = \"acquire\"\nexpect = \"busy\"\n",
        header("", &format!("{A}[[participants]]\nname = \"b\"\n"))
    );
    let result = run(&spec, &toml);
    assert_eq!(result.verdict, Verdict::Pass, "{:#?}", result.history);
}

#[test]
fn a_live_pid_plant_names_a_live_process_that_is_not_the_runner_in_an_old_file() {
    let spec = adapter(&[(
        "acquire",
        r#"pid=$(cat "$LOCKCHECK_LOCK_PATH"); old=$(find "$LOCKCHECK_LOCK_PATH" -mmin +30); if kill -0 "$pid" && [ "$pid" != "$PPID" ] && [ -n "$old" ]; then answer ok; else answer busy ",\"message\":\"pid $pid parent $PPID old $old\""; fi"#,
    )]);
    let toml = format!(
        "{}[[steps]]\ndo = \"plant\"\ncontent = \"live_pid\"\n[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nexpect = \"ok\"\n",
        header("", A)
    );
    let result = run(&spec, &toml);
    assert_eq!(result.verdict, Verdict::Pass, "{:#?}", result.history);
}

/// A refused acquire that the step expected to succeed gets a look at who has the lock file
/// open; a refusal the step expected does not.
#[cfg(target_os = "linux")]
#[test]
fn an_unexpected_refusal_records_which_processes_have_the_lock_file_open() {
    let spec = adapter(&[
        (
            "spawn_child",
            r#"sleep 600 3>>"$LOCKCHECK_LOCK_PATH" & answer ok ",\"child_pid\":$!""#,
        ),
        ("acquire", "answer busy"),
    ]);
    let steps = |expect: &str| {
        format!(
            "{}[[steps]]\nwho = \"a\"\ndo = \"spawn_child\"\n[[steps]]\nwho = \"a\"\ndo = \"kill\"\n\
             [[steps]]\nwho = \"b\"\ndo = \"acquire\"\nexpect = \"{expect}\"\n",
            header("", &format!("{A}[[participants]]\nname = \"b\"\n"))
        )
    };

    let result = run(&spec, &steps("ok"));
    let history = result.history.expect("a failing run keeps its history");
    let child = history
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Received { response, .. } => response.child_pid,
            _ => None,
        })
        .expect("spawn_child answered with a pid");
    let open: Vec<_> = observations(&history)
        .into_iter()
        .filter_map(|o| match o {
            Observation::OpenBy { processes } => Some(processes.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(
        open[0]
            .iter()
            .any(|p| p.pid == child && p.command == "sleep"),
        "child {child} not among {open:?}"
    );
    let Verdict::Fail { findings } = &result.verdict else {
        panic!("expected a failure, got {:?}", result.verdict);
    };
    let observed = history
        .events
        .iter()
        .position(|e| {
            matches!(
                &e.kind,
                EventKind::Observed {
                    observation: Observation::OpenBy { .. }
                }
            )
        })
        .unwrap();
    assert!(
        findings.iter().any(
            |f| matches!(f.kind, FindingKind::Outcome { .. }) && f.evidence.contains(&observed)
        ),
        "the outcome finding cites the observation: {findings:#?}"
    );

    let (_, history) = history_of(&spec, &steps("busy"));
    assert!(
        !observations(&history)
            .iter()
            .any(|o| matches!(o, Observation::OpenBy { .. })),
        "an expected refusal is not investigated"
    );
}

#[test]
fn a_race_ends_after_the_first_round_with_two_winners() {
    let toml = format!(
        "{}[[steps]]\nwho = \"c\"\ndo = \"race\"\nrounds = 4\n",
        header(
            "",
            &format!("{A}[[participants]]\nname = \"c\"\ncount = 3\n")
        )
    );
    let acquires = |history: &History| {
        history
            .events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::Sent { request, .. } if matches!(request.op, Op::Acquire { .. })))
            .count()
    };
    // Everyone wins round 0: the verdict is settled and rounds 1 to 3 are not run.
    let (verdict, history) = history_of(&adapter(&[("acquire", "answer ok")]), &toml);
    assert!(matches!(verdict, Verdict::Fail { .. }));
    assert_eq!(acquires(&history), 3);
    // Nobody wins: every round runs.
    let (_, history) = history_of(&adapter(&[("acquire", "answer busy")]), &toml);
    assert_eq!(acquires(&history), 12);
}

/// An adapter whose hello says `timed_start` gets a race's tries all at once, each with the
/// `after_us` that makes it start at its drawn moment; one without gets none, and nothing but
/// a race's tries ever carries `after_us`.
#[test]
fn a_race_times_its_tries_by_after_us_only_when_the_hello_offers_it() {
    let toml = format!(
        "{}[[steps]]\nwho = \"c\"\ndo = \"race\"\nrounds = 3\njitter_us = 300\n",
        header(
            "",
            &format!("{A}[[participants]]\nname = \"c\"\ncount = 4\n")
        )
    );
    let timed = |history: &History| -> (usize, usize) {
        let sent = history.events.iter().filter_map(|e| match &e.kind {
            EventKind::Sent { request, .. } => Some(request),
            _ => None,
        });
        let (mut acquires, mut with_after) = (0, 0);
        for request in sent {
            if matches!(request.op, Op::Acquire { .. }) {
                acquires += 1;
            }
            if let Some(us) = request.after_us {
                assert!(
                    matches!(request.op, Op::Acquire { .. }),
                    "only a race's tries are timed: {request:?}"
                );
                assert!(
                    us <= 1_000 + 4 * 40 + 300,
                    "after_us beyond lead and jitter: {us}"
                );
                with_after += 1;
            }
        }
        (acquires, with_after)
    };
    let busy = adapter(&[("acquire", "answer busy")]);
    let (_, history) = history_of_with(&busy, &toml, true);
    assert!(
        !history
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Broken { .. }))
    );
    assert_eq!(timed(&history), (12, 12));
    let (_, history) = history_of_with(&busy, &toml, false);
    assert_eq!(timed(&history), (12, 0));
}

/// A hello that offers timed starts from an adapter that answers at once is caught: an answer
/// sooner than `after_us` after its request was written cannot have waited.
#[test]
fn an_adapter_that_offers_timed_starts_but_does_not_wait_is_broken() {
    // Racers due up to half a second after the requests are written: the shell adapter's
    // prompt answers come long before most of them are due (the seed fixes the moments).
    let toml = format!(
        "{}[[steps]]\nwho = \"c\"\ndo = \"race\"\nrounds = 1\njitter_us = 500000\n",
        header(
            "",
            &format!("{A}[[participants]]\nname = \"c\"\ncount = 4\n")
        )
    );
    let result = run_with(&adapter(&[("acquire", "answer busy")]), &toml, true);
    let Verdict::Broken { reason, .. } = &result.verdict else {
        panic!("expected broken, got {:?}", result.verdict);
    };
    let reason = reason.to_string();
    assert!(
        reason.contains("sooner than its after_us") && reason.contains("timed_start"),
        "{reason}"
    );
}
