//! The languages armfix reads, each behind one [`Language`] trait, and the registry that
//! tells which language a path is in ([`FileKind`]). Each language is a folder with the same
//! inner shape (read and parse, find clusters, plan, render, verify, parameter files); what
//! they share is written once beside them: `style` (layout facts), `checks` (the parts
//! of verification every language runs). Stages after this one see only [`Analysis`] and
//! edits.

pub mod arm;
pub mod bicep;
pub(crate) mod checks;
pub mod script;
pub(crate) mod style;
pub mod terraform;

use crate::error::Error;
use crate::eval::{Configuration, Deployment};
use crate::finding::Analysis;
use script::Dialect;
use std::path::Path;

/// Choices that change what a fix may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Overwrite an expression that cannot be traced with the literal value.
    pub(crate) force_literal: bool,
    /// Apply fixes the deploy-time proof found to change more than rotation.
    pub(crate) unsafe_fixes: bool,
}

/// One language: every stage of the per-file pipeline that depends on its syntax. The
/// engine runs `may_concern` → `analyze` → `verify` for every file, whatever its language.
pub(crate) trait Language: Sync {
    /// Cheap test on raw bytes: can this file concern the rule at all?
    fn may_concern(&self, bytes: &[u8]) -> bool;
    /// Parses, finds clusters, decides and plans the fixes with their text edits.
    /// `Ok(None)`: the file is not one armfix acts on (e.g. JSON that is not a template).
    fn analyze(&self, text: &str, options: &Options) -> Result<Option<Analysis>, Error>;
    /// Proves that `fixed` (the original with the analysis' edits) is the intended change
    /// and nothing else, before anything is written.
    fn verify(&self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String>;
    /// [`Language::analyze`] for the file at `path` (`None`: standard input), for languages
    /// whose files are read with their siblings (a Terraform module is a folder).
    fn analyze_at(
        &self,
        text: &str,
        options: &Options,
        _path: Option<&Path>,
    ) -> Result<Option<Analysis>, Error> {
        self.analyze(text, options)
    }
    /// [`Language::verify`] for the file at `path` (`None`: standard input).
    fn verify_at(
        &self,
        original: &str,
        analysis: &Analysis,
        fixed: &str,
        _path: Option<&Path>,
    ) -> Result<(), String> {
        self.verify(original, analysis, fixed)
    }
    /// Why `armfix patch` prints `[]` for this language (after the file's name), when its
    /// fixes are no JSON Patch.
    fn no_patch_reason(&self) -> &'static str {
        "is a script: its fixes are text edits, not a JSON Patch"
    }
    /// Whether fixes are a JSON Patch on the file's ARM shape (`armfix patch` prints it).
    fn has_json_patch(&self) -> bool;
    /// Evaluates the deployment the file declares with `config`, as the deployment engine
    /// would; `None` when the language has no evaluator or the text does not parse. `path`
    /// is where the file is, for modules it calls.
    fn evaluate(
        &self,
        _text: &str,
        _config: &Configuration,
        _path: Option<&Path>,
    ) -> Option<Deployment> {
        None
    }
    /// The file's ARM shape, which its JSON Patch addresses.
    fn shape(&self, _text: &str) -> Option<serde_json::Value> {
        None
    }
    /// The byte range of the value at JSON pointer `pointer` in the file's ARM shape (keys
    /// compared ignoring ASCII case).
    fn locate(&self, _text: &str, _pointer: &str) -> Option<(usize, usize)> {
        None
    }
    /// The edit that overwrites the value at `pointer` (a cluster's rotation setting, a
    /// scalar or an expression, never an object) with the literal `true` as this language
    /// spells the rotation value.
    fn literal_rotation(&self, _text: &str, _pointer: &str) -> Option<crate::edit::Edit> {
        None
    }
    /// The edit that overwrites the add-on's `config` at `pointer` (an expression or null,
    /// never an object) with a literal object holding only the rotation setting.
    fn literal_config(&self, _text: &str, _pointer: &str) -> Option<crate::edit::Edit> {
        None
    }
    /// Places in the file where a literal could be what makes a cluster fail, each with the
    /// edit that turns it true and where it is: parameter defaults that are `false` or
    /// `'false'`, and `enableSecretRotation` members set to one of those. The deploy-time
    /// proof tries them one at a time when the source reading found no fix.
    fn candidates(&self, _text: &str) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        Vec::new()
    }
    /// The fixes along the provenance chain of the rotation value of the cluster at
    /// `cluster` (its JSON pointer in the file's ARM shape, e.g. `/resources/1`), in the
    /// order the proof tries them: the place where the value is written first, then each
    /// place it passes on its way, closer and closer to the cluster (a variable, a
    /// parameter whose default is an expression, …), the cluster's own value last; each
    /// with the edit that writes true there, spelled as the value at that place is typed,
    /// and where it lands. Empty when the language has no provenance.
    fn chain_candidates(
        &self,
        _text: &str,
        _cluster: &str,
    ) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        Vec::new()
    }
    /// Arguments a call of another file (a module) could add: for each parameter of a callee
    /// on disk (relative to `path`) whose default is a false literal and that the call does
    /// not pass, the edit that passes it true. Tried by the proof after [`Self::candidates`].
    fn call_candidates(
        &self,
        _text: &str,
        _path: Option<&Path>,
    ) -> Vec<(crate::edit::Edit, crate::finding::FixSource)> {
        Vec::new()
    }
}

