//! `lockcheck adapter-check`: one conversation with an adapter that sends every op its hello
//! promises, an unknown op and malformed lines, and holds each answer to PROTOCOL.md's rules.
//!
//! This is the one place the runner checks answers itself rather than record a history for the
//! checker: what to send next depends on what came back, and a rule broken here is the
//! adapter's, never the lock's. The rules' names and the checklist's types are the model's
//! ([`Rule`]); the report formats the result.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::env;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use lockcheck_model::{Checklist, MaskedVar, Miss, Rule, RuleOutcome, RuleResult};
use lockcheck_protocol::{
    AdapterMessage, Capability, ErrorKind, Hello, Mode, Op, Request, Response, Status, Vocabulary,
    Wait,
};

use crate::adapter::{Adapter, Launch, Message, Output};
use crate::lockdir::LockDir;
use crate::probe::read_hello;
use crate::spec::{AdapterSpec, RunOptions};
use crate::sys;

/// Variables that change how an adapter's runtime buffers stdout. Where the runner's
/// environment sets one, an adapter that never flushes passes here and hangs elsewhere, so
/// adapter-check starts the adapter without them (a manifest's own `env` still sets them).
/// Node has none: its stdout on a pipe is written asynchronously whatever the environment.
pub const MASKED_ENV: &[(&str, &str)] = &[
    (
        "PYTHONUNBUFFERED",
        "CPython then writes stdout unbuffered, as `python -u`",
    ),
    (
        "_STDBUF_O",
        "stdbuf(1) then sets C stdio's stdout buffering (through LD_PRELOAD)",
    ),
    (
        "_STDBUF_E",
        "stdbuf(1) then sets C stdio's stderr buffering",
    ),
    ("_STDBUF_I", "stdbuf(1) then sets C stdio's stdin buffering"),
];

/// The op no protocol version has, sent to see it answered `unsupported`.
const UNKNOWN_OP: &str = "adapter_check_unknown_op";
/// A line without a usable id: the adapter must not answer it, and must read on.
const NOT_JSON: &str = "this line is not JSON";
/// How long after a line without an id an answer to it is looked for.
const QUIET: Duration = Duration::from_millis(200);
/// How long an adapter is given to exit after `exit` or the end of its input, and to write
/// what it still has when its stdin closes.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// How long a timed start is asked to wait.
const AFTER_US: u64 = 50_000;
/// Stderr lines the checklist keeps.
const TAIL_LINES: usize = 20;

/// Starts the adapter of `spec` (twice: a second process holds the lock against the first and
/// checks `exit`), converses with it, and returns the checklist. Nothing it started outlives
/// it.
pub fn adapter_check(spec: &AdapterSpec, opts: &RunOptions) -> Checklist {
    let masked: Vec<MaskedVar> = MASKED_ENV
        .iter()
        .map(|&(name, why)| MaskedVar {
            name,
            why,
            was_set: env::var_os(name).is_some(),
        })
        .collect();
    let mut check = Check {
        spec,
        opts,
        found: BTreeMap::new(),
        skipped: BTreeMap::new(),
        stderr: VecDeque::new(),
        ended: None,
        implementation: None,
    };
    check.run();
    let rules = Rule::ALL
        .iter()
        .map(|&rule| RuleResult {
            rule,
            outcome: check.outcome(rule),
        })
        .collect();
    Checklist {
        command: spec.command.join(" "),
        masked,
        implementation: check.implementation,
        rules,
        stderr: check.stderr.into(),
    }
}

/// What the checks found so far.
#[derive(Default)]
struct Tally {
    checks: usize,
    misses: Vec<Miss>,
}

struct Check<'a> {
    spec: &'a AdapterSpec,
    opts: &'a RunOptions,
    found: BTreeMap<Rule, Tally>,
    /// Why a rule was not checked at all.
    skipped: BTreeMap<Rule, String>,
    stderr: VecDeque<String>,
    /// Why the conversation ended early, for the rules it never reached.
    ended: Option<String>,
    implementation: Option<String>,
}

