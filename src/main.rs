//! The `armfix` binary: parses the command line and turns the run's outcome into an exit code.

use armfix::{cli, commands};
use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            commands::note_fmt(format_args!("armfix: error: {e:#}\n"));
            commands::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
