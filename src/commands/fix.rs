//! `armfix fix`: shows each file's diff and writes it after asking (interactive prompt),
//! without asking (`--yes`) or never (`--dry-run`); with a machine format it prints the
//! report instead of diffs; `fix -` filters standard input to standard output.
//!
//! Unsafe fixes (see `finding::Applicability`) are listed with their side effects: above
//! the diff when the diff carries them (`--unsafe-fixes`), alone and without a diff when
//! they are held back. Findings held back remain findings: the exit code is 1.

use super::tally::{analysed, exit_code, finish_machine, processed, summary_md};
use super::{note, note_part};
use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::cli::Format;
use crate::finding::{Analysis, Applicability, Finding};
use crate::lang::arm::plan::Options;
use crate::lang::FileKind;
use crate::output::present::{self, Totals};
use crate::output::report;
use crate::run::batch::read_stdin;
use crate::run::discover::Candidate;
use crate::run::engine::{self, Outcome};
use crate::run::write as apply;
use crate::settings::{Output, Settings};
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// How `fix` decides, file by file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Write every fix (`--yes`, or after answering `a`).
    WriteAll,
    /// Show each diff and ask.
    Ask,
    /// Show the diffs, write nothing (`--dry-run`, no terminal, or after answering `q`).
    Show,
}

/// `armfix fix`: `--yes` writes every fix, `--dry-run` (or a standard input that is not a
/// terminal) only shows the diffs, otherwise each diff is asked about.
pub(super) fn run(settings: &Settings, yes: bool, dry_run: bool) -> Result<i32> {
    let (walk, output) = (&settings.walk, &settings.output);
    if output.format != Format::Text {
        return fix_machine(settings, yes);
    }
    let paint = output.paint;
    if walk.paths.len() == 1 && walk.paths[0].as_os_str() == "-" {
        return fix_stdin(&settings.fix, walk.stdin_kind, output, dry_run);
    }
    if walk.paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!("`-` (standard input) cannot be mixed with other paths in `fix`");
    }
    let mut policy = if yes {
        Policy::WriteAll
    } else if dry_run {
        Policy::Show
    } else if std::io::stdin().is_terminal() {
        Policy::Ask
    } else {
        if !output.quiet {
            note!(
                "armfix: standard input is not a terminal, so nothing will be written \
                 (showing the diffs only); run `armfix fix --yes` to write the fixes"
            );
        }
        Policy::Show
    };
    let dry = policy == Policy::Show;
    let reports = processed(settings)?;
    let mut totals = Totals::default();
    let mut writes = vec![report::Write::No; reports.len()];
    let mut stdin = std::io::stdin().lock();
    for (i, r) in reports.iter().enumerate() {
        let name = r.display();
        let Some((original, analysis, fixed)) = analysed(r, &name, &mut totals, output) else {
            continue;
        };
        if analysis.findings.is_empty() && output.verbose {
            note!("armfix: {name}: no findings");
        }
        {
            let mut out = super::stdout();
            for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
                write!(out, "{}", present::finding_block(&name, f))?;
            }
            // Unsafe fixes held back: listed with their side effects, and no diff.
            for f in held(analysis) {
                write!(out, "{}", present::finding_block(&name, f))?;
                if !output.quiet {
                    writeln!(out, "{}", present::HELD_BACK_NOTE)?;
                }
            }
        }
        let Some(fixed) = fixed else { continue };
        {
            // Unsafe fixes the diff carries (`--unsafe-fixes`): their side effects above it.
            let mut out = super::stdout();
            for f in applied_unsafe(analysis) {
                write!(out, "{}", present::finding_block(&name, f))?;
            }
            write!(out, "{}", present::diff(&name, original, fixed, paint))?;
            out.flush()?;
        }
        let write = match policy {
            Policy::WriteAll => true,
            Policy::Show => false,
            Policy::Ask => match ask(&mut stdin, &name)? {
                Answer::Yes => true,
                Answer::No => false,
                Answer::All => {
                    policy = Policy::WriteAll;
                    true
                }
                Answer::Quit => {
                    policy = Policy::Show;
                    false
                }
            },
        };
        if !write {
            continue;
        }
        let Candidate::File(path) = &r.candidate else {
            continue;
        };
        writes[i] = write_fix(path, &name, original, fixed, analysis, &mut totals, output);
    }
    if !output.quiet {
        note!("{}", present::fix_summary(&totals, dry));
    }
    let remaining = totals.fixable - totals.fixed + totals.manual + totals.held;
    let code = exit_code(&totals, remaining);
    let mode = if dry {
        report::Mode::DryRun
    } else {
        report::Mode::Write
    };
    summary_md(&reports, &writes, mode, &totals, output, code)
}

/// The fixable findings whose unsafe fix the analysis' edits leave out.
fn held(analysis: &Analysis) -> impl Iterator<Item = &Finding> {
    analysis
        .findings
        .iter()
        .filter(|f| f.is_fixable() && !analysis.applies(f))
}

/// The unsafe fixes the analysis' edits carry (with `--unsafe-fixes`).
fn applied_unsafe(analysis: &Analysis) -> impl Iterator<Item = &Finding> {
    analysis
        .findings
        .iter()
        .filter(|f| f.applicability == Applicability::Unsafe && analysis.applies(f))
}

