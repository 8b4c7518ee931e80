//! The request/response loop: `hello`, then one response line per request line.

use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use lockcheck_protocol::{AdapterMessage, Op};

use crate::Session;

/// Why [`serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `exit` was answered. The protocol wants the process gone at once, without releasing
    /// anything explicitly; what the adapter does next is up to it.
    Exit,
    /// The input ended, which the protocol treats like `exit`.
    EndOfInput,
}

/// Serves `session`: writes its `hello` to `output`, then answers each line of `input` until
/// `exit` or end of input. Blank lines are skipped. A line that cannot be parsed is answered
/// `bad_request` (or `unsupported` for an unknown op) when it carries a usable id; without one
/// there is nothing to answer, so the problem goes to `errors` and reading goes on. A request
/// with `after_us` is carried out that long after it was read. Every
/// response carries `t_ns` from the session's clock. Errors are I/O errors on the streams.
pub fn serve(
    session: &mut Session,
    input: impl BufRead,
    mut output: impl Write,
    mut errors: impl Write,
) -> io::Result<Ended> {
    write_message(&mut output, &AdapterMessage::Hello(session.hello().clone()))?;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (mut response, exit) = match lockcheck_protocol::parse_request(&line) {
            Ok(request) => {
                if let Some(us) = request.after_us {
                    sleep_until(Instant::now() + Duration::from_micros(us));
                }
                let exit = matches!(request.op, Op::Exit);
                (session.run(request.id, request.op), exit)
            }
            Err(e) => match e.to_response() {
                Some(response) => (response, false),
                None => {
                    writeln!(
                        errors,
                        "{}: ignoring a bad request line: {e}",
                        session.hello().implementation.name
                    )?;
                    continue;
                }
            },
        };
        response.t_ns = Some(session.elapsed_ns());
        write_message(&mut output, &AdapterMessage::Response(response))?;
        if exit {
            return Ok(Ended::Exit);
        }
    }
    Ok(Ended::EndOfInput)
}

/// [`serve`] on the process's stdin and stdout, with bad lines reported on stderr: what an
/// adapter binary runs.
pub fn serve_stdio(session: &mut Session) -> io::Result<Ended> {
    serve(
        session,
        io::stdin().lock(),
        io::stdout().lock(),
        io::stderr(),
    )
}

/// Sleeps until `deadline` by the monotonic clock: a timer that fires a little early (some
/// Windows timers can) must not let a timed start answer sooner than its `after_us`.
fn sleep_until(deadline: Instant) {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left);
    }
}

