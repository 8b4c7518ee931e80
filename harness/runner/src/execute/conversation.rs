//! The conversation with one participant: writing requests, reading and checking its
//! answers, signalling it and waiting for it to exit.

use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use lockcheck_model::{BrokenReason, EventKind, Fault, Step};
use lockcheck_protocol::{AdapterMessage, Op, Request, Response};

use super::{Broken, Iteration, Pending, State, StepResult, harness};
use crate::adapter::{Message, Output};
use crate::spec::Cancel;
use crate::sys::{self, Sig};

/// Lines quoted in a `broken` reason are cut to this length.
const QUOTE: usize = 200;

impl Iteration<'_> {
    /// Sends `op` to every member of the step and waits for all answers.
    pub(super) fn request(
        &mut self,
        step: &Step,
        index: u32,
        op: &Op,
        limit: Duration,
    ) -> StepResult {
        let members = self.members(step)?;
        let ids = self.send_all(&members, op, index, None)?;
        self.await_all(&members, &ids, Instant::now() + limit)
    }

    pub(super) fn send_all(
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

    pub(super) fn send(
        &mut self,
        who: usize,
        op: Op,
        step: u32,
        round: Option<u32>,
    ) -> Result<u64, Broken> {
        self.send_after(who, op, step, round, None)
    }

    /// [`send`](Self::send), with the request's `after_us`.
    pub(super) fn send_after(
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

    pub(super) fn await_all(
        &mut self,
        members: &[usize],
        ids: &[u64],
        deadline: Instant,
    ) -> StepResult {
        for (&who, &id) in members.iter().zip(ids) {
            self.await_one(who, id, deadline)?;
        }
        Ok(())
    }

    pub(super) fn await_one(
        &mut self,
        who: usize,
        id: u64,
        deadline: Instant,
    ) -> Result<Response, Broken> {
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
    pub(super) fn pause(&mut self, length: Duration) -> StepResult {
        let deadline = Instant::now() + length;
        while self.pump(deadline)? {}
        Ok(())
    }

    /// Handles one message from any participant. Returns false when `deadline` passed first.
    /// A stopped run ends the wait within [`Cancel::CHECK_EVERY`], and the iteration with it.
    pub(super) fn pump(&mut self, deadline: Instant) -> Result<bool, Broken> {
        let message = loop {
            if self.opts.cancel.is_cancelled() {
                return Err(harness("the run was interrupted"));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left.min(Cancel::CHECK_EVERY)) {
                Ok(message) => break message,
                Err(RecvTimeoutError::Timeout) if left > Cancel::CHECK_EVERY => {}
                Err(RecvTimeoutError::Timeout) => return Ok(false),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(harness("output channel closed"));
                }
            }
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
        match sys::wait_exit(&mut adapter.child, deadline) {
            Ok(Some(status)) => (status.code(), sys::exit_signal(&status)),
            _ => (None, None),
        }
    }

    pub(super) fn pid(&self, who: usize) -> Result<u32, Broken> {
        self.parts[who]
            .adapter
            .as_ref()
            .map(|a| a.pid)
            .ok_or_else(|| harness(format!("{} has no process", self.parts[who].name)))
    }

    pub(super) fn signal(&mut self, who: usize, step: u32, sig: Sig, fault: Fault) -> StepResult {
        let pid = self.pid(who)?;
        let name = self.parts[who].name.clone();
        // Recorded before the signal is sent: the hold of a killed holder ends no later than this.
        self.fault(step, Some(name.clone()), fault);
        sys::signal(pid, sig).map_err(|e| harness(format!("signalling {name} (pid {pid}): {e}")))
    }

    /// Waits until participant `who` has exited and records how; its lock is free after this.
    pub(super) fn reap(&mut self, who: usize, step: u32, deadline: Instant) -> StepResult {
        let name = self.parts[who].name.clone();
        let Some(adapter) = self.parts[who].adapter.as_mut() else {
            return Ok(());
        };
        let status = match sys::wait_exit(&mut adapter.child, deadline) {
            Ok(Some(status)) => status,
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

    /// SIGKILLs one participant and waits until it has exited.
    pub(super) fn kill(&mut self, who: usize, index: u32) -> StepResult {
        self.signal(who, index, Sig::Kill, Fault::Kill)?;
        self.parts[who].state = State::Gone;
        self.parts[who].outstanding.clear();
        self.reap(who, index, Instant::now() + self.opts.request_timeout)
    }
}

fn quote(line: &str) -> String {
    if line.len() <= QUOTE {
        return line.to_owned();
    }
    format!(
        "{}[... {} bytes]",
        lockcheck_protocol::head(line, QUOTE),
        line.len()
    )
}
