//! Transcript excerpts: history events rendered one per line, for every format.

use lockcheck_model::{Event, EventKind, Fault, History, Observation};

/// Longest payload (request, response, stderr line) shown in one transcript line, in bytes.
const MAX_PAYLOAD_BYTES: usize = 200;

/// Renders the events of `history` at the indices `events`, in the given order, one line each:
/// the time since the iteration started, the participant, then what happened, for example
/// `+12.345ms  b <- {"id":3,"status":"ok"}`. `->` is a request the runner sent, `<-` a message
/// it received. An index outside the history renders as a line saying so.
pub fn transcript(history: &History, events: &[usize]) -> Vec<String> {
    let rows: Vec<(String, String, String)> = events
        .iter()
        .map(|&index| match history.events.get(index) {
            Some(event) => {
                let (who, what) = describe(event);
                (offset(event.at_ns), who, what)
            }
            None => (
                String::new(),
                String::new(),
                format!(
                    "(event #{index} is not in the history, which has {})",
                    history.events.len()
                ),
            ),
        })
        .collect();
    let time_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let who_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    rows.into_iter()
        .map(|(time, who, what)| {
            if time.is_empty() {
                return what;
            }
            let line = format!("{time:>time_width$}  {who:<who_width$} {what}");
            line.trim_end().to_owned()
        })
        .collect()
}

/// `+12.345ms`: a time since the iteration started.
pub(crate) fn offset(ns: u64) -> String {
    format!("+{}ms", millis(ns))
}

/// `12.345`: nanoseconds as milliseconds with three decimals.
pub(crate) fn millis(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000_000, (ns / 1_000) % 1_000)
}

/// Who an event is about (may be empty) and what happened.
fn describe(event: &Event) -> (String, String) {
    match &event.kind {
        EventKind::Spawned { participant, pid } => {
            (participant.clone(), format!("spawned (pid {pid})"))
        }
        EventKind::Hello { participant, hello } => {
            let i = &hello.implementation;
            (
                participant.clone(),
                format!(
                    "<- hello: {} {} ({}), protocol {}",
                    i.name, i.version, i.language, hello.protocol
                ),
            )
        }
        EventKind::Sent {
            participant,
            request,
        } => (participant.clone(), format!("-> {}", json(request))),
        EventKind::Received {
            participant,
            response,
        } => {
            // The adapter's own clock is noise next to the runner's.
            let mut response = response.clone();
            response.t_ns = None;
            (participant.clone(), format!("<- {}", json(&response)))
        }
        EventKind::Fault { participant, fault } => (
            participant.clone().unwrap_or_default(),
            format!("!! {}", fault_text(fault)),
        ),
        EventKind::Exited {
            participant,
            code,
            signal,
        } => (
            participant.clone(),
            format!("exited{}", exit_text(*code, *signal)),
        ),
        EventKind::Stderr { participant, line } => {
            (participant.clone(), format!("stderr: {}", truncate(line)))
        }
        EventKind::Observed { observation } => (String::new(), observation_text(observation)),
        EventKind::Broken {
            participant,
            reason,
        } => (
            participant.clone().unwrap_or_default(),
            format!("broken: {reason}"),
        ),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string(value) {
        Ok(text) => truncate(&text),
        Err(e) => format!("(unprintable: {e})"),
    }
}

fn truncate(text: &str) -> String {
    let head = lockcheck_protocol::head(text, MAX_PAYLOAD_BYTES);
    if head.len() < text.len() {
        format!("{head}…")
    } else {
        text.to_owned()
    }
}

fn exit_text(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(code), _) => format!(" (code {code})"),
        (None, Some(signal)) => format!(" (signal {signal})"),
        (None, None) => String::new(),
    }
}

fn fault_text(fault: &Fault) -> String {
    match fault {
        Fault::Kill => "kill".to_owned(),
        Fault::Stop => "stop".to_owned(),
        Fault::Cont => "continue".to_owned(),
        Fault::Term => "terminate".to_owned(),
        Fault::Plant { detail } => format!("planted lock file: {detail}"),
        Fault::Symlink => "lock path replaced by a symlink to the victim".to_owned(),
        Fault::Unlink => "lock file unlinked".to_owned(),
        Fault::ChmodDir { mode } => format!("lock directory mode set to {mode:o}"),
        Fault::RemoveDir => "lock directory removed".to_owned(),
    }
}

fn observation_text(observation: &Observation) -> String {
    match observation {
        Observation::Victim {
            unchanged: true, ..
        } => "victim file unchanged".to_owned(),
        Observation::Victim {
            unchanged: false,
            detail,
        } => match detail {
            Some(detail) => format!("victim file changed: {detail}"),
            None => "victim file changed".to_owned(),
        },
        Observation::LockPath {
            file_type,
            mode: Some(mode),
        } => format!("lock path: {file_type}, mode {mode:04o}"),
        Observation::LockPath {
            file_type,
            mode: None,
        } => format!("lock path: {file_type}"),
        Observation::Leftovers { paths } if paths.is_empty() => "nothing left behind".to_owned(),
        Observation::Leftovers { paths } => format!("left behind: {}", paths.join(", ")),
        Observation::OpenBy { processes } if processes.is_empty() => {
            "lock file open in no process any more".to_owned()
        }
        Observation::OpenBy { processes } => {
            let list: Vec<String> = processes
                .iter()
                .map(|p| match p.command.as_str() {
                    "" => format!("pid {}", p.pid),
                    command => format!("pid {} ({command})", p.pid),
                })
                .collect();
            format!("lock file open in {}", list.join(", "))
        }
        Observation::Waiting {
            participant,
            blocked_pid: Some(pid),
            ..
        } => format!("{participant} waits: pid {pid} is blocked on the lock file"),
        Observation::Waiting {
            participant,
            blocked_pid: None,
            waited_ms,
        } => format!(
            "{participant} presumed waiting after {waited_ms} ms (no blocked waiter listed)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use lockcheck_model::OpenProcess;

    use super::*;

    #[test]
    fn open_by_names_each_process_or_says_none_had_it() {
        let processes = vec![
            OpenProcess {
                pid: 41,
                command: "sleep".to_owned(),
            },
            OpenProcess {
                pid: 42,
                command: String::new(),
            },
        ];
        assert_eq!(
            observation_text(&Observation::OpenBy { processes }),
            "lock file open in pid 41 (sleep), pid 42"
        );
        assert_eq!(
            observation_text(&Observation::OpenBy { processes: vec![] }),
            "lock file open in no process any more"
        );
    }
}
