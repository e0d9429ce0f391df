//! `--summary-md FILE`: the Markdown summary for `check`, a dry run and a write, and the
//! error when the file cannot be written.

use crate::util::{fixtures, read, run, stable, temp_repo_copy, write, CLEAN};

#[test]
fn summary_md_for_check_dry_run_and_write() {
    let d = temp_repo_copy(&fixtures("formats"));
    let summary = d.path().join("summary.md");
    let s = summary.to_str().unwrap();
    let r = run(d.path(), &["check", "--summary-md", s]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("Found 8 findings"),
        "text output is unchanged"
    );
    snapshot!("formats__summary-check", stable(&read(&summary), d.path()));
    let r = run(d.path(), &["fix", "--dry-run", "--summary-md", s, "infra"]);
    assert_eq!(r.code, 1);
    snapshot!(
        "formats__summary-dry-run",
        stable(&read(&summary), d.path())
    );
    let r = run(
        d.path(),
        &["fix", "--yes", "--format", "json", "--summary-md", s],
    );
    assert_eq!(r.code, 2);
    let md = read(&summary);
    assert!(
        md.contains("armfix fixed 6 of 6 fixable findings in 5 files"),
        "{md}"
    );
    assert!(md.contains("### Needs manual review"), "{md}");
    assert!(
        md.contains("### Errors\n\n- `broken.json` line 4, column 78"),
        "{md}"
    );
    snapshot!("formats__summary-write", stable(&md, d.path()));
}

#[test]
fn summary_md_that_cannot_be_written_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.json", CLEAN);
    let r = run(d.path(), &["check", "--summary-md", "no/such/folder/s.md"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot write the summary"),
        "{}",
        r.stderr
    );
}
