//! Bicep support: reads `.bicep` files losslessly ([`lexer`], [`parser`] into [`ast`]), lets
//! the shared rule decide each cluster through [`crate::eval::bicep_origin`], plans fixes and manual-review
//! findings ([`plan`]), renders them as Bicep-style text edits ([`render`]), and addresses the
//! JSON Patch in the file's ARM shape ([`view`]), as `bicep build` would compile it. The
//! pipeline after analysis (diff, prompt, verification, atomic write) is the shared one.
//! `.bicepparam` files of scanned templates are fixed for the parameters those templates'
//! rotation settings read ([`params`]), like ARM parameter files.
//!
//! Why a hand-written reader: tree-sitter-bicep lacks the spread operator, `$'''` strings and
//! `extension`, and armfix needs exact byte spans of objects, keys and values but no
//! semantics for most expressions, which it only has to skip correctly.

pub(crate) mod ast;
mod chain;
pub(crate) mod lexer;
pub(crate) mod modules;
pub(crate) mod params;
pub mod parser;
pub(crate) mod plan;
pub(crate) mod render;
pub(crate) mod view;

pub(crate) use params::{analyze_params, using_target, verify_params};

use crate::error::Error;
use crate::eval::{Configuration, Deployment};
use crate::finding::Analysis;
use crate::lang::{checks, Language, Options};
use crate::location::LineIndex;
use std::path::Path;

/// Words a Bicep file must contain (ignoring ASCII case) to possibly need a fix: a cluster
/// type, a call of the AKS module with its add-on parameter, or the rotation setting (a
/// call of a local module that deploys a cluster passes it).
pub(crate) const MARKERS: [&str; 4] = [
    "managedclusters",
    "enablekeyvaultsecretsprovider",
    "managed-cluster",
    "enablesecretrotation",
];

/// Cheap test on raw bytes: can this Bicep file concern the rule at all?
pub(crate) fn may_concern(bytes: &[u8]) -> bool {
    crate::run::read::mentions_any(bytes, &MARKERS) || calls_local_module(bytes)
}

/// Whether the file may call a local module (`module x './y.bicep'`): the module may deploy
/// a cluster, judged with this file's arguments.
fn calls_local_module(bytes: &[u8]) -> bool {
    crate::run::read::contains_ignore_ascii_case(bytes, b"module ")
        && crate::run::read::contains_ignore_ascii_case(bytes, b".bicep'")
}

/// Parses and plans one Bicep file. Every Bicep file is a template, so the result is always
/// `Some` unless the file cannot be read.
pub(crate) fn analyze(text: &str) -> Result<Option<Analysis>, Error> {
    let doc = parser::parse(text)?;
    plan::plan(text, &doc).map(Some)
}

/// Bicep as a [`Language`].
pub(crate) struct Bicep;

impl Language for Bicep {
    fn may_concern(&self, bytes: &[u8]) -> bool {
        may_concern(bytes)
    }

    fn analyze(&self, text: &str, _: &Options) -> Result<Option<Analysis>, Error> {
        analyze(text)
    }

    fn verify(&self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
        verify(original, analysis, fixed)
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
        let doc = parser::parse(text).ok()?;
        if doc.is_params_file() {
            return None;
        }
        evaluate_with(&doc, text, config, path, None)
    }

    fn shape(&self, text: &str) -> Option<serde_json::Value> {
        let doc = parser::parse(text).ok()?;
        Some(view::view(&doc, text))
    }

    fn locate(&self, text: &str, pointer: &str) -> Option<(usize, usize)> {
        let doc = parser::parse(text).ok()?;
        let tokens: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let [resources, name, rest @ ..] = tokens.as_slice() else {
            return None;
        };
        if resources != "resources" {
            return None;
        }
        let decl = (0..doc.resources.len())
            .find(|&i| &doc.symbolic_name(i) == name)
            .map(|i| &doc.resources[i])
            .or_else(|| doc.modules.iter().find(|m| &m.name == name))?;
        if rest.is_empty() {
            return Some((decl.name_span.start, decl.name_span.end));
        }
        let id = member_at(&doc, decl.body, rest)?;
        let span = doc.node(id).span;
        Some((span.start, span.end))
    }

    fn literal_rotation(&self, text: &str, pointer: &str) -> Option<crate::edit::Edit> {
        let (start, end) = scalar_at(self, text, pointer)?;
        Some(crate::edit::Edit::replace(start, end, "'true'"))
    }

    fn literal_config(&self, text: &str, pointer: &str) -> Option<crate::edit::Edit> {
        let (start, end) = scalar_at(self, text, pointer)?;
        Some(crate::edit::Edit::replace(
            start,
            end,
            "{ enableSecretRotation: 'true' }",
        ))
    }

