//! The interactive review, driven through a pseudo-terminal as a person would use it: after
//! each finding's block and its hunks `armfix fix` asks `(N/T) Apply this fix to PATH
//! [y,n,a,d,q,e,?] (Enter: n)?` and reads a line; every key is exercised here. Also what
//! happens when only standard input is a terminal, word emphasis and narrow terminals, and
//! the colour default at a terminal and `NO_COLOR`.

use crate::util::{fixtures, read, write, BIN, NEEDS_FIX, NEEDS_FIX_FIXED};
use rexpect::process::wait::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

/// The question about a fix to `path`, whatever its number.
fn prompt(path: &str) -> String {
    format!("Apply this fix to {path} [y,n,a,d,q,e,?] (Enter: n)? ")
}

/// The question with its number: `(n/total) Apply this fix to PATH ...`.
fn numbered(n: usize, total: usize, path: &str) -> String {
    format!("({n}/{total}) {}", prompt(path))
}

/// `armfix ARGS` in `dir` at a terminal (stdin, stdout and stderr all on the pty).
fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> PtySession {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("VISUAL")
        .env_remove("EDITOR")
        .env_remove("COLUMNS");
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
    p.exp_string("type y, n, a, d, q, e or ? (help)").unwrap();
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

/// A folder `infra/` holding the review fixture `name` as `infra/aks.json`.
fn review_fixture(name: &str) -> (TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    let text = read(fixtures("review").join(name));
    write(d.path(), "infra/aks.json", &text);
    (d, text)
}

/// Runs `armfix fix --yes` on a copy of the review fixture `name`: the file as fixed whole.
fn fixed_whole(name: &str) -> String {
    let (d, _) = review_fixture(name);
    let r = crate::util::run(d.path(), &["fix", "--yes", "infra"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    file(&d, "aks.json")
}

#[test]
fn a_file_with_two_clusters_gets_two_questions_each_with_its_reason_and_its_hunks_only() {
    let (d, original) = review_fixture("two-clusters.json");
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    // First finding: where, which cluster, what is wrong, where the fix lands, how safe.
    let first = p.exp_string(&numbered(1, 2, "infra/aks.json")).unwrap();
    assert!(first.contains("infra/aks.json:15:39: Azure.AKS.SecretStoreRotation: `enableSecretRotation` is \"false\""), "{first}");
    assert!(first.contains("    cluster: `aks-east`\r\n"), "{first}");
    assert!(first.contains("    fix: in the cluster\r\n"), "{first}");
    assert!(
        first.contains("    safe fix: it changes only the rotation setting"),
        "{first}"
    );
    assert_eq!(
        first.matches("@@ -").count(),
        1,
        "only this finding's hunk: {first}"
    );
    assert!(!first.contains("aks-west"), "{first}");
    p.send_line("n").unwrap();
    p.exp_string("skipped infra/aks.json:15:39").unwrap();
    let second = p.exp_string(&numbered(2, 2, "infra/aks.json")).unwrap();
    assert!(second.contains("    cluster: `aks-west`\r\n"), "{second}");
    assert_eq!(second.matches("@@ -").count(), 1, "{second}");
    assert!(
        !second.contains("\"false\""),
        "not the first finding's hunk: {second}"
    );
    p.send_line("y").unwrap();
    p.exp_string("wrote infra/aks.json (1 of its 2 fixes)")
        .unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "a fix was declined: {rest}");
    assert!(rest.contains("Fixed 1 of 2"), "{rest}");
    let now = file(&d, "aks.json");
    assert!(
        now.contains("\"enableSecretRotation\": \"false\""),
        "declined: {now}"
    );
    assert_eq!(
        now.matches("\"enableSecretRotation\": \"true\"").count(),
        1,
        "{now}"
    );
    assert_ne!(now, original);
    // Accepting both writes exactly what `fix --yes` writes.
    let (d, _) = review_fixture("two-clusters.json");
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&numbered(1, 2, "infra/aks.json")).unwrap();
    p.send_line("y").unwrap();
    p.exp_string(&numbered(2, 2, "infra/aks.json")).unwrap();
    p.send_line("y").unwrap();
    p.exp_string("wrote infra/aks.json\r\n").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(file(&d, "aks.json"), fixed_whole("two-clusters.json"));
}

#[test]
fn fixes_that_are_only_safe_together_are_not_written_apart() {
    // Each parameter default feeds one cluster's rotation, and both feed a storage
    // account's `allowBlobPublicAccess` as `not(equals(a, b))`: either fix alone opens the
    // account; both together change nothing but rotation.
    let (d, original) = review_fixture("only-safe-together.json");
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&numbered(1, 2, "infra/aks.json")).unwrap();
    p.send_line("y").unwrap();
    p.exp_string(&numbered(2, 2, "infra/aks.json")).unwrap();
    p.send_line("n").unwrap();
    p.exp_string("not written").unwrap();
    let why = p.exp_string("their findings stand").unwrap();
    assert!(
        why.contains("allowBlobPublicAccess"),
        "the side effect is named: {why}"
    );
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "{rest}");
    assert_eq!(file(&d, "aks.json"), original, "nothing written");
    // Together they are written.
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&numbered(1, 2, "infra/aks.json")).unwrap();
    p.send_line("y").unwrap();
    p.exp_string(&numbered(2, 2, "infra/aks.json")).unwrap();
    p.send_line("y").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(file(&d, "aks.json"), fixed_whole("only-safe-together.json"));
}

