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
