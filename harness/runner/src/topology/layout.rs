//! The lock directory's topology, set up beside it and torn down in reverse.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use lockcheck_model::{Host, LockDirFs, Placement, Topology, View};

use super::os;
use crate::lockdir::LOCK_FILE;

/// What the runner set up for one iteration: mounts to undo, and the paths it created.
pub(crate) struct Layout {
    /// Mount points, in the order they were mounted.
    mounts: Vec<PathBuf>,
    /// The FUSE daemons behind the hosts' mounts, killed once those are undone.
    daemons: Vec<os::FuseMount>,
    /// Paths the runner created, which are therefore not a lock's leftovers.
    pub created: Vec<PathBuf>,
    /// Directories the runner created whose contents are not leftovers either: other views
    /// of the lock directory (a bind mount, the hosts' FUSE mounts), whose files are the lock
    /// directory's own, and an overlay's layers, which hold its copies and whiteouts.
    pub unwalked: Vec<PathBuf>,
    dir: PathBuf,
    tmp: PathBuf,
}

impl Layout {
    /// Sets `topology` up for the lock directory `dir` inside the iteration's temp directory
    /// `tmp`. Mounts need the calling thread to be [`isolated`](super::isolated).
    pub fn set_up(tmp: &Path, dir: &Path, topology: &Topology) -> io::Result<Layout> {
        let mut layout = Layout {
            mounts: Vec::new(),
            daemons: Vec::new(),
            created: Vec::new(),
            unwalked: Vec::new(),
            dir: dir.to_owned(),
            tmp: tmp.to_owned(),
        };
        if let LockDirFs::Tmpfs { size_bytes, full } = topology.lock_dir.fs {
            os::mount_tmpfs(dir, size_bytes)
                .map_err(|e| context(e, "mounting a tmpfs at the lock directory"))?;
            layout.mounts.push(dir.to_owned());
            if full {
                let filler = dir.join("filler");
                fill(&filler).map_err(|e| context(e, "filling the tmpfs"))?;
                layout.created.push(filler);
            }
        }
        if topology.lock_dir.fs == LockDirFs::Overlay {
            layout
                .mount_overlay()
                .map_err(|e| context(e, "mounting an overlayfs at the lock directory"))?;
        }
        if topology.lock_dir.read_only {
            os::remount_read_only(dir)
                .map_err(|e| context(e, "remounting the lock directory read-only"))?;
        }
        let views = &topology.placements;
        if views.iter().any(|p| p.view == View::BindMount) {
            let target = layout.view_path(View::BindMount);
            fs::create_dir(&target)?;
            layout.created.push(target.clone());
            layout.unwalked.push(target.clone());
            os::bind(dir, &target).map_err(|e| context(e, "bind-mounting the lock directory"))?;
            layout.mounts.push(target);
        }
        if views.iter().any(|p| p.view == View::SymlinkedDir) {
            let link = layout.view_path(View::SymlinkedDir);
            os::symlink_dir(dir, &link)?;
            layout.created.push(link);
        }
        for host in [Host::A, Host::B] {
            if views.iter().any(|p| p.host == Some(host)) {
                let target = layout.host_path(host);
                fs::create_dir(&target)?;
                layout.created.push(target.clone());
                layout.unwalked.push(target.clone());
                let daemon = os::FuseMount::start(dir, &target)
                    .map_err(|e| context(e, "mounting a host's FUSE view of the lock directory"))?;
                layout.daemons.push(daemon);
                layout.mounts.push(target);
            }
        }
        Ok(layout)
    }

    /// `<tmp>/overlay/{lower,upper,work}` with the lock file in `lower`, merged at the lock
    /// directory.
    fn mount_overlay(&mut self) -> io::Result<()> {
        let root = self.tmp.join("overlay");
        self.unwalked.push(root.clone());
        let [lower, upper, work] = ["lower", "upper", "work"].map(|layer| root.join(layer));
        for dir in [&root, &lower, &upper, &work] {
            fs::create_dir(dir)?;
            self.created.push(dir.clone());
        }
        let shipped = lower.join(LOCK_FILE);
        fs::File::create_new(&shipped)?;
        self.created.push(shipped);
        os::mount_overlay(&lower, &upper, &work, &self.dir)?;
        self.mounts.push(self.dir.clone());
        // The shipped file, seen through the merged view.
        self.created.push(self.dir.join(LOCK_FILE));
        Ok(())
    }

    /// The directory through which a participant placed at `placement` reaches the lock
    /// directory.
    pub fn path(&self, placement: Placement) -> PathBuf {
        if let Some(host) = placement.host {
            return self.host_path(host);
        }
        self.view_path(placement.view)
    }

    fn view_path(&self, view: View) -> PathBuf {
        match view {
            View::Direct => self.dir.clone(),
            View::BindMount => self.tmp.join("bind"),
            View::SymlinkedDir => self.tmp.join("link"),
        }
    }

    fn host_path(&self, host: Host) -> PathBuf {
        self.tmp.join(format!("host-{}", host.as_str()))
    }
}

impl Drop for Layout {
    fn drop(&mut self) {
        for mount in self.mounts.iter().rev() {
            let _ = os::unmount(mount);
        }
        self.daemons.clear();
    }
}

fn context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Writes zeros to `path` until the file system has no block left (ENOSPC).
fn fill(path: &Path) -> io::Result<()> {
    let mut file = fs::File::create_new(path)?;
    let block = [0u8; 4096];
    loop {
        match file.write(&block) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::StorageFull => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
