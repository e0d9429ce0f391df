//! Line diffs of two texts, as `similar`'s `TextDiff::from_lines` computes them (its Myers
//! algorithm, step for step), with a fraction of the memory: lines are byte offsets into the
//! texts, and Myers' frontier arrays grow with the edit distance instead of being sized by
//! the line counts. `present` turns the operations into a unified diff. Also the word diff
//! of two changed lines ([`word_diff`]) that a coloured diff emphasises.

use similar::algorithms::{Capture, Compact, DiffHook, Replace};
use similar::DiffOp;
use std::ops::Range;

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
pub(crate) struct Lines<'a> {
    text: &'a str,
    /// Start of each line, then the end of the text.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
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
pub(crate) fn line_ops(old: &Lines, new: &Lines) -> Vec<DiffOp> {
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

/// A line cut into pieces, each marked changed or not (see [`word_diff`]).
pub(crate) type Pieces<'a> = Vec<(&'a str, bool)>;

/// Words, as the word diff compares them: runs of letters, digits and `_`, runs of white
/// space, and every other character alone (so `true` → `true,` changes only the comma).
fn words(line: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Word,
        Space,
        Other,
    }
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            Class::Word
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Other
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut last: Option<Class> = None;
    for (i, c) in line.char_indices() {
        let k = class(c);
        if let Some(l) = last {
            if l != k || k == Class::Other {
                out.push(&line[start..i]);
                start = i;
            }
        }
        last = Some(k);
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
    out
}

/// Two changed lines (without their line endings) compared word by word, as `git diff
/// --color-words` and delta do: each cut into pieces marked changed or not. `None` when
/// they have too little in common (less than half of the longer line) for emphasis to help
/// a reader.
pub(crate) fn word_diff<'a>(old: &'a str, new: &'a str) -> Option<(Pieces<'a>, Pieces<'a>)> {
    let (a, b) = (words(old), words(new));
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b);
    let mut common = 0;
    let (mut left, mut right): (Pieces, Pieces) = (Vec::new(), Vec::new());
    let push = |side: &mut Pieces<'a>, text: &[&'a str], changed: bool| {
        for w in text {
            side.push((*w, changed));
        }
    };
    for op in &ops {
        let (tag, o, n) = op.as_tag_tuple();
        let equal = tag == similar::DiffTag::Equal;
        if equal {
            common += a[o.clone()].iter().map(|w| w.len()).sum::<usize>();
        }
        push(&mut left, &a[o], !equal);
        push(&mut right, &b[n], !equal);
    }
    if common * 2 < old.len().max(new.len()) {
        return None;
    }
    Some((merge(old, left), merge(new, right)))
}

/// Adjacent pieces with the same mark joined into one (they are consecutive slices of
/// `line`).
fn merge<'a>(line: &'a str, pieces: Pieces<'a>) -> Pieces<'a> {
    let mut out: Pieces<'a> = Vec::new();
    let mut at = 0;
    for (text, changed) in pieces {
        let end = at + text.len();
        match out.last_mut() {
            Some((prev, c)) if *c == changed => {
                let start = end - text.len() - prev.len();
                *prev = &line[start..end];
            }
            _ => out.push((&line[at..end], changed)),
        }
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed<'a>(p: &Pieces<'a>) -> Vec<&'a str> {
        p.iter().filter(|(_, c)| *c).map(|(t, _)| *t).collect()
    }

    #[test]
    fn only_the_changed_words_are_marked() {
        let (a, b) = word_diff(
            r#"    "enableSecretRotation": "false", /* off */"#,
            r#"    "enableSecretRotation": "true", /* off */"#,
        )
        .unwrap();
        assert_eq!(changed(&a), ["false"]);
        assert_eq!(changed(&b), ["true"]);
        let (a, b) = word_diff(r#"  "enabled": true"#, r#"  "enabled": true,"#).unwrap();
        assert!(changed(&a).is_empty());
        assert_eq!(changed(&b), [","]);
        // The pieces put back together are the lines.
        let line = |p: &Pieces| p.iter().map(|(t, _)| *t).collect::<String>();
        assert_eq!(line(&a), r#"  "enabled": true"#);
        assert_eq!(line(&b), r#"  "enabled": true,"#);
    }

    #[test]
    fn unrelated_lines_get_no_word_emphasis() {
        assert!(word_diff("alpha beta gamma", "one two three four").is_none());
        assert!(word_diff("", "x").is_none());
        assert!(word_diff("é ü", "é ö").is_some());
    }
}
