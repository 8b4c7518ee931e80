//! The runner's public entry points: run scenarios against one adapter and report progress as
//! typed events.

use std::time::Instant;

use lockcheck_model::{BrokenReason, RunResult, Scenario, ScenarioResult, Verdict};
use lockcheck_protocol::Hello;

use crate::execute::{broken_history, run_iteration};
use crate::fnv::Fnv;
use crate::probe::probe;
use crate::spec::{AdapterSpec, RunOptions};
use crate::sys;
use crate::topology;

/// Progress of a run, for reporters. Borrowed data lives only for the callback.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// The adapter introduced itself (or could not).
    Probed {
        /// The hello, or why there is none.
        hello: Result<&'a Hello, String>,
    },
    /// A scenario is about to start.
    ScenarioStarted {
        /// The scenario.
        scenario: &'a Scenario,
        /// 0-based position in the run.
        index: usize,
        /// Scenarios in the run.
        total: usize,
    },
    /// A scenario finished.
    ScenarioFinished {
        /// Its result.
        result: &'a ScenarioResult,
        /// 0-based position in the run.
        index: usize,
        /// Scenarios in the run.
        total: usize,
    },
}

/// Runs `scenarios` in order against the adapter and returns every result; once
/// `opts.cancel` is raised, those that settled before, marked `interrupted`.
pub fn run(
    spec: &AdapterSpec,
    scenarios: &[Scenario],
    opts: &RunOptions,
    on_event: &mut dyn FnMut(RunEvent<'_>),
) -> RunResult {
    let started = Instant::now();
    let probed = probe(spec, opts).map_err(|e| e.to_string());
    on_event(RunEvent::Probed {
        hello: probed.as_ref().map_err(Clone::clone),
    });
    let total = scenarios.len();
    let mut results = Vec::with_capacity(total);
    for (index, scenario) in scenarios.iter().enumerate() {
        if opts.cancel.is_cancelled() {
            break;
        }
        on_event(RunEvent::ScenarioStarted {
            scenario,
            index,
            total,
        });
        let result = match &probed {
            Ok(hello) => run_scenario(spec, scenario, hello, opts),
            Err(message) => not_run(
                scenario,
                opts,
                Verdict::broken(
                    None,
                    BrokenReason::Probe {
                        message: message.clone(),
                    },
                ),
            ),
        };
        // A scenario the stop cut short has no verdict of its own: it is left out.
        if opts.cancel.is_cancelled() {
            break;
        }
        on_event(RunEvent::ScenarioFinished {
            result: &result,
            index,
            total,
        });
        results.push(result);
    }
    RunResult {
        implementation: probed.ok().map(|h| h.implementation),
        manifest: spec.name.clone(),
        seed: opts.seed,
        interrupted: opts.cancel.is_cancelled() && results.len() < total,
        scenarios: results,
        duration_ms: started.elapsed().as_millis() as u64,
        containment: sys::containment(opts.cgroups),
    }
}

/// Where the iterations of a run with `opts` put their cgroups (`.../lockcheck-<pid>`, which
/// exists only while one of them runs), or `None` when process groups are all there is: for
/// callers that check nothing is left behind.
pub fn cgroup_parent(opts: &RunOptions) -> Option<std::path::PathBuf> {
    sys::cgroup_parent(opts.cgroups)
}

/// Runs one scenario (all its repetitions, stopping at the first that does not pass) against
/// an adapter whose `hello` is already known.
pub fn run_scenario(
    spec: &AdapterSpec,
    scenario: &Scenario,
    hello: &Hello,
    opts: &RunOptions,
) -> ScenarioResult {
    if let Some(reason) = scenario.applicability(hello) {
        return not_run(scenario, opts, Verdict::Skip { reason });
    }
    let topology = scenario.topology();
    if let Some(reason) = topology::unavailable(&topology) {
        return not_run(scenario, opts, Verdict::Skip { reason });
    }
    let started = Instant::now();
    let seed = scenario_seed(opts.seed, &scenario.id);
    let mut iterations = 0;
    let mut verdict = Verdict::Pass;
    let mut kept = None;
    for iteration in 0..scenario.repeat {
        let seed = seed.wrapping_add(u64::from(iteration));
        let run = || run_iteration(scenario, spec, opts, hello, seed, iteration);
        let history = if topology.mounts() {
            match topology::isolated(run) {
                Ok(history) => history,
                Err(e) => broken_history(
                    seed,
                    iteration,
                    format!("cannot leave the runner's mount namespace: {e}"),
                ),
            }
        } else {
            run()
        };
        iterations += 1;
        verdict = lockcheck_model::check(scenario, &history);
        let failed = verdict != Verdict::Pass;
        if failed || opts.keep_history {
            kept = Some(history);
        }
        if failed {
            break;
        }
    }
    ScenarioResult {
        scenario: scenario.id.clone(),
        level: scenario.level,
        verdict,
        iterations,
        duration_ms: started.elapsed().as_millis() as u64,
        replay: replay(opts, scenario),
        holds: kept
            .as_ref()
            .map(|h| lockcheck_model::credited_holds(scenario, h))
            .unwrap_or_default(),
        history: kept,
    }
}

fn not_run(scenario: &Scenario, opts: &RunOptions, verdict: Verdict) -> ScenarioResult {
    ScenarioResult {
        scenario: scenario.id.clone(),
        level: scenario.level,
        verdict,
        iterations: 0,
        duration_ms: 0,
        replay: replay(opts, scenario),
        history: None,
        holds: Vec::new(),
    }
}

fn replay(opts: &RunOptions, scenario: &Scenario) -> String {
    opts.replay
        .as_ref()
        .map(|replay| replay.command(&scenario.id, opts.seed))
        .unwrap_or_default()
}

/// A per-scenario seed, so that replaying one scenario alone reproduces its random choices.
fn scenario_seed(seed: u64, id: &str) -> u64 {
    let mut hash = Fnv::new();
    hash.write(id.as_bytes());
    hash.finish() ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}
