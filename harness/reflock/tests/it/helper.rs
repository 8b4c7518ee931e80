//! Re-executes this test binary as a helper process that takes orders on stdin.
//!
//! The parent starts `<this binary> helper::entry --exact --nocapture` with `REFLOCK_IT_ROLE`
//! set; the `entry` test sees the role, plays it, and exits the process. Replies start with
//! `@` (libtest prints its own text around them, which the parent skips).

use reflock::{Access, ErrorKind, LockFile, LockGuard, Wait};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ROLE: &str = "REFLOCK_IT_ROLE";
const LOCK: &str = "REFLOCK_IT_LOCK";
const ARG: &str = "REFLOCK_IT_ARG";

/// How long a reply may take before the test fails instead of hanging.
pub const REPLY_DEADLINE: Duration = Duration::from_secs(20);

/// A helper process. Killed (SIGKILL) and reaped when dropped.
pub struct Helper {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    replies: mpsc::Receiver<String>,
}

impl Helper {
    /// Starts a helper that serves commands on the lock at `lock` (see `serve`).
    pub fn serve(lock: &Path) -> Helper {
        Helper::start("serve", lock, "")
    }

    pub fn start(role: &str, lock: &Path, arg: &str) -> Helper {
        Helper::start_with(
            Command::new(std::env::current_exe().unwrap()),
            role,
            lock,
            arg,
        )
    }

    /// A `serve` helper in a PID namespace (and with a /proc) of its own, where it is PID 1,
    /// as a program in a container is: through util-linux's unshare(1), which root can run.
    #[cfg(target_os = "linux")]
    pub fn serve_in_own_pid_namespace(lock: &Path) -> Helper {
        let mut unshare = Command::new("unshare");
        unshare
            .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
            .arg(std::env::current_exe().unwrap());
        Helper::start_with(unshare, "serve", lock, "")
    }

