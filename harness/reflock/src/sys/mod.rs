//! Platform code, selected in one place. `unix.rs` and `windows.rs` mirror each other: the
//! same items with the same signatures.

#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;

pub(crate) use os::*;
