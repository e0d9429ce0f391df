//! The ARM shape of a Bicep file, as `bicep build` would lay it out, reduced to what a fix can
//! touch: `parameters` (type and `defaultValue`), `variables`, and `resources` keyed by
//! symbolic name (`parent::child` for nested ones; modules as deployments whose
//! `properties.parameters.<name>.value` are the `params`). Literals become JSON values; any
//! other expression becomes the string `"[<source text>]"`. A fix's JSON Patch is addressed
//! in this shape, and verification compares shapes before and after. [`place`] says where a
//! node of the file sits in this shape, so an edit of the text can be addressed as a patch.

use super::ast::{Decl, Doc, Kind, NodeId};
use crate::edit::Edit;
use json_patch::{PatchOperation, ReplaceOperation};
use jsonptr::PointerBuf;
use serde_json::{Map, Value};

/// The document's ARM shape.
pub(crate) fn view(doc: &Doc, text: &str) -> Value {
    if doc.is_params_file() {
        return parameters_file(doc, text);
    }
    let mut parameters = Map::new();
    for p in &doc.params {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(p.type_text.trim().to_string()));
        if let Some(d) = p.default {
            m.insert("defaultValue".into(), value(doc, text, d));
        }
        parameters.insert(p.name.clone(), Value::Object(m));
    }
    let mut variables = Map::new();
    for v in &doc.vars {
        variables.insert(v.name.clone(), value(doc, text, v.value));
    }
    let mut resources = Map::new();
    for (i, r) in doc.resources.iter().enumerate() {
        resources.insert(doc.symbolic_name(i), resource(doc, text, r));
    }
    for m in &doc.modules {
        resources.insert(m.name.clone(), module(doc, text, m));
    }
    let mut root = Map::new();
    root.insert("parameters".into(), Value::Object(parameters));
    root.insert("variables".into(), Value::Object(variables));
    root.insert("resources".into(), Value::Object(resources));
    Value::Object(root)
}

/// A `.bicepparam` file as an ARM parameters file: `parameters.<name>.value`, and its
/// variables.
fn parameters_file(doc: &Doc, text: &str) -> Value {
    let mut parameters = Map::new();
    for p in &doc.params {
        let mut m = Map::new();
        if let Some(d) = p.default {
            m.insert("value".into(), value(doc, text, d));
        }
        parameters.insert(p.name.clone(), Value::Object(m));
    }
    let mut variables = Map::new();
    for v in &doc.vars {
        variables.insert(v.name.clone(), value(doc, text, v.value));
    }
    let mut root = Map::new();
    root.insert("parameters".into(), Value::Object(parameters));
    root.insert("variables".into(), Value::Object(variables));
    Value::Object(root)
}

/// A value: literals as JSON, anything computed as `"[source]"`.
pub(crate) fn value(doc: &Doc, text: &str, id: NodeId) -> Value {
    let node = doc.node(id);
    match &node.kind {
        Kind::Null => Value::Null,
        Kind::Bool(b) => Value::Bool(*b),
        Kind::Int => {
            let raw = &text[node.span.start..node.span.end];
            raw.parse::<serde_json::Number>()
                .map(Value::Number)
                .unwrap_or_else(|_| Value::String(raw.to_string()))
        }
        Kind::Str(s) => Value::String(s.clone()),
        Kind::Object(o) if !o.dynamic => {
            let mut map = Map::new();
            for m in &o.members {
                if let Some(k) = &m.key {
                    map.insert(k.clone(), value(doc, text, m.value));
                }
            }
            Value::Object(map)
        }
        Kind::Array(items) => Value::Array(items.iter().map(|i| value(doc, text, *i)).collect()),
        _ => expression(text, doc, id),
    }
}

fn expression(text: &str, doc: &Doc, id: NodeId) -> Value {
    let span = doc.node(id).span;
    Value::String(format!("[{}]", &text[span.start..span.end]))
}

