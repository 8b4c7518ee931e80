//! The checker, one property at a time, against the catalogue's own scenarios.

use lockcheck_model::{
    BrokenReason, MAX_FINDINGS_PER_KIND, Scenario, SleepSpec, Verdict, WaitSpec, merge,
    parse_scenario,
};
use lockcheck_protocol::{Capability, Hello, Implementation, Recovery, Wait};
use rstest::rstest;

use crate::history_dsl::history;
use crate::support::catalogue_scenario as catalogue;

#[track_caller]
fn inline(text: &str) -> Scenario {
    parse_scenario("inline.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn render(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Pass => "pass".to_owned(),
        Verdict::Skip { reason } => format!("skip: {reason}"),
        Verdict::Broken { .. } => format!("broken: {}", verdict.reason().unwrap_or_default()),
        Verdict::Fail { findings } => {
            let mut text = "fail".to_owned();
            for f in findings {
                let step = f.step.map_or("-".to_owned(), |s| s.to_string());
                text.push_str(&format!("\nstep {step}: {} {:?}", f.summary(), f.evidence));
            }
            text
        }
    }
}

/// Checks the history written in `events` (see `history_dsl`) against `scenario` and compares
/// the rendered verdict with `expect`.
#[track_caller]
fn check(scenario: &Scenario, events: &str, expect: &str) {
    let verdict = lockcheck_model::check(scenario, &history(events));
    let expect: Vec<&str> = expect.trim().lines().map(str::trim).collect();
    assert_eq!(render(&verdict), expect.join("\n"));
}

const EXCLUSIVE_BASIC_OK: &str = "
    0 a spawn 100
    0 b spawn 101
    1 a > acquire s0
    2 a < ok
    3 b > acquire s1
    4 b < busy
    5 a > release s2
    6 a < ok
    7 b > acquire s3
    8 b < ok
    9 b > release s4
    10 b < ok
";

#[test]
fn a_correct_exclusive_basic_run_passes() {
    check(&catalogue("exclusive-basic"), EXCLUSIVE_BASIC_OK, "pass");
}

#[test]
fn a_second_holder_fails_with_the_overlap_and_the_wrong_outcome() {
    check(
        &catalogue("exclusive-basic"),
        &EXCLUSIVE_BASIC_OK.replace("4 b < busy", "4 b < ok"),
        "fail
         step 1: two holders at once: a (exclusive, 2.000 ms to 5.000 ms) and b (exclusive, 4.000 ms to 9.000 ms) overlap for at least 1.000 ms [3, 6, 5, 10]
         step 1: b got `ok`, expected `busy` [4, 5]",
    );
}

/// The credited holds a report draws are the checker's own intervals.
#[test]
fn credited_holds_are_the_intervals_the_checker_reasons_about() {
    let holds = lockcheck_model::credited_holds(
        &catalogue("exclusive-basic"),
        &history(
            &EXCLUSIVE_BASIC_OK
                .replace("9 b > release s4", "")
                .replace("10 b < ok", ""),
        ),
    );
    let text: Vec<String> = holds.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "a (exclusive, 2.000 ms to 5.000 ms)",
            "b (exclusive, 8.000 ms to end)"
        ]
    );
}

#[test]
fn holds_that_only_touch_do_not_overlap() {
    // b's ok is read at the very instant a's release is sent: no proof of two holders.
    check(
        &catalogue("exclusive-basic"),
        &EXCLUSIVE_BASIC_OK
            .replace("7 b > acquire s3", "4.5 b > acquire s3")
            .replace("8 b < ok", "5 b < ok"),
        "pass",
    );
}

#[test]
fn a_kill_ends_the_hold_when_the_signal_is_sent() {
    let crash = catalogue("crash-holder");
    let run = "
        0 a spawn 100
        0 b spawn 101
        1 a > acquire s0
        2 a < ok
        3 a kill s1
        4 a exited
        5 b > acquire s2
        6 b < ok
        7 b > release s3
        8 b < ok";
    check(&crash, run, "pass");
    // An exit observed early bounds the hold even when the kill is recorded later.
    check(&crash, &run.replace("3 a kill", "6.5 a kill"), "pass");
    check(
        &crash,
        &run.replace("3 a kill", "6.5 a kill")
            .replace("4 a exited", "6.6 a exited"),
        "fail
         step 2: two holders at once: a (exclusive, 2.000 ms to 6.500 ms) and b (exclusive, 6.000 ms to 7.000 ms) overlap for at least 0.500 ms [3, 4, 7, 8]",
    );
}

