//! One benchmark measurement: N contender processes of an adapter, started together on one
//! lock file, each acquiring and releasing for a fixed time. An adapter that declares `bench`
//! runs the loop itself and leaves a samples file; any other is driven by the runner, one
//! thread per contender, with the protocol's round trip in every figure (measured apart by
//! [`round_trip`], so that nobody mistakes it for the lock's cost).
//!
//! The runner measures and validates; the figures are computed by `lockcheck_model::bench`.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use lockcheck_model::bench::{Contender, Driver, Quantiles, Sample, parse_samples};
use lockcheck_protocol::{
    AdapterMessage, Capability, Hello, MAX_LINE_BYTES, Mode, Op, Request, Response, Status, Wait,
    monotonic_ns,
};

use crate::adapter::{Adapter, Launch, Message, Output};
use crate::lockdir::LockDir;
use crate::spec::AdapterSpec;
use crate::sys;

/// What one measurement does.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    /// Contender processes.
    pub contenders: u32,
    /// How long each acquisition holds the lock.
    pub hold: Duration,
    /// How long the contenders acquire.
    pub duration: Duration,
    /// The most acquisitions one contender makes (bounds the samples file).
    pub max_acquisitions: u64,
    /// Budget for every adapter's hello.
    pub hello_timeout: Duration,
    /// Where the lock directory is created (the system temp dir when `None`).
    pub temp_root: Option<std::path::PathBuf>,
}

/// The acquisition the benchmark measures, when the runner drives it.
const DRIVEN_ACQUIRE: Op = Op::Acquire {
    mode: Mode::Exclusive,
    wait: Wait::Block,
    timeout_ms: None,
};

/// Who runs the loop for `hello`'s adapter: the adapter itself when it declares `bench`, the
/// runner otherwise. An error when the adapter cannot make the blocking exclusive
/// acquisitions the benchmark measures, so that it is never sent an op it did not declare.
pub fn driver(hello: &Hello) -> Result<Driver, BenchError> {
    let (driver, op) = if hello.supports(Capability::Bench) {
        (
            Driver::Adapter,
            Op::Bench {
                hold_us: 0,
                duration_ms: 0,
                max_acquisitions: 0,
                samples: String::new(),
            },
        )
    } else {
        (Driver::Runner, DRIVEN_ACQUIRE)
    };
    let missing: Vec<_> = op
        .capabilities()
        .into_iter()
        .filter(|&c| !hello.supports(c))
        .map(|c| format!("`{c}`"))
        .collect();
    if missing.is_empty() {
        Ok(driver)
    } else {
        Err(BenchError(format!(
            "the benchmark makes blocking exclusive acquisitions, and the adapter does not declare {}",
            missing.join(" or ")
        )))
    }
}

/// Why a measurement has no figures: the adapter misbehaved or the harness could not run it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BenchError(pub String);

/// Runs one measurement and returns each contender's samples.
pub fn measure(
    spec: &AdapterSpec,
    hello: &Hello,
    plan: &BenchPlan,
) -> Result<Vec<Contender>, BenchError> {
    let dir = LockDir::new(plan.temp_root.as_deref(), "bench")
        .map_err(|e| BenchError(format!("cannot create a temporary lock directory: {e}")))?;
    let cgroup = contenders_cgroup()?;
    let mut contenders = start(spec, &dir, cgroup.as_ref(), plan)?;
    let result = match driver(hello)? {
        Driver::Adapter => in_adapter(&mut contenders, &dir, plan),
        Driver::Runner => by_runner(&mut contenders, plan),
    };
    for contender in contenders {
        contender.adapter.kill_and_reap();
    }
    result
}

