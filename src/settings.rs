//! The settings of a run, resolved once: `Settings` holds everything a command reads,
//! built from the command line over `armfix.toml` over the built-in defaults (as ripgrep's
//! `HiArgs` is built from its flags). Commands never read flags or the file themselves.
//!
//! `armfix.toml` holds the settings a repository keeps beside its templates, so that every
//! run (a person's, a hook's, CI's) walks the same files the same way.
//!
//! The file is looked for in the working folder, then in each parent, stopping after the
//! folder that holds `.git` (the repository's root) or at the filesystem's root; the first
//! `armfix.toml` (or `.armfix.toml`) found is used, and only that one. `--config FILE` names a
//! file instead; `--no-config` ignores them all.
//!
//! Precedence, highest first: a flag on the command line, then the file, then the built-in
//! default. A list on the command line (`--include`, `--exclude`) replaces the file's list.
//!
//! ```toml
//! include = ["infra/**"]            # like --include (globs relative to each PATH argument)
//! exclude = ["**/legacy/**"]        # like --exclude
//! no-ignore = false                 # like --no-ignore
//! force-exclude = false             # like --force-exclude: `exclude` also applies to named files
//! force-literal = false             # like --force-literal (--no-force-literal turns it off)
//! unsafe-fixes = false              # like --unsafe-fixes (--no-unsafe-fixes turns it off)
//! format = "text"                   # like --format: text, json, sarif or github
//! color = "auto"                    # like --color: auto, always or never
//!
//! [parameter-files]                 # how parameter files are linked to templates
//! json = true                       # link JSON parameter files (PSRule's
//!                                   #   AZURE_PARAMETER_FILE_EXPANSION: false turns it off)
//! bicepparam = true                 # link .bicepparam files (AZURE_BICEP_PARAMS_FILE_EXPANSION)
//! metadata-only = false             # link JSON files only by metadata.template
//!                                   #   (AZURE_PARAMETER_FILE_METADATA_LINK)
//!
//! [parameter-files.links]           # explicit links, relative to this file's folder: a
//! "env/shared.json" = "infra/main.json"   # parameter file = its template; wins over
//!                                   #   names and metadata.template
//! ```
//!
//! PSRule's `ps-rule.yaml` (see [`crate::psrule`]) is read too, below this file and the flags.

use crate::cli::{Cli, ColorChoice, Command, Format, OutputArgs, RunArgs, WalkArgs};
use crate::lang::arm::plan::Options;
use crate::lang::FileKind;
use crate::location::LineIndex;
use crate::output::present::Paint;
use crate::run::batch::Walk;
use crate::run::discover::WalkOptions;
use serde::Deserialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Everything a command needs, resolved once.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) mode: Mode,
    /// The files to process and how to walk them (empty paths for `patch`, `man` and
    /// `completions`).
    pub(crate) walk: Walk,
    /// What a fix may do.
    pub(crate) fix: Options,
    /// How to report.
    pub(crate) output: Output,
}

/// The command to run, with what only it reads.
#[derive(Debug)]
pub(crate) enum Mode {
    Check,
    Fix { yes: bool, dry_run: bool },
    Patch { file: PathBuf },
    Completions(clap_complete::Shell),
    Man,
}

/// How `check` and `fix` report, after flags and armfix.toml.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub(crate) format: Format,
    pub(crate) summary_md: Option<PathBuf>,
    pub(crate) quiet: bool,
    pub(crate) verbose: bool,
    pub(crate) paint: Paint,
    /// The working folder, the base of relative paths in SARIF.
    pub(crate) root: PathBuf,
}

