//! Renders Terraform fixes as minimal text edits in the file's own style: a literal becomes
//! `true` (`"true"` when it was a string); `secret_rotation_enabled = true` is added as a line
//! of its own inside the block, at its members' indentation (spaces or tabs) and line ending,
//! after the block's last argument, with its `=` in the column `terraform fmt` gives the run
//! of single-line arguments it joins (the neighbours are re-padded when the new name is the
//! longest, exactly as `terraform fmt` would re-pad them). An empty one-line block `{}` gets
//! the argument between its braces.

use super::hcl::{Block, Expr, ExprKind, Item, Member};
use crate::edit::Edit;
use crate::eval::terraform::ROTATION_ARG;
use crate::lang::style::{eol_near, indent_of_line, indent_unit, is_multiline, line_start};

/// The edit that turns the literal `e` into a passing one; `None` when `e` is no literal.
pub(crate) fn literal_true(text: &str, e: &Expr) -> Option<Edit> {
    let (s, t) = e.span;
    match &e.kind {
        ExprKind::Bool(true) => None,
        ExprKind::Str(v) if v == "true" => None,
        ExprKind::Bool(_) | ExprKind::Null | ExprKind::Int(_) => Some(Edit::replace(s, t, "true")),
        ExprKind::Str(_) if text[s..t].starts_with('"') => Some(Edit::replace(s, t, "\"true\"")),
        _ => None,
    }
}

/// The end of the line holding `pos`, before its line break.
fn line_end(text: &str, pos: usize) -> usize {
    text[pos..]
        .find(['\r', '\n'])
        .map_or(text.len(), |i| pos + i)
}

/// Where the line after the one holding `pos` starts.
fn next_line(text: &str, pos: usize) -> usize {
    let end = line_end(text, pos);
    match text.as_bytes().get(end) {
        Some(b'\r') if text.as_bytes().get(end + 1) == Some(&b'\n') => end + 2,
        Some(_) => end + 1,
        None => end,
    }
}

/// The column (in characters) of the `=` (or `:`) of a single-line member, and where it is.
fn eq_column(text: &str, m: &Slot) -> Option<(usize, usize)> {
    let (key_end, value_start) = (m.key_span?.1, m.value_start);
    let eq = key_end + text.get(key_end..value_start)?.find(['=', ':'])?;
    Some((text[line_start(text, eq)..eq].chars().count(), eq))
}

/// A member of a container, as the renderer sees it: a block body's argument or nested
/// block, or an object expression's member.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) span: (usize, usize),
    /// `None` for a nested block (it parts `=` alignment runs).
    pub(crate) key_span: Option<(usize, usize)>,
    pub(crate) value_start: usize,
}

/// The slots of a block body.
pub(crate) fn block_slots(block: &Block) -> Vec<Slot> {
    block
        .body
        .items
        .iter()
        .map(|i| match i {
            Item::Attr(a) => Slot {
                span: a.span,
                key_span: Some(a.key_span),
                value_start: a.value.span.0,
            },
            Item::Block(b) => Slot {
                span: b.span,
                key_span: None,
                value_start: b.span.0,
            },
        })
        .collect()
}

/// The slots of an object expression.
pub(crate) fn object_slots(members: &[Member]) -> Vec<Slot> {
    members
        .iter()
        .map(|m| Slot {
            span: (m.key_span.0, m.value.span.1),
            key_span: Some(m.key_span),
            value_start: m.value.span.0,
        })
        .collect()
}

/// The edits that add `secret_rotation_enabled = true` to `block` (a static add-on block or
/// a dynamic block's `content`), after its last argument. `None` when the block is written
/// on one line with members (HCL allows one argument there; a person must reshape it).
pub(crate) fn add_rotation(text: &str, block: &Block) -> Option<Vec<Edit>> {
    let (start, end) = block.span;
    let close = end.checked_sub(1)?;
    let open = start + text.get(start..close)?.find('{')?;
    let slots = block_slots(block);
    let after = slots.iter().rposition(|s| s.key_span.is_some());
    add_member(
        text,
        (open, close),
        &slots,
        after,
        ROTATION_ARG,
        "true",
        false,
    )
}