/// The protocol's own cost: `count` round trips of a `release` that holds nothing (answered
/// at once, with no lock work) to one fresh adapter process.
pub fn round_trip(
    spec: &AdapterSpec,
    plan: &BenchPlan,
    count: u32,
) -> Result<Quantiles, BenchError> {
    let dir = LockDir::new(plan.temp_root.as_deref(), "bench")
        .map_err(|e| BenchError(format!("cannot create a temporary lock directory: {e}")))?;
    let one = BenchPlan {
        contenders: 1,
        ..plan.clone()
    };
    let cgroup = contenders_cgroup()?;
    let mut contenders = start(spec, &dir, cgroup.as_ref(), &one)?;
    let contender = &mut contenders[0];
    let mut trips = Vec::with_capacity(count as usize);
    let mut result = Ok(());
    for _ in 0..count {
        let sent = monotonic_ns();
        if let Err(e) = contender.ask(Op::Release, REQUEST_BUDGET) {
            result = Err(e);
            break;
        }
        trips.push(monotonic_ns() - sent);
    }
    for contender in contenders {
        contender.adapter.kill_and_reap();
    }
    result?;
    Quantiles::of(trips).ok_or_else(|| BenchError("no round trip was measured".to_owned()))
}

/// The measurement's own cgroup, when cgroups are in force; dropped after the contenders.
fn contenders_cgroup() -> Result<Option<sys::Cgroup>, BenchError> {
    sys::Cgroup::create(true)
        .map_err(|e| BenchError(format!("cannot create the contenders' cgroup: {e}")))
}

/// Budget for the answer to one runner-driven request beyond its own wait.
const REQUEST_BUDGET: Duration = Duration::from_secs(10);

/// One contender: its process and the channel its output arrives on.
struct Running {
    name: String,
    adapter: Adapter,
    output: Receiver<Message>,
    next_id: u64,
    /// The last stderr lines, for a broken measurement's reason.
    stderr: Vec<String>,
}

impl Running {
    /// Sends `op` and waits for its answer.
    fn ask(&mut self, op: Op, budget: Duration) -> Result<Response, BenchError> {
        self.send(Request::new(self.next_id, op))?;
        self.answer(budget)
    }

    fn send(&mut self, request: Request) -> Result<(), BenchError> {
        self.next_id += 1;
        let line = serde_json::to_string(&request).expect("requests serialize");
        self.adapter
            .send_line(&line)
            .map_err(|e| self.broken(&format!("cannot write to it: {e}")))
    }

    /// The next response, or why there is none within `budget`.
    fn answer(&mut self, budget: Duration) -> Result<Response, BenchError> {
        let deadline = Instant::now() + budget;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(wait).map(|m| m.output) {
                Ok(Output::Stderr(line)) => self.keep_stderr(line),
                Ok(Output::Line(line)) => {
                    return match lockcheck_protocol::parse_adapter_message(&line) {
                        Ok(AdapterMessage::Response(response))
                            if response.id + 1 == self.next_id =>
                        {
                            Ok(response)
                        }
                        Ok(AdapterMessage::Response(response)) => Err(self.broken(&format!(
                            "answered request {} when {} was expected",
                            response.id,
                            self.next_id - 1
                        ))),
                        Ok(AdapterMessage::Hello(_)) => Err(self.broken("sent a second hello")),
                        Err(e) => Err(self.broken(&format!("sent a bad line: {e}"))),
                    };
                }
                Ok(Output::TooLong(n)) => {
                    return Err(self.broken(&format!("wrote a line of over {n} bytes")));
                }
                Ok(Output::Eof | Output::Partial(_)) | Err(RecvTimeoutError::Disconnected) => {
                    self.drain_stderr();
                    return Err(self.broken("exited before answering"));
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.broken(&format!("did not answer within {budget:?}")));
                }
            }
        }
    }

    fn keep_stderr(&mut self, line: String) {
        if self.stderr.len() == STDERR_KEPT {
            self.stderr.remove(0);
        }
        self.stderr.push(line);
    }

    /// Collects what stderr lines are still on their way after the process ended.
    fn drain_stderr(&mut self) {
        while let Ok(message) = self.output.recv_timeout(Duration::from_millis(200)) {
            if let Output::Stderr(line) = message.output {
                self.keep_stderr(line);
            }
        }
    }

    fn broken(&self, what: &str) -> BenchError {
        let mut reason = format!("contender {}: {what}", self.name);
        if !self.stderr.is_empty() {
            reason.push_str("; its stderr ended with:");
            for line in &self.stderr {
                reason.push_str("\n  ");
                reason.push_str(line);
            }
        }
        BenchError(reason)
    }
}

