//! What the binary says about itself: shell completions, the man page, `--version` and
//! `--help`.

use crate::util::run;
use armfix::cli::Cli;
use clap::CommandFactory;

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
        r.stdout.starts_with(".TH ARMFIX 1 "),
        "roff: {}",
        &r.stdout[..100]
    );
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

/// The subcommands a user sees, with the long options each offers.
fn subcommands() -> Vec<(String, Vec<String>)> {
    let mut cmd = Cli::command();
    cmd.build();
    cmd.get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| {
            let longs = s
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(str::to_string))
                .filter(|l| l != "help")
                .collect();
            (s.get_name().to_string(), longs)
        })
        .collect()
}

/// `armfix man` is one page that documents every subcommand and each of its options, and
/// refers to no other manual page (there is none installed).
#[test]
fn man_documents_every_subcommand_and_option_on_one_page() {
    let d = tempfile::tempdir().unwrap();
    let man = run(d.path(), &["man"]).stdout;
    let subs = subcommands();
    assert_eq!(
        subs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["check", "fix", "patch", "completions", "man"]
    );
    for (name, longs) in &subs {
        let section = format!(".SS \"armfix {name}\"\n");
        let start = man
            .find(&section)
            .unwrap_or_else(|| panic!("{name}: {man}"));
        let rest = &man[start + section.len()..];
        let end = rest
            .find(".SS ")
            .or(rest.find(".SH "))
            .unwrap_or(rest.len());
        let body = &rest[..end];
        for long in longs {
            let roff = format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"));
            assert!(
                body.contains(&roff),
                "{name}: --{long} is not documented:\n{body}"
            );
        }
    }
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "COMMANDS",
        "FILES",
        "EXIT STATUS",
    ] {
        assert!(man.contains(&format!(".SH {section}\n")), "{section}");
    }
    assert!(man.contains("armfix.toml") && man.contains("force\\-exclude"));
    let refs = regex::Regex::new(r"[A-Za-z][\w\\-]*\(\d\)").unwrap();
    let others: Vec<&str> = refs.find_iter(&man).map(|m| m.as_str()).collect();
    assert!(others.is_empty(), "references to other pages: {others:?}");
    // Each request line is one roff knows (no stray text starting with a dot).
    for line in man.lines().filter(|l| l.starts_with('.')) {
        let request = line.split_whitespace().next().unwrap();
        assert!(
            [".TH", ".SH", ".SS", ".PP", ".TP", ".br", ".nf", ".fi"].contains(&request),
            "{line}"
        );
    }
}

/// `--help` groups options under headings (what to fix, which files, output, global), with
/// `--yes` and `--dry-run` first in `fix`; an option with no effect on a subcommand is not
/// offered there; no help names a file an installed binary does not have.
#[test]
fn help_groups_options_and_offers_only_those_that_act() {
    let d = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let r = run(d.path(), args);
        assert_eq!(r.code, 0, "{args:?}");
        r.stdout
    };
    for sub in ["check", "fix"] {
        let h = help(&[sub, "--help"]);
        let at = |s: &str| h.find(s).unwrap_or_else(|| panic!("{sub}: {s}:\n{h}"));
        assert!(at("What to fix:") < at("Which files:"), "{h}");
        assert!(at("Which files:") < at("Output:"), "{h}");
        assert!(at("Output:") < at("Global:"), "{h}");
        assert!(at("--force-literal") < at("Which files:"));
        assert!(at("--exclude") > at("Which files:") && at("--exclude") < at("Output:"));
        assert!(at("--color") > at("Output:") && at("--config") > at("Global:"));
    }
    let fix = help(&["fix", "--help"]);
    let first = fix.find("What to fix:").unwrap();
    let after: Vec<&str> = fix[first..]
        .lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .take(3)
        .collect();
    assert_eq!(after, ["--yes", "--dry-run", "--force-literal"], "{fix}");
    for (sub, absent) in [
        (
            "man",
            &["--color", "--config", "--no-config", "--format"][..],
        ),
        ("completions", &["--color", "--config", "--no-config"][..]),
        (
            "patch",
            &["--color", "--format", "--include", "--summary-md"][..],
        ),
    ] {
        let h = help(&[sub, "--help"]);
        for option in absent {
            assert!(!h.contains(option), "{sub} offers {option}:\n{h}");
        }
    }
    assert!(help(&["patch", "--help"]).contains("--config"));
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["fix", "--help"],
        &["patch", "--help"],
        &["completions", "--help"],
        &["man", "--help"],
    ] {
        let h = help(args);
        assert!(
            !h.contains("docs/") && !h.contains("README"),
            "{args:?}:\n{h}"
        );
    }
    // Still accepted before the subcommand, as before.
    let r = run(d.path(), &["--color", "never", "--no-config", "check", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `fix` asks per finding with the keys of its prompt (`[y,n,a,d,q,e,?]`, as `git add -p`);
/// the help said "a diff per file" and "y/n/a/q", which a new user took for the whole list.
#[test]
fn help_describes_the_review_as_it_is() {
    let d = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["fix", "--help"], &["fix", "-h"]] {
        let h = run(d.path(), args).stdout;
        assert!(h.contains("y,n,a,d,q,e,?"), "{args:?}:\n{h}");
        assert!(
            !h.contains("y/n/a/q") && !h.contains("diff per file"),
            "{args:?}:\n{h}"
        );
    }
}
