//! `report.html` and `matrix.html`, on results the real checker produced.

use lockcheck_model::bench::Machine;
use lockcheck_model::{Judgement, ScenarioResult};
use lockcheck_report::{
    Cell, Matrix, Row, RunContext, ScenarioHead, VIOLATION, matrix_html, report_html,
};

use crate::checked::{
    no_op_exclusive_basic, no_op_race_50, run, skipped, sound_crash_holder, sound_pause_holder,
};

fn context() -> RunContext {
    RunContext {
        date: "2026-12-02 17:30 UTC".to_owned(),
        machine: Machine {
            os: "linux".to_owned(),
            kernel: "6.1.0".to_owned(),
            cpu: "Example CPU".to_owned(),
            cpus: 2,
            lock_fs: "tmpfs".to_owned(),
        },
        replay: "lockcheck run --impl no-op.toml --seed 7".to_owned(),
    }
}

fn page(scenarios: Vec<ScenarioResult>) -> String {
    let run = run(scenarios);
    let cells: Vec<Cell> = run.scenarios.iter().map(|r| Cell::judge(r, None)).collect();
    report_html(&run, &cells, &context())
}

/// The scenario sections of a page, in page order: each one's id, judgement and markup.
fn sections(html: &str) -> Vec<(String, String, &str)> {
    let attr = |text: &str, name: &str| {
        let start = text.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        text[start..start + text[start..].find('"').unwrap()].to_owned()
    };
    html.split("<section class=\"scenario\"")
        .skip(1)
        .map(|body| (attr(body, "id"), attr(body, "data-judgement"), body))
        .collect()
}

fn section<'h>(html: &'h str, id: &str) -> &'h str {
    sections(html)
        .into_iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, _, body)| body)
        .expect("a section")
}

/// The page with a line break between tags, so that a snapshot's diff shows what changed.
fn one_element_a_line(html: &str) -> String {
    html.replace("><", ">\n<")
}

fn every_scenario() -> Vec<ScenarioResult> {
    vec![
        sound_pause_holder(),
        skipped("shared-coexist"),
        no_op_exclusive_basic(),
        sound_crash_holder(),
    ]
}

#[test]
fn a_failing_run() {
    let html = page(every_scenario());
    insta::with_settings!({filters => vec![(r"<dd>\d+\.\d+\.\d+</dd>", "<dd><version></dd>")]}, {
        insta::assert_snapshot!(one_element_a_line(&html));
    });
}

