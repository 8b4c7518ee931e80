//! The one error type, with a kind for programs and a message with a `help:` line for people.

use crate::fs_kind::FsKind;
use crate::holder::Holder;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What went wrong, for programs to match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Another process holds the lock (a non-blocking attempt). [`Error::holder`] tells who,
    /// when it is known.
    Contended,
    /// The lock was still held when the timeout ran out. [`Error::holder`] tells who, when it
    /// is known.
    TimedOut,
    /// The lock file or its directory may not be opened or created by this user.
    PermissionDenied,
    /// The directory that should contain the lock file does not exist. reflock never creates
    /// directories.
    MissingDirectory,
    /// Something other than a plain regular file is at the lock path: a symbolic link (never
    /// followed), a directory, a FIFO, socket or device, a Windows reparse point, or a file
    /// with several hard links.
    NotRegularFile,
    /// The file system does not support file locks (`flock` fails with ENOSYS, ENOTSUP or
    /// EOPNOTSUPP; `LockFileEx` with ERROR_NOT_SUPPORTED). reflock fails closed here: it never
    /// reports a lock it could not take as held.
    Unsupported,
    /// This process already holds the lock, or is acquiring it, through another
    /// [`LockGuard`](crate::LockGuard). reflock locks are not reentrant; waiting would
    /// deadlock, so the second acquisition is refused at once, also in blocking mode.
    HeldByThisProcess,
    /// Strict mode (see [`LockFile::strict`](crate::LockFile::strict)) refused a file system
    /// whose locks may be local to one client, such as FUSE or NFS: the lock could not keep a
    /// process on another host out. [`Error::fs_kind`] tells which. Nothing was locked.
    ClientLocal,
    /// Any other I/O error (disk full, read-only file system, ...). [`std::error::Error::source`]
    /// gives the OS error.
    Io,
}

/// Why something at the lock path is not a file reflock will lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotRegular {
    /// (Windows reports every reparse point as `ReparsePoint`.)
    #[cfg_attr(windows, allow(dead_code))]
    Symlink,
    Directory,
    /// FIFO, socket, or device.
    Special,
    /// A Windows reparse point other than a symbolic link (junction, mount point, ...).
    #[cfg_attr(unix, allow(dead_code))]
    ReparsePoint,
    HardLinked,
}

/// What reflock was doing when an I/O error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Open,
    Lock,
    ReadHolder,
    WriteHolder,
    Release,
}

/// An error from reflock.
///
/// `Display` gives a lowercase message that says what happened and, when known, who holds
/// the lock, followed by a line `  help: ...` that says what to do next. For example:
///
/// ```text
/// another process holds /run/app.lock (pid 4121, `app --serve`, since 2026-11-22 12:03:44 UTC)
///   help: wait for it to release the lock, or stop it (`kill 4121`) if it should not be running
/// ```
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    path: PathBuf,
    holder: Option<Holder>,
    source: Option<io::Error>,
    detail: Detail,
    fs: Option<FsKind>,
}

#[derive(Debug)]
enum Detail {
    None,
    Op(Op),
    NotRegular(NotRegular),
    Waited(Duration),
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The process holding the lock, for [`ErrorKind::Contended`] and [`ErrorKind::TimedOut`]
    /// when an exclusive holder recorded itself (see [`Holder`]).
    pub fn holder(&self) -> Option<&Holder> {
        self.0.holder.as_ref()
    }

    /// The kind of file system the lock file is on, for [`ErrorKind::ClientLocal`] and
    /// [`ErrorKind::Unsupported`] (where `statfs` could tell).
    pub fn fs_kind(&self) -> Option<FsKind> {
        self.0.fs
    }

    fn inner(kind: ErrorKind, path: &Path) -> Inner {
        Inner {
            kind,
            path: path.to_owned(),
            holder: None,
            source: None,
            detail: Detail::None,
            fs: None,
        }
    }

    pub(crate) fn contended(path: &Path, holder: Option<Holder>) -> Error {
        Error(Box::new(Inner {
            holder,
            ..Error::inner(ErrorKind::Contended, path)
        }))
    }

    pub(crate) fn timed_out(path: &Path, waited: Duration, holder: Option<Holder>) -> Error {
        Error(Box::new(Inner {
            holder,
            detail: Detail::Waited(waited),
            ..Error::inner(ErrorKind::TimedOut, path)
        }))
    }

    pub(crate) fn not_regular(path: &Path, what: NotRegular) -> Error {
        Error(Box::new(Inner {
            detail: Detail::NotRegular(what),
            ..Error::inner(ErrorKind::NotRegularFile, path)
        }))
    }

    pub(crate) fn client_local(path: &Path, fs: FsKind) -> Error {
        Error(Box::new(Inner {
            fs: Some(fs),
            ..Error::inner(ErrorKind::ClientLocal, path)
        }))
    }

    pub(crate) fn held_by_this_process(path: &Path) -> Error {
        Error(Box::new(Error::inner(ErrorKind::HeldByThisProcess, path)))
    }

    /// The same error, saying which file system the lock file is on.
    pub(crate) fn on(mut self, fs: Option<FsKind>) -> Error {
        self.0.fs = fs;
        self
    }

    /// An OS error while doing `op`, classified by the platform layer.
    pub(crate) fn os(path: &Path, op: Op, source: io::Error) -> Error {
        let kind = match crate::sys::error_kind(&source) {
            // ENOENT only means a missing directory when creating the file.
            ErrorKind::MissingDirectory if op != Op::Open => ErrorKind::Io,
            kind => kind,
        };
        Error(Box::new(Inner {
            source: Some(source),
            detail: Detail::Op(op),
            ..Error::inner(kind, path)
        }))
    }
}

