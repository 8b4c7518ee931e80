//! Windows process control: a Job object per participant, TerminateProcess for crashes, and
//! pause by suspending every thread.
//!
//! - Every participant starts suspended (`CREATE_SUSPENDED`), is put in its own Job object
//!   with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`, and only then resumed, so that no child it
//!   starts can escape the job. The runner holds the only job handles: when it exits, however
//!   it exits, the kernel closes them and terminates everything in the jobs. This takes the
//!   place of Unix process groups plus the watchdog. The runner also puts itself in a
//!   kill-on-close job before its first spawn, which covers a participant that is caught
//!   between its creation and its own job.
//! - Crash is `TerminateProcess` on the participant; the end of an iteration is
//!   `TerminateJobObject`, which also reaches the participant's children.
//! - Windows has no SIGSTOP. Pause suspends every thread of the process with `SuspendThread`,
//!   found with a Toolhelp32 thread snapshot taken again until no new thread shows up (a
//!   thread may start another before it is suspended). Resume calls `ResumeThread` on exactly
//!   the threads pause suspended. `SuspendThread` is asynchronous: a thread stops at its next
//!   kernel transition, which is immediate for practical purposes but not awaited here.
//! - There is no SIGTERM either: a graceful stop is also `TerminateProcess`.
//! - There is no umask, no user switch and no permission bits: a scenario's confinement does
//!   nothing, and a `chmod` fault only sets or clears a directory's read-only attribute.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::os::windows::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, OnceLock};

use windows_sys::Win32::Foundation::{
    ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject,
};
use windows_sys::Win32::System::Threading::{
    CREATE_NEW_PROCESS_GROUP, CREATE_SUSPENDED, GetCurrentProcess, OpenProcess, OpenThread,
    PROCESS_SET_QUOTA, PROCESS_TERMINATE, ResumeThread, SuspendThread, THREAD_SUSPEND_RESUME,
    TerminateProcess,
};

use lockcheck_model::OpenProcess;

use super::Sig;
use crate::confine::{Confine, Privileges};

/// Exit code given to terminated participants.
const KILLED: u32 = 1;

/// Starts the participant suspended, in a process group of its own; `guard_group` must follow
/// the spawn, since it is what lets the process run. The first call also puts the runner in
/// its own kill-on-close job (see `enter_runner_job`).
pub(crate) fn configure(cmd: &mut Command) {
    enter_runner_job();
    cmd.creation_flags(CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP);
}

/// Puts the runner itself in a kill-on-close job, once. Processes it starts afterwards belong
/// to that job from their creation, so even a participant caught between its creation and
/// `guard_group` when the runner dies is terminated with it. Per-participant jobs nest inside
/// this one (Windows 8 and later). If the runner cannot be put in a job, the per-participant
/// jobs still cover everything but that window.
fn enter_runner_job() {
    static RUNNER_JOB: OnceLock<Option<OwnedHandle>> = OnceLock::new();
    RUNNER_JOB.get_or_init(|| {
        let job = kill_on_close_job().ok()?;
        // SAFETY: a job handle we own and the pseudo-handle of this process.
        let assigned =
            unsafe { AssignProcessToJobObject(job.as_raw_handle(), GetCurrentProcess()) };
        (assigned != 0).then_some(job)
    });
}

/// A new, unnamed Job object that terminates its processes when its last handle closes.
fn kill_on_close_job() -> io::Result<OwnedHandle> {
    // SAFETY: null attributes and name: an unnamed job with a default security descriptor,
    // whose handle is not inherited.
    let job = owned(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })?;
    let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    // SAFETY: `limits` is the structure this information class expects, with its exact size.
    let set = unsafe {
        SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectExtendedLimitInformation,
            (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
            size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        )
    };
    if set == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(job)
}

/// Per participant (by leader pid): its job, and the threads a pause suspended.
#[derive(Default)]
struct Tracked {
    jobs: HashMap<u32, OwnedHandle>,
    paused: HashMap<u32, Vec<OwnedHandle>>,
}

static TRACKED: Mutex<Option<Tracked>> = Mutex::new(None);

fn with_tracked<T>(f: impl FnOnce(&mut Tracked) -> T) -> T {
    let mut guard = TRACKED.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Tracked::default))
}

fn owned(raw: HANDLE) -> io::Result<OwnedHandle> {
    if raw.is_null() || raw == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a valid handle just returned to us, owned by nobody else.
    Ok(unsafe { OwnedHandle::from_raw_handle(raw) })
}

fn open_process(pid: u32, access: u32) -> io::Result<OwnedHandle> {
    // SAFETY: plain call; the result is checked by `owned`.
    owned(unsafe { OpenProcess(access, 0, pid) })
}

