//! Where a scenario's participants run: the file system under the lock directory, the PID
//! namespace of each participant, and the path through which each reaches the lock file.
//!
//! This is data. The runner sets it up and tears it down; a runner that cannot (not root,
//! not Linux) skips the scenario with the reason [`Topology::privileged`] gives.

use serde::Serialize;

/// The file system the lock directory lives on, and how it is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LockDirSpec {
    /// What is mounted at the lock directory.
    pub fs: LockDirFs,
    /// The mount is remounted read-only before any participant starts.
    pub read_only: bool,
}

/// What is mounted at the lock directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(tag = "fs", rename_all = "snake_case")]
pub enum LockDirFs {
    /// Nothing: a plain directory on the temp dir's own file system.
    #[default]
    Host,
    /// A tmpfs of `size_bytes` (rounded up to whole pages by the kernel).
    Tmpfs {
        /// The size limit.
        size_bytes: u64,
        /// Every free block is taken by a filler file before participants start, so that
        /// creating an empty lock file works and writing into it fails with ENOSPC.
        full: bool,
    },
    /// The merged view of an overlayfs, as a container's root is: the lock file already
    /// exists in its lower layer (as an image would ship it), and opening it for writing
    /// copies it up to the upper layer.
    Overlay,
}

/// Which PID namespace a participant runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PidNamespace {
    /// The runner's, like every participant of every other scenario.
    #[default]
    Shared,
    /// A new one of its own, in which the adapter is PID 1: a container's view, whose PIDs
    /// mean nothing (or name another live process) outside it.
    Own,
}

lockcheck_protocol::vocabulary!(PidNamespace {
    Shared => "shared",
    Own => "own",
});

/// The path through which a participant reaches the lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// `<tmp>/locks/app.lock`, the path every other participant is given.
    #[default]
    Direct,
    /// The same directory bind-mounted at `<tmp>/bind`: another mount, another path, the
    /// same inode.
    BindMount,
    /// Through `<tmp>/link`, a symlink to the lock directory.
    SymlinkedDir,
}

lockcheck_protocol::vocabulary!(View {
    Direct => "direct",
    BindMount => "bind_mount",
    SymlinkedDir => "symlinked_dir",
});

/// One of the two "hosts" of a network file system: each reaches the lock directory through
/// a FUSE mount of its own, and a FUSE mount that implements no lock operations keeps flock
/// and fcntl locks in its own kernel, unseen by the other mount (as NFS without lockd, or
/// sshfs, keeps them on one client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Host {
    /// Reaches the lock directory through `<tmp>/host-a`.
    A,
    /// Reaches the lock directory through `<tmp>/host-b`.
    B,
}

lockcheck_protocol::vocabulary!(Host {
    A => "a",
    B => "b",
});

/// Where one participant group runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Placement {
    /// Its PID namespace.
    pub pid_namespace: PidNamespace,
    /// Its path to the lock file.
    pub view: View,
    /// The network file system mount it reaches the lock directory through, if any (then
    /// `view` is `direct`).
    pub host: Option<Host>,
}

/// A scenario's whole topology: the lock directory's mount and every group's placement, in
/// the order of the scenario's participant groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The lock directory.
    pub lock_dir: LockDirSpec,
    /// Each group's placement.
    pub placements: Vec<Placement>,
}

impl Topology {
    /// What of this topology needs privileges (root with CAP_SYS_ADMIN on Linux, for mounts
    /// and namespaces), in a few words each; empty when it runs anywhere.
    pub fn privileged(&self) -> Vec<&'static str> {
        let mut needs = Vec::new();
        if let LockDirFs::Tmpfs { .. } = self.lock_dir.fs {
            needs.push("a tmpfs mount");
        }
        if self.lock_dir.read_only {
            needs.push("a read-only mount");
        }
        if self
            .placements
            .iter()
            .any(|p| p.pid_namespace == PidNamespace::Own)
        {
            needs.push("a PID namespace");
        }
        if self.placements.iter().any(|p| p.view == View::BindMount) {
            needs.push("a bind mount");
        }
        if self.lock_dir.fs == LockDirFs::Overlay {
            needs.push("an overlay mount");
        }
        if self.fuse() {
            needs.push("FUSE mounts");
        }
        needs
    }

    /// Whether the runner mounts anything, and so needs a mount namespace of its own.
    pub fn mounts(&self) -> bool {
        self.lock_dir != LockDirSpec::default()
            || self.placements.iter().any(|p| p.view == View::BindMount)
            || self.fuse()
    }

    /// Whether some participant reaches the lock directory through a FUSE mount (a [`Host`]).
    pub fn fuse(&self) -> bool {
        self.placements.iter().any(|p| p.host.is_some())
    }
}

/// `"64k"`, `"1m"`, `"4096"`: a size in bytes with an optional binary suffix (`k`, `m`, `g`).
/// `None` when the text is no such size or overflows.
pub fn parse_size(text: &str) -> Option<u64> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}
