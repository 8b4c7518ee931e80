//! The adapter side of the lockcheck protocol, written once for every Rust adapter: reflock's
//! (`lockcheck adapter`), the mutants' and the Rust peers'.
//!
//! An adapter supplies a [`Lock`] for the lock path and a [`Hello`](lockcheck_protocol::Hello);
//! [`serve_env`] does the rest: the lock path from the environment, the `hello` line, reading
//! and parsing requests, answering bad lines, the already-held / not-held bookkeeping, the ops
//! that need no lock logic (`spawn_child`, `touch_fd`, `thread_race`, `bench`, `exit`) and the
//! `t_ns` of every response. [`serve`] is the same loop on a [`Session`] and streams of one's
//! own.
//!
//! For the lock side, [`Outcome::from_io`] reads an I/O error the way every adapter here
//! does, and [`poll`] gives locks that can only try their blocking and timed waits.
//!
//! This crate holds no lock logic and calls no lock syscalls: every lock operation goes
//! through the adapter's [`Lock`].

mod bench;
mod lock;
mod ops;
mod serve;
mod session;

pub use lock::{Lock, Outcome, Wait, poll};
pub use serve::{Ended, serve, serve_env, serve_stdio};
pub use session::Session;