#[test]
fn a_stopped_holder_still_holds() {
    check(
        &catalogue("pause-holder"),
        "
        0 a spawn 100
        0 b spawn 101
        1 a > acquire s0
        2 a < ok
        3 a stop s1
        1600 b > acquire s3
        1601 b < ok
        1602 a cont s4
        1603 a > release s5
        1604 a < ok",
        "fail
         step 3: two holders at once: a (exclusive, 2.000 ms to 1603.000 ms) and b (exclusive, 1601.000 ms to end) overlap for at least 2.000 ms [3, 8, 6]
         step 3: b got `ok`, expected `busy` [5, 6]",
    );
}

const MIXED: &str = r#"
id = "mixed"
level = "shared"
description = "d"
catches = "c"
requires = ["exclusive", "shared", "try", "second_handle", "holder_info", "threads"]
[[participants]]
name = "a"
[[participants]]
name = "b"
[[steps]]
who = "a"
do = "acquire"
mode = "shared"
[[steps]]
who = "b"
do = "acquire"
mode = "shared"
expect = ["ok", "busy"]
[[steps]]
who = "a"
do = "second_handle"
[[steps]]
who = "a"
do = "holder"
holder_is = "a"
[[steps]]
who = "b"
do = "thread_race"
threads = 4
max_winners = 1
[[steps]]
who = "a"
do = "holder"
"#;

#[test]
fn shared_holders_coexist_but_not_with_an_exclusive_one() {
    let mixed = inline(MIXED);
    let run = "
        0 a > acquire_shared s0
        1 a < ok
        2 b > acquire_shared s1
        3 b < ok";
    check(&mixed, run, "pass");
    check(
        &mixed,
        &run.replace("b > acquire_shared", "b > acquire"),
        "fail
         step 1: two holders at once: a (shared, 1.000 ms to end) and b (exclusive, 3.000 ms to end) overlap until the end of the run [1, 3]",
    );
}

#[test]
fn a_second_handle_that_also_holds_is_a_second_holder() {
    check(
        &inline(MIXED),
        "
        0 a > acquire s0
        1 a < ok
        2 a > second s2
        3 a < ok",
        "fail
         step 2: two holders at once: a (exclusive, 1.000 ms to end) and a#2 (exclusive, 3.000 ms to end) overlap until the end of the run [1, 3]",
    );
}

#[test]
fn a_holder_that_dies_unexpectedly_held_until_it_last_read_a_request() {
    let mixed = inline(MIXED);
    // a holds, answers `holder` (sent at 4), then dies; b gets the lock at 6.
    let run = "
        0 a spawn 100
        1 a > acquire s0
        2 a < ok
        4 a > holder s3
        5 a < ok holder=100
        5.5 a exited
        5.8 b > acquire s1
        6 b < ok";
    check(&mixed, run, "pass");
    // b's grant is read after a was sent `holder` but before a's answer was read: a may have
    // died right after answering, so this is no proof.
    check(
        &mixed,
        &run.replace("5.8 b > acquire s1", "4.2 b > acquire s1")
            .replace("6 b < ok", "4.5 b < ok"),
        "pass",
    );
    check(
        &mixed,
        &run.replace("5.8 b > acquire s1", "3 b > acquire s1")
            .replace("6 b < ok", "3.5 b < ok"),
        "fail
         step 1: two holders at once: a (exclusive, 2.000 ms to 4.000 ms) and b (exclusive, 3.500 ms to end) overlap for at least 0.500 ms [2, 3, 7]",
    );
}

#[test]
fn an_ok_read_after_the_kill_proves_nothing() {
    check(
        &catalogue("crash-holder"),
        "
        0 a > acquire s0
        5 a kill s1
        6 a < ok
        7 b > acquire s2
        8 b < ok",
        "pass",
    );
}

#[test]
fn outcomes_render_kind_and_message() {
    check(
        &catalogue("crash-holder"),
        "
        0 a > acquire s0
        1 a < ok
        2 a kill s1
        3 b > acquire s2
        4 b < error:permission_denied \"open /tmp/l: EACCES\"",
        "fail
         step 2: b got `error:permission_denied (open /tmp/l: EACCES)`, expected `ok` [3, 4]",
    );
}

const TIMEOUT_RUN: &str = "
    0 a > acquire s0
    1 a < ok
    10 b > acquire_timeout s1
    311 b < timeout
    312 a > release s2
    313 a < ok";

