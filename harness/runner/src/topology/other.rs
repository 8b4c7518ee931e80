//! No topologies outside Linux: mounts and namespaces need Linux, so every scenario that asks
//! for one is skipped (see `skip.rs`), and these are never reached with anything to do.

use std::io;
use std::path::Path;
use std::process::{Child, Command};

/// What this runner lacks to set topologies up.
pub(super) fn missing_privilege() -> Option<&'static str> {
    Some("mounts and namespaces need Linux")
}

/// Runs `f` here: there is nothing to isolate.
pub(crate) fn isolated<T: Send>(f: impl FnOnce() -> T + Send) -> io::Result<T> {
    Ok(f())
}

/// Never reached: [`missing_privilege`] already says why.
pub(super) fn missing_fuse() -> Option<&'static str> {
    Some("FUSE mounts need Linux")
}

fn unsupported() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "mounts need Linux")
}

/// Unsupported outside Linux.
pub(crate) fn mount_tmpfs(_dir: &Path, _size_bytes: u64) -> io::Result<()> {
    Err(unsupported())
}

/// Unsupported outside Linux.
pub(crate) fn remount_read_only(_dir: &Path) -> io::Result<()> {
    Err(unsupported())
}

/// Unsupported outside Linux.
pub(crate) fn bind(_source: &Path, _target: &Path) -> io::Result<()> {
    Err(unsupported())
}

/// Unsupported outside Linux.
pub(crate) fn mount_overlay(
    _lower: &Path,
    _upper: &Path,
    _work: &Path,
    _merged: &Path,
) -> io::Result<()> {
    Err(unsupported())
}

/// A FUSE daemon, never started outside Linux.
#[allow(dead_code)] // never constructed: `start` always fails here.
pub(crate) struct FuseMount;

impl FuseMount {
    /// Unsupported outside Linux.
    pub(crate) fn start(_backing: &Path, _mount_point: &Path) -> io::Result<FuseMount> {
        Err(unsupported())
    }
}

/// Unsupported outside Linux.
pub(crate) fn unmount(_dir: &Path) -> io::Result<()> {
    Err(unsupported())
}

/// Makes `link` a symlink to the directory `target`.
pub(crate) fn symlink_dir(target: &Path, link: &Path) -> io::Result<()> {
    #[cfg(unix)]
    return std::os::unix::fs::symlink(target, link);
    #[cfg(windows)]
    return std::os::windows::fs::symlink_dir(target, link);
}

/// Nothing to keep alive outside Linux.
pub(crate) struct Keeper;

/// Spawns `cmd`; a PID namespace is unsupported.
pub(crate) fn spawn(
    mut cmd: Command,
    own_pid_namespace: bool,
) -> io::Result<(Child, Option<Keeper>)> {
    if own_pid_namespace {
        return Err(unsupported());
    }
    Ok((cmd.spawn()?, None))
}
