//! Proves a planned fix before anything is written: the edited text must parse, must equal
//! the JSON Patch applied to the original document (values and key order), and must pass the
//! rule. A fix that fails any of these is never written.
//!
//! The comparison builds no whole tree: the two texts are read in step
//! ([`jsonc::compare_texts`]) and every value outside the clusters the patch touches must
//! be the same on both sides; each touched cluster is turned into JSON values on both
//! sides, the patch applied to the original's, the two compared with their key order, and
//! the rule decided again on the edited cluster. A patch of another shape is checked with
//! the touched objects as holes and the rule re-run on the whole edited document (parsed
//! the way the planner parses, [`arm::parse`]); one with other operations, or on the root,
//! on the whole documents as values.

use crate::finding::Analysis;
use crate::lang::arm::jsonc;
use crate::lang::arm::plan;
use crate::lang::arm::template::{self as arm, ArmTree};
use crate::lang::checks;
use crate::location::LineIndex;
use crate::rule::{self, Lookup, Verdict};
use json_patch::{AddOperation, PatchOperation, ReplaceOperation};
use jsonptr::PointerBuf;
use serde_json::Value;

const NOT_THE_PATCH: &str = "the edited text is not the JSON Patch applied to the original";

/// Checks that `fixed` is `original` with the analysis' JSON Patch applied, and passes.
pub fn json(original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
    if let Some(ops) = local_ops(&analysis.patch) {
        if let Some(done) = by_clusters(original, fixed, &ops)? {
            return Ok(done);
        }
    }
    let root = arm::parse(fixed).map_err(|e| does_not_parse(fixed, &e))?;
    match local_ops(&analysis.patch) {
        Some(ops) => same_outside(original, fixed, &ops)?,
        None => same_as_values(original, analysis, fixed)?,
    }
    let again = plan::analyze_template(fixed, &root, &plan::Options::default())
        .map_err(|e| format!("the edited text cannot be re-checked: {e}"))?;
    checks::nothing_left(analysis, &again)
}

fn does_not_parse(fixed: &str, e: &jsonc::ParseError) -> String {
    let (line, col) = LineIndex::new(fixed).line_col(fixed, e.offset);
    format!(
        "the edited text does not parse ({line}:{col}: {})",
        e.message
    )
}

/// The usual case, in one reading of both texts: every operation lies under a cluster (its
/// path ends with the rule's keys under the cluster), the texts match outside those
/// clusters, each cluster is the original's with its operations applied (as values, in key
/// order), and the rule passes on it. Clusters the patch does not touch are the same text
/// as when they were planned, when none of them needed a fix. `Ok(None)`: the patch is not
/// of that shape; the caller checks the general way.
fn by_clusters(original: &str, fixed: &str, ops: &[LocalOp]) -> Result<Option<()>, String> {
    let Some(mut holes) = ops
        .iter()
        .map(|o| cluster_of(&o.parent))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    holes.sort();
    holes.dedup();
    if holes
        .iter()
        .any(|h| holes.iter().any(|g| g.len() < h.len() && h.starts_with(g)))
    {
        return Ok(None);
    }
    let found = match jsonc::compare_texts(original, fixed, &holes) {
        Ok(found) => found.ok_or(NOT_THE_PATCH)?,
        Err(e) => {
            return Err(match jsonc::parse(fixed) {
                Err(e) => does_not_parse(fixed, &e),
                Ok(_) => format!("the original no longer parses: {}", e.message),
            })
        }
    };
    if found.iter().any(|h| !is_cluster(&h.a)) {
        return Ok(None);
    }
    let mut reached = vec![false; holes.len()];
    for hole in &found {
        reached[hole.index] = true;
        patched_as_planned(hole, &holes[hole.index], ops)?;
        match rule::decide(&ArmTree::new(), &hole.b) {
            Verdict::Fix(_) => return Err("the edited text still fails the rule".into()),
            Verdict::Ambiguous { .. } => {
                return Err("the edited text cannot be re-checked: a key is ambiguous".into())
            }
            // An expression on the way: only the traced view over the whole template (its
            // variables and parameters) can tell whether the rule passes now.
            Verdict::Review { .. } => return Ok(None),
            Verdict::NotApplicable | Verdict::Pass => {}
        }
    }
    if reached.iter().any(|r| !r) {
        return Err("the JSON Patch does not apply to the document: a path is missing".into());
    }
    Ok(Some(()))
}

