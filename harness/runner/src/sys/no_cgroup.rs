//! No cgroups outside Linux: process groups (Unix) and Job objects (Windows) contain the
//! participants, and [`Cgroup::create`] never makes one.

use std::io;
use std::process::Command;

use lockcheck_model::{Containment, NoCgroup};

/// How a run with cgroups `enabled` contains its participants here.
pub(crate) fn containment(enabled: bool) -> Containment {
    let why = if enabled {
        NoCgroup::Unavailable
    } else {
        NoCgroup::Disabled
    };
    Containment::ProcessGroups { why }
}

/// None: there are no cgroups here.
pub(crate) fn cgroup_parent(_enabled: bool) -> Option<std::path::PathBuf> {
    None
}

/// Never made: there is no value of this type.
pub(crate) enum Cgroup {}

impl Cgroup {
    /// Always `None`.
    pub(crate) fn create(_enabled: bool) -> io::Result<Option<Cgroup>> {
        Ok(None)
    }

    pub(crate) fn enter_on_spawn(&self, _cmd: &mut Command) {
        match *self {}
    }

    pub(crate) fn kill(&self) -> io::Result<()> {
        match *self {}
    }

    pub(crate) fn remove(self) -> io::Result<()> {
        match self {}
    }
}
