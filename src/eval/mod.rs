//! Evaluates deployments the way the deployment engine would, as far as that can be known
//! offline, so the rule can judge deployed values and a fix can be proven to change nothing
//! but rotation. [`value`] is the value model (with Unknown), [`deployment`] the evaluated
//! shape every language's evaluator produces.

pub mod bicep;
mod bicep_expr;
pub mod deployment;
pub mod functions;
pub mod types;
pub mod value;

/// How deep any recursion of an evaluator may go (nested expressions, variables that use
/// variables, nested JSON, nested deployments, deep `union`s, all counted together) before
/// its value is an Unknown. Real templates stay far below it: JSON nests some 20 levels,
/// deployments a handful, and the expression parser already refuses 200 nested terms. It is
/// low enough that the deepest evaluation fits in a 2 MiB thread stack (Rust's default for
/// spawned threads, test threads included) in a debug build, which a test checks.
pub const MAX_DEPTH: usize = 128;

pub use deployment::{Configuration, Deployment, Resource};
pub use value::{Object, Unknown, Value};
