//! armfix: repairs Azure templates so AKS clusters rotate Secrets Store CSI Driver secrets.
//!
//! The pipeline, one module a stage: [`discover`] files → [`read`] and prefilter →
//! [`jsonc`] parse with spans → [`arm`] find clusters → [`rule`] decide → [`plan`] a JSON
//! Patch → [`render`] minimal text edits ([`edit`]) → [`verify`] → [`present`] → [`apply`].
//! [`engine`] runs the per-file stages; [`app`] runs a command over many files.

mod app;
mod apply;
mod arm;
mod cli;
mod discover;
mod edit;
mod engine;
mod finding;
mod jsonc;
mod location;
mod plan;
mod present;
mod read;
mod render;
mod rule;
mod verify;

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
