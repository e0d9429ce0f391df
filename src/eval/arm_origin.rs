//! Provenance for ARM: follows a cluster's values through the template the way the
//! evaluator reads it (see [`super::arm`]), recording each place passed in a
//! [`provenance::Chain`]: into `variables('v')`, through `createObject()`, a deep `union()`
//! (later operands win key by key, objects merge), an `if` whose condition the evaluator
//! decides with the defaults (both branches when it cannot), the value-preserving wrappers
//! `string()`, `toLower()`, `bool()`, and, for the rotation value, to the `defaultValue` of
//! a parameter or the value an inner-scoped nested deployment passes. It presents this as a
//! [`rule::Tree`] for the planner; each value knows its JSON node or expression term, its
//! pointer and its chain. It knows nothing of text edits.

use super::arm::Probe;
use super::provenance::{self, Hop, ParamDemand};
use super::{Configuration, Value};
use crate::lang::arm::expr::{self, Expr, TermKind};
use crate::lang::arm::jsonc::{Kind, Node};
use crate::lang::arm::template::{self as arm, Segment};
use crate::rule::{self, Lookup, Shape};
use std::cell::OnceCell;
use std::rc::Rc;
use typed_arena::Arena;

/// The template whose `parameters` and `variables` an expression reads.
#[derive(Debug)]
pub(crate) struct Scope<'t> {
    pub(crate) template: &'t Node<'t>,
    /// Pointer path of the template object.
    pub(crate) path: Vec<Segment>,
    /// For an inner-scoped nested template: the deployment's `properties.parameters`
    /// object (if any), its path, and the scope its values are evaluated in.
    pub(crate) feeder: Option<Feeder<'t>>,
}

#[derive(Debug)]
pub(crate) struct Feeder<'t> {
    pub(crate) parameters: Option<(&'t Node<'t>, Vec<Segment>)>,
    pub(crate) outer: Rc<Scope<'t>>,
}

/// Where a traced value is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At<'t> {
    /// A JSON value in the template.
    Json(&'t Node<'t>),
    /// Term `term` of the expression held by the JSON string `host`.
    Term {
        host: &'t Node<'t>,
        expr: &'t Expr,
        term: usize,
    },
}

/// A place a value passes on its way to a cluster: the node or term, the pointer path of
/// the JSON value holding it, and the scope its expressions read (to evaluate it there).
#[derive(Debug, Clone)]
pub(crate) struct Place<'t> {
    pub(crate) at: At<'t>,
    pub(crate) path: Rc<Vec<Segment>>,
    pub(crate) scope: Rc<Scope<'t>>,
}

/// A followed value: where it is, the pointer path of the JSON value holding it, the scope
/// its expressions read, and its provenance (the places passed to reach it).
#[derive(Debug, Clone)]
pub(crate) struct V<'t> {
    pub(crate) at: At<'t>,
    /// Set when the value cannot be told from the source (branches of an `if` that
    /// disagree, a computed key): the rule sees an expression.
    pub(crate) undecided: bool,
    pub(crate) path: Rc<Vec<Segment>>,
    pub(crate) scope: Rc<Scope<'t>>,
    pub(crate) chain: provenance::Chain<Place<'t>>,
    /// For an object a deep `union()` merges: its parts, earliest first (later ones win key
    /// by key). `at` and `path` are then the last part's, where a missing key goes.
    pub(crate) parts: Option<Rc<Vec<V<'t>>>>,
}

impl<'t> V<'t> {
    /// The JSON node that holds this value (the value itself, or the expression string).
    pub(crate) fn host(&self) -> &'t Node<'t> {
        match self.at {
            At::Json(n) => n,
            At::Term { host, .. } => host,
        }
    }

    /// Byte range in the file: the term's own when the host string has no escapes (so
    /// offsets map one to one), else the whole host.
    pub(crate) fn span(&self, text: &str) -> (usize, usize) {
        match self.at {
            At::Json(n) => (n.span.start, n.span.end),
            At::Term { host, expr, term } => {
                if raw_is_plain(text, host) {
                    let t = &expr.terms[term];
                    (host.span.start + 1 + t.start, host.span.start + 1 + t.end)
                } else {
                    (host.span.start, host.span.end)
                }
            }
        }
    }

    /// The variable whose definition holds this value, if any (the last hop).
    pub(crate) fn variable(&self) -> Option<&str> {
        self.chain.variable()
    }

    /// This value as a place of a chain.
    pub(crate) fn place(&self) -> Place<'t> {
        Place {
            at: self.at,
            path: self.path.clone(),
            scope: self.scope.clone(),
        }
    }

    /// The value `next` reached from this one through `hop`.
    fn hop(&self, next: V<'t>, hop: Hop) -> V<'t> {
        V {
            chain: self.chain.then(self.place(), hop),
            ..next
        }
    }

    fn same_place(&self, other: &V<'t>) -> bool {
        match (self.at, other.at) {
            (At::Json(a), At::Json(b)) => std::ptr::eq(a, b),
            (
                At::Term {
                    host: a, term: i, ..
                },
                At::Term {
                    host: b, term: j, ..
                },
            ) => std::ptr::eq(a, b) && i == j,
            _ => false,
        }
    }

    fn json(&self, node: &'t Node<'t>, key: Segment) -> V<'t> {
        let mut path = (*self.path).clone();
        path.push(key);
        V {
            at: At::Json(node),
            undecided: false,
            path: Rc::new(path),
            scope: self.scope.clone(),
            chain: self.chain.clone(),
            parts: None,
        }
    }

    /// This value, marked as one the source does not decide.
    fn undecided(&self) -> V<'t> {
        V {
            undecided: true,
            ..self.clone()
        }
    }

    fn term(&self, term: usize) -> V<'t> {
        let At::Term { host, expr, .. } = self.at else {
            return self.clone();
        };
        V {
            at: At::Term { host, expr, term },
            parts: None,
            ..self.clone()
        }
    }
}

/// True when the JSON string `node` is written without escapes, so that a byte of its
/// decoded value sits one byte after the same byte in the source.
pub(crate) fn raw_is_plain(text: &str, node: &Node) -> bool {
    !text.as_bytes()[node.span.start..node.span.end].contains(&b'\\')
}

/// A template whose clusters are followed, for the rule. Parsed expressions live in
/// `arena` for the tree's life; the template as JSON and the evaluator that decides `if`
/// conditions are made on the first condition asked (a template written with literals
/// needs neither).
pub(crate) struct Traced<'t> {
    arena: &'t Arena<Expr>,
    text: &'t str,
    json: &'t OnceCell<Option<serde_json::Value>>,
    probe: OnceCell<Option<Probe<'t>>>,
    /// How deep [`Traced::deref`] calls are nested.
    depth: std::cell::Cell<usize>,
    /// How many [`Traced::deref`] calls were made for the file.
    calls: std::cell::Cell<usize>,
}

/// The most values followed in one file: real templates need a few dozen per cluster.
const MAX_DEREFS: usize = 20_000;

/// How deep following may nest (a variable read in a branch of an `if` in a variable...):
/// real templates nest a handful of levels; each level takes several stack frames, and the
/// deepest must fit a 2 MiB test thread in a debug build.
const MAX_NESTED: usize = 40;

impl<'t> Traced<'t> {
    pub(crate) fn new(
        arena: &'t Arena<Expr>,
        text: &'t str,
        json: &'t OnceCell<Option<serde_json::Value>>,
    ) -> Self {
        Traced {
            arena,
            text,
            json,
            probe: OnceCell::new(),
            depth: std::cell::Cell::new(0),
            calls: std::cell::Cell::new(0),
        }
    }