#[rstest]
#[case::on_time("311 b < timeout", "pass")]
#[case::early(
    "309.5 b < timeout",
    "fail\nstep 1: b got its answer after 299.5 ms, expected >= 300 ms [2, 3]"
)]
#[case::late(
    "811 b < timeout",
    "fail\nstep 1: b got its answer after 801.0 ms, expected <= 800 ms [2, 3]"
)]
fn timeout_bounds(#[case] answer: &str, #[case] expect: &str) {
    check(
        &catalogue("timeout-honored"),
        &TIMEOUT_RUN.replace("311 b < timeout", answer),
        expect,
    );
}

const HANDOFF_RUN: &str = "
    0 a > acquire s0
    1 a < ok
    2 b > acquire_block s1
    50 a > release s2
    51 a < ok
    60 b < ok
    61 b > release s4
    62 b < ok";

#[rstest]
#[case::prompt("60 b < ok", "pass")]
#[case::slow(
    "260 b < ok",
    "fail\nstep 3: b got its answer after 210.0 ms, expected <= 200 ms [3, 5]"
)]
#[case::too_soon(
    "40 b < ok",
    "fail\nstep 1: two holders at once: a (exclusive, 1.000 ms to 50.000 ms) and b (exclusive, 40.000 ms to 61.000 ms) overlap for at least 10.000 ms [1, 3, 5, 6]"
)]
#[case::refused(
    "60 b < timeout",
    "fail\nstep 1: b got `timeout`, expected `ok` [2, 5]"
)]
fn blocking_handoff(#[case] answer: &str, #[case] expect: &str) {
    check(
        &catalogue("blocking-handoff"),
        &HANDOFF_RUN.replace("60 b < ok", answer),
        expect,
    );
}

fn race_round(round: u32, answers: [&str; 3]) -> String {
    let mut text = String::new();
    for (i, answer) in answers.iter().enumerate() {
        text.push_str(&format!("{round}.0 c.{i} > acquire s0r{round}\n"));
        text.push_str(&format!("{round}.1 c.{i} < {answer}\n"));
    }
    for (i, answer) in answers.iter().enumerate() {
        if *answer == "ok" {
            text.push_str(&format!(
                "{round}.5 c.{i} > release s0r{round}\n{round}.6 c.{i} < ok\n"
            ));
        }
    }
    text
}

const RACE: &str = r#"
id = "race"
level = "core"
description = "d"
catches = "c"
requires = ["exclusive", "try"]
[[participants]]
name = "c"
count = 3
[[steps]]
who = "c"
do = "race"
rounds = 2
"#;

#[test]
fn one_winner_per_race_round_passes() {
    let run = race_round(1, ["busy", "ok", "busy"]) + &race_round(2, ["ok", "timeout", "busy"]);
    check(&inline(RACE), &run, "pass");
}

#[test]
fn two_winners_in_a_round_fail_even_without_overlapping_holds() {
    // c.0 releases at the instant c.1's ok is read, so no overlap is proven; the winner count
    // still is.
    check(
        &inline(RACE),
        "
        1.0 c.0 > acquire s0r1
        1.0 c.1 > acquire s0r1
        1.0 c.2 > acquire s0r1
        1.1 c.0 < ok
        1.1 c.1 < ok
        1.1 c.2 < busy
        1.1 c.0 > release s0r1
        1.2 c.0 < ok
        1.5 c.1 > release s0r1
        1.6 c.1 < ok",
        "fail\nstep 0: round 1 had 2 winners, expected exactly 1 [3, 4]",
    );
}

#[test]
fn race_winners_are_counted_per_round() {
    let run = race_round(1, ["ok", "ok", "busy"]) + &race_round(2, ["busy", "busy", "busy"]);
    check(
        &inline(RACE),
        &run,
        "fail
         step 0: two holders at once: c.0 (exclusive, 1.100 ms to 1.500 ms) and c.1 (exclusive, 1.100 ms to 1.500 ms) overlap for at least 0.400 ms [1, 6, 3, 8]
         step 0: round 1 had 2 winners, expected exactly 1 [1, 3]
         step 0: round 2 had 0 winners, expected exactly 1 []",
    );
}

#[test]
fn a_round_cut_short_by_a_broken_adapter_is_not_judged_on_winners() {
    check(
        &inline(RACE),
        "1.0 c.0 > acquire s0r1\n1.0 c.1 > acquire s0r1\n1.1 c.0 < busy\n2 c.1 broken",
        "broken: participant c.1: adapter printed a line that is not protocol JSON: expected value at line 1 column 1: `hello world`",
    );
}

