use super::*;

fn replaced(text: &str) -> String {
    let tmp = PathPlaceholder::whole("/tmp", "<tmp>");
    let root = PathPlaceholder::prefix("/src/lockcheck", "<root>");
    let inner = PathPlaceholder::prefix("/src/lockcheck/target", "<target>");
    let mut paths = vec![&tmp, &root, &inner];
    paths.sort_by_key(|p| std::cmp::Reverse(p.path.len()));
    replace_paths(text, &paths)
}

#[test]
fn a_temporary_path_goes_whole_and_a_prefix_keeps_its_rest() {
    assert_eq!(
        replaced("--impl /tmp/.tmpA1b2/noop.toml --scenario x"),
        "--impl <tmp> --scenario x"
    );
    assert_eq!(
        replaced("open /tmp/lockcheck-x1/lock, then (/tmp/y) again"),
        "open <tmp>, then (<tmp>) again"
    );
    assert_eq!(
        replaced("cannot read /src/lockcheck/scenarios/a.toml: gone"),
        "cannot read <root>/scenarios/a.toml: gone"
    );
}

#[test]
fn the_longest_path_wins() {
    assert_eq!(replaced("/src/lockcheck/target/x"), "<target>/x");
}

#[test]
fn text_without_paths_is_unchanged() {
    assert_eq!(replaced("ok, in 12 ms ü"), "ok, in 12 ms ü");
}
