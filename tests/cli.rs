//! The command line as users and scripts see it: exit codes, output formats, standard input,
//! which files a walk reads, colour, and how files are written (permissions, symbolic links).
//! Every test runs the real binary in a temporary folder.

use crate::util::{
    armfix, read, run, run_cmd, run_stdin, tree, write, CLEAN, INVALID, MANUAL, NEEDS_FIX,
    NEEDS_FIX_FINDING, NEEDS_FIX_FIXED,
};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The paths at the start of `check`'s finding lines, in output order.
fn finding_paths(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.contains(": Azure.AKS.SecretStoreRotation: "))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

fn tmp() -> TempDir {
    tempfile::tempdir().unwrap()
}

// ---------------------------------------------------------------------------------------
// Exit codes

#[test]
fn clean_tree_exits_0() {
    let d = tmp();
    write(d.path(), "aks.json", CLEAN);
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "No findings in 1 file.\n");
    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "", "no diff when nothing changes");
    assert_eq!(read(d.path().join("aks.json")), CLEAN);
}

#[test]
fn check_with_findings_exits_1_with_one_line_per_finding_and_a_summary() {
    let d = tmp();
    write(d.path(), "a.json", NEEDS_FIX);
    write(d.path(), "sub/b.json", MANUAL);
    write(d.path(), "c.json", CLEAN);
    let before = tree(d.path());
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines[0].starts_with(&format!("a.json:{NEEDS_FIX_FINDING}")),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("`config.enableSecretRotation` must be \"true\""));
    assert!(
        lines[1]
            .starts_with("sub/b.json:11:23: Azure.AKS.SecretStoreRotation: needs manual review: "),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("[parameters('csiConfig')]"));
    // The summary is on stderr, so stdout is the findings alone.
    assert_eq!(
        r.stderr,
        "Found 2 findings in 2 of 3 files: 1 fixable, 1 needs manual review.\n"
    );
    assert_eq!(tree(d.path()), before, "check writes nothing");
}

