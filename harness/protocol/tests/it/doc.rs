//! PROTOCOL.md cannot drift from the types: every example line parses, means exactly what it
//! shows, and the vocabularies it documents are the crate's.

use std::collections::{BTreeMap, BTreeSet};

use lockcheck_protocol::{
    AdapterMessage, Capability, ENV_LOCK_PATH, ENV_PARTICIPANT, ENV_PROTOCOL, ENV_SEED, ErrorKind,
    Op, RequestErrorKind, Status, parse_adapter_message, parse_request,
};
use serde_json::Value;

use crate::examples;

fn protocol_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/PROTOCOL.md");
    std::fs::read_to_string(path).unwrap()
}

/// A wire line from an ```exchange block, with its 1-based line number in PROTOCOL.md.
struct Line {
    number: usize,
    to_adapter: bool,
    json: String,
}

fn exchange_lines(doc: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut in_exchange = false;
    let mut in_other = false;
    for (i, text) in doc.lines().enumerate() {
        let number = i + 1;
        if let Some(info) = text.strip_prefix("```") {
            match (in_exchange, in_other) {
                (false, false) if info == "exchange" => in_exchange = true,
                (false, false) => in_other = true,
                _ => (in_exchange, in_other) = (false, false),
            }
            continue;
        }
        if !in_exchange || text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (to_adapter, json) = if let Some(json) = text.strip_prefix("-> ") {
            (true, json)
        } else if let Some(json) = text.strip_prefix("<- ") {
            (false, json)
        } else {
            panic!("PROTOCOL.md:{number}: exchange line must start with `-> `, `<- ` or `#`");
        };
        out.push(Line {
            number,
            to_adapter,
            json: json.to_owned(),
        });
    }
    out
}

#[derive(Default)]
struct Seen {
    ops: BTreeSet<&'static str>,
    statuses: BTreeSet<&'static str>,
    unknown_ops: usize,
    hellos: usize,
}

#[test]
fn every_example_line_parses_to_exactly_what_it_shows() {
    let doc = protocol_md();
    let lines = exchange_lines(&doc);
    assert!(lines.len() > 20, "too few example lines: {}", lines.len());
    let mut seen = Seen::default();
    for line in &lines {
        let at = format!("PROTOCOL.md:{}", line.number);
        let shown: Value = serde_json::from_str(&line.json).unwrap_or_else(|e| panic!("{at}: {e}"));
        let reserialized = if line.to_adapter {
            match parse_request(&line.json) {
                Ok(request) => {
                    seen.ops.insert(request.op.name());
                    serde_json::to_value(&request).unwrap()
                }
                Err(err) if matches!(err.kind(), RequestErrorKind::UnknownOp { .. }) => {
                    seen.unknown_ops += 1;
                    continue;
                }
                Err(err) => panic!("{at}: {err}"),
            }
        } else {
            let message = parse_adapter_message(&line.json).unwrap_or_else(|e| panic!("{at}: {e}"));
            match &message {
                AdapterMessage::Hello(_) => seen.hellos += 1,
                AdapterMessage::Response(r) => {
                    seen.statuses.insert(r.status.as_str());
                }
            }
            serde_json::to_value(&message).unwrap()
        };
        // Equal as values: no field in the doc is silently ignored or invented by the types.
        assert_eq!(reserialized, shown, "{at}");
    }
    let all_ops: BTreeSet<&str> = Op::NAMES.into_iter().collect();
    assert_eq!(seen.ops, all_ops, "the examples must show every op");
    let all_statuses: BTreeSet<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        seen.statuses, all_statuses,
        "the examples must show every status"
    );
    assert!(seen.unknown_ops > 0, "the examples must show an unknown op");
    assert!(seen.hellos > 0, "the examples must show a hello");
}

#[test]
fn exchange_lines_are_found() {
    let doc = "text\n```exchange\n# c\n-> {\"id\":1}\n\n<- {}\n```\n```text\n-> no\n```\n";
    let lines = exchange_lines(doc);
    let got: Vec<(usize, bool, &str)> = lines
        .iter()
        .map(|l| (l.number, l.to_adapter, l.json.as_str()))
        .collect();
    assert_eq!(got, [(4, true, "{\"id\":1}"), (6, false, "{}")]);
}

/// Every word of every vocabulary appears in a table row of PROTOCOL.md, as `word`.
#[test]
fn vocabularies_are_documented() {
    let doc = protocol_md();
    let rows: BTreeSet<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let mut missing = Vec::new();
    let words = Capability::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(ErrorKind::ALL.iter().map(|k| k.as_str()))
        .chain(Status::ALL.iter().map(|s| s.as_str()))
        .chain(Op::NAMES)
        .chain([ENV_LOCK_PATH, ENV_PARTICIPANT, ENV_PROTOCOL, ENV_SEED]);
    for word in words {
        if !rows.contains(word) {
            missing.push(word);
        }
    }
    assert!(
        missing.is_empty(),
        "PROTOCOL.md has no table row for {missing:?}"
    );
}

/// The ops table's capability column names every capability `Op::capabilities` asks of the
/// examples of that op, and nothing that is not a capability.
#[test]
fn op_capabilities_are_documented() {
    use lockcheck_protocol::Vocabulary;
    let doc = protocol_md();
    let table = doc
        .split("| op | fields | capability |")
        .nth(1)
        .expect("PROTOCOL.md has the ops table");
    let mut documented: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').collect();
        let op = cells[1].trim().trim_matches('`');
        let words: BTreeSet<&str> = cells[3].split('`').skip(1).step_by(2).collect();
        for word in &words {
            assert!(
                Capability::from_name(word).is_some(),
                "`{word}` in the row of `{op}` is not a capability"
            );
        }
        documented.insert(op, words);
    }
    for request in examples::requests() {
        let op = request.op.name();
        let words = documented
            .get(op)
            .unwrap_or_else(|| panic!("the ops table has no row for `{op}`"));
        for cap in request.op.capabilities() {
            assert!(
                words.contains(cap.as_str()),
                "the row of `{op}` does not name `{cap}`"
            );
        }
    }
}

#[test]
fn recovery_vocabulary_is_documented() {
    use lockcheck_protocol::Recovery;
    let doc = protocol_md();
    for recovery in [
        Recovery::Kernel,
        Recovery::StalePid,
        Recovery::Lease { ms: 30_000 },
        Recovery::None,
    ] {
        let json = serde_json::to_string(&recovery).unwrap();
        assert!(
            doc.contains(&format!("`{json}`")),
            "PROTOCOL.md lacks `{json}`"
        );
    }
}
