//! Windows process control. Thin for now: crash is TerminateProcess; pause/resume and the Job
//! object that reaps process trees are the platform issue's work and answer `Unsupported`.

use std::io;
use std::process::{Command, ExitStatus};

use windows_sys::Win32::Foundation::CloseHandle;
use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_TERMINATE, TerminateProcess};

/// Nothing to configure yet; see the module docs.
pub(crate) fn configure(_cmd: &mut Command) {}

/// Process-level faults the runner can inject.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sig {
    Kill,
    Stop,
    Cont,
    Term,
}

/// Kill maps to TerminateProcess; there is no SIGTERM, SIGSTOP or SIGCONT on Windows.
pub(crate) fn signal(pid: u32, sig: Sig) -> io::Result<()> {
    match sig {
        Sig::Kill | Sig::Term => terminate(pid),
        Sig::Stop | Sig::Cont => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "pausing a process is not implemented on Windows yet",
        )),
    }
}

fn terminate(pid: u32) -> io::Result<()> {
    // SAFETY: plain Win32 calls on a handle we own and close.
    unsafe {
        let handle = OpenProcess(PROCESS_TERMINATE, 0, pid);
        if handle.is_null() {
            return Err(io::Error::last_os_error());
        }
        let ok = TerminateProcess(handle, 1);
        let err = io::Error::last_os_error();
        CloseHandle(handle);
        if ok == 0 { Err(err) } else { Ok(()) }
    }
}

/// Without a Job object only the participant itself can be terminated.
pub(crate) fn kill_tree(leader: u32) -> io::Result<()> {
    match terminate(leader) {
        Ok(()) => Ok(()),
        // Already gone.
        Err(e) if e.raw_os_error() == Some(87) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Pause is unsupported (see `signal`), so there is nothing to wait for.
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

/// No watchdog yet on Windows; a Job object will take its place.
pub(crate) fn guard_group(_leader: u32) -> io::Result<()> {
    Ok(())
}

/// See `guard_group`.
pub(crate) fn forget_group(_leader: u32) -> io::Result<()> {
    Ok(())
}