impl Settings {
    /// Resolves the command line against the configuration it names or discovers.
    /// `man` and `completions` describe armfix itself, so they read no configuration.
    pub(crate) fn new(cli: Cli) -> Result<Settings, String> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let reads_config = !matches!(cli.command, Command::Completions { .. } | Command::Man);
        let (mode, run) = match cli.command {
            Command::Check { run } => (Mode::Check, run),
            Command::Fix { run, yes, dry_run } => (Mode::Fix { yes, dry_run }, run),
            Command::Patch {
                file,
                fix,
                stdin_filename,
                config,
            } => {
                let walk = WalkArgs {
                    paths: Vec::new(),
                    stdin_filename,
                    ..WalkArgs::default()
                };
                let output = OutputArgs::default();
                let run = RunArgs {
                    walk,
                    fix,
                    output,
                    config,
                };
                (Mode::Patch { file }, run)
            }
            Command::Completions { shell } => (Mode::Completions(shell), RunArgs::default()),
            Command::Man => (Mode::Man, RunArgs::default()),
        };
        let psrule = if !reads_config || run.config.no_psrule_config {
            None
        } else {
            let stdin_only = match &mode {
                Mode::Patch { file } => file.as_os_str() == "-",
                _ => run.walk.paths.len() == 1 && run.walk.paths[0].as_os_str() == "-",
            };
            let stdin_filename = run.walk.stdin_filename.as_deref().filter(|_| stdin_only);
            crate::psrule::discover_for(&cwd, stdin_filename)
                .map(|p| crate::psrule::load(&p))
                .transpose()
                .map_err(|e| format!("PSRule settings: {e}"))?
        };
        // `--config`/`--no-config`/`--color` after the subcommand, or (hidden) before it.
        let config_file = run
            .config
            .config
            .as_deref()
            .or(cli.before.config.as_deref());
        let no_config = run.config.no_config || cli.before.no_config;
        if config_file.is_some() && no_config {
            return Err("--config and --no-config cannot be used together".into());
        }
        let config = if reads_config {
            resolve(config_file, no_config, &cwd).map_err(|e| format!("configuration: {e}"))?
        } else {
            Config::default()
        };
        let color = run.output.color.or(cli.before.color);
        let paint = paint(color.or(config.color).unwrap_or(ColorChoice::Auto));
        crate::run::configurations::configure(link_settings(
            &config,
            psrule.as_ref(),
            run.output.verbose,
        )?);
        crate::psrule::configure(psrule);
        crate::psrule::configure_stdin(stdin_kind(run.walk.stdin_filename.as_deref()));
        Ok(Settings {
            mode,
            walk: walk(run.walk, &config, run.output.verbose),
            fix: Options {
                force_literal: !run.fix.no_force_literal
                    && (run.fix.force_literal || config.force_literal.unwrap_or(false)),
                unsafe_fixes: !run.fix.no_unsafe_fixes
                    && (run.fix.unsafe_fixes || config.unsafe_fixes.unwrap_or(false)),
            },
            output: Output {
                format: run.output.format.or(config.format).unwrap_or(Format::Text),
                summary_md: run.output.summary_md,
                quiet: run.output.quiet,
                verbose: run.output.verbose,
                paint,
                root: cwd,
            },
        })
    }
}

/// How parameter files are linked: `armfix.toml` over `ps-rule.yaml` over the defaults.
/// An explicit link to a file that does not exist is an error.
fn link_settings(
    config: &Config,
    psrule: Option<&crate::psrule::PsRule>,
    verbose: bool,
) -> Result<crate::run::configurations::LinkSettings, String> {
    let files = config.parameter_files.clone().unwrap_or_default();
    let base = config.base.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut links = Vec::new();
    for (file, template) in files.links.iter().flatten() {
        let canonical = |rel: &str| {
            std::fs::canonicalize(base.join(rel)).map_err(|e| {
                format!(
                    "configuration: [parameter-files.links] \"{file}\" = \"{template}\": {rel}: {}",
                    crate::run::discover::io_message(&e)
                )
            })
        };
        links.push((canonical(file)?, canonical(template)?));
    }
    Ok(crate::run::configurations::LinkSettings {
        json: files
            .json
            .unwrap_or(psrule.and_then(|p| p.parameter_file_expansion) != Some(false)),
        bicepparam: files
            .bicepparam
            .unwrap_or(psrule.and_then(|p| p.bicep_params_expansion) != Some(false)),
        metadata_only: files
            .metadata_only
            .unwrap_or(psrule.and_then(|p| p.metadata_link) == Some(true)),
        links,
        verbose,
    })
}

/// Colour for `auto`: when stdout is a terminal and `NO_COLOR` is unset or empty.
fn paint(choice: ColorChoice) -> Paint {
    Paint(match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    })
}

/// The walk's settings: a list given on the command line replaces the file's list.
fn walk(args: WalkArgs, config: &Config, verbose: bool) -> Walk {
    let or_config = |flags: Vec<String>, file: &Option<Vec<String>>| {
        if flags.is_empty() {
            file.clone().unwrap_or_default()
        } else {
            flags
        }
    };
    Walk {
        paths: args.paths,
        options: WalkOptions {
            warn_include: !args.include.is_empty(),
            warn_exclude: !args.exclude.is_empty(),
            include: or_config(args.include, &config.include),
            exclude: or_config(args.exclude, &config.exclude),
            no_ignore: args.no_ignore || config.no_ignore.unwrap_or(false),
            force_exclude: args.force_exclude || config.force_exclude.unwrap_or(false),
        },
        stdin_kind: stdin_kind(args.stdin_filename.as_deref()),
        verbose,
    }
}

/// How standard input is read: as the kind `--stdin-filename` names, else JSON.
fn stdin_kind(name: Option<&Path>) -> FileKind {
    name.map_or(FileKind::Json, FileKind::of_explicit)
}

/// The names looked for in each folder, in this order.
pub(crate) const FILE_NAMES: [&str; 2] = ["armfix.toml", ".armfix.toml"];

