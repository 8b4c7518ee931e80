//! Finding scenario files (built in, or a directory) and choosing among them.

use anyhow::{Context, bail};
use globset::{Glob, GlobSetBuilder};
use lockcheck::project::{parse_catalogue, read_all, scenario_files};
use lockcheck_model::{Level, Scenario};

use crate::cli::CatalogueArgs;

include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// The scenarios `args` select, in catalogue order (by level, then id): the built-in
/// catalogue and every `--scenarios` file, or with `--replace-catalogue` those files alone.
pub fn select(args: &CatalogueArgs) -> anyhow::Result<Vec<Scenario>> {
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    if !args.replace_catalogue {
        texts.extend(EMBEDDED.iter().map(|(name, text)| {
            (
                format!("built-in:scenarios/{name}"),
                text.as_bytes().to_vec(),
            )
        }));
    }
    let files = scenario_files(&args.scenarios)?;
    texts.extend(read_all(&files, |path| path.display().to_string())?);
    let all = parse_catalogue(texts)?;
    let mut globs = GlobSetBuilder::new();
    for pattern in &args.scenario {
        globs.add(
            Glob::new(pattern).with_context(|| format!("invalid --scenario glob `{pattern}`"))?,
        );
    }
    let globs = globs.build()?;
    let chosen: Vec<Scenario> = all
        .into_iter()
        .filter(|s| chosen_level(&args.level, &args.scenario, s.level))
        .filter(|s| args.scenario.is_empty() || globs.is_match(&s.id) || globs.is_match(name(s)))
        .collect();
    if chosen.is_empty() {
        bail!("no scenario matches the given --scenario/--level filters (see `lockcheck list`)");
    }
    Ok(chosen)
}

/// Whether a run given `--level` flags `levels` and `--scenario` globs `globs` runs
/// scenarios of `level`: the levels asked for; with none, the levels the globs reach (a glob
/// names its scenarios, so a replay line finds a network scenario), or without globs every
/// level of the default run.
fn chosen_level(levels: &[Level], globs: &[String], level: Level) -> bool {
    if !levels.is_empty() {
        levels.contains(&level)
    } else {
        !globs.is_empty() || level.in_default_run()
    }
}

/// A scenario's name as lists and progress print it: `core::exclusive-basic`.
pub fn name(scenario: &Scenario) -> String {
    format!("{}::{}", scenario.level.as_str(), scenario.id)
}
