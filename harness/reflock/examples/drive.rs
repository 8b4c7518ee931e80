//! A small driver for profiling reflock beside the floor (strace, callgrind, side-by-side
//! timings): `cargo run --release -p reflock --example drive -- MODE N [PATH|P]`, where MODE is
//! - `reflock`: N uncontended `try_exclusive` + `release` on one `LockFile` (the first opens
//!   the file; the rest check the path, lock and unlock the kept descriptor);
//! - `floor`: the same with the bare OS lock ([`reflock::floor`]);
//! - `reflock-contend` / `floor-contend`: N blocking acquisitions, for several processes at
//!   once on one path;
//! - `cpu`: P processes (default 2) contending N times each, reflock and floor alternately,
//!   five rounds; prints the children's CPU time per acquisition and the ratio (each holds
//!   for `DRIVE_HOLD_US` microseconds, default 0);
//! - `handoff`: N handoffs per kind, interleaved (A holds, B blocks, A releases; the time from
//!   just before A's release until B holds it), percentiles and the ratio of the medians;
//! - `syscalls`: the cost of single syscalls on a lock file.
//!
//! Each mode prints one line per figure; no figure is checked, it is a measuring tool.

#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cpu_nanos() -> u64 {
    // SAFETY: getrusage only writes into the zeroed struct.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("reflock");
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let path = std::path::PathBuf::from(args.get(3).cloned().unwrap_or_else(|| {
        std::env::temp_dir()
            .join(format!("reflock-drive-{}.lock", std::process::id()))
            .to_string_lossy()
            .into_owned()
    }));
    let (cpu0, wall0) = (cpu_nanos(), Instant::now());
    match mode {
        "reflock" => {
            let lock = reflock::LockFile::new(&path);
            for _ in 0..n {
                lock.try_exclusive().unwrap().release().unwrap();
            }
        }
        "reflock-contend" => {
            let lock = reflock::LockFile::new(&path);
            for _ in 0..n {
                let guard = lock.exclusive().unwrap();
                hold();
                guard.release().unwrap();
            }
        }
        "floor-contend" => {
            let lock = reflock::floor::FloorLock::new(&path);
            for _ in 0..n {
                let guard = lock.lock().unwrap();
                hold();
                guard.release().unwrap();
            }
        }
        "floor" => {
            let lock = reflock::floor::FloorLock::new(&path);
            for _ in 0..n {
                lock.lock().unwrap().release().unwrap();
            }
        }
        "syscalls" => syscalls(n, &path),
        "cpu" => return cpu(n, args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2)),
        "handoff" => return handoff(n),
        "waiter-reflock" | "waiter-floor" => return waiter(mode, &path),
        other => panic!("unknown mode {other}"),
    }
    let (cpu, wall) = (cpu_nanos() - cpu0, wall0.elapsed());
    println!(
        "{mode}: {n} acquisitions, {:.2} us wall, {:.2} us cpu per acquisition",
        wall.as_secs_f64() * 1e6 / n as f64,
        cpu as f64 / 1e3 / n as f64
    );
}

