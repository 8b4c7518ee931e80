//! Expectations files: reading, lookup, round trip, and every error.

use super::{Expectation, Expectations, parse_expectations};

const FILE: &str = "fixtures/expectations/x.toml";

#[track_caller]
fn parse(text: &str) -> Expectations {
    parse_expectations(FILE, text).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses `toml`, which must fail, and snapshots the rendered error under `name`.
#[track_caller]
fn check_err(name: &str, toml: &str) {
    match parse_expectations(FILE, toml) {
        Ok(e) => panic!("expected an error for {name}, got {e:#?}"),
        Err(err) => insta::assert_snapshot!(name, err.to_string()),
    }
}

#[test]
fn an_empty_file_expects_nothing() {
    assert_eq!(parse(""), Expectations::default());
    assert_eq!(parse("# nothing fails\n").get("touch-fd"), None);
}

#[test]
fn entries_are_read_in_order_and_found_by_scenario() {
    let e = parse(
        r#"[[fail]]
scenario = "touch-fd"
check = "overlap"
reason = "  fcntl locks drop on any close  "
link = "https://example.org/issues/1"

[[fail]]
scenario = "pause-holder"
check = "overlap"
reason = "mtime lease"
intermittent = "the lease runs out only under load"
"#,
    );
    assert_eq!(
        e.entries,
        [
            Expectation {
                scenario: "touch-fd".into(),
                check: "overlap".into(),
                reason: "fcntl locks drop on any close".into(),
                link: Some("https://example.org/issues/1".into()),
                intermittent: None,
            },
            Expectation {
                scenario: "pause-holder".into(),
                check: "overlap".into(),
                reason: "mtime lease".into(),
                link: None,
                intermittent: Some("the lease runs out only under load".into()),
            },
        ]
    );
    assert_eq!(
        e.get("pause-holder").map(|x| x.reason.as_str()),
        Some("mtime lease")
    );
    assert_eq!(e.get("exclusive-basic"), None);
}

#[test]
fn to_toml_reads_back_the_same_entries() {
    let e = Expectations {
        entries: vec![
            Expectation {
                scenario: "a".into(),
                check: "latency".into(),
                reason: "says \"no\" \\ twice".into(),
                link: None,
                intermittent: Some("only under load".into()),
            },
            Expectation {
                scenario: "b".into(),
                check: "files".into(),
                reason: "FIXME: explain".into(),
                link: Some("https://example.org/x".into()),
                intermittent: None,
            },
        ],
    };
    assert_eq!(parse(&e.to_toml()), e);
}

#[test]
fn expectations_duplicate_scenario() {
    check_err(
        "expectations_duplicate_scenario",
        "[[fail]]\nscenario = \"churn\"\nreason = \"a\"\ncheck = \"overlap\"\n\n[[fail]]\nscenario = \"churn\"\nreason = \"b\"\n",
    );
}

#[test]
fn expectations_missing_reason() {
    check_err(
        "expectations_missing_reason",
        "[[fail]]\nscenario = \"churn\"\n",
    );
}

#[test]
fn expectations_empty_reason() {
    check_err(
        "expectations_empty_reason",
        "[[fail]]\nscenario = \"churn\"\nreason = \"  \"\n",
    );
}

#[test]
fn expectations_multiline_reason() {
    check_err(
        "expectations_multiline_reason",
        "[[fail]]\nscenario = \"churn\"\nreason = \"\"\"\none\ntwo\"\"\"\n",
    );
}

#[test]
fn expectations_multiline_intermittent() {
    check_err(
        "expectations_multiline_intermittent",
        "[[fail]]\nscenario = \"churn\"\ncheck = \"overlap\"\nreason = \"a\"\nintermittent = \"\"\"\nfirst\nsecond\"\"\"\n",
    );
}

#[test]
fn expectations_empty_intermittent() {
    check_err(
        "expectations_empty_intermittent",
        "[[fail]]\nscenario = \"churn\"\ncheck = \"overlap\"\nreason = \"a\"\nintermittent = \" \"\n",
    );
}

#[test]
fn expectations_intermittent_not_text() {
    check_err(
        "expectations_intermittent_not_text",
        "[[fail]]\nscenario = \"churn\"\ncheck = \"overlap\"\nreason = \"a\"\nintermittent = true\n",
    );
}

#[test]
fn expectations_missing_check() {
    check_err(
        "expectations_missing_check",
        "[[fail]]\nscenario = \"churn\"\nreason = \"lockf\"\n",
    );
}

#[test]
fn expectations_unknown_check() {
    check_err(
        "expectations_unknown_check",
        "[[fail]]\nscenario = \"churn\"\ncheck = \"overlaps\"\nreason = \"lockf\"\n",
    );
}

#[test]
fn every_check_name_is_one_a_finding_can_carry() {
    use crate::verdict::{FindingKind, Interval};
    let interval = Interval {
        holder: "a".into(),
        mode: "exclusive".into(),
        from_ns: 0,
        to_ns: None,
    };
    let text = String::new;
    let kinds = [
        FindingKind::Overlap {
            first: interval.clone(),
            second: interval,
        },
        FindingKind::Outcome {
            participant: text(),
            expected: text(),
            got: text(),
        },
        FindingKind::Latency {
            participant: text(),
            bound: text(),
            measured_ms: 0.0,
        },
        FindingKind::Winners {
            round: 0,
            expected: text(),
            got: 0,
        },
        FindingKind::Holder {
            expected: text(),
            got: text(),
        },
        FindingKind::Victim { detail: text() },
        FindingKind::Liveness {
            participant: text(),
            prober: text(),
            waited_ms: 0,
        },
        FindingKind::Recovery {
            declared: lockcheck_protocol::Recovery::Kernel,
            measured_ms: 0,
        },
        FindingKind::FileSystem { detail: text() },
    ];
    let names: Vec<&str> = kinds.iter().map(FindingKind::check_name).collect();
    assert_eq!(names, FindingKind::CHECK_NAMES);
}

#[test]
fn expectations_missing_scenario() {
    check_err(
        "expectations_missing_scenario",
        "[[fail]]\nreason = \"x\"\n",
    );
}

#[test]
fn expectations_unknown_top_key() {
    check_err(
        "expectations_unknown_top_key",
        "[[fails]]\nscenario = \"x\"\n",
    );
}

#[test]
fn expectations_unknown_entry_key() {
    check_err(
        "expectations_unknown_entry_key",
        "[[fail]]\nscenario = \"x\"\nreason = \"y\"\nlinks = \"https://example.org\"\n",
    );
}

#[test]
fn expectations_bad_link() {
    check_err(
        "expectations_bad_link",
        "[[fail]]\nscenario = \"x\"\nreason = \"y\"\nlink = \"issue 12\"\n",
    );
}

#[test]
fn expectations_fail_not_tables() {
    check_err("expectations_fail_not_tables", "fail = [\"churn\"]\n");
}

#[test]
fn expectations_invalid_toml() {
    check_err("expectations_invalid_toml", "[[fail]\nscenario = \"x\"\n");
}
