//! The `armfix` binary: parses the command line and turns the run's outcome into an exit code.

use armfix::{cli, commands as app};
use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("armfix: error: {e:#}");
            app::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
