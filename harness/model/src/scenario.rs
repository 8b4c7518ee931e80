//! A scenario: participants and the steps the runner drives them through.
//!
//! This is the validated form. The TOML reader produces it (with file:line:col errors), the
//! runner executes it, and the checker judges a history against it.

use lockcheck_protocol::{
    Capability, ErrorKind, Hello, Mode, Op, Recovery, Status, Vocabulary, Wait,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::topology::{LockDirSpec, Placement, Topology};

/// One conformance scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Stable id, e.g. `exclusive-basic`. Unique in the catalogue.
    pub id: String,
    /// The catalogue level the scenario belongs to.
    pub level: Level,
    /// What happens, in one or two sentences.
    pub description: String,
    /// The failure the scenario is designed to catch.
    pub catches: String,
    /// Capabilities the implementation must declare; otherwise the scenario is skipped.
    pub requires: Vec<Capability>,
    /// How many times the whole scenario runs, each time with fresh processes and lock dir.
    pub repeat: u32,
    /// Extra time allowed on top of a lease when waiting for recovery (`wait = "recovery"`).
    pub recovery_slack_ms: u64,
    /// The umask participants start with, when the scenario sets one (e.g. `0` so that the
    /// mode a lock file is created with is the implementation's own choice, not the umask's).
    pub umask: Option<u32>,
    /// Participants run as an unprivileged user when the runner is root, so that permission
    /// bits apply to them (root bypasses them). A runner that is not root runs them as itself.
    pub unprivileged: bool,
    /// What is mounted at the lock directory (`lock_dir = { fs = "tmpfs", ... }`).
    pub lock_dir: LockDirSpec,
    /// Participants; a group with `count > 1` has members `name.0`, `name.1`, ...
    pub participants: Vec<ParticipantGroup>,
    /// Steps, run in order.
    pub steps: Vec<Step>,
}

/// Catalogue levels, from the basics to file-system faults.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Exclusion, try, timeouts, races, churn.
    Core,
    /// Holders that die.
    Crash,
    /// Holders that are paused.
    Pause,
    /// Descriptors, children, handles and threads within a process.
    Process,
    /// Shared (reader) locks.
    Shared,
    /// File-system hazards: symlinks, modes, missing directories.
    Fs,
    /// Where locks really run: PID namespaces, bind mounts and symlinked directories, full
    /// and read-only file systems, overlayfs. Needs root on Linux; skipped elsewhere.
    Topology,
    /// Two "hosts" on one network file system, where flock may be local to each client. No
    /// flock-based lock can exclude there, so this level runs only when asked for
    /// (`--level network`). Needs root and FUSE on Linux; skipped elsewhere.
    Network,
}

lockcheck_protocol::vocabulary!(Level {
    Core => "core",
    Crash => "crash",
    Pause => "pause",
    Process => "process",
    Shared => "shared",
    Fs => "fs",
    Topology => "topology",
    Network => "network",
});

impl Level {
    /// Whether a run that names no level runs this one. The network level does not: every
    /// flock-based lock fails it by design, and it says which fail silently.
    pub fn in_default_run(self) -> bool {
        self != Level::Network
    }
}

/// A named participant, or a group of `count` identical ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantGroup {
    /// Name used in `who`; members of a group are `name.i`.
    pub name: String,
    /// Number of processes; 1 for a single participant.
    pub count: u32,
    /// Where its members run: PID namespace and path to the lock file.
    pub placement: Placement,
}

impl ParticipantGroup {
    /// The member names: `[name]` when `count == 1`, else `name.0 .. name.(count-1)`.
    pub fn members(&self) -> Vec<String> {
        if self.count == 1 {
            vec![self.name.clone()]
        } else {
            (0..self.count)
                .map(|i| format!("{}.{i}", self.name))
                .collect()
        }
    }
}

impl Scenario {
    /// Every member of every group, in declaration order.
    pub fn members(&self) -> Vec<String> {
        self.participants
            .iter()
            .flat_map(ParticipantGroup::members)
            .collect()
    }

    /// Where everything runs: the lock directory's mount and each group's placement.
    pub fn topology(&self) -> Topology {
        Topology {
            lock_dir: self.lock_dir,
            placements: self.participants.iter().map(|g| g.placement).collect(),
        }
    }