/// Stderr lines kept per contender for a broken measurement's reason.
const STDERR_KEPT: usize = 5;

/// Starts every contender and reads its hello.
fn start(
    spec: &AdapterSpec,
    dir: &LockDir,
    cgroup: Option<&sys::Cgroup>,
    plan: &BenchPlan,
) -> Result<Vec<Running>, BenchError> {
    let mut running: Vec<Running> = Vec::with_capacity(plan.contenders as usize);
    let outcome = (|| {
        for who in 0..plan.contenders as usize {
            let name = format!("c{who}");
            let (tx, rx) = mpsc::channel();
            let launch = Launch {
                who,
                participant: &name,
                lock_path: dir.lock_path(),
                seed: 0,
                own_pid_namespace: false,
                cgroup,
                unset: &[],
            };
            let adapter = Adapter::spawn(spec, &launch, &tx).map_err(|e| {
                BenchError(format!(
                    "cannot start adapter `{}`: {e}",
                    spec.command.join(" ")
                ))
            })?;
            running.push(Running {
                name,
                adapter,
                output: rx,
                next_id: 1,
                stderr: Vec::new(),
            });
        }
        for contender in &mut running {
            hello(contender, &spec.command.join(" "), plan.hello_timeout)?;
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(running),
        Err(e) => {
            for contender in running {
                contender.adapter.kill_and_reap();
            }
            Err(e)
        }
    }
}

fn hello(contender: &mut Running, command: &str, budget: Duration) -> Result<(), BenchError> {
    let deadline = Instant::now() + budget;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match contender.output.recv_timeout(wait).map(|m| m.output) {
            Ok(Output::Stderr(line)) => contender.keep_stderr(line),
            Ok(Output::Line(line)) => {
                // The same validation as the probe's.
                return crate::probe::parse_hello(command, &line)
                    .map(drop)
                    .map_err(|e| contender.broken(&e.to_string()));
            }
            Ok(Output::TooLong(_)) => {
                contender.drain_stderr();
                return Err(contender.broken(&format!(
                    "sent a first line of more than {MAX_LINE_BYTES} bytes, over the protocol's \
                     limit"
                )));
            }
            Ok(_) | Err(RecvTimeoutError::Disconnected) => {
                contender.drain_stderr();
                return Err(contender.broken("exited before saying hello"));
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(contender.broken(&format!("printed no hello within {budget:?}")));
            }
        }
    }
}

/// Every contender's start: far enough ahead for all the requests to be written first.
fn start_at(contenders: u32) -> u64 {
    monotonic_ns() + 20_000_000 + u64::from(contenders) * 500_000
}

/// The `bench` op: every contender runs the loop from one common start and writes samples.
fn in_adapter(
    contenders: &mut [Running],
    dir: &LockDir,
    plan: &BenchPlan,
) -> Result<Vec<Contender>, BenchError> {
    let start = start_at(plan.contenders);
    let samples_dir = dir.lock_path().parent().unwrap_or(Path::new("."));
    let mut sent = Vec::with_capacity(contenders.len());
    for contender in contenders.iter_mut() {
        let path = samples_dir.join(format!("{}.samples", contender.name));
        let now = monotonic_ns();
        let cpu_before = sys::process_cpu_ns(contender.adapter.pid);
        let request = Request {
            after_us: Some(start.saturating_sub(now) / 1000),
            ..Request::new(
                contender.next_id,
                Op::Bench {
                    hold_us: plan.hold.as_micros() as u64,
                    duration_ms: plan.duration.as_millis() as u64,
                    max_acquisitions: plan.max_acquisitions,
                    samples: path.display().to_string(),
                },
            )
        };
        contender.send(request)?;
        sent.push((now, path, cpu_before));
    }
    // Every contender stops requesting at the end of the duration; the last waiter may still
    // wait for each of the others' holds.
    let budget =
        Duration::from_millis(20) + plan.duration + plan.hold * plan.contenders + REQUEST_BUDGET;
    let mut measured = Vec::with_capacity(contenders.len());
    for (contender, (sent_at, path, cpu_before)) in contenders.iter_mut().zip(sent) {
        let response = contender.answer(budget)?;
        let received = monotonic_ns();
        let cpu_after = sys::process_cpu_ns(contender.adapter.pid);
        let acquisitions = match (response.status, response.acquisitions) {
            (Status::Ok, Some(n)) => n,
            (Status::Ok, None) => {
                return Err(contender.broken("answered `bench` without `acquisitions`"));
            }
            (status, _) => {
                return Err(contender.broken(&format!(
                    "answered `bench` with {status}{}{}",
                    response.kind.map(|k| format!(" ({k})")).unwrap_or_default(),
                    response
                        .message
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                )));
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            contender.broken(&format!(
                "answered `ok` but its samples file {} cannot be read: {e}",
                path.display()
            ))
        })?;
        let samples = parse_samples(&text, acquisitions, (sent_at, received))
            .map_err(|e| contender.broken(&format!("samples file {}: {e}", path.display())))?;
        let cpu_ns = response.cpu_ns.or(match (cpu_before, cpu_after) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before)),
            _ => None,
        });
        measured.push(Contender { samples, cpu_ns });
    }
    Ok(measured)
}

