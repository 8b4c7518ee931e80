//! Every distinct scenario-file error, rendered as the user sees it.

use lockcheck_model::parse_scenario;

const HEADER: &str = r#"id = "sample"
level = "core"
description = "A sample."
catches = "nothing in particular"
requires = ["exclusive", "try", "timeout"]

[[participants]]
name = "a"
[[participants]]
name = "b"
[[participants]]
name = "c"
count = 3
"#;

/// Parses `toml`, which must fail, and snapshots the rendered error under `name`.
#[track_caller]
pub(crate) fn check_err(name: &str, toml: &str) {
    match parse_scenario("scenarios/sample.toml", toml) {
        Ok(scenario) => panic!("expected an error for {name}, got {scenario:#?}"),
        Err(err) => insta::assert_snapshot!(name, err.to_string()),
    }
}

/// `HEADER` followed by `steps`.
pub(crate) fn with_steps(steps: &str) -> String {
    format!("{HEADER}\n{steps}")
}

/// A valid scenario with the header's line `from` replaced by `to`.
fn with_header_line(from: &str, to: &str) -> String {
    assert!(HEADER.contains(from), "{from} not in the header");
    with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n").replacen(from, to, 1)
}

#[test]
fn invalid_toml() {
    check_err("invalid_toml", "id = \"sample\nlevel = \"core\"\n");
}

#[test]
fn unknown_top_level_key() {
    check_err(
        "unknown_top_level_key",
        &with_header_line("level", "repat = 3\nlevel"),
    );
}

#[test]
fn missing_id() {
    check_err("missing_id", &with_header_line("id = \"sample\"\n", ""));
}

#[test]
fn bad_id() {
    check_err("bad_id", &with_header_line("\"sample\"", "\"Sample_One\""));
}

#[test]
fn id_not_a_string() {
    check_err("id_not_a_string", &with_header_line("\"sample\"", "7"));
}

#[test]
fn unknown_level() {
    check_err("unknown_level", &with_header_line("\"core\"", "\"kernel\""));
}

#[test]
fn empty_description() {
    check_err(
        "empty_description",
        &with_header_line("\"A sample.\"", "\"  \""),
    );
}

#[test]
fn unknown_capability() {
    check_err(
        "unknown_capability",
        &with_header_line("\"timeout\"]", "\"timeout\", \"holder\"]"),
    );
}

#[test]
fn requires_not_an_array() {
    check_err(
        "requires_not_an_array",
        &with_header_line("[\"exclusive\", \"try\", \"timeout\"]", "\"exclusive\""),
    );
}

#[test]
fn repeat_zero() {
    check_err(
        "repeat_zero",
        &with_header_line("level", "repeat = 0\nlevel"),
    );
}

#[test]
fn repeat_negative() {
    check_err(
        "repeat_negative",
        &with_header_line("level", "repeat = -2\nlevel"),
    );
}

#[test]
fn repeat_not_an_integer() {
    check_err(
        "repeat_not_an_integer",
        &with_header_line("level", "repeat = 1.5\nlevel"),
    );
}

#[test]
fn duplicate_participant() {
    check_err(
        "duplicate_participant",
        &with_header_line("name = \"b\"", "name = \"a\""),
    );
}

#[test]
fn bad_participant_name() {
    check_err(
        "bad_participant_name",
        &with_header_line("name = \"b\"", "name = \"B-2\""),
    );
}

#[test]
fn participant_count_zero() {
    check_err(
        "participant_count_zero",
        &with_header_line("count = 3", "count = 0"),
    );
}

#[test]
fn unknown_participant_key() {
    check_err(
        "unknown_participant_key",
        &with_header_line("count = 3", "count = 3\ncuont = 4"),
    );
}

#[test]
fn no_participants() {
    check_err(
        "no_participants",
        "id = \"x\"\nlevel = \"core\"\ndescription = \"d\"\ncatches = \"c\"\n\n[[steps]]\ndo = \"unlink\"\n",
    );
}

#[test]
fn no_steps() {
    check_err("no_steps", HEADER);
}

#[test]
fn empty_steps() {
    check_err("empty_steps", &format!("steps = []\n{HEADER}"));
}

#[test]
fn unknown_action() {
    check_err(
        "unknown_action",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"aquire\"\n"),
    );
}

#[test]
fn missing_action() {
    check_err("missing_action", &with_steps("[[steps]]\nwho = \"a\"\n"));
}

#[test]
fn unknown_who() {
    check_err(
        "unknown_who",
        &with_steps("[[steps]]\nwho = \"d\"\ndo = \"acquire\"\n"),
    );
}