    /// The branch of `if(args)` (a term of `v`'s expression) that deploys with the defaults,
    /// followed: `None` when the evaluator cannot decide the condition, or when the branch
    /// that deploys is null. A null holds no place to write to: the branches are then read
    /// as the source reads them (the other one), the cluster fails once evaluated, and the
    /// proof looks for the fix among the values that feed the cluster, the condition's
    /// parameter among them.
    ///
    /// Nor is a condition followed when the other branch is written out too (a literal or an
    /// object written in the template): that is a switch the author wrote, and armfix does
    /// not rewrite one side of it; the branches are read as the source reads them (followed
    /// when they agree, else the value is for a human).
    fn branch(&self, v: &V<'t>, args: &[usize]) -> Option<V<'t>> {
        let c = self.decided(v, args[0])?;
        let (this, other) = if c { (1, 2) } else { (2, 1) };
        let b = self.deref(v.hop(v.term(args[this]), Hop::Branch));
        let o = self.deref(v.term(args[other]));
        let written =
            |x: &V<'t>| !x.undecided && x.parts.is_none() && (is_literal(x) || self.is_object(x));
        (!is_null(&b) && (is_null(&o) || !written(&o))).then_some(b)
    }

    /// What the condition term `cond` of `v`'s expression evaluates to with the defaults,
    /// when the evaluator knows it.
    fn decided(&self, v: &V<'t>, cond: usize) -> Option<bool> {
        let At::Term { host, .. } = v.at else {
            return None;
        };
        let tokens: Vec<String> = v.scope.path.iter().map(Segment::token).collect();
        match self.probe()?.term(&tokens, host.as_str()?, cond) {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The evaluator for single terms, with the defaults (made on the first question).
    fn probe(&self) -> Option<&Probe<'t>> {
        self.probe
            .get_or_init(|| {
                let json = self
                    .json
                    .get_or_init(|| crate::lang::arm::as_json(self.text))
                    .as_ref()?;
                Some(Probe::new(json, Configuration::defaults()))
            })
            .as_ref()
    }

    /// The traced view of a cluster resource found at `path` in `root`.
    pub(crate) fn cluster(
        &self,
        root: &'t Node<'t>,
        path: &[Segment],
        node: &'t Node<'t>,
    ) -> V<'t> {
        V {
            at: At::Json(node),
            undecided: false,
            path: Rc::new(path.to_vec()),
            scope: scope_for(root, path),
            chain: provenance::Chain::default(),
            parts: None,
        }
    }

    /// Follows indirections until a value that stands for itself: a literal, an object, an
    /// `if` whose branches both matter, or an opaque term (a parameter, a function call).
    pub(crate) fn deref(&self, v: V<'t>) -> V<'t> {
        // Following a branch follows its value first: a variable that reads itself through
        // an `if` would recurse without end. Past `MAX_NESTED` levels the value is left
        // where it is (the rule sees an expression).
        // Both branches of an `if` are followed to tell them apart, so a self-reading
        // variable also doubles the work at each level: a budget of calls per file bounds it.
        if self.depth.get() > MAX_NESTED || self.calls.get() > MAX_DEREFS {
            return v.undecided();
        }
        self.calls.set(self.calls.get() + 1);
        self.depth.set(self.depth.get() + 1);
        let mut v = v;
        for _ in 0..64 {
            match self.step(&v) {
                Some(next) => v = next,
                None => break,
            }
        }
        self.depth.set(self.depth.get() - 1);
        v
    }

    fn step(&self, v: &V<'t>) -> Option<V<'t>> {
        if v.parts.is_some() {
            return None;
        }
        match v.at {
            At::Json(node) => {
                let s = node.as_str()?;
                if !arm::is_expression(s) {
                    return None;
                }
                let expr: &'t Expr = self.arena.alloc(expr::parse(s)?);
                Some(V {
                    at: At::Term {
                        host: node,
                        expr,
                        term: expr.root,
                    },
                    ..v.clone()
                })
            }
            At::Term { expr, term, .. } => {
                match &expr.terms[term].kind {
                    TermKind::Member { base, name } => return self.member(v, *base, name),
                    TermKind::Index { base, index } => {
                        return match &expr.terms[*index].kind {
                            TermKind::Str(key) => self.member(v, *base, key),
                            TermKind::Number(n) => self.element(v, *base, n.parse().ok()?),
                            _ => None,
                        };
                    }
                    _ => {}
                }
                let (name, args) = expr.call(term)?;
                match (name, args.len()) {
                    // The first operand that is not null, as the evaluator decides it with
                    // the defaults; one it cannot decide leaves the value undecided (as an
                    // `if` whose condition it cannot decide).
                    ("coalesce", n) if n > 0 => {
                        for &a in args {
                            let operand = v.term(a);
                            match self.value_at(&operand.place()) {
                                Value::Null => continue,
                                Value::Unknown(_) => return None,
                                _ => return Some(v.hop(operand, Hop::Branch)),
                            }
                        }
                        None
                    }
                    ("variables", 1) => {
                        let var = expr.str_lit(args[0])?;
                        let (key, def) = match arm::get(v.scope.template, "variables") {
                            Lookup::Found(k, vars) => match arm::get(vars, var) {
                                Lookup::Found(name, def) => ((k, name), def),
                                _ => return None,
                            },
                            _ => return None,
                        };
                        let mut path = v.scope.path.clone();
                        path.push(Segment::Key(key.0));
                        path.push(Segment::Key(key.1.clone()));
                        let def = V {
                            at: At::Json(def),
                            undecided: false,
                            path: Rc::new(path),
                            scope: v.scope.clone(),
                            chain: v.chain.clone(),
                            parts: None,
                        };
                        Some(v.hop(def, Hop::Variable(key.1)))
                    }
                    (f @ ("string" | "tolower" | "toupper" | "bool"), 1) => {
                        // Pass through only to literals (so the rule sees "true"/"false").
                        let inner = self.deref(v.hop(v.term(args[0]), Hop::Wrapper(f.into())));
                        is_literal(&inner).then_some(inner)
                    }
                    ("if", 3) => {
                        if let Some(b) = self.branch(v, args) {
                            return Some(b);
                        }
                        let a = self.deref(v.term(args[1]));
                        let b = self.deref(v.term(args[2]));
                        if is_null(&b) {
                            Some(a)
                        } else if is_null(&a) {
                            Some(b)
                        } else {
                            None
                        }
                    }
                    _ => None,
                }
            }
        }
    }

    /// Member `key` of the value of term `base` of `v`'s expression (`variables('o').a`,
    /// `o['a']`), when that value is an object the source writes: the member, followed.
    /// `None` for anything else (a parameter's member is followed by
    /// [`Traced::parameter_access_of`]).
    fn member(&self, v: &V<'t>, base: usize, key: &str) -> Option<V<'t>> {
        let b = self.deref(v.hop(v.term(base), Hop::Member(key.to_string())));
        if b.undecided || !self.is_object(&b) {
            return None;
        }
        match self.lookup(b, key) {
            Lookup::Found(_, x) => Some(x),
            _ => None,
        }
    }

    /// Element `i` of the value of term `base` of `v`'s expression, when that value is an
    /// array written in the template.
    fn element(&self, v: &V<'t>, base: usize, i: usize) -> Option<V<'t>> {
        let b = self.deref(v.hop(v.term(base), Hop::Member(i.to_string())));
        if b.undecided || b.parts.is_some() {
            return None;
        }
        let At::Json(node) = b.at else {
            return None;
        };
        let Kind::Array(items) = &node.kind else {
            return None;
        };
        Some(b.json(items.get(i)?, Segment::Index(i)))
    }

    fn lookup(&self, obj: V<'t>, key: &str) -> Lookup<V<'t>> {
        if let Some(parts) = obj.parts.clone() {
            return self.lookup_parts(&obj, &parts, key);
        }
        match obj.at {
            At::Json(node) => match arm::get(node, key) {
                Lookup::Found(k, n) => Lookup::Found(k.clone(), obj.json(n, Segment::Key(k))),
                Lookup::Duplicate(k, n) => {
                    Lookup::Duplicate(k.clone(), obj.json(n, Segment::Key(k)))
                }
                Lookup::Missing => Lookup::Missing,
            },
            At::Term { expr, term, .. } => {
                let Some((name, args)) = expr.call(term) else {
                    return Lookup::Missing;
                };
                match name {
                    "createobject" => {
                        let mut found: Option<(String, V<'t>)> = None;
                        let mut computed = false;
                        // Pairs of key and value; a trailing odd argument has no key.
                        for pair in args.chunks_exact(2) {
                            let Some(k) = expr.str_lit(pair[0]) else {
                                computed = true;
                                continue;
                            };
                            if k.eq_ignore_ascii_case(key) {
                                let value = obj.term(pair[1]);
                                if found.is_some() {
                                    return Lookup::Duplicate(k.to_string(), value);
                                }
                                found = Some((k.to_string(), value));
                            }
                        }
                        match found {
                            Some((k, v)) => Lookup::Found(k, v),
                            // A computed key might be this one: the rule must not add it.
                            None if computed => Lookup::Found(key.to_string(), obj.undecided()),
                            None => Lookup::Missing,
                        }
                    }
                    "union" => {
                        let parts: Vec<V<'t>> = args
                            .iter()
                            .map(|a| self.deref(obj.hop(obj.term(*a), Hop::Union)))
                            .collect();
                        self.lookup_parts(&obj, &parts, key)
                    }
                    "if" if args.len() == 3 => {
                        if let Some(b) = self.branch(&obj, args) {
                            return if self.is_object(&b) {
                                self.lookup(b, key)
                            } else {
                                Lookup::Found(key.to_string(), b.undecided())
                            };
                        }
                        let branch = |i: usize| {
                            let b = self.deref(obj.term(args[i]));
                            if is_null(&b) {
                                Lookup::Missing
                            } else if self.is_object(&b) {
                                self.lookup(b, key)
                            } else {
                                Lookup::Found(key.to_string(), b)
                            }
                        };
                        match (branch(1), branch(2)) {
                            (Lookup::Missing, Lookup::Missing) => Lookup::Missing,
                            (Lookup::Found(k, a), Lookup::Found(_, b)) if a.same_place(&b) => {
                                Lookup::Found(k, a)
                            }
                            // The branches disagree: the value depends on the condition.
                            _ => Lookup::Found(key.to_string(), obj.undecided()),
                        }
                    }
                    _ => Lookup::Missing,
                }
            }
        }
    }

    /// `key` in the deep union of `parts` (earliest first), as the deployment engine merges
    /// them: the last part holding the key wins; when its value is an object, the values of
    /// the parts before it are merged under it as long as they are objects too.
    fn lookup_parts(&self, _obj: &V<'t>, parts: &[V<'t>], key: &str) -> Lookup<V<'t>> {
        // Each value found, as found and followed to what it is.
        let mut found: Vec<(V<'t>, V<'t>)> = Vec::new();
        let mut spelled = key.to_string();
        for part in parts.iter().rev() {
            if is_null(part) {
                continue;
            }
            if !self.is_object(part) {
                // An opaque part (a parameter, a call) may hold the key.
                if found.is_empty() {
                    return Lookup::Found(key.to_string(), part.undecided());
                }
                found.push((part.undecided(), part.undecided()));
                break;
            }
            match self.lookup(part.clone(), key) {
                Lookup::Missing => continue,
                Lookup::Duplicate(k, v) => {
                    if found.is_empty() {
                        return Lookup::Duplicate(k, v);
                    }
                    break;
                }
                Lookup::Found(k, v) => {
                    let d = self.deref(v.clone());
                    let object = !v.undecided && self.is_object(&d);
                    if found.is_empty() {
                        spelled = k;
                        found.push((v, d));
                        if !object {
                            break;
                        }
                    } else if object {
                        found.push((v, d));
                    } else {
                        break;
                    }
                }
            }
        }
        match found.len() {
            0 => Lookup::Missing,
            1 => Lookup::Found(spelled, found.pop().expect("one").0),
            _ => {
                let mut parts: Vec<V<'t>> = found.into_iter().map(|(_, d)| d).collect();
                parts.reverse();
                let last = parts.last().expect("several").clone();
                Lookup::Found(
                    spelled,
                    V {
                        parts: Some(Rc::new(parts)),
                        ..last
                    },
                )
            }
        }
    }

    fn is_object(&self, v: &V<'t>) -> bool {
        if v.parts.is_some() {
            return true;
        }
        match v.at {
            At::Json(n) => n.members().is_some(),
            At::Term { expr, term, .. } => match expr.call(term) {
                Some(("createobject" | "union", _)) => true,
                Some(("if", args)) if args.len() == 3 => {
                    if let Some(b) = self.branch(v, args) {
                        return self.is_object(&b);
                    }
                    let a = self.deref(v.term(args[1]));
                    let b = self.deref(v.term(args[2]));
                    (is_null(&a) || self.is_object(&a)) && (is_null(&b) || self.is_object(&b))
                }
                _ => false,
            },
        }
    }
}

fn is_null(v: &V) -> bool {
    match v.at {
        At::Json(n) => n.kind == Kind::Null,
        At::Term { expr, term, .. } => match &expr.terms[term].kind {
            TermKind::Word(w) => w == "null",
            TermKind::Call { name, args } => {
                (name == "null" && args.is_empty())
                    || (name == "json" && args.len() == 1 && expr.str_lit(args[0]) == Some("null"))
            }
            _ => false,
        },
    }
}

/// Literal terms: strings, numbers, `true`/`false`/`null` with or without parentheses.
fn is_literal(v: &V) -> bool {
    match v.at {
        At::Json(n) => !matches!(n.kind, Kind::Object(_) | Kind::Array(_)),
        At::Term { expr, term, .. } => match &expr.terms[term].kind {
            TermKind::Str(_) | TermKind::Number(_) | TermKind::Word(_) => true,
            TermKind::Call { name, args } => {
                args.is_empty() && matches!(name.as_str(), "true" | "false" | "null")
            }
            _ => false,
        },
    }
}

impl<'t> rule::Tree<'t> for Traced<'t> {
    type Node = V<'t>;

    fn shape(&self, node: V<'t>) -> Shape<'t, V<'t>> {
        if node.undecided {
            return Shape::Expr(str_of(node.host()));
        }
        let v = self.deref(node);
        match v.at {
            At::Json(n) => match &n.kind {
                Kind::Null => Shape::Null,
                Kind::Bool(b) => Shape::Bool(*b),
                Kind::String(s) if arm::is_expression(s) => Shape::Expr(str_of(n)),
                Kind::String(_) => Shape::Str(str_of(n)),
                Kind::Object(_) => Shape::Object(v),
                Kind::Number(_) | Kind::Array(_) => Shape::Other,
            },
            At::Term { host, expr, term } => match &expr.terms[term].kind {
                TermKind::Str(s) => Shape::Str(s),
                TermKind::Number(_) => Shape::Other,
                TermKind::Word(w) => word_shape(w),
                TermKind::Call { name, args } if args.is_empty() && name != "createobject" => {
                    match name.as_str() {
                        "true" | "false" | "null" => word_shape(name),
                        _ => Shape::Expr(str_of(host)),
                    }
                }
                _ if self.is_object(&v) => Shape::Object(v),
                _ => Shape::Expr(str_of(host)),
            },
        }
    }

    fn get(&self, object: V<'t>, key: &str) -> Lookup<V<'t>> {
        self.lookup(object, key)
    }
}

fn word_shape<'t, N>(w: &str) -> Shape<'t, N> {
    match w {
        "true" => Shape::Bool(true),
        "false" => Shape::Bool(false),
        _ => Shape::Null,
    }
}

fn str_of<'t>(n: &'t Node<'t>) -> &'t str {
    n.as_str().unwrap_or("")
}

/// A template spec's version, whose `properties.mainTemplate` is a template of its own.
const SPEC_VERSION_TYPE: &str = "Microsoft.Resources/templateSpecs/versions";

/// The scope an expression at `path` (a cluster's path) is evaluated in: nested templates
/// evaluate in their parent's scope unless `expressionEvaluationOptions.scope` is `inner`.
pub(crate) fn scope_for<'t>(root: &'t Node<'t>, path: &[Segment]) -> Rc<Scope<'t>> {
    let mut scope = Rc::new(Scope {
        template: root,
        path: Vec::new(),
        feeder: None,
    });
    let mut node = root;
    let mut deployment: Option<(&'t Node<'t>, usize)> = None;
    for (i, seg) in path.iter().enumerate() {
        let next = match (seg, &node.kind) {
            (Segment::Key(k), Kind::Object(members)) => {
                members.iter().rev().find(|m| m.key == *k).map(|m| &m.value)
            }
            (Segment::Index(j), Kind::Array(items)) => items.get(*j),
            _ => None,
        };
        let Some(next) = next else { break };
        // A `template` key directly under a deployment's `properties` opens a nested scope.
        if let (Segment::Key(k), Some((dep, dep_len))) = (seg, deployment) {
            let spec = matches!(arm::get(dep, "type"), Lookup::Found(_, t)
                if t.as_str().is_some_and(|t| t.eq_ignore_ascii_case(SPEC_VERSION_TYPE)));
            if spec && k.eq_ignore_ascii_case("mainTemplate") && i == dep_len + 1 {
                // A template spec's template: its own scope, its values its defaults (what
                // deploys the spec is not known here).
                scope = Rc::new(Scope {
                    template: next,
                    path: path[..=i].to_vec(),
                    feeder: None,
                });
            } else if !spec && k.eq_ignore_ascii_case("template") && i == dep_len + 1 {
                let props = match arm::get(dep, "properties") {
                    Lookup::Found(_, p) => p,
                    _ => break,
                };
                let inner = match arm::get(props, "expressionEvaluationOptions") {
                    Lookup::Found(_, o) => matches!(arm::get(o, "scope"),
                        Lookup::Found(_, s) if s.as_str().is_some_and(|s| s.eq_ignore_ascii_case("inner"))),
                    _ => false,
                };
                if inner {
                    let parameters = match arm::get(props, "parameters") {
                        Lookup::Found(key, p) => {
                            let mut p_path = path[..i].to_vec();
                            p_path.push(Segment::Key(key));
                            Some((p, p_path))
                        }
                        _ => None,
                    };
                    scope = Rc::new(Scope {
                        template: next,
                        path: path[..=i].to_vec(),
                        feeder: Some(Feeder {
                            parameters,
                            outer: scope,
                        }),
                    });
                }
            }
        }
        if next.members().is_some()
            && matches!(arm::get(next, "type"), Lookup::Found(_, t)
                if t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Resources/deployments")
                    || t.eq_ignore_ascii_case(SPEC_VERSION_TYPE)))
        {
            deployment = Some((next, i + 1));
        }
        node = next;
    }
    scope
}

/// Where the value of a parameter that feeds the rotation setting comes from.
#[derive(Debug)]
pub(crate) enum ParamSource {
    /// The value passes already.
    Passes,
    /// A literal to replace with `value` (typed as the parameter is).
    Replace {
        path: Vec<Segment>,
        value: serde_json::Value,
        name: String,
        /// True for a nested deployment's passed value, false for a default.
        passed: bool,
    },
    /// A top-level parameter without a default: only parameter files can say.
    NoDefault { name: String },
    /// Cannot be followed; why.
    Review(String),
}

impl<'t> Traced<'t> {
    /// The place `steps` reach in the default of parameter `name` of `scope`, when it is one
    /// literal the template writes (not an element per loop instance, not a parameter a
    /// nested deployment passes).
    fn member_default_place(
        &self,
        scope: &Rc<Scope<'t>>,
        name: &str,
        steps: &[Access],
    ) -> Option<Place<'t>> {
        if let Some(Feeder {
            parameters: Some((passed, _)),
            ..
        }) = &scope.feeder
        {
            if matches!(arm::get(passed, name), Lookup::Found(..)) {
                return None;
            }
        }
        let Lookup::Found(pk, params) = arm::get(scope.template, "parameters") else {
            return None;
        };
        let Lookup::Found(declared, def) = arm::get(params, name) else {
            return None;
        };
        let Lookup::Found(dk, mut node) = arm::get(def, "defaultValue") else {
            return None;
        };
        let mut path = scope.path.clone();
        path.extend([Segment::Key(pk), Segment::Key(declared), Segment::Key(dk)]);
        for step in steps {
            match (step, &node.kind) {
                (Access::Key(k), Kind::Object(_)) => {
                    let Lookup::Found(key, child) = arm::get(node, k) else {
                        return None;
                    };
                    path.push(Segment::Key(key));
                    node = child;
                }
                (Access::Index(i), Kind::Array(items)) => {
                    node = items.get(*i)?;
                    path.push(Segment::Index(*i));
                }
                _ => return None,
            }
        }
        is_plain_literal(node).then(|| Place {
            at: At::Json(node),
            path: Rc::new(path),
            scope: scope.clone(),
        })
    }

    /// The parameter a value reads, through the value-preserving wrappers, with its scope.
    pub(crate) fn parameter_of(&self, v: V<'t>) -> Option<(String, Rc<Scope<'t>>)> {
        let mut v = self.deref(v);
        loop {
            let At::Term { expr, term, .. } = v.at else {
                return None;
            };
            let (name, args) = expr.call(term)?;
            match (name, args.len()) {
                ("parameters", 1) => {
                    return Some((expr.str_lit(args[0])?.to_string(), v.scope.clone()))
                }
                ("string" | "tolower" | "toupper" | "bool" | "json", 1) => {
                    v = self.deref(v.term(args[0]))
                }
                _ => return None,
            }
        }
    }

    /// The parameter a value reads a member or element of (`parameters('cfg').rot`,
    /// `parameters('cfg')['rot']`, `parameters('list')[copyIndex()].rot`), with its scope
    /// and the steps into the parameter's value, outermost first. `None` when the value is
    /// not such a read (a plain `parameters('p')` is [`Traced::parameter_of`]'s).
    pub(crate) fn parameter_access_of(
        &self,
        v: V<'t>,
    ) -> Option<(String, Rc<Scope<'t>>, Vec<Access>)> {
        // Through the value-preserving wrappers, as [`Traced::parameter_of`] goes.
        let mut v = self.deref(v);
        let (expr, mut t) = loop {
            let At::Term { expr, term, .. } = v.at else {
                return None;
            };
            match expr.call(term) {
                Some(("string" | "tolower" | "toupper" | "bool" | "json", [arg])) => {
                    v = self.deref(v.term(*arg));
                }
                _ => break (expr, term),
            }
        };
        let mut steps = Vec::new();
        loop {
            match &expr.terms[t].kind {
                TermKind::Member { base, name } => {
                    steps.push(Access::Key(name.clone()));
                    t = *base;
                }
                TermKind::Index { base, index } => {
                    steps.push(match &expr.terms[*index].kind {
                        TermKind::Str(k) => Access::Key(k.clone()),
                        TermKind::Number(n) => Access::Index(n.parse().ok()?),
                        TermKind::Call { name, args }
                            if name == "copyindex"
                                && (args.is_empty()
                                    || (args.len() == 1 && expr.str_lit(args[0]).is_some())) =>
                        {
                            Access::EachElement
                        }
                        _ => return None,
                    });
                    t = *base;
                }
                TermKind::Call { name, args } if name == "parameters" && args.len() == 1 => {
                    if steps.is_empty() {
                        return None;
                    }
                    steps.reverse();
                    let name = expr.str_lit(args[0])?.to_string();
                    return Some((name, v.scope.clone(), steps));
                }
                _ => return None,
            }
        }
    }

    /// Follows `steps` into the default of parameter `name` of `scope` to the literals
    /// that set the rotation value: for [`Access::EachElement`] each element of the array
    /// (only when `whole_array`: the copy loop deploys one instance per element). A
    /// parameter that a nested deployment passes, or without a default, or whose default
    /// holds an expression on the way, is for a human.
    pub(crate) fn trace_parameter_member(
        &self,
        scope: &Rc<Scope<'t>>,
        name: &str,
        steps: &[Access],
        whole_array: bool,
    ) -> Vec<ParamSource> {
        let shown = steps_text(steps);
        let Lookup::Found(pk, params) = arm::get(scope.template, "parameters") else {
            return vec![ParamSource::Review(format!(
                "parameter `{name}` is not declared in its template"
            ))];
        };
        let Lookup::Found(declared, def) = arm::get(params, name) else {
            return vec![ParamSource::Review(format!(
                "parameter `{name}` is not declared in its template"
            ))];
        };
        if let Some(Feeder {
            parameters: Some((passed, _)),
            ..
        }) = &scope.feeder
        {
            if matches!(arm::get(passed, name), Lookup::Found(..)) {
                return vec![ParamSource::Review(format!(
                    "the nested deployment passes parameter `{declared}`; make `{shown}` of                      the value it passes true"
                ))];
            }
        }
        let Lookup::Found(dk, default) = arm::get(def, "defaultValue") else {
            return vec![ParamSource::Review(format!(
                "parameter `{declared}` has no default value; make `{shown}` true in every                  value passed"
            ))];
        };
        let mut path = scope.path.clone();
        path.extend([
            Segment::Key(pk),
            Segment::Key(declared.clone()),
            Segment::Key(dk),
        ]);
        let mut out = Vec::new();
        member_sources(
            default,
            path,
            steps,
            whole_array,
            &declared,
            &shown,
            &mut out,
        );
        out
    }

    /// The parameter a value reads, through the value-preserving wrappers, with its scope.
    /// top-level parameters that parameter files may set.
    pub(crate) fn trace_parameter(
        &self,
        scope: &Rc<Scope<'t>>,
        name: &str,
        demands: &mut Vec<ParamDemand>,
        depth: usize,
    ) -> Vec<ParamSource> {
        if depth > 16 {
            return vec![ParamSource::Review(
                "parameters feed each other too deeply; make the rotation value true by hand"
                    .into(),
            )];
        }
        let (pkey, def) = match arm::get(scope.template, "parameters") {
            Lookup::Found(pk, params) => match arm::get(params, name) {
                Lookup::Found(k, d) => ((pk, k), d),
                _ => {
                    return vec![ParamSource::Review(format!(
                        "parameter `{name}` is not declared in its template"
                    ))]
                }
            },
            _ => {
                return vec![ParamSource::Review(format!(
                    "parameter `{name}` is not declared in its template"
                ))]
            }
        };
        // Messages name the parameter as declared (`Rot`), not as one use spells it (`rOT`).
        let declared = pkey.1.to_string();
        let name = declared.as_str();
        let ty = match arm::get(def, "type") {
            Lookup::Found(_, t) => t.as_str().unwrap_or("").to_ascii_lowercase(),
            _ => String::new(),
        };
        let default = match arm::get(def, "defaultValue") {
            Lookup::Found(k, d) => Some((k, d)),
            _ => None,
        };
        let boolean = ty == "bool"
            || (ty.is_empty()
                && default
                    .as_ref()
                    .is_some_and(|(_, d)| matches!(d.kind, Kind::Bool(_))));
        let want = if boolean {
            serde_json::Value::Bool(true)
        } else {
            serde_json::Value::String("true".into())
        };
        if !(boolean || ty == "string" || ty.is_empty()) {
            return vec![ParamSource::Review(format!(
                "parameter `{name}` is of type `{ty}`, not bool or string; make it true by hand"
            ))];
        }
        if let Some(allowed) = match arm::get(def, "allowedValues") {
            Lookup::Found(_, a) => Some(a),
            _ => None,
        } {
            let Kind::Array(items) = &allowed.kind else {
                return vec![ParamSource::Review(format!(
                    "parameter `{name}` has computed allowedValues; make its value true by hand"
                ))];
            };
            if !items.iter().any(|i| passes_literal(i)) {
                return vec![ParamSource::Review(format!(
                    "parameter `{name}`'s allowedValues do not include true; add true there and \
                     make it the default"
                ))];
            }
        }

        // An inner-scoped nested template gets its parameters from the deployment.
        if let Some(feeder) = &scope.feeder {
            if let Some((params, ppath)) = &feeder.parameters {
                if let Lookup::Found(k, entry) = arm::get(params, name) {
                    let mut path = ppath.clone();
                    path.push(Segment::Key(k));
                    return match arm::get(entry, "value") {
                        Lookup::Found(vk, value) => {
                            path.push(Segment::Key(vk));
                            let v = V {
                                at: At::Json(value),
                                undecided: false,
                                path: Rc::new(path.clone()),
                                scope: feeder.outer.clone(),
                                chain: provenance::Chain::default(),
                                parts: None,
                            };
                            if let Some((outer_name, outer)) = self.parameter_of(v.clone()) {
                                return self.trace_parameter(
                                    &outer,
                                    &outer_name,
                                    demands,
                                    depth + 1,
                                );
                            }
                            if passes_literal(value) {
                                vec![ParamSource::Passes]
                            } else if is_plain_literal(value) {
                                vec![ParamSource::Replace {
                                    path,
                                    value: want,
                                    name: name.to_string(),
                                    passed: true,
                                }]
                            } else {
                                vec![ParamSource::Review(format!(
                                    "the nested deployment passes parameter `{name}` as an \
                                     expression; make that expression true"
                                ))]
                            }
                        }
                        _ => vec![ParamSource::Review(format!(
                            "the nested deployment passes parameter `{name}` by reference; make the \
                             referenced value true"
                        ))],
                    };
                }
            }
        } else {
            demands.push(ParamDemand {
                name: pkey.1.clone(),
                boolean,
            });
        }
        match default {
            None if scope.feeder.is_none() => vec![ParamSource::NoDefault {
                name: name.to_string(),
            }],
            None => vec![ParamSource::Review(format!(
                "parameter `{name}` has no default and the nested deployment passes no \
                 value; pass true"
            ))],
            Some((_, d)) if passes_literal(d) => vec![ParamSource::Passes],
            Some((dk, d)) if is_plain_literal(d) => {
                let mut path = scope.path.clone();
                path.extend([Segment::Key(pkey.0), Segment::Key(pkey.1), Segment::Key(dk)]);
                vec![ParamSource::Replace {
                    path,
                    value: want,
                    name: name.to_string(),
                    passed: false,
                }]
            }
            Some(_) => vec![ParamSource::Review(format!(
                "the default of parameter `{name}` is an expression; make it true"
            ))],
        }
    }
}

/// One step into a parameter's value: `.rot` or `['rot']`, `[0]`, or `[copyIndex()]` (each
/// element, one per instance of the loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Access {
    Key(String),
    Index(usize),
    EachElement,
}

/// `steps` as an expression writes them after the parameter: `.rot`, `[copyIndex()].rot`.
fn steps_text(steps: &[Access]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Access::Key(k) => format!(".{k}"),
            Access::Index(i) => format!("[{i}]"),
            Access::EachElement => "[copyIndex()]".to_string(),
        })
        .collect()
}

