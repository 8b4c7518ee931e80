//! What a valid scenario file turns into.

use lockcheck_model::{
    Action, Bounds, Expect, Level, Outcome, PlantKind, RaceEnd, Scenario, SleepSpec, WaitSpec,
    parse_scenario,
};
use lockcheck_protocol::{Capability, ErrorKind, Mode};

#[track_caller]
fn parse(text: &str) -> Scenario {
    parse_scenario("test.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

const FULL: &str = r#"id = "every-action"
level = "fs"
description = "Uses every action once."
catches = "parser regressions"
requires = ["exclusive", "shared", "try", "block", "timeout", "holder_info", "spawn_child",
            "touch_fd", "second_handle", "threads"]
repeat = 2
recovery_slack_ms = 250
umask = "0000"
unprivileged = true

[[participants]]
name = "a"
[[participants]]
name = "b"
[[participants]]
name = "c"
count = 3

[[steps]]
who = "a"
do = "acquire"
mode = "shared"
wait = "timeout"
timeout_ms = 300
expect = ["ok", "error:permission_denied"]
min_ms = 1
within_ms = 900

[[steps]]
who = "b"
do = "acquire"
wait = "block"
background = true

[[steps]]
who = "a"
do = "release"

[[steps]]
who = "b"
do = "await"
expect = "busy"
within_ms = 200

[[steps]]
who = "a"
do = "holder"
holder_is = "c.2"

[[steps]]
who = "a"
do = "holder"

[[steps]]
who = "a"
do = "second_handle"

[[steps]]
who = "c"
do = "race"
wait = "recovery"
rounds = 4
hold_ms = 3

[[steps]]
who = "c"
do = "churn"
duration_ms = 50
hold_us = 10
mode = "shared"

[[steps]]
do = "sleep"
ms = 10
lease_factor = 1.5

[[steps]]
do = "plant"
content = "old_mtime"

[[steps]]
do = "chmod_dir"
mode = "0500"

[[steps]]
who = "a"
do = "thread_race"
threads = 4

[[steps]]
who = "c"
do = "race"
rounds = 2
jitter_us = 150
end = "kill"

[[steps]]
do = "remove_dir"

[[steps]]
do = "check_mode"
forbid = "0o077"

[[steps]]
do = "check_leftovers"

[[steps]]
who = "c"
do = "crash_acquire"
window = 2

[[steps]]
do = "check_mode"
"#;

#[test]
fn a_full_scenario_reads_into_its_model() {
    let s = parse(FULL);
    assert_eq!(s.id, "every-action");
    assert_eq!(s.level, Level::Fs);
    assert_eq!(s.repeat, 2);
    assert_eq!(s.recovery_slack_ms, 250);
    assert_eq!(s.requires.len(), 10);
    assert!(s.requires.contains(&Capability::HolderInfo));
    assert_eq!(s.members().len(), 5);
    assert_eq!(s.resolve("c"), ["c.0", "c.1", "c.2"]);

    let lines: Vec<u32> = s.steps.iter().map(|s| s.line).collect();
    assert_eq!(s.umask, Some(0));
    assert!(s.unprivileged);
    assert_eq!(
        lines,
        [
            20, 30, 36, 40, 46, 51, 55, 59, 66, 73, 78, 82, 86, 91, 98, 101, 105, 108, 113
        ]
    );
    assert_eq!(
        s.steps[0].action,
        Action::Acquire {
            mode: Mode::Shared,
            wait: WaitSpec::Timeout { ms: 300 },
            expect: Expect(vec![
                Outcome::Ok,
                Outcome::Error(Some(ErrorKind::PermissionDenied))
            ]),
            bounds: Bounds {
                min_ms: Some(1),
                within_ms: Some(900)
            },
            background: false,
        }
    );
    // The background acquire takes the expectation of the await that collects it.
    assert_eq!(
        s.steps[1].action,
        Action::Acquire {
            mode: Mode::Exclusive,
            wait: WaitSpec::Block,
            expect: Expect::one(Outcome::Busy),
            bounds: Bounds::default(),
            background: true,
        }
    );
    assert_eq!(
        s.steps[4].action,
        Action::Holder {
            holder_is: Some("c.2".into())
        }
    );
    assert_eq!(s.steps[5].action, Action::Holder { holder_is: None });
    assert_eq!(
        s.steps[6].action,
        Action::SecondHandle {
            mode: Mode::Exclusive,
            expect: Expect::default()
        }
    );
    assert_eq!(
        s.steps[7].action,
        Action::Race {
            rounds: 4,
            wait: WaitSpec::Recovery,
            hold_ms: 3,
            jitter_us: 0,
            end: RaceEnd::Release,
        }
    );
    assert_eq!(
        s.steps[9].action,
        Action::Sleep(SleepSpec {
            ms: 10,
            lease_factor: Some(1.5),
            recovery_factor: None,
        })
    );
    assert_eq!(s.steps[9].who, None);
    assert_eq!(
        s.steps[10].action,
        Action::Plant {
            content: PlantKind::OldMtime
        }
    );
    assert_eq!(s.steps[11].action, Action::ChmodDir { mode: 0o500 });
    assert_eq!(
        s.steps[12].action,
        Action::ThreadRace {
            threads: 4,
            hold_ms: 0,
            max_winners: 1
        }
    );
    assert_eq!(
        s.steps[13].action,
        Action::Race {
            rounds: 2,
            wait: WaitSpec::Try,
            hold_ms: 0,
            jitter_us: 150,
            end: RaceEnd::Kill,
        }
    );
    assert_eq!(s.steps[14].action, Action::RemoveDir);
    assert_eq!(s.steps[15].action, Action::CheckMode { forbid: 0o077 });
    assert_eq!(s.steps[16].action, Action::CheckLeftovers);
    assert_eq!(s.steps[17].action, Action::CrashAcquire { window: 2.0 });
    assert_eq!(s.steps[18].action, Action::CheckMode { forbid: 0o022 });
    assert_eq!(s.steps[14].who, None);
}

#[test]
fn defaults_apply_when_keys_are_left_out() {
    let s = parse(
        "id = \"d\"\nlevel = \"core\"\ndescription = \"d\"\ncatches = \"c\"\nrequires = [\"exclusive\", \"try\"]\n\
         [[participants]]\nname = \"a\"\n[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n[[steps]]\nwho = \"a\"\ndo = \"release\"\n",
    );
    assert_eq!(s.repeat, 1);
    assert_eq!(s.recovery_slack_ms, 500);
    assert_eq!(s.umask, None);
    assert!(!s.unprivileged);
    assert_eq!(
        s.steps[0].action,
        Action::Acquire {
            mode: Mode::Exclusive,
            wait: WaitSpec::Try,
            expect: Expect::one(Outcome::Ok),
            bounds: Bounds::default(),
            background: false,
        }
    );
    assert_eq!(
        s.steps[1].action,
        Action::Release {
            expect: Expect::one(Outcome::Ok)
        }
    );
}

#[test]
fn signals_may_target_a_participant_waiting_in_the_background() {
    let s = parse(
        "id = \"d\"\nlevel = \"core\"\ndescription = \"d\"\ncatches = \"c\"\nrequires = [\"exclusive\", \"block\"]\n\
         [[participants]]\nname = \"a\"\n[[steps]]\nwho = \"a\"\ndo = \"acquire\"\nwait = \"block\"\nbackground = true\n\
         [[steps]]\nwho = \"a\"\ndo = \"stop\"\n[[steps]]\nwho = \"a\"\ndo = \"cont\"\n[[steps]]\nwho = \"a\"\ndo = \"await\"\n",
    );
    assert_eq!(s.steps.len(), 4);
}

#[test]
fn outcome_names_read_back_as_they_print() {
    use lockcheck_model::Outcome;
    use lockcheck_protocol::{ErrorKind, Status};
    let (kind_placeholder, plain) = Outcome::NAMES.split_last().unwrap();
    for name in plain {
        let outcome = Outcome::from_name(name).unwrap();
        assert_eq!(outcome.to_string(), *name);
    }
    // Every status is an outcome by the same name.
    for status in Status::ALL {
        assert_eq!(
            Outcome::from_name(status.as_str()).map(Outcome::status),
            Ok(status)
        );
    }
    assert_eq!(*kind_placeholder, "error:<kind>");
    for kind in ErrorKind::ALL {
        let name = format!("error:{kind}");
        assert_eq!(Outcome::from_name(&name).unwrap().to_string(), name);
    }
    assert_eq!(Outcome::from_name("error:nope"), Err(Some("nope")));
    assert_eq!(Outcome::from_name("okay"), Err(None));
}
