//! Linked templates: the template a `Microsoft.Resources/deployments` resource names by
//! `templateLink.relativePath`, or by a `templateLink.uri` built as
//! `uri(deployment().properties.templateLink.uri, 'PATH')`, read from the disk relative to
//! the template that links it, so the evaluator can expand it with the values the caller
//! passes (as the deployment engine does once it has fetched it). Its one job: from a
//! deployment resource and the folder of its template, the linked template's JSON.
//!
//! Template specs: a `templateSpecs/versions` resource (top-level, or a `versions` child of
//! a `templateSpecs` resource) resolves its main template's links to its `linkedTemplates`
//! ([`spec`], which also reports the entries no link reached, for the evaluator to judge on
//! their own), and [`linked_deployments`] hands the proof the clusters the rule's walk does
//! not enter (a child version's, an unreached entry's).
//!
//! A link by any other URI (an absolute URL, a storage account with a SAS token, a URI
//! computed at deploy time), one with a `parametersLink` (its values are in a file the
//! engine fetches), one whose file is missing or not JSON, and one that leads back into a
//! template being expanded are not expanded: the deployment stays as it is, its effects
//! unknown.

use serde_json::Value as J;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    /// The folders of the templates being evaluated on this thread, innermost last, with
    /// the files already expanded on the way (against cycles).
    static STACK: RefCell<Vec<(PathBuf, Option<PathBuf>)>> = const { RefCell::new(Vec::new()) };
    /// A linked file read as this text instead of from the disk (canonical path): to
    /// evaluate a caller with the linked template as its own fixes leave it.
    static REPLACED: RefCell<Option<(PathBuf, String)>> = const { RefCell::new(None) };
    /// The `linkedTemplates` of the template spec being evaluated, by path: its links
    /// resolve here (and nowhere else; `None`: not in a template spec).
    static SPEC: RefCell<Option<Vec<(String, J)>>> = const { RefCell::new(None) };
    /// The `linkedTemplates` paths of that spec that a link resolved to (normalised).
    static SPEC_REACHED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` (an evaluation of the template in `dir`) so that the links it meets resolve
/// from `dir`; `replaced`: a linked file (by canonical path) read as the given text.
pub(crate) fn from_folder<R>(
    dir: Option<&Path>,
    replaced: Option<(&Path, &str)>,
    f: impl FnOnce() -> R,
) -> R {
    let Some(dir) = dir else {
        return f();
    };
    let old_stack = STACK.with(|s| s.replace(vec![(dir.to_path_buf(), None)]));
    let old_replaced =
        REPLACED.with(|r| r.replace(replaced.map(|(p, t)| (p.to_path_buf(), t.to_string()))));
    let out = f();
    STACK.with(|s| *s.borrow_mut() = old_stack);
    REPLACED.with(|r| *r.borrow_mut() = old_replaced);
    out
}

/// Runs `f` (the evaluation of a template spec's `mainTemplate`) so that its links by a
/// relative path resolve to the spec's `linkedTemplates` (by their `path`), not to the disk.
/// Also returns the paths (as given in `linked`) that a link resolved to: the others are
/// templates of the spec no link reaches, which the caller evaluates on their own.
pub(crate) fn spec<R>(linked: Vec<(String, J)>, f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let paths: Vec<String> = linked.iter().map(|(p, _)| p.clone()).collect();
    let old = SPEC.with(|s| s.replace(Some(linked)));
    let old_reached = SPEC_REACHED.with(|r| r.replace(Vec::new()));
    let out = f();
    SPEC.with(|s| *s.borrow_mut() = old);
    let reached = SPEC_REACHED.with(|r| r.replace(old_reached));
    let reached = paths
        .into_iter()
        .filter(|p| reached.contains(&normalise(p)))
        .collect();
    (out, reached)
}

/// A template of the spec being evaluated, by the relative path a link names (`./` and
/// `\\` ignored).
fn from_spec(relative: &str) -> Option<Option<J>> {
    let norm = normalise;
    SPEC.with(|s| {
        let s = s.borrow();
        let linked = s.as_ref()?;
        let found = linked
            .iter()
            .find(|(p, _)| norm(p) == norm(relative))
            .map(|(_, t)| t.clone());
        if found.is_some() {
            SPEC_REACHED.with(|r| r.borrow_mut().push(norm(relative)));
        }
        Some(found)
    })
}

/// A relative path as a template spec's `linkedTemplates` are matched by it: `/`-separated,
/// without a leading `./`.
fn normalise(p: &str) -> String {
    p.replace('\\', "/").trim_start_matches("./").to_string()
}

/// Evaluates `f` (the expansion of a linked template read from `file`) with links
/// resolving from that file's folder.
pub(crate) fn inside<R>(file: &Path, f: impl FnOnce() -> R) -> R {
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    STACK.with(|s| s.borrow_mut().push((dir, Some(file.to_path_buf()))));
    let out = f();
    STACK.with(|s| s.borrow_mut().pop());
    out
}

/// The relative path a deployment resource links its template by: the evaluated
/// `properties.templateLink.relativePath` (`relative_path`, a string), or the literal
/// second argument of `uri(deployment().properties.templateLink.uri, '…')` in the raw
/// `templateLink.uri` expression.
pub(crate) fn relative_path(template_link: &J, relative_path: Option<&str>) -> Option<String> {
    if let Some(p) = relative_path {
        return Some(p.to_string());
    }
    let uri = template_link
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("uri"))?
        .1
        .as_str()?;
    let compact: String = uri.chars().filter(|c| !c.is_whitespace()).collect();
    let lower = compact.to_ascii_lowercase();
    let head = "[uri(deployment().properties.templatelink.uri,'";
    if !lower.starts_with(head) || !lower.ends_with("')]") {
        return None;
    }
    let path = &compact[head.len()..compact.len() - 3];
    (!path.contains('\'')).then(|| path.to_string())
}

/// The linked template `relative` names, read from the folder of the template being
/// evaluated: its JSON and its file. `None` when there is no folder (standard input), the
/// file is missing, not a deployment template, or already being expanded.
pub(crate) fn load(relative: &str) -> Option<(J, PathBuf)> {
    if relative.contains("://") || relative.starts_with('/') {
        return None;
    }
    if let Some(in_spec) = from_spec(relative) {
        // A spec's links name its own linked templates; a cycle among them ends at the
        // evaluator's depth limit, like any nesting.
        return in_spec.map(|t| (t, PathBuf::from(relative)));
    }
    let (dir, chain) = STACK.with(|s| {
        let s = s.borrow();
        let (dir, _) = s.last()?.clone();
        let chain: Vec<PathBuf> = s.iter().filter_map(|(_, f)| f.clone()).collect();
        Some((dir, chain))
    })?;
    let file = dir.join(relative.replace('\\', "/"));
    let canonical = std::fs::canonicalize(&file).ok()?;
    if chain
        .iter()
        .any(|f| std::fs::canonicalize(f).is_ok_and(|f| f == canonical))
    {
        return None;
    }
    let replaced = REPLACED.with(|r| {
        r.borrow()
            .as_ref()
            .filter(|(p, _)| *p == canonical)
            .map(|(_, t)| t.clone())
    });
    let text = match replaced {
        Some(t) => t,
        None => crate::run::read::read_text(&file)?,
    };
    let json = crate::lang::arm::jsonc::parse(&text).ok()?.to_value();
    let schema = json
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("$schema"))?
        .1
        .as_str()?
        .to_ascii_lowercase();
    schema
        .contains("deploymenttemplate")
        .then_some((json, file))
}

/// [`linked_deployments`] of the parsed template `root` (its `text`) being analysed, in
/// the folder the engine names (see [`crate::lang::bicep::modules::analysing`]); none when
/// the text never mentions `templateLink` or the folder is not known.
pub(crate) fn linked_deployments_in(
    text: &str,
    root: &crate::lang::arm::jsonc::Node,
) -> Vec<String> {
    // A walk of the resources' types first: it costs a few steps per resource, where the
    // text search reads every byte again (5% of `check` on the bench's 10,000 files).
    if !declares_links(root, 0)
        || !crate::run::read::mentions_any(
            text.as_bytes(),
            &["templatelink", "linkedtemplates", "templatespecs"],
        )
    {
        return Vec::new();
    }
    // Without a folder (standard input) no file on disk is linked; a spec's own templates
    // still are.
    let dir = crate::lang::bicep::modules::analysed_folder();
    let walk_from = |template: &J| {
        let mut out = Vec::new();
        walk(template, dir.as_deref(), None, &mut Vec::new(), &mut out, 0);
        out
    };
    // The rule's tree leaves out the properties of resources of other types, among them a
    // spec version written as a child resource (`"type": "versions"`): read those whole.
    if crate::run::read::mentions_any(text.as_bytes(), &["templatespecs"]) {
        if let Ok(whole) = crate::lang::arm::jsonc::parse(text) {
            return walk_from(&whole.to_value());
        }
    }
    walk_from(&root.to_value())
}

/// The value of an object's last member named `key` (ignoring ASCII case).
fn last_member<'n, 'a>(
    node: &'n crate::lang::arm::jsonc::Node<'a>,
    key: &str,
) -> Option<&'n crate::lang::arm::jsonc::Node<'a>> {
    node.members()?
        .iter()
        .rev()
        .find(|m| m.key.eq_ignore_ascii_case(key))
        .map(|m| &m.value)
}

/// Whether a resource of the template, at any depth (child resources included), is a
/// deployment, a template spec or a spec's version, or has a type armfix cannot read (an
/// expression): only those can link a template or hold linked templates.
fn declares_links(template: &crate::lang::arm::jsonc::Node, depth: usize) -> bool {
    use crate::lang::arm::jsonc::Kind;
    if depth > super::MAX_DEPTH {
        return true;
    }
    let Some(resources) = last_member(template, "resources") else {
        return false;
    };
    let items: Vec<&crate::lang::arm::jsonc::Node> = match &resources.kind {
        Kind::Array(a) => a.iter().collect(),
        Kind::Object(o) => o.iter().map(|m| &m.value).collect(),
        _ => return false,
    };
    items.into_iter().any(|r| {
        let kind = last_member(r, "type").map(|t| t.as_str().map(str::to_ascii_lowercase));
        match kind {
            Some(Some(t)) => {
                t.starts_with('[')
                    || t.contains("deployments")
                    || t.contains("templatespecs")
                    || t == "versions"
                    || declares_links(r, depth + 1)
            }
            // A type that is not a string: not a resource armfix can place; look no further.
            Some(None) => false,
            None => declares_links(r, depth + 1),
        }
    })
}

/// The deployments of a template (at any depth of inline nested templates) that link a
/// template on disk by a relative path, as JSON pointers (`/resources/0`): their clusters
/// are judged with what the caller passes. `dir`: the template's folder.
pub(crate) fn linked_deployments(template: &J, dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(template, Some(dir), None, &mut Vec::new(), &mut out, 0);
    out
}

/// `spec`: the `linkedTemplates` paths of the template spec whose `mainTemplate` this is
/// (its links resolve there, not on disk).
fn walk(
    template: &J,
    dir: Option<&Path>,
    spec: Option<&[String]>,
    path: &mut Vec<String>,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > super::MAX_DEPTH {
        return;
    }
    let Some((rkey, items)) = resource_items(template) else {
        return;
    };
    for (key, r) in items {
        let kind = member(r, "type")
            .and_then(|(_, t)| t.as_str())
            .unwrap_or("");
        if kind.eq_ignore_ascii_case("Microsoft.Resources/templateSpecs") {
            // Versions written as the spec's child resources (`"type": "versions"`).
            path.extend([rkey.to_string(), key.clone()]);
            walk(r, dir, spec, path, out, depth + 1);
            path.truncate(path.len() - 2);
            continue;
        }
        let is_deployment = kind.eq_ignore_ascii_case("Microsoft.Resources/deployments");
        let is_spec = kind.eq_ignore_ascii_case("Microsoft.Resources/templateSpecs/versions")
            || (kind.eq_ignore_ascii_case("versions") && is_spec_child(path));
        let child = is_spec && is_spec_child(path);
        let Some((pkey, props)) = member(r, "properties").filter(|_| is_deployment || is_spec)
        else {
            continue;
        };
        path.extend([rkey.to_string(), key.clone()]);
        if is_spec {
            if let Some((tkey, inner)) =
                member(props, "mainTemplate").filter(|(_, t)| t.is_object())
            {
                let paths: Vec<String> = match member(props, "linkedTemplates") {
                    Some((_, J::Array(items))) => items
                        .iter()
                        .filter_map(|i| member(i, "path")?.1.as_str().map(normalise))
                        .collect(),
                    _ => Vec::new(),
                };
                path.extend([pkey.to_string(), tkey.to_string()]);
                if child {
                    // A version written as a child resource: the rule's own walk does not
                    // enter it, so its clusters are judged as evaluated.
                    cluster_pointers(inner, path, out, depth + 1);
                }
                walk(inner, dir, Some(&paths), path, out, depth + 1);
                path.truncate(path.len() - 2);
                // Templates of the spec no link of the main template names: judged on their
                // own, with their defaults (see `eval::arm`).
                let mut linked = Vec::new();
                link_paths(inner, &mut linked, 0);
                if let Some((lkey, J::Array(items))) = member(props, "linkedTemplates") {
                    for (i, item) in items.iter().enumerate() {
                        let Some(p) = member(item, "path").and_then(|(_, p)| p.as_str()) else {
                            continue;
                        };
                        let Some((tkey, _)) =
                            member(item, "template").filter(|(_, t)| t.is_object())
                        else {
                            continue;
                        };
                        if !linked.contains(&normalise(p)) {
                            path.extend([pkey.to_string(), lkey.to_string(), i.to_string()]);
                            path.push(tkey.to_string());
                            if let Some((_, t)) = member(item, "template") {
                                cluster_pointers(t, path, out, depth + 1);
                            }
                            path.truncate(path.len() - 4);
                        }
                    }
                }
            }
        } else if let Some((tkey, inner)) = member(props, "template").filter(|(_, t)| t.is_object())
        {
            path.extend([pkey.to_string(), tkey.to_string()]);
            walk(inner, dir, spec, path, out, depth + 1);
            path.truncate(path.len() - 2);
        } else if let Some((_, link)) = member(props, "templateLink") {
            let literal = member(link, "relativePath")
                .and_then(|(_, p)| p.as_str())
                .filter(|p| !p.starts_with('['));
            let linked = relative_path(link, literal).is_some_and(|p| match spec {
                Some(paths) => paths.contains(&normalise(&p)),
                None => dir.is_some_and(|d| d.join(p).is_file()),
            });
            if linked && member(props, "parametersLink").is_none() {
                out.push(jsonptr::PointerBuf::from_tokens(path.iter()).to_string());
            }
        }
        path.truncate(path.len() - 2);
    }
}

/// Whether the template being walked at `path` is a resource (its path ends in
/// `resources/N`) rather than a template: `walk` is called on a resource only for a
/// `templateSpecs` one, whose `versions` children are spec versions.
/// The template's `resources` key as spelled, and each resource with its pointer token (an
/// index, or a symbolic name in languageVersion 2.0).
fn resource_items(template: &J) -> Option<(&str, Vec<(String, &J)>)> {
    let (rkey, resources) = member(template, "resources")?;
    let items = match resources {
        J::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, r)| (i.to_string(), r))
            .collect(),
        J::Object(o) => o.iter().map(|(k, r)| (k.clone(), r)).collect(),
        _ => return None,
    };
    Some((rkey, items))
}

fn is_spec_child(path: &[String]) -> bool {
    path.len() >= 2 && path[path.len() - 2].eq_ignore_ascii_case("resources")
}

/// The clusters of `template` (at `path`), and of its inline nested templates, as JSON
/// pointers: for templates the rule's own walk does not enter (a spec version written as a
/// child resource, a spec's linked template no link reaches).
fn cluster_pointers(template: &J, path: &mut Vec<String>, out: &mut Vec<String>, depth: usize) {
    if depth > super::MAX_DEPTH {
        return;
    }
    let Some((rkey, items)) = resource_items(template) else {
        return;
    };
    for (key, r) in items {
        let kind = member(r, "type")
            .and_then(|(_, t)| t.as_str())
            .unwrap_or("");
        path.extend([rkey.to_string(), key]);
        if kind.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters") {
            let existing = member(r, "existing").is_some_and(|(_, e)| e == &J::Bool(true));
            if !existing {
                out.push(jsonptr::PointerBuf::from_tokens(path.iter()).to_string());
            }
        } else if let Some((pkey, props)) = member(r, "properties") {
            let inline = if kind.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
                "template"
            } else {
                "mainTemplate"
            };
            if let Some((tkey, t)) = member(props, inline).filter(|(_, t)| t.is_object()) {
                path.extend([pkey.to_string(), tkey.to_string()]);
                cluster_pointers(t, path, out, depth + 1);
                path.truncate(path.len() - 2);
            }
        }
        path.truncate(path.len() - 2);
    }
}

/// The relative paths (normalised) every `templateLink` anywhere in `v` names, when written
/// literally (`relativePath`, or `uri(deployment().properties.templateLink.uri, '…')`).
fn link_paths(v: &J, out: &mut Vec<String>, depth: usize) {
    if depth > 4 * super::MAX_DEPTH {
        return;
    }
    match v {
        J::Object(o) => {
            for (k, v) in o {
                if k.eq_ignore_ascii_case("templateLink") {
                    let literal = member(v, "relativePath")
                        .and_then(|(_, p)| p.as_str())
                        .filter(|p| !p.starts_with('['));
                    if let Some(p) = relative_path(v, literal) {
                        out.push(normalise(&p));
                    }
                }
                link_paths(v, out, depth + 1);
            }
        }
        J::Array(a) => a.iter().for_each(|v| link_paths(v, out, depth + 1)),
        _ => {}
    }
}

/// A member of a JSON object by name ignoring ASCII case (the last of duplicates), with
/// its key as written.
fn member<'j>(v: &'j J, name: &str) -> Option<(&'j str, &'j J)> {
    v.as_object()?
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(k, v)| (k.as_str(), v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_deployments_and_specs_can_link() {
        let declares =
            |text: &str| declares_links(&crate::lang::arm::jsonc::parse(text).unwrap(), 0);
        let plain = r#"{"resources": [{"type": "Microsoft.ContainerService/managedClusters"}]}"#;
        assert!(!declares(plain));
        assert!(
            !declares(r#"{"parameters": {"templateLink": 1}}"#),
            "no resources"
        );
        for linking in [
            r#"{"resources": [{"type": "Microsoft.Resources/deployments"}]}"#,
            r#"{"resources": {"d": {"type": "microsoft.resources/DEPLOYMENTS"}}}"#,
            r#"{"resources": [{"type": "Microsoft.Resources/templateSpecs"}]}"#,
            r#"{"resources": [{"type": "Microsoft.Resources/templateSpecs/versions"}]}"#,
            r#"{"resources": [{"type": "x/y", "resources": [{"type": "deployments"}]}]}"#,
            r#"{"resources": [{"type": "x/y", "resources": [{"type": "versions"}]}]}"#,
            r#"{"resources": [{"type": "[parameters('kind')]"}]}"#,
        ] {
            assert!(declares(linking), "{linking}");
        }
    }

    #[test]
    fn relative_paths_by_either_form() {
        assert_eq!(
            relative_path(&json!({"relativePath": "x"}), Some("nested/aks.json")).as_deref(),
            Some("nested/aks.json")
        );
        let uri = |u: &str| relative_path(&json!({ "uri": u }), None);
        assert_eq!(
            uri("[uri(deployment().properties.templateLink.uri, 'nested/aks.json')]").as_deref(),
            Some("nested/aks.json")
        );
        assert_eq!(
            uri("[uri(deployment().properties.templateLink.uri,'aks.json')]").as_deref(),
            Some("aks.json")
        );
        for other in [
            "https://example.com/aks.json",
            "[concat(parameters('base'), 'aks.json')]",
            "[uri(deployment().properties.templateLink.uri, concat('a', 'b'))]",
        ] {
            assert_eq!(uri(other), None, "{other}");
        }
    }

    /// The clusters of a spec version written as a child resource, and of linked templates
    /// no link reaches, are handed to the proof; a linked template a link reaches is judged
    /// through that link (its deployment), not again on its own.
    #[test]
    fn spec_children_and_unlinked_templates_are_walked() {
        let aks = json!({"type": "Microsoft.ContainerService/managedClusters", "name": "a"});
        let linked = |p: &str| json!({"path": p, "template": {"resources": [aks.clone()]}});
        let t = json!({"resources": [{
            "type": "Microsoft.Resources/templateSpecs",
            "resources": [{"type": "versions", "properties": {
                "mainTemplate": {"resources": [aks.clone(), {
                    "type": "Microsoft.Resources/deployments",
                    "properties": {"templateLink": {"relativePath": "./x.json"}}
                }]},
                "linkedTemplates": [linked("x.json"), linked("y.json")]
            }}, {"type": "Microsoft.Resources/templateSpecs/versions", "properties": {
                "mainTemplate": {"resources": [aks.clone()]}
            }}]
        }]});
        let got = linked_deployments(&t, Path::new("/nonexistent"));
        assert_eq!(
            got,
            [
                "/resources/0/resources/0/properties/mainTemplate/resources/0",
                "/resources/0/resources/0/properties/mainTemplate/resources/1",
                "/resources/0/resources/0/properties/linkedTemplates/1/template/resources/0",
                "/resources/0/resources/1/properties/mainTemplate/resources/0",
            ]
        );
    }
}
