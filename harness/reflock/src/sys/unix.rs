//! Unix (Linux and macOS): `flock(2)` on a file opened with `O_NOFOLLOW | O_CLOEXEC`.
//!
//! This is the one place allowed to call lock syscalls.
#![allow(clippy::disallowed_methods)]

use super::KernelHolder;
use crate::error::NotRegular;
use crate::fs_kind::FsKind;
use crate::lock::Access;
use crate::registry::FileId;
use rustix::fd::OwnedFd;
use rustix::fs::{FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;
use std::io;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// An open lock file.
#[derive(Debug)]
pub(crate) struct Handle {
    fd: OwnedFd,
    /// The [`fork_generation`] it was opened in: a child forked since shares its open file
    /// description, and so any lock taken through it, with the parent.
    opened_in: u64,
}

/// An unlocked [`Handle`] is kept open for the next acquisition of its path
/// ([`Handle::reusable_for`]).
pub(crate) const REUSES_HANDLES: bool = true;

/// Why opening a lock file failed.
pub(crate) enum OpenFailure {
    Os(io::Error),
    NotRegular(NotRegular),
}

impl From<Errno> for OpenFailure {
    fn from(e: Errno) -> Self {
        if e == Errno::LOOP {
            // `O_NOFOLLOW` refuses a symbolic link in the last component with ELOOP.
            OpenFailure::NotRegular(NotRegular::Symlink)
        } else if e == Errno::ISDIR {
            OpenFailure::NotRegular(NotRegular::Directory)
        } else {
            OpenFailure::Os(e.into())
        }
    }
}

/// What [`check_regular`] needs to know about a file.
struct Kind {
    mode: u32,
    links: u64,
    id: FileId,
}

/// The file [`kind`] describes: an open one, or whatever a path names (not following a
/// symbolic link in its last component).
#[derive(Clone, Copy)]
enum Target<'a> {
    Open(&'a OwnedFd),
    Path(&'a Path),
}

/// The file's type, link count and identity. On Linux this is `statx` asking for neither
/// timestamp: since Linux 6.13, reading a file's ctime or mtime (which `fstat` always does)
/// flags the inode so that the next write stamps a fine-grained time and dirties the inode in
/// the journal, which made the holder record's write cost twice as much. `fstat` where
/// `statx` is missing (before Linux 4.11) or refused (some seccomp filters).
#[cfg(target_os = "linux")]
fn kind(target: Target<'_>) -> Result<Kind, Errno> {
    use rustix::fd::AsFd;
    use rustix::fs::{AtFlags, CWD, StatxFlags};
    use std::sync::atomic::{AtomicBool, Ordering};
    static NO_STATX: AtomicBool = AtomicBool::new(false);
    if !NO_STATX.load(Ordering::Relaxed) {
        let mask = StatxFlags::TYPE | StatxFlags::MODE | StatxFlags::NLINK | StatxFlags::INO;
        let stx = match target {
            Target::Open(fd) => rustix::fs::statx(fd.as_fd(), c"", AtFlags::EMPTY_PATH, mask),
            Target::Path(path) => rustix::fs::statx(CWD, path, AtFlags::SYMLINK_NOFOLLOW, mask),
        };
        match stx {
            Ok(stx) => {
                return Ok(Kind {
                    mode: u32::from(stx.stx_mode),
                    links: u64::from(stx.stx_nlink),
                    // The same encoding as `st_dev`, so identities from either call agree.
                    id: FileId {
                        device: rustix::fs::makedev(stx.stx_dev_major, stx.stx_dev_minor),
                        file: stx.stx_ino,
                    },
                });
            }
            Err(Errno::NOSYS | Errno::PERM | Errno::INVAL) => {
                NO_STATX.store(true, Ordering::Relaxed)
            }
            Err(e) => return Err(e),
        }
    }
    stat_kind(target)
}

#[cfg(not(target_os = "linux"))]
fn kind(target: Target<'_>) -> Result<Kind, Errno> {
    stat_kind(target)
}

fn stat_kind(target: Target<'_>) -> Result<Kind, Errno> {
    let stat = match target {
        Target::Open(fd) => rustix::fs::fstat(fd)?,
        Target::Path(path) => {
            rustix::fs::statat(rustix::fs::CWD, path, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?
        }
    };
    // st_mode/st_nlink/st_dev/st_ino widths differ between platforms; the casts only widen.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    Ok(Kind {
        mode: stat.st_mode as u32,
        links: stat.st_nlink as u64,
        id: FileId {
            device: stat.st_dev as u64,
            file: stat.st_ino as u64,
        },
    })
}

/// The file's identity if it is a regular file with one link; why not, otherwise.
fn check_regular(kind: Kind) -> Result<FileId, OpenFailure> {
    match FileType::from_raw_mode(kind.mode as _) {
        FileType::RegularFile => {}
        FileType::Directory => return Err(OpenFailure::NotRegular(NotRegular::Directory)),
        FileType::Symlink => return Err(OpenFailure::NotRegular(NotRegular::Symlink)),
        _ => return Err(OpenFailure::NotRegular(NotRegular::Special)),
    }
    if kind.links > 1 {
        // A hard link planted at the lock path would make us write holder records into
        // someone else's file.
        return Err(OpenFailure::NotRegular(NotRegular::HardLinked));
    }
    Ok(kind.id)
}

/// Counts the forks of this process's ancestry: a child's count differs from the one its
/// parent had when it forked. The count only moves once [`fork_generation`] has run.
static FORKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn on_fork_in_child() {
    FORKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Which fork of the process this is; counted from the first call on (`pthread_atfork`, so
/// a child made by a raw `clone` or `vfork` that does not `exec` is not counted).
fn fork_generation() -> u64 {
    static COUNTING: std::sync::Once = std::sync::Once::new();
    // SAFETY: the handler only increments an atomic, which is async-signal-safe as a child
    // handler must be.
    COUNTING.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(on_fork_in_child));
    });
    FORKS.load(std::sync::atomic::Ordering::Relaxed)
}

