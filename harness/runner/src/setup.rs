//! One-time set-up of an implementation under test: run its manifest's `setup` commands
//! (create a venv, `npm install`, `cargo build`), once, and remember that they succeeded.
//!
//! State lives in `{setup_dir}/NAME/`: `setup.lock` (a reflock lock that serialises set-up
//! between processes, so that parallel test processes set up each implementation once),
//! `stamp` (the key of the last successful set-up), `failed` (the key and message of a recent
//! failure) and `setup.log` (the output of the last attempt). The key hashes the expanded
//! commands and every file of the project directories the commands name, so editing an
//! adapter's sources or its pinned versions re-runs the set-up.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use lockcheck_model::{Manifest, Placeholders};

use crate::fnv::Fnv;
use crate::spec::AdapterSpec;
use crate::sys;

/// How long one set-up command may run before it is killed.
const COMMAND_LIMIT: Duration = Duration::from_secs(20 * 60);
/// A failed set-up is reported again, without re-running, for this long: parallel test
/// processes of one implementation then share one attempt instead of each repeating it.
const FAILURE_REUSE: Duration = Duration::from_secs(10 * 60);
/// Lines of output quoted in a set-up error.
const TAIL_LINES: usize = 20;

/// Serialises set-up within this process; reflock refuses a second holder in one process
/// rather than blocking, and the file lock serialises between processes.
static IN_PROCESS: Mutex<()> = Mutex::new(());

/// Where set-up state is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareEnv {
    /// The directory holding one sub-directory of state per implementation.
    pub setup_dir: PathBuf,
}

impl PrepareEnv {
    /// State under `{target}/lockcheck-setup/`, where `target` is the cargo target directory
    /// (the manifests' `{target}`).
    pub fn under_target(target: &Path) -> PrepareEnv {
        PrepareEnv {
            setup_dir: target.join("lockcheck-setup"),
        }
    }
}

/// The outcome of [`prepare`].
#[derive(Debug)]
#[must_use]
pub enum Prepared {
    /// Set up (now or earlier): start participants with this.
    Ready(AdapterSpec),
    /// A toolchain the implementation needs is not installed (a set-up program or the adapter
    /// program is not on `PATH`). Report every scenario as skipped with this reason.
    Unavailable {
        /// What is missing, for the skip message.
        reason: String,
    },
    /// The set-up ran and failed. This is an error of the run, never a skip.
    Failed(SetupError),
}

/// A set-up that failed: which command, how, and the end of its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// The implementation's name.
    pub implementation: String,
    /// The command that failed, as a shell-like line (empty when no command was involved).
    pub command: String,
    /// What went wrong: `exited with status 1`, `was killed by signal 9`, ...
    pub problem: String,
    /// The last lines of the command's output.
    pub tail: Vec<String>,
    /// The full log of the attempt, when there is one.
    pub log: Option<PathBuf>,
    /// Seconds since the attempt, when this error was recorded by an earlier attempt.
    pub reused_after: Option<u64>,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "setup of `{}` failed: ", self.implementation)?;
        if self.command.is_empty() {
            write!(f, "{}", self.problem)?;
        } else {
            write!(f, "`{}` {}", self.command, self.problem)?;
        }
        if let Some(secs) = self.reused_after {
            write!(f, " (recorded {secs} s ago by another test process)")?;
        }
        if !self.tail.is_empty() {
            write!(f, "\n  last lines of output:")?;
            for line in &self.tail {
                write!(f, "\n    {line}")?;
            }
        }
        match &self.log {
            Some(log) => write!(
                f,
                "\n  help: the full output is in {}; fix the manifest's `setup`, then run again \
                 (a failure is retried after {} minutes, or at once when {} is deleted)",
                log.display(),
                FAILURE_REUSE.as_secs() / 60,
                log.with_file_name("failed").display(),
            ),
            None => write!(f, "\n  help: fix the manifest's `setup`, then run again"),
        }
    }
}

impl std::error::Error for SetupError {}

