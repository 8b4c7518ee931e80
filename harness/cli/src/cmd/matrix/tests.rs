//! The matrix command: the error outside a repository. The formatting is tested in
//! `lockcheck-report`.

use lockcheck::{Project, TargetDir};

#[test]
fn outside_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Project::containing(dir.path(), TargetDir::UnderRoot).unwrap_err();
    insta::assert_snapshot!(
        "matrix_outside_repository",
        err.to_string()
            .replace(&dir.path().display().to_string(), "<tmp>")
    );
}