    fn start_with(mut command: Command, role: &str, lock: &Path, arg: &str) -> Helper {
        let mut child = command
            .args([
                "helper::entry",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ROLE, role)
            .env(LOCK, lock)
            .env(ARG, arg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest prints "test helper::entry ... " without a newline before the
                // first reply, so a reply starts at the first `@` on its line.
                if let Some((_, reply)) = line.split_once('@')
                    && tx.send(reply.to_owned()).is_err()
                {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Helper {
            child,
            stdin,
            replies,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next reply, or a test failure after `REPLY_DEADLINE`.
    #[track_caller]
    pub fn reply(&self) -> String {
        self.reply_within(REPLY_DEADLINE)
    }

    #[track_caller]
    pub fn reply_within(&self, deadline: Duration) -> String {
        match self.replies.recv_timeout(deadline) {
            Ok(reply) => reply,
            Err(e) => panic!(
                "helper {} gave no reply within {deadline:?}: {e}",
                self.pid()
            ),
        }
    }

    /// The next reply if one has arrived.
    pub fn try_reply(&self) -> Option<String> {
        self.replies.try_recv().ok()
    }

    /// Sends a command and returns its reply.
    #[track_caller]
    pub fn ask(&mut self, command: &str) -> String {
        self.send(command);
        self.reply()
    }

    /// SIGKILLs the helper and reaps it, so its descriptors are closed when this returns.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the helper to exit by itself.
    #[track_caller]
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        self.stdin.take();
        let deadline = Instant::now() + REPLY_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "helper {} did not exit",
                self.pid()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `condition` until it holds, failing the test at `deadline`.
#[track_caller]
pub fn wait_until(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !condition() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether process `pid` waits for a file lock, per the kernel's own table (Linux).
#[cfg(target_os = "linux")]
pub fn blocked_in_lock(pid: u32) -> bool {
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    locks.lines().any(|line| {
        let mut words = line.split_whitespace().skip(1);
        words.next() == Some("->") && words.nth(3) == Some(&pid.to_string())
    })
}

/// Whether a process with this pid exists (and is not a zombie).
#[cfg(unix)]
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

pub fn outcome(result: &Result<LockGuard, reflock::Error>) -> String {
    match result {
        Ok(guard) => format!("ok {}", guard.token().unwrap()),
        Err(e) => match e.kind() {
            ErrorKind::Contended => "busy".to_owned(),
            ErrorKind::TimedOut => "timeout".to_owned(),
            kind => format!("err {kind:?}"),
        },
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "@{line}").unwrap();
    out.flush().unwrap();
}

#[test]
fn entry() {
    let Ok(role) = std::env::var(ROLE) else {
        // Not a helper: check that the re-exec mechanism itself works.
        let dir = tempfile::tempdir().unwrap();
        let mut helper = Helper::serve(&dir.path().join("lock"));
        assert_eq!(helper.ask("ping"), "pong");
        assert_eq!(helper.ask("pid"), helper.pid().to_string());
        return;
    };
    let lock = PathBuf::from(std::env::var_os(LOCK).unwrap());
    let arg = std::env::var(ARG).unwrap_or_default();
    match role.as_str() {
        "serve" => serve(&lock),
        "churn" => churn(&lock, &arg),
        "try-loop" => try_loop(&lock, &arg),
        "timeout-leaks" => timeout_leaks(&lock, &arg),
        #[cfg(unix)]
        "fork-after-release" => fork_after_release(&lock),
        other => panic!("unknown helper role {other}"),
    }
    std::process::exit(0);
}

fn parse_access(word: &str) -> Access {
    match word {
        "ex" => Access::Exclusive,
        "sh" => Access::Shared,
        other => panic!("bad access {other}"),
    }
}

fn parse_wait(word: &str) -> Wait {
    match word {
        "try" => Wait::Try,
        "block" => Wait::Block,
        ms => Wait::Timeout(Duration::from_millis(ms.parse().unwrap())),
    }
}

#[cfg(unix)]
extern "C" fn on_usr1(_: libc::c_int) {
    let line = b"@signalled\n";
    // SAFETY: write(2) is async-signal-safe; the buffer is static.
    unsafe { libc::write(1, line.as_ptr().cast(), line.len()) };
}

/// Orders: `ping`, `pid`, `tid`, `acquire ex|sh try|block|MILLIS`, `release`, `holder`,
/// `spawn-sleep`, `install-usr1`.
fn serve(lock: &Path) {
    let file = LockFile::new(lock);
    let mut guard = None;
    let mut sleepers = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["ping"] => say("pong"),
            ["pid"] => say(&std::process::id().to_string()),
            // The thread that runs the orders (and so blocks in acquire).
            #[cfg(target_os = "linux")]
            ["tid"] => say(&rustix::thread::gettid().as_raw_nonzero().to_string()),
            ["acquire", access, wait] => {
                let result = file.acquire(parse_access(access), parse_wait(wait));
                say(&outcome(&result));
                if let Ok(g) = result {
                    guard = Some(g);
                }
            }
            ["release"] => match guard.take().map(LockGuard::release) {
                Some(Ok(())) => say("released"),
                Some(Err(e)) => say(&format!("err {:?}", e.kind())),
                None => say("not held"),
            },
            ["holder"] => match file.holder() {
                Ok(Some(h)) => say(&format!("holder {}", h.pid())),
                Ok(None) => say("holder none"),
                Err(e) => say(&format!("err {:?}", e.kind())),
            },
            ["spawn-sleep"] => {
                let sleeper = Command::new("sleep")
                    .arg("30")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap();
                say(&format!("sleep {}", sleeper.id()));
                sleepers.push(sleeper);
            }
            #[cfg(unix)]
            ["install-usr1"] => {
                // SAFETY: installs a handler that only calls write(2); no SA_RESTART, so a
                // blocking flock sees EINTR.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction =
                        on_usr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
                    libc::sigemptyset(&mut action.sa_mask);
                    action.sa_flags = 0;
                    assert_eq!(
                        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
                        0
                    );
                }
                say("installed");
            }
            _ => panic!("unknown order {line:?}"),
        }
    }
}

/// Takes and releases the lock exclusively for `arg` milliseconds. While holding, creates a
/// marker file with O_EXCL: if it already exists, another process holds the lock at the same
/// time. Reports `done ACQUISITIONS OVERLAPS BAD_TOKENS`.
fn churn(lock: &Path, arg: &str) {
    let millis: u64 = arg.parse().unwrap();
    let marker = lock.with_extension("inside");
    let file = LockFile::new(lock);
    let end = Instant::now() + Duration::from_millis(millis);
    let (mut count, mut overlaps, mut bad_tokens, mut last_token) = (0u64, 0u64, 0u64, 0u64);
    while Instant::now() < end {
        let guard = file.exclusive().unwrap();
        if guard.token().unwrap() <= last_token {
            bad_tokens += 1;
        }
        last_token = guard.token().unwrap();
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
        {
            Ok(_) => {
                // Stay inside a little, so an overlapping holder would find the marker.
                for _ in 0..200 {
                    std::hint::spin_loop();
                }
                std::thread::yield_now();
                std::fs::remove_file(&marker).unwrap();
            }
            Err(_) => overlaps += 1,
        }
        guard.release().unwrap();
        count += 1;
    }
    say(&format!("done {count} {overlaps} {bad_tokens}"));
}

/// Tries the lock `arg` times, releasing each time; reports how many tries found it busy.
fn try_loop(lock: &Path, arg: &str) {
    let times: u32 = arg.parse().unwrap();
    let file = LockFile::new(lock);
    say("started");
    let mut busy = 0;
    for _ in 0..times {
        match file.try_exclusive() {
            Ok(guard) => guard.release().unwrap(),
            Err(e) if e.kind() == ErrorKind::Contended => busy += 1,
            Err(e) => panic!("{e}"),
        }
    }
    say(&format!("busy {busy}"));
}

#[cfg(target_os = "linux")]
fn count_entries(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// Times out `arg` times on a lock someone else holds; reports its thread and descriptor
/// counts before and after (Linux), and whether every attempt timed out.
fn timeout_leaks(lock: &Path, arg: &str) {
    let times: u32 = arg.parse().unwrap();
    let file = LockFile::new(lock);
    // Warm up once so lazily created process-wide state is not counted as a leak.
    let first = file.exclusive_timeout(Duration::from_millis(5));
    assert_eq!(first.unwrap_err().kind(), ErrorKind::TimedOut);
    #[cfg(target_os = "linux")]
    let before = (
        count_entries("/proc/self/task"),
        count_entries("/proc/self/fd"),
    );
    let mut all_timed_out = true;
    for _ in 0..times {
        let result = file.exclusive_timeout(Duration::from_millis(20));
        all_timed_out &= matches!(&result, Err(e) if e.kind() == ErrorKind::TimedOut);
    }
    #[cfg(target_os = "linux")]
    let after = (
        count_entries("/proc/self/task"),
        count_entries("/proc/self/fd"),
    );
    #[cfg(not(target_os = "linux"))]
    let (before, after) = ((0, 0), (0, 0));
    say(&format!(
        "threads {} {} fds {} {} all-timed-out {all_timed_out}",
        before.0, after.0, before.1, after.1
    ));
}

/// Acquires and releases, so the `LockFile` keeps its handle, then forks. The child takes the
/// lock through the same `LockFile` and holds it until killed; then the parent tries it too.
/// Replies `child holds` (or why not) and the parent's outcome, `parent busy` when correct.
#[cfg(unix)]
fn fork_after_release(lock: &Path) {
    let file = LockFile::new(lock);
    file.try_exclusive().unwrap().release().unwrap();
    let mut fds = [0; 2];
    // SAFETY: pipe writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: this helper process runs no other thread that could hold a lock across the fork.
    let child = unsafe { libc::fork() };
    assert!(child >= 0);
    if child == 0 {
        let held = file.try_exclusive();
        let byte = [u8::from(held.is_ok())];
        // SAFETY: writes one byte from a live buffer.
        unsafe { libc::write(fds[1], byte.as_ptr().cast(), 1) };
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let mut byte = [0u8];
    // SAFETY: reads one byte into a live buffer.
    assert_eq!(
        unsafe { libc::read(fds[0], byte.as_mut_ptr().cast(), 1) },
        1
    );
    say(if byte[0] == 1 {
        "child holds"
    } else {
        "child refused"
    });
    let mine = file.try_exclusive();
    say(&format!("parent {}", outcome(&mine)));
    drop(mine);
    // SAFETY: kills and reaps the child forked above.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, std::ptr::null_mut(), 0);
    }
}
