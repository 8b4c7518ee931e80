//! The readers never panic, whatever the input: catalogue scenarios and fixture manifests
//! with seeded edits (numbers, quotes, brackets, wide and invalid characters, cut lines), and
//! arbitrary bytes through `decode`. Every error renders in bounded space.
//!
//! The default run is small and seeded, so it is the same on every machine. The long run is
//! the same tests with more cases: `ci/fuzz.sh` (not part of the test suite).

use lockcheck_model::{decode, parse_catalogue, parse_manifest, parse_scenario};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::support::catalogue_files;

/// The most a rendered error may take: one clipped line, a caret, and the expected values.
const MAX_MESSAGE: usize = 4096;

fn config() -> Config {
    Config {
        rng_seed: RngSeed::Fixed(13),
        failure_persistence: None,
        ..Config::default()
    }
}

fn texts(dir: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// An edit: at a fraction of the text, drop some bytes and insert a token.
fn edit() -> impl Strategy<Value = (f64, usize, &'static str)> {
    let tokens = prop::sample::select(vec![
        "",
        "0",
        "-1",
        "99999999999999999999",
        "4294967296",
        "1e400",
        "nan",
        "\"",
        "'",
        "[",
        "]",
        "{",
        "}",
        "=",
        "\n",
        "\r",
        "\t",
        "[[steps]]\n",
        "[[participants]]\nname = \"z\"\ncount = 100\n",
        "排他",
        "\u{301}",
        "\u{1b}[2J",
        "0o777",
        "\"error:\"",
    ]);
    (0.0..1.0f64, 0usize..8, tokens)
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

/// Arbitrary bytes, or text (wide characters and newlines included) with one raw byte put
/// anywhere in it, the end included: where a decoder's off-by-one hides.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        ("[a-z=\"\n排é]{0,40}", any::<u8>(), 0.0..=1.0f64).prop_map(|(text, byte, at)| {
            let mut bytes = text.into_bytes();
            let at = ((at * bytes.len() as f64) as usize).min(bytes.len());
            bytes.insert(at, byte);
            bytes
        }),
    ]
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
    fn edited_scenarios_never_panic(
        file in 0..catalogue_files().len(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let original = std::fs::read_to_string(&catalogue_files()[file]).unwrap();
        let text = apply(&original, &edits);
        if let Err(e) = parse_scenario("scenarios/x.toml", &text) {
            bounded(e.to_string());
        }
        let (_, errors) = parse_catalogue(&[("scenarios/x.toml", text.as_bytes())]);
        for e in errors {
            bounded(e.to_string());
        }
    }

    #[test]
    fn edited_manifests_never_panic(
        file in 0..texts("../../fixtures/impls").len(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = apply(&texts("../../fixtures/impls")[file], &edits);
        if let Err(e) = parse_manifest("fixtures/impls/x.toml", &text) {
            bounded(e.to_string());
        }
    }

    #[test]
    fn arbitrary_bytes_decode_or_are_located(bytes in bytes()) {
        match decode("x.toml", &bytes) {
            Ok(text) => prop_assert_eq!(text.as_bytes(), &bytes[..]),
            Err(e) => bounded(e.to_string()),
        }
    }
}
