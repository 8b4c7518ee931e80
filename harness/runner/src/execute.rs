//! Runs one iteration of a scenario: starts the participants, drives them step by step,
//! injects faults, and records everything into a history. It judges nothing; the model's
//! checker does that afterwards.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use lockcheck_model::{
    Action, BrokenReason, Event, EventKind, Fault, History, Observation, RaceEnd, Scenario, Step,
};
use lockcheck_protocol::{
    AdapterMessage, Hello, Mode, Op, Recovery, Request, Response, Status, Wait,
};

use crate::adapter::{Adapter, Launch, Message, Output};
use crate::confine::Confine;
use crate::lockdir::LockDir;
use crate::spec::{AdapterSpec, RunOptions};
use crate::sys::{self, Sig};

/// Lines quoted in a `broken` reason are cut to this length.
const QUOTE: usize = 200;
/// How long a SIGTERMed participant gets to exit before it is SIGKILLed.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// A misbehaving adapter or harness: the iteration stops and the verdict is `broken`.
struct Broken {
    participant: Option<String>,
    reason: BrokenReason,
}

type StepResult = Result<(), Broken>;

fn harness(message: impl Into<String>) -> Broken {
    Broken {
        participant: None,
        reason: BrokenReason::Harness {
            message: message.into(),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Stopped,
    /// Killed, terminated or exited on request: its end-of-output is expected.
    Gone,
}

struct Pending {
    id: u64,
    op: &'static str,
    step: u32,
    round: Option<u32>,
    /// For a request with `after_us`: when it was sent, and how long it said to wait.
    timed: Option<(u64, u64)>,
}

struct Participant {
    name: String,
    adapter: Option<Adapter>,
    state: State,
    hello: bool,
    outstanding: VecDeque<Pending>,
    /// Background acquires not yet collected by an `await` step.
    background: VecDeque<u64>,
    answered: HashMap<u64, Response>,
}

/// Everything one iteration needs; dropped (killing every process) when it ends.
pub(crate) struct Iteration<'a> {
    scenario: &'a Scenario,
    spec: &'a AdapterSpec,
    opts: &'a RunOptions,
    recovery: Recovery,
    /// The adapter honours `after_us`, so a race's tries can be timed by the racers.
    timed_start: bool,
    origin: Instant,
    events: Vec<Event>,
    parts: Vec<Participant>,
    by_name: HashMap<String, usize>,
    tx: Sender<Message>,
    rx: Receiver<Message>,
    dir: LockDir,
    confine: Confine,
    next_id: u64,
    rng: fastrand::Rng,
}

/// Runs one iteration and returns its history. Never fails: harness trouble is recorded as a
/// `broken` event.
pub(crate) fn run_iteration(
    scenario: &Scenario,
    spec: &AdapterSpec,
    opts: &RunOptions,
    hello: &Hello,
    seed: u64,
    iteration: u32,
) -> History {
    let origin = Instant::now();
    let dir = match LockDir::new(opts.temp_root.as_deref(), &scenario.id) {
        Ok(dir) => dir,
        Err(e) => {
            let reason = BrokenReason::Harness {
                message: format!("cannot create the lock directory: {e}"),
            };
            let event = Event {
                at_ns: 0,
                step: None,
                round: None,
                kind: EventKind::Broken {
                    participant: None,
                    reason,
                },
            };
            return History {
                seed,
                iteration,
                events: vec![event],
            };
        }
    };
    let confine = Confine::for_scenario(scenario);
    let opened = if confine.other_user() {
        dir.open_to_others()
    } else {
        Ok(())
    };
    let (tx, rx) = mpsc::channel();
    let mut it = Iteration {
        scenario,
        spec,
        opts,
        recovery: hello.recovery,
        timed_start: hello.timed_start,
        origin,
        events: Vec::new(),
        parts: Vec::new(),
        by_name: HashMap::new(),
        tx,
        rx,
        dir,
        confine,
        next_id: 1,
        rng: fastrand::Rng::with_seed(seed),
    };
    let outcome = opened
        .map_err(|e| harness(format!("opening the lock directory to other users: {e}")))
        .and_then(|()| it.start_all(seed))
        .and_then(|()| {
            for (index, step) in scenario.steps.iter().enumerate() {
                it.run_step(index as u32, step)?;
            }
            Ok(())
        });
    if let Err(broken) = outcome {
        let at = it.now_ns();
        it.record(
            at,
            None,
            None,
            EventKind::Broken {
                participant: broken.participant,
                reason: broken.reason,
            },
        );
    }
    it.shutdown();
    let mut events = std::mem::take(&mut it.events);
    // Reader threads stamp output when it is read, which may be before events the executor
    // recorded earlier in wall order; the history is ordered by time.
    events.sort_by_key(|e| e.at_ns);
    History {
        seed,
        iteration,
        events,
    }
}

impl Iteration<'_> {
    fn now_ns(&self) -> u64 {
        self.ns(Instant::now())
    }

    fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64
    }

    fn record(&mut self, at_ns: u64, step: Option<u32>, round: Option<u32>, kind: EventKind) {
        self.events.push(Event {
            at_ns,
            step,
            round,
            kind,
        });
    }

    fn start_all(&mut self, seed: u64) -> StepResult {
        for name in self.scenario.members() {
            let who = self.parts.len();
            let launch = Launch {
                who,
                participant: &name,
                lock_path: self.dir.lock_path(),
                seed,
            };
            let adapter = Adapter::spawn_confined(self.spec, &launch, self.confine, &self.tx)
                .map_err(|e| Broken {
                    participant: Some(name.clone()),
                    reason: BrokenReason::SpawnFailed {
                        message: format!("{}: {e}", self.spec.command.join(" ")),
                    },
                })?;
            let at = self.now_ns();
            self.record(
                at,
                None,
                None,
                EventKind::Spawned {
                    participant: name.clone(),
                    pid: adapter.pid,
                },
            );
            self.by_name.insert(name.clone(), who);
            self.parts.push(Participant {
                name,
                adapter: Some(adapter),
                state: State::Running,
                hello: false,
                outstanding: VecDeque::new(),
                background: VecDeque::new(),
                answered: HashMap::new(),
            });
        }
        let deadline = Instant::now() + self.opts.hello_timeout;
        while let Some(waiting) = self.parts.iter().position(|p| !p.hello) {
            if !self.pump(deadline)? {
                let name = self.parts[waiting].name.clone();
                return Err(Broken {
                    participant: Some(name),
                    reason: BrokenReason::Hang {
                        op: "hello".to_owned(),
                        waited_ms: self.opts.hello_timeout.as_millis() as u64,
                    },
                });
            }
        }
        Ok(())
    }

    /// Kills every process group, reaps every leader. Called once, at the end.
    fn shutdown(&mut self) {
        for part in &mut self.parts {
            if let Some(adapter) = part.adapter.take() {
                adapter.kill_and_reap();
            }
        }
    }

    fn members(&self, step: &Step) -> Result<Vec<usize>, Broken> {
        let who = step.who.as_deref().unwrap_or_default();
        let names = self.scenario.resolve(who);
        if names.is_empty() {
            return Err(harness(format!(
                "step on line {} names no participant",
                step.line
            )));
        }
        Ok(names
            .iter()
            .filter_map(|n| self.by_name.get(n).copied())
            .collect())
    }

    fn run_step(&mut self, index: u32, step: &Step) -> StepResult {
        let timeout = self.opts.request_timeout;
        match &step.action {
            Action::Acquire {
                mode,
                wait,
                expect,
                background,
                ..
            } => {
                let (wait, timeout_ms) = lockcheck_model::resolve_wait(
                    *wait,
                    self.recovery,
                    self.scenario.recovery_slack_ms,
                );
                let op = Op::Acquire {
                    mode: *mode,
                    wait,
                    timeout_ms,
                };
                let members = self.members(step)?;
                let ids = self.send_all(&members, &op, index, None)?;
                if *background {
                    for (&who, &id) in members.iter().zip(&ids) {
                        self.parts[who].background.push_back(id);
                    }
                } else {
                    let deadline = Instant::now() + wait_limit(wait, timeout_ms, timeout);
                    let mut refused = false;
                    for (&who, &id) in members.iter().zip(&ids) {
                        let status = self.await_one(who, id, deadline)?.status;
                        refused |= matches!(status, Status::Busy | Status::Timeout)
                            && !expect.accepts(status, None);
                    }
                    if refused {
                        self.observe_openers(index);
                    }
                }
            }
            Action::Await { .. } => {
                let members = self.members(step)?;
                let deadline = Instant::now() + timeout;
                for who in members {
                    let Some(id) = self.parts[who].background.pop_front() else {
                        return Err(harness(format!(
                            "step on line {}: nothing to await for {}",
                            step.line, self.parts[who].name
                        )));
                    };
                    self.await_one(who, id, deadline)?;
                }
            }
            Action::Release { .. } => self.request(step, index, &Op::Release, timeout)?,
            Action::Holder { .. } => self.request(step, index, &Op::Holder, timeout)?,
            Action::SpawnChild => self.request(step, index, &Op::SpawnChild, timeout)?,
            Action::TouchFd => self.request(step, index, &Op::TouchFd, timeout)?,
            Action::SecondHandle { mode, .. } => {
                self.request(step, index, &Op::SecondHandle { mode: *mode }, timeout)?
            }
            Action::ReleaseSecond => self.request(step, index, &Op::ReleaseSecond, timeout)?,
            Action::ThreadRace {
                threads, hold_ms, ..
            } => {
                let op = Op::ThreadRace {
                    threads: *threads,
                    hold_ms: *hold_ms,
                };
                let limit =
                    timeout + Duration::from_millis(hold_ms.saturating_mul(u64::from(*threads)));
                self.request(step, index, &op, limit)?
            }
            Action::Exit => {
                let members = self.members(step)?;
                let ids = self.send_all(&members, &Op::Exit, index, None)?;
                self.await_all(&members, &ids, Instant::now() + timeout)?;
                for who in members {
                    self.parts[who].state = State::Gone;
                    self.reap(who, index, Instant::now() + timeout)?;
                }
            }
            Action::Kill => {
                for who in self.members(step)? {
                    self.kill(who, index)?;
                }
            }
            Action::Term => {
                for who in self.members(step)? {
                    self.signal(who, index, Sig::Term, Fault::Term)?;
                    self.parts[who].state = State::Gone;
                    self.parts[who].outstanding.clear();
                    if self.reap(who, index, Instant::now() + TERM_GRACE).is_err() {
                        self.signal(who, index, Sig::Kill, Fault::Kill)?;
                        self.reap(who, index, Instant::now() + timeout)?;
                    }
                }
            }
            Action::Stop => {
                for who in self.members(step)? {
                    self.signal(who, index, Sig::Stop, Fault::Stop)?;
                    let pid = self.pid(who)?;
                    sys::wait_stopped(pid)
                        .map_err(|e| harness(format!("waiting for pid {pid} to stop: {e}")))?;
                    self.parts[who].state = State::Stopped;
                }
            }
            Action::Cont => {
                for who in self.members(step)? {
                    self.signal(who, index, Sig::Cont, Fault::Cont)?;
                    self.parts[who].state = State::Running;
                }
            }
            Action::Sleep { ms, lease_factor } => {
                let ms = lockcheck_model::sleep_ms(*ms, *lease_factor, self.recovery);
                self.pause(Duration::from_millis(ms))?;
            }
            Action::Plant { content } => {
                let detail = self
                    .dir
                    .plant(*content, &mut self.rng)
                    .map_err(|e| harness(format!("planting a lock file: {e}")))?;
                self.fault(index, None, Fault::Plant { detail });
            }
            // Faults that take the lock file's name away are recorded before they happen, so
            // that every request sent later certainly came after (see the checker).
            Action::Symlink => {
                self.fault(index, None, Fault::Symlink);
                self.dir
                    .symlink()
                    .map_err(|e| harness(format!("creating the symlink: {e}")))?;
            }
            Action::Unlink => {
                self.fault(index, None, Fault::Unlink);
                self.dir
                    .unlink()
                    .map_err(|e| harness(format!("unlinking the lock file: {e}")))?;
            }
            Action::RemoveDir => {
                self.fault(index, None, Fault::RemoveDir);
                self.dir
                    .remove_dir()
                    .map_err(|e| harness(format!("removing the lock directory: {e}")))?;
            }
            Action::CheckMode { .. } => {
                let (file_type, mode) = self
                    .dir
                    .lock_path_state()
                    .map_err(|e| harness(format!("inspecting the lock path: {e}")))?;
                let observation = Observation::LockPath {
                    file_type: file_type.to_owned(),
                    mode,
                };
                let at = self.now_ns();
                self.record(at, Some(index), None, EventKind::Observed { observation });
            }
            Action::CheckLeftovers => {
                let paths = self
                    .dir
                    .leftovers()
                    .map_err(|e| harness(format!("listing the temp directory: {e}")))?;
                let at = self.now_ns();
                let observation = Observation::Leftovers { paths };
                self.record(at, Some(index), None, EventKind::Observed { observation });
            }
            Action::CrashAcquire { window } => self.crash_acquire(step, index, *window)?,
            Action::ChmodDir { mode } => {
                self.dir
                    .chmod(*mode)
                    .map_err(|e| harness(format!("chmod of the lock directory: {e}")))?;
                self.fault(index, None, Fault::ChmodDir { mode: *mode });
            }
            Action::CheckVictim => {
                let detail = self.dir.victim_changed();
                let at = self.now_ns();
                let observation = Observation::Victim {
                    unchanged: detail.is_none(),
                    detail,
                };
                self.record(at, Some(index), None, EventKind::Observed { observation });
            }
            Action::Race {
                rounds,
                wait,
                hold_ms,
                jitter_us,
                end,
            } => self.race(
                step,
                index,
                *rounds,
                *wait,
                Duration::from_millis(*hold_ms),
                Duration::from_micros(*jitter_us),
                *end,
            )?,
            Action::Churn {
                duration_ms,
                hold_us,
                mode,
            } => self.churn(
                step,
                index,
                Duration::from_millis(*duration_ms),
                Duration::from_micros(*hold_us),
                *mode,
            )?,
        }
        Ok(())
    }

    /// Sends `op` to every member of the step and waits for all answers.
    fn request(&mut self, step: &Step, index: u32, op: &Op, limit: Duration) -> StepResult {
        let members = self.members(step)?;
        let ids = self.send_all(&members, op, index, None)?;
        self.await_all(&members, &ids, Instant::now() + limit)
    }

    fn send_all(
        &mut self,
        members: &[usize],
        op: &Op,
        step: u32,
        round: Option<u32>,
    ) -> Result<Vec<u64>, Broken> {
        members
            .iter()
            .map(|&who| self.send(who, op.clone(), step, round))
            .collect()
    }

    fn send(&mut self, who: usize, op: Op, step: u32, round: Option<u32>) -> Result<u64, Broken> {
        self.send_after(who, op, step, round, None)
    }

    /// [`send`](Self::send), with the request's `after_us`.
    fn send_after(
        &mut self,
        who: usize,
        op: Op,
        step: u32,
        round: Option<u32>,
        after_us: Option<u64>,
    ) -> Result<u64, Broken> {
        let id = self.next_id;
        self.next_id += 1;
        let request = Request {
            after_us,
            ..Request::new(id, op)
        };
        let line = serde_json::to_string(&request)
            .map_err(|e| harness(format!("encoding a request: {e}")))?;
        let name = self.parts[who].name.clone();
        let op_name = request.op.name();
        let at = self.now_ns();
        self.record(
            at,
            Some(step),
            round,
            EventKind::Sent {
                participant: name.clone(),
                request,
            },
        );
        let adapter = self.parts[who]
            .adapter
            .as_mut()
            .ok_or_else(|| harness(format!("{name} has no process to send {op_name} to")))?;
        if let Err(e) = adapter.send_line(&line) {
            return Err(Broken {
                participant: Some(name),
                reason: BrokenReason::BadLine {
                    message: format!("could not write the {op_name} request to the adapter: {e}"),
                    line,
                },
            });
        }
        self.parts[who].outstanding.push_back(Pending {
            id,
            op: op_name,
            step,
            round,
            timed: after_us.map(|us| (at, us)),
        });
        Ok(id)
    }

    fn await_all(&mut self, members: &[usize], ids: &[u64], deadline: Instant) -> StepResult {
        for (&who, &id) in members.iter().zip(ids) {
            self.await_one(who, id, deadline)?;
        }
        Ok(())
    }

    fn await_one(&mut self, who: usize, id: u64, deadline: Instant) -> Result<Response, Broken> {
        let started = Instant::now();
        loop {
            if let Some(response) = self.parts[who].answered.remove(&id) {
                return Ok(response);
            }
            if !self.pump(deadline)? {
                let op = self.parts[who]
                    .outstanding
                    .iter()
                    .find(|p| p.id == id)
                    .map_or("request", |p| p.op)
                    .to_owned();
                return Err(Broken {
                    participant: Some(self.parts[who].name.clone()),
                    reason: BrokenReason::Hang {
                        op,
                        waited_ms: started.elapsed().as_millis() as u64,
                    },
                });
            }
        }
    }

    /// Handles output until `deadline`, for steps that only wait.
    fn pause(&mut self, length: Duration) -> StepResult {
        let deadline = Instant::now() + length;
        while self.pump(deadline)? {}
        Ok(())
    }

    /// Handles one message from any participant. Returns false when `deadline` passed first.
    fn pump(&mut self, deadline: Instant) -> Result<bool, Broken> {
        let wait = deadline.saturating_duration_since(Instant::now());
        let message = match self.rx.recv_timeout(wait) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => return Ok(false),
            Err(RecvTimeoutError::Disconnected) => return Err(harness("output channel closed")),
        };
        self.handle(message)?;
        Ok(true)
    }

    fn handle(&mut self, Message { who, at, output }: Message) -> StepResult {
        let at_ns = self.ns(at);
        let name = self.parts[who].name.clone();
        let broken = |reason| {
            Err(Broken {
                participant: Some(name.clone()),
                reason,
            })
        };
        match output {
            Output::Stderr(line) => {
                self.record(
                    at_ns,
                    None,
                    None,
                    EventKind::Stderr {
                        participant: name.clone(),
                        line,
                    },
                );
                Ok(())
            }
            // A killed participant may have written an answer just before it died; its hold
            // ended with the kill, so the line proves nothing and is dropped.
            Output::Line(_) if self.parts[who].state == State::Gone => Ok(()),
            Output::Line(line) => self.handle_line(who, at_ns, line),
            Output::Partial(line) if self.parts[who].state != State::Gone => {
                broken(BrokenReason::BadLine {
                    message: "output ended in the middle of a line (no newline)".to_owned(),
                    line: quote(&line),
                })
            }
            Output::TooLong(bytes) => broken(BrokenReason::LineTooLong { bytes }),
            Output::Eof | Output::Partial(_) => {
                if self.parts[who].state == State::Gone {
                    return Ok(());
                }
                let (code, signal) = self.exit_status(who);
                broken(BrokenReason::EarlyExit { code, signal })
            }
        }
    }

    fn handle_line(&mut self, who: usize, at_ns: u64, line: String) -> StepResult {
        let name = self.parts[who].name.clone();
        if !self.parts[who].hello {
            let hello = crate::probe::read_hello(&line).map_err(|message| Broken {
                participant: Some(name.clone()),
                reason: BrokenReason::BadHello {
                    message,
                    line: quote(&line),
                },
            })?;
            self.parts[who].hello = true;
            self.record(
                at_ns,
                None,
                None,
                EventKind::Hello {
                    participant: name,
                    hello,
                },
            );
            return Ok(());
        }
        let message = match lockcheck_protocol::parse_adapter_message(&line) {
            Ok(message) => message,
            Err(message) => {
                return Err(Broken {
                    participant: Some(name),
                    reason: BrokenReason::BadLine {
                        message,
                        line: quote(&line),
                    },
                });
            }
        };
        match message {
            AdapterMessage::Hello(_) => Err(Broken {
                participant: Some(name),
                reason: BrokenReason::BadLine {
                    message: "a second hello".to_owned(),
                    line: quote(&line),
                },
            }),
            AdapterMessage::Response(response) => {
                let expected = self.parts[who].outstanding.front().map(|p| p.id);
                if expected != Some(response.id) {
                    return Err(Broken {
                        participant: Some(name),
                        reason: BrokenReason::UnexpectedId { id: response.id },
                    });
                }
                let pending = self.parts[who]
                    .outstanding
                    .pop_front()
                    .expect("checked above");
                // An answer sooner than `after_us` after the request was written cannot have
                // waited: the adapter offered timed starts it does not honour.
                if let Some((sent_ns, after_us)) = pending.timed
                    && at_ns.saturating_sub(sent_ns) < after_us * 1_000
                {
                    return Err(Broken {
                        participant: Some(name),
                        reason: BrokenReason::EarlyStart {
                            op: pending.op.to_owned(),
                            after_us,
                            answered_us: at_ns.saturating_sub(sent_ns) / 1_000,
                        },
                    });
                }
                self.record(
                    at_ns,
                    Some(pending.step),
                    pending.round,
                    EventKind::Received {
                        participant: name,
                        response: response.clone(),
                    },
                );
                self.parts[who].answered.insert(response.id, response);
                Ok(())
            }
        }
    }

    /// Exit code and signal of a participant whose output ended, waiting briefly for it.
    fn exit_status(&mut self, who: usize) -> (Option<i32>, Option<i32>) {
        let Some(adapter) = self.parts[who].adapter.as_mut() else {
            return (None, None);
        };
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match adapter.child.try_wait() {
                Ok(Some(status)) => return (status.code(), sys::exit_signal(&status)),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => return (None, None),
            }
        }
    }

    fn pid(&self, who: usize) -> Result<u32, Broken> {
        self.parts[who]
            .adapter
            .as_ref()
            .map(|a| a.pid)
            .ok_or_else(|| harness(format!("{} has no process", self.parts[who].name)))
    }

    fn fault(&mut self, step: u32, participant: Option<String>, fault: Fault) {
        let at = self.now_ns();
        self.record(
            at,
            Some(step),
            None,
            EventKind::Fault { participant, fault },
        );
    }

    fn signal(&mut self, who: usize, step: u32, sig: Sig, fault: Fault) -> StepResult {
        let pid = self.pid(who)?;
        let name = self.parts[who].name.clone();
        // Recorded before the signal is sent: the hold of a killed holder ends no later than this.
        self.fault(step, Some(name.clone()), fault);
        sys::signal(pid, sig).map_err(|e| harness(format!("signalling {name} (pid {pid}): {e}")))
    }

    /// Waits until participant `who` has exited and records how; its lock is free after this.
    fn reap(&mut self, who: usize, step: u32, deadline: Instant) -> StepResult {
        let name = self.parts[who].name.clone();
        let Some(adapter) = self.parts[who].adapter.as_mut() else {
            return Ok(());
        };
        let status = loop {
            match adapter.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200))
                }
                Ok(None) => {
                    return Err(Broken {
                        participant: Some(name),
                        reason: BrokenReason::Hang {
                            op: "exit".to_owned(),
                            waited_ms: 0,
                        },
                    });
                }
                Err(e) => return Err(harness(format!("waiting for {name}: {e}"))),
            }
        };
        let at = self.now_ns();
        let (code, signal) = (status.code(), sys::exit_signal(&status));
        self.record(
            at,
            Some(step),
            None,
            EventKind::Exited {
                participant: name,
                code,
                signal,
            },
        );
        // Children it started stay in its process group until the iteration ends: a child
        // that outlives its parent is exactly what some scenarios look at (exec-child).
        Ok(())
    }

    /// Every member tries, each after its own random delay within `jitter`; the winners hold
    /// until all have answered, then release or are killed. Killed winners leave the race.
    /// The step ends early after a round with more than one winner.
    #[allow(clippy::too_many_arguments)]
    fn race(
        &mut self,
        step: &Step,
        index: u32,
        rounds: u32,
        wait: lockcheck_model::WaitSpec,
        hold: Duration,
        jitter: Duration,
        end: RaceEnd,
    ) -> StepResult {
        let (wait, timeout_ms) =
            lockcheck_model::resolve_wait(wait, self.recovery, self.scenario.recovery_slack_ms);
        let limit = wait_limit(wait, timeout_ms, self.opts.request_timeout);
        let mut members = self.members(step)?;
        // Winners killed by an earlier race are out of the running.
        members.retain(|&who| self.parts[who].state != State::Gone);
        let op = Op::Acquire {
            mode: Mode::Exclusive,
            wait,
            timeout_ms,
        };
        for round in 0..rounds {
            let (ids, last_due) = self.send_jittered(&mut members, &op, index, round, jitter)?;
            let deadline = last_due + limit;
            let mut winners = Vec::new();
            for (&who, &id) in members.iter().zip(&ids) {
                if self.await_one(who, id, deadline)?.status == Status::Ok {
                    winners.push(who);
                }
            }
            self.pause(hold)?;
            match end {
                RaceEnd::Release => {
                    let ids = self.send_all(&winners, &Op::Release, index, Some(round))?;
                    self.await_all(&winners, &ids, Instant::now() + self.opts.request_timeout)?;
                }
                RaceEnd::Kill => {
                    for &who in &winners {
                        self.kill(who, index)?;
                    }
                    members.retain(|who| !winners.contains(who));
                }
            }
            // Two winners in one round already fail the scenario; later rounds add no evidence,
            // and against a lease lock each of them costs a whole lease.
            if winners.len() > 1 {
                break;
            }
        }
        Ok(())
    }

    /// Has every member carry out `op` at its own random moment in `[0, jitter]` after a
    /// common start. An adapter with `timed_start` gets every request at once, each saying how
    /// long to wait, so the racers start from their own timers; otherwise each request is
    /// written at its moment. Reorders `members` to match the returned ids, and returns the
    /// instant the last member is due to start.
    fn send_jittered(
        &mut self,
        members: &mut [usize],
        op: &Op,
        index: u32,
        round: u32,
        jitter: Duration,
    ) -> Result<(Vec<u64>, Instant), Broken> {
        let spread = jitter.as_nanos() as u64;
        self.rng.shuffle(members);
        let mut schedule: Vec<(u64, usize)> = members
            .iter()
            .map(|&who| (self.rng.u64(0..=spread), who))
            .collect();
        schedule.sort_by_key(|&(delay, _)| delay);
        // Time for every timed request to be written and read before the first is due.
        let lead = if self.timed_start {
            TIMED_LEAD + TIMED_LEAD_PER_RACER * schedule.len() as u32
        } else {
            Duration::ZERO
        };
        let start = Instant::now() + lead;
        let mut ids = Vec::with_capacity(schedule.len());
        let mut due = start;
        for (slot, &(delay, who)) in schedule.iter().enumerate() {
            due = start + Duration::from_nanos(delay);
            members[slot] = who;
            let after_us = if self.timed_start {
                Some(due.saturating_duration_since(Instant::now()).as_micros() as u64)
            } else {
                wait_until(due);
                None
            };
            ids.push(self.send_after(who, op.clone(), index, Some(round), after_us)?);
        }
        Ok((ids, due))
    }

    /// Records which processes have the lock file open, as evidence for a refused acquire.
    fn observe_openers(&mut self, index: u32) {
        if let Some(processes) = crate::openers::open_by(self.dir.lock_path()) {
            let at = self.now_ns();
            let observation = Observation::OpenBy { processes };
            self.record(at, Some(index), None, EventKind::Observed { observation });
        }
    }

    /// SIGKILLs one participant and waits until it has exited.
    fn kill(&mut self, who: usize, index: u32) -> StepResult {
        self.signal(who, index, Sig::Kill, Fault::Kill)?;
        self.parts[who].state = State::Gone;
        self.parts[who].outstanding.clear();
        self.reap(who, index, Instant::now() + self.opts.request_timeout)
    }

    /// The first members acquire and are killed holding the lock; the median of their round
    /// trips calibrates the others, who are each killed at a random moment within `window`
    /// round trips of their request, one after the other. The kill moments are stratified
    /// (one in each of n equal slices of the window, in random order), so that even a few
    /// dozen victims cover every point of an acquire.
    fn crash_acquire(&mut self, step: &Step, index: u32, window: f64) -> StepResult {
        const CALIBRATE: usize = 3;
        let op = Op::Acquire {
            mode: Mode::Exclusive,
            wait: Wait::Try,
            timeout_ms: None,
        };
        let members = self.members(step)?;
        let calibrators = members.len().saturating_sub(1).clamp(1, CALIBRATE);
        let mut trips = Vec::with_capacity(calibrators);
        let victims = members.len().saturating_sub(calibrators);
        let mut slices: Vec<f64> = (0..victims)
            .map(|i| (i as f64 + self.rng.f64()) / victims as f64)
            .collect();
        self.rng.shuffle(&mut slices);
        for (round, who) in members.into_iter().enumerate() {
            let sent = Instant::now();
            let id = self.send(who, op.clone(), index, Some(round as u32))?;
            if round < calibrators {
                self.await_one(who, id, sent + self.opts.request_timeout)?;
                trips.push(sent.elapsed());
            } else {
                trips.sort_unstable();
                let trip = trips[trips.len() / 2];
                let slice = slices[round - calibrators];
                wait_until(sent + trip.mul_f64(window * slice));
            }
            self.kill(who, index)?;
        }
        Ok(())
    }

    /// Every member loops acquire (blocking), hold, release until `length` has passed.
    fn churn(
        &mut self,
        step: &Step,
        index: u32,
        length: Duration,
        hold: Duration,
        mode: Mode,
    ) -> StepResult {
        #[derive(Clone, Copy)]
        enum Phase {
            Acquiring(u64),
            Holding(Instant),
            Releasing(u64),
            Done,
        }
        let members = self.members(step)?;
        let end = Instant::now() + length;
        let hard_deadline = end + self.opts.request_timeout;
        let acquire = Op::Acquire {
            mode,
            wait: Wait::Block,
            timeout_ms: None,
        };
        let mut loops = vec![0u32; members.len()];
        let mut phases = Vec::with_capacity(members.len());
        for &who in &members {
            phases.push(Phase::Acquiring(self.send(
                who,
                acquire.clone(),
                index,
                Some(0),
            )?));
        }
        loop {
            let now = Instant::now();
            let mut next_wake = hard_deadline;
            for (slot, &who) in members.iter().enumerate() {
                phases[slot] = match phases[slot] {
                    Phase::Acquiring(id) => match self.parts[who].answered.remove(&id) {
                        Some(r) if r.status == Status::Ok => Phase::Holding(now + hold),
                        // The checker reports the unexpected answer; this member stops.
                        Some(_) => Phase::Done,
                        None => Phase::Acquiring(id),
                    },
                    Phase::Holding(until) if now >= until => {
                        Phase::Releasing(self.send(who, Op::Release, index, Some(loops[slot]))?)
                    }
                    Phase::Releasing(id) => match self.parts[who].answered.remove(&id) {
                        Some(_) if now < end => {
                            loops[slot] += 1;
                            Phase::Acquiring(self.send(
                                who,
                                acquire.clone(),
                                index,
                                Some(loops[slot]),
                            )?)
                        }
                        Some(_) => Phase::Done,
                        None => Phase::Releasing(id),
                    },
                    other => other,
                };
                if let Phase::Holding(until) = phases[slot] {
                    next_wake = next_wake.min(until);
                }
            }
            if phases.iter().all(|p| matches!(p, Phase::Done)) {
                return Ok(());
            }
            if Instant::now() >= hard_deadline {
                let stuck = members
                    .iter()
                    .zip(&phases)
                    .find(|(_, p)| !matches!(p, Phase::Done))
                    .map(|(&who, _)| self.parts[who].name.clone());
                return Err(Broken {
                    participant: stuck,
                    reason: BrokenReason::Hang {
                        op: "acquire".to_owned(),
                        waited_ms: (length + self.opts.request_timeout).as_millis() as u64,
                    },
                });
            }
            if next_wake > Instant::now() {
                self.pump(next_wake)?;
            }
        }
    }
}

/// Returns at `deadline`: sleeps through most of a long wait, and yields the processor for
/// the last stretch, because a sleep may overshoot by more than the delays a race needs.
/// How long before a timed race's first start its requests go out, plus a little per racer:
/// long enough for a debug-built runner to write 50 requests and their adapters to read them.
const TIMED_LEAD: Duration = Duration::from_millis(1);
const TIMED_LEAD_PER_RACER: Duration = Duration::from_micros(40);

fn wait_until(deadline: Instant) {
    const SPIN: Duration = Duration::from_millis(1);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        if left > SPIN {
            std::thread::sleep(left - SPIN);
        } else {
            std::thread::yield_now();
        }
    }
}

/// How long to wait for the answer to an acquire: its own timeout plus the request budget.
fn wait_limit(wait: Wait, timeout_ms: Option<u64>, budget: Duration) -> Duration {
    match wait {
        Wait::Timeout => budget + Duration::from_millis(timeout_ms.unwrap_or(0)),
        Wait::Try | Wait::Block => budget,
    }
}

fn quote(line: &str) -> String {
    if line.len() <= QUOTE {
        return line.to_owned();
    }
    let mut cut = QUOTE;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}[... {} bytes]", &line[..cut], line.len())
}
