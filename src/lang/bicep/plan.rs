//! Plans the fix of one Bicep file. Clusters (`resource … 'Microsoft.ContainerService/
//! managedClusters@…'`, any body form, nested or not, never `existing`) are decided by the
//! shared rule; calls of the AKS module (Azure Verified Module
//! `avm/res/container-service/managed-cluster`, or the CARML/ResourceModules module it grew
//! from) are checked on their `params`. Each failing case becomes a finding and, when the value
//! can be fixed where it is written (in the resource, in a variable's literal, in a
//! parameter's default, or in an object literal inside a conditional or `union()`), an RFC
//! 6902 operation on the file's ARM shape (see [`super::view`]; a change inside an expression
//! replaces that expression's string) and a Bicep text edit. Expressions armfix cannot follow
//! become manual-review findings that say why and what to change.

use super::ast::{Doc, Kind, NodeId};
use super::render;
use super::view;
use crate::edit::Edit;
use crate::error::Error;
use crate::eval::bicep_origin::{is_union, unwrapped, BicepTree, Handle, Source};
use crate::finding::{
    duplicate_key, manual_review_message, Analysis, Finding, FixSource, Quote, Remedy,
};
use crate::location::LineIndex;
use crate::rule::{self, FixKind, Lookup, Shape, Tree, Verdict, ROTATION};
use json_patch::{AddOperation, PatchOperation, ReplaceOperation};
use jsonptr::PointerBuf;
use serde_json::{json, Value};
use std::collections::HashSet;

/// The module parameter that turns the add-on on.
pub(crate) const MODULE_ADDON_PARAM: &str = "enableKeyvaultSecretsProvider";

/// Plans the fixes of a parsed file.
pub(crate) fn plan(text: &str, doc: &Doc) -> Result<Analysis, Error> {
    let mut p = Planner {
        text,
        doc,
        analysis: Analysis::default(),
        lines: LineIndex::new(text),
        seen: HashSet::new(),
        pending_source: None,
        cluster: None,
        in_expressions: Vec::new(),
        deployed: None,
    };
    p.clusters()?;
    p.modules()?;
    p.cluster = None;
    p.params_file()?;
    p.flush_expressions()?;
    // Clusters sharing a variable or parameter share its finding, as they share its edit.
    p.analysis
        .findings
        .sort_by(|a, b| (a.start, a.end, &a.message).cmp(&(b.start, b.end, &b.message)));
    p.analysis.findings.dedup_by(|a, b| {
        let same = (a.start, a.end, &a.message) == (b.start, b.end, &b.message);
        if same {
            if let Some(k) = a.cluster.take() {
                if b.cluster.as_ref() != Some(&k) && !b.other_clusters.contains(&k) {
                    b.other_clusters.push(k);
                }
            }
        }
        same
    });
    Ok(p.analysis)
}

/// True for a module on disk (a relative path), not a registry or template-spec reference.
pub(crate) fn is_local_module(target: &str) -> bool {
    let t = target.to_ascii_lowercase();
    !["br:", "br/", "ts:", "ts/"]
        .iter()
        .any(|p| t.starts_with(p))
        && (t.ends_with(".bicep") || t.ends_with(".json"))
}

/// True for a module reference to the AKS module: `br/public:avm/res/container-service/
/// managed-cluster:VER`, a path ending in that folder (`…/managed-cluster/main.bicep`), or
/// the CARML layout `…/Microsoft.ContainerService/managedClusters/deploy.bicep`.
pub(crate) fn is_cluster_module(target: &str) -> bool {
    let t = target.to_ascii_lowercase().replace('\\', "/");
    [
        "container-service/managed-cluster",
        "microsoft.containerservice/managedclusters",
    ]
    .iter()
    .any(|needle| {
        t.match_indices(needle).any(|(i, _)| {
            let after = &t[i + needle.len()..];
            let before_ok = i == 0 || t.as_bytes()[i - 1] == b'/' || t.as_bytes()[i - 1] == b':';
            before_ok
                && (after.is_empty()
                    || after.starts_with(':')
                    || ["/main.bicep", "/deploy.bicep", "/main.json", "/deploy.json"]
                        .contains(&after))
        })
    })
}

/// The values a cluster body may give `config.enableSecretRotation` when the add-on applies:
/// objects on the way are followed through variables, parameter defaults and both branches
/// of a conditional (`cond ? {…} : null`), since a parameter file may pick either.
pub(crate) fn rotation_values(tree: &BicepTree, body: Handle) -> Vec<Handle> {
    let mut level = vec![body];
    for name in &rule::PATH_NAMES[..3] {
        level = found(tree, &level, name)
            .into_iter()
            .flat_map(|h| objects(tree, h, 0))
            .collect();
    }
    level.retain(|addon| match tree.get(*addon, "enabled") {
        Lookup::Found(_, v) => match tree.shape(v) {
            Shape::Bool(b) => b,
            Shape::Str(s) => s.eq_ignore_ascii_case("true"),
            Shape::Expr(_) => true,
            _ => false,
        },
        _ => false,
    });
    let configs: Vec<Handle> = found(tree, &level, "config")
        .into_iter()
        .flat_map(|h| objects(tree, h, 0))
        .collect();
    found(tree, &configs, ROTATION)
}

/// The values of `key` in each object (where it is there once).
fn found(tree: &BicepTree, objects: &[Handle], key: &str) -> Vec<Handle> {
    objects
        .iter()
        .filter_map(|o| match tree.get(*o, key) {
            Lookup::Found(_, v) => Some(v),
            _ => None,
        })
        .collect()
}

/// The object literals a value may be, or take keys from (the arguments of `union()`).
fn objects(tree: &BicepTree, h: Handle, depth: usize) -> Vec<Handle> {
    if h.merged.is_some() {
        return vec![h];
    }
    let (id, _) = tree.resolve(h);
    match &tree.doc.node(id).kind {
        Kind::Object(o) if !o.dynamic => vec![Handle { id, ..h }],
        Kind::Ternary { then, other, .. } if depth < 8 => [*then, *other]
            .into_iter()
            .flat_map(|b| objects(tree, Handle { id: b, ..h }, depth + 1))
            .collect(),
        Kind::Call { name, args } if depth < 8 && is_union(name) => args
            .iter()
            .flat_map(|a| objects(tree, Handle { id: *a, ..h }, depth + 1))
            .collect(),
        _ => Vec::new(),
    }
}

