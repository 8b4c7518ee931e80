//! Which processes have a file open: evidence for an `acquire` that was refused when the
//! scenario expected the lock to be free.

use std::path::Path;

use lockcheck_model::OpenProcess;

/// The processes with `path` open, by pid, or `None` where the platform offers no cheap way
/// to look (everything but Linux) or `path` cannot be inspected.
pub(crate) fn open_by(path: &Path) -> Option<Vec<OpenProcess>> {
    imp::open_by(path)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use lockcheck_model::OpenProcess;

    pub(super) fn open_by(path: &Path) -> Option<Vec<OpenProcess>> {
        let target = fs::symlink_metadata(path).ok()?;
        let identity = (target.dev(), target.ino());
        let mut found = Vec::new();
        for entry in fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // Processes come and go, and other users' are unreadable: skip what fails.
            let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            let holds = fds
                .flatten()
                .any(|fd| fs::metadata(fd.path()).is_ok_and(|m| (m.dev(), m.ino()) == identity));
            if holds {
                let command = fs::read_to_string(entry.path().join("comm"))
                    .map(|c| c.trim_end().to_owned())
                    .unwrap_or_default();
                found.push(OpenProcess { pid, command });
            }
        }
        found.sort_by_key(|p| p.pid);
        Some(found)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::path::Path;

    use lockcheck_model::OpenProcess;

    pub(super) fn open_by(_path: &Path) -> Option<Vec<OpenProcess>> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn finds_this_process_only_while_it_has_the_file_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.lock");
        let file = std::fs::File::create(&path).unwrap();
        let me = std::process::id();
        let open = open_by(&path).unwrap();
        assert!(open.iter().any(|p| p.pid == me), "{open:?}");
        drop(file);
        let open = open_by(&path).unwrap();
        assert!(open.iter().all(|p| p.pid != me), "{open:?}");
    }

    #[test]
    fn a_missing_path_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(open_by(&dir.path().join("absent")), None);
    }
}
