//! Shows results to people: finding lines (`path:line:col: rule: message`), unified diffs
//! (coloured on request), errors and the summary line. It formats; it does not decide.

use crate::engine::FileError;
use crate::finding::Finding;
use similar::algorithms::{Capture, Compact, DiffHook, Replace};
use similar::udiff::UnifiedHunkHeader;
use similar::{group_diff_ops, DiffOp, DiffTag};
use std::ops::Range;

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
///
/// Byte for byte what `similar`'s line diff (`TextDiff::from_lines`, Myers) prints, but
/// with a fraction of its memory: lines are byte offsets into the texts (no slices, no
/// interning table) and Myers' frontier arrays grow with the edit distance instead of
/// being sized by the line counts of both texts.
pub fn diff(path: &str, old: &str, new: &str, paint: Paint) -> String {
    let mut out = String::new();
    // An absolute path would read `a//tmp/x`; git's prefixes want a relative-looking path.
    let path = path.trim_start_matches('/');
    out += &paint.wrap("1", &format!("--- a/{path}\n"));
    out += &paint.wrap("1", &format!("+++ b/{path}\n"));
    let (old, new) = (Lines::new(old), Lines::new(new));
    for group in group_diff_ops(line_ops(&old, &new), 3) {
        out += &paint.wrap("36", &format!("{}\n", UnifiedHunkHeader::new(&group)));
        for op in &group {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            let mut emit = |sign: &str, line: &str, code: Option<&str>| {
                let missing_newline = !line.ends_with(['\r', '\n']);
                let line = format!("{sign}{line}");
                out += &match code {
                    Some(code) => paint.wrap(code, &line),
                    None => line,
                };
                if missing_newline {
                    out += "\n\\ No newline at end of file\n";
                }
            };
            match tag {
                DiffTag::Equal => old_range.for_each(|i| emit(" ", &old[i], None)),
                DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                    old_range.for_each(|i| emit("-", &old[i], Some("31")));
                    new_range.for_each(|i| emit("+", &new[i], Some("32")));
                }
            }
        }
    }
    out
}

/// End (exclusive) of the line that starts at `pos`, splitting as `similar` does: after
/// `\n`, `\r\n` or a lone `\r`.
fn line_end(t: &[u8], pos: usize) -> usize {
    match memchr::memchr2(b'\n', b'\r', &t[pos..]) {
        None => t.len(),
        Some(k) => {
            let q = pos + k;
            if t[q] == b'\r' && t.get(q + 1) == Some(&b'\n') {
                q + 2
            } else {
                q + 1
            }
        }
    }
}

/// A text's lines as `similar` splits them, kept as byte offsets (one number a line).
struct Lines<'a> {
    text: &'a str,
    /// Start of each line, then the end of the text.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let t = text.as_bytes();
        let mut starts = vec![0];
        let mut pos = 0;
        while pos < t.len() {
            pos = line_end(t, pos);
            starts.push(pos);
        }
        Lines { text, starts }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }
}

impl std::ops::Index<usize> for Lines<'_> {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        &self.text[self.starts[i]..self.starts[i + 1]]
    }
}

/// The ops `TextDiff::from_lines` computes: the same Myers (ported below) through the same
/// compaction and replace hooks of `similar`.
fn line_ops(old: &Lines, new: &Lines) -> Vec<DiffOp> {
    let mut d = Compact::new(Replace::new(Capture::new()), old, new);
    let (mut vf, mut vb) = (V::default(), V::default());
    // The hooks only collect; they cannot fail.
    let _ = conquer(
        &mut d,
        old,
        0..old.len(),
        new,
        0..new.len(),
        &mut vf,
        &mut vb,
    );
    let _ = d.finish();
    d.into_inner().into_inner().into_ops()
}

// Myers' diff as `similar` 2.7 implements it (src/algorithms/myers.rs, MIT/Apache-2.0, after
// Brandon Williams' version), step for step so that it chooses the same edits; only `V` grows
// on demand, because its size there, half the lines of both texts, dominated the memory of
// fixing a large file. No deadline: `TextDiff::from_lines` sets none.

/// Furthest x reached on each diagonal k (negative k too); unwritten entries read 0, like
/// `similar`'s zeroed vector. Myers never reads an entry not written in its current search.
#[derive(Default)]
struct V {
    pos: Vec<usize>,
    neg: Vec<usize>,
}

impl V {
    fn get(&self, k: isize) -> usize {
        let (side, i) = self.slot(k);
        side.get(i).copied().unwrap_or(0)
    }

