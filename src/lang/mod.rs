//! Tells which kind of file a path is, and routes each kind to its reader, planner and
//! verifier. New file kinds (Bicep, scripts) plug in here; stages after it see only
//! [`Analysis`] and edits.

pub mod arm;
pub mod bicep;
pub mod script;
pub(crate) mod style;

use crate::finding::{Analysis, SourceError};
use crate::lang::arm::plan::{self, Options};
use crate::{lang::arm::verify, run::read};
use script::Dialect;
use std::path::Path;

/// The kinds of file armfix understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// ARM JSON (templates; other JSON is skipped after parsing).
    Json,
    /// Bicep source (`.bicep`) and Bicep parameter files (`.bicepparam`).
    Bicep,
    /// Azure CLI scripts (shell, PowerShell, pipeline YAML), read as text; no JSON Patch.
    Script(Dialect),
}

impl FileKind {
    /// The kind a walk assigns by file extension (ASCII case-insensitive), if any.
    pub fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" | "jsonc" => Some(FileKind::Json),
            "bicep" | "bicepparam" => Some(FileKind::Bicep),
            "sh" | "bash" | "azcli" => Some(FileKind::Script(Dialect::Shell)),
            "ps1" => Some(FileKind::Script(Dialect::PowerShell)),
            "yml" | "yaml" => Some(FileKind::Script(Dialect::Yaml)),
            _ => None,
        }
    }

    /// The kind of a file named explicitly: its extension's, else JSON.
    pub fn of_explicit(path: &Path) -> FileKind {
        Self::of(path).unwrap_or(FileKind::Json)
    }

    /// Cheap test on raw bytes: can this file concern the rule at all?
    pub fn may_concern(self, bytes: &[u8]) -> bool {
        match self {
            FileKind::Json => read::mentions_rule(bytes),
            FileKind::Bicep => bicep::may_concern(bytes),
            FileKind::Script(_) => script::mentions_rule(bytes),
        }
    }

    /// Finds and plans. `Ok(None)`: the file is not one armfix acts on (e.g. not a template).
    pub fn analyze(self, text: &str, options: &Options) -> Result<Option<Analysis>, SourceError> {
        match self {
            FileKind::Json => plan::analyze(text, options),
            FileKind::Bicep => bicep::analyze(text),
            FileKind::Script(d) => script::analyze_as(text, d),
        }
    }

    /// Proves that `fixed` (the original with the analysis' edits) is the intended change.
    pub fn verify(self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
        match self {
            FileKind::Json => verify::json(original, analysis, fixed),
            FileKind::Bicep => bicep::verify(original, analysis, fixed),
            FileKind::Script(d) => script::verify_as(original, analysis, fixed, d),
        }
    }

    /// Whether fixes of this kind are a JSON Patch (`armfix patch` prints it).
    pub fn has_json_patch(self) -> bool {
        matches!(self, FileKind::Json | FileKind::Bicep)
    }
}
