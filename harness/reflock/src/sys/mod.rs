//! Platform code, selected in one place. `unix.rs` and `windows.rs` mirror each other: the
//! same items with the same signatures.

#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;

pub(crate) use os::*;

/// What the kernel's lock table says about a file's exclusive `flock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(target_os = "linux"),
    expect(
        dead_code,
        reason = "only Linux has a lock table to read the holder from"
    )
)]
pub(crate) enum KernelHolder {
    /// Nobody this PID namespace can see holds it exclusively. (The kernel leaves out of
    /// `/proc/locks` the locks of processes a PID namespace cannot see.)
    Free,
    /// This process (a pid of this PID namespace) holds it.
    Pid(u32),
    /// Held by a process whose pid the table does not give.
    Hidden,
    /// No table to read (not Linux, no `/proc`, or one mounted for another PID namespace).
    Unknown,
}