/// The body object inside `if`/`for` wrappers, with the wrappers' condition noted.
fn unwrap_body(doc: &Doc, text: &str, mut id: NodeId, out: &mut Map<String, Value>) -> NodeId {
    loop {
        match &doc.node(id).kind {
            Kind::If { cond, body } => {
                out.insert("condition".into(), expression(text, doc, *cond));
                id = *body;
            }
            Kind::For { body, .. } => {
                out.insert("copy".into(), Value::Bool(true));
                id = *body;
            }
            _ => return id,
        }
    }
}

fn resource(doc: &Doc, text: &str, r: &Decl) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), Value::String(r.type_name().to_string()));
    out.insert(
        "apiVersion".into(),
        Value::String(r.api_version().to_string()),
    );
    if r.existing {
        out.insert("existing".into(), Value::Bool(true));
    }
    let body = unwrap_body(doc, text, r.body, &mut out);
    match value(doc, text, body) {
        Value::Object(members) => out.extend(members),
        other => {
            out.insert("body".into(), other);
        }
    }
    Value::Object(out)
}

fn module(doc: &Doc, text: &str, m: &Decl) -> Value {
    let mut out = Map::new();
    out.insert(
        "type".into(),
        Value::String("Microsoft.Resources/deployments".into()),
    );
    out.insert("module".into(), Value::String(m.target.clone()));
    let body = unwrap_body(doc, text, m.body, &mut out);
    let Some(obj) = doc.object(body).filter(|o| !o.dynamic) else {
        out.insert("body".into(), value(doc, text, body));
        return Value::Object(out);
    };
    let mut parameters = None;
    for member in &obj.members {
        let Some(k) = &member.key else { continue };
        if k == "params" {
            parameters = Some(match doc.object(member.value).filter(|o| !o.dynamic) {
                Some(p) => {
                    let mut map = Map::new();
                    for pm in &p.members {
                        if let Some(pk) = &pm.key {
                            let mut wrapped = Map::new();
                            wrapped.insert("value".into(), value(doc, text, pm.value));
                            map.insert(pk.clone(), Value::Object(wrapped));
                        }
                    }
                    Value::Object(map)
                }
                None => value(doc, text, member.value),
            });
        } else {
            out.insert(k.clone(), value(doc, text, member.value));
        }
    }
    if let Some(parameters) = parameters {
        let mut props = Map::new();
        props.insert("parameters".into(), parameters);
        out.insert("properties".into(), Value::Object(props));
    }
    Value::Object(out)
}

/// Where a node sits in the ARM shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// Pointer tokens of the node's value, or of the expression that holds it.
    pub(crate) pointer: Vec<String>,
    /// The expression (a `"[…]"` string in the shape) that holds the node, when the node is
    /// not a value of the shape itself: a change inside it rewrites that string.
    pub(crate) host: Option<NodeId>,
}

/// Where node `id` sits in [`view`]'s shape; `None` when the shape does not hold it (a
/// resource's condition, a decorator, an output).
pub(crate) fn place(doc: &Doc, id: NodeId) -> Option<Place> {
    let span = doc.node(id).span;
    let holds = |n: NodeId| {
        let s = doc.node(n).span;
        s.start <= span.start && span.end <= s.end
    };
    let tokens = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let value_key = if doc.is_params_file() {
        "value"
    } else {
        "defaultValue"
    };
    for p in &doc.params {
        if let Some(d) = p.default.filter(|d| holds(*d)) {
            return descend(doc, id, d, tokens(&["parameters", &p.name, value_key]));
        }
    }
    for v in &doc.vars {
        if holds(v.value) {
            return descend(doc, id, v.value, tokens(&["variables", &v.name]));
        }
    }
    for (i, r) in doc.resources.iter().enumerate() {
        let name = doc.symbolic_name(i);
        if let Some(found) = in_body(doc, id, r.body, tokens(&["resources", &name]), false) {
            return Some(found);
        }
    }
    for m in &doc.modules {
        if let Some(found) = in_body(doc, id, m.body, tokens(&["resources", &m.name]), true) {
            return Some(found);
        }
    }
    None
}