/// The path of the cluster an operation's parent lies in: the parent's path less the
/// rule's keys under a cluster (`properties/addonProfiles/<add-on>[/config]`, any case).
fn cluster_of(parent: &[String]) -> Option<Vec<String>> {
    (3..=4).rev().find_map(|m| {
        let cut = parent.len().checked_sub(m)?;
        let tail_matches = parent[cut..]
            .iter()
            .zip(rule::PATH_NAMES)
            .all(|(t, name)| t.eq_ignore_ascii_case(name));
        (tail_matches && cut > 0).then(|| parent[..cut].to_vec())
    })
}

fn is_cluster(node: &jsonc::Node) -> bool {
    matches!(arm::get(node, "type"), Lookup::Found(_, t) if t.as_str().is_some_and(|t| t.eq_ignore_ascii_case(rule::CLUSTER_TYPE)))
}

/// An operation split at its target's parent: the parent's path, and the operation on the
/// parent's own value.
struct LocalOp {
    parent: Vec<String>,
    op: PatchOperation,
}

/// Splits every operation at its parent, or `None` when one is not an `add` or `replace`
/// below the root.
fn local_ops(patch: &[PatchOperation]) -> Option<Vec<LocalOp>> {
    patch
        .iter()
        .map(|op| {
            let mut tokens = tokens(op)?;
            let last = tokens.pop()?;
            if tokens.is_empty() {
                return None;
            }
            Some(LocalOp {
                parent: tokens,
                op: with_path(op, PointerBuf::from_tokens([last]))?,
            })
        })
        .collect()
}

/// The decoded path tokens of an `add` or `replace`.
fn tokens(op: &PatchOperation) -> Option<Vec<String>> {
    let path = match op {
        PatchOperation::Add(a) => &a.path,
        PatchOperation::Replace(r) => &r.path,
        _ => return None,
    };
    Some(path.tokens().map(|t| t.decoded().into_owned()).collect())
}

/// The same `add` or `replace` at another path.
fn with_path(op: &PatchOperation, path: PointerBuf) -> Option<PatchOperation> {
    match op {
        PatchOperation::Add(a) => Some(PatchOperation::Add(AddOperation {
            path,
            value: a.value.clone(),
        })),
        PatchOperation::Replace(r) => Some(PatchOperation::Replace(ReplaceOperation {
            path,
            value: r.value.clone(),
        })),
        _ => None,
    }
}

/// The original and the edited text, read in step, must match outside the touched objects;
/// each touched object must be the original's with its operations applied.
/// Checks one touched object: the edited one must equal the original with the operations
/// under `base` applied (values and key order).
fn patched_as_planned(hole: &jsonc::Hole, base: &[String], ops: &[LocalOp]) -> Result<(), String> {
    let mut expected = hole.a.to_value();
    let under: Vec<PatchOperation> = ops
        .iter()
        .filter(|o| o.parent.starts_with(base))
        .filter_map(|o| rebase(&o.parent[base.len()..], &o.op))
        .collect();
    json_patch::patch(&mut expected, &under)
        .map_err(|e| format!("the JSON Patch does not apply to the document: {e}"))?;
    same_values(&hole.b.to_value(), &expected)
}

fn same_outside(original: &str, fixed: &str, ops: &[LocalOp]) -> Result<(), String> {
    // Holes: the outermost touched objects. An operation whose parent lies inside another
    // touched object is applied within that object.
    let mut parents: Vec<&Vec<String>> = ops.iter().map(|o| &o.parent).collect();
    parents.sort();
    parents.dedup();
    let holes: Vec<Vec<String>> = parents
        .iter()
        .filter(|p| {
            !parents
                .iter()
                .any(|q| q.len() < p.len() && p.starts_with(q))
        })
        .map(|p| (*p).clone())
        .collect();
    let found = jsonc::compare_texts(original, fixed, &holes)
        .map_err(|e| format!("the texts cannot be compared: {}", e.message))?
        .ok_or(NOT_THE_PATCH)?;
    let mut reached = vec![false; holes.len()];
    for hole in &found {
        reached[hole.index] = true;
        patched_as_planned(hole, &holes[hole.index], ops)?;
    }
    if reached.iter().any(|r| !r) {
        return Err("the JSON Patch does not apply to the document: a path is missing".into());
    }
    Ok(())
}

