//! Turns planned changes into minimal text edits of a Bicep file, in Bicep style and the
//! file's own habits: a new property goes on its own line at the members' indentation (tabs
//! or spaces), before the closing brace's line, with that spot's line ending (CRLF stays
//! CRLF); in a one-line object it is appended as `, key: value`; an empty `{}` becomes a
//! block. Strings are single-quoted. It knows Bicep text, not AKS.

use super::ast::{Doc, NodeId, Object};
use crate::edit::Edit;
use crate::lang::style::{
    eol_before, eol_near, file_indent_unit, indent_of_line, indent_unit, is_multiline, line_start,
    starts_line,
};
use serde_json::Value;

/// Replaces the value `id` with `value`. `inline` asks for a one-line rendering (the value
/// sits in a one-line object).
pub(crate) fn replace(text: &str, doc: &Doc, id: NodeId, value: &Value, inline: bool) -> Edit {
    let span = doc.node(id).span;
    let rendered = if inline {
        render_inline(value)
    } else {
        let indent = indent_of_line(text, span.start);
        render_block(
            value,
            indent,
            &file_indent_unit(text),
            eol_near(text, span.start),
        )
    };
    Edit::replace(span.start, span.end, rendered)
}

/// Adds `key: value` to the object `id`. `inline_context`: the object itself sits in a
/// one-line object (so an empty `{}` must stay on one line).
pub(crate) fn add_member(
    text: &str,
    doc: &Doc,
    id: NodeId,
    key: &str,
    value: &Value,
    inline_context: bool,
) -> Result<Edit, String> {
    let obj = doc
        .object(id)
        .ok_or_else(|| format!("`{key}` must go into an object"))?;
    let key = render_key(key);
    if !is_multiline(text, obj.open, obj.close) {
        if obj.members.is_empty() {
            if inline_context {
                let pad = if text[obj.open + 1..obj.close].starts_with(' ') {
                    " "
                } else {
                    ""
                };
                let pair = format!("{pad}{key}: {}{pad}", render_inline(value));
                return Ok(Edit::replace(obj.open + 1, obj.close, pair));
            }
            // `{}` becomes a block at the line's indentation: the Bicep way, and valid in
            // every Bicep version (one-line objects are recent).
            let indent = indent_of_line(text, obj.open);
            let unit = file_indent_unit(text);
            let eol = eol_near(text, obj.open);
            let inner = format!("{indent}{unit}");
            let block = format!(
                "{{{eol}{inner}{key}: {}{eol}{indent}}}",
                render_block(value, &inner, &unit, eol)
            );
            return Ok(Edit::replace(obj.open, obj.close + 1, block));
        }
        let last = obj.members.last().expect("non-empty");
        let end = doc.node(last.value).span.end;
        let sep = separator(text, doc, obj);
        return Ok(Edit::insert(
            end,
            format!("{sep}{key}: {}", render_inline(value)),
        ));
    }
    let open_indent = indent_of_line(text, obj.open);
    let unit = indent_unit(
        text,
        obj.open,
        obj.members.first().map(|m| m.key_span.start),
    );
    let indent = match obj.members.first() {
        Some(m) if starts_line(text, m.key_span.start) => {
            indent_of_line(text, m.key_span.start).to_string()
        }
        _ => format!("{open_indent}{unit}"),
    };
    let rendered = render_block(value, &indent, &unit, eol_near(text, obj.open));
    if starts_line(text, obj.close) {
        // Before the closing brace's line: the new line comes after everything the object
        // holds (comments included) and ends with the line ending of the line above.
        let at = line_start(text, obj.close);
        let eol = eol_before(text, at);
        Ok(Edit::insert(at, format!("{indent}{key}: {rendered}{eol}")))
    } else {
        let after = obj
            .members
            .last()
            .map_or(obj.open + 1, |m| doc.node(m.value).span.end);
        let eol = eol_near(text, obj.open);
        Ok(Edit::insert(
            after,
            format!("{eol}{indent}{key}: {rendered}"),
        ))
    }
}

