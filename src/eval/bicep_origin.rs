//! Provenance for Bicep: follows a cluster's values through a Bicep file the way the
//! evaluator ([`super::bicep`]) reads it, records each place passed in a
//! [`provenance::Chain`](super::provenance::Chain) (see [`BicepTree::origin`] and
//! [`rotation_places`]), and lets the shared rule ([`rule::decide`]) read a resource body
//! through [`rule::Tree`]. It knows nothing of text edits.
//!
//! A bare identifier that names a variable is read as the variable's value, and one that
//! names a parameter as the parameter's default (a default that is itself an expression,
//! `param rot bool = enableCsi`, is followed on), so the rule sees the value a human would
//! edit (and the edit lands there). One exception keeps PSRule's "may be true at deploy time"
//! semantics: a parameter read as the add-on's `enabled` flag stays an expression, because a
//! deployment can pass `true` whatever the default. Loop variables shadow declarations.
//! Value-preserving wrappers (`string()`, `toLower()`, `bool()`, `json()`, and `'${p}'`, an
//! interpolation of one identifier, which is `string(p)`) around such a reference are seen
//! through, as for ARM expressions.
//! Objects with a spread or computed keys are expressions: their keys are unknowable here.
//!
//! Conditions are decided as the evaluator decides them with the defaults
//! ([`super::bicep::Probe`]; loop variables and `readEnvironmentVariable()` are not known):
//! `c ? x : y` whose `c` is known is read on the branch that deploys, unless that branch is
//! null (a null holds no place to write to: the branches are then read as below, and the
//! proof, which evaluates every configuration, finds the cluster failing). Unlike ARM's
//! reader, a decided switch whose other branch is written out too is still read on the branch
//! that deploys: the fix writes true there (`env == 'prod' ? 'true' : 'true'`), and the proof
//! shows it changes nothing but rotation. A condition that is not known is read from the
//! source: `c ? x : null` as `x` (the null branch is what the resource gets when the add-on is
//! off); a key of `c ? a : b` is followed when both branches lead to the same place, else its
//! value is undecided (the rule sees an expression, a human decides). `a ?? b` is read on the
//! operand that gives the value when the evaluator knows whether `a` is null; `o.name` and
//! `o.?name` on the value an object literal `o` holds for `name` (a missing one is not
//! followed: the proof judges the null).
//!
//! `union(a, b, …)` merges deeply, as the deployment engine does: a key comes from the last
//! argument that holds it and, when its value is an object, merges with the same key's
//! objects in the arguments before (a [`Handle`] with `merged` parts; a missing key goes
//! into the last part); an argument armfix cannot read, which may hold the key, makes the
//! value undecided.

use super::bicep::Probe;
use super::provenance::{Chain, Hop};
use super::Value;
use crate::lang::bicep::ast::{Doc, Kind, NodeId};
use crate::rule::{self, Lookup, Shape};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// A place a value passes on its way to a cluster: the node that holds it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) id: NodeId,
}

/// A value in the document, and whether parameters are followed to their defaults when
/// reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handle {
    pub(crate) id: NodeId,
    pub(crate) follow_params: bool,
    /// The source does not decide this value (branches of a conditional that disagree, an
    /// argument of `union()` armfix cannot read): the rule sees the expression at `id`.
    pub(crate) undecided: bool,
    /// An object a deep `union()` merges: the index of its parts in the tree's
    /// `merged` list (earliest first, later ones win key by key). `id` is then the last
    /// part's, where a missing key goes.
    pub(crate) merged: Option<usize>,
}

impl Handle {
    pub(crate) fn new(id: NodeId) -> Self {
        Handle {
            id,
            follow_params: true,
            undecided: false,
            merged: None,
        }
    }

    /// A handle that reads `id` without following parameters to their defaults.
    pub(crate) fn unfollowed(id: NodeId) -> Self {
        Handle {
            follow_params: false,
            ..Handle::new(id)
        }
    }
}

/// Where a followed identifier led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Variable(String),
    /// A parameter's default value.
    Parameter(String),
}

/// The Bicep view of one resource for the rule.
pub(crate) struct BicepTree<'d> {
    pub(crate) doc: &'d Doc,
    pub(crate) text: &'d str,
    /// Loop variables in scope (they shadow parameters and variables).
    pub(crate) shadowed: Vec<String>,
    /// Steps left to the current question (`var a = c ? a : a` must not loop).
    fuel: Cell<usize>,
    /// How deep the current question has nested (the stack must not overflow).
    depth: Cell<usize>,
    /// Evaluates conditions (and `??` operands) with the defaults.
    probe: Probe<'d>,
    /// What each condition evaluated to (`None`: the evaluator cannot tell).
    decided: RefCell<HashMap<NodeId, Option<Value>>>,
    /// The parts of the objects deep `union()`s merge (see [`Handle::merged`]).
    merged: RefCell<Vec<Vec<Handle>>>,
}

/// How many identifiers are followed in a row before giving up (`var a = b`, `var b = a`).
const MAX_HOPS: usize = 32;

/// How many steps one question (a shape, a lookup, a resolution) may take: a bound on
/// conditionals and unions that refer to each other.
const FUEL: usize = 4096;

/// How deeply one question may nest conditionals, unions and references.
const MAX_DEPTH: usize = 64;

