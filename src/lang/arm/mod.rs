//! ARM JSON: templates and their parameter files. [`jsonc`] parses with spans,
//! [`template`] finds clusters, [`expr`] parses expressions, [`plan`] decides the JSON Patch
//! at the place the evaluator's provenance (`eval::arm_origin`) says a value is written, [`render`] turns it into minimal text
//! edits, [`verify`] proves them, and [`params`] plans parameter files.

pub(crate) mod chain;
pub(crate) mod expr;
pub mod jsonc;
pub(crate) mod params;
pub mod plan;
pub(crate) mod render;
pub mod template;
pub mod verify;

use crate::error::Error;
use crate::eval::{Configuration, Deployment};
use crate::finding::Analysis;
use crate::lang::{Language, Options};
use std::path::Path;

/// ARM JSON as a [`Language`].
pub(crate) struct Arm;

impl Language for Arm {
    fn may_concern(&self, bytes: &[u8]) -> bool {
        // A template that links another by a relative path may deploy its clusters.
        crate::run::read::mentions_any(bytes, &[crate::run::read::MARKER, "templatelink"])
    }

    fn analyze(&self, text: &str, options: &Options) -> Result<Option<Analysis>, Error> {
        let analysis = plan::analyze(text, options)?;
        // Read only for its links, none of which leads to a template on disk: as if skipped.
        if analysis.as_ref().is_some_and(|a| a.clusters.is_empty())
            && !crate::run::read::mentions_rule(text.as_bytes())
        {
            return Ok(None);
        }
        Ok(analysis)
    }

    fn verify(&self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
        verify::json(original, analysis, fixed)
    }

    fn has_json_patch(&self) -> bool {
        true
    }

    fn evaluate(
        &self,
        text: &str,
        config: &Configuration,
        path: Option<&Path>,
    ) -> Option<Deployment> {
        // Templates linked by a relative path are read from the template's folder; the
        // template itself counts as being expanded, so a link back to it is not followed.
        let dir = path.and_then(Path::parent);
        crate::eval::linked::from_folder(dir, None, || match path {
            Some(p) => crate::eval::linked::inside(p, || evaluate_json(text, config)),
            None => evaluate_json(text, config),
        })
    }

    fn shape(&self, text: &str) -> Option<serde_json::Value> {
        as_json(text)
    }

    fn locate(&self, text: &str, pointer: &str) -> Option<(usize, usize)> {
        let root = jsonc::parse(text).ok()?;
        let node = find(&root, pointer)?;
        Some((node.span.start, node.span.end))
    }

    fn literal_rotation(&self, text: &str, pointer: &str) -> Option<crate::edit::Edit> {
        let root = jsonc::parse(text).ok()?;
        let Some(node) = find(&root, pointer) else {
            // Missing in a `config` written as an object: added there.
            return add_member(text, &root, pointer, serde_json::json!("true"));
        };
        match node.kind {
            jsonc::Kind::Object(_) | jsonc::Kind::Array(_) => None,
            _ => Some(crate::edit::Edit::replace(
                node.span.start,
                node.span.end,
                "\"true\"",
            )),
        }
    }

    fn literal_config(&self, text: &str, pointer: &str) -> Option<crate::edit::Edit> {
        let root = jsonc::parse(text).ok()?;
        let Some(node) = find(&root, pointer) else {
            // Missing in an add-on written as an object: added there, with the setting.
            return add_member(
                text,
                &root,
                pointer,
                serde_json::json!({ crate::rule::ROTATION: "true" }),
            );
        };
        match node.kind {
            jsonc::Kind::Null | jsonc::Kind::String(_) => Some(crate::edit::Edit::replace(
                node.span.start,
                node.span.end,
                "{ \"enableSecretRotation\": \"true\" }",
            )),
            _ => None,
        }
    }

    fn candidates(&self, text: &str) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        let Ok(root) = jsonc::parse(text) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let turned = |n: &jsonc::Node| match &n.kind {
            jsonc::Kind::Bool(false) => Some("true"),
            jsonc::Kind::String(s) if s.eq_ignore_ascii_case("false") => Some("\"true\""),
            _ => None,
        };
        if let Some(params) = find(&root, "/parameters").and_then(|p| p.members()) {
            for m in params {
                let Some(default) = find(&m.value, "/defaultValue") else {
                    continue;
                };
                if let Some(t) = turned(default) {
                    out.push((
                        crate::edit::Edit::replace(default.span.start, default.span.end, t),
                        crate::finding::FixSource::ParameterDefault {
                            name: m.key.to_string(),
                        },
                    ));
                }
            }
        }
        rotation_members(&root, &mut Vec::new(), &mut out, &turned);
        deployment_arguments(&root, 0, &mut out, &turned);
        out
    }

    fn chain_candidates(
        &self,
        text: &str,
        cluster: &str,
    ) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        chain::candidates(text, cluster)
    }
}

