//! `matrix.html` and its timeline pages, written by the real `lockcheck matrix`.

use crate::assert_redacted_snapshot;
use crate::support::{lockcheck, noop_manifest};

/// `lockcheck matrix` on a project of one manifest and one scenario: `matrix.html` colours the
/// cells and links the failure to its section of `timelines/<impl>.html`.
#[test]
fn html_matrix_links_each_failure_to_its_timeline() {
    let project = tempfile::tempdir().unwrap();
    let impls = project.path().join("fixtures/impls");
    std::fs::create_dir_all(&impls).unwrap();
    noop_manifest(&impls);
    let output = lockcheck()
        .current_dir(project.path())
        .env("CARGO_TARGET_DIR", project.path().join("target"))
        .args(["matrix", "--scenario", "exclusive-basic"])
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(100),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_redacted_snapshot!(
        "matrix_html_run",
        String::from_utf8_lossy(&output.stdout)
            .replace(&project.path().display().to_string(), "<project>")
    );
    let reports = project.path().join("reports");
    let matrix = std::fs::read_to_string(reports.join("matrix.html")).unwrap();
    assert!(matrix.contains("<td class=\"j-pass\""), "reflock passes");
    assert!(
        matrix.contains("<a href=\"timelines/noop.html#exclusive-basic\">fail</a>"),
        "{matrix}"
    );
    let timelines = std::fs::read_dir(reports.join("timelines"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(
        timelines,
        ["noop.html"],
        "reflock passed: no page of its own"
    );
    let page = std::fs::read_to_string(reports.join("timelines/noop.html")).unwrap();
    assert!(
        page.contains(
            "<section class=\"scenario\" id=\"exclusive-basic\" data-judgement=\"fail\">"
        )
    );
    assert!(page.contains("<rect class=\"violation\""));
}
