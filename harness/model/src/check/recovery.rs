//! Recovery as measured against recovery as declared: a `measure_recovery` wait times how
//! long a crashed holder's lock really took to become free, and a lock that recovers later
//! than its hello says is judged by what it does, not by what it declares.

use lockcheck_protocol::{Recovery, Status};

use super::{Checker, Findings};
use crate::history::{Event, EventKind, Fault};
use crate::scenario::{Action, Scenario, WaitSpec};
use crate::verdict::FindingKind;

/// How long one crashed holder's lock took to become free, as an iteration measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasuredRecovery {
    /// The step whose `measure_recovery` wait got the lock.
    pub step: u32,
    /// The killed holder's exit, as the runner saw it (or the kill, if no exit was seen):
    /// an event index.
    pub kill: usize,
    /// The `ok` that ended the wait (an event index).
    pub granted: usize,
    /// From the holder's death to the `ok`, in nanoseconds.
    pub ns: u64,
}

impl MeasuredRecovery {
    /// The measurement in whole milliseconds, rounded up.
    pub fn ms(&self) -> u64 {
        self.ns.div_ceil(1_000_000)
    }
}

/// The first recovery `events` measured: a `measure_recovery` step's `ok`, timed from the
/// death of the holder last killed before its request. `None` when no such wait was granted (yet). The runner
/// calls this on the events so far, to pause for a multiple of it; the checker on the whole
/// history, to compare it with what the implementation declares.
pub fn measured_recovery(scenario: &Scenario, events: &[Event]) -> Option<MeasuredRecovery> {
    let measures = |step: Option<u32>| {
        step.and_then(|s| scenario.steps.get(s as usize))
            .is_some_and(|s| {
                matches!(
                    s.action,
                    Action::Acquire {
                        wait: WaitSpec::MeasureRecovery { .. },
                        ..
                    }
                )
            })
    };
    // The killed holder's death: its exit once the runner saw it, else the kill itself.
    let mut killed: Option<(&str, usize)> = None;
    let mut kill = None;
    let mut waiting: Vec<(&str, u64, usize)> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        match &event.kind {
            EventKind::Fault {
                participant,
                fault: Fault::Kill,
            } => {
                killed = participant.as_deref().map(|p| (p, i));
                kill = Some(i);
            }
            EventKind::Exited { participant, .. }
                if killed.is_some_and(|(p, _)| p == participant) =>
            {
                killed = None;
                kill = Some(i);
            }
            EventKind::Sent {
                participant,
                request,
            } if measures(event.step) => {
                if let Some(k) = kill {
                    waiting.push((participant, request.id, k));
                }
            }
            EventKind::Received {
                participant,
                response,
            } => {
                let Some(at) = waiting
                    .iter()
                    .position(|&(p, id, _)| p == participant && id == response.id)
                else {
                    continue;
                };
                let (_, _, k) = waiting.swap_remove(at);
                if response.status == Status::Ok {
                    return Some(MeasuredRecovery {
                        step: event.step?,
                        kill: k,
                        granted: i,
                        ns: event.at_ns.saturating_sub(events[k].at_ns),
                    });
                }
            }
            _ => {}
        }
    }
    None
}

impl Checker<'_, '_> {
    /// A lock that recovered from a crash later than it declares, by more than the
    /// scenario's slack: every pause and wait sized by its declaration is too short.
    pub(super) fn recovery(&self, findings: &mut Findings) {
        let Some(measured) = measured_recovery(self.scenario, self.events) else {
            return;
        };
        let Some(declared) = self.events.iter().find_map(|e| match &e.kind {
            EventKind::Hello { hello, .. } => Some(hello.recovery),
            _ => None,
        }) else {
            return;
        };
        let declared_ms = match declared {
            Recovery::Kernel | Recovery::StalePid => 0,
            Recovery::Lease { ms } => ms,
            // Never recovering is crash-holder's business; a measured recovery beats it.
            Recovery::None => return,
        };
        if measured.ms() > declared_ms.saturating_add(self.scenario.recovery_slack_ms) {
            findings.push(
                FindingKind::Recovery {
                    declared,
                    measured_ms: measured.ms(),
                },
                Some(measured.step),
                vec![measured.kill, measured.granted],
            );
        }
    }
}
