//! armfix: repairs Azure templates so AKS clusters rotate Secrets Store CSI Driver secrets.
//!
//! The pipeline, one module a stage: [`discover`] files → [`read`] and prefilter →
//! [`jsonc`] parse with spans → [`arm`] find clusters → [`rule`] decide → [`plan`] a JSON
//! Patch → [`render`] minimal text edits ([`edit`]) → [`verify`] → [`present`] → [`apply`].
//! [`engine`] runs the per-file stages; [`app`] runs a command over many files; [`report`]
//! turns a run into JSON, SARIF, GitHub annotations or a Markdown summary; [`config`] reads
//! `armfix.toml`.

pub mod app;
pub mod apply;
pub mod arm;
pub mod bicep;
pub mod cli;
pub mod config;
pub mod discover;
pub mod edit;
pub mod engine;
pub mod expr;
pub mod finding;
pub mod jsonc;
pub mod kind;
pub mod location;
pub mod params;
pub mod plan;
pub mod present;
pub mod read;
pub mod render;
pub mod report;
pub mod rule;
pub mod script;
pub mod textdiff;
pub mod trace;
pub mod verify;
