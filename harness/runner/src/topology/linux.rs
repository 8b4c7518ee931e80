//! Topologies on Linux, with rustix's raw syscalls.
//!
//! Mounts: an iteration that mounts anything runs on a thread of its own that has left the
//! runner's mount namespace (`unshare(CLONE_NEWNS)` affects the calling thread only) with
//! every mount made private, so nothing it mounts is seen outside it. Participants spawned
//! from that thread inherit the namespace; when the thread and they are gone, so is the
//! namespace and every mount in it, even when the runner is SIGKILLed (the watchdog, forked
//! before, kills the participants). The runner still unmounts in order when it can.
//!
//! PID namespaces: `unshare(CLONE_NEWPID)` puts the calling thread's *next child* in a new
//! namespace, as its PID 1. So a participant that needs one is forked from a thread made for
//! it, which stays alive (parked) as long as the participant: `PR_SET_PDEATHSIG` fires when
//! the thread that forked a process ends, prctl(2). The adapter itself is that PID 1, so
//! SIGKILL and SIGSTOP from the runner reach it (the kernel always delivers those two to a
//! namespace's init from an ancestor namespace, pid_namespaces(7)); it also gets a mount
//! namespace and a `/proc` of its own, as a container does.

use std::ffi::CString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::thread;

use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};
use rustix::thread::{CapabilitySet, UnshareFlags};

/// What this runner lacks to set topologies up, if anything.
pub(super) fn missing_privilege() -> Option<&'static str> {
    match rustix::thread::capabilities(None) {
        Ok(sets) if sets.effective.contains(CapabilitySet::SYS_ADMIN) => None,
        _ => Some("the runner lacks CAP_SYS_ADMIN (run it as root)"),
    }
}

/// Runs `f` on a new thread in a private mount namespace of its own, and returns what it
/// returns. The watchdog is started first, so that it stays in the runner's namespace.
pub(crate) fn isolated<T: Send>(f: impl FnOnce() -> T + Send) -> io::Result<T> {
    crate::sys::start_watchdog()?;
    let joined = thread::scope(|scope| {
        thread::Builder::new()
            .name("lockcheck-mounts".to_owned())
            .spawn_scoped(scope, || -> io::Result<T> {
                // SAFETY: CLONE_NEWNS (and the CLONE_FS it implies) unshares no descriptor
                // table, which is what `unshare_unsafe` warns about.
                unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNS) }?;
                rustix::mount::mount_change(
                    c"/",
                    MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
                )?;
                Ok(f())
            })
            .map(|handle| handle.join())
    })?;
    match joined {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Mounts a tmpfs of `size_bytes` at `dir`.
pub(crate) fn mount_tmpfs(dir: &Path, size_bytes: u64) -> io::Result<()> {
    let data = CString::new(format!("size={size_bytes},mode=0755")).expect("no NUL");
    rustix::mount::mount(
        c"lockcheck",
        dir,
        c"tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        Some(data.as_c_str()),
    )?;
    Ok(())
}

/// Makes the mount at `dir` read-only.
pub(crate) fn remount_read_only(dir: &Path) -> io::Result<()> {
    rustix::mount::mount_remount(dir, MountFlags::RDONLY, c"")?;
    Ok(())
}

/// Bind-mounts the directory `source` at `target`.
pub(crate) fn bind(source: &Path, target: &Path) -> io::Result<()> {
    rustix::mount::mount_bind(source, target)?;
    Ok(())
}

/// Makes `link` a symlink to the directory `target`.
pub(crate) fn symlink_dir(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Detaches the mount at `dir`.
pub(crate) fn unmount(dir: &Path) -> io::Result<()> {
    rustix::mount::unmount(dir, UnmountFlags::DETACH)?;
    Ok(())
}

/// Keeps the thread a participant was forked from alive until dropped (after the participant
/// has been reaped).
pub(crate) struct Keeper(#[allow(dead_code)] mpsc::Sender<()>);

/// Spawns `cmd`, in a new PID namespace (with its own mount namespace and `/proc`) when
/// `own_pid_namespace`; the [`Keeper`] must outlive the child.
pub(crate) fn spawn(
    mut cmd: Command,
    own_pid_namespace: bool,
) -> io::Result<(Child, Option<Keeper>)> {
    if !own_pid_namespace {
        return Ok((cmd.spawn()?, None));
    }
    // SAFETY: the hook runs in the forked child, PID 1 of its namespace, and only makes raw
    // syscalls on static strings; it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            rustix::thread::unshare_unsafe(UnshareFlags::NEWNS)?;
            rustix::mount::mount_change(
                c"/",
                MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
            )?;
            rustix::mount::mount(
                c"proc",
                c"/proc",
                c"proc",
                MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
                None,
            )?;
            Ok(())
        });
    }
    let (keep, parked) = mpsc::channel::<()>();
    let (spawned_tx, spawned) = mpsc::channel();
    // This thread forks the participant and then waits, parked, for the Keeper to go. It
    // can start no thread itself: the kernel refuses new threads to a thread whose children
    // go to another PID namespace.
    thread::Builder::new()
        .name("lockcheck-pidns".to_owned())
        .spawn(move || {
            // SAFETY: CLONE_NEWPID unshares no descriptor table.
            let result = unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWPID) }
                .map_err(io::Error::from)
                .and_then(|()| cmd.spawn());
            let ok = result.is_ok();
            let _ = spawned_tx.send(result);
            if ok {
                let _ = parked.recv();
            }
        })?;
    let child = spawned
        .recv()
        .map_err(|_| io::Error::other("the PID namespace thread ended without a word"))??;
    Ok((child, Some(Keeper(keep))))
}
