//! `report.html` and `matrix.html` as a browser shows them: the real `lockcheck` on a failing
//! lock (the no-op mutant) and a sound one (reflock), rendered by headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use lockcheck_report::VIOLATION;
use tempfile::TempDir;

use crate::assert_redacted_snapshot;
use crate::browser::{Screenshot, dump_dom, root, target_dir};
use crate::support::{lockcheck, noop_manifest};

/// Builds the mutants' adapter that `fixtures/mutants/*.toml` start as
/// `{target}/debug/lockcheck-mutant` (a workspace build has it already; `-p lockcheck` may not).
fn build_mutant_adapter() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--quiet", "-p", "lockcheck-mutants", "--bin"])
            .arg("lockcheck-mutant")
            .env("CARGO_TARGET_DIR", target_dir())
            .current_dir(root())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cannot build the mutants' adapter:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// `lockcheck run --report` of `scenarios` against `manifest` (reflock when `None`): the temp
/// dir holding the report, and its `report.html`.
fn report(manifest: Option<&Path>, scenarios: &[&str], exit: i32) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = lockcheck();
    cmd.env("CARGO_TARGET_DIR", target_dir()).arg("run");
    if let Some(manifest) = manifest {
        cmd.arg("--impl").arg(manifest);
    }
    for scenario in scenarios {
        cmd.args(["--scenario", scenario]);
    }
    let output = cmd.arg("--report").arg(dir.path()).output().expect("runs");
    assert_eq!(
        output.status.code(),
        Some(exit),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let page = dir.path().join("report.html");
    (dir, page)
}

fn no_op_report(scenarios: &[&str]) -> (TempDir, PathBuf) {
    build_mutant_adapter();
    let manifest = root().join("fixtures/mutants/no-op.toml");
    report(Some(&manifest), scenarios, 100)
}

/// The scenario sections of a serialised DOM, in page order: id, judgement, markup.
fn sections(dom: &str) -> Vec<(String, String, &str)> {
    let attr = |text: &str, name: &str| {
        let start = text.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
        text[start..start + text[start..].find('"').unwrap()].to_owned()
    };
    dom.split("<section class=\"scenario\"")
        .skip(1)
        .map(|body| {
            let body = &body[..body.find("</section>").expect("a closed section")];
            (attr(body, "id"), attr(body, "data-judgement"), body)
        })
        .collect()
}

#[test]
fn html_report_of_a_failing_run_opens_on_its_violation_in_a_browser() {
    // The catalogue has crash-holder (which the no-op lock passes) before exclusive-vs-shared.
    let (_dir, page) = no_op_report(&["crash-holder", "exclusive-vs-shared"]);
    let dom = dump_dom(&page);
    let found = sections(&dom);
    let order: Vec<(&str, &str)> = found
        .iter()
        .map(|(id, judgement, _)| (id.as_str(), judgement.as_str()))
        .collect();
    assert_eq!(
        order,
        [("exclusive-vs-shared", "fail"), ("crash-holder", "pass")],
        "the failure first, one section per scenario"
    );
    assert!(
        !found[1].2.contains("<details open"),
        "the pass is collapsed"
    );
    let (first, _, body) = &found[0];
    assert!(body.contains("<details open=\"\">"), "{first} is open");
    assert!(
        body.matches("<rect class=\"violation\"").count() >= 2,
        "{first}'s overlapping holds are marked"
    );
    assert!(body.contains("<rect class=\"overlap-band\""), "{first}");
    assert!(body.contains("two holders at once"), "{first}'s finding");
    for (id, _, body) in &found {
        assert!(
            body.contains("<div class=\"timeline\"><svg"),
            "{id} has a drawn timeline"
        );
    }
}

#[test]
fn html_report_of_a_passing_run_draws_every_scenario_in_a_browser() {
    let (_dir, page) = report(None, &["exclusive-basic", "crash-holder", "race-50"], 0);
    let dom = dump_dom(&page);
    let found = sections(&dom);
    let ids: Vec<&str> = found.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, ["exclusive-basic", "race-50", "crash-holder"]);
    for (id, judgement, body) in &found {
        assert_eq!(judgement, "pass", "{id}");
        assert!(!body.contains("<details open"), "{id} is collapsed");
        assert!(
            body.contains("<div class=\"timeline\"><svg"),
            "{id} has a drawn timeline"
        );
        assert!(!body.contains("class=\"violation\""), "{id}");
    }
    let race = found[1].2;
    assert!(race.contains("50 participants"), "race-50's summary lane");
    assert!(race.contains("<details class=\"lanes\">"), "and its lanes");
    assert!(found[2].2.contains("<path class=\"kill\""), "the SIGKILL");
}

/// The violation's colour is drawn, not only named in the markup: pixels of exactly it form
/// the two overlapping holds' bars (at least 12 rows of the 14 a bar is high, whatever its
/// width, which the run's timing decides), inside the plot of the failure's timeline (right
/// of the lane labels: the body's 16 px margin and the timeline's 120 px gutter); a passing
/// run's page has none.
#[test]
fn html_screenshot_shows_the_violation_in_red() {
    let colour = (VIOLATION.0, VIOLATION.1, VIOLATION.2);
    let plot = 16 + 120..16 + 120 + 760;
    let (_dir, page) = no_op_report(&["exclusive-basic"]);
    let shot = Screenshot::of(&page, 1000, 1000);
    let red = shot.pixels_of(colour);
    let outside: Vec<_> = red.iter().filter(|(x, _)| !plot.contains(x)).collect();
    assert!(outside.is_empty(), "outside the plot: {outside:?}");
    let mut rows: Vec<u32> = red.iter().map(|&(_, y)| y).collect();
    rows.sort_unstable();
    rows.dedup();
    let mut bars: Vec<Vec<u32>> = Vec::new();
    for y in rows {
        match bars.last_mut() {
            Some(bar) if bar.last() == Some(&(y - 1)) => bar.push(y),
            _ => bars.push(vec![y]),
        }
    }
    let drawn: Vec<&Vec<u32>> = bars.iter().filter(|rows| rows.len() >= 12).collect();
    assert_eq!(
        drawn.len(),
        2,
        "two bars of {VIOLATION} in the {}×{} screenshot, rows: {bars:?}",
        shot.width,
        shot.height
    );

    let (_dir, page) = report(None, &["exclusive-basic"], 0);
    let passing = Screenshot::of(&page, 1000, 1000);
    assert_eq!(
        passing.pixels_of(colour).len(),
        0,
        "a pass draws no violation"
    );
}

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
