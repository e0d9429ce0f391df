//! Evaluates deployments the way the deployment engine would, as far as that can be known
//! offline, so the rule can judge deployed values and a fix can be proven to change nothing
//! but rotation. [`value`] is the value model (with Unknown), [`deployment`] the evaluated
//! shape every language's evaluator produces, [`functions`] the one table of template
//! functions, [`types`] declared types and their check, [`arm`] the ARM evaluator (and
//! [`arm_origin`] its provenance: where a cluster's values are written, on the shared
//! [`provenance`] core),
//! [`bicep`] the Bicep evaluator (its expressions and types read by the private
//! `bicep_expr` and `bicep_types`; [`bicep_origin`] its provenance, on the same core),
//! [`mod@judge`] the rule on evaluated values, and [`proof`] the before/after comparison
//! that says what else a fix changes.

pub mod arm;
pub(crate) mod arm_origin;
pub(crate) mod bicep;
mod bicep_expr;
pub(crate) mod bicep_origin;
mod bicep_types;
pub(crate) mod deployment;
pub(crate) mod functions;
pub(crate) mod judge;
pub(crate) mod linked;
mod load;
pub mod proof;
pub(crate) mod provenance;
pub(crate) mod terraform;
pub(crate) mod types;
pub(crate) mod value;

/// How deep any recursion of an evaluator may go (nested JSON values, nested expression
/// terms, a variable or parameter using another, nested deployments, all counted together
/// on one path) before its value is an Unknown. Real templates stay far below it: JSON nests
/// some 20 levels, a chain of variables a few times an expression's 10-odd terms,
/// deployments a handful. The cap exists for stack safety: the deepest evaluation must fit in
/// a 2 MiB thread stack (Rust's default for spawned threads, test threads included) in a
/// debug build. `eval::arm`'s deep-input test passes at twice this number; the Bicep
/// evaluator, whose frames are larger, weighs a module level as 4 and a parse level as 2 so
/// that its deepest tests fit.
pub(crate) const MAX_DEPTH: usize = 256;

pub use deployment::{Configuration, Deployment, Resource};
pub(crate) use judge::{judge, Judgement};
pub(crate) use proof::classify;
pub use value::{Object, Unknown, Value};
