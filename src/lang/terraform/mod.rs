//! Terraform (`*.tf`, `*.tfvars`): finds `azurerm_kubernetes_cluster` resources whose
//! `key_vault_secrets_provider` block (static, or `dynamic` with a non-empty `for_each`) turns
//! on the Secrets Store CSI Driver add-on without `secret_rotation_enabled = true`, calls of
//! the known AKS modules, and `azapi_resource` clusters whose `body` (an object, or
//! `jsonencode` of one) holds the ARM shape the ARM rule judges, and plans the edit a person
//! would make, proven at deploy time like ARM's.
//!
//! A Terraform root module is a folder: every `.tf` file in it (override files merged in as
//! Terraform merges them) is one configuration, with `terraform.tfvars` and `*.auto.tfvars`
//! loaded automatically, and each other `*.tfvars` file of the folder a configuration of its
//! own (like an ARM parameter file). So a file is
//! analysed with its folder: [`hcl`] reads each file, [`crate::eval::terraform`] evaluates the
//! folder, [`plan`] decides per cluster and searches the fix (the literal in the cluster, or
//! the variable default, `local` or `.tfvars` value it comes from) under the shared proof
//! ([`crate::eval::proof`]), and [`render`] writes it in the file's style. A file reports the
//! findings whose fix lands in it; a cluster whose fix lands in another file that the run
//! does not read is reported in the cluster's file, for manual review.

pub(crate) mod callers;
pub(crate) mod hcl;
pub(crate) mod json;
pub(crate) mod plan;
pub(crate) mod render;

use crate::error::Error;
use crate::finding::Analysis;
use crate::lang::{checks, Language, Options};
use std::path::{Path, PathBuf};

/// Words a Terraform file must contain (ignoring ASCII case) to possibly need a fix or to
/// feed one: a cluster or its add-on block, or a variable, local or tfvars value.
/// A `module` call may be a local module's with a cluster inside.
pub(crate) const MARKERS: [&str; 6] = [
    crate::eval::terraform::CLUSTER,
    crate::rule::ADDON,
    "module",
    crate::eval::terraform::ADDON_BLOCK,
    "variable",
    "locals",
];

/// Terraform as a [`Language`]: `.tf` files, or `.tfvars` files (`vars`).
pub(crate) struct Terraform {
    pub(crate) vars: bool,
}

impl Language for Terraform {
    fn may_concern(&self, bytes: &[u8]) -> bool {
        // A `.tfvars` file holds only `name = value` lines: it may feed a cluster's rotation
        // whatever it mentions.
        self.vars || crate::run::read::mentions_any(bytes, &MARKERS)
    }

    fn analyze(&self, text: &str, options: &Options) -> Result<Option<Analysis>, Error> {
        self.analyze_at(text, options, None)
    }

    fn analyze_at(
        &self,
        text: &str,
        options: &Options,
        path: Option<&Path>,
    ) -> Result<Option<Analysis>, Error> {
        let folder = plan::Folder::read(text, path, self.vars)?;
        Ok(plan::analyze(&folder, options))
    }

    fn verify(&self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
        self.verify_at(original, analysis, fixed, None)
    }

    fn verify_at(
        &self,
        original: &str,
        analysis: &Analysis,
        fixed: &str,
        path: Option<&Path>,
    ) -> Result<(), String> {
        checks::untouched_outside_edits(original, &analysis.edits, fixed)?;
        let after =
            body_of_text(fixed).map_err(|e| format!("the fixed text does not parse: {e}"))?;
        let mut rotation_values = Vec::new();
        rotation_spans(&after, &mut rotation_values);
        // A local module call's rotation input (by the name its findings point at) is the
        // call's rotation value: whatever expression stood there may become `true`.
        for (call, input) in analysis
            .findings
            .iter()
            .filter_map(|f| f.pointer.as_deref()?.strip_prefix("/module/"))
            .filter_map(|p| p.split_once('/'))
        {
            for m in after.blocks("module").filter(|m| m.labels == [call]) {
                if let Some(a) = m.body.attr(input) {
                    rotation_values.push(a.value.span);
                }
            }
        }
        let mut sorted: Vec<&crate::edit::Edit> = analysis.edits.iter().collect();
        sorted.sort_by_key(|e| (e.start, e.end));
        let mut shift: isize = 0;
        for e in sorted {
            let r = e.replacement.as_str();
            let new_start = (e.start as isize + shift) as usize;
            shift += r.len() as isize - (e.end - e.start) as isize;
            // A value that became `true`: a literal anywhere (a variable default, a `.tfvars`
            // value, a branch), or whatever stood as a cluster's rotation argument.
            let literal = matches!(r, "true" | "\"true\"")
                && (matches!(
                    &original[e.start..e.end],
                    "false" | "\"false\"" | "null" | "0" | "\"\"" | "\"False\"" | "\"FALSE\""
                ) || rotation_values.contains(&(new_start, new_start + r.len())));
            // An added argument or object member: nothing but the rotation setting (for the
            // AVM module, possibly inside a new `config` object), blanks and a comma.
            // Terraform's JSON syntax writes `"key": value`: compared without quotes, `:` as
            // `=`, and its comma may come as an edit of its own.
            let squeezed: String = r.chars().filter(|c| !c.is_whitespace()).collect();
            let plain = |s: &str| s.replace('"', "").replace(':', "=");
            // A local module call's rotation input, by the name its findings point at.
            let inputs: Vec<String> = analysis
                .findings
                .iter()
                .filter_map(|f| f.pointer.as_deref()?.strip_prefix("/module/"))
                .filter_map(|p| p.rsplit_once('/'))
                .map(|(_, input)| format!("{input}=true"))
                .collect();
            // (What the edit replaces may be blanks only: a one-line block opening up.)
            let inserted = original[e.start..e.end].trim().is_empty()
                && (squeezed.is_empty()
                    || squeezed == ","
                    || member_set_true(&plain(&squeezed))
                    || [
                        "secret_rotation_enabled=true",
                        "enable_secret_rotation=true",
                        "config={enable_secret_rotation=true}",
                        "enableSecretRotation=\"true\"",
                        "config={enableSecretRotation=\"true\"}",
                    ]
                    .iter()
                    .map(|f| f.to_string())
                    .chain(inputs.iter().cloned())
                    .any(|form| {
                        let (form, squeezed) = (plain(&form), plain(&squeezed));
                        squeezed == form || squeezed == format!(",{form}")
                    }));
            if !(literal || inserted) {
                return Err(format!(
                    "the edit at byte {} does more than set secret rotation",
                    e.start
                ));
            }
        }
        let options = Options {
            force_literal: false,
            unsafe_fixes: analysis.unsafe_applied,
        };
        let again = self
            .analyze_at(fixed, &options, path)
            .map_err(|e| format!("the fixed text cannot be re-read: {e}"))?
            .unwrap_or_default();
        checks::nothing_left(analysis, &again)
    }

