//! Machine and pull-request reports of a whole run: JSON ([`json`]), SARIF 2.1.0 with fixes
//! ([`sarif`]), GitHub workflow annotations ([`github`]) and a Markdown summary
//! ([`markdown`]). Each is a pure function from a [`Run`] (the run's file reports, what was
//! written, the totals) to text: nothing here reads files, prints or decides.
//!
//! Positions are 1-based lines and columns (columns count Unicode characters; a UTF-8 byte
//! order mark is not a column) and byte offsets into the file as it was read. Ends are
//! exclusive: the end of a span is the position of the first character after it.

pub(crate) mod github;
pub(crate) mod json;
pub(crate) mod markdown;
pub(crate) mod sarif;

use crate::edit::Edit;
use crate::finding::{Analysis, Finding, FixSource, Remedy};
use crate::location::LineIndex;
use crate::output::present::Totals;
use crate::run::engine::{FileError, FileReport, Outcome};

/// The tool's name, as every report names it.
pub(crate) const TOOL: &str = "armfix";
/// The tool's version, from Cargo.toml.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which command ran, and whether it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `check`: nothing is written.
    Check,
    /// `fix` that showed fixes without writing them (`--dry-run`, no terminal, no `--yes`
    /// with a machine format).
    DryRun,
    /// `fix` that wrote (with `--yes`, or the files a person accepted).
    Write,
}

impl Mode {
    pub(crate) fn command(self) -> &'static str {
        match self {
            Mode::Check => "check",
            Mode::DryRun | Mode::Write => "fix",
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Check => "check",
            Mode::DryRun => "dry-run",
            Mode::Write => "write",
        }
    }
}

/// What became of a file's fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Write {
    /// Not written: `check`, a dry run, declined, or nothing to write.
    No,
    /// Written to disk.
    Written,
    /// Writing failed (the file changed on disk, is read-only...).
    Failed(String),
}

/// One file of the run and what became of its fix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub(crate) report: &'a FileReport,
    pub(crate) write: &'a Write,
}

/// Everything a report needs to know about a run.
#[derive(Debug, Clone)]
pub(crate) struct Run<'a> {
    pub(crate) mode: Mode,
    /// Every file in path order, skipped ones included (reports leave those out).
    pub(crate) files: Vec<Entry<'a>>,
    pub(crate) totals: Totals,
    /// The working folder as a `file://` URI ending in `/` (SARIF's `%SRCROOT%`), if known.
    pub(crate) root_uri: Option<String>,
}

/// A file's view for reports: its name, its text and what armfix made of it.
pub(crate) enum View<'a> {
    Analysed {
        path: String,
        text: &'a str,
        analysis: &'a Analysis,
        fixed: Option<&'a str>,
        write: &'a Write,
    },
    Error {
        path: String,
        error: &'a FileError,
    },
}

impl<'a> Run<'a> {
    /// The files reports show (analysed ones and errors), in path order.
    pub(crate) fn views(&self) -> Vec<View<'a>> {
        self.files
            .iter()
            .filter_map(|e| match &e.report.outcome {
                Outcome::Skipped => None,
                Outcome::Error(error) => Some(View::Error {
                    path: e.report.display(),
                    error,
                }),
                Outcome::Analysed {
                    original,
                    analysis,
                    fixed,
                } => Some(View::Analysed {
                    path: e.report.display(),
                    text: original,
                    analysis,
                    fixed: fixed.as_deref(),
                    write: e.write,
                }),
            })
            .collect()
    }
}

/// A place in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) offset: usize,
    /// `None` when the text is not at hand (a report that dropped it).
    pub(crate) line_col: Option<(usize, usize)>,
}

/// Line and column lookups in one file's text.
pub(crate) struct Places<'a> {
    text: &'a str,
    index: Option<LineIndex>,
}

impl<'a> Places<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Places { text, index: None }
    }

    /// The place of a byte offset; without line and column when the text does not reach it.
    pub(crate) fn at(&mut self, offset: usize) -> Pos {
        let known = offset <= self.text.len() && self.text.is_char_boundary(offset);
        let line_col = if known {
            let text = self.text;
            let index = self.index.get_or_insert_with(|| LineIndex::new(text));
            Some(index.line_col(text, offset))
        } else {
            None
        };
        Pos { offset, line_col }
    }

    /// The start and end of a finding. The start's line and column come from the finding
    /// itself, so they are right even when the text was dropped.
    pub(crate) fn finding(&mut self, f: &Finding) -> (Pos, Pos) {
        let start = Pos {
            offset: f.start,
            line_col: Some((f.line, f.column)),
        };
        let end = if !self.text.is_empty() {
            self.at(f.end)
        } else {
            Pos {
                offset: f.end,
                line_col: None,
            }
        };
        (start, end)
    }
}

/// A file's edits in the order they apply, each range a span of the original text.
pub(crate) fn sorted_edits(edits: &[Edit]) -> Vec<&Edit> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    // Stable, as `edit::apply`: insertions at one offset keep the order they were made in.
    sorted.sort_by_key(|e| (e.start, e.end));
    sorted
}

