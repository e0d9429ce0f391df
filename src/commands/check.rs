//! `armfix check`: reports every failing cluster (as finding lines, each with the side
//! effects of an unsafe fix under it, or as a machine report) and writes nothing.

use super::note;
use super::tally::{analysed, exit_code, finish_machine, processed, summary_md};
use crate::cli::Format;
use crate::output::present::{self, Totals};
use crate::output::report;
use crate::settings::Settings;
use anyhow::Result;
use std::io::Write;

/// `armfix check`: exit 1 when any finding remains, 2 when any file had an error.
pub(super) fn run(settings: &Settings) -> Result<i32> {
    let output = &settings.output;
    let text = output.format == Format::Text;
    let reports = processed(settings)?;
    let mut totals = Totals::default();
    {
        let mut out = super::stdout();
        for r in &reports {
            let name = r.display();
            let Some((_, analysis, _)) = analysed(r, &name, &mut totals, output) else {
                continue;
            };
            if !text {
                continue;
            }
            if analysis.findings.is_empty() && output.verbose {
                note!("armfix: {name}: no findings");
            }
            for f in &analysis.findings {
                write!(out, "{}", present::finding_block(&name, f))?;
            }
        }
        out.flush()?;
    }
    let writes = vec![report::Write::No; reports.len()];
    if !text {
        finish_machine(&reports, &writes, report::Mode::Check, &totals, output)?;
    }
    // The summary is a note, on stderr in every format and command (stdout carries only
    // findings, diffs and reports, so `check | wc -l` counts findings).
    if !output.quiet {
        note!("{}", present::check_summary(&totals));
    }
    // Findings whose unsafe fix is held back are findings all the same.
    let code = exit_code(&totals, totals.fixable + totals.held + totals.manual);
    summary_md(
        &reports,
        &writes,
        report::Mode::Check,
        &totals,
        output,
        code,
    )
}