/// The sources of the value `steps` reach inside `node` (a parameter's default at `path`),
/// into `out`.
fn member_sources(
    node: &Node,
    path: Vec<Segment>,
    steps: &[Access],
    whole_array: bool,
    name: &str,
    shown: &str,
    out: &mut Vec<ParamSource>,
) {
    let Some((step, rest)) = steps.split_first() else {
        let leaf = if passes_literal(node) {
            ParamSource::Passes
        } else if is_plain_literal(node) {
            let value = if matches!(node.kind, Kind::Bool(_)) {
                serde_json::Value::Bool(true)
            } else {
                serde_json::Value::String("true".into())
            };
            ParamSource::Replace {
                path,
                value,
                name: name.to_string(),
                passed: false,
            }
        } else {
            ParamSource::Review(format!(
                "`{shown}` of the default of parameter `{name}` is not a literal; make it true"
            ))
        };
        out.push(leaf);
        return;
    };
    let into = |child: &Node, seg: Segment, out: &mut Vec<ParamSource>| {
        let mut p = path.clone();
        p.push(seg);
        member_sources(child, p, rest, whole_array, name, shown, out);
    };
    match (step, &node.kind) {
        (Access::Key(k), Kind::Object(_)) => match arm::get(node, k) {
            Lookup::Found(key, child) => into(child, Segment::Key(key), out),
            _ => out.push(ParamSource::Review(format!(
                "the default of parameter `{name}` has no single `{k}` for `{shown}`; make it                  true by hand"
            ))),
        },
        (Access::Index(i), Kind::Array(items)) if *i < items.len() => {
            into(&items[*i], Segment::Index(*i), out)
        }
        (Access::EachElement, Kind::Array(items)) if whole_array => {
            for (i, item) in items.iter().enumerate() {
                into(item, Segment::Index(i), out);
            }
        }
        _ => out.push(ParamSource::Review(format!(
            "`{shown}` of the default of parameter `{name}` cannot be followed; make it true"
        ))),
    }
}