#[test]
fn thread_race_allows_at_most_max_winners() {
    let mixed = inline(MIXED);
    check(&mixed, "0 b > thread_race s4\n1 b < ok winners=1", "pass");
    check(
        &mixed,
        "0 b > thread_race s4 \n1 b < ok winners=3",
        "fail\nstep 4: round 0 had 3 winners, expected at most 1 [0, 1]",
    );
}

#[rstest]
#[case::right_pid("5 a < ok holder=100", 3, "pass")]
#[case::other_participant(
    "5 a < ok holder=101",
    3,
    "fail\nstep 3: `holder` reported pid 101 (b), expected a (pid 100) [2, 3]"
)]
#[case::unknown_pid(
    "5 a < ok holder=999",
    3,
    "fail\nstep 3: `holder` reported pid 999, expected a (pid 100) [2, 3]"
)]
#[case::no_pid(
    "5 a < ok holder=none",
    3,
    "fail\nstep 3: `holder` reported a holder without a pid, expected a (pid 100) [2, 3]"
)]
#[case::nobody_expected("5 a < ok", 5, "pass")]
#[case::somebody_reported(
    "5 a < ok holder=101",
    5,
    "fail\nstep 5: `holder` reported pid 101 (b), expected nobody [2, 3]"
)]
fn holder_reports_the_real_holder(#[case] answer: &str, #[case] step: u32, #[case] expect: &str) {
    let run = format!("0 a spawn 100\n0 b spawn 101\n4 a > holder s{step}\n{answer}");
    check(&inline(MIXED), &run, expect);
}

#[test]
fn a_modified_victim_fails() {
    let mixed = inline(MIXED);
    check(&mixed, "1 - victim unchanged s2", "pass");
    check(
        &mixed,
        "1 - victim changed s2",
        "fail\nstep 2: the symlink victim was modified: truncated to 0 bytes [0]",
    );
}

#[test]
fn an_unexpected_unsupported_answer_is_broken_not_fail() {
    let mixed = inline(MIXED);
    check(
        &mixed,
        "0 a > holder s3\n1 a < unsupported",
        "broken: participant a: adapter answered `unsupported` to `holder`, which the scenario relies on and its hello did not rule out",
    );
    // second_handle accepts anything by default, `unsupported` included.
    check(&mixed, "0 a > second s2\n1 a < unsupported", "pass");
}

#[test]
fn a_proven_overlap_outranks_a_later_break() {
    check(
        &catalogue("exclusive-basic"),
        &EXCLUSIVE_BASIC_OK
            .replace("4 b < busy", "4 b < ok")
            .replace("10 b < ok", "10 b broken"),
        "fail
         step 1: two holders at once: a (exclusive, 2.000 ms to 5.000 ms) and b (exclusive, 4.000 ms to 9.000 ms) overlap for at least 1.000 ms [3, 6, 5, 10]
         step 1: b got `ok`, expected `busy` [4, 5]",
    );
}

#[test]
fn the_first_broken_event_gives_the_reason() {
    check(
        &catalogue("exclusive-basic"),
        "1 a > acquire s0\n2 - broken\n3 a broken",
        "broken: adapter printed a line that is not protocol JSON: expected value at line 1 column 1: `hello world`",
    );
}

#[test]
fn findings_of_one_kind_are_capped() {
    let mut run = String::new();
    for i in 0..(MAX_FINDINGS_PER_KIND + 5) {
        run.push_str(&format!(
            "{i} c.0 > acquire s0r{i}\n{i} c.1 > acquire s0r{i}\n"
        ));
        run.push_str(&format!("{i}.1 c.0 < busy\n{i}.1 c.1 < busy\n"));
    }
    let Verdict::Fail { findings } = lockcheck_model::check(&inline(RACE), &history(&run)) else {
        panic!("expected a failure");
    };
    assert_eq!(findings.len(), MAX_FINDINGS_PER_KIND);
}

#[test]
fn requests_the_scenario_does_not_know_prove_nothing() {
    check(
        &catalogue("exclusive-basic"),
        "0 a > acquire s99\n1 a < error:io\n2 z > release\n3 z < busy\n4 b <# 42 ok\n5 a <# 1 ok",
        "pass",
    );
}

#[test]
fn verdict_names_are_the_json_tags() {
    for verdict in [Verdict::Pass, fail("f"), skip("s"), broken("b")] {
        let json = serde_json::to_value(&verdict).unwrap();
        assert_eq!(json["verdict"], verdict.name());
    }
}

