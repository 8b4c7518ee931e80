//! The model crate's integration tests, in one binary.

mod scenario_errors;
mod scenario_files;
mod scenario_parse;
