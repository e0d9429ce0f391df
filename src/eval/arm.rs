//! Evaluates an ARM template with one configuration as the deployment engine would, as far
//! as that can be known offline: parameters (checked against their declared types),
//! variables (lazily, with their `copy` form), every expression string, property, resource
//! and output `copy` loops, conditions, `existing`, user-defined functions, lambda functions
//! (`map`, `filter`, `reduce`...), and nested deployments with an inline template (inner and
//! outer scope). What only the deployment
//! can tell (`reference()`, `resourceGroup()`...) is an Unknown. The functions themselves
//! are in [`super::functions`]; this module knows the template's shape.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value as J;

use super::deployment::{Configuration, Deployment, Resource};
use super::functions::{self, render};
use super::types;
use super::value::{Object, Value};
use super::MAX_DEPTH;
use crate::lang::arm::expr::{self, Expr, TermKind};

const DEPLOYMENT_TYPE: &str = "Microsoft.Resources/deployments";
/// A template spec's version: its `properties.mainTemplate` is evaluated like an inner-scoped
/// nested template with its own defaults (the values are given where the spec is deployed,
/// which is not known here), and its content is not evaluated as the resource's body (the
/// engine stores the template as written).
const SPEC_VERSION_TYPE: &str = "Microsoft.Resources/templateSpecs/versions";
/// A template spec, whose versions may be written as its child resources.
const SPEC_TYPE: &str = "Microsoft.Resources/templateSpecs";

/// The engine's limit on the iterations of one `copy` loop.
const MAX_COPY: i64 = 800;

/// Evaluates `template` with the parameter values of `config`.
pub fn evaluate(template: &J, config: &Configuration) -> Deployment {
    let mut out = Deployment::default();
    let scope = Scope::template(template, config.values.clone());
    let run = Run {
        origin: Vec::new(),
        id: String::new(),
        names: String::new(),
        label: String::new(),
        condition: Value::Bool(true),
    };
    evaluate_template(&scope, template, &run, &Ctx::default(), true, &mut out, 0);
    out
}

/// The parameter values of a parameter file: `parameters.X.value` of a deploymentParameters
/// file (a Key Vault `reference` is an Unknown naming the secret), or the members of a flat
/// `{name: value}` object. Values are taken as written (parameter files hold no expressions).
pub fn configuration_from_parameter_file(name: &str, file: &J) -> Configuration {
    let mut values = Vec::new();
    let params = get(file, "parameters").filter(|p| {
        let schema = get(file, "$schema")
            .and_then(J::as_str)
            .is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters"));
        schema
            || p.as_object().is_some_and(|m| {
                !m.is_empty()
                    && m.values().all(|v| {
                        v.is_object()
                            && (get(v, "value").is_some() || get(v, "reference").is_some())
                    })
            })
    });
    match params {
        Some(J::Object(members)) => {
            for (k, p) in members {
                if let Some(v) = get(p, "value") {
                    values.push((k.clone(), Value::from_json(v)));
                } else if let Some(r) = get(p, "reference") {
                    let secret = get(r, "secretName").map_or("?".into(), |s| s.to_string());
                    let vault = get(r, "keyVault")
                        .and_then(|k| get(k, "id"))
                        .map_or("?".into(), |s| s.to_string());
                    let version = get(r, "secretVersion")
                        .map(|s| format!(" version {s}"))
                        .unwrap_or_default();
                    values.push((
                        k.clone(),
                        Value::unknown(format!(
                            "Key Vault secret {secret}{version} of {vault} (parameter `{k}`)"
                        )),
                    ));
                }
            }
        }
        Some(_) => {}
        None => {
            if let Some(members) = file.as_object() {
                for (k, v) in members {
                    if !k.eq_ignore_ascii_case("$schema")
                        && !k.eq_ignore_ascii_case("contentVersion")
                    {
                        values.push((k.clone(), Value::from_json(v)));
                    }
                }
            }
        }
    }
    Configuration {
        name: name.to_string(),
        values,
    }
}

/// Member `key` of a JSON object, ignoring ASCII case (the last one when a key repeats).
fn get<'j>(obj: &'j J, key: &str) -> Option<&'j J> {
    entry(obj, key).map(|(_, v)| v)
}

/// Member `key` with its key as spelled in the source.
fn entry<'j>(obj: &'j J, key: &str) -> Option<(&'j str, &'j J)> {
    obj.as_object()?
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(k, v)| (k.as_str(), v))
}

fn too_deep() -> Value {
    Value::unknown(format!("nested deeper than {MAX_DEPTH} levels"))
}

/// A parameter's or variable's evaluation: under way (a second request is a cycle) or done.
enum Slot {
    Busy,
    Done(Value),
}

/// Where `parameters()` and `variables()` look: a template (its declared parameters with the
/// given values, its variables), or a user-defined function (its arguments, no variables).
struct Scope<'t> {
    template: &'t J,
    given: Vec<(String, Value)>,
    function: bool,
    params: RefCell<HashMap<String, Slot>>,
    vars: RefCell<HashMap<String, Slot>>,
}

/// The copy loops around what is evaluated: name, index, and whether it is the resource's
/// own loop (the one a `copyIndex()` without a name means).
#[derive(Default, Clone)]
struct Ctx {
    loops: Vec<(String, Value, bool)>,
    /// The variables of the lambdas around, innermost last.
    lambdas: Vec<(String, Value)>,
}

impl Ctx {
    fn with(&self, name: &str, index: Value, resource: bool) -> Ctx {
        let mut c = self.clone();
        c.loops.push((name.to_string(), index, resource));
        c
    }
}

