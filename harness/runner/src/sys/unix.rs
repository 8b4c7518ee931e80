//! Unix process control: process groups, signals, and the watchdog that reaps every
//! participant's group even when the runner itself is SIGKILLed; a participant's umask and
//! privileges; permission bits; and, from `/proc` on Linux, which processes have a file open.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::Mutex;

use lockcheck_model::OpenProcess;
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

use super::Sig;
use crate::confine::{Confine, Privileges};

/// Makes the child the leader of a new process group, and on Linux asks the kernel to SIGKILL
/// it if the runner dies (`PR_SET_PDEATHSIG`, prctl(2)).
pub(crate) fn configure(cmd: &mut Command) {
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    {
        let parent = rustix::process::getpid();
        // SAFETY: the closure runs between fork and exec and only makes raw syscalls, which
        // are async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
                // The parent may have died before prctl took effect: then nothing would ever
                // deliver the signal, so give up now. PID 1 of a new PID namespace sees no
                // parent (getppid gives 0) and cannot tell; the watchdog covers it.
                if rustix::process::getppid().is_some_and(|p| p != parent) {
                    return Err(io::Error::other("runner exited during spawn"));
                }
                Ok(())
            });
        }
    }
}

fn pid(raw: u32) -> io::Result<Pid> {
    i32::try_from(raw)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::other(format!("invalid pid {raw}")))
}

/// Sends `sig` to one process (not its group: children it started are left alone).
pub(crate) fn signal(raw_pid: u32, sig: Sig) -> io::Result<()> {
    let signal = match sig {
        Sig::Kill => Signal::KILL,
        Sig::Stop => Signal::STOP,
        Sig::Cont => Signal::CONT,
        Sig::Term => Signal::TERM,
    };
    rustix::process::kill_process(pid(raw_pid)?, signal).map_err(io::Error::from)
}

