//! The project a run reads: its root (where `scenarios/` and `fixtures/impls/` are), the cargo
//! target directory (`{target}`), the manifests' placeholders, the built-in reflock adapter,
//! and loading scenarios, manifests and expectations from disk. Shared by `lockcheck run`,
//! `lockcheck matrix`, the conformance gate and the mutant zoo.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use lockcheck_model::{Expectations, MAX_FILE_BYTES, Manifest, Placeholders, Scenario};
use lockcheck_runner::{AdapterSpec, PrepareEnv};

/// Where `{target}` points, chosen by each caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetDir {
    /// `{root}/target`.
    UnderRoot,
    /// `$CARGO_TARGET_DIR` when it is set, else `{root}/target`.
    CargoEnvOrUnderRoot,
    /// This directory.
    At(PathBuf),
}

/// A lockcheck project: the repository, or any directory laid out like it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// `{root}`.
    pub root: PathBuf,
    /// `{target}`.
    pub target: PathBuf,
}

impl Project {
    /// The project rooted at `root`.
    pub fn at(root: PathBuf, target: TargetDir) -> Project {
        let target = match target {
            TargetDir::UnderRoot => root.join("target"),
            TargetDir::CargoEnvOrUnderRoot => std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target")),
            TargetDir::At(dir) => dir,
        };
        Project { root, target }
    }

    /// The project whose root is the nearest ancestor of `start` (itself included) that has
    /// `fixtures/impls/`.
    pub fn find(start: &Path, target: TargetDir) -> Option<Project> {
        start
            .ancestors()
            .find(|d| d.join("fixtures/impls").is_dir())
            .map(|root| Project::at(root.to_owned(), target))
    }

    /// [`Project::find`] from `dir`, the working directory of a command that needs the
    /// project, or an error that says so.
    pub fn containing(dir: &Path, target: TargetDir) -> anyhow::Result<Project> {
        Project::find(dir, target).ok_or_else(|| {
            anyhow::anyhow!(
                "no fixtures/impls/ in {} or above it\n  help: run `lockcheck matrix` inside the lockcheck repository",
                dir.display()
            )
        })
    }

    /// The placeholders a manifest's commands expand with.
    pub fn placeholders(&self, lockcheck: &Path) -> Placeholders {
        Placeholders {
            lockcheck: lockcheck.display().to_string(),
            root: self.root.display().to_string(),
            target: self.target.display().to_string(),
        }
    }

    /// Where manifests' set-up state is kept: under `{target}`.
    pub fn prepare_env(&self) -> PrepareEnv {
        PrepareEnv::under_target(&self.target)
    }

    /// `path` for messages and replay lines: relative to the root when it is inside it.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Every `*.toml` in `fixtures/impls/`, sorted.
    pub fn manifest_paths(&self) -> anyhow::Result<Vec<PathBuf>> {
        let dir = self.root.join("fixtures/impls");
        toml_files(&dir).with_context(|| format!("cannot read {}", dir.display()))
    }

    /// The manifest at `path`, named relative to the root in messages.
    pub fn manifest(&self, path: &Path) -> anyhow::Result<Manifest> {
        read_manifest(path, &self.relative(path))
    }