#[rstest]
#[case::pass_only(vec![Verdict::Pass, Verdict::Pass], "pass")]
#[case::empty(vec![], "pass")]
#[case::skip_beats_pass(vec![Verdict::Pass, skip("s")], "skip: s")]
#[case::broken_beats_skip(vec![skip("s"), broken("b"), Verdict::Pass], "broken: b")]
#[case::fail_beats_broken(vec![broken("b"), fail("first"), fail("second")], "fail\nstep -: first []")]
fn merge_ranks_fail_over_broken_over_skip_over_pass(
    #[case] verdicts: Vec<Verdict>,
    #[case] expect: &str,
) {
    assert_eq!(render(&merge(verdicts)), expect);
}

fn skip(reason: &str) -> Verdict {
    Verdict::Skip {
        reason: reason.into(),
    }
}

fn broken(reason: &str) -> Verdict {
    Verdict::broken(
        None,
        lockcheck_model::BrokenReason::Probe {
            message: reason.into(),
        },
    )
}

fn fail(summary: &str) -> Verdict {
    Verdict::Fail {
        findings: vec![lockcheck_model::Finding::new(
            lockcheck_model::FindingKind::FileSystem {
                detail: summary.into(),
            },
            None,
            vec![],
        )],
    }
}

#[rstest]
#[case(WaitSpec::Try, Recovery::Lease { ms: 100 }, (Wait::Try, None))]
#[case(WaitSpec::Block, Recovery::Kernel, (Wait::Block, None))]
#[case(WaitSpec::Timeout { ms: 300 }, Recovery::Kernel, (Wait::Timeout, Some(300)))]
#[case(WaitSpec::Recovery, Recovery::Kernel, (Wait::Try, None))]
#[case(WaitSpec::Recovery, Recovery::StalePid, (Wait::Try, None))]
#[case(WaitSpec::Recovery, Recovery::Lease { ms: 1000 }, (Wait::Timeout, Some(1500)))]
#[case(WaitSpec::Recovery, Recovery::None, (Wait::Try, None))]
fn recovery_waits_resolve_per_implementation(
    #[case] spec: WaitSpec,
    #[case] recovery: Recovery,
    #[case] expect: (Wait, Option<u64>),
) {
    assert_eq!(spec.resolve(recovery, 500), expect);
}

#[rstest]
#[case(1500, Some(2.0), Recovery::Kernel, 1500)]
#[case(1500, Some(2.0), Recovery::Lease { ms: 500 }, 1500)]
#[case(1500, Some(2.0), Recovery::Lease { ms: 1000 }, 2000)]
#[case(1500, None, Recovery::Lease { ms: 5000 }, 1500)]
#[case(10, Some(f64::NAN), Recovery::Lease { ms: 5000 }, 10)]
#[case(10, Some(1e300), Recovery::Lease { ms: 5000 }, u64::MAX)]
fn sleeps_outlast_leases(
    #[case] ms: u64,
    #[case] factor: Option<f64>,
    #[case] recovery: Recovery,
    #[case] expect: u64,
) {
    let sleep = SleepSpec {
        ms,
        lease_factor: factor,
        recovery_factor: Some(2.0),
    };
    assert_eq!(sleep.ms_for(recovery, None), expect);
}

#[rstest]
#[case(Some(2.0), Recovery::Kernel, Some(2500), 5000)]
#[case(Some(2.0), Recovery::Kernel, Some(10), 1500)]
#[case(Some(2.0), Recovery::Lease { ms: 3000 }, Some(2500), 6000)]
#[case(None, Recovery::Kernel, Some(2500), 1500)]
fn sleeps_outlast_measured_recovery(
    #[case] factor: Option<f64>,
    #[case] recovery: Recovery,
    #[case] measured_ms: Option<u64>,
    #[case] expect: u64,
) {
    let sleep = SleepSpec {
        ms: 1500,
        lease_factor: Some(2.0),
        recovery_factor: factor,
    };
    assert_eq!(sleep.ms_for(recovery, measured_ms), expect);
}

#[rstest]
#[case(WaitSpec::MeasureRecovery { ms: 10000 }, Recovery::Kernel, (Wait::Timeout, Some(10000)))]
#[case(WaitSpec::MeasureRecovery { ms: 10000 }, Recovery::Lease { ms: 8000 }, (Wait::Timeout, Some(16500)))]
fn measuring_waits_outlast_declared_leases(
    #[case] spec: WaitSpec,
    #[case] recovery: Recovery,
    #[case] expect: (Wait, Option<u64>),
) {
    assert_eq!(spec.resolve(recovery, 500), expect);
}

