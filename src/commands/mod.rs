//! Runs a command over many files: discovers them, processes them in parallel, then presents
//! the results in path order, asks (when a person is at the terminal) and writes. Exit codes
//! follow ruff: 0 nothing left to fix, 1 findings remain, 2 an error in some file.

use crate::cli::{Cli, Format};
use crate::finding::{Finding, FixSource};
use crate::lang::arm::plan::Options;
use crate::lang::FileKind;
use crate::output::present::{self, Totals};
use crate::output::progress::Spinner;
use crate::output::report;
use crate::run::batch::{process_tree, read_stdin, Walk};
use crate::run::discover::Candidate;
use crate::run::engine::{self, FileReport, Outcome};
use crate::run::write as apply;
use crate::settings::{Mode, Output, Settings};
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Runs the command line's command; the exit code is one of the `EXIT_*` codes.
pub fn run(cli: Cli) -> Result<i32> {
    let settings = Settings::new(cli).map_err(anyhow::Error::msg)?;
    match &settings.mode {
        Mode::Check => check(&settings.walk, &settings.fix, &settings.output),
        Mode::Fix { yes, dry_run } => fix(
            &settings.walk,
            &settings.fix,
            *yes,
            *dry_run,
            &settings.output,
        ),
        Mode::Patch { file } => patch(file, &settings.fix, settings.walk.stdin_kind),
        Mode::Completions(shell) => completions(*shell),
        Mode::Man => man(),
    }
}

/// `armfix completions SHELL`.
fn completions(shell: clap_complete::Shell) -> Result<i32> {
    use clap::CommandFactory;
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "armfix", &mut out);
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// `armfix man`: the manual page in roff.
fn man() -> Result<i32> {
    use clap::CommandFactory;
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}

fn count(totals: &mut Totals, findings: &[Finding]) {
    totals.files += 1;
    totals.fixable += findings.iter().filter(|f| f.is_fixable()).count();
    totals.at_source += findings
        .iter()
        .filter(|f| f.is_fixable() && f.source.as_ref().is_some_and(|s| *s != FixSource::Value))
        .count();
    totals.manual += findings.iter().filter(|f| !f.is_fixable()).count();
}

fn check(walk: &Walk, options: &Options, output: &Output) -> Result<i32> {
    let reports = processed(walk, options, output)?;
    let mut totals = Totals::default();
    let writes = vec![report::Write::No; reports.len()];
    if output.format != Format::Text {
        for r in &reports {
            match &r.outcome {
                Outcome::Skipped => skipped_note(output, r),
                Outcome::Error(e) => {
                    totals.errors += 1;
                    eprintln!("error: {}", present::error_line(&r.display(), e));
                }
                Outcome::Analysed { analysis, .. } => count(&mut totals, &analysis.findings),
            }
        }
        finish_machine(&reports, &writes, report::Mode::Check, &totals, output)?;
        if !output.quiet {
            eprintln!("{}", present::check_summary(&totals));
        }
        let code = exit_code(&totals, totals.fixable + totals.manual);
        return summary_md(
            &reports,
            &writes,
            report::Mode::Check,
            &totals,
            output,
            code,
        );
    }
    let mut out = std::io::stdout().lock();
    for r in &reports {
        let name = r.display();
        match &r.outcome {
            Outcome::Skipped => skipped_note(output, r),
            Outcome::Error(e) => {
                totals.errors += 1;
                eprintln!("error: {}", present::error_line(&name, e));
            }
            Outcome::Analysed { analysis, .. } => {
                count(&mut totals, &analysis.findings);
                if analysis.findings.is_empty() && output.verbose {
                    eprintln!("armfix: {name}: no findings");
                }
                for f in &analysis.findings {
                    writeln!(out, "{}", present::finding_line(&name, f))?;
                }
            }
        }
    }
    if !output.quiet {
        writeln!(out, "{}", present::check_summary(&totals))?;
    }
    drop(out);
    let code = exit_code(&totals, totals.fixable + totals.manual);
    summary_md(
        &reports,
        &writes,
        report::Mode::Check,
        &totals,
        output,
        code,
    )
}

