//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning takes it, with the fixes.
//!
//! One rule descriptor; one result per finding, located at the offending value (or at the
//! add-on object when the value is missing). A file's edits appear exactly once: all of
//! them, joined where they touch, in the `fixes` of the file's first result whose fix they
//! carry (a file's edits can serve several findings at once, e.g. one shared variable).
//! They carry what `fix --yes` writes with the same flags: safe fixes, and unsafe ones only
//! with `--unsafe-fixes`. An unsafe fix held back has no `fixes`; its result says so in
//! its message and its `properties` (`applicability`, `heldBack`, `sideEffects`). Every
//! replacement's `deletedRegion` has line/column and `byteOffset`/`byteLength` of the file
//! as read, so applying a report's replacements reproduces `armfix fix --yes` byte for byte.
//! Fixes that land in a parameter file belong to that file's own results.

use super::{
    joined_edits, plain_diff, remedy_kind, source_kind, Mode, Places, Pos, Run, View, Write,
};
use crate::finding::{Applicability, Finding, Remedy};
use crate::rule::{ADDON, RULE_ID, RULE_URL};
use serde_json::{json, Map, Value};

/// The schema's address, as SARIF files name it.
pub(crate) const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The name of the base every relative artifact URI is resolved against.
pub(crate) const SRCROOT: &str = "%SRCROOT%";

/// The run as a pretty-printed SARIF log, with a final newline.
pub(crate) fn render(run: &Run) -> String {
    let mut out = serde_json::to_string_pretty(&log(run)).expect("JSON values serialise");
    out.push('\n');
    out
}

