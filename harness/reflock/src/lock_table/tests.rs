use super::*;

const TABLE: &str = "\
1: FLOCK  ADVISORY  WRITE 4121 08:01:5678 0 EOF
1: -> FLOCK  ADVISORY  WRITE 4122 08:01:5678 0 EOF
2: POSIX  ADVISORY  READ 977 08:01:5678 0 EOF
3: OFDLCK ADVISORY  WRITE -1 08:01:5678 0 EOF
4: FLOCK  ADVISORY  WRITE 0 08:01:5678 0 EOF
5: FLOCK  ADVISORY  WRITE 555 08:01:56789 0 EOF
6: FLOCK  ADVISORY  WRITE 556 fd:01:5678 0 EOF
7: LEASE  ACTIVE    READ 12 08:01:5678 0 EOF
garbage
8: FLOCK  ADVISORY  WRITE notapid 08:01:5678 0 EOF
";

fn on_5678() -> Vec<LockEntry> {
    entries(TABLE, rustix::fs::makedev(8, 1), 5678)
}

#[test]
fn reads_holders_and_waiters_of_the_one_file() {
    let entry = |class, exclusive, blocked, pid| LockEntry {
        class,
        exclusive,
        blocked,
        pid,
    };
    assert_eq!(
        on_5678(),
        vec![
            entry(LockClass::Flock, true, false, Some(4121)),
            entry(LockClass::Flock, true, true, Some(4122)),
            entry(LockClass::Posix, false, false, Some(977)),
            entry(LockClass::Ofd, true, false, None),
            entry(LockClass::Flock, true, false, None),
            entry(LockClass::Other, false, false, Some(12)),
        ]
    );
}

#[test]
fn another_inode_or_device_is_not_this_file() {
    assert!(entries(TABLE, rustix::fs::makedev(8, 1), 567).is_empty());
    let other_device = entries(TABLE, rustix::fs::makedev(0xfd, 1), 5678);
    assert_eq!(other_device.len(), 1);
    assert_eq!(other_device[0].pid, Some(556));
}

#[test]
fn the_live_table_lists_a_flock_this_process_holds() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.lock");
    std::fs::File::create(&path).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert!(read(meta.dev(), meta.ino()).unwrap().is_empty());
    let _guard = crate::LockFile::new(&path).try_exclusive().unwrap();
    let held = read(meta.dev(), meta.ino()).unwrap();
    assert_eq!(
        held,
        vec![LockEntry {
            class: LockClass::Flock,
            exclusive: true,
            blocked: false,
            pid: Some(std::process::id()),
        }]
    );
}
