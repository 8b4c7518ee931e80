//! Properties that need more than one process. Every test here has `multi_process` or `churn`
//! in its name, which puts it in nextest's serial `process-heavy` group.

use crate::helper::{Helper, REPLY_DEADLINE, wait_until};
use reflock::{Access, ErrorKind, LockFile, Wait};
use rstest::rstest;
use std::time::{Duration, Instant};

fn lock_in(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("app.lock")
}

#[test]
fn multi_process_exclusive_excludes_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holder = Helper::serve(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));

    let err = LockFile::new(&path).try_exclusive().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Contended);
    assert_eq!(err.holder().map(|h| h.pid()), Some(holder.pid()));
    assert_eq!(
        LockFile::new(&path).holder().unwrap().map(|h| h.pid()),
        Some(holder.pid())
    );

    assert_eq!(holder.ask("release"), "released");
    let guard = LockFile::new(&path).try_exclusive().unwrap();
    assert_eq!(holder.ask("acquire ex try"), "busy");
    drop(guard);
}

/// A holder in another PID namespace (a container) is named by the pid it has here, as the
/// kernel's lock table translates it, never by the pid it has there. Needs root, for the
/// namespace.
#[cfg(target_os = "linux")]
#[test]
fn multi_process_holder_in_another_pid_namespace_is_named_by_its_pid_here() {
    assert_root();
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holder = Helper::serve_in_own_pid_namespace(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));
    assert_eq!(holder.ask("pid"), "1");

    let err = LockFile::new(&path).try_exclusive().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Contended);
    let named = err.holder().expect("the kernel names the holder");
    assert!(!named.in_another_pid_namespace());
    assert_ne!(named.pid(), 1, "not the pid as the holder sees it");
    assert_ne!(
        std::fs::read_link(format!("/proc/{}/ns/pid", named.pid())).unwrap(),
        std::fs::read_link("/proc/self/ns/pid").unwrap(),
        "the process named is the one in the container"
    );
    assert!(
        named.command().contains("helper::entry"),
        "{}",
        named.command()
    );
    assert!(
        err.to_string().contains(&format!("`kill {}`", named.pid())),
        "{err}"
    );
    let queried = LockFile::new(&path).holder().unwrap().expect("held");
    assert_eq!(queried.pid(), named.pid());
    assert_eq!(holder.ask("release"), "released");
}

/// From inside a container the kernel's table leaves out a holder outside it: such a holder
/// is known only by the record it writes when it asks for its token, and is then reported as
/// in another PID namespace.
#[cfg(target_os = "linux")]
#[test]
fn multi_process_holder_outside_this_pid_namespace_is_known_by_its_record() {
    assert_root();
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut asker = Helper::serve_in_own_pid_namespace(&path);
    let guard = LockFile::new(&path).try_exclusive().unwrap();
    assert_eq!(
        asker.ask("holder"),
        "holder none",
        "no record, nothing to see"
    );
    assert_eq!(asker.ask("acquire ex try"), "busy");
    let token = guard.token().unwrap();
    assert_eq!(
        asker.ask("holder"),
        format!("holder {}", std::process::id())
    );
    drop(guard);
    assert_eq!(
        asker.ask("holder"),
        "holder none",
        "released, and the record says so"
    );
    assert!(
        asker
            .ask("acquire ex try")
            .starts_with(&format!("ok {}", token + 1))
    );
}

#[cfg(target_os = "linux")]
fn assert_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test makes a PID namespace: run it as root"
    );
}

#[test]
fn multi_process_sigkilled_holder_frees_the_lock_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holder = Helper::serve(&path);
    let token: u64 = holder.ask("acquire ex try")["ok ".len()..].parse().unwrap();
    holder.kill();

    // A non-blocking try right after the kill: no waiting for any lease or staleness check.
    let guard = LockFile::new(&path).try_exclusive().unwrap();
    assert_eq!(guard.token().unwrap(), token + 1);
    drop(guard);
    // The dead holder's record still says "held", but it names a process that is gone.
    assert_eq!(LockFile::new(&path).holder().unwrap(), None);
}

#[rstest]
#[case::exclusive_blocks_exclusive("ex", Access::Exclusive, false)]
#[case::exclusive_blocks_shared("ex", Access::Shared, false)]
#[case::shared_blocks_exclusive("sh", Access::Exclusive, false)]
#[case::shared_admits_shared("sh", Access::Shared, true)]
fn multi_process_access_matrix(#[case] held: &str, #[case] wanted: Access, #[case] admitted: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holder = Helper::serve(&path);
    assert!(
        holder
            .ask(&format!("acquire {held} try"))
            .starts_with("ok ")
    );
    let result = LockFile::new(&path).acquire(wanted, Wait::Try);
    match result {
        Ok(_) => assert!(
            admitted,
            "{wanted:?} was admitted while another process held {held}"
        ),
        Err(e) => {
            assert!(!admitted, "{wanted:?} refused: {e}");
            assert_eq!(e.kind(), ErrorKind::Contended);
        }
    }
}