/// How deep in a question a condition may still be evaluated: the evaluator nests up to
/// [`super::MAX_DEPTH`] levels of its own, which must fit on the stack with this reader's.
const MAX_DECIDING_DEPTH: usize = 16;

impl<'d> BicepTree<'d> {
    pub(crate) fn new(doc: &'d Doc, text: &'d str, shadowed: Vec<String>) -> Self {
        BicepTree {
            doc,
            text,
            shadowed,
            fuel: Cell::new(FUEL),
            depth: Cell::new(0),
            probe: Probe::new(doc, text),
            decided: RefCell::new(HashMap::new()),
            merged: RefCell::new(Vec::new()),
        }
    }

    /// What node `id` evaluates to with the defaults (loop variables Unknown), once. Not
    /// known when it reads the build environment (`readEnvironmentVariable()`, whose
    /// default the evaluator takes, in a `.bicepparam`): a pipeline may set it.
    fn value_of(&self, id: NodeId) -> Option<Value> {
        if let Some(v) = self.decided.borrow().get(&id) {
            return v.clone();
        }
        // The evaluator's own recursion must fit on top of this reader's: deep in a question
        // a condition is not decided (read from the source, as before).
        if self.depth.get() > MAX_DECIDING_DEPTH {
            return None;
        }
        if self
            .text_of(id)
            .to_ascii_lowercase()
            .contains("readenvironmentvariable")
        {
            self.decided.borrow_mut().insert(id, None);
            return None;
        }
        let v = self.probe.value(id, &self.shadowed);
        let v = (!matches!(v, Value::Unknown(_))).then_some(v);
        self.decided.borrow_mut().insert(id, v.clone());
        v
    }

    /// The branch of the conditional `cond ? then : other` that deploys with the defaults,
    /// when the evaluator decides `cond` and that branch is not null (a null branch holds no
    /// place to write to: the branches are then read as the source reads them, and the
    /// proof finds the cluster failing and searches the values that feed it).
    fn deployed_branch(&self, cond: NodeId, then: NodeId, other: NodeId) -> Option<NodeId> {
        let branch = match self.value_of(cond)? {
            Value::Bool(true) => then,
            Value::Bool(false) => other,
            _ => return None,
        };
        let (b, _, _) = self.trace(Handle::new(branch));
        (!self.is_null(b)).then_some(branch)
    }

