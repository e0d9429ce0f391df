//! Runs the pipeline for one file: read, prefilter, decode, parse, plan, verify. It returns a
//! [`FileReport`] and never writes or prints; reports for many files can be computed in
//! parallel and presented in order afterwards.

use crate::edit;
use crate::error::Error;
use crate::finding::Analysis;
use crate::lang::arm::plan::Options;
use crate::lang::FileKind;
use crate::location::LineIndex;
use crate::run::discover::{io_message, Candidate};
use crate::run::{configurations, prove, read};
use std::path::{Path, PathBuf};

/// What happened to one file.
#[derive(Debug)]
pub struct FileReport {
    pub(crate) candidate: Candidate,
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
    pub(crate) fn display(&self) -> String {
        display(&self.candidate)
    }
}

pub(crate) fn display(candidate: &Candidate) -> String {
    match candidate {
        Candidate::Stdin => "<stdin>".into(),
        Candidate::File(p) => {
            // `./x.json` reads better as `x.json`, as ripgrep shows it. A name holding a line
            // break or an escape character is escaped, so every output line stays one line.
            let p = p.strip_prefix(".").unwrap_or(p);
            one_line(&p.display().to_string())
        }
    }
}

/// The text of a report's file: its `original` when the report kept it, else read again (a
/// report without findings drops its text, see `batch::lighten`).
pub(crate) fn text_of(path: &std::path::Path, original: &str) -> Option<String> {
    if original.is_empty() {
        crate::run::read::read_text(path)
    } else {
        Some(original.to_string())
    }
}

/// Reads and processes a file from disk with default options.
pub fn process_path(path: &PathBuf, kind: FileKind) -> FileReport {
    process_path_with(path, kind, &Options::default())
}

/// Reads and processes a file from disk.
pub(crate) fn process_path_with(path: &PathBuf, kind: FileKind, options: &Options) -> FileReport {
    let candidate = Candidate::File(path.clone());
    let outcome = match read_bytes(path) {
        Ok(Some(bytes)) => process_bytes_at(bytes, kind, options, Some(path)),
        Ok(None) => Outcome::Skipped,
        Err(error) => Outcome::Error(error),
    };
    FileReport { candidate, outcome }
}

/// Reads a file's bytes; `None` for a file too large to read that cannot concern the rule.
fn read_bytes(path: &PathBuf) -> Result<Option<Vec<u8>>, FileError> {
    match read::read_file(path) {
        Ok(read::Contents::Bytes(bytes)) => Ok(Some(bytes)),
        Ok(read::Contents::TooLarge { mentions_rule }) => {
            if mentions_rule {
                Err(FileError {
                    line_col: None,
                    message: format!(
                        "the file is larger than {} MiB (ARM accepts templates up to 4 MB); \
                         not read",
                        read::MAX_FILE_BYTES >> 20
                    ),
                })
            } else {
                Ok(None)
            }
        }
        Err(e) => Err(FileError {
            line_col: None,
            message: if path.is_dir() {
                "is a directory".into()
            } else {
                io_message(&e)
            },
        }),
    }
}

/// Processes a file's bytes with default options.
pub fn process_bytes(bytes: Vec<u8>, kind: FileKind) -> Outcome {
    process_bytes_with(bytes, kind, &Options::default())
}

/// Processes a file's bytes.
pub(crate) fn process_bytes_with(bytes: Vec<u8>, kind: FileKind, options: &Options) -> Outcome {
    process_bytes_at(bytes, kind, options, None)
}

/// Processes the bytes of the file at `path` (`None`: standard input).
fn process_bytes_at(
    bytes: Vec<u8>,
    kind: FileKind,
    options: &Options,
    path: Option<&Path>,
) -> Outcome {
    if !kind.may_concern(&bytes) {
        return Outcome::Skipped;
    }
    match decode(bytes) {
        Ok(text) => process_text_at(text, kind, options, path),
        Err(error) => Outcome::Error(error),
    }
}

