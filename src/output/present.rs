//! Shows results to people: finding lines (`path:line:col: rule: message`), unified diffs
//! (coloured on request), errors and the summary line. It formats; it does not decide.

use crate::finding::Finding;
use crate::output::textdiff::{line_ops, word_diff, Lines, Pieces};
use crate::run::engine::FileError;
use similar::udiff::UnifiedHunkHeader;
use similar::{group_diff_ops, DiffTag};

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

/// A side effect as a clause after "unsafe fix: ": `also changes …` becomes `it also
/// changes …`, and `with cfg.json: also …` becomes `with cfg.json, it also …`.
pub(crate) fn side_effect_clause(effect: &str) -> String {
    if let Some(rest) = effect.strip_prefix("also ") {
        return format!("it also {rest}");
    }
    if effect.starts_with("with ") {
        if let Some((config, rest)) = effect.split_once(": also ") {
            return format!("{config}, it also {rest}");
        }
    }
    effect.to_string()
}

/// What a finding's fix also changes at deploy time, one clause a line, each as
/// `unsafe fix: it also …` (or `side effect: …` for a manual review that a side effect
/// made); empty when it has none.
pub(crate) fn side_effect_notes(f: &Finding) -> Vec<String> {
    let label = if f.is_fixable() {
        "unsafe fix"
    } else {
        "side effect of the fix"
    };
    f.side_effects
        .iter()
        .map(|e| format!("{label}: {}", side_effect_clause(e)))
        .collect()
}

/// A finding's line, then its side effects under it, indented as Bicep's `at` lines are:
/// `    unsafe fix: it also changes …`, one a line. Every line ends with a newline.
pub(crate) fn finding_block(path: &str, f: &Finding) -> String {
    let mut out = finding_line(path, f);
    out.push('\n');
    for note in side_effect_notes(f) {
        out += &format!("    {note}\n");
    }
    out
}

/// The note under an unsafe fix that `fix` holds back: how to apply it.
pub(crate) const HELD_BACK_NOTE: &str =
    "    held back: review it, then apply it with `armfix fix --unsafe-fixes`";

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
/// being sized by the line counts of both texts. With colour, see [`diff_fitted`].
pub fn diff(path: &str, old: &str, new: &str, paint: Paint) -> String {
    diff_fitted(path, old, new, paint, None)
}

/// [`diff`], for a person's terminal. With colour, a changed line paired with its
/// counterpart (the `-` and `+` lines of one change, when they have most words in common)
/// shows its changed words in reverse video, as `git diff`'s `diff-highlight` and delta
/// do; and with `width` (the terminal's columns), a line wider than the terminal is cut to
/// fit around its first changed word, `…` marking what is left out, so a change inside a
/// long or minified line stays in view. Without colour nothing is emphasised or cut (the
/// diff is for `git apply` and for files), whatever `width` says.
pub(crate) fn diff_fitted(
    path: &str,
    old: &str,
    new: &str,
    paint: Paint,
    width: Option<usize>,
) -> String {
    let width = width.filter(|_| paint.0);
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
            let mut emit = |sign: &str, line: &str, code: Option<&str>, pieces: Option<&Pieces>| {
                let missing_newline = !line.ends_with(['\r', '\n']);
                out += &if paint.0 {
                    painted_line(sign, line, code, pieces, width)
                } else {
                    format!("{sign}{line}")
                };
                if missing_newline {
                    out += "\n\\ No newline at end of file\n";
                }
            };
            match tag {
                DiffTag::Equal => old_range.for_each(|i| emit(" ", &old[i], None, None)),
                DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                    let pairs = if paint.0 {
                        pair_lines(&old, old_range.clone(), &new, new_range.clone())
                    } else {
                        Vec::new()
                    };
                    for i in old_range {
                        let p = pairs.iter().find(|p| p.0 == i).map(|p| &p.2);
                        emit("-", &old[i], Some("31"), p);
                    }
                    for j in new_range {
                        let p = pairs.iter().find(|p| p.1 == j).map(|p| &p.3);
                        emit("+", &new[j], Some("32"), p);
                    }
                }
            }
        }
    }
    out
}

