//! Reproducible runs: what differs between two runs of the same scenarios is gone.

use lockcheck_model::{EventKind, RunResult};
use lockcheck_report::{PathPlaceholder, reproducible, to_json};

use crate::fixture;

/// The fixture run as another machine would have recorded it: every event a little later,
/// other pids, slower scenarios, and its manifest in another temporary directory.
fn elsewhere(mut run: RunResult, tmp: &str) -> RunResult {
    run.duration_ms += 17;
    for s in &mut run.scenarios {
        s.duration_ms += 3;
        s.replay = format!(
            "lockcheck run --impl {tmp}/.tmpXyZ/impl.toml --scenario {}",
            s.scenario
        );
        for e in s.history.iter_mut().flat_map(|h| &mut h.events) {
            e.at_ns += 1_234;
            if let EventKind::Spawned { pid, .. } = &mut e.kind {
                *pid += 1_000;
            }
        }
    }
    run
}

fn placeholders(tmp: &str) -> Vec<PathPlaceholder> {
    vec![PathPlaceholder::whole(tmp, "<tmp>")]
}

#[test]
fn two_runs_differing_in_times_pids_and_temporary_paths_render_the_same() {
    let one = elsewhere(fixture::run(), "/tmp");
    let two = elsewhere(elsewhere(fixture::run(), "/var/tmp"), "/var/tmp");
    assert_ne!(to_json(&one), to_json(&two));
    assert_eq!(
        to_json(&reproducible(&one, &placeholders("/tmp"))),
        to_json(&reproducible(&two, &placeholders("/var/tmp")))
    );
}

/// A finding's summary is derived again from its zeroed fields, not kept from the run.
#[test]
fn summaries_speak_of_the_zeroed_times() {
    let text = to_json(&reproducible(&fixture::run(), &[]));
    assert!(
        text.contains("two holders at once: c.0 (exclusive, 0.000 ms to 0.000 ms)"),
        "{text}"
    );
    assert!(!text.contains("12.346 ms"), "{text}");
}
