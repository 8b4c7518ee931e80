//! `lockcheck list`: the catalogue, with what each scenario needs.

use std::io::Write;

use crate::catalogue;
use crate::cli::CatalogueArgs;
use crate::exit::Exit;

pub fn list(args: &CatalogueArgs) -> anyhow::Result<Exit> {
    let scenarios = catalogue::select(args)?;
    let width = scenarios
        .iter()
        .map(|s| s.level.as_str().len() + s.id.len() + 2)
        .max()
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for s in &scenarios {
        let name = catalogue::name(s);
        let requires: Vec<_> = s.requires.iter().map(|c| c.as_str()).collect();
        writeln!(out, "{name:<width$}  requires: {}", requires.join(", "))?;
        writeln!(out, "{:<width$}  {}", "", s.description)?;
        writeln!(out, "{:<width$}  catches: {}", "", s.catches)?;
    }
    writeln!(out, "{} scenarios", scenarios.len())?;
    Ok(Exit::Ok)
}
