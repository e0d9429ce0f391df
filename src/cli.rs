//! The command line: subcommands, flags and their help. Parsing only: `settings` resolves
//! them against `armfix.toml`, `commands` runs them.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  armfix check                     report every failing cluster under the current folder
  armfix fix --dry-run infra/      show the diffs, write nothing
  armfix fix                       review each fix, like git add -p: y,n,a,d,q,e,?
  armfix fix --yes .               write every safe fix (bulk runs, bots)
  armfix fix --unsafe-fixes        also apply unsafe fixes (their side effects above the diff)
  armfix patch azuredeploy.json    print the RFC 6902 JSON Patch
  armfix fix - < in.json > out.json
  armfix check --format sarif . > armfix.sarif     SARIF 2.1.0 with fixes, for code scanning
  armfix check --format github .                   annotations on a pull request's diff
  armfix fix --yes --format json --summary-md pr.md .
  armfix completions bash > /etc/bash_completion.d/armfix

Exit codes: 0 nothing to fix (or all fixed), 1 findings remain (an unsafe fix held back is
one), 2 an error in some file.";

/// Repairs Azure templates so AKS clusters rotate Secrets Store CSI Driver secrets
/// (PSRule rule Azure.AKS.SecretStoreRotation).
#[derive(Debug, Parser)]
#[command(name = "armfix", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Accepted before the subcommand too (`armfix --color never fix`), as before; each
    /// subcommand that reads them offers them in its own help.
    #[command(flatten)]
    pub(crate) before: Hidden,
}

/// `--color`, `--config` and `--no-config` before the subcommand: still accepted, but not
/// shown, so that `--help` offers an option only where it has an effect.
#[derive(Debug, Args, Default)]
pub(crate) struct Hidden {
    #[arg(long = "color", value_enum, hide = true)]
    pub(crate) color: Option<ColorChoice>,
    #[arg(long = "config", value_name = "FILE", hide = true)]
    pub(crate) config: Option<PathBuf>,
    #[arg(long = "no-config", hide = true)]
    pub(crate) no_config: bool,
}

/// Which settings file to read (every command that reads files).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Global")]
pub(crate) struct ConfigArgs {
    /// Read settings from FILE instead of the armfix.toml found upward from the working folder.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub(crate) config: Option<PathBuf>,
    /// Ignore every armfix.toml.
    #[arg(long)]
    pub(crate) no_config: bool,
    /// Ignore PSRule's settings file (ps-rule.yaml): its rule exclusions, suppressions,
    /// input.pathIgnore and parameter-file options.
    #[arg(long)]
    pub(crate) no_psrule_config: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Report every cluster that fails the rule; write nothing.
    Check {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Show each finding's fix as a unified diff and ask before writing it (y,n,a,d,q,e,?).
    Fix {
        /// Write every safe fix without asking (bulk runs, bots); unsafe fixes only with
        /// --unsafe-fixes.
        #[arg(
            short = 'y',
            long,
            conflicts_with = "dry_run",
            help_heading = "What to fix"
        )]
        yes: bool,
        /// Show the diffs, write nothing.
        #[arg(long, help_heading = "What to fix")]
        dry_run: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print the RFC 6902 JSON Patch for one file as a JSON array (`[]` if none).
    Patch {
        /// The template, or `-` for standard input.
        file: PathBuf,
        #[command(flatten)]
        fix: FixArgs,
        /// Read standard input (`-`) as the kind of file NAME names; JSON when not given.
        #[arg(long, value_name = "NAME", help_heading = "Which files")]
        stdin_filename: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print armfix's manual page (roff) on stdout: `armfix man | man -l -`.
    Man,
}

/// What `check` and `fix` share: what a fix may do, the files to walk, how to report, and
/// the settings file; `--help` shows them under these headings, in this order.
#[derive(Debug, Args, Default)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) fix: FixArgs,
    #[command(flatten)]
    pub(crate) walk: WalkArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
}

/// How `check` and `fix` report.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// When to colour the diff [default: auto, or `color` in armfix.toml].
    #[arg(long, value_enum)]
    pub(crate) color: Option<ColorChoice>,
    /// Output format: text for people; json, sarif (SARIF 2.1.0 with fixes) or github
    /// (workflow annotations) for machines [default: text, or `format` in armfix.toml].
    /// With a machine format nothing else goes to stdout, and `fix` writes only with --yes.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<Format>,
    /// Also write a Markdown summary to FILE (for a pull-request body).
    #[arg(long, value_name = "FILE")]
    pub(crate) summary_md: Option<PathBuf>,
    /// Print no summary line and no notes (findings, diffs and errors still).
    #[arg(short, long, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Also note, on stderr, the files that were skipped and the files with no findings.
    #[arg(short, long)]
    pub(crate) verbose: bool,
}

/// The output formats of `check` and `fix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// Lines and diffs for people (the default).
    Text,
    /// One JSON document: per file its findings, patch, edits and diff, then summary
    /// counts (fields are added, never renamed).
    Json,
    /// SARIF 2.1.0, with fixes (for GitHub code scanning and other SARIF viewers).
    Sarif,
    /// GitHub Actions workflow commands (`::warning file=...::...`).
    Github,
}

/// What a fix may do.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "What to fix")]
pub(crate) struct FixArgs {
    /// Where a value is an expression armfix cannot trace to a literal, overwrite it with
    /// the literal "true" (or the `config` object) instead of asking for manual review.
    #[arg(long)]
    pub(crate) force_literal: bool,
    /// Do not overwrite expressions, even when armfix.toml sets `force-literal = true`.
    #[arg(long, conflicts_with = "force_literal")]
    pub(crate) no_force_literal: bool,
    /// Also apply unsafe fixes: those the deploy-time proof found to change more than
    /// rotation. Without it they are held back: listed with their side effects, left out
    /// of the diff and every report's edits, and counted as findings (exit 1).
    #[arg(long)]
    pub(crate) unsafe_fixes: bool,
    /// Apply safe fixes only, even when armfix.toml sets `unsafe-fixes = true`.
    #[arg(long, conflicts_with = "unsafe_fixes")]
    pub(crate) no_unsafe_fixes: bool,
}

/// Which files to process.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Which files")]
pub(crate) struct WalkArgs {
    /// Files or folders to process; `-` reads standard input. Defaults to `.`.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Only process files matching GLOB (relative to the PATH argument; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(crate) include: Vec<String>,
    /// Skip files matching GLOB (relative to the PATH argument; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Do not honour .gitignore, .ignore and git exclude files.
    #[arg(long)]
    pub(crate) no_ignore: bool,
    /// Apply the exclude patterns (--exclude, or `exclude` in armfix.toml) to files named on
    /// the command line too, matched against their path from the working folder (for
    /// pre-commit, which names each staged file).
    #[arg(long)]
    pub(crate) force_exclude: bool,
    /// Read standard input (`-`) as the kind of file NAME names (`main.bicep`, `deploy.sh`);
    /// JSON when not given.
    #[arg(long, value_name = "NAME")]
    pub(crate) stdin_filename: Option<PathBuf>,
}

/// When to colour the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}
