//! Runs the per-file pipeline over a whole walk: discovers the files, processes each one on
//! the walker's threads as soon as it is found, links the reports across files
//! (`link`) and returns them in path order.

use crate::lang::arm::plan::Options;
use crate::lang::FileKind;
use crate::run::discover::{self, Candidate, Found, WalkOptions};
use crate::run::engine::{self, FileReport, Outcome};
use crate::run::link;
use anyhow::{Context, Result};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;

/// What a run walks: the PATH arguments, how to walk them, and how to read standard input.
#[derive(Debug, Clone)]
pub(crate) struct Walk {
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) options: WalkOptions,
    /// How `-` is read (`--stdin-filename`).
    pub(crate) stdin_kind: FileKind,
    /// `--verbose`: say why files are left alone.
    pub(crate) verbose: bool,
}

/// Discovers and processes every file, then the parameter files that feed the templates;
/// beside the reports, what the walk has to say (warnings). PSRule's settings may turn the
/// rule off (nothing is processed) or suppress it for some clusters (see [`crate::psrule`]).
pub(crate) fn process_tree(
    walk: &Walk,
    options: &Options,
) -> Result<(Vec<FileReport>, discover::Walked)> {
    if let Some(note) = crate::psrule::rule_off() {
        crate::commands::note!("armfix: {note}");
        return Ok((Vec::new(), discover::Walked::default()));
    }
    let (mut reports, walked) = process_all(walk, options)?;
    let context = read_templates_of_named_parameter_files(&mut reports, walk, options);
    link::link_parameter_files(&mut reports, options.unsafe_fixes);
    link::settle_called_modules(&mut reports, options.unsafe_fixes);
    crate::lang::terraform::callers::settle_called_folders(&mut reports);
    link::settle_linking_templates(&mut reports);
    link::point_compiled_json_at_bicep(&mut reports);
    link::report_what_no_file_fixes(&mut reports);
    if !context.is_empty() {
        reports.retain(|r| !matches!(&r.candidate, Candidate::File(p) if context.contains(p)));
    }
    crate::psrule::suppress(&mut reports, walk.verbose);
    crate::run::configurations::flush_notes();
    Ok((reports, walked))
}

/// A parameter file named on the command line (as the pre-commit hook names only the staged
/// files) is judged with the templates it is linked to, as a run over both would judge it:
/// each such template the walk did not reach is read too, for the linking, and its report
/// is left out of the run's (nobody asked about it; its own failures are its own findings
/// when it is named). Returns the paths of the templates read that way.
fn read_templates_of_named_parameter_files(
    reports: &mut Vec<FileReport>,
    walk: &Walk,
    options: &Options,
) -> Vec<PathBuf> {
    use crate::run::configurations::{targets, Targets};
    let named: Vec<PathBuf> = walk
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-" && p.is_file())
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    if named.is_empty() {
        return Vec::new();
    }
    let in_run: Vec<PathBuf> = reports
        .iter()
        .filter_map(|r| match &r.candidate {
            Candidate::File(p) => std::fs::canonicalize(p).ok(),
            Candidate::Stdin => None,
        })
        .collect();
    let mut context: Vec<PathBuf> = Vec::new();
    for r in reports.iter() {
        let Candidate::File(p) = &r.candidate else {
            continue;
        };
        if !std::fs::canonicalize(p).is_ok_and(|c| named.contains(&c)) {
            continue;
        }
        let Targets::Linked(templates, _) = targets(p) else {
            continue;
        };
        for t in templates {
            let reached = std::fs::canonicalize(&t)
                .is_ok_and(|c| in_run.contains(&c) || context.iter().any(|k| k == &t));
            if !reached && t.is_file() {
                context.push(t);
            }
        }
    }
    for t in &context {
        let kind = Candidate::File(t.clone()).kind();
        reports.push(engine::process_path_with(t, kind, options));
    }
    context
}

/// Discovers and processes every file; walk errors come back as error reports. Files are
/// processed on the walker's threads as soon as they are found; the reports are sorted by
/// path at the end, so the output does not depend on the parallelism. Only reports with
/// findings keep the file's text, so memory grows with the files in flight and the findings,
/// not with the repository.
fn process_all(walk: &Walk, options: &Options) -> Result<(Vec<FileReport>, discover::Walked)> {
    let stdin = if walk.paths.iter().any(|p| p.as_os_str() == "-") {
        Some(read_stdin()?)
    } else {
        None
    };
    let reports = Mutex::new(Vec::new());
    let process = |found: Found| {
        let report = match found {
            Found::Candidate(c @ Candidate::Stdin) => FileReport {
                outcome: engine::process_bytes_with(
                    stdin.clone().unwrap_or_default(),
                    walk.stdin_kind,
                    options,
                ),
                candidate: c,
            },
            Found::Candidate(c @ Candidate::File(_)) => {
                let Candidate::File(p) = &c else {
                    unreachable!("matched as a file")
                };
                if let Some(ps) = crate::psrule::active().filter(|ps| ps.ignores(p)) {
                    if walk.verbose {
                        crate::commands::note!(
                            "armfix: {}: skipped: input.pathIgnore of {} matches it",
                            engine::display(&c),
                            engine::display(&Candidate::File(ps.path.clone()))
                        );
                    }
                    return;
                }
                lighten(engine::process_path_with(p, c.kind(), options))
            }
            Found::Error(e) => FileReport {
                candidate: Candidate::File(e.path),
                outcome: Outcome::Error(engine::FileError {
                    line_col: None,
                    message: e.message,
                }),
            },
        };
        reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(report);
    };
    let walked =
        discover::walk(&walk.paths, &walk.options, &process).map_err(anyhow::Error::msg)?;
    let mut reports = reports.into_inner().unwrap_or_else(|p| p.into_inner());
    reports.sort_by(|a, b| a.candidate.cmp(&b.candidate));
    // Only files with something to say can be reported twice; skipped ones cost nothing,
    // and resolving every path of a large tree would cost a system call per component.
    let reports = discover::one_name_per_file(reports, |r| match (&r.candidate, &r.outcome) {
        (_, Outcome::Skipped) | (Candidate::Stdin, _) => None,
        (Candidate::File(p), _) => Some(p.as_path()),
    });
    Ok((reports, walked))
}

/// Drops the text of a report without findings: nothing reads it (findings need it for
/// their end positions in machine reports, fixes for the diff).
fn lighten(mut report: FileReport) -> FileReport {
    if let Outcome::Analysed {
        original,
        analysis,
        fixed: None,
    } = &mut report.outcome
    {
        if analysis.findings.is_empty() {
            *original = String::new();
        }
    }
    report
}

/// All of standard input.
pub(crate) fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .context("cannot read standard input")?;
    Ok(buf)
}
