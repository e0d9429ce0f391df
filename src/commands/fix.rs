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
use crate::output::review;
use crate::run::batch::read_stdin;
use crate::run::discover::Candidate;
use crate::run::engine::{self, FileReport, Outcome};
use crate::run::subset;
use crate::run::write as apply;
use crate::settings::{Output, Settings};
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// How `fix` decides, file by file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Write every fix (`--yes`).
    WriteAll,
    /// Show each finding's diff and ask (a terminal on both standard input and output).
    Ask,
    /// Show the diffs, write nothing (`--dry-run`, or no terminal).
    Show,
}

/// `armfix fix`: `--yes` writes every fix, `--dry-run` (or a standard input or output that
/// is not a terminal) only shows the diffs, otherwise each finding's fix is asked about, as
/// `git add -p` asks about each hunk.
///
/// Without a terminal on standard output (`armfix fix > out.txt`) armfix does not ask: the
/// diffs would go where the person answering cannot see them. It behaves as `--dry-run`
/// (as ruff, which never asks) and says so on stderr, ending with the command that writes.
pub(super) fn run(settings: &Settings, yes: bool, dry_run: bool) -> Result<i32> {
    let (walk, output) = (&settings.walk, &settings.output);
    if output.format != Format::Text {
        return fix_machine(settings, yes);
    }
    if walk.paths.len() == 1 && walk.paths[0].as_os_str() == "-" {
        return fix_stdin(&settings.fix, walk.stdin_kind, output, dry_run);
    }
    if walk.paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!("`-` (standard input) cannot be mixed with other paths in `fix`");
    }
    let policy = if yes {
        Policy::WriteAll
    } else if dry_run {
        Policy::Show
    } else {
        let why = if !std::io::stdin().is_terminal() {
            Some("standard input is not a terminal")
        } else if !std::io::stdout().is_terminal() {
            Some("standard output is not a terminal (armfix does not ask about diffs you cannot see)")
        } else {
            None
        };
        match why {
            None => Policy::Ask,
            Some(why) => {
                if !output.quiet {
                    note!("armfix: {why}, so nothing will be written (showing the diffs only)");
                }
                Policy::Show
            }
        }
    };
    let dry = policy == Policy::Show;
    let reports = processed(settings)?;
    let mut totals = Totals::default();
    let mut writes = vec![report::Write::No; reports.len()];
    let mut review = Review {
        settings,
        width: if output.paint.0 {
            present::terminal_width()
        } else {
            None
        },
        asked: 0,
        total: 0,
        accept_all: false,
        stdin: std::io::stdin().lock(),
    };
    if policy == Policy::Ask {
        review.total = reports
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Analysed {
                    original,
                    analysis,
                    fixed: Some(fixed),
                } => subset::parts(r.candidate.kind(), original, analysis, fixed).len(),
                _ => 0,
            })
            .sum();
    }
    let mut shown = 0;
    let mut quit = false;
    for (i, r) in reports.iter().enumerate() {
        let name = r.display();
        let Some((original, analysis, fixed)) = analysed(r, &name, &mut totals, output) else {
            continue;
        };
        if analysis.findings.is_empty() && output.verbose {
            note!("armfix: {name}: no findings");
        }
        not_applied(&name, analysis, output)?;
        let Some(fixed) = fixed else { continue };
        if policy == Policy::Ask {
            let Candidate::File(path) = &r.candidate else {
                continue;
            };
            let file = File {
                path,
                name: &name,
                kind: r.candidate.kind(),
            };
            let (write, flow) = review.file(&file, r, &mut totals)?;
            writes[i] = write;
            if flow == Flow::Quit {
                quit = true;
                break;
            }
            continue;
        }
        {
            let mut out = super::stdout();
            if policy == Policy::Show {
                // Each finding's message above the diff, as the review shows them.
                let language = r.candidate.kind().language();
                let path = match &r.candidate {
                    Candidate::File(p) => Some(p.as_path()),
                    _ => None,
                };
                let clusters = review::Clusters::new(language.shape(original)).with_names(
                    crate::run::prove::names_for_display(analysis, original, language, path),
                );
                for f in analysis.findings.iter().filter(|f| analysis.applies(f)) {
                    write!(out, "{}", review::header(&name, f, &clusters))?;
                }
            } else {
                // Unsafe fixes the diff carries (`--unsafe-fixes`): their side effects above it.
                for f in applied_unsafe(analysis) {
                    write!(out, "{}", present::finding_block(&name, f))?;
                }
            }
            let diff = present::diff_fitted(&name, original, fixed, output.paint, review.width);
            write!(out, "{diff}")?;
            out.flush()?;
        }
        shown += 1;
        if policy == Policy::WriteAll {
            if let Candidate::File(path) = &r.candidate {
                writes[i] = write_fix(path, &name, original, fixed, analysis, &mut totals, output);
            }
        }
    }
    if !output.quiet && !quit {
        note!("{}", present::fix_summary(&totals, dry));
        if dry && shown > 0 {
            note!("{}", how_to_write());
        }
    }
    let remaining = totals.fixable.saturating_sub(totals.fixed) + totals.manual + totals.held;
    let code = exit_code(&totals, remaining);
    let mode = if dry {
        report::Mode::DryRun
    } else {
        report::Mode::Write
    };
    summary_md(&reports, &writes, mode, &totals, output, code)
}

