//! `bench`: the acquire / hold / release loop, run inside the adapter so that no pipe round
//! trip sits between two acquisitions, and the samples file it leaves for the runner.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use lockcheck_protocol::{BENCH_SAMPLES_HEADER, Mode, monotonic_ns};

use crate::{Lock, Outcome, Wait};

/// What one `bench` request asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub hold: Duration,
    pub duration: Duration,
    pub max_acquisitions: u64,
}

/// What the loop did.
pub(crate) struct Done {
    pub acquisitions: u64,
    pub cpu_ns: Option<u64>,
}

/// Runs the loop on `lock` and writes the samples to `samples`. A lock operation that fails
/// ends the loop with its outcome (and no file); an I/O error writing the file is `Err`.
pub(crate) fn run(
    lock: &mut dyn Lock,
    plan: Plan,
    samples: &Path,
) -> Result<Result<Done, Outcome>, io::Error> {
    // Bounded: a huge `max_acquisitions` must not reserve memory up front.
    let mut stamps: Vec<[u64; 4]> = Vec::with_capacity(plan.max_acquisitions.min(1 << 16) as usize);
    let cpu_before = process_cpu_ns();
    let start = monotonic_ns();
    let end = start.saturating_add(plan.duration.as_nanos() as u64);
    let mut now = start;
    while now < end && (stamps.len() as u64) < plan.max_acquisitions {
        let requested = now;
        let outcome = lock.acquire(Mode::Exclusive, Wait::Block);
        let acquired = monotonic_ns();
        if outcome != Outcome::Ok {
            return Ok(Err(outcome));
        }
        if !plan.hold.is_zero() {
            std::thread::sleep(plan.hold);
        }
        let releasing = monotonic_ns();
        let outcome = lock.release();
        let released = monotonic_ns();
        if outcome != Outcome::Ok {
            return Ok(Err(outcome));
        }
        stamps.push([requested, acquired, releasing, released]);
        now = released;
    }
    let cpu_ns = match (cpu_before, process_cpu_ns()) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    write_samples(samples, &stamps)?;
    Ok(Ok(Done {
        acquisitions: stamps.len() as u64,
        cpu_ns,
    }))
}

fn write_samples(path: &Path, stamps: &[[u64; 4]]) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, File::create_new(path)?);
    writeln!(out, "{BENCH_SAMPLES_HEADER}")?;
    for [requested, acquired, releasing, released] in stamps {
        writeln!(out, "{requested} {acquired} {releasing} {released}")?;
    }
    out.flush()
}

/// This process's user + system CPU time so far, in nanoseconds.
#[cfg(unix)]
fn process_cpu_ns() -> Option<u64> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Some((t.tv_sec as u64) * 1_000_000_000 + t.tv_nsec as u64)
}

/// This process's user + system CPU time so far, in nanoseconds.
#[cfg(windows)]
fn process_cpu_ns() -> Option<u64> {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessTimes};
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: the pseudo-handle of the current process needs no closing; the four FILETIMEs
    // are valid for the call to fill.
    let ok = unsafe {
        GetProcessTimes(
            GetCurrentProcess(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    let ticks = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    // FILETIME counts 100 ns.
    (ok != 0).then(|| (ticks(kernel) + ticks(user)) * 100)
}