    /// Where member `name` runs; the default placement for a name that is no member.
    pub fn placement(&self, name: &str) -> Placement {
        self.participants
            .iter()
            .find(|g| g.members().iter().any(|m| m == name))
            .map(|g| g.placement)
            .unwrap_or_default()
    }

    /// The members `who` names: a group name gives all its members, a member name itself.
    pub fn resolve(&self, who: &str) -> Vec<String> {
        for group in &self.participants {
            if group.name == who {
                return group.members();
            }
            let members = group.members();
            if members.iter().any(|m| m == who) {
                return vec![who.to_owned()];
            }
        }
        Vec::new()
    }

    /// Why the scenario cannot run against the implementation that sent `hello`, or `None` if
    /// it can. The reason lists every missing capability by name.
    pub fn applicability(&self, hello: &Hello) -> Option<String> {
        let mut reasons = Vec::new();
        let missing: Vec<&str> = self
            .requires
            .iter()
            .filter(|c| !hello.capabilities.contains(c))
            .map(|c| c.as_str())
            .collect();
        if !missing.is_empty() {
            reasons.push(format!("missing capabilities: {}", missing.join(", ")));
        }
        let recovery_step = self
            .steps
            .iter()
            .enumerate()
            .find_map(|(i, s)| match s.action {
                Action::Acquire {
                    wait: wait @ (WaitSpec::Recovery | WaitSpec::MeasureRecovery { .. }),
                    ..
                }
                | Action::Race {
                    wait: wait @ WaitSpec::Recovery,
                    ..
                } => Some((i, s, wait)),
                _ => None,
            });
        if let Some((index, step, wait)) = recovery_step {
            if hello.recovery == Recovery::None {
                reasons.push(format!(
                    "the implementation declares no crash recovery (`recovery: none`), and step \
                     {} (line {}) waits for recovery",
                    index + 1,
                    step.line
                ));
            } else {
                let (wait, _) = wait.resolve(hello.recovery, 0);
                let needed = wait.capability();
                if !hello.capabilities.contains(&needed) && !self.requires.contains(&needed) {
                    reasons.push(format!(
                        "waiting for recovery needs the `{needed}` capability, which the \
                         implementation does not declare"
                    ));
                }
            }
        }
        if reasons.is_empty() {
            None
        } else {
            Some(reasons.join("; "))
        }
    }
}

