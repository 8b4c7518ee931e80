//! The harness side of lockcheck shared by the `lockcheck` binary, its conformance gate and
//! the mutant zoo: the project on disk, the replay lines that rerun a scenario, and where a
//! test finds the binaries cargo built.

pub mod project;
pub mod replay;
mod test_binary;

pub use project::{Project, TargetDir, load_scenarios, reflock_spec};
pub use replay::Replay;
pub use test_binary::test_binary;
