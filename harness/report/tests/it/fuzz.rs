//! `report.json` reading never panics, whatever the file: a real report with seeded edits
//! (cut anywhere, JSON tokens and huge numbers inserted, fields retyped), and arbitrary text.
//! Every error renders in bounded space. The long run is `ci/fuzz.sh`.

use lockcheck_report::{from_json, to_json};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::fixture;

/// The most a rendered reading error may take.
const MAX_MESSAGE: usize = 4096;

fn config() -> Config {
    Config {
        rng_seed: RngSeed::Fixed(13),
        failure_persistence: None,
        ..Config::default()
    }
}

/// An edit: at a fraction of the text, drop some bytes and insert a token.
fn edit() -> impl Strategy<Value = (f64, usize, &'static str)> {
    let tokens = prop::sample::select(vec![
        "",
        "null",
        "0",
        "-1",
        "1e400",
        "99999999999999999999",
        "\"",
        "\\",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"verdict\":\"fail\"",
        "\"report_version\":99",
        "\"check\":\"nonsense\"",
        "\"at_ns\":-5",
        "[[[[[[[[[[[[[[[[",
        "排他",
        "\u{0}",
    ]);
    (0.0..1.0f64, 0usize..64, tokens)
}

fn apply(text: &str, edits: &[(f64, usize, &str)]) -> String {
    let mut text = text.to_owned();
    for &(at, drop, token) in edits {
        let start = text.floor_char_boundary((at * text.len() as f64) as usize);
        let end = text.floor_char_boundary((start + drop).min(text.len()));
        text.replace_range(start..end, token);
    }
    text
}

#[track_caller]
fn bounded(message: String) {
    assert!(
        message.len() <= MAX_MESSAGE,
        "{} bytes of message:\n{}",
        message.len(),
        lockcheck_protocol::head(&message, 600)
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn edited_reports_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&to_json(&fixture::run()), &edits);
        if let Err(e) = from_json(&text) {
            bounded(e.to_string());
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,512}") {
        if let Err(e) = from_json(&text) {
            bounded(e.to_string());
        }
    }
}
