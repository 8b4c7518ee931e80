use super::Replay;

#[test]
fn a_replay_line_names_the_implementation_it_reruns() {
    let lines = [
        Replay::builtin(),
        Replay::builtin_strict(),
        Replay::manifest("fixtures/impls/fs4.toml").with_scenarios("mine"),
    ]
    .map(|replay| replay.command("two-hosts", 7));
    insta::assert_snapshot!(lines.join("\n"), @r"
    lockcheck run --scenario two-hosts --seed 7
    lockcheck run --strict --scenario two-hosts --seed 7
    lockcheck run --impl fixtures/impls/fs4.toml --scenarios mine --scenario two-hosts --seed 7
    ");
}