impl<'t> Scope<'t> {
    fn template(template: &'t J, given: Vec<(String, Value)>) -> Scope<'t> {
        Scope {
            template,
            given,
            function: false,
            params: RefCell::default(),
            vars: RefCell::default(),
        }
    }

    fn declared_params(&self) -> Vec<(&'t str, &'t J)> {
        get(self.template, "parameters")
            .and_then(J::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
            .unwrap_or_default()
    }

    fn definitions(&self) -> Option<&'t J> {
        get(self.template, "definitions")
    }

    /// `parameters(name)`.
    fn param(&self, name: &str, depth: usize) -> Value {
        let key = name.to_ascii_lowercase();
        match self.params.borrow().get(&key) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => {
                return Value::unknown(format!("parameter `{name}` refers to itself"))
            }
            None => {}
        }
        if self.function {
            return Value::unknown(format!("the function has no parameter `{name}`"));
        }
        let Some(decl) = get(self.template, "parameters").and_then(|p| get(p, name)) else {
            return Value::unknown(format!("the template declares no parameter `{name}`"));
        };
        self.params.borrow_mut().insert(key.clone(), Slot::Busy);
        let given = self
            .given
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone());
        let v = match (given, get(decl, "defaultValue")) {
            // The engine takes a null value as none given: the default applies (how Bicep
            // leaves a module's optional parameter to its default).
            (Some(Value::Null), Some(d)) => self.value(d, &Ctx::default(), depth + 1),
            (Some(v), _) => v,
            (None, Some(d)) => self.value(d, &Ctx::default(), depth),
            // languageVersion 2.0: a nullable parameter without a value is null.
            (None, None) if get(decl, "nullable") == Some(&J::Bool(true)) => Value::Null,
            (None, None) => Value::unknown(format!("parameter `{name}` has no value")),
        };
        self.params.borrow_mut().insert(key, Slot::Done(v.clone()));
        v
    }

    /// `variables(name)`: a member of `variables`, or one made by its `copy` array.
    fn var(&self, name: &str, depth: usize) -> Value {
        if self.function {
            return Value::unknown(format!("variables('{name}') in a user-defined function"));
        }
        let key = name.to_ascii_lowercase();
        match self.vars.borrow().get(&key) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => {
                return Value::unknown(format!("variable `{name}` refers to itself"))
            }
            None => {}
        }
        let vars = get(self.template, "variables");
        let plain = vars
            .and_then(J::as_object)
            .and_then(|m| {
                m.iter()
                    .rev()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name) && !k.eq_ignore_ascii_case("copy"))
            })
            .map(|(_, v)| v);
        let looped = vars
            .and_then(|v| get(v, "copy"))
            .and_then(J::as_array)
            .and_then(|loops| {
                loops.iter().rev().find(|l| {
                    get(l, "name")
                        .and_then(J::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            });
        if plain.is_none() && looped.is_none() {
            return Value::unknown(format!("the template declares no variable `{name}`"));
        }
        self.vars.borrow_mut().insert(key.clone(), Slot::Busy);
        let v = match (plain, looped) {
            (_, Some(l)) => self.copy_array(l, name, &Ctx::default(), depth),
            (Some(p), None) => self.value(p, &Ctx::default(), depth),
            (None, None) => Value::Null,
        };
        self.vars.borrow_mut().insert(key, Slot::Done(v.clone()));
        v
    }

    /// A `{name, count, input}` loop as an array, `copyIndex(name)` counting in `input`.
    fn copy_array(&self, l: &J, name: &str, ctx: &Ctx, depth: usize) -> Value {
        let count = match get(l, "count") {
            Some(c) => self.value(c, ctx, depth + 1),
            None => return Value::unknown(format!("the copy loop `{name}` has no count")),
        };
        let n = match copy_count(&count, name) {
            Ok(n) => n,
            Err(u) => return u,
        };
        let Some(input) = get(l, "input") else {
            return Value::unknown(format!("the copy loop `{name}` has no input"));
        };
        Value::Array(
            (0..n)
                .map(|i| {
                    let ctx = ctx.with(name, Value::Int(i), false);
                    self.value(input, &ctx, depth + 1)
                })
                .collect(),
        )
    }

    /// Evaluates a JSON value of the template: expression strings evaluated, `[[` unescaped,
    /// property `copy` arrays expanded.
    fn value(&self, j: &J, ctx: &Ctx, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return too_deep();
        }
        match j {
            J::String(s) => self.string(s, ctx, depth),
            J::Array(a) => Value::Array(a.iter().map(|v| self.value(v, ctx, depth + 1)).collect()),
            J::Object(m) => {
                let mut o = Object::new();
                for (k, v) in m {
                    if k.eq_ignore_ascii_case("copy") && is_property_copy(v) {
                        for l in v.as_array().into_iter().flatten() {
                            let name = get(l, "name").map(|n| self.value(n, ctx, depth + 1));
                            let Some(Value::Str(name)) = name else {
                                o.insert(k.clone(), Value::unknown("a copy loop without a name"));
                                continue;
                            };
                            let arr = self.copy_array(l, &name, ctx, depth + 1);
                            o.insert(name, arr);
                        }
                    } else {
                        // JSON keys are case-sensitive: "True" and "true" are two members.
                        o.insert_exact(k.clone(), self.value(v, ctx, depth + 1));
                    }
                }
                Value::Object(o)
            }
            j => Value::from_json(j),
        }
    }

    fn string(&self, s: &str, ctx: &Ctx, depth: usize) -> Value {
        if !(s.starts_with('[') && s.ends_with(']')) {
            return Value::str(s);
        }
        if s.starts_with("[[") {
            return Value::str(&s[1..]);
        }
        match expr::parse(s) {
            Some(e) => self.expr(&e, s, e.root, ctx, depth),
            None => Value::unknown(format!("the expression {s} does not parse")),
        }
    }

    fn expr(&self, e: &Expr, src: &str, t: usize, ctx: &Ctx, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return too_deep();
        }
        let sub = |i: usize| self.expr(e, src, i, ctx, depth + 1);
        match &e.terms[t].kind {
            TermKind::Str(s) => Value::str(s),
            TermKind::Number(n) => match n.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::unknown(format!("the number {n} is not an integer")),
            },
            TermKind::Word(w) => match w.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::Null,
            },
            TermKind::Member { base, name } => functions::member(&sub(*base), name),
            TermKind::Index { base, index } => functions::index(&sub(*base), &sub(*index)),
            TermKind::Call { name, args } => {
                let arg = |i: usize| sub(args[i]);
                match name.as_str() {
                    "if" if args.len() == 3 => functions::if_lazy(&arg(0), || arg(1), || arg(2)),
                    "and" => functions::and_lazy(args.len(), arg),
                    "or" => functions::or_lazy(args.len(), arg),
                    "coalesce" => functions::coalesce_lazy(args.len(), arg).unwrap_or(Value::Null),
                    "parameters" | "variables" if args.len() == 1 => match arg(0) {
                        Value::Str(n) if name == "parameters" => self.param(&n, depth + 1),
                        Value::Str(n) => self.var(&n, depth + 1),
                        v => functions::call(name, &[v]),
                    },
                    "lambdavariables" if args.len() == 1 => match arg(0) {
                        Value::Str(n) => ctx
                            .lambdas
                            .iter()
                            .rev()
                            .find(|(l, _)| l.eq_ignore_ascii_case(&n))
                            .map(|(_, v)| v.clone())
                            .unwrap_or_else(|| {
                                Value::unknown(format!("lambdaVariables('{n}') outside its lambda"))
                            }),
                        v => functions::call(name, &[v]),
                    },
                    "map" | "filter" | "sort" | "reduce" | "toobject" | "mapvalues" | "groupby"
                        if args.iter().any(|a| is_lambda(e, *a)) =>
                    {
                        let lambda = Lambda {
                            scope: self,
                            e,
                            src,
                            ctx,
                            depth: depth + 1,
                        };
                        lambda.apply(name, args)
                    }
                    "copyindex" => {
                        self.copy_index(&args.iter().map(|a| sub(*a)).collect::<Vec<_>>(), ctx)
                    }
                    n if n.contains('.') => {
                        let vals: Vec<Value> = args.iter().map(|a| sub(*a)).collect();
                        self.user_function(n, vals, depth + 1)
                    }
                    _ => {
                        let vals: Vec<Value> = args.iter().map(|a| sub(*a)).collect();
                        functions::call(name, &vals)
                    }
                }
            }
        }
    }

    /// `copyIndex()`, `copyIndex(offset)`, `copyIndex('loop')`, `copyIndex('loop', offset)`.
    fn copy_index(&self, args: &[Value], ctx: &Ctx) -> Value {
        let text = || functions::render_call("copyIndex", args);
        let (name, offset) = match args {
            [] => (None, Value::Int(0)),
            [Value::Str(n)] => (Some(n.as_str()), Value::Int(0)),
            [Value::Str(n), o] => (Some(n.as_str()), o.clone()),
            [o] => (None, o.clone()),
            _ => return Value::unknown(format!("{}: expected a loop name and an offset", text())),
        };
        let found = match name {
            Some(n) => ctx
                .loops
                .iter()
                .rev()
                .find(|(l, _, _)| l.eq_ignore_ascii_case(n)),
            None => ctx
                .loops
                .iter()
                .rev()
                .find(|(_, _, resource)| *resource)
                .or(ctx.loops.last()),
        };
        match found {
            Some((_, index, _)) => functions::call("add", &[index.clone(), offset]),
            None => Value::unknown(format!("{} outside its copy loop", text())),
        }
    }

    /// A user-defined function `namespace.name(args)` of the template's `functions`.
    fn user_function(&self, name: &str, args: Vec<Value>, depth: usize) -> Value {
        let unknown = || Value::unknown(functions::render_call(name, &args));
        if depth > MAX_DEPTH {
            return too_deep();
        }
        let Some((ns, member)) = name.split_once('.') else {
            return unknown();
        };
        let def = get(self.template, "functions")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter(|f| {
                get(f, "namespace")
                    .and_then(J::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(ns))
            })
            .find_map(|f| get(f, "members").and_then(|m| get(m, member)));
        let Some(def) = def else {
            return unknown();
        };
        let declared: Vec<&J> = get(def, "parameters")
            .and_then(J::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if declared.len() != args.len() {
            return Value::unknown(format!(
                "{}: expected {} arguments",
                functions::render_call(name, &args),
                declared.len()
            ));
        }
        let Some(body) = get(def, "output").and_then(|o| get(o, "value")) else {
            return unknown();
        };
        let inner = Scope {
            template: self.template,
            given: Vec::new(),
            function: true,
            params: RefCell::default(),
            vars: RefCell::default(),
        };
        for (p, v) in declared.iter().zip(&args) {
            if let Some(n) = get(p, "name").and_then(J::as_str) {
                inner
                    .params
                    .borrow_mut()
                    .insert(n.to_ascii_lowercase(), Slot::Done(v.clone()));
            }
        }
        inner.value(body, &Ctx::default(), depth + 1)
    }
}

/// Whether term `t` is a `lambda(...)`.
fn is_lambda(e: &Expr, t: usize) -> bool {
    e.call(t).is_some_and(|(n, _)| n == "lambda")
}

/// The longest array a `sort` lambda orders (it compares every pair).
const MAX_SORT: usize = 1000;

/// Evaluates the lambda functions (`map`, `filter`, `reduce`, `sort`, `toObject`,
/// `mapValues`, `groupBy`): each call of a lambda evaluates its body with its variables set.
struct Lambda<'a, 't> {
    scope: &'a Scope<'t>,
    e: &'a Expr,
    src: &'a str,
    ctx: &'a Ctx,
    depth: usize,
}

impl Lambda<'_, '_> {
    fn arg(&self, t: usize) -> Value {
        self.scope.expr(self.e, self.src, t, self.ctx, self.depth)
    }

    /// The source text of term `t` (a lambda, for reasons).
    fn text(&self, t: usize) -> Value {
        let term = &self.e.terms[t];
        let text = self.src.get(term.start..term.end).unwrap_or("lambda(...)");
        Value::unknown(text)
    }

    /// Calls lambda term `t` with `values` for its variables.
    fn call(&self, t: usize, values: &[Value]) -> Value {
        let Some((_, parts)) = self.e.call(t).filter(|(n, _)| *n == "lambda") else {
            return Value::unknown("expected a lambda");
        };
        let Some((body, names)) = parts.split_last() else {
            return Value::unknown("a lambda without a body");
        };
        if names.len() > values.len() {
            return Value::unknown(format!(
                "the lambda expects at most {} variables",
                values.len()
            ));
        }
        let mut ctx = self.ctx.clone();
        for (n, v) in names.iter().zip(values) {
            match self.e.str_lit(*n) {
                Some(n) => ctx.lambdas.push((n.to_string(), v.clone())),
                None => return Value::unknown("a lambda variable name is not a string"),
            }
        }
        self.scope
            .expr(self.e, self.src, *body, &ctx, self.depth + 1)
    }

    fn apply(&self, name: &str, args: &[usize]) -> Value {
        // Arguments as values, lambdas as their text (for reasons).
        let shown: Vec<Value> = args
            .iter()
            .map(|a| {
                if is_lambda(self.e, *a) {
                    self.text(*a)
                } else {
                    self.arg(*a)
                }
            })
            .collect();
        let unknown = |why: &str| {
            let call = functions::render_call(name, &shown);
            if why.is_empty() {
                Value::unknown(call)
            } else {
                Value::unknown(format!("{call}: {why}"))
            }
        };
        if shown
            .iter()
            .zip(args)
            .any(|(v, a)| !is_lambda(self.e, *a) && !v.is_known())
        {
            return unknown("");
        }
        let (input, rest) = (&shown[0], &args[1..]);
        match (name, input, rest) {
            ("mapvalues", Value::Object(o), [f]) => {
                let mut out = Object::new();
                for (k, v) in o.iter() {
                    out.insert(k, self.call(*f, std::slice::from_ref(v)));
                }
                Value::Object(out)
            }
            ("mapvalues", _, _) => unknown("expected an object and a lambda"),
            (_, Value::Array(items), _) => self.over_array(name, items, rest, &shown, unknown),
            _ => unknown("expected an array and a lambda"),
        }
    }

