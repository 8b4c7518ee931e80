//! What happened during one run of a scenario, as the runner saw it.

use lockcheck_protocol::{Hello, Request, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Everything the runner recorded during one iteration of one scenario, in order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct History {
    /// The seed the runner used (for replay).
    pub seed: u64,
    /// Which repetition of the scenario this is (0-based).
    pub iteration: u32,
    /// Events in the order the runner recorded them; `at_ns` never decreases.
    pub events: Vec<Event>,
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Runner's monotonic clock, nanoseconds since the iteration started.
    pub at_ns: u64,
    /// Index of the scenario step that caused it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    /// Round within a `race` step, or loop count within a `churn` step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A participant's process was started.
    Spawned {
        /// Participant name.
        participant: String,
        /// Its PID.
        pid: u32,
    },
    /// The participant's adapter said hello.
    Hello {
        /// Participant name.
        participant: String,
        /// The hello.
        hello: Hello,
    },
    /// The runner wrote a request. For timing, this is taken just before the write.
    Sent {
        /// Participant name.
        participant: String,
        /// The request.
        request: Request,
    },
    /// The runner read a response. For timing, this is taken just after the read.
    Received {
        /// Participant name.
        participant: String,
        /// The response.
        response: Response,
    },
    /// A fault was injected. For kill/term, `at_ns` is when the signal was sent.
    Fault {
        /// Target participant, for process faults.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
        /// The fault.
        fault: Fault,
    },
    /// A participant's process exited (observed by the runner).
    Exited {
        /// Participant name.
        participant: String,
        /// Exit code, if it exited normally.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        /// Signal number, if a signal ended it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
    },
    /// A line the adapter wrote to stderr.
    Stderr {
        /// Participant name.
        participant: String,
        /// The line, without its newline (truncated when huge).
        line: String,
    },
    /// Something the runner observed about the file system.
    Observed {
        /// The observation.
        observation: Observation,
    },
    /// The adapter or the harness misbehaved; the run stopped here.
    Broken {
        /// The participant at fault, if one is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<String>,
        /// What went wrong.
        reason: BrokenReason,
    },
}

/// An injected fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// SIGKILL / TerminateProcess.
    Kill,
    /// SIGSTOP / suspend.
    Stop,
    /// SIGCONT / resume.
    Cont,
    /// SIGTERM.
    Term,
    /// A lock file was planted.
    Plant {
        /// Description of the contents, e.g. `dead pid 4121`.
        detail: String,
    },
    /// The lock path was replaced by a symlink to the victim file.
    Symlink,
    /// The lock file was unlinked.
    Unlink,
    /// The lock directory's mode was changed.
    ChmodDir {
        /// New mode.
        mode: u32,
    },
    /// The lock directory was removed.
    RemoveDir,
}

/// A fact about the file system the runner checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// Whether the symlink victim still holds its original contents.
    Victim {
        /// True when unchanged.
        unchanged: bool,
        /// What changed, when something did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// What is at the lock path, without following a symlink.
    LockPath {
        /// `file`, `directory`, `symlink`, `other`, or `missing`.
        file_type: String,
        /// Permission bits (`st_mode & 0o7777`); absent when nothing is there, or on Windows.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<u32>,
    },
    /// Paths in the iteration's temp directory that the runner did not create, relative to
    /// it (directories end with `/`).
    Leftovers {
        /// The paths, sorted; empty when nothing was left behind.
        paths: Vec<String>,
    },
    /// The processes that had the lock file open, looked up just after an `acquire` the step
    /// expected to succeed was refused (Linux only: from `/proc/*/fd`).
    OpenBy {
        /// The processes, by pid; empty when none had it open any more.
        processes: Vec<OpenProcess>,
    },
    /// How the runner made sure a participant's background wait had begun before the next
    /// step: the kernel listed it as a blocked waiter on the lock file (`/proc/locks`, Linux),
    /// or, where nothing lists it (a lock that polls, or another platform), a fixed delay
    /// passed.
    Waiting {
        /// The participant whose acquire waits.
        participant: String,
        /// The pid `/proc/locks` listed as blocked on the lock file; `None` when none was
        /// listed and the runner waited the fixed delay instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blocked_pid: Option<u32>,
        /// How long the runner looked, in milliseconds.
        waited_ms: u64,
    },
}