impl Check<'_> {
    fn kept(&mut self, rule: Rule) {
        self.found.entry(rule).or_default().checks += 1;
    }

    fn miss(&mut self, rule: Rule, what: String, sent: Option<&str>, got: Option<&str>) {
        let tally = self.found.entry(rule).or_default();
        tally.checks += 1;
        tally.misses.push(Miss {
            what,
            sent: sent.map(clip),
            got: got.map(clip),
        });
    }

    /// Records `ok` as a check of `rule` kept, or `what` as its miss.
    fn hold(&mut self, rule: Rule, ok: bool, what: impl FnOnce() -> String, exchange: &Exchange) {
        if ok {
            self.kept(rule);
        } else {
            self.miss(rule, what(), Some(&exchange.sent), Some(&exchange.got));
        }
    }

    fn skip(&mut self, rule: Rule, why: impl Into<String>) {
        self.skipped.entry(rule).or_insert_with(|| why.into());
    }

    fn outcome(&self, rule: Rule) -> RuleOutcome {
        match self.found.get(&rule) {
            Some(tally) if !tally.misses.is_empty() => RuleOutcome::Broken(tally.misses.clone()),
            Some(tally) => RuleOutcome::Kept {
                checks: tally.checks,
            },
            None => RuleOutcome::NotChecked(
                self.skipped
                    .get(&rule)
                    .cloned()
                    .or_else(|| self.ended.clone())
                    .unwrap_or_else(|| "nothing exercised it".to_owned()),
            ),
        }
    }

    fn end(&mut self, why: String) {
        self.ended.get_or_insert(why);
    }

    fn run(&mut self) {
        let dir = match LockDir::new(self.opts.temp_root.as_deref(), "adapter-check") {
            Ok(dir) => dir,
            Err(e) => {
                return self.end(format!("cannot create a temporary lock directory: {e}"));
            }
        };
        let Some((mut a, hello)) = self.start(&dir, "a") else {
            return;
        };
        self.implementation = Some(format!(
            "{} {} ({})",
            hello.implementation.name, hello.implementation.version, hello.implementation.language
        ));
        self.skip(
            Rule::Timestamps,
            "no answer carried `t_ns` (it is optional)",
        );
        let alive = self.first_process(&mut a, &hello, &dir);
        if alive {
            self.second_process(&mut a, &hello, &dir);
        }
        if alive && a.alive {
            self.end_of_input(&mut a);
        }
        a.stop();
    }

    /// Starts one adapter process and reads its hello; `None` (and the conversation ended)
    /// when it cannot be started or says no valid hello.
    fn start(&mut self, dir: &LockDir, participant: &str) -> Option<(Process, Hello)> {
        let names: Vec<&str> = MASKED_ENV.iter().map(|(name, _)| *name).collect();
        // Its own cgroup, as every participant has: whatever it starts ends with it.
        let cgroup = match sys::Cgroup::create(self.opts.cgroups) {
            Ok(cgroup) => cgroup,
            Err(e) => {
                self.end(format!("cannot create the adapter's cgroup: {e}"));
                return None;
            }
        };
        let (tx, rx) = mpsc::channel();
        let launch = Launch {
            who: 0,
            participant,
            lock_path: dir.lock_path(),
            seed: self.opts.seed,
            own_pid_namespace: false,
            cgroup: cgroup.as_ref(),
            unset: &names,
        };
        let adapter = match Adapter::spawn(self.spec, &launch, &tx) {
            Ok(adapter) => adapter,
            Err(e) => {
                self.miss(
                    Rule::Hello,
                    format!("the adapter could not be started: {e}"),
                    None,
                    None,
                );
                self.end("the adapter could not be started".to_owned());
                return None;
            }
        };
        drop(tx);
        let mut process = Process {
            adapter: Some(adapter),
            rx,
            next_id: 1,
            answered: BTreeSet::new(),
            last_t_ns: None,
            children: Vec::new(),
            alive: true,
            cgroup,
        };
        let deadline = Instant::now() + self.opts.hello_timeout;
        loop {
            match process.next(self, deadline) {
                Next::Line(line) => match read_hello(&line) {
                    Ok(hello) => {
                        self.kept(Rule::Hello);
                        self.kept(Rule::Flush);
                        return Some((process, hello));
                    }
                    Err(problem) => {
                        self.miss(
                            Rule::Hello,
                            format!("the first line is not a valid hello: {problem}"),
                            None,
                            Some(&line),
                        );
                        self.end("the hello was not valid".to_owned());
                        process.stop();
                        return None;
                    }
                },
                Next::Stderr => continue,
                Next::Gone(how) => {
                    self.miss(Rule::Hello, format!("no hello: {how}"), None, None);
                    self.end("the adapter said no hello".to_owned());
                    process.stop();
                    return None;
                }
                Next::Timeout => {
                    let waited = self.opts.hello_timeout;
                    match process.after_close(self) {
                        Some(line) => self.miss(
                            Rule::Flush,
                            format!(
                                "no hello within {waited:?}; it came only when stdin closed and \
                                 the adapter exited: it sat unflushed in a buffer"
                            ),
                            None,
                            Some(&line),
                        ),
                        None => self.miss(
                            Rule::Hello,
                            format!("no hello within {waited:?}"),
                            None,
                            None,
                        ),
                    }
                    self.end("the adapter said no hello in time".to_owned());
                    process.stop();
                    return None;
                }
            }
        }
    }

    /// The first process: the protocol's edges, then every op the hello promises, each on a
    /// free lock. Returns whether it is still talking.
    fn first_process(&mut self, a: &mut Process, hello: &Hello, dir: &LockDir) -> bool {
        // A release when nothing is held, before anything else.
        let Some(x) = self.ask(a, &Op::Release, None, Rule::ReleaseWhenNotHeld) else {
            return false;
        };
        let not_held = x.response.status == Status::Ok
            || (x.response.status == Status::Error && x.response.kind == Some(ErrorKind::NotHeld));
        self.hold(
            Rule::ReleaseWhenNotHeld,
            not_held,
            || format!("answered {}; expected ok or error/not_held", x.status()),
            &x,
        );

        // An op of no protocol version.
        let id = a.next_id;
        let line = format!("{{\"id\":{id},\"op\":\"{UNKNOWN_OP}\"}}");
        let Some(x) = self.ask_line(a, line, id, Rule::UnknownOps) else {
            return false;
        };
        self.hold(
            Rule::UnknownOps,
            x.response.status == Status::Unsupported,
            || format!("answered {}; expected unsupported", x.status()),
            &x,
        );

        // A malformed request with an id: a mistyped `mode`.
        let id = a.next_id;
        let line = format!("{{\"id\":{id},\"op\":\"acquire\",\"mode\":7,\"wait\":\"try\"}}");
        let Some(x) = self.ask_line(a, line, id, Rule::MalformedRequests) else {
            return false;
        };
        self.hold(
            Rule::MalformedRequests,
            x.response.status == Status::Error && x.response.kind == Some(ErrorKind::BadRequest),
            || format!("answered {}; expected error/bad_request", x.status()),
            &x,
        );
        // A line without a usable id: no answer, and reading goes on.
        if !self.send_unanswerable(a) {
            return false;
        }

        // Every mode and wait declared, on a free lock: acquire, release.
        let modes = declared(hello, &[Mode::Exclusive, Mode::Shared], Mode::capability);
        let waits = declared(hello, &WAITS, Wait::capability);
        for &mode in &modes {
            for &wait in &waits {
                let op = acquire(mode, wait);
                let rule = match wait {
                    Wait::Timeout => Rule::TimeoutZero,
                    _ => Rule::Requests,
                };
                if !self.expect(a, &op, None, rule, &[Status::Ok], "the lock is free") {
                    return false;
                }
                if !self.expect(a, &Op::Release, None, Rule::Requests, &[Status::Ok], "") {
                    return false;
                }
            }
        }
        if !waits.contains(&Wait::Timeout) {
            self.skip(Rule::TimeoutZero, "the hello does not declare `timeout`");
        }
        let (Some(&mode), Some(&wait)) = (modes.first(), waits.first()) else {
            self.skip(
                Rule::Requests,
                "the hello declares no mode or no way to wait: nothing can be acquired",
            );
            return a.alive;
        };

        if hello.timed_start {
            let sent = Instant::now();
            let Some(x) = self.ask(a, &acquire(mode, wait), Some(AFTER_US), Rule::TimedStarts)
            else {
                return false;
            };
            let after = Duration::from_micros(AFTER_US);
            let took = x.at.saturating_duration_since(sent);
            self.hold(
                Rule::TimedStarts,
                took >= after,
                || format!("answered {took:?} after it was written, sooner than its after_us ({after:?})"),
                &x,
            );
            if x.response.status == Status::Ok
                && !self.expect(a, &Op::Release, None, Rule::Requests, &[Status::Ok], "")
            {
                return false;
            }
        } else {
            self.skip(Rule::TimedStarts, "the hello does not say `timed_start`");
        }

        // While holding: the ops that act on a held lock.
        if !self.expect(
            a,
            &acquire(mode, wait),
            None,
            Rule::Requests,
            &[Status::Ok],
            "the lock is free",
        ) {
            return false;
        }
        if hello.supports(Capability::TouchFd)
            && !self.expect(a, &Op::TouchFd, None, Rule::Requests, &[Status::Ok], "")
        {
            return false;
        }
        if hello.supports(Capability::SecondHandle) {
            let Some(x) = self.ask(a, &Op::SecondHandle { mode }, None, Rule::Requests) else {
                return false;
            };
            let fine = matches!(x.response.status, Status::Ok | Status::Busy)
                || x.response.kind == Some(ErrorKind::AlreadyHeldByThisProcess);
            self.hold(
                Rule::Requests,
                fine,
                || {
                    format!(
                        "answered {}; expected ok, busy or error/already_held_by_this_process",
                        x.status()
                    )
                },
                &x,
            );
            if x.response.status == Status::Ok
                && !self.expect(
                    a,
                    &Op::ReleaseSecond,
                    None,
                    Rule::Requests,
                    &[Status::Ok],
                    "",
                )
            {
                return false;
            }
        }
        if hello.supports(Capability::SpawnChild) {
            if !self.spawn_child(a) {
                return false;
            }
        } else {
            self.skip(
                Rule::SpawnedChildren,
                "the hello does not declare `spawn_child`",
            );
        }
        if hello.supports(Capability::HolderInfo)
            && !self.expect(a, &Op::Holder, None, Rule::Requests, &[Status::Ok], "")
        {
            return false;
        }
        if !self.expect(a, &Op::Release, None, Rule::Requests, &[Status::Ok], "") {
            return false;
        }

        if hello.supports(Capability::Threads) {
            let op = Op::ThreadRace {
                threads: 4,
                hold_ms: 10,
            };
            let Some(x) = self.ask(a, &op, None, Rule::Requests) else {
                return false;
            };
            self.hold(
                Rule::Requests,
                x.response.status == Status::Ok && x.response.winners.is_some(),
                || format!("answered {}; expected ok with `winners`", x.status()),
                &x,
            );
        }
        if hello.supports(Capability::Bench) && !self.bench(a, dir) {
            return false;
        }
        a.alive
    }

    /// A second process holds the lock: the first is told `busy` by a try and `timeout` by a
    /// `timeout_ms: 0` wait. Then the second is sent `exit`.
    fn second_process(&mut self, a: &mut Process, hello: &Hello, dir: &LockDir) {
        let Some((mut b, _)) = self.start(dir, "b") else {
            return;
        };
        let contention = hello.supports(Capability::Exclusive);
        let waits = declared(hello, &WAITS, Wait::capability);
        if contention && let Some(&wait) = waits.first() {
            let held = self.expect(
                &mut b,
                &acquire(Mode::Exclusive, wait),
                None,
                Rule::Requests,
                &[Status::Ok],
                "the lock is free",
            );
            if held {
                if waits.contains(&Wait::Try)
                    && !self.expect(
                        a,
                        &acquire(Mode::Exclusive, Wait::Try),
                        None,
                        Rule::Requests,
                        &[Status::Busy],
                        "another process holds the lock",
                    )
                {
                    b.stop();
                    return;
                }
                if waits.contains(&Wait::Timeout)
                    && !self.expect(
                        a,
                        &acquire(Mode::Exclusive, Wait::Timeout),
                        None,
                        Rule::TimeoutZero,
                        &[Status::Timeout],
                        "another process holds the lock",
                    )
                {
                    b.stop();
                    return;
                }
            }
        }
        if b.alive {
            self.exit(&mut b);
        }
        b.stop();
    }

    /// `exit`: answered `ok`, then stdout ends and the process exits with status 0.
    fn exit(&mut self, b: &mut Process) {
        let Some(x) = self.ask(b, &Op::Exit, None, Rule::CleanExit) else {
            return;
        };
        self.hold(
            Rule::CleanExit,
            x.response.status == Status::Ok,
            || format!("answered {}; expected ok", x.status()),
            &x,
        );
        let sent = x.sent.clone();
        match b.wait_exit(self) {
            Ok(()) => self.kept(Rule::CleanExit),
            Err(how) => self.miss(Rule::CleanExit, how, Some(&sent), None),
        }
    }

    /// The end of input: stdin closes, stdout ends, and the process exits with status 0.
    fn end_of_input(&mut self, a: &mut Process) {
        if let Some(adapter) = a.adapter.as_mut() {
            adapter.close_stdin();
        }
        match a.wait_exit(self) {
            Ok(()) => self.kept(Rule::EndOfInput),
            Err(how) => self.miss(
                Rule::EndOfInput,
                format!("after stdin closed, {how}"),
                None,
                None,
            ),
        }
    }

    fn spawn_child(&mut self, a: &mut Process) -> bool {
        let Some(x) = self.ask(a, &Op::SpawnChild, None, Rule::Requests) else {
            return false;
        };
        let child = x.response.child_pid;
        self.hold(
            Rule::Requests,
            x.response.status == Status::Ok && child.is_some(),
            || format!("answered {}; expected ok with `child_pid`", x.status()),
            &x,
        );
        let (Some(child), Some(adapter)) = (child, a.adapter.as_ref()) else {
            return a.alive;
        };
        a.children.push(child);
        match still_shared(child, adapter.pid) {
            None => self.skip(
                Rule::SpawnedChildren,
                format!("child {child}'s descriptors cannot be read on this system"),
            ),
            Some(shared) if shared.is_empty() => self.kept(Rule::SpawnedChildren),
            Some(shared) => {
                let names: Vec<&str> = shared
                    .iter()
                    .map(|fd| if *fd == 0 { "stdin" } else { "stdout" })
                    .collect();
                self.miss(
                    Rule::SpawnedChildren,
                    format!(
                        "the child (pid {child}) holds the adapter's protocol {}; give it null",
                        names.join(" and ")
                    ),
                    Some(&x.sent),
                    Some(&x.got),
                );
            }
        }
        a.alive
    }

    fn bench(&mut self, a: &mut Process, dir: &LockDir) -> bool {
        let samples = dir.lock_path().with_file_name("adapter-check.samples");
        let op = Op::Bench {
            hold_us: 0,
            duration_ms: 50,
            max_acquisitions: 1000,
            samples: samples.display().to_string(),
        };
        let start = lockcheck_protocol::monotonic_ns();
        let Some(x) = self.ask(a, &op, Some(10_000), Rule::Requests) else {
            return false;
        };
        let end = lockcheck_protocol::monotonic_ns();
        let problem = match (x.response.status, x.response.acquisitions) {
            (Status::Ok, Some(n)) => match std::fs::read_to_string(&samples) {
                Ok(text) => lockcheck_model::bench::parse_samples(&text, n, (start, end))
                    .err()
                    .map(|e| format!("its samples file is refused: {e}")),
                Err(e) => Some(format!("its samples file cannot be read: {e}")),
            },
            _ => Some(format!(
                "answered {}; expected ok with `acquisitions`",
                x.status()
            )),
        };
        match problem {
            None => self.kept(Rule::Requests),
            Some(what) => self.miss(Rule::Requests, what, Some(&x.sent), Some(&x.got)),
        }
        a.alive
    }

    /// Sends `op` and holds the answer's status to `statuses`; `why` says what makes them the
    /// right ones. Whether the conversation goes on.
    fn expect(
        &mut self,
        p: &mut Process,
        op: &Op,
        after_us: Option<u64>,
        rule: Rule,
        statuses: &[Status],
        why: &str,
    ) -> bool {
        let Some(x) = self.ask(p, op, after_us, rule) else {
            return false;
        };
        let expected: Vec<&str> = statuses.iter().map(|s| s.name()).collect();
        let declared = op.capabilities();
        self.hold(
            rule,
            statuses.contains(&x.response.status),
            || {
                let mut what = format!(
                    "answered {}; expected {}",
                    x.status(),
                    expected.join(" or ")
                );
                if !why.is_empty() {
                    what.push_str(&format!(" ({why})"));
                }
                if x.response.status == Status::Unsupported && !declared.is_empty() {
                    let names: Vec<&str> = declared.iter().map(|c| c.name()).collect();
                    what.push_str(&format!(", since the hello declares {}", names.join(", ")));
                }
                what
            },
            &x,
        );
        true
    }

    fn ask(
        &mut self,
        p: &mut Process,
        op: &Op,
        after_us: Option<u64>,
        rule: Rule,
    ) -> Option<Exchange> {
        let id = p.next_id;
        let request = Request {
            after_us,
            ..Request::new(id, op.clone())
        };
        let line = serde_json::to_string(&request).expect("a request serialises");
        self.ask_line(p, line, id, rule)
    }

    /// Writes `line` (whose id is `id`) and reads its answer. `None` when the conversation is
    /// over: no answer in time, or the adapter gone; the miss is `rule`'s.
    fn ask_line(&mut self, p: &mut Process, line: String, id: u64, rule: Rule) -> Option<Exchange> {
        p.next_id = id + 1;
        if let Err(e) = p.send(&line) {
            self.miss(
                rule,
                format!("cannot write the request: {e}"),
                Some(&line),
                None,
            );
            p.alive = false;
            self.end("the adapter stopped reading".to_owned());
            return None;
        }
        let deadline = Instant::now() + self.opts.request_timeout;
        loop {
            match p.next(self, deadline) {
                Next::Stderr => {}
                Next::Line(got) => {
                    let Some(response) = self.response(p, &got, Some(&line)) else {
                        continue;
                    };
                    if response.id != id && p.answered.contains(&response.id) {
                        self.miss(
                            Rule::OneResponse,
                            format!("request {} was answered again", response.id),
                            Some(&line),
                            Some(&got),
                        );
                        continue;
                    }
                    if response.id == id {
                        self.kept(Rule::EchoId);
                    } else {
                        self.miss(
                            Rule::EchoId,
                            format!("request {id} was answered with id {}", response.id),
                            Some(&line),
                            Some(&got),
                        );
                    }
                    self.kept(Rule::OneResponse);
                    self.kept(Rule::Flush);
                    p.answered.insert(id);
                    return Some(Exchange {
                        sent: line,
                        got,
                        response,
                        at: Instant::now(),
                    });
                }
                Next::Gone(how) => {
                    self.miss(rule, format!("no answer: {how}"), Some(&line), None);
                    p.alive = false;
                    self.end("the adapter stopped answering".to_owned());
                    return None;
                }
                Next::Timeout => {
                    let waited = self.opts.request_timeout;
                    match p.after_close(self) {
                        Some(got) => self.miss(
                            Rule::Flush,
                            format!(
                                "no answer within {waited:?}; it came only when stdin closed and \
                                 the adapter exited: it sat unflushed in a buffer"
                            ),
                            Some(&line),
                            Some(&got),
                        ),
                        None => self.miss(
                            rule,
                            format!("no answer within {waited:?}"),
                            Some(&line),
                            None,
                        ),
                    }
                    p.alive = false;
                    self.end("the adapter stopped answering".to_owned());
                    return None;
                }
            }
        }
    }

    /// A stdout line as a response, or the miss it is: not a protocol message, or a second
    /// hello. Checks `t_ns`.
    fn response(&mut self, p: &mut Process, got: &str, sent: Option<&str>) -> Option<Response> {
        match lockcheck_protocol::parse_adapter_message(got) {
            Ok(AdapterMessage::Response(response)) => {
                self.kept(Rule::StdoutProtocolOnly);
                if let Some(t) = response.t_ns {
                    match p.last_t_ns {
                        Some(last) if t < last => self.miss(
                            Rule::Timestamps,
                            format!("t_ns went back from {last} to {t}"),
                            sent,
                            Some(got),
                        ),
                        _ => self.kept(Rule::Timestamps),
                    }
                    p.last_t_ns = Some(t);
                }
                Some(response)
            }
            Ok(AdapterMessage::Hello(_)) => {
                self.miss(
                    Rule::StdoutProtocolOnly,
                    "a second hello".to_owned(),
                    sent,
                    Some(got),
                );
                None
            }
            Err(problem) => {
                self.miss(
                    Rule::StdoutProtocolOnly,
                    format!("a line that is not a response matching the schema: {problem}"),
                    sent,
                    Some(got),
                );
                None
            }
        }
    }

    /// Checks a line that came while no request was outstanding: `true` when it is a second
    /// answer to an answered request (a miss of [`Rule::OneResponse`]), or not a response.
    fn answered_again(&mut self, p: &mut Process, got: &str, sent: Option<&str>) -> bool {
        let Some(response) = self.response(p, got, sent) else {
            return true;
        };
        if !p.answered.contains(&response.id) {
            return false;
        }
        self.miss(
            Rule::OneResponse,
            format!("request {} was answered again", response.id),
            sent,
            Some(got),
        );
        true
    }

    /// Writes a line with no usable id and watches [`QUIET`] for an answer to it.
    fn send_unanswerable(&mut self, p: &mut Process) -> bool {
        if let Err(e) = p.send(NOT_JSON) {
            self.miss(
                Rule::MalformedRequests,
                format!("cannot write the line: {e}"),
                Some(NOT_JSON),
                None,
            );
            p.alive = false;
            return false;
        }
        let deadline = Instant::now() + QUIET;
        loop {
            match p.next(self, deadline) {
                Next::Stderr => {}
                Next::Line(got) => {
                    let again = self.answered_again(p, &got, Some(NOT_JSON));
                    if !again {
                        self.miss(
                            Rule::MalformedRequests,
                            "a line without a usable id was answered; write the problem to stderr \
                             instead"
                                .to_owned(),
                            Some(NOT_JSON),
                            Some(&got),
                        );
                    }
                }
                Next::Gone(how) => {
                    self.miss(
                        Rule::MalformedRequests,
                        format!("the adapter did not survive a line without an id: {how}"),
                        Some(NOT_JSON),
                        None,
                    );
                    p.alive = false;
                    self.end("the adapter stopped answering".to_owned());
                    return false;
                }
                Next::Timeout => {
                    self.kept(Rule::MalformedRequests);
                    return true;
                }
            }
        }
    }

    fn tail(&mut self, line: String) {
        if self.stderr.len() == TAIL_LINES {
            self.stderr.pop_front();
        }
        self.stderr.push_back(line);
    }
}