    /// The expectations file `manifest` names, read from the root; none when it names none
    /// or the file does not exist yet.
    pub fn expectations(&self, manifest: &Manifest) -> anyhow::Result<Expectations> {
        let Some(file) = &manifest.expectations else {
            return Ok(Expectations::default());
        };
        let path = self.root.join(file);
        match fs::read_to_string(&path) {
            Ok(text) => {
                lockcheck_model::parse_expectations(file, &text).map_err(|e| anyhow::anyhow!("{e}"))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Expectations::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The catalogue in `scenarios/`, named relative to the root in messages.
    pub fn scenarios(&self) -> anyhow::Result<Vec<Scenario>> {
        let files = scenario_files(&[self.root.join("scenarios")])?;
        parse_catalogue(read_all(&files, |path| self.relative(path))?)
    }
}

/// The built-in implementation: the lockcheck binary's own `adapter` subcommand (reflock).
pub fn reflock_spec(lockcheck: &Path) -> AdapterSpec {
    AdapterSpec {
        name: "reflock".to_owned(),
        command: vec![lockcheck.display().to_string(), "adapter".to_owned()],
        env: Vec::new(),
    }
}

/// The built-in implementation in strict mode: `lockcheck adapter --strict`.
pub fn reflock_strict_spec(lockcheck: &Path) -> AdapterSpec {
    AdapterSpec {
        name: "reflock-strict".to_owned(),
        command: vec![
            lockcheck.display().to_string(),
            "adapter".to_owned(),
            "--strict".to_owned(),
        ],
        env: Vec::new(),
    }
}

/// The built-in reflock's known failures, built into the binary so that they hold wherever
/// it runs: `fixtures/expectations/reflock.toml`; none in strict mode.
pub fn builtin_expectations(strict: bool) -> Expectations {
    const FILE: &str = "fixtures/expectations/reflock.toml";
    if strict {
        return Expectations::default();
    }
    let text = include_str!("../../../fixtures/expectations/reflock.toml");
    lockcheck_model::parse_expectations(FILE, text).expect("the built-in expectations parse")
}

/// The manifest at `path`, named `name` in messages.
pub fn read_manifest(path: &Path, name: &str) -> anyhow::Result<Manifest> {
    let text = read_text(path, name).with_context(|| format!("cannot read manifest {name}"))?;
    lockcheck_model::parse_manifest(name, &text).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The text of the scenario or manifest file at `path`, named `name` in messages: at most
/// one byte past [`MAX_FILE_BYTES`] is read, and text that is not UTF-8 is an error at the bad
/// byte.
pub fn read_text(path: &Path, name: &str) -> anyhow::Result<String> {
    let bytes = read_bytes(path)?;
    lockcheck_model::decode(name, &bytes)
        .map(str::to_owned)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The contents of `path`, up to one byte past [`MAX_FILE_BYTES`]: enough for the readers to
/// refuse a file that is too large without reading all of it.
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Every scenario file under `dir` and its subdirectories, sorted by level then id; every
/// bad file is reported, not only the first.
pub fn load_scenarios(dir: &Path) -> anyhow::Result<Vec<Scenario>> {
    let files = scenario_files(std::slice::from_ref(&dir.to_owned()))?;
    let texts = read_all(&files, |path| path.display().to_string())?;
    parse_catalogue(texts)
}

/// Parses scenario text; the model's message already names file:line:col and shows the line.
pub fn parse_scenario(name: &str, text: &str) -> anyhow::Result<Scenario> {
    lockcheck_model::parse_scenario(name, text).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Every `*.toml` file in `dir` (not its subdirectories), sorted.
pub fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") && !path.is_dir() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The scenario files `paths` name: a file as it is (whatever its extension), a directory as
/// every `*.toml` in it and its subdirectories, in sorted order. A directory with none is an
/// error, as is a path that does not exist.
pub fn scenario_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path)
            .with_context(|| format!("cannot read scenarios at {}", path.display()))?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let before = files.len();
        walk(path, &mut files)
            .with_context(|| format!("cannot read scenario directory {}", path.display()))?;
        if files.len() == before {
            anyhow::bail!(
                "no scenario files (*.toml) in {} or its subdirectories",
                path.display()
            );
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// The contents of every file of `files`, each with its name for messages.
pub fn read_all(
    files: &[PathBuf],
    name: impl Fn(&Path) -> String,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    files
        .iter()
        .map(|path| {
            let name = name(path);
            read_bytes(path)
                .with_context(|| format!("cannot read {name}"))
                .map(|bytes| (name, bytes))
        })
        .collect()
}

/// A catalogue from (name, contents) pairs, sorted by level then id: one error that shows
/// every bad file and every id used twice, or the scenarios.
pub fn parse_catalogue(files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Vec<Scenario>> {
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_slice()))
        .collect();
    let (mut scenarios, errors) = lockcheck_model::parse_catalogue(&refs);
    match errors.len() {
        0 => {}
        1 => anyhow::bail!("{}", errors[0]),
        n => {
            let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::bail!("{n} scenario files cannot be used:\n\n{}", all.join("\n\n"));
        }
    }
    scenarios.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
    Ok(scenarios)
}
