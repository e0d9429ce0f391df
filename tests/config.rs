//! armfix.toml: found upward from the working folder up to the repository's root, overridden
//! by flags, `--no-config` and `--config`; a bad file is an error with its place.

use crate::util::{run, write, CLEAN, MANUAL, NEEDS_FIX};

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