#[test]
fn fix_yes_writes_everything_exits_0_and_a_second_run_is_a_no_op() {
    let d = tmp();
    write(d.path(), "a.json", NEEDS_FIX);
    write(d.path(), "deep/er/b.json", NEEDS_FIX);
    write(d.path(), "c.json", CLEAN);
    let r = run(d.path(), &["fix", "--yes", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(d.path().join("a.json")), NEEDS_FIX_FIXED);
    assert_eq!(read(d.path().join("deep/er/b.json")), NEEDS_FIX_FIXED);
    assert_eq!(read(d.path().join("c.json")), CLEAN);
    assert!(
        r.stdout.contains("--- a/a.json\n+++ b/a.json\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("--- a/deep/er/b.json\n"));
    assert!(r.stderr.contains("wrote a.json"), "{}", r.stderr);
    assert!(
        r.stderr
            .ends_with("Fixed 2 of 2 findings in 2 of 3 files.\n"),
        "{}",
        r.stderr
    );
    // `-y` is the same flag; nothing is left to do.
    let after = tree(d.path());
    let r = run(d.path(), &["fix", "-y"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(!r.stderr.contains("wrote"), "{}", r.stderr);
    assert_eq!(tree(d.path()), after, "byte for byte unchanged");
    assert_eq!(run(d.path(), &["check"]).code, 0);
}

#[test]
fn dry_run_exits_1_shows_the_diff_and_writes_nothing() {
    let d = tmp();
    write(d.path(), "aks.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--dry-run", "--color", "never"]);
    assert_eq!(r.code, 1);
    // The finding's block, then the file's diff.
    assert!(
        r.stdout
            .starts_with("aks.json:9:43: Azure.AKS.SecretStoreRotation: "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\n--- a/aks.json\n+++ b/aks.json\n@@ "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("-            \"enabled\": true\n+            \"enabled\": true,\n+            \"config\": {\n"));
    assert_eq!(read(d.path().join("aks.json")), NEEDS_FIX);
    assert!(!r.stderr.contains("not a terminal"), "{}", r.stderr);
}

#[test]
fn dry_run_and_yes_conflict() {
    let d = tmp();
    write(d.path(), "aks.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--dry-run", "--yes"]);
    assert_eq!(r.code, 2, "a usage error");
    assert_eq!(read(d.path().join("aks.json")), NEEDS_FIX);
}

#[test]
fn fix_without_a_terminal_behaves_as_dry_run_and_says_how_to_write() {
    let d = tmp();
    write(d.path(), "aks.json", NEEDS_FIX);
    // assert_cmd gives the child a pipe, not a terminal, for standard input.
    let r = run_stdin(d.path(), &["fix", "--color", "never"], "y\ny\n");
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("+++ b/aks.json"), "the diff is shown");
    assert!(r.stderr.contains("not a terminal"), "{}", r.stderr);
    assert!(r.stderr.contains("armfix fix --yes"), "{}", r.stderr);
    assert!(!r.stderr.contains("Apply this fix"), "never prompts");
    assert_eq!(read(d.path().join("aks.json")), NEEDS_FIX);
}

#[test]
fn manual_review_only_exits_1_and_writes_nothing() {
    let d = tmp();
    write(d.path(), "aks.json", MANUAL);
    for args in [&["check"][..], &["fix", "--yes"], &["fix", "--dry-run"]] {
        let r = run(d.path(), args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout
                .contains("aks.json:11:23: Azure.AKS.SecretStoreRotation: needs manual review"),
            "{args:?}: {}",
            r.stdout
        );
        assert!(!r.stdout.contains("+++"), "no diff");
        assert_eq!(read(d.path().join("aks.json")), MANUAL);
    }
    let r = run(d.path(), &["patch", "aks.json"]);
    assert_eq!(r.code, 0, "patch exits 0 unless the file cannot be read");
    assert_eq!(r.stdout, "[]\n");
    assert!(r.stderr.contains("needs manual review"), "{}", r.stderr);
}

#[test]
fn invalid_json_exits_2_with_its_place_while_the_good_file_beside_it_is_fixed() {
    let d = tmp();
    write(d.path(), "bad.json", INVALID);
    write(d.path(), "good.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.json:6:7: "), "{}", r.stderr);
    assert_eq!(read(d.path().join("good.json")), NEEDS_FIX_FIXED);
    assert_eq!(read(d.path().join("bad.json")), INVALID);

    // `check` too reports the error and goes on.
    write(d.path(), "good.json", NEEDS_FIX);
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.json:6:7: "), "{}", r.stderr);
    assert_eq!(finding_paths(&r.stdout), ["good.json"]);
    assert!(
        r.stderr
            .ends_with("Found 1 finding in 1 of 1 file: 1 fixable; 1 error.\n"),
        "{}",
        r.stderr
    );

    let r = run(d.path(), &["patch", "bad.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.json:6:7: "), "{}", r.stderr);
}

#[test]
fn nonexistent_path_exits_2_and_the_others_are_still_processed() {
    let d = tmp();
    write(d.path(), "good.json", NEEDS_FIX);
    let r = run(d.path(), &["check", "missing.json", "good.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
    assert_eq!(finding_paths(&r.stdout), ["good.json"]);

    let r = run(d.path(), &["fix", "--yes", "missing-dir", "good.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing-dir"), "{}", r.stderr);
    assert_eq!(read(d.path().join("good.json")), NEEDS_FIX_FIXED);

    let r = run(d.path(), &["patch", "missing.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
}

#[test]
fn undecodable_file_is_an_error_not_a_crash() {
    let d = tmp();
    let mut bytes = NEEDS_FIX.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe");
    write(d.path(), "latin.json", &bytes);
    write(d.path(), "good.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 2);
    // The place of the first undecodable byte: line and column after the template.
    assert!(r.stderr.contains("latin.json:17:1: "), "{}", r.stderr);
    assert!(r.stderr.contains("UTF-8"), "{}", r.stderr);
    assert_eq!(std::fs::read(d.path().join("latin.json")).unwrap(), bytes);
    assert_eq!(read(d.path().join("good.json")), NEEDS_FIX_FIXED);
}

#[cfg(unix)]
#[test]
fn read_only_file_is_reported_and_the_others_are_written() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    let ro = write(d.path(), "ro.json", NEEDS_FIX);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    write(d.path(), "rw.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ro.json: "), "{}", r.stderr);
    assert!(r.stderr.contains("read-only"), "{}", r.stderr);
    assert_eq!(read(&ro), NEEDS_FIX);
    assert_eq!(read(d.path().join("rw.json")), NEEDS_FIX_FIXED);
}

// ---------------------------------------------------------------------------------------
// Output

#[test]
fn output_is_sorted_by_path_and_the_same_on_every_run() {
    let d = tmp();
    // Names whose walk order, string order and path order differ.
    let mut names = vec![
        "a.json",
        "a-b.json",
        "a/b.json",
        "a/a/z.json",
        "aa.json",
        "B.json",
        "b/0.json",
        "z/y/x.json",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    for i in 0..40 {
        names.push(format!("m{}/n{}/f{i}.json", i % 3, i % 7));
    }
    for n in &names {
        write(d.path(), n, NEEDS_FIX);
    }
    write(d.path(), "m0/broken.json", INVALID);
    let mut outputs = Vec::new();
    for threads in ["1", "2", "8", "3"] {
        let r = run_cmd(
            armfix()
                .current_dir(d.path())
                .arg("check")
                .env("RAYON_NUM_THREADS", threads),
        );
        assert_eq!(r.code, 2);
        outputs.push((r.stdout, r.stderr));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]), "runs differ");
    let paths = finding_paths(&outputs[0].0);
    assert_eq!(paths.len(), names.len());
    let as_paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let mut sorted = as_paths.clone();
    sorted.sort();
    assert_eq!(as_paths, sorted, "sorted by path");

    let r = run(d.path(), &["fix", "--dry-run", "--color", "never"]);
    let diffed: Vec<PathBuf> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("--- a/"))
        .map(PathBuf::from)
        .collect();
    assert_eq!(diffed, sorted, "diffs come in path order too");
}

#[test]
fn color_always_paints_and_never_or_no_color_does_not() {
    let d = tmp();
    write(d.path(), "aks.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--dry-run", "--color", "always"]);
    assert!(r.stdout.contains("\x1b[31m-"), "{:?}", r.stdout);
    assert!(r.stdout.contains("\x1b[32m+"), "{:?}", r.stdout);
    assert!(r.stdout.contains("\x1b[0m"));
    // `--color` is global: it may come before the subcommand.
    let r = run(d.path(), &["--color", "always", "fix", "--dry-run"]);
    assert!(r.stdout.contains("\x1b["));

    let r = run(d.path(), &["fix", "--dry-run", "--color", "never"]);
    assert!(r.stdout.contains("+++ b/aks.json"));
    assert!(!r.stdout.contains('\x1b'));
    let r = run_cmd(
        armfix()
            .current_dir(d.path())
            .args(["fix", "--dry-run"])
            .env("NO_COLOR", "1"),
    );
    assert!(r.stdout.contains("+++ b/aks.json"));
    assert!(!r.stdout.contains('\x1b'));
    // auto, and stdout is a pipe: no colour either.
    let r = run(d.path(), &["fix", "--dry-run"]);
    assert!(!r.stdout.contains('\x1b'));
}

// ---------------------------------------------------------------------------------------
// Standard input

#[test]
fn fix_stdin_prints_the_fixed_document() {
    let d = tmp();
    let r = run_stdin(d.path(), &["fix", "-"], NEEDS_FIX);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, NEEDS_FIX_FIXED);
    assert!(!r.stderr.contains("Apply"), "never prompts");

    // CRLF and a BOM come back as they went in.
    let crlf = format!("\u{feff}{}", NEEDS_FIX.replace('\n', "\r\n"));
    let r = run_stdin(d.path(), &["fix", "-"], crlf);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        format!("\u{feff}{}", NEEDS_FIX_FIXED.replace('\n', "\r\n"))
    );
}