/// Crash and graceful stop are TerminateProcess; pause and resume act on every thread.
pub(crate) fn signal(pid: u32, sig: Sig) -> io::Result<()> {
    match sig {
        Sig::Kill | Sig::Term => terminate(pid),
        Sig::Stop => suspend(pid),
        Sig::Cont => resume(pid),
    }
}

fn terminate(pid: u32) -> io::Result<()> {
    let process = open_process(pid, PROCESS_TERMINATE)?;
    // SAFETY: a process handle opened with PROCESS_TERMINATE.
    if unsafe { TerminateProcess(process.as_raw_handle(), KILLED) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The ids of the threads of process `pid` right now.
fn threads_of(pid: u32) -> io::Result<Vec<u32>> {
    // SAFETY: plain call; the result is checked by `owned`.
    let snapshot = owned(unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) })?;
    let mut entry = THREADENTRY32 {
        dwSize: size_of::<THREADENTRY32>() as u32,
        ..THREADENTRY32::default()
    };
    let mut ids = Vec::new();
    // SAFETY: `entry` is a THREADENTRY32 with its size set, as both calls require.
    let mut more = unsafe { Thread32First(snapshot.as_raw_handle(), &mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            ids.push(entry.th32ThreadID);
        }
        // SAFETY: as above.
        more = unsafe { Thread32Next(snapshot.as_raw_handle(), &mut entry) } != 0;
    }
    Ok(ids)
}

/// Suspends every thread of `pid`, taking snapshots until one shows no thread left running.
fn suspend(pid: u32) -> io::Result<()> {
    let mut done: Vec<(u32, OwnedHandle)> = Vec::new();
    let outcome = (|| {
        loop {
            let fresh: Vec<u32> = threads_of(pid)?
                .into_iter()
                .filter(|id| done.iter().all(|(d, _)| d != id))
                .collect();
            if fresh.is_empty() {
                break;
            }
            for id in fresh {
                // SAFETY: plain call; the result is checked below.
                let raw = unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, id) };
                // A thread that exited since the snapshot cannot be opened: nothing to pause.
                let Ok(thread) = owned(raw) else { continue };
                // SAFETY: a thread handle with THREAD_SUSPEND_RESUME.
                if unsafe { SuspendThread(thread.as_raw_handle()) } == u32::MAX {
                    continue;
                }
                done.push((id, thread));
            }
        }
        if done.is_empty() {
            return Err(io::Error::other(format!(
                "process {pid} has no thread to suspend"
            )));
        }
        Ok(())
    })();
    let handles: Vec<OwnedHandle> = done.into_iter().map(|(_, h)| h).collect();
    if let Err(e) = outcome {
        resume_all(&handles);
        return Err(e);
    }
    with_tracked(|t| t.paused.entry(pid).or_default().extend(handles));
    Ok(())
}

fn resume_all(threads: &[OwnedHandle]) {
    for thread in threads {
        // SAFETY: a thread handle with THREAD_SUSPEND_RESUME that we suspended once.
        unsafe { ResumeThread(thread.as_raw_handle()) };
    }
}

/// Resumes the threads `suspend` paused; resuming a process that is not paused does nothing.
fn resume(pid: u32) -> io::Result<()> {
    let threads = with_tracked(|t| t.paused.remove(&pid)).unwrap_or_default();
    resume_all(&threads);
    Ok(())
}

/// Terminates everything in the participant's job, or the participant alone if it has none.
/// A process that is already gone is fine.
pub(crate) fn kill_tree(leader: u32) -> io::Result<()> {
    resume(leader)?;
    let terminated = with_tracked(|t| {
        t.jobs.get(&leader).map(|job| {
            // SAFETY: a job handle created by `guard_group`.
            unsafe { TerminateJobObject(job.as_raw_handle(), KILLED) != 0 }
        })
    });
    match terminated {
        Some(true) => Ok(()),
        Some(false) => Err(io::Error::last_os_error()),
        None => match terminate(leader) {
            Err(e)
                if matches!(
                    e.raw_os_error().map(|c| c as u32),
                    Some(ERROR_INVALID_PARAMETER | ERROR_ACCESS_DENIED)
                ) =>
            {
                Ok(())
            }
            other => other,
        },
    }
}

/// Suspension is requested by the time `signal` returns (see the module docs), so there is
/// nothing further to wait for.
pub(crate) fn wait_stopped(_pid: u32) -> io::Result<()> {
    Ok(())
}

/// Windows has no signals.
pub(crate) fn exit_signal(_status: &ExitStatus) -> Option<i32> {
    None
}