    fn set(&mut self, k: isize, x: usize) {
        let i = if k >= 0 {
            k as usize
        } else {
            (-k - 1) as usize
        };
        let side = if k >= 0 { &mut self.pos } else { &mut self.neg };
        if side.len() <= i {
            side.resize(i + 1, 0);
        }
        side[i] = x;
    }

    fn slot(&self, k: isize) -> (&Vec<usize>, usize) {
        if k >= 0 {
            (&self.pos, k as usize)
        } else {
            (&self.neg, (-k - 1) as usize)
        }
    }
}

fn common_prefix(old: &Lines, o: Range<usize>, new: &Lines, n: Range<usize>) -> usize {
    o.zip(n).take_while(|&(i, j)| old[i] == new[j]).count()
}

fn common_suffix(old: &Lines, o: Range<usize>, new: &Lines, n: Range<usize>) -> usize {
    o.rev()
        .zip(n.rev())
        .take_while(|&(i, j)| old[i] == new[j])
        .count()
}

fn max_d(len1: usize, len2: usize) -> usize {
    (len1 + len2).div_ceil(2) + 1
}

fn find_middle_snake(
    old: &Lines,
    old_range: Range<usize>,
    new: &Lines,
    new_range: Range<usize>,
    vf: &mut V,
    vb: &mut V,
) -> Option<(usize, usize)> {
    let n = old_range.len();
    let m = new_range.len();
    let delta = n as isize - m as isize;
    let odd = delta & 1 == 1;
    vf.set(1, 0);
    vb.set(1, 0);
    let d_max = max_d(n, m);
    for d in 0..d_max as isize {
        for k in (-d..=d).rev().step_by(2) {
            let mut x = if k == -d || (k != d && vf.get(k - 1) < vf.get(k + 1)) {
                vf.get(k + 1)
            } else {
                vf.get(k - 1) + 1
            };
            let y = (x as isize - k) as usize;
            let (x0, y0) = (x, y);
            if x < n && y < m {
                x += common_prefix(
                    old,
                    old_range.start + x..old_range.end,
                    new,
                    new_range.start + y..new_range.end,
                );
            }
            vf.set(k, x);
            if odd && (k - delta).abs() <= (d - 1) && vf.get(k) + vb.get(-(k - delta)) >= n {
                return Some((x0 + old_range.start, y0 + new_range.start));
            }
        }
        for k in (-d..=d).rev().step_by(2) {
            let mut x = if k == -d || (k != d && vb.get(k - 1) < vb.get(k + 1)) {
                vb.get(k + 1)
            } else {
                vb.get(k - 1) + 1
            };
            let mut y = (x as isize - k) as usize;
            if x < n && y < m {
                let advance = common_suffix(
                    old,
                    old_range.start..old_range.start + n - x,
                    new,
                    new_range.start..new_range.start + m - y,
                );
                x += advance;
                y += advance;
            }
            vb.set(k, x);
            if !odd && (k - delta).abs() <= d && vb.get(k) + vf.get(-(k - delta)) >= n {
                return Some((n - x + old_range.start, m - y + new_range.start));
            }
        }
    }
    None
}