/// A switch the author wrote on one bool parameter: `if(parameters('p'), a, b)` (or
/// `if(not(parameters('p')), a, b)`) whose branches are both written out, one of them a
/// rotation value that passes. Flipping `p`'s default selects that branch: the fix a person
/// makes, when `p` selects nothing else (the deploy-time proof refuses it otherwise, and the
/// search moves closer to the cluster).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Switch {
    /// The parameter as declared.
    pub(crate) name: String,
    /// The value of `p` that selects the passing branch.
    pub(crate) want: bool,
    /// Pointer path of `p`'s `defaultValue`.
    pub(crate) default: Vec<Segment>,
    /// Whether the default already selects the passing branch.
    pub(crate) passes: bool,
}

impl<'t> Traced<'t> {
    /// The [`Switch`] `v` is, when it is one. Only a bool parameter that is the whole
    /// condition (or `not()` of one) counts: a comparison (`equals(parameters('env'),
    /// 'prod')`) selects an environment, which no rotation fix should flip, and a
    /// parameter the deployment passes (an inner-scoped nested template's) is set there.
    pub(crate) fn switch(&self, v: V<'t>) -> Option<Switch> {
        let v = self.deref(v);
        let At::Term { expr, term, .. } = v.at else {
            return None;
        };
        let ("if", args) = expr.call(term)? else {
            return None;
        };
        let [cond, then, otherwise] = args[..] else {
            return None;
        };
        let (param, negated) = match expr.call(cond)? {
            ("parameters", [p]) => (*p, false),
            ("not", [inner]) => match expr.call(*inner)? {
                ("parameters", [p]) => (*p, true),
                _ => return None,
            },
            _ => return None,
        };
        let name = expr.str_lit(param)?;
        // The branch that passes, and the value of the condition that selects it.
        let passes = |t: usize| {
            let b = self.deref(v.term(t));
            is_literal(&b)
                && match self.value_at(&b.place()) {
                    Value::Bool(b) => b,
                    Value::Str(s) => s.eq_ignore_ascii_case("true"),
                    _ => false,
                }
        };
        let condition = match (passes(then), passes(otherwise)) {
            (true, false) => true,
            (false, true) => false,
            _ => return None,
        };
        let want = condition != negated;
        if v.scope.feeder.is_some() {
            return None;
        }
        let Lookup::Found(pk, params) = arm::get(v.scope.template, "parameters") else {
            return None;
        };
        let Lookup::Found(declared, def) = arm::get(params, name) else {
            return None;
        };
        let Lookup::Found(_, ty) = arm::get(def, "type") else {
            return None;
        };
        if !ty.as_str()?.eq_ignore_ascii_case("bool") {
            return None;
        }
        let Lookup::Found(dk, d) = arm::get(def, "defaultValue") else {
            return None;
        };
        let Kind::Bool(now) = d.kind else {
            return None;
        };
        let mut default = v.scope.path.clone();
        default.extend([
            Segment::Key(pk),
            Segment::Key(declared.clone()),
            Segment::Key(dk),
        ]);
        Some(Switch {
            name: declared,
            want,
            default,
            passes: now == want,
        })
    }
}

