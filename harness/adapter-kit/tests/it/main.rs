//! The adapter kit's behaviour tests, in one binary: requests in, response lines out, against
//! an in-memory lock (`support`), so that no test touches a lock syscall.

mod bench;
mod lock;
mod ops;
mod serve;
mod session;
mod support;
