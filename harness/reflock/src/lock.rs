//! Lock files, the ways to wait for them, and the guard that holds one.

use crate::error::{Error, ErrorKind, Op};
use crate::fs_kind::{Exclusion, FsKind};
use crate::holder::Holder;
use crate::metadata::{self, HeldTemplate, Record};
use crate::registry::{FileId, Registry, Ticket};
use crate::sys::{self, Handle, KernelHolder, OpenFailure};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A lock file: a path and the options to create it with. Nothing touches the file system
/// until a lock is acquired.
///
/// The lock itself is the OS lock on an open file (`flock(2)` on Linux and macOS,
/// `LockFileEx` on Windows), so it disappears with its holder, including when the holder is
/// killed. The file is created if missing and then kept forever: reflock never deletes lock
/// files, because deleting one while another process waits on it would let a third process
/// lock a fresh file at the same path, and there would be two holders.
///
/// On Linux and macOS a `LockFile` keeps its file open, unlocked, from the first release
/// until the next acquisition or until it is dropped, so that an acquisition is one `statx`
/// of the path and the lock instead of an open and a close: the path is checked to still
/// name the same regular file first, and otherwise opened anew, so nothing is traded for it.
/// What it costs is one descriptor per `LockFile`, and while it lives a read-only remount or
/// an unmount of the lock file's file system fails with EBUSY. A clone shares nothing with
/// the original but the path and options. On Windows every acquisition opens the file.
#[derive(Debug)]
pub struct LockFile {
    slot: Arc<Slot>,
    mode: u32,
    strict: bool,
}

/// A lock file's path, and the open, unlocked handle its last release left for the next
/// acquisition (where [`sys::REUSES_HANDLES`]). Shared with the guards, which put the handle
/// back.
#[derive(Debug)]
struct Slot {
    path: PathBuf,
    idle: Mutex<Option<(Handle, FileId)>>,
}

impl Slot {
    fn new(path: PathBuf) -> Arc<Slot> {
        Arc::new(Slot {
            path,
            idle: Mutex::new(None),
        })
    }

    /// The kept handle, if there is one and it may be locked again for this path.
    fn take_reusable(&self) -> Option<(Handle, FileId)> {
        let (handle, id) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        // An unusable handle is closed here.
        handle.reusable_for(&self.path, id).then_some((handle, id))
    }

    /// Keeps an unlocked handle for the next acquisition (replacing, and so closing, any
    /// other) where the platform keeps handles; closes it elsewhere.
    fn keep(&self, handle: Handle, id: FileId) {
        if sys::REUSES_HANDLES {
            *self.idle.lock().unwrap_or_else(|p| p.into_inner()) = Some((handle, id));
        }
    }
}

impl Clone for LockFile {
    fn clone(&self) -> LockFile {
        LockFile {
            slot: Slot::new(self.slot.path.clone()),
            mode: self.mode,
            strict: self.strict,
        }
    }
}

/// Exclusive (one holder) or shared (any number of shared holders, no exclusive one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// One holder at a time, which [`LockFile::holder`] names (see [`Holder`]) and which gets
    /// the next fencing token ([`LockGuard::token`]).
    Exclusive,
    /// Any number of holders at once, while nobody holds it exclusively.
    Shared,
}

/// What to do when the lock is held by someone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wait {
    /// Fail at once with [`ErrorKind::Contended`](crate::ErrorKind::Contended).
    Try,
    /// Wait for as long as it takes. The wait happens in the kernel (no polling), so the lock
    /// passes to a waiter as soon as it is released; signals do not end it.
    Block,
    /// Wait at most this long, then fail with [`ErrorKind::TimedOut`](crate::ErrorKind::TimedOut).
    /// The error never comes before the duration has passed, and comes within a few
    /// milliseconds after it; nothing keeps waiting in the background afterwards.
    Timeout(Duration),
}