    fn over_array(
        &self,
        name: &str,
        items: &[Value],
        rest: &[usize],
        shown: &[Value],
        unknown: impl Fn(&str) -> Value,
    ) -> Value {
        let idx = |i: usize| Value::Int(i as i64);
        match (name, rest) {
            ("map", [f]) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.call(*f, &[x.clone(), idx(i)]))
                    .collect(),
            ),
            ("filter", [f]) => {
                let mut out = Vec::new();
                for (i, x) in items.iter().enumerate() {
                    match self.call(*f, &[x.clone(), idx(i)]) {
                        Value::Bool(true) => out.push(x.clone()),
                        Value::Bool(false) => {}
                        Value::Unknown(u) => return unknown(&u.reason),
                        v => return unknown(&format!("the lambda gave a {}", v.type_name())),
                    }
                }
                Value::Array(out)
            }
            ("reduce", [_, f]) => {
                let mut acc = shown[1].clone();
                for (i, x) in items.iter().enumerate() {
                    acc = self.call(*f, &[acc, x.clone(), idx(i)]);
                }
                acc
            }
            ("sort", [f]) => {
                if items.len() > MAX_SORT {
                    return unknown("too long to sort");
                }
                // Insertion sort: a lambda that is not a consistent order cannot make it fail.
                let mut out: Vec<Value> = Vec::with_capacity(items.len());
                for x in items {
                    let mut at = out.len();
                    while at > 0 {
                        match self.call(*f, &[x.clone(), out[at - 1].clone()]) {
                            Value::Bool(true) => at -= 1,
                            Value::Bool(false) => break,
                            Value::Unknown(u) => return unknown(&u.reason),
                            v => return unknown(&format!("the lambda gave a {}", v.type_name())),
                        }
                    }
                    out.insert(at, x.clone());
                }
                Value::Array(out)
            }
            ("toobject", [k, rest @ ..]) if rest.len() <= 1 => {
                let mut out = Object::new();
                for x in items {
                    let key = match self.call(*k, std::slice::from_ref(x)) {
                        Value::Str(key) => key,
                        Value::Unknown(u) => return unknown(&u.reason),
                        v => return unknown(&format!("a key is a {}", v.type_name())),
                    };
                    let v = match rest.first() {
                        Some(f) => self.call(*f, std::slice::from_ref(x)),
                        None => x.clone(),
                    };
                    out.insert(key, v);
                }
                Value::Object(out)
            }
            ("groupby", [f]) => {
                let mut out = Object::new();
                for x in items {
                    let key = match self.call(*f, std::slice::from_ref(x)) {
                        Value::Str(key) => key,
                        Value::Unknown(u) => return unknown(&u.reason),
                        v => return unknown(&format!("a key is a {}", v.type_name())),
                    };
                    match out.get_mut(&key) {
                        Some(Value::Array(group)) => group.push(x.clone()),
                        _ => out.insert(key, Value::Array(vec![x.clone()])),
                    }
                }
                Value::Object(out)
            }
            _ => unknown("expected an array and a lambda"),
        }
    }
}

/// Whether `copy` inside an object is the property-loop form: an array of objects, each with
/// a `name` and an `input`.
fn is_property_copy(v: &J) -> bool {
    v.as_array().is_some_and(|a| {
        !a.is_empty()
            && a.iter()
                .all(|l| get(l, "name").is_some() && get(l, "input").is_some())
    })
}

/// The iterations of a loop whose count is `count`, or the Unknown its result is.
fn copy_count(count: &Value, name: &str) -> Result<i64, Value> {
    match count {
        Value::Int(n) if (0..=MAX_COPY).contains(n) => Ok(*n),
        Value::Int(n) => Err(Value::unknown(format!(
            "the copy loop `{name}` counts {n}, outside 0 to {MAX_COPY}"
        ))),
        Value::Unknown(u) => Err(Value::unknown(format!(
            "the count of copy loop `{name}` is {}",
            u.reason
        ))),
        v => Err(Value::unknown(format!(
            "the count of copy loop `{name}` is a {}, not an int",
            v.type_name()
        ))),
    }
}

/// Where a template's results go: the pointer tokens and id of the template in the file, the
/// prefix of its parameter and output names, and the condition of the deployment it is in.
struct Run {
    origin: Vec<String>,
    id: String,
    names: String,
    /// How messages name this template: `""` for the file's own, ` of nested deployment
    /// `x`` for one inside (never the internal `resources/0.` prefix of `names`).
    label: String,
    condition: Value,
}

impl Run {
    /// How messages name a deployment inside this template (`kind`: nested or linked).
    fn label_of(&self, kind: &str, name: &Value, id: &str) -> String {
        match name {
            Value::Str(n) => format!("{} of {kind} deployment `{n}`", self.label),
            _ => format!("{} of the {kind} deployment at `{id}`", self.label),
        }
    }

    fn id_of(&self, tokens: &[&str]) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if !self.id.is_empty() {
            parts.push(&self.id);
        }
        parts.extend(tokens);
        parts.join("/")
    }
}

/// Evaluates one template's parameters (when it has its own scope), resources and outputs.
fn evaluate_template(
    scope: &Scope,
    template: &J,
    run: &Run,
    ctx: &Ctx,
    own_scope: bool,
    out: &mut Deployment,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        // Not reached in practice: a resource this deep already has an Unknown type (see
        // `Scope::value`), so it is not expanded.
        return;
    }
    if own_scope {
        parameters(scope, run, out, depth);
    }
    if let Some((rkey, resources)) = entry(template, "resources") {
        match resources {
            J::Array(items) => {
                for (i, r) in items.iter().enumerate() {
                    resource(scope, r, run, &[rkey, &i.to_string()], ctx, out, depth + 1);
                }
            }
            J::Object(members) => {
                for (k, r) in members {
                    resource(scope, r, run, &[rkey, k], ctx, out, depth + 1);
                }
            }
            _ => {}
        }
    }
    if let Some(outputs) = get(template, "outputs").and_then(J::as_object) {
        for (name, o) in outputs {
            let v = output(scope, o, name, ctx, depth + 1);
            if let Some(v) = v {
                if let Some(decl) = o.as_object().map(|_| o) {
                    let ty = types::from_arm(decl, scope.definitions());
                    let what = format!("output `{name}`{}", run.label);
                    if let Err(e) = types::check_named(&what, &ty, &v) {
                        out.violations.push(e);
                    }
                }
                out.outputs.push((format!("{}{name}", run.names), v));
            }
        }
    }
}

/// An output's value; `None` when its condition is false.
fn output(scope: &Scope, o: &J, name: &str, ctx: &Ctx, depth: usize) -> Option<Value> {
    let cond = get(o, "condition").map_or(Value::Bool(true), |c| scope.value(c, ctx, depth));
    let v = match get(o, "copy") {
        Some(l) => scope.copy_array(l, name, ctx, depth),
        None => get(o, "value").map_or(Value::Null, |v| scope.value(v, ctx, depth)),
    };
    match cond {
        Value::Bool(true) => Some(v),
        Value::Bool(false) => None,
        c => Some(Value::unknown(format!(
            "output `{name}` exists only if {}",
            render(&c)
        ))),
    }
}

/// Every declared parameter's value, checked against its type; values given for parameters
/// the template does not declare are violations too (the engine refuses them).
fn parameters(scope: &Scope, run: &Run, out: &mut Deployment, depth: usize) {
    let declared = scope.declared_params();
    for (name, decl) in &declared {
        let v = scope.param(name, depth + 1);
        let ty = types::from_arm(decl, scope.definitions());
        let what = format!("parameter `{name}`{}", run.label);
        if let Err(e) = types::check_named(&what, &ty, &v) {
            out.violations.push(e);
        }
        out.parameters.push((format!("{}{name}", run.names), v));
    }
    for (given, _) in &scope.given {
        if !declared.iter().any(|(n, _)| n.eq_ignore_ascii_case(given)) {
            out.violations.push(format!(
                "parameter `{given}`{} is given a value but the template does not declare it",
                run.label
            ));
        }
    }
}

