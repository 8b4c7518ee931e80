//! One adapter process: spawning it, writing requests, and reading its output robustly.
//!
//! Every participant gets two reader threads (stdout, stderr) that stamp each line with the
//! monotonic time it was read and forward it over one channel shared by all participants, so
//! the executor waits on a single receiver whatever the number of processes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Sender;
use std::thread;
use std::time::Instant;

use lockcheck_protocol::{
    ENV_LOCK_PATH, ENV_PARTICIPANT, ENV_PROTOCOL, ENV_SEED, MAX_LINE_BYTES, PROTOCOL_VERSION,
};

use crate::confine::Confine;
use crate::spec::AdapterSpec;
use crate::sys;
use crate::topology::{self, Keeper};

/// Stderr lines are cut to this many bytes for the history.
const MAX_STDERR_LINE: usize = 4096;
/// Stderr lines forwarded per participant; the rest is drained and dropped.
const MAX_STDERR_LINES: usize = 200;

/// Something a participant's process produced.
#[derive(Debug)]
pub(crate) enum Output {
    /// A complete stdout line, without its newline.
    Line(String),
    /// Stdout ended in the middle of a line.
    Partial(String),
    /// A stdout line longer than `MAX_LINE_BYTES`; reading stopped and the run is `broken`.
    TooLong(usize),
    /// Stdout reached end-of-file (or failed).
    Eof,
    /// A stderr line.
    Stderr(String),
}

/// Output of participant `who`, read at `at`.
#[derive(Debug)]
pub(crate) struct Message {
    pub who: usize,
    pub at: Instant,
    pub output: Output,
}

/// A running adapter process.
pub(crate) struct Adapter {
    pub child: Child,
    pub pid: u32,
    stdin: Option<ChildStdin>,
    /// Dropped only after the child, whose PID namespace's spawning thread it keeps.
    _keeper: Option<Keeper>,
}

/// Per-process settings for `spawn`.
pub(crate) struct Launch<'a> {
    pub who: usize,
    pub participant: &'a str,
    pub lock_path: &'a Path,
    pub seed: u64,
    /// Start it as PID 1 of a new PID namespace.
    pub own_pid_namespace: bool,
    /// The cgroup it joins before it execs, when cgroups are in force.
    pub cgroup: Option<&'a sys::Cgroup>,
    /// Variables not to pass on from the runner's environment (the spec's own `env` still
    /// sets them).
    pub unset: &'a [&'a str],
}

impl Adapter {
    /// Starts the adapter in its own process group with the protocol's environment.
    pub fn spawn(
        spec: &AdapterSpec,
        launch: &Launch<'_>,
        tx: &Sender<Message>,
    ) -> io::Result<Adapter> {
        Adapter::spawn_confined(spec, launch, Confine::default(), tx)
    }

    /// [`Adapter::spawn`], with the scenario's umask and user.
    pub fn spawn_confined(
        spec: &AdapterSpec,
        launch: &Launch<'_>,
        confine: Confine,
        tx: &Sender<Message>,
    ) -> io::Result<Adapter> {
        let (program, args) = spec
            .command
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty adapter command"))?;
        let mut cmd = Command::new(program);
        for name in launch.unset {
            cmd.env_remove(name);
        }
        cmd.args(args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .env(ENV_LOCK_PATH, launch.lock_path)
            .env(ENV_PARTICIPANT, launch.participant)
            .env(ENV_PROTOCOL, PROTOCOL_VERSION.to_string())
            .env(ENV_SEED, launch.seed.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // First, so that the process is in its cgroup before anything else can go wrong.
        if let Some(cgroup) = launch.cgroup {
            cgroup.enter_on_spawn(&mut cmd);
        }
        confine.apply(&mut cmd);
        sys::configure(&mut cmd);
        let (mut child, keeper) = topology::spawn(cmd, launch.own_pid_namespace)?;
        let pid = child.id();
        // Registered before anything else can fail, so the group is reaped even if the runner
        // dies right now.
        let guarded = sys::guard_group(pid);
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let stdin = child.stdin.take();
        let adapter = Adapter {
            child,
            pid,
            stdin,
            _keeper: keeper,
        };
        if let Err(e) = guarded {
            adapter.kill_and_reap();
            return Err(e);
        }
        let who = launch.who;
        let out_tx = tx.clone();
        thread::Builder::new()
            .name(format!("stdout-{}", launch.participant))
            .spawn(move || read_stdout(who, stdout, &out_tx))?;
        let err_tx = tx.clone();
        thread::Builder::new()
            .name(format!("stderr-{}", launch.participant))
            .spawn(move || read_stderr(who, stderr, &err_tx))?;
        Ok(adapter)
    }

    /// Writes one request line and flushes it.
    pub fn send_line(&mut self, line: &str) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "stdin already closed"))?;
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        stdin.write_all(&buf)?;
        stdin.flush()
    }

    /// Closes the adapter's stdin: the end of input.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// SIGKILLs the whole process group and reaps the leader. Never fails: cleanup must go on
    /// for the other participants whatever happens here.
    pub fn kill_and_reap(mut self) {
        drop(self.stdin.take());
        let _ = sys::kill_tree(self.pid);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = sys::forget_group(self.pid);
    }
}

fn read_stdout(who: usize, stdout: impl Read, tx: &Sender<Message>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut line = Vec::new();
    let send = |output| {
        tx.send(Message {
            who,
            at: Instant::now(),
            output,
        })
        .is_ok()
    };
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if buf.is_empty() {
            if !line.is_empty() {
                send(Output::Partial(String::from_utf8_lossy(&line).into_owned()));
            }
            break;
        }
        let (chunk, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if line.len() + chunk.len() > MAX_LINE_BYTES {
            send(Output::TooLong(line.len() + chunk.len()));
            return;
        }
        line.extend_from_slice(chunk);
        let used = complete.unwrap_or(chunk.len());
        reader.consume(used);
        if complete.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            line.clear();
            if !send(Output::Line(text)) {
                return;
            }
        }
    }
    send(Output::Eof);
}

fn read_stderr(who: usize, stderr: impl Read, tx: &Sender<Message>) {
    let mut reader = BufReader::new(stderr);
    let mut forwarded = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        // Reads at most a bounded chunk per line so a newline-free flood cannot grow memory.
        match (&mut reader)
            .take(MAX_STDERR_LINE as u64 * 4)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if forwarded >= MAX_STDERR_LINES {
            continue;
        }
        forwarded += 1;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        let mut text = String::from_utf8_lossy(&line).into_owned();
        if text.len() > MAX_STDERR_LINE {
            text.truncate(lockcheck_protocol::head(&text, MAX_STDERR_LINE).len());
            text.push_str(" [...]");
        }
        let message = Message {
            who,
            at: Instant::now(),
            output: Output::Stderr(text),
        };
        if tx.send(message).is_err() {
            return;
        }
    }
}
