//! Finds the files a run must look at: walks each PATH (honouring `.gitignore` and `.ignore`,
//! skipping `.git`, entering other hidden folders), applies `--include`/`--exclude` globs to
//! the path relative to the PATH argument, and keeps the files whose extension names a kind
//! armfix reads (see `kind`). Files named explicitly are always kept. The walk runs on every
//! core and hands each file over as soon as it is found ([`walk`]); [`discover`] collects
//! them sorted and free of duplicates.

use crate::kind::FileKind;
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkState;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub no_ignore: bool,
}

/// A file to process.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// What a walk finds: a file to process, or a path that could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Candidate(Candidate),
    Error(WalkError),
}

/// Walks `paths` ("-" for standard input). Errors on individual paths are returned beside
/// the candidates; a bad glob is an error for the whole run. The candidates are sorted and
/// free of duplicates.
pub fn discover(
    paths: &[PathBuf],
    opts: &WalkOptions,
) -> Result<(Vec<Candidate>, Vec<WalkError>), String> {
    let found = Mutex::new((Vec::new(), Vec::new()));
    walk(paths, opts, &|f| {
        let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
        match f {
            Found::Candidate(c) => found.0.push(c),
            Found::Error(e) => found.1.push(e),
        }
    })?;
    let (mut out, mut errors) = found.into_inner().unwrap_or_else(|p| p.into_inner());
    out.sort();
    out.dedup();
    errors.sort_by(|a: &WalkError, b| a.path.cmp(&b.path));
    Ok((out, errors))
}

/// Walks `paths` ("-" for standard input) with one thread per core and calls `visit` for
/// every candidate and every error, from those threads and in no particular order, so that
/// a caller can process each file as soon as it is found. A file reached twice (two PATH
/// arguments naming it) is visited once. A bad glob is an error for the whole run, found
/// before anything is visited.
pub fn walk(
    paths: &[PathBuf],
    opts: &WalkOptions,
    visit: &(dyn Fn(Found) + Sync),
) -> Result<(), String> {
    let include = glob_set(&opts.include)?;
    let exclude = glob_set(&opts.exclude)?;
    // Only overlapping PATH arguments can reach a path twice.
    let seen: Option<Mutex<HashSet<Candidate>>> = (paths.len() > 1).then(Mutex::default);
    let visit_once = |c: Candidate| {
        let first = seen.as_ref().is_none_or(|s| {
            s.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(c.clone())
        });
        if first {
            visit(Found::Candidate(c));
        }
    };
    for root in paths {
        if root.as_os_str() == "-" {
            visit_once(Candidate::Stdin);
            continue;
        }
        match std::fs::metadata(root) {
            Err(e) => {
                visit(Found::Error(WalkError {
                    path: root.clone(),
                    message: io_message(&e),
                }));
                continue;
            }
            Ok(m) if !m.is_dir() => {
                visit_once(Candidate::File(root.clone()));
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
            .threads(threads())
            .build_parallel();
        let (include, exclude, visit_once) = (&include, &exclude, &visit_once);
        walker.run(|| {
            Box::new(move |entry| {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        visit(Found::Error(walk_error(root, &e)));
                        return WalkState::Continue;
                    }
                };
                let path = entry.path();
                if entry.file_type().is_some_and(|t| t.is_dir()) || !has_extension(path) {
                    return WalkState::Continue;
                }
                if entry.path_is_symlink() && std::fs::metadata(path).is_err() {
                    visit(Found::Error(WalkError {
                        path: path.to_path_buf(),
                        message: "dangling symbolic link".into(),
                    }));
                    return WalkState::Continue;
                }
                let rel = path.strip_prefix(root).unwrap_or(path);
                if (!opts.include.is_empty() && !include.is_match(rel)) || exclude.is_match(rel) {
                    return WalkState::Continue;
                }
                visit_once(Candidate::File(path.to_path_buf()));
                WalkState::Continue
            })
        });
    }
    Ok(())
}

/// Walker threads: one per core (the walk and the work done in `visit` share them).
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