    fn call_candidates(
        &self,
        text: &str,
        path: Option<&Path>,
    ) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        let Ok(doc) = parser::parse(text) else {
            return Vec::new();
        };
        let modules = Modules {
            dir: path.and_then(Path::parent).map(Path::to_path_buf),
            replaced: None,
        };
        let mut out = Vec::new();
        for m in &doc.modules {
            let Some((callee, _)) = crate::eval::bicep::ModuleSource::load(&modules, &m.target)
            else {
                continue;
            };
            let (body, _) = plan::unwrap_body(&doc, m.body);
            let Some(params) = doc.object(body).and_then(|o| {
                o.members
                    .iter()
                    .find(|x| x.key.as_deref() == Some("params"))
                    .map(|x| x.value)
            }) else {
                continue;
            };
            let Some(passed) = doc.object(params).filter(|o| !o.dynamic) else {
                continue;
            };
            for p in &callee.params {
                let Some(default) = p.default else { continue };
                let literal = match &callee.node(default).kind {
                    ast::Kind::Bool(false) => serde_json::Value::Bool(true),
                    ast::Kind::Str(v) if v.eq_ignore_ascii_case("false") => {
                        serde_json::Value::from("true")
                    }
                    _ => continue,
                };
                // Bicep matches argument names exactly.
                if passed
                    .members
                    .iter()
                    .any(|x| x.key.as_deref() == Some(&p.name))
                {
                    continue;
                }
                let Ok(edit) = render::add_member(text, &doc, params, &p.name, &literal, false)
                else {
                    continue;
                };
                let source = crate::finding::FixSource::DeploymentParameter {
                    name: p.name.clone(),
                };
                out.push((edit, source));
            }
        }
        out
    }

    fn chain_candidates(
        &self,
        text: &str,
        cluster: &str,
    ) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        let Ok(doc) = parser::parse(text) else {
            return Vec::new();
        };
        chain::candidates(&doc, text, cluster)
    }

    fn candidates(&self, text: &str) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        use crate::finding::FixSource;
        let Ok(doc) = parser::parse(text) else {
            return Vec::new();
        };
        let turned = |id: ast::NodeId| match &doc.node(id).kind {
            ast::Kind::Bool(false) => Some("true"),
            ast::Kind::Str(s) if s.eq_ignore_ascii_case("false") => Some("'true'"),
            _ => None,
        };
        let edit = |id: ast::NodeId, t: &str| {
            let span = doc.node(id).span;
            crate::edit::Edit::replace(span.start, span.end, t)
        };
        let mut out: Vec<(crate::edit::Edit, FixSource)> = Vec::new();
        for p in &doc.params {
            if let Some(t) = p.default.and_then(turned) {
                let source = FixSource::ParameterDefault {
                    name: p.name.clone(),
                };
                out.push((edit(p.default.expect("has a default"), t), source));
            }
        }
        // A false literal a module call passes may feed its callee's rotation setting.
        for m in &doc.modules {
            let (body, _) = plan::unwrap_body(&doc, m.body);
            let params = doc.object(body).and_then(|o| {
                o.members
                    .iter()
                    .find(|x| x.key.as_deref() == Some("params"))
                    .and_then(|x| doc.object(x.value))
            });
            for p in params.map_or(&[][..], |o| &o.members[..]) {
                let (Some(t), Some(key)) = (turned(p.value), p.key.as_ref()) else {
                    continue;
                };
                if key.eq_ignore_ascii_case(crate::rule::ROTATION) {
                    continue; // found below, with every rotation member
                }
                let source = FixSource::DeploymentParameter { name: key.clone() };
                out.push((edit(p.value, t), source));
            }
        }
        let within = |id: ast::NodeId, outer: ast::NodeId| {
            let (a, b) = (doc.node(id).span, doc.node(outer).span);
            b.start <= a.start && a.end <= b.end
        };
        for node in &doc.nodes {
            let ast::Kind::Object(o) = &node.kind else {
                continue;
            };
            for m in &o.members {
                let rotation = m
                    .key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(crate::rule::ROTATION));
                let Some(t) = turned(m.value).filter(|_| rotation) else {
                    continue;
                };
                let call = doc.modules.iter().find(|c| within(m.value, c.body));
                let source = if let (Some(_), Some(key)) = (call, m.key.as_ref()) {
                    FixSource::DeploymentParameter { name: key.clone() }
                } else if let Some(v) = doc.vars.iter().find(|v| within(m.value, v.value)) {
                    FixSource::Variable {
                        name: v.name.clone(),
                    }
                } else if let Some(p) = doc
                    .params
                    .iter()
                    .find(|p| p.default.is_some_and(|d| within(m.value, d)))
                {
                    FixSource::ParameterDefault {
                        name: p.name.clone(),
                    }
                } else {
                    FixSource::Value
                };
                out.push((edit(m.value, t), source));
            }
        }
        out
    }
}

/// The span of the value at `pointer` when it is a scalar or an expression (never an object
/// or an array): what a literal may overwrite.
fn scalar_at(bicep: &Bicep, text: &str, pointer: &str) -> Option<(usize, usize)> {
    let doc = parser::parse(text).ok()?;
    let (start, end) = bicep.locate(text, pointer)?;
    let id = doc
        .nodes
        .iter()
        .position(|n| n.span.start == start && n.span.end == end)?;
    match doc.node(id).kind {
        ast::Kind::Object(_) | ast::Kind::Array(_) => None,
        _ => Some((start, end)),
    }
}

