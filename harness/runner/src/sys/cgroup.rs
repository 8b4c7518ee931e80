//! cgroup v2 containment (Linux): each iteration's participants run in a cgroup of their own,
//! `<the runner's cgroup>/lockcheck-<pid>/<n>`, which they join before they exec, and the
//! iteration ends with `cgroup.kill` (cgroups(7), the kernel's cgroup-v2.rst). Unlike a
//! process group, that reaches every descendant, including one that called `setsid` or
//! daemonised. The watchdog kills and removes the cgroups that are left when the runner dies.
//!
//! The cgroup2 mount is found in `/proc/self/mountinfo` and the runner's own cgroup in
//! `/proc/self/cgroup` (the `0::` line), once per process, and a first process is moved into
//! a cgroup there to see that it can be; when either is missing, the runner may not create a
//! cgroup or move a process into it, or the kernel has no `cgroup.kill`, iterations fall back
//! to process groups alone, and the run says why ([`Containment`]).

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use lockcheck_model::{Containment, NoCgroup};

use crate::spec::ENV_NO_CGROUP;

/// How long a killed cgroup may take to empty before the iteration reports it.
const EMPTY_WITHIN: Duration = Duration::from_secs(10);

/// `lockcheck-<pid>`, or why there is none; probed once.
static PARENT: OnceLock<Result<PathBuf, NoCgroup>> = OnceLock::new();
/// Iteration cgroups alive under the parent: the last one removed takes the parent with it.
static LIVE: Mutex<usize> = Mutex::new(0);
/// The next iteration cgroup's name.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// How a run with cgroups `enabled` (its `RunOptions`) contains its participants here.
pub(crate) fn containment(enabled: bool) -> Containment {
    match parent(enabled) {
        Ok(_) => Containment::Cgroup,
        Err(why) => Containment::ProcessGroups { why },
    }
}

/// The directory this process's iteration cgroups go in, `.../lockcheck-<pid>`, when cgroups
/// are in force; it exists only while one of them does.
pub(crate) fn cgroup_parent(enabled: bool) -> Option<PathBuf> {
    parent(enabled).ok().map(Path::to_owned)
}

fn parent(enabled: bool) -> Result<&'static Path, NoCgroup> {
    let disabled = std::env::var_os(ENV_NO_CGROUP).is_some_and(|v| !v.is_empty() && v != "0");
    if !enabled || disabled {
        return Err(NoCgroup::Disabled);
    }
    match PARENT.get_or_init(probe) {
        Ok(parent) => Ok(parent),
        Err(why) => Err(why.clone()),
    }
}

/// Finds where this process may make cgroups, and checks that it may, with `cgroup.kill`.
fn probe() -> Result<PathBuf, NoCgroup> {
    let mountinfo =
        fs::read_to_string("/proc/self/mountinfo").map_err(|_| NoCgroup::Unavailable)?;
    let (root, mount) = cgroup2_mount(&mountinfo).ok_or(NoCgroup::Unavailable)?;
    let own = fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| unified_cgroup(&text));
    // Under the runner's own cgroup when this mount shows it, else at the mount's root.
    let base = own
        .as_deref()
        .and_then(|own| Path::new(own).strip_prefix(&root).ok())
        .map(|relative| mount.join(relative))
        .filter(|dir| dir.is_dir())
        .unwrap_or(mount);
    let parent = base.join(format!("lockcheck-{}", std::process::id()));
    let not_usable = |message: String| NoCgroup::NotUsable { message };
    match fs::create_dir(&parent) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(not_usable(format!(
                "cannot create {}: {e}",
                parent.display()
            )));
        }
    }
    let kill = parent.join("cgroup.kill").exists();
    let moved = try_move_into(&parent);
    let _ = fs::remove_dir(&parent);
    if !kill {
        return Err(not_usable(
            "the kernel has no cgroup.kill (Linux 5.14 and later have it)".to_owned(),
        ));
    }
    moved.map_err(|e| {
        not_usable(format!(
            "cannot move a process into {}: {e}",
            parent.display()
        ))
    })?;
    Ok(parent)
}

/// Starts a process that joins the cgroup `dir` before it execs, as participants will, and
/// waits for it: creating a cgroup can be allowed where moving a process into it is not (the
/// common ancestor's `cgroup.procs` decides).
fn try_move_into(dir: &Path) -> io::Result<()> {
    let procs = open_procs(dir)?;
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exit 0"]);
    enter_on_spawn(&procs, &mut cmd);
    let status = cmd.spawn()?.wait()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "the process that joined it ended with {status}"
        )))
    }
}

