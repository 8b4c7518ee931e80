//! The per-iteration temp directory that holds the lock file, and the file-system faults
//! injected into it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lockcheck_model::PlantKind;
use tempfile::TempDir;

use crate::sys;

/// What the symlink victim contains until a broken lock writes through the symlink.
const VICTIM_CONTENT: &[u8] =
    b"lockcheck victim file: a lock that follows symlinks must not touch this\n";

/// `<tmp>/locks/app.lock`, with `<tmp>/victim.txt` beside the lock directory. Removed on drop.
pub(crate) struct LockDir {
    tmp: TempDir,
    dir: PathBuf,
    lock_path: PathBuf,
}

impl LockDir {
    /// Creates a fresh directory under `root` (the system temp dir when `None`).
    pub fn new(root: Option<&Path>, scenario: &str) -> io::Result<LockDir> {
        let mut builder = tempfile::Builder::new();
        let prefix = format!("lockcheck-{scenario}-");
        builder.prefix(&prefix);
        let tmp = match root {
            Some(root) => builder.tempdir_in(root)?,
            None => builder.tempdir()?,
        };
        let dir = tmp.path().join("locks");
        fs::create_dir(&dir)?;
        let lock_path = dir.join("app.lock");
        Ok(LockDir {
            tmp,
            dir,
            lock_path,
        })
    }

    /// The lock path every participant is given.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    fn victim(&self) -> PathBuf {
        self.tmp.path().join("victim.txt")
    }

    /// Writes a lock file as a dead or foreign holder would have left it; returns a
    /// description for the history.
    pub fn plant(&self, kind: PlantKind, rng: &mut fastrand::Rng) -> io::Result<String> {
        let (content, detail) = match kind {
            PlantKind::DeadPid | PlantKind::OldMtime => {
                let pid = sys::dead_pid()?;
                (format!("{pid}\n").into_bytes(), format!("dead pid {pid}"))
            }
            PlantKind::LivePid => {
                // The runner itself: alive for the whole scenario and unrelated to the lock.
                let pid = std::process::id();
                (
                    format!("{pid}\n").into_bytes(),
                    format!("live unrelated pid {pid}"),
                )
            }
            PlantKind::Empty => (Vec::new(), "empty file".to_owned()),
            PlantKind::Garbage => {
                let bytes: Vec<u8> = (0..64).map(|_| rng.u8(..)).collect();
                (bytes, "64 random bytes".to_owned())
            }
        };
        fs::write(&self.lock_path, content)?;
        if kind == PlantKind::OldMtime {
            let hour_ago = SystemTime::now() - Duration::from_secs(3600);
            fs::File::options()
                .write(true)
                .open(&self.lock_path)?
                .set_modified(hour_ago)?;
            return Ok(format!("{detail}, mtime one hour ago"));
        }
        Ok(detail)
    }

    /// Replaces the lock path with a symlink to the victim file.
    pub fn symlink(&self) -> io::Result<()> {
        let victim = self.victim();
        fs::write(&victim, VICTIM_CONTENT)?;
        match fs::remove_file(&self.lock_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        #[cfg(unix)]
        return std::os::unix::fs::symlink(&victim, &self.lock_path);
        #[cfg(windows)]
        return std::os::windows::fs::symlink_file(&victim, &self.lock_path);
    }

    /// Whether the victim still holds exactly what `symlink` wrote; a description if not.
    pub fn victim_changed(&self) -> Option<String> {
        match fs::read(self.victim()) {
            Ok(bytes) if bytes == VICTIM_CONTENT => None,
            Ok(bytes) => Some(format!(
                "victim file now has {} bytes (was {}): {:?}",
                bytes.len(),
                VICTIM_CONTENT.len(),
                String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
            )),
            Err(e) => Some(format!("victim file unreadable: {e}")),
        }
    }

    /// Unlinks the lock file.
    pub fn unlink(&self) -> io::Result<()> {
        fs::remove_file(&self.lock_path)
    }

    /// Changes the lock directory's permission bits (read-only on Windows when not writable).
    pub fn chmod(&self, mode: u32) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(mode))
        }
        #[cfg(windows)]
        {
            let mut perms = fs::metadata(&self.dir)?.permissions();
            perms.set_readonly(mode & 0o200 == 0);
            fs::set_permissions(&self.dir, perms)
        }
    }
}

impl Drop for LockDir {
    fn drop(&mut self) {
        // A chmod fault may have left the directory unwritable, which would stop TempDir from
        // removing it.
        let _ = self.chmod(0o700);
    }
}
