//! `armfix patch FILE`: prints one file's fixes as an RFC 6902 JSON Patch (`[]` if none).
//! A parameter file is read with the templates it is linked to, so its patch is its own
//! fixes for them.

use super::{note, note_part};
use super::{EXIT_CLEAN, EXIT_ERROR};
use crate::output::present;
use crate::run::batch::read_stdin;
use crate::run::discover::Candidate;
use crate::run::engine::{self, FileReport, Outcome};
use crate::settings::Settings;
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// `patch FILE`: the file's RFC 6902 patch as a JSON array.
pub(super) fn run(settings: &Settings, file: &Path) -> Result<i32> {
    let (options, stdin) = (&settings.fix, settings.walk.stdin_kind);
    let (report, kind) = if file.as_os_str() == "-" {
        let outcome = engine::process_bytes_with(read_stdin()?, stdin, options);
        let candidate = Candidate::Stdin;
        (FileReport { candidate, outcome }, stdin)
    } else {
        let kind = Candidate::File(file.to_path_buf()).kind();
        match crate::run::configurations::targets(file) {
            // A parameter file's patch is what its templates need of it: they are read
            // with it, as a run over both would.
            crate::run::configurations::Targets::Linked(templates, _) => {
                (as_parameter_file(settings, file, templates)?, kind)
            }
            _ => (
                engine::process_path_with(&file.to_path_buf(), kind, options),
                kind,
            ),
        }
    };
    if let Some(note) = crate::psrule::rule_off() {
        note!("armfix: {note}");
        writeln!(super::stdout(), "[]")?;
        return Ok(EXIT_CLEAN);
    }
    let mut report = report;
    crate::psrule::suppress(std::slice::from_mut(&mut report), settings.output.verbose);
    let name = report.display();
    if !kind.has_json_patch() {
        note!(
            "armfix: {name} {}, so the patch is empty; run `armfix fix --dry-run {name}` to \
             see them",
            kind.language().no_patch_reason()
        );
    }
    let ops = match &report.outcome {
        Outcome::Skipped => Vec::new(),
        Outcome::Error(e) => {
            note!("error: {}", present::error_line(&name, e));
            return Ok(EXIT_ERROR);
        }
        Outcome::Analysed { analysis, .. } => {
            // What the patch leaves out (manual reviews, unsafe fixes held back), and the
            // side effects of unsafe fixes it carries (`--unsafe-fixes`).
            for f in &analysis.findings {
                if !analysis.applies(f) || !f.side_effects.is_empty() {
                    note_part!("{}", present::finding_block(&name, f));
                }
                if f.is_fixable() && !analysis.applies(f) && !settings.output.quiet {
                    note!("{}", present::HELD_BACK_NOTE);
                }
            }
            analysis.patch.clone()
        }
    };
    let mut out = super::stdout();
    writeln!(out, "{}", serde_json::to_string_pretty(&ops)?)?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// The report of parameter file `file`, from a run over it and its `templates`.
fn as_parameter_file(
    settings: &Settings,
    file: &Path,
    templates: Vec<std::path::PathBuf>,
) -> Result<FileReport> {
    let mut paths = templates;
    paths.push(file.to_path_buf());
    let walk = crate::run::batch::Walk {
        paths,
        options: Default::default(),
        stdin_kind: settings.walk.stdin_kind,
        verbose: settings.output.verbose,
    };
    let (reports, _) = crate::run::batch::process_tree(&walk, &settings.fix)?;
    let wanted = std::fs::canonicalize(file).ok();
    Ok(reports
        .into_iter()
        .find(|r| match &r.candidate {
            Candidate::File(p) => p == file || std::fs::canonicalize(p).ok() == wanted,
            Candidate::Stdin => false,
        })
        .unwrap_or_else(|| {
            engine::process_path_with(
                &file.to_path_buf(),
                Candidate::File(file.to_path_buf()).kind(),
                &settings.fix,
            )
        }))
}