/// The run as a SARIF log.
pub(crate) fn log(run: &Run) -> Value {
    let views = run.views();
    let mut artifacts = Vec::new();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for view in &views {
        match view {
            View::Error { path, error } => {
                let mut region = Map::new();
                if let Some((line, column)) = error.line_col {
                    region.insert("startLine".into(), json!(line));
                    region.insert("startColumn".into(), json!(column));
                }
                let mut physical = json!({ "artifactLocation": location(path) });
                if !region.is_empty() {
                    physical["region"] = Value::Object(region);
                }
                notifications.push(json!({
                    "level": "error",
                    "message": { "text": sentence(&format!("{path}: {}", error.message)) },
                    "locations": [{ "physicalLocation": physical }],
                }));
            }
            View::Analysed {
                path,
                text,
                analysis,
                write,
                fixed,
            } => {
                let index = artifacts.len();
                let mut artifact = json!({
                    "location": location(path),
                    "mimeType": "application/json",
                });
                if run.mode != Mode::Check {
                    artifact["properties"] = json!({ "written": **write == Write::Written });
                }
                artifacts.push(artifact);
                if let Write::Failed(why) = write {
                    notifications.push(json!({
                        "level": "error",
                        "message": { "text": sentence(&format!("{path}: {why}")) },
                        "locations": [{ "physicalLocation": {
                            "artifactLocation": indexed(path, index),
                        }}],
                    }));
                }
                let mut places = Places::new(text);
                // The edits carry the fixes `fix` applies (safe ones, and unsafe ones with
                // `--unsafe-fixes`): they go with the first of those findings, never with
                // an unsafe fix held back.
                let carrier = analysis
                    .findings
                    .iter()
                    .position(|f| analysis.applies(f))
                    .or(if analysis.findings.is_empty() {
                        None
                    } else {
                        Some(0)
                    });
                let applied = analysis.applied();
                let held = analysis.held_unsafe();
                for (i, f) in analysis.findings.iter().enumerate() {
                    let mut r = result(f, analysis.applies(f), path, index, &mut places);
                    if Some(i) == carrier && !analysis.edits.is_empty() {
                        let replacements: Vec<Value> = joined_edits(&analysis.edits)
                            .iter()
                            .map(|e| {
                                let start = places.at(e.start);
                                let end = places.at(e.end);
                                json!({
                                    "deletedRegion": region(start, end),
                                    "insertedContent": { "text": e.replacement },
                                })
                            })
                            .collect();
                        let mut description = format!(
                            "Set `{ADDON}.config.enableSecretRotation` to \"true\" in {path}."
                        );
                        if applied > 1 {
                            description.push_str(&format!(
                                " This fix carries the edits of all {applied} findings it fixes \
                                 in this file."
                            ));
                        }
                        if held > 0 {
                            description.push_str(&format!(
                                " It leaves out {} held back (see {} result).",
                                if held == 1 {
                                    "1 unsafe fix".to_string()
                                } else {
                                    format!("{held} unsafe fixes")
                                },
                                if held == 1 { "its" } else { "their" }
                            ));
                        }
                        // Unsafe fixes among the edits (`--unsafe-fixes`): the fix is unsafe,
                        // and what else it changes at deploy time.
                        let mut side_effects: Vec<&String> = Vec::new();
                        let mut unsafe_fix = false;
                        for g in analysis.findings.iter().filter(|g| analysis.applies(g)) {
                            if g.applicability == Applicability::Unsafe {
                                unsafe_fix = true;
                                for e in &g.side_effects {
                                    if !side_effects.contains(&e) {
                                        side_effects.push(e);
                                    }
                                }
                            }
                        }
                        if unsafe_fix {
                            description.push_str(
                                " It includes unsafe fixes (applied with `--unsafe-fixes`): \
                                 they change more than rotation at deploy time.",
                            );
                        }
                        let mut fix = json!({
                            "description": { "text": description },
                            "artifactChanges": [{
                                "artifactLocation": indexed(path, index),
                                "replacements": replacements,
                            }],
                        });
                        let mut properties = Map::new();
                        if let Some(fixed) = fixed {
                            properties.insert("diff".into(), json!(plain_diff(path, text, fixed)));
                        }
                        properties.insert(
                            "applicability".into(),
                            json!(if unsafe_fix { "unsafe" } else { "safe" }),
                        );
                        properties.insert("sideEffects".into(), json!(side_effects));
                        fix["properties"] = Value::Object(properties);
                        r["fixes"] = json!([fix]);
                    }
                    results.push(r);
                }
            }
        }
    }
    let mut sarif_run = json!({
        "tool": { "driver": driver() },
        "invocations": [{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
            "properties": { "command": run.mode.command(), "mode": run.mode.name() },
        }],
        "columnKind": "unicodeCodePoints",
        "artifacts": artifacts,
        "results": results,
    });
    if let Some(root) = &run.root_uri {
        sarif_run["originalUriBaseIds"] = json!({ SRCROOT: { "uri": root } });
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [sarif_run],
    })
}

/// Where to learn about armfix: its repository when Cargo.toml names one, else the rule.
fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => RULE_URL,
        repository => repository,
    }
}

fn driver() -> Value {
    json!({
        "name": super::TOOL,
        "fullName": format!("{} {}", super::TOOL, super::VERSION),
        "version": super::VERSION,
        "semanticVersion": super::VERSION,
        "informationUri": information_uri(),
        "rules": [{
            "id": RULE_ID,
            "name": "AksSecretStoreRotation",
            "shortDescription": {
                "text": "Enable autorotation of Secrets Store CSI Driver secrets for AKS clusters."
            },
            "fullDescription": {
                "text": "An AKS cluster that runs the Secrets Store CSI Driver add-on \
                         (addonProfiles.azureKeyvaultSecretsProvider.enabled) should set \
                         config.enableSecretRotation to \"true\", so that pods receive secrets \
                         updated in Key Vault without being restarted."
            },
            "help": {
                "text": format!(
                    "Set properties.addonProfiles.{ADDON}.config.enableSecretRotation to \
                     \"true\". `armfix fix` makes the change, at the value's source when it \
                     comes from a variable or parameter. See {RULE_URL}."
                ),
                "markdown": format!(
                    "Set `properties.addonProfiles.{ADDON}.config.enableSecretRotation` to \
                     `\"true\"`. `armfix fix` makes the change, at the value's source when it \
                     comes from a variable or parameter. See [{RULE_ID}]({RULE_URL})."
                ),
            },
            "helpUri": RULE_URL,
            "defaultConfiguration": { "level": "warning" },
            "properties": {
                "tags": ["security", "azure", "aks", "PSRule"],
                "precision": "very-high",
                "problem.severity": "warning",
            },
        }],
    })
}

