//! Shows results to people: finding lines (`path:line:col: rule: message`), unified diffs
//! (coloured on request), errors and the summary line. It formats; it does not decide.

use crate::engine::FileError;
use crate::finding::Finding;
use similar::{ChangeTag, TextDiff};

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            // Keep a line ending outside the colour so terminals do not smear it.
            let (body, end) = split_eol(s);
            format!("\x1b[{code}m{body}\x1b[0m{end}")
        } else {
            s.to_string()
        }
    }
}

fn split_eol(s: &str) -> (&str, &str) {
    let body = s.trim_end_matches(['\r', '\n']);
    (body, &s[body.len()..])
}

/// `path:line:col: Azure.AKS.SecretStoreRotation: message`
pub fn finding_line(path: &str, f: &Finding) -> String {
    format!("{path}:{}:{}: {}: {}", f.line, f.column, f.rule, f.message)
}

/// `path:line:col: message`, or `path: message` without a place.
pub fn error_line(path: &str, e: &FileError) -> String {
    match e.line_col {
        Some((l, c)) => format!("{path}:{l}:{c}: {}", e.message),
        None => format!("{path}: {}", e.message),
    }
}

/// A unified diff with `a/` and `b/` headers (so `git apply` takes it), three lines of
/// context.
pub fn diff(path: &str, old: &str, new: &str, paint: Paint) -> String {
    let d = TextDiff::from_lines(old, new);
    let mut out = String::new();
    // An absolute path would read `a//tmp/x`; git's prefixes want a relative-looking path.
    let path = path.trim_start_matches('/');
    out += &paint.wrap("1", &format!("--- a/{path}\n"));
    out += &paint.wrap("1", &format!("+++ b/{path}\n"));
    for hunk in d.unified_diff().context_radius(3).iter_hunks() {
        out += &paint.wrap("36", &format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let (sign, code) = match change.tag() {
                ChangeTag::Delete => ("-", Some("31")),
                ChangeTag::Insert => ("+", Some("32")),
                ChangeTag::Equal => (" ", None),
            };
            let line = format!("{sign}{}", change.value());
            out += &match code {
                Some(code) => paint.wrap(code, &line),
                None => line,
            };
            if change.missing_newline() {
                out += "\n\\ No newline at end of file\n";
            }
        }
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub files: usize,
    pub fixable: usize,
    /// Of `fixable`, those whose fix lands at a source (variable, parameter...).
    pub at_source: usize,
    pub manual: usize,
    pub fixed: usize,
    pub errors: usize,
}

pub fn check_summary(t: &Totals) -> String {
    if t.fixable + t.manual == 0 {
        return format!(
            "All checked: no findings in {}{}.",
            plural(t.files, "file", "files"),
            error_note(t.errors)
        );
    }
    format!(
        "Found {} ({} fixable directly, {} fixable at their source, {} manual review) in {}{}.",
        plural(t.fixable + t.manual, "finding", "findings"),
        t.fixable - t.at_source,
        t.at_source,
        t.manual,
        plural(t.files, "file", "files"),
        error_note(t.errors)
    )
}

pub fn fix_summary(t: &Totals, dry_run: bool) -> String {
    if dry_run {
        return format!(
            "Would fix {} ({} directly, {} at their source); {} manual review{}.",
            plural(t.fixable, "finding", "findings"),
            t.fixable - t.at_source,
            t.at_source,
            plural(t.manual, "needs", "need"),
            error_note(t.errors)
        );
    }
    format!(
        "Fixed {} of {} ({} directly, {} at their source); {} manual review{}.",
        t.fixed,
        plural(t.fixable, "fixable finding", "fixable findings"),
        t.fixable - t.at_source,
        t.at_source,
        plural(t.manual, "needs", "need"),
        error_note(t.errors)
    )
}

fn error_note(errors: usize) -> String {
    if errors == 0 {
        String::new()
    } else {
        format!("; {}", plural(errors, "error", "errors"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_missing_newline_and_keeps_crlf() {
        let d = diff("x.json", "a\r\nb", "a\r\nc", Paint(false));
        assert_eq!(
            d,
            "--- a/x.json\n+++ b/x.json\n@@ -1,2 +1,2 @@\n a\r\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn absolute_paths_get_single_slash_prefixes() {
        let d = diff("/tmp/x.json", "a\n", "b\n", Paint(false));
        assert!(d.starts_with("--- a/tmp/x.json\n+++ b/tmp/x.json\n"), "{d}");
    }

    #[test]
    fn colour_stays_inside_the_line() {
        assert_eq!(Paint(true).wrap("31", "-x\r\n"), "\x1b[31m-x\x1b[0m\r\n");
    }
}