#[test]
fn questions_are_numbered_across_files() {
    let d = infra(&["a.json", "b.json", "c.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&numbered(1, 3, "infra/a.json")).unwrap();
    p.send_line("").unwrap();
    p.exp_string(&numbered(2, 3, "infra/b.json")).unwrap();
    p.send_line("").unwrap();
    p.exp_string(&numbered(3, 3, "infra/c.json")).unwrap();
    p.send_line("").unwrap();
    let (_, code) = finish(p);
    assert_eq!(code, 1);
}

#[test]
fn enter_alone_is_no_and_the_prompt_and_the_skip_say_so() {
    let d = infra(&["a.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string("(Enter: n)? ").unwrap();
    p.send_line("").unwrap();
    p.exp_string("armfix: skipped infra/a.json:").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX);
}

#[test]
fn d_skips_the_rest_of_this_file_and_goes_on_with_the_next() {
    let (d, original) = review_fixture("two-clusters.json");
    write(d.path(), "infra/z.json", NEEDS_FIX);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&numbered(1, 3, "infra/aks.json")).unwrap();
    p.send_line("d").unwrap();
    p.exp_string("skipped infra/aks.json:15:39").unwrap();
    p.exp_string("skipped infra/aks.json:").unwrap();
    let shown = p.exp_string(&numbered(3, 3, "infra/z.json")).unwrap();
    assert!(
        !shown.contains("Apply this fix to infra/aks.json"),
        "{shown}"
    );
    p.send_line("y").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "{rest}");
    assert_eq!(file(&d, "aks.json"), original);
    assert_eq!(file(&d, "z.json"), NEEDS_FIX_FIXED);
}

#[test]
fn a_in_the_middle_of_a_file_applies_its_rest_and_every_later_file() {
    let (d, _) = review_fixture("two-clusters.json");
    write(d.path(), "infra/z.json", NEEDS_FIX);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&numbered(1, 3, "infra/aks.json")).unwrap();
    p.send_line("a").unwrap();
    let (rest, code) = finish(p);
    assert!(!rest.contains("Apply this fix"), "asked again: {rest}");
    assert!(
        rest.contains("cluster: `aks-west`"),
        "later fixes are shown: {rest}"
    );
    assert!(rest.contains("+++ b/infra/z.json"), "{rest}");
    assert_eq!(code, 0, "{rest}");
    assert_eq!(file(&d, "aks.json"), fixed_whole("two-clusters.json"));
    assert_eq!(file(&d, "z.json"), NEEDS_FIX_FIXED);
}

