//! Results of a run: what the runner hands to reports.

use lockcheck_protocol::Implementation;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{History, Interval, Level, Verdict};

/// The result of one scenario against one implementation, over all its repetitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioResult {
    /// Scenario id.
    pub scenario: String,
    /// Scenario level.
    pub level: Level,
    /// The merged verdict: fail beats broken beats skip beats pass.
    pub verdict: Verdict,
    /// Iterations run (may be fewer than `repeat` when one failed or broke).
    pub iterations: u32,
    /// Wall time of all iterations, in milliseconds.
    pub duration_ms: u64,
    /// A command that reruns exactly this scenario with the same seed (empty when the run was
    /// given no way to write one).
    pub replay: String,
    /// The history of the iteration that produced the verdict, kept for fail and broken
    /// verdicts, and for a pass only when the run asked (passing histories can be large and
    /// say nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
    /// The holds the checker credited in that history ([`crate::credited_holds`]), for a
    /// timeline to draw; empty when no history was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<Interval>,
}

impl ScenarioResult {
    /// The scenario's name as every report prints it: `level::id`, e.g.
    /// `core::exclusive-basic`.
    pub fn name(&self) -> String {
        format!("{}::{}", self.level.as_str(), self.scenario)
    }
}

/// Everything one `lockcheck run` produced for one implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunResult {
    /// The implementation as its adapter introduced itself (None if it never said hello).
    pub implementation: Option<Implementation>,
    /// Manifest name, e.g. `reflock`.
    pub manifest: String,
    /// Seed of the run.
    pub seed: u64,
    /// One entry per scenario, in catalogue order.
    pub scenarios: Vec<ScenarioResult>,
    /// Wall time of the whole run, in milliseconds.
    pub duration_ms: u64,
    /// The run was stopped (SIGINT, SIGTERM) before every scenario had run: `scenarios` holds
    /// only those that settled, and the one in flight is left out.
    #[serde(default)]
    pub interrupted: bool,
    /// How the runner made sure no participant outlived its iteration.
    #[serde(default)]
    pub containment: Containment,
}

/// How the runner ends every process an iteration started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Containment {
    /// Each iteration's participants ran in a cgroup v2 of their own, ended with
    /// `cgroup.kill`: that also reaches descendants that left the participant's process
    /// group or session (`setsid`, daemons).
    Cgroup,
    /// Process groups (and the watchdog) only: a descendant that started a session of its
    /// own escapes them.
    ProcessGroups {
        /// Why no cgroup was used.
        why: NoCgroup,
    },
}

/// A report from before runs said how they were contained reads as process groups, which
/// every run used then.
impl Default for Containment {
    fn default() -> Self {
        Containment::ProcessGroups {
            why: NoCgroup::default(),
        }
    }
}

/// Why a run fell back to process groups.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoCgroup {
    /// Turned off: `LOCKCHECK_NO_CGROUP` is set, or the caller asked.
    Disabled,
    /// Not Linux, or no cgroup v2 hierarchy is mounted.
    #[default]
    Unavailable,
    /// cgroup v2 is mounted, but the runner may not create a cgroup in it, or the kernel has
    /// no `cgroup.kill` (Linux before 5.14).
    NotUsable {
        /// What failed.
        message: String,
    },
}