/// Times single syscalls on a lock file, to see what each step of an acquisition costs.
#[allow(clippy::disallowed_methods)]
fn syscalls(n: u64, path: &std::path::Path) {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    rustix::io::pwrite(&fd, &[b'x'; 212], 0).unwrap();
    let time = |name: &str, f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!(
            "{name:>28}: {:8.3} us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    };
    let mut buf = [0u8; 4096];
    time("getpid", &mut || {
        std::hint::black_box(rustix::process::getpid());
    });
    time("fstat", &mut || {
        std::hint::black_box(rustix::fs::fstat(&fd).unwrap());
    });
    time("pread 4096", &mut || {
        std::hint::black_box(rustix::io::pread(&fd, &mut buf, 0).unwrap());
    });
    time("pread 64", &mut || {
        std::hint::black_box(rustix::io::pread(&fd, &mut buf[..64], 0).unwrap());
    });
    time("pwrite 212", &mut || {
        std::hint::black_box(rustix::io::pwrite(&fd, &[b'x'; 212], 0).unwrap());
    });
    time("pwrite 4", &mut || {
        std::hint::black_box(rustix::io::pwrite(&fd, b"free", 24).unwrap());
    });
    time("pwrite 1", &mut || {
        std::hint::black_box(rustix::io::pwrite(&fd, b"f", 24).unwrap());
    });
    time("fstat+pwrite 4", &mut || {
        std::hint::black_box(rustix::fs::fstat(&fd).unwrap());
        std::hint::black_box(rustix::io::pwrite(&fd, b"free", 24).unwrap());
    });
    time("fstat+pwrite212+pwrite4", &mut || {
        std::hint::black_box(rustix::fs::fstat(&fd).unwrap());
        std::hint::black_box(rustix::io::pwrite(&fd, &[b'x'; 212], 0).unwrap());
        std::hint::black_box(rustix::io::pwrite(&fd, b"free", 24).unwrap());
    });
    time("statx+pwrite 4", &mut || {
        use rustix::fs::{AtFlags, StatxFlags};
        let mask = StatxFlags::TYPE | StatxFlags::MODE | StatxFlags::NLINK | StatxFlags::INO;
        std::hint::black_box(rustix::fs::statx(&fd, c"", AtFlags::EMPTY_PATH, mask).unwrap());
        std::hint::black_box(rustix::io::pwrite(&fd, b"free", 24).unwrap());
    });
    time("statx", &mut || {
        use rustix::fs::{AtFlags, StatxFlags};
        let mask = StatxFlags::TYPE | StatxFlags::MODE | StatxFlags::NLINK | StatxFlags::INO;
        std::hint::black_box(rustix::fs::statx(&fd, c"", AtFlags::EMPTY_PATH, mask).unwrap());
    });
    time("pread+pwrite212+pwrite4", &mut || {
        std::hint::black_box(rustix::io::pread(&fd, &mut buf, 0).unwrap());
        std::hint::black_box(rustix::io::pwrite(&fd, &[b'x'; 212], 0).unwrap());
        std::hint::black_box(rustix::io::pwrite(&fd, b"free", 24).unwrap());
    });
    time("flock ex+un", &mut || {
        rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).unwrap();
        rustix::fs::flock(&fd, FlockOperation::Unlock).unwrap();
    });
    let open = |flags| rustix::fs::open(path, flags, Mode::from_bits_truncate(0o600)).unwrap();
    time("open+close plain", &mut || {
        drop(open(OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC))
    });
    time("open+close nofollow,nonblock", &mut || {
        drop(open(
            OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK,
        ))
    });
    time("now()", &mut || {
        std::hint::black_box(std::time::SystemTime::now());
    });
}

/// Sleeps for DRIVE_HOLD_US microseconds (the contend modes' hold time), if set and not 0.
fn hold() {
    static HOLD: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    let hold = *HOLD.get_or_init(|| {
        let us = std::env::var("DRIVE_HOLD_US")
            .ok()
            .and_then(|s| s.parse().ok());
        Duration::from_micros(us.unwrap_or(0))
    });
    if !hold.is_zero() {
        std::thread::sleep(hold);
    }
}

