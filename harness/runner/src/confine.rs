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

use crate::sys;

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
                sys::unprivileged()
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

    /// Applies the settings to `cmd`.
    pub fn apply(&self, cmd: &mut Command) {
        sys::confine(cmd, self);
    }
}
