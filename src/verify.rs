//! Proves a planned fix before anything is written: the edited text must parse, must equal
//! the JSON Patch applied to the original document (values and key order), and must pass the
//! rule. A fix that fails any of these is never written.

use crate::finding::Analysis;
use crate::jsonc;
use crate::location::LineIndex;
use crate::plan;

/// Checks that `fixed` is `original` with the analysis' JSON Patch applied, and passes.
pub fn json(original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
    let mut expected = jsonc::parse(original)
        .map_err(|e| format!("the original no longer parses: {}", e.message))?
        .to_value();
    json_patch::patch(&mut expected, &analysis.patch)
        .map_err(|e| format!("the JSON Patch does not apply to the document: {e}"))?;
    let root = jsonc::parse(fixed).map_err(|e| {
        let (line, col) = LineIndex::new(fixed).line_col(fixed, e.offset);
        format!(
            "the edited text does not parse ({line}:{col}: {})",
            e.message
        )
    })?;
    let got = root.to_value();
    // serde_json's maps compare without order; their serialisations (in insertion order,
    // with `preserve_order`) do not.
    let same_order = serde_json::to_string(&got).ok() == serde_json::to_string(&expected).ok();
    if got != expected || !same_order {
        return Err("the edited text is not the JSON Patch applied to the original".into());
    }
    let again = plan::analyze_template(fixed, &root, &plan::Options::default())
        .map_err(|e| format!("the edited text cannot be re-checked: {}", e.message))?;
    if again.fixable() > 0 {
        return Err("the edited text still fails the rule".into());
    }
    Ok(())
}
