//! Inputs a deployment really uses (issue 13): each case is a folder under
//! `tests/fixtures/links/`, copied to a temporary repository and run through the binary
//! (`check`, `fix --dry-run`, `fix --yes`, then `check` again). The transcript is one
//! snapshot per case; the assertions beside it say what the case is about.

use crate::util::{fixtures, run, stable, temp_repo_copy, tree, Run};

/// What the runs of one case gave.
struct Case {
    check: Run,
    fix: Run,
    second: Run,
    /// The files `fix --yes` changed, with their new text.
    written: Vec<(String, String)>,
    transcript: String,
}

/// Runs the case `name` and snapshots its transcript as `links__NAME`.
fn case(name: &str) -> Case {
    let src = fixtures("links").join(name);
    let tmp = temp_repo_copy(&src);
    let root = tmp.path();
    let before = tree(root);
    let check = run(root, &["check", "."]);
    let dry = run(root, &["fix", "--dry-run", "--color", "never", "."]);
    assert_eq!(tree(root), before, "{name}: a dry run wrote");
    let fix = run(root, &["fix", "--yes", "--color", "never", "."]);
    let after = tree(root);
    let written: Vec<(String, String)> = after
        .iter()
        .filter(|f| !before.contains(f))
        .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect();
    let second = run(root, &["check", "."]);
    let mut t = String::new();
    for (args, r) in [
        ("check .", &check),
        ("fix --dry-run .", &dry),
        ("fix --yes .", &fix),
        ("check . (after fix --yes)", &second),
    ] {
        t += &format!("$ armfix {args}\nexit: {}\n", r.code);
        if !r.stdout.is_empty() {
            t += &format!("--- stdout\n{}\n", r.stdout.trim_end());
        }
        if !r.stderr.is_empty() {
            t += &format!("--- stderr\n{}\n", r.stderr.trim_end());
        }
    }
    let transcript = stable(&t, root);
    snapshot!(
        format!("links__{}", name.replace('-', "_")),
        transcript.clone(),
        description => format!("tests/fixtures/links/{name}: check, fix --dry-run, fix --yes, check")
    );
    Case {
        check,
        fix,
        second,
        written,
        transcript,
    }
}

/// ARM accepts strings broken over lines (in descriptions, and in expressions written over
/// several lines): such a template is read, traced through the multi-line expression and
/// fixed, never an error.
#[test]
fn multi_line_strings_are_read() {
    let c = case("multiline");
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    assert!(!c.transcript.contains("error"), "{}", c.transcript);
    assert!(
        c.check
            .stdout
            .contains("fixed at the default value of parameter `rotation`"),
        "{}",
        c.transcript
    );
    assert_eq!(c.fix.code, 0, "{}", c.transcript);
    assert_eq!(c.written.len(), 1);
    let (path, text) = &c.written[0];
    assert_eq!(path, "main.json");
    assert!(text.contains("\"defaultValue\": \"true\""));
    // The raw line breaks outside the edit are kept.
    assert!(text.contains("strings\nspan several lines"));
    assert!(text.contains("[createObject(\n      'enabled'"));
    assert_eq!(c.second.code, 0, "{}", c.transcript);
}