#[test]
fn fix_stdin_passes_other_input_through_unchanged() {
    let d = tmp();
    for input in [
        CLEAN,
        "{\"name\": \"not a template\"}",
        "not JSON at all, and no cluster",
        "{\"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#\", \"x\": \"managedClusters\"}",
    ] {
        let r = run_stdin(d.path(), &["fix", "-"], input);
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        assert_eq!(r.stdout, input);
    }
    // Manual review: unchanged, exit 1, the finding on stderr.
    let r = run_stdin(d.path(), &["fix", "-"], MANUAL);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, MANUAL);
    assert!(r.stderr.contains("<stdin>:11:23: "), "{}", r.stderr);
    // Invalid: unchanged, exit 2, the place on stderr.
    let r = run_stdin(d.path(), &["fix", "-"], INVALID);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, INVALID);
    assert!(r.stderr.contains("<stdin>:6:7: "), "{}", r.stderr);
}

#[test]
fn check_and_patch_read_stdin() {
    let d = tmp();
    let r = run_stdin(d.path(), &["check", "-"], NEEDS_FIX);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with(&format!("<stdin>:{NEEDS_FIX_FINDING}")),
        "{}",
        r.stdout
    );
    let r = run_stdin(d.path(), &["check", "-"], CLEAN);
    assert_eq!(r.code, 0);

    let r = run_stdin(d.path(), &["patch", "-"], NEEDS_FIX);
    assert_eq!(r.code, 0);
    let patch: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        patch,
        serde_json::json!([{
            "op": "add",
            "path": "/resources/0/properties/addonProfiles/azureKeyvaultSecretsProvider/config",
            "value": {"enableSecretRotation": "true"}
        }])
    );
    // The patch is what `fix` applies.
    let mut doc: serde_json::Value = serde_json::from_str(NEEDS_FIX).unwrap();
    json_patch::patch(
        &mut doc,
        &serde_json::from_value::<json_patch::Patch>(patch).unwrap(),
    )
    .unwrap();
    assert_eq!(
        doc,
        serde_json::from_str::<serde_json::Value>(NEEDS_FIX_FIXED).unwrap()
    );

    let r = run_stdin(d.path(), &["patch", "-"], CLEAN);
    assert_eq!((r.code, r.stdout.as_str()), (0, "[]\n"));
}