impl Handle {
    /// Opens or creates the lock file without following a symlink, without truncating, and
    /// without letting the descriptor survive `exec`. `O_NONBLOCK` keeps a FIFO planted at the
    /// path from blocking the open; it has no effect on regular files or on `flock`.
    pub(crate) fn open(path: &Path, mode: u32) -> Result<(Handle, FileId), OpenFailure> {
        let flags =
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let opened_in = fork_generation();
        let fd = rustix::fs::open(path, flags, Mode::from_bits_truncate(mode as _))?;
        let id = check_regular(kind(Target::Open(&fd))?)?;
        Ok((Handle { fd, opened_in }, id))
    }

    /// Whether this unlocked handle, on the file `id`, can be locked again for `path` instead
    /// of opening `path` anew: this process opened it (a child forked since would share its
    /// locks with the parent), and `path` still names that file, as a regular file with one
    /// link, without a symbolic link in its last component. One `statx` of the path (`lstat`
    /// on macOS).
    pub(crate) fn reusable_for(&self, path: &Path, id: FileId) -> bool {
        self.opened_in == fork_generation()
            && kind(Target::Path(path)).is_ok_and(|kind| check_regular(kind).ok() == Some(id))
    }

    /// Opens an existing lock file for reading only (for `LockFile::holder`).
    pub(crate) fn open_existing(path: &Path) -> Result<(Handle, FileId), OpenFailure> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let opened_in = fork_generation();
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        let id = check_regular(kind(Target::Open(&fd))?)?;
        Ok((Handle { fd, opened_in }, id))
    }

    /// Takes the lock if it is free. `Ok(false)` means another open file holds it.
    pub(crate) fn try_lock(&self, access: Access) -> io::Result<bool> {
        let op = match access {
            Access::Exclusive => FlockOperation::NonBlockingLockExclusive,
            Access::Shared => FlockOperation::NonBlockingLockShared,
        };
        loop {
            match rustix::fs::flock(&self.fd, op) {
                Ok(()) => return Ok(true),
                Err(Errno::WOULDBLOCK) => return Ok(false),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits in the kernel until the lock is ours. A signal handler without `SA_RESTART`
    /// makes `flock` fail with EINTR; the wait simply resumes.
    pub(crate) fn lock(&self, access: Access) -> io::Result<()> {
        loop {
            match self.lock_interruptible(access) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn lock_interruptible(&self, access: Access) -> io::Result<()> {
        let op = match access {
            Access::Exclusive => FlockOperation::LockExclusive,
            Access::Shared => FlockOperation::LockShared,
        };
        rustix::fs::flock(&self.fd, op).map_err(io::Error::from)
    }

    /// Waits until the lock is ours (`Ok(true)`) or `deadline` has passed (`Ok(false)`).
    ///
    /// `flock` has no timeout, so the wait is the plain blocking `flock` of [`Handle::lock`],
    /// cut short by a signal. A watchdog thread sleeps on a condition variable until the
    /// deadline and then sends `SIGURG` to the waiting thread with `pthread_kill`, once a
    /// millisecond until the waiter reports back; reflock's handler for `SIGURG` does nothing
    /// and is installed without `SA_RESTART`, so the blocked `flock` returns EINTR, the waiter
    /// sees the deadline has passed and gives up. Resending closes the race where the signal
    /// lands just before the waiter enters `flock`. Why this shape:
    ///
    /// - the lock is requested on the caller's own open file, so when the wait ends there is
    ///   no thread left blocked in the kernel that could take the lock later (a phantom
    ///   holder), and the watchdog is joined before returning, so no thread or descriptor
    ///   outlives the call;
    /// - nothing polls before the deadline: the handoff is the kernel's wake-up, as fast as a
    ///   raw blocking `flock`; the deadline is met to within the watchdog's wake-up latency;
    /// - it works the same on Linux and macOS (inotify would be Linux-only and would miss a
    ///   holder that unlocks without closing).
    ///
    /// `SIGURG` is ignored by default, so a late, stray wake-up is harmless. If the process
    /// already has its own `SIGURG` handler, reflock leaves it alone and instead retries
    /// a non-blocking `flock` every millisecond until the deadline.
    pub(crate) fn lock_until(&self, access: Access, deadline: Instant) -> io::Result<bool> {
        if self.try_lock(access)? {
            return Ok(true);
        }
        if !wake_signal_installed() {
            return self.poll_until(access, deadline);
        }
        let _unblocked = UnblockWakeSignal::new();
        let watchdog = Watchdog::start(deadline)?;
        let outcome = loop {
            if Instant::now() >= deadline {
                // One last look, so a lock freed just at the deadline is not missed.
                break self.try_lock(access);
            }
            match self.lock_interruptible(access) {
                Ok(()) => break Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        watchdog.stop();
        outcome
    }

    fn poll_until(&self, access: Access, deadline: Instant) -> io::Result<bool> {
        loop {
            if self.try_lock(access)? {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(1)));
        }
    }

    pub(crate) fn unlock(&self) -> io::Result<()> {
        rustix::fs::flock(&self.fd, FlockOperation::Unlock).map_err(io::Error::from)
    }

    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        loop {
            match rustix::io::pread(&self.fd, &mut *buf, offset) {
                Err(Errno::INTR) => continue,
                other => return other.map_err(io::Error::from),
            }
        }
    }

    pub(crate) fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match rustix::io::pwrite(&self.fd, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    pub(crate) fn set_len(&self, len: u64) -> io::Result<()> {
        rustix::fs::ftruncate(&self.fd, len).map_err(io::Error::from)
    }

    /// The kind of file system the open file is on (`fstatfs(2)`).
    pub(crate) fn fs_kind(&self) -> io::Result<FsKind> {
        fs_kind_of(rustix::fs::fstatfs(&self.fd))
    }
}

/// The kind of file system `path` is on (`statfs(2)`).
pub(crate) fn fs_kind_at(path: &Path) -> io::Result<FsKind> {
    fs_kind_of(rustix::fs::statfs(path))
}

#[cfg(target_os = "linux")]
fn fs_kind_of(stat: Result<rustix::fs::StatFs, Errno>) -> io::Result<FsKind> {
    // `f_type` is a 32-bit magic number in a field whose width and sign vary by architecture.
    #[allow(clippy::unnecessary_cast)]
    Ok(FsKind::from_linux_magic(u64::from(stat?.f_type as u32)))
}

/// macOS names its file systems instead (`f_fstypename`); not told apart yet.
#[cfg(not(target_os = "linux"))]
fn fs_kind_of(stat: Result<rustix::fs::StatFs, Errno>) -> io::Result<FsKind> {
    stat?;
    Ok(FsKind::Unknown)
}

/// Maps an OS error from opening or locking to the error kind users see.
pub(crate) fn error_kind(e: &io::Error) -> crate::ErrorKind {
    use crate::ErrorKind;
    match e.raw_os_error().map(Errno::from_raw_os_error) {
        Some(Errno::NOENT | Errno::NOTDIR) => ErrorKind::MissingDirectory,
        Some(Errno::ACCESS | Errno::PERM) => ErrorKind::PermissionDenied,
        // ENOTSUP and EOPNOTSUPP are the same number on Linux but not on macOS.
        #[allow(unreachable_patterns)]
        Some(Errno::NOSYS | Errno::NOTSUP | Errno::OPNOTSUPP) => ErrorKind::Unsupported,
        _ => ErrorKind::Io,
    }
}

// --- the timed wait's wake-up -----------------------------------------------------------------

const WAKE_SIGNAL: libc::c_int = libc::SIGURG;

extern "C" fn on_wake_signal(_: libc::c_int) {}

/// Installs the do-nothing `SIGURG` handler once per process; false if the process has a
/// handler of its own (then reflock must not send `SIGURG`).
fn wake_signal_installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        // SAFETY: plain sigaction calls with zeroed, then filled, structs; the handler is
        // async-signal-safe (it does nothing).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(WAKE_SIGNAL, std::ptr::null(), &mut old) != 0 {
                return false;
            }
            if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
                return false;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction =
                on_wake_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            // Deliberately no SA_RESTART: the point is to interrupt flock.
            action.sa_flags = 0;
            libc::sigaction(WAKE_SIGNAL, &action, std::ptr::null_mut()) == 0
        }
    })
}

