//! `lockcheck adapter`: reflock behind the adapter protocol. This is the built-in
//! implementation that `lockcheck run` tests when no `--impl` is given. The protocol loop is
//! `lockcheck-adapter-kit`'s; this file maps reflock onto its [`Lock`]. With `--strict` it
//! serves reflock in strict mode; with `--floor` reflock's floor, the bare OS lock the
//! benchmark compares with.

use lockcheck_adapter_kit::{Lock, Outcome, Wait};
use lockcheck_protocol::{
    Capability, ErrorKind, Hello, HolderInfo, Implementation, Mode, PROTOCOL_VERSION, Recovery,
};
use reflock::floor::{FloorGuard, FloorLock};
use reflock::{Access, LockFile, LockGuard};

use crate::cli::AdapterArgs;

/// The implementation name the floor introduces itself with.
pub const FLOOR_NAME: &str = "os-floor";

/// Serves the protocol on stdin/stdout until `exit` or end of input.
pub fn serve(args: &AdapterArgs) -> anyhow::Result<()> {
    const OUTSIDE_A_RUN: &str = "`lockcheck adapter` is started by `lockcheck run`";
    let (_, mut session) = if args.floor {
        lockcheck_adapter_kit::serve_env(floor_hello(), OUTSIDE_A_RUN, |path| {
            Ok(Box::new(Floor {
                lock: FloorLock::new(path),
                guard: None,
            }))
        })?
    } else {
        lockcheck_adapter_kit::serve_env(hello(args.strict), OUTSIDE_A_RUN, |path| {
            Ok(Box::new(Reflock {
                file: LockFile::new(path).strict(args.strict),
                guard: None,
            }))
        })?
    };
    // Children started by `spawn_child` are the scenario's to judge; they are left running
    // and the runner reaps the process group.
    session.release_all();
    Ok(())
}

fn hello(strict: bool) -> Hello {
    let name = if strict { "reflock-strict" } else { "reflock" };
    Hello {
        protocol: PROTOCOL_VERSION,
        implementation: Implementation {
            name: name.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            language: "rust".to_owned(),
        },
        capabilities: Capability::ALL.to_vec(),
        recovery: Recovery::Kernel,
        timed_start: true,
    }
}

fn floor_hello() -> Hello {
    let primitive = if cfg!(windows) { "LockFileEx" } else { "flock" };
    Hello {
        protocol: PROTOCOL_VERSION,
        implementation: Implementation {
            name: FLOOR_NAME.to_owned(),
            version: primitive.to_owned(),
            language: "rust".to_owned(),
        },
        capabilities: vec![Capability::Exclusive, Capability::Block, Capability::Bench],
        recovery: Recovery::Kernel,
        timed_start: true,
    }
}

/// The floor: open + blocking lock on acquire, unlock + close on release.
struct Floor {
    lock: FloorLock,
    guard: Option<FloorGuard>,
}

impl Lock for Floor {
    fn acquire(&mut self, mode: Mode, wait: Wait) -> Outcome {
        if (mode, wait) != (Mode::Exclusive, Wait::Block) {
            return Outcome::Failed(
                ErrorKind::Unsupported,
                "the floor only takes the lock exclusively, waiting".to_owned(),
            );
        }
        match self.lock.lock() {
            Ok(guard) => {
                self.guard = Some(guard);
                Outcome::Ok
            }
            Err(e) => Outcome::from_io(&e),
        }
    }

    fn release(&mut self) -> Outcome {
        match self.guard.take().map(FloorGuard::release) {
            Some(Ok(())) => Outcome::Ok,
            Some(Err(e)) => Outcome::from_io(&e),
            None => Outcome::Failed(ErrorKind::NotHeld, "the lock is not held".to_owned()),
        }
    }

    fn fresh(&self) -> Box<dyn Lock> {
        Box::new(Floor {
            lock: self.lock.clone(),
            guard: None,
        })
    }
}

/// A reflock `LockFile` and the guard of the lock it holds.
struct Reflock {
    file: LockFile,
    guard: Option<LockGuard>,
}

impl Lock for Reflock {
    fn acquire(&mut self, mode: Mode, wait: Wait) -> Outcome {
        let wait = match wait {
            Wait::Try => reflock::Wait::Try,
            Wait::Block => reflock::Wait::Block,
            Wait::Timeout(limit) => reflock::Wait::Timeout(limit),
        };
        let access = match mode {
            Mode::Exclusive => Access::Exclusive,
            Mode::Shared => Access::Shared,
        };
        match self.file.acquire(access, wait) {
            Ok(guard) => {
                self.guard = Some(guard);
                Outcome::Ok
            }
            Err(e) => failure(&e),
        }
    }

    fn release(&mut self) -> Outcome {
        match self.guard.take() {
            Some(guard) => match guard.release() {
                Ok(()) => Outcome::Ok,
                Err(e) => failure(&e),
            },
            None => Outcome::Failed(ErrorKind::NotHeld, "the lock is not held".to_owned()),
        }
    }

    fn token(&self) -> Option<u64> {
        // A token that cannot be counted (a full disk) is left out of the answer: the lock is
        // held all the same.
        self.guard.as_ref().and_then(|guard| guard.token().ok())
    }

    fn holder(&mut self) -> Result<Option<HolderInfo>, Outcome> {
        match self.file.holder() {
            // A pid from another PID namespace names another process here, or none.
            Ok(holder) => Ok(holder.map(|h| match h.in_another_pid_namespace() {
                true => HolderInfo {
                    pid: None,
                    host: Some(h.host().to_owned()),
                    detail: Some(format!(
                        "held by a process in another PID namespace (pid {} there): {}",
                        h.pid(),
                        h.command()
                    )),
                },
                false => HolderInfo {
                    pid: Some(h.pid()),
                    host: Some(h.host().to_owned()),
                    detail: Some(h.command().to_owned()),
                },
            })),
            Err(e) => Err(failure(&e)),
        }
    }

    fn fresh(&self) -> Box<dyn Lock> {
        Box::new(Reflock {
            file: self.file.clone(),
            guard: None,
        })
    }
}

/// Maps a reflock error onto the protocol's outcomes.
fn failure(error: &reflock::Error) -> Outcome {
    let kind = match error.kind() {
        reflock::ErrorKind::Contended => return Outcome::Busy(Some(error.to_string())),
        reflock::ErrorKind::TimedOut => return Outcome::TimedOut(Some(error.to_string())),
        reflock::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        reflock::ErrorKind::MissingDirectory => ErrorKind::MissingDirectory,
        reflock::ErrorKind::NotRegularFile => ErrorKind::NotRegularFile,
        // Strict mode's refusal: no lock is possible here, as with no lock support at all.
        reflock::ErrorKind::Unsupported | reflock::ErrorKind::ClientLocal => ErrorKind::Unsupported,
        reflock::ErrorKind::HeldByThisProcess => ErrorKind::AlreadyHeldByThisProcess,
        _ => ErrorKind::Io,
    };
    Outcome::Failed(kind, error.to_string())
}
