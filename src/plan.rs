//! Plans the fix of one ARM template: runs the rule on every cluster, turns each verdict into
//! a finding and, where armfix can fix it, into RFC 6902 operations on the parsed document,
//! then asks the renderer for the text edits that carry those operations out.

use crate::arm::{self, ArmTree, Segment};
use crate::finding::{Analysis, Finding, Remedy, SourceError};
use crate::jsonc::Node;
use crate::location::LineIndex;
use crate::render;
use crate::rule::{self, FixKind, Verdict};
use json_patch::{AddOperation, PatchOperation, ReplaceOperation};
use jsonptr::PointerBuf;

/// Analyses one JSON file. `Ok(None)` means it is not a deployment template (nothing to do).
pub fn analyze(text: &str) -> Result<Option<Analysis>, SourceError> {
    let root = arm::parse(text).map_err(|e| SourceError {
        offset: e.offset,
        message: e.message,
    })?;
    if !arm::is_template(&root) {
        return Ok(None);
    }
    analyze_template(text, &root).map(Some)
}

/// Analyses a parsed template.
pub fn analyze_template(text: &str, root: &Node) -> Result<Analysis, SourceError> {
    let clusters = arm::find_clusters(root).map_err(|a| ambiguous(&a.path, a.node.span.start))?;
    let mut analysis = Analysis::default();
    let mut lines: Option<LineIndex> = None;
    for cluster in clusters {
        let verdict = rule::decide(&ArmTree::new(), cluster.node);
        let (at, under, message, remedy, op) = match verdict {
            Verdict::NotApplicable | Verdict::Pass => continue,
            Verdict::Ambiguous { at, path } => {
                let mut full = cluster.path.clone();
                full.extend(path.into_iter().map(Segment::Key));
                return Err(ambiguous(&full, at.span.start));
            }
            Verdict::Review {
                at,
                path,
                expression,
                reason,
            } => {
                let message = format!("needs manual review: {reason} ({})", shorten(&expression));
                let remedy = Remedy::ManualReview { reason, expression };
                (at, path, message, remedy, None)
            }
            Verdict::Fix(fix) => {
                let pointer = pointer(&cluster.path, &fix.path);
                let op = match fix.kind {
                    FixKind::AddConfig | FixKind::AddKey => PatchOperation::Add(AddOperation {
                        path: pointer,
                        value: fix.value,
                    }),
                    FixKind::ReplaceConfig | FixKind::ReplaceValue(_) => {
                        PatchOperation::Replace(ReplaceOperation {
                            path: pointer,
                            value: fix.value,
                        })
                    }
                };
                let mut under = fix.path;
                if matches!(fix.kind, FixKind::AddConfig | FixKind::AddKey) {
                    // The finding points at the object the key is missing from.
                    under.pop();
                }
                (
                    fix.at,
                    under,
                    rule::fix_message(&fix.kind),
                    Remedy::Fix,
                    Some(op),
                )
            }
        };
        let lines = lines.get_or_insert_with(|| LineIndex::new(text));
        let (line, column) = lines.line_col(text, at.span.start);
        analysis.findings.push(Finding {
            rule: rule::RULE_ID,
            start: at.span.start,
            end: at.span.end,
            line,
            column,
            pointer: pointer(&cluster.path, &under).to_string(),
            message,
            remedy,
        });
        if let Some(op) = op {
            let edits = render::render(text, root, &op).map_err(|message| SourceError {
                offset: at.span.start,
                message: format!("internal error: cannot render the fix: {message}"),
            })?;
            analysis.edits.extend(edits);
            analysis.patch.push(op);
        }
    }
    Ok(analysis)
}

fn pointer(base: &[Segment], under: &[String]) -> PointerBuf {
    PointerBuf::from_tokens(
        base.iter()
            .map(Segment::token)
            .chain(under.iter().cloned())
            .collect::<Vec<_>>(),
    )
}

/// An expression cut to a readable length for a one-line message.
fn shorten(expression: &str) -> String {
    const MAX: usize = 72;
    if expression.chars().count() <= MAX {
        expression.to_string()
    } else {
        let cut: String = expression.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

fn ambiguous(path: &[Segment], offset: usize) -> SourceError {
    let key = path.last().map(Segment::token).unwrap_or_default();
    let pointer = pointer(path, &[]);
    SourceError {
        offset,
        message: format!(
            "duplicate key `{key}` at {pointer} (keys differing only in case count as the same): \
             which one deploys is ambiguous, so armfix will not edit this file"
        ),
    }
}
