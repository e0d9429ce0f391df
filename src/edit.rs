//! Text edits: a byte range of the original text and its replacement. Every consumer (the
//! diff, the writer, machine reports) reads the same edits, so they cannot disagree.

use serde::Serialize;

/// Replace `text[start..end]` with `replacement` (an insertion when `start == end`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub replacement: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            start: at,
            end: at,
            replacement: text.into(),
        }
    }

    pub(crate) fn replace(start: usize, end: usize, text: impl Into<String>) -> Self {
        Edit {
            start,
            end,
            replacement: text.into(),
        }
    }
}

/// Applies edits to `text`. Edits are sorted by position; overlapping edits, or ranges
/// outside the text or off character boundaries, are refused.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    // Stable sort: insertions at the same offset keep the order they were made in.
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 64 * edits.len());
    let mut pos = 0;
    for e in sorted {
        if e.start < pos || e.end < e.start || e.end > text.len() {
            return Err(format!("overlapping or invalid edit at byte {}", e.start));
        }
        if !text.is_char_boundary(e.start) || !text.is_char_boundary(e.end) {
            return Err(format!("edit at byte {} splits a character", e.start));
        }
        out.push_str(&text[pos..e.start]);
        out.push_str(&e.replacement);
        pos = e.end;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order() {
        let edits = [
            Edit::replace(4, 5, "X"),
            Edit::insert(0, ">"),
            Edit::insert(0, ">"),
        ];
        assert_eq!(apply("abc def", &edits).unwrap(), ">>abc Xef");
    }

    #[test]
    fn refuses_overlaps() {
        let edits = [Edit::replace(0, 3, "x"), Edit::replace(2, 4, "y")];
        assert!(apply("abcdef", &edits).is_err());
        assert!(apply("ab", &[Edit::replace(1, 9, "")]).is_err());
        assert!(apply("é", &[Edit::insert(1, "x")]).is_err());
    }
}
