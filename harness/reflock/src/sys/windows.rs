//! Windows: `LockFileEx` on one byte far beyond the holder record, through a handle opened
//! with `FILE_FLAG_OPEN_REPARSE_POINT` and not inherited by child processes.
//!
//! Waits are overlapped requests completed through an event, so a blocked acquire costs no
//! polling. Wine 8 does not queue overlapped lock requests; there, and only there, waits fall
//! back to retrying a non-blocking request (see `Handle::start_lock`).
//!
//! This is the one place allowed to call lock syscalls.
#![allow(clippy::disallowed_methods)]

use super::KernelHolder;
use crate::error::NotRegular;
use crate::fs_kind::FsKind;
use crate::lock::Access;
use crate::registry::FileId;
use std::ffi::OsStr;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_HANDLE_EOF,
    ERROR_INVALID_FUNCTION, ERROR_IO_PENDING, ERROR_LOCK_VIOLATION, ERROR_NOT_SUPPORTED,
    ERROR_PATH_NOT_FOUND, FILETIME, GENERIC_READ, GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE,
    STILL_ACTIVE, WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, CreateFileW, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_NORMAL,
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_END_OF_FILE_INFO, FILE_FLAG_OPEN_REPARSE_POINT,
    FILE_FLAG_OVERLAPPED, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_TYPE_DISK,
    FileEndOfFileInfo, GetFileInformationByHandle, GetFileType, LOCKFILE_EXCLUSIVE_LOCK,
    LOCKFILE_FAIL_IMMEDIATELY, LockFileEx, OPEN_ALWAYS, OPEN_EXISTING, ReadFile,
    SetFileInformationByHandle, UnlockFileEx, WriteFile,
};
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED, OVERLAPPED_0_0};
use windows_sys::Win32::System::SystemInformation::{
    ComputerNamePhysicalDnsHostname, GetComputerNameExW,
};
use windows_sys::Win32::System::Threading::{
    CreateEventW, GetCurrentProcessId, GetExitCodeProcess, GetProcessTimes, INFINITE, OpenProcess,
    PROCESS_QUERY_LIMITED_INFORMATION, WaitForSingleObject,
};

/// The locked byte. Windows byte-range locks are mandatory for reads and writes in the range,
/// so the lock sits at the far end of the address space and the holder record at offset 0
/// stays readable by everyone.
const LOCK_OFFSET: u64 = u64::MAX - 1;

/// Put in `OVERLAPPED::Internal` before a lock request; see `Handle::start_lock`.
const NOT_QUEUED: usize = usize::MAX;

/// The longest pause between two tries where lock waits are polled; see `Handle::poll`.
const POLL_MAX: Duration = Duration::from_millis(8);

/// How a lock request started.
enum Start {
    /// The lock is ours already.
    Granted,
    /// Refused or failed at once.
    Failed(io::Error),
    /// Queued: it completes through the OVERLAPPED and its event.
    Queued,
    /// Reported pending but never queued (Wine); nothing will complete it.
    NotQueued,
}

/// An open lock file, with the event its overlapped operations complete on.
#[derive(Debug)]
pub(crate) struct Handle {
    file: OwnedHandle,
    event: OwnedHandle,
}

/// Every acquisition opens the file anew: an open handle would keep the file's directory from
/// being deleted.
pub(crate) const REUSES_HANDLES: bool = false;

/// Why opening a lock file failed.
pub(crate) enum OpenFailure {
    Os(io::Error),
    NotRegular(NotRegular),
}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

fn wide(path: &Path) -> Vec<u16> {
    OsStr::new(path).encode_wide().chain(Some(0)).collect()
}

fn raw_code(e: &io::Error) -> Option<u32> {
    e.raw_os_error().map(|c| c as u32)
}

