//! SIGINT and SIGTERM stop a run cleanly: the first raises the runner's [`Cancel`] flag (the
//! runner then kills the participants and starts no further scenario), a second one while
//! the run winds down exits at once (the watchdog still kills every participant).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use anyhow::Context;
use lockcheck_runner::Cancel;
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::exit::Exit;

/// The signals that stop a run, their names and the exit status each leaves.
const STOPS: [(i32, &str, Exit); 2] = [
    (SIGINT, "SIGINT", Exit::Interrupted),
    (SIGTERM, "SIGTERM", Exit::Terminated),
];

/// Installs the handlers and returns the flag they raise, with the signal's number as cause.
pub fn on_stop_signals() -> anyhow::Result<Cancel> {
    let cause = Arc::new(AtomicUsize::new(0));
    let stopping = Arc::new(AtomicBool::new(false));
    for (signal, name, exit) in STOPS {
        let install = || -> std::io::Result<()> {
            // In this order: a signal that finds the run already stopping exits.
            signal_hook::flag::register_conditional_shutdown(
                signal,
                exit as i32,
                stopping.clone(),
            )?;
            signal_hook::flag::register(signal, stopping.clone())?;
            signal_hook::flag::register_usize(signal, cause.clone(), signal as usize)?;
            Ok(())
        };
        install().with_context(|| format!("cannot handle {name}"))?;
    }
    Ok(Cancel::from_cause(cause))
}

/// The name of the signal that stopped the run and the exit status it leaves, if one did.
pub fn stopped_by(cancel: &Cancel) -> Option<(&'static str, Exit)> {
    let cause = cancel.cause()?;
    STOPS
        .into_iter()
        .find(|&(signal, ..)| signal as usize == cause)
        .map(|(_, name, exit)| (name, exit))
}