    /// `a ?? b` (one operator): the operand that gives the value with the defaults, when
    /// the evaluator tells whether `a` is null.
    fn coalesced(&self, id: NodeId) -> Option<NodeId> {
        // Most expressions are no `??`: they cost no search of the tree.
        if !self.text_of(id).contains("??") {
            return None;
        }
        let span = self.doc.node(id).span;
        let child = |pick: &dyn Fn(&crate::lang::bicep::ast::Span) -> bool| {
            self.doc
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| {
                    *i != id && pick(&n.span) && n.span.end - n.span.start < span.end - span.start
                })
                .max_by_key(|(_, n)| n.span.end - n.span.start)
                .map(|(i, _)| i)
        };
        let left = child(&|s| s.start == span.start && s.end < span.end)?;
        let right = child(&|s| s.end == span.end && s.start > span.start)?;
        let between = self
            .text
            .get(self.doc.node(left).span.end..self.doc.node(right).span.start)?;
        if between.trim() != "??" {
            return None;
        }
        match self.value_of(left)? {
            Value::Null => Some(right),
            _ => Some(left),
        }
    }

    /// Starts a new question with a full tank.
    fn refuel(&self) {
        self.fuel.set(FUEL);
        self.depth.set(0);
    }

    /// Runs `f` one level deeper; `None` when the question nests too deeply.
    fn deeper<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return None;
        }
        self.depth.set(depth + 1);
        let result = f();
        self.depth.set(depth);
        Some(result)
    }

    /// Takes one step; false when the question has taken too many.
    fn burn(&self) -> bool {
        let left = self.fuel.get();
        self.fuel.set(left.saturating_sub(1));
        left > 0
    }

    /// Follows identifiers to the value they stand for, and a conditional with a null
    /// branch to its other branch; returns that value and the sources passed on the way
    /// (the last one holds the value).
    pub(crate) fn resolve(&self, h: Handle) -> (NodeId, Vec<Source>) {
        self.refuel();
        self.follow(h)
    }

    /// [`Self::resolve`] with the provenance of the value: each place passed from `h` to
    /// where the value is written (`Chain::places` of the returned node lists them, that
    /// node first and `h`'s own last).
    pub(crate) fn origin(&self, h: Handle) -> (NodeId, Chain<Place>) {
        self.refuel();
        let (id, _, chain) = self.trace(h);
        (id, chain)
    }

    fn follow(&self, h: Handle) -> (NodeId, Vec<Source>) {
        let (id, via, _) = self.trace(h);
        (id, via)
    }

    fn trace(&self, h: Handle) -> (NodeId, Vec<Source>, Chain<Place>) {
        self.deeper(|| self.trace_here(h))
            .unwrap_or((h.id, Vec::new(), Chain::default()))
    }

    fn trace_here(&self, h: Handle) -> (NodeId, Vec<Source>, Chain<Place>) {
        let mut chain = Chain::default();
        if h.undecided || h.merged.is_some() {
            return (h.id, Vec::new(), chain);
        }
        let mut id = h.id;
        let mut via = Vec::new();
        let place = |id: NodeId| Place { id };
        for _ in 0..MAX_HOPS {
            if !self.burn() {
                break;
            }
            if let Some((value, more, inner)) = self.through_wrapper(Handle { id, ..h }) {
                via.extend(more);
                chain = append(&chain, &inner);
                id = value;
                break;
            }
            match &self.doc.node(id).kind {
                Kind::Ident(name) => {
                    if self.shadowed.iter().any(|s| s == name) {
                        break;
                    }
                    if let Some(v) = self.doc.var(name) {
                        via.push(Source::Variable(name.clone()));
                        chain = chain.then(place(id), Hop::Variable(name.clone()));
                        id = v.value;
                        continue;
                    }
                    match self.doc.param(name) {
                        Some(p) if h.follow_params => match p.default {
                            Some(d) => {
                                via.push(Source::Parameter(name.clone()));
                                chain = chain.then(place(id), Hop::Parameter(name.clone()));
                                id = d;
                            }
                            None => break,
                        },
                        _ => break,
                    }
                }
                Kind::Ternary { cond, then, other } => {
                    // A condition the evaluator decides reads the branch that deploys.
                    if let Some(b) = self.deployed_branch(*cond, *then, *other) {
                        chain = chain.then(place(id), Hop::Branch);
                        id = b;
                        continue;
                    }
                    let (a, a_via, a_chain) = self.trace(Handle { id: *then, ..h });
                    let (b, b_via, b_chain) = self.trace(Handle { id: *other, ..h });
                    let (next, next_via, next_chain) = if self.is_null(b) {
                        (a, a_via, a_chain)
                    } else if self.is_null(a) {
                        (b, b_via, b_chain)
                    } else {
                        break;
                    };
                    via.extend(next_via);
                    chain = append(&chain.then(place(id), Hop::Branch), &next_chain);
                    id = next;
                    break;
                }
                Kind::Expr => {
                    if let Some(operand) = self.coalesced(id) {
                        chain = chain.then(place(id), Hop::Branch);
                        id = operand;
                    } else if let Some(member) = self.member(Handle { id, ..h }) {
                        // A property of an object the source writes: its value, where the
                        // object holds it (no hop: an object's member is its own place).
                        id = member;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
        }
        (id, via, chain)
    }

    /// `null`, or `json('null')`.
    pub(crate) fn is_null(&self, id: NodeId) -> bool {
        match &self.doc.node(id).kind {
            Kind::Null => true,
            Kind::Call { name, args } => {
                let name = name.strip_prefix("sys.").unwrap_or(name);
                name.eq_ignore_ascii_case("json")
                    && matches!(args.as_slice(), [a] if self.doc.node(*a).kind == Kind::Str("null".into()))
            }
            _ => false,
        }
    }

    /// Whether the resolved value `id` is an object whose keys armfix can read: an object
    /// literal without spread, a `union()`, or a conditional whose branches are such objects
    /// (or null).
    fn is_object(&self, id: NodeId) -> bool {
        self.deeper(|| self.is_object_here(id)).unwrap_or(false)
    }

    fn is_object_here(&self, id: NodeId) -> bool {
        if !self.burn() {
            return false;
        }
        match &self.doc.node(id).kind {
            Kind::Object(o) => !o.dynamic,
            Kind::Call { name, .. } => is_union(name),
            Kind::Ternary { cond, then, other } => {
                if let Some(b) = self.deployed_branch(*cond, *then, *other) {
                    let (b, _) = self.follow(Handle::new(b));
                    return self.is_object(b);
                }
                [*then, *other].into_iter().all(|b| {
                    let (b, _) = self.follow(Handle::new(b));
                    self.is_null(b) || self.is_object(b)
                })
            }
            _ => false,
        }
    }

    /// Looks `key` up in the object-like value `h` (see the module doc for conditionals and
    /// `union()`).
    fn lookup(&self, h: Handle, key: &str) -> Lookup<Handle> {
        self.deeper(|| self.lookup_here(h, key))
            .unwrap_or(Lookup::Found(
                key.to_string(),
                Handle {
                    undecided: true,
                    ..h
                },
            ))
    }

    fn lookup_here(&self, h: Handle, key: &str) -> Lookup<Handle> {
        let undecided = |id: NodeId| {
            Lookup::Found(
                key.to_string(),
                Handle {
                    id,
                    undecided: true,
                    ..h
                },
            )
        };
        if !self.burn() {
            return undecided(h.id);
        }
        if let Some(m) = h.merged {
            let parts = self.merged.borrow().get(m).cloned().unwrap_or_default();
            let parts: Vec<(NodeId, Handle)> = parts.into_iter().map(|p| (p.id, p)).collect();
            return self.lookup_parts(&parts, key);
        }
        let (id, _) = self.follow(h);
        match &self.doc.node(id).kind {
            Kind::Object(o) => {
                if o.dynamic {
                    return undecided(id);
                }
                let mut found: Option<(&str, NodeId)> = None;
                for m in &o.members {
                    let Some(k) = m.key.as_deref() else { continue };
                    if k.eq_ignore_ascii_case(key) {
                        if found.is_some() {
                            return Lookup::Duplicate(k.to_string(), handle_for(key, m.value));
                        }
                        found = Some((k, m.value));
                    }
                }
                match found {
                    Some((k, v)) => Lookup::Found(k.to_string(), handle_for(key, v)),
                    None => Lookup::Missing,
                }
            }
            Kind::Call { name, args } if is_union(name) => {
                let parts: Vec<(NodeId, Handle)> = args
                    .iter()
                    .map(|a| {
                        let (part, _) = self.follow(Handle { id: *a, ..h });
                        (*a, Handle { id: part, ..h })
                    })
                    .collect();
                self.lookup_parts(&parts, key)
            }
            Kind::Ternary { cond, then, other } => {
                if let Some(b) = self.deployed_branch(*cond, *then, *other) {
                    let (b, _) = self.follow(Handle { id: b, ..h });
                    return if self.is_object(b) {
                        self.lookup(Handle { id: b, ..h }, key)
                    } else {
                        undecided(id)
                    };
                }
                let branch = |b: NodeId| {
                    let (b, _) = self.follow(Handle { id: b, ..h });
                    if self.is_null(b) {
                        Some(Lookup::Missing)
                    } else if self.is_object(b) {
                        Some(self.lookup(Handle { id: b, ..h }, key))
                    } else {
                        None
                    }
                };
                match (branch(*then), branch(*other)) {
                    (Some(Lookup::Missing), Some(Lookup::Missing)) => Lookup::Missing,
                    (Some(Lookup::Found(k, a)), Some(Lookup::Found(_, b)))
                        if !a.undecided
                            && !b.undecided
                            && a.follow_params == b.follow_params
                            && self.follow(a).0 == self.follow(b).0 =>
                    {
                        Lookup::Found(k, a)
                    }
                    // The branches disagree: the value depends on the condition.
                    _ => undecided(id),
                }
            }
            _ => Lookup::Missing,
        }
    }

    /// `o.name` or `o.?name` where `o` is an identifier the source writes as an object: the
    /// value `o` holds for `name` (keys compared as the rule compares them), when armfix can
    /// read it.
    fn member(&self, h: Handle) -> Option<NodeId> {
        let id = h.id;
        let span = self.doc.node(id).span;
        let base = self
            .doc
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != id && n.span.start == span.start && n.span.end < span.end)
            .max_by_key(|(_, n)| n.span.end)
            .map(|(i, _)| i)?;
        if !matches!(self.doc.node(base).kind, Kind::Ident(_)) {
            return None;
        }
        let rest = self
            .text
            .get(self.doc.node(base).span.end..span.end)?
            .trim();
        let name = rest
            .strip_prefix(".?")
            .or_else(|| rest.strip_prefix('.'))?
            .trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let (object, _) = self.follow(Handle { id: base, ..h });
        if !matches!(self.doc.object(object), Some(o) if !o.dynamic) {
            return None;
        }
        match self.lookup(Handle { id: object, ..h }, name) {
            Lookup::Found(_, v) if !v.undecided && v.merged.is_none() => Some(v.id),
            _ => None,
        }
    }

    /// `key` in the deep union of `parts` (each as written and followed, earliest first), as
    /// the deployment engine merges them: the last part holding the key wins; when its value
    /// is an object, the values of the parts before it are merged under it as long as they
    /// are objects too. A part armfix cannot read may hold the key: when no later part does,
    /// the value is undecided.
    fn lookup_parts(&self, parts: &[(NodeId, Handle)], key: &str) -> Lookup<Handle> {
        let mut found: Vec<Handle> = Vec::new();
        let mut spelled = key.to_string();
        for (written, part) in parts.iter().rev() {
            if part.merged.is_none() && self.is_null(part.id) {
                continue;
            }
            if part.merged.is_none() && (part.undecided || !self.is_object(part.id)) {
                if found.is_empty() {
                    return Lookup::Found(
                        key.to_string(),
                        Handle {
                            id: *written,
                            undecided: true,
                            merged: None,
                            ..*part
                        },
                    );
                }
                break;
            }
            match self.lookup(*part, key) {
                Lookup::Missing => continue,
                Lookup::Duplicate(k, v) => {
                    if found.is_empty() {
                        return Lookup::Duplicate(k, v);
                    }
                    break;
                }
                Lookup::Found(k, v) => {
                    let object =
                        !v.undecided && (v.merged.is_some() || self.is_object(self.follow(v).0));
                    if found.is_empty() {
                        spelled = k;
                        found.push(v);
                        if !object {
                            break;
                        }
                    } else if object {
                        found.push(v);
                    } else {
                        break;
                    }
                }
            }
        }
        match found.len() {
            0 => Lookup::Missing,
            1 => Lookup::Found(spelled, found[0]),
            _ => {
                let last = found[0];
                let (id, _) = if last.merged.is_some() {
                    (last.id, Vec::new())
                } else {
                    self.follow(last)
                };
                found.reverse();
                let mut merged = self.merged.borrow_mut();
                merged.push(found);
                Lookup::Found(
                    spelled,
                    Handle {
                        id,
                        merged: Some(merged.len() - 1),
                        ..last
                    },
                )
            }
        }
    }

    /// `string(p)`, `toLower(p)`, `bool(p)`, `json(p)`, `'${p}'` (nested too) of a parameter or
    /// variable whose value is a literal scalar: the call keeps the meaning of `true`, so
    /// the literal is the value to read and fix. Anything else stays a call.
    fn through_wrapper(&self, h: Handle) -> Option<(NodeId, Vec<Source>, Chain<Place>)> {
        let mut id = h.id;
        let mut chain = Chain::default();
        for _ in 0..MAX_HOPS {
            let Some((inner, name)) = unwrapped(self.doc, id) else {
                break;
            };
            chain = chain.then(Place { id }, Hop::Wrapper(name.to_string()));
            id = inner;
        }
        if chain.links().next().is_none() || !matches!(self.doc.node(id).kind, Kind::Ident(_)) {
            return None;
        }
        let (value, via, inner) = self.trace(Handle { id, ..h });
        let scalar = matches!(
            self.doc.node(value).kind,
            Kind::Bool(_) | Kind::Str(_) | Kind::Null
        );
        (scalar && !via.is_empty()).then(|| (value, via, append(&chain, &inner)))
    }

    fn text_of(&self, id: NodeId) -> &'d str {
        let span = self.doc.node(id).span;
        &self.text[span.start..span.end]
    }
}