/// Processes the tree, with a progress spinner on stderr when a person watches a walk that
/// takes more than a moment.
fn processed(walk: &Walk, options: &Options, output: &Output) -> Result<Vec<FileReport>> {
    let spinner = Spinner::start(
        output.format == Format::Text && !output.quiet && std::io::stderr().is_terminal(),
    );
    let reports = process_tree(walk, options);
    spinner.stop();
    reports
}

/// `--verbose`: a note for each file that was read but cannot concern the rule.
fn skipped_note(output: &Output, r: &FileReport) {
    if output.verbose {
        eprintln!(
            "armfix: skipped {}: not a deployment template that mentions managedClusters",
            r.display()
        );
    }
}

/// Prints the machine report of a run on stdout.
fn finish_machine(
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
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

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
fn summary_md(
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
            eprintln!(
                "error: cannot write the summary to {}: {}",
                path.display(),
                crate::run::discover::io_message(&e)
            );
            Ok(EXIT_ERROR)
        }
    }
}

fn exit_code(totals: &Totals, remaining: usize) -> i32 {
    if totals.errors > 0 {
        EXIT_ERROR
    } else if remaining > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// How `fix` decides, file by file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    WriteAll,
    Ask,
    Show,
}

fn fix(walk: &Walk, options: &Options, yes: bool, dry_run: bool, output: &Output) -> Result<i32> {
    if output.format != Format::Text {
        return fix_machine(walk, options, yes, output);
    }
    let paint = output.paint;
    if walk.paths.len() == 1 && walk.paths[0].as_os_str() == "-" {
        return fix_stdin(options, walk.stdin_kind);
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
            eprintln!(
                "armfix: standard input is not a terminal, so nothing will be written \
                 (showing the diffs only); run `armfix fix --yes` to write the fixes"
            );
        }
        Policy::Show
    };
    let dry = policy == Policy::Show;
    let reports = processed(walk, options, output)?;
    let mut totals = Totals::default();
    let mut writes = vec![report::Write::No; reports.len()];
    let mut stdin = std::io::stdin().lock();
    for (i, r) in reports.iter().enumerate() {
        let name = r.display();
        let Some((original, analysis, fixed)) = analysed(r, &name, &mut totals, output) else {
            continue;
        };
        if analysis.findings.is_empty() && output.verbose {
            eprintln!("armfix: {name}: no findings");
        }
        {
            let mut out = std::io::stdout().lock();
            for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
                writeln!(out, "{}", present::finding_line(&name, f))?;
            }
        }
        let Some(fixed) = fixed else { continue };
        print!("{}", present::diff(&name, original, fixed, paint));
        std::io::stdout().flush()?;
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
        eprintln!("{}", present::fix_summary(&totals, dry));
    }
    let remaining = totals.fixable - totals.fixed + totals.manual;
    let code = exit_code(&totals, remaining);
    let mode = if dry {
        report::Mode::DryRun
    } else {
        report::Mode::Write
    };
    summary_md(&reports, &writes, mode, &totals, output, code)
}

/// The parts of an analysed report, counted in `totals`; a skipped report gets its verbose
/// note and an error its line on stderr, and neither goes further.
fn analysed<'r>(
    r: &'r FileReport,
    name: &str,
    totals: &mut Totals,
    output: &Output,
) -> Option<(&'r String, &'r crate::finding::Analysis, &'r Option<String>)> {
    match &r.outcome {
        Outcome::Skipped => {
            skipped_note(output, r);
            None
        }
        Outcome::Error(e) => {
            totals.errors += 1;
            eprintln!("error: {}", present::error_line(name, e));
            None
        }
        Outcome::Analysed {
            original,
            analysis,
            fixed,
        } => {
            count(totals, &analysis.findings);
            Some((original, analysis, fixed))
        }
    }
}

/// Writes one verified fix and says how it went.
fn write_fix(
    path: &std::path::Path,
    name: &str,
    original: &str,
    fixed: &str,
    analysis: &crate::finding::Analysis,
    totals: &mut Totals,
    output: &Output,
) -> report::Write {
    match apply::write_atomic(path, original.as_bytes(), fixed) {
        Ok(()) => {
            totals.fixed += analysis.fixable();
            if !output.quiet {
                eprintln!("armfix: wrote {name}");
            }
            report::Write::Written
        }
        Err(why) => {
            totals.errors += 1;
            eprintln!("error: {name}: {why}");
            report::Write::Failed(why)
        }
    }
}