#[test]
fn multi_process_shared_holders_coexist_and_keep_exclusive_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holders: Vec<Helper> = (0..3).map(|_| Helper::serve(&path)).collect();
    for h in &mut holders {
        assert!(h.ask("acquire sh try").starts_with("ok "));
    }
    let e = LockFile::new(&path).try_exclusive().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Contended);
    for h in &mut holders {
        assert_eq!(h.ask("release"), "released");
    }
    drop(LockFile::new(&path).try_exclusive().unwrap());
}

#[test]
fn multi_process_timeout_waits_at_least_the_timeout_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holder = Helper::serve(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));

    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = LockFile::new(&path).exclusive_timeout(timeout).unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.holder().map(|h| h.pid()), Some(holder.pid()));
    assert!(
        waited >= timeout,
        "gave up after {waited:?}, before the {timeout:?} timeout"
    );
    // Only catches a hang; how close to the deadline it returns is measured by the benches.
    assert!(waited < timeout + Duration::from_secs(5), "took {waited:?}");

    // No phantom holder: once the holder releases, another process gets the lock at once,
    // so nothing in this process went on waiting and took it.
    assert_eq!(holder.ask("release"), "released");
    let mut next = Helper::serve(&path);
    assert!(next.ask("acquire ex try").starts_with("ok "));
}

#[test]
fn multi_process_timeout_succeeds_when_released_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holder = Helper::serve(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));
    let waiter_path = path.clone();
    let waiter = std::thread::spawn(move || {
        LockFile::new(waiter_path)
            .exclusive_timeout(Duration::from_secs(60))
            .map(|g| g.token().unwrap())
    });
    #[cfg(target_os = "linux")]
    wait_until("the waiter blocks", REPLY_DEADLINE, || {
        crate::helper::blocked_in_lock(std::process::id())
    });
    assert_eq!(holder.ask("release"), "released");
    wait_until("the waiter gets the lock", REPLY_DEADLINE, || {
        waiter.is_finished()
    });
    assert!(waiter.join().unwrap().is_ok());
}

#[test]
fn multi_process_timeouts_leak_no_threads_or_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let _guard = LockFile::new(&path).try_exclusive().unwrap();
    let mut checker = Helper::start("timeout-leaks", &path, "10");
    let reply = checker.reply();
    let words: Vec<&str> = reply.split_whitespace().collect();
    assert_eq!(words[0], "threads");
    assert_eq!(words[1], words[2], "threads before/after: {reply}");
    assert_eq!(words[4], words[5], "descriptors before/after: {reply}");
    assert_eq!(words[7], "true", "{reply}");
    assert!(checker.wait_exit().success());
}

#[cfg(unix)]
#[test]
fn multi_process_exec_child_does_not_keep_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut holder = Helper::serve(&path);
    assert!(holder.ask("acquire ex try").starts_with("ok "));
    let sleep_pid: u32 = holder.ask("spawn-sleep")["sleep ".len()..].parse().unwrap();
    holder.kill();
    assert!(
        crate::helper::alive(sleep_pid),
        "the holder's child should outlive it"
    );

    let result = LockFile::new(&path).try_exclusive();
    let _ = std::process::Command::new("kill")
        .args(["-9", &sleep_pid.to_string()])
        .status();
    assert!(
        result.is_ok(),
        "the exec'd child kept the lock: {:?}",
        result.err()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn multi_process_signal_during_blocking_wait_does_not_end_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let guard = LockFile::new(&path).try_exclusive().unwrap();
    let mut waiter = Helper::serve(&path);
    assert_eq!(waiter.ask("install-usr1"), "installed");
    let tid: libc::pid_t = waiter.ask("tid").parse().unwrap();
    waiter.send("acquire ex block");
    let pid = waiter.pid();
    wait_until("the waiter blocks in flock", REPLY_DEADLINE, || {
        crate::helper::blocked_in_lock(pid)
    });
    // SIGUSR1's handler has no SA_RESTART, so flock returns EINTR inside acquire. The signal
    // goes to the blocked thread itself: sent to the process, the kernel could hand it to
    // any other thread of the helper, and flock would never see it.
    // SAFETY: tgkill with plain integer arguments.
    let sent = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR1) };
    assert_eq!(sent, 0);
    assert_eq!(waiter.reply(), "signalled");
    wait_until("the waiter blocks again", REPLY_DEADLINE, || {
        crate::helper::blocked_in_lock(pid)
    });
    drop(guard);
    assert!(
        waiter.reply().starts_with("ok "),
        "the blocking acquire did not survive EINTR"
    );
}