/// [`place`] inside a resource's or module's body, laid out as [`resource`] and [`module`]
/// lay it out.
fn in_body(doc: &Doc, id: NodeId, body: NodeId, base: Vec<String>, module: bool) -> Option<Place> {
    let span = doc.node(id).span;
    let holds = |n: NodeId| {
        let s = doc.node(n).span;
        s.start <= span.start && span.end <= s.end
    };
    let mut body = body;
    while let Kind::If { body: b, .. } | Kind::For { body: b, .. } = &doc.node(body).kind {
        body = *b;
    }
    if !holds(body) {
        return None;
    }
    let with = |key: &str| {
        let mut p = base.clone();
        p.push(key.to_string());
        p
    };
    let Some(obj) = doc.object(body).filter(|o| !o.dynamic) else {
        return descend(doc, id, body, with("body"));
    };
    for member in &obj.members {
        let Some(k) = &member.key else { continue };
        if !holds(member.value) {
            continue;
        }
        if module && k == "params" {
            let mut ptr = with("properties");
            ptr.push("parameters".into());
            let Some(params) = doc.object(member.value).filter(|o| !o.dynamic) else {
                return descend(doc, id, member.value, ptr);
            };
            if member.value == id {
                return Some(Place {
                    pointer: ptr,
                    host: None,
                });
            }
            let pm = params
                .members
                .iter()
                .find(|pm| pm.key.is_some() && holds(pm.value))?;
            ptr.extend([pm.key.clone().unwrap_or_default(), "value".into()]);
            return descend(doc, id, pm.value, ptr);
        }
        return descend(doc, id, member.value, with(k));
    }
    None
}

/// [`place`] inside the value `at`, whose pointer is `ptr`.
fn descend(doc: &Doc, id: NodeId, mut at: NodeId, mut ptr: Vec<String>) -> Option<Place> {
    let span = doc.node(id).span;
    let holds = |n: NodeId| {
        let s = doc.node(n).span;
        s.start <= span.start && span.end <= s.end
    };
    loop {
        if at == id {
            return Some(Place {
                pointer: ptr,
                host: None,
            });
        }
        match &doc.node(at).kind {
            Kind::Object(o) if !o.dynamic => {
                let m = o
                    .members
                    .iter()
                    .find(|m| m.key.is_some() && holds(m.value))?;
                ptr.push(m.key.clone().unwrap_or_default());
                at = m.value;
            }
            Kind::Array(items) => {
                let i = items.iter().position(|i| holds(*i))?;
                ptr.push(i.to_string());
                at = items[i];
            }
            Kind::Null | Kind::Bool(_) | Kind::Int | Kind::Str(_) => return None,
            _ => {
                return Some(Place {
                    pointer: ptr,
                    host: Some(at),
                })
            }
        }
    }
}