/// One request and its answer.
struct Exchange {
    sent: String,
    got: String,
    response: Response,
    /// When the answer was read.
    at: Instant,
}

impl Exchange {
    /// The answer's status, with its kind for an error: `error/not_held`.
    fn status(&self) -> String {
        match (self.response.status, self.response.kind) {
            (Status::Error, Some(kind)) => format!("error/{}", kind.name()),
            (status, _) => status.name().to_owned(),
        }
    }
}

/// What a process produced next.
enum Next {
    Line(String),
    Stderr,
    /// Stdout ended, or the process is gone: how.
    Gone(String),
    Timeout,
}

/// One adapter process and what is known about its conversation.
struct Process {
    adapter: Option<Adapter>,
    rx: Receiver<Message>,
    next_id: u64,
    answered: BTreeSet<u64>,
    last_t_ns: Option<u64>,
    /// Started by `spawn_child`, killed at the end.
    children: Vec<u32>,
    alive: bool,
    /// Ended (killing what is left in it) when the process stops, after the adapter.
    cgroup: Option<sys::Cgroup>,
}

impl Process {
    fn send(&mut self, line: &str) -> std::io::Result<()> {
        match self.adapter.as_mut() {
            Some(adapter) => adapter.send_line(line),
            None => Err(std::io::Error::other("the adapter is stopped")),
        }
    }

