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
//! not tie fixes to their findings and the file's edits do not pair one to one with them in
//! order, two findings' edits touch, the findings' own edits do not
//! make the proven text (the planner merged them), or the file is a parameter file (proven
//! against its templates as a whole).

use crate::edit::{self, Edit};
use crate::finding::{Analysis, FixSource};
use crate::lang::FileKind;
use crate::run::{configurations, prove};
use std::path::Path;

/// One question of a review: findings (indices into `analysis.findings`, in order) and the
/// edits that carry their fixes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Part {
    pub(crate) findings: Vec<usize>,
    pub(crate) edits: Vec<Edit>,
}

/// The questions a file's fixes make: one per finding whose fix the edits carry, or
/// several findings together when their fixes cannot be told apart.
pub(crate) fn parts(kind: FileKind, original: &str, analysis: &Analysis, fixed: &str) -> Vec<Part> {
    let applied: Vec<usize> = (0..analysis.findings.len())
        .filter(|&i| analysis.applies(&analysis.findings[i]))
        .collect();
    let whole = || {
        if applied.is_empty() {
            Vec::new()
        } else {
            vec![Part {
                findings: applied.clone(),
                edits: analysis.edits.clone(),
            }]
        }
    };
    if applied.len() <= 1 {
        return whole();
    }
    let findings = &analysis.findings;
    if applied
        .iter()
        .any(|&i| matches!(findings[i].source, Some(FixSource::ParameterFile { .. })))
    {
        return whole();
    }
    let Some(own) = own_edits(kind, original, analysis, &applied) else {
        return whole();
    };
    let mut all: Vec<Edit> = Vec::new();
    for e in own.iter().flatten() {
        if !all.contains(e) {
            all.push(e.clone());
        }
    }
    if edit::apply(original, &all).ok().as_deref() != Some(fixed) {
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
            let touch = own[a]
                .iter()
                .any(|x| own[b].iter().any(|y| x.start <= y.end && y.start <= x.end));
            if touch {
                let (ra, rb) = (root(&mut group, a), root(&mut group, b));
                group[rb] = ra;
            }
        }
    }
    let mut out: Vec<Part> = Vec::new();
    let mut roots: Vec<usize> = Vec::new();
    for (a, &finding) in applied.iter().enumerate() {
        let r = root(&mut group, a);
        let k = match roots.iter().position(|&x| x == r) {
            Some(k) => k,
            None => {
                roots.push(r);
                out.push(Part {
                    findings: Vec::new(),
                    edits: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[k].findings.push(finding);
        for e in &own[a] {
            if !out[k].edits.contains(e) {
                out[k].edits.push(e.clone());
            }
        }
    }
    out
}

/// The edits of each of the `applied` findings: their own (what the planner tied to them),
/// or, when none has any (clusters written with literals, scripts: the planner keeps only
/// the file's), the file's edits shared out by place: an edit inside a finding's cluster
/// (where the language can locate it) is that finding's, else the edit belongs to the last
/// finding that starts before it. `None` when they cannot be told apart (an edit nobody
/// takes, or a finding left without one).
fn own_edits(
    kind: FileKind,
    original: &str,
    analysis: &Analysis,
    applied: &[usize],
) -> Option<Vec<Vec<Edit>>> {
    let findings = &analysis.findings;
    if applied.iter().all(|&i| !findings[i].edits.is_empty()) {
        return Some(applied.iter().map(|&i| findings[i].edits.clone()).collect());
    }
    if applied.iter().any(|&i| !findings[i].edits.is_empty()) {
        return None;
    }
    let language = kind.language();
    let spans: Vec<Option<(usize, usize)>> = applied
        .iter()
        .map(|&i| {
            let f = &findings[i];
            match (&f.cluster, f.other_clusters.is_empty()) {
                (Some(k), true) => language.locate(original, k),
                _ => None,
            }
        })
        .collect();
    let mut own = vec![Vec::new(); applied.len()];
    for e in &analysis.edits {
        let inside = spans
            .iter()
            .position(|s| s.is_some_and(|(a, b)| a <= e.start && e.end <= b));
        let before = || {
            (0..applied.len())
                .filter(|&a| spans[a].is_none() && findings[applied[a]].start <= e.start)
                .max_by_key(|&a| findings[applied[a]].start)
        };
        own[inside.or_else(before)?].push(e.clone());
    }
    own.iter().all(|o| !o.is_empty()).then_some(own)
}

/// The text with only the fixes of `accepted` (parts of [`parts`]) applied, proven as the
/// module's documentation says; `fixed` (the whole proven fix) when they hold all of the
/// file's applied findings. The error says why the part cannot be written alone.
pub(crate) fn apply_part(
    kind: FileKind,
    path: Option<&Path>,
    original: &str,
    analysis: &Analysis,
    fixed: &str,
    accepted: &[&Part],
) -> Result<String, String> {
    let applied = analysis.applied();
    let mut edits: Vec<Edit> = Vec::new();
    for e in accepted.iter().flat_map(|p| &p.edits) {
        if !edits.contains(e) {
            edits.push(e.clone());
        }
    }
    let accepted: Vec<usize> = accepted.iter().flat_map(|p| p.findings.clone()).collect();
    if accepted.len() == applied {
        return Ok(fixed.to_string());
    }
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
