//! `--summary-md FILE`: a Markdown summary a bot can use as a pull request's body (or write
//! to `$GITHUB_STEP_SUMMARY`): what changed in each file and why, the rule's link, what
//! needs a person, and what failed.

use super::{plain_diff, Mode, Run, View, Write};
use crate::finding::{Applicability, Finding, Remedy};
use crate::rule::{RULE_ID, RULE_URL};

/// The run as Markdown.
pub(crate) fn render(run: &Run) -> String {
    let views = run.views();
    let t = &run.totals;
    let mut out = format!("## armfix: {RULE_ID}\n\n");
    out += &headline(run);
    out += "\n\n";
    out += &format!(
        "[{RULE_ID}]({RULE_URL}): an AKS cluster that runs the Secrets Store CSI Driver add-on \
         (`azureKeyvaultSecretsProvider`) should set `config.enableSecretRotation` to \
         `\"true\"`, so that pods receive secrets updated in Key Vault without a restart.\n"
    );

    let with_findings: Vec<&View> = views
        .iter()
        .filter(|v| matches!(v, View::Analysed { analysis, .. } if !analysis.findings.is_empty()))
        .collect();
    if !with_findings.is_empty() {
        let fixed_head = match run.mode {
            Mode::Check => "Fixable",
            Mode::DryRun => "Would fix",
            Mode::Write => "Fixed",
        };
        // The column of unsafe fixes held back only when there are some.
        let held_column = t.held > 0;
        if held_column {
            out += &format!(
                "\n| File | {fixed_head} | Unsafe fix held back | Needs manual review |\n\
                 | --- | ---: | ---: | ---: |\n"
            );
        } else {
            out += &format!(
                "\n| File | {fixed_head} | Needs manual review |\n| --- | ---: | ---: |\n"
            );
        }
        for v in &with_findings {
            if let View::Analysed {
                path,
                analysis,
                write,
                ..
            } = v
            {
                let fixed = if run.mode == Mode::Write && **write != Write::Written {
                    0
                } else {
                    analysis.applied()
                };
                let held = if held_column {
                    format!(" {} |", analysis.held_unsafe())
                } else {
                    String::new()
                };
                out += &format!(
                    "| {} | {fixed} |{held} {} |\n",
                    cell(&code(path)),
                    analysis.manual()
                );
            }
        }
    }

    let changed: Vec<&View> = views
        .iter()
        .filter(|v| matches!(v, View::Analysed { analysis, .. } if analysis.applied() > 0))
        .collect();
    if !changed.is_empty() {
        out += &format!(
            "\n### {}\n",
            match run.mode {
                Mode::Check => "Fixes available",
                Mode::DryRun => "Fixes shown, not written",
                Mode::Write => "Changes",
            }
        );
        for v in changed {
            let View::Analysed {
                path,
                text,
                analysis,
                fixed,
                write,
            } = v
            else {
                continue;
            };
            out += &format!("\n#### {}\n\n", code(path));
            match write {
                Write::Failed(why) if run.mode == Mode::Write => {
                    out += &format!("**Not written:** {}\n\n", inline(why));
                }
                Write::No if run.mode == Mode::Write => {
                    out += "**Not written** (declined).\n\n";
                }
                _ => {}
            }
            for f in analysis.findings.iter().filter(|f| analysis.applies(f)) {
                out += &format!("- {}\n", finding_item(f));
                if f.applicability == Applicability::Unsafe {
                    out += "  - **Unsafe fix**, included with `--unsafe-fixes`. The fix";
                    out += &effects_sublist(f);
                }
            }
            if let Some(fixed) = fixed {
                let diff = plain_diff(path, text, fixed);
                let fence = fence_for(&diff);
                out += &format!(
                    "\n<details><summary>Diff of {}</summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n",
                    html(path)
                );
            }
        }
    }

    if t.held > 0 {
        out += &format!(
            "\n### Unsafe fixes held back\n\n{} more than rotation at deploy time, so `armfix \
             fix --yes` does not write {}. Review the side effects; to apply {} anyway, run \
             `armfix fix --unsafe-fixes` (or set `unsafe-fixes = true` in armfix.toml).\n\n",
            if t.held == 1 {
                "This fix changes"
            } else {
                "These fixes change"
            },
            if t.held == 1 { "it" } else { "them" },
            if t.held == 1 { "it" } else { "them" },
        );
        for v in &views {
            if let View::Analysed { path, analysis, .. } = v {
                for f in analysis
                    .findings
                    .iter()
                    .filter(|f| f.is_fixable() && !analysis.applies(f))
                {
                    out += &format!(
                        "- {} line {}, column {}: {}\n",
                        code(path),
                        f.line,
                        f.column,
                        inline(&f.message)
                    );
                    if !f.side_effects.is_empty() {
                        out += "  - The fix";
                        out += &effects_sublist(f);
                    }
                }
            }
        }
    }

    if t.manual > 0 {
        out += "\n### Needs manual review\n\n";
        for v in &views {
            if let View::Analysed { path, analysis, .. } = v {
                for f in analysis.findings.iter().filter(|f| !f.is_fixable()) {
                    out += &format!(
                        "- {} line {}, column {}: {}\n",
                        code(path),
                        f.line,
                        f.column,
                        manual_item(f)
                    );
                    if !f.side_effects.is_empty() {
                        out += "  - The fix armfix would make";
                        out += &effects_sublist(f);
                    }
                }
            }
        }
    }

    let errors: Vec<String> = views
        .iter()
        .filter_map(|v| match v {
            View::Error { path, error } => Some(match error.line_col {
                Some((l, c)) => format!(
                    "- {} line {l}, column {c}: {}\n",
                    code(path),
                    inline(&error.message)
                ),
                None => format!("- {}: {}\n", code(path), inline(&error.message)),
            }),
            View::Analysed {
                path,
                write: Write::Failed(why),
                ..
            } => Some(format!("- {}: {}\n", code(path), inline(why))),
            _ => None,
        })
        .collect();
    if !errors.is_empty() {
        out += "\n### Errors\n\n";
        for e in errors {
            out += &e;
        }
    }

    out += &format!(
        "\n<sub>Generated by `armfix {}` ({} {}).</sub>\n",
        run.mode.command(),
        super::TOOL,
        super::VERSION
    );
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn headline(run: &Run) -> String {
    let t = &run.totals;
    // The counts read as the summary line on stderr does: findings "in N of M files" (files
    // with findings of files read), and no count that is zero ("0 of 0 fixable findings",
    // "0 at their source", "0 need manual review" said nothing and misread as a problem).
    let findings = t.fixable + t.held + t.manual;
    let in_files = format!(
        "in {} of {}",
        t.with_findings,
        plural(t.read, "file", "files")
    );
    let manual = if t.manual > 0 {
        format!("; {} manual review", plural(t.manual, "needs", "need"))
    } else {
        String::new()
    };
    let errors = if t.errors > 0 {
        format!(
            " {} could not be processed.",
            plural(t.errors, "file", "files")
        )
    } else {
        String::new()
    };
    let body = match run.mode {
        Mode::Check | Mode::DryRun | Mode::Write if findings == 0 => format!(
            "armfix checked {}: every cluster passes.",
            plural(t.read, "file", "files")
        ),
        Mode::Check if t.fixable == 0 => format!(
            "armfix checked {} and found {} in {} of them; none can be fixed by `armfix fix`{manual}.",
            plural(t.read, "file", "files"),
            plural(findings, "finding", "findings"),
            t.with_findings,
        ),
        Mode::Check => format!(
            "armfix checked {} and found {} in {} of them: {} can be fixed by `armfix fix`{}{manual}.",
            plural(t.read, "file", "files"),
            plural(findings, "finding", "findings"),
            t.with_findings,
            t.fixable,
            where_fixed(t),
        ),
        Mode::DryRun => format!(
            "armfix would fix {} of {} {in_files}{}{manual}. Nothing was written.",
            t.fixable,
            plural(findings, "finding", "findings"),
            where_fixed(t),
        ),
        Mode::Write => format!(
            "armfix fixed {} of {} {in_files}{}{manual}.",
            t.fixed,
            plural(findings, "finding", "findings"),
            if t.fixed > 0 {
                where_fixed(t)
            } else {
                String::new()
            },
        ),
    };
    body + &held_note(t) + &errors
}

/// ` (N directly, M at their source)`, leaving out a zero count, and nothing when every fix
/// lands in the cluster itself.
fn where_fixed(t: &crate::output::present::Totals) -> String {
    let directly = t.fixable - t.at_source;
    match (directly, t.at_source) {
        (_, 0) => String::new(),
        (0, n) => format!(" ({n} at {} source)", if n == 1 { "its" } else { "their" }),
        (d, n) => format!(
            " ({d} directly, {n} at {} source)",
            if n == 1 { "its" } else { "their" }
        ),
    }
}

/// How many unsafe fixes were held back and how to apply them, when there are any.
fn held_note(t: &crate::output::present::Totals) -> String {
    match t.held {
        0 => String::new(),
        1 => " 1 unsafe fix is held back: it changes more than rotation at deploy time (see \
               below); review it and apply it with `armfix fix --unsafe-fixes`."
            .into(),
        n => format!(
            " {n} unsafe fixes are held back: they change more than rotation at deploy time \
             (see below); review them and apply them with `armfix fix --unsafe-fixes`."
        ),
    }
}

/// The rest of a list item that introduces a finding's side effects, and the side effects
/// as a sub-list under it (`    - also changes …`); a full stop when there are none.
fn effects_sublist(f: &Finding) -> String {
    if f.side_effects.is_empty() {
        return ".\n".into();
    }
    let mut out = ":\n".to_string();
    for e in &f.side_effects {
        out += &format!("    - {}\n", inline(e));
    }
    out
}

fn finding_item(f: &Finding) -> String {
    format!(
        "Line {}, column {}: {}",
        f.line,
        f.column,
        inline(&f.message)
    )
}

fn manual_item(f: &Finding) -> String {
    match &f.remedy {
        Remedy::ManualReview {
            reason,
            expression: Some(expression),
        } => {
            format!(
                "{} Expression: {}",
                sentence(&inline(reason)),
                code(expression)
            )
        }
        Remedy::ManualReview { reason, .. } => sentence(&inline(reason)),
        Remedy::Fix => inline(&f.message),
    }
}

fn sentence(s: &str) -> String {
    if s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// Text on one line: line breaks become spaces.
fn inline(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

/// Inline code that survives backticks inside it.
fn code(s: &str) -> String {
    let s = inline(s);
    let longest = longest_run(&s, '`');
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// A table cell: pipes escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Text inside HTML.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn longest_run(s: &str, c: char) -> usize {
    let mut best = 0;
    let mut run = 0;
    for ch in s.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A code fence longer than any run of backticks in `s`.
fn fence_for(s: &str) -> String {
    "`".repeat(longest_run(s, '`').max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_fences_survive_backticks() {
        assert_eq!(code("a.json"), "`a.json`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(fence_for("x"), "```");
        assert_eq!(fence_for("x ```` y"), "`````");
        assert_eq!(cell("a|b"), "a\\|b");
    }
}

#[cfg(test)]
mod unsafe_fixes {
    use super::super::testing::{report, run};
    use super::*;

    #[test]
    fn unsafe_fixes_held_back_are_counted_listed_and_told_how_to_apply() {
        let r = report(false);
        let md = render(&run(&r, &Write::No, Mode::Check));
        assert!(
            md.contains(
                "found 2 findings in 1 of them: 1 can be fixed by `armfix fix`. 1 unsafe fix \
                 is held back"
            ),
            "{md}"
        );
        assert!(
            md.contains("| File | Fixable | Unsafe fix held back | Needs manual review |"),
            "{md}"
        );
        assert!(md.contains("| `a.json` | 1 | 1 | 0 |"), "{md}");
        assert!(
            md.contains(
                "### Unsafe fixes held back\n\nThis fix changes more than rotation at deploy \
                 time, so `armfix fix --yes` does not write it."
            ),
            "{md}"
        );
        assert!(md.contains("run `armfix fix --unsafe-fixes`"), "{md}");
        assert!(
            md.contains(
                "- `a.json` line 2, column 13: `shared` is \"false\"; it must be \"true\"\n  - \
                 The fix:\n    - also changes `Microsoft.Storage/storageAccounts` `st` \
                 `properties.allowBlobPublicAccess` from false to true\n    - with dev.json: \
                 also turns the add-on on in `aks-dev`\n"
            ),
            "{md}"
        );
        // Only the safe fix is among the fixes available.
        let available = &md[md.find("### Fixes available").unwrap()..];
        let available = &available[..available.find("### Unsafe").unwrap()];
        assert!(!available.contains("`shared`"), "{available}");
    }

    #[test]
    fn an_unsafe_fix_applied_says_so_with_a_sub_list() {
        let r = report(true);
        let md = render(&run(&r, &Write::Written, Mode::Write));
        assert!(!md.contains("held back"), "{md}");
        assert!(
            md.contains(
                "- Line 2, column 13: `shared` is \"false\"; it must be \"true\"\n  - **Unsafe \
                 fix**, included with `--unsafe-fixes`. The fix:\n    - also changes "
            ),
            "{md}"
        );
        assert!(
            md.contains("| File | Fixed | Needs manual review |"),
            "{md}"
        );
    }
}
