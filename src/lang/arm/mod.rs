//! ARM JSON: templates and their parameter files. [`jsonc`] parses with spans,
//! [`template`] finds clusters, [`expr`] parses expressions and [`trace`] follows them to
//! their source, [`plan`] decides the JSON Patch, [`render`] turns it into minimal text
//! edits, [`verify`] proves them, and [`params`] plans parameter files.

pub mod expr;
pub mod jsonc;
pub mod params;
pub mod plan;
pub mod render;
pub mod template;
pub mod trace;
pub mod verify;

use crate::finding::{Analysis, SourceError};
use crate::lang::{Language, Options};

/// ARM JSON as a [`Language`].
pub(crate) struct Arm;

impl Language for Arm {
    fn may_concern(&self, bytes: &[u8]) -> bool {
        crate::run::read::mentions_rule(bytes)
    }

    fn analyze(&self, text: &str, options: &Options) -> Result<Option<Analysis>, SourceError> {
        plan::analyze(text, options)
    }

    fn verify(&self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
        verify::json(original, analysis, fixed)
    }

    fn has_json_patch(&self) -> bool {
        true
    }
}
