//! `--reproducible`: whether it is on, and the paths it hides in every output.

use std::env;
use std::path::Path;

use lockcheck::{Project, TargetDir};
use lockcheck_report::PathPlaceholder;

/// Setting this to `1` is `--reproducible`, for callers that cannot add a flag (snapshot
/// tests, a CI job's environment).
pub const ENV: &str = "LOCKCHECK_REPRODUCIBLE";

/// Whether outputs are made reproducible: the flag, or [`ENV`] set to `1`.
pub fn enabled(flag: bool) -> bool {
    flag || env::var_os(ENV).is_some_and(|v| v == "1")
}

/// The paths that differ between machines and runs, each with its placeholder: the temporary
/// directory (whole, since what is under it has random names), lockcheck's own binary, the
/// project's target directory and root, the working directory and the home directory.
pub fn placeholders() -> Vec<PathPlaceholder> {
    let mut paths = Vec::new();
    let mut add = |path: &Path, placeholder: &str, whole: bool| {
        if path.parent().is_none() {
            return; // `/` is in every path.
        }
        let canonical = path.canonicalize().ok();
        for p in std::iter::once(path).chain(canonical.as_deref()) {
            let text = p.display().to_string();
            let entry = if whole {
                PathPlaceholder::whole(text, placeholder)
            } else {
                PathPlaceholder::prefix(text, placeholder)
            };
            paths.push(entry);
        }
    };
    add(&env::temp_dir(), "<tmp>", true);
    if let Ok(exe) = env::current_exe() {
        add(&exe, "<lockcheck>", false);
    }
    if let Ok(cwd) = env::current_dir() {
        if let Some(project) = Project::find(&cwd, TargetDir::CargoEnvOrUnderRoot) {
            add(&project.target, "<target>", false);
            add(&project.root, "<root>", false);
        }
        add(&cwd, "<cwd>", false);
    }
    if let Some(home) = env::var_os("HOME") {
        add(Path::new(&home), "<home>", false);
    }
    paths
}
