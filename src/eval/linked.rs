//! Linked templates: the template a `Microsoft.Resources/deployments` resource names by
//! `templateLink.relativePath`, or by a `templateLink.uri` built as
//! `uri(deployment().properties.templateLink.uri, 'PATH')`, read from the disk relative to
//! the template that links it, so the evaluator can expand it with the values the caller
//! passes (as the deployment engine does once it has fetched it). Its one job: from a
//! deployment resource and the folder of its template, the linked template's JSON.
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
pub(crate) fn spec<R>(linked: Vec<(String, J)>, f: impl FnOnce() -> R) -> R {
    let old = SPEC.with(|s| s.replace(Some(linked)));
    let out = f();
    SPEC.with(|s| *s.borrow_mut() = old);
    out
}

/// A template of the spec being evaluated, by the relative path a link names (`./` and
/// `\\` ignored).
fn from_spec(relative: &str) -> Option<Option<J>> {
    let norm = normalise;
    SPEC.with(|s| {
        let s = s.borrow();
        let linked = s.as_ref()?;
        Some(
            linked
                .iter()
                .find(|(p, _)| norm(p) == norm(relative))
                .map(|(_, t)| t.clone()),
        )
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
    if !crate::run::read::mentions_any(text.as_bytes(), &["templatelink"]) {
        return Vec::new();
    }
    match crate::lang::bicep::modules::analysed_folder() {
        Some(dir) => linked_deployments(&root.to_value(), &dir),
        None => Vec::new(),
    }
}

/// The deployments of a template (at any depth of inline nested templates) that link a
/// template on disk by a relative path, as JSON pointers (`/resources/0`): their clusters
/// are judged with what the caller passes. `dir`: the template's folder.
pub(crate) fn linked_deployments(template: &J, dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(template, dir, None, &mut Vec::new(), &mut out, 0);
    out
}

/// `spec`: the `linkedTemplates` paths of the template spec whose `mainTemplate` this is
/// (its links resolve there, not on disk).
fn walk(
    template: &J,
    dir: &Path,
    spec: Option<&[String]>,
    path: &mut Vec<String>,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > super::MAX_DEPTH {
        return;
    }
    let Some((rkey, resources)) = member(template, "resources") else {
        return;
    };
    let items: Vec<(String, &J)> = match resources {
        J::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, r)| (i.to_string(), r))
            .collect(),
        J::Object(o) => o.iter().map(|(k, r)| (k.clone(), r)).collect(),
        _ => return,
    };
    for (key, r) in items {
        let kind = member(r, "type")
            .and_then(|(_, t)| t.as_str())
            .unwrap_or("");
        let is_deployment = kind.eq_ignore_ascii_case("Microsoft.Resources/deployments");
        let is_spec = kind.eq_ignore_ascii_case("Microsoft.Resources/templateSpecs/versions");
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
                walk(inner, dir, Some(&paths), path, out, depth + 1);
                path.truncate(path.len() - 2);
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
                None => dir.join(p).is_file(),
            });
            if linked && member(props, "parametersLink").is_none() {
                out.push(jsonptr::PointerBuf::from_tokens(path.iter()).to_string());
            }
        }
        path.truncate(path.len() - 2);
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
}