#[test]
fn unknown_group_member() {
    check_err(
        "unknown_group_member",
        &with_steps("[[steps]]\nwho = \"c.3\"\ndo = \"acquire\"\n"),
    );
}

#[test]
fn missing_who() {
    check_err("missing_who", &with_steps("[[steps]]\ndo = \"kill\"\n"));
}

#[test]
fn who_not_allowed() {
    check_err(
        "who_not_allowed",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"plant\"\ncontent = \"dead_pid\"\n"),
    );
}

#[test]
fn unknown_step_key() {
    check_err(
        "unknown_step_key",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwiat = \"try\"\n"),
    );
}

#[test]
fn key_of_another_action() {
    check_err(
        "key_of_another_action",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"release\"\nmode = \"shared\"\n"),
    );
}

#[test]
fn timeout_without_timeout_ms() {
    check_err(
        "timeout_without_timeout_ms",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"timeout\"\n"),
    );
}

#[test]
fn timeout_ms_without_timeout() {
    check_err(
        "timeout_ms_without_timeout",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"try\"\ntimeout_ms = 300\n"),
    );
}

#[test]
fn unknown_wait() {
    check_err(
        "unknown_wait",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"forever\"\n"),
    );
}

#[test]
fn unknown_mode() {
    check_err(
        "unknown_mode",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nmode = \"write\"\n"),
    );
}

#[test]
fn race_with_block() {
    check_err(
        "race_with_block",
        &with_steps("[[steps]]\nwho = \"c\"\ndo = \"race\"\nwait = \"block\"\n"),
    );
}

#[test]
fn race_on_single_participant() {
    check_err(
        "race_on_single_participant",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"race\"\n"),
    );
}

#[test]
fn churn_on_group_member() {
    check_err(
        "churn_on_group_member",
        &with_steps("[[steps]]\nwho = \"c.1\"\ndo = \"churn\"\nduration_ms = 100\n"),
    );
}

#[test]
fn churn_without_duration() {
    check_err(
        "churn_without_duration",
        &with_steps("[[steps]]\nwho = \"c\"\ndo = \"churn\"\n"),
    );
}

#[test]
fn await_without_background_acquire() {
    check_err(
        "await_without_background_acquire",
        &with_steps(
            "[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n\n[[steps]]\nwho = \"a\"\ndo = \"await\"\n",
        ),
    );
}

#[test]
fn background_acquire_never_awaited() {
    check_err(
        "background_acquire_never_awaited",
        &with_steps(
            "[[steps]]\nwho = \"b\"\ndo = \"acquire\"\nbackground = true\n\n[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n",
        ),
    );
}

#[test]
fn background_acquire_twice() {
    check_err(
        "background_acquire_twice",
        &with_steps(
            "[[steps]]\nwho = \"c\"\ndo = \"acquire\"\nbackground = true\n\n[[steps]]\nwho = \"c.2\"\ndo = \"acquire\"\nbackground = true\n",
        ),
    );
}

#[test]
fn request_while_background_acquire_pending() {
    check_err(
        "request_while_background_acquire_pending",
        &with_steps(
            "[[steps]]\nwho = \"b\"\ndo = \"acquire\"\nbackground = true\n\n[[steps]]\nwho = \"b\"\ndo = \"release\"\n",
        ),
    );
}

#[test]
fn expect_on_background_acquire() {
    check_err(
        "expect_on_background_acquire",
        &with_steps(
            "[[steps]]\nwho = \"b\"\ndo = \"acquire\"\nbackground = true\nexpect = \"ok\"\n",
        ),
    );
}

#[test]
fn unknown_outcome() {
    check_err(
        "unknown_outcome",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nexpect = [\"busy\", \"oky\"]\n"),
    );
}

#[test]
fn unknown_error_kind() {
    check_err(
        "unknown_error_kind",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nexpect = \"error:denied\"\n"),
    );
}

#[test]
fn expect_empty() {
    check_err(
        "expect_empty",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nexpect = []\n"),
    );
}

#[test]
fn expect_not_a_string() {
    check_err(
        "expect_not_a_string",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nexpect = [\"ok\", 3]\n"),
    );
}

#[test]
fn within_less_than_min() {
    check_err(
        "within_less_than_min",
        &with_steps(
            "[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"timeout\"\ntimeout_ms = 300\nmin_ms = 300\nwithin_ms = 100\n",
        ),
    );
}

#[test]
fn bad_chmod_mode() {
    check_err(
        "bad_chmod_mode",
        &with_steps("[[steps]]\ndo = \"chmod_dir\"\nmode = \"0999\"\n"),
    );
}

#[test]
fn chmod_mode_as_integer() {
    check_err(
        "chmod_mode_as_integer",
        &with_steps("[[steps]]\ndo = \"chmod_dir\"\nmode = 500\n"),
    );
}

