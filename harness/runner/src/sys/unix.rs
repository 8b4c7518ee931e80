//! Unix process control: process groups, signals, and the watchdog that reaps every
//! participant's group even when the runner itself is SIGKILLed.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::sync::Mutex;

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

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
                // deliver the signal, so give up now.
                if rustix::process::getppid() != Some(parent) {
                    return Err(io::Error::other("runner exited during spawn"));
                }
                Ok(())
            });
        }
    }
}

/// Process-level faults the runner can inject.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sig {
    Kill,
    Stop,
    Cont,
    Term,
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
// writes "register group" and "forget group" records into it. When the runner dies for any
// reason, the pipe reaches end-of-file and the watchdog SIGKILLs every group still registered,
// which also catches the participants' own children (PR_SET_PDEATHSIG alone only reaches the
// direct child).

const WATCHDOG_CAPACITY: usize = 4096;
const RECORD: usize = 8;
const OP_REGISTER: u32 = 1;
const OP_FORGET: u32 = 2;

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

fn send_watchdog(op: u32, leader: u32) -> io::Result<()> {
    let mut guard = WATCHDOG.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        *guard = Some(start_watchdog()?);
    }
    let Some(fd) = guard.as_ref() else {
        return Err(io::Error::other("watchdog not running"));
    };
    let mut record = [0u8; RECORD];
    record[..4].copy_from_slice(&op.to_ne_bytes());
    record[4..].copy_from_slice(&leader.to_ne_bytes());
    // Records are smaller than PIPE_BUF, so each write is atomic.
    let written = rustix::io::write(fd, &record)?;
    if written != RECORD {
        return Err(io::Error::other("short write to watchdog"));
    }
    Ok(())
}

fn start_watchdog() -> io::Result<OwnedFd> {
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
        let mut buf = [0u8; RECORD];
        let mut filled = 0usize;
        loop {
            let n = libc::read(
                read_fd,
                buf.as_mut_ptr().add(filled).cast(),
                RECORD - filled,
            );
            if n == 0 {
                break;
            }
            if n < 0 {
                // An OS error is a plain integer: reading it allocates nothing.
                if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break;
            }
            filled += n as usize;
            if filled < RECORD {
                continue;
            }
            filled = 0;
            let op = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
            let leader = u32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
            if op == OP_REGISTER && len < WATCHDOG_CAPACITY {
                groups[len] = leader;
                len += 1;
            } else if op == OP_FORGET
                && let Some(i) = groups[..len].iter().position(|&g| g == leader)
            {
                groups[i] = groups[len - 1];
                len -= 1;
            }
        }
        for &leader in &groups[..len] {
            libc::kill(-(leader as i32), libc::SIGKILL);
        }
        libc::_exit(0)
    }
}