impl Handle {
    fn create(path: &Path, access: u32, disposition: u32) -> Result<(Handle, FileId), OpenFailure> {
        let name = wide(path);
        // SAFETY: `name` is NUL-terminated; a null security descriptor makes the handle
        // non-inheritable, so child processes never get the lock.
        let raw = unsafe {
            CreateFileW(
                name.as_ptr(),
                access,
                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                std::ptr::null(),
                disposition,
                FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_OVERLAPPED,
                std::ptr::null_mut(),
            )
        };
        if raw == INVALID_HANDLE_VALUE {
            let e = last_error();
            if raw_code(&e) == Some(ERROR_ACCESS_DENIED)
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
            {
                return Err(OpenFailure::NotRegular(NotRegular::Directory));
            }
            return Err(OpenFailure::Os(e));
        }
        // SAFETY: `raw` is a valid handle that nothing else owns.
        let file = unsafe { OwnedHandle::from_raw_handle(raw) };
        let id = check_regular(&file)?;
        // SAFETY: plain event creation: manual reset, initially unsignalled, unnamed.
        let event = unsafe { CreateEventW(std::ptr::null(), 1, 0, std::ptr::null()) };
        if event.is_null() {
            return Err(OpenFailure::Os(last_error()));
        }
        // SAFETY: `event` is a valid handle that nothing else owns.
        let event = unsafe { OwnedHandle::from_raw_handle(event) };
        Ok((Handle { file, event }, id))
    }

    /// Opens or creates the lock file. A reparse point (symbolic link, junction) at the path
    /// is opened as itself, never followed, and then refused. `mode` has no meaning here.
    pub(crate) fn open(path: &Path, _mode: u32) -> Result<(Handle, FileId), OpenFailure> {
        Handle::create(path, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS)
    }

    /// Opens an existing lock file for reading only (for `LockFile::holder`).
    pub(crate) fn open_existing(path: &Path) -> Result<(Handle, FileId), OpenFailure> {
        Handle::create(path, GENERIC_READ, OPEN_EXISTING)
    }

    /// Never: handles are not kept ([`REUSES_HANDLES`]).
    pub(crate) fn reusable_for(&self, _path: &Path, _id: FileId) -> bool {
        false
    }

    fn raw(&self) -> HANDLE {
        self.file.as_raw_handle()
    }

    fn overlapped(&self, offset: u64) -> OVERLAPPED {
        let mut ov = OVERLAPPED::default();
        ov.Anonymous.Anonymous = OVERLAPPED_0_0 {
            Offset: offset as u32,
            OffsetHigh: (offset >> 32) as u32,
        };
        ov.hEvent = self.event.as_raw_handle();
        ov
    }

    /// Completes an overlapped call that returned `ok`, waiting if it is still pending.
    fn complete(&self, ok: i32, ov: &OVERLAPPED) -> io::Result<u32> {
        if ok == 0 {
            let e = last_error();
            if raw_code(&e) != Some(ERROR_IO_PENDING) {
                return Err(e);
            }
        }
        self.finish(ov)
    }

    /// Waits for a started overlapped operation and returns its byte count.
    fn finish(&self, ov: &OVERLAPPED) -> io::Result<u32> {
        let mut done = 0u32;
        // SAFETY: `ov` belongs to an operation started on this handle and outlives the wait.
        if unsafe { GetOverlappedResult(self.raw(), ov, &mut done, 1) } == 0 {
            return Err(last_error());
        }
        Ok(done)
    }

    fn lock_flags(access: Access) -> u32 {
        match access {
            Access::Exclusive => LOCKFILE_EXCLUSIVE_LOCK,
            Access::Shared => 0,
        }
    }

    /// Starts a lock request. `ov.Internal` is first set to `NOT_QUEUED`: Windows overwrites
    /// it with STATUS_PENDING when it queues the request, so an `ERROR_IO_PENDING` that leaves
    /// it untouched means nothing was queued. That is Wine (8 and earlier), which has no
    /// asynchronous lock waits: it answers "pending" and never completes the request.
    fn start_lock(&self, flags: u32, ov: &mut OVERLAPPED) -> Start {
        ov.Internal = NOT_QUEUED;
        // SAFETY: `ov` stays in place until the operation has completed (every caller
        // completes or cancels a queued request before returning).
        if unsafe { LockFileEx(self.raw(), flags, 0, 1, 0, ov) } != 0 {
            return Start::Granted;
        }
        let e = last_error();
        if raw_code(&e) != Some(ERROR_IO_PENDING) {
            return Start::Failed(e);
        }
        // SAFETY: reading a field of our own OVERLAPPED, which the system may write at any
        // moment while the request is queued; hence the volatile read.
        if unsafe { std::ptr::read_volatile(&raw const ov.Internal) } == NOT_QUEUED {
            Start::NotQueued
        } else {
            Start::Queued
        }
    }

