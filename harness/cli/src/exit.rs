//! Exit codes, in one documented table (also in README and `lockcheck --help`).

/// What the process exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every scenario passed or was skipped.
    Ok = 0,
    /// Bad command-line usage (clap reports these itself, with this code).
    #[allow(dead_code)]
    Usage = 2,
    /// lockcheck itself could not do its job: a bad scenario file or manifest, an I/O error.
    Error = 3,
    /// At least one scenario failed: the lock under test misbehaved.
    Failed = 100,
    /// No failure, but at least one scenario was broken: the adapter or harness misbehaved.
    Broken = 101,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

/// The help text's table.
pub const TABLE: &str = "\
Exit status:
  0    every scenario passed (or was skipped)
  2    bad command-line usage
  3    lockcheck could not run: bad scenario file or manifest, I/O error
  100  at least one scenario failed: the lock under test misbehaved
  101  no failures, but at least one scenario was broken: the adapter or harness misbehaved";
