//! The HTML pages the commands write: `report.html` beside `report.json` for `run --report`,
//! and `matrix.html` with its timeline pages for `matrix`. `lockcheck-report` formats them;
//! this module finds what they say about the machine and the date, and writes the files.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use std::{env, fs};

use anyhow::Context;
use lockcheck::Replay;
use lockcheck_model::RunResult;
use lockcheck_report::{Cell, Matrix, RunContext, timeline_file};

use crate::cli::CatalogueArgs;

/// Writes `dir/report.html` for a `lockcheck run` whose scenarios `args` selected.
pub fn write_run_page(
    dir: &Path,
    result: &RunResult,
    cells: &[Cell],
    replay: &Replay,
    args: &CatalogueArgs,
) -> anyhow::Result<()> {
    let context = context(replay.run_command(&selection(args), result.seed));
    write(
        &dir.join("report.html"),
        &lockcheck_report::report_html(result, cells, &context),
    )
}

/// Writes `out/matrix.html`, and for every implementation with a kept history (a failure or
/// a broken run) the page of those scenarios' timelines that the matrix links to.
/// `results` are the rows' runs, in row order (`None` for a row that could not run).
pub fn write_matrix_pages(
    out: &Path,
    matrix: &Matrix,
    results: &[Option<RunResult>],
) -> anyhow::Result<()> {
    write(
        &out.join("matrix.html"),
        &lockcheck_report::matrix_html(matrix),
    )?;
    for (row, result) in matrix.implementations.iter().zip(results) {
        let Some(result) = result else { continue };
        let kept: Vec<usize> = (0..result.scenarios.len())
            .filter(|&i| result.scenarios[i].history.is_some())
            .collect();
        if kept.is_empty() {
            continue;
        }
        let shown = RunResult {
            scenarios: kept.iter().map(|&i| result.scenarios[i].clone()).collect(),
            ..result.clone()
        };
        let cells: Vec<Cell> = kept
            .iter()
            .filter_map(|&i| {
                let id = &result.scenarios[i].scenario;
                row.cells.iter().find(|c| &c.scenario == id).cloned()
            })
            .collect();
        let replay = row
            .manifest
            .as_deref()
            .map_or_else(Replay::builtin, Replay::manifest);
        let context = context(replay.run_command(&[], matrix.seed));
        let page = lockcheck_report::report_html(&shown, &cells, &context);
        write(&out.join(timeline_file(&row.name)), &page)?;
    }
    Ok(())
}

/// The flags that chose a run's scenarios, as a replay line writes them.
fn selection(args: &CatalogueArgs) -> Vec<String> {
    let mut flags: Vec<String> = args
        .scenarios
        .iter()
        .map(|p| format!("--scenarios {}", p.display()))
        .collect();
    if args.replace_catalogue {
        flags.push("--replace-catalogue".to_owned());
    }
    flags.extend(args.level.iter().map(|l| format!("--level {}", l.as_str())));
    flags.extend(args.scenario.iter().map(|g| format!("--scenario '{g}'")));
    flags
}

/// Now, this machine and the lock directory's file system (the runner makes lock
/// directories in the system temp directory).
fn context(replay: String) -> RunContext {
    RunContext {
        date: utc_date(SystemTime::now()),
        machine: lockcheck_runner::describe_machine(&env::temp_dir()),
        replay,
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `2026-12-02 17:30 UTC`.
fn utc_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn dates_are_utc_and_gregorian() {
        let at = |secs| utc_date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01 00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(at(1_796_232_600), "2026-12-02 17:30 UTC");
    }
}
