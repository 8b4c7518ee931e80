//! Everything that differs between platforms, behind one set of functions: `unix.rs` and
//! `windows.rs` each provide them. What is the same everywhere is here.

use std::io;
use std::process::{Child, ExitStatus};
use std::time::Instant;

use wait_timeout::ChildExt;

#[cfg(target_os = "linux")]
mod cgroup;
#[cfg(not(target_os = "linux"))]
#[path = "no_cgroup.rs"]
mod cgroup;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

pub(crate) use cgroup::{Cgroup, cgroup_parent, containment};

/// Process-level faults the runner can inject.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sig {
    Kill,
    Stop,
    Cont,
    Term,
}

/// Waits for `child` to exit, until `deadline`: its status, or `None` if it still runs then.
pub(crate) fn wait_exit(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    child.wait_timeout(deadline.saturating_duration_since(Instant::now()))
}