/// A held lock. Dropping it releases the lock; [`LockGuard::release`] does the same and
/// reports errors.
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    slot: Arc<Slot>,
    access: Access,
    // The fencing token once known: at acquisition where exclusive holders record themselves
    // (no kernel lock table names them), else from the first `token()`. For an exclusive
    // guard `Some` also means the record in the file is this guard's, which release marks
    // free.
    token: Mutex<Option<u64>>,
    // `Some` until released; dropped in order: the file (closing it frees the OS lock), then
    // the ticket (so this process can lock the file again).
    held: Option<(Handle, Ticket)>,
}

impl LockFile {
    /// A lock file at `path`, created with mode `0o600` when missing.
    pub fn new(path: impl Into<PathBuf>) -> LockFile {
        LockFile {
            slot: Slot::new(path.into()),
            mode: 0o600,
            strict: false,
        }
    }

    /// In strict mode an acquisition fails with
    /// [`ErrorKind::ClientLocal`](crate::ErrorKind::ClientLocal), before locking, when the
    /// lock file is on a file system whose locks may be local to one client (FUSE, NFS,
    /// SMB/CIFS, 9p and other network file systems: [`Exclusion::ThisClient`]), where a
    /// process on another host, or through another mount, could hold the lock at the same
    /// time. Off by default: within one host locking works there, and rootless containers run
    /// on fuse-overlayfs. Strict mode costs one `fstatfs` per acquisition.
    pub fn strict(self, strict: bool) -> LockFile {
        LockFile { strict, ..self }
    }

    /// The kind of file system the lock file's directory is on, and so where the lock
    /// excludes ([`FsKind::exclusion`]). Reads the directory with `statfs(2)`; the file
    /// itself need not exist.
    pub fn fs_kind(&self) -> Result<FsKind, Error> {
        let dir = match self.slot.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        sys::fs_kind_at(dir).map_err(|e| Error::os(&self.slot.path, Op::Open, e))
    }

    /// The permission bits to create the file with (still subject to the umask). Ignored on
    /// Windows, where the file inherits its directory's ACL. An existing file keeps its mode.
    pub fn mode(self, mode: u32) -> LockFile {
        LockFile { mode, ..self }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.slot.path
    }

    /// Acquires the lock.
    ///
    /// The file is opened (created if missing, never truncated, never through a symbolic
    /// link, with a descriptor that child processes do not inherit), or the descriptor kept
    /// since the last release is used again if the path still names its file (see
    /// [`LockFile`]), then locked as `wait` says. Where the kernel's lock table names holders
    /// (Linux), that is all: nothing is written into the file until the guard is asked for
    /// its [token](LockGuard::token), so nothing stands between the kernel's hand-off and the
    /// caller. Elsewhere an exclusive
    /// holder then writes its [`Holder`] record and the next fencing token into the file.
    ///
    /// A second acquisition of the same file (by any path that leads to it) while this process
    /// holds or is acquiring it fails at once with
    /// [`ErrorKind::HeldByThisProcess`](crate::ErrorKind::HeldByThisProcess), whatever `wait` is.
    pub fn acquire(&self, access: Access, wait: Wait) -> Result<LockGuard, Error> {
        let started = Instant::now();
        let path = self.slot.path.as_path();
        let (file, id) = match self.slot.take_reusable() {
            Some(kept) => kept,
            None => Handle::open(path, self.mode).map_err(|e| open_error(path, e))?,
        };
        if self.strict {
            let fs = file.fs_kind().map_err(|e| Error::os(path, Op::Open, e))?;
            if fs.exclusion() == Exclusion::ThisClient {
                return Err(Error::client_local(path, fs));
            }
        }
        let ticket = Registry::register(Registry::global(), id)
            .map_err(|_| Error::held_by_this_process(path))?;
        // Tuple fields drop in order: on every early return the file is closed (freeing the OS
        // lock) before the ticket leaves the registry.
        let held = (file, ticket);
        let file = &held.0;
        // Where holders record themselves at acquisition, everything the record needs but the
        // token and the time is ready before the wait, so that once the lock is ours only the
        // read of the old token and the write of the record stand between the kernel's
        // hand-off and the caller.
        let template =
            (access == Access::Exclusive && !sys::KERNEL_NAMES_HOLDER).then(held_template);
        let lock_error = |e| {
            let error = Error::os(path, Op::Lock, e);
            // A file system without locks is worth naming: FUSE and network ones often are.
            match error.kind() {
                ErrorKind::Unsupported => {
                    let fs = file.fs_kind().ok();
                    error.on(fs)
                }
                _ => error,
            }
        };
        let locked = match wait {
            Wait::Try => file.try_lock(access).map_err(lock_error)?,
            Wait::Block => file.lock(access).map(|()| true).map_err(lock_error)?,
            Wait::Timeout(limit) => match started.checked_add(limit) {
                Some(deadline) => file.lock_until(access, deadline).map_err(lock_error)?,
                None => file.lock(access).map(|()| true).map_err(lock_error)?,
            },
        };
        if !locked {
            let holder = holder_of(file, id).ok().flatten();
            // Nothing is locked through the handle: the next attempt may use it.
            let (file, ticket) = held;
            self.slot.keep(file, ticket.id());
            return Err(match wait {
                Wait::Timeout(_) => Error::timed_out(path, started.elapsed(), holder),
                _ => Error::contended(path, holder),
            });
        }
        // From here on the lock is held; on error, dropping `file` releases it.
        let token = match &template {
            Some(template) => Some(
                record_holder(file, template).map_err(|e| Error::os(path, Op::WriteHolder, e))?,
            ),
            None => None,
        };
        Ok(LockGuard {
            slot: Arc::clone(&self.slot),
            access,
            token: Mutex::new(token),
            held: Some(held),
        })
    }