/// One step. `who` names the participant or group the action applies to; file-system faults
/// have no `who`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// 1-based line of the step in its scenario file, for messages.
    pub line: u32,
    /// Participant or group name, if the action targets processes.
    pub who: Option<String>,
    /// What to do.
    pub action: Action,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Action {
    /// Send `acquire`. With a group, every member is sent the request at once.
    Acquire {
        /// Exclusive or shared.
        mode: Mode,
        /// How to wait.
        wait: WaitSpec,
        /// Acceptable outcomes.
        expect: Expect,
        /// Latency bounds from request sent to response received.
        bounds: Bounds,
        /// Do not wait for the answer now; a later `await` step collects it.
        background: bool,
    },
    /// Send `release` to the primary handle.
    Release {
        /// Acceptable outcomes.
        expect: Expect,
    },
    /// Collect the answer of a background `acquire` sent earlier to `who`.
    Await {
        /// Acceptable outcomes.
        expect: Expect,
        /// Bounds measured from the first request sent by the previous step.
        bounds: Bounds,
    },
    /// Ask who holds the lock; `holder_is` names the participant whose PID must be reported,
    /// or `None` for "nobody".
    Holder {
        /// Expected holder.
        holder_is: Option<String>,
    },
    /// Start a long-lived child process from the participant.
    SpawnChild,
    /// Open and close the lock path through another descriptor.
    TouchFd,
    /// Try the lock through a second handle in the same process.
    SecondHandle {
        /// Exclusive or shared.
        mode: Mode,
        /// Acceptable outcomes.
        expect: Expect,
    },
    /// Release the second handle's lock.
    ReleaseSecond,
    /// Threads of one process race for the lock; at most `max_winners` may win.
    ThreadRace {
        /// Racing threads.
        threads: u32,
        /// Hold time of each winner.
        hold_ms: u64,
        /// The most winners a correct lock allows (1 for exclusive).
        max_winners: u32,
    },
    /// Ask the adapter to exit cleanly.
    Exit,
    /// SIGKILL (Windows: TerminateProcess), then wait until the process has exited.
    Kill,
    /// SIGSTOP (Windows: suspend).
    Stop,
    /// SIGCONT (Windows: resume).
    Cont,
    /// SIGTERM, then wait until the process has exited.
    Term,
    /// Wait for `ms`, or `lease_factor` times the implementation's lease if that is longer.
    Sleep(SleepSpec),
    /// Write a lock file at the lock path as a dead or foreign holder would have left it.
    Plant {
        /// What the planted file contains.
        content: PlantKind,
    },
    /// Replace the lock path with a symlink to a victim file whose contents are checked later.
    Symlink,
    /// Unlink the lock file.
    Unlink,
    /// chmod the lock directory.
    ChmodDir {
        /// New permission bits.
        mode: u32,
    },
    /// Record whether the symlink victim still has its original contents.
    CheckVictim,
    /// Remove the (empty) lock directory, so the lock path's directory is missing.
    RemoveDir,
    /// Record the permission bits of whatever is at the lock path; none of `forbid` may be set.
    CheckMode {
        /// Bits that must be clear, e.g. `0o022` for "not group- or world-writable".
        forbid: u32,
    },
    /// Record every path in the iteration's temp directory that the runner did not create;
    /// there must be none.
    CheckLeftovers,
    /// Each member in turn is sent an exclusive `try` acquire and SIGKILLed at a seeded random
    /// moment while it may still be acquiring. The first members (up to 3) calibrate: they
    /// acquire fully before they are killed, and the median of their round trips scales the
    /// kill delays of the others.
    CrashAcquire {
        /// Kill delays cover `[0, window × round trip]`, one per equal slice, in random order.
        window: f64,
    },
    /// `rounds` times: every member of the group sends `acquire` at once; winners hold until
    /// everyone has answered, then release. Exactly one winner per round is expected.
    Race {
        /// Number of rounds.
        rounds: u32,
        /// How contenders wait (`try`, `timeout` or `recovery`; never `block`).
        wait: WaitSpec,
        /// Hold time of the winner after everyone answered, before it releases.
        hold_ms: u64,
        /// Each contender's request is sent after its own seeded random delay in
        /// `[0, jitter_us]` µs, so that contenders are caught at different points of their
        /// acquire rather than in lockstep.
        jitter_us: u64,
        /// What the winners do once everyone has answered.
        end: RaceEnd,
    },
    /// Every member loops acquire (blocking) / hold / release until `duration_ms` has passed.
    Churn {
        /// How long the churn lasts.
        duration_ms: u64,
        /// Hold time per acquisition, in microseconds.
        hold_us: u64,
        /// Exclusive or shared.
        mode: Mode,
    },
}

impl Action {
    /// The requests the runner sends for this step, with a recovery wait resolved for an
    /// implementation that recovers as `recovery`. Signals, faults and observations send none.
    pub fn requests(&self, recovery: Recovery, slack_ms: u64) -> Vec<Op> {
        let acquire = |mode, wait: WaitSpec| {
            let (wait, timeout_ms) = wait.resolve(recovery, slack_ms);
            Op::Acquire {
                mode,
                wait,
                timeout_ms,
            }
        };
        match self {
            Action::Acquire { mode, wait, .. } => vec![acquire(*mode, *wait)],
            Action::Release { .. } => vec![Op::Release],
            Action::Holder { .. } => vec![Op::Holder],
            Action::SpawnChild => vec![Op::SpawnChild],
            Action::TouchFd => vec![Op::TouchFd],
            Action::SecondHandle { mode, .. } => vec![Op::SecondHandle { mode: *mode }],
            Action::ReleaseSecond => vec![Op::ReleaseSecond],
            Action::ThreadRace {
                threads, hold_ms, ..
            } => vec![Op::ThreadRace {
                threads: *threads,
                hold_ms: *hold_ms,
            }],
            Action::Exit => vec![Op::Exit],
            Action::CrashAcquire { .. } => vec![acquire(Mode::Exclusive, WaitSpec::Try)],
            Action::Race { wait, end, .. } => {
                let mut ops = vec![acquire(Mode::Exclusive, *wait)];
                if *end == RaceEnd::Release {
                    ops.push(Op::Release);
                }
                ops
            }
            Action::Churn { mode, .. } => vec![acquire(*mode, WaitSpec::Block), Op::Release],
            Action::Await { .. }
            | Action::Kill
            | Action::Stop
            | Action::Cont
            | Action::Term
            | Action::Sleep(_)
            | Action::Plant { .. }
            | Action::Symlink
            | Action::Unlink
            | Action::ChmodDir { .. }
            | Action::CheckVictim
            | Action::RemoveDir
            | Action::CheckMode { .. }
            | Action::CheckLeftovers => Vec::new(),
        }
    }

