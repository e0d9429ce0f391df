//! Reads Terraform's JSON syntax (`*.tf.json`, `*.tfvars.json`) into the same [`Body`] tree
//! the native syntax gives, with byte spans into the JSON text, and adds members to its
//! objects with the style-preserving JSON editor ([`crate::lang::arm::render`]).
//!
//! The mapping follows Terraform's JSON configuration syntax: a top-level `resource` and
//! `data` hold blocks under two labels (`{"TYPE": {"NAME": {...}}}`), `variable`, `module`,
//! `output` and `provider` under one, `locals` and `terraform` under none; a label's value
//! may be an array of bodies. Without the provider's schema, an object (or an array of
//! objects) inside a resource is read as a nested block, except the arguments known to take
//! a map (`tags`, an azapi `body`, `for_each`...); `dynamic` holds dynamic blocks by label.
//! A string that is exactly one `"${ ... }"` is that expression (spans inside the string);
//! any other string with `${` is a template, Unknown. Keys named `//` are comments.

use super::hcl::{self, Attr, Block, Body, Expr, ExprKind, Item, Member, Step};
use crate::edit::Edit;
use crate::error::Error;
use crate::lang::arm::jsonc::{self, Kind, Node};

/// Whether `text` is in Terraform's JSON syntax: native syntax cannot start with `{`.
pub(crate) fn is_json(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
}

/// Arguments of a resource that take a map, not a nested block.
const MAP_ARGS: [&str; 8] = [
    "tags",
    "body",
    "for_each",
    "headers",
    "query_parameters",
    "triggers",
    "labels",
    "sensitive_body",
];

/// Parses a `.tf.json` or `.tfvars.json` document.
pub(crate) fn parse(text: &str) -> Result<Body, Error> {
    let root = jsonc::parse(text)
        .map_err(|e| Error::source(e.offset, format!("invalid Terraform JSON: {}", e.message)))?;
    let Some(members) = root.members() else {
        return Err(Error::source(
            root.span.start,
            "invalid Terraform JSON: the document is not an object".to_string(),
        ));
    };
    let mut items = Vec::new();
    for m in members {
        let labels = match m.key.as_ref() {
            "//" => continue,
            "resource" | "data" => 2,
            "variable" | "module" | "output" | "provider" => 1,
            "locals" | "terraform" => 0,
            // A `.tfvars.json` value (or an unknown top-level key): an argument.
            _ => {
                items.push(Item::Attr(attr(text, m)));
                continue;
            }
        };
        let blocks_inside = matches!(m.key.as_ref(), "resource" | "data");
        labelled(
            text,
            &m.key,
            &m.value,
            labels,
            &mut Vec::new(),
            blocks_inside,
            &mut items,
        );
    }
    Ok(Body { items })
}

/// The blocks of type `ident` under `n` more levels of labels.
fn labelled(
    text: &str,
    ident: &str,
    node: &Node,
    n: usize,
    labels: &mut Vec<String>,
    blocks_inside: bool,
    out: &mut Vec<Item>,
) {
    if n == 0 {
        for body in bodies(node) {
            out.push(Item::Block(Block {
                ident: ident.to_string(),
                labels: labels.clone(),
                span: (body.span.start, body.span.end),
                body: body_of(text, body, blocks_inside),
            }));
        }
        return;
    }
    let Some(members) = node.members() else {
        return;
    };
    for m in members {
        if m.key == "//" {
            continue;
        }
        labels.push(m.key.to_string());
        labelled(text, ident, &m.value, n - 1, labels, blocks_inside, out);
        labels.pop();
    }
}

/// An object, or each object of an array of objects.
fn bodies<'n, 'a>(node: &'n Node<'a>) -> Vec<&'n Node<'a>> {
    match &node.kind {
        Kind::Object(_) => vec![node],
        Kind::Array(items) => items
            .iter()
            .filter(|i| matches!(i.kind, Kind::Object(_)))
            .collect(),
        _ => Vec::new(),
    }
}

fn is_blocks(node: &Node) -> bool {
    match &node.kind {
        Kind::Object(_) => true,
        Kind::Array(items) => {
            !items.is_empty() && items.iter().all(|i| matches!(i.kind, Kind::Object(_)))
        }
        _ => false,
    }
}

