//! The clock bench samples are stamped with: one system-wide monotonic clock, so that the
//! samples of every contender on one machine, and the runner's own readings, are comparable.
//! PROTOCOL.md ("bench") names the clock for each platform.

/// Nanoseconds on the system-wide monotonic clock: `CLOCK_MONOTONIC` on Linux and other
/// Unixes. Any origin; never decreases.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Nanoseconds on the system-wide monotonic clock: `CLOCK_UPTIME_RAW` on macOS, the clock of
/// `mach_absolute_time`, which Python's and Node's monotonic clocks read there.
#[cfg(target_os = "macos")]
pub fn monotonic_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill; the clock id is a macOS constant.
    unsafe { libc::clock_gettime(libc::CLOCK_UPTIME_RAW, &mut t) };
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Nanoseconds on the system-wide monotonic clock: `QueryPerformanceCounter` on Windows. Any
/// origin; never decreases.
#[cfg(windows)]
pub fn monotonic_ns() -> u64 {
    use windows_sys::Win32::System::Performance::{
        QueryPerformanceCounter, QueryPerformanceFrequency,
    };
    let mut count = 0i64;
    let mut frequency = 0i64;
    // SAFETY: both calls only write the integer they are given; they cannot fail on
    // Windows XP and later.
    unsafe {
        QueryPerformanceCounter(&mut count);
        QueryPerformanceFrequency(&mut frequency);
    }
    let (count, frequency) = (count.max(0) as u128, frequency.max(1) as u128);
    (count * 1_000_000_000 / frequency) as u64
}