impl Inner {
    fn directory(&self) -> String {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.display().to_string(),
            _ => ".".to_owned(),
        }
    }

    fn os_message(&self) -> String {
        self.source
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

/// `(pid 4121, `app --serve`, since 2026-11-22 12:03:44 UTC)`.
struct Described<'a>(&'a Holder);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.0;
        if h.in_another_pid_namespace() {
            write!(
                f,
                "a process in another PID namespace, pid {} there",
                h.pid()
            )?;
        } else {
            write!(f, "pid {}", h.pid())?;
        }
        if !h.is_local() {
            write!(f, " on {}", h.host())?;
        }
        if !h.command().is_empty() {
            write!(f, ", `{}`", h.command())?;
        }
        match h.acquired_at() {
            Some(since) => write!(f, ", since {}", Utc(since)),
            None => Ok(()),
        }
    }
}

/// A wall-clock time as `YYYY-MM-DD HH:MM:SS UTC`.
struct Utc(SystemTime);

impl fmt::Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self
            .0
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), using 400-year eras
/// of 146097 days.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let this = &*self.0;
        let path = this.path.display();
        let dir = this.directory();
        let os = this.os_message();
        match this.kind {
            ErrorKind::Contended | ErrorKind::TimedOut => {
                match this.detail {
                    Detail::Waited(waited) => write!(
                        f,
                        "timed out after {waited:?} waiting for {path}: another process holds it"
                    )?,
                    _ => write!(f, "another process holds {path}")?,
                }
                match &this.holder {
                    Some(h) => {
                        let stop = if h.in_another_pid_namespace() {
                            "stop it in its own PID namespace (its container)".to_owned()
                        } else if h.is_local() {
                            format!("stop it (`kill {}`)", h.pid())
                        } else {
                            format!("stop it on {}", h.host())
                        };
                        write!(
                            f,
                            " ({})\n  help: wait for it to release the lock, or {stop} if it should not be running",
                            Described(h)
                        )
                    }
                    None => write!(
                        f,
                        " (shared, or by a process that cannot be named from here)\n  help: `lsof {path}` shows which processes have the lock file open"
                    ),
                }
            }
            ErrorKind::PermissionDenied => write!(
                f,
                "permission denied opening lock file {path}: {os}\n  help: make {dir} writable for this user, or choose a lock path this user owns"
            ),
            ErrorKind::MissingDirectory => write!(
                f,
                "cannot create lock file {path}: directory {dir} does not exist\n  help: create {dir} first; reflock never creates directories"
            ),
            ErrorKind::NotRegularFile => {
                let what = match this.detail {
                    Detail::NotRegular(NotRegular::Symlink) => "a symbolic link",
                    Detail::NotRegular(NotRegular::Directory) => "a directory",
                    Detail::NotRegular(NotRegular::ReparsePoint) => "a reparse point",
                    Detail::NotRegular(NotRegular::HardLinked) => "a file with several hard links",
                    _ => "not a regular file",
                };
                write!(
                    f,
                    "refusing to use {path} as a lock file: it is {what}\n  help: reflock never follows links or writes through them; remove it if it is not yours, or choose another lock path"
                )
            }
            ErrorKind::Unsupported => {
                let on = match this.fs {
                    Some(fs) if fs != FsKind::Unknown => format!(" ({fs})"),
                    _ => String::new(),
                };
                write!(
                    f,
                    "the file system holding {path}{on} does not support file locks: {os}\n  help: put the lock file on a local file system (such as /tmp or /run); a lock that cannot be taken is never reported as held"
                )
            }
            ErrorKind::HeldByThisProcess => write!(
                f,
                "this process already holds or is acquiring {path} through another handle\n  help: keep using the existing guard, or drop it before acquiring again; reflock locks are not reentrant"
            ),
            ErrorKind::ClientLocal => {
                let fs = this.fs.unwrap_or(FsKind::Unknown);
                write!(
                    f,
                    "refusing to lock {path} in strict mode: it is on {fs}, whose locks may be local to this client, so a process on another host could hold it at the same time\n  help: put the lock file on a local file system (such as /run or /tmp), or turn strict mode off if every process that takes this lock runs on this host"
                )
            }
            ErrorKind::Io => {
                let doing = match this.detail {
                    Detail::Op(Op::Open) => "opening",
                    Detail::Op(Op::Lock) => "locking",
                    Detail::Op(Op::ReadHolder) => "reading the holder record of",
                    Detail::Op(Op::WriteHolder) => "writing the holder record to",
                    Detail::Op(Op::Release) => "releasing",
                    _ => "using",
                };
                write!(
                    f,
                    "I/O error while {doing} lock file {path}: {os}\n  help: check the file system holding {dir} (full, read-only, or failing?)"
                )
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("path", &self.0.path)
            .field("holder", &self.0.holder)
            .field("source", &self.0.source)
            .field("detail", &self.0.detail)
            .field("fs", &self.0.fs)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_ref().map(|e| e as _)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match e.0.kind {
            ErrorKind::Contended => io::ErrorKind::WouldBlock,
            ErrorKind::TimedOut => io::ErrorKind::TimedOut,
            ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            ErrorKind::MissingDirectory => io::ErrorKind::NotFound,
            ErrorKind::Unsupported | ErrorKind::ClientLocal => io::ErrorKind::Unsupported,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests;