/// What a fix along a chain replaces: the rotation value's places, or (the rotation
/// setting missing) the places of the add-on's `config`, where the setting is to be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Rotation,
    Config,
}

impl<'t> Traced<'t> {
    /// The places the rotation value of the cluster at `path` (`node`) passes on its way
    /// from where it is written, source first and the cluster's own value last (see
    /// [`provenance::Chain::places`]); through a parameter, its default or the value a
    /// nested deployment passes comes first. Where the cluster's `config` has no rotation
    /// setting, the places of `config` itself. `None` when the add-on or its `config` is
    /// missing or cannot be followed.
    pub(crate) fn rotation_places(
        &self,
        root: &'t Node<'t>,
        path: &[Segment],
        node: &'t Node<'t>,
    ) -> Option<(Vec<Place<'t>>, Target)> {
        use rule::Tree;
        let mut v = self.cluster(root, path, node);
        for key in ["properties", "addonProfiles", rule::ADDON, "config"] {
            let Shape::Object(o) = self.shape(v) else {
                return None;
            };
            match self.lookup(o, key) {
                Lookup::Found(_, x) => v = x,
                _ => return None,
            }
        }
        let (v, target) = match self.shape(v.clone()) {
            Shape::Object(o) => match self.lookup(o, rule::ROTATION) {
                Lookup::Found(_, x) => (x, Target::Rotation),
                Lookup::Missing => (v, Target::Config),
                Lookup::Duplicate(..) => return None,
            },
            _ => (v, Target::Config),
        };
        Some((self.origin(v, 0), target))
    }

