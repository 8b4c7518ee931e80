//! `lockcheck bench`: the table for terminals and Markdown, the versioned JSON and its schema,
//! and the baseline comparison. The charts are in `bench/svg.rs`.

mod svg;

use std::fmt::Write;

use lockcheck_model::bench::{
    BENCH_REPORT_VERSION, BenchCell, BenchReport, BenchRow, Change, Driver, Figure, Spread, compare,
};

pub use svg::{handoff_svg, throughput_svg};

/// The figures shown for a cell: the uncontended cost at N = 1, the handoff and fairness
/// figures under contention.
fn columns(contenders: u32) -> &'static [Figure] {
    if contenders == 1 {
        &[
            Figure::Throughput,
            Figure::LatencyP50,
            Figure::LatencyP99,
            Figure::CpuPerAcquisition,
        ]
    } else {
        &[
            Figure::Throughput,
            Figure::HandoffP50,
            Figure::HandoffP99,
            Figure::HandoffMax,
            Figure::WaitMax,
            Figure::Jain,
            Figure::CpuPerAcquisition,
        ]
    }
}

fn heading(figure: Figure) -> &'static str {
    match figure {
        Figure::Throughput => "acq/s",
        Figure::LatencyP50 => "acq+rel p50",
        Figure::LatencyP99 => "acq+rel p99",
        Figure::HandoffP50 => "handoff p50",
        Figure::HandoffP99 => "handoff p99",
        Figure::HandoffMax => "handoff max",
        Figure::WaitP50 => "wait p50",
        Figure::WaitP99 => "wait p99",
        Figure::WaitMax => "longest wait",
        Figure::Jain => "Jain",
        Figure::CpuPerAcquisition => "CPU/acq",
    }
}

/// A figure's value for people: durations in ns/µs/ms/s, rates in /s with k and M.
pub fn format_value(figure: Figure, value: f64) -> String {
    if figure == Figure::Jain {
        return format!("{value:.3}");
    }
    if !figure.is_duration() {
        return match value {
            v if v >= 1e6 => format!("{:.2} M", v / 1e6),
            v if v >= 1e3 => format!("{:.1} k", v / 1e3),
            v => format!("{v:.1}"),
        };
    }
    match value {
        v if v >= 1e9 => format!("{:.2} s", v / 1e9),
        v if v >= 1e6 => format!("{:.1} ms", v / 1e6),
        v if v >= 1e3 => format!("{:.1} µs", v / 1e3),
        v => format!("{v:.0} ns"),
    }
}

/// `value ±spread%`, and the ratio to the floor when there is one.
fn format_cell(report: &BenchReport, cell: &BenchCell, figure: Figure, floor: bool) -> String {
    let Some(spread) = cell.summary.get(&figure) else {
        return "-".to_owned();
    };
    let mut text = format!(
        "{} ±{:.0}%",
        format_value(figure, spread.median),
        spread.relative_range() * 50.0
    );
    if !floor && let Some(ratio) = report.ratio_to_floor(cell, figure) {
        let _ = write!(text, " ({})", format_ratio(ratio));
    }
    text
}

/// A ratio to the floor with two significant digits below 1 (`0.0089×`), two decimals up to
/// 10, whole numbers above.
fn format_ratio(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else if ratio >= 0.1 || ratio <= 0.0 {
        format!("{ratio:.2}×")
    } else {
        let decimals = (-ratio.log10()).ceil() as usize + 1;
        format!("{ratio:.decimals$}×")
    }
}

fn row_label(row: &BenchRow) -> String {
    let mut label = match &row.implementation {
        Some(i) if i.name != row.name => format!("{} ({} {})", row.name, i.name, i.version),
        Some(i) => format!("{} {}", i.name, i.version),
        None => row.name.clone(),
    };
    if row.driver == Some(Driver::Runner) {
        label.push_str(" [driven]");
    }
    label
}