/// SIGKILLs every process in the group led by `leader`. A group that is already gone is fine.
pub(crate) fn kill_tree(leader: u32) -> io::Result<()> {
    match rustix::process::kill_process_group(pid(leader)?, Signal::KILL) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Blocks until the child has stopped (or exited), without reaping it, so that a SIGSTOP step
/// finishes only once the process is really paused.
pub(crate) fn wait_stopped(raw_pid: u32) -> io::Result<()> {
    let options = WaitIdOptions::STOPPED | WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
    loop {
        match rustix::process::waitid(WaitId::Pid(pid(raw_pid)?), options) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The signal that ended a process, if one did.
pub(crate) fn exit_signal(status: &ExitStatus) -> Option<i32> {
    status.signal()
}

/// The PID of a process that has certainly exited: one we started and reaped.
pub(crate) fn dead_pid() -> io::Result<u32> {
    let mut child = Command::new("sh").args(["-c", "exit 0"]).spawn()?;
    let pid = child.id();
    child.wait()?;
    Ok(pid)
}

// The watchdog is a forked copy of the runner that does nothing but read a pipe. The runner
// writes "register group" and "forget group" records into it, and on Linux "guard dir",
// "forget dir", "guard cgroup" and "forget cgroup" records. When the runner dies for any
// reason (SIGKILL, Ctrl-C), the pipe reaches end-of-file and the watchdog writes cgroup.kill
// in every cgroup still guarded, SIGKILLs every group still registered, which also catches the
// participants' own children (PR_SET_PDEATHSIG alone only reaches the direct child), then
// removes every directory and emptied cgroup still guarded.

const WATCHDOG_CAPACITY: usize = 4096;
/// A record's header: op, then a group leader or (for the dir ops) the length of the path
/// that follows it.
const RECORD: usize = 8;
const OP_REGISTER: u32 = 1;
const OP_FORGET: u32 = 2;
const OP_GUARD_DIR: u32 = 3;
const OP_FORGET_DIR: u32 = 4;
const OP_GUARD_CGROUP: u32 = 5;
const OP_FORGET_CGROUP: u32 = 6;
/// Longest directory path the watchdog keeps, with its terminating NUL; a header and a path
/// together stay under PIPE_BUF, so each record is one atomic write.
const DIR_PATH_MAX: usize = 512;
const DIR_CAPACITY: usize = 32;

static WATCHDOG: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// Tells the watchdog (starting it on first use) to kill group `leader` if the runner dies.
pub(crate) fn guard_group(leader: u32) -> io::Result<()> {
    send_watchdog(OP_REGISTER, leader)
}

/// Tells the watchdog that group `leader` has been cleaned up normally, so that a later group
/// reusing the number is never killed by mistake.
pub(crate) fn forget_group(leader: u32) -> io::Result<()> {
    send_watchdog(OP_FORGET, leader)
}

/// Tells the watchdog to remove `dir`, and everything in it, if the runner dies. Linux only
/// (the removal uses getdents64); elsewhere a no-op.
pub(crate) fn guard_dir(dir: &std::path::Path) -> io::Result<()> {
    send_dir(OP_GUARD_DIR, dir)
}

/// Tells the watchdog that `dir` has been removed normally.
pub(crate) fn forget_dir(dir: &std::path::Path) -> io::Result<()> {
    send_dir(OP_FORGET_DIR, dir)
}

/// Tells the watchdog to kill everything in the cgroup `dir` and remove it (and its parent,
/// once empty) if the runner dies. Linux only.
#[cfg(target_os = "linux")]
pub(crate) fn guard_cgroup(dir: &std::path::Path) -> io::Result<()> {
    send_dir(OP_GUARD_CGROUP, dir)
}

/// Tells the watchdog that the cgroup `dir` has been removed normally.
#[cfg(target_os = "linux")]
pub(crate) fn forget_cgroup(dir: &std::path::Path) -> io::Result<()> {
    send_dir(OP_FORGET_CGROUP, dir)
}

fn send_dir(op: u32, dir: &std::path::Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let path = dir.as_os_str().as_bytes();
    if path.is_empty() || path.len() >= DIR_PATH_MAX || path.contains(&0) {
        return Err(io::Error::other(format!(
            "the watchdog cannot keep the path {}",
            dir.display()
        )));
    }
    let mut record = Vec::with_capacity(RECORD + path.len());
    record.extend_from_slice(&op.to_ne_bytes());
    record.extend_from_slice(&(path.len() as u32).to_ne_bytes());
    record.extend_from_slice(path);
    write_record(&record)
}

fn send_watchdog(op: u32, leader: u32) -> io::Result<()> {
    let mut record = [0u8; RECORD];
    record[..4].copy_from_slice(&op.to_ne_bytes());
    record[4..].copy_from_slice(&leader.to_ne_bytes());
    write_record(&record)
}

/// Starts the watchdog now if it is not running, so that it is forked from the runner as it
/// is (before a thread leaves the runner's mount namespace, for one).
pub(crate) fn start_watchdog() -> io::Result<()> {
    let mut guard = WATCHDOG.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        *guard = Some(fork_watchdog()?);
    }
    Ok(())
}

fn write_record(record: &[u8]) -> io::Result<()> {
    start_watchdog()?;
    let guard = WATCHDOG.lock().unwrap_or_else(|e| e.into_inner());
    let Some(fd) = guard.as_ref() else {
        return Err(io::Error::other("watchdog not running"));
    };
    // Records are smaller than PIPE_BUF, so each write is atomic.
    let written = rustix::io::write(fd, record)?;
    if written != record.len() {
        return Err(io::Error::other("short write to watchdog"));
    }
    Ok(())
}

fn fork_watchdog() -> io::Result<OwnedFd> {
    let (read_end, write_end) = cloexec_pipe()?;
    // SAFETY: after fork, the child runs only `watchdog_main`, which makes async-signal-safe
    // syscalls on stack buffers and never returns.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => watchdog_main(read_end.as_raw_fd()),
        _ => Ok(write_end),
    }
}

/// A pipe whose ends are not inherited across exec.
#[cfg(not(target_vendor = "apple"))]
fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// macOS has no pipe2(2), so the flag is set right after creation. A process that another
/// thread spawns in that window inherits the write end, and the watchdog then sees the runner
/// die only once that process has exited too.
#[cfg(target_vendor = "apple")]
fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read_end, write_end) = rustix::pipe::pipe()?;
    for fd in [&read_end, &write_end] {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    }
    Ok((read_end, write_end))
}

