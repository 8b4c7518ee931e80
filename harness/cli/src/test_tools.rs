//! What the tests need from the system beside cargo's binaries, installed where missing as
//! every set-up installs Debian packages: through `ci/apt-install.sh` (as root, with
//! apt-get). Where that cannot be done, the scenarios that need the tool are skipped with the
//! reason, as on any machine without it.

use std::path::Path;
use std::process::{Command, Stdio};

/// Debian's `bindfs`, the runner's FUSE passthrough for the network level's two hosts,
/// under the project at `root`.
pub fn ensure_bindfs(root: &Path) {
    ensure(root, lockcheck_runner::FUSE_PROGRAM, "bindfs");
}

/// Installs `package` when `program` is not on the PATH; quietly leaves it missing when it
/// cannot be installed (the runner then says why it skips).
fn ensure(root: &Path, program: &str, package: &str) {
    if which::which(program).is_err() {
        let _ = Command::new(root.join("ci/apt-install.sh"))
            .arg(package)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
