//! lockcheck's model: scenario files, implementation manifests, histories, and the checker
//! that turns a history into a verdict.
//!
//! Architecture invariant: this crate is pure. It never touches the file system, the clock or
//! a process; callers hand it text and histories, and it hands back values.

mod adapter_check;
pub mod bench;
mod check;
mod expectations;
mod history;
mod judgement;
mod manifest;
mod parse;
mod result;
mod scenario;
mod source;
mod toml_read;
mod topology;
mod verdict;

pub use adapter_check::{Checklist, MaskedVar, Miss, Rule, RuleOutcome, RuleResult};
pub use check::{
    MAX_FINDINGS_PER_KIND, MeasuredRecovery, check, credited_holds, measured_recovery, merge,
    render_expect, render_response,
};
pub use expectations::{Expectation, Expectations, fired_checks, parse_expectations, wrong_check};
pub use history::{BrokenReason, Event, EventKind, Fault, History, Observation, OpenProcess};
pub use judgement::Judgement;
pub use manifest::{Manifest, MustFail, Placeholders, parse_manifest};
pub use parse::{
    MAX_PARTICIPANTS, MAX_STEPS, ScenarioKey, parse_catalogue, parse_scenario, parse_scenario_file,
    scenario_keys,
};
pub use result::{Containment, NoCgroup, RunResult, ScenarioResult};
pub use scenario::{
    Action, Bounds, Expect, Level, Outcome, ParticipantGroup, PlantKind, RaceEnd, Scenario,
    SleepSpec, Step, WaitSpec,
};
pub use source::{
    FileError, FileErrorKind, MAX_FILE_BYTES, ManifestError, SNIPPET_WIDTH, ScenarioError, decode,
};
pub use topology::{
    Host, LockDirFs, LockDirSpec, PidNamespace, Placement, Topology, View, parse_size,
};
pub use verdict::{Finding, FindingKind, Interval, Verdict};
