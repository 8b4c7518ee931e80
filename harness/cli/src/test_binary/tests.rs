use super::*;

fn found(vars: &[(&str, &str)]) -> PathBuf {
    resolve("lockcheck-mutant", "/compiled/lockcheck-mutant", |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| OsString::from(v))
    })
}

#[test]
fn nextest_runtime_path_wins_over_the_compiled_one() {
    assert_eq!(
        found(&[("NEXTEST_BIN_EXE_lockcheck-mutant", "/extracted/a")]),
        PathBuf::from("/extracted/a")
    );
}

#[test]
fn the_underscored_name_is_read_too() {
    assert_eq!(
        found(&[("NEXTEST_BIN_EXE_lockcheck_mutant", "/extracted/b")]),
        PathBuf::from("/extracted/b")
    );
}

#[test]
fn outside_nextest_the_compiled_path_is_used() {
    assert_eq!(found(&[]), PathBuf::from("/compiled/lockcheck-mutant"));
    assert_eq!(
        found(&[("NEXTEST_BIN_EXE_lockcheck-mutant", "")]),
        PathBuf::from("/compiled/lockcheck-mutant")
    );
}
