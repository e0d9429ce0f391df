//! JSON parameter files: plans fixes for the parameters that a linked template's rotation
//! setting reads (which files are linked is `run::configurations`' job). A value armfix must
//! not overwrite (a Key Vault reference, an azd placeholder other than its default) is a
//! manual-review finding. A parameter file whose template was not scanned is never touched.

use crate::error::Error;
use crate::eval::arm_origin as trace;
use crate::eval::provenance::ParamDemand;
use crate::finding::{
    duplicate_key, manual_review_message, Analysis, Finding, FixSource, Quote, Remedy,
};
use crate::lang::arm::jsonc::{self, Kind};
use crate::lang::arm::render;
use crate::lang::arm::template::{self as arm, Segment};
use crate::location::LineIndex;
use crate::rule::{Lookup, ROTATION};
use json_patch::{PatchOperation, ReplaceOperation};
use jsonptr::PointerBuf;
use std::path::{Path, PathBuf};

/// A parameter a scanned template needs to be true, and the template's name for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Demand {
    pub(crate) parameter: ParamDemand,
    pub(crate) template: String,
    /// Where the template is, so its deployment can be evaluated with the parameter file.
    pub(crate) template_path: PathBuf,
    /// The template as its own fixes leave it, when it has any: a parameter file is proven
    /// against the template that will be deployed with it.
    pub(crate) template_fixed: Option<std::sync::Arc<String>>,
}

/// Whether a file name is shaped like a parameter file's (`*.parameters*.json`), so that it
/// is kept as a candidate even when its head does not name the schema.
pub fn looks_named_like_parameters(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy()
        .to_ascii_lowercase()
        .contains(".parameters")
}

/// The path a parameter file names in `metadata.template`, as written.
pub(crate) fn metadata_template_text(text: &str) -> Option<String> {
    let root = jsonc::parse(text).ok()?;
    let Lookup::Found(_, meta) = arm::get(&root, "metadata") else {
        return None;
    };
    let Lookup::Found(_, t) = arm::get(meta, "template") else {
        return None;
    };
    t.as_str()
        .map(str::to_string)
        .filter(|t| !t.trim().is_empty())
}

/// An azd placeholder that is a whole parameter value: `${VAR}` or `${VAR=default}` (also
/// envsubst's `:=`, `-` and `:-` forms, which azd accepts). azd replaces it with the
/// environment variable's value from the selected azd environment, else the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder {
    pub(crate) var: String,
    /// The operator and the default, when there is one.
    pub(crate) default: Option<(String, String)>,
}

/// The placeholder `s` is, when it is exactly one. A string holding a placeholder among
/// other text is not one (see [`holds_placeholder`]).
pub(crate) fn placeholder(s: &str) -> Option<Placeholder> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    if inner.contains(['{', '}', '$']) {
        return None;
    }
    let end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (var, rest) = inner.split_at(end);
    if var.is_empty() || var.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let default = if rest.is_empty() {
        None
    } else {
        let op = [":=", ":-", "=", "-"]
            .into_iter()
            .find(|op| rest.starts_with(op))?;
        Some((op.to_string(), rest[op.len()..].to_string()))
    };
    Some(Placeholder {
        var: var.to_string(),
        default,
    })
}

/// Whether `s` holds an azd placeholder anywhere.
pub(crate) fn holds_placeholder(s: &str) -> bool {
    s.contains("${")
}

