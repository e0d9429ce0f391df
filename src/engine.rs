//! Runs the pipeline for one file: read, prefilter, decode, parse, plan, verify. It returns a
//! [`FileReport`] and never writes or prints; reports for many files can be computed in
//! parallel and presented in order afterwards.

use crate::discover::{io_message, Candidate};
use crate::edit;
use crate::finding::{Analysis, SourceError};
use crate::kind::FileKind;
use crate::location::LineIndex;
use crate::plan::Options;
use crate::read;
use std::path::PathBuf;

/// What happened to one file.
#[derive(Debug)]
pub struct FileReport {
    pub candidate: Candidate,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum Outcome {
    /// Cannot concern the rule (no marker, or not a deployment template).
    Skipped,
    /// Analysed; `fixed` holds the verified new text when there are edits.
    Analysed {
        original: String,
        analysis: Analysis,
        fixed: Option<String>,
    },
    Error(FileError),
}

/// An error tied to a file, with its place when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line_col: Option<(usize, usize)>,
    pub message: String,
}

impl FileReport {
    /// The name the user knows the file by.
    pub fn display(&self) -> String {
        display(&self.candidate)
    }
}

pub fn display(candidate: &Candidate) -> String {
    match candidate {
        Candidate::Stdin => "<stdin>".into(),
        Candidate::File(p) => {
            // `./x.json` reads better as `x.json`, as ripgrep shows it.
            let p = p.strip_prefix(".").unwrap_or(p);
            p.display().to_string()
        }
    }
}

/// Reads and processes a file from disk with default options.
pub fn process_path(path: &PathBuf, kind: FileKind) -> FileReport {
    process_path_with(path, kind, &Options::default())
}

/// Reads and processes a file from disk.
pub fn process_path_with(path: &PathBuf, kind: FileKind, options: &Options) -> FileReport {
    let candidate = Candidate::File(path.clone());
    let outcome = match std::fs::read(path) {
        Ok(bytes) => process_bytes_with(bytes, kind, options),
        Err(e) => Outcome::Error(FileError {
            line_col: None,
            message: if path.is_dir() {
                "is a directory".into()
            } else {
                io_message(&e)
            },
        }),
    };
    FileReport { candidate, outcome }
}

/// Processes a file's bytes with default options.
pub fn process_bytes(bytes: Vec<u8>, kind: FileKind) -> Outcome {
    process_bytes_with(bytes, kind, &Options::default())
}

/// Processes a file's bytes.
pub fn process_bytes_with(bytes: Vec<u8>, kind: FileKind, options: &Options) -> Outcome {
    if !kind.may_concern(&bytes) {
        return Outcome::Skipped;
    }
    let text = match read::decode(bytes) {
        Ok(t) => t,
        Err(e) => {
            // Undecodable bytes: a line/column would need the text we do not have.
            return Outcome::Error(FileError {
                line_col: None,
                message: format!("{} (at byte {})", e.message, e.offset),
            });
        }
    };
    process_text_with(text, kind, options)
}

/// Processes decoded text with default options.
pub fn process_text(text: String, kind: FileKind) -> Outcome {
    process_text_with(text, kind, &Options::default())
}

/// Processes decoded text.
pub fn process_text_with(text: String, kind: FileKind, options: &Options) -> Outcome {
    let analysis = match kind.analyze(&text, options) {
        Ok(Some(a)) => a,
        Ok(None) => return Outcome::Skipped,
        Err(e) => return Outcome::Error(source_error(&text, e)),
    };
    finish(text, analysis, kind)
}

/// Processes a parameter file for the parameters that scanned templates need to be true.
pub fn process_parameter_file(path: &PathBuf, demands: &[crate::params::Demand]) -> FileReport {
    let candidate = Candidate::File(path.clone());
    let text = match std::fs::read(path)
        .map_err(|e| io_message(&e))
        .and_then(|b| read::decode(b).map_err(|e| format!("{} (at byte {})", e.message, e.offset)))
    {
        Ok(t) => t,
        Err(message) => {
            return FileReport {
                candidate,
                outcome: Outcome::Error(FileError {
                    line_col: None,
                    message,
                }),
            }
        }
    };
    let outcome = match crate::params::analyze(&text, demands) {
        Ok(None) => Outcome::Skipped,
        Ok(Some(analysis)) => finish(text, analysis, FileKind::Json),
        Err(e) => Outcome::Error(source_error(&text, e)),
    };
    FileReport { candidate, outcome }
}

/// Processes a `.bicepparam` file for the parameters its `using` template needs to be true.
/// Its fix is proven with those demands (see [`crate::bicep::verify_params`]).
pub fn process_bicepparam_file(path: &PathBuf, demands: &[crate::params::Demand]) -> FileReport {
    let candidate = Candidate::File(path.clone());
    let text = match std::fs::read(path)
        .map_err(|e| io_message(&e))
        .and_then(|b| read::decode(b).map_err(|e| format!("{} (at byte {})", e.message, e.offset)))
    {
        Ok(t) => t,
        Err(message) => {
            let error = FileError {
                line_col: None,
                message,
            };
            return FileReport {
                candidate,
                outcome: Outcome::Error(error),
            };
        }
    };
    let analysis = match crate::bicep::analyze_params(&text, demands) {
        Ok(Some(a)) => a,
        Ok(None) => {
            return FileReport {
                candidate,
                outcome: Outcome::Skipped,
            }
        }
        Err(e) => {
            let outcome = Outcome::Error(source_error(&text, e));
            return FileReport { candidate, outcome };
        }
    };
    let fixed = if analysis.edits.is_empty() {
        None
    } else {
        let checked = edit::apply(&text, &analysis.edits).and_then(|fixed| {
            crate::bicep::verify_params(&text, &analysis, &fixed, demands).map(|()| fixed)
        });
        match checked {
            Ok(t) => Some(t),
            Err(why) => {
                let error = FileError {
                    line_col: None,
                    message: format!(
                        "internal error: the fix failed verification ({why}); nothing written"
                    ),
                };
                return FileReport {
                    candidate,
                    outcome: Outcome::Error(error),
                };
            }
        }
    };
    let outcome = Outcome::Analysed {
        original: text,
        analysis,
        fixed,
    };
    FileReport { candidate, outcome }
}

/// Applies and verifies an analysis' edits.
fn finish(text: String, analysis: Analysis, kind: FileKind) -> Outcome {
    let fixed = if analysis.edits.is_empty() {
        None
    } else {
        let checked = edit::apply(&text, &analysis.edits)
            .and_then(|fixed| kind.verify(&text, &analysis, &fixed).map(|()| fixed));
        match checked {
            Ok(t) => Some(t),
            Err(why) => {
                return Outcome::Error(FileError {
                    line_col: None,
                    message: format!(
                        "internal error: the fix failed verification ({why}); nothing written"
                    ),
                })
            }
        }
    };
    Outcome::Analysed {
        original: text,
        analysis,
        fixed,
    }
}

fn source_error(text: &str, e: SourceError) -> FileError {
    FileError {
        line_col: Some(LineIndex::new(text).line_col(text, e.offset)),
        message: e.message,
    }
}
