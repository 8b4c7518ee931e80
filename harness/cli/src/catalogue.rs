//! Finding scenario files (built in, or a directory) and choosing among them.

use anyhow::{Context, bail};
use globset::{Glob, GlobSetBuilder};
use lockcheck::load_scenarios;
use lockcheck::project::parse_scenario;
use lockcheck_model::{Level, Scenario};
use lockcheck_protocol::Vocabulary;

use crate::cli::CatalogueArgs;

include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// The scenarios `args` select, in catalogue order (by level, then id).
pub fn select(args: &CatalogueArgs) -> anyhow::Result<Vec<Scenario>> {
    let all = match &args.scenarios {
        Some(dir) => load_scenarios(dir)?,
        None => EMBEDDED
            .iter()
            .map(|(name, text)| parse_scenario(name, text))
            .collect::<anyhow::Result<Vec<_>>>()?,
    };
    let levels = args
        .level
        .iter()
        .map(|l| parse_level(l))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut globs = GlobSetBuilder::new();
    for pattern in &args.scenario {
        globs.add(
            Glob::new(pattern).with_context(|| format!("invalid --scenario glob `{pattern}`"))?,
        );
    }
    let globs = globs.build()?;
    let mut chosen: Vec<Scenario> = all
        .into_iter()
        .filter(|s| levels.is_empty() || levels.contains(&s.level))
        .filter(|s| args.scenario.is_empty() || globs.is_match(&s.id))
        .collect();
    if chosen.is_empty() {
        bail!("no scenario matches the given --scenario/--level filters (see `lockcheck list`)");
    }
    chosen.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
    Ok(chosen)
}

fn parse_level(name: &str) -> anyhow::Result<Level> {
    Level::from_name(name).with_context(|| {
        let names: Vec<_> = Level::names().collect();
        format!(
            "unknown level `{name}`, expected one of: {}",
            names.join(", ")
        )
    })
}