/// Unblocks the wake signal in this thread for the duration of a timed wait (a caller that
/// blocked it would otherwise never be woken), and restores the old mask afterwards.
struct UnblockWakeSignal {
    old: libc::sigset_t,
}

impl UnblockWakeSignal {
    fn new() -> UnblockWakeSignal {
        // SAFETY: sigset_t is plain data; the calls only read and write these locals.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, WAKE_SIGNAL);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, &mut old);
            UnblockWakeSignal { old }
        }
    }
}

impl Drop for UnblockWakeSignal {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

struct ThreadId(libc::pthread_t);
// SAFETY: a pthread_t is an identifier; it is only passed to pthread_kill while the thread it
// names is alive (the waiter joins the watchdog before returning).
unsafe impl Send for ThreadId {}

struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: std::thread::JoinHandle<()>,
}

impl Watchdog {
    fn start(deadline: Instant) -> io::Result<Watchdog> {
        // SAFETY: pthread_self has no preconditions.
        let waiter = ThreadId(unsafe { libc::pthread_self() });
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let shared = Arc::clone(&done);
        let thread = std::thread::Builder::new()
            .name("reflock-timeout".into())
            .spawn(move || {
                let waiter = waiter;
                let (lock, wake) = &*shared;
                let mut done = lock.lock().unwrap_or_else(|p| p.into_inner());
                while !*done {
                    let now = Instant::now();
                    let nap = if now < deadline {
                        deadline - now
                    } else {
                        // SAFETY: the waiter is alive until it has joined this thread.
                        unsafe { libc::pthread_kill(waiter.0, WAKE_SIGNAL) };
                        Duration::from_millis(1)
                    };
                    done = wake
                        .wait_timeout(done, nap)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            })?;
        Ok(Watchdog { done, thread })
    }

    fn stop(self) {
        let (lock, wake) = &*self.done;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        wake.notify_one();
        // The watchdog cannot panic; a join error would only repeat that panic.
        let _ = self.thread.join();
    }
}

// --- who holds a lock, by the kernel ----------------------------------------------------------

/// Whether the kernel can name a lock file's exclusive holder ([`kernel_holder`]): then an
/// acquisition need not record itself in the file.
pub(crate) const KERNEL_NAMES_HOLDER: bool = cfg!(target_os = "linux");

/// Who holds a file's `flock` exclusively, by `/proc/locks`.
#[cfg(target_os = "linux")]
pub(crate) fn kernel_holder(id: FileId) -> KernelHolder {
    use crate::lock_table::{self, LockClass};
    // The table's pids are those of the PID namespace `/proc` was mounted in; when that is
    // not this process's (a container that kept the host's `/proc`), they name nobody here.
    let procfs_pid = std::fs::read_link("/proc/self").ok();
    if procfs_pid.and_then(|p| p.to_str()?.parse::<u32>().ok()) != Some(current_pid()) {
        return KernelHolder::Unknown;
    }
    let Ok(entries) = lock_table::read(id.device, id.file) else {
        return KernelHolder::Unknown;
    };
    let holder = entries
        .iter()
        .find(|e| e.class == LockClass::Flock && e.exclusive && !e.blocked);
    match holder {
        None => KernelHolder::Free,
        Some(entry) => entry.pid.map_or(KernelHolder::Hidden, KernelHolder::Pid),
    }
}

/// macOS keeps no lock table a process can read.
#[cfg(not(target_os = "linux"))]
pub(crate) fn kernel_holder(_id: FileId) -> KernelHolder {
    KernelHolder::Unknown
}

/// A process's command line, arguments joined by spaces (`/proc/PID/cmdline`); empty if it
/// cannot be read.
#[cfg(target_os = "linux")]
pub(crate) fn process_command(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<_> = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(String::from_utf8_lossy)
        .collect();
    args.join(" ")
}

/// Not needed where [`kernel_holder`] names nobody.
#[cfg(not(target_os = "linux"))]
pub(crate) fn process_command(_pid: u32) -> String {
    String::new()
}

// --- process identity -------------------------------------------------------------------------

/// Who this process is, as recorded in holder metadata.
#[derive(Clone, Debug)]
pub(crate) struct ProcessIdentity {
    pub(crate) pid: u32,
    /// The PID namespace `pid` belongs to; 0 where there are none.
    pub(crate) pid_ns: u64,
    pub(crate) start: u64,
    pub(crate) boot: String,
    pub(crate) host: String,
}

pub(crate) fn current_pid() -> u32 {
    rustix::process::getpid().as_raw_nonzero().get() as u32
}

/// This machine's host name.
pub(crate) fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// The PID namespace this process sees pids in: the inode of `/proc/self/ns/pid`
/// (namespaces(7)); 0 if it cannot be read.
#[cfg(target_os = "linux")]
pub(crate) fn pid_namespace() -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").map_or(0, |m| m.ino())
}