/// `, ` or whatever the object puts between its members.
fn separator(text: &str, doc: &Doc, obj: &Object) -> String {
    if let [a, b, ..] = obj.members.as_slice() {
        let between = &text[doc.node(a.value).span.end..b.key_span.start];
        if between.trim() == "," {
            return between.to_string();
        }
    }
    ", ".into()
}

/// A key as Bicep writes it: bare when it is an identifier, else quoted.
fn render_key(key: &str) -> String {
    let ident = key
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ident {
        key.to_string()
    } else {
        quote(key)
    }
}

/// A Bicep string literal.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A value on one line: `{ key: 'v' }`.
pub(crate) fn render_inline(value: &Value) -> String {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", render_key(k), render_inline(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        Value::Array(items) if !items.is_empty() => {
            let items: Vec<String> = items.iter().map(render_inline).collect();
            format!("[{}]", items.join(", "))
        }
        other => scalar(other),
    }
}

/// A value over lines; its first line continues the current one, which is at `indent`.
pub(crate) fn render_block(value: &Value, indent: &str, unit: &str, eol: &str) -> String {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let inner = format!("{indent}{unit}");
            let mut out = String::from("{");
            for (k, v) in map {
                out.push_str(eol);
                out.push_str(&inner);
                out.push_str(&render_key(k));
                out.push_str(": ");
                out.push_str(&render_block(v, &inner, unit, eol));
            }
            out.push_str(eol);
            out.push_str(indent);
            out.push('}');
            out
        }
        Value::Array(items) if !items.is_empty() => {
            let inner = format!("{indent}{unit}");
            let mut out = String::from("[");
            for v in items {
                out.push_str(eol);
                out.push_str(&inner);
                out.push_str(&render_block(v, &inner, unit, eol));
            }
            out.push_str(eol);
            out.push_str(indent);
            out.push(']');
            out
        }
        other => scalar(other),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply;
    use crate::lang::bicep::parser::parse;
    use serde_json::json;

    fn add(text: &str, key: &str, value: Value) -> String {
        let doc = parse(text).unwrap();
        let id = doc.vars[0].value;
        let e = add_member(text, &doc, id, key, &value, false).unwrap();
        apply(text, &[e]).unwrap()
    }

    #[test]
    fn adds_on_its_own_line() {
        assert_eq!(
            add(
                "var a = {\n  b: 1 // c\n}\n",
                "config",
                json!({"x": "true"})
            ),
            "var a = {\n  b: 1 // c\n  config: {\n    x: 'true'\n  }\n}\n"
        );
        assert_eq!(
            add("var a = {\r\n\tb: 1\r\n}\r\n", "k", json!(true)),
            "var a = {\r\n\tb: 1\r\n\tk: true\r\n}\r\n"
        );
        assert_eq!(
            add("var a = {\n}\n", "k", json!("v")),
            "var a = {\n  k: 'v'\n}\n"
        );
    }

    #[test]
    fn one_line_objects_stay_on_one_line() {
        assert_eq!(
            add("var a = { b: 1,  c: 2 }\n", "k", json!({"x": "true"})),
            "var a = { b: 1,  c: 2,  k: { x: 'true' } }\n"
        );
        assert_eq!(
            add("var a = {b: 1}\n", "k", json!("t")),
            "var a = {b: 1, k: 't'}\n"
        );
    }

    #[test]
    fn empty_object_becomes_a_block() {
        assert_eq!(
            add("  var a = {}\n", "k", json!("t")),
            "  var a = {\n    k: 't'\n  }\n"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("it's ${x}\\"), "'it\\'s \\${x}\\\\'");
        assert_eq!(render_key("a-b"), "'a-b'");
        assert_eq!(render_key("enableSecretRotation"), "enableSecretRotation");
    }
}
