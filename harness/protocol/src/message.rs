//! Requests (runner to adapter) and messages (adapter to runner).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Capability, Recovery};

/// One line the runner writes to the adapter's stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// Chosen by the runner, unique within one adapter process; echoed in the response.
    pub id: u64,
    /// What to do.
    #[serde(flatten)]
    pub op: Op,
    /// Carry the request out this many microseconds after reading it, not at once. Sent with
    /// every `bench` request, and with a race's tries to adapters whose hello says
    /// `timed_start`: each racer or contender then starts from its own timer at the instant
    /// the runner chose for it, however fast the runner itself can write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_us: Option<u64>,
}

impl Request {
    /// A request to be carried out at once.
    pub fn new(id: u64, op: Op) -> Request {
        Request {
            id,
            op,
            after_us: None,
        }
    }
}

/// The operations of protocol v1. An adapter answers an op it does not know with
/// `unsupported`; it never exits because of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Take the lock through the participant's primary handle.
    Acquire {
        /// Exclusive or shared.
        mode: Mode,
        /// How long to wait when the lock is held.
        wait: Wait,
        /// Required when `wait` is `timeout`: how long to wait, in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Release the primary handle's lock. Releasing a lock that is not held answers `ok` or
    /// `error` with kind `not_held`, but never crashes.
    Release,
    /// Report who holds the lock, per the implementation's own diagnostics.
    Holder,
    /// Start a long-lived child process (e.g. `sleep 600`) the way the implementation's users
    /// would start one while holding the lock. Answers `ok` with `child_pid`.
    SpawnChild,
    /// Open the lock path through another descriptor and close it again, while holding.
    TouchFd,
    /// Try to acquire through a second, independent handle in the same process (`wait` is
    /// always `try`). `ok` means the second handle also holds the lock.
    SecondHandle {
        /// Exclusive or shared.
        mode: Mode,
    },
    /// Release the second handle's lock, if it holds one.
    ReleaseSecond,
    /// `threads` threads of this process each try the lock once (exclusive, `try`), released
    /// together from a barrier. Only after every thread has had its answer do the winners hold
    /// for `hold_ms` and release. Answers `ok` with `winners`: how many threads' tries
    /// succeeded (a correct exclusive lock gives exactly 1).
    ThreadRace {
        /// Number of racing threads.
        threads: u32,
        /// How long each winner holds before releasing.
        hold_ms: u64,
    },
    /// Run the benchmark loop: from the request's start (its `after_us`) for `duration_ms`,
    /// acquire (exclusive, blocking), hold for `hold_us`, release, again and again, at most
    /// `max_acquisitions` times; then write one sample per acquisition to the file
    /// `samples` and answer `ok` with `acquisitions` (and `cpu_ns` if known). The loop never
    /// goes through the runner: a pipe round trip per acquisition would swamp a fast lock.
    Bench {
        /// How long each acquisition holds, in microseconds (0: release at once).
        hold_us: u64,
        /// How long the loop runs, in milliseconds: no acquisition is requested after it.
        duration_ms: u64,
        /// The loop stops after this many acquisitions even if time is left.
        max_acquisitions: u64,
        /// Absolute path of the samples file to write; its directory exists, the file does
        /// not.
        samples: String,
    },
    /// Answer `ok`, then exit with status 0 without releasing anything explicitly.
    Exit,
}

impl Op {
    /// The wire name of every op of protocol v1, in declaration order.
    pub const NAMES: [&'static str; 10] = [
        "acquire",
        "release",
        "holder",
        "spawn_child",
        "touch_fd",
        "second_handle",
        "release_second",
        "thread_race",
        "bench",
        "exit",
    ];

    /// The wire name, e.g. `spawn_child`.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Acquire { .. } => "acquire",
            Op::Release => "release",
            Op::Holder => "holder",
            Op::SpawnChild => "spawn_child",
            Op::TouchFd => "touch_fd",
            Op::SecondHandle { .. } => "second_handle",
            Op::ReleaseSecond => "release_second",
            Op::ThreadRace { .. } => "thread_race",
            Op::Bench { .. } => "bench",
            Op::Exit => "exit",
        }
    }

    /// The capabilities an adapter must declare for this op to be sent to it. `release` and
    /// `exit` need none: every adapter supports them.
    pub fn capabilities(&self) -> Vec<Capability> {
        match self {
            Op::Acquire { mode, wait, .. } => vec![mode.capability(), wait.capability()],
            Op::Release | Op::Exit => Vec::new(),
            Op::Holder => vec![Capability::HolderInfo],
            Op::SpawnChild => vec![Capability::SpawnChild],
            Op::TouchFd => vec![Capability::TouchFd],
            Op::SecondHandle { mode } => vec![Capability::SecondHandle, mode.capability()],
            Op::ReleaseSecond => vec![Capability::SecondHandle],
            Op::ThreadRace { .. } => vec![Capability::Threads, Capability::Exclusive],
            Op::Bench { .. } => vec![Capability::Bench, Capability::Exclusive, Capability::Block],
        }
    }
}

/// Lock mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One holder at a time.
    Exclusive,
    /// Many shared holders at a time, never together with an exclusive one.
    Shared,
}

crate::vocabulary!(Mode {
    Exclusive => "exclusive",
    Shared => "shared",
});