#[test]
fn q_writes_what_was_accepted_and_prints_nothing_more() {
    let (d, _) = review_fixture("two-clusters.json");
    write(d.path(), "infra/z.json", NEEDS_FIX);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&numbered(1, 3, "infra/aks.json")).unwrap();
    p.send_line("y").unwrap();
    p.exp_string(&numbered(2, 3, "infra/aks.json")).unwrap();
    p.send_line("q").unwrap();
    let (rest, code) = finish(p);
    // Nothing but the echo of the answer is left on the terminal.
    assert!(matches!(rest.trim(), "" | "q"), "printed after q: {rest:?}");
    assert_eq!(code, 1);
    let now = file(&d, "aks.json");
    assert!(
        !now.contains("\"false\""),
        "the accepted fix is written: {now}"
    );
    assert_eq!(
        now.matches("enableSecretRotation").count(),
        1,
        "the second fix is not: {now}"
    );
    assert_eq!(file(&d, "z.json"), NEEDS_FIX);
}

#[test]
fn question_mark_prints_the_help_and_asks_again() {
    let d = infra(&["a.json"]);
    let mut p = spawn(d.path(), &["fix", "--color", "never", "infra"], &[]);
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("?").unwrap();
    for key in ["y - ", "n - ", "a - ", "d - ", "q - ", "e - ", "? - "] {
        p.exp_string(key).unwrap();
    }
    p.exp_string(&prompt("infra/a.json")).unwrap();
    p.send_line("y").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX_FIXED);
}

/// An editor script that records its arguments in `args.txt` and makes the file's
/// rotation values true (the first argument after `+LINE` is the file).
fn editor(d: &Path) -> String {
    let script = d.join("editor.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args.txt\"\n\
         sed -i 's/\"enableSecretRotation\": \"false\"/\"enableSecretRotation\": \"true\"/' \"$2\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script.display().to_string()
}

#[test]
fn e_opens_the_editor_at_the_line_then_reads_and_checks_the_file_again() {
    let (d, _) = review_fixture("two-clusters.json");
    let ed = editor(d.path());
    let mut p = spawn(
        d.path(),
        &["fix", "--color", "never", "infra"],
        &[("VISUAL", &ed), ("EDITOR", "false")],
    );
    p.exp_string(&numbered(1, 2, "infra/aks.json")).unwrap();
    p.send_line("e").unwrap();
    // The editor fixed the first cluster by hand: one question is left, about the second.
    let again = p.exp_string(&numbered(2, 2, "infra/aks.json")).unwrap();
    assert!(again.contains("cluster: `aks-west`"), "{again}");
    assert!(!again.contains("aks-east"), "{again}");
    p.send_line("y").unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 0, "{rest}");
    let args = read(d.path().join("args.txt"));
    assert_eq!(
        args, "+15\ninfra/aks.json\n",
        "VISUAL, at the finding's line"
    );
    assert_eq!(file(&d, "aks.json"), fixed_whole("two-clusters.json"));
}