/// `op` (on its parent's value) moved down to a value `rest` levels above that parent.
fn rebase(rest: &[String], op: &PatchOperation) -> Option<PatchOperation> {
    let path = PointerBuf::from_tokens(rest.iter().cloned().chain(tokens(op)?));
    with_path(op, path)
}

/// The whole documents as values: the original with the patch applied against the edit.
fn same_as_values(original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
    let mut expected = jsonc::parse(original)
        .map_err(|e| format!("the original no longer parses: {}", e.message))?
        .to_value();
    json_patch::patch(&mut expected, &analysis.patch)
        .map_err(|e| format!("the JSON Patch does not apply to the document: {e}"))?;
    let got = jsonc::parse(fixed)
        .map_err(|e| format!("the edited text does not parse: {}", e.message))?
        .to_value();
    same_values(&got, &expected)
}

fn same_values(got: &Value, expected: &Value) -> Result<(), String> {
    // serde_json's maps compare without order; their serialisations (in insertion order,
    // with `preserve_order`) do not.
    let same_order = serde_json::to_string(got).ok() == serde_json::to_string(expected).ok();
    if got != expected || !same_order {
        return Err(NOT_THE_PATCH.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{self, Edit};

    const SCHEMA: &str =
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

    fn template(addon: &str, other: &str) -> String {
        format!(
            r#"{{
  "$schema": "{SCHEMA}",
  "resources": [
    {{"type": "Microsoft.Storage/storageAccounts", "name": "s", "n": [1.50, true, null, "a\u00e9"]}},
    {{
      "type": "Microsoft.ContainerService/managedClusters",
      "name": "{other}",
      "properties": {{"addonProfiles": {{"azureKeyvaultSecretsProvider": {addon}}}}}
    }}
  ]
}}"#
        )
    }

    fn analysed(text: &str) -> Analysis {
        plan::analyze(text, &plan::Options::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn accepts_the_planned_fix() {
        for addon in [
            r#"{"enabled": true}"#,
            r#"{"enabled": true, "config": {}}"#,
            r#"{"enabled": true, "config": {"enableSecretRotation": "false"}}"#,
            r#"{"enabled": true, "config": null}"#,
        ] {
            let text = template(addon, "aks");
            let a = analysed(&text);
            assert_eq!(a.patch.len(), 1, "{addon}");
            let fixed = edit::apply(&text, &a.edits).unwrap();
            assert_eq!(json(&text, &a, &fixed), Ok(()), "{addon}");
            // Proven in one reading, cluster by cluster.
            let ops = local_ops(&a.patch).unwrap();
            assert_eq!(by_clusters(&text, &fixed, &ops), Ok(Some(())), "{addon}");
        }
    }

    #[test]
    fn clusters_are_found_under_deployments_and_symbolic_names() {
        let cluster = r#"{"type": "Microsoft.ContainerService/managedClusters", "Properties": {"AddonProfiles": {"azureKeyVaultSecretsProvider": {"enabled": true, "config": {}}}}}"#;
        let text = format!(
            r#"{{"$schema": "{SCHEMA}", "languageVersion": "2.0", "resources": {{
                "properties": {cluster},
                "dep": {{"type": "Microsoft.Resources/deployments", "properties": {{"template":
                    {{"$schema": "{SCHEMA}", "resources": [{cluster}, {cluster}]}}}}}}}}}}"#
        );
        let a = analysed(&text);
        assert_eq!(a.patch.len(), 3);
        let fixed = edit::apply(&text, &a.edits).unwrap();
        let ops = local_ops(&a.patch).unwrap();
        let clusters: Vec<String> = ops
            .iter()
            .map(|o| cluster_of(&o.parent).unwrap().join("/"))
            .collect();
        assert_eq!(
            clusters,
            [
                "resources/properties",
                "resources/dep/properties/template/resources/0",
                "resources/dep/properties/template/resources/1"
            ]
        );
        assert_eq!(by_clusters(&text, &fixed, &ops), Ok(Some(())));
        assert_eq!(json(&text, &a, &fixed), Ok(()));
        // One cluster edited wrongly among three is found.
        let wrong = fixed
            .replacen("\"true\"", "\"tru\"", 2)
            .replacen("\"tru\"", "\"true\"", 1);
        assert!(json(&text, &a, &wrong).is_err());
    }

    /// An edit that is exactly its patch but leaves the cluster failing is refused by the
    /// rule's re-check, on both ways of checking.
    #[test]
    fn a_patch_that_does_not_fix_is_refused() {
        let text = template(
            r#"{"enabled": true, "config": {"enableSecretRotation": "false"}}"#,
            "aks",
        );
        let mut a = analysed(&text);
        let PatchOperation::Replace(r) = &mut a.patch[0] else {
            panic!("a replace is planned")
        };
        r.value = Value::from("no");
        let at = text.find("\"false\"").unwrap();
        let fixed = edit::apply(&text, &[Edit::replace(at, at + 7, "\"no\"")]).unwrap();
        let ops = local_ops(&a.patch).unwrap();
        assert_eq!(
            by_clusters(&text, &fixed, &ops),
            Err("the edited text still fails the rule".to_string())
        );
        // The general way (the touched object as the hole, the rule on the whole document).
        assert_eq!(same_outside(&text, &fixed, &ops), Ok(()));
        assert_eq!(
            json(&text, &a, &fixed),
            Err("the edited text still fails the rule".to_string())
        );
    }

    /// Each wrong edit is refused: outside the touched object, inside it, or in its order.
    #[test]
    fn refuses_any_other_change() {
        let text = template(r#"{"enabled": true, "config": {}}"#, "aks");
        let a = analysed(&text);
        let fixed = edit::apply(&text, &a.edits).unwrap();
        let at = |needle: &str| fixed.find(needle).unwrap();
        let wrong = [
            // Outside the hole: a name, a number's spelling, a literal, a key, an item.
            fixed.replacen("\"aks\"", "\"akz\"", 1),
            fixed.replacen("1.50", "1.5", 1),
            fixed.replacen("true, null", "false, null", 1),
            fixed.replacen("\"name\": \"s\"", "\"nam\": \"s\"", 1),
            fixed.replacen("null, ", "", 1),
            fixed.replacen("\"a\\u00e9\"", "\"a\"", 1),
            // Inside the hole: a wrong value, an extra key, a key before the others.
            fixed.replacen(
                "\"enableSecretRotation\": \"true\"",
                "\"enableSecretRotation\": \"TRUE\"",
                1,
            ),
            fixed.replacen(
                "\"enableSecretRotation\": \"true\"",
                "\"enableSecretRotation\": \"true\", \"x\": 1",
                1,
            ),
            fixed.replacen(
                r#"{"enabled": true, "config": {"#,
                r#"{"config": {"enableSecretRotation": "true"}, "enabled": true, "c": {"#,
                1,
            ),
            // Trailing text after the document.
            format!("{fixed} {{}}"),
        ];
        for w in &wrong {
            assert_ne!(w, &fixed, "the mutation must change the text");
            let r = json(&text, &a, w);
            assert!(r.is_err(), "accepted a wrong edit:\n{w}");
        }
        assert!(at("enableSecretRotation") > 0);
        // An edit that equals the patch as a value but not in key order is refused too.
        let text2 = template(r#"{"enabled": true, "config": {"a": 1}}"#, "aks");
        let a2 = analysed(&text2);
        let i = text2.find(r#"{"a": 1}"#).unwrap() + 1;
        let reordered = edit::apply(
            &text2,
            &[Edit::insert(i, r#""enableSecretRotation": "true", "#)],
        )
        .unwrap();
        assert!(json(&text2, &a2, &reordered).is_err());
        assert_eq!(
            json(&text2, &a2, &edit::apply(&text2, &a2.edits).unwrap()),
            Ok(())
        );
    }

    #[test]
    fn a_patch_on_a_missing_path_is_refused() {
        let text = template(r#"{"enabled": true}"#, "aks");
        let mut a = analysed(&text);
        let fixed = edit::apply(&text, &a.edits).unwrap();
        if let PatchOperation::Add(add) = &mut a.patch[0] {
            add.path = PointerBuf::parse("/resources/1/properties/nothere/config").unwrap();
        }
        assert!(json(&text, &a, &fixed).is_err());
    }

    #[test]
    fn nested_touched_objects_are_compared_once() {
        let ops = local_ops(&[
            PatchOperation::Add(AddOperation {
                path: PointerBuf::parse("/a/b").unwrap(),
                value: Value::from(1),
            }),
            PatchOperation::Add(AddOperation {
                path: PointerBuf::parse("/a/c/d").unwrap(),
                value: Value::from(2),
            }),
        ])
        .unwrap();
        let original = r#"{"a": {"c": {}}, "z": [1]}"#;
        let good = r#"{"a": {"c": {"d": 2}, "b": 1}, "z": [1]}"#;
        assert_eq!(same_outside(original, good, &ops), Ok(()));
        let bad = r#"{"a": {"c": {"d": 2}, "b": 1}, "z": [2]}"#;
        assert!(same_outside(original, bad, &ops).is_err());
        let half = r#"{"a": {"c": {}, "b": 1}, "z": [1]}"#;
        assert!(same_outside(original, half, &ops).is_err());
        // Spacing and comments may differ outside the touched objects; values may not.
        let spaced = "{\"a\": {\"c\": {\"d\": 2}, \"b\": 1}, /* c */ \"z\": [ 1 ]\n}";
        assert_eq!(same_outside(original, spaced, &ops), Ok(()));
        assert!(same_outside(
            original,
            r#"{"a": {"c": {"d": 2}, "b": 1}, "z": [1], "y": 0}"#,
            &ops
        )
        .is_err());
        assert!(same_outside(original, r#"{"a": {"c": {"d": 2}, "b": 1}}"#, &ops).is_err());
        assert!(same_outside(
            original,
            r#"{"a": {"c": {"d": 2}, "b": 1}, "z": [1, 2]}"#,
            &ops
        )
        .is_err());
        assert!(
            same_outside(original, r#"{"a": {"c": {"d": 2}, "b": 1}, "z": []}"#, &ops).is_err()
        );
    }

    /// Found by fuzzing: a cluster whose `config` is an expression was accepted on the
    /// untraced view (an expression is "review", not "fix") although the edited expression
    /// still failed the traced rule. Such clusters now go the whole-template way.
    #[test]
    fn an_edited_expression_that_still_fails_is_refused() {
        let before = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [{"type": "Microsoft.ContainerService/managedClusters", "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true,
    "config": "[createObject('a', 'b', 'c')]"}}}}]}"#;
        // Appending a pair after a keyless argument shifts the keys: the key is still missing.
        let after = before.replace("'c')", "'c', 'enableSecretRotation', 'true')");
        let at = before.find("'c')").unwrap() + 3;
        let analysis = Analysis {
            patch: vec![PatchOperation::Replace(ReplaceOperation {
                path: PointerBuf::parse(
                    "/resources/0/properties/addonProfiles/azureKeyvaultSecretsProvider/config",
                )
                .unwrap(),
                value: Value::String(
                    "[createObject('a', 'b', 'c', 'enableSecretRotation', 'true')]".into(),
                ),
            })],
            edits: vec![crate::edit::Edit::insert(
                at,
                ", 'enableSecretRotation', 'true'",
            )],
            ..Analysis::default()
        };
        assert_eq!(crate::edit::apply(before, &analysis.edits).unwrap(), after);
        let err = json(before, &analysis, &after).unwrap_err();
        assert!(err.contains("still fails the rule"), "{err}");
    }

    #[test]
    fn create_object_with_a_keyless_argument_is_not_extended() {
        let text = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [{"type": "Microsoft.ContainerService/managedClusters", "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true,
    "config": "[createObject('a', 'b', 'c')]"}}}}]}"#;
        let a = analysed(text);
        assert!(a.edits.is_empty(), "{:?}", a.edits);
        assert_eq!((a.fixable(), a.manual()), (0, 1));
    }
}
