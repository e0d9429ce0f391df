//! `--quiet`, `--verbose`, and no progress bar when stderr is not a terminal.

use crate::util::{run, write, CLEAN, INVALID, NEEDS_FIX};

#[test]
fn quiet_drops_summary_and_notes_but_keeps_findings_diffs_and_errors() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.json", NEEDS_FIX);
    write(d.path(), "b.json", INVALID);
    let r = run(d.path(), &["check", "--quiet"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.starts_with("a.json:9:43: "));
    assert!(r.stderr.contains("b.json:6:7"), "errors stay: {}", r.stderr);
    let r = run(d.path(), &["fix", "--yes", "-q", "--color", "never"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.starts_with("--- a/a.json\n"), "{}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "only the error: {}", r.stderr);
    assert!(r.stderr.starts_with("error: b.json:6:7"));
}

#[test]
fn verbose_notes_skipped_files_and_files_without_findings() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "clean.json", CLEAN);
    write(
        d.path(),
        "params.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {"managedClusters": {"value": 1}}}"#,
    );
    let r = run(d.path(), &["check", "--verbose"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stderr
            .contains("armfix: skipped params.json: not a deployment template"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("armfix: clean.json: no findings"),
        "{}",
        r.stderr
    );
    let r = run(d.path(), &["check"]);
    assert_eq!(
        r.stderr, "No findings in 2 files.\n",
        "only the summary without --verbose"
    );
    let r = run(d.path(), &["check", "-q", "-v"]);
    assert_eq!(r.code, 2, "--quiet and --verbose conflict");
}

#[test]
fn no_progress_bar_in_pipes() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..200 {
        write(d.path(), &format!("f{i:03}.json"), CLEAN);
    }
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr, "No findings in 200 files.\n",
        "stderr is a pipe: no progress bar"
    );
}