/// macOS has no PID namespaces.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pid_namespace() -> u64 {
    0
}

/// Identifies this boot of the machine: Linux's `/proc/sys/kernel/random/boot_id`.
#[cfg(target_os = "linux")]
pub(crate) fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// When the process started, in clock ticks since boot (field 22 of `/proc/PID/stat`, see
/// proc(5)); `None` if there is no such process or it is a zombie (which holds no files).
#[cfg(target_os = "linux")]
pub(crate) fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may itself contain ") ".
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    // Fields 4..=21 come before starttime.
    fields.nth(18)?.parse().ok()
}

/// Identifies this boot of the machine: macOS's `kern.boottime`.
#[cfg(target_os = "macos")]
pub(crate) fn boot_id() -> String {
    let mut boot: libc::timeval = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut len = std::mem::size_of::<libc::timeval>();
    // SAFETY: the buffer and its length describe `boot`.
    let rc = unsafe {
        libc::sysctlbyname(
            c"kern.boottime".as_ptr(),
            (&mut boot as *mut libc::timeval).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return String::new();
    }
    format!("{}.{:06}", boot.tv_sec, boot.tv_usec)
}

/// When the process started, in microseconds since the Unix epoch (`proc_pidinfo` with
/// `PROC_PIDTBSDINFO`); `None` if there is no such process or it is a zombie.
#[cfg(target_os = "macos")]
pub(crate) fn process_start(pid: u32) -> Option<u64> {
    let pid = libc::c_int::try_from(pid).ok()?;
    // SAFETY: proc_bsdinfo is plain data; proc_pidinfo writes at most `size` bytes into it.
    unsafe {
        let mut info: libc::proc_bsdinfo = std::mem::zeroed();
        let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
        let n = libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            0,
            (&mut info as *mut libc::proc_bsdinfo).cast(),
            size,
        );
        if n != size || info.pbi_status == libc::SZOMB {
            return None;
        }
        Some(
            info.pbi_start_tvsec
                .saturating_mul(1_000_000)
                .saturating_add(info.pbi_start_tvusec),
        )
    }
}

