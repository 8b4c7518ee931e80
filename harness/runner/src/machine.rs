//! What a benchmark report says about the machine it ran on.

use std::path::Path;

use lockcheck_model::bench::Machine;

/// The OS, kernel, CPU and the file system of `lock_dir` (where the lock files go).
pub fn describe_machine(lock_dir: &Path) -> Machine {
    Machine {
        os: std::env::consts::OS.to_owned(),
        kernel: crate::sys::kernel_release(),
        cpu: cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_owned()),
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        lock_fs: crate::sys::file_system_type(lock_dir).unwrap_or_else(|| "unknown".to_owned()),
    }
}

#[cfg(target_os = "linux")]
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

#[cfg(not(target_os = "linux"))]
fn cpu_model() -> Option<String> {
    None
}
