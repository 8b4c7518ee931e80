//! The checklist `lockcheck adapter-check` prints: one line per rule of PROTOCOL.md, and under
//! each miss what was sent and what came back.

use std::fmt::Write as _;

use lockcheck_model::{Checklist, RuleOutcome};

use crate::TerminalOptions;
use crate::terminal::{BOLD, DIM, GREEN, Paint, RED, plural};

/// Misses shown per broken rule; the rest are counted.
const MAX_MISSES_SHOWN: usize = 3;

/// The checklist as text: a header, the environment it ran in, one line per rule, the
/// adapter's last stderr lines when a rule is broken, and a totals line. Every line ends
/// with a newline.
pub fn checklist(list: &Checklist, opts: &TerminalOptions) -> String {
    let paint = Paint(opts.color);
    let mut out = String::new();
    let _ = writeln!(out, "lockcheck adapter-check: {}", list.command);
    if let Some(implementation) = &list.implementation {
        let _ = writeln!(out, "implementation: {implementation}");
    }
    let removed: Vec<String> = list
        .masked
        .iter()
        .filter(|v| v.was_set)
        .map(|v| format!("{} ({})", v.name, v.why))
        .collect();
    let rest: Vec<&str> = list
        .masked
        .iter()
        .filter(|v| !v.was_set)
        .map(|v| v.name)
        .collect();
    let _ = write!(out, "environment: ");
    if removed.is_empty() {
        let _ = write!(out, "nothing set here hides a missing flush");
    } else {
        let _ = write!(
            out,
            "started without {}, so that an adapter that does not flush fails here as it would \
             elsewhere",
            removed.join("; ")
        );
    }
    if !rest.is_empty() {
        let _ = write!(
            out,
            "; {} would be removed too, but are not set here",
            rest.join(", ")
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out);

    for result in &list.rules {
        let title = result.rule.title();
        match &result.outcome {
            RuleOutcome::Kept { checks } => {
                let _ = writeln!(
                    out,
                    "{}  {title} {}",
                    paint.paint(GREEN, "ok  "),
                    paint.paint(DIM, &format!("({})", plural(*checks, "check")))
                );
            }
            RuleOutcome::NotChecked(why) => {
                let _ = writeln!(
                    out,
                    "{}  {title}: {}",
                    paint.paint(DIM, "--  "),
                    paint.paint(DIM, &format!("not checked: {why}"))
                );
            }
            RuleOutcome::Broken(misses) => {
                let _ = writeln!(
                    out,
                    "{}  {} (PROTOCOL.md, {})",
                    paint.paint(RED, "MISS"),
                    paint.paint(BOLD, title),
                    result.rule.section()
                );
                for miss in misses.iter().take(MAX_MISSES_SHOWN) {
                    let _ = writeln!(out, "      {}", miss.what);
                    if let Some(sent) = &miss.sent {
                        let _ = writeln!(out, "        sent: {sent}");
                    }
                    match &miss.got {
                        Some(got) => {
                            let _ = writeln!(out, "        got:  {got}");
                        }
                        None if miss.sent.is_some() => {
                            let _ = writeln!(out, "        got:  nothing");
                        }
                        None => {}
                    }
                }
                if misses.len() > MAX_MISSES_SHOWN {
                    let _ = writeln!(
                        out,
                        "      and {} more like these",
                        misses.len() - MAX_MISSES_SHOWN
                    );
                }
            }
        }
    }

    let broken = list.broken().count();
    if broken > 0 && !list.stderr.is_empty() {
        let _ = writeln!(out, "\nthe end of the adapter's stderr:");
        for line in &list.stderr {
            let _ = writeln!(out, "    {line}");
        }
    }
    let _ = writeln!(out);
    if broken == 0 {
        let _ = writeln!(
            out,
            "{}: the adapter keeps every rule checked",
            paint.paint(GREEN, "ok")
        );
    } else {
        let _ = writeln!(
            out,
            "{}: the adapter breaks {} of {}; each is written in harness/protocol/PROTOCOL.md",
            paint.paint(RED, "fail"),
            plural(broken, "rule"),
            list.rules.len()
        );
    }
    out
}
