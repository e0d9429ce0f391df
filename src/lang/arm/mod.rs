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

use crate::eval::{Configuration, Deployment};
use crate::finding::{Analysis, SourceError};
use crate::lang::{Language, Options};
use std::path::Path;

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

    fn evaluate(&self, text: &str, config: &Configuration, _: Option<&Path>) -> Option<Deployment> {
        let root = jsonc::parse(text).ok()?;
        if !template::is_template(&root) {
            return None;
        }
        Some(crate::eval::arm::evaluate(&root.to_value(), config))
    }

    fn shape(&self, text: &str) -> Option<serde_json::Value> {
        jsonc::parse(text).ok().map(|root| root.to_value())
    }

    fn locate(&self, text: &str, pointer: &str) -> Option<(usize, usize)> {
        let root = jsonc::parse(text).ok()?;
        let node = find(&root, pointer)?;
        Some((node.span.start, node.span.end))
    }

    fn literal_rotation(&self, text: &str, pointer: &str) -> Option<crate::edit::Edit> {
        let root = jsonc::parse(text).ok()?;
        let node = find(&root, pointer)?;
        match node.kind {
            jsonc::Kind::Object(_) | jsonc::Kind::Array(_) => None,
            _ => Some(crate::edit::Edit::replace(
                node.span.start,
                node.span.end,
                "\"true\"",
            )),
        }
    }
}

/// The node at JSON pointer `pointer`, keys compared ignoring ASCII case (the last of
/// duplicates, as the deployment engine reads them).
fn find<'n, 'a>(root: &'n jsonc::Node<'a>, pointer: &str) -> Option<&'n jsonc::Node<'a>> {
    let mut node = root;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        node = match &node.kind {
            jsonc::Kind::Object(members) => {
                &members
                    .iter()
                    .rev()
                    .find(|m| m.key.eq_ignore_ascii_case(&token))?
                    .value
            }
            jsonc::Kind::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}
