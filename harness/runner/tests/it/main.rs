//! Runner tests: real processes, real signals. Adapters that misbehave are small `sh` scripts.

mod misbehaviour;
mod support;
