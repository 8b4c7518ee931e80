//! The range of every number a scenario file may give, in one table. The reader checks each
//! value against it, `docs/scenarios.md` lists it (a test keeps the two in step), and together
//! with the file-wide limits below it bounds what a file can make the runner spend: no count
//! allocates without bound and no step waits longer than a minute. (The size limit, for
//! manifests too, is `source::MAX_FILE_BYTES`.)

use crate::toml_read::Limit;

/// The most participants a scenario may declare, counting every member of every group.
pub const MAX_PARTICIPANTS: u64 = 100;

/// The most `[[steps]]` a scenario may have.
pub const MAX_STEPS: usize = 200;

const MS: &str = "milliseconds";
const US: &str = "microseconds";
const MINUTE_MS: f64 = 60_000.0;

const fn int(key: &'static str, min: u32, max: f64, unit: &'static str) -> Limit {
    Limit {
        key,
        min: min as f64,
        max,
        above: false,
        unit,
    }
}

const fn fraction(key: &'static str, max: f64) -> Limit {
    Limit {
        key,
        min: 0.0,
        max,
        above: true,
        unit: "",
    }
}

/// Every number a scenario may give, by key. A key means the same wherever it appears.
pub(crate) const LIMITS: &[Limit] = &[
    int("repeat", 1, 100.0, ""),
    int("recovery_slack_ms", 0, MINUTE_MS, MS),
    int("count", 1, MAX_PARTICIPANTS as f64, ""),
    int("timeout_ms", 0, MINUTE_MS, MS),
    int("min_ms", 0, MINUTE_MS, MS),
    int("within_ms", 0, MINUTE_MS, MS),
    int("threads", 2, 256.0, ""),
    int("hold_ms", 0, 10_000.0, MS),
    int("max_winners", 1, 256.0, ""),
    int("ms", 0, MINUTE_MS, MS),
    fraction("lease_factor", 10.0),
    fraction("recovery_factor", 10.0),
    int("rounds", 1, 1000.0, ""),
    int("jitter_us", 0, 1_000_000.0, US),
    int("duration_ms", 1, MINUTE_MS, MS),
    int("hold_us", 0, 1_000_000.0, US),
    fraction("window", 10.0),
];

/// The limit for `key`.
///
/// # Panics
///
/// If `key` has no entry in [`LIMITS`]: a reader that asks for one is a bug the tests catch.
pub(crate) fn limit(key: &str) -> &'static Limit {
    LIMITS
        .iter()
        .find(|l| l.key == key)
        .unwrap_or_else(|| panic!("no limit for `{key}`"))
}
