//! `lockcheck adapter`: reflock behind the adapter protocol. This is the built-in
//! implementation that `lockcheck run` tests when no `--impl` is given.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lockcheck_protocol::{
    AdapterMessage, Capability, ENV_LOCK_PATH, ErrorKind, Hello, HolderInfo, Implementation, Mode,
    Op, PROTOCOL_VERSION, Recovery, RequestError, Response, Status, Wait,
};
use reflock::{Access, LockFile, LockGuard};

/// Serves the protocol on stdin/stdout until `exit` or end of input.
pub fn serve() -> anyhow::Result<()> {
    let path = std::env::var_os(ENV_LOCK_PATH)
        .map(PathBuf::from)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{ENV_LOCK_PATH} is not set: `lockcheck adapter` is started by `lockcheck run`"
            )
        })?;
    let mut adapter = ReflockAdapter::new(path);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    write_message(&mut out, &AdapterMessage::Hello(hello()))?;
    for line in io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match adapter.handle(&line) {
            Ok((response, exit)) => {
                write_message(&mut out, &AdapterMessage::Response(response))?;
                if exit {
                    break;
                }
            }
            // Without a usable id there is nothing to answer; say so where a human looks.
            Err(e) => writeln!(
                io::stderr(),
                "lockcheck adapter: ignoring a bad request line: {e}"
            )?,
        }
    }
    adapter.shutdown();
    Ok(())
}

fn hello() -> Hello {
    Hello {
        protocol: PROTOCOL_VERSION,
        implementation: Implementation {
            name: "reflock".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            language: "rust".to_owned(),
        },
        capabilities: Capability::ALL.to_vec(),
        recovery: Recovery::Kernel,
    }
}

fn write_message(out: &mut impl Write, message: &AdapterMessage) -> io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

struct ReflockAdapter {
    lock: LockFile,
    primary: Option<LockGuard>,
    second: Option<LockGuard>,
    children: Vec<Child>,
    started: Instant,
}