/// The operation that rewrites the expression `host` (at `pointer`) with `edits` (byte
/// ranges of the file, all inside the expression) applied: in the shape, the expression is
/// the string `"[<its text>]"`.
pub(crate) fn expression_op(
    text: &str,
    doc: &Doc,
    host: NodeId,
    pointer: &[String],
    edits: &[Edit],
) -> Result<PatchOperation, String> {
    let span = doc.node(host).span;
    let inner: Vec<Edit> = edits
        .iter()
        .map(|e| {
            if e.start < span.start || e.end > span.end {
                return Err(format!(
                    "an edit at byte {} is outside its expression",
                    e.start
                ));
            }
            Ok(Edit::replace(
                e.start - span.start,
                e.end - span.start,
                e.replacement.clone(),
            ))
        })
        .collect::<Result<_, _>>()?;
    let new = crate::edit::apply(&text[span.start..span.end], &inner)?;
    Ok(PatchOperation::Replace(ReplaceOperation {
        path: PointerBuf::from_tokens(pointer.to_vec()),
        value: Value::String(format!("[{new}]")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::bicep::parser::parse;
    use serde_json::json;

    #[test]
    fn shape() {
        let text = "param p bool = false\n\
            var v = { a: [1, 'x'] }\n\
            resource r 'T/u@1' = if (c) {\n name: 'n'\n properties: { e: f(x) }\n resource k 'w@2' = {\n name: 'k'\n }\n}\n\
            module m 'mod.bicep' = {\n name: 'm'\n params: { q: true }\n}\n";
        let doc = parse(text).unwrap();
        assert_eq!(
            view(&doc, text),
            json!({
                "parameters": {"p": {"type": "bool", "defaultValue": false}},
                "variables": {"v": {"a": [1, "x"]}},
                "resources": {
                    "r": {"type": "T/u", "apiVersion": "1", "condition": "[c]", "name": "n",
                          "properties": {"e": "[f(x)]"}},
                    "r::k": {"type": "T/u/w", "apiVersion": "2", "name": "k"},
                    "m": {"type": "Microsoft.Resources/deployments", "module": "mod.bicep",
                          "name": "m", "properties": {"parameters": {"q": {"value": true}}}}
                }
            })
        );
    }

    #[test]
    fn places_match_the_shape() {
        let text = "param p bool = false\n\
            var v = { a: [1, 'x'], b: c ? { d: 'in' } : null }\n\
            resource r 'T/u@1' = if (c) {\n name: 'n'\n properties: { e: 'lit' }\n resource k 'w@2' = {\n name: 'kid'\n }\n}\n\
            module m 'mod.bicep' = {\n name: 'm'\n params: { q: true, u: union({ w: 'deep' }, x) }\n}\n";
        let doc = parse(text).unwrap();
        let shape = view(&doc, text);
        // The node whose source text is `needle` (the first such literal).
        let node = |needle: &str| {
            let at = text.find(needle).unwrap();
            (0..doc.nodes.len())
                .find(|i| {
                    doc.node(*i).span.start == at && doc.node(*i).span.end == at + needle.len()
                })
                .unwrap()
        };
        let at = |ptr: &[String]| {
            let p = PointerBuf::from_tokens(ptr.to_vec());
            shape.pointer(p.as_str()).cloned()
        };
        for (needle, value) in [
            ("false", json!(false)),
            ("'x'", json!("x")),
            ("'lit'", json!("lit")),
            ("'kid'", json!("kid")),
            ("true", json!(true)),
        ] {
            let place = place(&doc, node(needle)).unwrap();
            assert_eq!(place.host, None, "{needle}");
            assert_eq!(at(&place.pointer), Some(value), "{needle}");
        }
        // Inside an expression: the place is the expression's string.
        for (needle, host) in [
            ("'in'", "c ? { d: 'in' } : null"),
            ("'deep'", "union({ w: 'deep' }, x)"),
        ] {
            let place = place(&doc, node(needle)).unwrap();
            let host_id = place.host.unwrap();
            assert_eq!(
                &text[doc.node(host_id).span.start..doc.node(host_id).span.end],
                host
            );
            assert_eq!(
                at(&place.pointer),
                Some(json!(format!("[{host}]"))),
                "{needle}"
            );
        }
        // Outside the shape: a resource's condition.
        let cond = text.find("if (c)").unwrap() + 4;
        let c = (0..doc.nodes.len())
            .find(|i| doc.node(*i).span.start == cond)
            .unwrap();
        assert_eq!(place(&doc, c), None);
    }

    #[test]
    fn an_edit_inside_an_expression_rewrites_its_string() {
        let text = "var v = c ? { d: 'x' } : null\n";
        let doc = parse(text).unwrap();
        let host = doc.vars[0].value;
        let at = text.find("'x'").unwrap();
        let op = expression_op(
            text,
            &doc,
            host,
            &["variables".into(), "v".into()],
            &[Edit::replace(at, at + 3, "'y'")],
        )
        .unwrap();
        let mut shape = view(&doc, text);
        json_patch::patch(&mut shape, &[op]).unwrap();
        assert_eq!(shape["variables"]["v"], json!("[c ? { d: 'y' } : null]"));
        assert!(expression_op(text, &doc, host, &[], &[Edit::insert(0, "z")]).is_err());
    }
}