impl<'d> rule::Tree<'d> for BicepTree<'d> {
    type Node = Handle;

    fn shape(&self, h: Handle) -> Shape<'d, Handle> {
        if h.undecided {
            return Shape::Expr(self.text_of(h.id));
        }
        if h.merged.is_some() {
            return Shape::Object(h);
        }
        let (id, _) = self.resolve(h);
        let doc: &'d Doc = self.doc;
        match &doc.node(id).kind {
            _ if self.is_null(id) => Shape::Null,
            Kind::Bool(b) => Shape::Bool(*b),
            Kind::Str(s) => Shape::Str(s),
            Kind::Object(o) if !o.dynamic => Shape::Object(Handle { id, ..h }),
            Kind::Ternary { .. } | Kind::Call { .. } if self.is_object(id) => {
                Shape::Object(Handle { id, ..h })
            }
            Kind::Null | Kind::Int | Kind::Array(_) | Kind::For { .. } => Shape::Other,
            Kind::Object(_)
            | Kind::Ident(_)
            | Kind::Call { .. }
            | Kind::Ternary { .. }
            | Kind::If { .. }
            | Kind::Expr => Shape::Expr(self.text_of(id)),
        }
    }

    fn get(&self, object: Handle, key: &str) -> Lookup<Handle> {
        self.refuel();
        self.lookup(object, key)
    }
}

