//! The per-iteration temp directory that holds the lock file, and the file-system faults
//! injected into it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use lockcheck_model::{Placement, PlantKind, Topology};
use lockcheck_protocol::IDLE_COMMAND;
use tempfile::TempDir;

use crate::sys;
use crate::topology::Layout;

/// What the symlink victim contains until a broken lock writes through the symlink.
const VICTIM_CONTENT: &[u8] =
    b"lockcheck victim file: a lock that follows symlinks must not touch this\n";

/// The lock file's name in the lock directory.
pub(crate) const LOCK_FILE: &str = "app.lock";

/// `<tmp>/locks/app.lock`, with `<tmp>/victim.txt` beside the lock directory. Removed on drop,
/// and by the watchdog if the runner dies first.
pub(crate) struct LockDir {
    tmp: TempDir,
    dir: PathBuf,
    lock_path: PathBuf,
    /// Paths the runner itself put in `tmp`, which are therefore not leftovers.
    created: Vec<PathBuf>,
    /// Directories in `tmp` whose contents are the runner's too (see [`Layout::unwalked`]).
    unwalked: Vec<PathBuf>,
    /// A live process unrelated to the lock, whose PID a planted file names.
    bystander: Option<Child>,
    /// The scenario's mounts and other paths to the lock directory, once set up.
    layout: Option<Layout>,
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
        // Best effort: without it only a runner that dies leaves the directory behind.
        let _ = sys::guard_dir(tmp.path());
        let dir = tmp.path().join("locks");
        fs::create_dir(&dir)?;
        let lock_path = dir.join(LOCK_FILE);
        Ok(LockDir {
            tmp,
            created: vec![dir.clone()],
            unwalked: Vec::new(),
            dir,
            lock_path,
            bystander: None,
            layout: None,
        })
    }

    /// Sets the scenario's topology up around the lock directory (see [`Layout`]).
    pub fn set_up(&mut self, topology: &Topology) -> io::Result<()> {
        let layout = Layout::set_up(self.tmp.path(), &self.dir, topology)?;
        self.created.extend(layout.created.iter().cloned());
        self.unwalked.extend(layout.unwalked.iter().cloned());
        self.layout = Some(layout);
        Ok(())
    }

    /// The lock path as a participant placed at `placement` reaches it.
    pub fn lock_path_via(&self, placement: Placement) -> PathBuf {
        match &self.layout {
            Some(layout) => layout.path(placement).join(LOCK_FILE),
            None => self.lock_path.clone(),
        }
    }

    /// Lets other users reach the lock directory through the temp directory (which is
    /// private to the runner's user), for participants that run as another user.
    pub fn open_to_others(&self) -> io::Result<()> {
        sys::open_to_others(self.tmp.path(), &self.dir)
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
    pub fn plant(&mut self, kind: PlantKind, rng: &mut fastrand::Rng) -> io::Result<String> {
        let (content, detail) = match kind {
            PlantKind::DeadPid | PlantKind::OldMtime => {
                let pid = sys::dead_pid()?;
                (format!("{pid}\n").into_bytes(), format!("dead pid {pid}"))
            }
            PlantKind::LivePid => {
                // A process started after the file's backdated mtime: exactly what a reused
                // PID looks like. Not the runner, which is every participant's parent.
                let pid = self.bystander()?;
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
        self.created.push(self.lock_path.clone());
        if matches!(kind, PlantKind::OldMtime | PlantKind::LivePid) {
            let hour_ago = SystemTime::now() - Duration::from_secs(3600);
            fs::File::options()
                .write(true)
                .open(&self.lock_path)?
                .set_modified(hour_ago)?;
            return Ok(format!("{detail}, mtime one hour ago"));
        }
        Ok(detail)
    }

    /// Starts (once) a long-lived process that has nothing to do with the lock, in its own
    /// process group, guarded like a participant; returns its PID.
    fn bystander(&mut self) -> io::Result<u32> {
        if let Some(child) = &self.bystander {
            return Ok(child.id());
        }
        let (program, args) = IDLE_COMMAND.split_first().expect("a program");
        let mut cmd = Command::new(program);
        cmd.args(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        sys::configure(&mut cmd);
        let mut child = cmd.spawn()?;
        let pid = child.id();
        if let Err(e) = sys::guard_group(pid) {
            let _ = sys::kill_tree(pid);
            let _ = child.wait();
            return Err(e);
        }
        self.bystander = Some(child);
        Ok(pid)
    }

    /// Replaces the lock path with a symlink to the victim file.
    pub fn symlink(&mut self) -> io::Result<()> {
        let victim = self.victim();
        fs::write(&victim, VICTIM_CONTENT)?;
        self.created.push(victim.clone());
        self.created.push(self.lock_path.clone());
        match fs::remove_file(&self.lock_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        sys::symlink_file(&victim, &self.lock_path)
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

    /// Unlinks the lock file. A lock that keeps no file at the lock path has nothing to
    /// unlink, which is not the harness's failure.
    pub fn unlink(&self) -> io::Result<()> {
        match fs::remove_file(&self.lock_path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Removes the lock directory, with anything in it.
    pub fn remove_dir(&mut self) -> io::Result<()> {
        fs::remove_dir_all(&self.dir)?;
        self.created.retain(|p| !p.starts_with(&self.dir));
        Ok(())
    }

    /// What is at the lock path, without following a symlink: its type (`file`, `directory`,
    /// `symlink`, `other` or `missing`) and, on Unix, its permission bits.
    pub fn lock_path_state(&self) -> io::Result<(&'static str, Option<u32>)> {
        let meta = match fs::symlink_metadata(&self.lock_path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(("missing", None)),
            Err(e) => return Err(e),
        };
        let file_type = meta.file_type();
        let name = if file_type.is_symlink() {
            "symlink"
        } else if file_type.is_file() {
            "file"
        } else if file_type.is_dir() {
            "directory"
        } else {
            "other"
        };
        Ok((name, sys::permission_bits(&meta)))
    }

    /// Every path in the temp directory that the runner did not create, relative to it and
    /// sorted; directories end with `/`.
    pub fn leftovers(&self) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        let mut pending = vec![self.tmp.path().to_owned()];
        while let Some(dir) = pending.pop() {
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                let path = entry.path();
                let is_dir = entry.file_type()?.is_dir();
                if is_dir && !self.unwalked.contains(&path) {
                    pending.push(path.clone());
                }
                if self.created.contains(&path) {
                    continue;
                }
                let relative = path.strip_prefix(self.tmp.path()).unwrap_or(&path);
                let mut text = relative.to_string_lossy().replace('\\', "/");
                if is_dir {
                    text.push('/');
                }
                found.push(text);
            }
        }
        found.sort();
        Ok(found)
    }

    /// Changes the lock directory's permission bits (read-only on Windows when not writable).
    pub fn chmod(&self, mode: u32) -> io::Result<()> {
        sys::set_dir_mode(&self.dir, mode)
    }
}

impl Drop for LockDir {
    fn drop(&mut self) {
        // A chmod fault may have left the directory unwritable, which would stop TempDir from
        // removing it.
        let _ = self.chmod(0o700);
        // Unmounted before anything is removed, so that removal reaches the directories
        // underneath.
        drop(self.layout.take());
        if let Some(mut child) = self.bystander.take() {
            let _ = sys::kill_tree(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let _ = sys::forget_group(child.id());
        }
        let path = self.tmp.path().to_owned();
        let _ = fs::remove_dir_all(&path);
        let _ = sys::forget_dir(&path);
    }
}