/// The value at `path` (keys ignoring ASCII case) inside a resource's body.
fn member_at(doc: &ast::Doc, body: ast::NodeId, path: &[String]) -> Option<ast::NodeId> {
    let (mut id, _) = plan::unwrap_body(doc, body);
    for key in path {
        let object = doc.object(id).filter(|o| !o.dynamic)?;
        id = object
            .members
            .iter()
            .rev()
            .find(|m| {
                m.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(key))
            })?
            .value;
    }
    Some(id)
}

/// Local modules, read from the file system relative to the calling file's folder. Registry
/// (`br:`, `br/`) and template-spec (`ts:`, `ts/`) references are not on disk: their calls
/// stay unexpanded.
struct Modules<'o> {
    dir: Option<std::path::PathBuf>,
    /// One module file read from this text instead of the disk (its canonical path).
    replaced: Option<(&'o Path, &'o str)>,
}

/// Evaluates a parsed Bicep file at `path`; `replaced`: a module file (by canonical path)
/// read as the given text instead of from the disk, to evaluate a caller with the module as
/// its own fixes would leave it.
pub(crate) fn evaluate_with(
    doc: &ast::Doc,
    text: &str,
    config: &Configuration,
    path: Option<&Path>,
    replaced: Option<(&Path, &str)>,
) -> Option<Deployment> {
    let modules = Modules {
        dir: path.and_then(Path::parent).map(Path::to_path_buf),
        replaced,
    };
    Some(crate::eval::bicep::evaluate(doc, text, config, &modules))
}

impl crate::eval::bicep::ModuleSource for Modules<'_> {
    fn load(&self, target: &str) -> Option<(ast::Doc, String)> {
        if !plan::is_local_module(target) {
            return None;
        }
        let file = self.dir.as_ref()?.join(target);
        if let Some((at, text)) = self.replaced {
            if std::fs::canonicalize(&file).is_ok_and(|c| c == at) {
                let doc = parser::parse(text).ok()?;
                return Some((doc, text.to_string()));
            }
        }
        let text = crate::run::read::read_text(&file)?;
        let doc = parser::parse(&text).ok()?;
        Some((doc, text))
    }

    /// Bicep refuses to load a file over a few MB; so does this (the value stays Unknown).
    fn read(&self, target: &str) -> Option<Vec<u8>> {
        const MAX: u64 = 4 << 20;
        let file = self.dir.as_ref()?.join(target);
        if std::fs::metadata(&file).ok()?.len() > MAX {
            return None;
        }
        std::fs::read(file).ok()
    }
}

/// Proves a fix before it is written: every byte outside the edits is unchanged, the new
/// text parses, its ARM shape is the original's with the JSON Patch applied, and the rule
/// finds nothing fixable left (and no new manual review).
pub fn verify(original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
    checks::untouched_outside_edits(original, &analysis.edits, fixed)?;
    let before =
        parser::parse(original).map_err(|e| format!("the original no longer parses: {e}"))?;
    let after = parser::parse(fixed).map_err(|e| {
        let (line, col) = LineIndex::new(fixed).line_col(fixed, e.offset);
        format!("the edited text does not parse ({line}:{col}: {e})")
    })?;
    let mut expected = view::view(&before, original);
    json_patch::patch(&mut expected, &analysis.patch)
        .map_err(|e| format!("the JSON Patch does not apply to the file's ARM shape: {e}"))?;
    let got = view::view(&after, fixed);
    // Key order must be kept, except where a key is added: a JSON Patch `add` puts it last,
    // the edit may put it beside the member it belongs with (a module's new argument goes
    // beside `enableKeyvaultSecretsProvider`).
    let without_added = |v: &serde_json::Value| {
        let mut v = v.clone();
        for op in analysis.patch.iter() {
            if let json_patch::PatchOperation::Add(add) = op {
                if let Some((parent, key)) = add.path.split_back() {
                    if let Ok(serde_json::Value::Object(o)) = parent.resolve_mut(&mut v) {
                        o.shift_remove(key.decoded().as_ref());
                    }
                }
            }
        }
        serde_json::to_string(&v).ok()
    };
    let same_order = without_added(&got) == without_added(&expected);
    if got != expected || !same_order {
        return Err("the edited text is not the JSON Patch applied to the original".into());
    }
    let again = plan::plan(fixed, &after)
        .map_err(|e| format!("the edited text cannot be re-checked: {e}"))?;
    checks::nothing_left(analysis, &again)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert!(may_concern(
            b"resource a 'Microsoft.ContainerService/ManagedClusters@1' = {}"
        ));
        assert!(may_concern(
            b"module m 'br/public:avm/res/container-service/managed-cluster:1' = {}"
        ));
        assert!(!may_concern(
            b"resource s 'Microsoft.Storage/storageAccounts@1' = {}"
        ));
    }
}
