//! The parts of a fix's proof that every language runs the same way, written once: the
//! bytes outside the edits are the original's, and re-reading the fixed text leaves nothing
//! to fix and nothing new for a human. Each language's `verify` adds what only its syntax
//! can tell (the JSON Patch, the same commands).

use crate::edit::Edit;
use crate::finding::Analysis;

/// Checks that `fixed` holds the original's bytes everywhere outside the edits, and each
/// edit's replacement where the edit is.
pub(crate) fn untouched_outside_edits(
    original: &str,
    edits: &[Edit],
    fixed: &str,
) -> Result<(), String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let (mut from, mut to) = (0usize, 0usize);
    let o = original.as_bytes();
    let f = fixed.as_bytes();
    for e in sorted {
        let gap = e
            .start
            .checked_sub(from)
            .ok_or("the edits overlap".to_string())?;
        if f.get(to..to + gap) != o.get(from..e.start) {
            return Err(format!("text outside the edits changed (near byte {from})"));
        }
        to += gap + e.replacement.len();
        if f.get(to - e.replacement.len()..to) != Some(e.replacement.as_bytes()) {
            return Err(format!(
                "the edit at byte {} is not in the fixed text",
                e.start
            ));
        }
        from = e.end;
    }
    if f.get(to..) != o.get(from..) {
        return Err("text after the last edit changed".into());
    }
    Ok(())
}

/// Checks the fixed text's own analysis against the original's: no fixable finding is left
/// but those whose fix was held back (a fix must not leave its cluster failing) and no new
/// finding needs a human (the edit must not make a value armfix cannot read).
pub(crate) fn nothing_left(before: &Analysis, again: &Analysis) -> Result<(), String> {
    if again.fixable() > before.held_back {
        return Err("the edited text still fails the rule".into());
    }
    if again.manual() > before.manual() + before.settled_manual {
        return Err(
            "the edited text still fails the rule: the edit made a value armfix cannot read".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_bytes_are_checked() {
        let edits = [Edit::insert(1, "X")];
        assert!(untouched_outside_edits("ab", &edits, "aXb").is_ok());
        assert!(untouched_outside_edits("ab", &edits, "aXc").is_err());
        assert!(untouched_outside_edits("ab", &edits, "Xab").is_err());
        let two = [Edit::replace(0, 1, "A"), Edit::replace(0, 1, "B")];
        assert!(untouched_outside_edits("ab", &two, "ABb").is_err());
    }
}
