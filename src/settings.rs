//! `armfix.toml`: settings a repository keeps beside its templates, so that every run (a
//! person's, a hook's, CI's) walks the same files the same way.
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
//! force-literal = false             # like --force-literal (--no-force-literal turns it off)
//! format = "text"                   # like --format: text, json, sarif or github
//! color = "auto"                    # like --color: auto, always or never
//! ```

use crate::cli::{ColorChoice, Format};
use crate::location::LineIndex;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The names looked for in each folder, in this order.
pub const FILE_NAMES: [&str; 2] = ["armfix.toml", ".armfix.toml"];

/// The settings a file may hold; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub no_ignore: Option<bool>,
    pub force_literal: Option<bool>,
    pub format: Option<Format>,
    pub color: Option<ColorChoice>,
}

/// A configuration and the file it came from (`None` when no file was used).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

/// Finds the configuration file for a run started in `start`.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in FILE_NAMES {
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
pub fn load(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            crate::run::discover::io_message(&e)
        )
    })?;
    parse(&text).map_err(|(offset, message)| match offset {
        Some(offset) => {
            let (line, col) = LineIndex::new(&text).line_col(&text, offset);
            format!("{}:{line}:{col}: {message}", path.display())
        }
        None => format!("{}: {message}", path.display()),
    })
}

/// Parses a configuration's text; an error carries the byte offset it points at.
pub fn parse(text: &str) -> Result<Config, (Option<usize>, String)> {
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
pub fn resolve(explicit: Option<&Path>, disabled: bool, start: &Path) -> Result<Loaded, String> {
    if disabled {
        return Ok(Loaded::default());
    }
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => discover(start),
    };
    match path {
        None => Ok(Loaded::default()),
        Some(p) => Ok(Loaded {
            config: load(&p)?,
            path: Some(p),
        }),
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
