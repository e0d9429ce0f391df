//! `--format github`: workflow-command annotations, with paths and messages escaped.

use crate::util::{fixtures, run, stable, temp_repo_copy, write, MANUAL, NEEDS_FIX};

#[test]
fn github_annotations_snapshot() {
    let d = temp_repo_copy(&fixtures("formats"));
    let r = run(d.path(), &["check", "--format", "github"]);
    assert_eq!(r.code, 2);
    for line in r.stdout.lines() {
        assert!(
            line.starts_with("::warning file=") || line.starts_with("::error file="),
            "{line}"
        );
    }
    snapshot!("formats__github-check", stable(&r.stdout, d.path()));
}

#[test]
fn github_escapes_paths_and_messages() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a,b:c%.json", MANUAL);
    let r = run(d.path(), &["check", "--format", "github"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::warning file=a%2Cb%3Ac%25.json,line=11,col=23,endLine=11,endColumn=50,title=Azure.AKS.SecretStoreRotation::needs manual review: "),
        "{line}"
    );
    // The message keeps `:` and `,` (only `%`, CR and LF are escaped there).
    assert!(line.contains("`config` comes from a parameter; "), "{line}");
    // An annotation over several lines gives no columns (GitHub refuses them).
    write(d.path(), "a,b:c%.json", NEEDS_FIX);
    let r = run(d.path(), &["check", "--format", "github"]);
    let line = r.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::warning file=a%2Cb%3Ac%25.json,line=9,endLine=11,title="),
        "{line}"
    );
}
