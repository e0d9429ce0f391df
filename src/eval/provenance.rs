//! Provenance, the part every language's evaluator shares: where a value on the way to a
//! cluster's rotation setting was written, and the hops taken from the cluster to it. A
//! language's evaluator (ARM: [`super::arm_origin`]) follows a cluster's values with its own
//! scope rules and records each place it passes as a [`Link`] of a [`Chain`]; the planners
//! read the chain to say where a fix lands, and [`Chain::places`] gives the candidate places
//! in the one order the proof's search tries them (the source first, then each place closer to the
//! cluster, the cluster's own value last).
//!
//! Provenance is computed on demand, for the values of clusters only: an evaluated
//! [`super::Value`] carries none, so files without a cluster (and the evaluation of whole
//! deployments for the proof) pay nothing for it. A chain is a persistent list behind an
//! `Rc`: following one more hop costs one allocation, and copies share their past.

use std::rc::Rc;

/// One indirection followed on the way from a cluster to where a value is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hop {
    /// Read from a variable (ARM `variables('v')`, Bicep `var`).
    Variable(String),
    /// Read from a parameter's default (Bicep `param rot bool = enableCsi`).
    Parameter(String),
    /// Through a value-preserving wrapper (`string()`, `bool()`, `toLower()`, `json()`).
    Wrapper(String),
    /// Through one operand of a (deep) `union()`.
    Union,
    /// Through the branch of an `if` (or a ternary) that deploys, or the operand of a
    /// `coalesce()` (`??`) that gives the value.
    Branch,
    /// Into a member or element of an object or array (`variables('o').a`, `o[0]`).
    Member(String),
}

/// A place a value passes through, and how the chain went on from it.
#[derive(Debug, Clone)]
pub(crate) struct Link<P> {
    /// The place the value left: a candidate for the proof's search (see [`Chain::places`]).
    pub(crate) place: P,
    pub(crate) hop: Hop,
}

/// The hops from a cluster to a value, newest (closest to the source) first.
#[derive(Debug, Clone)]
pub(crate) struct Chain<P>(Option<Rc<Cell<P>>>);

#[derive(Debug)]
pub(crate) struct Cell<P> {
    link: Link<P>,
    before: Chain<P>,
}

impl<P> Default for Chain<P> {
    fn default() -> Self {
        Chain(None)
    }
}

impl<P: Clone> Chain<P> {
    /// This chain with one more hop: the value left `place` through `hop`.
    pub(crate) fn then(&self, place: P, hop: Hop) -> Chain<P> {
        Chain(Some(Rc::new(Cell {
            link: Link { place, hop },
            before: self.clone(),
        })))
    }

    /// The links, newest (closest to the source) first.
    pub(crate) fn links(&self) -> impl Iterator<Item = &Link<P>> {
        let mut next = self.0.as_deref();
        std::iter::from_fn(move || {
            let cell = next?;
            next = cell.before.0.as_deref();
            Some(&cell.link)
        })
    }

    /// The variable whose definition holds the value, if any: the newest variable hop.
    pub(crate) fn variable(&self) -> Option<&str> {
        self.links().find_map(|l| match &l.hop {
            Hop::Variable(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// The candidate places for a fix, in the order the proof tries them: `source` (where
    /// the value is written) first, then each place the chain passed, closer and closer to
    /// the cluster; the cluster's own place is the last. The proof's search tries a fix at
    /// each, in this order (`Language::chain_candidates`).
    pub(crate) fn places(&self, source: P) -> Vec<(P, Option<Hop>)> {
        let mut out = vec![(source, None)];
        out.extend(self.links().map(|l| (l.place.clone(), Some(l.hop.clone()))));
        out
    }
}

/// A top-level parameter the rotation value comes from, for parameter files to be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamDemand {
    pub(crate) name: String,
    /// True when the parameter is a `bool` (write `true`), false for a string (`"true"`).
    pub(crate) boolean: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_lists_the_source_first_and_the_cluster_last() {
        let c: Chain<&str> = Chain::default()
            .then("cluster", Hop::Variable("v".into()))
            .then("variable v", Hop::Wrapper("string".into()))
            .then("string()", Hop::Union);
        let places: Vec<&str> = c.places("default of p").iter().map(|(p, _)| *p).collect();
        assert_eq!(
            places,
            ["default of p", "string()", "variable v", "cluster"],
            "source first, cluster last"
        );
        assert_eq!(c.variable(), Some("v"));
        let shared = c.then("x", Hop::Variable("w".into()));
        assert_eq!(shared.variable(), Some("w"), "the newest variable");
        assert_eq!(
            c.variable(),
            Some("v"),
            "a longer chain shares, not changes, its past"
        );
    }
}
