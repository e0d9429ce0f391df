//! Parameter files: finds the `*.parameters*.json` files that feed a template (same folder
//! and stem, or a `metadata.template` path naming it) and plans fixes for the parameters
//! that the template's rotation setting reads. A parameter file whose template was not
//! scanned is never touched.

use crate::error::Error;
use crate::finding::{
    duplicate_key, manual_review_message, Analysis, Finding, FixSource, Quote, Remedy,
};
use crate::lang::arm::jsonc::{self, Kind};
use crate::lang::arm::render;
use crate::lang::arm::template::{self as arm, Segment};
use crate::lang::arm::trace::{self, ParamDemand};
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

/// True when `file` is named like a parameter file of `template`: `STEM.parameters.json`
/// or `STEM.parameters.ANYTHING.json`, in the same folder.
pub(crate) fn named_for(template: &Path, file: &Path) -> bool {
    if template.parent() != file.parent() {
        return false;
    }
    let (Some(stem), Some(name)) = (
        template.file_stem().and_then(|s| s.to_str()),
        file.file_name().and_then(|s| s.to_str()),
    ) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    let prefix = format!("{}.parameters.", stem.to_ascii_lowercase());
    lower.starts_with(&prefix) && lower.ends_with(".json")
}

/// Whether a file name is shaped like a parameter file's (`*.parameters*.json`), so that it
/// is kept as a candidate even when its head does not name the schema.
pub fn looks_named_like_parameters(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy()
        .to_ascii_lowercase()
        .contains(".parameters")
}

/// The template a parameter file names in `metadata.template`, resolved against its folder.
pub(crate) fn metadata_template(file: &Path, text: &str) -> Option<PathBuf> {
    let root = jsonc::parse(text).ok()?;
    let Lookup::Found(_, meta) = arm::get(&root, "metadata") else {
        return None;
    };
    let Lookup::Found(_, t) = arm::get(meta, "template") else {
        return None;
    };
    let rel = t.as_str()?;
    Some(file.parent().unwrap_or(Path::new("")).join(rel))
}

/// Plans the fixes of one parameter file. `Ok(None)` when it is not a parameter file.
pub(crate) fn analyze(text: &str, demands: &[Demand]) -> Result<Option<Analysis>, Error> {
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
        let (vkey, value) = match arm::get(entry.1, "value") {
            Lookup::Found(k, v) => (k, v),
            Lookup::Missing => continue,
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
        let new = if demand.parameter.boolean {
            serde_json::Value::Bool(true)
        } else {
            serde_json::Value::String("true".into())
        };
        let op = PatchOperation::Replace(ReplaceOperation {
            path: pointer.clone(),
            value: new.clone(),
        });
        let edits = render::render(text, &root, &op).map_err(|m| {
            Error::internal(value.span.start, format!("cannot render the fix: {m}"))
        })?;
        // The value as the fix writes it: `true` for a bool parameter, `"true"` for a string.
        let message = format!(
            "parameter `{}` sets `{ROTATION}` of {} to {}; it must be {new}",
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
    fn names() {
        let t = Path::new("a/azuredeploy.json");
        assert!(named_for(t, Path::new("a/azuredeploy.parameters.json")));
        assert!(named_for(
            t,
            Path::new("a/AzureDeploy.Parameters.prod.json")
        ));
        assert!(!named_for(t, Path::new("b/azuredeploy.parameters.json")));
        assert!(!named_for(t, Path::new("a/other.parameters.json")));
    }

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
    fn metadata_template_resolves_relative() {
        let p = metadata_template(
            Path::new("env/prod.json"),
            r#"{"metadata": {"template": "../main.json"}}"#,
        );
        assert_eq!(p, Some(PathBuf::from("env/../main.json")));
    }
}
