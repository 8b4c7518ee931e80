//! Starting an adapter once to read its `hello`, before any scenario runs.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use lockcheck_protocol::{AdapterMessage, Hello, PROTOCOL_VERSION};

use crate::adapter::{Adapter, Launch, Output};
use crate::lockdir::LockDir;
use crate::spec::{AdapterSpec, RunOptions};

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
    #[error("adapter `{command}` printed no hello within {waited:?}")]
    NoHello {
        /// The command line.
        command: String,
        /// How long the runner waited.
        waited: Duration,
    },
    /// Output ended before a hello.
    #[error("adapter `{command}` exited before saying hello")]
    Exited {
        /// The command line.
        command: String,
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
    let (tx, rx) = mpsc::channel();
    let launch = Launch {
        who: 0,
        participant: "probe",
        lock_path: dir.lock_path(),
        seed: opts.seed,
        own_pid_namespace: false,
    };
    let adapter = Adapter::spawn(spec, &launch, &tx).map_err(|source| ProbeError::Spawn {
        command: command.clone(),
        source,
    })?;
    let deadline = Instant::now() + opts.hello_timeout;
    let result = loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait).map(|m| m.output) {
            Ok(Output::Stderr(_)) => continue,
            Ok(Output::Line(line)) => break parse_hello(&command, &line),
            Ok(Output::Eof | Output::Partial(_) | Output::TooLong(_))
            | Err(RecvTimeoutError::Disconnected) => {
                break Err(ProbeError::Exited { command });
            }
            Err(RecvTimeoutError::Timeout) => {
                break Err(ProbeError::NoHello {
                    command,
                    waited: opts.hello_timeout,
                });
            }
        }
    };
    adapter.kill_and_reap();
    result
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
