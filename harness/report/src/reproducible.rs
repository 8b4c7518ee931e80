//! Reproducible output: a run with every time, duration and process id zeroed and the paths
//! that differ between machines and runs replaced by placeholders, so that two runs of the
//! same scenarios with the same seed render byte for byte the same in every format.

use lockcheck_model::RunResult;
use serde_json::Value;

/// Fields that hold a time, a duration or a process id, wherever they are in a run: their
/// values are zeroed. A new field of that kind belongs here.
const VARYING_FIELDS: &[&str] = &[
    "at_ns",
    "from_ns",
    "to_ns",
    "t_ns",
    "duration_ms",
    "measured_ms",
    "waited_ms",
    "pid",
    "blocked_pid",
];

/// A path that differs between machines or runs, and what stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPlaceholder {
    /// The path as it appears in the run's text, e.g. `/home/ci/lockcheck`.
    pub path: String,
    /// What replaces it, e.g. `<root>`.
    pub placeholder: String,
    /// Whether the rest of the path after it is replaced too: for a temporary directory,
    /// whose entries have random names.
    pub whole: bool,
}

impl PathPlaceholder {
    /// `path` becomes `placeholder`; what follows it in a longer path is kept.
    pub fn prefix(path: impl Into<String>, placeholder: impl Into<String>) -> PathPlaceholder {
        PathPlaceholder {
            path: path.into(),
            placeholder: placeholder.into(),
            whole: false,
        }
    }

    /// `path` and everything below it become `placeholder`.
    pub fn whole(path: impl Into<String>, placeholder: impl Into<String>) -> PathPlaceholder {
        PathPlaceholder {
            whole: true,
            ..PathPlaceholder::prefix(path, placeholder)
        }
    }
}

/// `run` with times, durations and pids zeroed and `paths` replaced in every string (the
/// longest path first, so that one inside another is replaced as itself). A finding's
/// summary is derived again from its zeroed fields.
pub fn reproducible(run: &RunResult, paths: &[PathPlaceholder]) -> RunResult {
    let mut paths: Vec<&PathPlaceholder> = paths.iter().filter(|p| !p.path.is_empty()).collect();
    paths.sort_by_key(|p| std::cmp::Reverse(p.path.len()));
    let Ok(mut value) = serde_json::to_value(run) else {
        return run.clone();
    };
    redact(&mut value, &paths);
    serde_json::from_value(value).unwrap_or_else(|_| run.clone())
}

fn redact(value: &mut Value, paths: &[&PathPlaceholder]) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if VARYING_FIELDS.contains(&key.as_str()) && field.is_number() {
                    *field = Value::from(0);
                } else {
                    redact(field, paths);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, paths)),
        Value::String(text) => *text = replace_paths(text, paths),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `text` with each path replaced; a whole path swallows what follows it up to the next
/// space, quote, backtick or punctuation that ends a path in a sentence.
fn replace_paths(text: &str, paths: &[&PathPlaceholder]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for p in paths {
            if let Some(after) = rest.strip_prefix(p.path.as_str()) {
                out.push_str(&p.placeholder);
                rest = if p.whole {
                    let end = after
                        .find(|c: char| c.is_whitespace() || "\"'`:,;)]}".contains(c))
                        .unwrap_or(after.len());
                    &after[end..]
                } else {
                    after
                };
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        out.extend(chars.next());
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests;