/// The declared parameters a value reads: through variables, value-preserving calls
/// (`string()`, `toLower()`…), conditionals with a null branch and, when a parameter's default is itself a reference, the
/// parameters that default reads. Loop variables shadow declarations.
pub(crate) fn parameters_read(tree: &BicepTree, h: Handle) -> Vec<String> {
    let doc = tree.doc;
    let mut names = Vec::new();
    let mut id = h.id;
    for _ in 0..32 {
        match &doc.node(id).kind {
            _ if unwrapped(doc, id).is_some() => {
                id = unwrapped(doc, id).map_or(id, |(inner, _)| inner);
            }
            // `c ? x : null` reads x, as the rule does.
            Kind::Ternary { then, other, .. } if tree.is_null(*other) => id = *then,
            Kind::Ternary { then, other, .. } if tree.is_null(*then) => id = *other,
            Kind::Ident(n) if !tree.shadowed.contains(n) => {
                if let Some(v) = doc.var(n) {
                    id = v.value;
                } else if let Some(p) = doc.param(n) {
                    if names.contains(n) {
                        break;
                    }
                    names.push(n.clone());
                    match p.default {
                        Some(d) => id = d,
                        None => break,
                    }
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    names
}

/// The object a body form wraps (`if`, `for`, both), and the loop variables in scope.
pub(crate) fn unwrap_body(doc: &Doc, mut id: NodeId) -> (NodeId, Vec<String>) {
    let mut names = Vec::new();
    loop {
        match &doc.node(id).kind {
            Kind::If { body, .. } => id = *body,
            Kind::For { names: n, body } => {
                names.extend(n.iter().cloned());
                id = *body;
            }
            _ => return (id, names),
        }
    }
}

struct Planner<'d> {
    text: &'d str,
    doc: &'d Doc,
    analysis: Analysis,
    lines: LineIndex,
    /// Pointers already patched (several clusters may share a variable or parameter).
    seen: HashSet<String>,
    /// Where the next fixable finding's fix lands, when not in the resource itself.
    pending_source: Option<FixSource>,
    /// The pointer of the cluster (resource or module call) being planned: its findings
    /// carry it.
    cluster: Option<String>,
    /// Edits inside expressions: the expression, its pointer, its edits.
    in_expressions: Vec<(NodeId, Vec<String>, Vec<Edit>)>,
    /// The file deployed with the defaults, once a local module call needs it.
    deployed: Option<crate::eval::Deployment>,
}

/// Where a change lands.
struct Located {
    /// Pointer of the value changed (or of the object a key is added to), or of the
    /// expression that holds it.
    pointer: Vec<String>,
    /// The expression that holds the change, when it is not a value of the ARM shape itself
    /// (a branch of a conditional, an argument of `union()`).
    host: Option<NodeId>,
    /// The variable or parameter the change lands in, if not the resource itself.
    landing: Option<Source>,
    /// The change replaces a variable's or parameter's whole value.
    whole: bool,
}

fn source_pointer(s: &Source) -> Vec<String> {
    match s {
        Source::Variable(n) => vec!["variables".into(), n.clone()],
        Source::Parameter(n) => vec!["parameters".into(), n.clone(), "defaultValue".into()],
    }
}

fn pointer(tokens: &[String]) -> PointerBuf {
    PointerBuf::from_tokens(tokens.to_vec())
}

impl<'d> Planner<'d> {
    fn span_text(&self, id: NodeId) -> &'d str {
        let s = self.doc.node(id).span;
        &self.text[s.start..s.end]
    }

    fn is_inline(&self, object: NodeId) -> bool {
        match self.doc.object(object) {
            Some(o) => !self.text[o.open..o.close].contains(['\n', '\r']),
            None => false,
        }
    }

    fn finding(&mut self, at: NodeId, pointer: &[String], message: String, remedy: Remedy) {
        let span = self.doc.node(at).span;
        let source = if remedy == Remedy::Fix {
            Some(self.pending_source.take().unwrap_or(FixSource::Value))
        } else {
            None
        };
        self.analysis.findings.push(Finding::placed(
            &self.lines,
            self.text,
            (span.start, span.end),
            Some(self::pointer(pointer).to_string()),
            message,
            remedy,
            source,
        ));
        if let Some(f) = self.analysis.findings.last_mut() {
            f.cluster = self.cluster.clone();
        }
    }

    fn ambiguous(&self, at: NodeId, base: &[String], path: &[String]) -> Error {
        let mut full = base.to_vec();
        full.extend(path.iter().cloned());
        let key = path.last().cloned().unwrap_or_default();
        duplicate_key(
            self.doc.node(at).span.start,
            &key,
            Some(&pointer(&full).to_string()),
        )
    }

    // ---- clusters ----

    fn clusters(&mut self) -> Result<(), Error> {
        let doc = self.doc;
        for (i, r) in doc.resources.iter().enumerate() {
            if r.existing || !r.type_name().eq_ignore_ascii_case(rule::CLUSTER_TYPE) {
                continue;
            }
            let base = vec!["resources".to_string(), doc.symbolic_name(i)];
            let here = pointer(&base).to_string();
            self.analysis.clusters.push(here.clone());
            self.cluster = Some(here);
            let (body, shadowed) = unwrap_body(doc, r.body);
            let tree = BicepTree::new(doc, self.text, shadowed);
            if !matches!(doc.object(body), Some(o) if !o.dynamic) {
                let reason = format!(
                    "the body of cluster `{}` is built with a spread (`...`) or is not an object \
                     literal, so armfix cannot read it; make sure it sets \
                     `properties.addonProfiles.azureKeyvaultSecretsProvider.config.\
                     enableSecretRotation: 'true'` when the add-on is enabled",
                    r.name
                );
                let expression = self.span_text(body).to_string();
                let message = manual_review_message(&reason, &expression, Quote::Plain);
                self.finding(
                    body,
                    &base,
                    message,
                    Remedy::ManualReview {
                        reason,
                        expression: Some(expression).filter(|e| !e.is_empty()),
                    },
                );
                continue;
            }
            let verdict = rule::decide(&tree, Handle::new(body));
            if !matches!(verdict, Verdict::NotApplicable | Verdict::Ambiguous { .. }) {
                for value in rotation_values(&tree, Handle::new(body)) {
                    self.demand_parameters(&tree, value);
                }
            }
            match verdict {
                Verdict::NotApplicable | Verdict::Pass => {}
                Verdict::Ambiguous { at, path } => return Err(self.ambiguous(at.id, &base, &path)),
                Verdict::Review { at, path, .. } => {
                    let name = path.last().map_or("value", String::as_str);
                    let mut pointer = base.clone();
                    pointer.extend(path.iter().cloned());
                    self.review(&tree, at, name, &pointer);
                }
                Verdict::Fix(fix) => self.fix_cluster(&tree, fix)?,
            }
        }
        Ok(())
    }

    /// Where a change of node `id` lands in the file's ARM shape.
    /// When the value lands as a whole in a parameter whose `@allowed` excludes it: a
    /// manual-review finding (the advice ends with `more`), and true.
    fn refused_by_allowed(
        &mut self,
        loc: &Located,
        target: NodeId,
        value: &Value,
        more: &str,
    ) -> bool {
        let (true, Some(Source::Parameter(p))) = (loc.whole, &loc.landing) else {
            return false;
        };
        let Some(allowed) = self.disallowed(p, value) else {
            return false;
        };
        let reason = format!(
            "`{ROTATION}` comes from parameter `{p}`, whose @allowed values ({allowed}) do not \
             include {}; add it to @allowed and make it the default{more}",
            render::render_inline(value)
        );
        let expression = self.span_text(target).to_string();
        let message = manual_review_message(&reason, &expression, Quote::Plain);
        self.finding(
            target,
            &loc.pointer,
            message,
            Remedy::ManualReview {
                reason,
                expression: Some(expression).filter(|e| !e.is_empty()),
            },
        );
        true
    }

    fn locate(&self, id: NodeId) -> Result<Located, String> {
        let place =
            view::place(self.doc, id).ok_or("the value is not part of the template's ARM shape")?;
        let landing = match place.pointer.as_slice() {
            [kind, name, ..] if kind == "variables" => Some(Source::Variable(name.clone())),
            [kind, name, ..] if kind == "parameters" => Some(Source::Parameter(name.clone())),
            _ => None,
        };
        let whole = place.host.is_none()
            && landing
                .as_ref()
                .is_some_and(|l| source_pointer(l) == place.pointer);
        Ok(Located {
            pointer: place.pointer,
            host: place.host,
            landing,
            whole,
        })
    }

    /// Whether the object literal that holds `id` (inside any expression) is on one line.
    fn in_inline_object(&self, id: NodeId) -> bool {
        let span = self.doc.node(id).span;
        self.doc
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| {
                *i != id
                    && matches!(n.kind, Kind::Object(_))
                    && n.span.start <= span.start
                    && span.end <= n.span.end
                    && (n.span.start, n.span.end) != (span.start, span.end)
            })
            .min_by_key(|(_, n)| n.span.end - n.span.start)
            .is_some_and(|(i, _)| self.is_inline(i))
    }

    fn fix_cluster(&mut self, tree: &BicepTree, fix: rule::Fix<Handle>) -> Result<(), Error> {
        let internal = |at: NodeId, why: String| {
            Error::internal(
                self.doc.node(at).span.start,
                format!("cannot place the fix: {why}"),
            )
        };
        let (target, _) = tree.resolve(fix.target);
        let key = fix.path.last().cloned().unwrap_or_default();
        let add = matches!(fix.kind, FixKind::AddConfig | FixKind::AddKey);
        if add && self.doc.object(target).is_none() {
            // A conditional or `union()` without the key anywhere: which branch or argument
            // should get it is a human's choice.
            let what = fix.path.iter().nth_back(1).map_or("value", String::as_str);
            let add = if key == ROTATION {
                format!("`{ROTATION}: 'true'`")
            } else {
                format!("`{key}: {{ {ROTATION}: 'true' }}`")
            };
            self.review_missing(tree, fix.target, &key, &add, what);
            return Ok(());
        }
        let loc = self
            .locate(target)
            .map_err(|why| internal(fix.at.id, why))?;
        let (value, edit) = match &fix.kind {
            FixKind::AddConfig | FixKind::AddKey => {
                let value = fix.value.clone();
                let edit = render::add_member(
                    self.text,
                    self.doc,
                    target,
                    &key,
                    &value,
                    self.in_inline_object(target),
                )
                .map_err(|why| internal(fix.at.id, why))?;
                (value, edit)
            }
            FixKind::ReplaceConfig => {
                let value = fix.value.clone();
                let inline = !loc.whole && self.in_inline_object(target);
                let edit = render::replace(self.text, self.doc, target, &value, inline);
                (value, edit)
            }
            FixKind::ReplaceValue(_) => {
                let value = if loc.whole {
                    self.admitted(
                        loc.landing.as_ref(),
                        self.own_type(loc.landing.as_ref(), target),
                    )
                } else {
                    fix.value.clone()
                };
                if self.refused_by_allowed(
                    &loc,
                    target,
                    &value,
                    ", or pass it where the template is deployed",
                ) {
                    return Ok(());
                }
                let edit = render::replace(self.text, self.doc, target, &value, true);
                (value, edit)
            }
        };
        let mut note = self.landing_note(loc.landing.as_ref());
        if loc.host.is_some() && loc.landing.is_none() {
            note = " (fixed inside the expression)".into();
        }
        let message = format!("{}{note}", self.fix_message(&fix.kind, Some(target)));
        let at = if add { fix.at.id } else { target };
        self.pending_source = fix_source(&loc);
        self.finding(at, &loc.pointer, message, Remedy::Fix);
        self.push_change(add.then_some(key.as_str()), loc, value, edit);
        Ok(())
    }

    /// Records the top-level parameters the rotation value `h` reads (through variables,
    /// value-preserving calls and parameter defaults), so that parameter files which set
    /// them are checked too: a deployment's parameter file overrides any default.
    /// Like ARM, only `bool` and `string` parameters whose `@allowed` values (if any) admit
    /// `true` are demanded: a parameter file cannot be fixed to a value the template rejects.
    fn demand_parameters(&mut self, tree: &BicepTree, h: Handle) {
        for name in parameters_read(tree, h) {
            let Some(param) = self.doc.param(&name) else {
                continue;
            };
            let boolean = match param.type_text.trim() {
                "bool" | "bool?" => true,
                "string" | "string?" => false,
                _ => continue,
            };
            let want = if boolean {
                Value::Bool(true)
            } else {
                rule::rotation_value()
            };
            // `@allowed(['False', 'True'])`: the file is fixed to `'True'`.
            let want = self.admitted(Some(&Source::Parameter(name.clone())), want);
            if self.disallowed(&name, &want).is_some() {
                continue;
            }
            let demand = crate::eval::provenance::ParamDemand { name, boolean };
            if !self.analysis.parameters.contains(&demand) {
                self.analysis.parameters.push(demand);
            }
        }
    }

    /// Records the change `loc` locates: `key` added to the object there, or the value there
    /// replaced. Changes inside an expression are gathered per expression, to become one
    /// replacement of its string when planning ends.
    fn push_change(&mut self, key: Option<&str>, loc: Located, value: Value, edit: Edit) {
        self.attach(&edit);
        match loc.host {
            None => {
                let mut tokens = loc.pointer;
                tokens.extend(key.map(str::to_string));
                self.push_op(key.is_some(), tokens, value, edit);
            }
            Some(host) => match self.in_expressions.iter_mut().find(|(h, ..)| *h == host) {
                Some((_, _, edits)) => {
                    if !edits.contains(&edit) {
                        edits.push(edit);
                    }
                }
                None => self.in_expressions.push((host, loc.pointer, vec![edit])),
            },
        }
    }

    /// [`Self::push_op`] at `tokens`, unless the changed node `at` sits inside an expression
    /// (then the expression's string is what changes).
    fn push_at(&mut self, at: NodeId, add: bool, tokens: Vec<String>, value: Value, edit: Edit) {
        match view::place(self.doc, at) {
            Some(place @ view::Place { host: Some(_), .. }) => {
                let loc = Located {
                    pointer: place.pointer,
                    host: place.host,
                    landing: None,
                    whole: false,
                };
                self.push_change(None, loc, value, edit);
            }
            _ => self.push_op(add, tokens, value, edit),
        }
    }

    /// Records `edit` as (part of) the fix of the finding just made: every change is pushed
    /// right after the finding it fixes.
    fn attach(&mut self, edit: &Edit) {
        if let Some(f) = self.analysis.findings.last_mut() {
            if f.is_fixable() && !f.edits.contains(edit) {
                f.edits.push(edit.clone());
            }
        }
    }

    /// Turns the changes gathered inside expressions into replacements of their strings.
    fn flush_expressions(&mut self) -> Result<(), Error> {
        for (host, pointer, edits) in std::mem::take(&mut self.in_expressions) {
            let op = view::expression_op(self.text, self.doc, host, &pointer, &edits).map_err(
                |why| {
                    Error::internal(
                        self.doc.node(host).span.start,
                        format!("cannot place the fix: {why}"),
                    )
                },
            )?;
            self.analysis.patch.push(op);
            self.analysis.edits.extend(edits);
        }
        Ok(())
    }

    fn push_op(&mut self, add: bool, tokens: Vec<String>, value: Value, edit: Edit) {
        self.attach(&edit);
        let path = pointer(&tokens);
        if !self.seen.insert(path.to_string()) {
            return;
        }
        let op = if add {
            PatchOperation::Add(AddOperation { path, value })
        } else {
            PatchOperation::Replace(ReplaceOperation { path, value })
        };
        self.analysis.patch.push(op);
        self.analysis.edits.push(edit);
    }

    /// `true` or `'true'`, in the type of the parameter or variable that holds the value.
    fn own_type(&self, landing: Option<&Source>, target: NodeId) -> Value {
        if let Some(Source::Parameter(p)) = landing {
            if let Some(param) = self.doc.param(p) {
                match param.type_text.trim() {
                    "bool" => return Value::Bool(true),
                    "string" => return rule::rotation_value(),
                    _ => {}
                }
            }
        }
        match self.doc.node(target).kind {
            Kind::Bool(_) => Value::Bool(true),
            _ => rule::rotation_value(),
        }
    }

    /// `value` (true in the type of where it lands), or, when that is a parameter whose
    /// `@allowed` values exclude it, the first allowed value that spells true: PSRule
    /// compares `enableSecretRotation` ignoring case, so `@allowed(['False', 'True'])` gets
    /// `'True'`, as a literal union type `'False' | 'True'` does. Unchanged when none does
    /// (the caller then asks a human to extend `@allowed`).
    fn admitted(&self, landing: Option<&Source>, value: Value) -> Value {
        let Some(Source::Parameter(p)) = landing else {
            return value;
        };
        if self.disallowed(p, &value).is_none() {
            return value;
        }
        self.allowed_values(p)
            .into_iter()
            .find(|v| match v {
                Value::Bool(b) => *b,
                Value::String(s) => s.eq_ignore_ascii_case("true"),
                _ => false,
            })
            .unwrap_or(value)
    }

    /// The values of parameter `p`'s `@allowed` decorator, as written (empty without one).
    fn allowed_values(&self, p: &str) -> Vec<Value> {
        let Some(param) = self.doc.param(p) else {
            return Vec::new();
        };
        let Some(deco) = param
            .decorators
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case("allowed"))
        else {
            return Vec::new();
        };
        let Some(Kind::Array(items)) = deco.args.first().map(|a| &self.doc.node(*a).kind) else {
            return Vec::new();
        };
        items
            .iter()
            .map(|i| super::view::value(self.doc, self.text, *i))
            .collect()
    }

    /// The allowed values of parameter `p` when they exclude `value`.
    fn disallowed(&self, p: &str, value: &Value) -> Option<String> {
        let param = self.doc.param(p)?;
        let deco = param
            .decorators
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case("allowed"))?;
        let Kind::Array(items) = &self.doc.node(*deco.args.first()?).kind else {
            return None;
        };
        let values: Vec<Value> = items
            .iter()
            .map(|i| super::view::value(self.doc, self.text, *i))
            .collect();
        if values.contains(value) {
            return None;
        }
        Some(
            items
                .iter()
                .map(|i| self.span_text(*i))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    fn fix_message(&self, kind: &FixKind, target: Option<NodeId>) -> String {
        match kind {
            FixKind::AddConfig => format!(
                "the Secrets Store CSI Driver add-on is enabled without `config`; \
                 `config.{ROTATION}` must be 'true'"
            ),
            FixKind::AddKey => format!(
                "the Secrets Store CSI Driver add-on is enabled without `config.{ROTATION}`; \
                 it must be 'true'"
            ),
            FixKind::ReplaceConfig => format!(
                "the Secrets Store CSI Driver add-on is enabled with `config` null; \
                 `config.{ROTATION}` must be 'true'"
            ),
            FixKind::ReplaceValue(_) => {
                let was = target.map_or("not 'true'", |t| self.span_text(t));
                format!(
                    "`{ROTATION}` is {}; it must be 'true'",
                    crate::finding::shorten(was)
                )
            }
        }
    }

    /// Says where a fix lands when it is not in the resource itself.
    fn landing_note(&self, landing: Option<&Source>) -> String {
        let (what, name) = match landing {
            None => return String::new(),
            Some(Source::Variable(n)) => (format!("in variable `{n}`"), n),
            Some(Source::Parameter(n)) => (
                format!(
                    "at the default of parameter `{n}`, which a parameter file or module call \
                     may still override"
                ),
                n,
            ),
        };
        let uses = self.doc.uses(name);
        if uses > 1 {
            format!(
                " (fixed {what}; `{name}` is used {uses} times in this file: check its other \
                 uses want the change)"
            )
        } else {
            format!(" (fixed {what})")
        }
    }

    /// A manual-review finding for the value at `at`, named `name`.
    fn review(&mut self, tree: &BicepTree, at: Handle, name: &str, pointer: &[String]) {
        let (id, via) = tree.resolve(at);
        let doc = self.doc;
        let want = if name == ROTATION {
            "evaluates to 'true' (as `enableSecretRotation: 'true'` would)".to_string()
        } else {
            format!("sets `{ROTATION}: 'true'` in the add-on's `config`")
        };
        let from = match via.last() {
            Some(Source::Variable(v)) => format!(" (from variable `{v}`)"),
            Some(Source::Parameter(p)) => format!(" (from the default of parameter `{p}`)"),
            None => String::new(),
        };
        // A parameter without default, possibly inside `string()`/`toLower()`/….
        let mut inner = id;
        while let Some((arg, _)) = unwrapped(doc, inner) {
            inner = arg;
        }
        let union = at
            .undecided
            .then(|| {
                doc.nodes.iter().position(|n| {
                    matches!(&n.kind, Kind::Call { name, args } if is_union(name) && args.contains(&id))
                })
            })
            .flatten();
        let no_default = match &doc.node(inner).kind {
            Kind::Ident(n)
                if !tree.shadowed.contains(n)
                    && doc.param(n).is_some_and(|p| p.default.is_none()) =>
            {
                Some(n.as_str())
            }
            _ => None,
        };
        let reason = match &doc.node(id).kind {
            _ if union.is_some() => format!(
                "`{name}`{from} may be set by `{}`, an argument of `union(…)` that armfix \
                 cannot read; make sure the result {want}",
                crate::finding::shorten(self.span_text(id))
            ),
            _ if no_default.is_some() => format!(
                "`{name}`{from} comes from parameter `{}`, which has no default; make sure the \
                 value passed where the template is deployed {want}{}",
                no_default.unwrap_or_default(),
                if name == ROTATION {
                    " (armfix fixes the `.bicepparam` and parameter files it finds for this \
                     template)"
                } else {
                    ""
                }
            ),
            Kind::Ternary { cond, .. } => format!(
                "`{name}`{from} depends on the condition `{}`: its branches lead to different \
                 values; make sure each branch taken when the add-on is enabled {want}",
                crate::finding::shorten(self.span_text(*cond))
            ),

            Kind::Call { name: f, .. } => format!(
                "`{name}`{from} is computed by `{f}(…)`, which armfix does not rewrite; make sure \
                 the result {want}"
            ),
            Kind::Ident(n) => format!(
                "`{name}`{from} is `{n}`, which armfix cannot follow to a literal value; make \
                 sure it {want}"
            ),
            Kind::Object(_) => format!(
                "`{name}`{from} is built with a spread (`...`) or computed keys; make sure the \
                 result {want}"
            ),
            _ => format!(
                "`{name}`{from} is an expression, which armfix does not rewrite; make sure it \
                 {want}"
            ),
        };
        // An undecided argument of `union()` is reported on the union that reads it.
        let at = union.unwrap_or(id);
        let expression = self.span_text(at).to_string();
        let message = manual_review_message(&reason, &expression, Quote::Plain);
        let pointer = match (view::place(doc, at), via.last()) {
            (Some(place), _) => place.pointer,
            (None, Some(src)) => source_pointer(src),
            (None, None) => pointer.to_vec(),
        };
        self.finding(
            at,
            &pointer,
            message,
            Remedy::ManualReview {
                reason,
                expression: Some(expression).filter(|e| !e.is_empty()),
            },
        );
    }

    /// A manual-review finding for a key armfix would add to the object-like value `h`
    /// (named by the last token of `pointer`) that is a conditional or a `union()` none of
    /// whose branches or arguments holds it: where it belongs is a human's choice.
    fn review_missing(&mut self, tree: &BicepTree, h: Handle, key: &str, add: &str, what: &str) {
        let (id, via) = tree.resolve(h);
        let from = match via.last() {
            Some(Source::Variable(v)) => format!(" (from variable `{v}`)"),
            Some(Source::Parameter(p)) => format!(" (from the default of parameter `{p}`)"),
            None => String::new(),
        };
        let reason = match &self.doc.node(id).kind {
            Kind::Ternary { cond, .. } => format!(
                "`{what}`{from} depends on the condition `{}`, and no branch sets `{key}`; add \
                 {add} to each branch taken when the add-on is enabled",
                crate::finding::shorten(self.span_text(*cond))
            ),
            _ => format!(
                "`{what}`{from} is built by `union(…)`, and none of its arguments sets `{key}`; \
                 add {add} to the argument that should carry it (the last one holding a key wins)"
            ),
        };
        let expression = self.span_text(id).to_string();
        let message = manual_review_message(&reason, &expression, Quote::Plain);
        let pointer = view::place(self.doc, id).map_or_else(Vec::new, |p| p.pointer);
        self.finding(
            id,
            &pointer,
            message,
            Remedy::ManualReview {
                reason,
                expression: Some(expression).filter(|e| !e.is_empty()),
            },
        );
    }

    // ---- parameter files ----

    /// A `.bicepparam` file whose `using` names the AKS module: its `param` lines are the
    /// module's parameters, checked like a module call's `params`. (One that uses a local
    /// template would need that template to know which parameters matter; it is left alone.)
    fn params_file(&mut self) -> Result<(), Error> {
        let doc = self.doc;
        let Some(using) = &doc.using else {
            return Ok(());
        };
        if !is_cluster_module(using) {
            return Ok(());
        }
        let tree = BicepTree::new(doc, self.text, Vec::new());
        let value_of = |name: &str| {
            let mut found = doc
                .params
                .iter()
                .filter(|p| p.name.eq_ignore_ascii_case(name));
            match (found.next(), found.next()) {
                (Some(p), None) => Ok(p.default.map(|d| (p.name.clone(), d))),
                (Some(_), Some(p)) => Err(p.default),
                _ => Ok(None),
            }
        };
        let dup = |me: &Self, at: Option<NodeId>, name: &str| match at {
            Some(at) => me.ambiguous(at, &["parameters".into()], &[name.to_string()]),
            None => Error::source(0, format!("parameter `{name}` is set twice")),
        };
        let kv = match value_of(MODULE_ADDON_PARAM) {
            Ok(Some((_, id))) => Handle::unfollowed(id),
            Ok(None) => return Ok(()),
            Err(at) => return Err(dup(self, at, MODULE_ADDON_PARAM)),
        };
        match tree.shape(kv) {
            Shape::Bool(true) | Shape::Expr(_) => {}
            Shape::Str(s) if s.eq_ignore_ascii_case("true") => {}
            _ => return Ok(()),
        }
        let file = format!("this parameter file for `{using}`");
        match value_of(ROTATION) {
            Err(at) => Err(dup(self, at, ROTATION)),
            Ok(None) => {
                // A new `param` line after the last one (as the patch appends it).
                let after = doc
                    .params
                    .iter()
                    .filter_map(|p| p.default)
                    .map(|d| doc.node(d).span.end)
                    .max()
                    .unwrap_or_else(|| doc.node(kv.id).span.end);
                let text = self.text;
                let (at, line) = match text[after..].find('\n') {
                    Some(i) => (
                        after + i + 1,
                        format!(
                            "param {ROTATION} = true{}",
                            crate::lang::style::eol_near(text, after)
                        ),
                    ),
                    None => (
                        text.len(),
                        format!(
                            "{}param {ROTATION} = true",
                            crate::lang::style::eol_near(text, after)
                        ),
                    ),
                };
                let message = format!(
                    "{file} enables the Secrets Store CSI Driver add-on \
                     (`{MODULE_ADDON_PARAM}`) without `{ROTATION}`; it must be true"
                );
                self.finding(kv.id, &["parameters".into()], message, Remedy::Fix);
                self.push_op(
                    true,
                    vec!["parameters".into(), ROTATION.into()],
                    json!({ "value": true }),
                    Edit::insert(at, line),
                );
                Ok(())
            }
            Ok(Some((name, id))) => {
                let h = Handle::new(id);
                let ptr = vec!["parameters".to_string(), name, "value".to_string()];
                match tree.shape(h) {
                    Shape::Bool(true) => return Ok(()),
                    Shape::Str(s) if s.eq_ignore_ascii_case("true") => return Ok(()),
                    Shape::Expr(_) => {
                        self.review(&tree, h, ROTATION, &ptr);
                        return Ok(());
                    }
                    _ => {}
                }
                let (target, via) = tree.resolve(h);
                let value = match self.doc.node(target).kind {
                    Kind::Str(_) => rule::rotation_value(),
                    _ => Value::Bool(true),
                };
                let landing = via.last().cloned();
                let ptr = landing.as_ref().map_or(ptr, source_pointer);
                let edit = render::replace(self.text, self.doc, target, &value, true);
                let message = format!(
                    "{file} enables the Secrets Store CSI Driver add-on but sets `{ROTATION}` \
                     to {}; it must be {}{}",
                    crate::finding::shorten(self.span_text(target)),
                    render::render_inline(&value),
                    self.landing_note(landing.as_ref())
                );
                self.finding(target, &ptr, message, Remedy::Fix);
                self.push_at(target, false, ptr, value, edit);
                Ok(())
            }
        }
    }

    // ---- module calls ----

    fn modules(&mut self) -> Result<(), Error> {
        let doc = self.doc;
        for m in &doc.modules {
            let spelling = match super::modules::classify(&m.target) {
                super::modules::Callee::Aks(spelling) => spelling,
                super::modules::Callee::Local => {
                    // A local module may deploy clusters: the evaluator expands it with this
                    // call's arguments, so its clusters are judged (and fixed) here.
                    if is_local_module(&m.target) {
                        let here = pointer(&["resources".to_string(), m.name.clone()]).to_string();
                        self.analysis.clusters.push(here.clone());
                        self.cluster = Some(here);
                        self.local_module(m)?;
                        self.cluster = None;
                    }
                    continue;
                }
                opaque => {
                    self.opaque_module(m, &opaque);
                    continue;
                }
            };
            let here = pointer(&["resources".to_string(), m.name.clone()]).to_string();
            self.analysis.clusters.push(here.clone());
            self.cluster = Some(here);
            let (body, shadowed) = unwrap_body(doc, m.body);
            let tree = BicepTree::new(doc, self.text, shadowed);
            let base = vec![
                "resources".to_string(),
                m.name.clone(),
                "properties".to_string(),
                "parameters".to_string(),
            ];
            if !matches!(doc.object(body), Some(o) if !o.dynamic) {
                continue;
            }
            let params = match tree.get(Handle::new(body), "params") {
                Lookup::Missing => continue,
                Lookup::Duplicate(k, at) => {
                    return Err(self.ambiguous(at.id, &base[..2], &[k]));
                }
                Lookup::Found(_, h) => h,
            };
            let params_obj = match tree.shape(params) {
                Shape::Object(o) => o,
                Shape::Expr(_) => {
                    self.review(&tree, params, "params", &base);
                    continue;
                }
                _ => continue,
            };
            let (_, pvia) = tree.resolve(params);
            let (params_ptr, wrap) = match pvia.last() {
                None => (base.clone(), true),
                Some(src) => (source_pointer(src), false),
            };
            let ctx = ModuleCtx {
                name: &m.name,
                params_obj,
                params_ptr,
                wrap,
                spelling,
            };
            self.module_call(&tree, &ctx)?;
        }
        Ok(())
    }

    fn module_call(&mut self, tree: &BicepTree, ctx: &ModuleCtx) -> Result<(), Error> {
        let kv = match tree.get(ctx.params_obj, MODULE_ADDON_PARAM) {
            Lookup::Missing => return Ok(()),
            Lookup::Duplicate(k, at) => return Err(self.ambiguous(at.id, &ctx.params_ptr, &[k])),
            Lookup::Found(_, h) => Handle {
                follow_params: false,
                ..h
            },
        };
        match tree.shape(kv) {
            Shape::Bool(true) | Shape::Expr(_) => {}
            Shape::Str(s) if s.eq_ignore_ascii_case("true") => {}
            _ => return Ok(()),
        }
        let module = ctx.name;
        if let Lookup::Found(_, h) = tree.get(ctx.params_obj, ROTATION) {
            self.demand_parameters(tree, h);
        }
        match tree.get(ctx.params_obj, ROTATION) {
            Lookup::Duplicate(k, at) => Err(self.ambiguous(at.id, &ctx.params_ptr, &[k])),
            Lookup::Missing if self.doc.object(ctx.params_obj.id).is_none() => {
                self.review_missing(
                    tree,
                    ctx.params_obj,
                    ROTATION,
                    &format!("`{ROTATION}: true`"),
                    "params",
                );
                Ok(())
            }
            Lookup::Missing => {
                let internal = |why: String| {
                    Error::internal(
                        self.doc.node(ctx.params_obj.id).span.start,
                        format!("cannot place the fix: {why}"),
                    )
                };
                let loc = self.locate(ctx.params_obj.id).map_err(internal)?;
                let Some(literal) = self.module_rotation_literal(ctx, kv) else {
                    return Ok(());
                };
                let value = if ctx.wrap {
                    json!({ "value": literal })
                } else {
                    literal.clone()
                };
                // Beside the add-on's own argument, where a reviewer looks for it.
                let beside = self.doc.object(ctx.params_obj.id).and_then(|o| {
                    let m = o.members.iter().find(|m| m.value == kv.id)?;
                    let line = format!("{ROTATION}: {}", render::render_inline(&literal));
                    super::modules::add_after(self.text, self.doc, m.key_span.start, kv.id, &line)
                });
                let edit = match beside {
                    Some(edit) => edit,
                    None => render::add_member(
                        self.text,
                        self.doc,
                        ctx.params_obj.id,
                        ROTATION,
                        &literal,
                        self.in_inline_object(ctx.params_obj.id),
                    )
                    .map_err(internal)?,
                };
                let message = format!(
                    "module `{module}` enables the Secrets Store CSI Driver add-on \
                     (`{MODULE_ADDON_PARAM}`) without `{ROTATION}`; it must be {}{}",
                    render::render_inline(&literal),
                    self.landing_note(loc.landing.as_ref())
                );
                self.pending_source = fix_source(&loc);
                self.finding(ctx.params_obj.id, &loc.pointer, message, Remedy::Fix);
                self.push_change(Some(ROTATION), loc, value, edit);
                Ok(())
            }
            Lookup::Found(key, h) => {
                match tree.shape(h) {
                    Shape::Bool(true) => return Ok(()),
                    Shape::Str(s) if s.eq_ignore_ascii_case("true") => return Ok(()),
                    Shape::Expr(_) => {
                        let mut ptr = ctx.params_ptr.clone();
                        ptr.push(key);
                        self.review(tree, h, ROTATION, &ptr);
                        return Ok(());
                    }
                    _ => {}
                }
                let (target, _) = tree.resolve(h);
                let loc = self.locate(target).map_err(|why| {
                    Error::internal(
                        self.doc.node(target).span.start,
                        format!("cannot place the fix: {why}"),
                    )
                })?;
                let value = match (&loc.landing, loc.whole) {
                    (Some(Source::Parameter(_)), true) => {
                        self.own_type(loc.landing.as_ref(), target)
                    }
                    (None, _) if ctx.spelling == super::modules::Spelling::Str => {
                        rule::rotation_value()
                    }
                    (None, _) if ctx.spelling == super::modules::Spelling::Bool => {
                        Value::Bool(true)
                    }
                    _ => match self.doc.node(target).kind {
                        Kind::Str(_) => rule::rotation_value(),
                        _ => Value::Bool(true),
                    },
                };
                if self.refused_by_allowed(&loc, target, &value, "") {
                    return Ok(());
                }
                let edit = render::replace(self.text, self.doc, target, &value, true);
                let message = format!(
                    "module `{module}` enables the Secrets Store CSI Driver add-on but passes \
                     `{ROTATION}: {}`; it must be {}{}",
                    crate::finding::shorten(self.span_text(target)),
                    render::render_inline(&value),
                    self.landing_note(loc.landing.as_ref())
                );
                self.pending_source = fix_source(&loc);
                self.finding(target, &loc.pointer, message, Remedy::Fix);
                self.push_change(None, loc, value, edit);
                Ok(())
            }
        }
    }
}

impl Planner<'_> {
    /// A call of a local module (on disk, beside the file being analysed) whose clusters
    /// read their rotation setting from one of the module's parameters: the argument this
    /// call passes for it is followed in this file, as a cluster's own value is. When it
    /// leads to a false literal here (a parameter default, a variable), the fix lands there,
    /// and the parameters it reads are demanded, so that this file's parameter files are
    /// fixed too. A callee parameter the call does not pass keeps its default: the callee's
    /// own analysis sees it. What cannot be followed is left to the deploy-time proof.
    fn local_module(&mut self, m: &super::ast::Decl) -> Result<(), Error> {
        let doc = self.doc;
        let modules = super::Modules {
            dir: super::modules::analysed_folder(),
            replaced: None,
        };
        let Some((callee, ctext)) = crate::eval::bicep::ModuleSource::load(&modules, &m.target)
        else {
            return Ok(());
        };
        let (body, shadowed) = unwrap_body(doc, m.body);
        if !matches!(doc.object(body), Some(o) if !o.dynamic) {
            return Ok(());
        }
        let tree = BicepTree::new(doc, self.text, shadowed);
        let params = match tree.get(Handle::new(body), "params") {
            Lookup::Found(_, h) => h,
            _ => return Ok(()),
        };
        if !matches!(tree.shape(params), Shape::Object(_)) {
            return Ok(());
        }
        // Each callee parameter a cluster reads as its rotation, with that cluster's name.
        let mut read: Vec<(String, Option<String>)> = Vec::new();
        for r in &callee.resources {
            if r.existing || !r.type_name().eq_ignore_ascii_case(rule::CLUSTER_TYPE) {
                continue;
            }
            let (cbody, cshadowed) = unwrap_body(&callee, r.body);
            let ctree = BicepTree::new(&callee, &ctext, cshadowed);
            for value in rotation_values(&ctree, Handle::new(cbody)) {
                if let Some(first) = parameters_read(&ctree, value).into_iter().next() {
                    if !read.iter().any(|(n, _)| *n == first) {
                        let named = self.callee_cluster_name(&tree, params, &ctree, cbody);
                        read.push((first, named));
                    }
                }
            }
        }
        let mut failing: Option<Vec<String>> = None;
        for (name, cluster) in read {
            // Bicep matches argument names exactly.
            let arg = match tree.get(params, &name) {
                Lookup::Found(key, arg) if key == name => arg,
                Lookup::Missing => {
                    let failing = failing.get_or_insert_with(|| self.failing_clusters(m, &modules));
                    self.missing_argument(m, params, (&callee, &ctext), &name, failing);
                    continue;
                }
                _ => continue,
            };
            match tree.shape(arg) {
                Shape::Bool(false) => {}
                Shape::Str(s) if s.eq_ignore_ascii_case("false") => {}
                _ => continue,
            }
            self.demand_parameters(&tree, arg);
            let (target, _) = tree.resolve(arg);
            let Ok(loc) = self.locate(target) else {
                continue;
            };
            // Spelled as the parameter it lands in is typed; else the first spelling of true
            // the callee's declared type admits (its `@allowed` or literal union type may
            // take only `'True'`), bool first where the literal is a bool.
            let value = match (&loc.landing, loc.whole) {
                (Some(Source::Parameter(_)), true) => self.own_type(loc.landing.as_ref(), target),
                _ => {
                    let boolean = matches!(self.doc.node(target).kind, Kind::Bool(_));
                    let Some(v) = callee_spelling(&callee, &ctext, &name, boolean) else {
                        continue;
                    };
                    v
                }
            };
            if self.refused_by_allowed(&loc, target, &value, "") {
                continue;
            }
            let edit = render::replace(self.text, self.doc, target, &value, true);
            let passed = crate::finding::shorten(self.span_text(arg.id));
            let written = crate::finding::shorten(self.span_text(target));
            let is = if passed == written {
                String::new()
            } else {
                format!(" ({written})")
            };
            let message = format!(
                "module `{}` passes `{name}: {passed}`{is}, which {} reads as `{ROTATION}`; it \
                 must be {}{}",
                m.name,
                cluster.map_or("its cluster".to_string(), |c| format!("cluster `{c}`")),
                render::render_inline(&value),
                self.landing_note(loc.landing.as_ref())
            );
            self.pending_source = match fix_source(&loc) {
                // Written in the call's own arguments: the value the deployment passes.
                None => Some(FixSource::DeploymentParameter { name: name.clone() }),
                source => source,
            };
            self.finding(target, &loc.pointer, message, Remedy::Fix);
            self.push_change(None, loc, value, edit);
        }
        Ok(())
    }

    /// The names of the clusters the local module call `m` deploys that fail with the
    /// defaults, as the evaluator (the proof's) deploys them: each iteration of a loop.
    fn failing_clusters(&mut self, m: &super::ast::Decl, modules: &super::Modules) -> Vec<String> {
        let (doc, text) = (self.doc, self.text);
        let deployment = self.deployed.get_or_insert_with(|| {
            let config = crate::eval::Configuration::defaults();
            crate::eval::bicep::evaluate(doc, text, &config, modules)
        });
        let mut names = Vec::new();
        for r in &deployment.resources {
            let from_here =
                r.origin.len() >= 2 && r.origin[0] == "resources" && r.origin[1] == m.name;
            if !from_here || !matches!(crate::eval::judge(r), crate::eval::Judgement::Fail { .. }) {
                continue;
            }
            let name = r
                .name
                .as_str()
                .map_or_else(|| "(unnamed)".to_string(), str::to_string);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// A local module call `m` that does not pass the callee's parameter `name`, which its
    /// cluster reads as its rotation: when the callee's default for it fails and clusters
    /// of the call fail with the defaults (`failing`), a fix that adds the argument to the
    /// call's `params` object, reported on that object and naming every failing cluster (a
    /// loop's each). Without a failing cluster, or with `params` not an object literal,
    /// nothing: the proof judges the evaluated clusters.
    fn missing_argument(
        &mut self,
        m: &super::ast::Decl,
        params: Handle,
        (callee, ctext): (&Doc, &str),
        name: &str,
        failing: &[String],
    ) {
        if failing.is_empty() || self.doc.object(params.id).is_none() {
            return;
        }
        let Some(p) = callee.param(name) else { return };
        let Some(default) = p.default else { return };
        let probe = crate::eval::bicep::Probe::new(callee, ctext);
        let now = probe.value(default, &[]);
        let fails = match &now {
            crate::eval::Value::Bool(b) => !b,
            crate::eval::Value::Str(s) => !s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        if !fails {
            return;
        }
        let boolean = matches!(now, crate::eval::Value::Bool(_));
        let Some(literal) = callee_spelling(callee, ctext, name, boolean) else {
            return;
        };
        let Ok(loc) = self.locate(params.id) else {
            return;
        };
        let Ok(edit) = render::add_member(
            self.text,
            self.doc,
            params.id,
            name,
            &literal,
            self.in_inline_object(params.id),
        ) else {
            return;
        };
        let value = if loc.landing.is_none() {
            json!({ "value": literal })
        } else {
            literal.clone()
        };
        let clusters = match failing {
            [one] => format!("cluster `{one}` reads"),
            many => format!(
                "clusters {} read",
                many.iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let message = format!(
            "module `{}` does not pass `{name}`, so {clusters} its default ({}) in `{}` as \
             `{ROTATION}`; it must be {}{}",
            m.name,
            crate::finding::shorten(
                &ctext[callee.node(default).span.start..callee.node(default).span.end]
            ),
            m.target,
            render::render_inline(&literal),
            self.landing_note(loc.landing.as_ref())
        );
        self.pending_source = match fix_source(&loc) {
            None => Some(FixSource::DeploymentParameter {
                name: name.to_string(),
            }),
            source => source,
        };
        self.finding(params.id, &loc.pointer, message, Remedy::Fix);
        self.push_change(Some(name), loc, value, edit);
    }

    /// The name a callee's cluster (body `cbody`) deploys under, when it is written: a
    /// literal there, or the literal this call passes for the parameter it reads.
    fn callee_cluster_name(
        &self,
        tree: &BicepTree,
        params: Handle,
        ctree: &BicepTree,
        cbody: NodeId,
    ) -> Option<String> {
        let Lookup::Found(_, h) = ctree.get(Handle::unfollowed(cbody), "name") else {
            return None;
        };
        match &ctree.doc.node(h.id).kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Ident(p) if ctree.doc.param(p).is_some() => match tree.get(params, p) {
                Lookup::Found(_, arg) => match tree.shape(arg) {
                    Shape::Str(s) => Some(s.to_string()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// The literal `enableSecretRotation` takes in a call of the AKS module: by the module's
    /// signature, else spelled like the call's `enableKeyvaultSecretsProvider`; `None` (and
    /// a manual-review finding) when neither tells.
    fn module_rotation_literal(&mut self, ctx: &ModuleCtx, kv: Handle) -> Option<Value> {
        use super::modules::{sibling_spelling, Spelling};
        let spelling = match ctx.spelling {
            Spelling::Sibling => sibling_spelling(self.doc, kv.id),
            known => Some(known),
        };
        match spelling {
            Some(Spelling::Str) => Some(rule::rotation_value()),
            Some(_) => Some(Value::Bool(true)),
            None => {
                let reason = format!(
                    "module `{}` enables the Secrets Store CSI Driver add-on without \
                     `{ROTATION}`, and armfix cannot tell whether the module takes it as a bool \
                     or a string; add `{ROTATION}: true` (or `'true'`, as the module declares it)",
                    ctx.name
                );
                self.finding(
                    kv.id,
                    &ctx.params_ptr,
                    reason.clone(),
                    Remedy::ManualReview {
                        reason,
                        expression: None,
                    },
                );
                None
            }
        }
    }

    /// A call of a module armfix cannot read (a private registry, a template spec) that turns
    /// the add-on on, or of a pattern module that turns it on by default and has no
    /// parameter for rotation: manual review, since what its parameters mean is unknown.
    fn opaque_module(&mut self, m: &super::ast::Decl, callee: &super::modules::Callee) {
        let doc = self.doc;
        let (body, _) = unwrap_body(doc, m.body);
        let params = doc.object(body).and_then(|o| {
            o.members
                .iter()
                .find(|x| x.key.as_deref() == Some("params"))
                .and_then(|x| doc.object(x.value).map(|p| (x.value, p)))
        });
        let member = |name: &str| {
            params.and_then(|(_, p)| {
                p.members
                    .iter()
                    .rev()
                    .find(|x| {
                        x.key
                            .as_deref()
                            .is_some_and(|k| k.eq_ignore_ascii_case(name))
                    })
                    .map(|x| x.value)
            })
        };
        let truthy = |id: NodeId| match &doc.node(id).kind {
            Kind::Bool(b) => Some(*b),
            Kind::Str(s) => Some(s.eq_ignore_ascii_case("true")),
            Kind::Null => Some(false),
            _ => None, // an expression: it may be on
        };
        let addon = member(MODULE_ADDON_PARAM);
        let (on, what) = match callee {
            super::modules::Callee::Pattern(name) => (
                addon.and_then(truthy) != Some(false),
                format!(
                    "the pattern module `{name}` turns the Secrets Store CSI Driver add-on on \
                     (`{MODULE_ADDON_PARAM}`, true unless the call passes false) and has no \
                     parameter for `{ROTATION}`; pass `{MODULE_ADDON_PARAM}: false`, or deploy \
                     the cluster with `avm/res/container-service/managed-cluster` and \
                     `{ROTATION}: true`"
                ),
            ),
            super::modules::Callee::Unidentified(reference) => (
                addon.is_some_and(|a| truthy(a) != Some(false))
                    && member(ROTATION).and_then(truthy) != Some(true),
                format!(
                    "`{reference}` is a registry module or template spec armfix cannot read (no \
                     `bicepconfig.json` alias resolves it to the Azure Verified Module), and this \
                     call enables the Secrets Store CSI Driver add-on (`{MODULE_ADDON_PARAM}`); \
                     make sure the module sets `{ROTATION}` to true"
                ),
            ),
            _ => return,
        };
        if !on {
            return;
        }
        let here = pointer(&["resources".to_string(), m.name.clone()]).to_string();
        self.cluster = Some(here);
        let at = addon.unwrap_or(m.body);
        let ptr = vec!["resources".to_string(), m.name.clone()];
        let message = format!("module `{}`: {what}", m.name);
        self.finding(
            at,
            &ptr,
            message,
            Remedy::ManualReview {
                reason: what,
                expression: None,
            },
        );
        self.cluster = None;
    }
}

/// Where a located fix lands, for its finding (`None`: in the cluster or module call).
fn fix_source(loc: &Located) -> Option<FixSource> {
    match &loc.landing {
        Some(Source::Variable(name)) => Some(FixSource::Variable { name: name.clone() }),
        Some(Source::Parameter(name)) => Some(FixSource::ParameterDefault { name: name.clone() }),
        None if loc.host.is_some() => Some(FixSource::Expression),
        None => None,
    }
}

/// How true is passed for the callee's parameter `name`: the first spelling its declared
/// type (`@allowed`, literal union type) admits, `'true'` first, or `true` first for a bool.
fn callee_spelling(callee: &Doc, ctext: &str, name: &str, boolean: bool) -> Option<Value> {
    use crate::eval::Value as V;
    let probe = crate::eval::bicep::Probe::new(callee, ctext);
    let mut spellings = vec![
        V::Str("true".into()),
        V::Bool(true),
        V::Str("True".into()),
        V::Str("TRUE".into()),
    ];
    if boolean {
        spellings.swap(0, 1);
    }
    match spellings
        .into_iter()
        .find(|v| probe.parameter_admits(name, v) != Some(false))?
    {
        V::Bool(b) => Some(Value::Bool(b)),
        V::Str(s) => Some(Value::String(s)),
        _ => None,
    }
}

/// A module call being checked.
struct ModuleCtx<'m> {
    name: &'m str,
    params_obj: Handle,
    /// Pointer to the ARM `parameters` object (or the variable/parameter holding `params`).
    params_ptr: Vec<String>,
    /// Values are wrapped as `{"value": …}` (ARM deployment parameters).
    wrap: bool,
    /// How the module types `enableSecretRotation` (see [`super::modules`]).
    spelling: super::modules::Spelling,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demands(text: &str) -> Vec<(String, bool)> {
        let doc = crate::lang::bicep::parser::parse(text).unwrap();
        plan(text, &doc)
            .unwrap()
            .parameters
            .into_iter()
            .map(|d| (d.name, d.boolean))
            .collect()
    }

    fn cluster(addon: &str) -> String {
        format!(
            "resource aks 'Microsoft.ContainerService/managedClusters@2024-01-01' = {{\n\
             properties: {{\n addonProfiles: {{\n azureKeyvaultSecretsProvider: {addon}\n }}\n }}\n}}\n"
        )
    }

    /// An interpolation of one parameter (`'${rot}'`) reads it as `string(rot)` does: its
    /// default is fixed, and parameter files that set it are demanded.
    #[test]
    fn an_interpolated_parameter_is_read_through() {
        for value in ["'${rot}'", "'${ rot }'", "string(rot)"] {
            let text = format!(
                "param rot bool = false\n{}",
                cluster(&format!(
                    "{{\n enabled: true\n config: {{ enableSecretRotation: {value} }}\n }}"
                ))
            );
            assert_eq!(demands(&text), [("rot".to_string(), true)], "{value}");
            let doc = crate::lang::bicep::parser::parse(&text).unwrap();
            let a = plan(&text, &doc).unwrap();
            let written: Vec<&str> = a.edits.iter().map(|e| e.replacement.as_str()).collect();
            assert_eq!(written, ["true"], "{value}");
            assert_eq!(&text[a.edits[0].start..a.edits[0].end], "false", "{value}");
        }
        // Without a default: a manual review naming the parameter, and a demand.
        let text = format!(
            "param rot bool\n{}",
            cluster("{\n enabled: true\n config: { enableSecretRotation: '${rot}' }\n }")
        );
        assert_eq!(demands(&text), [("rot".to_string(), true)]);
        let doc = crate::lang::bicep::parser::parse(&text).unwrap();
        let a = plan(&text, &doc).unwrap();
        assert!(
            a.findings[0].message.contains("which has no default"),
            "{}",
            a.findings[0].message
        );
    }

    /// A default that lands in a parameter whose `@allowed` spells true in another case is
    /// fixed to that spelling (PSRule compares ignoring case, Bicep's `@allowed` does not);
    /// an `@allowed` without any spelling of true stays a manual review.
    #[test]
    fn allowed_values_give_the_spelling_of_true() {
        let rotation = cluster("{\n enabled: true\n config: { enableSecretRotation: rot }\n }");
        for (decl, fixed) in [
            (
                "@allowed(['False', 'True'])\nparam rot string = 'False'",
                Some("'True'"),
            ),
            (
                "@allowed([\n'FALSE'\n'TRUE'\n])\nparam rot string = 'FALSE'",
                Some("'TRUE'"),
            ),
            (
                "@allowed(['false', 'true', 'True'])\nparam rot string = 'false'",
                Some("'true'"),
            ),
            (
                "@allowed([false, true])\nparam rot bool = false",
                Some("true"),
            ),
            ("param rot string = 'False'", Some("'true'")),
            ("@allowed(['off', 'on'])\nparam rot string = 'off'", None),
        ] {
            let text = format!("{decl}\n{rotation}");
            let doc = crate::lang::bicep::parser::parse(&text).unwrap();
            let a = plan(&text, &doc).unwrap();
            let written: Vec<&str> = a.edits.iter().map(|e| e.replacement.as_str()).collect();
            match fixed {
                Some(v) => assert_eq!(written, [v], "{decl}"),
                None => {
                    assert!(written.is_empty(), "{decl}");
                    assert_eq!(a.manual(), 1, "{decl}");
                }
            }
            // Parameter files are checked for it when true can be written there.
            let boolean = decl.contains("bool");
            let demanded: &[(String, bool)] = &[("rot".to_string(), boolean)];
            let expected = if fixed.is_some() { demanded } else { &[] };
            assert_eq!(demands(&text), expected, "{decl}");
        }
    }

    #[test]
    fn rotation_parameters_are_demanded() {
        // No default: still a manual review in the template, and a demand for its files.
        let text = format!(
            "param rot bool\n{}",
            cluster("{\n enabled: true\n config: { enableSecretRotation: rot }\n }")
        );
        assert_eq!(demands(&text), [("rot".to_string(), true)]);
        let doc = crate::lang::bicep::parser::parse(&text).unwrap();
        let a = plan(&text, &doc).unwrap();
        assert_eq!(a.manual(), 1);
        assert!(a.findings[0].message.contains("parameter files it finds"));
        // A passing or fixed default: a parameter file may still override it.
        for default in ["'true'", "'false'"] {
            let text = format!(
                "param rot string = {default}\nvar cfg = {{\n enableSecretRotation: toLower(rot)\n}}\n{}",
                cluster("{\n enabled: true\n config: cfg\n }")
            );
            assert_eq!(demands(&text), [("rot".to_string(), false)], "{default}");
        }
        // Both branches of a conditional `config`, through wrappers (the AVM module's form).
        let text = format!(
            "param on bool\nparam rot bool = true\n{}",
            cluster(
                "{\n enabled: on\n config: on ? { enableSecretRotation: toLower(string(rot)) } : null\n }"
            )
        );
        assert_eq!(demands(&text), [("rot".to_string(), true)]);
        // A rotation value behind a conditional with a null branch.
        let text = format!(
            "param on bool\nparam rot bool = true\n{}",
            cluster("{\n enabled: on\n config: { enableSecretRotation: on ? rot : null }\n }")
        );
        assert_eq!(demands(&text), [("rot".to_string(), true)]);
        // Not when the add-on is off, nor for a loop variable, nor for a literal.
        let off = format!(
            "param rot bool\n{}",
            cluster("{\n enabled: false\n config: { enableSecretRotation: rot }\n }")
        );
        assert!(demands(&off).is_empty());
        let looped = "param rot bool\nresource aks 'Microsoft.ContainerService/managedClusters@1' = [for rot in xs: {\n properties: { addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: rot } } } }\n}]\n";
        assert!(demands(looped).is_empty());
        let literal = cluster("{\n enabled: true\n config: { enableSecretRotation: 'false' }\n }");
        assert!(demands(&literal).is_empty());
        // Not when the template would reject `true`, nor for types other than bool/string.
        for decl in [
            "@allowed(['false', 'no'])\nparam rot string",
            "param rot object",
        ] {
            let text = format!(
                "{decl}\n{}",
                cluster("{\n enabled: true\n config: { enableSecretRotation: rot }\n }")
            );
            assert!(demands(&text).is_empty(), "{decl}");
        }
    }

    #[test]
    fn module_rotation_parameters_are_demanded() {
        let text = "param rot bool\nmodule m 'br/public:avm/res/container-service/managed-cluster:0.9.0' = {\n params: {\n enableKeyvaultSecretsProvider: true\n enableSecretRotation: rot\n }\n}\n";
        assert_eq!(demands(text), [("rot".to_string(), true)]);
        let off = text.replace(
            "enableKeyvaultSecretsProvider: true",
            "enableKeyvaultSecretsProvider: false",
        );
        assert!(demands(&off).is_empty());
    }

    #[test]
    fn recognises_the_aks_module() {
        for t in [
            "br/public:avm/res/container-service/managed-cluster:0.9.0",
            "br:mcr.microsoft.com/bicep/avm/res/container-service/managed-cluster:0.1.0",
            "../modules/container-service/managed-cluster/main.bicep",
            "../CARML/Microsoft.ContainerService/managedClusters/deploy.bicep",
        ] {
            assert!(is_cluster_module(t), "{t}");
        }
        for t in [
            "br/public:avm/res/container-service/managed-cluster/agent-pool:0.1.0",
            "../CARML/Microsoft.ContainerService/managedClusters/agentPools/deploy.bicep",
            "../CARML/Microsoft.ContainerService/managedClusters/.bicep/nested_roleAssignments.bicep",
            "br/public:avm/res/container-service/managed-cluster-x:1.0.0",
            "main.bicep",
        ] {
            assert!(!is_cluster_module(t), "{t}");
        }
    }
}