/// Writes one verified fix and says how it went.
fn write_fix(
    path: &Path,
    name: &str,
    original: &str,
    fixed: &str,
    analysis: &Analysis,
    totals: &mut Totals,
    output: &Output,
) -> report::Write {
    match apply::write_atomic(path, original.as_bytes(), fixed) {
        Ok(()) => {
            totals.fixed += analysis.applied();
            if !output.quiet {
                note!("armfix: wrote {name}");
            }
            report::Write::Written
        }
        Err(why) => {
            totals.errors += 1;
            note!("error: {name}: {why}");
            report::Write::Failed(why)
        }
    }
}

/// `fix` with a machine format: no prompt (so without `--yes` nothing is written), the
/// report alone on stdout, notes on stderr. Standard input is analysed like a file and
/// never written.
fn fix_machine(settings: &Settings, yes: bool) -> Result<i32> {
    let output = &settings.output;
    if !yes && !output.quiet {
        note!(
            "armfix: `fix --format {}` never prompts, so nothing will be written; \
             add --yes to write the fixes",
            format_name(output.format)
        );
    }
    let reports = processed(settings)?;
    let mut totals = Totals::default();
    let mut writes = vec![report::Write::No; reports.len()];
    for (i, r) in reports.iter().enumerate() {
        let name = r.display();
        let Some((original, analysis, fixed)) = analysed(r, &name, &mut totals, output) else {
            continue;
        };
        let (Some(fixed), true, Candidate::File(path)) = (fixed, yes, &r.candidate) else {
            continue;
        };
        writes[i] = write_fix(path, &name, original, fixed, analysis, &mut totals, output);
    }
    let mode = if yes {
        report::Mode::Write
    } else {
        report::Mode::DryRun
    };
    finish_machine(&reports, &writes, mode, &totals, output)?;
    if !output.quiet {
        note!("{}", present::fix_summary(&totals, !yes));
    }
    let remaining = totals.fixable - totals.fixed + totals.manual + totals.held;
    let code = exit_code(&totals, remaining);
    summary_md(&reports, &writes, mode, &totals, output, code)
}

/// The name `--format` takes for `format`.
fn format_name(format: Format) -> &'static str {
    match format {
        Format::Text => "text",
        Format::Json => "json",
        Format::Sarif => "sarif",
        Format::Github => "github",
    }
}

/// A person's answer to "Apply this fix?".
enum Answer {
    Yes,
    No,
    All,
    Quit,
}

/// Asks about one file's fix on stderr until the answer is one of y, n, a or q (end of
/// input is q).
fn ask(stdin: &mut impl BufRead, name: &str) -> Result<Answer> {
    loop {
        note_part!("Apply this fix to {name}? [y]es/[n]o/[a]ll/[q]uit: ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        if stdin.read_line(&mut line)? == 0 {
            note!();
            return Ok(Answer::Quit);
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Ok(Answer::Yes),
            "" | "n" | "no" => return Ok(Answer::No),
            "a" | "all" => return Ok(Answer::All),
            "q" | "quit" => return Ok(Answer::Quit),
            other => note!("armfix: `{other}` is not an answer; type y, n, a or q"),
        }
    }
}

/// `fix -`: a filter. The fixed document (or the input unchanged) goes to stdout; findings
/// it leaves (manual reviews, unsafe fixes held back) and the side effects of unsafe fixes
/// it makes go to stderr. `fix --dry-run -` prints the diff instead of the document and,
/// as with files, exits 1 when the input would change.
fn fix_stdin(options: &Options, kind: FileKind, output: &Output, dry_run: bool) -> Result<i32> {
    let quiet = output.quiet;
    let input = read_stdin()?;
    let outcome = engine::process_bytes_with(input.clone(), kind, options);
    let name = engine::display(&Candidate::Stdin);
    let mut out = super::stdout();
    let code = match &outcome {
        Outcome::Skipped => {
            if !dry_run {
                out.write_all(&input)?;
            }
            EXIT_CLEAN
        }
        Outcome::Error(e) => {
            if !dry_run {
                out.write_all(&input)?;
            }
            note!("error: {}", present::error_line(&name, e));
            EXIT_ERROR
        }
        Outcome::Analysed {
            original,
            analysis,
            fixed,
        } => {
            if !dry_run {
                out.write_all(fixed.as_deref().unwrap_or(original).as_bytes())?;
            } else if let Some(fixed) = fixed {
                write!(
                    out,
                    "{}",
                    present::diff(&name, original, fixed, output.paint)
                )?;
            }
            for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
                note_part!("{}", present::finding_block(&name, f));
            }
            for f in held(analysis) {
                note_part!("{}", present::finding_block(&name, f));
                if !quiet {
                    note!("{}", present::HELD_BACK_NOTE);
                }
            }
            for f in applied_unsafe(analysis) {
                note_part!("{}", present::finding_block(&name, f));
            }
            if analysis.manual() + analysis.held_unsafe() > 0 || (dry_run && fixed.is_some()) {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            }
        }
    };
    out.flush()?;
    Ok(code)
}
