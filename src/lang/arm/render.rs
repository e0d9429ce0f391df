//! Turns RFC 6902 operations into minimal text edits of a JSON document, in the document's
//! own style: indentation unit and depth, line endings, spacing around `:` and `,`, one-line
//! objects kept on one line, comments left where they are. It knows JSON text, not AKS.

use crate::edit::Edit;
use crate::lang::arm::jsonc::{Kind, Node};
use crate::lang::style::{eol_near, indent_of_line, indent_unit, is_multiline};
use json_patch::PatchOperation;
use serde_json::Value;

/// Renders one `add` or `replace` operation as edits of `text` (whose tree is `root`).
pub(crate) fn render(text: &str, root: &Node, op: &PatchOperation) -> Result<Vec<Edit>, String> {
    match op {
        PatchOperation::Add(add) => {
            let tokens: Vec<String> = add
                .path
                .tokens()
                .map(|t| t.decoded().into_owned())
                .collect();
            let (last, parents) = tokens
                .split_last()
                .ok_or_else(|| "cannot add at the document root".to_string())?;
            let parent = resolve(root, parents)?;
            match parent.members() {
                Some(members) => match members.iter().rev().find(|m| m.key == *last) {
                    Some(m) => Ok(vec![replace_value(text, parent, &m.value, &add.value)]),
                    None => Ok(add_member(text, parent, last, &add.value)),
                },
                None => Err(format!("`{}` is not an object", add.path)),
            }
        }
        PatchOperation::Replace(rep) => {
            let tokens: Vec<String> = rep
                .path
                .tokens()
                .map(|t| t.decoded().into_owned())
                .collect();
            let (_, parents) = tokens
                .split_last()
                .ok_or_else(|| "cannot replace the document root".to_string())?;
            let parent = resolve(root, parents)?;
            let target = resolve(root, &tokens)?;
            Ok(vec![replace_value(text, parent, target, &rep.value)])
        }
        other => Err(format!("unsupported patch operation {other:?}")),
    }
}

/// Follows pointer tokens from the root. Of duplicate keys the last one is taken, as JSON
/// readers do.
fn resolve<'n, 'a>(root: &'n Node<'a>, tokens: &[String]) -> Result<&'n Node<'a>, String> {
    let mut node = root;
    for t in tokens {
        node = match &node.kind {
            Kind::Object(members) => members
                .iter()
                .rev()
                .find(|m| m.key == *t)
                .map(|m| &m.value)
                .ok_or_else(|| format!("no key `{t}`"))?,
            Kind::Array(items) => t
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .ok_or_else(|| format!("no index `{t}`"))?,
            _ => return Err(format!("cannot step into a scalar at `{t}`")),
        };
    }
    Ok(node)
}

/// How new text should look where it goes.
struct Style<'t> {
    eol: &'t str,
    unit: String,
    colon: String,
    /// Between items of a one-line object: after the comma.
    sep: String,
    /// Inside the braces of a one-line object.
    pad: String,
}

fn replace_value(text: &str, parent: &Node, target: &Node, value: &Value) -> Edit {
    let style = style_for(text, parent);
    let rendered = if is_multiline(text, parent.span.start, parent.span.end) {
        let indent = indent_of_line(text, target.span.start);
        multi(value, &style, indent)
    } else {
        inline(value, &style)
    };
    Edit::replace(target.span.start, target.span.end, rendered)
}

fn add_member(text: &str, object: &Node, key: &str, value: &Value) -> Vec<Edit> {
    let style = style_for(text, object);
    let key_json = serde_json::to_string(key).expect("strings serialise");
    let members = object.members().unwrap_or(&[]);
    let multiline = is_multiline(text, object.span.start, object.span.end);
    let open = object.span.start + 1;
    let Some(last) = members.last() else {
        if !multiline {
            let pair = format!("{key_json}{}{}", style.colon, inline(value, &style));
            return vec![Edit::insert(open, pair)];
        }
        let indent = format!("{}{}", indent_of_line(text, object.span.start), style.unit);
        let pair = format!(
            "{}{indent}{key_json}{}{}",
            style.eol,
            style.colon,
            multi(value, &style, &indent)
        );
        return vec![Edit::insert(open, pair)];
    };
    let end = last.value.span.end;
    if !multiline {
        let pair = format!(
            ",{}{key_json}{}{}",
            style.sep,
            style.colon,
            inline(value, &style)
        );
        return vec![Edit::insert(end, pair)];
    }
    let indent = indent_of_line(text, last.key_span.start);
    let pair = format!("{key_json}{}{}", style.colon, multi(value, &style, indent));
    match end_of_line_after(text, end) {
        // The line ends (perhaps after a comment): the comma goes after the value, the new
        // member on a line of its own, so the comment stays with its line.
        Some(eol_at) => vec![
            Edit::insert(end, ","),
            Edit::insert(eol_at, format!("{}{indent}{pair}", style.eol)),
        ],
        None => vec![Edit::insert(end, format!(",{}{indent}{pair}", style.eol))],
    }
}

