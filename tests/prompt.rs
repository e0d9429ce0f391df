//! The interactive review, driven through a pseudo-terminal as a person would use it: after
//! each diff `armfix fix` asks `Apply this fix to PATH? [y]es/[n]o/[a]ll/[q]uit:` and reads a
//! line. Also the colour default at a terminal and `NO_COLOR`.

use crate::util::{read, write, BIN, NEEDS_FIX, NEEDS_FIX_FIXED};
use rexpect::process::wait::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

fn prompt(path: &str) -> String {
    format!("Apply this fix to {path}? [y]es/[n]o/[a]ll/[q]uit:")
}

/// `armfix ARGS` in `dir` at a terminal (stdin, stdout and stderr all on the pty).
fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> PtySession {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    spawn_with_options(
        cmd,
        Options {
            timeout_ms: Some(30_000),
            strip_ansi_escape_codes: false,
        },
    )
    .expect("armfix starts in a pseudo-terminal")
}

/// Reads to the end; returns the rest of the output and the exit code.
fn finish(mut p: PtySession) -> (String, i32) {
    let rest = p.exp_eof().expect("armfix ends");
    match p.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => (rest, code),
        other => panic!("armfix did not exit normally: {other:?}"),
    }
}

/// A folder `infra/` with one template per name, each needing a fix.
fn infra(names: &[&str]) -> TempDir {
    let d = tempfile::tempdir().unwrap();
    for n in names {
        write(d.path(), &format!("infra/{n}"), NEEDS_FIX);
    }
    d
}

fn file(d: &TempDir, name: &str) -> String {
    read(d.path().join("infra").join(name))
}

#[test]
fn no_then_yes_writes_only_the_second_file_and_exits_1() {
    let d = infra(&["a.json", "b.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string("+++ b/infra/a.json").unwrap();
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("n").unwrap();
    p.exp_string("+++ b/infra/b.json").unwrap();
    p.exp_string(&prompt("infra/b.json")).unwrap();
    p.send_line("y").unwrap();
    p.exp_string("wrote infra/b.json").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "a fix was declined: {rest}");
    assert!(rest.contains("Fixed 1 of 2"), "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX, "declined: unchanged");
    assert_eq!(file(&d, "b.json"), NEEDS_FIX_FIXED, "accepted: fixed");
}

#[test]
fn all_writes_this_and_every_later_file_without_asking_again() {
    let d = infra(&["a.json", "b.json", "c.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("a").unwrap();
    let (rest, code) = finish(p);
    assert!(!rest.contains("Apply this fix"), "asked again: {rest}");
    assert!(rest.contains("+++ b/infra/c.json"), "later diffs are shown");
    assert_eq!(code, 0, "everything was written: {rest}");
    for n in ["a.json", "b.json", "c.json"] {
        assert_eq!(file(&d, n), NEEDS_FIX_FIXED, "{n}");
    }
}

#[test]
fn quit_skips_this_and_every_later_file() {
    let d = infra(&["a.json", "b.json", "c.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("yes").unwrap();
    p.exp_string(&prompt("infra/b.json")).unwrap();
    p.send_line("q").unwrap();
    let (rest, code) = finish(p);
    assert!(!rest.contains("Apply this fix"), "asked after quit: {rest}");
    assert_eq!(code, 1, "fixes remain: {rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX_FIXED);
    assert_eq!(file(&d, "b.json"), NEEDS_FIX);
    assert_eq!(file(&d, "c.json"), NEEDS_FIX);
}

#[test]
fn enter_alone_means_no() {
    let d = infra(&["a.json", "b.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("").unwrap();
    p.exp_string(&prompt("infra/b.json")).unwrap();
    p.send_line("").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "{rest}");
    assert!(!rest.contains("wrote"), "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX);
    assert_eq!(file(&d, "b.json"), NEEDS_FIX);
}

#[test]
fn an_unknown_answer_asks_again() {
    let d = infra(&["a.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("maybe").unwrap();
    p.exp_string("type y, n, a or q").unwrap();
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("Y").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX_FIXED);
}

#[test]
fn end_of_input_at_the_prompt_writes_nothing_more() {
    let d = infra(&["a.json", "b.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_control('d').unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "{rest}");
    assert!(!rest.contains("Apply this fix"), "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX);
    assert_eq!(file(&d, "b.json"), NEEDS_FIX);
}

#[test]
fn yes_and_dry_run_never_ask_even_at_a_terminal() {
    let d = infra(&["a.json"]);
    let (rest, code) = finish(spawn(d.path(), &["fix", "--dry-run", "infra"], &[]));
    assert_eq!(code, 1);
    assert!(!rest.contains("Apply this fix"), "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX);
    let (rest, code) = finish(spawn(d.path(), &["fix", "--yes", "infra"], &[]));
    assert_eq!(code, 0, "{rest}");
    assert!(!rest.contains("Apply this fix"), "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX_FIXED);
}

#[test]
fn colour_by_default_at_a_terminal_unless_no_color_or_never() {
    let d = infra(&["a.json"]);
    let (out, _) = finish(spawn(d.path(), &["fix", "--dry-run", "infra"], &[]));
    assert!(out.contains("\x1b[32m+"), "coloured at a terminal: {out:?}");
    let (out, _) = finish(spawn(
        d.path(),
        &["fix", "--dry-run", "infra"],
        &[("NO_COLOR", "1")],
    ));
    assert!(out.contains("+++ b/infra/a.json"));
    assert!(!out.contains('\x1b'), "NO_COLOR: {out:?}");
    let (out, _) = finish(spawn(
        d.path(),
        &["fix", "--dry-run", "--color", "never", "infra"],
        &[],
    ));
    assert!(out.contains("+++ b/infra/a.json"));
    assert!(!out.contains('\x1b'), "--color never: {out:?}");
}