/// Writes one message as one line and flushes, so that the runner sees it at once.
fn write_message(out: &mut impl Write, message: &AdapterMessage) -> io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    use lockcheck_protocol::{
        Capability, ErrorKind, Hello, HolderInfo, Implementation, Mode, PROTOCOL_VERSION, Recovery,
        Response, Status,
    };

    use super::*;
    use crate::{Lock, Outcome, Wait};

    /// An in-memory exclusive lock shared by every object made from one [`Fake::boxed`]: the
    /// protocol side can be tested without touching a lock syscall.
    struct Fake {
        taken: Arc<Mutex<bool>>,
        holds: bool,
        /// Counts tokens handed out, so that each acquisition gets a new one.
        tokens: Arc<AtomicU32>,
        token: Option<u64>,
    }

    impl Fake {
        fn boxed() -> Box<dyn Lock> {
            Box::new(Fake {
                taken: Arc::default(),
                holds: false,
                tokens: Arc::default(),
                token: None,
            })
        }
    }

    impl Lock for Fake {
        fn acquire(&mut self, _mode: Mode, wait: Wait) -> Outcome {
            assert!(!self.holds, "acquire while held");
            let mut taken = self.taken.lock().unwrap();
            if *taken {
                return match wait {
                    Wait::Timeout(_) => Outcome::TimedOut(None),
                    _ => Outcome::Busy(Some("taken".to_owned())),
                };
            }
            *taken = true;
            self.holds = true;
            self.token = Some(u64::from(self.tokens.fetch_add(1, Ordering::SeqCst)) + 1);
            Outcome::Ok
        }

        fn release(&mut self) -> Outcome {
            assert!(self.holds, "release while not held");
            *self.taken.lock().unwrap() = false;
            self.holds = false;
            Outcome::Ok
        }

        fn token(&self) -> Option<u64> {
            self.token
        }

        fn holder(&mut self) -> Result<Option<HolderInfo>, Outcome> {
            Ok((*self.taken.lock().unwrap()).then(|| HolderInfo {
                pid: Some(42),
                ..HolderInfo::default()
            }))
        }

        fn fresh(&self) -> Box<dyn Lock> {
            Box::new(Fake {
                taken: self.taken.clone(),
                holds: false,
                tokens: self.tokens.clone(),
                token: None,
            })
        }
    }

    fn hello(capabilities: &[Capability]) -> Hello {
        Hello {
            protocol: PROTOCOL_VERSION,
            implementation: Implementation {
                name: "fake".to_owned(),
                version: "1".to_owned(),
                language: "rust".to_owned(),
            },
            capabilities: capabilities.to_vec(),
            recovery: Recovery::Kernel,
            timed_start: true,
        }
    }

    struct Served {
        ended: Ended,
        hello: Hello,
        responses: Vec<Response>,
        errors: String,
    }

    /// Serves `input` to a fresh session on `path` declaring `capabilities`.
    fn serve_with(capabilities: &[Capability], path: &str, input: &str) -> Served {
        let mut session = Session::new(hello(capabilities), path, Fake::boxed());
        serve_session(&mut session, input)
    }

    fn serve_session(session: &mut Session, input: &str) -> Served {
        let (mut output, mut errors) = (Vec::new(), Vec::new());
        let ended = serve(session, input.as_bytes(), &mut output, &mut errors).unwrap();
        let mut messages = String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|line| lockcheck_protocol::parse_adapter_message(line).unwrap())
            .collect::<Vec<_>>()
            .into_iter();
        let Some(AdapterMessage::Hello(hello)) = messages.next() else {
            panic!("the first line is not a hello");
        };
        let responses = messages
            .map(|m| match m {
                AdapterMessage::Response(r) => r,
                AdapterMessage::Hello(_) => panic!("a second hello"),
            })
            .collect();
        Served {
            ended,
            hello,
            responses,
            errors: String::from_utf8(errors).unwrap(),
        }
    }

    fn serve_all(input: &str) -> Served {
        serve_with(&Capability::ALL, "/nonexistent/lockcheck-kit", input)
    }

    /// The response without its clock, for comparisons.
    fn timeless(mut response: Response) -> Response {
        assert!(
            response.t_ns.is_some(),
            "response without t_ns: {response:?}"
        );
        response.t_ns = None;
        response
    }

    /// Every response to `input` from a session declaring everything, without clocks.
    fn answers(input: &str) -> Vec<Response> {
        serve_all(input)
            .responses
            .into_iter()
            .map(timeless)
            .collect()
    }

    fn ok_with_token(id: u64, token: u64) -> Response {
        Response {
            token: Some(token),
            ..Response::new(id, Status::Ok)
        }
    }

    fn already_held(id: u64, message: &str) -> Response {
        Response::error(id, ErrorKind::AlreadyHeldByThisProcess, message)
    }

    fn only(served: Served) -> Response {
        assert_eq!(served.responses.len(), 1, "{:?}", served.responses);
        timeless(served.responses.into_iter().next().unwrap())
    }

    /// `after_us` delays the work, not just the answer: the acquire's `t_ns` is at least that
    /// long after the previous answer's. The hello offers it, whatever the caller's said.
    #[test]
    fn after_us_starts_the_request_that_much_later() {
        let mut plain = hello(&Capability::ALL);
        plain.timed_start = false;
        let mut session = Session::new(plain, "/nonexistent/lockcheck-kit", Fake::boxed());
        let served = serve_session(
            &mut session,
            "{\"id\":1,\"op\":\"holder\"}\n\
             {\"id\":2,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\",\"after_us\":30000}\n",
        );
        assert!(served.hello.timed_start);
        let t: Vec<u64> = served.responses.iter().map(|r| r.t_ns.unwrap()).collect();
        assert_eq!(served.responses[1].status, Status::Ok);
        assert!(
            t[1] - t[0] >= 30_000_000,
            "answered {} ns apart",
            t[1] - t[0]
        );
    }

    #[test]
    fn hello_comes_first_even_without_requests() {
        let served = serve_all("");
        assert_eq!(served.hello, hello(&Capability::ALL));
        assert!(served.responses.is_empty());
        assert_eq!(served.ended, Ended::EndOfInput);
    }

    #[test]
    fn a_line_without_a_usable_id_goes_to_errors_and_reading_goes_on() {
        let served =
            serve_all("not json\n{\"op\":\"release\"}\n\n   \n{\"id\":3,\"op\":\"exit\"}\n");
        let errors = served.errors.clone();
        assert_eq!(only(served), Response::new(3, Status::Ok));
        let lines: Vec<&str> = errors.lines().collect();
        assert_eq!(lines.len(), 2, "{errors}");
        assert!(
            lines[0].starts_with("fake: ignoring a bad request line: not JSON"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines[1],
            "fake: ignoring a bad request line: missing field `id`"
        );
    }

    #[test]
    fn a_malformed_line_with_an_id_is_a_bad_request() {
        let response = only(serve_all(
            "{\"id\":7,\"op\":\"acquire\",\"mode\":\"sideways\"}\n",
        ));
        assert_eq!(response.id, 7);
        assert_eq!(response.status, Status::Error);
        assert_eq!(response.kind, Some(ErrorKind::BadRequest));
        assert!(
            response
                .message
                .as_deref()
                .unwrap()
                .starts_with("op `acquire`: "),
            "{response:?}"
        );
    }

    #[test]
    fn a_timed_acquire_without_its_limit_is_a_bad_request() {
        let response = only(serve_all(
            "{\"id\":1,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"timeout\"}\n",
        ));
        assert_eq!(
            response,
            Response::error(
                1,
                ErrorKind::BadRequest,
                "`acquire` with `wait: timeout` needs `timeout_ms`"
            )
        );
    }

    #[test]
    fn an_unknown_op_is_unsupported_and_reading_goes_on() {
        assert_eq!(
            answers("{\"id\":5,\"op\":\"downgrade\"}\n{\"id\":6,\"op\":\"release\"}\n"),
            [
                Response {
                    message: Some("unknown op `downgrade`".to_owned()),
                    ..Response::new(5, Status::Unsupported)
                },
                Response::error(6, ErrorKind::NotHeld, "the lock is not held"),
            ]
        );
    }

    #[test]
    fn exit_answers_then_stops_reading() {
        let served = serve_all(
            "{\"id\":1,\"op\":\"exit\"}\n{\"id\":2,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
        );
        assert_eq!(served.ended, Ended::Exit);
        assert_eq!(only(served), Response::new(1, Status::Ok));
    }

    #[test]
    fn acquire_release_bookkeeping() {
        let acquire = "{\"id\":ID,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n";
        let input = [
            acquire.replace("ID", "1"),
            acquire.replace("ID", "2"),
            "{\"id\":3,\"op\":\"release\"}\n".to_owned(),
            "{\"id\":4,\"op\":\"release\"}\n".to_owned(),
            acquire.replace("ID", "5"),
        ]
        .concat();
        assert_eq!(
            answers(&input),
            [
                ok_with_token(1, 1),
                already_held(2, "this participant already holds the lock"),
                Response::new(3, Status::Ok),
                Response::error(4, ErrorKind::NotHeld, "the lock is not held"),
                ok_with_token(5, 2),
            ]
        );
    }

    #[test]
    fn the_second_handle_is_its_own_lock_object() {
        let input = concat!(
            "{\"id\":1,\"op\":\"second_handle\",\"mode\":\"exclusive\"}\n",
            "{\"id\":2,\"op\":\"second_handle\",\"mode\":\"exclusive\"}\n",
            "{\"id\":3,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
            "{\"id\":4,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"timeout\",\"timeout_ms\":1}\n",
            "{\"id\":5,\"op\":\"holder\"}\n",
            "{\"id\":6,\"op\":\"release_second\"}\n",
            "{\"id\":7,\"op\":\"release_second\"}\n",
        );
        assert_eq!(
            answers(input),
            [
                ok_with_token(1, 1),
                already_held(2, "the second handle already holds the lock"),
                Response {
                    message: Some("taken".to_owned()),
                    ..Response::new(3, Status::Busy)
                },
                Response::new(4, Status::Timeout),
                Response {
                    holder: Some(HolderInfo {
                        pid: Some(42),
                        ..HolderInfo::default()
                    }),
                    ..Response::new(5, Status::Ok)
                },
                Response::new(6, Status::Ok),
                Response::error(
                    7,
                    ErrorKind::NotHeld,
                    "the second handle does not hold the lock"
                ),
            ]
        );
    }

    #[test]
    fn an_undeclared_capability_is_unsupported() {
        let served = serve_with(
            &[Capability::Exclusive, Capability::Try],
            "/nonexistent/lockcheck-kit",
            "{\"id\":1,\"op\":\"holder\"}\n{\"id\":2,\"op\":\"acquire\",\"mode\":\"shared\",\"wait\":\"try\"}\n{\"id\":3,\"op\":\"release\"}\n",
        );
        let responses: Vec<Response> = served.responses.into_iter().map(timeless).collect();
        let unsupported = |id, op: &str| Response {
            message: Some(format!("`fake` does not implement `{op}`")),
            ..Response::new(id, Status::Unsupported)
        };
        assert_eq!(
            responses,
            [
                unsupported(1, "holder"),
                unsupported(2, "acquire"),
                Response::error(3, ErrorKind::NotHeld, "the lock is not held"),
            ]
        );
    }

    #[test]
    fn a_thread_race_on_an_exclusive_lock_has_one_winner() {
        let response = only(serve_all(
            "{\"id\":1,\"op\":\"thread_race\",\"threads\":8,\"hold_ms\":1}\n",
        ));
        assert_eq!(
            response,
            Response {
                winners: Some(1),
                ..Response::new(1, Status::Ok)
            }
        );
    }

    #[test]
    fn touch_fd_opens_the_lock_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        std::fs::write(&path, "").unwrap();
        let response = only(serve_with(
            &Capability::ALL,
            path.to_str().unwrap(),
            "{\"id\":1,\"op\":\"touch_fd\"}\n",
        ));
        assert_eq!(response, Response::new(1, Status::Ok));

        let response = only(serve_with(
            &Capability::ALL,
            dir.path().join("missing").to_str().unwrap(),
            "{\"id\":2,\"op\":\"touch_fd\"}\n",
        ));
        assert_eq!(response.kind, Some(ErrorKind::Io));
        assert!(
            response
                .message
                .as_deref()
                .unwrap()
                .starts_with("cannot open the lock path again: "),
            "{response:?}"
        );
    }

    #[test]
    fn spawn_child_answers_the_child_pid() {
        let response = only(serve_all("{\"id\":1,\"op\":\"spawn_child\"}\n"));
        assert_eq!(response.status, Status::Ok);
        let pid = response.child_pid.expect("a child pid");
        assert_ne!(pid, std::process::id());
        // Not left for the runner here: end the child this test started.
        #[cfg(unix)]
        {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }

    #[test]
    fn release_all_releases_what_is_held_once() {
        let mut session = Session::new(
            hello(&Capability::ALL),
            "/nonexistent/lockcheck-kit",
            Fake::boxed(),
        );
        let served = serve_session(
            &mut session,
            "{\"id\":1,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
        );
        assert_eq!(served.responses[0].status, Status::Ok);
        session.release_all();
        // Released: a new acquisition through the same session succeeds, and a second
        // `release_all` does not release again (the fake asserts that).
        session.release_all();
        let served = serve_session(
            &mut session,
            "{\"id\":2,\"op\":\"acquire\",\"mode\":\"exclusive\",\"wait\":\"try\"}\n",
        );
        assert_eq!(served.responses[0].status, Status::Ok);
    }

    #[test]
    fn t_ns_grows() {
        let served = serve_all("{\"id\":1,\"op\":\"release\"}\n{\"id\":2,\"op\":\"release\"}\n");
        let t: Vec<u64> = served.responses.iter().map(|r| r.t_ns.unwrap()).collect();
        assert!(t[0] <= t[1], "{t:?}");
    }

    fn bench_line(id: u64, max: u64, samples: &std::path::Path) -> String {
        format!(
            "{{\"id\":{id},\"op\":\"bench\",\"hold_us\":0,\"duration_ms\":50,\
             \"max_acquisitions\":{max},\"samples\":{}}}\n",
            serde_json::to_string(samples.to_str().unwrap()).unwrap()
        )
    }

    /// The loop runs in the adapter and leaves one ordered, clock-stamped line per
    /// acquisition, as many as the answer says, and stops at `max_acquisitions`.
    #[test]
    fn bench_writes_one_ordered_sample_per_acquisition() {
        let dir = tempfile::tempdir().unwrap();
        let samples = dir.path().join("c0.samples");
        let before = lockcheck_protocol::monotonic_ns();
        let response = only(serve_all(&bench_line(1, 500, &samples)));
        let after = lockcheck_protocol::monotonic_ns();
        assert_eq!(response.status, Status::Ok, "{response:?}");
        assert_eq!(response.acquisitions, Some(500));
        assert!(response.cpu_ns.is_some());
        let text = std::fs::read_to_string(&samples).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(lockcheck_protocol::BENCH_SAMPLES_HEADER));
        let stamps: Vec<Vec<u64>> = lines
            .map(|l| l.split(' ').map(|n| n.parse().unwrap()).collect())
            .collect();
        assert_eq!(stamps.len(), 500);
        let mut last = before;
        for s in &stamps {
            assert_eq!(s.len(), 4);
            assert!(
                last <= s[0] && s[0] <= s[1] && s[1] <= s[2] && s[2] <= s[3],
                "{s:?}"
            );
            last = s[3];
        }
        assert!(last <= after);
    }

    /// A samples path that cannot be created is an `io` error, not a crash.
    #[test]
    fn bench_answers_an_unwritable_samples_file_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let samples = dir.path().join("missing").join("c0.samples");
        let response = only(serve_all(&bench_line(1, 3, &samples)));
        assert_eq!(response.status, Status::Error);
        assert_eq!(response.kind, Some(ErrorKind::Io));
    }
}
