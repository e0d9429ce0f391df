//! The fixes along a cluster's provenance chain in an ARM template, for the deploy-time
//! proof's search: each place the rotation value passes (`eval::arm_origin` follows it),
//! from where it is written to the cluster's own value, turned into the edit that writes
//! true there, spelled as the value at that place is typed before the fix. Where the
//! rotation setting is missing, the places of the add-on's `config`, with the edit that
//! adds the setting there.

use crate::edit::Edit;
use crate::eval::arm_origin::{At, Place, Target, Traced};
use crate::eval::Value;
use crate::finding::FixSource;
use crate::lang::arm::jsonc::{Kind, Node};
use crate::lang::arm::template::{self as arm, Segment};
use crate::rule::ROTATION;
use json_patch::{AddOperation, PatchOperation};
use jsonptr::PointerBuf;
use typed_arena::Arena;

/// See [`crate::lang::Language::chain_candidates`].
pub(crate) fn candidates(text: &str, cluster: &str) -> Vec<(Edit, FixSource)> {
    let Ok(root) = arm::parse(text) else {
        return Vec::new();
    };
    let Ok(clusters) = arm::find_clusters(&root) else {
        return Vec::new();
    };
    let Some(c) = clusters.iter().find(|c| pointer(&c.path) == cluster) else {
        return Vec::new();
    };
    let arena = Arena::new();
    let json = std::cell::OnceCell::new();
    let traced = Traced::new(&arena, text, &json);
    let Some((places, target)) = traced.rotation_places(&root, &c.path, c.node) else {
        return Vec::new();
    };
    let mut out: Vec<(Edit, FixSource)> = Vec::new();
    for (i, place) in places.iter().enumerate() {
        // A wrapper's argument in the same expression (`string(variables('v'))`): the
        // wrapper, written true as a whole, is the edit a person makes.
        if places
            .get(i + 1)
            .is_some_and(|next| same_host_around(place, next))
        {
            continue;
        }
        let Some(source) = source_of(&place.path, &c.path, place) else {
            continue;
        };
        let value = traced.value_at(place);
        let Some(edit) = edit_at(text, &root, place, &value, target) else {
            continue;
        };
        if !out.iter().any(|(e, _)| *e == edit) {
            out.push((edit, source));
        }
    }
    out
}

/// Whether `inner` is a term inside the term `outer` of the same expression.
fn same_host_around(inner: &Place, outer: &Place) -> bool {
    match (inner.at, outer.at) {
        (
            At::Term {
                host: a,
                expr,
                term: i,
            },
            At::Term {
                host: b, term: o, ..
            },
        ) => {
            // The host parsed once per reading: the same string, the same terms.
            if !std::ptr::eq(a, b) || i == o {
                return false;
            }
            let (Some(ti), Some(to)) = (expr.terms.get(i), expr.terms.get(o)) else {
                return false;
            };
            to.start <= ti.start
                && ti.end <= to.end
                && matches!(expr.call(o), Some((f, _))
                    if matches!(f, "string" | "tolower" | "toupper" | "bool" | "json"))
        }
        _ => false,
    }
}

