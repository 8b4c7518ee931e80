//! A stopped run: no scenario starts once `RunOptions::cancel` is raised, the one in flight
//! is left out, and the result says `interrupted`.

use lockcheck_model::Verdict;
use lockcheck_runner::{Cancel, RunEvent, RunOptions};

use crate::support::{HELLO, TWO_PARTY, quick, responder, scenario, sh};

/// Grants every acquire: enough for the two-party scenario's first steps to settle.
fn granting() -> lockcheck_runner::AdapterSpec {
    sh(&responder(
        HELLO,
        r#"echo "{\"type\":\"response\",\"id\":$id,\"status\":\"ok\"}""#,
    ))
}

#[test]
fn a_run_stopped_after_its_first_scenario_starts_no_other() {
    let cancel = Cancel::default();
    let opts = RunOptions {
        cancel: cancel.clone(),
        ..quick()
    };
    let scenarios = [
        scenario(TWO_PARTY),
        scenario(TWO_PARTY),
        scenario(TWO_PARTY),
    ];
    let mut started = 0;
    let result = lockcheck_runner::run(&granting(), &scenarios, &opts, &mut |event| match event {
        RunEvent::ScenarioStarted { .. } => started += 1,
        RunEvent::ScenarioFinished { .. } => cancel.cancel(2),
        RunEvent::Probed { .. } => {}
    });
    assert_eq!(started, 1);
    assert_eq!(result.scenarios.len(), 1);
    assert!(result.interrupted);
    assert_eq!(cancel.cause(), Some(2));
}

#[test]
fn a_run_stopped_during_a_scenario_leaves_it_out() {
    let cancel = Cancel::default();
    let opts = RunOptions {
        cancel: cancel.clone(),
        ..quick()
    };
    // Raised as the scenario starts: its first wait sees it and ends the iteration.
    let result = lockcheck_runner::run(&granting(), &[scenario(TWO_PARTY)], &opts, &mut |event| {
        if let RunEvent::ScenarioStarted { .. } = event {
            cancel.cancel(15);
        }
    });
    assert_eq!(result.scenarios, vec![]);
    assert!(result.interrupted);
}

#[test]
fn a_run_that_is_never_stopped_is_not_interrupted() {
    let result = lockcheck_runner::run(&granting(), &[scenario(TWO_PARTY)], &quick(), &mut |_| {});
    assert!(!result.interrupted);
    // The granting adapter is no lock: b gets it while a holds it.
    assert!(matches!(result.scenarios[0].verdict, Verdict::Fail { .. }));
}