/// No `bench` op: the runner drives each contender from a thread of its own, one request
/// per acquire and release, stamping with its own clock. A hold is credited from receiving
/// the acquire's `ok` to sending the release, as in the checker.
fn by_runner(contenders: &mut [Running], plan: &BenchPlan) -> Result<Vec<Contender>, BenchError> {
    let start = start_at(plan.contenders);
    let end = start + plan.duration.as_nanos() as u64;
    let budget = plan.hold * plan.contenders + REQUEST_BUDGET;
    std::thread::scope(|scope| {
        let threads: Vec<_> = contenders
            .iter_mut()
            .map(|contender| {
                scope.spawn(move || {
                    let cpu_before = sys::process_cpu_ns(contender.adapter.pid);
                    sleep_until(start);
                    let mut samples = Vec::new();
                    let mut now = monotonic_ns();
                    while now < end && (samples.len() as u64) < plan.max_acquisitions {
                        let requested = now;
                        let answer = contender.ask(DRIVEN_ACQUIRE, budget)?;
                        let acquired = monotonic_ns();
                        expect_ok(contender, "acquire", &answer)?;
                        if !plan.hold.is_zero() {
                            std::thread::sleep(plan.hold);
                        }
                        let releasing = monotonic_ns();
                        let answer = contender.ask(Op::Release, budget)?;
                        let released = monotonic_ns();
                        expect_ok(contender, "release", &answer)?;
                        samples.push(Sample {
                            requested,
                            acquired,
                            releasing,
                            released,
                        });
                        now = released;
                    }
                    let cpu_ns = match (cpu_before, sys::process_cpu_ns(contender.adapter.pid)) {
                        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
                        _ => None,
                    };
                    Ok(Contender { samples, cpu_ns })
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a driver thread panicked"))
            .collect()
    })
}

fn expect_ok(contender: &Running, op: &str, answer: &Response) -> Result<(), BenchError> {
    if answer.status == Status::Ok {
        return Ok(());
    }
    Err(contender.broken(&format!(
        "answered `{op}` with {}{}",
        answer.status,
        answer
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    )))
}

fn sleep_until(deadline_ns: u64) {
    loop {
        let now = monotonic_ns();
        if now >= deadline_ns {
            return;
        }
        std::thread::sleep(Duration::from_nanos(deadline_ns - now));
    }
}