impl ReflockAdapter {
    fn new(path: PathBuf) -> Self {
        ReflockAdapter {
            lock: LockFile::new(path),
            primary: None,
            second: None,
            children: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Answers one request line; the flag says whether to exit afterwards. A line without a
    /// usable id cannot be answered and comes back as the error.
    fn handle(&mut self, line: &str) -> Result<(Response, bool), RequestError> {
        let (mut response, exit) = match lockcheck_protocol::parse_request(line) {
            Ok(request) => {
                let exit = matches!(request.op, Op::Exit);
                (self.run(request.id, request.op), exit)
            }
            Err(e) => (e.to_response().ok_or(e)?, false),
        };
        response.t_ns = Some(self.started.elapsed().as_nanos() as u64);
        Ok((response, exit))
    }

    fn run(&mut self, id: u64, op: Op) -> Response {
        match op {
            Op::Acquire {
                mode,
                wait,
                timeout_ms,
            } => {
                if self.primary.is_some() {
                    return Response::error(
                        id,
                        ErrorKind::AlreadyHeldByThisProcess,
                        "this participant already holds the lock",
                    );
                }
                let wait = match (wait, timeout_ms) {
                    (Wait::Try, _) => reflock::Wait::Try,
                    (Wait::Block, _) => reflock::Wait::Block,
                    (Wait::Timeout, Some(ms)) => reflock::Wait::Timeout(Duration::from_millis(ms)),
                    (Wait::Timeout, None) => {
                        return Response::error(
                            id,
                            ErrorKind::BadRequest,
                            "wait `timeout` needs `timeout_ms`",
                        );
                    }
                };
                match self.lock.acquire(access(mode), wait) {
                    Ok(guard) => {
                        let token = guard.token();
                        self.primary = Some(guard);
                        Response {
                            token: Some(token),
                            ..Response::new(id, Status::Ok)
                        }
                    }
                    Err(e) => failure(id, &e),
                }
            }
            Op::Release => release(id, self.primary.take()),
            Op::ReleaseSecond => release(id, self.second.take()),
            Op::Holder => match self.lock.holder() {
                Ok(holder) => Response {
                    holder: holder.map(|h| HolderInfo {
                        pid: Some(h.pid()),
                        host: Some(h.host().to_owned()),
                        detail: Some(h.command().to_owned()),
                    }),
                    ..Response::new(id, Status::Ok)
                },
                Err(e) => failure(id, &e),
            },
            Op::SpawnChild => match spawn_child() {
                Ok(child) => {
                    let pid = child.id();
                    self.children.push(child);
                    Response {
                        child_pid: Some(pid),
                        ..Response::new(id, Status::Ok)
                    }
                }
                Err(e) => Response::error(id, ErrorKind::Io, format!("cannot start a child: {e}")),
            },
            Op::TouchFd => match std::fs::File::open(self.lock.path()) {
                Ok(file) => {
                    drop(file);
                    Response::new(id, Status::Ok)
                }
                Err(e) => Response::error(
                    id,
                    ErrorKind::Io,
                    format!("cannot open the lock path again: {e}"),
                ),
            },
            Op::SecondHandle { mode } => {
                if self.second.is_some() {
                    return Response::error(
                        id,
                        ErrorKind::AlreadyHeldByThisProcess,
                        "the second handle already holds the lock",
                    );
                }
                match LockFile::new(self.lock.path()).acquire(access(mode), reflock::Wait::Try) {
                    Ok(guard) => {
                        let token = guard.token();
                        self.second = Some(guard);
                        Response {
                            token: Some(token),
                            ..Response::new(id, Status::Ok)
                        }
                    }
                    Err(e) => failure(id, &e),
                }
            }
            Op::ThreadRace { threads, hold_ms } => {
                let winners = thread_race(
                    self.lock.path().to_owned(),
                    threads,
                    Duration::from_millis(hold_ms),
                );
                Response {
                    winners: Some(winners),
                    ..Response::new(id, Status::Ok)
                }
            }
            Op::Exit => Response::new(id, Status::Ok),
        }
    }

    fn shutdown(&mut self) {
        // Children started by `spawn_child` are the scenario's to judge; they are left running
        // and the runner reaps the process group.
        self.children.clear();
        if let Some(guard) = self.primary.take() {
            let _ = guard.release();
        }
        if let Some(guard) = self.second.take() {
            let _ = guard.release();
        }
    }
}

fn access(mode: Mode) -> Access {
    match mode {
        Mode::Exclusive => Access::Exclusive,
        Mode::Shared => Access::Shared,
    }
}

fn release(id: u64, guard: Option<LockGuard>) -> Response {
    match guard {
        Some(guard) => match guard.release() {
            Ok(()) => Response::new(id, Status::Ok),
            Err(e) => failure(id, &e),
        },
        None => Response::error(id, ErrorKind::NotHeld, "the lock is not held"),
    }
}

/// Maps a reflock error onto the protocol's outcomes.
fn failure(id: u64, error: &reflock::Error) -> Response {
    let kind = match error.kind() {
        reflock::ErrorKind::Contended => {
            return Response {
                message: Some(error.to_string()),
                ..Response::new(id, Status::Busy)
            };
        }
        reflock::ErrorKind::TimedOut => {
            return Response {
                message: Some(error.to_string()),
                ..Response::new(id, Status::Timeout)
            };
        }
        reflock::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        reflock::ErrorKind::MissingDirectory => ErrorKind::MissingDirectory,
        reflock::ErrorKind::NotRegularFile => ErrorKind::NotRegularFile,
        reflock::ErrorKind::Unsupported => ErrorKind::Unsupported,
        reflock::ErrorKind::HeldByThisProcess => ErrorKind::AlreadyHeldByThisProcess,
        _ => ErrorKind::Io,
    };
    Response::error(id, kind, error.to_string())
}

/// A long-lived child started the way an application would start one.
fn spawn_child() -> io::Result<Child> {
    let mut cmd = if cfg!(windows) {
        let mut cmd = Command::new("cmd");
        cmd.args(["/C", "ping -n 600 127.0.0.1 >NUL"]);
        cmd
    } else {
        let mut cmd = Command::new("sleep");
        cmd.arg("600");
        cmd
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// `threads` threads try the lock once each, released together from a barrier; once every
/// thread has its answer, the winners hold for `hold` and release. Returns how many won.
fn thread_race(path: PathBuf, threads: u32, hold: Duration) -> u32 {
    let start = Arc::new(Barrier::new(threads as usize));
    let answered = Arc::new(Barrier::new(threads as usize));
    let winners = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (start, answered, winners, path) = (
                start.clone(),
                answered.clone(),
                winners.clone(),
                path.clone(),
            );
            std::thread::spawn(move || {
                let lock = LockFile::new(path);
                start.wait();
                let guard = lock.try_exclusive().ok();
                if guard.is_some() {
                    winners.fetch_add(1, Ordering::SeqCst);
                }
                answered.wait();
                if let Some(guard) = guard {
                    std::thread::sleep(hold);
                    let _ = guard.release();
                }
            })
        })
        .collect();
    for handle in handles {
        let _ = handle.join();
    }
    winners.load(Ordering::SeqCst)
}