/// One resource of a `resources` array or object: each iteration of its `copy` loop, and the
/// contents of a nested deployment's inline template.
fn resource(
    scope: &Scope,
    r: &J,
    run: &Run,
    tokens: &[&str],
    ctx: &Ctx,
    out: &mut Deployment,
    depth: usize,
) {
    if !r.is_object() {
        return;
    }
    let mut origin = run.origin.clone();
    origin.extend(tokens.iter().map(|t| t.to_string()));
    let base_id = run.id_of(tokens);
    match get(r, "copy").filter(|c| c.is_object()) {
        None => one_resource(scope, r, run, origin, base_id, None, ctx, out, depth),
        Some(copy) => {
            let name = get(copy, "name")
                .map(|n| scope.value(n, ctx, depth))
                .and_then(|n| n.as_str().map(str::to_string))
                .unwrap_or_default();
            let count = get(copy, "count").map_or(Value::Null, |c| scope.value(c, ctx, depth));
            match copy_count(&count, &name) {
                Ok(n) => {
                    for i in 0..n {
                        let ctx = ctx.with(&name, Value::Int(i), true);
                        let id = format!("{base_id}[{i}]");
                        let idx = Some(i as usize);
                        one_resource(scope, r, run, origin.clone(), id, idx, &ctx, out, depth);
                    }
                }
                Err(unknown) => {
                    // How many copies deploy is not known: one stands for them all, its
                    // copyIndex() and condition Unknown.
                    let Value::Unknown(u) = &unknown else {
                        return;
                    };
                    let ctx = ctx.with(&name, unknown.clone(), true);
                    let run = Run {
                        origin: run.origin.clone(),
                        id: run.id.clone(),
                        names: run.names.clone(),
                        label: run.label.clone(),
                        condition: functions::and_lazy(2, |i| {
                            if i == 0 {
                                run.condition.clone()
                            } else {
                                Value::Unknown(u.clone())
                            }
                        }),
                    };
                    let id = format!("{base_id}[?]");
                    one_resource(scope, r, &run, origin, id, None, &ctx, out, depth);
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn one_resource(
    scope: &Scope,
    r: &J,
    run: &Run,
    origin: Vec<String>,
    id: String,
    copy_index: Option<usize>,
    ctx: &Ctx,
    out: &mut Deployment,
    depth: usize,
) {
    let own = get(r, "condition").map_or(Value::Bool(true), |c| scope.value(c, ctx, depth));
    let condition = functions::and_lazy(2, |i| {
        if i == 0 {
            run.condition.clone()
        } else {
            own.clone()
        }
    });
    let existing =
        get(r, "existing").is_some_and(|e| scope.value(e, ctx, depth) == Value::Bool(true));
    let kind = get(r, "type").map_or(Value::Null, |t| scope.value(t, ctx, depth));
    let is_deployment = matches!(&kind, Value::Str(k) if k.eq_ignore_ascii_case(DEPLOYMENT_TYPE));
    let is_spec = matches!(&kind, Value::Str(k) if k.eq_ignore_ascii_case(SPEC_VERSION_TYPE));
    let is_spec_parent = matches!(&kind, Value::Str(k) if k.eq_ignore_ascii_case(SPEC_TYPE));
    let inline_key = if is_spec { "mainTemplate" } else { "template" };
    let props = entry(r, "properties");
    let inline = props.and_then(|(pk, p)| {
        entry(p, inline_key)
            .filter(|(_, t)| t.is_object())
            .map(|t| (pk, t))
    });
    // A template linked by a relative path (see [`super::linked`]), read from the disk.
    let linked = if is_deployment && inline.is_none() {
        linked_template(scope, r, ctx, depth)
    } else {
        None
    };
    let expanded =
        (is_deployment && (inline.is_some() || linked.is_some())) || (is_spec && inline.is_some());
    // The body; an expanded deployment's inline template is left out, as `null` (its
    // evaluated content is in the deployment's resources and outputs, and a copy of a large
    // template in every evaluation would cost more than the whole evaluation).
    let body = match (expanded, r) {
        (true, J::Object(m)) => {
            let mut o = Object::new();
            for (k, v) in m {
                let ev = if k.eq_ignore_ascii_case("properties") {
                    match v.as_object() {
                        Some(pm) => Value::Object(
                            pm.iter()
                                .map(|(pk, pv)| {
                                    let template = pk.eq_ignore_ascii_case(inline_key)
                                        || (is_spec && pk.eq_ignore_ascii_case("linkedTemplates"));
                                    let pv = if template {
                                        Value::Null
                                    } else {
                                        scope.value(pv, ctx, depth + 1)
                                    };
                                    (pk.clone(), pv)
                                })
                                .collect(),
                        ),
                        None => scope.value(v, ctx, depth),
                    }
                } else {
                    scope.value(v, ctx, depth)
                };
                o.insert(k.clone(), ev);
            }
            Value::Object(o)
        }
        _ => scope.value(r, ctx, depth),
    };
    // A spec's child resources (its versions) deploy as resources of their own: they are
    // not part of its body.
    let body = match body {
        Value::Object(mut o) if is_spec_parent && o.get("resources").is_some() => {
            o.insert("resources", Value::Null);
            Value::Object(o)
        }
        other => other,
    };
    let name = body.get("name").cloned().unwrap_or(Value::Null);
    out.resources.push(Resource {
        id: id.clone(),
        origin: origin.clone(),
        copy_index,
        kind,
        name: name.clone(),
        condition: condition.clone(),
        existing,
        expanded,
        body: body.clone(),
    });
    if is_spec_parent {
        spec_children(scope, r, run, &origin, ctx, out, depth);
    }
    if let Some((json, file)) = linked {
        // A linked template has its own scope: the values passed, else its defaults.
        let mut nested_origin = origin;
        nested_origin.extend(["properties".to_string(), "templateLink".to_string()]);
        let nested = Run {
            origin: nested_origin,
            id: format!("{id}/properties/templateLink"),
            names: format!("{id}."),
            label: run.label_of("linked", &name, &id),
            condition,
        };
        let given = passed_parameters(body.at(&["properties", "parameters"]));
        let scope = Scope::template(&json, given);
        super::linked::inside(&file, || {
            evaluate_template(
                &scope,
                &json,
                &nested,
                &Ctx::default(),
                true,
                out,
                depth + 1,
            )
        });
        return;
    }
    let Some((pkey, (tkey, template))) = inline.filter(|_| expanded) else {
        return;
    };
    let inner_scope = body
        .at(&["properties", "expressionEvaluationOptions", "scope"])
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    let mut nested_origin = origin;
    nested_origin.push(pkey.to_string());
    nested_origin.push(tkey.to_string());
    let nested = Run {
        origin: nested_origin,
        id: format!("{id}/{pkey}/{tkey}"),
        names: format!("{id}."),
        label: run.label_of("nested", &name, &id),
        condition,
    };
    if is_spec {
        let scope = Scope::template(template, Vec::new());
        let links = template_links(r);
        let (_, reached) = super::linked::spec(links, || {
            evaluate_template(
                &scope,
                template,
                &nested,
                &Ctx::default(),
                true,
                out,
                depth + 1,
            )
        });
        unlinked_spec_templates(r, &nested, &reached, pkey, out, depth);
    } else if inner_scope {
        let given = passed_parameters(body.at(&["properties", "parameters"]));
        let scope = Scope::template(template, given);
        evaluate_template(
            &scope,
            template,
            &nested,
            &Ctx::default(),
            true,
            out,
            depth + 1,
        );
    } else {
        evaluate_template(scope, template, &nested, ctx, false, out, depth + 1);
    }
}

/// A template spec's versions written as its child resources (`{"type": "versions", ...}`
/// in its `resources`): each is evaluated as a top-level `templateSpecs/versions` is.
fn spec_children(
    scope: &Scope,
    r: &J,
    run: &Run,
    origin: &[String],
    ctx: &Ctx,
    out: &mut Deployment,
    depth: usize,
) {
    let Some((ckey, J::Array(children))) = entry(r, "resources") else {
        return;
    };
    let own: Vec<&str> = origin[run.origin.len().min(origin.len())..]
        .iter()
        .map(String::as_str)
        .collect();
    for (i, child) in children.iter().enumerate() {
        let ty = get(child, "type").and_then(J::as_str).unwrap_or("");
        if !(ty.eq_ignore_ascii_case("versions") || ty.eq_ignore_ascii_case(SPEC_VERSION_TYPE)) {
            continue;
        }
        // The engine reads a child's type as its parent's type and its own.
        let mut full = child.clone();
        if let Some(o) = full.as_object_mut() {
            for (k, v) in o.iter_mut() {
                if k.eq_ignore_ascii_case("type") {
                    *v = J::String(SPEC_VERSION_TYPE.to_string());
                }
            }
        }
        let index = i.to_string();
        let mut tokens = own.clone();
        tokens.extend([ckey, index.as_str()]);
        resource(scope, &full, run, &tokens, ctx, out, depth + 1);
    }
}

/// The templates of a spec version's `linkedTemplates` that no link of its `mainTemplate`
/// reached (`reached`: the paths that were): still templates of the spec, each evaluated on
/// its own with its defaults, so its clusters are judged. `main`: the `mainTemplate`'s run.
fn unlinked_spec_templates(
    r: &J,
    main: &Run,
    reached: &[String],
    pkey: &str,
    out: &mut Deployment,
    depth: usize,
) {
    let Some((lkey, J::Array(items))) =
        get(r, "properties").and_then(|p| entry(p, "linkedTemplates"))
    else {
        return;
    };
    // The version resource's own origin and id: the main template's, less its last two.
    let base = &main.origin[..main.origin.len().saturating_sub(2)];
    let base_id = main.id.rsplitn(3, '/').nth(2).unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        let Some(path) = get(item, "path").and_then(J::as_str) else {
            continue;
        };
        let Some((tkey, template)) = entry(item, "template").filter(|(_, t)| t.is_object()) else {
            continue;
        };
        if reached.iter().any(|p| p == path) {
            continue;
        }
        let mut origin = base.to_vec();
        origin.extend([
            pkey.to_string(),
            lkey.to_string(),
            i.to_string(),
            tkey.to_string(),
        ]);
        let run = Run {
            origin,
            id: format!("{base_id}/{pkey}/{lkey}/{i}/{tkey}"),
            names: format!("{base_id}/{lkey}/{i}."),
            label: format!("{} of the spec's linked template `{path}`", main.label),
            condition: main.condition.clone(),
        };
        let scope = Scope::template(template, Vec::new());
        evaluate_template(
            &scope,
            template,
            &run,
            &Ctx::default(),
            true,
            out,
            depth + 1,
        );
    }
}

/// A template spec version's `properties.linkedTemplates`: each template by its `path`.
fn template_links(r: &J) -> Vec<(String, J)> {
    let Some(J::Array(items)) = get(r, "properties").and_then(|p| get(p, "linkedTemplates")) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| {
            let path = get(i, "path")?.as_str()?;
            let template = get(i, "template").filter(|t| t.is_object())?;
            Some((path.to_string(), template.clone()))
        })
        .collect()
}

/// The template a deployment links by a relative path (`templateLink.relativePath`, or a
/// `uri` relative to the linking template's own link), read from the disk; `None` with a
/// `parametersLink` (its values are in a file only the engine fetches).
fn linked_template(
    scope: &Scope,
    r: &J,
    ctx: &Ctx,
    depth: usize,
) -> Option<(J, std::path::PathBuf)> {
    let (_, props) = entry(r, "properties")?;
    if entry(props, "parametersLink").is_some() {
        return None;
    }
    let (_, link) = entry(props, "templateLink")?;
    let relative = entry(link, "relativePath").map(|(_, p)| scope.value(p, ctx, depth + 1));
    let relative = match &relative {
        Some(Value::Str(p)) => Some(p.as_str()),
        Some(_) => return None,
        None => None,
    };
    let path = super::linked::relative_path(link, relative)?;
    super::linked::load(&path)
}

/// The values a deployment passes to its inner-scope template (`parameters.X.value`, already
/// evaluated in the outer scope); a Key Vault `reference` is an Unknown.
fn passed_parameters(params: Option<&Value>) -> Vec<(String, Value)> {
    let Some(Value::Object(o)) = params else {
        return Vec::new();
    };
    o.iter()
        .map(|(k, p)| {
            let v = match (p.get("value"), p.get("reference")) {
                (Some(v), _) => v.clone(),
                (None, Some(r)) => {
                    Value::unknown(format!("Key Vault secret {} (parameter `{k}`)", render(r)))
                }
                (None, None) => match p {
                    Value::Unknown(_) => p.clone(),
                    _ => Value::unknown(format!("parameter `{k}` is passed without a value")),
                },
            };
            (k.to_string(), v)
        })
        .collect()
}

/// Evaluates single terms of a template's expressions where they are written, with the
/// defaults or a parameter file: what provenance ([`super::arm_origin`]) asks when an `if`
/// decides which branch a value comes from. Scopes are built on demand and keep their
/// parameters and variables evaluated, so a file asks the evaluator only what it needs.
pub(crate) struct Probe<'t> {
    root: &'t J,
    config: Configuration,
    /// Scopes by the pointer tokens of their template (the root's is empty).
    scopes: RefCell<Vec<(Vec<String>, std::rc::Rc<Scope<'t>>)>>,
}

impl<'t> Probe<'t> {
    pub(crate) fn new(root: &'t J, config: Configuration) -> Probe<'t> {
        Probe {
            root,
            config,
            scopes: RefCell::default(),
        }
    }

    /// Term `term` of the expression `src`, written in the template at `template` (pointer
    /// tokens; empty for the root; an outer-scoped nested template reads its parent's scope).
    /// Copy loops around it are not known here: `copyIndex()` is Unknown.
    pub(crate) fn term(&self, template: &[String], src: &str, term: usize) -> Value {
        let Some(e) = expr::parse(src) else {
            return Value::unknown(format!("the expression {src} does not parse"));
        };
        if term >= e.terms.len() {
            return Value::unknown("no such term");
        }
        let scope = self.scope(template);
        scope.expr(&e, src, term, &Ctx::default(), 0)
    }

    fn scope(&self, template: &[String]) -> std::rc::Rc<Scope<'t>> {
        if let Some((_, s)) = self.scopes.borrow().iter().find(|(p, _)| p == template) {
            return s.clone();
        }
        let made = match template.len() {
            0 => std::rc::Rc::new(Scope::template(self.root, self.config.values.clone())),
            n => {
                // The template sits at `.../<deployment>/properties/template`: its scope is
                // its own when the deployment says `inner`, else its parent's.
                let deployment = &template[..n.saturating_sub(2)];
                let (Some(dep), Some(tpl)) = (at(self.root, deployment), at(self.root, template))
                else {
                    return self.scope(&[]);
                };
                if get(dep, "type")
                    .and_then(J::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case(SPEC_VERSION_TYPE))
                {
                    let made = std::rc::Rc::new(Scope::template(tpl, Vec::new()));
                    self.scopes
                        .borrow_mut()
                        .push((template.to_vec(), made.clone()));
                    return made;
                }
                let outer_path = self.enclosing(deployment);
                let outer = self.scope(&outer_path);
                let inner = get(dep, "properties")
                    .and_then(|p| get(p, "expressionEvaluationOptions"))
                    .and_then(|o| get(o, "scope"))
                    .and_then(J::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
                if !inner {
                    outer
                } else {
                    let passed = get(dep, "properties")
                        .and_then(|p| get(p, "parameters"))
                        .map(|p| outer.value(p, &Ctx::default(), 0));
                    let given = passed_parameters(passed.as_ref());
                    std::rc::Rc::new(Scope::template(tpl, given))
                }
            }
        };
        self.scopes
            .borrow_mut()
            .push((template.to_vec(), made.clone()));
        made
    }

    /// The pointer of the nearest template holding the value at `path` (a deployment's
    /// inline template, or the root).
    fn enclosing(&self, path: &[String]) -> Vec<String> {
        let mut best = Vec::new();
        for i in 2..path.len() {
            let inline = |key: &str, kind: &str| {
                path[i].eq_ignore_ascii_case(key)
                    && path[i - 1].eq_ignore_ascii_case("properties")
                    && at(self.root, &path[..i - 1]).is_some_and(|d| {
                        get(d, "type")
                            .and_then(J::as_str)
                            .is_some_and(|t| t.eq_ignore_ascii_case(kind))
                    })
            };
            if inline("template", DEPLOYMENT_TYPE) || inline("mainTemplate", SPEC_VERSION_TYPE) {
                best = path[..=i].to_vec();
            }
        }
        best
    }
}

/// The JSON value at pointer tokens `path` (object keys ignoring ASCII case).
fn at<'j>(root: &'j J, path: &[String]) -> Option<&'j J> {
    let mut j = root;
    for t in path {
        j = match j {
            J::Object(_) => get(j, t)?,
            J::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str =
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

    fn eval(t: J) -> Deployment {
        evaluate(&t, &Configuration::defaults())
    }

    fn cluster(props: J) -> J {
        json!({
            "type": "Microsoft.ContainerService/managedClusters",
            "apiVersion": "2024-02-01",
            "name": "aks",
            "properties": props
        })
    }

    fn template(extra: J, resources: J) -> J {
        let mut t = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": resources});
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    }

    const ADDON: [&str; 3] = [
        "properties",
        "addonProfiles",
        "azureKeyvaultSecretsProvider",
    ];

    fn addon(r: &Resource) -> Value {
        r.body.at(&ADDON).cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn a_parameter_feeds_enabled_and_rotation_and_a_file_sets_it_false() {
        let t = template(
            json!({"parameters": {"csi": {"type": "bool", "defaultValue": true}}}),
            json!([cluster(
                json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
                    "enabled": "[parameters('csi')]",
                    "config": {"enableSecretRotation": "[string(parameters('csi'))]"}
                }}})
            )]),
        );
        let d = eval(t.clone());
        assert_eq!(d.parameters, vec![("csi".into(), Value::Bool(true))]);
        let a = addon(&d.resources[0]);
        assert_eq!(a.get("enabled"), Some(&Value::Bool(true)));
        assert_eq!(
            a.at(&["config", "enableSecretRotation"]),
            Some(&Value::str("True"))
        );

        let file = json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"csi": {"value": false}}
        });
        let config = configuration_from_parameter_file("prod.parameters.json", &file);
        assert_eq!(config.name, "prod.parameters.json");
        let d = evaluate(&t, &config);
        let a = addon(&d.resources[0]);
        assert_eq!(a.get("enabled"), Some(&Value::Bool(false)));
        assert_eq!(
            a.at(&["config", "enableSecretRotation"]),
            Some(&Value::str("False"))
        );
        assert!(d.violations.is_empty(), "{:?}", d.violations);
    }

    /// A template spec's `mainTemplate` is evaluated with its own defaults (the outer
    /// template's parameter of the same name does not reach it), its link by a relative
    /// path resolves to the spec's `linkedTemplates` with the values passed, and a link to
    /// a path the spec does not hold stays unexpanded.
    #[test]
    fn template_spec_versions_expand_their_main_and_linked_templates() {
        let rot = |p: &str| {
            cluster(json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
                "enabled": true,
                "config": {"enableSecretRotation": format!("[parameters('{p}')]")}
            }}}))
        };
        let link = |name: &str, path: &str| {
            json!({"type": "Microsoft.Resources/deployments", "name": name, "properties": {
                "templateLink": {"relativePath": path},
                "parameters": {"q": {"value": "false"}}
            }})
        };
        let main = template(
            json!({"parameters": {"p": {"type": "string", "defaultValue": "true"}}}),
            json!([
                rot("p"),
                link("in-spec", "./nested/a.json"),
                link("absent", "b.json")
            ]),
        );
        let linked = template(
            json!({"parameters": {"q": {"type": "string", "defaultValue": "true"}}}),
            json!([rot("q")]),
        );
        let t = template(
            json!({"parameters": {"p": {"type": "string", "defaultValue": "false"}}}),
            json!([{
                "type": "Microsoft.Resources/templateSpecs/versions",
                "name": "spec/1.0",
                "properties": {
                    "mainTemplate": main,
                    "linkedTemplates": [{"path": "nested/a.json", "template": linked}]
                }
            }]),
        );
        let d = eval(t);
        let clusters: Vec<(String, Value)> = d
            .resources
            .iter()
            .filter(|r| matches!(&r.kind, Value::Str(k) if k.contains("managedClusters")))
            .map(|r| {
                let rot = addon(r).at(&["config", "enableSecretRotation"]).cloned();
                (r.id.clone(), rot.unwrap_or(Value::Null))
            })
            .collect();
        assert_eq!(clusters.len(), 2, "{clusters:?}");
        assert!(clusters[0].0.contains("mainTemplate"), "{clusters:?}");
        assert_eq!(clusters[0].1, Value::str("true"));
        assert!(clusters[1].0.contains("templateLink"), "{clusters:?}");
        assert_eq!(clusters[1].1, Value::str("false"));
        // The spec's content is not evaluated as its body.
        let spec = &d.resources[0];
        assert!(spec.expanded);
        assert_eq!(
            spec.body.at(&["properties", "mainTemplate"]),
            Some(&Value::Null)
        );
    }

    /// A spec version written as the spec's child resource is evaluated as the top-level
    /// form is (its child is not part of the spec's body), and a `linkedTemplates` entry no
    /// link reaches is evaluated on its own with its defaults, at its place in the file.
    #[test]
    fn spec_versions_as_children_and_unlinked_linked_templates() {
        let rot = |v: &str| {
            cluster(json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
                "enabled": true, "config": {"enableSecretRotation": v}
            }}}))
        };
        let orphan = template(
            json!({"parameters": {"q": {"type": "string", "defaultValue": "false"}}}),
            json!([rot("[parameters('q')]")]),
        );
        let t = template(
            json!({}),
            json!([{
                "type": "Microsoft.Resources/templateSpecs",
                "name": "spec",
                "resources": [{
                    "type": "versions",
                    "name": "1.0",
                    "properties": {
                        "mainTemplate": template(json!({}), json!([rot("true")])),
                        "linkedTemplates": [{"path": "a.json", "template": orphan}]
                    }
                }]
            }]),
        );
        let d = eval(t);
        let clusters: Vec<(Vec<String>, Value)> = d
            .resources
            .iter()
            .filter(|r| matches!(&r.kind, Value::Str(k) if k.contains("managedClusters")))
            .map(|r| {
                let rot = addon(r).at(&["config", "enableSecretRotation"]).cloned();
                (r.origin.clone(), rot.unwrap_or(Value::Null))
            })
            .collect();
        let at = |s: &str| s.split('/').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            clusters,
            [
                (
                    at("resources/0/resources/0/properties/mainTemplate/resources/0"),
                    Value::str("true")
                ),
                (
                    at("resources/0/resources/0/properties/linkedTemplates/0/template/resources/0"),
                    Value::str("false")
                ),
            ]
        );
        assert_eq!(d.resources[0].body.get("resources"), Some(&Value::Null));
    }

    #[test]
    fn parameter_files_flat_files_and_key_vault_references() {
        let file = json!({"parameters": {
            "a": {"value": "x"},
            "s": {"reference": {"keyVault": {"id": "/kv/1"}, "secretName": "pw"}}
        }});
        let c = configuration_from_parameter_file("p.json", &file);
        assert_eq!(c.value("A"), Some(&Value::str("x")));
        let Some(Value::Unknown(u)) = c.value("s") else {
            panic!("{:?}", c.value("s"))
        };
        assert!(
            u.reason.contains("\"pw\"") && u.reason.contains("/kv/1"),
            "{}",
            u.reason
        );
        let flat = configuration_from_parameter_file("flat.json", &json!({"rot": false, "n": 2}));
        assert_eq!(flat.value("rot"), Some(&Value::Bool(false)));
        assert_eq!(flat.value("n"), Some(&Value::Int(2)));
        // A parameter the template does not declare is refused by the engine.
        let d = evaluate(&template(json!({}), json!([])), &flat);
        assert_eq!(d.violations.len(), 2, "{:?}", d.violations);
    }

    #[test]
    fn if_with_a_false_parameter_gives_a_null_config() {
        let t = template(
            json!({"parameters": {"rot": {"type": "bool", "defaultValue": true}}}),
            json!([cluster(
                json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
                    "enabled": true,
                    "config": "[if(parameters('rot'), createObject('enableSecretRotation', 'true'), null())]"
                }}})
            )]),
        );
        let on = eval(t.clone());
        assert_eq!(
            addon(&on.resources[0]).at(&["config", "enableSecretRotation"]),
            Some(&Value::str("true"))
        );
        let off = evaluate(
            &t,
            &Configuration {
                name: "off".into(),
                values: vec![("ROT".into(), Value::Bool(false))],
            },
        );
        assert_eq!(addon(&off.resources[0]).get("config"), Some(&Value::Null));
    }

    #[test]
    fn deep_union_keeps_the_base_rotation() {
        let t = template(
            json!({"variables": {
                "base": {"addonProfiles": {"azureKeyvaultSecretsProvider": {
                    "enabled": true, "config": {"enableSecretRotation": "true"}}}},
                "props": "[union(variables('base'), createObject('addonProfiles', createObject('omsagent', createObject('enabled', false))))]"
            }}),
            json!([{
                "type": "Microsoft.ContainerService/managedClusters",
                "name": "aks",
                "properties": "[variables('props')]"
            }]),
        );
        let d = eval(t);
        let r = &d.resources[0];
        assert_eq!(
            addon(r).at(&["config", "enableSecretRotation"]),
            Some(&Value::str("true"))
        );
        assert_eq!(
            r.body
                .at(&["properties", "addonProfiles", "omsagent", "enabled"]),
            Some(&Value::Bool(false))
        );
    }

    #[test]
    fn logical_functions_and_json_as_enabled() {
        for (expr, want) in [
            ("[equals(1, 2)]", false),
            ("[not(true())]", false),
            ("[and(true(), false())]", false),
            ("[json('false')]", false),
            ("[or(false(), equals('a', 'a'))]", true),
        ] {
            let t = template(
                json!({}),
                json!([cluster(
                    json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": expr}}})
                )]),
            );
            let d = eval(t);
            assert_eq!(
                addon(&d.resources[0]).get("enabled"),
                Some(&Value::Bool(want)),
                "{expr}"
            );
        }
    }

    #[test]
    fn a_false_condition_is_kept_and_not_deployed() {
        let mut c = cluster(json!({}));
        c["condition"] = json!("[equals(parameters('env'), 'prod')]");
        let t = template(
            json!({"parameters": {"env": {"type": "string", "defaultValue": "dev"}}}),
            json!([c]),
        );
        let d = eval(t);
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].condition, Value::Bool(false));
        assert!(!d.resources[0].deployed());
        let mut e = cluster(json!({}));
        e["existing"] = json!(true);
        let d = eval(template(json!({}), json!([e])));
        assert!(d.resources[0].existing && !d.resources[0].deployed());
    }

    #[test]
    fn a_copy_loop_gives_one_resource_per_iteration() {
        let mut c = cluster(json!({"dnsPrefix": "[concat('dns', copyIndex(1))]"}));
        c["name"] = json!("[concat('aks-', copyIndex())]");
        c["copy"] = json!({"name": "clusters", "count": "[parameters('n')]"});
        let t = template(
            json!({"parameters": {"n": {"type": "int", "defaultValue": 3}}}),
            json!([c]),
        );
        let d = eval(t);
        assert_eq!(d.resources.len(), 3);
        for (i, r) in d.resources.iter().enumerate() {
            assert_eq!(r.id, format!("resources/0[{i}]"));
            assert_eq!(r.origin, vec!["resources".to_string(), "0".into()]);
            assert_eq!(r.copy_index, Some(i));
            assert_eq!(r.name, Value::str(format!("aks-{i}")));
            assert_eq!(
                r.body.at(&["properties", "dnsPrefix"]),
                Some(&Value::str(format!("dns{}", i + 1)))
            );
        }
        // An unknown count: one resource stands for all, its condition unknown.
        let mut c = cluster(json!({}));
        c["copy"] = json!({"name": "c", "count": "[length(reference('x').items)]"});
        let d = eval(template(json!({}), json!([c])));
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].id, "resources/0[?]");
        assert!(!d.resources[0].condition.is_known());
    }

    #[test]
    fn property_and_variable_copy_loops() {
        let t = template(
            json!({"variables": {
                "copy": [{"name": "pools", "count": 2, "input": {"name": "[concat('p', copyIndex('pools'))]"}}]
            }}),
            json!([cluster(json!({
                "agentPoolProfiles": "[variables('pools')]",
                "copy": [{"name": "extra", "count": 2, "input": "[copyIndex('extra')]"}]
            }))]),
        );
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        assert_eq!(
            p.get("agentPoolProfiles"),
            Some(&Value::from_json(&json!([{"name": "p0"}, {"name": "p1"}])))
        );
        assert_eq!(p.get("extra"), Some(&Value::from_json(&json!([0, 1]))));
        assert!(p.get("copy").is_none());
    }

    #[test]
    fn variables_are_lazy_and_a_cycle_is_unknown() {
        let t = template(
            json!({"variables": {
                "a": "[variables('b')]",
                "b": "[variables('a')]",
                "c": "[[not an expression]",
                "d": "[concat(variables('c'), '!')]"
            }}),
            json!([cluster(
                json!({"x": "[variables('a')]", "y": "[variables('d')]"})
            )]),
        );
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        assert!(!p.get("x").unwrap().is_known());
        assert_eq!(p.get("y"), Some(&Value::str("[not an expression]!")));
    }

    #[test]
    fn nested_deployments_in_inner_and_outer_scope() {
        let inner_template = json!({
            "$schema": SCHEMA,
            "parameters": {"rot": {"type": "string"}},
            "variables": {"v": "inner"},
            "resources": [cluster(json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
                "enabled": true, "config": {"enableSecretRotation": "[parameters('rot')]"}}},
                "tag": "[variables('v')]"}))],
            "outputs": {"o": {"type": "string", "value": "[parameters('rot')]"}}
        });
        let outer_template = json!({
            "$schema": SCHEMA,
            "resources": [cluster(json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
                "enabled": true, "config": {"enableSecretRotation": "[parameters('rot')]"}}},
                "tag": "[variables('v')]"}))]
        });
        let t = template(
            json!({
                "parameters": {"rot": {"type": "string", "defaultValue": "false"}},
                "variables": {"v": "outer"}
            }),
            json!([
                {
                    "type": "Microsoft.Resources/deployments",
                    "apiVersion": "2022-09-01",
                    "name": "in",
                    "properties": {
                        "mode": "Incremental",
                        "expressionEvaluationOptions": {"scope": "inner"},
                        "parameters": {"rot": {"value": "[toUpper(parameters('rot'))]"}},
                        "template": inner_template
                    }
                },
                {
                    "type": "Microsoft.Resources/deployments",
                    "apiVersion": "2022-09-01",
                    "name": "out",
                    "properties": {"mode": "Incremental", "template": outer_template}
                },
                {
                    "type": "Microsoft.Resources/deployments",
                    "apiVersion": "2022-09-01",
                    "name": "linked",
                    "properties": {"templateLink": {"uri": "https://x/t.json"}}
                }
            ]),
        );
        let d = eval(t);
        let ids: Vec<&str> = d.resources.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "resources/0",
                "resources/0/properties/template/resources/0",
                "resources/1",
                "resources/1/properties/template/resources/0",
                "resources/2"
            ]
        );
        assert!(d.resources[0].expanded && d.resources[2].expanded && !d.resources[4].expanded);
        let inner = &d.resources[1];
        assert_eq!(
            inner.origin,
            ["resources", "0", "properties", "template", "resources", "0"]
        );
        assert_eq!(
            addon(inner).at(&["config", "enableSecretRotation"]),
            Some(&Value::str("FALSE"))
        );
        assert_eq!(
            inner.body.at(&["properties", "tag"]),
            Some(&Value::str("inner"))
        );
        let outer = &d.resources[3];
        assert_eq!(
            addon(outer).at(&["config", "enableSecretRotation"]),
            Some(&Value::str("false"))
        );
        assert_eq!(
            outer.body.at(&["properties", "tag"]),
            Some(&Value::str("outer"))
        );
        assert_eq!(
            d.outputs,
            vec![("resources/0.o".to_string(), Value::str("FALSE"))]
        );
        assert!(d
            .parameters
            .contains(&("resources/0.rot".to_string(), Value::str("FALSE"))));

        // A null passed to a parameter with a default leaves it to the default.
        let t = template(
            json!({}),
            json!([{
                "type": "Microsoft.Resources/deployments",
                "name": "m",
                "properties": {
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {"tables": {"value": "[tryGet(createObject(), 'tables')]"}},
                    "template": {
                        "parameters": {"tables": {"type": "array", "defaultValue": ["t"]}},
                        "resources": [],
                        "outputs": {"n": {"type": "int", "value": "[length(parameters('tables'))]"}}
                    }
                }
            }]),
        );
        let d = eval(t);
        assert_eq!(
            d.outputs,
            vec![("resources/0.n".to_string(), Value::Int(1))]
        );
        assert!(d.violations.is_empty(), "{:?}", d.violations);
    }

    #[test]
    fn language_version_2_with_definitions_refs_and_a_violation() {
        let t = json!({
            "$schema": SCHEMA,
            "languageVersion": "2.0",
            "definitions": {
                "rotation": {"type": "string", "allowedValues": ["false"]},
                "settings": {"type": "object", "properties": {"rot": {"$ref": "#/definitions/rotation"}}}
            },
            "parameters": {
                "rot": {"$ref": "#/definitions/rotation", "defaultValue": "true"},
                "settings": {"$ref": "#/definitions/settings", "defaultValue": {"rot": "false"}}
            },
            "resources": {
                "aks": cluster(json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
                    "enabled": true, "config": {"enableSecretRotation": "[parameters('rot')]"}}}}))
            },
            "outputs": {"r": {"type": "string", "value": "[parameters('settings').rot]"}}
        });
        let d = eval(t);
        assert_eq!(d.resources[0].id, "resources/aks");
        assert_eq!(d.resources[0].origin, ["resources", "aks"]);
        assert_eq!(
            d.violations,
            vec!["parameter `rot` allows only \"false\", not \"true\"".to_string()]
        );
        assert_eq!(d.outputs, vec![("r".to_string(), Value::str("false"))]);
        let t = json!({"languageVersion": "2.0", "parameters": {
            "n": {"type": "string", "nullable": true},
            "m": {"type": "string"}
        }, "resources": {}});
        let d = eval(t);
        assert_eq!(d.parameters[0], ("n".to_string(), Value::Null));
        assert_eq!(
            d.parameters[1].1,
            Value::unknown("parameter `m` has no value")
        );
        assert!(d.violations.is_empty(), "{:?}", d.violations);
    }

    #[test]
    fn messages_name_a_nested_template_by_its_deployment_not_its_internal_id() {
        let inner = json!({
            "$schema": SCHEMA,
            "parameters": {"rot": {"type": "string", "allowedValues": ["false"]}},
            "resources": [],
            "outputs": {"o": {"type": "int", "value": "x"}}
        });
        let t = json!({"$schema": SCHEMA, "resources": [{
            "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inner",
            "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                "parameters": {"rot": {"value": "true"}, "extra": {"value": 1}},
                "template": inner}
        }]});
        let d = eval(t);
        assert_eq!(
            d.parameters[0].0, "resources/0.rot",
            "the internal name stays"
        );
        let joined = d.violations.join("\n");
        assert!(
            joined.contains("parameter `rot` of nested deployment `inner`"),
            "{joined}"
        );
        assert!(
            joined.contains("parameter `extra` of nested deployment `inner`"),
            "{joined}"
        );
        assert!(
            joined.contains("output `o` of nested deployment `inner`"),
            "{joined}"
        );
        assert!(!joined.contains("resources/0"), "{joined}");
    }

    #[test]
    fn reference_is_unknown_and_flows_through_concat() {
        let t = template(
            json!({}),
            json!([cluster(json!({
                "a": "[concat('id-', reference('kv').properties.vaultUri)]",
                "b": "[resourceGroup().location]",
                "c": "[if(equals(reference('x').v, 1), 'same', 'same')]"
            }))]),
        );
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        assert_eq!(
            p.get("a"),
            Some(&Value::unknown(
                "concat('id-', reference('kv').properties.vaultUri)"
            ))
        );
        assert_eq!(
            p.get("b"),
            Some(&Value::unknown("resourceGroup().location"))
        );
        assert_eq!(p.get("c"), Some(&Value::str("same")));
    }

    #[test]
    fn an_unknown_doubled_many_times_keeps_a_short_reason_that_still_tells_inputs_apart() {
        let run = |name: &str| {
            let mut vars = serde_json::Map::new();
            vars.insert("v0".into(), J::from(format!("[reference('{name}')]")));
            for i in 1..=60 {
                let e = format!("[concat(variables('v{0}'), variables('v{0}'))]", i - 1);
                vars.insert(format!("v{i}"), J::from(e));
            }
            let t = template(
                json!({"variables": vars}),
                json!([cluster(json!({"x": "[variables('v60')]"}))]),
            );
            let d = eval(t);
            d.resources[0]
                .body
                .at(&["properties", "x"])
                .cloned()
                .unwrap()
        };
        let (a, b) = (run("a"), run("b"));
        let Value::Unknown(u) = &a else { panic!("{a}") };
        assert!(u.reason.len() < 1000, "{}", u.reason.len());
        assert_ne!(a, b);
        assert_eq!(a, run("a"));
    }

    #[test]
    fn lambda_functions() {
        let t = template(
            json!({"parameters": {
                "ids": {"type": "array", "defaultValue": ["a", "b"]},
                "nums": {"type": "array", "defaultValue": [3, 1, 2]}
            }}),
            json!([cluster(json!({
                "reduce": "[reduce(map(parameters('ids'), lambda('id', createObject(format('{0}', lambdaVariables('id')), createObject()))), createObject(), lambda('cur', 'next', union(lambdaVariables('cur'), lambdaVariables('next'))))]",
                "indexed": "[map(parameters('ids'), lambda('x', 'i', concat(lambdaVariables('x'), string(lambdaVariables('i')))))]",
                "filter": "[filter(parameters('nums'), lambda('n', greater(lambdaVariables('n'), 1)))]",
                "sort": "[sort(parameters('nums'), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]",
                "toObject": "[toObject(parameters('ids'), lambda('k', toUpper(lambdaVariables('k'))))]",
                "groupBy": "[groupBy(parameters('nums'), lambda('n', if(greater(lambdaVariables('n'), 1), 'big', 'small')))]",
                "mapValues": "[mapValues(createObject('a', 1), lambda('v', add(lambdaVariables('v'), 1)))]",
                "unknown": "[map(reference('x').list, lambda('v', lambdaVariables('v')))]",
                "outside": "[lambdaVariables('v')]"
            }))]),
        );
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        let want = |k: &str, j: J| assert_eq!(p.get(k), Some(&Value::from_json(&j)), "{k}");
        want("reduce", json!({"a": {}, "b": {}}));
        want("indexed", json!(["a0", "b1"]));
        want("filter", json!([3, 2]));
        want("sort", json!([1, 2, 3]));
        want("toObject", json!({"A": "a", "B": "b"}));
        want("groupBy", json!({"big": [3, 2], "small": [1]}));
        want("mapValues", json!({"a": 2}));
        assert_eq!(
            p.get("unknown"),
            Some(&Value::unknown(
                "map(reference('x').list, lambda('v', lambdaVariables('v')))"
            ))
        );
        assert!(!p.get("outside").unwrap().is_known());
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        const NAMES: &[&str] = &[
            "and",
            "or",
            "not",
            "if",
            "bool",
            "equals",
            "less",
            "greater",
            "concat",
            "format",
            "toLower",
            "replace",
            "contains",
            "startsWith",
            "indexOf",
            "lastIndexOf",
            "substring",
            "split",
            "join",
            "string",
            "padLeft",
            "union",
            "intersection",
            "createObject",
            "createArray",
            "array",
            "empty",
            "length",
            "first",
            "last",
            "take",
            "skip",
            "range",
            "min",
            "max",
            "items",
            "objectKeys",
            "add",
            "sub",
            "mul",
            "div",
            "mod",
            "int",
            "json",
            "null",
            "coalesce",
            "tryGet",
            "shallowMerge",
            "map",
            "filter",
            "reduce",
            "sort",
            "toObject",
            "groupBy",
            "mapValues",
            "lambda",
            "copyIndex",
            "reference",
            "resourceGroup",
            "fx.f",
            "variables",
            "parameters",
            "lambdaVariables",
        ];

        fn term() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                (-3i64..300).prop_map(|i| i.to_string()),
                "[a-z{}0-9' ]{0,6}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
                Just("true()".to_string()),
                Just("parameters('p')".to_string()),
                Just("parameters('o')".to_string()),
                Just("variables('v')".to_string()),
                Just("variables('w')".to_string()),
                Just("copyIndex()".to_string()),
                Just("lambdaVariables('x')".to_string()),
                Just("'x'".to_string()),
            ];
            leaf.prop_recursive(5, 40, 4, |inner| {
                prop_oneof![
                    (0..NAMES.len(), prop::collection::vec(inner.clone(), 0..4))
                        .prop_map(|(n, args)| format!("{}({})", NAMES[n], args.join(", "))),
                    (inner.clone(), "[a-z]{1,3}").prop_map(|(t, m)| format!("{t}.{m}")),
                    (inner.clone(), inner).prop_map(|(t, i)| format!("{t}[{i}]")),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
            #[test]
            fn random_expressions_evaluate_without_panicking_and_deterministically(
                e1 in term(), e2 in term(), e3 in term()
            ) {
                let x = |e: &str| format!("[{e}]");
                let t = template(
                    json!({
                        "parameters": {
                            "p": {"type": "string", "defaultValue": x(&e3), "allowedValues": ["a"]},
                            "o": {"type": "object", "defaultValue": {"a": [1, {"b": "c"}]}}
                        },
                        "variables": {"v": x(&e1), "w": {"k": x(&e2)},
                            "copy": [{"name": "l", "count": x(&e3), "input": x(&e1)}]},
                        "functions": [{"namespace": "fx", "members": {"f": {
                            "parameters": [{"name": "a", "type": "int"}],
                            "output": {"type": "int", "value": x(&e2)}}}}]
                    }),
                    json!([
                        {
                            "type": "Microsoft.ContainerService/managedClusters",
                            "name": x(&e1),
                            "condition": x(&e2),
                            "copy": {"name": "c", "count": x(&e3)},
                            "properties": {"a": x(&e1), "b": x(&e2),
                                "copy": [{"name": "d", "count": x(&e3), "input": x(&e2)}]}
                        },
                        {
                            "type": "Microsoft.Resources/deployments",
                            "name": "n",
                            "properties": {
                                "expressionEvaluationOptions": {"scope": x(&e3)},
                                "parameters": {"q": {"value": x(&e1)}},
                                "template": {"parameters": {"q": {"type": "string"}},
                                    "resources": [{"type": "t", "name": "[parameters('q')]"}],
                                    "outputs": {"o": {"type": "string", "value": x(&e2)}}}
                            }
                        }
                    ]),
                );
                let a = eval(t.clone());
                let b = eval(t);
                prop_assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn user_defined_functions() {
        let t = template(
            json!({"functions": [{"namespace": "fx", "members": {"flag": {
                "parameters": [{"name": "on", "type": "bool"}],
                "output": {"type": "string", "value": "[if(parameters('on'), 'true', 'false')]"}
            }}}]}),
            json!([cluster(
                json!({"r": "[fx.flag(true())]", "u": "[fx.none(1)]"})
            )]),
        );
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        assert_eq!(p.get("r"), Some(&Value::str("true")));
        assert_eq!(p.get("u"), Some(&Value::unknown("fx.none(1)")));
    }

    #[test]
    fn conditions_of_deployments_reach_their_resources_and_outputs_have_conditions() {
        let t = template(
            json!({"outputs": {
                "shown": {"type": "int", "value": 1},
                "hidden": {"condition": false, "type": "int", "value": 2},
                "list": {"type": "array", "copy": {"count": 2, "input": "[copyIndex()]"}}
            }}),
            json!([{
                "condition": false,
                "type": "Microsoft.Resources/deployments",
                "name": "d",
                "properties": {"template": {"resources": [cluster(json!({}))]}}
            }]),
        );
        let d = eval(t);
        assert_eq!(d.resources[1].condition, Value::Bool(false));
        assert_eq!(
            d.outputs,
            vec![
                ("shown".to_string(), Value::Int(1)),
                ("list".to_string(), Value::from_json(&json!([0, 1])))
            ]
        );
    }

    #[test]
    fn missing_parameters_and_odd_input_never_panic() {
        let t = template(
            json!({"parameters": {"p": {"type": "string"}}}),
            json!([
                cluster(json!({"x": "[parameters('p')]", "y": "[concat(]", "z": "[copyIndex()]"})),
                5,
                "x"
            ]),
        );
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        assert_eq!(
            p.get("x"),
            Some(&Value::unknown("parameter `p` has no value"))
        );
        assert!(!p.get("y").unwrap().is_known());
        assert!(!p.get("z").unwrap().is_known());
        for odd in [
            json!(null),
            json!([]),
            json!("x"),
            json!({"resources": 1, "parameters": []}),
        ] {
            let d = eval(odd);
            assert!(d.resources.is_empty());
        }
    }

    #[test]
    fn deep_input_gives_unknowns_not_a_stack_overflow() {
        // Deeply nested JSON, a long chain of variables, deeply nested deployments: all in
        // a test thread (2 MiB stack) of a debug build. Built by moving values into place:
        // `json!` and `clone` would recurse through them.
        fn o(members: Vec<(&str, J)>) -> J {
            J::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            )
        }
        let mut deep = J::from("[parameters('x')]");
        for _ in 0..1000 {
            deep = o(vec![("a", J::Array(vec![deep]))]);
        }
        let mut vars = serde_json::Map::new();
        for i in 0..5000 {
            vars.insert(
                format!("v{i}"),
                J::from(format!("[variables('v{}')]", i + 1)),
            );
        }
        vars.insert("v5000".into(), J::from("end"));
        let mut nested = cluster(json!({}));
        for _ in 0..500 {
            nested = o(vec![
                ("type", J::from("Microsoft.Resources/deployments")),
                ("name", J::from("n")),
                (
                    "properties",
                    o(vec![(
                        "template",
                        o(vec![("resources", J::Array(vec![nested]))]),
                    )]),
                ),
            ]);
        }
        let aks = o(vec![
            (
                "type",
                J::from("Microsoft.ContainerService/managedClusters"),
            ),
            (
                "properties",
                o(vec![
                    ("deep", deep),
                    ("chain", J::from("[variables('v0')]")),
                ]),
            ),
        ]);
        let t = o(vec![
            ("$schema", J::from(SCHEMA)),
            ("variables", J::Object(vars)),
            ("resources", J::Array(vec![aks, nested])),
        ]);
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        assert!(!p.get("chain").unwrap().is_known());
        // The deployments deeper than MAX_DEPTH allows are one resource of unknown type.
        let last = d.resources.last().unwrap();
        assert!(!last.kind.is_known() && !last.expanded, "{last:?}");
        assert!(d.resources.len() <= MAX_DEPTH, "{}", d.resources.len());
        // An expression well within the cap evaluates; two chained through a variable, each
        // within it, are too deep together.
        let (ok, each) = (MAX_DEPTH * 3 / 5, MAX_DEPTH * 3 / 4);
        let nested = |inner: &str, n: usize| {
            format!("[{}{inner}{}]", "if(true(), ".repeat(n), ", 0)".repeat(n))
        };
        let t = template(
            json!({"variables": {"e1": nested("variables('e2')", each), "e2": nested("1", each)}}),
            json!([cluster(
                json!({"ok": nested("1", ok), "deep": "[variables('e1')]"})
            )]),
        );
        let d = eval(t);
        let p = d.resources[0].body.get("properties").unwrap();
        assert_eq!(p.get("ok"), Some(&Value::Int(1)));
        let Some(Value::Unknown(u)) = p.get("deep") else {
            panic!("{:?}", p.get("deep"))
        };
        assert!(u
            .reason
            .contains(&format!("nested deeper than {MAX_DEPTH} levels")));
    }
}
