//! The lines `lockcheck run` prints while it runs: one per scenario as it settles, and the
//! note a stopped run ends with.

use lockcheck_model::{Judgement, ScenarioResult};

use crate::TerminalOptions;
use crate::terminal::{Paint, duration, verdict_label};

/// One settled scenario, the `index`-th (0-based) of `total`, labelled by its `judgement`, as
/// a line ending with a newline: `[2/9] PASS   core::exclusive-basic  412 ms`, then the
/// summary's note.
pub fn settled(
    result: &ScenarioResult,
    judgement: Judgement,
    index: usize,
    total: usize,
    opts: &TerminalOptions,
) -> String {
    let (label, note) = verdict_label(result, judgement, Paint(opts.color));
    let line = format!(
        "[{}/{total}] {label} {}::{}  {}  {note}",
        index + 1,
        result.level.as_str(),
        result.scenario,
        duration(result.duration_ms),
    );
    format!("{}\n", line.trim_end())
}

/// What a run stopped by `signal` (its name, e.g. `SIGINT`) says at its end, with a newline.
pub fn interrupted(signal: &str, settled: usize, total: usize) -> String {
    format!(
        "interrupted by {signal}: {settled} of {total} scenarios settled, the rest were not run\n"
    )
}
