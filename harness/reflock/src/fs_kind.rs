//! Which file system a lock file is on, and so where the OS lock reflock takes excludes.

use std::fmt;

/// The kind of file system a lock file is on, as `statfs(2)` tells it (`f_type` on Linux).
///
/// It matters because the lock is the kernel's lock on an open file: on a file system local
/// to this machine it excludes every process of the machine, but a network or FUSE file
/// system may keep locks in each client's kernel, unseen by the others (NFS without a lock
/// manager, sshfs, most FUSE passthroughs, some SMB and 9p mounts). See
/// [`FsKind::exclusion`].
///
/// Only Linux tells the kinds apart so far; macOS and Windows report [`FsKind::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FsKind {
    /// A disk file system of this machine: ext2/3/4, XFS, Btrfs, F2FS, ZFS, bcachefs, FAT,
    /// NTFS...
    LocalDisk,
    /// tmpfs or ramfs: memory of this machine.
    Tmpfs,
    /// overlayfs, as a container's root is. Its files are the lower layers' until written,
    /// but locks are taken on the merged file, so they exclude across the merged view.
    Overlay,
    /// A FUSE file system (sshfs, bindfs, fuse-overlayfs, rclone, s3fs...). The kernel keeps
    /// flock locks per mount unless the daemon implements them.
    Fuse,
    /// NFS: locks reach other clients only through a lock manager (lockd, or NFSv4's own),
    /// when the server and every client run one.
    Nfs,
    /// SMB or CIFS: byte-range locks are the server's, flock may be emulated per client
    /// (`nobrl`, old servers).
    Smb,
    /// 9p (virtio-9p, WSL2's drives): locks are local to the client unless the server
    /// implements them.
    NineP,
    /// Another network file system (Ceph, AFS, Coda, Lustre).
    OtherNetwork,
    /// A file system reflock does not know, or a platform where it cannot tell.
    Unknown,
}

/// Where the lock reflock takes excludes other holders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exclusion {
    /// Every process on this machine that opens the file. (Another machine cannot reach a
    /// local file system at all.)
    Machine,
    /// Every process on this machine that reaches the file through the same mount; a process
    /// on another client of the file system, or through another mount of it, may hold the
    /// same lock at the same time.
    ThisClient,
    /// Not known: the file system's kind is unknown. reflock treats it as [`Machine`](Exclusion::Machine),
    /// also in strict mode.
    Unknown,
}

impl FsKind {
    /// Where a lock on this file system excludes.
    pub fn exclusion(self) -> Exclusion {
        match self {
            FsKind::LocalDisk | FsKind::Tmpfs | FsKind::Overlay => Exclusion::Machine,
            FsKind::Fuse | FsKind::Nfs | FsKind::Smb | FsKind::NineP | FsKind::OtherNetwork => {
                Exclusion::ThisClient
            }
            FsKind::Unknown => Exclusion::Unknown,
        }
    }

    /// A short name for messages: `a FUSE file system`, ...
    pub fn describe(self) -> &'static str {
        match self {
            FsKind::LocalDisk => "a local disk file system",
            FsKind::Tmpfs => "a tmpfs",
            FsKind::Overlay => "an overlayfs",
            FsKind::Fuse => "a FUSE file system",
            FsKind::Nfs => "an NFS mount",
            FsKind::Smb => "an SMB/CIFS mount",
            FsKind::NineP => "a 9p mount",
            FsKind::OtherNetwork => "a network file system",
            FsKind::Unknown => "a file system of unknown kind",
        }
    }

    /// The kind Linux's `statfs` `f_type` magic number stands for (linux/magic.h).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn from_linux_magic(magic: u64) -> FsKind {
        match magic {
            // ext2/3/4, XFS, Btrfs, F2FS, ZFS, bcachefs, FAT, NTFS, exFAT, JFS, ReiserFS.
            0xEF53 | 0x5846_5342 | 0x9123_683E | 0xF2F5_2010 | 0x2FC1_2FC1 | 0xCA45_1A4E
            | 0x4D44 | 0x5346_544E | 0x2011_BAB0 | 0x3153_464A | 0x5265_4973 => FsKind::LocalDisk,
            // tmpfs, ramfs.
            0x0102_1994 | 0x8584_58F6 => FsKind::Tmpfs,
            0x794C_7630 => FsKind::Overlay,
            // FUSE, virtiofs included.
            0x6573_5546 => FsKind::Fuse,
            0x6969 => FsKind::Nfs,
            // SMB, CIFS, SMB2.
            0x517B | 0xFF53_4D42 | 0xFE53_4D42 => FsKind::Smb,
            0x0102_1997 => FsKind::NineP,
            // Ceph, AFS, kAFS, Coda, Lustre.
            0x00C3_6400 | 0x5346_414F | 0x6B41_4653 | 0x7375_7245 | 0x0BD0_0BD0 => {
                FsKind::OtherNetwork
            }
            _ => FsKind::Unknown,
        }
    }
}

impl fmt::Display for FsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests;
