//! The ARM shape of a Bicep file, as `bicep build` would lay it out, reduced to what a fix can
//! touch: `parameters` (type and `defaultValue`), `variables`, and `resources` keyed by
//! symbolic name (`parent::child` for nested ones; modules as deployments whose
//! `properties.parameters.<name>.value` are the `params`). Literals become JSON values; any
//! other expression becomes the string `"[<source text>]"`. A fix's JSON Patch is addressed
//! in this shape, and verification compares shapes before and after.

use super::ast::{Decl, Doc, Kind, NodeId};
use serde_json::{Map, Value};

/// The document's ARM shape.
pub fn view(doc: &Doc, text: &str) -> Value {
    if doc.using.is_some() {
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
pub fn value(doc: &Doc, text: &str, id: NodeId) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bicep::parser::parse;
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
}
