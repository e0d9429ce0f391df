//! `--format github`: GitHub Actions workflow commands, one a line, so findings show on a
//! pull request's diff:
//! `::warning file=PATH,line=L,col=C,endLine=L,endColumn=C,title=RULE::MESSAGE`.
//!
//! Findings are warnings; in a `fix` that wrote the file they are notices ("Fixed: ...").
//! Errors are `::error` lines. GitHub takes `col` and `endColumn` only when the annotation
//! starts and ends on one line, so a span over several lines gives `line` and `endLine`
//! only. `endColumn` is exclusive, as SARIF's. Values are escaped as GitHub's toolkit does:
//! in the message `%`, CR and LF; in properties also `:` and `,`.

use super::{Mode, Places, Run, View, Write};
use crate::finding::Remedy;
use crate::rule::RULE_ID;

/// The run as workflow commands, one a line.
pub fn render(run: &Run) -> String {
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
                    let fixed = run.mode == Mode::Write
                        && *write == Write::Written
                        && f.remedy == Remedy::Fix;
                    let (level, message) = if fixed {
                        ("notice", format!("Fixed: {}", f.message))
                    } else {
                        ("warning", f.message.clone())
                    };
                    out += &command(level, &props, &message);
                }
            }
        }
    }
    out
}

/// One workflow command with its line ending.
pub fn command(level: &str, props: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    format!("::{level} {}::{}\n", props.join(","), escape_data(message))
}

/// Escapes a message: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as a message, and `:` and `,`.
pub fn escape_property(s: &str) -> String {
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
