//! The kernel's table of file locks on Linux (`/proc/locks`, proc(5)): who holds, and who
//! waits for, a lock on a file, read without touching the lock.
//!
//! reflock asks it who holds a lock file exclusively, so an acquisition writes nothing into
//! the file; lockcheck's runner asks it which participants are blocked on one.

use std::io;

/// Which kind of lock an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockClass {
    /// `flock(2)`, as reflock takes.
    Flock,
    /// A POSIX record lock (`fcntl(F_SETLK)`, `lockf(3)`).
    Posix,
    /// An open file description lock (`fcntl(F_OFD_SETLK)`).
    Ofd,
    /// A lease, a delegation, or a class this parser does not know.
    Other,
}

/// One line of the table about one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockEntry {
    /// What kind of lock it is.
    pub class: LockClass,
    /// `WRITE` (exclusive) rather than `READ` (shared).
    pub exclusive: bool,
    /// A waiter blocked on the lock (the table's `->` lines), not a holder.
    pub blocked: bool,
    /// The process that took (or waits for) the lock, as a pid of the PID namespace of the
    /// `/proc` it was read from. `None` for OFD locks, which belong to no process, and for a
    /// process that namespace cannot see.
    pub pid: Option<u32>,
}

/// The entries on the file `(device, inode)`, read from `/proc/locks`.
pub fn read(device: u64, inode: u64) -> io::Result<Vec<LockEntry>> {
    let table = std::fs::read_to_string("/proc/locks")?;
    Ok(entries(&table, device, inode))
}

/// The entries of `/proc/locks` text on the file `(device, inode)`. A line reads
/// `ID: [-> ]CLASS TYPE ACCESS PID MAJ:MIN:INODE START END`, the device numbers in hex;
/// lines that do not read so are skipped.
pub fn entries(table: &str, device: u64, inode: u64) -> Vec<LockEntry> {
    let file = format!(
        "{:02x}:{:02x}:{inode}",
        rustix::fs::major(device),
        rustix::fs::minor(device)
    );
    table
        .lines()
        .filter_map(|line| parse(line, &file))
        .collect()
}

fn parse(line: &str, file: &str) -> Option<LockEntry> {
    let mut fields = line.split_ascii_whitespace();
    fields.next()?.strip_suffix(':')?;
    let mut class = fields.next()?;
    let blocked = class == "->";
    if blocked {
        class = fields.next()?;
    }
    let _advisory = fields.next()?;
    let access = fields.next()?;
    let pid: i64 = fields.next()?.parse().ok()?;
    if fields.next()? != file {
        return None;
    }
    Some(LockEntry {
        class: match class {
            "FLOCK" => LockClass::Flock,
            "POSIX" => LockClass::Posix,
            "OFDLCK" => LockClass::Ofd,
            _ => LockClass::Other,
        },
        exclusive: access == "WRITE",
        blocked,
        pid: u32::try_from(pid).ok().filter(|&pid| pid > 0),
    })
}

#[cfg(test)]
mod tests;
