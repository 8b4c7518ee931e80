//! The terminal summary.

use lockcheck_model::{EventKind, Finding, FindingKind, RunResult, Verdict};
use lockcheck_report::{TerminalOptions, summary};

use crate::fixture;

fn plain(run: &RunResult) -> String {
    summary(run, &fixture::cells(run), &TerminalOptions { color: false })
}

fn colored(run: &RunResult) -> String {
    summary(run, &fixture::cells(run), &TerminalOptions { color: true })
}

#[test]
fn every_verdict_without_color() {
    insta::assert_snapshot!(plain(&fixture::run()));
}

/// Escapes are made visible so the snapshot shows exactly what is coloured.
#[test]
fn every_verdict_with_color() {
    insta::assert_snapshot!(colored(&fixture::run()).replace('\x1b', "<ESC>"));
}

#[test]
fn color_only_when_asked() {
    assert!(!plain(&fixture::run()).contains('\x1b'));
    let text = colored(&fixture::run());
    for label in [
        "\x1b[32mPASS",
        "\x1b[1;31mFAIL",
        "\x1b[33mSKIP",
        "\x1b[1;35mBROKEN",
    ] {
        assert!(text.contains(label), "no {label:?} in\n{text}");
    }
}

#[test]
fn color_leaves_text_unchanged() {
    let text = colored(&fixture::run());
    let mut stripped = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find('\x1b') {
        stripped.push_str(&rest[..start]);
        let end = rest[start..].find('m').expect("SGR ends with m");
        rest = &rest[start + end + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plain(&fixture::run()));
}

#[test]
fn totals_line_counts_each_verdict() {
    let text = plain(&fixture::run());
    assert_eq!(
        text.lines().last(),
        Some("1 passed, 4 failed, 1 skipped, 1 broken in 12.3 s")
    );
}

#[test]
fn empty_run() {
    let run = RunResult {
        implementation: None,
        scenarios: vec![],
        duration_ms: 7,
        ..fixture::run()
    };
    assert_eq!(
        plain(&run),
        "lockcheck mutant-unlink: implementation unknown (no hello), seed 42\n\n\
         0 passed, 0 failed, 0 skipped, 0 broken in 7 ms\n"
    );
}

/// A finding with a long transcript shows its first lines and says how many are hidden.
#[test]
fn long_evidence_is_cut() {
    let mut run = fixture::run();
    run.scenarios.retain(|s| s.scenario == "race");
    let history = run.scenarios[0].history.as_mut().unwrap();
    let first = history.events.len();
    let template = history
        .events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::Sent { participant, .. } if participant == "c.0"))
        .unwrap()
        .clone();
    for i in 0..20 {
        let mut e = template.clone();
        e.at_ns = fixture::ms(30 + i);
        history.events.push(e);
    }
    let finding = Finding::new(
        FindingKind::Victim {
            detail: "x".to_owned(),
        },
        None,
        (first..first + 20).collect(),
    );
    run.scenarios[0].verdict = Verdict::Fail {
        findings: vec![finding],
    };
    let text = plain(&run);
    assert_eq!(text.matches("c.0 -> ").count(), 12, "{text}");
    assert!(text.contains("... 8 events not shown"), "{text}");
}

/// A scenario with many findings shows the first few and says how many more there are.
#[test]
fn many_findings_are_cut() {
    let mut run = fixture::run();
    run.scenarios.retain(|s| s.scenario == "race");
    let finding = |i: usize| {
        Finding::new(
            FindingKind::Victim {
                detail: format!("change {i}"),
            },
            None,
            Vec::new(),
        )
    };
    run.scenarios[0].verdict = Verdict::Fail {
        findings: (0..7).map(finding).collect(),
    };
    let text = plain(&run);
    assert!(text.contains("modified: change 2"), "{text}");
    assert!(!text.contains("modified: change 3"), "{text}");
    assert!(
        text.contains("... and 4 more findings (every finding is in report.json)"),
        "{text}"
    );
}

/// A dead adapter's own stderr says why it died; among 50 racers it is far from the tail, so
/// the summary shows the culprit's last lines wherever they are, and no one else's.
#[test]
fn broken_shows_the_culprits_stderr_outside_the_tail() {
    use fixture::{event, ms, sent, try_exclusive};
    use lockcheck_model::{BrokenReason, EventKind, History};
    let stderr = |at, who: &str, line: &str| {
        event(
            ms(at),
            EventKind::Stderr {
                participant: who.to_owned(),
                line: line.to_owned(),
            },
        )
    };
    let mut events = vec![
        stderr(1, "c.16", "loader: cannot map the image"),
        stderr(2, "c.17", "a bystander's complaint"),
    ];
    events.extend((0..10).map(|i| sent(ms(10 + i), &format!("c.{i}"), i + 1, try_exclusive())));
    events.push(event(
        ms(30),
        EventKind::Broken {
            participant: Some("c.16".to_owned()),
            reason: BrokenReason::EarlyExit {
                code: Some(1),
                signal: None,
            },
        },
    ));
    let mut run = fixture::run();
    run.scenarios.retain(|s| s.scenario == "crash-holder");
    run.scenarios[0].history = Some(History {
        seed: 42,
        iteration: 0,
        events,
    });
    let text = plain(&run);
    assert!(text.contains("loader: cannot map the image"), "{text}");
    assert!(!text.contains("bystander"), "{text}");
    assert!(text.contains("c.9"), "the tail is still shown: {text}");
    assert!(!text.contains("c.4"), "only the tail is shown: {text}");
}

/// A lost wake-up reads as a lock failure: who waited, for how long, and whose try got it.
#[test]
fn a_lost_wakeup_names_the_waiter_and_the_prober() {
    insta::assert_snapshot!(plain(&fixture::lost_wakeup_run()));
}

/// Against expectations, each line is labelled by its judgement: an expected failure is
/// XFAIL, a stale expectation XPASS, a failure by another check than expected FAIL.
#[test]
fn labels_follow_the_judgement() {
    let run = fixture::run();
    let text = summary(
        &run,
        &fixture::judged_cells(&run),
        &TerminalOptions { color: false },
    );
    let labels: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .filter(|(_, name)| name.contains("::"))
        .collect();
    assert_eq!(
        labels,
        [
            ("XPASS", "core::exclusive-basic"),
            ("XFAIL", "core::race"),
            ("FAIL", "core::timeout-honored"),
            ("FAIL", "fs::symlink-at-path"),
            ("FAIL", "fs::holder-info"),
            ("SKIP", "shared::shared-coexist"),
            ("BROKEN", "crash::crash-holder"),
        ]
    );
}

#[test]
fn judged_against_expectations() {
    let run = fixture::run();
    let cells = fixture::judged_cells(&run);
    insta::assert_snapshot!(summary(&run, &cells, &TerminalOptions { color: false }));
}