/// Decodes bytes as UTF-8, placing an error at its line and column.
fn decode(bytes: Vec<u8>) -> Result<String, FileError> {
    read::decode_placed(bytes).map_err(|(e, place)| FileError {
        line_col: Some(place),
        message: format!("{e} (at byte {})", e.offset),
    })
}

/// Processes decoded text with default options.
pub fn process_text(text: String, kind: FileKind) -> Outcome {
    process_text_with(text, kind, &Options::default())
}

/// Processes decoded text.
pub(crate) fn process_text_with(text: String, kind: FileKind, options: &Options) -> Outcome {
    process_text_at(text, kind, options, None)
}

/// Processes the decoded text of the file at `path` (`None`: standard input, evaluated with
/// its defaults only): plans, proves each fix at deploy time in every configuration, and
/// verifies the edits.
fn process_text_at(
    text: String,
    kind: FileKind,
    options: &Options,
    path: Option<&Path>,
) -> Outcome {
    // Module references (and `bicepconfig.json`) resolve from the file's own folder.
    crate::lang::bicep::modules::analysing(path, || {
        process_text_in_place(text, kind, options, path)
    })
}

/// [`process_text_at`], once the file's place is known to the analysis.
fn process_text_in_place(
    text: String,
    kind: FileKind,
    options: &Options,
    path: Option<&Path>,
) -> Outcome {
    let mut analysis = match kind.language().analyze_at(&text, options, path) {
        Ok(Some(a)) => a,
        Ok(None) => return Outcome::Skipped,
        Err(e) => return Outcome::Error(source_error(&text, e)),
    };
    if !analysis.clusters.is_empty() && !prove::settled_by_reading(&analysis) {
        let configurations = configurations::for_template(path);
        let subject = prove::Subject {
            language: kind.language(),
            owned: Default::default(),
            text: &text,
            path,
            configurations: &configurations,
            unsafe_fixes: options.unsafe_fixes,
        };
        prove::prove(&subject, &mut analysis);
    }
    finish(text, analysis, |text, analysis, fixed| {
        kind.language().verify_at(text, analysis, fixed, path)
    })
}

/// Processes a parameter file for the parameters that scanned templates need to be true.
pub(crate) fn process_parameter_file(
    path: &PathBuf,
    demands: &[crate::lang::arm::params::Demand],
    unsafe_fixes: bool,
) -> FileReport {
    process_linked(
        path,
        demands,
        unsafe_fixes,
        |text| crate::lang::arm::params::analyze_at(text, demands, Some(path)),
        |t, a, f| FileKind::Json.verify(t, a, f),
    )
}

/// Processes a `.bicepparam` file for the parameters its `using` template needs to be true.
/// Its fix is proven with those demands (see [`crate::lang::bicep::verify_params`]).
pub(crate) fn process_bicepparam_file(
    path: &PathBuf,
    demands: &[crate::lang::arm::params::Demand],
    unsafe_fixes: bool,
) -> FileReport {
    process_linked(
        path,
        demands,
        unsafe_fixes,
        |text| crate::lang::bicep::analyze_params(text, demands),
        |t, a, f| crate::lang::bicep::verify_params(t, a, f, demands),
    )
}

