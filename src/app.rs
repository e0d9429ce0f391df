//! Runs a command over many files: discovers them, processes them in parallel, then presents
//! the results in path order, asks (when a person is at the terminal) and writes. Exit codes
//! follow ruff: 0 nothing left to fix, 1 findings remain, 2 an error in some file.

use crate::cli::{Cli, ColorChoice, Command, WalkArgs};
use crate::discover::{self, Candidate, Found, WalkOptions};
use crate::engine::{self, FileReport, Outcome};
use crate::present::{self, Paint, Totals};
use crate::{apply, finding::Finding};
use anyhow::{Context, Result};
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

pub fn run(cli: Cli) -> Result<i32> {
    let paint = Paint(match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    });
    match cli.command {
        Command::Check(walk) => check(&walk),
        Command::Fix { walk, yes, dry_run } => fix(&walk, yes, dry_run, paint),
        Command::Patch { file } => patch(&file),
    }
}

/// Discovers and processes every file; walk errors come back as error reports. Files are
/// processed on the walker's threads as soon as they are found; the reports are sorted by
/// path at the end, so the output does not depend on the parallelism. Only reports that
/// carry a fix keep the file's text, so memory grows with the files in flight and the fixes
/// found, not with the repository.
fn process_all(walk: &WalkArgs) -> Result<Vec<FileReport>> {
    let opts = WalkOptions {
        include: walk.include.clone(),
        exclude: walk.exclude.clone(),
        no_ignore: walk.no_ignore,
    };
    let stdin = if walk.paths.iter().any(|p| p.as_os_str() == "-") {
        Some(read_stdin()?)
    } else {
        None
    };
    let reports = Mutex::new(Vec::new());
    let process = |found: Found| {
        let report = match found {
            Found::Candidate(c @ Candidate::Stdin) => FileReport {
                outcome: engine::process_bytes(stdin.clone().unwrap_or_default(), c.kind()),
                candidate: c,
            },
            Found::Candidate(Candidate::File(p)) => lighten(process_file(p)),
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
    discover::walk(&walk.paths, &opts, &process).map_err(anyhow::Error::msg)?;
    let mut reports = reports.into_inner().unwrap_or_else(|p| p.into_inner());
    reports.sort_by(|a, b| a.candidate.cmp(&b.candidate));
    Ok(reports)
}

/// Reads a file into this thread's reusable buffer and processes it. Most files fail the
/// prefilter and are dropped without an allocation of their own; the bytes are copied out
/// only for files that go on to be parsed. A file that cannot be read goes the usual way
/// (`engine::process_path`), for the usual error.
fn process_file(path: PathBuf) -> FileReport {
    thread_local!(static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) });
    /// A buffer grown past this by a large file is given back after it.
    const KEEP: usize = 1 << 20;
    let candidate = Candidate::File(path);
    let kind = candidate.kind();
    let Candidate::File(path) = &candidate else {
        unreachable!("built as a file just above")
    };
    let bytes = BUF.with_borrow_mut(|buf| {
        buf.clear();
        let read = std::fs::File::open(path).and_then(|mut f| f.read_to_end(buf));
        let bytes = match read {
            Err(_) => None,
            Ok(_) if !kind.may_concern(buf) => Some(None),
            Ok(_) => Some(Some(buf.clone())),
        };
        if buf.capacity() > KEEP {
            *buf = Vec::new();
        }
        bytes
    });
    match bytes {
        None => engine::process_path(path, kind),
        Some(None) => FileReport {
            candidate,
            outcome: Outcome::Skipped,
        },
        Some(Some(bytes)) => FileReport {
            outcome: engine::process_bytes(bytes, kind),
            candidate,
        },
    }
}

/// Drops the text of a report that has no fix to show or write: nothing reads it.
fn lighten(mut report: FileReport) -> FileReport {
    if let Outcome::Analysed {
        original,
        fixed: None,
        ..
    } = &mut report.outcome
    {
        *original = String::new();
    }
    report
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .context("cannot read standard input")?;
    Ok(buf)
}

