//! Runs a command: resolves the `Settings` once, then hands them to the command's module
//! (`check`, `fix`, `patch`, `man`). Exit codes follow ruff: 0 nothing left to fix,
//! 1 findings remain, 2 an error in some file.

mod check;
mod fix;
mod man;
mod patch;
mod tally;

use crate::cli::Cli;
use crate::settings::{Mode, Settings};
use anyhow::Result;

/// Nothing to fix, or everything fixed.
pub(crate) const EXIT_CLEAN: i32 = 0;
/// Findings remain.
pub(crate) const EXIT_FINDINGS: i32 = 1;
/// An error in some file (or in the run).
pub const EXIT_ERROR: i32 = 2;

/// Runs the command line's command; the exit code is one of the `EXIT_*` codes.
pub fn run(cli: Cli) -> Result<i32> {
    let settings = Settings::new(cli).map_err(anyhow::Error::msg)?;
    match &settings.mode {
        Mode::Check => check::run(&settings),
        Mode::Fix { yes, dry_run } => fix::run(&settings, *yes, *dry_run),
        Mode::Patch { file } => patch::run(&settings, file),
        Mode::Completions(shell) => man::completions(*shell),
        Mode::Man => man::man(),
    }
}