/// The removed and added lines of one change that correspond, in order, with their word
/// diffs: each removed line is paired with the first later added line it shares most words
/// with.
fn pair_lines<'a>(
    old: &'a Lines,
    olds: std::ops::Range<usize>,
    new: &'a Lines,
    news: std::ops::Range<usize>,
) -> Vec<(usize, usize, Pieces<'a>, Pieces<'a>)> {
    let mut out = Vec::new();
    let mut next = news.start;
    for i in olds {
        let a = split_eol(&old[i]).0;
        for j in next..news.end {
            if let Some((pa, pb)) = word_diff(a, split_eol(&new[j]).0) {
                out.push((i, j, pa, pb));
                next = j + 1;
                break;
            }
        }
    }
    out
}

/// One diff line with colour: its sign and body in `code`'s colour (none for context),
/// changed words in reverse video, cut to `width` when it is wider; the line ending after
/// the colour.
fn painted_line(
    sign: &str,
    line: &str,
    code: Option<&str>,
    pieces: Option<&Pieces>,
    width: Option<usize>,
) -> String {
    let (body, end) = split_eol(line);
    let whole = [(body, false)];
    let pieces: &[(&str, bool)] = pieces.map_or(&whole[..], |p| &p[..]);
    let (lead, shown, trail) = match width {
        Some(w) => crop(pieces, w.saturating_sub(sign.chars().count()).max(8)),
        None => (false, pieces.to_vec(), false),
    };
    let mut text = String::from(sign);
    if lead {
        text.push('…');
    }
    for (t, changed) in shown {
        if changed && !t.is_empty() {
            text += &format!("\x1b[7m{t}\x1b[27m");
        } else {
            text += t;
        }
    }
    if trail {
        text.push('…');
    }
    match code {
        Some(code) => format!("\x1b[{code}m{text}\x1b[0m{end}"),
        None => format!("{text}{end}"),
    }
}

