//! `--scenarios` (files and folders, added to the built-in catalogue or replacing it) and
//! `--scenario` (ids and names as printed).

use crate::support::{lockcheck, scenario_file};

/// The scenario names `lockcheck list ARGS` prints, in order.
#[track_caller]
fn listed(args: &[&str]) -> Vec<String> {
    let output = lockcheck().arg("list").args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("requires:"))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[test]
fn a_single_file_replaces_the_catalogue_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), "mine.toml", "");
    let names = listed(&["--replace-catalogue", "--scenarios", file.to_str().unwrap()]);
    assert_eq!(names, ["core::mine"]);
}

#[test]
fn a_folder_is_read_recursively_and_added_to_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    scenario_file(dir.path(), "top.toml", "");
    scenario_file(dir.path(), "deep/er/nested.toml", "");
    let built_in = listed(&[]).len();
    let names = listed(&["--scenarios", dir.path().to_str().unwrap()]);
    assert_eq!(names.len(), built_in + 2, "{names:?}");
    assert!(names.contains(&"core::top".to_owned()), "{names:?}");
    assert!(names.contains(&"core::nested".to_owned()), "{names:?}");
    assert!(names.contains(&"core::exclusive-basic".to_owned()));
}

#[test]
fn a_scenario_is_chosen_by_its_name_as_printed() {
    assert_eq!(
        listed(&["--scenario", "core::exclusive-basic"]),
        ["core::exclusive-basic"]
    );
    assert_eq!(
        listed(&["--scenario", "exclusive-basic"]),
        ["core::exclusive-basic"]
    );
}
