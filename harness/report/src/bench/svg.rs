//! The bench charts as self-contained SVG: throughput against contenders, and the handoff
//! latency distribution (p50 to p99, and the maximum) of every implementation.

use std::fmt::Write;

use lockcheck_model::bench::{BenchReport, Figure};

use super::format_value;

const WIDTH: f64 = 760.0;
const PALETTE: [&str; 8] = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
];

fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Powers of ten spanning `[low, high]`, for a log axis; one decade when there is nothing
/// to span.
fn decades(low: f64, high: f64) -> (f64, f64) {
    if !(low.is_finite() && high.is_finite() && low > 0.0 && high >= low) {
        return (1.0, 10.0);
    }
    let low = 10f64.powf(low.max(1e-9).log10().floor());
    let high = 10f64.powf(high.max(low * 10.0).log10().ceil());
    (low, high)
}

fn log_position(value: f64, (low, high): (f64, f64), span: f64) -> f64 {
    (value.max(low).log10() - low.log10()) / (high.log10() - low.log10()) * span
}

/// Throughput (log scale) against the number of contenders, one line per implementation, at
/// the first hold time measured.
pub fn throughput_svg(report: &BenchReport) -> String {
    let hold = report.plan.hold_us.first().copied().unwrap_or(0);
    let ns = &report.plan.contenders;
    let series: Vec<(String, Vec<(usize, f64)>)> = report
        .rows
        .iter()
        .map(|row| {
            let points = ns
                .iter()
                .enumerate()
                .filter_map(|(i, n)| {
                    let cell = row
                        .cells
                        .iter()
                        .find(|c| (c.contenders, c.hold_us) == (*n, hold))?;
                    Some((i, cell.summary.get(&Figure::Throughput)?.median))
                })
                .collect();
            (row.name.clone(), points)
        })
        .collect();
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(_, v)| *v))
        .collect();
    let range = decades(
        values.iter().copied().fold(f64::INFINITY, f64::min),
        values.iter().copied().fold(0.0, f64::max),
    );
    let (left, top, plot_w, plot_h) = (90.0, 40.0, 440.0, 300.0);
    let height = top + plot_h + 60.0;
    let x = |i: usize| left + (i as f64 + 0.5) * plot_w / ns.len().max(1) as f64;
    let y = |v: f64| top + plot_h - log_position(v, range, plot_h);
    let mut out = header(
        height,
        &format!("Throughput against contenders (hold {hold} µs)"),
    );
    axis_frame(&mut out, left, top, plot_w, plot_h);
    let mut tick = range.0;
    while tick <= range.1 * 1.0001 {
        let _ = writeln!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}/s</text>"##,
            left + plot_w,
            left - 6.0,
            y(tick) + 4.0,
            format_value(Figure::Throughput, tick),
            y = y(tick)
        );
        tick *= 10.0;
    }
    for (i, n) in ns.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{n}</text>"#,
            x(i),
            top + plot_h + 18.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">contenders</text>"#,
        left + plot_w / 2.0,
        top + plot_h + 40.0
    );
    for (index, (name, points)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|(i, v)| format!("{:.1},{:.1}", x(*i), y(*v)))
            .collect();
        let c = colour(index);
        // Past the palette, colours repeat with a dashed line.
        let dash = if index >= PALETTE.len() {
            r#" stroke-dasharray="6 3""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2"{dash} points="{}"/>"#,
            path.join(" ")
        );
        for (i, v) in points {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"><title>{} at {} contenders: {}/s</title></circle>"#,
                x(*i),
                y(*v),
                escape(name),
                ns[*i],
                format_value(Figure::Throughput, *v)
            );
        }
        legend(
            &mut out,
            left + plot_w + 20.0,
            top + index as f64 * 18.0,
            c,
            name,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Handoff latency of every implementation at the largest contender count that has one:
/// a bar from p50 to p99 and a tick at the maximum, on a log axis.
pub fn handoff_svg(report: &BenchReport) -> String {
    let hold = report.plan.hold_us.first().copied().unwrap_or(0);
    let n = report
        .plan
        .contenders
        .iter()
        .copied()
        .filter(|n| *n > 1)
        .max()
        .unwrap_or(2);
    let bars: Vec<(String, [f64; 3])> = report
        .rows
        .iter()
        .filter_map(|row| {
            let cell = row
                .cells
                .iter()
                .find(|c| (c.contenders, c.hold_us) == (n, hold))?;
            let get = |f| cell.summary.get(&f).map(|s| s.median);
            Some((
                row.name.clone(),
                [
                    get(Figure::HandoffP50)?,
                    get(Figure::HandoffP99)?,
                    get(Figure::HandoffMax)?,
                ],
            ))
        })
        .collect();
    let range = decades(
        bars.iter().map(|(_, b)| b[0]).fold(f64::INFINITY, f64::min),
        bars.iter().map(|(_, b)| b[2]).fold(0.0, f64::max),
    );
    let (left, top, plot_w) = (170.0, 40.0, 540.0);
    let plot_h = 24.0 * bars.len().max(1) as f64;
    let height = top + plot_h + 60.0;
    let x = |v: f64| left + log_position(v, range, plot_w);
    let mut out = header(
        height,
        &format!("Handoff latency at {n} contenders: p50 to p99 (bar), max (tick)"),
    );
    axis_frame(&mut out, left, top, plot_w, plot_h);
    if bars.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">no handoffs were measured</text>"#,
            left + 10.0,
            top + 16.0
        );
    }
    let mut tick = range.0;
    while tick <= range.1 * 1.0001 {
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            top + plot_h,
            top + plot_h + 18.0,
            format_value(Figure::HandoffP50, tick),
            x = x(tick)
        );
        tick *= 10.0;
    }
    for (index, (name, [p50, p99, max])) in bars.iter().enumerate() {
        let y = top + index as f64 * 24.0 + 6.0;
        let c = colour(index);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + 10.0,
            escape(name)
        );
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="12" fill="{c}"><title>{}: p50 {}, p99 {}</title></rect>"#,
            x(*p50),
            (x(*p99) - x(*p50)).max(2.0),
            escape(name),
            format_value(Figure::HandoffP50, *p50),
            format_value(Figure::HandoffP99, *p99)
        );
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{c}" stroke-width="2"><title>{}: max {}</title></line>"#,
            x(*max),
            x(*max),
            y - 2.0,
            y + 14.0,
            escape(name),
            format_value(Figure::HandoffMax, *max)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn header(height: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"20\" y=\"22\" font-size=\"15\">{}</text>\n",
        escape(title)
    )
}

fn axis_frame(out: &mut String, left: f64, top: f64, w: f64, h: f64) {
    let _ = writeln!(
        out,
        r##"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>"##
    );
}

fn legend(out: &mut String, x: f64, y: f64, colour: &str, name: &str) {
    let _ = writeln!(
        out,
        r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
        x + 18.0,
        y + 10.0,
        escape(name)
    );
}