/// The groups of cells, one per contender count × hold time, in plan order.
fn groups(report: &BenchReport) -> Vec<(u32, u64)> {
    let mut keys = Vec::new();
    for &hold in &report.plan.hold_us {
        for &n in &report.plan.contenders {
            keys.push((n, hold));
        }
    }
    keys
}

/// `2 contenders, hold 0 µs`.
fn group_title((contenders, hold_us): (u32, u64)) -> String {
    let plural = if contenders == 1 { "" } else { "s" };
    format!("{contenders} contender{plural}, hold {hold_us} µs")
}

fn cell_of(row: &BenchRow, key: (u32, u64)) -> Option<&BenchCell> {
    row.cells.iter().find(|c| (c.contenders, c.hold_us) == key)
}

/// The table for a terminal: one block per contender count and hold time, one line per
/// implementation, every figure as `median ±half-range%` with its ratio to the floor.
pub fn bench_table(report: &BenchReport) -> String {
    let mut out = String::new();
    for key in groups(report) {
        let figures = columns(key.0);
        let _ = writeln!(out, "{}", group_title(key));
        let mut lines: Vec<Vec<String>> = vec![
            std::iter::once("implementation".to_owned())
                .chain(figures.iter().map(|f| heading(*f).to_owned()))
                .collect(),
        ];
        for row in &report.rows {
            let Some(cell) = cell_of(row, key) else {
                continue;
            };
            let mut line = vec![row_label(row)];
            if cell.broken.is_some() {
                line.push("broken (below)".to_owned());
            } else {
                line.extend(
                    figures
                        .iter()
                        .map(|f| format_cell(report, cell, *f, row.floor)),
                );
            }
            lines.push(line);
        }
        let widths: Vec<usize> = (0..=figures.len())
            .map(|i| {
                lines
                    .iter()
                    .filter_map(|l| l.get(i))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in lines {
            let mut text = String::new();
            for (i, field) in line.iter().enumerate() {
                let pad = widths[i].saturating_sub(field.chars().count());
                if i == 0 {
                    let _ = write!(text, "  {field}{}", " ".repeat(pad));
                } else {
                    let _ = write!(text, "  {}{field}", " ".repeat(pad));
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
        }
        out.push('\n');
    }
    out.push_str(&notes(report));
    out
}

/// Everything below the tables: unavailable rows, broken cells, overlap findings, round
/// trips.
fn notes(report: &BenchReport) -> String {
    let mut out = String::new();
    for row in &report.rows {
        if let Some(reason) = &row.unavailable {
            let _ = writeln!(out, "{}: not measured: {reason}", row.name);
        }
        if let Some(trip) = row.round_trip_ns {
            let _ = writeln!(
                out,
                "{}: driven by the runner, so every figure includes protocol round trips \
                 (measured alone: p50 {}, p99 {})",
                row.name,
                format_value(Figure::LatencyP50, trip.p50 as f64),
                format_value(Figure::LatencyP50, trip.p99 as f64)
            );
        }
        for cell in &row.cells {
            if let Some(reason) = &cell.broken {
                let _ = writeln!(
                    out,
                    "{} at {} contenders, hold {} µs: broken: {reason}",
                    row.name, cell.contenders, cell.hold_us
                );
            }
            if let Some(overlap) = cell.overlap() {
                let _ = writeln!(
                    out,
                    "FINDING {} at {} contenders: two holders at once: contender c{} \
                     (acquisition {}) and c{} (acquisition {}) held together for {}",
                    row.name,
                    cell.contenders,
                    overlap.first.0,
                    overlap.first.1 + 1,
                    overlap.second.0,
                    overlap.second.1 + 1,
                    format_value(Figure::LatencyP50, overlap.overlap_ns as f64)
                );
            }
        }
    }
    out
}

/// The same tables in Markdown, with the machine and the plan above them.
pub fn bench_markdown(report: &BenchReport) -> String {
    let m = &report.machine;
    let mut out = String::new();
    let _ = writeln!(out, "# lockcheck bench\n");
    let _ = writeln!(
        out,
        "Measured by lockcheck {} on {} {} ({}, {} CPUs), lock files on {}. Each figure is the \
         median of {} repeats of {} ms, ± half the range of the repeats; the ratio in \
         parentheses is to the floor (`os-floor`: open + lock + unlock + close) measured in \
         the same run.\n",
        report.lockcheck,
        m.os,
        m.kernel,
        m.cpu,
        m.cpus,
        m.lock_fs,
        report.plan.repeats,
        report.plan.duration_ms
    );
    let _ = writeln!(
        out,
        "![Throughput against contenders](throughput.svg)\n\n![Handoff latency](handoff.svg)\n"
    );
    for key in groups(report) {
        let figures = columns(key.0);
        let _ = writeln!(out, "## {}\n", group_title(key));
        let _ = write!(out, "| implementation |");
        for f in figures {
            let _ = write!(out, " {} |", heading(*f));
        }
        let _ = write!(out, "\n|---|");
        for _ in figures {
            out.push_str("---:|");
        }
        out.push('\n');
        for row in &report.rows {
            let Some(cell) = cell_of(row, key) else {
                continue;
            };
            let _ = write!(out, "| {} |", row_label(row));
            if cell.broken.is_some() {
                let _ = write!(out, " broken |");
                for _ in 1..figures.len() {
                    out.push_str(" |");
                }
            } else {
                for f in figures {
                    let _ = write!(out, " {} |", format_cell(report, cell, *f, row.floor));
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    let notes = notes(report);
    if !notes.is_empty() {
        out.push_str("## Notes\n\n");
        for line in notes.lines() {
            let _ = writeln!(out, "- {line}");
        }
    }
    out
}

/// The report as versioned JSON.
pub fn bench_to_json(report: &BenchReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("bench reports serialize");
    text.push('\n');
    text
}

/// Reads a bench report back (a saved baseline), refusing other versions.
pub fn bench_from_json(text: &str) -> Result<BenchReport, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(BENCH_REPORT_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "bench report version {v}; this lockcheck reads version {BENCH_REPORT_VERSION}"
            ));
        }
        None => return Err("not a bench report: no `version`".to_owned()),
    }
    serde_json::from_value(value).map_err(|e| format!("not a bench report: {e}"))
}

/// The JSON Schema of [`bench_to_json`]'s output.
pub fn bench_schema() -> String {
    crate::schema_text(schemars::schema_for!(BenchReport))
}

/// Every figure that changed beyond the noise against `baseline`, as lines for people; the
/// same cells and figures in both, compared by [`compare`].
pub fn baseline_changes(report: &BenchReport, baseline: &BenchReport) -> Vec<String> {
    let mut lines = Vec::new();
    for row in &report.rows {
        let Some(old_row) = baseline.rows.iter().find(|r| r.name == row.name) else {
            continue;
        };
        for cell in &row.cells {
            let Some(old) = cell_of(old_row, (cell.contenders, cell.hold_us)) else {
                continue;
            };
            for (&figure, &now) in &cell.summary {
                let Some(&before) = old.summary.get(&figure) else {
                    continue;
                };
                let change = compare(figure, before, now);
                if change != Change::WithinNoise {
                    lines.push(format!(
                        "{} at {} contenders, hold {} µs: {} {} ({} → {}, {:+.0}%)",
                        row.name,
                        cell.contenders,
                        cell.hold_us,
                        figure.name(),
                        if change == Change::Better {
                            "improved"
                        } else {
                            "regressed"
                        },
                        format_value(figure, before.median),
                        format_value(figure, now.median),
                        percent(before, now)
                    ));
                }
            }
        }
    }
    lines
}

fn percent(before: Spread, now: Spread) -> f64 {
    if before.median == 0.0 {
        0.0
    } else {
        (now.median / before.median - 1.0) * 100.0
    }
}