/// One result; `applied` is whether the file's edits carry its fix.
fn result(f: &Finding, applied: bool, path: &str, index: usize, places: &mut Places) -> Value {
    let (start, end) = places.finding(f);
    let mut properties = json!({
        "pointer": f.pointer.as_deref().unwrap_or(""),
        "remedy": remedy_kind(f),
    });
    if f.is_fixable() {
        properties["applicability"] = json!(super::json::applicability(f.applicability));
        properties["heldBack"] = json!(!applied);
    }
    if f.is_fixable() || !f.side_effects.is_empty() {
        properties["sideEffects"] = json!(f.side_effects);
    }
    if let Remedy::ManualReview { reason, expression } = &f.remedy {
        properties["reason"] = json!(reason);
        properties["expression"] = json!(expression.as_deref().unwrap_or(""));
    }
    if let Some(s) = &f.source {
        properties["fixSource"] = json!(source_kind(s));
        properties["fixSourceDescription"] = json!(s.describe());
    }
    json!({
        "ruleId": f.rule,
        "ruleIndex": 0,
        "kind": "fail",
        "level": "warning",
        "message": { "text": message(f, applied) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": indexed(path, index),
                "region": region(start, end),
            },
        }],
        "properties": properties,
    })
}

/// A result's message: the finding's, and for an unsafe fix whether it is applied and every
/// side effect (`The fix is unsafe, held back …: it also changes …; it also changes ….`).
fn message(f: &Finding, applied: bool) -> String {
    let mut text = sentence(&f.message);
    let effects: Vec<String> = f
        .side_effects
        .iter()
        .map(|e| crate::output::present::side_effect_clause(e))
        .collect();
    let effects = effects.join("; ");
    if f.is_fixable() && f.applicability == Applicability::Unsafe {
        text += if applied {
            " The fix is unsafe (applied with `--unsafe-fixes`)"
        } else {
            " The fix is unsafe, so it is held back (review it, then apply it with `armfix fix \
             --unsafe-fixes`)"
        };
        if effects.is_empty() {
            text.push('.');
        } else {
            text += &format!(": {}", sentence(&effects));
        }
    } else if !effects.is_empty() {
        text += &format!(" Side effects of the fix: {}", sentence(&effects));
    }
    text
}

/// A region from two places: lines and columns where known, bytes always.
fn region(start: Pos, end: Pos) -> Value {
    let mut r = Map::new();
    if let Some((line, column)) = start.line_col {
        r.insert("startLine".into(), json!(line));
        r.insert("startColumn".into(), json!(column));
        if let Some((end_line, end_column)) = end.line_col {
            r.insert("endLine".into(), json!(end_line));
            r.insert("endColumn".into(), json!(end_column));
        }
    }
    r.insert("byteOffset".into(), json!(start.offset));
    r.insert("byteLength".into(), json!(end.offset - start.offset));
    Value::Object(r)
}

