//! The model crate's integration tests, in one binary.

mod manifest;
mod scenario_errors;
mod scenario_files;
mod scenario_parse;