fn watchdog_main(read_fd: i32) -> ! {
    // SAFETY (whole function): only raw syscalls on plain integers and stack buffers, which is
    // what a forked child of a multi-threaded process may do.
    unsafe {
        // Hold no descriptor but the pipe: the runner's other pipes (test harness output,
        // adapters' stdio) must see EOF when their owners close them.
        for fd in 0..1024 {
            if fd != read_fd {
                libc::close(fd);
            }
        }
        // Leave the runner's process group so that signals aimed at it (Ctrl-C) do not kill
        // the watchdog before it has done its work.
        libc::setsid();
        let mut groups = [0u32; WATCHDOG_CAPACITY];
        let mut len = 0usize;
        let mut dirs = Paths::new();
        let mut cgroups = Paths::new();
        let mut header = [0u8; RECORD];
        while read_full(read_fd, &mut header) {
            let op = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
            let arg = u32::from_ne_bytes([header[4], header[5], header[6], header[7]]);
            match op {
                OP_REGISTER if len < WATCHDOG_CAPACITY => {
                    groups[len] = arg;
                    len += 1;
                }
                OP_FORGET => {
                    if let Some(i) = groups[..len].iter().position(|&g| g == arg) {
                        groups[i] = groups[len - 1];
                        len -= 1;
                    }
                }
                OP_GUARD_DIR | OP_FORGET_DIR | OP_GUARD_CGROUP | OP_FORGET_CGROUP => {
                    let n = arg as usize;
                    let mut path = [0u8; DIR_PATH_MAX];
                    if n >= DIR_PATH_MAX || !read_full(read_fd, &mut path[..n]) {
                        break;
                    }
                    match op {
                        OP_GUARD_DIR => dirs.insert(&path, n),
                        OP_FORGET_DIR => dirs.remove(&path, n),
                        OP_GUARD_CGROUP => cgroups.insert(&path, n),
                        _ => cgroups.remove(&path, n),
                    }
                }
                _ => {}
            }
        }
        #[cfg(target_os = "linux")]
        for cgroup in cgroups.iter() {
            kill_cgroup(cgroup);
        }
        for &leader in &groups[..len] {
            libc::kill(-(leader as i32), libc::SIGKILL);
        }
        #[cfg(target_os = "linux")]
        for dir in dirs.iter() {
            remove_tree(dir);
        }
        #[cfg(target_os = "linux")]
        for cgroup in cgroups.iter() {
            remove_cgroup(cgroup);
        }
        libc::_exit(0)
    }
}

/// The watchdog's set of paths, in fixed slots on its stack: it may not allocate.
struct Paths {
    /// NUL-terminated paths; a slot's unused tail stays zero.
    slots: [[u8; DIR_PATH_MAX]; DIR_CAPACITY],
    lens: [usize; DIR_CAPACITY],
    len: usize,
}

impl Paths {
    fn new() -> Paths {
        Paths {
            slots: [[0; DIR_PATH_MAX]; DIR_CAPACITY],
            lens: [0; DIR_CAPACITY],
            len: 0,
        }
    }

    fn position(&self, path: &[u8; DIR_PATH_MAX], n: usize) -> Option<usize> {
        (0..self.len).find(|&i| self.lens[i] == n && self.slots[i][..n] == path[..n])
    }

    /// Adds the path in the first `n` bytes of `path` (zero past them), unless full or known.
    fn insert(&mut self, path: &[u8; DIR_PATH_MAX], n: usize) {
        if self.len < DIR_CAPACITY && self.position(path, n).is_none() {
            self.slots[self.len] = *path;
            self.lens[self.len] = n;
            self.len += 1;
        }
    }

