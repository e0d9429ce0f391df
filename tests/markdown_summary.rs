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
    // The headline counts as the summary line on stderr does.
    let counts = counts_of(&r.stderr, "Fixed ");
    assert!(
        md.contains(&format!("armfix fixed {counts}")),
        "{counts}\n{md}"
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

/// `N of M findings in A of B files` from the summary line on stderr that starts with
/// `lead`.
fn counts_of(stderr: &str, lead: &str) -> String {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix(lead))
        .unwrap_or_else(|| panic!("no summary line:\n{stderr}"));
    let end = line.find(" files").expect("a file count") + " files".len();
    line[..end].to_string()
}

/// A second `fix --yes` over a repository whose only finding needs manual review: the
/// headline counts like the stderr summary (files with findings of files read) and says
/// nothing about zero of nothing (it said "fixed 0 of 0 fixable findings in 8 files (0
/// directly, 0 at their source)").
#[test]
fn summary_md_headline_counts_like_the_summary_line_and_leaves_out_zeros() {
    let d = temp_repo_copy(&fixtures("formats"));
    let summary = d.path().join("summary.md");
    let s = summary.to_str().unwrap();
    run(
        d.path(),
        &["fix", "--yes", "--unsafe-fixes", "--summary-md", s],
    );
    let again = run(d.path(), &["fix", "--yes", "--summary-md", s]);
    let md = read(&summary);
    let headline = md.lines().nth(2).unwrap_or_default();
    assert!(
        headline.contains(&counts_of(&again.stderr, "Fixed ")),
        "{}\n{headline}",
        again.stderr
    );
    for zero in [" 0 of 0 ", "(0 ", " 0 at ", " 0 need", ", 0 "] {
        assert!(!headline.contains(zero), "{zero:?} in {headline}");
    }
    write(d.path(), "clean/aks.json", CLEAN);
    let clean = run(d.path(), &["fix", "--yes", "--summary-md", s, "clean"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert!(
        read(&summary).contains("armfix checked 1 file: every cluster passes."),
        "{}",
        read(&summary)
    );
}
