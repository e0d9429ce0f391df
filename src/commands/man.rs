//! `armfix man` and `armfix completions`: print what armfix is (its manual page in roff, a
//! shell's completion script) from the command line's own definition.

use super::EXIT_CLEAN;
use crate::cli::Cli;
use anyhow::Result;
use clap::CommandFactory;
use std::io::Write;

/// `armfix completions SHELL`.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = super::stdout();
    clap_complete::generate(shell, &mut Cli::command(), "armfix", &mut out);
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// `armfix man`: the manual page in roff.
pub(super) fn man() -> Result<i32> {
    let mut out = super::stdout();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}
