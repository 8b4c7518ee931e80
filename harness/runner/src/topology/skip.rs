//! Why a topology cannot be set up on this machine (no privileges, not Linux, no FUSE): the
//! one place that says so.

use lockcheck_model::Topology;

use super::os;

/// Why the runner cannot set `topology` up here, or `None` when it can (or needs nothing).
pub(crate) fn unavailable(topology: &Topology) -> Option<String> {
    let lacking =
        os::missing_privilege().or_else(|| topology.fuse().then(os::missing_fuse).flatten());
    reason(&topology.privileged(), lacking)
}

/// The skip reason for a topology that needs `needs`, given what this runner lacks.
pub(crate) fn reason(needs: &[&str], lacking: Option<&str>) -> Option<String> {
    let lacking = lacking?;
    if needs.is_empty() {
        return None;
    }
    Some(format!(
        "the scenario needs {}, and {lacking}",
        join_and(needs)
    ))
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests;
