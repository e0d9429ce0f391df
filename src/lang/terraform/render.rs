//! Renders Terraform fixes as minimal text edits in the file's own style: a literal becomes
//! `true` (`"true"` when it was a string); `secret_rotation_enabled = true` is added as a line
//! of its own inside the block, at its members' indentation (spaces or tabs) and line ending,
//! after the block's last argument, with its `=` in the column `terraform fmt` gives the run
//! of single-line arguments it joins (the neighbours are re-padded when the new name is the
//! longest, exactly as `terraform fmt` would re-pad them). An empty one-line block `{}` gets
//! the argument between its braces.

use super::hcl::{Attr, Block, Expr, ExprKind, Item};
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

/// The column (in characters) of the `=` of a single-line argument, and where its key ends.
fn eq_column(text: &str, a: &Attr) -> Option<(usize, usize)> {
    let eq = a.key_span.1 + text[a.key_span.1..a.value.span.0].find('=')?;
    Some((text[line_start(text, eq)..eq].chars().count(), eq))
}

/// The edits that add `secret_rotation_enabled = true` to `block` (a static add-on block or
/// a dynamic block's `content`). `None` when the block is written on one line with members
/// (HCL allows one argument there; a person must reshape it).
pub(crate) fn add_rotation(text: &str, block: &Block) -> Option<Vec<Edit>> {
    let (start, end) = block.span;
    let close = end.checked_sub(1)?;
    if text.as_bytes().get(close) != Some(&b'}') {
        return None;
    }
    let open = start + text[start..close].find('{')?;
    if !is_multiline(text, open, close) {
        if !text[open + 1..close].trim().is_empty() {
            return None;
        }
        return Some(vec![Edit::replace(
            open + 1,
            close,
            format!(" {ROTATION_ARG} = true "),
        )]);
    }
    let first = block.body.items.first().map(|i| match i {
        Item::Attr(a) => a.span.0,
        Item::Block(b) => b.span.0,
    });
    let eol = eol_near(text, open);
    let unit = indent_unit(text, open, first);
    let indent = match first {
        Some(f) if line_start(text, f) != line_start(text, open) => {
            indent_of_line(text, f).to_string()
        }
        _ => format!("{}{unit}", indent_of_line(text, close)),
    };
    let width = indent.chars().count() + ROTATION_ARG.len() + 1;
    // The last argument of the body: the new line goes right after it.
    let last = block.body.items.iter().rev().find_map(|i| match i {
        Item::Attr(a) => Some(a),
        _ => None,
    });
    let Some(last) = last else {
        // No argument: the new line goes just before the closing brace's line, or before
        // the brace itself when other text shares its line.
        let ls = line_start(text, close);
        let at = if text[ls..close].trim().is_empty() {
            ls
        } else {
            close
        };
        let lead = if at == ls { "" } else { eol };
        let tail = if at == ls {
            eol.to_string()
        } else {
            format!("{eol}{}", indent_of_line(text, close))
        };
        return Some(vec![Edit::insert(
            at,
            format!("{lead}{indent}{ROTATION_ARG} = true{tail}"),
        )]);
    };
    // The run of single-line arguments on consecutive lines that ends with `last`: terraform
    // fmt aligns their `=`.
    let mut group: Vec<&Attr> = Vec::new();
    let attrs: Vec<&Attr> = block
        .body
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Attr(a) => Some(a),
            _ => None,
        })
        .collect();
    let at = line_end(text, last.span.1);
    if !is_multiline(text, last.span.0, last.span.1) {
        let mut current = last;
        group.push(last);
        for a in attrs
            .iter()
            .rev()
            .skip_while(|a| !std::ptr::eq(**a, last))
            .skip(1)
        {
            let adjacent = next_line(text, a.span.1) == line_start(text, current.span.0);
            if is_multiline(text, a.span.0, a.span.1) || !adjacent {
                break;
            }
            group.push(a);
            current = a;
        }
    }
    let columns: Vec<(usize, usize, &Attr)> = group
        .iter()
        .filter_map(|a| eq_column(text, a).map(|(c, eq)| (c, eq, *a)))
        .collect();
    let aligned = columns.len() == group.len()
        && columns.len() > 1
        && columns.iter().all(|(c, _, _)| *c == columns[0].0);
    let mut edits = Vec::new();
    let column = if aligned || columns.len() == 1 {
        let column = columns[0].0.max(width);
        if column > columns[0].0 && aligned {
            // The new name is the longest: the neighbours move to its column.
            for (c, eq, _) in &columns {
                edits.push(Edit::insert(*eq, " ".repeat(column - c)));
            }
        } else if column > columns[0].0 {
            // A lone neighbour: fmt aligns the two.
            let (c, eq, _) = columns[0];
            edits.push(Edit::insert(eq, " ".repeat(column - c)));
        }
        column
    } else {
        width
    };
    let gap = " ".repeat(column.saturating_sub(width) + 1);
    let eol = eol_near(text, at);
    edits.push(Edit::insert(
        at,
        format!("{eol}{indent}{ROTATION_ARG}{gap}= true"),
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