/// Writes a record that claims `pid` holds the lock, with the given start time, and this
/// machine's host and boot (so nothing but the pid check can reject it).
#[cfg(unix)]
fn plant_record(path: &std::path::Path, template: &str, pid: u32, start: &str) {
    let mut out = String::new();
    for line in template.lines() {
        match line.split_once(' ') {
            Some(("state", _)) => out.push_str("state held"),
            Some(("pid", _)) => out.push_str(&format!("pid {pid}")),
            Some(("start", _)) => out.push_str(&format!("start {start}")),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

#[cfg(unix)]
fn start_of(record: &str) -> &str {
    record
        .lines()
        .find_map(|l| l.strip_prefix("start "))
        .unwrap()
}

#[cfg(unix)]
#[test]
fn multi_process_holder_is_not_fooled_by_a_live_unrelated_pid() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    // A genuine record, written by a real holder that is then killed.
    let mut real = Helper::serve(&path);
    assert!(real.ask("acquire ex try").starts_with("ok "));
    assert_eq!(
        LockFile::new(&path).holder().unwrap().map(|h| h.pid()),
        Some(real.pid())
    );
    real.kill();
    let template = std::fs::read_to_string(&path).unwrap();
    let recorded_start = start_of(&template).to_owned();

    // Point the record at live processes that never held the lock: a fresh `sleep`, and pid 1.
    let mut sleeper = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    for pid in [sleeper.id(), 1] {
        // Linux counts start times in clock ticks (10 ms): the sleeper may have started in the
        // same tick as the real holder. Then plant a start time one tick off, which is what a
        // reused pid looks like.
        #[cfg(target_os = "linux")]
        let start = if linux_start_of(pid) == recorded_start {
            (recorded_start.parse::<u64>().unwrap() + 1).to_string()
        } else {
            recorded_start.clone()
        };
        #[cfg(not(target_os = "linux"))]
        let start = recorded_start.clone();
        plant_record(&path, &template, pid, &start);
        assert_eq!(
            LockFile::new(&path).holder().unwrap(),
            None,
            "fooled by live pid {pid}"
        );
        let guard = LockFile::new(&path).try_exclusive().unwrap();
        drop(guard);
    }

    // On Linux the kernel's lock table says the lock is free, so even a record naming the
    // sleeper with its real start time is not believed.
    #[cfg(target_os = "linux")]
    {
        let start = linux_start_of(sleeper.id());
        plant_record(&path, &template, sleeper.id(), &start);
        assert_eq!(LockFile::new(&path).holder().unwrap(), None);
    }
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn multi_process_holder_query_never_disturbs_a_contender() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    LockFile::new(&path)
        .try_exclusive()
        .unwrap()
        .release()
        .unwrap();
    let mut contender = Helper::start("try-loop", &path, "3000");
    assert_eq!(contender.reply(), "started");
    let file = LockFile::new(&path);
    let mut queries = 0u64;
    let reply = loop {
        if let Some(reply) = contender.try_reply() {
            break reply;
        }
        // Whatever the record says, the lock is free: querying must not take it.
        let _ = file.holder().unwrap();
        queries += 1;
    };
    assert!(queries > 0);
    assert_eq!(reply, "busy 0", "holder() made a contender's try fail");
    assert!(contender.wait_exit().success());
}

#[test]
fn churn_eight_processes_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let path = lock_in(&dir);
    let mut churners: Vec<Helper> = (0..8)
        .map(|_| Helper::start("churn", &path, "2500"))
        .collect();
    let mut total = 0;
    for c in &mut churners {
        let reply = c.reply_within(REPLY_DEADLINE + Duration::from_secs(10));
        let words: Vec<u64> = reply
            .split_whitespace()
            .skip(1)
            .map(|w| w.parse().unwrap())
            .collect();
        assert_eq!(
            words[1],
            0,
            "overlapping holds seen by pid {}: {reply}",
            c.pid()
        );
        assert_eq!(
            words[2],
            0,
            "fencing token went backwards in pid {}: {reply}",
            c.pid()
        );
        assert!(words[0] > 0, "pid {} never got the lock", c.pid());
        total += words[0];
        assert!(c.wait_exit().success());
    }
    // Every exclusive acquisition advanced the token exactly once: no lost or doubled update.
    let guard = LockFile::new(&path).try_exclusive().unwrap();
    assert_eq!(guard.token().unwrap(), total + 1);
}

#[cfg(target_os = "linux")]
fn linux_start_of(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = stat.rsplit(')').next().unwrap();
    after_name.split_whitespace().nth(19).unwrap().to_owned()
}
