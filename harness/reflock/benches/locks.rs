//! reflock against the raw floor and other Rust lock crates, measured in the same run.
//!
//! - `uncontended`: lock + unlock of a free lock file. reflock with and without its fencing
//!   token (a `LockFile` used again, which keeps its file open between acquisitions) and on a
//!   new `LockFile` each time (which opens and closes the file); raw `flock` with an open and
//!   a close (the floor), the floor plus the `statx` a first acquisition makes, and raw
//!   `flock` on a file kept open; std's `File::try_lock`, fs4 and fd-lock, which open and
//!   close.
//! - `handoff`: process A holds the lock, process B blocks on it, A releases; the time from
//!   just before A's release until B holds it (both read CLOCK_MONOTONIC), for reflock and
//!   for raw blocking `flock`.
//!
//! The helper process for `handoff` is this bench binary, re-executed with `REFLOCK_BENCH_ROLE`.

// Comparing against the raw lock calls and other lock crates is the point of this file, so it
// calls them directly: the deliberate exception to the rule that only reflock locks files.
#![allow(clippy::disallowed_methods)]

use criterion::{BenchmarkId, Criterion, criterion_group};
use reflock::LockFile;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn open_std(path: &Path) -> std::fs::File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap()
}

/// open + flock + unlock + close, and with `statx` the statx reflock makes after the open.
#[cfg(unix)]
fn raw_cycle(path: &Path, statx: bool) {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, Mode::from_bits_truncate(0o600)).unwrap();
    #[cfg(target_os = "linux")]
    if statx {
        use rustix::fs::{AtFlags, StatxFlags};
        let mask = StatxFlags::TYPE | StatxFlags::MODE | StatxFlags::NLINK | StatxFlags::INO;
        std::hint::black_box(rustix::fs::statx(&fd, c"", AtFlags::EMPTY_PATH, mask).unwrap());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = statx;
    rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).unwrap();
    rustix::fs::flock(&fd, FlockOperation::Unlock).unwrap();
}

fn uncontended(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("uncontended");
    let path = |name: &str| dir.path().join(name);

    let reflock_lock = LockFile::new(path("reflock.lock"));
    group.bench_function("reflock", |b| {
        b.iter(|| reflock_lock.try_exclusive().unwrap().release().unwrap())
    });
    // A `LockFile` used once: the open, the checks on the open file, and the close.
    let first_path = path("reflock-first.lock");
    group.bench_function("reflock_first_acquisition", |b| {
        b.iter(|| {
            LockFile::new(&first_path)
                .try_exclusive()
                .unwrap()
                .release()
                .unwrap()
        })
    });
    // The fencing token's price: on Linux it is counted (and the record written) only when
    // asked for.
    let token_lock = LockFile::new(path("reflock-token.lock"));
    group.bench_function("reflock_with_token", |b| {
        b.iter(|| {
            let guard = token_lock.try_exclusive().unwrap();
            std::hint::black_box(guard.token().unwrap());
            guard.release().unwrap()
        })
    });

    #[cfg(unix)]
    {
        let raw = path("raw.lock");
        group.bench_function("raw_flock", |b| b.iter(|| raw_cycle(&raw, false)));
    }
    // The system call a first acquisition adds on Linux: the statx of the open file's type,
    // links and identity (the same-process and regular-file checks), priced beside the floor.
    #[cfg(target_os = "linux")]
    {
        let raw = path("raw-statx.lock");
        group.bench_function("raw_flock_and_statx", |b| b.iter(|| raw_cycle(&raw, true)));
    }
    // The least a lock that keeps its file open can do; reflock used again adds a statx of
    // the path to it.
    #[cfg(unix)]
    {
        use rustix::fs::{FlockOperation, Mode, OFlags};
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC;
        let fd = rustix::fs::open(
            path("raw-open.lock").as_path(),
            flags,
            Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        group.bench_function("raw_flock_kept_open", |b| {
            b.iter(|| {
                rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).unwrap();
                rustix::fs::flock(&fd, FlockOperation::Unlock).unwrap();
            })
        });
    }

    let std_path = path("std.lock");
    group.bench_function("std_try_lock", |b| {
        b.iter(|| {
            let file = open_std(&std_path);
            file.try_lock().unwrap();
            file.unlock().unwrap();
        })
    });

    let fs4_path = path("fs4.lock");
    group.bench_function("fs4", |b| {
        b.iter(|| {
            let file = open_std(&fs4_path);
            fs4::FileExt::try_lock(&file).unwrap();
            fs4::FileExt::unlock(&file).unwrap();
        })
    });

    let fd_lock_path = path("fd-lock.lock");
    group.bench_function("fd_lock", |b| {
        b.iter(|| {
            let mut lock = fd_lock::RwLock::new(open_std(&fd_lock_path));
            drop(lock.try_write().unwrap());
        })
    });
    group.finish();
}