/// The edits with touching ones joined (one ends where the next starts, or two insertions
/// at one offset), so that no two share a boundary and the order of applying them cannot
/// matter. Applying the result gives the same text as applying `edits`.
pub(crate) fn joined_edits(edits: &[Edit]) -> Vec<Edit> {
    let mut out: Vec<Edit> = Vec::new();
    for e in sorted_edits(edits) {
        match out.last_mut() {
            Some(last) if last.end == e.start => {
                last.end = e.end;
                last.replacement.push_str(&e.replacement);
            }
            _ => out.push(e.clone()),
        }
    }
    out
}

/// `"fix"` or `"manual-review"`.
pub(crate) fn remedy_kind(f: &Finding) -> &'static str {
    match f.remedy {
        Remedy::Fix => "fix",
        Remedy::ManualReview { .. } => "manual-review",
    }
}

/// The `kind` of a fix source, as the JSON report spells it.
pub(crate) fn source_kind(s: &FixSource) -> &'static str {
    match s {
        FixSource::Value => "value",
        FixSource::Variable { .. } => "variable",
        FixSource::Expression => "expression",
        FixSource::ParameterDefault { .. } => "parameter-default",
        FixSource::DeploymentParameter { .. } => "deployment-parameter",
        FixSource::ParameterFile { .. } => "parameter-file",
    }
}

/// The unified diff of a file's fix, without colour.
pub(crate) fn plain_diff(path: &str, text: &str, fixed: &str) -> String {
    crate::output::present::diff(path, text, fixed, crate::output::present::Paint(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_edits_apply_like_the_originals_and_never_touch() {
        let text = "abcdef";
        let edits = [
            Edit::insert(2, "X"),
            Edit::replace(2, 3, "Y"),
            Edit::insert(2, "Z"),
            Edit::replace(5, 6, "W"),
            Edit::insert(0, "<"),
        ];
        let joined = joined_edits(&edits);
        assert_eq!(
            crate::edit::apply(text, &joined).unwrap(),
            crate::edit::apply(text, &edits).unwrap()
        );
        assert_eq!(joined.len(), 3, "{joined:?}");
        for w in joined.windows(2) {
            assert!(w[0].end < w[1].start, "{joined:?}");
        }
    }

    #[test]
    fn places_without_text_have_no_line() {
        let mut p = Places::new("");
        assert_eq!(p.at(5).line_col, None);
        let mut p = Places::new("a\nbc");
        assert_eq!(p.at(3).line_col, Some((2, 2)));
    }
}

/// A small run for the report modules' tests: one file with an unsafe fix (first) and a
/// safe one, as the deploy-time proof leaves them.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::finding::{Applicability, Remedy};
    use crate::run::discover::Candidate;

    pub(crate) const TEXT: &str = "{\n  \"shared\": \"false\",\n  \"plain\": \"false\"\n}\n";
    pub(crate) const EFFECTS: [&str; 2] = [
        "also changes `Microsoft.Storage/storageAccounts` `st` `properties.allowBlobPublicAccess` from false to true",
        "with dev.json: also turns the add-on on in `aks-dev`",
    ];

    fn span(key: &str) -> (usize, usize) {
        let at = TEXT.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
        (at, at + "\"false\"".len())
    }

    fn finding(key: &str, applicability: Applicability) -> Finding {
        let index = LineIndex::new(TEXT);
        let mut f = Finding::placed(
            &index,
            TEXT,
            span(key),
            Some(format!("/{key}")),
            format!("`{key}` is \"false\"; it must be \"true\""),
            Remedy::Fix,
            Some(FixSource::Value),
        );
        f.edits = vec![Edit::replace(span(key).0, span(key).1, "\"true\"")];
        f.applicability = applicability;
        if applicability == Applicability::Unsafe {
            f.side_effects = EFFECTS.iter().map(|e| e.to_string()).collect();
        }
        f
    }

    /// The file, with its unsafe fix applied (`--unsafe-fixes`) or held back.
    pub(crate) fn report(unsafe_fixes: bool) -> FileReport {
        let findings = vec![
            finding("shared", Applicability::Unsafe),
            finding("plain", Applicability::Safe),
        ];
        let edits: Vec<Edit> = findings
            .iter()
            .filter(|f| unsafe_fixes || f.applicability == Applicability::Safe)
            .flat_map(|f| f.edits.clone())
            .collect();
        let fixed = crate::edit::apply(TEXT, &edits).unwrap();
        let analysis = Analysis {
            findings,
            edits,
            unsafe_applied: unsafe_fixes,
            held_back: usize::from(!unsafe_fixes),
            ..Analysis::default()
        };
        FileReport {
            candidate: Candidate::File("a.json".into()),
            outcome: Outcome::Analysed {
                original: TEXT.into(),
                analysis,
                fixed: Some(fixed),
            },
        }
    }

    /// The run of `report`, counted as `check` and `fix` count it.
    pub(crate) fn run<'a>(report: &'a FileReport, write: &'a Write, mode: Mode) -> Run<'a> {
        let Outcome::Analysed { analysis, .. } = &report.outcome else {
            unreachable!()
        };
        let totals = Totals {
            files: 1,
            read: 1,
            with_findings: usize::from(!analysis.findings.is_empty()),
            fixable: analysis.applied(),
            at_source: 0,
            manual: analysis.manual(),
            held: analysis.held_unsafe(),
            unsafe_applied: usize::from(analysis.unsafe_applied),
            fixed: if *write == Write::Written {
                analysis.applied()
            } else {
                0
            },
            errors: 0,
        };
        Run {
            mode,
            files: vec![Entry { report, write }],
            totals,
            root_uri: None,
        }
    }
}