/// pause-past-recovery's history up to the pause, the waiter's `ok` at `granted_ms`; a's
/// exit, which starts the measurement, at 12 ms.
fn measured_history(declared: &str, granted_ms: u64) -> String {
    format!(
        "
        0 a spawn 100
        0 a hello {declared}
        0 b spawn 101
        0 c spawn 102
        1 a > acquire s0
        2 a < ok
        10 a kill s1
        12 a exited s1
        13 b > acquire s2
        {granted_ms} b < ok
        {r} b > release s3
        {r} b < ok",
        r = granted_ms + 1,
    )
}

#[test]
fn recovery_is_measured_from_the_killed_holders_exit() {
    let scenario = catalogue("pause-past-recovery");
    let history = history(&measured_history("kernel", 2512));
    let measured = lockcheck_model::measured_recovery(&scenario, &history.events)
        .expect("a measured recovery");
    assert_eq!((measured.step, measured.ms()), (2, 2500));
    assert_eq!((measured.kill, measured.granted), (7, 9));
}

#[test]
fn no_recovery_is_measured_before_the_wait_is_granted() {
    let scenario = catalogue("pause-past-recovery");
    let mut events = history(&measured_history("kernel", 2512)).events;
    events.truncate(8);
    assert_eq!(lockcheck_model::measured_recovery(&scenario, &events), None);
}

#[rstest]
#[case::kernel_in_time("kernel", 900, "pass")]
#[case::kernel_late(
    "kernel",
    2512,
    "fail
     step 2: declared kernel recovery, measured ≈ 2.5 s: a crashed holder's lock became free only then, so pauses and waits sized by the declaration are too short [7, 9]"
)]
#[case::lease_in_time("lease=2000", 2512, "pass")]
#[case::lease_late(
    "lease=500",
    2512,
    "fail
     step 2: declared a 500 ms lease, measured ≈ 2.5 s: a crashed holder's lock became free only then, so pauses and waits sized by the declaration are too short [7, 9]"
)]
fn recovery_later_than_declared_fails(
    #[case] declared: &str,
    #[case] granted_ms: u64,
    #[case] expect: &str,
) {
    check(
        &catalogue("pause-past-recovery"),
        &measured_history(declared, granted_ms),
        expect,
    );
}

fn hello(capabilities: &[Capability], recovery: Recovery) -> Hello {
    Hello {
        protocol: 1,
        implementation: Implementation {
            name: "x".into(),
            version: "1".into(),
            language: "rust".into(),
        },
        capabilities: capabilities.to_vec(),
        recovery,
        timed_start: false,
    }
}

#[rstest]
#[case::all_there("exclusive-basic", &[Capability::Exclusive, Capability::Try], Recovery::Kernel, None)]
#[case::missing(
    "blocking-handoff",
    &[Capability::Exclusive],
    Recovery::Kernel,
    Some("missing capabilities: try, block")
)]
#[case::no_recovery(
    "crash-holder",
    &[Capability::Exclusive, Capability::Try],
    Recovery::None,
    Some("the implementation declares no crash recovery (`recovery: none`), and step 3 (line 20) waits for recovery")
)]
#[case::lease_without_timeout(
    "crash-holder",
    &[Capability::Exclusive, Capability::Try],
    Recovery::Lease { ms: 100 },
    Some("waiting for recovery needs the `timeout` capability, which the implementation does not declare")
)]
fn applicability_names_what_is_missing(
    #[case] id: &str,
    #[case] capabilities: &[Capability],
    #[case] recovery: Recovery,
    #[case] expect: Option<&str>,
) {
    assert_eq!(
        catalogue(id)
            .applicability(&hello(capabilities, recovery))
            .as_deref(),
        expect
    );
}

#[rstest]
#[case(BrokenReason::SpawnFailed { message: "No such file".into() }, "adapter could not be started: No such file")]
#[case(BrokenReason::BadHello { message: "missing field `protocol`".into(), line: "{}".into() }, "adapter's first line is not a valid hello: missing field `protocol`: `{}`")]
#[case(BrokenReason::UnexpectedId { id: 9 }, "adapter answered id 9, which no outstanding request has")]
#[case(BrokenReason::LineTooLong { bytes: 1048576 }, "adapter printed a line longer than the limit (1048576 bytes read)")]
#[case(BrokenReason::EarlyExit { code: Some(3), signal: None }, "adapter exited while a response was outstanding (exit code 3)")]
#[case(BrokenReason::EarlyExit { code: None, signal: Some(9) }, "adapter exited while a response was outstanding (signal 9)")]
#[case(BrokenReason::EarlyExit { code: None, signal: None }, "adapter exited while a response was outstanding")]
#[case(BrokenReason::Hang { op: "acquire".into(), waited_ms: 5000 }, "adapter did not answer `acquire` within 5000 ms")]
#[case(BrokenReason::EarlyStart { op: "acquire".into(), after_us: 2400, answered_us: 130 }, "adapter answered `acquire` 130 µs after it was sent, sooner than its after_us of 2400 µs, though its hello says timed_start")]
#[case(BrokenReason::Harness { message: "tempdir: ENOSPC".into() }, "harness failed: tempdir: ENOSPC")]
fn broken_reasons_read_as_sentences(#[case] reason: BrokenReason, #[case] expect: &str) {
    assert_eq!(reason.to_string(), expect);
}