    fn has_json_patch(&self) -> bool {
        false
    }

    fn no_patch_reason(&self) -> &'static str {
        "is Terraform: its fixes are HCL text edits, not a JSON Patch on an ARM template"
    }
}

/// Whether an inserted text (blanks removed) is one object member set to `true`, possibly
/// nested (`a=true`, `a={b=true}`, after a comma): an attribute an object omitted (its
/// `optional(bool, false)` default deployed), added to a variable default or `.tfvars` value.
/// What it changes in the deployment is the proof's to judge.
fn member_set_true(squeezed: &str) -> bool {
    let mut s = squeezed.strip_prefix(',').unwrap_or(squeezed);
    let name = |s: &str| -> Option<usize> {
        let n = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(s.len());
        (n > 0 && !s.as_bytes()[0].is_ascii_digit()).then_some(n)
    };
    let mut open = 0;
    loop {
        let Some(n) = name(s) else { return false };
        s = &s[n..];
        if let Some(rest) = s.strip_prefix("={") {
            open += 1;
            s = rest;
            continue;
        }
        return s.strip_prefix("=true") == Some(&"}".repeat(open));
    }
}

/// The spans of every `secret_rotation_enabled` value in a body, at any depth.
fn rotation_spans(body: &hcl::Body, out: &mut Vec<(usize, usize)>) {
    for item in &body.items {
        match item {
            hcl::Item::Attr(a) if a.key == crate::eval::terraform::ROTATION_ARG => {
                out.push(a.value.span)
            }
            hcl::Item::Attr(a) => member_spans(&a.value, out),
            hcl::Item::Block(b) => rotation_spans(&b.body, out),
        }
    }
}

/// The spans of rotation members (`secret_rotation_enabled`, `enable_secret_rotation`) in
/// object expressions (module inputs), at any depth.
fn member_spans(e: &hcl::Expr, out: &mut Vec<(usize, usize)>) {
    // An azapi `body = jsonencode({...})` holds its object inside the call.
    if let hcl::ExprKind::Call(name, args) = &e.kind {
        if name == "jsonencode" {
            args.iter().for_each(|a| member_spans(a, out));
        }
    }
    if let hcl::ExprKind::Object(ms) = &e.kind {
        for m in ms {
            match m.key.as_deref() {
                Some(
                    crate::eval::terraform::ROTATION_ARG
                    | crate::eval::terraform::AVM_ROTATION
                    | crate::rule::ROTATION,
                ) => out.push(m.value.span),
                _ => member_spans(&m.value, out),
            }
        }
    }
}

/// Parses a Terraform file in either syntax: JSON (`*.tf.json`, `*.tfvars.json`: the text
/// starts with `{`, which native syntax cannot) or native HCL.
pub(crate) fn body_of_text(text: &str) -> Result<hcl::Body, Error> {
    if json::is_json(text) {
        json::parse(text)
    } else {
        hcl::parse(text)
    }
}

/// The folder a file belongs to, `.` for a bare name.
pub(crate) fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::member_set_true;

    #[test]
    fn an_inserted_member_may_only_set_one_name_to_true() {
        for ok in ["a=true", ",a=true", "a={b=true}", "rot-x={y_1={z=true}}"] {
            assert!(member_set_true(ok), "{ok}");
        }
        for bad in [
            "a=false",
            "a=true,b=true",
            "a={b=true",
            "a={b=true}}",
            "a=true}",
            "1a=true",
            "=true",
            "a={b=1,c=true}",
            "a=var.x",
        ] {
            assert!(!member_set_true(bad), "{bad}");
        }
    }
}
