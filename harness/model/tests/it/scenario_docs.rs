//! `docs/scenarios.md` documents every key the scenario reader accepts, with its range, and
//! no action the reader does not know.

use lockcheck_model::{MAX_FILE_BYTES, MAX_PARTICIPANTS, MAX_STEPS, scenario_keys};

const DOCS: &str = include_str!("../../../../docs/scenarios.md");

/// The bullets (each with its continuation lines) of the section whose heading is `heading`
/// or, for an action, the `###` heading that names it in backticks.
fn bullets(section: &str) -> Vec<String> {
    let heading = match section {
        "scenario" => |l: &str, _: &str| l == "## The scenario",
        "participants" => |l: &str, _: &str| l == "## Participants",
        _ => |l: &str, s: &str| l.starts_with("### ") && l.contains(&format!("`{s}`")),
    };
    let mut lines = DOCS.lines().skip_while(|l| !heading(l, section));
    assert!(
        lines.next().is_some(),
        "docs/scenarios.md has no section for `{section}`"
    );
    let mut out: Vec<String> = Vec::new();
    for line in lines.take_while(|l| !l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("- ") {
            out.push(rest.to_owned());
        } else if line.starts_with("  ")
            && let Some(last) = out.last_mut()
        {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    out
}

#[test]
fn every_key_the_reader_accepts_is_documented_with_its_range() {
    let mut missing = Vec::new();
    for key in scenario_keys() {
        let bullets = bullets(key.section);
        // A bullet documents the keys named before its first colon: "`who`, `do`: ...".
        let bullet = bullets.iter().find(|b| {
            let names = b.split(':').next().unwrap_or_default();
            names
                .split(',')
                .any(|n| n.trim().trim_end_matches('.') == format!("`{}`", key.key))
        });
        match (bullet, &key.range) {
            (None, _) => missing.push(format!("{}: `{}` is not documented", key.section, key.key)),
            (Some(b), Some(range)) if !b.contains(range.as_str()) => missing.push(format!(
                "{}: `{}` is documented without its range `{range}`",
                key.section, key.key
            )),
            _ => {}
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_docs_document_no_action_the_reader_does_not_know() {
    let sections: Vec<&str> = scenario_keys().iter().map(|k| k.section).collect();
    for line in DOCS.lines().filter(|l| l.starts_with("### ")) {
        for name in line.split('`').skip(1).step_by(2) {
            assert!(
                sections.contains(&name),
                "`{name}` in `{line}` is no action"
            );
        }
    }
}

#[test]
fn the_docs_state_the_file_wide_limits() {
    for limit in [
        format!("at most {MAX_FILE_BYTES} bytes"),
        format!("at most {MAX_PARTICIPANTS} participants"),
        format!("at most {MAX_STEPS} steps"),
    ] {
        assert!(
            DOCS.contains(&limit),
            "docs/scenarios.md does not say `{limit}`"
        );
    }
}