/// reflock's answer to deleted-while-held: b locks a fresh file while a still holds the
/// unlinked one; c is kept out by b.
const DELETED_WHILE_HELD_HAZARD: &str = "
    0 a spawn 100
    0 b spawn 101
    0 c spawn 102
    0 d spawn 103
    1 a > acquire s0
    2 a < ok
    3 - unlink s1
    4 b > acquire s2
    5 b < ok
    6 a > release s3
    7 a < ok
    8 c > acquire s4
    9 c < busy
    10 c > release s5
    11 c < error:not_held
    12 b > release s6
    13 b < ok
    14 d > acquire s7
    15 d < ok
    16 d > release s8
    17 d < ok
";

#[test]
fn a_holder_of_an_unlinked_lock_file_does_not_overlap_one_of_the_new_file() {
    check(
        &catalogue("deleted-while-held"),
        DELETED_WHILE_HELD_HAZARD,
        "pass",
    );
}

#[test]
fn holders_that_both_opened_the_path_after_the_unlink_still_overlap() {
    // a's release deleted b's new file, and c locked a third one beside b.
    check(
        &catalogue("deleted-while-held"),
        &DELETED_WHILE_HELD_HAZARD.replace("9 c < busy", "9 c < ok"),
        "fail
         step 4: two holders at once: b (exclusive, 5.000 ms to 12.000 ms) and c (exclusive, 9.000 ms to 10.000 ms) overlap for at least 1.000 ms [8, 15, 12, 13]",
    );
}

#[test]
fn an_overlap_before_the_unlink_still_counts() {
    let scenario = inline(
        r#"id = "u"
level = "fs"
description = "d"
catches = "c"
requires = ["exclusive", "try"]
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
expect = ["ok", "busy"]
[[steps]]
do = "unlink"
"#,
    );
    let run = "
        1 a > acquire s0
        2 a < ok
        3 b > acquire s1
        4 b < ok
        5 - unlink s2";
    check(
        &scenario,
        run,
        "fail
         step 1: two holders at once: a (exclusive, 2.000 ms to end) and b (exclusive, 4.000 ms to end) overlap until the end of the run [1, 3]",
    );
    // b's request went out before the unlink but its answer came after: it may have opened
    // either file, so nothing is proven.
    check(&scenario, &run.replace("4 b < ok", "6 b < ok"), "pass");
}

#[test]
fn crash_acquire_accepts_ok_and_busy_but_not_errors() {
    let scenario = catalogue("crash-mid-acquire");
    let run = "
        1 v.0 > acquire s0r0
        2 v.0 < ok
        3 v.0 kill s0
        4 v.0 exited
        5 v.1 > acquire s0r1
        6 v.1 < busy
        7 v.1 kill s0
        8 v.2 > acquire s0r2
        9 v.2 kill s0
        10 c > acquire s1
        11 c < ok
        12 c > release s2
        13 c < ok";
    check(&scenario, run, "pass");
    check(
        &scenario,
        &run.replace("6 v.1 < busy", "6 v.1 < error:io"),
        "fail
         step 0: v.1 got `error:io`, expected `ok|busy` [4, 5]",
    );
    // A wedged lock: the fresh participant cannot get it after the crashes.
    check(
        &scenario,
        &run.replace("11 c < ok", "11 c < busy"),
        "fail
         step 1: c got `busy`, expected `ok` [9, 10]",
    );
}

#[rstest]
#[case::private_file("file 600", "pass")]
#[case::umask_mode("file 644", "pass")]
#[case::world_writable(
    "file 666",
    "fail\nstep 1: the lock file was created with mode 0666, which has the forbidden bits 0022 [2]"
)]
#[case::group_writable_directory(
    "directory 770",
    "fail\nstep 1: the lock directory was created with mode 0770, which has the forbidden bits 0020 [2]"
)]
#[case::nothing_there("missing -", "pass")]
#[case::symlink_modes_mean_nothing("symlink 777", "pass")]
fn lock_file_mode(#[case] observed: &str, #[case] expect: &str) {
    let run = format!(
        "
        1 a > acquire s0
        2 a < ok
        3 - mode {observed} s1
        4 a > release s2
        5 a < ok"
    );
    check(&catalogue("lock-file-mode"), &run, expect);
}

