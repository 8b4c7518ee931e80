//! Environment variables the runner sets for every adapter process.

/// Absolute path of the lock file every participant of a scenario shares.
pub const ENV_LOCK_PATH: &str = "LOCKCHECK_LOCK_PATH";
/// The participant's name within the scenario, for example `a` or `c.17`.
pub const ENV_PARTICIPANT: &str = "LOCKCHECK_PARTICIPANT";
/// The protocol version the runner speaks (`1`).
pub const ENV_PROTOCOL: &str = "LOCKCHECK_PROTOCOL";
/// The scenario's seed, for adapters that randomise anything (most do not).
pub const ENV_SEED: &str = "LOCKCHECK_SEED";