    /// Takes the lock exclusively if it is free; [`ErrorKind::Contended`](crate::ErrorKind::Contended) if not.
    pub fn try_exclusive(&self) -> Result<LockGuard, Error> {
        self.acquire(Access::Exclusive, Wait::Try)
    }

    /// Takes the lock exclusively, waiting as long as it takes.
    pub fn exclusive(&self) -> Result<LockGuard, Error> {
        self.acquire(Access::Exclusive, Wait::Block)
    }

    /// Takes the lock exclusively, waiting at most `timeout`.
    pub fn exclusive_timeout(&self, timeout: Duration) -> Result<LockGuard, Error> {
        self.acquire(Access::Exclusive, Wait::Timeout(timeout))
    }

    /// Takes the lock shared if nobody holds it exclusively.
    pub fn try_shared(&self) -> Result<LockGuard, Error> {
        self.acquire(Access::Shared, Wait::Try)
    }

    /// Takes the lock shared, waiting as long as it takes.
    pub fn shared(&self) -> Result<LockGuard, Error> {
        self.acquire(Access::Shared, Wait::Block)
    }

    /// Takes the lock shared, waiting at most `timeout`.
    pub fn shared_timeout(&self, timeout: Duration) -> Result<LockGuard, Error> {
        self.acquire(Access::Shared, Wait::Timeout(timeout))
    }