impl Mode {
    /// The capability that declares support for this mode.
    pub fn capability(self) -> Capability {
        match self {
            Mode::Exclusive => Capability::Exclusive,
            Mode::Shared => Capability::Shared,
        }
    }
}

/// How an `acquire` waits for a held lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// Do not wait: answer `busy`.
    Try,
    /// Wait for as long as it takes.
    Block,
    /// Wait at most `timeout_ms`, then answer `timeout`.
    Timeout,
}

crate::vocabulary!(Wait {
    Try => "try",
    Block => "block",
    Timeout => "timeout",
});

impl Wait {
    /// The capability that declares support for this way of waiting.
    pub fn capability(self) -> Capability {
        match self {
            Wait::Try => Capability::Try,
            Wait::Block => Capability::Block,
            Wait::Timeout => Capability::Timeout,
        }
    }
}

/// Any line the adapter writes to stdout: first a `hello`, then one `response` per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AdapterMessage {
    /// The first line, written before reading any request.
    Hello(Hello),
    /// The answer to one request.
    Response(Response),
}

/// The adapter introduces itself and declares its capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hello {
    /// Protocol version the adapter speaks; must be 1.
    pub protocol: u32,
    /// What is under test.
    pub implementation: Implementation,
    /// Everything the adapter supports; scenarios needing anything else are skipped.
    pub capabilities: Vec<Capability>,
    /// How a crashed holder's lock is recovered.
    pub recovery: Recovery,
    /// The adapter honours requests' `after_us`. Without it the runner times a race's tries
    /// by when it writes them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timed_start: bool,
}

impl Hello {
    /// Whether the adapter declared `capability`.
    pub fn supports(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }
}

/// Name and version of the lock implementation behind an adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Implementation {
    /// For example `filelock` or `reflock`.
    pub name: String,
    /// The implementation's own version, e.g. `3.16.1`.
    pub version: String,
    /// For example `python`, `rust`, `node`, `shell`.
    pub language: String,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Response {
    /// The request's id.
    pub id: u64,
    /// The outcome.
    pub status: Status,
    /// With `status: error`: the error's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
    /// Free text: the error message, or anything else worth showing in a report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Answer to `holder`: who holds the lock, or absent when nobody does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderInfo>,
    /// Answer to `spawn_child`: the child's PID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_pid: Option<u32>,
    /// Answer to `thread_race`: how many threads' tries succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winners: Option<u32>,
    /// Answer to `bench`: how many acquisitions the loop made (lines in the samples file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisitions: Option<u64>,
    /// Answer to `bench`: the process's user + system CPU time spent in the loop, in
    /// nanoseconds, where the adapter can read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns: Option<u64>,
    /// The fencing token of a successful acquire, if the implementation has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u64>,
    /// The adapter's own monotonic clock in nanoseconds (any origin), when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_ns: Option<u64>,
}

impl Response {
    /// A response with only `id` and `status` set.
    pub fn new(id: u64, status: Status) -> Self {
        Response {
            id,
            status,
            kind: None,
            message: None,
            holder: None,
            child_pid: None,
            winners: None,
            acquisitions: None,
            cpu_ns: None,
            token: None,
            t_ns: None,
        }
    }

    /// An `error` response.
    pub fn error(id: u64, kind: ErrorKind, message: impl Into<String>) -> Self {
        Response {
            kind: Some(kind),
            message: Some(message.into()),
            ..Response::new(id, Status::Error)
        }
    }
}

/// Outcome of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Done; for `acquire`, the lock is now held.
    Ok,
    /// `acquire` with `wait: try` found the lock held.
    Busy,
    /// `acquire` with `wait: timeout` gave up.
    Timeout,
    /// The operation failed; see `kind` and `message`.
    Error,
    /// The adapter does not support this op.
    Unsupported,
}

crate::vocabulary!(Status {
    Ok => "ok",
    Busy => "busy",
    Timeout => "timeout",
    Error => "error",
    Unsupported => "unsupported",
});

/// Why an operation failed. Adapters map their implementation's errors onto these; anything
/// that fits none of them is `io` or `other`, with the details in `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The lock file or its directory is not accessible (EACCES, EPERM).
    PermissionDenied,
    /// The lock file's directory does not exist.
    MissingDirectory,
    /// The lock path is a symlink, reparse point or other non-regular file, and was refused.
    NotRegularFile,
    /// The file system does not support locking.
    Unsupported,
    /// The same process already holds this lock through another handle.
    AlreadyHeldByThisProcess,
    /// `release` when the lock was not held.
    NotHeld,
    /// The request was malformed (bad JSON, missing field, wrong type).
    BadRequest,
    /// Another I/O error.
    Io,
    /// Anything else.
    Other,
}

crate::vocabulary!(ErrorKind {
    PermissionDenied => "permission_denied",
    MissingDirectory => "missing_directory",
    NotRegularFile => "not_regular_file",
    Unsupported => "unsupported",
    AlreadyHeldByThisProcess => "already_held_by_this_process",
    NotHeld => "not_held",
    BadRequest => "bad_request",
    Io => "io",
    Other => "other",
});

/// Who holds the lock, as far as the implementation can tell.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct HolderInfo {
    /// The holder's process id, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Host name, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Anything else the implementation records, as free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