/// This process's identity, computed once per process (and again after a `fork`).
pub(crate) fn current_process() -> Arc<ProcessIdentity> {
    static CACHE: Mutex<Option<Arc<ProcessIdentity>>> = Mutex::new(None);
    let pid = current_pid();
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    match &*cache {
        Some(me) if me.pid == pid => Arc::clone(me),
        _ => {
            let me = Arc::new(ProcessIdentity {
                pid,
                pid_ns: pid_namespace(),
                start: process_start(pid).unwrap_or(0),
                boot: boot_id(),
                host: host_name(),
            });
            *cache = Some(Arc::clone(&me));
            me
        }
    }
}

// --- the floor ----------------------------------------------------------------------------

/// The bare OS lock for [`crate::floor`]: a descriptor opened with `O_RDWR | O_CREAT |
/// O_CLOEXEC` and nothing else, locked with a blocking `flock`.
#[derive(Debug)]
pub(crate) struct FloorHandle {
    fd: OwnedFd,
}

impl FloorHandle {
    pub(crate) fn lock(path: &Path) -> io::Result<FloorHandle> {
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::from_bits_truncate(0o600))?;
        loop {
            match rustix::fs::flock(&fd, FlockOperation::LockExclusive) {
                Ok(()) => return Ok(FloorHandle { fd }),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Unlocks, then closes.
    pub(crate) fn release(self) -> io::Result<()> {
        rustix::fs::flock(&self.fd, FlockOperation::Unlock).map_err(io::Error::from)
    }
}