#[test]
fn failures_come_first_and_open_and_passes_collapsed() {
    let html = page(every_scenario());
    let order: Vec<(String, String)> = sections(&html)
        .into_iter()
        .map(|(id, judgement, _)| (id, judgement))
        .collect();
    let expected = [
        ("exclusive-basic", "fail"),
        ("shared-coexist", "skip"),
        ("pause-holder", "pass"),
        ("crash-holder", "pass"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(i, j)| (i.to_string(), j.to_string()))
        .collect();
    assert_eq!(order, expected);
    assert!(section(&html, "exclusive-basic").contains("<details open>"));
    assert!(section(&html, "pause-holder").contains("<details>"));
}

#[test]
fn every_scenario_has_a_timeline_even_without_a_history() {
    let html = page(every_scenario());
    for (id, _, body) in sections(&html) {
        assert!(body.contains("<div class=\"timeline\">"), "{id}");
    }
    assert!(section(&html, "shared-coexist").contains("not run: the scenario was skipped"));
}

#[test]
fn the_overlap_is_drawn_in_the_violation_colour_with_the_finding() {
    let html = page(every_scenario());
    assert!(html.contains(&format!(".violation {{ fill: {VIOLATION}; }}")));
    let failure = section(&html, "exclusive-basic");
    assert_eq!(failure.matches("<rect class=\"violation\"").count(), 2);
    assert!(failure.contains("overlapping hold: b (exclusive) from +4.300ms to +10.000ms"));
    assert!(failure.contains("<rect class=\"overlap-band\""));
    assert!(
        failure.contains("<line class=\"status-ok evidence\""),
        "the evidence's answers stand out"
    );
    assert!(html.contains("line.evidence { stroke-width: 3; }"));
    assert!(failure.contains("two holders at once: a (exclusive, 2.400 ms to 6.000 ms)"));
    for other in ["pause-holder", "crash-holder"] {
        assert!(
            !section(&html, other).contains("class=\"violation\""),
            "{other}"
        );
    }
}

#[test]
fn faults_are_marked_with_their_times() {
    let html = page(every_scenario());
    assert!(section(&html, "pause-holder").contains(
        "<title>a stopped (SIGSTOP) at +3.000ms, continued (SIGCONT) at +21.000ms</title>"
    ));
    assert!(section(&html, "crash-holder").contains("<path class=\"kill\""));
    assert!(section(&html, "crash-holder").contains("<title>SIGKILL: +3.000ms  a !! kill</title>"));
}

#[test]
fn a_race_of_50_collapses_to_a_summary_lane_that_expands() {
    let html = page(vec![no_op_race_50(1)]);
    let race = section(&html, "race-50");
    let (summary, lanes) = race
        .split_once("<details class=\"lanes\">")
        .expect("expandable");
    assert!(summary.contains("50 participants"));
    assert_eq!(summary.matches("class=\"lane-label\"").count(), 1);
    assert_eq!(lanes.matches("class=\"lane-label\"").count(), 50);
    assert!(summary.contains("<rect class=\"violation\""));
    assert!(
        !summary.contains("class=\"status-ok"),
        "no ticks on the summary lane"
    );
    assert!(
        lanes.contains("class=\"status-ok"),
        "every lane has its ticks"
    );
}

/// 11 rounds of 50 racers are 2 200 ticks: the timeline stops at the 1 001st, and says so.
#[test]
fn a_long_history_is_drawn_up_to_its_thousandth_tick() {
    let html = page(vec![no_op_race_50(11)]);
    let (_, lanes) = section(&html, "race-50")
        .split_once("<details class=\"lanes\">")
        .expect("expandable");
    let ticks = lanes.matches("<line class=\"request").count()
        + lanes.matches("<line class=\"status-").count();
    assert_eq!(ticks, 1_000);
    assert!(
        html.contains(
            "Drawn up to +52.000ms (and any violation): the 1200 events after it are not"
        ),
        "{html}"
    );
}

fn cell(scenario: &str, verdict: Judgement) -> Cell {
    Cell {
        scenario: scenario.to_owned(),
        verdict,
        evidence: Some(format!("{verdict} evidence")),
        link: None,
        replay: String::new(),
        checks: Vec::new(),
        expected: false,
    }
}

fn row(name: &str, setup: &'static str, cells: Vec<Cell>) -> Row {
    Row {
        name: name.to_owned(),
        implementation: None,
        manifest: None,
        description: None,
        setup,
        setup_ms: 0,
        run_ms: 0,
        note: None,
        cells,
    }
}

#[test]
fn the_matrix_colours_every_judgement_and_links_failures_to_their_timelines() {
    let scenarios = ["exclusive-basic", "crash-holder", "shared-coexist"];
    let matrix = Matrix {
        seed: 0,
        scenarios: scenarios
            .iter()
            .map(|id| ScenarioHead {
                id: id.to_string(),
                level: "core",
            })
            .collect(),
        implementations: vec![
            row(
                "fd-lock",
                "ready",
                vec![
                    cell("exclusive-basic", Judgement::Fail),
                    cell("crash-holder", Judgement::Xfail),
                    cell("shared-coexist", Judgement::Xpass),
                ],
            ),
            row(
                "seed-003",
                "ready",
                vec![
                    cell("exclusive-basic", Judgement::Pass),
                    cell("crash-holder", Judgement::Broken),
                    cell("shared-coexist", Judgement::XfailNotShown),
                ],
            ),
            row(
                "portalocker",
                "unavailable",
                scenarios.iter().map(|s| cell(s, Judgement::Skip)).collect(),
            ),
        ],
    };
    let html = matrix_html(&matrix);
    insta::assert_snapshot!(one_element_a_line(&html));
    for judgement in Judgement::ALL {
        assert!(
            html.contains(&format!(".j-{judgement} {{ background:")),
            "{judgement}"
        );
    }
    let links: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(
        links,
        [
            "timelines/fd-lock.html#exclusive-basic",
            "timelines/fd-lock.html#crash-holder",
            "timelines/seed-003.html#crash-holder",
        ]
    );
}
