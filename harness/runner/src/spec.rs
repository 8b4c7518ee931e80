//! What a run is given: how to start the implementation under test, and the run's knobs.
//! A leaf: every other module may use it, and it uses none of them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Set to anything but empty or `0`, turns cgroups off for every run in the process
/// (process groups and the watchdog remain): an escape hatch, and a way to see what they add.
pub const ENV_NO_CGROUP: &str = "LOCKCHECK_NO_CGROUP";

/// How to start one participant of the implementation under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSpec {
    /// Manifest name, e.g. `reflock`.
    pub name: String,
    /// Program and arguments, already expanded.
    pub command: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

/// Knobs for a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Seed for everything random (race order, planted garbage).
    pub seed: u64,
    /// Budget for one answer on top of any timeout the request itself carries; past it the
    /// adapter is declared hung and the iteration is `broken`.
    pub request_timeout: Duration,
    /// Budget for an adapter's first line.
    pub hello_timeout: Duration,
    /// Where lock directories are created (the system temp dir when `None`).
    pub temp_root: Option<PathBuf>,
    /// Writes each result's replay line; without it results have none.
    pub replay: Option<ReplayCommand>,
    /// Keep the last iteration's history when every iteration passes too (a run that does
    /// not pass always keeps the history of the iteration that did not).
    pub keep_history: bool,
    /// Put each iteration's participants in a cgroup of their own when cgroup v2 allows it
    /// (Linux). `LOCKCHECK_NO_CGROUP=1` turns it off whatever this says.
    pub cgroups: bool,
    /// Stops the run once raised: no scenario starts after that, and the one in flight stops
    /// at its next step or within [`Cancel::CHECK_EVERY`] of a wait, its participants killed.
    pub cancel: Cancel,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: 0,
            request_timeout: Duration::from_secs(10),
            hello_timeout: Duration::from_secs(10),
            temp_root: None,
            replay: None,
            keep_history: false,
            cgroups: true,
            cancel: Cancel::default(),
        }
    }
}

/// The command that reruns one scenario of a run, from the scenario's id and the run's seed.
/// The caller's syntax: the runner writes no command line itself.
#[derive(Clone)]
pub struct ReplayCommand(Arc<ReplayFn>);

type ReplayFn = dyn Fn(&str, u64) -> String + Send + Sync;

impl ReplayCommand {
    /// A replay line written by `command(scenario_id, seed)`.
    pub fn new(command: impl Fn(&str, u64) -> String + Send + Sync + 'static) -> ReplayCommand {
        ReplayCommand(Arc::new(command))
    }

    /// The command for `scenario` in a run with `seed`.
    pub fn command(&self, scenario: &str, seed: u64) -> String {
        (self.0)(scenario, seed)
    }
}

impl fmt::Debug for ReplayCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplayCommand(..)")
    }
}

/// A run's stop flag, shared with whoever may stop it (a signal handler). It holds a cause
/// the caller chooses, such as the signal's number; zero means the run goes on.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicUsize>);

impl Cancel {
    /// How long a wait inside an iteration goes on before it looks at the flag again.
    pub const CHECK_EVERY: Duration = Duration::from_millis(100);

    /// A flag around `cause`, which something else (`signal_hook::flag::register_usize`)
    /// sets to a non-zero value to stop the run.
    pub fn from_cause(cause: Arc<AtomicUsize>) -> Cancel {
        Cancel(cause)
    }

    /// Stops the run, with a non-zero `cause`.
    pub fn cancel(&self, cause: usize) {
        self.0.store(cause.max(1), Ordering::SeqCst);
    }

    /// The cause the run was stopped with, or `None` while it goes on.
    pub fn cause(&self) -> Option<usize> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            cause => Some(cause),
        }
    }

    /// The run has been stopped.
    pub fn is_cancelled(&self) -> bool {
        self.cause().is_some()
    }
}