/// The provenance of the rotation value of the cluster at `cluster` (`/resources/<symbolic
/// name>`, as the planner names it, or `/resources/<index>`): the places it passes, where it
/// is written first and the cluster's own value last, each with the hop taken from it
/// (`None` for the first), and the loop variables in scope. Empty when the cluster is not
/// found or its value cannot be reached by keys (a spread, a computed object).
pub(crate) fn rotation_places(
    doc: &Doc,
    text: &str,
    cluster: &str,
) -> (Vec<(Place, Option<Hop>)>, Vec<String>) {
    let Some(index) = cluster_index(doc, cluster) else {
        return (Vec::new(), Vec::new());
    };
    let (body, shadowed) = crate::lang::bicep::plan::unwrap_body(doc, doc.resources[index].body);
    let tree = BicepTree::new(doc, text, shadowed.clone());
    let mut h = Handle::new(body);
    for name in rule::PATH_NAMES {
        if !matches!(rule::Tree::shape(&tree, h), Shape::Object(_)) {
            return (Vec::new(), shadowed);
        }
        match rule::Tree::get(&tree, h, name) {
            Lookup::Found(_, v) if !v.undecided => h = v,
            _ => return (Vec::new(), shadowed),
        }
    }
    let (id, chain) = tree.origin(Handle {
        follow_params: true,
        ..h
    });
    let mut places = chain.places(Place { id });
    // The cluster's own value last, when the lookup ended on the way to it.
    if places.last().is_none_or(|(p, _)| p.id != h.id) {
        places.push((Place { id: h.id }, None));
    }
    (places, shadowed)
}

/// The resource a cluster pointer names.
fn cluster_index(doc: &Doc, cluster: &str) -> Option<usize> {
    let token = cluster.strip_prefix("/resources/")?;
    let name = token.replace("~1", "/").replace("~0", "~");
    (0..doc.resources.len())
        .find(|&i| doc.symbolic_name(i) == name)
        .or_else(|| {
            name.parse::<usize>()
                .ok()
                .filter(|&i| i < doc.resources.len())
        })
}

/// `first` followed by the hops of `then` (oldest first): the chain of a value reached
/// through `first` and then `then`.
fn append(first: &Chain<Place>, then: &Chain<Place>) -> Chain<Place> {
    let mut links: Vec<_> = then.links().cloned().collect();
    links.reverse();
    links
        .into_iter()
        .fold(first.clone(), |c, l| c.then(l.place, l.hop))
}

