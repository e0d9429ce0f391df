//! Judges a local module folder through the scanned folders that call it, as
//! `run::link::settle_called_modules` does for Bicep modules: a caller evaluates the callee
//! with the call's arguments (the callee's resources stand for the call), so the callee's
//! clusters are decided and fixed at the call. Read alone, the callee has no values for the
//! variables its callers pass (a variable without a default is "no value offline"), so its
//! manual-review findings say nothing the callers' reports do not: they go, and a bulk
//! `fix --yes` can reach a clean run. Its fixable findings (a literal in the module itself,
//! its own default) stay. A folder no scanned file calls is judged alone, on its own values.

use super::plan::{self, Role};
use crate::run::discover::Candidate;
use crate::run::engine::{FileReport, Outcome};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Whether a path is Terraform code (`.tf`, `.tf.json`, override files included).
fn is_code(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .and_then(plan::role_of)
        .is_some_and(|r| matches!(r, Role::Tf | Role::Override))
}

/// Drops the manual-review findings of every Terraform file whose folder a scanned
/// Terraform file calls as a local module, about the clusters that call judges (those that
/// read rotation from the call's argument, directly or through the module's own local call).
pub(crate) fn settle_called_folders(reports: &mut [FileReport]) {
    // Each called folder (canonical), with the pointer prefixes of its judged clusters.
    let mut called: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for r in reports.iter() {
        let Candidate::File(p) = &r.candidate else {
            continue;
        };
        if !is_code(p) {
            continue;
        }
        // Only a caller that was analysed judged its modules' clusters.
        let Outcome::Analysed { original, .. } = &r.outcome else {
            continue;
        };
        // A folder's files are read together: its calls are found once, whichever file
        // holds them.
        let Ok(dir) = std::fs::canonicalize(super::folder_of(p)) else {
            continue;
        };
        if !seen.insert(dir) {
            continue;
        }
        let Some(text) = crate::run::engine::text_of(p, original) else {
            continue;
        };
        for (dir, prefixes) in plan::judged_callees(&text, p) {
            let all = called.entry(dir).or_default();
            for x in prefixes {
                if !all.contains(&x) {
                    all.push(x);
                }
            }
        }
    }
    if called.is_empty() {
        return;
    }
    for r in reports.iter_mut() {
        let Candidate::File(p) = &r.candidate else {
            continue;
        };
        if !is_code(p) {
            continue;
        }
        let Some(prefixes) = std::fs::canonicalize(super::folder_of(p))
            .ok()
            .and_then(|dir| called.get(&dir))
        else {
            continue;
        };
        if let Outcome::Analysed { analysis, .. } = &mut r.outcome {
            analysis.findings.retain(|f| {
                f.is_fixable()
                    || !f
                        .pointer
                        .as_deref()
                        .is_some_and(|ptr| prefixes.iter().any(|x| ptr.starts_with(x.as_str())))
            });
        }
    }
}