/// The findings of a file that its edits do not carry, on stdout: manual reviews, and unsafe
/// fixes held back (with their side effects and how to apply them, and no diff).
fn not_applied(name: &str, analysis: &Analysis, output: &Output) -> Result<()> {
    let mut out = super::stdout();
    for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
        write!(out, "{}", present::finding_block(name, f))?;
    }
    for f in held(analysis) {
        write!(out, "{}", present::finding_block(name, f))?;
        if !output.quiet {
            writeln!(out, "{}", present::HELD_BACK_NOTE)?;
        }
    }
    Ok(())
}

/// The last line of a dry run: the command that writes what it showed, with the paths and
/// options given (never a wider scope), or how to make it when the command line cannot be
/// written back for a shell.
fn how_to_write() -> String {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match review::write_command(&args, armfix_on_path_is_this()) {
        Some(command) => format!("armfix: to write these fixes, run: {command}"),
        None => "armfix: to write these fixes, run the same command with --yes instead of \
                 --dry-run"
            .to_string(),
    }
}

/// Whether `armfix`, looked up on the `PATH`, is the program running now (so the command
/// armfix prints can say `armfix`).
fn armfix_on_path_is_this() -> bool {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return false;
    };
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path)
        .any(|dir| std::fs::canonicalize(dir.join("armfix")).is_ok_and(|p| p == me))
}

/// One file under review.
struct File<'a> {
    path: &'a Path,
    name: &'a str,
    kind: FileKind,
}

/// Whether the review goes on after a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next,
    Quit,
}

/// The interactive review's state across files.
struct Review<'s> {
    settings: &'s Settings,
    /// The terminal's columns, when colour is on (see [`present::diff_fitted`]).
    width: Option<usize>,
    /// Questions asked so far, and how many there are in all.
    asked: usize,
    total: usize,
    /// `a` was answered: every later fix is applied without asking.
    accept_all: bool,
    stdin: std::io::StdinLock<'static>,
}