    /// Who holds the lock exclusively right now, without taking it.
    ///
    /// On Linux the kernel's lock table (`/proc/locks`) says whether anyone holds the file's
    /// lock exclusively, and which process; its command line and start time come from its
    /// record in the file when it wrote one (see [`Holder`]), else from `/proc/PID`. Where
    /// there is no such table (macOS, Windows, or a Linux without `/proc`), or the holder is
    /// a process this PID namespace cannot see, the holder record is read from the lock file
    /// and checked against the process table: the recorded process must be alive, with the
    /// recorded start time, during this boot. Either way a holder that crashed, released, or
    /// whose pid now belongs to another process is not reported. `Ok(None)` also when the
    /// file does not exist, or the lock is held shared. A record from another host cannot be
    /// checked and is reported as it stands.
    ///
    /// This never locks the file, so it cannot make anyone else's attempt fail.
    ///
    /// On Linux start times are counted in clock ticks (usually 10 ms), so only a pid reused
    /// within the tick in which the recorded holder started could pass for it; a pid cannot be
    /// reused before its first owner has exited, which makes that practically impossible.
    pub fn holder(&self) -> Result<Option<Holder>, Error> {
        let path = self.slot.path.as_path();
        let (file, id) = match Handle::open_existing(path) {
            Ok(opened) => opened,
            Err(OpenFailure::Os(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(open_error(path, e)),
        };
        holder_of(&file, id).map_err(|e| Error::os(path, Op::ReadHolder, e))
    }
}

impl LockGuard {
    /// The fencing token of this acquisition, so a resource can refuse a request carrying a
    /// token older than one it has already seen. An exclusive holder's token is one greater
    /// than that of the previous exclusive holder that had one; the count is kept in the
    /// file, in this holder's record. A shared guard carries the token of the latest
    /// exclusive holder that had one.
    ///
    /// Where the kernel names holders (Linux), the token is counted on the first call: one
    /// read and one write of the lock file, while the lock is held, which an acquisition that
    /// never asks does not pay. Two exclusive holders that both asked never share a token;
    /// holders that did not ask have none. Elsewhere it was counted at acquisition. Fails
    /// only when the file cannot be read or written (a full disk, say); later calls retry.
    ///
    /// The count restarts at 1 if the file's record was destroyed (deleted file, or content
    /// that is not a reflock record).
    pub fn token(&self) -> Result<u64, Error> {
        let mut token = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = *token {
            return Ok(token);
        }
        let (file, _) = self.held.as_ref().expect("held until released");
        let counted = match self.access {
            Access::Exclusive => record_holder(file, &held_template())
                .map_err(|e| Error::os(&self.slot.path, Op::WriteHolder, e))?,
            Access::Shared => with_scratch(|scratch| read_token(file, &mut scratch.read))
                .map_err(|e| Error::os(&self.slot.path, Op::ReadHolder, e))?
                .1
                .unwrap_or(0),
        };
        *token = Some(counted);
        Ok(counted)
    }

    /// Whether this guard holds the lock exclusively or shared.
    pub fn access(&self) -> Access {
        self.access
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.slot.path
    }

    /// Releases the lock, reporting any error. An exclusive holder that wrote its record
    /// first marks it released. Whatever happens, the lock is free when this returns: closing the file frees
    /// it even if the explicit unlock failed.
    pub fn release(mut self) -> Result<(), Error> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<(), Error> {
        let Some((file, ticket)) = self.held.take() else {
            return Ok(());
        };
        let recorded = self
            .token
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        let marked = match self.access {
            Access::Exclusive if recorded => {
                file.write_all_at(metadata::FREE, metadata::STATE_OFFSET)
            }
            _ => Ok(()),
        };
        let unlocked = file.unlock();
        // Once unlocked the handle holds nothing and may be kept for the next acquisition;
        // if the unlock failed, closing it frees the lock. Either way before the ticket goes.
        match unlocked {
            Ok(()) => self.slot.keep(file, ticket.id()),
            _ => drop(file),
        }
        drop(ticket);
        let path = self.slot.path.as_path();
        marked.map_err(|e| Error::os(path, Op::WriteHolder, e))?;
        unlocked.map_err(|e| Error::os(path, Op::Release, e))
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Errors here cannot be reported; the lock is free anyway once the file is closed.
        let _ = self.release_inner();
    }
}

fn open_error(path: &Path, e: OpenFailure) -> Error {
    match e {
        OpenFailure::Os(e) => Error::os(path, Op::Open, e),
        OpenFailure::NotRegular(what) => Error::not_regular(path, what),
    }
}

enum ReadError {
    Io(std::io::Error),
    Garbled,
}

/// Who holds `file` (whose identity is `id`) exclusively: the process the kernel's lock table
/// names, or where it cannot, the live holder of the record in the file.
fn holder_of(file: &Handle, id: FileId) -> std::io::Result<Option<Holder>> {
    let record = || match read_record(file) {
        Ok(record) => Ok(Some(record)),
        Err(ReadError::Garbled) => Ok(None),
        Err(ReadError::Io(e)) => Err(e),
    };
    Ok(match sys::kernel_holder(id) {
        // A holder outside this PID namespace is left out of the table; it can still be
        // known by its record, if it wrote one.
        KernelHolder::Free => record()?
            .and_then(Holder::from_live_record)
            .filter(Holder::in_another_pid_namespace),
        KernelHolder::Pid(pid) => Some(Holder::named_by_kernel(pid, record()?)),
        KernelHolder::Hidden | KernelHolder::Unknown => {
            record()?.and_then(Holder::from_live_record)
        }
    })
}

fn read_record(file: &Handle) -> Result<Record, ReadError> {
    let mut buf = [0u8; metadata::MAX_RECORD];
    let n = file.read_at(&mut buf, 0).map_err(ReadError::Io)?;
    Record::decode(&buf[..n]).map_err(|_| ReadError::Garbled)
}

/// Buffers for reading and writing holder records, allocated and zeroed once per thread
/// instead of on every acquisition.
struct Scratch {
    /// Always [`metadata::MAX_RECORD`] bytes long.
    read: Vec<u8>,
    write: Vec<u8>,
}

/// Runs `f` with this thread's [`Scratch`].
// The initializer is `const` already; clippy 1.96 for x86_64-pc-windows-gnu (ci/wine-run.sh)
// still asks for it, as that target's `thread_local!` expands differently.
#[allow(clippy::missing_const_for_thread_local)]
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    thread_local! {
        static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
    }
    let new = || Scratch {
        read: vec![0; metadata::MAX_RECORD],
        write: Vec::with_capacity(512),
    };
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => f(scratch.get_or_insert_with(new)),
        // Not reentered today; fresh buffers keep it correct if it ever is.
        Err(_) => f(&mut new()),
    })
}

