//! `--format json`: one document for the whole run. Its schema is documented in
//! `docs/formats.md` and only ever grows: fields are added, never renamed or removed.

use super::{plain_diff, remedy_kind, sorted_edits, source_kind, Mode, Places, Pos, Run, View};
use crate::finding::{Applicability, Finding, FixSource, Remedy};
use crate::rule::{RULE_ID, RULE_URL};
use serde_json::{json, Value};

/// The schema's version: raised only if a field ever had to change meaning.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// The run as a pretty-printed JSON document, with a final newline.
pub(crate) fn render(run: &Run) -> String {
    let mut out = serde_json::to_string_pretty(&document(run)).expect("JSON values serialise");
    out.push('\n');
    out
}

/// The run as a JSON value.
pub(crate) fn document(run: &Run) -> Value {
    let files: Vec<Value> = run.views().iter().map(|v| file(run.mode, v)).collect();
    let t = &run.totals;
    json!({
        "tool": { "name": super::TOOL, "version": super::VERSION },
        "schemaVersion": SCHEMA_VERSION,
        "command": run.mode.command(),
        "mode": run.mode.name(),
        "rule": { "id": RULE_ID, "url": RULE_URL },
        "files": files,
        "summary": {
            "files": t.files,
            "findings": t.fixable + t.held + t.manual,
            "fixable": t.fixable,
            "fixableDirectly": t.fixable - t.at_source,
            "fixableAtSource": t.at_source,
            "unsafeHeldBack": t.held,
            "manualReview": t.manual,
            "fixed": t.fixed,
            "errors": t.errors,
        },
    })
}

fn pos(p: Pos) -> Value {
    let (line, column) = match p.line_col {
        Some((l, c)) => (json!(l), json!(c)),
        None => (Value::Null, Value::Null),
    };
    json!({ "line": line, "column": column, "offset": p.offset })
}

fn file(mode: Mode, view: &View) -> Value {
    match view {
        View::Error { path, error } => {
            let (line, column) = match error.line_col {
                Some((l, c)) => (json!(l), json!(c)),
                None => (Value::Null, Value::Null),
            };
            json!({
                "path": path,
                "status": "error",
                "findings": [],
                "patch": [],
                "edits": [],
                "diff": null,
                "changed": false,
                "written": if mode == Mode::Check { Value::Null } else { json!(false) },
                "error": {
                    "stage": "read",
                    "message": error.message,
                    "line": line,
                    "column": column,
                },
            })
        }
        View::Analysed {
            path,
            text,
            analysis,
            fixed,
            write,
        } => {
            let mut places = Places::new(text);
            let findings: Vec<Value> = analysis
                .findings
                .iter()
                .map(|f| finding(f, analysis.applies(f), &mut places))
                .collect();
            let edits: Vec<Value> = sorted_edits(&analysis.edits)
                .into_iter()
                .map(|e| {
                    let start = places.at(e.start);
                    let end = places.at(e.end);
                    json!({
                        "offset": e.start,
                        "length": e.end - e.start,
                        "replacement": e.replacement,
                        "start": pos(start),
                        "end": pos(end),
                    })
                })
                .collect();
            let diff = fixed.map(|f| plain_diff(path, text, f));
            let (written, error) = match (mode, write) {
                (Mode::Check, _) => (Value::Null, Value::Null),
                (_, super::Write::Written) => (json!(true), Value::Null),
                (_, super::Write::No) => (json!(false), Value::Null),
                (_, super::Write::Failed(why)) => (
                    json!(false),
                    json!({ "stage": "write", "message": why, "line": null, "column": null }),
                ),
            };
            json!({
                "path": path,
                "status": "analysed",
                "findings": findings,
                "patch": analysis.patch,
                "edits": edits,
                "diff": diff,
                "changed": fixed.is_some(),
                "written": written,
                "error": error,
            })
        }
    }
}