#[test]
fn patch_file_prints_the_json_patch() {
    let d = tmp();
    write(d.path(), "aks.json", NEEDS_FIX);
    write(d.path(), "clean.json", CLEAN);
    let r = run(d.path(), &["patch", "aks.json"]);
    assert_eq!(r.code, 0);
    let ops: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["op"], "add");
    let r = run(d.path(), &["patch", "clean.json"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "[]\n"));
    assert_eq!(
        read(d.path().join("aks.json")),
        NEEDS_FIX,
        "patch writes nothing"
    );
}

// ---------------------------------------------------------------------------------------
// Which files are read

#[test]
fn walk_honours_gitignore_skips_git_and_enters_other_hidden_folders() {
    let d = tmp();
    write(d.path(), ".gitignore", "ignored.json\nbuild/\n");
    write(d.path(), "ignored.json", NEEDS_FIX);
    write(d.path(), "build/out.json", NEEDS_FIX);
    write(d.path(), ".ignore", "also-ignored.json\n");
    write(d.path(), "also-ignored.json", NEEDS_FIX);
    write(d.path(), ".git/aks.json", NEEDS_FIX);
    write(d.path(), ".github/workflows/aks.json", NEEDS_FIX);
    write(d.path(), ".azure/aks.jsonc", NEEDS_FIX);
    write(d.path(), "main.json", NEEDS_FIX);
    write(d.path(), "aks.template", NEEDS_FIX);
    write(d.path(), "notes.txt", NEEDS_FIX);

    let r = run(d.path(), &["check"]);
    assert_eq!(
        finding_paths(&r.stdout),
        [
            ".azure/aks.jsonc",
            ".github/workflows/aks.json",
            "main.json"
        ]
    );
    let r = run(d.path(), &["check", "--no-ignore"]);
    assert_eq!(
        finding_paths(&r.stdout),
        [
            ".azure/aks.jsonc",
            ".github/workflows/aks.json",
            "also-ignored.json",
            "build/out.json",
            "ignored.json",
            "main.json"
        ]
    );
    // A file named explicitly is read whatever its extension (and even if ignored).
    let r = run(d.path(), &["check", "aks.template", "ignored.json"]);
    assert_eq!(finding_paths(&r.stdout), ["aks.template", "ignored.json"]);
    // And `fix --yes` writes only what the walk found.
    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(d.path().join("ignored.json")), NEEDS_FIX);
    assert_eq!(read(d.path().join(".git/aks.json")), NEEDS_FIX);
    assert_eq!(read(d.path().join("aks.template")), NEEDS_FIX);
    assert_eq!(
        read(d.path().join(".github/workflows/aks.json")),
        NEEDS_FIX_FIXED
    );
}