    fn next(&mut self, check: &mut Check<'_>, deadline: Instant) -> Next {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(wait).map(|m| m.output) {
            Ok(Output::Line(line)) => Next::Line(line),
            Ok(Output::Stderr(line)) => {
                check.tail(line);
                Next::Stderr
            }
            Ok(Output::Partial(rest)) => {
                check.miss(
                    Rule::StdoutProtocolOnly,
                    "stdout ended inside a line: it has no newline".to_owned(),
                    None,
                    Some(&rest),
                );
                Next::Gone(self.status())
            }
            Ok(Output::TooLong(bytes)) => {
                check.miss(
                    Rule::StdoutProtocolOnly,
                    format!(
                        "a line of more than {bytes} bytes, over the protocol's limit of {}",
                        lockcheck_protocol::MAX_LINE_BYTES
                    ),
                    None,
                    None,
                );
                Next::Gone("it wrote a line over the limit".to_owned())
            }
            Ok(Output::Eof) | Err(RecvTimeoutError::Disconnected) => Next::Gone(self.status()),
            Err(RecvTimeoutError::Timeout) => Next::Timeout,
        }
    }

    /// How the process ended, once its stdout has: its exit status, within [`EXIT_GRACE`].
    fn status(&mut self) -> String {
        let Some(adapter) = self.adapter.as_mut() else {
            return "it is stopped".to_owned();
        };
        match sys::wait_exit(&mut adapter.child, Instant::now() + EXIT_GRACE) {
            Ok(Some(status)) => format!("its stdout closed and it exited ({status})"),
            Ok(None) => "its stdout closed, but it was still running".to_owned(),
            Err(e) => format!("its stdout closed (exit status unknown: {e})"),
        }
    }

    /// After a deadline passed: closes stdin and returns the first stdout line that then
    /// arrives within [`EXIT_GRACE`] (one that sat in a buffer until the adapter exited).
    fn after_close(&mut self, check: &mut Check<'_>) -> Option<String> {
        self.alive = false;
        self.adapter.as_mut()?.close_stdin();
        let deadline = Instant::now() + EXIT_GRACE;
        loop {
            match self.next(check, deadline) {
                Next::Line(line) => return Some(line),
                Next::Stderr => {}
                Next::Gone(_) | Next::Timeout => return None,
            }
        }
    }

    /// Reads to the end of stdout, then waits for a status 0 exit, within [`EXIT_GRACE`];
    /// what went wrong otherwise. Lines it writes meanwhile are checked as answers to nothing.
    fn wait_exit(&mut self, check: &mut Check<'_>) -> Result<(), String> {
        let deadline = Instant::now() + EXIT_GRACE;
        let mut extra = Vec::new();
        let how = loop {
            match self.next(check, deadline) {
                Next::Line(line) => extra.push(line),
                Next::Stderr => {}
                Next::Gone(how) => break Some(how),
                Next::Timeout => break None,
            }
        };
        self.alive = false;
        for line in &extra {
            if !check.answered_again(self, line, None) {
                check.miss(
                    Rule::OneResponse,
                    "a line after the last answer".to_owned(),
                    None,
                    Some(line),
                );
            }
        }
        let Some(how) = how else {
            return Err(format!(
                "it did not exit within {EXIT_GRACE:?} (its stdout stayed open)"
            ));
        };
        let status = self
            .adapter
            .as_mut()
            .and_then(|a| a.child.try_wait().ok().flatten());
        match status {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(format!("it exited with {status}, not status 0")),
            None => Err(how),
        }
    }

    /// Kills the process group, and every child it said it started.
    fn stop(&mut self) {
        if let Some(adapter) = self.adapter.take() {
            adapter.kill_and_reap();
        }
        for child in self.children.drain(..) {
            let _ = sys::kill_tree(child);
            let _ = sys::signal(child, sys::Sig::Kill);
        }
        // Ending the cgroup kills whatever the adapter started and the signals missed.
        self.cgroup = None;
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Which protocol pipes `child` still shares with `parent` after [`EXIT_GRACE`]: a child
/// between its fork and its exec has not yet redirected them, so only what stays shared that
/// long is a miss.
fn still_shared(child: u32, parent: u32) -> Option<Vec<u32>> {
    let deadline = Instant::now() + EXIT_GRACE;
    loop {
        let shared = sys::shared_pipes(child, parent)?;
        if shared.is_empty() || Instant::now() >= deadline {
            return Some(shared);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every way to wait, in the order they are tried.
const WAITS: [Wait; 3] = [Wait::Try, Wait::Block, Wait::Timeout];

/// The modes or waits among `all` whose capability (`capability`) the hello declares.
fn declared<T: Copy>(hello: &Hello, all: &[T], capability: fn(T) -> Capability) -> Vec<T> {
    all.iter()
        .copied()
        .filter(|&x| hello.supports(capability(x)))
        .collect()
}

/// An acquire; a timed one waits `timeout_ms: 0`.
fn acquire(mode: Mode, wait: Wait) -> Op {
    Op::Acquire {
        mode,
        wait,
        timeout_ms: (wait == Wait::Timeout).then_some(0),
    }
}

/// A line as the checklist shows it: at most 300 bytes.
fn clip(line: &str) -> String {
    let head = lockcheck_protocol::head(line, 300);
    match head.len() < line.len() {
        true => format!("{head} [...]"),
        false => head.to_owned(),
    }
}