#[rstest]
#[case::nothing("", "pass")]
#[case::recreated_directory(
    "locks/ locks/app.lock",
    "fail\nstep 2: left behind: locks/, locks/app.lock [3]"
)]
fn missing_dir_leaves_nothing_behind(#[case] left: &str, #[case] expect: &str) {
    let run = format!(
        "
        0 - remove_dir s0
        1 a > acquire s1
        2 a < error:missing_directory
        3 - leftovers {left} s2"
    );
    check(&catalogue("missing-dir"), &run, expect);
}

#[test]
fn killed_race_winners_hand_a_stale_lock_to_the_next_round() {
    let scenario = inline(
        r#"id = "k"
level = "crash"
description = "d"
catches = "c"
requires = ["exclusive", "try"]
[[participants]]
name = "c"
count = 3
[[steps]]
who = "c"
do = "race"
rounds = 2
end = "kill"
"#,
    );
    let run = "
        1 c.0 > acquire s0r0
        1 c.1 > acquire s0r0
        1 c.2 > acquire s0r0
        2 c.0 < ok
        2 c.1 < busy
        2 c.2 < busy
        3 c.0 kill s0
        4 c.0 exited
        5 c.1 > acquire s0r1
        5 c.2 > acquire s0r1
        6 c.1 < busy
        6 c.2 < ok
        7 c.2 kill s0";
    check(&scenario, run, "pass");
    check(
        &scenario,
        &run.replace("6 c.1 < busy", "6 c.1 < ok"),
        "fail
         step 0: two holders at once: c.1 (exclusive, 6.000 ms to end) and c.2 (exclusive, 6.000 ms to 7.000 ms) overlap for at least 1.000 ms [10, 11, 12]
         step 0: round 1 had 2 winners, expected exactly 1 [10, 11]",
    );
}

/// blocking-handoff where b's wait is never answered: the runner gave up on it and had a try.
const LOST_WAKEUP_RUN: &str = "
    0 a > acquire s0
    1 a < ok
    2 b > acquire_block s1
    50 a > release s2
    51 a < ok
    10050 a > acquire s3
    10051 a < ok
    10052 b broken";

#[rstest]
#[case::free(
    LOST_WAKEUP_RUN,
    "fail\nstep 3: b's acquire was not answered after 10048 ms, though the lock was free: a's try got it (a lost wake-up) [2, 5, 6]"
)]
#[case::probe_refused(
    &LOST_WAKEUP_RUN.replace("10051 a < ok", "10051 a < busy"),
    "broken: participant b: adapter printed a line that is not protocol JSON: expected value at line 1 column 1: `hello world`"
)]
#[case::prober_still_held(
    &LOST_WAKEUP_RUN.replace("50 a > release s2\n    51 a < ok\n", ""),
    "broken: participant b: adapter printed a line that is not protocol JSON: expected value at line 1 column 1: `hello world`"
)]
#[case::waiter_answered_first(
    &LOST_WAKEUP_RUN.replace("10052 b broken", "60 b < ok").replace("10051 a < ok", "10051 a < busy"),
    "pass"
)]
fn a_waiter_is_woken_or_the_lock_was_not_free(#[case] run: &str, #[case] expect: &str) {
    check(&catalogue("blocking-handoff"), run, expect);
}

/// pause-holder against a lease lock: b takes the paused holder's lock, so its later
/// reacquire is refused as already held. That refusal follows from the overlap and is not
/// reported beside it.
#[test]
fn answers_after_two_holders_are_proven_are_not_reported_as_more_causes() {
    check(
        &catalogue("pause-holder"),
        "
        0 a > acquire s0
        1 a < ok
        2 a stop s1
        1600 b > acquire s3
        1601 b < ok
        1602 a cont s4
        1603 a > release s5
        1604 a < ok
        1605 b > acquire s6
        1606 b < error:already_held_by_this_process
        1607 b > release s7
        1608 b < ok",
        "fail
         step 3: two holders at once: a (exclusive, 1.000 ms to 1603.000 ms) and b (exclusive, 1601.000 ms to 1607.000 ms) overlap for at least 2.000 ms [1, 6, 4, 10]
         step 3: b got `ok`, expected `busy` [3, 4]",
    );
}