fn conquer<D: DiffHook>(
    d: &mut D,
    old: &Lines,
    mut old_range: Range<usize>,
    new: &Lines,
    mut new_range: Range<usize>,
    vf: &mut V,
    vb: &mut V,
) -> Result<(), D::Error> {
    let prefix = common_prefix(old, old_range.clone(), new, new_range.clone());
    if prefix > 0 {
        d.equal(old_range.start, new_range.start, prefix)?;
    }
    old_range.start += prefix;
    new_range.start += prefix;
    let suffix = common_suffix(old, old_range.clone(), new, new_range.clone());
    let suffix_at = (old_range.end - suffix, new_range.end - suffix);
    old_range.end -= suffix;
    new_range.end -= suffix;
    if old_range.is_empty() && new_range.is_empty() {
    } else if new_range.is_empty() {
        d.delete(old_range.start, old_range.len(), new_range.start)?;
    } else if old_range.is_empty() {
        d.insert(old_range.start, new_range.start, new_range.len())?;
    } else if let Some((x, y)) =
        find_middle_snake(old, old_range.clone(), new, new_range.clone(), vf, vb)
    {
        conquer(d, old, old_range.start..x, new, new_range.start..y, vf, vb)?;
        conquer(d, old, x..old_range.end, new, y..new_range.end, vf, vb)?;
    } else {
        d.delete(old_range.start, old_range.len(), new_range.start)?;
        d.insert(old_range.start, new_range.start, new_range.len())?;
    }
    if suffix > 0 {
        d.equal(suffix_at.0, suffix_at.1, suffix)?;
    }
    Ok(())
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
    use similar::TextDiff;

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

    /// The diff as it was made before windows: `similar` over every line of both texts.
    fn reference(path: &str, old: &str, new: &str, paint: Paint) -> String {
        use similar::ChangeTag;
        let d = TextDiff::from_lines(old, new);
        let mut out = String::new();
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

    /// A small deterministic generator (xorshift), so failures replay.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Lines of a template-like text: braces that repeat a lot, and distinct keys.
    fn gen_line(r: &mut Rng, distinct: bool) -> String {
        const COMMON: [&str; 8] = ["{", "}", "},", "  }", "  },", "\"a\": 1,", "]", ""];
        if distinct || r.below(3) == 0 {
            format!("  \"k{}\": \"v{}\",", r.below(1000), r.below(7))
        } else {
            COMMON[r.below(COMMON.len())].to_string()
        }
    }

    fn join(lines: &[String], eol: &str, r: &mut Rng, final_newline: bool) -> String {
        let mut s = String::new();
        for (i, l) in lines.iter().enumerate() {
            s += l;
            if i + 1 < lines.len() || final_newline {
                // Now and then a different ending, as in hand-edited files.
                s += match r.below(40) {
                    0 => "\r",
                    1 => "\n",
                    2 => "\r\n",
                    _ => eol,
                };
            }
        }
        s
    }

    fn case(seed: u64) -> (String, String) {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let len = match r.below(4) {
            0 => r.below(8),
            1 => r.below(60),
            _ => r.below(400),
        };
        let distinct = r.below(2) == 0;
        let old: Vec<String> = (0..len).map(|_| gen_line(&mut r, distinct)).collect();
        let mut new = old.clone();
        let edits = r.below(7);
        let mut last = r.below(new.len() + 1);
        for _ in 0..edits {
            // Edits at the start, the end, close together (within 6 lines) or anywhere.
            let at = match r.below(4) {
                0 => 0,
                1 => new.len(),
                2 => (last + r.below(13)).saturating_sub(6).min(new.len()),
                _ => r.below(new.len() + 1),
            };
            last = at;
            let del = r.below(4).min(new.len() - at);
            let ins = r.below(4);
            let lines: Vec<String> = (0..ins).map(|_| gen_line(&mut r, distinct)).collect();
            new.splice(at..at + del, lines);
        }
        let eol = if r.below(3) == 0 { "\r\n" } else { "\n" };
        let (old_nl, new_nl) = match r.below(6) {
            0 => (false, false),
            1 => (true, false),
            2 => (false, true),
            _ => (true, true),
        };
        let mut r2 = Rng(r.0);
        let old = join(&old, eol, &mut r, old_nl);
        let new = join(&new, eol, &mut r2, new_nl);
        (old, new)
    }

    #[test]
    fn diff_is_byte_identical_to_similars_text_diff() {
        for seed in 0..6_000u64 {
            let (old, new) = case(seed);
            let paint = Paint(seed % 5 == 0);
            let want = reference("x.json", &old, &new, paint);
            let got = diff("x.json", &old, &new, paint);
            assert_eq!(got, want, "seed {seed}\nold: {old:?}\nnew: {new:?}");
        }
    }

    #[test]
    fn diff_matches_on_edge_cases() {
        let cases = [
            ("", ""),
            ("", "a\n"),
            ("a\n", ""),
            ("a", "a\n"),
            ("a\n", "a"),
            ("a\r", "a\r\n"),
            ("a\r\nb", "a\r\nb\r\n"),
            ("x\n", "x\n"),
            ("a\nb\n", "a\nb\na\nb\n"),
        ];
        for (old, new) in cases {
            assert_eq!(
                diff("x", old, new, Paint(false)),
                reference("x", old, new, Paint(false)),
                "{old:?} -> {new:?}"
            );
        }
    }

    #[test]
    fn far_apart_edits_in_a_long_text() {
        let old: String = (0..5000).map(|i| format!("  \"k{i}\": {i},\n")).collect();
        let new = old
            .replace("\"k10\": 10,\n", "\"k10\": 10,\n  \"x\": 1,\n")
            .replace("\"k2500\": 2500,\n", "\"k2500\": 0,\n")
            .replace("\"k4999\": 4999,\n", "");
        let got = diff("x", &old, &new, Paint(false));
        assert_eq!(got.matches("@@ -").count(), 3, "{got}");
        assert_eq!(got, reference("x", &old, &new, Paint(false)));
    }

    #[test]
    fn colour_stays_inside_the_line() {
        assert_eq!(Paint(true).wrap("31", "-x\r\n"), "\x1b[31m-x\x1b[0m\r\n");
    }
}
