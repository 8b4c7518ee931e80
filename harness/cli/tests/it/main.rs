//! CLI tests: the real `lockcheck` binary, real adapters, real processes.
//! Unix only: the fixtures are `sh` adapters and the cleanup test reads /proc.

#![cfg(unix)]

mod adapter_check;
mod bench;
mod browser;
mod catalogue;
mod cleanup;
mod errors;
mod html;
mod run;
mod support;
mod workflow;
