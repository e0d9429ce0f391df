//! Evaluates deployments the way the deployment engine would, as far as that can be known
//! offline, so the rule can judge deployed values and a fix can be proven to change nothing
//! but rotation. [`value`] is the value model (with Unknown), [`deployment`] the evaluated
//! shape every language's evaluator produces, [`judge`] the rule on evaluated values, and
//! [`proof`] the before/after comparison that says what else a fix changes.

pub mod deployment;
pub mod judge;
pub mod proof;
pub mod value;

pub use deployment::{Configuration, Deployment, Resource};
pub use judge::{judge, Judgement};
pub use proof::{classify, classify_all, compare, Difference, Proof};
pub use value::{Object, Unknown, Value};