/// The edits that add `key = value` as a member of the container whose braces are at
/// `braces`, after slot `after` (else as its last member), in the container's style. An
/// object written on one line gets `, key = value` (`object`: members may share a line);
/// an empty one-line container gets ` key = value `; a one-line block with members, `None`.
pub(crate) fn add_member(
    text: &str,
    braces: (usize, usize),
    slots: &[Slot],
    after: Option<usize>,
    key: &str,
    value: &str,
    object: bool,
) -> Option<Vec<Edit>> {
    let (open, close) = braces;
    if text.as_bytes().get(open) != Some(&b'{') || text.as_bytes().get(close) != Some(&b'}') {
        return None;
    }
    if super::json::is_json(text) {
        // Terraform's JSON syntax: the JSON editor, at the end of the object.
        return super::json::add_member(text, braces, key, value);
    }
    if !is_multiline(text, open, close) {
        if text[open + 1..close].trim().is_empty() {
            return Some(vec![Edit::replace(
                open + 1,
                close,
                format!(" {key} = {value} "),
            )]);
        }
        if !object {
            // A one-line block holds one argument at most: it opens onto lines of its own,
            // the block's indentation plus one unit, the two `=` aligned as fmt aligns them.
            let [only] = slots else { return None };
            let key_span = only.key_span?;
            if text[open + 1..only.span.0].trim() != "" || text[only.span.1..close].trim() != "" {
                return None;
            }
            let eol = eol_near(text, open);
            let base = indent_of_line(text, open);
            let inner = format!("{base}{}", indent_unit(text, open, None));
            let (old, new) = (key_span.1 - key_span.0, key.chars().count());
            let mut edits = vec![Edit::replace(
                open + 1,
                only.span.0,
                format!("{eol}{inner}"),
            )];
            if new > old && text[key_span.1..only.value_start].trim() == "=" {
                edits.push(Edit::insert(key_span.1, " ".repeat(new - old)));
            }
            let gap = " ".repeat(old.saturating_sub(new) + 1);
            edits.push(Edit::replace(
                only.span.1,
                close,
                format!("{eol}{inner}{key}{gap}= {value}{eol}{base}"),
            ));
            return Some(edits);
        }
        let at = after.map_or(slots.last()?.span.1, |i| slots[i].span.1);
        return Some(vec![Edit::insert(at, format!(", {key} = {value}"))]);
    }
    let first = slots.first().map(|s| s.span.0);
    let unit = indent_unit(text, open, first);
    let indent = match first {
        Some(f) if line_start(text, f) != line_start(text, open) => {
            indent_of_line(text, f).to_string()
        }
        _ => format!("{}{unit}", indent_of_line(text, close)),
    };
    let width = indent.chars().count() + key.chars().count() + 1;
    let Some(after) = after else {
        // Nothing to follow: the new line goes just before the closing brace's line, or
        // before the brace itself when other text shares its line.
        let ls = line_start(text, close);
        let eol = eol_near(text, open);
        let own_line = text[ls..close].trim().is_empty();
        let at = if own_line { ls } else { close };
        let edit = if own_line {
            format!("{indent}{key} = {value}{eol}")
        } else {
            format!(
                "{eol}{indent}{key} = {value}{eol}{}",
                indent_of_line(text, close)
            )
        };
        return Some(vec![Edit::insert(at, edit)]);
    };
    let prev = &slots[after];
    let at = line_end(text, prev.span.1);
    // The run of single-line members on consecutive lines around the new line: terraform
    // fmt aligns their `=`.
    let single = |s: &Slot| s.key_span.is_some() && !is_multiline(text, s.span.0, s.span.1);
    let mut group: Vec<&Slot> = Vec::new();
    if single(prev) {
        group.push(prev);
        let mut current = prev;
        for s in slots[..after].iter().rev() {
            if !single(s) || next_line(text, s.span.1) != line_start(text, current.span.0) {
                break;
            }
            group.push(s);
            current = s;
        }
    }
    let mut below = next_line(text, prev.span.1);
    for s in &slots[after + 1..] {
        if !single(s) || line_start(text, s.span.0) != below {
            break;
        }
        group.push(s);
        below = next_line(text, s.span.1);
    }
    let columns: Vec<(usize, usize)> = group.iter().filter_map(|s| eq_column(text, s)).collect();
    let aligned = !columns.is_empty()
        && columns.len() == group.len()
        && columns.iter().all(|(c, _)| *c == columns[0].0);
    let mut edits = Vec::new();
    let column = if aligned {
        let column = columns[0].0.max(width);
        // The new name is the longest: its neighbours move to its column, as fmt moves them.
        for (c, eq) in &columns {
            if column > *c {
                edits.push(Edit::insert(*eq, " ".repeat(column - c)));
            }
        }
        column
    } else {
        width
    };
    let gap = " ".repeat(column.saturating_sub(width) + 1);
    let eol = eol_near(text, at);
    edits.push(Edit::insert(
        at,
        format!("{eol}{indent}{key}{gap}= {value}"),
    ));
    Some(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::terraform::hcl::parse;

    fn added(text: &str) -> String {
        let body = parse(text).unwrap();
        let Item::Block(b) = &body.items[0] else {
            panic!()
        };
        let edits = add_rotation(text, b).unwrap();
        crate::edit::apply(text, &edits).unwrap()
    }

    #[test]
    fn joins_the_alignment_of_its_neighbours() {
        let t = "k {\n  secret_rotation_interval = \"2m\" # keep\n}\n";
        assert_eq!(
            added(t),
            "k {\n  secret_rotation_interval = \"2m\" # keep\n  secret_rotation_enabled  = true\n}\n"
        );
        let t = "k {\r\n\ta  = 1\r\n\tbb = 2\r\n}\r\n";
        assert_eq!(
            added(t),
            "k {\r\n\ta                       = 1\r\n\tbb                      = 2\r\n\tsecret_rotation_enabled = true\r\n}\r\n"
        );
        let t = "k {\n  a = 1\n\n  bb = 2\n}\n";
        assert_eq!(
            added(t),
            "k {\n  a = 1\n\n  bb                      = 2\n  secret_rotation_enabled = true\n}\n"
        );
    }

    #[test]
    fn empty_blocks_get_the_argument_in_their_shape() {
        assert_eq!(added("k {}\n"), "k { secret_rotation_enabled = true }\n");
        // One argument on one line: HCL allows no second one there, so the block opens up.
        assert_eq!(
            added("  k { enabled = true }\n"),
            "  k {\n    enabled                 = true\n    secret_rotation_enabled = true\n  }\n"
        );
        assert_eq!(
            added("\tk { secret_rotation_interval = \"2m\" }\r\n"),
            "\tk {\r\n\t\tsecret_rotation_interval = \"2m\"\r\n\t\tsecret_rotation_enabled  = true\r\n\t}\r\n"
        );
        assert_eq!(
            added("  k {\n  }\n"),
            "  k {\n    secret_rotation_enabled = true\n  }\n"
        );
        assert_eq!(
            added("k {\n  # only a comment\n  x {}\n}\n"),
            "k {\n  # only a comment\n  x {}\n  secret_rotation_enabled = true\n}\n"
        );
    }
}