/// Where a place is, as a finding says it: the cluster's own value (or a term inside its
/// expression), a variable's definition, a parameter's default, the value a nested
/// deployment passes. `None` elsewhere.
fn source_of(path: &[Segment], cluster: &[Segment], place: &Place) -> Option<FixSource> {
    let key = |i: usize| match path.get(i) {
        Some(Segment::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    let is = |i: usize, word: &str| key(i).is_some_and(|k| k.eq_ignore_ascii_case(word));
    if path.starts_with(cluster) {
        let inner = matches!(place.at, At::Term { expr, term, .. } if term != expr.root);
        return Some(if inner {
            FixSource::Expression
        } else {
            FixSource::Value
        });
    }
    // The innermost template's `variables` or `parameters` holding the place.
    let template_level = |i: usize| i == 0 || is(i - 1, "template") || is(i - 1, "mainTemplate");
    for i in (0..path.len()).rev() {
        if is(i, "variables") && template_level(i) {
            return key(i + 1).map(|name| FixSource::Variable { name: name.into() });
        }
        if is(i, "parameters") && template_level(i) && is(i + 2, "defaultValue") {
            return key(i + 1).map(|name| FixSource::ParameterDefault { name: name.into() });
        }
        if is(i, "parameters") && i > 0 && is(i - 1, "properties") && is(i + 2, "value") {
            return key(i + 1).map(|name| FixSource::DeploymentParameter { name: name.into() });
        }
    }
    None
}

/// The edit that writes true at `place` (for [`Target::Config`], that adds the rotation
/// setting to the object there), spelled as `value` (what the place holds before the fix)
/// is typed: a bool as `true` (`true()` in an expression), anything else as a string.
fn edit_at(text: &str, root: &Node, place: &Place, value: &Value, target: Target) -> Option<Edit> {
    let boolean = matches!(value, Value::Bool(_));
    match target {
        Target::Rotation => {
            if matches!(value, Value::Object(_) | Value::Array(_)) {
                return None;
            }
            let (json, term) = if boolean {
                ("true", "true()")
            } else {
                ("\"true\"", "'true'")
            };
            replace(text, place, json, term)
        }
        Target::Config => {
            if !matches!(value, Value::Object(_) | Value::Null) {
                return None;
            }
            if let (At::Json(node), Value::Object(_)) = (place.at, value) {
                if let Kind::Object(_) = node.kind {
                    let mut tokens: Vec<String> = place.path.iter().map(Segment::token).collect();
                    tokens.push(ROTATION.to_string());
                    let op = PatchOperation::Add(AddOperation {
                        path: PointerBuf::from_tokens(tokens),
                        value: serde_json::Value::String("true".into()),
                    });
                    let edits = crate::lang::arm::render::render(text, root, &op).ok()?;
                    return (edits.len() == 1)
                        .then(|| edits.into_iter().next())
                        .flatten();
                }
            }
            replace(
                text,
                place,
                &format!("{{ \"{ROTATION}\": \"true\" }}"),
                &format!("createObject('{ROTATION}', 'true')"),
            )
        }
    }
}

/// Replaces the value at `place` with `json` (a JSON node, or an expression term that is
/// its whole expression) or `term` (a term inside an expression).
fn replace(text: &str, place: &Place, json: &str, term: &str) -> Option<Edit> {
    match place.at {
        At::Json(node) => Some(Edit::replace(node.span.start, node.span.end, json)),
        At::Term {
            host,
            expr,
            term: i,
        } if i == expr.root => Some(Edit::replace(host.span.start, host.span.end, json)),
        At::Term {
            host,
            expr,
            term: i,
        } => {
            let t = &expr.terms[i];
            if crate::eval::arm_origin::raw_is_plain(text, host) {
                let at = host.span.start + 1;
                return Some(Edit::replace(at + t.start, at + t.end, term));
            }
            // Escapes in the source: rewrite the whole string, encoded again.
            let decoded = host.as_str()?;
            let new = format!("{}{term}{}", &decoded[..t.start], &decoded[t.end..]);
            let encoded = serde_json::to_string(&new).ok()?;
            Some(Edit::replace(host.span.start, host.span.end, encoded))
        }
    }
}

fn pointer(path: &[Segment]) -> String {
    PointerBuf::from_tokens(path.iter().map(Segment::token).collect::<Vec<_>>()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(parameters: &str, variables: &str, addon: &str) -> String {
        format!(
            r#"{{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "parameters": {parameters}, "variables": {variables},
            "resources": [{{"type": "Microsoft.ContainerService/managedClusters", "name": "a",
                "properties": {{"addonProfiles": {{"azureKeyvaultSecretsProvider": {addon}}}}}}}]}}"#
        )
    }

    /// Each candidate as the text it writes and where, applied alone.
    fn tried(text: &str) -> Vec<(String, FixSource)> {
        candidates(text, "/resources/0")
            .into_iter()
            .map(|(e, source)| (crate::edit::apply(text, &[e]).unwrap(), source))
            .collect()
    }

    #[test]
    fn the_chain_runs_from_the_parameter_through_the_variable_to_the_cluster() {
        let text = template(
            r#"{"flag": {"type": "string", "defaultValue": "false"}}"#,
            r#"{"rot": "[toLower(parameters('flag'))]"}"#,
            r#"{"enabled": true, "config": {"enableSecretRotation": "[variables('rot')]"}}"#,
        );
        let t = tried(&text);
        let sources: Vec<&FixSource> = t.iter().map(|(_, s)| s).collect();
        assert_eq!(
            sources,
            [
                &FixSource::ParameterDefault {
                    name: "flag".into()
                },
                &FixSource::Variable { name: "rot".into() },
                &FixSource::Value
            ]
        );
        assert!(t[0].0.contains(r#""defaultValue": "true""#), "{}", t[0].0);
        assert!(t[1].0.contains(r#""rot": "true""#), "{}", t[1].0);
        assert!(
            t[2].0.contains(r#""enableSecretRotation": "true""#),
            "{}",
            t[2].0
        );
    }

    #[test]
    fn a_bool_place_is_written_as_a_bool_and_a_term_inside_as_the_expression_spells_it() {
        let text = template(
            r#"{"on": {"type": "bool", "defaultValue": false}}"#,
            "{}",
            r#"{"enabled": true, "config": {"enableSecretRotation": "[if(true(), string(parameters('on')), parameters('x'))]"}}"#,
        );
        let t = tried(&text);
        assert!(t[0].0.contains(r#""defaultValue": true"#), "{}", t[0].0);
        // `string(...)`, a string, written as one inside the `if`.
        assert_eq!(t[1].1, FixSource::Expression);
        assert!(
            t[1].0
                .contains(r#""[if(true(), 'true', parameters('x'))]""#),
            "{}",
            t[1].0
        );
    }

    #[test]
    fn a_host_with_escapes_is_rewritten_whole_and_encoded_again() {
        let text = template(
            "{}",
            r#"{"v": "false"}"#,
            r#"{"enabled": true, "config": {"enableSecretRotation": "[if(equals('a\"b', 'a\"b'), variables('v'), parameters('x'))]"}}"#,
        );
        let t = tried(&text);
        let inside = t
            .iter()
            .find(|(_, s)| *s == FixSource::Expression)
            .expect("the branch term");
        assert!(
            inside
                .0
                .contains(r#""[if(equals('a\"b', 'a\"b'), 'true', parameters('x'))]""#),
            "{}",
            inside.0
        );
    }

    #[test]
    fn without_a_rotation_setting_the_config_places_get_it_added() {
        let text = template(
            "{}",
            r#"{"cfg": {"rotationPollInterval": "2m"}}"#,
            r#"{"enabled": true, "config": "[variables('cfg')]"}"#,
        );
        let t = tried(&text);
        assert_eq!(t[0].1, FixSource::Variable { name: "cfg".into() });
        let fixed = crate::lang::arm::as_json(&t[0].0).unwrap();
        assert_eq!(
            fixed["variables"]["cfg"],
            serde_json::json!({"rotationPollInterval": "2m", "enableSecretRotation": "true"})
        );
    }

    #[test]
    fn a_top_level_parameter_without_a_default_is_no_place() {
        // Parameter files set it; they have their own findings.
        let text = template(
            r#"{"rot": {"type": "string"}}"#,
            "{}",
            r#"{"enabled": true, "config": {"enableSecretRotation": "[parameters('rot')]"}}"#,
        );
        let t = tried(&text);
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!(t[0].1, FixSource::Value);
    }

    #[test]
    fn a_member_of_a_parameter_default_is_the_source_of_the_chain() {
        let text = template(
            r#"{"cfg": {"type": "object", "defaultValue": {"x": [{"rot": false}], "y": 1}}}"#,
            "{}",
            r#"{"enabled": true, "config": {"enableSecretRotation": "[string(parameters('cfg').x[0].rot)]"}}"#,
        );
        let t = tried(&text);
        let sources: Vec<&FixSource> = t.iter().map(|(_, s)| s).collect();
        assert_eq!(
            sources,
            [
                &FixSource::ParameterDefault { name: "cfg".into() },
                &FixSource::Value
            ]
        );
        // Written as it is typed there.
        assert!(
            t[0].0.contains(r#"{"x": [{"rot": true}], "y": 1}"#),
            "{}",
            t[0].0
        );
        // An element per loop instance is no one place: the cluster's own value only.
        let text = text.replace("x[0]", "x[copyIndex()]");
        let t = tried(&text);
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!(t[0].1, FixSource::Value);
    }

    #[test]
    fn no_cluster_there_no_candidates() {
        let text = template("{}", "{}", "{}");
        assert!(candidates(&text, "/resources/7").is_empty());
        assert!(candidates("not json", "/resources/0").is_empty());
    }
}