#[cfg(unix)]
mod handoff {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Child, Command, Stdio};

    pub const ROLE: &str = "REFLOCK_BENCH_ROLE";
    const LOCK: &str = "REFLOCK_BENCH_LOCK";

    fn now_nanos() -> u64 {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
    }

    /// A lock held by this process, for either implementation.
    enum Held {
        Reflock(LockFile, Option<reflock::LockGuard>),
        Raw(rustix::fd::OwnedFd),
    }

    impl Held {
        fn new(kind: &str, path: &Path) -> Held {
            match kind {
                "reflock" => Held::Reflock(LockFile::new(path), None),
                _ => {
                    use rustix::fs::{Mode, OFlags};
                    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC;
                    Held::Raw(
                        rustix::fs::open(path, flags, Mode::from_bits_truncate(0o600)).unwrap(),
                    )
                }
            }
        }
        fn lock(&mut self) {
            match self {
                Held::Reflock(file, guard) => *guard = Some(file.exclusive().unwrap()),
                Held::Raw(fd) => loop {
                    match rustix::fs::flock(&*fd, rustix::fs::FlockOperation::LockExclusive) {
                        Err(rustix::io::Errno::INTR) => continue,
                        other => break other.unwrap(),
                    }
                },
            }
        }
        fn unlock(&mut self) {
            match self {
                Held::Reflock(_, guard) => guard.take().unwrap().release().unwrap(),
                Held::Raw(fd) => {
                    rustix::fs::flock(&*fd, rustix::fs::FlockOperation::Unlock).unwrap()
                }
            }
        }
    }

    /// Process B: on each `g`, say `r`, block on the lock, then report the time it got it
    /// and release.
    pub fn waiter(kind: &str) {
        let path = PathBuf::from(std::env::var_os(LOCK).unwrap());
        let mut held = Held::new(kind, &path);
        let mut stdin = std::io::stdin().lock();
        let mut stdout = std::io::stdout().lock();
        let mut go = [0u8; 1];
        while stdin.read_exact(&mut go).is_ok() {
            stdout.write_all(b"r").unwrap();
            stdout.flush().unwrap();
            held.lock();
            let at = now_nanos();
            held.unlock();
            stdout.write_all(&at.to_le_bytes()).unwrap();
            stdout.flush().unwrap();
        }
    }

    /// Whether `pid` waits for a file lock (Linux's lock table); elsewhere, a short pause
    /// stands in for it, outside the measured interval.
    fn wait_until_blocked(pid: u32) {
        if cfg!(target_os = "linux") {
            let needle = format!(" {pid} ");
            loop {
                let locks = std::fs::read_to_string("/proc/locks").unwrap();
                if locks
                    .lines()
                    .any(|l| l.contains("->") && l.contains(&needle))
                {
                    return;
                }
                std::thread::yield_now();
            }
        } else {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn bench(c: &mut Criterion) {
        let dir = tempfile::tempdir().unwrap();
        let mut group = c.benchmark_group("handoff");
        for kind in ["reflock", "raw_flock"] {
            let path = dir.path().join(format!("{kind}.lock"));
            let mut child: Child = Command::new(std::env::current_exe().unwrap())
                .env(ROLE, kind)
                .env(LOCK, &path)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let pid = child.id();
            let mut to_b = child.stdin.take().unwrap();
            let mut from_b = BufReader::new(child.stdout.take().unwrap());
            let mut held = Held::new(kind, &path);
            group.bench_function(BenchmarkId::from_parameter(kind), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        held.lock();
                        to_b.write_all(b"g").unwrap();
                        to_b.flush().unwrap();
                        let mut ready = [0u8; 1];
                        from_b.read_exact(&mut ready).unwrap();
                        wait_until_blocked(pid);
                        let released = now_nanos();
                        held.unlock();
                        let mut at = [0u8; 8];
                        from_b.read_exact(&mut at).unwrap();
                        total += Duration::from_nanos(u64::from_le_bytes(at) - released);
                    }
                    total
                })
            });
            drop(to_b);
            let _ = from_b.fill_buf();
            let _ = child.wait();
        }
        group.finish();
    }
}

#[cfg(unix)]
criterion_group!(benches, uncontended, handoff::bench);
#[cfg(not(unix))]
criterion_group!(benches, uncontended);

fn main() {
    #[cfg(unix)]
    if let Ok(kind) = std::env::var(handoff::ROLE) {
        handoff::waiter(&kind);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
