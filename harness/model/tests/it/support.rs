//! The catalogue in `scenarios/`, as the tests read it.

use std::path::PathBuf;

use lockcheck_model::{Scenario, parse_scenario};

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios"))
}

/// Every `*.toml` file in `scenarios/`, sorted.
pub fn catalogue_files() -> Vec<PathBuf> {
    let dir = dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Every scenario of the catalogue, in file-name order.
pub fn catalogue() -> Vec<Scenario> {
    catalogue_files().iter().map(|path| read(path)).collect()
}

/// The catalogue's scenario `id` (from `scenarios/ID.toml`).
pub fn catalogue_scenario(id: &str) -> Scenario {
    read(&dir().join(format!("{id}.toml")))
}

fn read(path: &std::path::Path) -> Scenario {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_scenario(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"))
}
