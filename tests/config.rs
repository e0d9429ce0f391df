//! armfix.toml: found upward from the working folder up to the repository's root, overridden
//! by flags, `--no-config` and `--config`; a bad file is an error with its place.

use crate::util::{read, run, write, CLEAN, MANUAL, NEEDS_FIX, NEEDS_FIX_FIXED};

#[test]
fn config_file_is_found_upward_and_flags_override_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "infra/a.json", NEEDS_FIX);
    write(d.path(), "legacy/b.json", NEEDS_FIX);
    write(
        d.path(),
        "armfix.toml",
        "exclude = [\"legacy/**\"]\nformat = \"github\"\ncolor = \"always\"\n",
    );
    let sub = d.path().join("infra");
    // Found from a subfolder; the excluded file is not read; the format is github.
    let r = run(&sub, &["check", ".."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("::warning file=../infra/a.json,"),
        "{}",
        r.stdout
    );
    // Flags win: --format, --exclude (replaces the file's list), --color.
    let r = run(
        d.path(),
        &[
            "fix",
            "--dry-run",
            "--format",
            "text",
            "--exclude",
            "none",
            "--color",
            "never",
        ],
    );
    assert!(r.stdout.contains("--- a/legacy/b.json"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'));
    let r = run(d.path(), &["fix", "--dry-run", "--format", "text"]);
    assert!(r.stdout.contains('\x1b'), "color = always from the file");
    // --no-config ignores it; --config names another.
    let r = run(d.path(), &["check", "--no-config"]);
    assert!(r.stdout.contains("legacy/b.json:9:43"), "{}", r.stdout);
    write(d.path(), "other.toml", "include = [\"legacy/**\"]\n");
    let r = run(d.path(), &["check", "--config", "other.toml"]);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.starts_with("legacy/b.json:9:43"), "{}", r.stdout);
}

#[test]
fn config_force_literal_applies_and_a_flag_turns_it_off() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "a.json", MANUAL);
    let r = run(d.path(), &["check"]);
    assert!(r.stdout.contains("manual review"), "{}", r.stdout);
    write(d.path(), "armfix.toml", "force-literal = true\n");
    let r = run(d.path(), &["check"]);
    // Overwriting a `config` computed from an undeclared parameter may drop whatever it held
    // besides rotation: the forced fix is unsafe.
    assert!(r.stderr.contains("1 unsafe fix held back"), "{}", r.stderr);
    let r = run(d.path(), &["check", "--no-force-literal"]);
    assert!(r.stderr.contains("1 needs manual review"), "{}", r.stderr);
}

#[test]
fn a_bad_config_file_is_an_error_with_its_place() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "a.json", CLEAN);
    write(d.path(), "armfix.toml", "format = \"json\"\nfromat = 1\n");
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("armfix.toml:2:1: "), "{}", r.stderr);
    assert!(r.stderr.contains("fromat"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
}

/// `--force-exclude` (ruff's flag, for pre-commit): armfix.toml's `exclude` (or `--exclude`)
/// also applies to files named on the command line, matched against their path from the
/// working folder, however it is spelled; without it a named file is always read.
#[test]
fn force_exclude_applies_exclude_to_named_files() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "armfix.toml", "exclude = [\"legacy/**\"]\n");
    write(d.path(), "legacy/old.json", NEEDS_FIX);
    write(d.path(), "infra/new.json", NEEDS_FIX);
    let abs = d.path().join("legacy/old.json");
    let abs = abs.to_str().unwrap();
    // Named without the flag: read.
    let r = run(d.path(), &["check", "legacy/old.json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.starts_with("legacy/old.json:"), "{}", r.stdout);
    for named in ["legacy/old.json", "./legacy/old.json", abs] {
        let r = run(
            d.path(),
            &["fix", "--yes", "--force-exclude", named, "infra/new.json"],
        );
        assert_eq!(r.code, 0, "{named}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "armfix: warning: no file read from {named}: excluded by `legacy/**` (--force-exclude)"
            )),
            "{named}: {}",
            r.stderr
        );
        assert!(!r.stdout.contains("legacy"), "{}", r.stdout);
        assert_eq!(read(d.path().join("legacy/old.json")), NEEDS_FIX, "{named}");
        assert_eq!(read(d.path().join("infra/new.json")), NEEDS_FIX_FIXED);
        write(d.path(), "infra/new.json", NEEDS_FIX);
    }
    // The flag's patterns from the command line, and the setting in the file.
    let r = run(
        d.path(),
        &[
            "check",
            "--force-exclude",
            "--exclude",
            "infra/*",
            "infra/new.json",
        ],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    write(
        d.path(),
        "armfix.toml",
        "exclude = [\"legacy/**\"]\nforce-exclude = true\n",
    );
    let r = run(d.path(), &["check", "legacy/old.json"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert!(r.stderr.contains("excluded by `legacy/**`"), "{}", r.stderr);
}

/// A pattern given on the command line that matches no file is warned about (patterns from
/// armfix.toml are not: a repository's list need not match under every PATH); so is a PATH
/// from which no file is read, with the reason.
#[test]
fn patterns_that_match_nothing_and_paths_that_give_no_file_are_warned_about() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "infra/a.json", NEEDS_FIX);
    write(d.path(), "docs/readme.txt", "managedClusters");
    std::fs::create_dir(d.path().join("empty")).unwrap();
    let warning = |glob: &str, flag: &str| {
        format!("armfix: warning: {flag} `{glob}` matches no file (patterns match the path")
    };
    let r = run(
        d.path(),
        &[
            "check",
            "--include",
            "infra/**",
            "--include",
            "infra",
            "--exclude",
            "*.bicep",
            ".",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("`infra/**`"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&warning("infra", "--include")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&warning("*.bicep", "--exclude")),
        "{}",
        r.stderr
    );
    // The same patterns from armfix.toml: no warning.
    write(
        d.path(),
        "armfix.toml",
        "include = [\"infra/**\", \"infra\"]\nexclude = [\"*.bicep\"]\n",
    );
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    // A folder without a file armfix reads, one whose files the patterns all leave out.
    let r = run(
        d.path(),
        &["check", "--no-config", "empty", "docs", "infra"],
    );
    assert_eq!(r.code, 1);
    for path in ["empty", "docs"] {
        assert!(
            r.stderr.contains(&format!(
                "armfix: warning: no file read from {path}: it holds no file of a kind armfix reads"
            )),
            "{}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("from infra"), "{}", r.stderr);
    let r = run(
        d.path(),
        &["check", "--no-config", "--exclude", "*.json", "infra"],
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains(
            "armfix: warning: no file read from infra: --include/--exclude left out all 1 file"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.ends_with("No file was read.\n"), "{}", r.stderr);
    // --quiet drops warnings with the other notes.
    let r = run(d.path(), &["check", "-q", "--no-config", "empty"]);
    assert_eq!(r.stderr, "");
}