/// The settings a file may hold; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Config {
    pub(crate) include: Option<Vec<String>>,
    pub(crate) exclude: Option<Vec<String>>,
    pub(crate) no_ignore: Option<bool>,
    pub(crate) force_exclude: Option<bool>,
    pub(crate) force_literal: Option<bool>,
    pub(crate) unsafe_fixes: Option<bool>,
    pub(crate) format: Option<Format>,
    pub(crate) color: Option<ColorChoice>,
    pub(crate) parameter_files: Option<ParameterFiles>,
    /// The folder of the file the settings came from (explicit links are relative to it).
    #[serde(skip)]
    pub(crate) base: Option<PathBuf>,
}

/// `[parameter-files]`: how parameter files are linked to templates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ParameterFiles {
    pub(crate) json: Option<bool>,
    pub(crate) bicepparam: Option<bool>,
    pub(crate) metadata_only: Option<bool>,
    pub(crate) links: Option<std::collections::BTreeMap<String, String>>,
}

/// Finds the configuration file for a run started in `start`.
pub(crate) fn discover(start: &Path) -> Option<PathBuf> {
    find_upward(start, &FILE_NAMES)
}

/// The first of `names` in `start` or a parent folder, stopping after the folder that holds
/// `.git` (armfix.toml and PSRule's ps-rule.yaml are found alike).
pub(crate) fn find_upward(start: &Path, names: &[&str]) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in names {
            let candidate = d.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        if d.join(".git").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

/// Reads and checks a configuration file. Errors name the file, line and column.
pub(crate) fn load(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            crate::run::discover::io_message(&e)
        )
    })?;
    let base = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    parse(&text)
        .map(|c| Config {
            base: Some(base),
            ..c
        })
        .map_err(|(offset, message)| match offset {
            Some(offset) => {
                let (line, col) = LineIndex::new(&text).line_col(&text, offset);
                format!("{}:{line}:{col}: {message}", path.display())
            }
            None => format!("{}: {message}", path.display()),
        })
}

/// Parses a configuration's text; an error carries the byte offset it points at.
pub(crate) fn parse(text: &str) -> Result<Config, (Option<usize>, String)> {
    let config: Config = toml::from_str(text).map_err(|e: toml::de::Error| {
        (
            e.span().map(|s| s.start),
            e.message().trim_end().replace('\n', " "),
        )
    })?;
    for glob in config.include.iter().chain(&config.exclude).flatten() {
        globset::Glob::new(glob).map_err(|e| (None, format!("invalid glob `{glob}`: {e}")))?;
    }
    Ok(config)
}

/// The configuration for a run: `explicit` if given, else the file discovered from
/// `start`, else none. `disabled` (`--no-config`) skips both.
pub(crate) fn resolve(
    explicit: Option<&Path>,
    disabled: bool,
    start: &Path,
) -> Result<Config, String> {
    if disabled {
        return Ok(Config::default());
    }
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => discover(start),
    };
    match path {
        None => Ok(Config::default()),
        Some(p) => load(&p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_setting() {
        let c = parse(
            "include = [\"infra/**\"]\nexclude = [\"**/old/**\"]\nno-ignore = true\n\
             force-literal = true\nformat = \"sarif\"\ncolor = \"never\"\n",
        )
        .unwrap();
        assert_eq!(c.include.as_deref(), Some(&["infra/**".to_string()][..]));
        assert_eq!(c.exclude.as_deref(), Some(&["**/old/**".to_string()][..]));
        assert_eq!(c.no_ignore, Some(true));
        assert_eq!(c.force_literal, Some(true));
        assert_eq!(c.format, Some(Format::Sarif));
        assert_eq!(c.color, Some(ColorChoice::Never));
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn errors_point_at_the_offending_key() {
        let (offset, message) = parse("format = \"text\"\nfromat = \"json\"\n").unwrap_err();
        assert_eq!(offset, Some(16), "{message}");
        assert!(message.contains("fromat"), "{message}");
        let (_, message) = parse("format = \"xml\"\n").unwrap_err();
        assert!(message.contains("xml"), "{message}");
        let (_, message) = parse("exclude = [\"a[\"]\n").unwrap_err();
        assert!(message.contains("invalid glob"), "{message}");
    }

    #[test]
    fn discovery_stops_at_the_repository_root() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        let deep = repo.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(d.path().join("armfix.toml"), "").unwrap();
        assert_eq!(
            discover(&deep),
            Some(d.path().join("armfix.toml")),
            "found above without a repository"
        );
        std::fs::create_dir(repo.join(".git")).unwrap();
        assert_eq!(discover(&deep), None, "not above the repository's root");
        std::fs::write(repo.join("a/.armfix.toml"), "").unwrap();
        assert_eq!(discover(&deep), Some(repo.join("a/.armfix.toml")));
        std::fs::write(repo.join("a/b/armfix.toml"), "").unwrap();
        assert_eq!(discover(&deep), Some(repo.join("a/b/armfix.toml")));
    }
}
