//! The synchronisation primitives the in-process state uses: std's normally, loom's when the
//! crate is built with `--cfg loom` so that the models in `registry/tests.rs` can explore every
//! interleaving.

#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};
