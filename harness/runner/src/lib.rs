//! lockcheck's runner: starts adapter processes, drives them through scenarios, injects
//! faults, and records histories. It emits typed events and never prints.
//!
//! Architecture invariant: this is the only crate that starts processes or injects faults.
//! It judges nothing itself; verdicts come from `lockcheck_model::check`.

mod adapter;
mod adapter_check;
mod bench;
mod confine;
mod execute;
mod fnv;
mod lockdir;
mod machine;
mod probe;
mod run;
mod setup;
mod spec;
mod sys;
mod topology;

pub use adapter_check::{MASKED_ENV, adapter_check};
pub use bench::{BenchError, BenchPlan, driver, measure, round_trip};
pub use machine::describe_machine;
pub use probe::{ProbeError, probe};
pub use run::{RunEvent, cgroup_parent, run, run_scenario};
pub use setup::{PrepareEnv, Prepared, SetupError, prepare};
pub use spec::{AdapterSpec, Cancel, ENV_NO_CGROUP, ReplayCommand, RunOptions};
pub use topology::FUSE_PROGRAM;
