//! Maps byte offsets to 1-based line and column numbers. Columns count Unicode characters
//! (a tab is one column, a UTF-8 BOM is none), as editors and compilers show them.

/// Start offsets of every line of a text, built once per file that has something to report.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// The 1-based line and column of `offset` in `text` (the text this index was built on).
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let mut start = self.starts[line];
        if start == 0 && text.starts_with('\u{feff}') {
            start = 3.min(offset);
        }
        let col = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\r\n  é x\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 4), (2, 1));
        assert_eq!(idx.line_col(text, 9), (2, 5));
        assert_eq!(idx.line_col(text, text.len()), (3, 1));
    }

    #[test]
    fn bom_is_not_a_column() {
        let text = "\u{feff}{}";
        assert_eq!(LineIndex::new(text).line_col(text, 3), (1, 1));
    }
}