    fn remove(&mut self, path: &[u8; DIR_PATH_MAX], n: usize) {
        if let Some(i) = self.position(path, n) {
            self.slots[i] = self.slots[self.len - 1];
            self.lens[i] = self.lens[self.len - 1];
            self.len -= 1;
        }
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn iter(&self) -> impl Iterator<Item = &std::ffi::CStr> {
        // Slots are zero past the path, so each holds a NUL-terminated string.
        self.slots[..self.len]
            .iter()
            .filter_map(|slot| std::ffi::CStr::from_bytes_until_nul(slot).ok())
    }
}

/// Writes `1` to `cgroup.kill` in the cgroup `dir` (watchdog: raw syscalls only).
#[cfg(target_os = "linux")]
fn kill_cgroup(dir: &std::ffi::CStr) {
    use rustix::fs::{Mode, OFlags};
    let Ok(cgroup) = rustix::fs::open(dir, dir_flags(), Mode::empty()) else {
        return;
    };
    let flags = OFlags::WRONLY | OFlags::CLOEXEC;
    if let Ok(kill) = rustix::fs::openat(&cgroup, c"cgroup.kill", flags, Mode::empty()) {
        let _ = rustix::io::write(&kill, b"1");
    }
}

/// Waits (a few seconds at most) for the killed cgroup `dir` to empty, then removes it and,
/// if that was the last, its parent (watchdog: raw syscalls, stack buffers).
#[cfg(target_os = "linux")]
fn remove_cgroup(dir: &std::ffi::CStr) {
    use rustix::fs::{Mode, OFlags};
    for _ in 0..500 {
        let Ok(cgroup) = rustix::fs::open(dir, dir_flags(), Mode::empty()) else {
            return;
        };
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let mut events = [0u8; 256];
        let read = rustix::fs::openat(&cgroup, c"cgroup.events", flags, Mode::empty())
            .and_then(|file| rustix::io::read(&file, &mut events));
        let populated = match read {
            Ok(n) => events[..n].windows(11).any(|w| w == b"populated 1"),
            Err(_) => false,
        };
        if !populated {
            break;
        }
        let pause = rustix::thread::Timespec {
            tv_sec: 0,
            tv_nsec: 10_000_000,
        };
        let _ = rustix::thread::nanosleep(&pause);
    }
    let _ = rustix::fs::rmdir(dir);
    let bytes = dir.to_bytes();
    let Some(slash) = bytes.iter().rposition(|&b| b == b'/').filter(|&i| i > 0) else {
        return;
    };
    let mut parent = [0u8; DIR_PATH_MAX];
    parent[..slash].copy_from_slice(&bytes[..slash]);
    if let Ok(parent) = std::ffi::CStr::from_bytes_until_nul(&parent) {
        let _ = rustix::fs::rmdir(parent);
    }
}

/// Fills `buf` from `fd`; false on end of file or an error. Raw syscalls only (watchdog).
unsafe fn read_full(fd: i32, buf: &mut [u8]) -> bool {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer and length describe the unfilled rest of `buf`.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().add(filled).cast(), buf.len() - filled) };
        if n == 0 {
            return false;
        }
        if n < 0 {
            // An OS error is a plain integer: reading it allocates nothing.
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        filled += n as usize;
    }
    true
}

/// Removes the directory `path` and everything in it, without allocating (watchdog: rustix
/// makes the raw syscalls, and `RawDir` reads entries into a stack buffer). A participant
/// SIGKILLed in the middle of a call may still create a file after the first sweep, so it
/// sweeps again a few times.
#[cfg(target_os = "linux")]
fn remove_tree(path: &std::ffi::CStr) {
    use rustix::fs::Mode;
    for _ in 0..20 {
        let Ok(dir) = rustix::fs::open(path, dir_flags(), Mode::empty()) else {
            return;
        };
        empty_dir(&dir, 0);
        drop(dir);
        match rustix::fs::rmdir(path) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => return,
            Err(_) => {}
        }
        let pause = rustix::thread::Timespec {
            tv_sec: 0,
            tv_nsec: 10_000_000,
        };
        let _ = rustix::thread::nanosleep(&pause);
    }
}