fn children_cpu_nanos() -> u64 {
    // SAFETY: getrusage only writes into the zeroed struct.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// `procs` processes contend for one lock `n` times each; CPU per acquisition, both kinds.
fn cpu(n: u64, procs: u32) {
    let dir = std::env::temp_dir().join(format!("reflock-drive-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ratios = Vec::new();
    for round in 0..5 {
        let mut per = [0.0; 2];
        for (i, kind) in ["floor-contend", "reflock-contend"].into_iter().enumerate() {
            let path = dir.join(format!("{kind}-{round}.lock"));
            let before = children_cpu_nanos();
            let children: Vec<_> = (0..procs)
                .map(|_| {
                    Command::new(std::env::current_exe().unwrap())
                        .args([kind, &n.to_string()])
                        .arg(&path)
                        .stdout(Stdio::null())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for mut child in children {
                assert!(child.wait().unwrap().success());
            }
            per[i] = (children_cpu_nanos() - before) as f64 / 1e3 / (n * u64::from(procs)) as f64;
        }
        ratios.push(per[1] / per[0]);
        println!(
            "cpu round {round}: floor {:.2} us, reflock {:.2} us per acquisition ({procs} processes), ratio {:.2}",
            per[0],
            per[1],
            per[1] / per[0]
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "cpu ratio range {:.2}..{:.2}",
        ratios[0],
        ratios[ratios.len() - 1]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn now_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// A lock held by this process, for either kind.
enum Held {
    Reflock(reflock::LockFile, Option<reflock::LockGuard>),
    Floor(
        reflock::floor::FloorLock,
        Option<reflock::floor::FloorGuard>,
    ),
}

impl Held {
    fn new(kind: &str, path: &Path) -> Held {
        if kind.ends_with("reflock") {
            Held::Reflock(reflock::LockFile::new(path), None)
        } else {
            Held::Floor(reflock::floor::FloorLock::new(path), None)
        }
    }
    fn lock(&mut self) {
        match self {
            Held::Reflock(lock, guard) => *guard = Some(lock.exclusive().unwrap()),
            Held::Floor(lock, guard) => *guard = Some(lock.lock().unwrap()),
        }
    }
    fn unlock(&mut self) {
        match self {
            Held::Reflock(_, guard) => guard.take().unwrap().release().unwrap(),
            Held::Floor(_, guard) => guard.take().unwrap().release().unwrap(),
        }
    }
}

/// Process B of `handoff`: on each byte from stdin say `r`, block on the lock, then report
/// when it got it, and release.
fn waiter(kind: &str, path: &Path) {
    // DRIVE_WAITER_CPU=N pins the waiter to CPU N (pin the parent with taskset to compare a
    // handoff on one CPU with one across CPUs).
    if let Some(cpu) = std::env::var("DRIVE_WAITER_CPU")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        let mut set = rustix::thread::CpuSet::new();
        set.set(cpu);
        rustix::thread::sched_setaffinity(None, &set).unwrap();
    }
    let mut held = Held::new(kind, path);
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

/// Whether `pid` waits for a file lock, from Linux's lock table.
fn wait_until_blocked(pid: u32) {
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
}

fn handoff(n: u64) {
    let dir = std::env::temp_dir().join(format!("reflock-drive-handoff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kinds = ["floor", "reflock"];
    let mut rigs: Vec<_> = kinds
        .iter()
        .map(|kind| {
            let path: PathBuf = dir.join(format!("{kind}.lock"));
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args([&format!("waiter-{kind}"), "0"])
                .arg(&path)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let to_b = child.stdin.take().unwrap();
            let from_b = BufReader::new(child.stdout.take().unwrap());
            (child, to_b, from_b, Held::new(kind, &path), Vec::new())
        })
        .collect();
    // Alternate kinds in blocks of 50 so that the machine's noise falls on both alike.
    for block in 0..n.div_ceil(50) {
        for (child, to_b, from_b, held, samples) in rigs.iter_mut() {
            for _ in 0..50.min(n - block * 50) {
                held.lock();
                to_b.write_all(b"g").unwrap();
                to_b.flush().unwrap();
                let mut ready = [0u8; 1];
                from_b.read_exact(&mut ready).unwrap();
                wait_until_blocked(child.id());
                let released = now_nanos();
                held.unlock();
                let mut at = [0u8; 8];
                from_b.read_exact(&mut at).unwrap();
                samples.push(Duration::from_nanos(u64::from_le_bytes(at) - released));
            }
        }
    }
    let mut p50 = Vec::new();
    for (kind, (mut child, to_b, mut from_b, _, mut samples)) in kinds.iter().zip(rigs) {
        drop(to_b);
        let _ = from_b.fill_buf();
        let _ = child.wait();
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
        println!(
            "handoff {kind:>7}: p10 {:.1} us, p50 {:.1} us, p90 {:.1} us ({} samples)",
            at(0.1),
            at(0.5),
            at(0.9),
            samples.len()
        );
        p50.push(at(0.5));
    }
    println!("handoff p50 ratio {:.2}", p50[1] / p50[0]);
    let _ = std::fs::remove_dir_all(&dir);
}
