//! Runner tests: real processes, real signals. Adapters that misbehave are small `sh` scripts.
//! Unix only: the adapters are `sh` scripts and the faults are signals.

#![cfg(unix)]

mod adapter_check;
mod cancel;
mod containment;
mod faults;
mod misbehaviour;
mod support;
mod topology;
mod waits;
