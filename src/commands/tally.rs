//! What `check` and `fix` share after the walk: each report counted in the totals (errors and
//! skipped files noted on stderr), the machine report on stdout, the Markdown summary, and
//! the exit code.

use super::note;
use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::cli::Format;
use crate::finding::{Analysis, Applicability, FixSource};
use crate::output::present::{self, Totals};
use crate::output::progress::Spinner;
use crate::output::report;
use crate::run::batch::process_tree;
use crate::run::engine::{FileReport, Outcome};
use crate::settings::{Output, Settings};
use anyhow::Result;
use std::io::{IsTerminal, Write};

/// Counts one analysed file's findings in `totals`.
fn count(totals: &mut Totals, analysis: &Analysis) {
    let findings = &analysis.findings;
    totals.files += 1;
    totals.read += 1;
    totals.with_findings += usize::from(!findings.is_empty());
    totals.fixable += analysis.applied();
    totals.at_source += findings
        .iter()
        // A fix inside the cluster (its value, or a term of its own expression) is not at
        // a source; one in a variable, a parameter, a passed value or a parameter file is.
        .filter(|f| {
            analysis.applies(f)
                && f.source
                    .as_ref()
                    .is_some_and(|s| !matches!(s, FixSource::Value | FixSource::Expression))
        })
        .count();
    totals.held += analysis.held_unsafe();
    totals.unsafe_applied += findings
        .iter()
        .filter(|f| analysis.applies(f) && f.applicability == Applicability::Unsafe)
        .count();
    totals.manual += findings.iter().filter(|f| !f.is_fixable()).count();
}

/// Processes the tree, with a progress spinner on stderr when a person watches a walk that
/// takes more than a moment.
pub(super) fn processed(settings: &Settings) -> Result<Vec<FileReport>> {
    let output = &settings.output;
    let spinner = Spinner::start(
        output.format == Format::Text && !output.quiet && std::io::stderr().is_terminal(),
    );
    let processed = process_tree(&settings.walk, &settings.fix);
    spinner.stop();
    let (reports, walked) = processed?;
    if !output.quiet {
        for w in &walked.warnings {
            note!("armfix: warning: {w}");
        }
    }
    Ok(reports)
}

/// `--verbose`: a note for each file that was read but cannot concern the rule.
fn skipped_note(output: &Output, r: &FileReport) {
    if output.verbose {
        note!(
            "armfix: skipped {}: not a deployment template that mentions managedClusters",
            r.display()
        );
    }
}

/// Prints the machine report of a run on stdout.
pub(super) fn finish_machine(
    reports: &[FileReport],
    writes: &[report::Write],
    mode: report::Mode,
    totals: &Totals,
    output: &Output,
) -> Result<()> {
    let run = run_report(reports, writes, mode, totals, output);
    let text = match output.format {
        Format::Text => return Ok(()),
        Format::Json => report::json::render(&run),
        Format::Sarif => report::sarif::render(&run),
        Format::Github => report::github::render(&run),
    };
    let mut out = super::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The run as the machine reports and the Markdown summary see it.
fn run_report<'a>(
    reports: &'a [FileReport],
    writes: &'a [report::Write],
    mode: report::Mode,
    totals: &Totals,
    output: &Output,
) -> report::Run<'a> {
    report::Run {
        mode,
        files: reports
            .iter()
            .zip(writes)
            .map(|(report, write)| report::Entry { report, write })
            .collect(),
        totals: *totals,
        root_uri: report::sarif::root_uri(&output.root),
    }
}

/// Writes `--summary-md FILE` if asked; a failure to write it is an error (exit 2).
pub(super) fn summary_md(
    reports: &[FileReport],
    writes: &[report::Write],
    mode: report::Mode,
    totals: &Totals,
    output: &Output,
    code: i32,
) -> Result<i32> {
    let Some(path) = &output.summary_md else {
        return Ok(code);
    };
    let run = run_report(reports, writes, mode, totals, output);
    match std::fs::write(path, report::markdown::render(&run)) {
        Ok(()) => Ok(code),
        Err(e) => {
            note!(
                "error: cannot write the summary to {}: {}",
                path.display(),
                crate::run::discover::io_message(&e)
            );
            Ok(EXIT_ERROR)
        }
    }
}

/// Checks, without changing anything, that `--summary-md FILE` can be written: its folder
/// exists and FILE is a file armfix may write (or can be created there).
pub(super) fn can_write(path: &std::path::Path) -> Result<(), String> {
    let why = |e: &std::io::Error| {
        format!(
            "cannot write the summary to {}: {}",
            path.display(),
            crate::run::discover::io_message(e)
        )
    };
    if path.is_dir() {
        return Err(format!(
            "cannot write the summary to {}: it is a folder",
            path.display()
        ));
    }
    if path.exists() {
        // Opened for appending, so its contents stay as they are.
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| why(&e))
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| why(&e))?;
        std::fs::remove_file(path).map_err(|e| why(&e))
    }
}

/// 2 if any file had an error, else 1 if `remaining` findings are left, else 0.
pub(super) fn exit_code(totals: &Totals, remaining: usize) -> i32 {
    if totals.errors > 0 {
        EXIT_ERROR
    } else if remaining > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// The parts of an analysed report, counted in `totals`; a skipped report gets its verbose
/// note and an error its line on stderr, and neither goes further.
pub(super) fn analysed<'r>(
    r: &'r FileReport,
    name: &str,
    totals: &mut Totals,
    output: &Output,
) -> Option<(&'r String, &'r Analysis, &'r Option<String>)> {
    match &r.outcome {
        Outcome::Skipped => {
            totals.read += 1;
            skipped_note(output, r);
            None
        }
        Outcome::Error(e) => {
            totals.errors += 1;
            note!("error: {}", present::error_line(name, e));
            None
        }
        Outcome::Analysed {
            original,
            analysis,
            fixed,
        } => {
            count(totals, analysis);
            Some((original, analysis, fixed))
        }
    }
}