    /// The capabilities this step's requests need, by the protocol's rule for each op
    /// ([`Op::capabilities`]). A recovery wait resolves per implementation, so only what every
    /// resolution needs is listed; [`Scenario::applicability`] checks the rest.
    pub fn needed_capabilities(&self) -> Vec<Capability> {
        let needs = |recovery| {
            let mut caps: Vec<Capability> = Vec::new();
            for cap in self.requests(recovery, 0).iter().flat_map(Op::capabilities) {
                if !caps.contains(&cap) {
                    caps.push(cap);
                }
            }
            caps
        };
        let with_lease = needs(Recovery::Lease { ms: 0 });
        needs(Recovery::Kernel)
            .into_iter()
            .filter(|cap| with_lease.contains(cap))
            .collect()
    }
}

/// A pause: `ms`, or `lease_factor` times the implementation's declared lease, or
/// `recovery_factor` times the recovery measured earlier in the iteration, whichever is
/// longest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SleepSpec {
    /// Minimum pause.
    pub ms: u64,
    /// Multiple of the declared lease to wait at least, for lease-based locks.
    pub lease_factor: Option<f64>,
    /// Multiple of the measured recovery (a `measure_recovery` wait's) to wait at least.
    pub recovery_factor: Option<f64>,
}

impl SleepSpec {
    /// How long the pause lasts for an implementation that declares `recovery` and, if the
    /// iteration measured it, really took `measured_ms` to recover.
    pub fn ms_for(self, recovery: Recovery, measured_ms: Option<u64>) -> u64 {
        let declared = match recovery {
            Recovery::Lease { ms } => scale(self.lease_factor, ms),
            Recovery::Kernel | Recovery::StalePid | Recovery::None => 0,
        };
        let measured = measured_ms.map_or(0, |ms| scale(self.recovery_factor, ms));
        self.ms.max(declared).max(measured)
    }
}

/// `factor` times `ms`, rounded up; 0 without a factor. Float to integer casts saturate,
/// which is what a huge factor should do.
fn scale(factor: Option<f64>, ms: u64) -> u64 {
    let Some(factor) = factor else { return 0 };
    let scaled = (factor * ms as f64).ceil();
    if scaled.is_finite() && scaled > 0.0 {
        scaled as u64
    } else {
        0
    }
}

/// How the winners of a race round leave the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RaceEnd {
    /// They release it; every member races again in the next round.
    Release,
    /// They are SIGKILLed, leaving a stale lock for the remaining members to race for.
    Kill,
}

lockcheck_protocol::vocabulary!(RaceEnd {
    Release => "release",
    Kill => "kill",
});

/// How an `acquire` waits, as written in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitSpec {
    /// `wait = "try"`.
    Try,
    /// `wait = "block"`.
    Block,
    /// `wait = "timeout"` with `timeout_ms`.
    Timeout {
        /// The timeout.
        ms: u64,
    },
    /// Wait as long as the implementation's declared recovery needs: `try` for kernel and
    /// stale-PID recovery, `timeout` of lease + slack for leases.
    Recovery,
    /// `wait = "measure_recovery"`: wait for a crashed holder's lock however long the
    /// implementation really takes to recover, up to `ms` (or twice a declared lease plus the
    /// slack, if longer); the answer's time, from the last kill, is the measured recovery
    /// ([`crate::measured_recovery`]).
    MeasureRecovery {
        /// The longest wait for an implementation that declares no lease.
        ms: u64,
    },
}

