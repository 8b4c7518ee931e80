//! One adapter process's state, and the answer to each op: what is held, by which handle,
//! and the children it started.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use lockcheck_protocol::{ErrorKind, Hello, Op, Response, Status};

use crate::{Lock, Outcome, Wait, bench, ops};

/// The state one adapter process keeps between requests.
pub struct Session {
    hello: Hello,
    path: PathBuf,
    primary: Box<dyn Lock>,
    /// Whether `primary` holds the lock.
    held: bool,
    /// The second handle, kept only while it holds the lock.
    second: Option<Box<dyn Lock>>,
    /// Started by `spawn_child`; left running, for the runner to judge and reap.
    children: Vec<Child>,
    /// The origin of every response's `t_ns`.
    started: Instant,
}

impl Session {
    /// A session that introduces itself with `hello` and serves `primary`, a lock object on
    /// `path` (which `touch_fd` opens). The hello is made to say `timed_start`, since
    /// [`serve`](crate::serve) honours `after_us`.
    pub fn new(mut hello: Hello, path: impl Into<PathBuf>, primary: Box<dyn Lock>) -> Session {
        hello.timed_start = true;
        Session {
            hello,
            path: path.into(),
            primary,
            held: false,
            second: None,
            children: Vec::new(),
            started: Instant::now(),
        }
    }

    /// The `hello` this session writes first.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// Releases whatever the primary and second handles still hold, ignoring errors: for
    /// adapters that release explicitly on the way out rather than leave it to process exit.
    pub fn release_all(&mut self) {
        if std::mem::take(&mut self.held) {
            let _ = self.primary.release();
        }
        if let Some(mut second) = self.second.take() {
            let _ = second.release();
        }
    }

    /// Nanoseconds since the session started, for `t_ns`.
    pub(crate) fn elapsed_ns(&self) -> u64 {
        self.started.elapsed().as_nanos() as u64
    }

    /// Answers one parsed request (without `t_ns`).
    pub(crate) fn run(&mut self, id: u64, op: Op) -> Response {
        // An op whose capability was not declared is not sent by the runner; answer it all the
        // same rather than reach lock code that does not implement it.
        if op.capabilities().iter().any(|c| !self.hello.supports(*c)) {
            return Response {
                message: Some(format!(
                    "`{}` does not implement `{}`",
                    self.hello.implementation.name,
                    op.name()
                )),
                ..Response::new(id, Status::Unsupported)
            };
        }
        match op {
            Op::Acquire {
                mode,
                wait,
                timeout_ms,
            } => {
                if self.held {
                    return already_held(id);
                }
                let wait = match (wait, timeout_ms) {
                    (lockcheck_protocol::Wait::Try, _) => Wait::Try,
                    (lockcheck_protocol::Wait::Block, _) => Wait::Block,
                    (lockcheck_protocol::Wait::Timeout, Some(ms)) => {
                        Wait::Timeout(Duration::from_millis(ms))
                    }
                    // `parse_request` refuses this already; kept so that no path panics.
                    (lockcheck_protocol::Wait::Timeout, None) => {
                        return Response::error(
                            id,
                            ErrorKind::BadRequest,
                            "wait `timeout` needs `timeout_ms`",
                        );
                    }
                };
                let outcome = self.primary.acquire(mode, wait);
                self.held = outcome == Outcome::Ok;
                acquired(id, outcome, self.primary.as_ref())
            }
            // A release when not held still reaches the implementation, as a user's stray
            // release would: a lock that removes whatever is at the path on every release is
            // only caught that way. Its answer (`ok`, or `error`/`not_held`) is the lock's own.
            Op::Release => {
                self.held = false;
                answer(id, self.primary.release())
            }
            Op::Holder => match self.primary.holder() {
                Ok(holder) => Response {
                    holder,
                    ..Response::new(id, Status::Ok)
                },
                Err(outcome) => answer(id, outcome),
            },
            Op::SpawnChild => match ops::spawn_child() {
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
            Op::TouchFd => match ops::touch(&self.path) {
                Ok(()) => Response::new(id, Status::Ok),
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
                let mut second = self.primary.fresh();
                let outcome = second.acquire(mode, Wait::Try);
                let response = acquired(id, outcome, second.as_ref());
                if response.status == Status::Ok {
                    self.second = Some(second);
                }
                response
            }
            Op::ReleaseSecond => match self.second.take() {
                Some(mut second) => answer(id, second.release()),
                None => Response::error(
                    id,
                    ErrorKind::NotHeld,
                    "the second handle does not hold the lock",
                ),
            },
            Op::ThreadRace { threads, hold_ms } => Response {
                winners: Some(ops::thread_race(
                    self.primary.as_ref(),
                    threads,
                    Duration::from_millis(hold_ms),
                )),
                ..Response::new(id, Status::Ok)
            },
            Op::Bench {
                hold_us,
                duration_ms,
                max_acquisitions,
                samples,
            } => {
                if self.held {
                    return already_held(id);
                }
                let plan = bench::Plan {
                    hold: Duration::from_micros(hold_us),
                    duration: Duration::from_millis(duration_ms),
                    max_acquisitions,
                };
                match bench::run(self.primary.as_mut(), plan, samples.as_ref()) {
                    Ok(Ok(done)) => Response {
                        acquisitions: Some(done.acquisitions),
                        cpu_ns: done.cpu_ns,
                        ..Response::new(id, Status::Ok)
                    },
                    Ok(Err(outcome)) => answer(id, outcome),
                    Err(e) => Response::error(
                        id,
                        ErrorKind::Io,
                        format!("cannot write the samples file {samples}: {e}"),
                    ),
                }
            }
            Op::Exit => Response::new(id, Status::Ok),
        }
    }
}

/// The answer to an op that takes the lock while the primary handle already holds it.
fn already_held(id: u64) -> Response {
    Response::error(
        id,
        ErrorKind::AlreadyHeldByThisProcess,
        "this participant already holds the lock",
    )
}

/// The answer to an acquisition: with the fencing token when `lock` now holds the lock.
fn acquired(id: u64, outcome: Outcome, lock: &dyn Lock) -> Response {
    let ok = outcome == Outcome::Ok;
    let mut response = answer(id, outcome);
    if ok {
        response.token = lock.token();
    }
    response
}

fn answer(id: u64, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Ok => Response::new(id, Status::Ok),
        Outcome::Busy(message) => Response {
            message,
            ..Response::new(id, Status::Busy)
        },
        Outcome::TimedOut(message) => Response {
            message,
            ..Response::new(id, Status::Timeout)
        },
        Outcome::Failed(kind, message) => Response::error(id, kind, message),
    }
}
