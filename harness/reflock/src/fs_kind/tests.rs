use super::{Exclusion, FsKind};

#[track_caller]
fn check(magic: u64, kind: FsKind, exclusion: Exclusion) {
    let found = FsKind::from_linux_magic(magic);
    assert_eq!(
        (found, found.exclusion()),
        (kind, exclusion),
        "magic {magic:#x}"
    );
}

#[test]
fn local_file_systems_exclude_across_the_machine() {
    check(0xEF53, FsKind::LocalDisk, Exclusion::Machine);
    check(0x0102_1994, FsKind::Tmpfs, Exclusion::Machine);
    check(0x794C_7630, FsKind::Overlay, Exclusion::Machine);
}

#[test]
fn network_and_fuse_file_systems_exclude_within_one_client() {
    check(0x6573_5546, FsKind::Fuse, Exclusion::ThisClient);
    check(0x6969, FsKind::Nfs, Exclusion::ThisClient);
    check(0xFF53_4D42, FsKind::Smb, Exclusion::ThisClient);
    check(0xFE53_4D42, FsKind::Smb, Exclusion::ThisClient);
    check(0x0102_1997, FsKind::NineP, Exclusion::ThisClient);
    check(0x00C3_6400, FsKind::OtherNetwork, Exclusion::ThisClient);
}

#[test]
fn an_unknown_magic_is_unknown() {
    check(0x1234_5678, FsKind::Unknown, Exclusion::Unknown);
}
