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
