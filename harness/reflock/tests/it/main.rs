//! reflock's integration tests: one binary, with real files, real processes and real signals.
//! Other processes are this test binary itself, re-executed in a helper role (see `helper`).

mod files;
mod helper;
mod kept_handle;
mod messages;
mod process;
mod same_process;