/// Runs `manifest`'s set-up if it has not yet succeeded with the same commands and sources,
/// and returns how to start its adapter.
///
/// Safe to call from many processes and threads at once: set-up is serialised with a reflock
/// lock in the implementation's state directory, and whoever comes second finds it done.
pub fn prepare(manifest: &Manifest, vars: &Placeholders, env: &PrepareEnv) -> Prepared {
    let command = manifest.expand(vars);
    let setup = manifest.expand_setup(vars);
    if !setup.is_empty() {
        let dir = env.setup_dir.join(&manifest.name);
        let key = setup_key(
            &manifest.name,
            &setup,
            &command,
            Path::new(&vars.root),
            Path::new(&vars.target),
        );
        match ensure(&manifest.name, &dir, &key, &setup) {
            Ok(()) => {}
            Err(Step::Unavailable(reason)) => return Prepared::Unavailable { reason },
            Err(Step::Failed(error)) => return Prepared::Failed(*error),
        }
    }
    match program_state(&command[0]) {
        ProgramState::Present(_) => {}
        ProgramState::NotOnPath => {
            return Prepared::Unavailable {
                reason: format!(
                    "`{}` is not installed (the adapter of `{}` needs it; not found on PATH)",
                    command[0], manifest.name
                ),
            };
        }
        ProgramState::Missing => {
            return Prepared::Failed(SetupError {
                implementation: manifest.name.clone(),
                command: String::new(),
                problem: format!(
                    "the adapter program {} does not exist{}",
                    command[0],
                    if setup.is_empty() {
                        ""
                    } else {
                        " after the set-up ran"
                    }
                ),
                tail: Vec::new(),
                log: None,
                reused_after: None,
            });
        }
        ProgramState::NotExecutable => {
            return Prepared::Failed(SetupError {
                implementation: manifest.name.clone(),
                command: String::new(),
                problem: format!(
                    "the adapter program {} is not an executable file (make it executable, \
                     or start it through its interpreter in `command`)",
                    command[0]
                ),
                tail: Vec::new(),
                log: None,
                reused_after: None,
            });
        }
    }
    Prepared::Ready(AdapterSpec {
        name: manifest.name.clone(),
        command,
        env: Vec::new(),
    })
}

enum Step {
    Unavailable(String),
    Failed(Box<SetupError>),
}

/// Holds the set-up lock, and runs the set-up unless the stamp says it is done.
fn ensure(name: &str, dir: &Path, key: &str, setup: &[Vec<String>]) -> Result<(), Step> {
    let plain = |problem: String| {
        Step::Failed(Box::new(SetupError {
            implementation: name.to_owned(),
            command: String::new(),
            problem,
            tail: Vec::new(),
            log: None,
            reused_after: None,
        }))
    };
    let _in_process = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    fs::create_dir_all(dir).map_err(|e| plain(format!("cannot create {}: {e}", dir.display())))?;
    let _guard = reflock::LockFile::new(dir.join("setup.lock"))
        .exclusive()
        .map_err(|e| plain(format!("cannot lock the set-up directory: {e}")))?;

    let stamp = dir.join("stamp");
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == key) {
        return Ok(());
    }
    let failed = dir.join("failed");
    if let Some(error) = recent_failure(&failed, key) {
        return Err(Step::Failed(Box::new(error)));
    }
    let _ = fs::remove_file(&stamp);
    let log = dir.join("setup.log");
    for argv in setup {
        match run_logged(argv, &log) {
            Ok(()) => {}
            Err(Outcome::NotInstalled(program)) => {
                return Err(Step::Unavailable(format!(
                    "`{program}` is not installed (the set-up of `{name}` runs `{}`; not found on \
                     PATH)",
                    shell_line(argv)
                )));
            }
            Err(Outcome::Failed(problem)) => {
                let error = SetupError {
                    implementation: name.to_owned(),
                    command: shell_line(argv),
                    problem,
                    tail: tail(&log),
                    log: Some(log.clone()),
                    reused_after: None,
                };
                let _ = fs::write(&failed, failure_record(key, &error));
                return Err(Step::Failed(Box::new(error)));
            }
        }
    }
    let _ = fs::remove_file(&failed);
    fs::write(&stamp, format!("{key}\n"))
        .map_err(|e| plain(format!("cannot write {}: {e}", stamp.display())))?;
    Ok(())
}

enum Outcome {
    /// A bare program name that is not on `PATH`.
    NotInstalled(String),
    /// Anything else; the text completes "`command` ...".
    Failed(String),
}

/// Runs one command with stdin closed and both output streams appended to `log`.
fn run_logged(argv: &[String], log: &Path) -> Result<(), Outcome> {
    let (program, args) = argv.split_first().expect("manifest commands are non-empty");
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| {
            Outcome::Failed(format!(
                "could not start: cannot open {}: {e}",
                log.display()
            ))
        })?;
    let err = out
        .try_clone()
        .map_err(|e| Outcome::Failed(format!("could not start: {e}")))?;
    let resolved = match program_state(program) {
        ProgramState::Present(path) => path,
        ProgramState::NotOnPath => return Err(Outcome::NotInstalled(program.clone())),
        // Left for the spawn to report.
        ProgramState::Missing | ProgramState::NotExecutable => PathBuf::from(program),
    };
    let mut cmd = Command::new(resolved);
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    sys::configure(&mut cmd);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !program.contains(['/', '\\']) => {
            return Err(Outcome::NotInstalled(program.clone()));
        }
        Err(e) => return Err(Outcome::Failed(format!("could not start: {e}"))),
    };
    let status = match sys::wait_exit(&mut child, Instant::now() + COMMAND_LIMIT) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = sys::kill_tree(child.id());
            let _ = child.wait();
            return Err(Outcome::Failed(format!(
                "did not finish within {} minutes and was killed",
                COMMAND_LIMIT.as_secs() / 60
            )));
        }
        Err(e) => return Err(Outcome::Failed(format!("could not be waited for: {e}"))),
    };
    // Whatever the command left running in its group (a build server, a stray daemon) goes.
    let _ = sys::kill_tree(child.id());
    if status.success() {
        Ok(())
    } else {
        Err(Outcome::Failed(describe_status(status)))
    }
}

fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match sys::exit_signal(&status) {
        Some(signal) => format!("was killed by signal {signal}"),
        None => format!("ended with {status}"),
    }
}

/// The last [`TAIL_LINES`] lines of the log (its last 64 KiB at most).
fn tail(log: &Path) -> Vec<String> {
    let mut bytes = Vec::new();
    if let Ok(mut file) = File::open(log) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
        let _ = file.read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

/// `failed`: the key on the first line, then the error's fields, one per line.
fn failure_record(key: &str, error: &SetupError) -> String {
    let mut out = format!("{key}\n{}\n{}\n", error.command, error.problem);
    for line in &error.tail {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The failure recorded for `key`, if it is recent enough to report again.
fn recent_failure(path: &Path, key: &str) -> Option<SetupError> {
    let age = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())?;
    if age > FAILURE_REUSE {
        return None;
    }
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()? != key {
        return None;
    }
    let command = lines.next()?.to_owned();
    let problem = lines.next()?.to_owned();
    Some(SetupError {
        implementation: path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        command,
        problem,
        tail: lines.map(str::to_owned).collect(),
        log: Some(path.with_file_name("setup.log")),
        reused_after: Some(age.as_secs()),
    })
}

enum ProgramState {
    /// Found, at this path.
    Present(PathBuf),
    /// A bare name that no `PATH` entry has.
    NotOnPath,
    /// A path that does not exist.
    Missing,
    /// A path that exists but cannot be executed: a directory, or a file without execute
    /// permission.
    NotExecutable,
}

/// Where `program` is: a path as given, a bare name searched on `PATH` (with `PATHEXT` on
/// Windows, so that `npm` finds `npm.cmd`).
fn program_state(program: &str) -> ProgramState {
    if program.contains(['/', '\\']) {
        return if !Path::new(program).exists() {
            ProgramState::Missing
        } else if which::which(program).is_err() {
            ProgramState::NotExecutable
        } else {
            ProgramState::Present(PathBuf::from(program))
        };
    }
    match which::which(program) {
        Ok(path) => ProgramState::Present(path),
        Err(_) => ProgramState::NotOnPath,
    }
}

/// A command as one line, quoting arguments that need it.
fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,{}".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The set-up key: a hash of the name, the expanded commands, and every file in each project
/// directory that holds a file or is a directory named by a set-up argument (so a crate's
/// `Cargo.toml` brings in its sources). What the set-up itself creates (anything under
/// `target`, and `target` or `node_modules` directories) is never read.
fn setup_key(
    name: &str,
    setup: &[Vec<String>],
    command: &[String],
    root: &Path,
    target: &Path,
) -> String {
    let mut hash = Fnv::new();
    hash.write(name.as_bytes());
    for argv in setup.iter().chain(std::iter::once(&command.to_vec())) {
        hash.write(b"\x01");
        for arg in argv {
            hash.write(arg.as_bytes());
            hash.write(b"\x00");
        }
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for arg in setup.iter().flatten() {
        let path = Path::new(arg);
        let generated = path.starts_with(target)
            || path
                .components()
                .any(|c| c.as_os_str() == "target" || c.as_os_str() == "node_modules");
        if generated || !path.is_absolute() || !path.starts_with(root) || path == root {
            continue;
        }
        let dir = if path.is_dir() {
            path.to_owned()
        } else if path.is_file() {
            match path.parent() {
                Some(parent) if parent != root => parent.to_owned(),
                _ => continue,
            }
        } else {
            continue;
        };
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        hash_tree(&mut hash, &dir, 0);
    }
    format!("{:016x}", hash.finish())
}

fn hash_tree(hash: &mut Fnv, dir: &Path, depth: u32) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str.starts_with('.') || name_str == "target" || name_str == "node_modules" {
            continue;
        }
        let path = entry.path();
        hash.write(name_str.as_bytes());
        if path.is_dir() && depth < 8 {
            hash_tree(hash, &path, depth + 1);
        } else if let Ok(bytes) = fs::read(&path) {
            hash.write(&bytes);
        }
    }
}

#[cfg(test)]
mod tests;
