//! Runs one iteration of a scenario: starts the participants, drives them step by step,
//! injects faults, and records everything into a history. It judges nothing; the model's
//! checker does that afterwards.
//!
//! This module holds the iteration and its step dispatcher; `conversation` talks to one
//! participant (requests, answers, signals, exits), `schedules` runs the steps that pace
//! several participants against each other (race, crash-acquire, churn), and `timing` has
//! the waits they share, and makes sure a background acquire waits before the next step.

mod conversation;
mod schedules;
mod timing;

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use lockcheck_model::{
    Action, BrokenReason, Event, EventKind, Fault, History, Observation, PidNamespace, Scenario,
    Step,
};
use lockcheck_protocol::{Hello, Mode, Op, Recovery, Response, Status, Wait};

use crate::adapter::{Adapter, Launch, Message};
use crate::confine::Confine;
use crate::lockdir::LockDir;
use crate::spec::{AdapterSpec, RunOptions};
use crate::sys::{self, Sig};

use self::schedules::RaceSettings;
use self::timing::wait_limit;

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
    /// Background acquires not yet collected by an `await` step: request id and mode.
    background: VecDeque<(u64, Mode)>,
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
    /// The participants' cgroup, when cgroups are in force; removed at shutdown.
    cgroup: Option<sys::Cgroup>,
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
    let dir = LockDir::new(opts.temp_root.as_deref(), &scenario.id).and_then(|mut dir| {
        dir.set_up(&scenario.topology())?;
        Ok(dir)
    });
    let dir = match dir {
        Ok(dir) => dir,
        Err(e) => {
            return broken_history(
                seed,
                iteration,
                format!("cannot set the lock directory up: {e}"),
            );
        }
    };
    let cgroup = match sys::Cgroup::create(opts.cgroups) {
        Ok(cgroup) => cgroup,
        Err(e) => {
            return broken_history(
                seed,
                iteration,
                format!("cannot create the iteration's cgroup: {e}"),
            );
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
        cgroup,
        confine,
        next_id: 1,
        rng: fastrand::Rng::with_seed(seed),
    };
    let outcome = opened
        .map_err(|e| harness(format!("opening the lock directory to other users: {e}")))
        .and_then(|()| it.start_all(seed))
        .and_then(|()| {
            for (index, step) in scenario.steps.iter().enumerate() {
                if opts.cancel.is_cancelled() {
                    return Err(harness("the run was interrupted"));
                }
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

/// The history of an iteration the harness could not start.
pub(crate) fn broken_history(seed: u64, iteration: u32, message: String) -> History {
    let event = Event {
        at_ns: 0,
        step: None,
        round: None,
        kind: EventKind::Broken {
            participant: None,
            reason: BrokenReason::Harness { message },
        },
    };
    History {
        seed,
        iteration,
        events: vec![event],
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
            let placement = self.scenario.placement(&name);
            let lock_path = self.dir.lock_path_via(placement);
            let launch = Launch {
                who,
                participant: &name,
                lock_path: &lock_path,
                seed,
                own_pid_namespace: placement.pid_namespace == PidNamespace::Own,
                cgroup: self.cgroup.as_ref(),
                unset: &[],
            };
            // Stamped before the spawn: the adapter's reader thread may stamp its hello
            // before the spawn returns, and a history ordered by time must still show the
            // spawn first.
            let at = self.now_ns();
            let adapter = Adapter::spawn_confined(self.spec, &launch, self.confine, &self.tx)
                .map_err(|e| Broken {
                    participant: Some(name.clone()),
                    reason: BrokenReason::SpawnFailed {
                        message: format!("{}: {e}", self.spec.command.join(" ")),
                    },
                })?;
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

    /// Kills the cgroup and every process group, reaps every leader, and removes the cgroup
    /// once it is empty. Called once, at the end; a cgroup that does not empty breaks the
    /// iteration.
    fn shutdown(&mut self) {
        if let Some(cgroup) = &self.cgroup {
            let _ = cgroup.kill();
        }
        for part in &mut self.parts {
            if let Some(adapter) = part.adapter.take() {
                adapter.kill_and_reap();
            }
        }
        if let Some(Err(e)) = self.cgroup.take().map(sys::Cgroup::remove) {
            let at = self.now_ns();
            let reason = BrokenReason::Harness {
                message: format!("cannot end the iteration's cgroup: {e}"),
            };
            self.record(
                at,
                None,
                None,
                EventKind::Broken {
                    participant: None,
                    reason,
                },
            );
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
                let (wait, timeout_ms) =
                    wait.resolve(self.recovery, self.scenario.recovery_slack_ms);
                let op = Op::Acquire {
                    mode: *mode,
                    wait,
                    timeout_ms,
                };
                let members = self.members(step)?;
                let ids = self.send_all(&members, &op, index, None)?;
                if *background {
                    for (&who, &id) in members.iter().zip(&ids) {
                        self.parts[who].background.push_back((id, *mode));
                    }
                    if wait != Wait::Try {
                        self.until_waiting(index, &members, &ids)?;
                    }
                } else {
                    let deadline = Instant::now() + wait_limit(wait, timeout_ms, timeout);
                    let mut refused = false;
                    for (&who, &id) in members.iter().zip(&ids) {
                        let status = self
                            .await_one(who, id, deadline)
                            .inspect_err(|_| {
                                if wait != Wait::Try {
                                    self.probe_free(index, who, *mode)
                                }
                            })?
                            .status;
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
                    let Some((id, mode)) = self.parts[who].background.pop_front() else {
                        return Err(harness(format!(
                            "step on line {}: nothing to await for {}",
                            step.line, self.parts[who].name
                        )));
                    };
                    if let Err(hang) = self.await_one(who, id, deadline) {
                        self.probe_free(index, who, mode);
                        return Err(hang);
                    }
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
            Action::Sleep(sleep) => {
                let measured = lockcheck_model::measured_recovery(self.scenario, &self.events);
                let ms = sleep.ms_for(self.recovery, measured.map(|m| m.ms()));
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
                self.observe(index, observation);
            }
            Action::CheckLeftovers => {
                let paths = self
                    .dir
                    .leftovers()
                    .map_err(|e| harness(format!("listing the temp directory: {e}")))?;
                self.observe(index, Observation::Leftovers { paths });
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
                let observation = Observation::Victim {
                    unchanged: detail.is_none(),
                    detail,
                };
                self.observe(index, observation);
            }
            Action::Race {
                rounds,
                wait,
                hold_ms,
                jitter_us,
                end,
            } => {
                let race = RaceSettings {
                    rounds: *rounds,
                    wait: *wait,
                    hold: Duration::from_millis(*hold_ms),
                    jitter: Duration::from_micros(*jitter_us),
                    end: *end,
                };
                self.race(step, index, &race)?
            }
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

    fn fault(&mut self, step: u32, participant: Option<String>, fault: Fault) {
        let at = self.now_ns();
        self.record(
            at,
            Some(step),
            None,
            EventKind::Fault { participant, fault },
        );
    }

    fn observe(&mut self, step: u32, observation: Observation) {
        let at = self.now_ns();
        self.record(at, Some(step), None, EventKind::Observed { observation });
    }

    /// Records which processes have the lock file open, as evidence for a refused acquire.
    fn observe_openers(&mut self, index: u32) {
        if let Some(processes) = sys::open_by(self.dir.lock_path()) {
            self.observe(index, Observation::OpenBy { processes });
        }
    }
}
