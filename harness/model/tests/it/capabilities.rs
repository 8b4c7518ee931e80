//! The capabilities a scenario must declare come from the protocol's rule for each op, so a
//! scenario that parses and applies never sends a request the adapter is entitled to refuse.

use lockcheck_model::{Scenario, WaitSpec, parse_scenario};
use lockcheck_protocol::{Capability, Hello, Implementation, Recovery};

use crate::support::catalogue;

/// Every `do` value with the keys it needs, in the order the docs list them.
const ACTIONS: &[(&str, &str)] = &[
    ("acquire", "who = \"a\"\nwait = \"recovery\""),
    ("release", "who = \"a\""),
    (
        "acquire",
        "who = \"a\"\nmode = \"shared\"\nbackground = true",
    ),
    ("await", "who = \"a\""),
    ("holder", "who = \"a\""),
    ("spawn_child", "who = \"a\""),
    ("touch_fd", "who = \"a\""),
    ("second_handle", "who = \"a\""),
    ("release_second", "who = \"a\""),
    ("thread_race", "who = \"a\"\nthreads = 4"),
    ("exit", "who = \"a\""),
    ("kill", "who = \"a\""),
    ("stop", "who = \"a\""),
    ("cont", "who = \"a\""),
    ("term", "who = \"a\""),
    ("sleep", "ms = 1"),
    ("plant", "content = \"empty\""),
    ("symlink", ""),
    ("unlink", ""),
    ("chmod_dir", "mode = \"0500\""),
    ("check_victim", ""),
    ("remove_dir", ""),
    ("check_mode", ""),
    ("check_leftovers", ""),
    ("race", "who = \"g\"\nwait = \"recovery\""),
    ("churn", "who = \"g\"\nduration_ms = 1"),
    ("crash_acquire", "who = \"g\""),
];

/// One scenario with a step of every action, declaring every capability.
fn every_action() -> Scenario {
    let all: Vec<String> = Capability::ALL.iter().map(|c| format!("\"{c}\"")).collect();
    let mut text = format!(
        "id = \"every-action\"\nlevel = \"core\"\ndescription = \"d\"\ncatches = \"c\"\n\
         requires = [{}]\n\n[[participants]]\nname = \"a\"\n[[participants]]\nname = \"g\"\n\
         count = 3\n",
        all.join(", ")
    );
    for (action, keys) in ACTIONS {
        text.push_str(&format!("\n[[steps]]\ndo = \"{action}\"\n{keys}\n"));
    }
    parse_scenario("every-action.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn each_action_needs_what_its_requests_need() {
    let scenario = every_action();
    assert_eq!(scenario.steps.len(), ACTIONS.len());
    let lines: Vec<String> = ACTIONS
        .iter()
        .zip(&scenario.steps)
        .map(|((action, _), step)| {
            let caps: Vec<&str> = step
                .action
                .needed_capabilities()
                .iter()
                .map(|c| c.as_str())
                .collect();
            format!("{action} => [{}]", caps.join(", "))
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_scenario_that_applies_sends_only_what_the_hello_declares() {
    let mut scenarios = catalogue();
    scenarios.push(every_action());
    for scenario in &scenarios {
        for recovery in [
            Recovery::Kernel,
            Recovery::StalePid,
            Recovery::Lease { ms: 100 },
        ] {
            // Exactly what the scenario requires, plus the wait its recovery resolves to.
            let mut capabilities = scenario.requires.clone();
            capabilities.push(WaitSpec::Recovery.resolve(recovery, 0).0.capability());
            let hello = Hello {
                protocol: 1,
                implementation: Implementation {
                    name: "x".into(),
                    version: "1".into(),
                    language: "rust".into(),
                },
                capabilities,
                recovery,
                timed_start: false,
            };
            assert_eq!(scenario.applicability(&hello), None, "{}", scenario.id);
            for step in &scenario.steps {
                for op in step.action.requests(recovery, scenario.recovery_slack_ms) {
                    for cap in op.capabilities() {
                        assert!(
                            hello.supports(cap),
                            "{} line {}: `{}` needs `{cap}`, which `requires` lacks",
                            scenario.id,
                            step.line,
                            op.name()
                        );
                    }
                }
            }
        }
    }
}