#[test]
fn include_and_exclude_globs_match_paths_relative_to_the_path_argument() {
    let d = tmp();
    write(d.path(), "infra/main.json", NEEDS_FIX);
    write(d.path(), "infra/modules/aks.json", NEEDS_FIX);
    write(d.path(), "infra/legacy/old.json", NEEDS_FIX);
    write(d.path(), "infra/legacy/deep/older.json", NEEDS_FIX);
    let paths = |args: &[&str]| {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        finding_paths(&run(d.path(), &all).stdout)
    };
    assert_eq!(
        paths(&["infra", "--include", "modules/*.json"]),
        ["infra/modules/aks.json"]
    );
    assert!(
        paths(&["infra", "--include", "infra/modules/*.json"]).is_empty(),
        "globs do not see the PATH argument itself"
    );
    assert_eq!(
        paths(&["infra", "--exclude", "legacy/**"]),
        ["infra/main.json", "infra/modules/aks.json"]
    );
    assert_eq!(
        paths(&["infra", "--include", "main.json", "--include", "legacy/**"]),
        [
            "infra/legacy/deep/older.json",
            "infra/legacy/old.json",
            "infra/main.json"
        ]
    );
    assert_eq!(
        paths(&["infra", "--exclude", "*old*.json"]),
        ["infra/main.json", "infra/modules/aks.json"],
        "`*` crosses folders"
    );
    assert_eq!(
        paths(&["infra/legacy", "--include", "deep/*"]),
        ["infra/legacy/deep/older.json"]
    );
    let r = run(d.path(), &["check", "--include", "[", "infra"]);
    assert_eq!(r.code, 2, "a bad glob is an error");
    assert!(r.stderr.contains('['), "{}", r.stderr);
}

