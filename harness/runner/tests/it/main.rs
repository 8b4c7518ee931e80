//! Runner tests: real processes, real signals. Adapters that misbehave are small `sh` scripts.

mod faults;
mod misbehaviour;
mod support;
