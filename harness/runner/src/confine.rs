//! What a scenario changes about its participants' processes beyond the protocol's
//! environment: the umask they start with, and the privileges they run with.
//!
//! Root ignores permission bits, so a scenario about an unwritable directory proves nothing
//! when its participants run as root. Such a scenario asks for `unprivileged = true`:
//! - on Linux, a root runner starts its participants as root without the capabilities that
//!   bypass permission bits (`CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`, `CAP_FOWNER`,
//!   capabilities(7)), so the owner bits of the runner's directories apply to them, while
//!   adapters installed under root's private home still start;
//! - on other Unixes, a root runner starts them as `nobody` (uid and gid 65534);
//! - a runner that is not root starts them as itself, where permission bits already apply.

use std::process::Command;

use lockcheck_model::Scenario;

/// How participants are stripped of the power to ignore permission bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Privileges {
    /// As the runner.
    #[default]
    Inherit,
    /// As root, without the file-permission capabilities (Linux).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    WithoutDacCapabilities,
    /// As this (uid, gid), with no supplementary groups. Linux never needs it.
    #[cfg_attr(any(target_os = "linux", windows), allow(dead_code))]
    User(u32, u32),
}

/// Per-scenario settings for the participants' processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Confine {
    /// The umask to start with; `None` inherits the runner's.
    pub umask: Option<u32>,
    /// How the participants' privileges are reduced.
    pub privileges: Privileges,
}

impl Confine {
    /// What `scenario` asks for, given who the runner is.
    pub fn for_scenario(scenario: &Scenario) -> Confine {
        Confine {
            umask: scenario.umask,
            privileges: if scenario.unprivileged {
                unprivileged()
            } else {
                Privileges::Inherit
            },
        }
    }

    /// Whether participants run as another user, who must be let through the runner's
    /// private temp directory.
    pub fn other_user(&self) -> bool {
        matches!(self.privileges, Privileges::User(..))
    }

    /// Applies the settings to `cmd`. std switches the user before it runs `pre_exec` hooks,
    /// and dropping capabilities does not touch the parent-death signal, so the runner's later
    /// hook that sets `PR_SET_PDEATHSIG` survives (a uid change clears it, prctl(2)).
    pub fn apply(&self, cmd: &mut Command) {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            match self.privileges {
                Privileges::Inherit => {}
                // std also drops root's supplementary groups when a uid is set as root.
                Privileges::User(uid, gid) => {
                    cmd.uid(uid).gid(gid);
                }
                Privileges::WithoutDacCapabilities => {
                    // SAFETY: the hook only makes raw syscalls (prctl, capget, capset), which
                    // are async-signal-safe, and allocates nothing.
                    #[cfg(target_os = "linux")]
                    unsafe {
                        cmd.pre_exec(drop_dac_capabilities);
                    }
                }
            }
            if let Some(mask) = self.umask {
                // SAFETY: umask(2) is async-signal-safe, allocates nothing and cannot fail.
                unsafe {
                    cmd.pre_exec(move || {
                        rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask as _));
                        Ok(())
                    });
                }
            }
        }
        #[cfg(windows)]
        let _ = cmd;
    }
}

/// Removes the permission-bypassing capabilities from the bounding set (root regains every
/// capability of the bounding set at execve) and from the current sets.
#[cfg(target_os = "linux")]
fn drop_dac_capabilities() -> std::io::Result<()> {
    use rustix::thread::CapabilitySet;
    let dropped =
        CapabilitySet::DAC_OVERRIDE | CapabilitySet::DAC_READ_SEARCH | CapabilitySet::FOWNER;
    for capability in dropped.iter() {
        rustix::thread::remove_capability_from_bounding_set(capability)?;
    }
    let mut sets = rustix::thread::capabilities(None)?;
    sets.effective -= dropped;
    sets.permitted -= dropped;
    sets.inheritable -= dropped;
    rustix::thread::set_capabilities(None, sets)?;
    Ok(())
}

#[cfg(target_os = "linux")]
fn unprivileged() -> Privileges {
    if rustix::process::geteuid().is_root() {
        Privileges::WithoutDacCapabilities
    } else {
        Privileges::Inherit
    }
}

/// The conventional `nobody` (no passwd entry is needed to switch to it).
#[cfg(all(unix, not(target_os = "linux")))]
fn unprivileged() -> Privileges {
    const NOBODY: u32 = 65534;
    if rustix::process::geteuid().is_root() {
        Privileges::User(NOBODY, NOBODY)
    } else {
        Privileges::Inherit
    }
}

/// Windows has no root that ignores ACLs in the same way; participants run as the runner.
#[cfg(windows)]
fn unprivileged() -> Privileges {
    Privileges::Inherit
}