/// `pieces` cut to `room` characters around the first changed one (a third of the room
/// before it): whether text was left out before and after, and the pieces kept.
fn crop<'a>(pieces: &[(&'a str, bool)], room: usize) -> (bool, Vec<(&'a str, bool)>, bool) {
    let total: usize = pieces.iter().map(|(t, _)| t.chars().count()).sum();
    if total <= room {
        return (false, pieces.to_vec(), false);
    }
    let mut focus = 0;
    for (t, changed) in pieces {
        if *changed {
            break;
        }
        focus += t.chars().count();
    }
    if focus >= total {
        focus = 0;
    }
    // The start depends only on the unchanged text before the change, which the `-` and
    // `+` lines of a pair share: both are cut at the same column and the change lines up.
    // (Pulling the start back so that the room is filled to the line's end would shift the
    // longer line of the pair.)
    let start = focus.saturating_sub(room / 3);
    let lead = start > 0;
    let mut len = room - usize::from(lead);
    let trail = start + len < total;
    if trail {
        len -= 1;
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (t, changed) in pieces {
        let n = t.chars().count();
        let (from, to) = (start.max(at), (start + len).min(at + n));
        if from < to {
            let byte = |c: usize| t.char_indices().nth(c - at).map_or(t.len(), |(b, _)| b);
            out.push((&t[byte(from)..byte(to)], *changed));
        }
        at += n;
    }
    (lead, out, trail)
}

/// The columns of the terminal standard output goes to: `COLUMNS` when set, else what the
/// terminal says; `None` when neither tells.
pub(crate) fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    terminal_columns()
}

#[cfg(unix)]
fn terminal_columns() -> Option<usize> {
    // SAFETY: TIOCGWINSZ fills a winsize we own; it fails harmlessly on a non-terminal.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

#[cfg(not(unix))]
fn terminal_columns() -> Option<usize> {
    None
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Totals {
    /// Files analysed (they may concern the rule).
    pub(crate) files: usize,
    /// Files read: those analysed and those skipped because they cannot concern the rule
    /// (files with an error are not counted).
    pub(crate) read: usize,
    /// Files with at least one finding.
    pub(crate) with_findings: usize,
    pub(crate) fixable: usize,
    /// Of `fixable`, those whose fix lands at a source (variable, parameter...).
    pub(crate) at_source: usize,
    pub(crate) manual: usize,
    /// Fixable findings whose fix is unsafe and held back (no `--unsafe-fixes`).
    pub(crate) held: usize,
    /// Of `fixable`, those whose fix is unsafe (applied with `--unsafe-fixes`).
    pub(crate) unsafe_applied: usize,
    pub(crate) fixed: usize,
    pub(crate) errors: usize,
}

impl Totals {
    /// Every finding: fixable, held back and manual review.
    fn findings(&self) -> usize {
        self.fixable + self.held + self.manual
    }
}

/// The summary of `check`, one line for stderr. Counts that are zero are left out, so that
/// nothing is said about zero of nothing, and a run with errors never reads as clean:
///
/// - `Found 3 findings in 2 of 6 files: 2 fixable (1 at its source), 1 needs manual review.`
/// - `No findings in 6 files.` / `No findings in the 5 files read; 1 error.`
/// - `No file was read; 1 error.` / `No file was read.`
pub(crate) fn check_summary(t: &Totals) -> String {
    let total = t.findings();
    if total == 0 {
        return no_findings(t);
    }
    let mut parts = Vec::new();
    if t.fixable > 0 {
        parts.push(format!("{} fixable{}", t.fixable, at_source(t)));
    }
    if t.held > 0 {
        parts.push(plural(
            t.held,
            "unsafe fix held back",
            "unsafe fixes held back",
        ));
    }
    if t.manual > 0 {
        parts.push(format!(
            "{} manual review",
            plural(t.manual, "needs", "need")
        ));
    }
    format!(
        "Found {} in {} of {}: {}{}.{}",
        plural(total, "finding", "findings"),
        t.with_findings,
        plural(t.read, "file", "files"),
        parts.join(", "),
        error_note(t.errors),
        held_note(t)
    )
}

/// The summary of a run without findings (`check` and `fix`).
fn no_findings(t: &Totals) -> String {
    match (t.read, t.errors) {
        (0, _) => format!("No file was read{}.", error_note(t.errors)),
        (read, 0) => format!("No findings in {}.", plural(read, "file", "files")),
        (read, errors) => format!(
            "No findings in the {} read; {}.",
            plural(read, "file", "files"),
            plural(errors, "error", "errors")
        ),
    }
}

/// ` (N at its source)` after a fixable count, when there are any.
fn at_source(t: &Totals) -> String {
    let mut notes = Vec::new();
    if t.at_source > 0 {
        notes.push(format!(
            "{} at {} source",
            t.at_source,
            if t.at_source == 1 { "its" } else { "their" }
        ));
    }
    if t.unsafe_applied > 0 {
        notes.push(format!(
            "{} unsafe, with `--unsafe-fixes`",
            t.unsafe_applied
        ));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    }
}

/// How to apply the unsafe fixes held back, when there are any (the counts say how many).
fn held_note(t: &Totals) -> String {
    match t.held {
        0 => String::new(),
        1 => " An unsafe fix changes more than rotation at deploy time: review it, then apply \
              it with `--unsafe-fixes`."
            .to_string(),
        _ => " Unsafe fixes change more than rotation at deploy time: review them, then apply \
              them with `--unsafe-fixes`."
            .to_string(),
    }
}

/// The summary of `fix`, one line for stderr. "Fixed N of M" counts the findings whose fix
/// was written, of all findings; what was not fixed says why:
///
/// - `Fixed 2 of 3 findings in 2 of 6 files (1 at its source); 1 needs manual review.`
/// - `Fixed 1 of 3 findings in 3 of 6 files; 2 not written.` (declined, or a failed write)
/// - `Would fix 2 of 3 findings in 2 of 6 files; 1 needs manual review.` (`--dry-run`)
/// - `No findings in 6 files.`
pub(crate) fn fix_summary(t: &Totals, dry_run: bool) -> String {
    let total = t.findings();
    if total == 0 {
        return no_findings(t);
    }
    let (verb, done) = if dry_run {
        ("Would fix", t.fixable)
    } else {
        ("Fixed", t.fixed)
    };
    let mut rest = Vec::new();
    if !dry_run && t.fixable > t.fixed {
        rest.push(format!("{} not written", t.fixable - t.fixed));
    }
    if t.held > 0 {
        rest.push(plural(
            t.held,
            "unsafe fix held back",
            "unsafe fixes held back",
        ));
    }
    if t.manual > 0 {
        rest.push(format!(
            "{} manual review",
            plural(t.manual, "needs", "need")
        ));
    }
    if t.errors > 0 {
        rest.push(plural(t.errors, "error", "errors"));
    }
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!("; {}", rest.join(", "))
    };
    format!(
        "{verb} {done} of {} in {} of {}{}{rest}.{}",
        plural(total, "finding", "findings"),
        t.with_findings,
        plural(t.read, "file", "files"),
        if done > 0 {
            at_source(t)
        } else {
            String::new()
        },
        held_note(t)
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
            let want = reference("x.json", &old, &new, Paint(false));
            let got = diff("x.json", &old, &new, Paint(false));
            assert_eq!(got, want, "seed {seed}\nold: {old:?}\nnew: {new:?}");
            if seed % 5 == 0 {
                // With colour (word emphasis, and lines cut to a narrow width when they are
                // whole again), the text is the same once the colour is taken out.
                let painted = diff("x.json", &old, &new, Paint(true));
                assert_eq!(strip_ansi(&painted), want, "seed {seed}");
            }
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
    fn side_effects_read_as_clauses_under_the_finding() {
        assert_eq!(side_effect_clause("also changes x"), "it also changes x");
        assert_eq!(
            side_effect_clause("with dev.json: also turns the add-on on in `a`"),
            "with dev.json, it also turns the add-on on in `a`"
        );
        assert_eq!(side_effect_clause("something else"), "something else");
        let text = "{\n  \"a\": \"false\"\n}\n";
        let index = crate::location::LineIndex::new(text);
        let mut f = Finding::placed(
            &index,
            text,
            (9, 16),
            Some("/a".into()),
            "m".into(),
            crate::finding::Remedy::Fix,
            None,
        );
        assert_eq!(
            finding_block("x.json", &f),
            "x.json:2:8: Azure.AKS.SecretStoreRotation: m\n"
        );
        f.applicability = crate::finding::Applicability::Unsafe;
        f.side_effects = vec!["also changes y".into(), "also deploys z".into()];
        assert_eq!(
            finding_block("x.json", &f),
            "x.json:2:8: Azure.AKS.SecretStoreRotation: m\n    unsafe fix: it also changes \
             y\n    unsafe fix: it also deploys z\n"
        );
    }

    /// `s` without its ANSI escape sequences.
    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn long_lines_are_cut_around_the_change_only_with_colour_and_a_width() {
        let old = format!("{}\"false\"{}\n", "a".repeat(100), "b".repeat(100));
        let new = old.replace("false", "true");
        let d = diff_fitted("x", &old, &new, Paint(true), Some(40));
        for line in d.lines().skip(3) {
            let visible = strip_ansi(line);
            assert!(visible.chars().count() <= 40, "{visible}");
            assert!(
                visible.starts_with(['-', '+']) && visible.contains('…'),
                "{visible}"
            );
        }
        assert!(
            d.contains("\x1b[7mfalse\x1b[27m") && d.contains("\x1b[7mtrue\x1b[27m"),
            "{d:?}"
        );
        let plain = diff_fitted("x", &old, &new, Paint(false), Some(40));
        assert_eq!(
            plain,
            diff("x", &old, &new, Paint(false)),
            "no cut without colour"
        );
    }

    /// A change near the end of a long line: the `-` and `+` lines are cut at the same
    /// column, so the changed words stand one above the other (they were one column apart
    /// when `"false"` became `"true"`).
    #[test]
    fn the_lines_of_a_pair_are_cut_at_the_same_column() {
        for (from, to) in [("false", "true"), ("true", "false"), ("x", "longer words")] {
            let old = format!("{}\"{from}\", /* a comment */\n", " ".repeat(60));
            let new = old.replace(from, to);
            for width in [30, 40, 60, 70] {
                let d = diff_fitted("x", &old, &new, Paint(true), Some(width));
                let lines: Vec<String> = d.lines().skip(3).map(strip_ansi).collect();
                assert_eq!(lines.len(), 2, "{d:?}");
                let at =
                    |l: &str, w: &str| l.chars().count() - l[l.find(w).unwrap()..].chars().count();
                assert_eq!(at(&lines[0], from), at(&lines[1], to), "{lines:#?}");
                for l in &lines {
                    assert!(l.chars().count() <= width, "{l}");
                }
            }
        }
    }

    #[test]
    fn colour_stays_inside_the_line() {
        assert_eq!(Paint(true).wrap("31", "-x\r\n"), "\x1b[31m-x\x1b[0m\r\n");
    }
}