#[test]
fn files_that_cannot_concern_the_rule_are_skipped_silently() {
    let d = tmp();
    write(
        d.path(),
        "aks.parameters.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {"type": {"value": "Microsoft.ContainerService/managedClusters"}}}"#,
    );
    write(
        d.path(),
        "other.json",
        r#"{"resources": [{"type": "Microsoft.ContainerService/managedClusters", "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true}}}}]}"#,
    );
    write(d.path(), "array.json", r#"["managedClusters"]"#);
    // Not JSON, but without the marker it is never parsed.
    write(d.path(), "broken.json", "{ this is not json");
    write(d.path(), "package.json", r#"{"name": "x"}"#);
    let before = tree(d.path());
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "No findings in 5 files.\n");
    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(tree(d.path()), before);
}

// ---------------------------------------------------------------------------------------
// Writing

#[cfg(unix)]
#[test]
fn writing_keeps_permissions_and_leaves_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    for (name, mode) in [("a.json", 0o640), ("b.json", 0o755), ("c.json", 0o600)] {
        let p = write(d.path(), name, NEEDS_FIX);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (name, mode) in [("a.json", 0o640), ("b.json", 0o755), ("c.json", 0o600)] {
        let p = d.path().join(name);
        assert_eq!(read(&p), NEEDS_FIX_FIXED);
        assert_eq!(crate::util::mode(&p), mode, "{name}");
    }
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[cfg(unix)]
#[test]
fn a_symlinked_file_is_fixed_through_the_link() {
    let d = tmp();
    let target = write(d.path(), "real/target.json", NEEDS_FIX);
    std::fs::create_dir(d.path().join("links")).unwrap();
    let link = d.path().join("links/link.json");
    std::os::unix::fs::symlink("../real/target.json", &link).unwrap();

    let r = run(d.path(), &["fix", "--yes", "links/link.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&target), NEEDS_FIX_FIXED);
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_symlink(), "the link is still a link");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../real/target.json")
    );

    // Found by a walk, the link is followed too.
    write(d.path(), "real/target.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--yes", "links"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&target), NEEDS_FIX_FIXED);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[cfg(unix)]
#[test]
fn a_file_reached_twice_is_processed_once() {
    let d = tmp();
    let target = write(d.path(), "target.json", NEEDS_FIX);
    std::os::unix::fs::symlink("target.json", d.path().join("link.json")).unwrap();

    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        finding_paths(&r.stdout),
        ["target.json"],
        "once, under the name that is not a link"
    );

    let r = run(d.path(), &["fix", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&target), NEEDS_FIX_FIXED);

    // The same file named twice in different spellings.
    write(d.path(), "target.json", NEEDS_FIX);
    let r = run(d.path(), &["fix", "--yes", "target.json", "./target.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(&target), NEEDS_FIX_FIXED);
}

// ---------------------------------------------------------------------------------------
// Unsafe fixes (tests/fixtures/formats/unsafe): a parameter that feeds a cluster's rotation
// and a storage account's public access, beside a cluster with a plain "false"

/// A run's exit code, stdout and stderr, for a snapshot.
fn transcript(r: &crate::util::Run, root: &Path) -> String {
    crate::util::stable(
        &format!(
            "exit code: {}\n--- stdout\n{}--- stderr\n{}",
            r.code, r.stdout, r.stderr
        ),
        root,
    )
}

fn unsafe_copy() -> TempDir {
    crate::util::temp_repo_copy(&crate::util::fixtures("formats/unsafe"))
}

const TEMPLATE: &str = "azuredeploy.json";
const SIDE_EFFECT: &str = "    unsafe fix: it also changes `Microsoft.Storage/storageAccounts` \
                           `stflag001` `properties.allowBlobPublicAccess` from false to true\n";

#[test]
fn check_lists_an_unsafe_fixs_side_effects_under_it_and_exits_1() {
    let d = unsafe_copy();
    let r = run(d.path(), &["check", "--color", "never"]);
    assert_eq!(r.code, 1, "a fix held back is a finding: {}", r.stderr);
    assert!(r.stdout.contains(SIDE_EFFECT), "{}", r.stdout);
    snapshot!("formats__unsafe-check", transcript(&r, d.path()));
    // --quiet drops the summary, not the findings' side effects.
    let q = run(d.path(), &["check", "--quiet"]);
    assert_eq!(q.code, 1);
    assert_eq!(q.stdout.lines().count(), 4, "{}", q.stdout);
    assert!(q.stdout.contains(SIDE_EFFECT), "{}", q.stdout);
}

#[test]
fn fix_holds_an_unsafe_fix_back_lists_it_without_a_diff_and_exits_1() {
    let d = unsafe_copy();
    let before = tree(d.path());
    let r = run(d.path(), &["fix", "--dry-run", "--color", "never"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(tree(d.path()), before, "a dry run writes nothing");
    snapshot!("formats__unsafe-dry-run", transcript(&r, d.path()));
    // The held fix is listed before the diff, and the diff leaves it out.
    let diff_at = r.stdout.find("--- a/azuredeploy.json").unwrap();
    assert!(
        r.stdout.find(SIDE_EFFECT).unwrap() < diff_at,
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout[diff_at..].contains("defaultValue"),
        "{}",
        r.stdout
    );

    let r = run(d.path(), &["fix", "--yes", "--color", "never"]);
    assert_eq!(r.code, 1, "held back, so findings remain: {}", r.stderr);
    assert!(r.stdout.contains(SIDE_EFFECT), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("1 unsafe fix held back. An unsafe fix changes more than rotation"),
        "{}",
        r.stderr
    );
    let fixed = read(d.path().join(TEMPLATE));
    assert!(fixed.contains("\"defaultValue\": \"false\""), "{fixed}");
    assert!(
        !fixed.contains("\"enableSecretRotation\": \"false\""),
        "{fixed}"
    );
    // What is left is the unsafe fix, still held back.
    let r = run(d.path(), &["fix", "--yes", "--quiet"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains(SIDE_EFFECT), "{}", r.stdout);
    assert!(
        !r.stdout.contains("held back"),
        "--quiet: no note: {}",
        r.stdout
    );
    assert_eq!(r.stderr, "", "--quiet: no summary");
}

#[test]
fn unsafe_fixes_shows_the_side_effects_above_the_diff_and_writes_it() {
    let d = unsafe_copy();
    let r = run(
        d.path(),
        &["fix", "--yes", "--unsafe-fixes", "--color", "never"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot!(
        "formats__unsafe-write-unsafe-fixes",
        transcript(&r, d.path())
    );
    let diff_at = r.stdout.find("--- a/azuredeploy.json").unwrap();
    assert!(
        r.stdout.find(SIDE_EFFECT).unwrap() < diff_at,
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("held back"), "{}", r.stdout);
    let fixed = read(d.path().join(TEMPLATE));
    assert!(fixed.contains("\"defaultValue\": \"true\""), "{fixed}");
    assert_eq!(run(d.path(), &["check"]).code, 0, "nothing left");
}

#[test]
fn fix_stdin_and_patch_say_what_they_hold_back() {
    let d = unsafe_copy();
    let input = read(d.path().join(TEMPLATE));
    let r = run_stdin(d.path(), &["fix", "-"], input.clone());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("\"defaultValue\": \"false\""));
    assert!(!r.stdout.contains("\"enableSecretRotation\": \"false\""));
    assert!(r.stderr.starts_with("<stdin>:11:95: "), "{}", r.stderr);
    assert!(r.stderr.contains(SIDE_EFFECT), "{}", r.stderr);
    assert!(r.stderr.contains("held back: "), "{}", r.stderr);

    let r = run_stdin(d.path(), &["fix", "--unsafe-fixes", "-"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"defaultValue\": \"true\""));
    assert!(
        r.stderr.contains(SIDE_EFFECT),
        "the side effects it made: {}",
        r.stderr
    );

    let r = run(d.path(), &["patch", TEMPLATE]);
    assert_eq!(r.code, 0);
    assert!(!r.stdout.contains("defaultValue"), "{}", r.stdout);
    assert!(r.stderr.contains(SIDE_EFFECT), "{}", r.stderr);
    assert!(r.stderr.contains("held back: "), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------
// A reader that goes away (`armfix check | head`)

/// Runs `armfix ARGS` in `dir` with standard output a pipe whose reader is closed before
/// armfix writes anything; returns the exit code and standard error.
fn run_into_closed_pipe(dir: &Path, args: &[&str]) -> (i32, String) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::util::BIN)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
        "{args:?}: {stderr}"
    );
    (
        out.status.code().expect("armfix exited, not killed"),
        stderr,
    )
}

/// A folder of `n` templates that each need a fix.
fn many_to_fix(n: usize) -> TempDir {
    let d = tmp();
    for i in 0..n {
        write(d.path(), &format!("t{i:02}.json"), NEEDS_FIX);
    }
    d
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_the_runs_own_exit_code() {
    let d = many_to_fix(30);
    let cases: [(&[&str], i32); 9] = [
        (&["check", "."], 1),
        (&["check", "--format", "json", "."], 1),
        (&["check", "--format", "sarif", "."], 1),
        (&["fix", "--dry-run", "."], 1),
        (&["patch", "t00.json"], 0),
        (&["man"], 0),
        (&["completions", "bash"], 0),
        (&["--help"], 0),
        (&["check", "--help"], 0),
    ];
    for (args, code) in cases {
        let (got, _) = run_into_closed_pipe(d.path(), args);
        assert_eq!(got, code, "{args:?}");
    }
    assert!(
        tree(d.path())
            .iter()
            .all(|(_, bytes)| bytes == NEEDS_FIX.as_bytes()),
        "nothing was written"
    );
}

#[test]
fn fix_yes_into_a_closed_pipe_still_writes_every_file() {
    let d = many_to_fix(30);
    let (code, stderr) = run_into_closed_pipe(d.path(), &["fix", "--yes", "."]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr.matches("armfix: wrote ").count(), 30, "{stderr}");
    for (name, bytes) in tree(d.path()) {
        assert_eq!(String::from_utf8(bytes).unwrap(), NEEDS_FIX_FIXED, "{name}");
    }
}

/// The shell pipelines of the issue, `head` closing the pipe after one line, also when
/// standard error shares the pipe (`2>&1`).
#[test]
fn shell_pipelines_into_head_end_quietly_and_write_every_file() {
    for redirect in ["", "2>&1"] {
        let d = many_to_fix(40);
        let script = format!(
            "\"$0\" fix --yes . {redirect} | head -1 >/dev/null; echo \"fix=${{PIPESTATUS[0]}}\"; \
             \"$0\" check . {redirect} | head -1 >/dev/null; echo \"check=${{PIPESTATUS[0]}}\"; \
             \"$0\" man {redirect} | head -1 >/dev/null; echo \"man=${{PIPESTATUS[0]}}\""
        );
        let out = std::process::Command::new("bash")
            .current_dir(d.path())
            .args(["-c", &script, crate::util::BIN])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stdout, "fix=0\ncheck=0\nman=0\n", "{redirect}: {stderr}");
        assert!(
            !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
            "{redirect}: {stderr}"
        );
        for (name, bytes) in tree(d.path()) {
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                NEEDS_FIX_FIXED,
                "{redirect}: {name}"
            );
        }
    }
}

/// `--summary-md FILE` that cannot be written stops the run before anything is read or
/// written, for `check` and `fix` alike; one that can is left as it was until the run ends.
#[test]
fn summary_md_is_checked_before_anything_is_written() {
    let d = many_to_fix(3);
    std::fs::create_dir(d.path().join("folder")).unwrap();
    let before = tree(d.path());
    for target in ["no/such/folder/s.md", "folder"] {
        for cmd in [&["fix", "--yes"][..], &["check"][..]] {
            let args: Vec<&str> = cmd
                .iter()
                .copied()
                .chain(["--summary-md", target])
                .collect();
            let r = run(d.path(), &args);
            assert_eq!(r.code, 2, "{args:?}");
            assert_eq!(r.stdout, "", "{args:?}: nothing was shown");
            assert!(
                r.stderr.starts_with(&format!(
                    "armfix: error: cannot write the summary to {target}: "
                )),
                "{args:?}: {}",
                r.stderr
            );
            assert!(!r.stderr.contains("wrote"), "{}", r.stderr);
            assert_eq!(tree(d.path()), before, "{args:?}: nothing was written");
        }
    }
    // A summary that can be written: checked without a trace, then written at the end.
    let r = run(d.path(), &["fix", "--yes", "--summary-md", "s.md"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(read(d.path().join("s.md")).contains("armfix"));
    assert_eq!(read(d.path().join("t00.json")), NEEDS_FIX_FIXED);
}

/// A Markdown file, Makefile or Dockerfile named on the command line is not read, and a
/// warning says so: a README mentioning managedClusters was parsed as JSON (exit 2, "unexpected
/// character `#`"), and a Makefile holding `az aks create` said "No findings in 1 file".
#[test]
fn a_named_file_of_a_kind_armfix_does_not_read_is_said_so() {
    let d = tmp();
    let az = "az aks create -g rg -n x --enable-addons azure-keyvault-secrets-provider\n";
    for (name, text, what) in [
        (
            "README.md",
            "# Microsoft.ContainerService/managedClusters\n".to_string(),
            "Markdown",
        ),
        ("docs/notes.markdown", format!("    {az}"), "Markdown"),
        ("Makefile", format!("deploy:\n\t{az}"), "Makefiles"),
        ("build/aks.mk", format!("deploy:\n\t{az}"), "Makefiles"),
        ("Dockerfile", format!("FROM x\nRUN {az}"), "Dockerfiles"),
        ("Dockerfile.dev", format!("FROM x\nRUN {az}"), "Dockerfiles"),
    ] {
        write(d.path(), name, &text);
        for cmd in ["check", "fix"] {
            let r = run(d.path(), &[cmd, "--color", "never", name]);
            assert_eq!(r.code, 0, "{cmd} {name}: {}", r.stderr);
            assert_eq!(r.stdout, "", "{cmd} {name}");
            assert!(
                r.stderr.contains(&format!(
                    "no file read from {name}: armfix does not read {what}"
                )),
                "{cmd} {name}: {}",
                r.stderr
            );
            assert!(r.stderr.contains("No file was read."), "{}", r.stderr);
        }
        assert_eq!(read(d.path().join(name)), text);
    }
    // A template with any other name is still read as JSON, and a named script by its #! line.
    write(d.path(), "azuredeploy.template", NEEDS_FIX);
    let r = run(d.path(), &["check", "azuredeploy.template"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    write(d.path(), "bin/deploy", format!("#!/bin/bash\n{az}"));
    let r = run(d.path(), &["check", "bin/deploy"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}
