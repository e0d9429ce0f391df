//! armfix: repairs Azure templates so AKS clusters rotate Secrets Store CSI Driver secrets.
//!
//! The pipeline, one module a job:
//! - [`cli`] parses the command line and [`settings`] resolves flags over `armfix.toml` over
//!   defaults, once; [`commands`] runs one command each (check, fix, patch, man).
//! - [`run`]: [`run::discover`] walks the paths → [`run::read`] reads and prefilters →
//!   [`run::engine`] runs one file's stages: parse, find clusters and plan ([`lang`]), prove
//!   at deploy time (`run::prove`, in every configuration `run::configurations` finds),
//!   render and verify → [`run::link`] settles what one file says because of another
//!   (parameter files, compiled JSON, local modules) → [`run::batch`] does it over many files
//!   in parallel → [`run::write`] writes atomically.
//! - [`lang`]: one folder per language behind the [`lang::Language`] trait ([`lang::arm`],
//!   [`lang::bicep`], [`lang::script`]), with what they share beside them (layout facts,
//!   verification steps).
//! - [`eval`]: the evaluator every language shares: a value model with Unknown, one table of
//!   template functions, declared types, the ARM and Bicep evaluators, the rule on evaluated
//!   values ([`mod@eval::judge`]) and the before/after proof ([`eval::proof`]).
//! - [`rule`] decides on source trees; [`finding`] and [`edit`] are the data every stage after
//!   the rule passes along; [`location`] turns offsets into lines and columns.
//! - [`output`] shows a run: text and diffs, progress, and JSON, SARIF, GitHub annotations and
//!   Markdown reports.

pub mod cli;
pub mod commands;
pub mod edit;
pub mod error;
pub mod eval;
pub mod finding;
pub mod lang;
pub mod location;
pub mod output;
pub(crate) mod psrule;
pub(crate) mod rule;
pub mod run;
pub(crate) mod settings;