/// `union` (with or without `sys.`).
pub(crate) fn is_union(name: &str) -> bool {
    name.strip_prefix("sys.")
        .unwrap_or(name)
        .eq_ignore_ascii_case("union")
}

/// `string`, `toLower`, `bool`, `json` (with or without `sys.`): calls that keep `true` true.
/// The value a value-preserving wrapper at `id` wraps, and the wrapper's name: the argument
/// of `string(x)`, `toLower(x)`, `bool(x)`, `json(x)`, or the identifier of an interpolation
/// of one identifier, `'${x}'`, which is `string(x)` written otherwise (the parser gives
/// that identifier a node right after the string's).
pub(crate) fn unwrapped(doc: &Doc, id: NodeId) -> Option<(NodeId, &str)> {
    match &doc.node(id).kind {
        Kind::Call { name, args } if args.len() == 1 && is_value_preserving(name) => {
            Some((args[0], name.strip_prefix("sys.").unwrap_or(name)))
        }
        Kind::Expr => {
            let outer = doc.node(id).span;
            let hole = doc.nodes.get(id + 1)?;
            let inside = outer.start < hole.span.start && hole.span.end < outer.end;
            (inside && matches!(hole.kind, Kind::Ident(_))).then_some((id + 1, "string"))
        }
        _ => None,
    }
}

