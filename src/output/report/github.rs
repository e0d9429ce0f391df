//! `--format github`: GitHub Actions workflow commands, one a line, so findings show on a
//! pull request's diff:
//! `::warning file=PATH,line=L,col=C,endLine=L,endColumn=C,title=RULE::MESSAGE`.
//!
//! Findings are warnings; in a `fix` that wrote the file they are notices ("Fixed: ...").
//! An unsafe fix's side effects follow its message, one a line (`unsafe fix: it also
//! changes …`), and one held back ends with how to apply it: it stays a warning.
//! Errors are `::error` lines. GitHub takes `col` and `endColumn` only when the annotation
//! starts and ends on one line, so a span over several lines gives `line` and `endLine`
//! only. `endColumn` is exclusive, as SARIF's. Values are escaped as GitHub's toolkit does:
//! in the message `%`, CR and LF; in properties also `:` and `,`.

use super::{Mode, Places, Run, View, Write};
use crate::output::present;
use crate::rule::RULE_ID;

/// The run as workflow commands, one a line.
pub(crate) fn render(run: &Run) -> String {
    let mut out = String::new();
    for view in run.views() {
        match view {
            View::Error { path, error } => {
                let mut props = vec![("file", path.clone())];
                if let Some((line, col)) = error.line_col {
                    props.push(("line", line.to_string()));
                    props.push(("col", col.to_string()));
                }
                props.push(("title", "armfix".into()));
                out += &command("error", &props, &error.message);
            }
            View::Analysed {
                path,
                text,
                analysis,
                write,
                ..
            } => {
                if let Write::Failed(why) = write {
                    out += &command(
                        "error",
                        &[("file", path.clone()), ("title", "armfix".into())],
                        why,
                    );
                }
                let mut places = Places::new(text);
                for f in &analysis.findings {
                    let (start, end) = places.finding(f);
                    let mut props = vec![("file", path.clone())];
                    if let Some((line, col)) = start.line_col {
                        props.push(("line", line.to_string()));
                        match end.line_col {
                            Some((end_line, end_col)) if end_line == line => {
                                props.push(("col", col.to_string()));
                                props.push(("endLine", end_line.to_string()));
                                props.push(("endColumn", end_col.to_string()));
                            }
                            Some((end_line, _)) => {
                                props.push(("endLine", end_line.to_string()));
                            }
                            None => props.push(("col", col.to_string())),
                        }
                    }
                    props.push(("title", RULE_ID.into()));
                    let applied = analysis.applies(f);
                    let fixed = run.mode == Mode::Write && *write == Write::Written && applied;
                    let (level, mut message) = if fixed {
                        ("notice", format!("Fixed: {}", f.message))
                    } else {
                        ("warning", f.message.clone())
                    };
                    // An unsafe fix's side effects, one a line, as `check` prints them.
                    for note in present::side_effect_notes(f) {
                        message += &format!("\n{note}");
                    }
                    if f.is_fixable() && !applied {
                        message += &format!("\n{}", present::HELD_BACK_NOTE.trim_start());
                    }
                    out += &command(level, &props, &message);
                }
            }
        }
    }
    out
}

/// One workflow command with its line ending.
pub(crate) fn command(level: &str, props: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    format!("::{level} {}::{}\n", props.join(","), escape_data(message))
}

/// Escapes a message: `%`, CR and LF.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as a message, and `:` and `,`.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_toolkit_does() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("C:\\a,b%\n"), "C%3A\\a%2Cb%25%0A");
        assert_eq!(
            command("warning", &[("file", "a,b.json".into())], "x: y"),
            "::warning file=a%2Cb.json::x: y\n"
        );
    }
}

#[cfg(test)]
mod unsafe_fixes {
    use super::super::testing::{report, run};
    use super::*;

    #[test]
    fn an_unsafe_fix_lists_its_side_effects_and_one_held_back_stays_a_warning() {
        let r = report(false);
        let out = render(&run(&r, &Write::Written, Mode::Write));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(
            lines[0].starts_with("::warning file=a.json,line=2,col=13,"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with(
                "%0Aunsafe fix: it also changes `Microsoft.Storage/storageAccounts` `st` \
                 `properties.allowBlobPublicAccess` from false to true%0Aunsafe fix: with \
                 dev.json, it also turns the add-on on in `aks-dev`%0Aheld back: review it, \
                 then apply it with `armfix fix --unsafe-fixes`"
            ),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("::notice "), "{}", lines[1]);
        assert!(lines[1].contains("::Fixed: "), "{}", lines[1]);

        let r = report(true);
        let out = render(&run(&r, &Write::Written, Mode::Write));
        let first = out.lines().next().unwrap();
        assert!(first.starts_with("::notice "), "{first}");
        assert!(first.contains("%0Aunsafe fix: it also changes "), "{first}");
        assert!(!first.contains("held back"), "{first}");
    }
}
