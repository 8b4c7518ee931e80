//! Starting an adapter once to read its `hello`, before any scenario runs.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use lockcheck_protocol::{AdapterMessage, Hello, MAX_LINE_BYTES, PROTOCOL_VERSION};

use crate::adapter::{Adapter, Launch, Message, Output};
use crate::lockdir::LockDir;
use crate::spec::{AdapterSpec, RunOptions};
use crate::sys;

/// Why an adapter could not introduce itself.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The temp directory could not be created.
    #[error("cannot create a temporary lock directory: {0}")]
    TempDir(#[source] std::io::Error),
    /// The command could not be started.
    #[error("cannot start adapter `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Nothing arrived in time.
    #[error(
        "adapter `{command}` printed no hello within {waited:?}{}",
        tail(stderr)
    )]
    NoHello {
        /// The command line.
        command: String,
        /// How long the runner waited.
        waited: Duration,
        /// The last lines the adapter wrote to stderr.
        stderr: Vec<String>,
    },
    /// Output ended before a hello.
    #[error(
        "adapter `{command}` exited before saying hello ({status}){}",
        tail(stderr)
    )]
    Exited {
        /// The command line.
        command: String,
        /// How it ended: `exit status: 1`, `signal: 9 (SIGKILL)`, or that it had not yet.
        status: String,
        /// The last lines the adapter wrote to stderr: often the reason, as a traceback.
        stderr: Vec<String>,
    },
    /// The first line was longer than the protocol allows.
    #[error(
        "adapter `{command}` sent a first line of more than {limit} bytes, over the protocol's limit{}",
        tail(stderr)
    )]
    HelloTooLong {
        /// The command line.
        command: String,
        /// The limit, in bytes.
        limit: usize,
        /// The last lines the adapter wrote to stderr.
        stderr: Vec<String>,
    },
    /// The first line was not a valid hello.
    #[error("adapter `{command}` sent a bad hello: {message}: `{line}`")]
    BadHello {
        /// The command line.
        command: String,
        /// What was wrong.
        message: String,
        /// The line.
        line: String,
    },
}

/// Starts the adapter, reads its hello, and stops it again.
pub fn probe(spec: &AdapterSpec, opts: &RunOptions) -> Result<Hello, ProbeError> {
    let command = spec.command.join(" ");
    let dir = LockDir::new(opts.temp_root.as_deref(), "probe").map_err(ProbeError::TempDir)?;
    let cgroup = sys::Cgroup::create(opts.cgroups).map_err(|e| ProbeError::Spawn {
        command: command.clone(),
        source: std::io::Error::other(format!("cannot create its cgroup: {e}")),
    })?;
    let (tx, rx) = mpsc::channel();
    let launch = Launch {
        who: 0,
        participant: "probe",
        lock_path: dir.lock_path(),
        seed: opts.seed,
        own_pid_namespace: false,
        cgroup: cgroup.as_ref(),
        unset: &[],
    };
    let mut adapter = Adapter::spawn(spec, &launch, &tx).map_err(|source| ProbeError::Spawn {
        command: command.clone(),
        source,
    })?;
    // Only the reader threads hold senders now, so the channel closes when both have ended.
    drop(tx);
    let mut stderr = Tail::default();
    let deadline = Instant::now() + opts.hello_timeout;
    let result = loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait).map(|m| m.output) {
            Ok(Output::Stderr(line)) => stderr.push(line),
            Ok(Output::Line(line)) => break parse_hello(&command, &line),
            Ok(Output::TooLong(_)) => {
                break Err(ProbeError::HelloTooLong {
                    command,
                    limit: MAX_LINE_BYTES,
                    stderr: stderr.rest(&rx),
                });
            }
            Ok(Output::Eof | Output::Partial(_)) | Err(RecvTimeoutError::Disconnected) => {
                let lines = stderr.rest(&rx);
                break Err(ProbeError::Exited {
                    command,
                    status: exit_status(&mut adapter),
                    stderr: lines,
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                break Err(ProbeError::NoHello {
                    command,
                    waited: opts.hello_timeout,
                    stderr: stderr.lines.into(),
                });
            }
        }
    };
    adapter.kill_and_reap();
    result
}

/// How long an adapter that closed its stdout is given to exit, and its stderr to drain,
/// before the probe reports what it has.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Stderr lines an early-failure message shows: the last ones, where a traceback ends.
const TAIL_LINES: usize = 20;

/// The last [`TAIL_LINES`] stderr lines.
#[derive(Default)]
struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    fn push(&mut self, line: String) {
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// The tail once stderr has ended (or [`EXIT_GRACE`] has passed).
    fn rest(mut self, rx: &Receiver<Message>) -> Vec<String> {
        let deadline = Instant::now() + EXIT_GRACE;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait).map(|m| m.output) {
                Ok(Output::Stderr(line)) => self.push(line),
                Ok(_) => {}
                Err(_) => return self.lines.into(),
            }
        }
    }
}

/// The adapter's exit status as std prints it, once it has exited (within [`EXIT_GRACE`]).
fn exit_status(adapter: &mut Adapter) -> String {
    let deadline = Instant::now() + EXIT_GRACE;
    loop {
        match adapter.child.try_wait() {
            Ok(Some(status)) => return status.to_string(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => return "its stdout closed, but it was still running".to_owned(),
            Err(e) => return format!("exit status unknown: {e}"),
        }
    }
}

/// The stderr lines for a message: none, or an indented block after a colon.
fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return "; it wrote nothing to stderr".to_owned();
    }
    let mut text = String::from("; the end of its stderr:");
    for line in lines {
        text.push_str("\n    ");
        text.push_str(line);
    }
    text
}

pub(crate) fn parse_hello(command: &str, line: &str) -> Result<Hello, ProbeError> {
    read_hello(line).map_err(|message| ProbeError::BadHello {
        command: command.to_owned(),
        message,
        line: lockcheck_protocol::head(line, 200).to_owned(),
    })
}

/// An adapter's first line as a hello in this runner's protocol version, or what is wrong.
pub(crate) fn read_hello(line: &str) -> Result<Hello, String> {
    match lockcheck_protocol::parse_adapter_message(line)? {
        AdapterMessage::Hello(hello) if hello.protocol == PROTOCOL_VERSION => Ok(hello),
        AdapterMessage::Hello(hello) => Err(format!(
            "protocol version {} (this runner speaks {PROTOCOL_VERSION})",
            hello.protocol
        )),
        AdapterMessage::Response(_) => Err("the first line must be a hello".to_owned()),
    }
}
