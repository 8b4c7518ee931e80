//! Everything that differs between platforms, behind one set of functions: `unix.rs` and
//! `windows.rs` each provide them. What is the same everywhere is here.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

/// Process-level faults the runner can inject.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sig {
    Kill,
    Stop,
    Cont,
    Term,
}
