//! One file per subcommand.

mod adapter;
mod adapter_check;
mod bench;
mod list;
mod matrix;
mod run;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::List(args) => list::list(&args),
        Command::Adapter(args) => adapter::serve(&args).map(|()| Exit::Ok),
        Command::AdapterCheck(args) => adapter_check::adapter_check(&args),
        Command::Matrix(args) => matrix::matrix(&args),
        Command::Bench(args) => bench::bench(&args),
    }
}
