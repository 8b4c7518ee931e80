//! What a benchmark report says about the machine it ran on.

use std::path::Path;

use lockcheck_model::bench::Machine;

/// The OS, kernel, CPU and the file system of `lock_dir` (where the lock files go).
pub fn describe_machine(lock_dir: &Path) -> Machine {
    Machine {
        os: std::env::consts::OS.to_owned(),
        kernel: crate::sys::kernel_release(),
        cpu: crate::sys::cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_owned()),
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        lock_fs: crate::sys::file_system_type(lock_dir).unwrap_or_else(|| "unknown".to_owned()),
    }
}
