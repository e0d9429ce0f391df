//! Finds the files a run must look at: walks each PATH (honouring `.gitignore` and `.ignore`,
//! skipping `.git`, entering other hidden folders), applies `--include`/`--exclude` globs to
//! the path relative to the PATH argument, and keeps the files whose extension names a kind armfix reads (see `kind`). Files named
//! explicitly are always kept. The result is sorted and free of duplicates.

use crate::kind::FileKind;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub no_ignore: bool,
}

/// A file to process.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Candidate {
    Stdin,
    File(PathBuf),
}

impl Candidate {
    /// How to read it: by extension, and JSON for stdin and unknown explicit files.
    pub fn kind(&self) -> FileKind {
        match self {
            Candidate::Stdin => FileKind::Json,
            Candidate::File(p) => FileKind::of_explicit(p),
        }
    }
}

/// A path that could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

fn glob_set(globs: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
    }
    b.build().map_err(|e| e.to_string())
}

/// Walks `paths` ("-" for standard input). Errors on individual paths are returned beside
/// the candidates; a bad glob is an error for the whole run.
pub fn discover(
    paths: &[PathBuf],
    opts: &WalkOptions,
) -> Result<(Vec<Candidate>, Vec<WalkError>), String> {
    let include = glob_set(&opts.include)?;
    let exclude = glob_set(&opts.exclude)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if root.as_os_str() == "-" {
            out.push(Candidate::Stdin);
            continue;
        }
        match std::fs::metadata(root) {
            Err(e) => {
                errors.push(WalkError {
                    path: root.clone(),
                    message: io_message(&e),
                });
                continue;
            }
            Ok(m) if !m.is_dir() => {
                out.push(Candidate::File(root.clone()));
                continue;
            }
            Ok(_) => {}
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .parents(!opts.no_ignore)
            .ignore(!opts.no_ignore)
            .git_ignore(!opts.no_ignore)
            .git_global(!opts.no_ignore)
            .git_exclude(!opts.no_ignore)
            .require_git(false)
            .follow_links(true)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    errors.push(walk_error(root, &e));
                    continue;
                }
            };
            let path = entry.path();
            if entry.file_type().is_some_and(|t| t.is_dir()) || !has_extension(path) {
                continue;
            }
            if entry.path_is_symlink() && std::fs::metadata(path).is_err() {
                errors.push(WalkError {
                    path: path.to_path_buf(),
                    message: "dangling symbolic link".into(),
                });
                continue;
            }
            let rel = path.strip_prefix(root).unwrap_or(path);
            if !opts.include.is_empty() && !include.is_match(rel) {
                continue;
            }
            if exclude.is_match(rel) {
                continue;
            }
            out.push(Candidate::File(path.to_path_buf()));
        }
    }
    out.sort();
    out.dedup();
    Ok((dedup_same_file(out), errors))
}

/// Keeps one name per file. A file reached twice (directly and through a symbolic link, or as
/// `x.json` and `./x.json`) would otherwise be reported twice, and its second write refused as
/// "changed on disk". The name kept is the first that is not a link, else the first.
fn dedup_same_file(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let is_link = |c: &Candidate| matches!(c, Candidate::File(p) if p.is_symlink());
    let mut chosen: HashMap<PathBuf, usize> = HashMap::new();
    let mut keep = vec![true; candidates.len()];
    for (i, c) in candidates.iter().enumerate() {
        let Candidate::File(p) = c else { continue };
        let Ok(real) = std::fs::canonicalize(p) else {
            continue;
        };
        match chosen.entry(real) {
            Entry::Vacant(v) => {
                v.insert(i);
            }
            Entry::Occupied(mut o) => {
                let first = *o.get();
                if is_link(&candidates[first]) && !is_link(c) {
                    keep[first] = false;
                    o.insert(i);
                } else {
                    keep[i] = false;
                }
            }
        }
    }
    candidates
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect()
}

fn has_extension(path: &Path) -> bool {
    FileKind::of(path).is_some()
}

fn walk_error(root: &Path, e: &ignore::Error) -> WalkError {
    let mut path = root.to_path_buf();
    let mut err = e;
    loop {
        match err {
            ignore::Error::WithPath {
                path: p,
                err: inner,
            } => {
                path = p.clone();
                err = inner;
            }
            ignore::Error::WithDepth { err: inner, .. }
            | ignore::Error::WithLineNumber { err: inner, .. } => err = inner,
            ignore::Error::Loop { child, .. } => {
                return WalkError {
                    path: child.clone(),
                    message: "symbolic link loop".into(),
                }
            }
            ignore::Error::Io(io) => {
                return WalkError {
                    path,
                    message: io_message(io),
                }
            }
            other => {
                return WalkError {
                    path,
                    message: other.to_string(),
                }
            }
        }
    }
}

/// An I/O error as a short message without the "(os error N)" noise.
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