/// Reads the start of the lock file and returns how many bytes were read and the token of
/// the record there (found without decoding the rest into strings).
/// `None` for the token when the bytes are not a record.
fn read_token(file: &Handle, buf: &mut [u8]) -> std::io::Result<(usize, Option<u64>)> {
    let n = file.read_at(buf, 0)?;
    Ok((n, Record::decode_token(&buf[..n]).ok()))
}

/// The command line, joined by spaces.
fn command_line() -> String {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// This process's holder record without its token and time, encoded once per process (and
/// again after a `fork`, which changes the pid).
fn held_template() -> Arc<HeldTemplate> {
    static CACHE: Mutex<Option<(u32, Arc<HeldTemplate>)>> = Mutex::new(None);
    let pid = sys::current_pid();
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    match &*cache {
        Some((cached, template)) if *cached == pid => Arc::clone(template),
        _ => {
            let me = sys::current_process();
            let template = Arc::new(HeldTemplate::new(
                me.pid,
                me.pid_ns,
                me.start,
                &me.boot,
                &me.host,
                &command_line(),
            ));
            *cache = Some((me.pid, Arc::clone(&template)));
            template
        }
    }
}

/// Writes this process's holder record with the next token, in one positional write, and
/// returns the token. Called only while holding the lock exclusively, so nobody else writes.
/// No fsync: the record is diagnostics plus a counter, and a lost update after a power cut
/// only matters for a token, which then repeats one from before the crash, never one a live
/// holder still uses.
///
/// The old record is only parsed for its token, and the new one is the per-process template
/// plus token and time. When the old content was longer, the new record is padded to its
/// length in the same write instead of truncating the file afterwards; only content that
/// may extend past what was read (a file of [`metadata::MAX_RECORD`] bytes or more, which
/// reflock never writes) is cut with a truncate.
fn record_holder(file: &Handle, template: &HeldTemplate) -> std::io::Result<u64> {
    with_scratch(|scratch| {
        let (old_len, token) = read_token(file, &mut scratch.read)?;
        let token = token.unwrap_or(0).saturating_add(1);
        let overlong = old_len >= metadata::MAX_RECORD;
        let pad_to = if overlong { 0 } else { old_len };
        let out = &mut scratch.write;
        template.encode(token, SystemTime::now(), pad_to, out);
        file.write_all_at(out, 0)?;
        if overlong && old_len > out.len() {
            file.set_len(out.len() as u64)?;
        }
        Ok(token)
    })
}
