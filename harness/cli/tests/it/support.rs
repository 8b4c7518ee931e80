//! Running the binary and redacting what varies between runs.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `lockcheck` binary, found at run time under nextest (see [`lockcheck::test_binary`]).
pub fn lockcheck_exe() -> PathBuf {
    lockcheck::test_binary("lockcheck", env!("CARGO_BIN_EXE_lockcheck"))
}

/// `lockcheck` with colour off and a clean environment for the options it reads.
pub fn lockcheck() -> Command {
    let mut cmd = Command::new(lockcheck_exe());
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Redacts durations, pids, temp paths and the version, so snapshots are stable.
#[macro_export]
macro_rules! assert_redacted_snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r" *\+\d+\.\d+ms", " +<time>"),
            (r" +\d+(\.\d+)? ?ms\b", " <duration>"),
            (r"(/tmp|/var/folders)/[^\s:`'\x22]+", "<tmp>"),
            (r"\bpid \d+", "pid <pid>"),
            (r#""pid":\d+"#, r#""pid":<pid>"#),
            (r"lockcheck \d+\.\d+\.\d+", "lockcheck <version>"),
            (r"(reflock(-strict)?) \d+\.\d+\.\d+", "$1 <version>"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp dir is writable");
    path
}

/// A manifest for a shell adapter that grants every acquire: a lock that locks nothing.
pub fn noop_manifest(dir: &Path) -> std::path::PathBuf {
    let script = r#"echo '{"type":"hello","protocol":1,"implementation":{"name":"noop","version":"0","language":"sh"},"capabilities":["exclusive","try","block","timeout"],"recovery":{"kind":"kernel"}}'
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed 's/.*"id":\([0-9]*\).*/\1/')
  echo "{\"type\":\"response\",\"id\":$id,\"status\":\"ok\"}"
done"#;
    let manifest = format!(
        "name = \"noop\"\ncommand = [\"sh\", \"-c\", {}]\n",
        toml_string(script)
    );
    write(dir, "noop.toml", &manifest)
}

fn toml_string(s: &str) -> String {
    format!("'''\n{s}'''")
}

/// A scenario file under `dir`, named after its id, with `extra` lines at the top.
pub fn scenario_file(dir: &Path, rel: &str, extra: &str) -> std::path::PathBuf {
    let id = Path::new(rel).file_stem().unwrap().to_str().unwrap();
    if let Some(parent) = Path::new(rel).parent() {
        std::fs::create_dir_all(dir.join(parent)).unwrap();
    }
    write(
        dir,
        rel,
        &format!(
            "{extra}id = \"{id}\"\nlevel = \"core\"\ndescription = \"x\"\ncatches = \"y\"\nrequires = [\"exclusive\", \"try\"]\n\n[[participants]]\nname = \"a\"\n\n[[steps]]\nwho = \"a\"\ndo = \"acquire\"\n"
        ),
    )
}

/// Whether this test runs as root: where cgroup v2 containment must be in force (this
/// machine, CI). Elsewhere the runner may fall back to process groups, and a cgroup test says
/// it was skipped.
#[cfg(target_os = "linux")]
pub fn runs_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .any(|l| l.split_whitespace().take(3).eq(["Uid:", "0", "0"]))
    })
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