fn count(totals: &mut Totals, findings: &[Finding]) {
    totals.files += 1;
    totals.fixable += findings.iter().filter(|f| f.is_fixable()).count();
    totals.manual += findings.iter().filter(|f| !f.is_fixable()).count();
}

fn check(walk: &WalkArgs) -> Result<i32> {
    let reports = process_all(walk)?;
    let mut totals = Totals::default();
    let mut out = std::io::stdout().lock();
    for r in &reports {
        let name = r.display();
        match &r.outcome {
            Outcome::Skipped => {}
            Outcome::Error(e) => {
                totals.errors += 1;
                eprintln!("error: {}", present::error_line(&name, e));
            }
            Outcome::Analysed { analysis, .. } => {
                count(&mut totals, &analysis.findings);
                for f in &analysis.findings {
                    writeln!(out, "{}", present::finding_line(&name, f))?;
                }
            }
        }
    }
    writeln!(out, "{}", present::check_summary(&totals))?;
    Ok(exit_code(&totals, totals.fixable + totals.manual))
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
enum Mode {
    WriteAll,
    Ask,
    Show,
}

fn fix(walk: &WalkArgs, yes: bool, dry_run: bool, paint: Paint) -> Result<i32> {
    if walk.paths.len() == 1 && walk.paths[0].as_os_str() == "-" {
        return fix_stdin();
    }
    if walk.paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!("`-` (standard input) cannot be mixed with other paths in `fix`");
    }
    let mut mode = if yes {
        Mode::WriteAll
    } else if dry_run {
        Mode::Show
    } else if std::io::stdin().is_terminal() {
        Mode::Ask
    } else {
        eprintln!(
            "armfix: standard input is not a terminal, so nothing will be written \
             (showing the diffs only); run `armfix fix --yes` to write the fixes"
        );
        Mode::Show
    };
    let reports = process_all(walk)?;
    let mut totals = Totals::default();
    let mut stdin = std::io::stdin().lock();
    for r in &reports {
        let name = r.display();
        let (original, analysis, fixed) = match &r.outcome {
            Outcome::Skipped => continue,
            Outcome::Error(e) => {
                totals.errors += 1;
                eprintln!("error: {}", present::error_line(&name, e));
                continue;
            }
            Outcome::Analysed {
                original,
                analysis,
                fixed,
            } => (original, analysis, fixed),
        };
        count(&mut totals, &analysis.findings);
        {
            let mut out = std::io::stdout().lock();
            for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
                writeln!(out, "{}", present::finding_line(&name, f))?;
            }
        }
        let Some(fixed) = fixed else { continue };
        print!("{}", present::diff(&name, original, fixed, paint));
        std::io::stdout().flush()?;
        let write = match mode {
            Mode::WriteAll => true,
            Mode::Show => false,
            Mode::Ask => match ask(&mut stdin, &name)? {
                Answer::Yes => true,
                Answer::No => false,
                Answer::All => {
                    mode = Mode::WriteAll;
                    true
                }
                Answer::Quit => {
                    mode = Mode::Show;
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
        match apply::write_atomic(path, original.as_bytes(), fixed) {
            Ok(()) => {
                totals.fixed += analysis.fixable();
                eprintln!("armfix: wrote {name}");
            }
            Err(why) => {
                totals.errors += 1;
                eprintln!("error: {name}: {why}");
            }
        }
    }
    eprintln!("{}", present::fix_summary(&totals));
    let remaining = totals.fixable - totals.fixed + totals.manual;
    Ok(exit_code(&totals, remaining))
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
fn fix_stdin() -> Result<i32> {
    let input = read_stdin()?;
    let outcome = engine::process_bytes(input.clone(), Candidate::Stdin.kind());
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
fn patch(file: &std::path::Path) -> Result<i32> {
    let report = if file.as_os_str() == "-" {
        FileReport {
            candidate: Candidate::Stdin,
            outcome: engine::process_bytes(read_stdin()?, Candidate::Stdin.kind()),
        }
    } else {
        let candidate = Candidate::File(file.to_path_buf());
        engine::process_path(&file.to_path_buf(), candidate.kind())
    };
    let name = report.display();
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
