//! Input a user should never be able to hurt the run with: numbers out of range, too many
//! participants or steps, files too large or not UTF-8, ids that do not match their file or
//! repeat, and lines so long or so wide that a snippet would mislead or flood the terminal.

use lockcheck_model::{
    MAX_FILE_BYTES, MAX_STEPS, SNIPPET_WIDTH, decode, parse_catalogue, parse_scenario,
    parse_scenario_file,
};

use crate::scenario_errors::{check_err, with_steps};

fn acquire() -> String {
    "[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n".to_owned()
}

#[test]
fn a_timeout_longer_than_a_minute_is_out_of_range() {
    check_err(
        "timeout_above_a_minute",
        &with_steps(
            "[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"timeout\"\ntimeout_ms = 60001\n",
        ),
    );
}

#[test]
fn a_count_past_u64_is_out_of_range() {
    check_err(
        "count_past_u64",
        &with_steps(&acquire()).replace("count = 3", "count = 99999999999999999999"),
    );
}

#[test]
fn a_huge_count_is_refused_before_anything_is_allocated() {
    check_err(
        "count_huge",
        &with_steps(&acquire()).replace("count = 3", "count = 4000000000"),
    );
}

#[test]
fn participants_are_bounded_in_all_not_only_per_group() {
    let text = with_steps(&acquire()).replace(
        "count = 3",
        "count = 60\n[[participants]]\nname = \"d\"\ncount = 39",
    );
    check_err("participants_in_all", &text);
}

#[test]
fn one_step_too_many_is_refused_at_that_step() {
    let steps = "[[steps]]\ndo = \"sleep\"\nms = 0\n".repeat(MAX_STEPS + 1);
    check_err("too_many_steps", &with_steps(&steps));
    let fits = "[[steps]]\ndo = \"sleep\"\nms = 0\n".repeat(MAX_STEPS);
    parse_scenario("scenarios/sample.toml", &with_steps(&fits)).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_fraction_above_its_maximum_is_out_of_range() {
    check_err(
        "window_too_large",
        &with_steps("[[steps]]\nwho = \"c\"\ndo = \"crash_acquire\"\nwindow = 10.5\n"),
    );
}

#[test]
fn the_largest_value_of_a_range_is_accepted() {
    let text = with_steps(
        "[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"timeout\"\ntimeout_ms = 60000\n\
         [[steps]]\ndo = \"sleep\"\nms = 60000\nlease_factor = 10\n",
    )
    .replace("count = 3", "count = 98");
    parse_scenario("scenarios/sample.toml", &text).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_catalogue_file_is_named_after_its_id() {
    let text = with_steps(&acquire());
    let err = parse_scenario_file("scenarios/other.toml", &text).unwrap_err();
    insta::assert_snapshot!("id_not_file_name", err.to_string());
    parse_scenario_file("my/scenarios/sample.toml", &text).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_catalogue_reports_every_bad_file_and_every_repeated_id() {
    let good = with_steps(&acquire());
    let bad = with_steps(&acquire()).replace("level = \"core\"", "level = \"kernel\"");
    let bad = bad.replace("\"sample\"", "\"broken\"");
    let files = [
        ("a/sample.toml", good.as_bytes()),
        ("b/broken.toml", bad.as_bytes()),
        ("b/latin1.toml", b"id = \"caf\xe9\"\n".as_slice()),
        ("b/sample.toml", good.as_bytes()),
    ];
    let (scenarios, errors) = parse_catalogue(&files);
    assert_eq!(scenarios.len(), 1, "the first `sample` is kept");
    let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!("catalogue_errors", all.join("\n\n"));
}

#[test]
fn a_file_that_is_not_utf8_is_located_at_the_first_bad_byte() {
    let mut bytes = b"id = \"sample\"\ndescription = \"caf".to_vec();
    bytes.extend_from_slice(&[0xe9, b'"', b'\n']);
    let err = decode("scenarios/sample.toml", &bytes).unwrap_err();
    insta::assert_snapshot!("not_utf8", err.to_string());
    assert_eq!(decode("x.toml", b"id = 1\n").unwrap(), "id = 1\n");
}

#[test]
fn a_file_past_the_size_limit_is_refused() {
    let text = format!("{}\n", "# padding ".repeat(MAX_FILE_BYTES / 10 + 1));
    let err = decode("scenarios/sample.toml", text.as_bytes()).unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 400, "{} bytes of message", shown.len());
    insta::assert_snapshot!("file_too_large", shown);
    let err = parse_scenario("scenarios/sample.toml", &text).unwrap_err();
    assert_eq!(
        err.to_string(),
        shown,
        "the reader refuses it as decode does"
    );
}

#[test]
fn an_error_far_along_a_long_line_shows_only_the_text_around_it() {
    let text = format!("description = \"{}\" oops\n", "x".repeat(200_000));
    let err = parse_scenario("scenarios/sample.toml", &text).unwrap_err();
    let shown = err.to_string();
    let widest = shown.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= SNIPPET_WIDTH + 10, "a line of {widest} columns");
    insta::assert_snapshot!("long_line_clipped", shown);
}

#[test]
fn the_caret_lands_under_the_culprit_after_wide_characters() {
    check_err(
        "caret_after_wide_characters",
        "description = \"排他ロック\" oops\n",
    );
}

#[test]
fn control_characters_in_a_line_cannot_reach_the_terminal() {
    check_err("control_characters", "description = \"\u{1b}[2J\" oops\n");
}