    /// Takes the lock if it is free. `Ok(false)` means another handle holds it.
    pub(crate) fn try_lock(&self, access: Access) -> io::Result<bool> {
        let mut ov = self.overlapped(LOCK_OFFSET);
        let flags = Self::lock_flags(access) | LOCKFILE_FAIL_IMMEDIATELY;
        let outcome = match self.start_lock(flags, &mut ov) {
            Start::Granted => Ok(()),
            Start::Failed(e) => Err(e),
            Start::Queued => self.finish(&ov).map(drop),
            Start::NotQueued => return Ok(false),
        };
        match outcome {
            Ok(()) => Ok(true),
            Err(e) if raw_code(&e) == Some(ERROR_LOCK_VIOLATION) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits in the kernel until the lock is ours.
    pub(crate) fn lock(&self, access: Access) -> io::Result<()> {
        let mut ov = self.overlapped(LOCK_OFFSET);
        match self.start_lock(Self::lock_flags(access), &mut ov) {
            Start::Granted => Ok(()),
            Start::Failed(e) => Err(e),
            Start::Queued => self.finish(&ov).map(drop),
            Start::NotQueued => self.poll(access, None).map(drop),
        }
    }

    /// Waits until the lock is ours (`Ok(true)`) or `deadline` has passed (`Ok(false)`).
    ///
    /// The lock request is an overlapped `LockFileEx`; the wait is `WaitForSingleObject` on
    /// its event with the time left (rounded up to whole milliseconds, and repeated if it
    /// wakes early). At the deadline the request is cancelled with `CancelIoEx` and then
    /// completed with `GetOverlappedResult`: if the lock was granted in the meantime, it is
    /// kept and returned; otherwise nothing is left pending. No thread is started.
    pub(crate) fn lock_until(&self, access: Access, deadline: Instant) -> io::Result<bool> {
        if self.try_lock(access)? {
            return Ok(true);
        }
        let mut ov = self.overlapped(LOCK_OFFSET);
        match self.start_lock(Self::lock_flags(access), &mut ov) {
            Start::Granted => return Ok(true),
            Start::Failed(e) => return Err(e),
            Start::Queued => {}
            Start::NotQueued => return self.poll(access, Some(deadline)),
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let millis = left
                .as_nanos()
                .div_ceil(1_000_000)
                .min(u128::from(INFINITE - 1)) as u32;
            // SAFETY: waiting on our own event handle.
            let woke = unsafe { WaitForSingleObject(self.event.as_raw_handle(), millis) };
            if woke == WAIT_OBJECT_0 {
                return self.finish(&ov).map(|_| true);
            }
            if woke != WAIT_TIMEOUT {
                let e = last_error();
                self.cancel(&ov);
                return Err(e);
            }
            if Instant::now() >= deadline {
                return Ok(self.cancel(&ov));
            }
        }
    }

    /// The wait for systems that queue no lock request (see `start_lock`): try again after a
    /// pause that grows from 1 ms to `POLL_MAX`, until the lock is ours or `deadline` passes.
    /// Windows itself never comes here.
    fn poll(&self, access: Access, deadline: Option<Instant>) -> io::Result<bool> {
        let mut pause = Duration::from_millis(1);
        loop {
            if self.try_lock(access)? {
                return Ok(true);
            }
            let mut nap = pause;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                nap = nap.min(left);
            }
            std::thread::sleep(nap);
            pause = (pause * 2).min(POLL_MAX);
        }
    }

    /// Cancels a pending lock request and waits for it to finish; true if the lock was granted
    /// before the cancellation took effect.
    fn cancel(&self, ov: &OVERLAPPED) -> bool {
        let mut done = 0u32;
        // SAFETY: `ov` is the pending operation on this handle; it is completed here.
        unsafe {
            CancelIoEx(self.raw(), ov);
            if GetOverlappedResult(self.raw(), ov, &mut done, 1) != 0 {
                return true;
            }
        }
        // The failure is normally ERROR_OPERATION_ABORTED; any failure means the lock was not
        // granted.
        false
    }

    pub(crate) fn unlock(&self) -> io::Result<()> {
        let mut ov = self.overlapped(LOCK_OFFSET);
        // SAFETY: `ov` outlives the call, which completes before returning.
        let ok = unsafe { UnlockFileEx(self.raw(), 0, 1, 0, &mut ov) };
        self.complete(ok, &ov).map(drop)
    }

    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut ov = self.overlapped(offset);
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: `buf` and `ov` outlive the operation, which is completed before returning.
        let ok = unsafe {
            ReadFile(
                self.raw(),
                buf.as_mut_ptr(),
                len,
                std::ptr::null_mut(),
                &mut ov,
            )
        };
        match self.complete(ok, &ov) {
            Ok(n) => Ok(n as usize),
            Err(e) if raw_code(&e) == Some(ERROR_HANDLE_EOF) => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            let mut ov = self.overlapped(offset);
            let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
            // SAFETY: `buf` and `ov` outlive the operation, which is completed before returning.
            let ok =
                unsafe { WriteFile(self.raw(), buf.as_ptr(), len, std::ptr::null_mut(), &mut ov) };
            let n = self.complete(ok, &ov)? as usize;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            buf = &buf[n..];
            offset += n as u64;
        }
        Ok(())
    }