/// A process that had the lock file open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OpenProcess {
    /// Its pid.
    pub pid: u32,
    /// Its command name (`/proc/PID/comm`), empty if it could not be read.
    pub command: String,
}

/// Why a run is `broken` rather than a verdict on the lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BrokenReason {
    /// The adapter could not be started.
    SpawnFailed {
        /// The OS error.
        message: String,
    },
    /// The first line was not a valid `hello`, or spoke another protocol version.
    BadHello {
        /// What was wrong.
        message: String,
        /// The line (truncated).
        line: String,
    },
    /// A stdout line was not a valid message.
    BadLine {
        /// Parse error.
        message: String,
        /// The line (truncated).
        line: String,
    },
    /// A response carried an id that no outstanding request had.
    UnexpectedId {
        /// The id received.
        id: u64,
    },
    /// A single line exceeded the size limit.
    LineTooLong {
        /// Bytes read before giving up.
        bytes: usize,
    },
    /// The adapter closed stdout or exited while a response was outstanding.
    EarlyExit {
        /// Exit code if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        /// Signal if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
    },
    /// The hello said `timed_start`, but a request with `after_us` was answered sooner than
    /// that after it was sent: the adapter did not wait.
    EarlyStart {
        /// The request's op.
        op: String,
        /// How long it said to wait, in microseconds.
        after_us: u64,
        /// How soon after sending it the answer came, in microseconds.
        answered_us: u64,
    },
    /// No answer within the step's deadline.
    Hang {
        /// The request that got no answer, as `op` name.
        op: String,
        /// How long the runner waited.
        waited_ms: u64,
    },
    /// An op the scenario relies on and the adapter declared answered `unsupported`.
    Unsupported {
        /// The op.
        op: String,
    },
    /// The adapter could not introduce itself before the run (no process, no hello, a bad
    /// one), so no scenario ran.
    Probe {
        /// What went wrong.
        message: String,
    },
    /// The harness itself failed (temp dir, fault injection, ...).
    Harness {
        /// What failed.
        message: String,
    },
}

impl std::fmt::Display for BrokenReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrokenReason::SpawnFailed { message } => {
                write!(f, "adapter could not be started: {message}")
            }
            BrokenReason::BadHello { message, line } => write!(
                f,
                "adapter's first line is not a valid hello: {message}: `{line}`"
            ),
            BrokenReason::BadLine { message, line } => write!(
                f,
                "adapter printed a line that is not protocol JSON: {message}: `{line}`"
            ),
            BrokenReason::UnexpectedId { id } => write!(
                f,
                "adapter answered id {id}, which no outstanding request has"
            ),
            BrokenReason::LineTooLong { bytes } => write!(
                f,
                "adapter printed a line longer than the limit ({bytes} bytes read)"
            ),
            BrokenReason::EarlyExit { code, signal } => {
                write!(f, "adapter exited while a response was outstanding")?;
                match (code, signal) {
                    (Some(code), _) => write!(f, " (exit code {code})"),
                    (None, Some(signal)) => write!(f, " (signal {signal})"),
                    (None, None) => Ok(()),
                }
            }
            BrokenReason::EarlyStart {
                op,
                after_us,
                answered_us,
            } => write!(
                f,
                "adapter answered `{op}` {answered_us} µs after it was sent, sooner than its \
                 after_us of {after_us} µs, though its hello says timed_start"
            ),
            BrokenReason::Hang { op, waited_ms } => {
                write!(f, "adapter did not answer `{op}` within {waited_ms} ms")
            }
            BrokenReason::Unsupported { op } => write!(
                f,
                "adapter answered `unsupported` to `{op}`, which the scenario relies on and \
                 its hello did not rule out"
            ),
            BrokenReason::Probe { message } => f.write_str(message),
            BrokenReason::Harness { message } => write!(f, "harness failed: {message}"),
        }
    }
}