#[test]
fn e_writes_the_fixes_accepted_before_it_and_a_file_left_clean_says_so() {
    let (d, _) = review_fixture("two-clusters.json");
    std::fs::write(
        d.path().join("fixed.json"),
        fixed_whole("two-clusters.json"),
    )
    .unwrap();
    // This editor keeps what it was given, then writes the whole fix itself.
    let script = d.path().join("editor.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nd=\"$(dirname \"$0\")\"\ncp \"$2\" \"$d/given.json\"\ncp \"$d/fixed.json\" \"$2\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ed = script.display().to_string();
    let mut p = spawn(
        d.path(),
        &["fix", "--color", "never", "infra"],
        &[("EDITOR", &ed)],
    );
    p.exp_string(&numbered(1, 2, "infra/aks.json")).unwrap();
    p.send_line("y").unwrap();
    p.exp_string(&numbered(2, 2, "infra/aks.json")).unwrap();
    p.send_line("e").unwrap();
    p.exp_string("infra/aks.json: no findings left").unwrap();
    let (rest, code) = finish(p);
    assert!(!rest.contains("Apply"), "{rest}");
    assert_eq!(code, 0, "{rest}");
    let given = read(d.path().join("given.json"));
    assert!(
        !given.contains("\"false\""),
        "the accepted fix was written first: {given}"
    );
    assert!(
        given.contains("\"enabled\": true\n"),
        "the skipped one was not: {given}"
    );
}

#[test]
fn only_standard_input_at_a_terminal_shows_the_diffs_and_asks_nothing() {
    let d = infra(&["a.json"]);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("'{BIN}' fix --color never infra > out.txt"))
        .current_dir(d.path())
        .env_remove("VISUAL")
        .env_remove("EDITOR");
    let p = spawn_with_options(
        cmd,
        Options {
            timeout_ms: Some(30_000),
            strip_ansi_escape_codes: false,
        },
    )
    .unwrap();
    let (rest, code) = finish(p);
    assert_eq!(code, 1, "{rest}");
    assert!(!rest.contains("Apply"), "{rest}");
    assert!(rest.contains("standard output is not a terminal"), "{rest}");
    assert!(rest.contains("to write these fixes, run: "), "{rest}");
    assert!(rest.contains("fix --yes --color never infra"), "{rest}");
    let out = read(d.path().join("out.txt"));
    assert!(
        out.contains("infra/a.json:9:43: Azure.AKS.SecretStoreRotation"),
        "{out}"
    );
    assert!(out.contains("+++ b/infra/a.json"), "{out}");
    assert_eq!(file(&d, "a.json"), NEEDS_FIX);
}

#[test]
fn changed_words_are_emphasised_and_long_lines_fit_a_narrow_terminal() {
    let d = tempfile::tempdir().unwrap();
    let text = read(fixtures("review").join("two-clusters.json"));
    // One minified line of about 600 characters, with the change in its middle.
    let filler: String = (0..40)
        .map(|i| format!("\"tag{i}\": \"value-{i}\", "))
        .collect();
    let long = text.replace(
        "\"location\": \"eastus\",",
        &format!("\"tags\": {{{filler}\"last\": 1}}, \"location\": \"eastus\","),
    );
    let minified: String = long.lines().map(str::trim).collect::<Vec<_>>().join("");
    write(d.path(), "infra/aks.json", &minified);
    let mut p = spawn(d.path(), &["fix", "infra"], &[("COLUMNS", "60")]);
    let shown = p.exp_string("Apply this fix").unwrap();
    p.send_line("q").unwrap();
    finish(p);
    assert!(
        shown.contains("\x1b[7mtrue\x1b[27m"),
        "the changed word: {shown:?}"
    );
    assert!(shown.contains("\x1b[7mfalse\x1b[27m"), "{shown:?}");
    for line in shown
        .split("\r\n")
        .filter(|l| l.starts_with("\x1b[31m-") || l.starts_with("\x1b[32m+"))
    {
        let visible: String = strip(line);
        assert!(
            visible.chars().count() <= 60,
            "wider than the terminal: {visible}"
        );
        assert!(visible.contains('…'), "{visible}");
    }
    // Without colour (a pipe, a file) the lines stay whole, for `git apply`.
    let r = crate::util::run(d.path(), &["fix", "--dry-run", "--color", "never", "infra"]);
    assert!(
        r.stdout
            .contains(&minified.replace("\"false\"", "\"true\"")[..200]),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains('…'));
}

/// `s` without its ANSI colour sequences (`…` read back as one character: the session
/// reads the terminal byte by byte, as Latin-1).
fn strip(s: &str) -> String {
    let s = s.replace("\u{e2}\u{80}\u{a6}", "…");
    let mut chars = s.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