/// Evaluates a template's text with one configuration (`None`: not a deployment template).
pub(crate) fn evaluate_json(text: &str, config: &Configuration) -> Option<Deployment> {
    let json = as_json(text)?;
    let schema = json
        .get("$schema")
        .or_else(|| {
            json.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("$schema"))
                .map(|(_, v)| v)
        })
        .and_then(serde_json::Value::as_str)?;
    if !schema.to_ascii_lowercase().contains("deploymenttemplate") {
        return None;
    }
    Some(crate::eval::arm::evaluate(&json, config))
}

/// The node at JSON pointer `pointer`, keys compared ignoring ASCII case (the last of
/// duplicates, as the deployment engine reads them).
/// The edit that adds the last token of `pointer` with `value` to the JSON object its parent
/// pointer names (keys matched as [`find`] matches them, written as the file spells them),
/// in the file's style; `None` when the parent is not an object written in the file, or the
/// member is there already.
fn add_member(
    text: &str,
    root: &jsonc::Node,
    pointer: &str,
    value: serde_json::Value,
) -> Option<crate::edit::Edit> {
    let (parent, last) = pointer.rsplit_once('/')?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let mut node = root;
    let mut tokens: Vec<String> = Vec::new();
    for token in parent.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        node = match &node.kind {
            jsonc::Kind::Object(members) => {
                let m = members
                    .iter()
                    .rev()
                    .find(|m| m.key.eq_ignore_ascii_case(&token))?;
                tokens.push(m.key.to_string());
                &m.value
            }
            jsonc::Kind::Array(items) => {
                tokens.push(token.clone());
                items.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    let jsonc::Kind::Object(members) = &node.kind else {
        return None;
    };
    if members.iter().any(|m| m.key.eq_ignore_ascii_case(&last)) {
        return None;
    }
    tokens.push(last);
    let op = json_patch::PatchOperation::Add(json_patch::AddOperation {
        path: jsonptr::PointerBuf::from_tokens(tokens),
        value,
    });
    let edits = render::render(text, root, &op).ok()?;
    (edits.len() == 1)
        .then(|| edits.into_iter().next())
        .flatten()
}

fn find<'n, 'a>(root: &'n jsonc::Node<'a>, pointer: &str) -> Option<&'n jsonc::Node<'a>> {
    let mut node = root;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        node = match &node.kind {
            jsonc::Kind::Object(members) => {
                &members
                    .iter()
                    .rev()
                    .find(|m| m.key.eq_ignore_ascii_case(&token))?
                    .value
            }
            jsonc::Kind::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Every false literal a nested or linked deployment passes (`properties.parameters.X.value`
/// of a `Microsoft.Resources/deployments` resource, at any depth): it may feed the rotation
/// setting of the template it deploys.
fn deployment_arguments(
    node: &jsonc::Node,
    depth: usize,
    out: &mut Vec<(crate::edit::Edit, crate::finding::FixSource)>,
    turned: &dyn Fn(&jsonc::Node) -> Option<&'static str>,
) {
    if depth > jsonc::MAX_DEPTH {
        return;
    }
    match &node.kind {
        jsonc::Kind::Object(members) => {
            let deployment = find(node, "/type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Resources/deployments"));
            if deployment {
                let params = find(node, "/properties/parameters").and_then(|p| p.members());
                for m in params.unwrap_or(&[]) {
                    if m.key.eq_ignore_ascii_case(crate::rule::ROTATION) {
                        continue; // found with every rotation member
                    }
                    let Some(value) = find(&m.value, "/value") else {
                        continue;
                    };
                    if let Some(t) = turned(value) {
                        out.push((
                            crate::edit::Edit::replace(value.span.start, value.span.end, t),
                            crate::finding::FixSource::DeploymentParameter {
                                name: m.key.to_string(),
                            },
                        ));
                    }
                }
            }
            for m in members {
                deployment_arguments(&m.value, depth + 1, out, turned);
            }
        }
        jsonc::Kind::Array(items) => {
            for item in items {
                deployment_arguments(item, depth + 1, out, turned);
            }
        }
        _ => {}
    }
}

/// Every `enableSecretRotation` member set to a false literal, anywhere in the document,
/// with where it is (in a variable, a parameter's default, or a resource).
fn rotation_members<'a>(
    node: &jsonc::Node<'a>,
    path: &mut Vec<String>,
    out: &mut Vec<(crate::edit::Edit, crate::finding::FixSource)>,
    turned: &dyn Fn(&jsonc::Node) -> Option<&'static str>,
) {
    if path.len() > jsonc::MAX_DEPTH {
        return;
    }
    match &node.kind {
        jsonc::Kind::Object(members) => {
            for m in members {
                if m.key.eq_ignore_ascii_case(crate::rule::ROTATION) {
                    if let Some(t) = turned(&m.value) {
                        let source = match path.as_slice() {
                            [v, name, ..] if v.eq_ignore_ascii_case("variables") => {
                                crate::finding::FixSource::Variable { name: name.clone() }
                            }
                            [p, name, ..] if p.eq_ignore_ascii_case("parameters") => {
                                crate::finding::FixSource::ParameterDefault { name: name.clone() }
                            }
                            _ => crate::finding::FixSource::Value,
                        };
                        out.push((
                            crate::edit::Edit::replace(m.value.span.start, m.value.span.end, t),
                            source,
                        ));
                    }
                }
                path.push(m.key.to_string());
                rotation_members(&m.value, path, out, turned);
                path.pop();
            }
        }
        jsonc::Kind::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                rotation_members(item, path, out, turned);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The document as a JSON value: read by `serde_json` directly when it is strict JSON (the
/// usual case, and several times faster), else through the comment-aware parser. Of
/// duplicate keys the last one wins either way, as the deployment engine reads them.
pub(crate) fn as_json(text: &str) -> Option<serde_json::Value> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(body)
        .ok()
        .or_else(|| jsonc::parse(text).ok().map(|root| root.to_value()))
}

/// A cluster resource without a condition or copy loop whose path to the rotation setting is
/// literal JSON (the add-on object and its `config` may hold anything, as long as it is not
/// an expression).
pub(crate) fn literal_cluster(cluster: &jsonc::Node) -> bool {
    let is_expr = |n: &jsonc::Node| n.as_str().is_some_and(template::is_expression);
    let literal_tree = |n: &jsonc::Node| !any_expression(n, 0);
    let Some(members) = cluster.members() else {
        return false;
    };
    // A condition or a copy loop decides whether (and how often) it deploys: evaluate.
    if members
        .iter()
        .any(|m| m.key.eq_ignore_ascii_case("condition") || m.key.eq_ignore_ascii_case("copy"))
    {
        return false;
    }
    let mut node = cluster;
    for key in ["properties", "addonProfiles", crate::rule::ADDON] {
        match find(node, &format!("/{key}")) {
            Some(n) if n.members().is_some() => node = n,
            Some(n) if is_expr(n) => return false,
            Some(_) | None => return true,
        }
    }
    literal_tree(node)
}

/// Whether `n` or anything inside it is an ARM expression string.
fn any_expression(n: &jsonc::Node, depth: usize) -> bool {
    if depth > jsonc::MAX_DEPTH {
        return true;
    }
    match &n.kind {
        jsonc::Kind::String(s) => template::is_expression(s),
        jsonc::Kind::Array(items) => items.iter().any(|i| any_expression(i, depth + 1)),
        jsonc::Kind::Object(members) => members.iter().any(|m| any_expression(&m.value, depth + 1)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str =
        "/resources/0/properties/addonProfiles/azureKeyvaultSecretsProvider/config";

    fn fixed(text: &str, edit: Option<crate::edit::Edit>) -> serde_json::Value {
        let edit = edit.expect("an edit");
        as_json(&crate::edit::apply(text, &[edit]).unwrap()).unwrap()
    }

    #[test]
    fn a_missing_config_or_rotation_is_added_to_the_object_written_in_the_cluster() {
        // Keys matched case-insensitively, written as the file spells them.
        let text = r#"{"resources": [{"type": "Microsoft.ContainerService/managedClusters",
            "Properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true}}}}]}"#;
        let doc = fixed(text, Arm.literal_config(text, CONFIG));
        assert_eq!(
            doc["resources"][0]["Properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"],
            serde_json::json!({"enabled": true, "config": {"enableSecretRotation": "true"}})
        );
        let text = r#"{"resources": [{"properties": {"addonProfiles": {"azureKeyvaultSecretsProvider":
            {"enabled": true, "config": {"rotationPollInterval": "2m"}}}}}]}"#;
        let doc = fixed(
            text,
            Arm.literal_rotation(text, &format!("{CONFIG}/enableSecretRotation")),
        );
        assert_eq!(
            doc["resources"][0]["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]
                ["config"],
            serde_json::json!({"rotationPollInterval": "2m", "enableSecretRotation": "true"})
        );
    }

    #[test]
    fn nothing_is_added_where_the_parent_is_not_a_written_object() {
        // The add-on computed by an expression, or missing altogether.
        for addon in [
            r#""azureKeyvaultSecretsProvider": "[variables('a')]""#,
            r#""other": {}"#,
        ] {
            let text =
                format!(r#"{{"resources": [{{"properties": {{"addonProfiles": {{{addon}}}}}}}]}}"#);
            assert_eq!(Arm.literal_config(&text, CONFIG), None, "{text}");
        }
    }
}