#[cfg(target_os = "linux")]
fn dir_flags() -> rustix::fs::OFlags {
    use rustix::fs::OFlags;
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Unlinks everything in the open directory `dir`, descending into subdirectories (a fault
/// may have made one unwritable: each is made writable first).
#[cfg(target_os = "linux")]
fn empty_dir(dir: &OwnedFd, depth: u32) {
    use std::mem::MaybeUninit;

    use rustix::fs::{AtFlags, FileType, Mode, RawDir};
    let _ = rustix::fs::fchmod(dir, Mode::from_raw_mode(0o700));
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(dir, &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name();
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        let failed = match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
            Ok(()) => continue,
            Err(e) => e,
        };
        let is_dir = entry.file_type() == FileType::Directory || failed == rustix::io::Errno::ISDIR;
        if is_dir && depth < 8 {
            if let Ok(sub) = rustix::fs::openat(dir, name, dir_flags(), Mode::empty()) {
                empty_dir(&sub, depth + 1);
            }
            let _ = rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR);
        }
    }
}

/// User + system CPU time of process `pid` and of the children it has waited for, in
/// nanoseconds: fields 14 to 17 of `/proc/PID/stat`, in clock ticks (proc(5)), so only as
/// fine as a tick (usually 10 ms). Children count because a shell adapter's lock work is
/// done by the programs it starts.
#[cfg(target_os = "linux")]
pub(crate) fn process_cpu_ns(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may itself contain ") ".
    let fields = stat[stat.rfind(')')? + 1..].split_ascii_whitespace();
    // Fields 3..=13 come before utime.
    let mut total = 0u64;
    for field in fields.skip(11).take(4) {
        total += field.parse::<u64>().ok()?;
    }
    // SAFETY: sysconf has no preconditions.
    let ticks = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .ok()
        .filter(|t| *t > 0)?;
    Some(total * (1_000_000_000 / ticks))
}

/// Not measured on macOS: the runner has no per-process CPU reading there, so a runner-driven
/// benchmark reports no CPU figure (adapters that run `bench` report their own).
#[cfg(not(target_os = "linux"))]
pub(crate) fn process_cpu_ns(_pid: u32) -> Option<u64> {
    None
}

/// The kernel's release, e.g. `6.1.0-18-amd64`.
pub(crate) fn kernel_release() -> String {
    rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned()
}

/// The name of the file system `path` is on, from `statfs`'s magic number (Linux).
#[cfg(target_os = "linux")]
pub(crate) fn file_system_type(path: &std::path::Path) -> Option<String> {
    let magic = rustix::fs::statfs(path).ok()?.f_type as u64;
    Some(
        match magic {
            0xEF53 => "ext4",
            0x0102_1994 => "tmpfs",
            0x794C_7630 => "overlayfs",
            0x9123_683E => "btrfs",
            0x5846_5342 => "xfs",
            0x6573_5546 => "fuse",
            0x6969 => "nfs",
            0xFF53_4D42 => "cifs",
            0x0102_1997 => "9p",
            0x2FC1_2FC1 => "zfs",
            _ => return Some(format!("0x{magic:x}")),
        }
        .to_owned(),
    )
}

/// The name of the file system `path` is on (`statfs`'s `f_fstypename`).
#[cfg(not(target_os = "linux"))]
pub(crate) fn file_system_type(path: &std::path::Path) -> Option<String> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: `stat` is plain data for statfs to fill; the path is NUL-terminated.
    unsafe {
        let mut stat: libc::statfs = std::mem::zeroed();
        if libc::statfs(c_path.as_ptr(), &mut stat) != 0 {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(stat.f_fstypename.as_ptr());
        Some(name.to_string_lossy().into_owned())
    }
}