/// Style of the object being edited, falling back to the file's habits.
fn style_for<'t>(text: &'t str, object: &Node) -> Style<'t> {
    let members = object.members().unwrap_or(&[]);
    let colon = members
        .last()
        .map(|m| &text[m.key_span.end..m.value.span.start])
        .or_else(|| holding_colon(text, object.span.start))
        .filter(|c| c.trim() == ":" && !c.contains('\n'))
        .unwrap_or(": ")
        .to_string();
    let inner =
        &text[object.span.start + 1..object.span.end.saturating_sub(1).max(object.span.start + 1)];
    let pad: String = inner.chars().take_while(|c| *c == ' ').collect();
    let sep = members
        .windows(2)
        .next()
        .map(|w| {
            let between = &text[w[0].value.span.end..w[1].key_span.start];
            let after_comma = between.split_once(',').map(|(_, a)| a).unwrap_or(" ");
            if after_comma.chars().all(|c| c == ' ') {
                after_comma.to_string()
            } else {
                " ".to_string()
            }
        })
        .unwrap_or_else(|| {
            if colon.ends_with(' ') || !pad.is_empty() {
                " ".into()
            } else {
                String::new()
            }
        });
    // Line endings and the indentation step matter only where new lines are written; on a
    // one-line object (a minified file is one line) looking for them would cost a scan of
    // the line per edit.
    let (eol, unit) = if is_multiline(text, object.span.start, object.span.end) {
        (
            eol_near(text, object.span.start),
            indent_unit(
                text,
                object.span.start,
                members.first().map(|m| m.key_span.start),
            ),
        )
    } else {
        ("\n", String::new())
    };
    Style {
        eol,
        unit,
        colon,
        sep,
        pad,
    }
}

/// For an object without members, the `:` (with its spaces) between the key that holds it
/// and its `{`, as the file spells it (`"config":{}` in a minified file): the nearest sample
/// of the file's habit.
fn holding_colon(text: &str, open: usize) -> Option<&str> {
    let before = &text[..open];
    let colon = before.trim_end_matches([' ', '\t']);
    let start = colon.strip_suffix(':')?.trim_end_matches([' ', '\t']).len();
    Some(&before[start..])
}

/// From `pos`, skips spaces, tabs and same-line comments; returns the offset of the line
/// break (its `\r` for CRLF) if the line ends there, or `None` if more JSON follows.
fn end_of_line_after(text: &str, pos: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = pos;
    loop {
        match b.get(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') => return Some(i),
            Some(b'\n') => return Some(i),
            Some(b'/') if b.get(i + 1) == Some(&b'/') => {
                let nl = text[i..].find('\n').map_or(text.len(), |n| i + n);
                return Some(if nl > 0 && b.get(nl - 1) == Some(&b'\r') {
                    nl - 1
                } else {
                    nl
                });
            }
            Some(b'/') if b.get(i + 1) == Some(&b'*') => {
                let close = text[i + 2..].find("*/")? + i + 4;
                if text[i..close].contains('\n') {
                    return None;
                }
                i = close;
            }
            None => return Some(i),
            _ => return None,
        }
    }
}

/// A value laid out over lines, the first line continuing the current one at `indent`.
fn multi(value: &Value, style: &Style, indent: &str) -> String {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let inner = format!("{indent}{}", style.unit);
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let k = serde_json::to_string(k).expect("strings serialise");
                    format!(
                        "{}{inner}{k}{}{}",
                        style.eol,
                        style.colon,
                        multi(v, style, &inner)
                    )
                })
                .collect();
            format!("{{{}{}{indent}}}", items.join(","), style.eol)
        }
        Value::Array(items) if !items.is_empty() => {
            let inner = format!("{indent}{}", style.unit);
            let items: Vec<String> = items
                .iter()
                .map(|v| format!("{}{inner}{}", style.eol, multi(v, style, &inner)))
                .collect();
            format!("[{}{}{indent}]", items.join(","), style.eol)
        }
        scalar => serde_json::to_string(scalar).expect("values serialise"),
    }
}

