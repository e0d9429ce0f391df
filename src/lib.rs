//! armfix: repairs Azure templates so AKS clusters rotate Secrets Store CSI Driver secrets.
//!
//! The pipeline, one module a stage: [`discover`] files → [`read`] and prefilter → [`kind`]
//! routes each file kind → [`jsonc`] parse with spans → [`arm`] find clusters → [`trace`]
//! follows expressions ([`expr`]) to their source → [`rule`] decides → [`plan`] a JSON Patch
//! → [`render`] minimal text edits ([`edit`]) → [`verify`] → [`present`] (with
//! [`textdiff`]) → [`apply`]. Bicep ([`bicep`]) and Azure CLI scripts ([`script`]) have their
//! own readers and planners and share the rule and everything after the edits; parameter
//! files are planned by [`params`]. [`engine`] runs the per-file stages; [`app`] runs a
//! command over many files; [`report`] turns a run into JSON, SARIF, GitHub annotations or a
//! Markdown summary; [`config`] reads `armfix.toml`; [`finding`] and [`location`] are the
//! data every stage after the rule shares.

pub mod cli;
pub mod commands;
pub mod edit;
pub mod error;
pub mod eval;
pub mod finding;
pub mod lang;
pub mod location;
pub mod output;
pub(crate) mod rule;
pub mod run;
pub(crate) mod settings;
