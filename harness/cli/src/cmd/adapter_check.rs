//! `lockcheck adapter-check`: hold an adapter to the protocol's rules and print the checklist.

use std::io::Write;

use lockcheck_runner::{AdapterSpec, RunOptions};

use crate::cli::AdapterCheckArgs;
use crate::cmd::run::{builtin_spec, manifest_spec, terminal_options};
use crate::exit::Exit;

pub fn adapter_check(args: &AdapterCheckArgs) -> anyhow::Result<Exit> {
    let spec = match (&args.manifest, args.command.as_slice()) {
        (Some(path), _) => manifest_spec(path)?,
        (None, []) => builtin_spec()?,
        (None, command) => AdapterSpec {
            name: command[0].clone(),
            command: command.to_vec(),
            env: Vec::new(),
        },
    };
    let list = lockcheck_runner::adapter_check(&spec, &RunOptions::default());
    let text = lockcheck_report::checklist(&list, &terminal_options());
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if list.holds() {
        Exit::Ok
    } else {
        Exit::RulesBroken
    })
}