/// Lets other users through the runner's private temp directory `tmp` into `dir`.
pub(crate) fn open_to_others(tmp: &Path, dir: &Path) -> io::Result<()> {
    fs::set_permissions(tmp, fs::Permissions::from_mode(0o711))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
}

/// Makes `link` a symlink to the file `target`.
pub(crate) fn symlink_file(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// The permission bits of a file.
pub(crate) fn permission_bits(meta: &fs::Metadata) -> Option<u32> {
    Some(meta.permissions().mode() & 0o7777)
}

/// Sets a directory's permission bits.
pub(crate) fn set_dir_mode(dir: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
}

/// Applies a scenario's umask and privileges to `cmd`. std switches the user before it runs
/// `pre_exec` hooks, and dropping capabilities does not touch the parent-death signal, so the
/// later hook of [`configure`] that sets `PR_SET_PDEATHSIG` survives (a uid change clears it,
/// prctl(2)).
pub(crate) fn confine(cmd: &mut Command, confine: &Confine) {
    match confine.privileges {
        Privileges::Inherit => {}
        // std also drops root's supplementary groups when a uid is set as root.
        Privileges::User(uid, gid) => {
            cmd.uid(uid).gid(gid);
        }
        Privileges::WithoutDacCapabilities => {
            // SAFETY: the hook only makes raw syscalls (prctl, capget, capset), which are
            // async-signal-safe, and allocates nothing.
            #[cfg(target_os = "linux")]
            unsafe {
                cmd.pre_exec(drop_dac_capabilities);
            }
        }
    }
    if let Some(mask) = confine.umask {
        // SAFETY: umask(2) is async-signal-safe, allocates nothing and cannot fail.
        unsafe {
            cmd.pre_exec(move || {
                rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask as _));
                Ok(())
            });
        }
    }
}

/// Removes the permission-bypassing capabilities from the bounding set (root regains every
/// capability of the bounding set at execve) and from the current sets.
#[cfg(target_os = "linux")]
fn drop_dac_capabilities() -> io::Result<()> {
    use rustix::thread::CapabilitySet;
    let dropped =
        CapabilitySet::DAC_OVERRIDE | CapabilitySet::DAC_READ_SEARCH | CapabilitySet::FOWNER;
    for capability in dropped.iter() {
        rustix::thread::remove_capability_from_bounding_set(capability)?;
    }
    let mut sets = rustix::thread::capabilities(None)?;
    sets.effective -= dropped;
    sets.permitted -= dropped;
    sets.inheritable -= dropped;
    rustix::thread::set_capabilities(None, sets)?;
    Ok(())
}

/// How a root runner strips its participants of the power to ignore permission bits: on
/// Linux, by dropping the file-permission capabilities.
#[cfg(target_os = "linux")]
pub(crate) fn unprivileged() -> Privileges {
    if rustix::process::geteuid().is_root() {
        Privileges::WithoutDacCapabilities
    } else {
        Privileges::Inherit
    }
}

/// How a root runner strips its participants of the power to ignore permission bits: as the
/// conventional `nobody` (no passwd entry is needed to switch to it).
#[cfg(not(target_os = "linux"))]
pub(crate) fn unprivileged() -> Privileges {
    const NOBODY: u32 = 65534;
    if rustix::process::geteuid().is_root() {
        Privileges::User(NOBODY, NOBODY)
    } else {
        Privileges::Inherit
    }
}

/// The processes with `path` open, from `/proc/*/fd`; `None` if `path` cannot be inspected.
#[cfg(target_os = "linux")]
pub(crate) fn open_by(path: &Path) -> Option<Vec<OpenProcess>> {
    use std::os::unix::fs::MetadataExt;
    let target = fs::symlink_metadata(path).ok()?;
    let identity = (target.dev(), target.ino());
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // Processes come and go, and other users' are unreadable: skip what fails.
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| fs::metadata(fd.path()).is_ok_and(|m| (m.dev(), m.ino()) == identity));
        if holds {
            let command = fs::read_to_string(entry.path().join("comm"))
                .map(|c| c.trim_end().to_owned())
                .unwrap_or_default();
            found.push(OpenProcess { pid, command });
        }
    }
    found.sort_by_key(|p| p.pid);
    Some(found)
}

