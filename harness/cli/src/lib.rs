//! The harness side of lockcheck shared by the `lockcheck` binary, its conformance gate and
//! the mutant zoo: the project on disk, and the replay lines that rerun a scenario.

pub mod project;
pub mod replay;

pub use project::{
    Project, TargetDir, builtin_expectations, load_scenarios, reflock_spec, reflock_strict_spec,
};
pub use replay::Replay;