/// A value on one line, spaced like the object it goes into.
fn inline(value: &Value, style: &Style) -> String {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let k = serde_json::to_string(k).expect("strings serialise");
                    format!("{k}{}{}", style.colon, inline(v, style))
                })
                .collect();
            format!(
                "{{{p}{}{p}}}",
                items.join(&format!(",{}", style.sep)),
                p = style.pad
            )
        }
        Value::Array(items) if !items.is_empty() => {
            let items: Vec<String> = items.iter().map(|v| inline(v, style)).collect();
            format!("[{}]", items.join(&format!(",{}", style.sep)))
        }
        scalar => serde_json::to_string(scalar).expect("values serialise"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply;
    use crate::lang::arm::jsonc::parse;
    use json_patch::{AddOperation, ReplaceOperation};
    use serde_json::json;

    fn add(text: &str, path: &str, value: Value) -> String {
        let root = parse(text).unwrap();
        let op = PatchOperation::Add(AddOperation {
            path: path.parse().unwrap(),
            value,
        });
        apply(text, &render(text, &root, &op).unwrap()).unwrap()
    }

    fn replace(text: &str, path: &str, value: Value) -> String {
        let root = parse(text).unwrap();
        let op = PatchOperation::Replace(ReplaceOperation {
            path: path.parse().unwrap(),
            value,
        });
        apply(text, &render(text, &root, &op).unwrap()).unwrap()
    }

    #[test]
    fn adds_to_multiline_object_in_its_indent() {
        let text = "{\n    \"a\": {\n        \"enabled\": true\n    }\n}\n";
        assert_eq!(
            add(text, "/a/config", json!({"k": "true"})),
            "{\n    \"a\": {\n        \"enabled\": true,\n        \"config\": {\n            \"k\": \"true\"\n        }\n    }\n}\n"
        );
    }

    #[test]
    fn keeps_tabs_and_crlf() {
        let text = "{\r\n\t\"a\": {\r\n\t\t\"enabled\": true\r\n\t}\r\n}";
        assert_eq!(
            add(text, "/a/config", json!({"k": "true"})),
            "{\r\n\t\"a\": {\r\n\t\t\"enabled\": true,\r\n\t\t\"config\": {\r\n\t\t\t\"k\": \"true\"\r\n\t\t}\r\n\t}\r\n}"
        );
    }

    #[test]
    fn keeps_comment_on_its_line() {
        let text = "{\n  \"enabled\": true // on\n}";
        assert_eq!(
            add(text, "/k", json!("true")),
            "{\n  \"enabled\": true, // on\n  \"k\": \"true\"\n}"
        );
    }

    #[test]
    fn one_line_objects_stay_on_one_line() {
        assert_eq!(
            add(r#"{"enabled":true}"#, "/config", json!({"k": "true"})),
            r#"{"enabled":true,"config":{"k":"true"}}"#
        );
        assert_eq!(
            add(r#"{ "enabled": true }"#, "/config", json!({"k": "true"})),
            r#"{ "enabled": true, "config": { "k": "true" } }"#
        );
        assert_eq!(
            add(r#"{"c": {}}"#, "/c/k", json!("true")),
            r#"{"c": {"k": "true"}}"#
        );
    }

    #[test]
    fn an_empty_object_takes_the_colon_of_the_key_holding_it() {
        assert_eq!(
            add(r#"{"a":1,"c":{}}"#, "/c/k", json!("true")),
            r#"{"a":1,"c":{"k":"true"}}"#,
            "minified"
        );
        assert_eq!(
            add(r#"{"c" :  { }}"#, "/c/k", json!("true")),
            r#"{"c" :  {"k" :  "true" }}"#
        );
        assert_eq!(
            add("[{}]", "/0/k", json!("true")),
            r#"[{"k": "true"}]"#,
            "no key holds it: the default"
        );
    }

    #[test]
    fn adds_into_empty_multiline_object() {
        let text = "{\n  \"c\": {\n  }\n}";
        assert_eq!(
            add(text, "/c/k", json!("true")),
            "{\n  \"c\": {\n    \"k\": \"true\"\n  }\n}"
        );
    }

    #[test]
    fn replaces_only_the_value() {
        let text = "{\n  \"k\":   \"false\" /* keep */\n}";
        assert_eq!(
            replace(text, "/k", json!("true")),
            "{\n  \"k\":   \"true\" /* keep */\n}"
        );
    }

    #[test]
    fn replaces_null_with_an_object_over_lines() {
        let text = "{\n  \"a\": 1,\n  \"c\": null\n}";
        assert_eq!(
            replace(text, "/c", json!({"k": "true"})),
            "{\n  \"a\": 1,\n  \"c\": {\n    \"k\": \"true\"\n  }\n}"
        );
    }
}