    /// The places `v` passes, source first, `v`'s own place last.
    fn origin(&self, v: V<'t>, depth: usize) -> Vec<Place<'t>> {
        if depth > 16 {
            return Vec::new();
        }
        let end = self.deref(v);
        let places = |v: &V<'t>| v.chain.places(v.place()).into_iter().map(|(p, _)| p);
        // A member or element of a parameter's default: that member first.
        if let Some((name, scope, steps)) = self.parameter_access_of(end.clone()) {
            let mut out: Vec<Place<'t>> = self
                .member_default_place(&scope, &name, &steps)
                .into_iter()
                .collect();
            out.extend(places(&end));
            return out;
        }
        // Through the value-preserving wrappers to a parameter, if the value reads one.
        let mut at = end.clone();
        while let At::Term { expr, term, .. } = at.at {
            match expr.call(term) {
                Some(("parameters", [name])) => {
                    let Some(name) = expr.str_lit(*name) else {
                        break;
                    };
                    let mut out = self.parameter_origin(&at.scope, name, depth + 1);
                    out.extend(places(&at));
                    return out;
                }
                Some((f @ ("string" | "tolower" | "toupper" | "bool" | "json"), [arg])) => {
                    let next = at.hop(at.term(*arg), Hop::Wrapper(f.into()));
                    at = self.deref(next);
                }
                _ => break,
            }
        }
        places(&end).collect()
    }

    /// The places the value of parameter `name` of `scope` passes: the value an
    /// inner-scoped nested deployment passes (and where that comes from), else the
    /// parameter's default (and where that comes from). Empty for a top-level parameter
    /// without a default: parameter files set it, and have their own findings.
    fn parameter_origin(&self, scope: &Rc<Scope<'t>>, name: &str, depth: usize) -> Vec<Place<'t>> {
        let at = |node: &'t Node<'t>, path: Vec<Segment>, scope: Rc<Scope<'t>>| V {
            at: At::Json(node),
            undecided: false,
            path: Rc::new(path),
            scope,
            chain: provenance::Chain::default(),
            parts: None,
        };
        let Lookup::Found(pk, params) = arm::get(scope.template, "parameters") else {
            return Vec::new();
        };
        let Lookup::Found(k, def) = arm::get(params, name) else {
            return Vec::new();
        };
        if let Some(Feeder {
            parameters: Some((passed, ppath)),
            outer,
        }) = &scope.feeder
        {
            if let Lookup::Found(fk, entry) = arm::get(passed, name) {
                let Lookup::Found(vk, value) = arm::get(entry, "value") else {
                    return Vec::new();
                };
                let mut path = ppath.clone();
                path.extend([Segment::Key(fk), Segment::Key(vk)]);
                return self.origin(at(value, path, outer.clone()), depth);
            }
        }
        let Lookup::Found(dk, default) = arm::get(def, "defaultValue") else {
            return Vec::new();
        };
        let mut path = scope.path.clone();
        path.extend([Segment::Key(pk), Segment::Key(k), Segment::Key(dk)]);
        self.origin(at(default, path, scope.clone()), depth)
    }

    /// What the value at `place` evaluates to with the defaults (Unknown when the
    /// evaluator cannot tell; copy loops around it are not known).
    pub(crate) fn value_at(&self, place: &Place<'t>) -> Value {
        let (host, term) = match place.at {
            At::Json(n) => match &n.kind {
                Kind::String(s) if arm::is_expression(s) => match expr::parse(s) {
                    Some(e) => (n, e.root),
                    None => return Value::unknown("an expression that does not parse"),
                },
                _ => return Value::from_json(&n.to_value()),
            },
            At::Term { host, term, .. } => (host, term),
        };
        let tokens: Vec<String> = place.scope.path.iter().map(Segment::token).collect();
        match (self.probe(), host.as_str()) {
            (Some(p), Some(src)) => p.term(&tokens, src, term),
            _ => Value::unknown("the template does not parse as JSON"),
        }
    }
}

/// `true`, or `"true"` in any case.
pub(crate) fn passes_literal(n: &Node) -> bool {
    match &n.kind {
        Kind::Bool(b) => *b,
        Kind::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A scalar that is not an expression.
fn is_plain_literal(n: &Node) -> bool {
    match &n.kind {
        Kind::String(s) => !arm::is_expression(s),
        Kind::Object(_) | Kind::Array(_) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Remedy;
    use crate::lang::arm::plan::{analyze, Options};

    fn template(properties: &str, variables: &str) -> String {
        format!(
            r#"{{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "variables": {variables},
            "resources": [{{"type": "Microsoft.ContainerService/managedClusters", "name": "a",
                "properties": {properties}}}]}}"#
        )
    }

    fn findings(text: &str) -> Vec<crate::finding::Finding> {
        analyze(text, &Options::default())
            .unwrap()
            .unwrap()
            .findings
    }

    /// The template `params` and `vars` around one cluster whose add-on reads `addon`, and
    /// the text after the planner's fix (the findings' remedies too).
    fn fixed(params: &str, vars: &str, resource: &str) -> (String, Vec<Remedy>) {
        let text = format!(
            r#"{{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "parameters": {params}, "variables": {vars},
            "resources": [{{"type": "Microsoft.ContainerService/managedClusters", "name": "a", {resource}}}]}}"#
        );
        let a = analyze(&text, &Options::default()).unwrap().unwrap();
        let out = crate::edit::apply(&text, &a.edits).unwrap();
        (out, a.findings.into_iter().map(|f| f.remedy).collect())
    }

