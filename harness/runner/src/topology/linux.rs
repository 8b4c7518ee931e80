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
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::FUSE_PROGRAM;

use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};
use rustix::thread::{CapabilitySet, UnshareFlags};

/// What this runner lacks to set topologies up, if anything.
pub(super) fn missing_privilege() -> Option<&'static str> {
    match rustix::thread::capabilities(None) {
        Ok(sets) if sets.effective.contains(CapabilitySet::SYS_ADMIN) => None,
        _ => Some("the runner lacks CAP_SYS_ADMIN (run it as root)"),
    }
}

/// What this runner lacks to mount the FUSE file systems of a network topology, if anything.
pub(super) fn missing_fuse() -> Option<&'static str> {
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is missing");
    }
    if find_program(FUSE_PROGRAM).is_none() {
        return Some("bindfs, its FUSE passthrough, is not installed (`apt-get install bindfs`)");
    }
    None
}

/// How long a FUSE daemon may take to mount before the iteration is broken.
const FUSE_MOUNT_LIMIT: Duration = Duration::from_secs(10);

fn find_program(name: &str) -> Option<PathBuf> {
    which::which(name).ok()
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

/// Mounts an overlayfs of `lower` under `upper` (with `work`, on `upper`'s file system) at
/// `merged`.
pub(crate) fn mount_overlay(
    lower: &Path,
    upper: &Path,
    work: &Path,
    merged: &Path,
) -> io::Result<()> {
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    );
    let data = CString::new(data).map_err(|_| io::Error::other("a NUL in a layer's path"))?;
    rustix::mount::mount(
        c"lockcheck",
        merged,
        c"overlay",
        MountFlags::NOSUID | MountFlags::NODEV,
        Some(data.as_c_str()),
    )?;
    Ok(())
}

/// A FUSE passthrough of one directory, mounted by a daemon the runner owns: the leader of
/// its own process group, registered with the watchdog like a participant, and killed when
/// dropped. Its mount is made in the calling thread's mount namespace.
pub(crate) struct FuseMount {
    daemon: Child,
}

impl FuseMount {
    /// Mounts `backing` at `mount_point` and returns once the mount is there.
    pub(crate) fn start(backing: &Path, mount_point: &Path) -> io::Result<FuseMount> {
        let program = find_program(FUSE_PROGRAM)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "bindfs is not installed"))?;
        let mut cmd = Command::new(program);
        // `-f`: stay in the foreground, in the group the runner kills.
        cmd.arg("-f")
            .arg(backing)
            .arg(mount_point)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        crate::sys::configure(&mut cmd);
        let daemon = cmd.spawn()?;
        let guarded = crate::sys::guard_group(daemon.id());
        let mut mount = FuseMount { daemon };
        guarded?;
        mount.wait_mounted(mount_point)?;
        Ok(mount)
    }

    /// Waits until `mount_point` is a FUSE mount. The daemon says nothing when it has
    /// mounted, so this looks, until it has, it exits, or [`FUSE_MOUNT_LIMIT`] passes.
    fn wait_mounted(&mut self, mount_point: &Path) -> io::Result<()> {
        let start = Instant::now();
        // reflock tells file systems apart; it reads the directory of the path it is given.
        let probe = reflock::LockFile::new(mount_point.join("probe"));
        loop {
            if probe.fs_kind().map_err(io::Error::from)? == reflock::FsKind::Fuse {
                return Ok(());
            }
            if let Some(status) = self.daemon.try_wait()? {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.daemon.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(io::Error::other(format!(
                    "bindfs exited ({status}) before mounting: {}",
                    lockcheck_protocol::head(stderr.trim(), 400)
                )));
            }
            if start.elapsed() > FUSE_MOUNT_LIMIT {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("bindfs did not mount within {FUSE_MOUNT_LIMIT:?}"),
                ));
            }
            thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for FuseMount {
    fn drop(&mut self) {
        let pid = self.daemon.id();
        let _ = crate::sys::kill_tree(pid);
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let _ = crate::sys::forget_group(pid);
    }
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
