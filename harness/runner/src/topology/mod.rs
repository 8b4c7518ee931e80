//! Setting a scenario's topology up and tearing it down: the lock directory's own file
//! system (a sized, filled or read-only tmpfs), the paths that reach it (a bind mount, a
//! symlinked directory), and each participant's PID namespace.
//!
//! On Linux every mount is made in a mount namespace of the iteration's own (see
//! `linux.rs`), so that it vanishes with the namespace however the runner ends. Elsewhere,
//! and without CAP_SYS_ADMIN, a scenario that needs any of it is skipped with the reason.

mod layout;
mod skip;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod os;
#[cfg(not(target_os = "linux"))]
#[path = "other.rs"]
mod os;

/// The FUSE passthrough a host's mount is made with: Debian's bindfs, which implements no
/// lock operation unless `--enable-lock-forwarding` is given, so the kernel keeps each
/// mount's flock and fcntl locks to that mount.
pub const FUSE_PROGRAM: &str = "bindfs";

pub(crate) use layout::Layout;
pub(crate) use os::{Keeper, isolated, spawn};
pub(crate) use skip::unavailable;