/// A block body: in a resource, objects are nested blocks (see the module's doc).
fn body_of(text: &str, node: &Node, blocks_inside: bool) -> Body {
    let mut items = Vec::new();
    for m in node.members().unwrap_or(&[]) {
        let key = m.key.as_ref();
        if key == "//" {
            continue;
        }
        if blocks_inside && key == "dynamic" {
            labelled(
                text,
                "dynamic",
                &m.value,
                1,
                &mut Vec::new(),
                true,
                &mut items,
            );
            continue;
        }
        if blocks_inside && !MAP_ARGS.contains(&key) && is_blocks(&m.value) {
            labelled(text, key, &m.value, 0, &mut Vec::new(), true, &mut items);
            continue;
        }
        items.push(Item::Attr(attr(text, m)));
    }
    Body { items }
}

fn attr(text: &str, m: &jsonc::Member) -> Attr {
    Attr {
        key: m.key.to_string(),
        span: (m.key_span.start, m.value.span.end),
        key_span: (m.key_span.start, m.key_span.end),
        value: expr(text, &m.value),
    }
}

fn expr(text: &str, node: &Node) -> Expr {
    let span = (node.span.start, node.span.end);
    let kind = match &node.kind {
        Kind::Null => ExprKind::Null,
        Kind::Bool(b) => ExprKind::Bool(*b),
        Kind::Number(raw) => match raw.parse::<i64>() {
            Ok(i) => ExprKind::Int(i),
            Err(_) => ExprKind::Number((*raw).to_string()),
        },
        Kind::String(s) => return string(text, span, s),
        Kind::Array(items) => ExprKind::Array(items.iter().map(|i| expr(text, i)).collect()),
        Kind::Object(members) => ExprKind::Object(
            members
                .iter()
                .filter(|m| m.key != "//")
                .map(|m| Member {
                    key: Some(m.key.to_string()),
                    key_span: (m.key_span.start, m.key_span.end),
                    value: expr(text, &m.value),
                })
                .collect(),
        ),
    };
    Expr { span, kind }
}

/// A JSON string: a literal, one whole interpolation (read as the expression inside, with
/// its spans in the string), or a template (Unknown).
fn string(text: &str, span: (usize, usize), value: &str) -> Expr {
    let other = Expr {
        span,
        kind: ExprKind::Other,
    };
    if !value.contains("${") {
        return Expr {
            span,
            kind: ExprKind::Str(value.to_string()),
        };
    }
    let raw = &text[span.0..span.1];
    // Escapes would move spans: such a string stays a template.
    let Some(inner) = raw
        .strip_prefix("\"${")
        .and_then(|r| r.strip_suffix("}\""))
        .filter(|i| !i.contains("${") && !raw.contains('\\'))
    else {
        return other;
    };
    let prefix = "x = ";
    let Ok(body) = hcl::parse(&format!("{prefix}{inner}")) else {
        return other;
    };
    let Some(Item::Attr(a)) = body.items.into_iter().next() else {
        return other;
    };
    let mut e = a.value;
    let at = span.0 + 3;
    shift(&mut e, at as isize - prefix.len() as isize);
    e
}

/// Moves every span of `e` by `by` bytes.
fn shift(e: &mut Expr, by: isize) {
    let mv = |s: &mut (usize, usize)| {
        s.0 = (s.0 as isize + by) as usize;
        s.1 = (s.1 as isize + by) as usize;
    };
    mv(&mut e.span);
    match &mut e.kind {
        ExprKind::Array(xs) | ExprKind::Call(_, xs) => xs.iter_mut().for_each(|x| shift(x, by)),
        ExprKind::Object(ms) => {
            for m in ms {
                mv(&mut m.key_span);
                shift(&mut m.value, by);
            }
        }
        ExprKind::Traversal(_, steps) => steps_shift(steps, by),
        ExprKind::Access(x, steps) => {
            shift(x, by);
            steps_shift(steps, by);
        }
        ExprKind::Cond(a, b, c) => {
            shift(a, by);
            shift(b, by);
            shift(c, by);
        }
        ExprKind::Not(x) | ExprKind::Neg(x) | ExprKind::Paren(x) => shift(x, by),
        ExprKind::Binary(_, a, b) => {
            shift(a, by);
            shift(b, by);
        }
        ExprKind::For(f) => {
            shift(&mut f.collection, by);
            shift(&mut f.value, by);
            for x in [&mut f.key, &mut f.cond].into_iter().flatten() {
                shift(x, by);
            }
        }
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::Other => {}
    }
}

fn steps_shift(steps: &mut [Step], by: isize) {
    for s in steps {
        if let Step::Index(x) = s {
            shift(x, by);
        }
    }
}