    pub(crate) fn set_len(&self, len: u64) -> io::Result<()> {
        let info = FILE_END_OF_FILE_INFO {
            EndOfFile: len as i64,
        };
        // SAFETY: `info` is the structure FileEndOfFileInfo expects, with its exact size.
        let ok = unsafe {
            SetFileInformationByHandle(
                self.raw(),
                FileEndOfFileInfo,
                (&info as *const FILE_END_OF_FILE_INFO).cast(),
                std::mem::size_of::<FILE_END_OF_FILE_INFO>() as u32,
            )
        };
        if ok == 0 { Err(last_error()) } else { Ok(()) }
    }

    /// The kind of file system the open file is on: not told apart on Windows yet.
    pub(crate) fn fs_kind(&self) -> io::Result<FsKind> {
        Ok(FsKind::Unknown)
    }
}

fn check_regular(file: &OwnedHandle) -> Result<FileId, OpenFailure> {
    // SAFETY: querying an open handle.
    if unsafe { GetFileType(file.as_raw_handle()) } != FILE_TYPE_DISK {
        return Err(OpenFailure::NotRegular(NotRegular::Special));
    }
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is the structure the call fills.
    if unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) } == 0 {
        return Err(OpenFailure::Os(last_error()));
    }
    if info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        return Err(OpenFailure::NotRegular(NotRegular::ReparsePoint));
    }
    if info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        return Err(OpenFailure::NotRegular(NotRegular::Directory));
    }
    if info.nNumberOfLinks > 1 {
        return Err(OpenFailure::NotRegular(NotRegular::HardLinked));
    }
    Ok(FileId {
        device: u64::from(info.dwVolumeSerialNumber),
        file: (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
    })
}

/// The kind of file system `path` is on: not told apart on Windows yet.
pub(crate) fn fs_kind_at(_path: &Path) -> io::Result<FsKind> {
    Ok(FsKind::Unknown)
}

/// Maps an OS error from opening or locking to the error kind users see.
pub(crate) fn error_kind(e: &io::Error) -> crate::ErrorKind {
    use crate::ErrorKind;
    match raw_code(e) {
        Some(ERROR_PATH_NOT_FOUND | ERROR_FILE_NOT_FOUND) => ErrorKind::MissingDirectory,
        Some(ERROR_ACCESS_DENIED) => ErrorKind::PermissionDenied,
        Some(ERROR_NOT_SUPPORTED | ERROR_INVALID_FUNCTION) => ErrorKind::Unsupported,
        _ => ErrorKind::Io,
    }
}

// --- who holds a lock, by the kernel ----------------------------------------------------------

/// Windows keeps no lock table a process can read: exclusive holders record themselves.
pub(crate) const KERNEL_NAMES_HOLDER: bool = false;

/// Windows keeps no lock table a process can read.
pub(crate) fn kernel_holder(_id: FileId) -> KernelHolder {
    KernelHolder::Unknown
}

/// Not needed where [`kernel_holder`] names nobody.
pub(crate) fn process_command(_pid: u32) -> String {
    String::new()
}

// --- process identity -------------------------------------------------------------------------

/// Who this process is, as recorded in holder metadata.
#[derive(Clone, Debug)]
pub(crate) struct ProcessIdentity {
    pub(crate) pid: u32,
    /// Windows has no PID namespaces: always 0.
    pub(crate) pid_ns: u64,
    pub(crate) start: u64,
    pub(crate) boot: String,
    pub(crate) host: String,
}

