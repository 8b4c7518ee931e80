//! Exit codes, in one documented table (also in README and `lockcheck --help`).

use lockcheck_model::Judgement;

/// What the process exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every scenario passed, was skipped, or failed as expected.
    Ok = 0,
    /// Bad command-line usage (clap reports these itself, with this code).
    #[allow(dead_code)]
    Usage = 2,
    /// lockcheck itself could not do its job: a bad scenario file or manifest, an I/O error.
    Error = 3,
    /// At least one scenario failed unexpectedly, or an expected failure passed.
    Failed = 100,
    /// No failure, but at least one scenario was broken: the adapter or harness misbehaved.
    Broken = 101,
    /// `adapter-check`: the adapter breaks at least one rule of the protocol.
    RulesBroken = 102,
    /// Stopped by SIGINT (Ctrl-C): 128 + 2, as shells report it. Settled scenarios are
    /// reported, and `report.json` says `interrupted`.
    Interrupted = 130,
    /// Stopped by SIGTERM: 128 + 15; otherwise as [`Exit::Interrupted`].
    Terminated = 143,
}

impl Exit {
    /// The exit status of a run whose scenarios were judged so: a failure or a stale
    /// expectation (`xpass`) is [`Exit::Failed`]; otherwise a broken scenario is
    /// [`Exit::Broken`]; passes, skips and expected failures (shown or not) are [`Exit::Ok`].
    /// `lockcheck run` and `lockcheck matrix` both decide here.
    pub fn of(judgements: impl IntoIterator<Item = Judgement>) -> Exit {
        let mut exit = Exit::Ok;
        for judgement in judgements {
            if judgement.is_failure() {
                return Exit::Failed;
            }
            if judgement == Judgement::Broken {
                exit = Exit::Broken;
            }
        }
        exit
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

/// The help text's table.
pub const TABLE: &str = "\
Exit status:
  0    every scenario passed, was skipped, or failed as its expectations file says
  2    bad command-line usage
  3    lockcheck could not run: bad scenario file or manifest, I/O error
  100  at least one scenario failed unexpectedly (the lock under test misbehaved), or an
       expected failure passed (the expectation is stale)
  101  no failures, but at least one scenario was broken: the adapter or harness misbehaved
  102  adapter-check: the adapter breaks at least one rule of the protocol (PROTOCOL.md)
  130  stopped by SIGINT (Ctrl-C), 143 by SIGTERM: the settled scenarios are reported, and
       report.json is written with `interrupted: true`";

#[cfg(test)]
mod tests;
