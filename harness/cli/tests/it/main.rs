//! CLI tests: the real `lockcheck` binary, real adapters, real processes.

mod cleanup;
mod errors;
mod run;
mod support;
