//! Where a test finds a binary cargo built: at run time when nextest says, so that a nextest
//! archive built on one machine and run on another finds the binaries it extracted there.

use std::ffi::OsString;
use std::path::PathBuf;

/// The binary `name` of this workspace, for a test: nextest's `NEXTEST_BIN_EXE_<name>` (set
/// when the test runs; recent nextest also sets it with each `-` in the name
/// replaced by `_`, for shells that drop names with hyphens), else `compiled`, the path
/// `env!("CARGO_BIN_EXE_<name>")` gave when the test was compiled.
pub fn test_binary(name: &str, compiled: &str) -> PathBuf {
    resolve(name, compiled, |var| std::env::var_os(var))
}

fn resolve(name: &str, compiled: &str, var: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let underscored = name.replace('-', "_");
    [name, underscored.as_str()]
        .into_iter()
        .find_map(|n| var(&format!("NEXTEST_BIN_EXE_{n}")).filter(|v| !v.is_empty()))
        .map_or_else(|| PathBuf::from(compiled), PathBuf::from)
}

#[cfg(test)]
mod tests;
