//! The command line: subcommands, flags and their help. Parsing only; `app` runs them.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  armfix check                     report every failing cluster under the current folder
  armfix fix --dry-run infra/      show the diffs, write nothing
  armfix fix                       review each diff and answer y/n/a/q
  armfix fix --yes .               write every fix (bulk runs, bots)
  armfix patch azuredeploy.json    print the RFC 6902 JSON Patch
  armfix fix - < in.json > out.json

Exit codes: 0 nothing to fix (or all fixed), 1 findings remain, 2 an error in some file.";

/// Repairs Azure templates so AKS clusters rotate Secrets Store CSI Driver secrets
/// (PSRule rule Azure.AKS.SecretStoreRotation).
#[derive(Debug, Parser)]
#[command(name = "armfix", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour the diff.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report every cluster that fails the rule; write nothing.
    Check {
        #[command(flatten)]
        walk: WalkArgs,
        #[command(flatten)]
        fix: FixArgs,
    },
    /// Show a unified diff per file and ask before writing each one.
    Fix {
        #[command(flatten)]
        walk: WalkArgs,
        #[command(flatten)]
        fix: FixArgs,
        /// Write every fix without asking (bulk runs, bots).
        #[arg(short = 'y', long, conflicts_with = "dry_run")]
        yes: bool,
        /// Show the diffs, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the RFC 6902 JSON Patch for one file as a JSON array (`[]` if none).
    Patch {
        /// The template, or `-` for standard input.
        file: PathBuf,
        #[command(flatten)]
        fix: FixArgs,
    },
}

/// What a fix may do.
#[derive(Debug, Args)]
pub struct FixArgs {
    /// Where a value is an expression armfix cannot trace to a literal, overwrite it with
    /// the literal "true" (or the `config` object) instead of asking for manual review.
    #[arg(long)]
    pub force_literal: bool,
}

impl FixArgs {
    pub fn options(&self) -> crate::plan::Options {
        crate::plan::Options {
            force_literal: self.force_literal,
        }
    }
}

#[derive(Debug, Args)]
pub struct WalkArgs {
    /// Files or folders to process; `-` reads standard input. Defaults to `.`.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Only process files matching GLOB (relative to the PATH argument; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files matching GLOB (relative to the PATH argument; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Do not honour .gitignore, .ignore and git exclude files.
    #[arg(long)]
    pub no_ignore: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