    fn rotation(value: &str) -> String {
        format!(
            r#""properties": {{"addonProfiles": {{"azureKeyvaultSecretsProvider": {{"enabled": true, "config": {{"enableSecretRotation": "{value}"}}}}}}}}"#
        )
    }

    #[test]
    fn coalesce_is_followed_to_its_first_operand_that_is_not_null() {
        // Through a null literal and a parameter whose default is null, to a variable.
        let (out, r) = fixed(
            r#"{"o": {"type": "string", "defaultValue": null}}"#,
            r#"{"v": "false"}"#,
            &rotation("[coalesce(null(), parameters('o'), variables('v'))]"),
        );
        assert_eq!(r, [Remedy::Fix]);
        assert!(out.contains(r#""v": "true""#), "{out}");
        // To a parameter's default.
        let (out, r) = fixed(
            r#"{"a": {"type": "string", "defaultValue": "false"}, "b": {"type": "string", "defaultValue": "x"}}"#,
            "{}",
            &rotation("[coalesce(parameters('a'), parameters('b'))]"),
        );
        assert_eq!(r, [Remedy::Fix]);
        assert!(
            out.contains(r#""a": {"type": "string", "defaultValue": "true"}"#),
            "{out}"
        );
        assert!(out.contains(r#""defaultValue": "x""#), "{out}");
        // An operand the evaluator cannot decide (no default): not followed past it.
        let (out, r) = fixed(
            r#"{"a": {"type": "string"}}"#,
            r#"{"v": "false"}"#,
            &rotation("[coalesce(parameters('a'), variables('v'))]"),
        );
        assert!(matches!(r[..], [Remedy::ManualReview { .. }]), "{r:?}");
        assert!(out.contains(r#""v": "false""#), "{out}");
    }

    #[test]
    fn a_member_of_a_variable_or_a_parameter_default_is_fixed_where_it_is_written() {
        let (out, r) = fixed(
            "{}",
            r#"{"o": {"a": {"b": "false"}, "c": 1}}"#,
            &rotation("[variables('o').a.b]"),
        );
        assert_eq!(r, [Remedy::Fix]);
        assert!(out.contains(r#"{"a": {"b": "true"}, "c": 1}"#), "{out}");
        let (out, r) = fixed(
            r#"{"cfg": {"type": "object", "defaultValue": {"x": {"Rot": false}}}}"#,
            "{}",
            &rotation("[parameters('cfg')['x'].rot]"),
        );
        assert_eq!(r, [Remedy::Fix]);
        assert!(out.contains(r#"{"x": {"Rot": true}}"#), "{out}");
        let (out, r) = fixed(
            "{}",
            r#"{"l": ["true", "false"]}"#,
            &rotation("[variables('l')[1]]"),
        );
        assert_eq!(r, [Remedy::Fix]);
        assert!(out.contains(r#"["true", "true"]"#), "{out}");
        // A member the default does not hold, an element past the end: for a human.
        for (default, read) in [
            (r#"{"other": "false"}"#, "[parameters('cfg').rot]"),
            (r#"["false"]"#, "[parameters('cfg')[3]]"),
        ] {
            let (out, r) = fixed(
                &format!(r#"{{"cfg": {{"type": "object", "defaultValue": {default}}}}}"#),
                "{}",
                &rotation(read),
            );
            assert!(matches!(r[..], [Remedy::ManualReview { .. }]), "{r:?}");
            assert!(out.contains(default), "{out}");
        }
    }

    #[test]
    fn a_copy_loop_over_an_array_parameter_fixes_each_failing_element() {
        let copy = |count: &str| {
            format!(
                r#""copy": {{"name": "c", "count": "{count}"}}, {}"#,
                rotation("[parameters('l')[copyIndex()].rot]")
            )
        };
        let params = r#"{"l": {"type": "array", "defaultValue": [{"rot": "false"}, {"rot": "true"}, {"rot": "False"}]}}"#;
        let (out, r) = fixed(params, "{}", &copy("[length(parameters('l'))]"));
        assert_eq!(r, [Remedy::Fix]);
        assert!(
            out.contains(r#"[{"rot": "true"}, {"rot": "true"}, {"rot": "true"}]"#),
            "{out}"
        );
        // A loop that does not run once per element: which elements deploy is not read here.
        let (out, r) = fixed(params, "{}", &copy("2"));
        assert!(matches!(r[..], [Remedy::ManualReview { .. }]), "{r:?}");
        assert!(out.contains(r#"{"rot": "false"}"#), "{out}");
    }

    #[test]
    fn a_trailing_keyless_argument_of_create_object_is_ignored() {
        // Seen in compiled AKS-Construction templates: createObject('k', v, extra).
        let props = r#""[createObject('addonProfiles', createObject('azureKeyvaultSecretsProvider', createObject('enabled', true(), 'config', createObject('enableSecretRotation', 'true'))), createObject('x', 1))]""#;
        assert!(findings(&template(props, "{}")).is_empty());
    }

    #[test]
    fn a_computed_key_makes_a_missing_key_undecided() {
        let props = r#""[createObject(parameters('k'), 1, 'addonProfiles', createObject('azureKeyvaultSecretsProvider', createObject('enabled', true(), 'config', createObject(parameters('c'), 'x'))))]""#;
        let f = findings(&template(props, "{}"));
        assert_eq!(f.len(), 1);
        assert!(matches!(f[0].remedy, Remedy::ManualReview { .. }), "{f:?}");
    }

    #[test]
    fn if_branches_that_agree_are_followed() {
        let vars = r#"{"base": "[createObject('azureKeyvaultSecretsProvider', createObject('enabled', true(), 'config', createObject('enableSecretRotation', 'false')))]",
                      "more": "[if(parameters('x'), union(variables('base'), createObject('y', createObject())), variables('base'))]"}"#;
        let props = r#"{"addonProfiles": "[variables('more')]"}"#;
        let f = findings(&template(props, vars));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].remedy, Remedy::Fix, "{f:?}");
        assert!(f[0].message.contains("variable `base`"), "{}", f[0].message);
    }

    #[test]
    fn a_variable_that_reads_itself_through_an_if_ends() {
        let vars = r#"{"a": "[if(parameters('c'), variables('a'), createObject('enableSecretRotation', 'false'))]"}"#;
        let text = template(
            r#"{"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true, "config": "[variables('a')]"}}}"#,
            vars,
        )
        .replace(
            r#""variables""#,
            r#""parameters": {"c": {"type": "bool", "defaultValue": true}}, "variables""#,
        );
        // Reaching the end is the test; the value cannot be told from the source.
        let f = findings(&text);
        assert_eq!(f.len(), 1, "{f:?}");
    }

    #[test]
    fn a_deep_union_keeps_the_earlier_operand_s_rotation() {
        // `over` holds the add-on without `config`: the merged add-on keeps `base`'s 'false'.
        let vars = r#"{"base": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true, "config": {"enableSecretRotation": "false"}}}},
                      "over": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true}, "omsagent": {"enabled": false}}}}"#;
        let f = findings(&template(
            r#""[union(variables('base'), variables('over'))]""#,
            vars,
        ));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].remedy, Remedy::Fix, "{f:?}");
        assert!(f[0].message.contains("variable `base`"), "{}", f[0].message);
        // And a later operand's 'true' wins over an earlier 'false' with nothing to fix.
        let vars = r#"{"base": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true, "config": {"enableSecretRotation": "false"}}}},
                      "over": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"config": {"enableSecretRotation": "true"}}}}}"#;
        assert!(findings(&template(
            r#""[union(variables('base'), variables('over'))]""#,
            vars
        ))
        .is_empty());
        // A missing key goes into the last operand that holds the object (it wins).
        let vars = r#"{"base": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true, "config": {}}}},
                      "over": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"config": {"x": 1}}}}}"#;
        let f = findings(&template(
            r#""[union(variables('base'), variables('over'))]""#,
            vars,
        ));
        assert!(f[0].message.contains("variable `over`"), "{}", f[0].message);
    }

    #[test]
    fn an_if_the_defaults_decide_is_read_on_its_deployed_branch() {
        // With `x` false the second branch deploys; the first, opaque, is not read.
        let params = r#""parameters": {"x": {"type": "bool", "defaultValue": false}, "o": {"type": "object", "defaultValue": {}}}, "variables""#;
        let props = r#"{"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true,
            "config": "[if(parameters('x'), parameters('o'), createObject('enableSecretRotation', 'false'))]"}}}"#;
        let f = findings(&template(props, "{}").replace(r#""variables""#, params));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].remedy, Remedy::Fix, "{f:?}");
        // With `x` true the opaque branch deploys: a human must look.
        let f = findings(&template(props, "{}").replace(
            r#""variables""#,
            &params.replace("false}, \"o\"", "true}, \"o\""),
        ));
        assert!(matches!(f[0].remedy, Remedy::ManualReview { .. }), "{f:?}");
    }

    #[test]
    fn if_branches_that_disagree_need_review() {
        let props = r#"{"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true,
            "config": "[if(parameters('x'), createObject('enableSecretRotation', 'true'), createObject())]"}}}"#;
        let f = findings(&template(props, "{}"));
        assert!(
            matches!(&f[0].remedy, Remedy::ManualReview { reason, .. } if reason.contains("condition")),
            "{f:?}"
        );
    }
}