/// Reads a parameter file linked to a scanned template, analyses it with `analyze` and
/// proves its fix with `verify`.
fn process_linked(
    path: &PathBuf,
    demands: &[crate::lang::arm::params::Demand],
    unsafe_fixes: bool,
    analyze: impl FnOnce(&str) -> Result<Option<Analysis>, Error>,
    verify: impl FnOnce(&str, &Analysis, &str) -> Result<(), String>,
) -> FileReport {
    let outcome = match read_bytes(path).and_then(|b| b.map(decode).transpose()) {
        Ok(None) => Outcome::Skipped,
        Err(error) => Outcome::Error(error),
        Ok(Some(text)) => match analyze(&text) {
            Ok(Some(mut analysis)) => {
                let mut templates: Vec<(PathBuf, Option<std::sync::Arc<String>>)> = demands
                    .iter()
                    .map(|d| (d.template_path.clone(), d.template_fixed.clone()))
                    .collect();
                templates.dedup_by(|a, b| a.0 == b.0);
                prove::prove_parameter_file(path, &text, &mut analysis, &templates, unsafe_fixes);
                finish(text, analysis, verify)
            }
            Ok(None) => Outcome::Skipped,
            Err(e) => Outcome::Error(source_error(&text, e)),
        },
    };
    FileReport {
        candidate: Candidate::File(path.clone()),
        outcome,
    }
}

/// Applies an analysis' edits and proves them with `verify`; messages are kept to one line.
fn finish(
    text: String,
    mut analysis: Analysis,
    verify: impl FnOnce(&str, &Analysis, &str) -> Result<(), String>,
) -> Outcome {
    for f in &mut analysis.findings {
        f.message = one_line(&f.message);
    }
    let fixed = if analysis.edits.is_empty() {
        None
    } else {
        let checked = edit::apply(&text, &analysis.edits)
            .and_then(|fixed| verify(&text, &analysis, &fixed).map(|()| fixed));
        match checked {
            Ok(t) => Some(t),
            Err(why) => {
                // The fix cannot be proven: nothing is written, and every finding it would
                // have fixed is left for a human with the reason; the file's other findings
                // still stand.
                let reason = format!(
                    "armfix could not prove its fix ({why}), so it writes nothing; make the \
                     change by hand"
                );
                let unsafe_applied = analysis.unsafe_applied;
                analysis.withdraw_fixes(&reason, |f| {
                    unsafe_applied || f.applicability == crate::finding::Applicability::Safe
                });
                None
            }
        }
    };
    Outcome::Analysed {
        original: text,
        analysis,
        fixed,
    }
}

fn source_error(text: &str, e: Error) -> FileError {
    FileError {
        line_col: Some(LineIndex::new(text).line_col(text, e.offset)),
        message: one_line(&e.to_string()),
    }
}

/// A message that quotes the file (a key, an expression, a character) on one line: line
/// breaks and other control characters are escaped (`\n`, `\u{1b}`), so every finding and
/// error stays one line and cannot drive the terminal.
pub(crate) fn one_line(message: &str) -> String {
    // Printable ASCII, the common case, is checked byte by byte (vectorised) first.
    if message.bytes().all(|b| (0x20..0x7f).contains(&b)) || !message.chars().any(needs_escape) {
        return message.to_string();
    }
    message
        .chars()
        .map(|c| {
            if needs_escape(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_that_fails_verification_becomes_manual_review_and_hides_nothing() {
        let kind = crate::lang::FileKind::Json;
        let original = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
          "resources": [{"type": "Microsoft.ContainerService/managedClusters", "name": "a",
            "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider":
            {"enabled": true, "config": {"enableSecretRotation": "false"}}}}}]}"#;
        let analysis = kind
            .analyze(original, &Options::default())
            .unwrap()
            .unwrap();
        assert_eq!(analysis.fixable(), 1);
        let outcome = finish(original.to_string(), analysis, |_, _, _| {
            Err("a planted failure".into())
        });
        let Outcome::Analysed {
            analysis, fixed, ..
        } = outcome
        else {
            panic!("not an error: {outcome:?}")
        };
        assert!(fixed.is_none() && analysis.edits.is_empty() && analysis.patch.is_empty());
        assert_eq!((analysis.fixable(), analysis.manual()), (0, 1));
        assert!(analysis.findings[0].message.contains("a planted failure"));
    }

    #[test]
    fn names_with_line_breaks_stay_on_one_line() {
        let c = Candidate::File(PathBuf::from("./a\nb.json"));
        assert_eq!(display(&c), "a\\nb.json");
    }
}