/// One finding; `applied` is whether the file's edits carry its fix.
fn finding(f: &Finding, applied: bool, places: &mut Places) -> Value {
    let (start, end) = places.finding(f);
    let remedy = match &f.remedy {
        Remedy::Fix => json!({ "kind": remedy_kind(f) }),
        Remedy::ManualReview { reason, expression } => json!({
            "kind": remedy_kind(f),
            "reason": reason,
            // `""` when no expression is to blame, as the format has always said.
            "expression": expression.as_deref().unwrap_or(""),
        }),
    };
    json!({
        "ruleId": f.rule,
        "message": f.message,
        "severity": "warning",
        "start": pos(start),
        "end": pos(end),
        // `""` where there is none (scripts), as the format has always said.
        "pointer": f.pointer.as_deref().unwrap_or(""),
        "fixable": f.is_fixable(),
        "remedy": remedy,
        "fixSource": f.source.as_ref().map(fix_source),
        "applicability": f.is_fixable().then(|| applicability(f.applicability)),
        "heldBack": f.is_fixable().then_some(!applied),
        "sideEffects": f.side_effects,
    })
}

/// `"safe"` or `"unsafe"`.
pub(crate) fn applicability(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
    }
}

/// Where a fix lands: `kind`, the variable's or parameter's `name` where there is one, the
/// `template` a parameter file feeds, and a `description` in words.
pub(crate) fn fix_source(s: &FixSource) -> Value {
    let mut v = json!({ "kind": source_kind(s) });
    match s {
        FixSource::Variable { name }
        | FixSource::ParameterDefault { name }
        | FixSource::DeploymentParameter { name } => {
            v["name"] = json!(name);
        }
        FixSource::ParameterFile { name, template } => {
            v["name"] = json!(name);
            v["template"] = json!(template);
        }
        FixSource::Value | FixSource::Expression => {}
    }
    v["description"] = json!(s.describe());
    v
}

#[cfg(test)]
mod tests {
    use super::super::testing::{report, run, EFFECTS};
    use super::*;
    use crate::output::report::Write;

    #[test]
    fn findings_carry_their_class_and_side_effects_and_the_summary_counts_those_held_back() {
        let r = report(false);
        let doc = document(&run(&r, &Write::No, Mode::Check));
        let findings = doc["files"][0]["findings"].as_array().unwrap();
        assert_eq!(findings[0]["applicability"], "unsafe");
        assert_eq!(findings[0]["heldBack"], true);
        assert_eq!(findings[0]["sideEffects"], json!(EFFECTS));
        assert_eq!(findings[1]["applicability"], "safe");
        assert_eq!(findings[1]["heldBack"], false);
        assert_eq!(findings[1]["sideEffects"], json!([]));
        let s = &doc["summary"];
        assert_eq!(
            s["findings"], 2,
            "a fix held back is a finding all the same"
        );
        assert_eq!(s["fixable"], 1);
        assert_eq!(s["unsafeHeldBack"], 1);
        // The edits are those `fix --yes` writes: the safe fix alone.
        assert_eq!(doc["files"][0]["edits"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn an_unsafe_fix_applied_is_not_held_back() {
        let r = report(true);
        let doc = document(&run(&r, &Write::Written, Mode::Write));
        let f = &doc["files"][0]["findings"][0];
        assert_eq!(
            (&f["applicability"], &f["heldBack"]),
            (&json!("unsafe"), &json!(false))
        );
        assert_eq!(doc["summary"]["unsafeHeldBack"], 0);
        assert_eq!(doc["summary"]["fixed"], 2);
    }

    #[test]
    fn a_manual_review_has_no_class() {
        let mut r = report(false);
        let super::super::Outcome::Analysed { analysis, .. } = &mut r.outcome else {
            unreachable!()
        };
        analysis.findings[1].remedy = Remedy::ManualReview {
            reason: "r".into(),
            expression: None,
        };
        let doc = document(&run(&r, &Write::No, Mode::Check));
        let f = &doc["files"][0]["findings"][1];
        assert_eq!(f["applicability"], Value::Null);
        assert_eq!(f["heldBack"], Value::Null);
        assert_eq!(f["sideEffects"], json!([]));
    }
}