/// The PID of a process that has certainly exited: one we started and waited for.
pub(crate) fn dead_pid() -> io::Result<u32> {
    let mut child = Command::new("cmd").args(["/C", "exit 0"]).spawn()?;
    let pid = child.id();
    child.wait()?;
    Ok(pid)
}

/// Puts the freshly spawned, still suspended participant in a new kill-on-close Job object,
/// then lets it run. Until this returns the process has run no code of its own.
pub(crate) fn guard_group(leader: u32) -> io::Result<()> {
    let job = kill_on_close_job()?;
    let process = open_process(leader, PROCESS_SET_QUOTA | PROCESS_TERMINATE)?;
    // SAFETY: both handles are valid and have the access rights the call needs.
    if unsafe { AssignProcessToJobObject(job.as_raw_handle(), process.as_raw_handle()) } == 0 {
        return Err(io::Error::last_os_error());
    }
    with_tracked(|t| t.jobs.insert(leader, job));
    // The process was created suspended: its only thread has a suspend count of one.
    for id in threads_of(leader)? {
        // SAFETY: plain call; the result is checked by `owned`.
        let thread = owned(unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, id) })?;
        // SAFETY: a thread handle with THREAD_SUSPEND_RESUME.
        if unsafe { ResumeThread(thread.as_raw_handle()) } == u32::MAX {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Nothing removes a temp directory after the runner dies on Windows (the Job objects only
/// end processes): a runner killed mid-scenario leaves its `lockcheck-*` directory behind.
pub(crate) fn guard_dir(_dir: &std::path::Path) -> io::Result<()> {
    Ok(())
}

/// See [`guard_dir`].
pub(crate) fn forget_dir(_dir: &std::path::Path) -> io::Result<()> {
    Ok(())
}

/// Closes the participant's job, which terminates anything still in it.
pub(crate) fn forget_group(leader: u32) -> io::Result<()> {
    let (job, paused) = with_tracked(|t| (t.jobs.remove(&leader), t.paused.remove(&leader)));
    resume_all(&paused.unwrap_or_default());
    drop(job);
    Ok(())
}

/// User + system CPU time of process `pid` so far, in nanoseconds (`GetProcessTimes`).
pub(crate) fn process_cpu_ns(pid: u32) -> Option<u64> {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::{
        GetProcessTimes, PROCESS_QUERY_LIMITED_INFORMATION,
    };
    let process = open_process(pid, PROCESS_QUERY_LIMITED_INFORMATION).ok()?;
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: a valid process handle and four FILETIMEs for the call to fill.
    let ok = unsafe {
        GetProcessTimes(
            process.as_raw_handle(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    let ticks = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    // FILETIME counts 100 ns.
    (ok != 0).then(|| (ticks(kernel) + ticks(user)) * 100)
}

/// The Windows build number, e.g. `10.0.19045` (from `ver`).
pub(crate) fn kernel_release() -> String {
    std::process::Command::new("cmd")
        .args(["/C", "ver"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "windows".to_owned())
}

/// Not read on Windows.
pub(crate) fn file_system_type(_path: &std::path::Path) -> Option<String> {
    None
}

/// The runner's temp directory is not private to it on Windows: nothing to open.
pub(crate) fn open_to_others(_tmp: &Path, _dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes `link` a symlink to the file `target`.
pub(crate) fn symlink_file(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}

/// Windows has no permission bits.
pub(crate) fn permission_bits(_meta: &fs::Metadata) -> Option<u32> {
    None
}

/// Makes a directory read-only when `mode` has no owner write bit, writable otherwise.
pub(crate) fn set_dir_mode(dir: &Path, mode: u32) -> io::Result<()> {
    let mut perms = fs::metadata(dir)?.permissions();
    perms.set_readonly(mode & 0o200 == 0);
    fs::set_permissions(dir, perms)
}

/// Neither a umask nor a user switch applies on Windows.
pub(crate) fn confine(_cmd: &mut Command, _confine: &Confine) {}

/// Windows has no root that ignores ACLs in the same way; participants run as the runner.
pub(crate) fn unprivileged() -> Privileges {
    Privileges::Inherit
}

/// Not looked up on Windows.
pub(crate) fn open_by(_path: &Path) -> Option<Vec<OpenProcess>> {
    None
}

/// Windows lists no blocked waiters.
pub(crate) fn blocked_on(_path: &Path) -> Option<Vec<u32>> {
    None
}

/// Not read on Windows.
pub(crate) fn cpu_model() -> Option<String> {
    None
}

/// Not known on Windows: inherited handles are not listed anywhere cheap.
pub(crate) fn shared_pipes(_child: u32, _parent: u32) -> Option<Vec<u32>> {
    None
}
