//! What the binary says about itself: shell completions, the man page, `--version` and
//! `--help`.

use crate::util::run;

#[test]
fn completions_man_version_and_help() {
    let d = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef armfix"),
        ("fish", "complete -c armfix"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let r = run(d.path(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}");
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..200.min(r.stdout.len())]
        );
        assert!(r.stdout.contains("summary-md"), "{shell}");
    }
    let r = run(d.path(), &["man"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &r.stdout[..100]
    );
    assert!(r.stdout.contains(".TH armfix 1"), "roff");
    let r = run(d.path(), &["--version"]);
    assert_eq!(r.stdout, format!("armfix {}\n", env!("CARGO_PKG_VERSION")));
    let r = run(d.path(), &["check", "--help"]);
    assert!(r.stdout.contains("--format <FORMAT>"), "{}", r.stdout);
    for value in ["- text:", "- json:", "- sarif:", "- github:"] {
        assert!(r.stdout.contains(value), "{value}");
    }
    let r = run(d.path(), &["--help"]);
    assert!(
        r.stdout.contains("armfix check --format sarif"),
        "{}",
        r.stdout
    );
}
