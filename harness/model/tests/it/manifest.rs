//! Implementation manifests: reading, placeholder expansion, and every error.

use lockcheck_model::{Manifest, MustFail, Placeholders, parse_manifest};

#[track_caller]
fn parse(text: &str) -> Manifest {
    parse_manifest("fixtures/impls/x.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses `toml`, which must fail, and snapshots the rendered error under `name`.
#[track_caller]
fn check_err(name: &str, toml: &str) {
    match parse_manifest("fixtures/impls/x.toml", toml) {
        Ok(m) => panic!("expected an error for {name}, got {m:#?}"),
        Err(err) => insta::assert_snapshot!(name, err.to_string()),
    }
}

fn vars() -> Placeholders {
    Placeholders {
        lockcheck: "/t/release/lockcheck".into(),
        root: "/repo".into(),
        target: "/t".into(),
    }
}

#[test]
fn reflock_manifest_expands_the_lockcheck_binary() {
    let m = parse("name = \"reflock\"\ncommand = [\"{lockcheck}\", \"adapter\"]\n");
    assert_eq!(m.name, "reflock");
    assert_eq!(m.description, None);
    assert!(m.setup.is_empty());
    assert_eq!(m.expand(&vars()), ["/t/release/lockcheck", "adapter"]);
}

#[test]
fn setup_and_expectations_are_read_and_expanded() {
    let m = parse(
        r#"name = "filelock"
description = "py-filelock 3.16"
command = ["{target}/venv/filelock/bin/python", "{root}/fixtures/adapters/filelock.py"]
setup = [["python3", "-m", "venv", "{target}/venv/filelock"],
         ["{target}/venv/filelock/bin/pip", "install", "filelock==3.16.1"]]
expectations = "fixtures/expectations/filelock.toml"
"#,
    );
    assert_eq!(m.description.as_deref(), Some("py-filelock 3.16"));
    assert_eq!(
        m.expand(&vars()),
        [
            "/t/venv/filelock/bin/python",
            "/repo/fixtures/adapters/filelock.py"
        ]
    );
    assert_eq!(
        m.expand_setup(&vars()),
        [
            vec!["python3", "-m", "venv", "/t/venv/filelock"],
            vec!["/t/venv/filelock/bin/pip", "install", "filelock==3.16.1"],
        ]
    );
    assert_eq!(
        m.expectations.as_deref(),
        Some("fixtures/expectations/filelock.toml")
    );
}

#[test]
fn braces_that_are_not_placeholders_are_kept() {
    let m = parse("name = \"sh\"\ncommand = [\"sh\", \"-c\", \"f() { :; }; echo {} {1x\"]\n");
    assert_eq!(m.expand(&vars())[2], "f() { :; }; echo {} {1x");
}

#[test]
fn missing_name() {
    check_err("manifest_missing_name", "command = [\"x\"]\n");
}

#[test]
fn bad_name() {
    check_err(
        "manifest_bad_name",
        "name = \"my lock\"\ncommand = [\"x\"]\n",
    );
}

#[test]
fn unknown_key() {
    check_err(
        "manifest_unknown_key",
        "name = \"x\"\ncommand = [\"x\"]\nexpectation = \"e.toml\"\n",
    );
}

#[test]
fn missing_command() {
    check_err("manifest_missing_command", "name = \"x\"\n");
}

#[test]
fn command_is_a_string() {
    check_err(
        "manifest_command_is_a_string",
        "name = \"x\"\ncommand = \"python3 a.py\"\n",
    );
}

#[test]
fn command_is_empty() {
    check_err("manifest_command_is_empty", "name = \"x\"\ncommand = []\n");
}

#[test]
fn program_is_empty() {
    check_err(
        "manifest_program_is_empty",
        "name = \"x\"\ncommand = [\"\", \"a\"]\n",
    );
}

#[test]
fn argument_not_a_string() {
    check_err(
        "manifest_argument_not_a_string",
        "name = \"x\"\ncommand = [\"x\", 3]\n",
    );
}

#[test]
fn unknown_placeholder() {
    check_err(
        "manifest_unknown_placeholder",
        "name = \"x\"\ncommand = [\"{lockchek}\", \"adapter\"]\n",
    );
}

#[test]
fn setup_not_an_array_of_commands() {
    check_err(
        "manifest_setup_not_an_array_of_commands",
        "name = \"x\"\ncommand = [\"x\"]\nsetup = [\"python3 -m venv v\"]\n",
    );
}

#[test]
fn invalid_toml() {
    check_err("manifest_invalid_toml", "name = \"x\"\ncommand = [\"x\"\n");
}

#[test]
fn must_fail_defaults_to_empty_and_is_read_in_order() {
    assert!(
        parse("name = \"x\"\ncommand = [\"x\"]\n")
            .must_fail
            .is_empty()
    );
    let m = parse(
        "name = \"no-op\"\ncommand = [\"{target}/debug/lockcheck-mutant\", \"no-op\"]\n\n[[must_fail]]\nscenario = \"exclusive-basic\"\ncheck = \"overlap\"\n\n[[must_fail]]\nscenario = \"race-50\"\ncheck = \"winners\"\n",
    );
    assert_eq!(
        m.must_fail,
        [
            MustFail {
                scenario: "exclusive-basic".into(),
                check: "overlap".into(),
            },
            MustFail {
                scenario: "race-50".into(),
                check: "winners".into(),
            },
        ]
    );
}

#[test]
fn must_fail_not_an_array() {
    check_err(
        "manifest_must_fail_not_an_array",
        "name = \"x\"\ncommand = [\"x\"]\nmust_fail = \"race-50\"\n",
    );
}

#[test]
fn must_fail_item_not_a_table() {
    check_err(
        "manifest_must_fail_item_not_a_table",
        "name = \"x\"\ncommand = [\"x\"]\nmust_fail = [\"race-50\"]\n",
    );
}

#[test]
fn must_fail_id_not_kebab_case() {
    check_err(
        "manifest_must_fail_id_not_kebab_case",
        "name = \"x\"\ncommand = [\"x\"]\n\n[[must_fail]]\nscenario = \"Stale_Race\"\ncheck = \"overlap\"\n",
    );
}

#[test]
fn must_fail_id_twice() {
    check_err(
        "manifest_must_fail_id_twice",
        "name = \"x\"\ncommand = [\"x\"]\n\n[[must_fail]]\nscenario = \"race-50\"\ncheck = \"overlap\"\n\n[[must_fail]]\nscenario = \"race-50\"\ncheck = \"winners\"\n",
    );
}

#[test]
fn must_fail_missing_check() {
    check_err(
        "manifest_must_fail_missing_check",
        "name = \"x\"\ncommand = [\"x\"]\n\n[[must_fail]]\nscenario = \"race-50\"\n",
    );
}

#[test]
fn must_fail_unknown_check() {
    check_err(
        "manifest_must_fail_unknown_check",
        "name = \"x\"\ncommand = [\"x\"]\n\n[[must_fail]]\nscenario = \"race-50\"\ncheck = \"file\"\n",
    );
}