/// The kinds of file armfix understands: the registry of languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// ARM JSON (templates; other JSON is skipped after parsing).
    Json,
    /// Bicep source (`.bicep`) and Bicep parameter files (`.bicepparam`).
    Bicep,
    /// Azure CLI scripts (shell, PowerShell, pipeline YAML), read as text; no JSON Patch.
    Script(Dialect),
    /// Terraform: `.tf` files (`false`) and `.tfvars` files (`true`); no JSON Patch.
    Terraform(bool),
}

impl FileKind {
    /// The kind a walk assigns by file extension (ASCII case-insensitive), if any.
    pub fn of(path: &Path) -> Option<FileKind> {
        // Terraform's JSON syntax: `*.tf.json`, `*.tfvars.json`.
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".tf.json") {
            return Some(FileKind::Terraform(false));
        }
        if name.ends_with(".tfvars.json") {
            return Some(FileKind::Terraform(true));
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" | "jsonc" => Some(FileKind::Json),
            "bicep" | "bicepparam" => Some(FileKind::Bicep),
            "sh" | "bash" | "azcli" => Some(FileKind::Script(Dialect::Shell)),
            "ps1" => Some(FileKind::Script(Dialect::PowerShell)),
            "yml" | "yaml" => Some(FileKind::Script(Dialect::Yaml)),
            "tf" => Some(FileKind::Terraform(false)),
            "tfvars" => Some(FileKind::Terraform(true)),
            _ => None,
        }
    }

    /// The kind of a file named explicitly: its extension's, else JSON.
    pub fn of_explicit(path: &Path) -> FileKind {
        Self::of(path).unwrap_or(FileKind::Json)
    }

    /// The language that reads this kind of file.
    pub(crate) fn language(self) -> &'static dyn Language {
        match self {
            FileKind::Json => &arm::Arm,
            FileKind::Bicep => &bicep::Bicep,
            FileKind::Script(Dialect::Shell) => &script::Scripts(Dialect::Shell),
            FileKind::Script(Dialect::PowerShell) => &script::Scripts(Dialect::PowerShell),
            FileKind::Script(Dialect::Yaml) => &script::Scripts(Dialect::Yaml),
            FileKind::Terraform(false) => &terraform::Terraform { vars: false },
            FileKind::Terraform(true) => &terraform::Terraform { vars: true },
        }
    }

    /// Cheap test on raw bytes: can this file concern the rule at all?
    pub fn may_concern(self, bytes: &[u8]) -> bool {
        self.language().may_concern(bytes)
    }

    /// Finds and plans. `Ok(None)`: the file is not one armfix acts on (e.g. not a template).
    pub fn analyze(self, text: &str, options: &Options) -> Result<Option<Analysis>, Error> {
        self.language().analyze(text, options)
    }

    /// Proves that `fixed` (the original with the analysis' edits) is the intended change.
    pub fn verify(self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
        self.language().verify(original, analysis, fixed)
    }

    /// Whether fixes of this kind are a JSON Patch (`armfix patch` prints it).
    pub fn has_json_patch(self) -> bool {
        self.language().has_json_patch()
    }

    /// An evaluated value as a file of this kind writes it, for messages: ARM JSON and
    /// scripts `"false"`, Bicep `'false'`, Terraform (HCL) `"false"`; objects and arrays in
    /// the same syntax, on one line. Unknown values as the evaluator says them.
    pub(crate) fn spell(self, v: &crate::eval::Value) -> String {
        use crate::eval::Value;
        let (quote, assign): (fn(&str) -> String, &str) = match self {
            FileKind::Bicep => (crate::lang::bicep::render::quote, ": "),
            FileKind::Terraform(_) => (json_string, " = "),
            FileKind::Json | FileKind::Script(_) => return v.to_string(),
        };
        fn go(v: &Value, quote: fn(&str) -> String, assign: &str, depth: usize) -> String {
            if depth > 32 {
                return "…".into();
            }
            match v {
                Value::Str(s) => quote(s),
                Value::Array(items) => {
                    let items: Vec<String> = items
                        .iter()
                        .map(|i| go(i, quote, assign, depth + 1))
                        .collect();
                    format!("[{}]", items.join(", "))
                }
                Value::Object(o) => {
                    let members: Vec<String> = o
                        .iter()
                        .map(|(k, v)| format!("{k}{assign}{}", go(v, quote, assign, depth + 1)))
                        .collect();
                    if members.is_empty() {
                        "{}".into()
                    } else {
                        format!("{{ {} }}", members.join(", "))
                    }
                }
                other => other.to_string(),
            }
        }
        go(v, quote, assign, 0)
    }
}

/// A double-quoted string, escaped as JSON (and HCL) write it.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Value;

    #[test]
    fn values_are_spelled_as_each_language_writes_them() {
        let v = Value::from_json(&serde_json::json!(
            {"a": "it's ${x}", "b": [true, null, 1], "c": {}}
        ));
        assert_eq!(FileKind::Json.spell(&Value::str("false")), "\"false\"");
        assert_eq!(FileKind::Bicep.spell(&Value::str("false")), "'false'");
        assert_eq!(FileKind::Bicep.spell(&Value::Bool(false)), "false");
        assert_eq!(
            FileKind::Bicep.spell(&v),
            "{ a: 'it\\'s \\${x}', b: [true, null, 1], c: {} }"
        );
        assert_eq!(
            FileKind::Terraform(false).spell(&Value::str("false")),
            "\"false\""
        );
        assert_eq!(
            FileKind::Terraform(true).spell(&Value::Bool(false)),
            "false"
        );
        assert_eq!(
            FileKind::Terraform(false).spell(&v),
            "{ a = \"it's ${x}\", b = [true, null, 1], c = {} }"
        );
    }
}