/// No cheap way to look without /proc.
#[cfg(not(target_os = "linux"))]
pub(crate) fn open_by(_path: &Path) -> Option<Vec<OpenProcess>> {
    None
}

/// The pids the kernel lists in `/proc/locks` as blocked waiting for a lock on the file at
/// `path` (the `->` lines of proc(5)), flock, POSIX and OFD locks alike; `None` if the file
/// or `/proc/locks` cannot be read.
#[cfg(target_os = "linux")]
pub(crate) fn blocked_on(path: &Path) -> Option<Vec<u32>> {
    use std::os::unix::fs::MetadataExt;
    let target = fs::metadata(path).ok()?;
    let entries = reflock::lock_table::read(target.dev(), target.ino()).ok()?;
    let mut pids: Vec<u32> = entries
        .iter()
        .filter(|e| e.blocked)
        .filter_map(|e| e.pid)
        .collect();
    pids.sort_unstable();
    Some(pids)
}

/// No `/proc/locks` to read.
#[cfg(not(target_os = "linux"))]
pub(crate) fn blocked_on(_path: &Path) -> Option<Vec<u32>> {
    None
}

/// The CPU's model name, from `/proc/cpuinfo`.
#[cfg(target_os = "linux")]
pub(crate) fn cpu_model() -> Option<String> {
    let info = fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// Not read without /proc.
#[cfg(not(target_os = "linux"))]
pub(crate) fn cpu_model() -> Option<String> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn open_by_finds_this_process_only_while_it_has_the_file_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.lock");
        let file = fs::File::create(&path).unwrap();
        let me = std::process::id();
        let open = open_by(&path).unwrap();
        assert!(open.iter().any(|p| p.pid == me), "{open:?}");
        drop(file);
        let open = open_by(&path).unwrap();
        assert!(open.iter().all(|p| p.pid != me), "{open:?}");
    }

    #[test]
    fn a_blocked_flock_waiter_is_listed_until_it_gets_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.lock");
        let guard = reflock::LockFile::new(&path).try_exclusive().unwrap();
        assert_eq!(blocked_on(&path), Some(vec![]));
        let mut waiter = Command::new("flock")
            .args([path.to_str().unwrap(), "true"])
            .spawn()
            .unwrap();
        // Bounded by the waiter, which blocks until the guard is dropped: no clock needed.
        while blocked_on(&path) != Some(vec![waiter.id()]) {
            assert_eq!(
                waiter.try_wait().unwrap(),
                None,
                "the waiter got a held lock"
            );
            std::thread::yield_now();
        }
        drop(guard);
        assert!(waiter.wait().unwrap().success());
        assert_eq!(blocked_on(&path), Some(vec![]));
    }

    #[test]
    fn open_by_a_missing_path_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(open_by(&dir.path().join("absent")), None);
    }
}

/// Which of stdin (0) and stdout (1) `child` shares with `parent`, the same pipe, from
/// `/proc/*/fd`; `None` where that cannot be read.
#[cfg(target_os = "linux")]
pub(crate) fn shared_pipes(child: u32, parent: u32) -> Option<Vec<u32>> {
    let link = |pid: u32, fd: u32| fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok();
    // The child must be readable at all, or nothing is known.
    fs::read_dir(format!("/proc/{child}/fd")).ok()?;
    Some(
        [0, 1]
            .into_iter()
            .filter(|&fd| match (link(child, fd), link(parent, fd)) {
                (Some(a), Some(b)) => a == b && a.to_string_lossy().starts_with("pipe:"),
                _ => false,
            })
            .collect(),
    )
}

/// No cheap way to look without /proc.
#[cfg(not(target_os = "linux"))]
pub(crate) fn shared_pipes(_child: u32, _parent: u32) -> Option<Vec<u32>> {
    None
}