/// Makes the process `cmd` starts write itself into `procs` (a `cgroup.procs`) before it
/// execs. `procs` must stay open until `cmd` has spawned.
fn enter_on_spawn(procs: &OwnedFd, cmd: &mut Command) {
    let procs = procs.as_raw_fd();
    // SAFETY: the hook makes one write(2) on a descriptor the caller keeps open while it
    // spawns; it allocates nothing. "0" names the writing process.
    unsafe {
        cmd.pre_exec(move || {
            rustix::io::write(BorrowedFd::borrow_raw(procs), b"0")?;
            Ok(())
        });
    }
}

/// The root and mount point of the first cgroup2 mount in `mountinfo` text (proc(5): fields
/// 4 and 5, then after ` - ` the file-system type), with their octal escapes undone.
fn cgroup2_mount(mountinfo: &str) -> Option<(PathBuf, PathBuf)> {
    mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        if fs.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mut fields = mount.split_whitespace().skip(3);
        let root = unescape(fields.next()?);
        let point = unescape(fields.next()?);
        Some((root.into(), point.into()))
    })
}

/// Undoes mountinfo's `\NNN` octal escapes (of space, tab, newline and backslash).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .and_then(|d| {
                let value = d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0'));
                u8::try_from(value).ok()
            });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's cgroup v2 path, from `/proc/self/cgroup` text (its `0::PATH` line).
fn unified_cgroup(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(str::to_owned)
}

/// One group of participants' own cgroup: removed (after `cgroup.kill`) when dropped.
pub(crate) struct Cgroup {
    dir: PathBuf,
    /// `cgroup.procs`, open for the spawned children to write themselves into.
    procs: OwnedFd,
    removed: bool,
}

impl Cgroup {
    /// A new, empty cgroup, when cgroups are in force for a run with cgroups `enabled`;
    /// `None` when process groups are all there is.
    pub(crate) fn create(enabled: bool) -> io::Result<Option<Cgroup>> {
        let Ok(parent) = parent(enabled) else {
            return Ok(None);
        };
        let dir = {
            let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            match fs::create_dir(parent) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            let dir = loop {
                let dir = parent.join(NEXT.fetch_add(1, Ordering::Relaxed).to_string());
                match fs::create_dir(&dir) {
                    Ok(()) => break dir,
                    // Left by a runner with this pid in another PID namespace: take the next.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => {
                        if *live == 0 {
                            let _ = fs::remove_dir(parent);
                        }
                        return Err(e);
                    }
                }
            };
            *live += 1;
            dir
        };
        let procs = match open_procs(&dir) {
            Ok(procs) => procs,
            Err(e) => {
                let _ = release(&dir);
                return Err(e);
            }
        };
        let mut cgroup = Cgroup {
            procs,
            dir,
            removed: false,
        };
        if let Err(e) = super::guard_cgroup(&cgroup.dir) {
            let _ = cgroup.teardown();
            return Err(e);
        }
        Ok(Some(cgroup))
    }

    /// Makes the process `cmd` starts join this cgroup before it execs, so that nothing it
    /// runs is ever outside.
    pub(crate) fn enter_on_spawn(&self, cmd: &mut Command) {
        enter_on_spawn(&self.procs, cmd);
    }

    /// SIGKILLs every process in the cgroup, wherever in the process tree it is.
    pub(crate) fn kill(&self) -> io::Result<()> {
        fs::write(self.dir.join("cgroup.kill"), b"1")
    }

    /// Kills whatever is left, waits until the cgroup is empty, and removes it.
    pub(crate) fn remove(mut self) -> io::Result<()> {
        self.teardown()
    }

    fn teardown(&mut self) -> io::Result<()> {
        if self.removed {
            return Ok(());
        }
        self.removed = true;
        self.kill()?;
        let deadline = Instant::now() + EMPTY_WITHIN;
        while populated(&self.dir)? {
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "processes are still in {} {} s after cgroup.kill",
                    self.dir.display(),
                    EMPTY_WITHIN.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        release(&self.dir)?;
        super::forget_cgroup(&self.dir)
    }
}

/// Removes the empty cgroup `dir`, and the parent with the last one.
fn release(dir: &Path) -> io::Result<()> {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    fs::remove_dir(dir)?;
    *live -= 1;
    if *live == 0
        && let Some(parent) = dir.parent()
    {
        let _ = fs::remove_dir(parent);
    }
    Ok(())
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}

fn open_procs(dir: &Path) -> io::Result<OwnedFd> {
    Ok(fs::OpenOptions::new()
        .write(true)
        .open(dir.join("cgroup.procs"))?
        .into())
}

/// The cgroup or a descendant still has a live process (`populated` in `cgroup.events`).
fn populated(dir: &Path) -> io::Result<bool> {
    let events = fs::read_to_string(dir.join("cgroup.events"))?;
    Ok(events.lines().any(|line| line == "populated 1"))
}

#[cfg(test)]
mod tests;