impl Review<'_> {
    /// Reviews one file's fixes, finding by finding (see [`subset::parts`] for those asked
    /// about together), then writes the accepted ones, proven again as a part of their own
    /// when they are not all of them. `e` opens an editor, then starts over on the file as
    /// the editor left it.
    fn file(
        &mut self,
        file: &File,
        first: &FileReport,
        totals: &mut Totals,
    ) -> Result<(report::Write, Flow)> {
        let output = &self.settings.output;
        let mut reread: Option<FileReport> = None;
        let mut write = report::Write::No;
        loop {
            let report = reread.as_ref().unwrap_or(first);
            let Outcome::Analysed {
                original,
                analysis,
                fixed: Some(fixed),
            } = &report.outcome
            else {
                return Ok((write, Flow::Next));
            };
            let parts = subset::parts(file.kind, original, analysis, fixed);
            let language = file.kind.language();
            let clusters = review::Clusters::new(language.shape(original)).with_names(
                crate::run::prove::names_for_display(analysis, original, language, Some(file.path)),
            );
            let mut accepted: Vec<&subset::Part> = Vec::new();
            let mut edited = None;
            let mut quit = false;
            let mut k = 0;
            while k < parts.len() {
                let part = &parts[k];
                let text = if parts.len() == 1 {
                    fixed.clone()
                } else {
                    crate::edit::apply(original, &part.edits).map_err(anyhow::Error::msg)?
                };
                {
                    let mut out = super::stdout();
                    for &j in &part.findings {
                        write!(
                            out,
                            "{}",
                            review::header(file.name, &analysis.findings[j], &clusters)
                        )?;
                    }
                    let diff =
                        present::diff_fitted(file.name, original, &text, output.paint, self.width);
                    write!(out, "{diff}")?;
                    out.flush()?;
                }
                if self.accept_all {
                    accepted.push(part);
                    k += 1;
                    continue;
                }
                self.asked += 1;
                let at = &analysis.findings[part.findings[0]];
                match self.ask(file.name, part.findings.len())? {
                    Answer::Yes => accepted.push(part),
                    Answer::No => skipped(file.name, analysis, &part.findings),
                    Answer::All => {
                        self.accept_all = true;
                        accepted.push(part);
                    }
                    Answer::Rest => {
                        // The questions this answers count as asked.
                        self.asked += parts.len() - k - 1;
                        for p in &parts[k..] {
                            skipped(file.name, analysis, &p.findings);
                        }
                        break;
                    }
                    Answer::Quit => {
                        quit = true;
                        break;
                    }
                    Answer::Edit => {
                        edited = Some((at.line, at.column, parts.len() - k - 1));
                        break;
                    }
                }
                k += 1;
            }
            let fixed_before = totals.fixed;
            if !accepted.is_empty() {
                write = write_part(
                    file, original, analysis, fixed, &accepted, totals, output, quit,
                );
            }
            let fixed_here = totals.fixed - fixed_before;
            if quit {
                return Ok((write, Flow::Quit));
            }
            let Some((line, column, unasked)) = edited else {
                return Ok((write, Flow::Next));
            };
            open_editor(file.path, line, column);
            // Read and checked again, on its own (files linked to it keep their analysis).
            let again =
                engine::process_path_with(&file.path.to_path_buf(), file.kind, &self.settings.fix);
            let mut old = Totals::default();
            analysed(report, file.name, &mut old, output);
            let mut new = Totals::default();
            let found = analysed(&again, file.name, &mut new, output);
            retotal(totals, &old, &new, fixed_here);
            self.total -= unasked;
            match found {
                Some((_, analysis, fixed)) => {
                    if analysis.findings.is_empty() {
                        note!("armfix: {}: no findings left", file.name);
                    }
                    not_applied(file.name, analysis, output)?;
                    if let (Some(fixed), Outcome::Analysed { original, .. }) =
                        (fixed, &again.outcome)
                    {
                        self.total += subset::parts(file.kind, original, analysis, fixed).len();
                    }
                }
                None => return Ok((write, Flow::Next)),
            }
            reread = Some(again);
        }
    }

    /// Asks about the fix shown until the answer is one of the keys (end of input is `q`).
    fn ask(&mut self, name: &str, count: usize) -> Result<Answer> {
        loop {
            note_part!("{}", review::prompt(self.asked, self.total, name, count));
            std::io::stderr().flush()?;
            let mut line = String::new();
            if self.stdin.read_line(&mut line)? == 0 {
                note!();
                return Ok(Answer::Quit);
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(Answer::Yes),
                "" | "n" | "no" => return Ok(Answer::No),
                "a" | "all" => return Ok(Answer::All),
                "d" => return Ok(Answer::Rest),
                "q" | "quit" => return Ok(Answer::Quit),
                "e" | "edit" => return Ok(Answer::Edit),
                "?" | "h" | "help" => note!("{}", review::HELP),
                other => {
                    note!("armfix: `{other}` is not an answer; type y, n, a, d, q, e or ? (help)")
                }
            }
        }
    }
}

/// Says that the fixes of findings `part` were skipped, one line each.
fn skipped(name: &str, analysis: &Analysis, part: &[usize]) {
    for &j in part {
        let f = &analysis.findings[j];
        note!("armfix: skipped {name}:{}:{}", f.line, f.column);
    }
}