pub(crate) fn is_value_preserving(name: &str) -> bool {
    let name = name.strip_prefix("sys.").unwrap_or(name);
    ["string", "toLower", "bool", "json"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
}

/// The add-on's `enabled` flag is read without following parameters (see the module doc).
fn handle_for(key: &str, id: NodeId) -> Handle {
    Handle {
        follow_params: !key.eq_ignore_ascii_case("enabled"),
        ..Handle::new(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::bicep::parser::parse;
    use crate::rule::{decide, FixKind, Verdict};

    fn verdict(text: &str) -> Verdict<Handle> {
        let doc = parse(text).unwrap();
        let tree = BicepTree::new(&doc, text, Vec::new());
        decide(&tree, Handle::new(doc.resources[0].body))
    }

    fn cluster(addon: &str) -> String {
        format!(
            "resource aks 'Microsoft.ContainerService/managedClusters@2024-01-01' = {{\n\
             properties: {{\n addonProfiles: {{\n azureKeyvaultSecretsProvider: {addon}\n }}\n }}\n}}\n"
        )
    }

    #[test]
    fn literal_values() {
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n }")),
            Verdict::Fix(f) if f.kind == FixKind::AddConfig
        ));
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n config: { enableSecretRotation: false }\n }")),
            Verdict::Fix(f) if f.kind == FixKind::ReplaceValue("false".into())
        ));
        assert_eq!(
            verdict(&cluster(
                "{\n enabled: true\n config: { enableSecretRotation: 'TRUE' }\n }"
            )),
            Verdict::Pass
        );
        assert_eq!(
            verdict(&cluster("{\n enabled: false\n }")),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn parameters_and_variables() {
        // `enabled` from a parameter defaulting to false may still be true: the rule applies,
        // and the rotation parameter's default is what fails.
        let text = format!(
            "param on bool = false\nparam rot string = 'false'\nvar cfg = {{\n enableSecretRotation: rot\n}}\n{}",
            cluster("{\n enabled: on\n config: cfg\n }")
        );
        let doc = parse(&text).unwrap();
        let tree = BicepTree::new(&doc, &text, Vec::new());
        let Verdict::Fix(fix) = decide(&tree, Handle::new(doc.resources[0].body)) else {
            panic!("expected a fix");
        };
        assert_eq!(fix.kind, FixKind::ReplaceValue("\"false\"".into()));
        // The rule points at the reference; following it leads to the default.
        let (source, via) = tree.resolve(fix.at);
        assert_eq!(&text[doc.node(source).span.start..][..7], "'false'");
        assert_eq!(via, [Source::Parameter("rot".into())]);
        // A loop variable of the same name is not the parameter.
        let tree = BicepTree::new(&doc, &text, vec!["rot".into()]);
        assert!(matches!(
            decide(&tree, Handle::new(doc.resources[0].body)),
            Verdict::Review { .. }
        ));
    }

    #[test]
    fn spreads_and_calls_are_expressions() {
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n config: {\n ...base\n }\n }")),
            Verdict::Review { .. }
        ));
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n config: union(a, b)\n }")),
            Verdict::Review { .. }
        ));
    }

    #[test]
    fn a_conditional_with_a_null_branch_is_its_other_branch() {
        for config in [
            "on ? { enableSecretRotation: 'true' } : null",
            "!on ? json('null') : { enableSecretRotation: 'true' }",
            "on ? (null) : { enableSecretRotation: 'true' }",
        ] {
            let v = verdict(&format!(
                "param on bool\n{}",
                cluster(&format!("{{\n enabled: on\n config: {config}\n }}"))
            ));
            // `(null)` is not read as null: the branches then disagree.
            if config.contains("(null)") {
                assert!(matches!(v, Verdict::Review { .. }), "{config}: {v:?}");
            } else {
                assert_eq!(v, Verdict::Pass, "{config}");
            }
        }
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n config: c ? {} : null\n }")),
            Verdict::Fix(f) if f.kind == FixKind::AddKey
        ));
    }

    #[test]
    fn conditional_branches_agree_or_are_undecided() {
        let base = "var base = {\n azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: 'false' } }\n}\n";
        let agree = format!(
            "{base}resource aks 'Microsoft.ContainerService/managedClusters@1' = {{\n properties: {{\n addonProfiles: c ? union(base, {{ x: {{}} }}) : base\n }}\n}}\n"
        );
        let doc = parse(&agree).unwrap();
        let tree = BicepTree::new(&doc, &agree, Vec::new());
        let Verdict::Fix(fix) = decide(&tree, Handle::new(doc.resources[0].body)) else {
            panic!("expected a fix");
        };
        let (at, via) = tree.resolve(fix.target);
        assert_eq!(&agree[doc.node(at).span.start..][..7], "'false'");
        assert!(via.is_empty());
        // One branch without the add-on: which value deploys depends on `c`.
        let differ = agree.replace(": base\n", ": {}\n");
        let doc = parse(&differ).unwrap();
        let tree = BicepTree::new(&doc, &differ, Vec::new());
        let Verdict::Review { at, path, .. } = decide(&tree, Handle::new(doc.resources[0].body))
        else {
            panic!("expected a review");
        };
        assert!(at.undecided);
        assert!(matches!(doc.node(at.id).kind, Kind::Ternary { .. }));
        assert_eq!(path.last().unwrap(), "azureKeyvaultSecretsProvider");
    }

    #[test]
    fn union_takes_the_last_argument_holding_the_key() {
        let addon = |rot: &str| {
            format!("{{ azureKeyvaultSecretsProvider: {{ enabled: true, config: {{ enableSecretRotation: {rot} }} }} }}")
        };
        let text = |args: String| {
            format!(
                "param extra object\nresource aks 'Microsoft.ContainerService/managedClusters@1' = {{\n properties: {{\n addonProfiles: union({args})\n }}\n}}\n"
            )
        };
        let run = |args: String| {
            let t = text(args);
            let doc = parse(&t).unwrap();
            let tree = BicepTree::new(&doc, &t, Vec::new());
            decide(&tree, Handle::new(doc.resources[0].body))
        };
        assert_eq!(
            run(format!("{}, {}", addon("'false'"), addon("'true'"))),
            Verdict::Pass
        );
        assert!(matches!(
            run(format!("{}, {}, {{ other: {{}} }}, null", addon("'true'"), addon("false"))),
            Verdict::Fix(f) if f.kind == FixKind::ReplaceValue("false".into())
        ));
        // An argument armfix cannot read, after the one that holds the key, may override it.
        let Verdict::Review { at, .. } = run(format!("{}, extra", addon("'true'"))) else {
            panic!("expected a review");
        };
        assert!(at.undecided);
        // Before it, it cannot.
        assert_eq!(run(format!("extra, {}", addon("'true'"))), Verdict::Pass);
    }

    #[test]
    fn self_referring_conditionals_and_unions_end() {
        for value in [
            "c ? a : a",
            "union(a, {})",
            "c ? union(a, b) : b",
            "c ? a : null",
        ] {
            let text = format!(
                "var a = {value}\nvar b = a\n{}",
                cluster("{\n enabled: true\n config: a\n }")
            );
            let v = verdict(&text);
            assert!(
                matches!(v, Verdict::Review { .. } | Verdict::Fix(_)),
                "{value}: {v:?}"
            );
        }
    }

    #[test]
    fn a_condition_the_defaults_decide_is_read_on_its_deployed_branch() {
        let text = |decl: &str| {
            format!(
                "{decl}\n{}",
                cluster("{\n enabled: true\n config: on ? { enableSecretRotation: 'true' } : { enableSecretRotation: 'false' }\n }")
            )
        };
        assert!(matches!(
            verdict(&text("param on bool = false")),
            Verdict::Fix(f) if f.kind == FixKind::ReplaceValue("\"false\"".into())
        ));
        assert_eq!(verdict(&text("param on bool = true")), Verdict::Pass);
        assert_eq!(verdict(&text("var on = 1 == 1")), Verdict::Pass);
        // Not known (no default, a loop variable): the branches disagree.
        assert!(matches!(
            verdict(&text("param on bool")),
            Verdict::Review { .. }
        ));
        // A deployed null branch is read as the source reads it (the proof judges it).
        let null = format!(
            "param on bool = false\n{}",
            cluster("{\n enabled: true\n config: on ? { enableSecretRotation: 'true' } : null\n }")
        );
        assert_eq!(verdict(&null), Verdict::Pass);
    }

    #[test]
    fn coalescing_is_read_on_the_operand_that_gives_the_value() {
        for (decl, expected_pass) in [
            ("param rot string?", false),
            ("param rot string = 'true'", true),
        ] {
            let text = format!(
                "{decl}\n{}",
                cluster("{\n enabled: true\n config: { enableSecretRotation: rot ?? 'false' }\n }")
            );
            let v = verdict(&text);
            assert_eq!(v == Verdict::Pass, expected_pass, "{decl}: {v:?}");
        }
    }

    #[test]
    fn union_merges_objects_deeply() {
        let run = |args: &str| {
            verdict(&format!(
                "resource aks 'Microsoft.ContainerService/managedClusters@1' = {{\n properties: {{\n addonProfiles: union({args})\n }}\n}}\n"
            ))
        };
        let base = |rot: &str| {
            format!("{{ azureKeyvaultSecretsProvider: {{ enabled: true, config: {{ enableSecretRotation: {rot} }} }} }}")
        };
        // A later argument that only adds keys keeps the earlier rotation.
        assert!(matches!(
            run(&format!("{}, {{ omsagent: {{ enabled: true }} }}", base("'false'"))),
            Verdict::Fix(f) if f.kind == FixKind::ReplaceValue("\"false\"".into())
        ));
        assert!(matches!(
            run(&format!(
                "{}, {{ azureKeyvaultSecretsProvider: {{ config: {{ rotationPollInterval: '2m' }} }} }}",
                base("'false'")
            )),
            Verdict::Fix(f) if f.kind == FixKind::ReplaceValue("\"false\"".into())
        ));
        assert_eq!(
            run(&format!(
                "{}, {{ azureKeyvaultSecretsProvider: {{ config: {{ rotationPollInterval: '2m' }} }} }}",
                base("'true'")
            )),
            Verdict::Pass
        );
        // A later rotation wins key by key.
        assert_eq!(
            run(&format!(
                "{}, {{ azureKeyvaultSecretsProvider: {{ config: {{ enableSecretRotation: 'true' }} }} }}",
                base("'false'")
            )),
            Verdict::Pass
        );
    }

    #[test]
    fn the_chain_records_each_hop_from_the_cluster_to_the_source() {
        let text = format!(
            "param enableCsi bool = false\nparam rot bool = enableCsi\nvar v = string(rot)\n{}",
            cluster("{\n enabled: true\n config: { enableSecretRotation: v }\n }")
        );
        let doc = parse(&text).unwrap();
        let (places, _) = rotation_places(&doc, &text, "/resources/aks");
        let hops: Vec<Option<Hop>> = places.iter().map(|(_, h)| h.clone()).collect();
        assert_eq!(
            hops,
            [
                None,
                Some(Hop::Parameter("enableCsi".into())),
                Some(Hop::Parameter("rot".into())),
                Some(Hop::Wrapper("string".into())),
                Some(Hop::Variable("v".into())),
            ],
            "source first, the cluster's own value last"
        );
        let first = doc.node(places[0].0.id).span;
        assert_eq!(&text[first.start..first.end], "false");
        let last = doc.node(places.last().unwrap().0.id).span;
        assert_eq!(&text[last.start..last.end], "v");
    }

    #[test]
    fn deeply_nested_conditions_end() {
        // Conditionals that read each other far deeper than any question may go, each with a
        // condition the evaluator must recurse deeply for (a long chain of variables): the
        // reader stops deciding and following, and nothing overflows the stack.
        let mut text = String::from("var b0 = 1\nvar a0 = 'false'\n");
        for i in 1..200 {
            text.push_str(&format!(
                "var b{i} = b{}\nvar a{i} = (!!!!(b{i} == 1)) ? a{} : null\n",
                i - 1,
                i - 1
            ));
        }
        text.push_str(&cluster(
            "{\n enabled: true\n config: { enableSecretRotation: a199 }\n }",
        ));
        let doc = parse(&text).expect("within the parser's nesting limit");
        let tree = BicepTree::new(&doc, &text, Vec::new());
        let _ = decide(&tree, Handle::new(doc.resources[0].body));
        let _ = rotation_places(&doc, &text, "/resources/aks");
    }

    #[test]
    fn a_property_of_an_object_the_source_writes_is_followed() {
        let text = format!(
            "var settings = {{\n rotation: 'false'\n}}\n{}",
            cluster("{\n enabled: true\n config: { enableSecretRotation: settings.?rotation ?? 'true' }\n }")
        );
        let doc = parse(&text).unwrap();
        let tree = BicepTree::new(&doc, &text, Vec::new());
        let Verdict::Fix(fix) = decide(&tree, Handle::new(doc.resources[0].body)) else {
            panic!("expected a fix");
        };
        let (at, via) = tree.resolve(fix.target);
        let span = doc.node(at).span;
        assert_eq!(&text[span.start..span.end], "'false'");
        assert!(via.is_empty(), "{via:?}");
        // A member the object does not hold: not followed, the fallback deploys.
        let missing = text.replace("rotation: 'false'", "other: 'false'");
        assert_eq!(verdict(&missing), Verdict::Pass);
        let plain = text.replace("settings.?rotation ?? 'true'", "settings.rotation");
        assert!(matches!(verdict(&plain), Verdict::Fix(_)));
    }

    #[test]
    fn a_condition_on_the_build_environment_is_not_decided() {
        // `readEnvironmentVariable()` evaluates to its default offline, but a pipeline may set
        // the variable: which branch deploys is not known.
        let text = format!(
            "var stage = 'dev'\n{}",
            cluster("{\n enabled: true\n config: { enableSecretRotation: readEnvironmentVariable('STAGE', stage) == 'prod' ? 'true' : 'false' }\n }")
        );
        assert!(matches!(verdict(&text), Verdict::Review { .. }));
        let known = text.replace("readEnvironmentVariable('STAGE', stage)", "stage");
        assert!(matches!(verdict(&known), Verdict::Fix(_)));
    }
}