/// `fix` with a machine format: no prompt (so without `--yes` nothing is written), the
/// report alone on stdout, notes on stderr. Standard input is analysed like a file and
/// never written.
fn fix_machine(walk: &Walk, options: &Options, yes: bool, output: &Output) -> Result<i32> {
    if !yes && !output.quiet {
        eprintln!(
            "armfix: `fix --format {}` never prompts, so nothing will be written; \
             add --yes to write the fixes",
            format_name(output.format)
        );
    }
    let reports = processed(walk, options, output)?;
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
        eprintln!("{}", present::fix_summary(&totals, !yes));
    }
    let remaining = totals.fixable - totals.fixed + totals.manual;
    let code = exit_code(&totals, remaining);
    summary_md(&reports, &writes, mode, &totals, output, code)
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Text => "text",
        Format::Json => "json",
        Format::Sarif => "sarif",
        Format::Github => "github",
    }
}

enum Answer {
    Yes,
    No,
    All,
    Quit,
}

fn ask(stdin: &mut impl BufRead, name: &str) -> Result<Answer> {
    loop {
        eprint!("Apply this fix to {name}? [y]es/[n]o/[a]ll/[q]uit: ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        if stdin.read_line(&mut line)? == 0 {
            eprintln!();
            return Ok(Answer::Quit);
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Ok(Answer::Yes),
            "" | "n" | "no" => return Ok(Answer::No),
            "a" | "all" => return Ok(Answer::All),
            "q" | "quit" => return Ok(Answer::Quit),
            other => eprintln!("armfix: `{other}` is not an answer; type y, n, a or q"),
        }
    }
}

/// `fix -`: a filter. The fixed document (or the input unchanged) goes to stdout.
fn fix_stdin(options: &Options, kind: FileKind) -> Result<i32> {
    let input = read_stdin()?;
    let outcome = engine::process_bytes_with(input.clone(), kind, options);
    let name = engine::display(&Candidate::Stdin);
    let mut out = std::io::stdout().lock();
    let code = match &outcome {
        Outcome::Skipped => {
            out.write_all(&input)?;
            EXIT_CLEAN
        }
        Outcome::Error(e) => {
            out.write_all(&input)?;
            eprintln!("error: {}", present::error_line(&name, e));
            EXIT_ERROR
        }
        Outcome::Analysed {
            original,
            analysis,
            fixed,
        } => {
            out.write_all(fixed.as_deref().unwrap_or(original).as_bytes())?;
            for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
                eprintln!("{}", present::finding_line(&name, f));
            }
            if analysis.manual() > 0 {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            }
        }
    };
    out.flush()?;
    Ok(code)
}

/// `patch FILE`: the file's RFC 6902 patch as a JSON array.
fn patch(file: &std::path::Path, options: &Options, stdin: FileKind) -> Result<i32> {
    let (report, kind) = if file.as_os_str() == "-" {
        let outcome = engine::process_bytes_with(read_stdin()?, stdin, options);
        let candidate = Candidate::Stdin;
        (FileReport { candidate, outcome }, stdin)
    } else {
        let kind = Candidate::File(file.to_path_buf()).kind();
        (
            engine::process_path_with(&file.to_path_buf(), kind, options),
            kind,
        )
    };
    let name = report.display();
    if !kind.has_json_patch() {
        eprintln!(
            "armfix: {name} is a script: its fixes are text edits, not a JSON Patch, so the \
             patch is empty; run `armfix fix --dry-run {name}` to see them"
        );
    }
    let ops = match &report.outcome {
        Outcome::Skipped => Vec::new(),
        Outcome::Error(e) => {
            eprintln!("error: {}", present::error_line(&name, e));
            return Ok(EXIT_ERROR);
        }
        Outcome::Analysed { analysis, .. } => {
            for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
                eprintln!("{}", present::finding_line(&name, f));
            }
            analysis.patch.clone()
        }
    };
    println!("{}", serde_json::to_string_pretty(&ops)?);
    Ok(EXIT_CLEAN)
}
