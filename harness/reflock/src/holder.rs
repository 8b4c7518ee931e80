//! Who holds a lock: named by the kernel's lock table where there is one (Linux), or as the
//! holder recorded itself in the lock file, checked against the live process table.

use crate::metadata::{self, Record};
use crate::sys;
use std::time::SystemTime;

/// The process holding a lock exclusively.
///
/// On Linux the kernel's lock table (`/proc/locks`) names it, and the rest is read from the
/// process table (`/proc/PID`), or from the holder's record in the lock file when it wrote
/// one (an exclusive holder does when it asks for its fencing token). Elsewhere every
/// exclusive holder records itself at acquisition, and that record is what is reported.
///
/// Shared holders are many at once, so a lock held shared has no `Holder`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pid: u32,
    pid_ns: u64,
    start: u64,
    boot: String,
    host: String,
    command: String,
    since: Option<SystemTime>,
    token: Option<u64>,
}

impl Holder {
    /// The holder's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The PID namespace [`Holder::pid`] belongs to: the inode of the holder's
    /// `/proc/self/ns/pid` on Linux (namespaces(7)), 0 elsewhere or when it was unknown.
    pub fn pid_namespace(&self) -> u64 {
        self.pid_ns
    }

    /// Whether the holder runs on this machine but in another PID namespace (another
    /// container, or the host seen from a container), where its pid names another process or
    /// none. Such a holder cannot be checked against this process table, and is reported as
    /// recorded.
    pub fn in_another_pid_namespace(&self) -> bool {
        let mine = sys::current_process().pid_ns;
        self.is_local() && self.pid_ns != 0 && mine != 0 && self.pid_ns != mine
    }

    /// When the holder process started, in a platform-specific unit that is only meant to be
    /// compared with another reading for the same pid: clock ticks since boot on Linux
    /// (`/proc/PID/stat` field 22), microseconds since the Unix epoch on macOS
    /// (`proc_pidinfo`), and 100 ns intervals since 1601 on Windows (`GetProcessTimes`).
    pub fn process_start(&self) -> u64 {
        self.start
    }

    /// Identifies the boot during which the holder ran: the kernel's boot id on Linux,
    /// `kern.boottime` on macOS, empty on Windows (where the start time is already absolute).
    pub fn boot_id(&self) -> &str {
        &self.boot
    }

    /// The host name of the holder's machine.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The holder's command line, arguments joined by spaces (cut at 1024 bytes).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// When the holder acquired the lock (wall-clock time), if it recorded itself.
    pub fn acquired_at(&self) -> Option<SystemTime> {
        self.since
    }

    /// The fencing token of the holder's acquisition (see
    /// [`LockGuard::token`](crate::LockGuard::token)), if it recorded itself.
    pub fn token(&self) -> Option<u64> {
        self.token
    }

    /// Whether the holder ran on this machine. A holder on another host (a lock file on a
    /// shared file system) cannot be checked against the process table and is reported as
    /// recorded.
    pub fn is_local(&self) -> bool {
        self.host == sys::current_process().host
    }

    /// Turns a record into a holder if it describes a process that still holds the lock:
    /// marked held, and naming a process that is alive now with the same start time during
    /// the same boot (a holder on another host or in another PID namespace is taken as
    /// recorded: its pid means nothing here). A recorded pid that now belongs to an unrelated process (PID reuse, or
    /// a planted file) has another start time and is not a holder.
    pub(crate) fn from_live_record(record: Record) -> Option<Holder> {
        if !record.held {
            return None;
        }
        let holder = Holder {
            pid: record.pid,
            pid_ns: record.pid_ns,
            start: record.start,
            boot: record.boot,
            host: record.host,
            command: record.command,
            since: Some(record.since),
            token: Some(record.token),
        };
        if !holder.is_local() || holder.in_another_pid_namespace() {
            return Some(holder);
        }
        if holder.boot != sys::current_process().boot {
            return None;
        }
        (sys::process_start(holder.pid) == Some(holder.start)).then_some(holder)
    }

    /// The holder the kernel's lock table names, `pid` of this PID namespace: its record when
    /// the lock file holds a live one naming the same process, else what the process table
    /// says of it.
    pub(crate) fn named_by_kernel(pid: u32, record: Option<Record>) -> Holder {
        let me = sys::current_process();
        let recorded = record
            .filter(|r| r.pid == pid && r.pid_ns == me.pid_ns && r.host == me.host)
            .and_then(Holder::from_live_record);
        recorded.unwrap_or_else(|| Holder {
            pid,
            pid_ns: me.pid_ns,
            start: sys::process_start(pid).unwrap_or(0),
            boot: me.boot.clone(),
            host: me.host.clone(),
            command: metadata::cut_command(sys::process_command(pid)),
            since: None,
            token: None,
        })
    }

    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn set_pid_namespace_for_test(&mut self, pid_ns: u64) {
        self.pid_ns = pid_ns;
    }

    #[cfg(test)]
    pub(crate) fn set_host_for_test(&mut self, host: &str) {
        self.host = host.to_owned();
    }

    #[cfg(test)]
    pub(crate) fn example() -> Holder {
        Holder {
            pid: 4121,
            pid_ns: sys::current_process().pid_ns,
            start: 183_354,
            boot: "boot".into(),
            host: sys::current_process().host.clone(),
            command: "app --serve".into(),
            since: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_732_276_924)),
            token: Some(42),
        }
    }
}