pub(crate) fn current_pid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { GetCurrentProcessId() }
}

/// This machine's DNS host name.
pub(crate) fn host_name() -> String {
    let mut buf = [0u16; 256];
    let mut len = buf.len() as u32;
    // SAFETY: `len` is the capacity of `buf` in characters.
    if unsafe { GetComputerNameExW(ComputerNamePhysicalDnsHostname, buf.as_mut_ptr(), &mut len) }
        == 0
    {
        return String::new();
    }
    String::from_utf16_lossy(&buf[..len as usize])
}

/// Empty: process creation times on Windows are absolute, so they need no boot to qualify them.
pub(crate) fn boot_id() -> String {
    String::new()
}

/// When the process was created, in 100 ns intervals since 1601 (`GetProcessTimes`); `None`
/// if there is no such process or it has exited.
pub(crate) fn process_start(pid: u32) -> Option<u64> {
    // SAFETY: the handle is checked and closed below.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return None;
    }
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    let mut code = 0u32;
    // SAFETY: `process` is a valid process handle; the out-pointers are locals.
    unsafe {
        let alive = GetExitCodeProcess(process, &mut code) != 0 && code == STILL_ACTIVE as u32;
        let timed =
            GetProcessTimes(process, &mut created, &mut exited, &mut kernel, &mut user) != 0;
        CloseHandle(process);
        (alive && timed)
            .then(|| (u64::from(created.dwHighDateTime) << 32) | u64::from(created.dwLowDateTime))
    }
}

/// This process's identity, computed once.
pub(crate) fn current_process() -> Arc<ProcessIdentity> {
    static CACHE: Mutex<Option<Arc<ProcessIdentity>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let me = cache.get_or_insert_with(|| {
        let pid = current_pid();
        Arc::new(ProcessIdentity {
            pid,
            pid_ns: 0,
            start: process_start(pid).unwrap_or(0),
            boot: boot_id(),
            host: host_name(),
        })
    });
    Arc::clone(me)
}

// --- the floor ----------------------------------------------------------------------------

/// The bare OS lock for [`crate::floor`]: a synchronous handle (`OPEN_ALWAYS`), locked with a
/// blocking `LockFileEx` on the same byte reflock locks.
#[derive(Debug)]
pub(crate) struct FloorHandle {
    file: OwnedHandle,
}

impl FloorHandle {
    pub(crate) fn lock(path: &Path) -> io::Result<FloorHandle> {
        let name = wide(path);
        // SAFETY: `name` is NUL-terminated; a null security descriptor makes the handle
        // non-inheritable.
        let raw = unsafe {
            CreateFileW(
                name.as_ptr(),
                GENERIC_READ | GENERIC_WRITE,
                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                std::ptr::null(),
                OPEN_ALWAYS,
                FILE_ATTRIBUTE_NORMAL,
                std::ptr::null_mut(),
            )
        };
        if raw == INVALID_HANDLE_VALUE {
            return Err(last_error());
        }
        // SAFETY: `raw` is a valid handle that nothing else owns.
        let file = unsafe { OwnedHandle::from_raw_handle(raw) };
        let mut ov = floor_overlapped();
        // SAFETY: on a synchronous handle the call completes (waiting as long as it takes)
        // before returning, so `ov` outlives it.
        let ok = unsafe {
            LockFileEx(
                file.as_raw_handle(),
                LOCKFILE_EXCLUSIVE_LOCK,
                0,
                1,
                0,
                &mut ov,
            )
        };
        if ok == 0 {
            return Err(last_error());
        }
        Ok(FloorHandle { file })
    }

    /// Unlocks, then closes.
    pub(crate) fn release(self) -> io::Result<()> {
        let mut ov = floor_overlapped();
        // SAFETY: as in `lock`, the call completes before returning.
        let ok = unsafe { UnlockFileEx(self.file.as_raw_handle(), 0, 1, 0, &mut ov) };
        if ok == 0 {
            return Err(last_error());
        }
        Ok(())
    }
}

fn floor_overlapped() -> OVERLAPPED {
    let mut ov = OVERLAPPED::default();
    ov.Anonymous.Anonymous = OVERLAPPED_0_0 {
        Offset: LOCK_OFFSET as u32,
        OffsetHigh: (LOCK_OFFSET >> 32) as u32,
    };
    ov
}
