//! `adapter-check` names each rule by its words in PROTOCOL.md, and the variables it masks are
//! the ones PROTOCOL.md lists. (The checks themselves run against real adapters in the CLI's
//! tests, `harness/cli/tests/it/adapter_check.rs`.)

use lockcheck_model::Rule;

fn protocol_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../protocol/PROTOCOL.md");
    std::fs::read_to_string(path).expect("PROTOCOL.md is readable")
}

#[test]
fn every_rule_is_written_in_protocol_md_by_its_title_and_in_its_section() {
    let doc = protocol_md();
    for rule in Rule::ALL {
        let section = rule.section();
        let heading = doc
            .lines()
            .position(|l| l.trim_start_matches('#').trim() == section && l.starts_with('#'))
            .unwrap_or_else(|| panic!("PROTOCOL.md has no section `{section}` ({rule:?})"));
        let level = doc
            .lines()
            .nth(heading)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .len();
        // The section runs to the next heading of its level or above.
        let body: Vec<&str> = doc
            .lines()
            .skip(heading)
            .enumerate()
            .take_while(|(i, l)| {
                *i == 0 || !(l.starts_with('#') && l.split(' ').next().unwrap().len() <= level)
            })
            .map(|(_, l)| l)
            .collect();
        let title = rule.title();
        let written = body.iter().any(|l| {
            l.contains(&format!("**{title}")) || l.trim_start_matches('#').trim() == title
        });
        assert!(
            written,
            "PROTOCOL.md's section `{section}` does not write the rule `{title}` as a heading or in bold"
        );
    }
}

#[test]
fn the_masked_variables_are_the_ones_protocol_md_names() {
    let doc = protocol_md();
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.contains("**Flush after every line.**"));
    let first = lines.next().expect("PROTOCOL.md has the flush rule");
    let rest = lines.take_while(|l| l.starts_with("  "));
    let flush = std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join(" ");
    for (name, _) in lockcheck_runner::MASKED_ENV {
        assert!(
            flush.contains(&format!("`{name}`")),
            "PROTOCOL.md's \"Flush after every line\" does not name `{name}`"
        );
    }
}
