//! The model crate's integration tests, in one binary.

mod bench;
mod capabilities;
mod check;
mod fuzz;
mod history_dsl;
mod input_bounds;
mod manifest;
mod props;
mod scenario_docs;
mod scenario_errors;
mod scenario_files;
mod scenario_parse;
mod support;
mod topology;