/// The azd environment files (`.azure/ENV/.env` of the azd project: the nearest folder at or
/// above the parameter file, up to the repository's root, that holds `.azure`) that set
/// `var`, as paths for messages.
pub(crate) fn azd_environments_setting(file: &Path, var: &str) -> Vec<PathBuf> {
    let start = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let top = crate::run::configurations::repository_root(&start);
    let mut out = Vec::new();
    let mut dir = start.parent();
    let root = loop {
        match dir {
            Some(d) if d.join(".azure").is_dir() => break d.to_path_buf(),
            Some(d) if d != top && d.starts_with(&top) => dir = d.parent(),
            _ => return out,
        }
    };
    let Ok(envs) = std::fs::read_dir(root.join(".azure")) else {
        return out;
    };
    let mut envs: Vec<PathBuf> = envs.filter_map(Result::ok).map(|e| e.path()).collect();
    envs.sort();
    for env in envs {
        let dotenv = env.join(".env");
        let Ok(text) = std::fs::read_to_string(&dotenv) else {
            continue;
        };
        let sets = text.lines().any(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
            l.strip_prefix(var)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        if sets {
            let shown = dotenv
                .strip_prefix(&root)
                .map(Path::to_path_buf)
                .unwrap_or(dotenv);
            out.push(shown);
        }
    }
    out
}

/// The value azd gives a placeholder, as far as it is known offline: the default when no
/// azd environment of the repository sets the variable; otherwise (or without a default)
/// Unknown.
pub(crate) fn placeholder_value(p: &Placeholder, file: &Path) -> crate::eval::Value {
    use crate::eval::Value;
    let set = azd_environments_setting(file, &p.var);
    match &p.default {
        Some((_, d)) if set.is_empty() => Value::str(d.clone()),
        _ => Value::unknown(format!(
            "azd environment variable `{}` (placeholder `${{{}}}`)",
            p.var, p.var
        )),
    }
}

/// Plans the fixes of one parameter file. `Ok(None)` when it is not a parameter file.
#[cfg(test)]
pub(crate) fn analyze(text: &str, demands: &[Demand]) -> Result<Option<Analysis>, Error> {
    analyze_at(text, demands, None)
}

/// Plans the fixes of the parameter file at `file` (where its azd environments are looked
/// for), when known. `Ok(None)` when it is not a parameter file.
pub(crate) fn analyze_at(
    text: &str,
    demands: &[Demand],
    file: Option<&Path>,
) -> Result<Option<Analysis>, Error> {
    let root = jsonc::parse(text).map_err(|e| Error::source(e.offset, e.message))?;
    if !arm::is_parameters_file(&root) {
        return Ok(None);
    }
    let mut analysis = Analysis::default();
    let (pkey, params) = match arm::get(&root, "parameters") {
        Lookup::Found(k, p) => (k, p),
        Lookup::Missing => return Ok(Some(analysis)),
        Lookup::Duplicate(_, n) => return Err(duplicate(n.span.start, "parameters")),
    };
    let lines = LineIndex::new(text);
    for demand in demands {
        let name = &demand.parameter.name;
        let entry = match arm::get(params, name) {
            Lookup::Found(k, e) => (k, e),
            Lookup::Missing => continue,
            Lookup::Duplicate(_, n) => return Err(duplicate(n.span.start, name)),
        };
        let (vkey, value) =
            match arm::get(entry.1, "value") {
                Lookup::Found(k, v) => (k, v),
                Lookup::Missing => {
                    // A Key Vault reference: the value is the secret's, known only at deploy time.
                    if let Lookup::Found(rkey, reference) = arm::get(entry.1, "reference") {
                        if analysis
                            .findings
                            .iter()
                            .any(|f| f.start == reference.span.start)
                        {
                            continue;
                        }
                        let path = [
                            Segment::Key(pkey.clone()),
                            Segment::Key(entry.0.clone()),
                            Segment::Key(rkey),
                        ];
                        let pointer = PointerBuf::from_tokens(
                            path.iter().map(Segment::token).collect::<Vec<_>>(),
                        );
                        let secret = match arm::get(reference, "secretName") {
                            Lookup::Found(_, n) => {
                                n.as_str().map(|n| format!(" `{n}`")).unwrap_or_default()
                            }
                            _ => String::new(),
                        };
                        let reason =
                            format!(
                        "parameter `{}` feeds `{ROTATION}` of {} but is a Key Vault reference \
                         (secret{secret}), known only at deploy time; make sure the secret holds \
                         true, or give the parameter `\"value\": {}`",
                        entry.0,
                        demand.template,
                        if demand.parameter.boolean { "true" } else { "\"true\"" }
                    );
                        analysis.findings.push(Finding::placed(
                            &lines,
                            text,
                            (reference.span.start, reference.span.end),
                            Some(pointer.to_string()),
                            manual_review_message(&reason, "", Quote::Plain),
                            Remedy::ManualReview {
                                reason,
                                expression: None,
                            },
                            None,
                        ));
                    }
                    continue;
                }
                Lookup::Duplicate(_, n) => return Err(duplicate(n.span.start, "value")),
            };
        if trace::passes_literal(value)
            || analysis
                .findings
                .iter()
                .any(|f| f.start == value.span.start)
        {
            continue;
        }
        let path = [
            Segment::Key(pkey.clone()),
            Segment::Key(entry.0.clone()),
            Segment::Key(vkey),
        ];
        let pointer = PointerBuf::from_tokens(path.iter().map(Segment::token).collect::<Vec<_>>());
        let source = FixSource::ParameterFile {
            name: entry.0.clone(),
            template: demand.template.clone(),
        };
        let finding = |message, remedy, source| {
            Finding::placed(
                &lines,
                text,
                (value.span.start, value.span.end),
                Some(pointer.to_string()),
                message,
                remedy,
                source,
            )
        };
        let scalar = !matches!(value.kind, Kind::Object(_) | Kind::Array(_));
        let computed = value.as_str().is_some_and(arm::is_expression);
        if !scalar || computed {
            let reason = format!(
                "parameter `{}` feeds `{ROTATION}` of {} but is not a plain value; set it to true",
                entry.0, demand.template
            );
            let expression = text[value.span.start..value.span.end].to_string();
            let message = manual_review_message(&reason, "", Quote::Plain);
            let remedy = Remedy::ManualReview {
                reason,
                expression: Some(expression).filter(|e| !e.is_empty()),
            };
            analysis.findings.push(finding(message, remedy, None));
            continue;
        }
        let mut new = if demand.parameter.boolean {
            serde_json::Value::Bool(true)
        } else {
            serde_json::Value::String("true".into())
        };
        let mut note = String::new();
        if let Some(s) = value.as_str().filter(|s| holds_placeholder(s)) {
            // azd fills the value in at deploy time: never replaced by a literal. Only the
            // default inside the placeholder is fixed, and only when no azd environment
            // sets the variable (the default is then the only source).
            let p = placeholder(s);
            let set = match (&p, file) {
                (Some(p), Some(f)) => azd_environments_setting(f, &p.var),
                _ => Vec::new(),
            };
            let review = match &p {
                None => Some(format!(
                    "parameter `{}` feeds `{ROTATION}` of {} through azd placeholders in {s:?}, \
                     which armfix does not rewrite; make the value true",
                    entry.0, demand.template
                )),
                Some(Placeholder { var, default: None }) => Some(format!(
                    "parameter `{}` feeds `{ROTATION}` of {} through azd's `${{{var}}}`, filled \
                     from the azd environment at deploy time; set `{var}` to true in every azd \
                     environment (`.azure/ENV/.env`), or write a default: `${{{var}=true}}`",
                    entry.0, demand.template
                )),
                Some(Placeholder { var, .. }) if !set.is_empty() => Some(format!(
                    "parameter `{}` feeds `{ROTATION}` of {} through azd's `${{{var}=…}}`, and \
                     {} set{} `{var}`; set it to true there, and the default to true",
                    entry.0,
                    demand.template,
                    set.iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if set.len() == 1 { "s" } else { "" }
                )),
                Some(Placeholder {
                    default: Some((_, d)),
                    ..
                }) if d.eq_ignore_ascii_case("true") => continue,
                Some(_) => None,
            };
            if let Some(reason) = review {
                let expression = text[value.span.start..value.span.end].to_string();
                let message = manual_review_message(&reason, "", Quote::Plain);
                let remedy = Remedy::ManualReview {
                    reason,
                    expression: Some(expression),
                };
                analysis.findings.push(finding(message, remedy, None));
                continue;
            }
            let Some(Placeholder {
                var,
                default: Some((op, _)),
            }) = p
            else {
                continue;
            };
            new = serde_json::Value::String(format!("${{{var}{op}true}}"));
            note = format!(" (the default of azd's `${{{var}}}`, which no azd environment sets)");
        }
        let op = PatchOperation::Replace(ReplaceOperation {
            path: pointer.clone(),
            value: new.clone(),
        });
        let edits = render::render(text, &root, &op).map_err(|m| {
            Error::internal(value.span.start, format!("cannot render the fix: {m}"))
        })?;
        // The value as the fix writes it: `true` for a bool parameter, `"true"` for a string.
        let message = format!(
            "parameter `{}` sets `{ROTATION}` of {} to {}; it must be {new}{note}",
            entry.0,
            demand.template,
            &text[value.span.start..value.span.end]
        );
        analysis
            .findings
            .push(finding(message, Remedy::Fix, Some(source)));
        analysis.edits.extend(edits);
        analysis.patch.push(op);
    }
    Ok(Some(analysis))
}

fn duplicate(offset: usize, key: &str) -> Error {
    duplicate_key(offset, key, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(name: &str, boolean: bool) -> Demand {
        Demand {
            parameter: ParamDemand {
                name: name.into(),
                boolean,
            },
            template: "azuredeploy.json".into(),
            template_path: "azuredeploy.json".into(),
            template_fixed: None,
        }
    }

    const SCHEMA: &str =
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";

    #[test]
    fn fixes_failing_values_in_their_type() {
        let text = format!(
            "{{\n  \"$schema\": \"{SCHEMA}\",\n  \"parameters\": {{\n    \"rot\": {{\n      \"value\": false\n    }},\n    \"s\": {{ \"value\": \"false\" }},\n    \"ok\": {{ \"value\": true }}\n  }}\n}}\n"
        );
        let a = analyze(
            &text,
            &[demand("Rot", true), demand("s", false), demand("ok", true)],
        )
        .unwrap()
        .unwrap();
        assert_eq!(a.fixable(), 2);
        let fixed = crate::edit::apply(&text, &a.edits).unwrap();
        assert!(fixed.contains("\"value\": true\n"));
        assert!(fixed.contains("{ \"value\": \"true\" }"));
        crate::lang::arm::verify::json(&text, &a, &fixed).unwrap();
    }

    #[test]
    fn key_vault_references_need_review() {
        let text = format!(
            r#"{{"$schema": "{SCHEMA}", "parameters": {{"rot": {{"value": {{"x": 1}}}}}}}}"#
        );
        let a = analyze(&text, &[demand("rot", true)]).unwrap().unwrap();
        assert_eq!(a.manual(), 1);
        assert!(a.edits.is_empty());
    }

    #[test]
    fn metadata_template_is_read_as_written() {
        assert_eq!(
            metadata_template_text(r#"{"metadata": {"template": "../main.json"}}"#).as_deref(),
            Some("../main.json")
        );
        assert_eq!(
            metadata_template_text(r#"{"metadata": {"template": " "}}"#),
            None
        );
        assert_eq!(metadata_template_text(r#"{"metadata": {}}"#), None);
    }

    #[test]
    fn azd_placeholders() {
        let p = |s| placeholder(s);
        assert_eq!(
            p("${ROTATE}"),
            Some(Placeholder {
                var: "ROTATE".into(),
                default: None
            })
        );
        assert_eq!(
            p("${ROTATE=false}").unwrap().default,
            Some(("=".into(), "false".into()))
        );
        assert_eq!(
            p("${R_1:-no}").unwrap().default,
            Some((":-".into(), "no".into()))
        );
        assert_eq!(p("x${ROTATE}"), None);
        assert_eq!(p("${1X}"), None);
        assert_eq!(p("${A}${B}"), None);
        assert!(holds_placeholder("x${ROTATE}"));
    }

    #[test]
    fn placeholders_keep_azd_in_charge() {
        let text = format!(
            "{{\"$schema\": \"{SCHEMA}\", \"parameters\": {{\"a\": {{\"value\": \"${{ROT=false}}\"}}, \"b\": {{\"value\": \"${{ROT}}\"}}, \"c\": {{\"value\": \"${{ROT=true}}\"}}}}}}"
        );
        let a = analyze(
            &text,
            &[demand("a", true), demand("b", true), demand("c", true)],
        )
        .unwrap()
        .unwrap();
        assert_eq!((a.fixable(), a.manual()), (1, 1), "{:#?}", a.findings);
        let fixed = crate::edit::apply(&text, &a.edits).unwrap();
        assert!(
            fixed.contains("\"${ROT=true}\"}, \"b\": {\"value\": \"${ROT}\"}"),
            "{fixed}"
        );
        crate::lang::arm::verify::json(&text, &a, &fixed).unwrap();
    }

    #[test]
    fn key_vault_reference_values_need_review() {
        let text = format!(
            r#"{{"$schema": "{SCHEMA}", "parameters": {{"rot": {{"reference": {{"keyVault": {{"id": "kv"}}, "secretName": "s"}}}}}}}}"#
        );
        let a = analyze(&text, &[demand("rot", true)]).unwrap().unwrap();
        assert_eq!(a.manual(), 1);
        assert!(a.findings[0].message.contains("Key Vault reference"));
    }
}
