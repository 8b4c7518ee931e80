//! The request/response loop: `hello`, then one response line per request line.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lockcheck_protocol::{AdapterMessage, ENV_LOCK_PATH, Hello, Op};

use crate::{Lock, Session};

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

/// An adapter binary's entry point: the lock path from [`ENV_LOCK_PATH`], the primary lock
/// object `open` makes for it, and [`serve_stdio`] for a session introducing itself with
/// `hello`. Returns why serving ended with the session, so that the adapter decides how its
/// process ends (releasing first, or leaving it to process exit). Without the variable the
/// error is `LOCKCHECK_LOCK_PATH is not set: {outside_a_run}`, where `outside_a_run` tells the
/// user what starts this binary.
pub fn serve_env(
    hello: Hello,
    outside_a_run: &str,
    open: impl FnOnce(&Path) -> io::Result<Box<dyn Lock>>,
) -> io::Result<(Ended, Session)> {
    let path = std::env::var_os(ENV_LOCK_PATH)
        .map(PathBuf::from)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{ENV_LOCK_PATH} is not set: {outside_a_run}"),
            )
        })?;
    let primary = open(&path)?;
    let mut session = Session::new(hello, path, primary);
    let ended = serve_stdio(&mut session)?;
    Ok((ended, session))
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