/// Replaces a file's counts in `totals` (`old`) with its counts after an edit (`new`); the
/// `fixed_here` fixes armfix wrote before the editor opened stay counted as fixable.
fn retotal(totals: &mut Totals, old: &Totals, new: &Totals, fixed_here: usize) {
    totals.fixable = totals.fixable - old.fixable + new.fixable + fixed_here;
    totals.at_source = totals.at_source - old.at_source + new.at_source;
    totals.manual = totals.manual - old.manual + new.manual;
    totals.held = totals.held - old.held + new.held;
    totals.unsafe_applied = totals.unsafe_applied - old.unsafe_applied + new.unsafe_applied;
    totals.errors += new.errors;
}

/// Writes the fixes of findings `accepted` of a file (all of them, or a part proven again
/// on its own); a part that cannot be proven alone is not written, and says why.
#[allow(clippy::too_many_arguments)]
fn write_part(
    file: &File,
    original: &str,
    analysis: &Analysis,
    fixed: &str,
    accepted: &[&subset::Part],
    totals: &mut Totals,
    output: &Output,
    silent: bool,
) -> report::Write {
    let count: usize = accepted.iter().map(|p| p.findings.len()).sum();
    let all = count == analysis.applied();
    let text = match subset::apply_part(
        file.kind,
        Some(file.path),
        original,
        analysis,
        fixed,
        accepted,
    ) {
        Ok(text) => text,
        Err(why) => {
            note!(
                "armfix: {}: not written: the fixes you accepted cannot be applied without the \
                 others: {why}; their findings stand (apply them together, or by hand)",
                file.name
            );
            return report::Write::No;
        }
    };
    match apply::write_atomic(file.path, original.as_bytes(), &text) {
        Ok(()) => {
            totals.fixed += count;
            if !output.quiet && !silent {
                if all {
                    note!("armfix: wrote {}", file.name);
                } else {
                    note!(
                        "armfix: wrote {} ({} of its {} fixes)",
                        file.name,
                        count,
                        analysis.applied()
                    );
                }
            }
            report::Write::Written
        }
        Err(why) => {
            totals.errors += 1;
            note!("error: {}: {why}", file.name);
            report::Write::Failed(why)
        }
    }
}

/// Opens `path` in `$VISUAL`, else `$EDITOR`, else `vi`, at `line` (VS Code and its kin:
/// `-g path:line:column`; Sublime Text and Zed: `path:line:column`; every other editor:
/// `+line path`), through `sh` so that an editor given with arguments (`code --wait`)
/// works; waits for it to exit. A failure to start it is said and the file re-read anyway.
fn open_editor(path: &Path, line: usize, column: usize) {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    let program = editor
        .split_whitespace()
        .next()
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or_default()
        .to_string();
    let target = path.display().to_string();
    let args: Vec<String> = match program.as_str() {
        "code" | "code-insiders" | "codium" | "cursor" => {
            vec!["-g".into(), format!("{target}:{line}:{column}")]
        }
        "subl" | "zed" => vec![format!("{target}:{line}:{column}")],
        _ => vec![format!("+{line}"), target],
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .args(&args)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => note!("armfix: the editor `{editor}` exited with {s}; reading the file again"),
        Err(e) => note!("armfix: cannot start the editor `{editor}`: {e}"),
    }
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
    let remaining = totals.fixable.saturating_sub(totals.fixed) + totals.manual + totals.held;
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
    /// `a`: this and every later one.
    All,
    /// `d`: none of the rest of this file.
    Rest,
    Quit,
    Edit,
}

/// `fix -`: a filter. The fixed document (or the input unchanged) goes to stdout; findings
/// it leaves (manual reviews, unsafe fixes held back) and the side effects of unsafe fixes
/// it makes go to stderr. `fix --dry-run -` prints the diff instead of the document and,
/// as with files, exits 1 when the input would change.
fn fix_stdin(options: &Options, kind: FileKind, output: &Output, dry_run: bool) -> Result<i32> {
    let quiet = output.quiet;
    let input = read_stdin()?;
    let outcome = engine::process_bytes_with(input.clone(), kind, options);
    // The PSRule settings hold for standard input as for the file it stands for: the rule
    // turned off leaves it as it is, and a suppressed cluster's fixes go.
    let outcome = if let Some(note) = crate::psrule::rule_off() {
        note!("armfix: {note}");
        Outcome::Skipped
    } else {
        let mut report = engine::FileReport {
            candidate: Candidate::Stdin,
            outcome,
        };
        crate::psrule::suppress(std::slice::from_mut(&mut report), output.verbose);
        report.outcome
    };
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
