//! The harness side of lockcheck shared by the `lockcheck` binary, its conformance gate and
//! the mutant zoo: the project on disk, the replay lines that rerun a scenario, and where a
//! test finds the binaries cargo built.

pub mod project;
pub mod replay;
mod test_binary;
mod test_tools;

pub use project::{
    Project, TargetDir, builtin_expectations, load_scenarios, reflock_spec, reflock_strict_spec,
};
pub use replay::Replay;
pub use test_binary::test_binary;
pub use test_tools::ensure_bindfs;
