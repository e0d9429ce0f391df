//! `armfix man` and `armfix completions`: print what armfix is (its manual page in roff, a
//! shell's completion script) from the command line's own definition.
//!
//! The manual is one page, `armfix(1)`, with a section per subcommand holding every option
//! under the same headings as `--help`, so it refers to no other page (clap_mangen's
//! renderer would point at `armfix-check(1)` and the like, which are not installed).

use super::EXIT_CLEAN;
use crate::cli::Cli;
use anyhow::Result;
use clap::CommandFactory;
use std::io::Write;

/// `armfix completions SHELL`.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = super::stdout();
    clap_complete::generate(shell, &mut Cli::command(), "armfix", &mut out);
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// `armfix man`: the manual page in roff.
pub(super) fn man() -> Result<i32> {
    let mut out = super::stdout();
    out.write_all(page().as_bytes())?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// The whole manual page.
pub(crate) fn page() -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let mut out = format!(".TH ARMFIX 1 \"\" \"armfix {version}\" \"User Commands\"\n");
    out += ".SH NAME\n";
    out += &format!(
        "armfix \\- {}\n",
        text(&cmd.get_about().map(|s| s.to_string()).unwrap_or_default())
    );
    out += ".SH SYNOPSIS\n";
    for sub in visible_subcommands(&cmd) {
        out += &format!(".br\n{}\n", synopsis(sub));
    }
    out += ".SH DESCRIPTION\n";
    out += &paragraphs(
        &cmd.get_long_about()
            .or(cmd.get_about())
            .map(|s| s.to_string())
            .unwrap_or_default(),
    );
    out += ".SH COMMANDS\n";
    for sub in visible_subcommands(&cmd) {
        out += &format!(".SS \"armfix {}\"\n", sub.get_name());
        out += &paragraphs(
            &sub.get_long_about()
                .or(sub.get_about())
                .map(|s| s.to_string())
                .unwrap_or_default(),
        );
        out += &options(sub);
    }
    out += &top_level_options(&cmd);
    out += ".SH FILES\n";
    out += &paragraphs(
        "armfix.toml (or .armfix.toml): settings for check, fix and patch, looked for in the \
         working folder and each parent up to the folder that holds .git. Keys: include, \
         exclude, no-ignore, force-exclude, force-literal, unsafe-fixes, format, color. Flags \
         beat the file, which beats the defaults; a list on the command line replaces the \
         file's list.",
    );
    out += ".SH ENVIRONMENT\n";
    out += &paragraphs(
        "NO_COLOR: when set and not empty, --color auto does not colour. VISUAL, EDITOR: the \
         editor the interactive review opens.",
    );
    out += ".SH EXIT STATUS\n";
    out += &paragraphs(
        "0: nothing needs fixing, or everything that did was written.\n1: findings remain \
         (check found some; fix was declined, a dry run, not at a terminal, a finding needs \
         manual review, or an unsafe fix was held back).\n2: an error in some file \
         (unreadable, invalid, or a failed write), or in the command line; every other file \
         was still processed.",
    );
    out += ".SH OUTPUT\n";
    out += &paragraphs(
        "Findings, diffs and machine reports go to standard output; the summary line, \
         warnings, notes, errors, prompts and progress go to standard error. When the reader \
         of either goes away (armfix check | head), the output ends quietly and the run goes \
         on to its end: fix --yes still writes every file, and the exit status is the run's.",
    );
    if let Some(after) = cmd.get_after_help() {
        out += ".SH EXAMPLES\n";
        out += &format!(".nf\n{}\n.fi\n", text(&after.to_string()));
    }
    out
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// `armfix check [OPTIONS] [PATH]...`, in bold and italics.
fn synopsis(sub: &clap::Command) -> String {
    let mut s = format!("\\fBarmfix {}\\fR [\\fIOPTIONS\\fR]", sub.get_name());
    for arg in sub.get_positionals().filter(|a| !a.is_hide_set()) {
        let name = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        let dots = if many { "..." } else { "" };
        if arg.is_required_set() {
            s += &format!(" \\fI{}\\fR{dots}", text(&name));
        } else {
            s += &format!(" [\\fI{}\\fR]{dots}", text(&name));
        }
    }
    s
}

/// A subcommand's arguments and options, under `--help`'s headings.
fn options(sub: &clap::Command) -> String {
    let mut out = String::new();
    let args: Vec<&clap::Arg> = sub
        .get_arguments()
        .filter(|a| !a.is_hide_set() && a.get_id() != "help")
        .collect();
    let mut headings: Vec<Option<&str>> = Vec::new();
    for a in &args {
        let h = if a.is_positional() {
            Some("Arguments")
        } else {
            a.get_help_heading()
        };
        if !headings.contains(&h) {
            headings.push(h);
        }
    }
    for heading in headings {
        out += &format!(
            ".TP\n\\fI{}:\\fR\n.PP\n",
            text(heading.unwrap_or("Options"))
        );
        for a in &args {
            let h = if a.is_positional() {
                Some("Arguments")
            } else {
                a.get_help_heading()
            };
            if h == heading {
                out += &option(a);
            }
        }
    }
    out
}

/// One option as a tagged paragraph: `-y, --yes` then its help and possible values.
fn option(a: &clap::Arg) -> String {
    let mut tag = Vec::new();
    if let Some(s) = a.get_short() {
        tag.push(format!("\\fB\\-{s}\\fR"));
    }
    if let Some(l) = a.get_long() {
        tag.push(format!("\\fB\\-\\-{}\\fR", l.replace('-', "\\-")));
    }
    let takes_value = a.get_num_args().is_some_and(|n| n.takes_values()) || a.is_positional();
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
    let mut tag = tag.join(", ");
    if a.is_positional() {
        tag = format!("\\fI{}\\fR", text(&value));
    } else if takes_value && !matches!(a.get_action(), clap::ArgAction::SetTrue) {
        tag += &format!(" \\fI{}\\fR", text(&value));
    }
    let help = a
        .get_long_help()
        .or(a.get_help())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let mut body = text(&help);
    let values: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !values.is_empty() && !a.is_positional() {
        body += &format!(" [possible values: {}]", values.join(", "));
    } else if !values.is_empty() {
        body += &format!(" [one of: {}]", values.join(", "));
    }
    format!(".TP\n{tag}\n{}\n", body.replace("\n\n", "\n.br\n"))
}

/// Options armfix itself takes (`--help`, `--version`).
fn top_level_options(cmd: &clap::Command) -> String {
    let mut out = String::from(".SS \"armfix\"\n");
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        out += &option(a);
    }
    out
}

/// Paragraphs separated by blank lines or single newlines, each its own.
fn paragraphs(s: &str) -> String {
    s.split('\n')
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!(".PP\n{}\n", text(p.trim())))
        .collect()
}

/// Text with roff's special characters escaped: backslashes, and a `.` or `'` that would
/// start a line (a request).
fn text(s: &str) -> String {
    s.replace('\\', "\\e")
        .replace('-', "\\-")
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
