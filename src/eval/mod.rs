//! Evaluates deployments the way the deployment engine would, as far as that can be known
//! offline, so the rule can judge deployed values and a fix can be proven to change nothing
//! but rotation. [`value`] is the value model (with Unknown), [`deployment`] the evaluated
//! shape every language's evaluator produces, [`functions`] the one table of template
//! functions, [`types`] declared types and their check, [`arm`] the ARM evaluator, and
//! [`bicep`] the Bicep evaluator (its expressions and types read by the private
//! `bicep_expr` and `bicep_types`).

pub mod arm;
pub mod bicep;
mod bicep_expr;
mod bicep_types;
pub mod deployment;
pub mod functions;
pub mod types;
pub mod value;

/// How deep any recursion of an evaluator may go (nested JSON values, nested expression
/// terms, a variable or parameter using another, nested deployments, all counted together
/// on one path) before its value is an Unknown. Real templates stay far below it: JSON nests
/// some 20 levels, a chain of variables a few times an expression's 10-odd terms,
/// deployments a handful. The cap exists for stack safety: the deepest evaluation must fit in
/// a 2 MiB thread stack (Rust's default for spawned threads, test threads included) in a
/// debug build. `eval::arm`'s deep-input test passes at twice this number, so 256 leaves
/// that much headroom.
pub const MAX_DEPTH: usize = 256;

pub use deployment::{Configuration, Deployment, Resource};
pub use value::{Object, Unknown, Value};