#[test]
fn unknown_plant_content() {
    check_err(
        "unknown_plant_content",
        &with_steps("[[steps]]\ndo = \"plant\"\ncontent = \"zombie\"\n"),
    );
}

#[test]
fn step_needs_undeclared_capability() {
    check_err(
        "step_needs_undeclared_capability",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"block\"\n"),
    );
}

#[test]
fn thread_race_needs_exclusive() {
    check_err(
        "thread_race_needs_exclusive",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"thread_race\"\nthreads = 4\n").replacen(
            "requires = [\"exclusive\", ",
            "requires = [\"threads\", ",
            1,
        ),
    );
}

#[test]
fn release_second_needs_second_handle() {
    check_err(
        "release_second_needs_second_handle",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"release_second\"\n"),
    );
}

#[test]
fn holder_is_a_group() {
    check_err(
        "holder_is_a_group",
        &with_header_line("\"timeout\"]", "\"timeout\", \"holder_info\"]")
            .replace("do = \"acquire\"", "do = \"holder\"\nholder_is = \"c\""),
    );
}

#[test]
fn thread_race_without_threads() {
    check_err(
        "thread_race_without_threads",
        &with_header_line("\"timeout\"]", "\"timeout\", \"threads\"]")
            .replace("do = \"acquire\"", "do = \"thread_race\""),
    );
}

#[test]
fn sleep_without_ms() {
    check_err(
        "sleep_without_ms",
        &with_steps("[[steps]]\ndo = \"sleep\"\nlease_factor = 2\n"),
    );
}

#[test]
fn negative_lease_factor() {
    check_err(
        "negative_lease_factor",
        &with_steps("[[steps]]\ndo = \"sleep\"\nms = 10\nlease_factor = -1.5\n"),
    );
}

#[test]
fn error_at_end_of_long_line_numbers() {
    // Line numbers of two digits and more widen the snippet's gutter.
    let padding = "# padding\n".repeat(120);
    check_err(
        "error_at_end_of_long_line_numbers",
        &with_steps(&format!(
            "{padding}[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nmode = 1\n"
        )),
    );
}

#[test]
fn bad_umask() {
    check_err(
        "bad_umask",
        &with_header_line("requires", "umask = \"0o1022\"\nrequires"),
    );
}

#[test]
fn unprivileged_not_a_bool() {
    check_err(
        "unprivileged_not_a_bool",
        &with_header_line("requires", "unprivileged = \"yes\"\nrequires"),
    );
}

#[test]
fn unknown_race_end() {
    check_err(
        "unknown_race_end",
        &with_steps("[[steps]]\nwho = \"c\"\ndo = \"race\"\nend = \"exit\"\n"),
    );
}

#[test]
fn race_that_kills_more_winners_than_it_has_contenders() {
    check_err(
        "race_kill_too_many_rounds",
        &with_steps("[[steps]]\nwho = \"c\"\ndo = \"race\"\nrounds = 3\nend = \"kill\"\n"),
    );
}

#[test]
fn negative_race_jitter() {
    check_err(
        "negative_race_jitter",
        &with_steps("[[steps]]\nwho = \"c\"\ndo = \"race\"\njitter_us = -5\n"),
    );
}

#[test]
fn bad_check_mode_forbid() {
    check_err(
        "bad_check_mode_forbid",
        &with_steps("[[steps]]\ndo = \"check_mode\"\nforbid = \"rw\"\n"),
    );
}

#[test]
fn who_on_a_directory_fault() {
    check_err(
        "who_on_remove_dir",
        &with_steps("[[steps]]\nwho = \"a\"\ndo = \"remove_dir\"\n"),
    );
}

#[test]
fn key_of_another_action_on_check_leftovers() {
    check_err(
        "check_leftovers_with_forbid",
        &with_steps("[[steps]]\ndo = \"check_leftovers\"\nforbid = \"0022\"\n"),
    );
}

#[test]
fn crash_acquire_on_single_participant() {
    check_err(
        "crash_acquire_on_single_participant",
        &with_steps("[[steps]]\nwho = \"b\"\ndo = \"crash_acquire\"\n"),
    );
}

#[test]
fn crash_acquire_window_not_positive() {
    check_err(
        "crash_acquire_window_not_positive",
        &with_steps("[[steps]]\nwho = \"c\"\ndo = \"crash_acquire\"\nwindow = 0\n"),
    );
}

#[test]
fn crash_acquire_needs_try() {
    let text =
        with_steps("[[steps]]\nwho = \"c\"\ndo = \"crash_acquire\"\n").replace("\"try\", ", "");
    check_err("crash_acquire_needs_try", &text);
}
