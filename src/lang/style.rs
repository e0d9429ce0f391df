//! The layout facts every language's renderer reads from a file, written once: line starts,
//! indentation, the indentation unit and the line ending. A renderer asks these, so ARM,
//! Bicep and scripts agree on what a file's style is.

/// Where the line holding `pos` starts (after `\n`, or a lone `\r` used as a line break).
pub(crate) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

/// The run of spaces and tabs that starts the line holding `pos` (a BOM is not indent).
pub(crate) fn indent_of_line(text: &str, pos: usize) -> &str {
    let mut start = line_start(text, pos);
    if start == 0 && text.starts_with('\u{feff}') {
        start = 3;
    }
    let rest = &text[start..];
    let n = rest
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count();
    &rest[..n]
}

/// Whether `pos` is the first non-blank character of its line.
pub(crate) fn starts_line(text: &str, pos: usize) -> bool {
    text[line_start(text, pos)..pos]
        .trim_start_matches('\u{feff}')
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
}

/// Whether `text[start..end]` spans more than one line.
pub(crate) fn is_multiline(text: &str, start: usize, end: usize) -> bool {
    text.as_bytes()[start..end]
        .iter()
        .any(|b| *b == b'\n' || *b == b'\r')
}

/// Guesses the file's indentation unit from the first lines: a tab if lines are indented
/// with tabs, else the smallest non-zero run of spaces; two spaces when nothing tells.
pub(crate) fn file_indent_unit(text: &str) -> String {
    let mut tabs = 0;
    let mut smallest: Option<usize> = None;
    for line in text.lines().take(2000) {
        if line.starts_with('\t') {
            tabs += 1;
        } else {
            let n = line.bytes().take_while(|b| *b == b' ').count();
            if n > 0 && n < line.len() {
                smallest = Some(smallest.map_or(n, |s| s.min(n)));
            }
        }
    }
    if tabs > 0 && smallest.is_none() {
        "\t".into()
    } else {
        " ".repeat(smallest.unwrap_or(2))
    }
}

/// The indentation step of a block whose opening line holds `open` and whose first member
/// starts at `first`: the member's indent minus the opening line's, else the file's unit.
pub(crate) fn indent_unit(text: &str, open: usize, first: Option<usize>) -> String {
    if let Some(first) = first {
        if line_start(text, first) != line_start(text, open) && starts_line(text, first) {
            let outer = indent_of_line(text, open);
            let inner = indent_of_line(text, first);
            if let Some(step) = inner.strip_prefix(outer) {
                if !step.is_empty() {
                    return step.to_string();
                }
            }
        }
    }
    file_indent_unit(text)
}

/// The line ending around `pos`: that of the next line break, else the previous one; a
/// lone CR (a stray) defers to the file's usual ending.
pub(crate) fn eol_near(text: &str, pos: usize) -> &'static str {
    let b = text.as_bytes();
    let at = text[pos..]
        .find(['\n', '\r'])
        .map(|i| pos + i)
        .or_else(|| text[..pos].rfind(['\n', '\r']));
    match at {
        Some(i) if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') => "\r\n",
        Some(i) if b[i] == b'\n' && i > 0 && b[i - 1] == b'\r' => "\r\n",
        Some(i) if b[i] == b'\n' => "\n",
        _ => dominant_eol(text),
    }
}

/// The line ending that ends the line before `line_start` (a line break must precede it).
pub(crate) fn eol_before(text: &str, line_start: usize) -> &'static str {
    let b = text.as_bytes();
    match line_start.checked_sub(1).map(|i| b[i]) {
        Some(b'\n') if line_start >= 2 && b[line_start - 2] == b'\r' => "\r\n",
        Some(b'\n') => "\n",
        _ => dominant_eol(text),
    }
}

/// The file's usual line ending: CRLF when most line breaks are CRLF, else LF.
pub(crate) fn dominant_eol(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf {
        "\r\n"
    } else {
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_file_unit() {
        assert_eq!(file_indent_unit("{\n    \"a\": 1\n}"), "    ");
        assert_eq!(file_indent_unit("{\n\t\"a\": 1\n}"), "\t");
        assert_eq!(file_indent_unit("{}"), "  ");
    }

    #[test]
    fn line_endings() {
        assert_eq!(eol_near("a\r\nb", 0), "\r\n");
        assert_eq!(eol_near("a\nb", 3), "\n");
        assert_eq!(eol_near("a\rb\r\nc\r\n", 0), "\r\n");
        assert_eq!(eol_near("abc", 1), "\n");
        assert_eq!(eol_before("a\r\nb", 3), "\r\n");
    }

    #[test]
    fn indentation() {
        let text = "{\n    \"a\": {\n      \"b\": 1\n    }\n}";
        let open = text.find("{\n      ").unwrap();
        let first = text.find("\"b\"").unwrap();
        assert_eq!(indent_unit(text, open, Some(first)), "  ");
        assert_eq!(indent_of_line(text, first), "      ");
        assert!(starts_line(text, first));
        assert!(is_multiline(text, 0, text.len()));
        assert_eq!(line_start("a\rb", 2), 2);
    }
}