/// The edits that add `key` with `value` (written as HCL: `true`, `"true"`, or an object of
/// those) to the JSON object whose braces are at `braces`, in the document's style.
pub(crate) fn add_member(
    text: &str,
    braces: (usize, usize),
    key: &str,
    value: &str,
) -> Option<Vec<Edit>> {
    let root = jsonc::parse(text).ok()?;
    let mut tokens = Vec::new();
    if !find(&root, (braces.0, braces.1 + 1), &mut tokens) {
        return None;
    }
    tokens.push(key.to_string());
    let value = to_json(
        &hcl::parse(&format!("x = {value}"))
            .ok()?
            .attrs()
            .next()?
            .value,
    )?;
    let op = json_patch::PatchOperation::Add(json_patch::AddOperation {
        path: jsonptr::PointerBuf::from_tokens(tokens),
        value,
    });
    crate::lang::arm::render::render(text, &root, &op).ok()
}

/// The path of tokens to the node spanning `span`.
fn find(node: &Node, span: (usize, usize), path: &mut Vec<String>) -> bool {
    if (node.span.start, node.span.end) == span {
        return true;
    }
    if node.span.start > span.0 || node.span.end < span.1 {
        return false;
    }
    match &node.kind {
        Kind::Object(ms) => {
            for m in ms {
                path.push(m.key.to_string());
                if find(&m.value, span, path) {
                    return true;
                }
                path.pop();
            }
        }
        Kind::Array(items) => {
            for (i, it) in items.iter().enumerate() {
                path.push(i.to_string());
                if find(it, span, path) {
                    return true;
                }
                path.pop();
            }
        }
        _ => {}
    }
    false
}

fn to_json(e: &Expr) -> Option<serde_json::Value> {
    Some(match &e.kind {
        ExprKind::Bool(b) => serde_json::Value::Bool(*b),
        ExprKind::Str(s) => serde_json::Value::String(s.clone()),
        ExprKind::Object(ms) => {
            let mut map = serde_json::Map::new();
            for m in ms {
                map.insert(m.key.clone()?, to_json(&m.value)?);
            }
            serde_json::Value::Object(map)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "variable": { "rotation": { "default": false } },
  "resource": {
    "azurerm_kubernetes_cluster": {
      "a": {
        "name": "aks",
        "tags": { "env": "prod" },
        "key_vault_secrets_provider": {
          "secret_rotation_enabled": "${var.rotation}"
        }
      }
    }
  }
}
"#;

    #[test]
    fn json_syntax_reads_as_the_native_tree_with_spans_in_the_json() {
        let body = parse(TEXT).unwrap();
        let v = body.blocks("variable").next().unwrap();
        assert_eq!(v.labels, ["rotation"]);
        let r = body.blocks("resource").next().unwrap();
        assert_eq!(r.labels, ["azurerm_kubernetes_cluster", "a"]);
        assert!(r.body.attr("tags").is_some(), "a map argument stays one");
        let k = r.body.blocks("key_vault_secrets_provider").next().unwrap();
        let x = k.body.attr("secret_rotation_enabled").unwrap();
        assert_eq!(&TEXT[x.value.span.0..x.value.span.1], "var.rotation");
        assert!(matches!(&x.value.kind, ExprKind::Traversal(n, _) if n == "var"));
        assert!(is_json(TEXT) && !is_json("resource \"a\" \"b\" {}"));
    }

    #[test]
    fn a_for_expression_in_a_string_keeps_its_spans_in_the_json() {
        let text = r#"{"locals": {"m": "${{ for c in var.cs : c.name => c.rot if c.on }}"}}"#;
        let body = parse(text).unwrap();
        let l = body.blocks("locals").next().unwrap();
        let ExprKind::For(f) = &l.body.attr("m").unwrap().value.kind else {
            panic!("not a for expression")
        };
        let at = |e: &Expr| &text[e.span.0..e.span.1];
        assert_eq!(at(&f.collection), "var.cs");
        assert_eq!(at(f.key.as_ref().unwrap()), "c.name");
        assert_eq!(at(&f.value), "c.rot");
        assert_eq!(at(f.cond.as_ref().unwrap()), "c.on");
        assert_eq!(f.value_var, "c");
    }

    #[test]
    fn members_are_added_in_the_documents_style() {
        let body = parse(TEXT).unwrap();
        let r = body.blocks("resource").next().unwrap();
        let k = r.body.blocks("key_vault_secrets_provider").next().unwrap();
        let edits = add_member(TEXT, (k.span.0, k.span.1 - 1), "x", "true").unwrap();
        let fixed = crate::edit::apply(TEXT, &edits).unwrap();
        assert!(
            fixed.contains("\"${var.rotation}\",\n          \"x\": true\n"),
            "{fixed}"
        );
        assert!(parse("[1]").is_err() && parse("{").is_err());
    }
}
