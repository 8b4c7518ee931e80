//! Replay lines: the `lockcheck run` command that reruns one scenario of a run.

use std::fmt::Write as _;

use lockcheck_runner::ReplayCommand;

/// `lockcheck run [--impl MANIFEST | --strict] [--scenarios DIR] --scenario ID --seed SEED`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// `--impl`: the manifest, as the user would type it; the built-in reflock when `None`.
    pub manifest: Option<String>,
    /// `--scenarios`: a catalogue directory other than the built-in one.
    pub scenarios: Option<String>,
    /// `--strict`: the built-in reflock in strict mode.
    pub strict: bool,
}

impl Replay {
    /// Reruns against the built-in reflock with the built-in catalogue.
    pub fn builtin() -> Replay {
        Replay::default()
    }

    /// Reruns against the built-in reflock in strict mode.
    pub fn builtin_strict() -> Replay {
        Replay {
            strict: true,
            ..Replay::default()
        }
    }

    /// Reruns against the manifest at `manifest`.
    pub fn manifest(manifest: impl Into<String>) -> Replay {
        Replay {
            manifest: Some(manifest.into()),
            ..Replay::default()
        }
    }

    /// The same, with the catalogue read from `dir`.
    pub fn with_scenarios(self, dir: impl Into<String>) -> Replay {
        Replay {
            scenarios: Some(dir.into()),
            ..self
        }
    }

    /// The command for `scenario` in a run with `seed`.
    pub fn command(&self, scenario: &str, seed: u64) -> String {
        self.run_command(&[format!("--scenario {scenario}")], seed)
    }

    /// The command that reruns a whole run with `seed`, whose scenarios `selection` chose:
    /// its flags as typed (`--level core`, `--scenario 'try-*'`), none for the catalogue.
    pub fn run_command(&self, selection: &[String], seed: u64) -> String {
        let mut line = String::from("lockcheck run");
        if let Some(manifest) = &self.manifest {
            let _ = write!(line, " --impl {manifest}");
        }
        if self.strict {
            line.push_str(" --strict");
        }
        if let Some(dir) = &self.scenarios {
            let _ = write!(line, " --scenarios {dir}");
        }
        for flag in selection {
            let _ = write!(line, " {flag}");
        }
        let _ = write!(line, " --seed {seed}");
        line
    }

    /// The runner's handle on this replay, for `RunOptions::replay`.
    pub fn for_runner(&self) -> ReplayCommand {
        let replay = self.clone();
        ReplayCommand::new(move |scenario, seed| replay.command(scenario, seed))
    }
}

#[cfg(test)]
mod tests;
