//! The GitHub workflow's hardening holds: read-only permissions, a timeout on every job, and
//! no credentials left in the checkout for later steps.

const WORKFLOW: &str = include_str!("../../../../ci/github-workflow.yml");

/// Each job's name and its lines, from the `jobs:` map (jobs are indented two spaces).
fn jobs() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut jobs: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut lines = WORKFLOW.lines().skip_while(|l| *l != "jobs:").skip(1);
    for line in lines.by_ref() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with([' ', '#'])
        {
            jobs.push((name, Vec::new()));
        } else if let Some((_, body)) = jobs.last_mut() {
            body.push(line);
        }
    }
    jobs
}

#[test]
fn the_workflow_reads_the_repository_only() {
    assert!(
        WORKFLOW.contains("\npermissions:\n  contents: read\n"),
        "top-level `permissions: contents: read` is missing"
    );
}

#[test]
fn every_job_has_a_timeout() {
    let jobs = jobs();
    assert!(jobs.len() >= 3, "{jobs:?}");
    for (name, body) in jobs {
        assert!(
            body.iter()
                .any(|l| l.trim_start().starts_with("timeout-minutes:")),
            "job `{name}` has no timeout-minutes"
        );
    }
}

#[test]
fn every_checkout_drops_its_credentials() {
    let lines: Vec<&str> = WORKFLOW.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("uses: actions/checkout@") {
            let next = lines[i + 1..].iter().take(3).copied().collect::<Vec<_>>();
            assert!(
                next.iter()
                    .any(|l| l.trim() == "persist-credentials: false"),
                "the checkout on line {} keeps its credentials",
                i + 1
            );
        }
    }
}

/// Every action is pinned by a full commit, with the release it is in a comment: a tag can
/// be moved to other code, a commit cannot.
#[test]
fn every_action_is_pinned_by_commit_with_its_release() {
    let uses: Vec<&str> = WORKFLOW
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses: ")
        })
        .collect();
    assert!(uses.len() >= 5, "{uses:?}");
    for line in uses {
        let (action, release) = line.split_once(" # ").unwrap_or((line, ""));
        let commit = action.split_once('@').map_or("", |(_, rev)| rev);
        assert!(
            commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "`{action}` is not pinned by a full commit"
        );
        assert!(
            release.starts_with('v') && release[1..].split('.').count() == 3,
            "`{action}` does not name its release (`# vX.Y.Z`)"
        );
    }
}

/// The Linux, macOS and Windows test jobs each run lockcheck with a report, put its
/// summary.md on the job's page and upload the report directory.
#[test]
fn the_test_job_publishes_a_lockcheck_report() {
    let (_, test) = jobs()
        .into_iter()
        .find(|(n, _)| *n == "test")
        .expect("a test job");
    let body = test.join("\n");
    assert!(
        body.contains("-- run --level core --report target/lockcheck-report"),
        "{body}"
    );
    assert!(
        body.contains(r#"cat target/lockcheck-report/summary.md >> "$GITHUB_STEP_SUMMARY""#),
        "{body}"
    );
    assert!(body.contains("path: target/lockcheck-report/"), "{body}");
}