impl WaitSpec {
    /// The wire `wait` (and `timeout_ms`): `recovery` becomes `try` for kernel and stale-PID
    /// recovery (the lock must be free at once), and a timeout of the lease plus `slack_ms`
    /// for leases.
    pub fn resolve(self, recovery: Recovery, slack_ms: u64) -> (Wait, Option<u64>) {
        match self {
            WaitSpec::Try => (Wait::Try, None),
            WaitSpec::Block => (Wait::Block, None),
            WaitSpec::Timeout { ms } => (Wait::Timeout, Some(ms)),
            WaitSpec::Recovery => match recovery {
                Recovery::Kernel | Recovery::StalePid | Recovery::None => (Wait::Try, None),
                Recovery::Lease { ms } => (Wait::Timeout, Some(ms.saturating_add(slack_ms))),
            },
            WaitSpec::MeasureRecovery { ms } => {
                let lease = match recovery {
                    Recovery::Lease { ms: lease } => {
                        lease.saturating_mul(2).saturating_add(slack_ms)
                    }
                    Recovery::Kernel | Recovery::StalePid | Recovery::None => 0,
                };
                (Wait::Timeout, Some(ms.max(lease)))
            }
        }
    }
}

/// Latency bounds on one request, from request sent to response received (runner clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Bounds {
    /// The answer must not come sooner (e.g. a timeout must not fire early).
    pub min_ms: Option<u64>,
    /// The answer must come within this.
    pub within_ms: Option<u64>,
}

/// The outcomes a step accepts. Empty means anything is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Expect(pub Vec<Outcome>);

impl Expect {
    /// Accept exactly one outcome.
    pub fn one(outcome: Outcome) -> Self {
        Expect(vec![outcome])
    }

    /// Whether a response with this status and error kind is acceptable.
    pub fn accepts(&self, status: Status, kind: Option<ErrorKind>) -> bool {
        self.0.is_empty() || self.0.iter().any(|o| o.matches(status, kind))
    }
}

/// One acceptable outcome, written `ok`, `busy`, `timeout`, `unsupported`, `error` or
/// `error:<kind>` in scenario files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// `ok`.
    Ok,
    /// `busy`.
    Busy,
    /// `timeout`.
    Timeout,
    /// `unsupported`.
    Unsupported,
    /// `error`, optionally of one kind.
    Error(Option<ErrorKind>),
}

impl Outcome {
    /// Every name scenario files may write, in the order messages list them.
    pub const NAMES: [&'static str; 6] = [
        "ok",
        "busy",
        "timeout",
        "unsupported",
        "error",
        "error:<kind>",
    ];

    /// The outcome named `text` (`ok`, ..., `error:not_held`). The error is `Some(kind)` for
    /// an `error:` whose kind is unknown, `None` for a name that is no outcome at all.
    pub fn from_name(text: &str) -> Result<Outcome, Option<&str>> {
        if let Some(kind) = text.strip_prefix("error:") {
            return ErrorKind::from_name(kind)
                .map(|kind| Outcome::Error(Some(kind)))
                .ok_or(Some(kind));
        }
        match Status::from_name(text).ok_or(None)? {
            Status::Ok => Ok(Outcome::Ok),
            Status::Busy => Ok(Outcome::Busy),
            Status::Timeout => Ok(Outcome::Timeout),
            Status::Unsupported => Ok(Outcome::Unsupported),
            Status::Error => Ok(Outcome::Error(None)),
        }
    }

    /// The status a response with this outcome has.
    pub fn status(self) -> Status {
        match self {
            Outcome::Ok => Status::Ok,
            Outcome::Busy => Status::Busy,
            Outcome::Timeout => Status::Timeout,
            Outcome::Unsupported => Status::Unsupported,
            Outcome::Error(_) => Status::Error,
        }
    }

    /// Whether a response matches.
    pub fn matches(self, status: Status, kind: Option<ErrorKind>) -> bool {
        status == self.status()
            && match self {
                Outcome::Error(Some(k)) => kind == Some(k),
                _ => true,
            }
    }
}

/// The name scenario files write: a status name, with `:kind` for an error of one kind.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.status().as_str())?;
        match self {
            Outcome::Error(Some(kind)) => write!(f, ":{kind}"),
            _ => Ok(()),
        }
    }
}

/// Contents of a planted lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlantKind {
    /// The decimal PID of a process that has exited, then a newline.
    DeadPid,
    /// The decimal PID of a live process that has nothing to do with the lock.
    LivePid,
    /// An empty file.
    Empty,
    /// Random bytes.
    Garbage,
    /// The PID of a dead process, with an mtime an hour in the past.
    OldMtime,
}

lockcheck_protocol::vocabulary!(PlantKind {
    DeadPid => "dead_pid",
    LivePid => "live_pid",
    Empty => "empty",
    Garbage => "garbage",
    OldMtime => "old_mtime",
});