/// SARIF viewers expect messages to be sentences.
fn sentence(s: &str) -> String {
    if s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// An artifact location with its index into `run.artifacts`.
fn indexed(path: &str, index: usize) -> Value {
    let mut l = location(path);
    l["index"] = json!(index);
    l
}

/// An artifact location: a relative path against `%SRCROOT%`, or an absolute `file:` URI.
pub(crate) fn location(path: &str) -> Value {
    let (uri, relative) = uri(path);
    if relative {
        json!({ "uri": uri, "uriBaseId": SRCROOT })
    } else {
        json!({ "uri": uri })
    }
}

/// A path as a URI: forward slashes, percent-encoded; `true` when it is relative.
pub(crate) fn uri(path: &str) -> (String, bool) {
    let slashed = path.replace('\\', "/");
    let bytes = slashed.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if drive {
        return (format!("file:///{}", encode(&slashed, true)), false);
    }
    if slashed.starts_with('/') {
        return (format!("file://{}", encode(&slashed, false)), false);
    }
    (encode(&slashed, false), true)
}

fn encode(s: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            || (keep_colon && b == b':');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The working folder as a `file://` URI ending in `/`, for `originalUriBaseIds`.
pub(crate) fn root_uri(dir: &std::path::Path) -> Option<String> {
    let s = dir.to_str()?;
    let (mut u, relative) = uri(s);
    if relative {
        return None;
    }
    if !u.ends_with('/') {
        u.push('/');
    }
    Some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(uri("infra/aks.json"), ("infra/aks.json".into(), true));
        assert_eq!(uri("a b/ä#.json"), ("a%20b/%C3%A4%23.json".into(), true));
        assert_eq!(uri("/srv/x.json"), ("file:///srv/x.json".into(), false));
        assert_eq!(uri(r"C:\x\y.json"), ("file:///C:/x/y.json".into(), false));
        assert_eq!(uri("../up.json"), ("../up.json".into(), true));
        assert_eq!(
            root_uri(std::path::Path::new("/w/repo")).as_deref(),
            Some("file:///w/repo/")
        );
    }

    #[test]
    fn messages_are_sentences() {
        assert_eq!(sentence("a"), "a.");
        assert_eq!(sentence("a."), "a.");
    }
}

#[cfg(test)]
mod unsafe_fixes {
    use super::super::testing::{report, run, EFFECTS};
    use super::*;

    #[test]
    fn an_unsafe_fix_held_back_has_no_fixes_and_says_why() {
        let r = report(false);
        let log = log(&run(&r, &Write::No, Mode::Check));
        let results = log["runs"][0]["results"].as_array().unwrap();
        let (held, safe) = (&results[0], &results[1]);
        assert!(held.get("fixes").is_none(), "{held}");
        assert_eq!(held["properties"]["applicability"], "unsafe");
        assert_eq!(held["properties"]["heldBack"], true);
        assert_eq!(held["properties"]["sideEffects"], json!(EFFECTS));
        let text = held["message"]["text"].as_str().unwrap();
        assert!(
            text.ends_with(
                " The fix is unsafe, so it is held back (review it, then apply it with `armfix \
                 fix --unsafe-fixes`): it also changes `Microsoft.Storage/storageAccounts` `st` \
                 `properties.allowBlobPublicAccess` from false to true; with dev.json, it also \
                 turns the add-on on in `aks-dev`."
            ),
            "{text}"
        );
        // The safe fix carries the file's edits, which leave the unsafe one out.
        let fix = &safe["fixes"][0];
        let replacements = fix["artifactChanges"][0]["replacements"]
            .as_array()
            .unwrap();
        assert_eq!(replacements.len(), 1);
        assert_eq!(fix["properties"]["applicability"], "safe");
        assert!(fix["description"]["text"]
            .as_str()
            .unwrap()
            .contains("It leaves out 1 unsafe fix held back"));
        assert_eq!(safe["properties"]["applicability"], "safe");
        assert_eq!(safe["properties"]["sideEffects"], json!([]));
    }

    #[test]
    fn an_unsafe_fix_applied_is_in_the_fixes_marked_unsafe() {
        let r = report(true);
        let log = log(&run(&r, &Write::Written, Mode::Write));
        let results = log["runs"][0]["results"].as_array().unwrap();
        let fix = &results[0]["fixes"][0];
        assert_eq!(
            fix["artifactChanges"][0]["replacements"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(fix["properties"]["applicability"], "unsafe");
        assert_eq!(fix["properties"]["sideEffects"], json!(EFFECTS));
        assert!(results[1].get("fixes").is_none(), "the edits appear once");
        assert_eq!(results[0]["properties"]["heldBack"], false);
        assert!(results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains(" The fix is unsafe (applied with `--unsafe-fixes`): it also changes "));
    }
}
