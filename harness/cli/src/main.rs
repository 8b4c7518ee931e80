//! The `lockcheck` command line.

mod catalogue;
mod cli;
mod cmd;
mod exit;
mod html;
mod interrupt;
mod reproducible;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let code = match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            // The one place errors reach the user: `error: ...` plus the chain of causes.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {error}");
                for cause in error.chain().skip(1) {
                    eprintln!("  caused by: {cause}");
                }
            }
            exit::Exit::Error
        }
    };
    code.into()
}
