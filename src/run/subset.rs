//! Part of a file's fixes, for `fix`'s review (one question per finding, as `git add -p`
//! asks per hunk): which findings can be applied apart, and the text with only the accepted
//! ones applied, proven again as a fix of its own.
//!
//! A file's fixes are proven together (see `prove`): a fix may be safe only beside another
//! (two findings whose values feed one expression, `[not(equals(parameters('a'),
//! parameters('b')))]`), so a part is never trusted because the whole was proven. Before a
//! part is written it goes through the same two proofs as the whole: the deploy-time proof
//! in every configuration (its side effects may only be those of the unsafe fixes it holds,
//! and each of its clusters must pass with the defaults) and the language's verification
//! (re-parsed, equal to its JSON Patch, nothing new for a human). A part that fails either
//! is not written; its findings stand.
//!
//! Findings are asked about together when their fixes cannot be told apart: the planner did
//! not tie a fix to its finding, two findings' edits touch, the findings' own edits do not
//! make the proven text (the planner merged them), or the file is a parameter file (proven
//! against its templates as a whole).

use crate::edit::{self, Edit};
use crate::finding::{Analysis, FixSource};
use crate::lang::FileKind;
use crate::run::{configurations, prove};
use std::path::Path;

/// The findings a review asks about, grouped: each group is one question (indices into
/// `analysis.findings`, in order). Only findings whose fix the edits carry are asked about.
pub(crate) fn parts(original: &str, analysis: &Analysis, fixed: &str) -> Vec<Vec<usize>> {
    let applied: Vec<usize> = (0..analysis.findings.len())
        .filter(|&i| analysis.applies(&analysis.findings[i]))
        .collect();
    if applied.len() <= 1 {
        return if applied.is_empty() {
            Vec::new()
        } else {
            vec![applied]
        };
    }
    let whole = || vec![applied.clone()];
    let findings = &analysis.findings;
    if applied.iter().any(|&i| {
        findings[i].edits.is_empty()
            || matches!(findings[i].source, Some(FixSource::ParameterFile { .. }))
    }) {
        return whole();
    }
    if edit::apply(original, &union(analysis, &applied))
        .ok()
        .as_deref()
        != Some(fixed)
    {
        return whole();
    }
    // Findings whose edits touch are one question (a union-find over the applied ones).
    let mut group: Vec<usize> = (0..applied.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for a in 0..applied.len() {
        for b in a + 1..applied.len() {
            let touch = findings[applied[a]].edits.iter().any(|x| {
                findings[applied[b]]
                    .edits
                    .iter()
                    .any(|y| x.start <= y.end && y.start <= x.end)
            });
            if touch {
                let (ra, rb) = (root(&mut group, a), root(&mut group, b));
                group[rb] = ra;
            }
        }
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut roots: Vec<usize> = Vec::new();
    for (a, &finding) in applied.iter().enumerate() {
        let r = root(&mut group, a);
        match roots.iter().position(|&x| x == r) {
            Some(k) => out[k].push(finding),
            None => {
                roots.push(r);
                out.push(vec![finding]);
            }
        }
    }
    out
}

/// The edits of findings `which`, each once, in the order met.
pub(crate) fn union(analysis: &Analysis, which: &[usize]) -> Vec<Edit> {
    let mut edits: Vec<Edit> = Vec::new();
    for &i in which {
        for e in &analysis.findings[i].edits {
            if !edits.contains(e) {
                edits.push(e.clone());
            }
        }
    }
    edits
}

/// The text with only the fixes of findings `accepted` applied (indices into
/// `analysis.findings`), proven as described in the module's documentation; `fixed` (the
/// whole proven fix) when they are all of the file's applied findings. The error says why
/// the part cannot be written alone.
pub(crate) fn apply_part(
    kind: FileKind,
    path: Option<&Path>,
    original: &str,
    analysis: &Analysis,
    fixed: &str,
    accepted: &[usize],
) -> Result<String, String> {
    let applied = analysis.applied();
    if accepted.len() == applied {
        return Ok(fixed.to_string());
    }
    let edits = union(analysis, accepted);
    if edits.is_empty() {
        return Err("these findings have no fix of their own".into());
    }
    let text = edit::apply(original, &edits)?;
    let language = kind.language();
    let mut part = analysis.clone();
    part.patch = if kind.has_json_patch() {
        match (language.shape(original), language.shape(&text)) {
            (Some(a), Some(b)) => json_patch::diff(&a, &b).0,
            _ => return Err("the file's ARM shape cannot be read".into()),
        }
    } else {
        Vec::new()
    };
    part.edits = edits.clone();
    // The findings left out stay for the re-reading planner to find.
    part.held_back += applied - accepted.len();
    kind.verify(original, &part, &text)
        .map_err(|why| format!("armfix could not verify it ({why})"))?;
    if analysis.clusters.is_empty() || prove::settled_by_reading(analysis) {
        return Ok(text);
    }
    let configurations = configurations::for_template(path);
    let subject = prove::Subject {
        language,
        owned: Default::default(),
        text: original,
        path,
        configurations: &configurations,
        unsafe_fixes: analysis.unsafe_applied,
    };
    let targets: Vec<String> = accepted
        .iter()
        .flat_map(|&i| {
            let f = &analysis.findings[i];
            f.cluster.iter().chain(&f.other_clusters).cloned()
        })
        .collect();
    let Some((effects, failing)) =
        prove::prove_part(&subject, &analysis.clusters, &edits, &targets)
    else {
        return Ok(text);
    };
    let allowed: Vec<&String> = accepted
        .iter()
        .flat_map(|&i| &analysis.findings[i].side_effects)
        .collect();
    let new: Vec<&String> = effects.iter().filter(|e| !allowed.contains(e)).collect();
    if let Some(first) = new.first() {
        let more = match new.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(format!(
            "without the file's other fixes it is unsafe: {first}{more}"
        ));
    }
    if !failing.is_empty() {
        return Err("without the file's other fixes it does not take effect at deploy time".into());
    }
    Ok(text)
}
