//! Evaluates deployments the way the deployment engine would, as far as that can be known
//! offline, so the rule can judge deployed values and a fix can be proven to change nothing
//! but rotation. [`value`] is the value model (with Unknown), [`deployment`] the evaluated
//! shape every language's evaluator produces.

pub mod deployment;
pub mod judge;
pub mod value;

pub use deployment::{Configuration, Deployment, Resource};
pub use judge::{judge, Judgement};
pub use value::{Object, Unknown, Value};
