//! `armfix patch FILE`: prints one file's fixes as an RFC 6902 JSON Patch (`[]` if none).

use super::{EXIT_CLEAN, EXIT_ERROR};
use crate::output::present;
use crate::run::batch::read_stdin;
use crate::run::discover::Candidate;
use crate::run::engine::{self, FileReport, Outcome};
use crate::settings::Settings;
use anyhow::Result;
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
        (
            engine::process_path_with(&file.to_path_buf(), kind, options),
            kind,
        )
    };
    let name = report.display();
    if !kind.has_json_patch() {
        eprintln!(
            "armfix: {name} {}, so the patch is empty; run `armfix fix --dry-run {name}` to \
             see them",
            kind.language().no_patch_reason()
        );
    }
    let ops = match &report.outcome {
        Outcome::Skipped => Vec::new(),
        Outcome::Error(e) => {
            eprintln!("error: {}", present::error_line(&name, e));
            return Ok(EXIT_ERROR);
        }
        Outcome::Analysed { analysis, .. } => {
            // What the patch leaves out (manual reviews, unsafe fixes held back), and the
            // side effects of unsafe fixes it carries (`--unsafe-fixes`).
            for f in &analysis.findings {
                if !analysis.applies(f) || !f.side_effects.is_empty() {
                    eprint!("{}", present::finding_block(&name, f));
                }
                if f.is_fixable() && !analysis.applies(f) && !settings.output.quiet {
                    eprintln!("{}", present::HELD_BACK_NOTE);
                }
            }
            analysis.patch.clone()
        }
    };
    println!("{}", serde_json::to_string_pretty(&ops)?);
    Ok(EXIT_CLEAN)
}
