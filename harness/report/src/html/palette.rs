//! The pages' colours and stylesheet: one colour per judgement and per answer status, and the
//! violation's own colour, which no other mark uses (so that a screenshot's pixels of it are
//! the violation and nothing else).

use std::fmt;

use lockcheck_model::Judgement;
use lockcheck_protocol::Status;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The fill of the holds a violation proves overlapping.
pub const VIOLATION: Rgb = Rgb(0xe0, 0x00, 0x2a);

/// A judgement's badge and matrix cell colour.
pub fn judgement_colour(judgement: Judgement) -> Rgb {
    match judgement {
        Judgement::Pass => Rgb(0x2e, 0x7d, 0x32),
        Judgement::Fail => Rgb(0xb7, 0x1c, 0x1c),
        Judgement::Xfail => Rgb(0xef, 0x6c, 0x00),
        Judgement::Xpass => Rgb(0x6a, 0x1b, 0x9a),
        Judgement::XfailNotShown => Rgb(0xa1, 0x88, 0x7f),
        Judgement::Skip => Rgb(0x75, 0x75, 0x75),
        Judgement::Broken => Rgb(0xad, 0x14, 0x57),
    }
}

/// The colour of an answer's tick.
pub fn status_colour(status: Status) -> Rgb {
    match status {
        Status::Ok => Rgb(0x1b, 0x9e, 0x77),
        Status::Busy => Rgb(0xd9, 0x5f, 0x02),
        Status::Timeout => Rgb(0x75, 0x70, 0xb3),
        Status::Error => Rgb(0x33, 0x33, 0x33),
        Status::Unsupported => Rgb(0x99, 0x99, 0x99),
    }
}

const BASE_STYLE: &str = "
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 16px 0 8px; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0; }
dl.meta dt { color: #666; }
dl.meta dd { margin: 0; }
code, pre { font: 12px/1.35 ui-monospace, monospace; }
pre { background: #f6f6f6; padding: 6px 8px; overflow-x: auto; margin: 4px 0; }
.badge { display: inline-block; min-width: 3.5em; padding: 0 6px; border-radius: 3px;
  color: #fff; font-weight: 600; text-align: center; }
section.scenario { border-top: 1px solid #ddd; }
section.scenario > details > summary { cursor: pointer; padding: 6px 0; }
section.scenario .name { font-weight: 600; }
section.scenario .note { color: #555; }
.timeline svg { display: block; }
.timeline .no-history { color: #666; font-style: italic; }
.finding { margin: 8px 0; }
.finding .check { font-weight: 600; }
.hold { fill: #4a78b5; }
.violation { fill: VIOLATION; }
.overlap-band { fill: VIOLATION; fill-opacity: 0.12; }
.paused { fill: #888; fill-opacity: 0.25; stroke: #666; stroke-dasharray: 3 2; }
.request { stroke: #555; stroke-width: 1.5; }
line.evidence { stroke-width: 3; }
.kill { stroke: #000; stroke-width: 2.5; }
.term { stroke: #444; stroke-width: 2; }
.exit { fill: #fff; stroke: #000; }
.runner-fault { fill: #000; }
.observation { fill: #7570b3; }
.lane-label { font: 12px ui-monospace, monospace; fill: #222; }
.lane-line { stroke: #e4e4e4; }
.axis { stroke: #999; }
.axis-label { font: 11px system-ui, sans-serif; fill: #666; }
table.matrix { border-collapse: collapse; }
table.matrix th, table.matrix td { border: 1px solid #ddd; padding: 2px 6px; }
table.matrix th.scenario { text-align: left; font-weight: normal; font-family: ui-monospace, monospace; }
table.matrix td { color: #fff; text-align: center; }
table.matrix td a { color: #fff; }
";

/// The stylesheet every page inlines: the base rules, then one class per judgement
/// (`j-pass`, ...) and per answer status (`status-ok`, ...).
pub fn stylesheet() -> String {
    let mut css = BASE_STYLE.replace("VIOLATION", &VIOLATION.to_string());
    for judgement in Judgement::ALL {
        css.push_str(&format!(
            ".j-{} {{ background: {}; }}\n",
            judgement.as_str(),
            judgement_colour(judgement)
        ));
    }
    for status in Status::ALL {
        css.push_str(&format!(
            ".status-{} {{ stroke: {}; stroke-width: 1.5; }}\n",
            status.as_str(),
            status_colour(status)
        ));
    }
    css
}
