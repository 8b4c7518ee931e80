//! Shared helpers: scenarios from inline TOML, shell adapters, and running one scenario.

use std::time::Duration;

use lockcheck_model::{BrokenReason, EventKind, Scenario, ScenarioResult, Verdict};
use lockcheck_protocol::{AdapterMessage, Hello};
use lockcheck_runner::{AdapterSpec, RunOptions};

/// A hello line for shell adapters.
pub const HELLO: &str = r#"{"type":"hello","protocol":1,"implementation":{"name":"sh","version":"0","language":"sh"},"capabilities":["exclusive","try","block","timeout"],"recovery":{"kind":"kernel"}}"#;

/// Two participants: a takes the lock, b tries it, a releases.
pub const TWO_PARTY: &str = r#"
id = "two-party"
level = "core"
description = "a holds, b tries, a releases, b tries"
catches = "two holders"
requires = ["exclusive", "try"]

[[participants]]
name = "a"
[[participants]]
name = "b"

[[steps]]
who = "a"
do = "acquire"
expect = "ok"

[[steps]]
who = "b"
do = "acquire"
expect = "busy"

[[steps]]
who = "a"
do = "release"

[[steps]]
who = "b"
do = "acquire"
expect = "ok"
"#;

/// A shell adapter's script: says `hello`, then runs `respond`, a shell snippet that sees the
/// request in `$line` and its id in `$id`, for each request.
pub fn responder(hello: &str, respond: &str) -> String {
    format!(
        r#"echo '{hello}'
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed 's/.*"id":\([0-9]*\).*/\1/')
  {respond}
done"#
    )
}

/// A hello line, parsed.
pub fn parse_hello(line: &str) -> Hello {
    match serde_json::from_str(line).expect("a valid hello line") {
        AdapterMessage::Hello(hello) => hello,
        other => panic!("not a hello: {other:?}"),
    }
}

pub fn scenario(toml: &str) -> Scenario {
    lockcheck_model::parse_scenario("test.toml", toml)
        .unwrap_or_else(|e| panic!("bad test scenario:\n{e}"))
}

/// An adapter that runs `script` under `sh -c`.
pub fn sh(script: &str) -> AdapterSpec {
    AdapterSpec {
        name: "sh".to_owned(),
        command: vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()],
        env: Vec::new(),
    }
}

/// Short budgets, so hang tests take a fraction of a second.
pub fn quick() -> RunOptions {
    RunOptions {
        request_timeout: Duration::from_millis(700),
        hello_timeout: Duration::from_millis(700),
        ..RunOptions::default()
    }
}

/// Runs one scenario against the adapter without probing it first, so that what the adapter
/// does inside an iteration (including its hello) is what gets judged.
pub fn run(spec: &AdapterSpec, toml: &str) -> ScenarioResult {
    lockcheck_runner::run_scenario(spec, &scenario(toml), &parse_hello(HELLO), &quick())
}

/// The broken reason a result carries; panics with the verdict otherwise.
#[track_caller]
pub fn broken_reason(result: &ScenarioResult) -> BrokenReason {
    assert!(
        matches!(result.verdict, Verdict::Broken { .. }),
        "expected broken, got {:#?}",
        result.verdict
    );
    let history = result
        .history
        .as_ref()
        .expect("broken results keep their history");
    history
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Broken { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .expect("a broken history has a broken event")
}

/// Whether this test runs as root: where cgroup v2 containment must be in force (this
/// machine, CI). Elsewhere the runner may fall back to process groups, and a cgroup test says
/// it was skipped.
#[cfg(target_os = "linux")]
pub fn runs_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .any(|l| l.split_whitespace().take(3).eq(["Uid:", "0", "0"]))
    })
}
