//! The Terraform evaluator: evaluates one root module (every `.tf` file of a folder) with
//! one configuration (variable values from `.tfvars` files) on the shared value model, and
//! produces the [`Deployment`] the rule and the proof read.
//!
//! What it evaluates: literals, lists and objects, `var.NAME` (the configuration's value,
//! else the variable's `default`, else Unknown; converted to the variable's `type`, so
//! `optional(type, default)` attributes are filled in), `local.NAME`, `count.index`,
//! `each.key` and `each.value`, a `dynamic` block's iterator, `for` expressions,
//! conditionals, `!`, `&&`, `||`, comparisons,
//! parentheses, attribute and index access, and the functions `coalesce`, `try`, `can`,
//! `lookup`, `tobool`, `tostring`, `length`, `contains`, `merge`, `concat`, `tolist` and
//! `toset`. Everything else (another resource's attributes, data sources, string templates,
//! other functions) is Unknown, never a guess.
//!
//! How a module becomes a deployment: each `resource` (one per `count` index or `for_each`
//! key; `count = 0` or an empty `for_each` gives one resource whose condition is false) is a
//! [`Resource`] whose body is its evaluated arguments and blocks (a block is a list of
//! objects under its type; a `dynamic` block is expanded). An `azurerm_kubernetes_cluster`
//! also gets the ARM shape PSRule judges: its `key_vault_secrets_provider` block (or the
//! azurerm 2.x `addon_profile { azure_keyvault_secrets_provider {...} }`) becomes
//! `properties.addonProfiles.azureKeyvaultSecretsProvider` with `enabled` true (Unknown when
//! the block's `for_each` is) and `config.enableSecretRotation` the block's
//! `secret_rotation_enabled` (missing when it is unset or null, as the provider's default is
//! false); the block's own copy of that argument is left out, so the proof sees rotation in
//! one place. Module calls are resources of type `module` whose body is their arguments,
//! except local modules, whose resources stand for the call (per instance, nested calls
//! followed); outputs are outputs. Override files are merged in before evaluation
//! ([`merge_overrides`]), so the evaluator sees the configuration Terraform deploys.

use super::deployment::{Configuration, Deployment, Resource};
use super::value::{Object, Unknown, Value};
use crate::lang::terraform::hcl::{BinOp, Block, Body, Expr, ExprKind, Item, Step};
use std::cell::RefCell;
use std::collections::HashMap;

/// The Terraform resource type of an AKS cluster.
pub(crate) const CLUSTER: &str = "azurerm_kubernetes_cluster";
/// The cluster's block that turns the add-on on.
pub(crate) const ADDON_BLOCK: &str = "key_vault_secrets_provider";
/// azurerm 2.x: the cluster's `addon_profile` block, and the add-on block inside it (with
/// a required `enabled` argument).
pub(crate) const LEGACY_PROFILE: &str = "addon_profile";
pub(crate) const LEGACY_ADDON: &str = "azure_keyvault_secrets_provider";
/// The block's rotation argument.
pub(crate) const ROTATION_ARG: &str = "secret_rotation_enabled";
/// The azapi provider's generic resource: an AKS cluster when its `type` is
/// `Microsoft.ContainerService/managedClusters@VERSION`, its `body` the ARM shape.
pub(crate) const AZAPI: &str = "azapi_resource";

/// Whether a resource block is an `azapi_resource` of an AKS cluster: its `type` is written
/// as a literal string naming `Microsoft.ContainerService/managedClusters` (any case) at some
/// API version. A computed `type` is not followed.
pub(crate) fn azapi_cluster(kind: &str, body: &Body) -> bool {
    if kind != AZAPI {
        return false;
    }
    let Some(ExprKind::Str(t)) = body.attr("type").map(|a| &a.value.kind) else {
        return false;
    };
    let prefix = format!("{}@", crate::rule::CLUSTER_TYPE).to_ascii_lowercase();
    t.to_ascii_lowercase().starts_with(&prefix)
}

/// The object expression an `azapi_resource`'s `body` holds: the HCL object itself, or the
/// object inside `jsonencode(...)` (azapi before 2.0 took a JSON string).
pub(crate) fn azapi_body(body: &Body) -> Option<&Expr> {
    let mut e = &body.attr("body")?.value;
    loop {
        match &e.kind {
            ExprKind::Call(name, args) if name == "jsonencode" && args.len() == 1 => e = &args[0],
            ExprKind::Paren(x) => e = x,
            _ => return Some(e),
        }
    }
}

/// Whether a file is one of Terraform's override files: `override.tf`, `*_override.tf`, and
/// the same names in JSON syntax (`override.tf.json`, `*_override.tf.json`), any case.
pub(crate) fn is_override(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".tf.json")
        .or_else(|| lower.strip_suffix(".tf"));
    matches!(stem, Some(s) if s == "override" || s.ends_with("_override"))
}

/// The type a nested block counts as when overriding: its own, or a `dynamic` block's label.
fn block_type(b: &Block) -> &str {
    if b.ident == "dynamic" {
        b.labels.first().map_or("dynamic", String::as_str)
    } else {
        &b.ident
    }
}

/// Terraform's override merge (<https://developer.hashicorp.com/terraform/language/files/override>):
/// the module's primary bodies with each override body merged in, in order (the caller gives
/// override files in lexical order). Each top-level block of an override file merges into the
/// primary block with the same type and labels: an argument replaces the argument of the same
/// name (or is added), and the nested blocks of one type (a `dynamic "x"` counts as type `x`)
/// replace every nested block of that type, their contents not merged; `lifecycle` merges
/// argument by argument. A `locals` block's values replace the same-named values wherever they
/// are declared. A block with no primary block to merge into is Terraform's error ("Missing
/// base ... to override") and is left out here.
pub(crate) fn merge_overrides(mut primary: Vec<Body>, overrides: &[&Body]) -> Vec<Body> {
    for over in overrides {
        for item in &over.items {
            let Item::Block(ob) = item else { continue };
            if ob.ident == "locals" {
                for a in ob.body.attrs() {
                    let slot = primary.iter_mut().find_map(|body| {
                        body.items.iter_mut().find_map(|it| match it {
                            Item::Block(b) if b.ident == "locals" => b
                                .body
                                .items
                                .iter_mut()
                                .find(|x| matches!(x, Item::Attr(y) if y.key == a.key)),
                            _ => None,
                        })
                    });
                    if let Some(slot) = slot {
                        *slot = Item::Attr(a.clone());
                    }
                }
                continue;
            }
            let base = primary.iter_mut().find_map(|body| {
                body.items.iter_mut().find_map(|it| match it {
                    Item::Block(b) if b.ident == ob.ident && b.labels == ob.labels => Some(b),
                    _ => None,
                })
            });
            if let Some(base) = base {
                merge_block(&mut base.body, &ob.body);
            }
        }
    }
    primary
}

/// Merges an override block's body into its base (see [`merge_overrides`]).
fn merge_block(base: &mut Body, over: &Body) {
    let replaced: Vec<&str> = over
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Block(b) if b.ident != "lifecycle" => Some(block_type(b)),
            _ => None,
        })
        .collect();
    base.items.retain(|i| match i {
        Item::Block(b) => !replaced.contains(&block_type(b)),
        Item::Attr(_) => true,
    });
    for item in &over.items {
        match item {
            Item::Attr(a) => {
                match base
                    .items
                    .iter_mut()
                    .find(|x| matches!(x, Item::Attr(y) if y.key == a.key))
                {
                    Some(slot) => *slot = item.clone(),
                    None => base.items.push(item.clone()),
                }
            }
            Item::Block(b) if b.ident == "lifecycle" => {
                let existing = base.items.iter_mut().find_map(|x| match x {
                    Item::Block(l) if l.ident == "lifecycle" => Some(l),
                    _ => None,
                });
                match existing {
                    Some(l) => {
                        let inner = Body {
                            items: b.body.attrs().cloned().map(Item::Attr).collect(),
                        };
                        merge_block(&mut l.body, &inner);
                    }
                    None => base.items.push(item.clone()),
                }
            }
            Item::Block(_) => base.items.push(item.clone()),
        }
    }
}

/// Why an expression has no value: Terraform would stop with an error (`try` and `can`
/// catch these).
#[derive(Debug, Clone, PartialEq)]
struct Failure;

type Eval = Result<Value, Failure>;

/// One root module: the parsed bodies of its `.tf` files, and the local modules its calls
/// name (by their `source` as written: `./modules/aks`), each read from its folder.
#[derive(Default)]
pub(crate) struct Module<'m> {
    pub(crate) bodies: Vec<&'m Body>,
    pub(crate) locals: Vec<(String, Module<'m>)>,
}

/// The `source` of a module call when it names a local folder (`./x`, `../x`).
pub(crate) fn local_source(body: &Body) -> Option<&str> {
    match &body.attr("source")?.value.kind {
        ExprKind::Str(s) if s.starts_with("./") || s.starts_with("../") => Some(s),
        _ => None,
    }
}

/// Evaluates `module` with `config` (variable values by name).
pub(crate) fn evaluate(module: &Module, config: &Configuration) -> Deployment {
    let mut env = Env {
        module,
        config,
        locals: HashMap::new(),
        local_values: RefCell::new(HashMap::new()),
        var_values: RefCell::new(HashMap::new()),
        depth: RefCell::new(0),
    };
    for body in &module.bodies {
        for b in body.blocks("locals") {
            for a in b.body.attrs() {
                env.locals.insert(a.key.clone(), &a.value);
            }
        }
    }
    let mut out = Deployment::default();
    for body in &module.bodies {
        for b in body.blocks("variable") {
            if let Some(name) = b.labels.first() {
                out.parameters.push((name.clone(), env.var(name)));
            }
        }
    }
    for body in &module.bodies {
        for b in &body.items {
            let Item::Block(b) = b else { continue };
            match (b.ident.as_str(), &b.labels[..]) {
                ("resource", [kind, name]) => env.resources(b, kind, name, &mut out),
                ("module", [name]) => {
                    let callee = local_source(&b.body)
                        .and_then(|src| module.locals.iter().find(|(s, _)| s == src));
                    match callee {
                        Some((_, callee)) => env.local_call(b, name, callee, &mut out),
                        None => env.resources(b, "module", name, &mut out),
                    }
                }
                ("output", [name]) => {
                    let v = b
                        .body
                        .attr("value")
                        .map_or(Value::Null, |a| env.value(&a.value, &Scope::default()));
                    out.outputs.push((name.clone(), v));
                }
                _ => {}
            }
        }
    }
    out
}

/// The value of an expression that needs no module (a `.tfvars` value): literals, lists and
/// objects; anything else is Unknown.
pub(crate) fn literal(e: &Expr) -> Value {
    let module = Module::default();
    let config = Configuration::defaults();
    let env = Env {
        module: &module,
        config: &config,
        locals: HashMap::new(),
        local_values: RefCell::new(HashMap::new()),
        var_values: RefCell::new(HashMap::new()),
        depth: RefCell::new(0),
    };
    env.value(e, &Scope::default())
}

/// Names bound inside a resource: `count.index`, `each`, dynamic iterators.
#[derive(Debug, Clone, Default)]
struct Scope {
    bound: Vec<(String, Value)>,
}

impl Scope {
    fn with(&self, name: &str, v: Value) -> Scope {
        let mut s = self.clone();
        s.bound.push((name.to_string(), v));
        s
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.bound
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

struct Env<'m> {
    module: &'m Module<'m>,
    config: &'m Configuration,
    locals: HashMap<String, &'m Expr>,
    local_values: RefCell<HashMap<String, Eval>>,
    /// Each variable's value once read and converted to its type.
    var_values: RefCell<HashMap<String, Value>>,
    depth: RefCell<usize>,
}

fn unknown(reason: impl Into<String>) -> Value {
    Value::Unknown(Unknown::new(reason))
}

impl Env<'_> {
    /// A variable's value: given by the configuration, else its default, else Unknown.
    /// Either is converted to the variable's `type` as Terraform converts it (see
    /// [`Env::convert`]): the attributes an object type marks `optional(type, default)` are
    /// filled in when missing or null.
    fn var(&self, name: &str) -> Value {
        if let Some(v) = self.var_values.borrow().get(name) {
            return v.clone();
        }
        let v = self.read_var(name);
        self.var_values
            .borrow_mut()
            .insert(name.to_string(), v.clone());
        v
    }

    fn read_var(&self, name: &str) -> Value {
        let declared = self.module.bodies.iter().find_map(|body| {
            body.blocks("variable")
                .find(|b| b.labels.first().map(String::as_str) == Some(name))
        });
        let ty = declared.and_then(|b| b.body.attr("type")).map(|a| &a.value);
        // Terraform's JSON syntax writes the type as a string holding the type expression.
        let parsed = match ty.map(|t| &t.kind) {
            Some(ExprKind::Str(t)) => crate::lang::terraform::hcl::parse(&format!("t = {t}\n"))
                .ok()
                .and_then(|b| b.attrs().next().map(|a| a.value.clone())),
            _ => None,
        };
        let ty = parsed.as_ref().or(ty);
        // `nullable = false`: a null given is the default (Terraform 1.1+).
        let non_nullable = declared
            .and_then(|b| b.body.attr("nullable"))
            .is_some_and(|a| a.value.kind == ExprKind::Bool(false));
        let given = self
            .config
            .value(name)
            .filter(|v| !(non_nullable && **v == Value::Null));
        let v = if let Some(v) = given {
            v.clone()
        } else if let Some(b) = declared {
            match b.body.attr("default") {
                Some(d) => self.value(&d.value, &Scope::default()),
                None => return unknown(format!("variable `{name}` has no value offline")),
            }
        } else {
            return unknown(format!("variable `{name}` is not declared"));
        };
        match ty {
            Some(t) => self.convert(v, t).unwrap_or_else(|_| {
                unknown(format!(
                    "the value of variable `{name}` does not convert to its type (Terraform \
                     would stop with an error)"
                ))
            }),
            None => v,
        }
    }

    /// Converts a value to a Terraform type constraint as Terraform 1.3+ does for a variable:
    /// an `object({...})` keeps the attributes its type names (others are dropped), each
    /// converted; an attribute missing or null takes its `optional(type, default)` default
    /// (null when it has none), and a missing attribute that is not optional is an error;
    /// `map(T)`, `list(T)`, `set(T)` and `tuple([...])` convert each element; `bool` reads
    /// the strings "true" and "false", `string` writes a bool or number as text. `any`, other
    /// primitives and type expressions not understood leave the value as it is; an Unknown
    /// stays Unknown.
    fn convert(&self, v: Value, ty: &Expr) -> Eval {
        if matches!(v, Value::Unknown(_)) {
            return Ok(v);
        }
        match &ty.kind {
            ExprKind::Traversal(t, steps) if steps.is_empty() => Ok(match (t.as_str(), v) {
                ("bool", Value::Str(s)) if s == "true" => Value::Bool(true),
                ("bool", Value::Str(s)) if s == "false" => Value::Bool(false),
                ("bool", v @ (Value::Bool(_) | Value::Null)) => v,
                ("bool", _) => return Err(Failure),
                ("string", Value::Bool(b)) => Value::str(b.to_string()),
                ("string", Value::Int(i)) => Value::str(i.to_string()),
                (_, v) => v,
            }),
            ExprKind::Call(f, args) => match (f.as_str(), args.first(), v) {
                (_, _, Value::Null) => Ok(Value::Null),
                (
                    "object",
                    Some(Expr {
                        kind: ExprKind::Object(attrs),
                        ..
                    }),
                    Value::Object(o),
                ) => {
                    let mut out = Object::new();
                    for a in attrs {
                        let Some(key) = &a.key else {
                            return Ok(unknown("an object type's attribute name is computed"));
                        };
                        let (inner, default) = match &a.value.kind {
                            ExprKind::Call(f, xs) if f == "optional" && !xs.is_empty() => {
                                (&xs[0], Some(xs.get(1)))
                            }
                            _ => (&a.value, None),
                        };
                        let given = o.get(key).cloned().filter(|x| *x != Value::Null);
                        let value = match (given, default) {
                            (Some(x), _) => self.convert(x, inner)?,
                            (None, Some(Some(d))) => {
                                let d = self.eval(d, &Scope::default())?;
                                self.convert(d, inner)?
                            }
                            (None, Some(None)) => Value::Null,
                            // A required attribute: null when given as null, else an error.
                            (None, None) if o.get(key).is_some() => Value::Null,
                            (None, None) => return Err(Failure),
                        };
                        out.insert(key.clone(), value);
                    }
                    Ok(Value::Object(out))
                }
                ("object", _, _) => Err(Failure),
                ("map", Some(t), Value::Object(o)) => {
                    let mut out = Object::new();
                    for (k, x) in o.members {
                        out.insert(k, self.convert(x, t)?);
                    }
                    Ok(Value::Object(out))
                }
                ("list" | "set", Some(t), Value::Array(a)) => Ok(Value::Array(
                    a.into_iter()
                        .map(|x| self.convert(x, t))
                        .collect::<Result<_, _>>()?,
                )),
                (
                    "tuple",
                    Some(Expr {
                        kind: ExprKind::Array(ts),
                        ..
                    }),
                    Value::Array(a),
                ) if ts.len() == a.len() => Ok(Value::Array(
                    a.into_iter()
                        .zip(ts)
                        .map(|(x, t)| self.convert(x, t))
                        .collect::<Result<_, _>>()?,
                )),
                ("map" | "list" | "set" | "tuple", _, _) => Err(Failure),
                (_, _, v) => Ok(v),
            },
            _ => Ok(v),
        }
    }

    fn local(&self, name: &str) -> Eval {
        if let Some(v) = self.local_values.borrow().get(name) {
            return v.clone();
        }
        let Some(expr) = self.locals.get(name) else {
            return Err(Failure);
        };
        // A cycle is Terraform's error; mark it while evaluating.
        self.local_values.borrow_mut().insert(
            name.to_string(),
            Ok(unknown(format!("local `{name}` refers to itself"))),
        );
        let v = self.eval(expr, &Scope::default());
        self.local_values
            .borrow_mut()
            .insert(name.to_string(), v.clone());
        v
    }

    /// An expression's value, a failure being Unknown (Terraform would stop).
    fn value(&self, e: &Expr, scope: &Scope) -> Value {
        self.eval(e, scope)
            .unwrap_or_else(|_| unknown("Terraform would stop with an error here"))
    }

    fn eval(&self, e: &Expr, scope: &Scope) -> Eval {
        {
            let mut d = self.depth.borrow_mut();
            if *d > super::MAX_DEPTH {
                return Ok(unknown("the expression nests too deeply"));
            }
            *d += 1;
        }
        let v = self.eval_inner(e, scope);
        *self.depth.borrow_mut() -= 1;
        v
    }

    fn eval_inner(&self, e: &Expr, scope: &Scope) -> Eval {
        Ok(match &e.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Number(n) => Value::str(n.clone()),
            ExprKind::Str(s) => Value::str(s.clone()),
            ExprKind::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|x| self.eval(x, scope))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Object(members) => {
                let mut o = Object::new();
                for m in members {
                    let Some(k) = &m.key else {
                        return Ok(unknown("an object key is computed"));
                    };
                    o.insert(k.clone(), self.eval(&m.value, scope)?);
                }
                Value::Object(o)
            }
            ExprKind::Paren(x) => self.eval(x, scope)?,
            ExprKind::Traversal(root, steps) => {
                let (start, rest) = match (root.as_str(), steps.first()) {
                    ("var", Some(Step::Attr(n))) => (self.var(n), &steps[1..]),
                    ("local", Some(Step::Attr(n))) => (self.local(n)?, &steps[1..]),
                    (name, _) if scope.get(name).is_some() => {
                        (scope.get(name).cloned().unwrap_or(Value::Null), &steps[..])
                    }
                    ("count" | "each", _) => return Err(Failure),
                    (name, _) => {
                        return Ok(unknown(format!(
                            "`{name}...` is known only when Terraform plans or applies"
                        )))
                    }
                };
                self.steps(start, rest, scope)?
            }
            ExprKind::Access(x, steps) => {
                let start = self.eval(x, scope)?;
                self.steps(start, steps, scope)?
            }
            ExprKind::Cond(c, t, f) => match self.eval(c, scope)? {
                Value::Bool(true) => self.eval(t, scope)?,
                Value::Bool(false) => self.eval(f, scope)?,
                Value::Str(s) if s == "true" => self.eval(t, scope)?,
                Value::Str(s) if s == "false" => self.eval(f, scope)?,
                Value::Unknown(u) => {
                    // Both branches the same known value: the condition does not matter.
                    let (t, f) = (self.eval(t, scope), self.eval(f, scope));
                    match (t, f) {
                        (Ok(a), Ok(b)) if a == b && a.is_fully_known() => a,
                        _ => Value::Unknown(u),
                    }
                }
                _ => return Err(Failure),
            },
            ExprKind::Not(x) => match truth(&self.eval(x, scope)?)? {
                Some(b) => Value::Bool(!b),
                None => unknown("a condition is not known offline"),
            },
            ExprKind::Neg(x) => match self.eval(x, scope)? {
                Value::Int(i) => Value::Int(i.checked_neg().ok_or(Failure)?),
                Value::Unknown(u) => Value::Unknown(u),
                _ => unknown("a number is not read"),
            },
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, scope)?,
            ExprKind::Call(name, args) => self.call(name, args, scope)?,
            ExprKind::For(f) => self.for_expr(f, scope)?,
            ExprKind::Other => unknown("the expression is not evaluated offline"),
        })
    }

    /// A `for` expression: a list, or an object by its key expression (entries of one key
    /// grouped in a list with `...`, a repeated key otherwise Terraform's error), the `if`
    /// filter applied. A collection or filter not known offline makes the whole Unknown.
    fn for_expr(&self, f: &crate::lang::terraform::hcl::For, scope: &Scope) -> Eval {
        let items: Vec<(Value, Value)> = match self.eval(&f.collection, scope)? {
            Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v))
                .collect(),
            Value::Object(o) => o
                .members
                .into_iter()
                .map(|(k, v)| (Value::str(k), v))
                .collect(),
            u @ Value::Unknown(_) => return Ok(u),
            _ => return Err(Failure),
        };
        let mut list = Vec::new();
        let mut object = Object::new();
        for (k, v) in items {
            let mut s = scope.with(&f.value_var, v);
            if let Some(kv) = &f.key_var {
                s = s.with(kv, k);
            }
            if let Some(c) = &f.cond {
                match truth(&self.eval(c, &s)?)? {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return Ok(unknown("a `for` filter is not known offline")),
                }
            }
            let value = self.eval(&f.value, &s)?;
            let Some(key) = &f.key else {
                list.push(value);
                continue;
            };
            let key = match self.eval(key, &s)? {
                Value::Str(k) => k,
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                u @ Value::Unknown(_) => return Ok(u),
                _ => return Err(Failure),
            };
            match object.get_mut(&key) {
                Some(Value::Array(group)) if f.grouping => group.push(value),
                Some(_) => return Err(Failure),
                None if f.grouping => object.insert(key, Value::Array(vec![value])),
                None => object.insert(key, value),
            }
        }
        Ok(match f.key {
            Some(_) => Value::Object(object),
            None => Value::Array(list),
        })
    }

    fn steps(&self, mut v: Value, steps: &[Step], scope: &Scope) -> Eval {
        for (i, s) in steps.iter().enumerate() {
            if let Value::Unknown(_) = v {
                return Ok(v);
            }
            v = match s {
                Step::Attr(n) => match &v {
                    Value::Object(o) => o.get(n).cloned().ok_or(Failure)?,
                    _ => return Err(Failure),
                },
                Step::Index(x) => {
                    let k = self.eval(x, scope)?;
                    match (&v, &k) {
                        (_, Value::Unknown(u)) => Value::Unknown(u.clone()),
                        (Value::Array(a), Value::Int(i)) => usize::try_from(*i)
                            .ok()
                            .and_then(|i| a.get(i))
                            .cloned()
                            .ok_or(Failure)?,
                        (Value::Object(o), Value::Str(s)) => o.get(s).cloned().ok_or(Failure)?,
                        _ => return Err(Failure),
                    }
                }
                Step::Splat => {
                    let items = match v {
                        Value::Array(a) => a,
                        Value::Null => Vec::new(),
                        other => vec![other],
                    };
                    let rest = &steps[i + 1..];
                    let out = items
                        .into_iter()
                        .map(|x| self.steps(x, rest, scope))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Value::Array(out));
                }
            };
        }
        Ok(v)
    }

    fn binary(&self, op: BinOp, l: &Expr, r: &Expr, scope: &Scope) -> Eval {
        let a = self.eval(l, scope)?;
        // `&&` and `||` decide on a known side even when the other is Unknown.
        if matches!(op, BinOp::And | BinOp::Or) {
            let b = self.eval(r, scope)?;
            let (x, y) = (truth(&a)?, truth(&b)?);
            return Ok(match (op, x, y) {
                (BinOp::And, Some(false), _) | (BinOp::And, _, Some(false)) => Value::Bool(false),
                (BinOp::Or, Some(true), _) | (BinOp::Or, _, Some(true)) => Value::Bool(true),
                (_, Some(x), Some(y)) => {
                    Value::Bool(if op == BinOp::And { x && y } else { x || y })
                }
                _ => unknown("a condition is not known offline"),
            });
        }
        let b = self.eval(r, scope)?;
        if !a.is_fully_known() || !b.is_fully_known() {
            return Ok(unknown("a comparison is not known offline"));
        }
        Ok(match op {
            BinOp::Eq => Value::Bool(a == b),
            BinOp::NotEq => Value::Bool(a != b),
            _ => match (a, b) {
                (Value::Int(x), Value::Int(y)) => match op {
                    BinOp::Less => Value::Bool(x < y),
                    BinOp::LessEq => Value::Bool(x <= y),
                    BinOp::Greater => Value::Bool(x > y),
                    BinOp::GreaterEq => Value::Bool(x >= y),
                    BinOp::Plus => x.checked_add(y).map_or(Value::Null, Value::Int),
                    BinOp::Minus => x.checked_sub(y).map_or(Value::Null, Value::Int),
                    BinOp::Mul => x.checked_mul(y).map_or(Value::Null, Value::Int),
                    _ => unknown("arithmetic is not evaluated"),
                },
                _ => unknown("arithmetic is not evaluated"),
            },
        })
    }

    fn call(&self, name: &str, args: &[Expr], scope: &Scope) -> Eval {
        let arg = |i: usize| args.get(i).map(|a| self.eval(a, scope)).ok_or(Failure);
        Ok(match name {
            // The first argument that evaluates without an error.
            "try" => {
                for a in args {
                    if let Ok(v) = self.eval(a, scope) {
                        return Ok(v);
                    }
                }
                return Err(Failure);
            }
            "can" => Value::Bool(arg(0)?.is_ok()),
            "coalesce" => {
                for a in args {
                    match self.eval(a, scope)? {
                        Value::Null => continue,
                        Value::Str(s) if s.is_empty() => continue,
                        Value::Unknown(u) => return Ok(Value::Unknown(u)),
                        v => return Ok(v),
                    }
                }
                return Err(Failure);
            }
            "lookup" => {
                let (map, key) = (arg(0)??, arg(1)??);
                match (&map, &key) {
                    (Value::Unknown(u), _) | (_, Value::Unknown(u)) => Value::Unknown(u.clone()),
                    (Value::Object(o), Value::Str(k)) => match o.get(k) {
                        Some(v) => v.clone(),
                        None => arg(2)??,
                    },
                    _ => return Err(Failure),
                }
            }
            "tobool" => match arg(0)?? {
                Value::Str(s) if s == "true" => Value::Bool(true),
                Value::Str(s) if s == "false" => Value::Bool(false),
                v @ (Value::Bool(_) | Value::Null | Value::Unknown(_)) => v,
                _ => return Err(Failure),
            },
            "tostring" => match arg(0)?? {
                Value::Bool(b) => Value::str(b.to_string()),
                Value::Int(i) => Value::str(i.to_string()),
                v @ (Value::Str(_) | Value::Null | Value::Unknown(_)) => v,
                _ => return Err(Failure),
            },
            "length" => match arg(0)?? {
                Value::Array(a) => Value::Int(a.len() as i64),
                Value::Object(o) => Value::Int(o.len() as i64),
                Value::Str(s) => Value::Int(s.chars().count() as i64),
                v @ Value::Unknown(_) => v,
                _ => return Err(Failure),
            },
            "contains" => match (arg(0)??, arg(1)??) {
                (Value::Array(a), v)
                    if v.is_fully_known() && a.iter().all(Value::is_fully_known) =>
                {
                    Value::Bool(a.contains(&v))
                }
                (Value::Array(_) | Value::Unknown(_), _) => unknown("a list is not known offline"),
                _ => return Err(Failure),
            },
            "merge" => {
                let mut o = Object::new();
                for a in args {
                    match self.eval(a, scope)? {
                        Value::Object(x) => {
                            for (k, v) in x.members {
                                o.insert(k, v);
                            }
                        }
                        Value::Null => {}
                        Value::Unknown(u) => return Ok(Value::Unknown(u)),
                        _ => return Err(Failure),
                    }
                }
                Value::Object(o)
            }
            "concat" => {
                let mut out = Vec::new();
                for a in args {
                    match self.eval(a, scope)? {
                        Value::Array(x) => out.extend(x),
                        Value::Unknown(u) => return Ok(Value::Unknown(u)),
                        _ => return Err(Failure),
                    }
                }
                Value::Array(out)
            }
            "tolist" => arg(0)??,
            "toset" => match arg(0)?? {
                Value::Array(a) => {
                    let mut out: Vec<Value> = Vec::new();
                    for v in a {
                        if !out.contains(&v) {
                            out.push(v);
                        }
                    }
                    Value::Array(out)
                }
                v => v,
            },
            other => {
                // Arguments that fail still fail the call.
                for a in args {
                    self.eval(a, scope)?;
                }
                unknown(format!("`{other}()` is not evaluated offline"))
            }
        })
    }

    /// The instances a block with `count` or `for_each` declares, each with its address
    /// (`BASE[0]`, `BASE["k"]`), whether it is deployed, and its scope (`count.index`,
    /// `each`): none deployed gives one instance whose condition is false.
    fn instances(&self, b: &Block, base: &str) -> Vec<(String, Value, Scope)> {
        let base = base.to_string();
        let root = Scope::default();
        if let Some(c) = b.body.attr("count") {
            match self.value(&c.value, &root) {
                Value::Int(n) if n <= 0 => vec![(base.clone(), Value::Bool(false), root)],
                Value::Int(n) => (0..n.min(64))
                    .map(|i| {
                        let mut idx = Object::new();
                        idx.insert("index", Value::Int(i));
                        (
                            format!("{base}[{i}]"),
                            Value::Bool(true),
                            root.with("count", Value::Object(idx)),
                        )
                    })
                    .collect(),
                other => {
                    let mut idx = Object::new();
                    idx.insert("index", unknown("`count` is not known offline"));
                    let cond = match other {
                        Value::Unknown(u) => Value::Unknown(u),
                        _ => unknown("`count` is not a number"),
                    };
                    vec![(base.clone(), cond, root.with("count", Value::Object(idx)))]
                }
            }
        } else if let Some(f) = b.body.attr("for_each") {
            let each = |k: Value, v: Value| {
                let mut o = Object::new();
                o.insert("key", k);
                o.insert("value", v);
                Value::Object(o)
            };
            match self.value(&f.value, &root) {
                Value::Object(o) if o.is_empty() => vec![(base.clone(), Value::Bool(false), root)],
                Value::Array(a) if a.is_empty() => vec![(base.clone(), Value::Bool(false), root)],
                Value::Object(o) => o
                    .members
                    .into_iter()
                    .map(|(k, v)| {
                        let s = root.with("each", each(Value::str(k.clone()), v));
                        (format!("{base}[\"{k}\"]"), Value::Bool(true), s)
                    })
                    .collect(),
                Value::Array(a) => a
                    .into_iter()
                    .map(|v| {
                        let key = match &v {
                            Value::Str(s) => s.clone(),
                            other => other.to_string(),
                        };
                        let s = root.with("each", each(v.clone(), v));
                        (format!("{base}[\"{key}\"]"), Value::Bool(true), s)
                    })
                    .collect(),
                other => {
                    let u = match other {
                        Value::Unknown(u) => Value::Unknown(u),
                        _ => unknown("`for_each` is not a map or set"),
                    };
                    let s = root.with("each", each(u.clone(), u.clone()));
                    vec![(base.clone(), u, s)]
                }
            }
        } else {
            vec![(base.clone(), Value::Bool(true), root)]
        }
    }

    /// The resources one `resource` (or `module`) block declares.
    fn resources(&self, b: &Block, kind: &str, name: &str, out: &mut Deployment) {
        let base = format!("{kind}.{name}");
        let origin = vec!["resource".to_string(), kind.to_string(), name.to_string()];
        for (id, condition, scope) in self.instances(b, &base) {
            let mut body = self.body(&b.body, &scope);
            let mut arm_kind = Value::str(kind);
            if kind == CLUSTER {
                arm_kind = Value::str(crate::rule::CLUSTER_TYPE);
                cluster_shape(&mut body);
            } else if let Some(family) = aks_module(&b.body) {
                arm_kind = Value::str(crate::rule::CLUSTER_TYPE);
                module_shape(family, &mut body);
            } else if azapi_cluster(kind, &b.body) {
                // The ARM shape is the `body`: its members stand at the top, as in a
                // template; the resource's other arguments stay beside them.
                arm_kind = Value::str(crate::rule::CLUSTER_TYPE);
                body.remove("body");
                if let Some(e) = azapi_body(&b.body) {
                    match self.value(e, &scope) {
                        Value::Object(o) => {
                            for (k, v) in o.members {
                                body.insert(k, v);
                            }
                        }
                        Value::Unknown(u) => body.insert("properties", Value::Unknown(u)),
                        _ => {}
                    }
                }
            }
            let instance = id
                .strip_prefix(kind)
                .and_then(|r| r.strip_prefix('.'))
                .unwrap_or(name)
                .to_string();
            out.resources.push(Resource {
                id,
                origin: origin.clone(),
                copy_index: None,
                kind: arm_kind,
                // An instance of `count`/`for_each` is named with its key (`st["b"]`), so a
                // side effect on one instance says which.
                name: Value::str(instance),
                condition,
                existing: false,
                expanded: false,
                body: Value::Object(body),
            });
        }
    }

    /// A call of a local module: the callee evaluated with the call's arguments as its
    /// variables, once per instance of the call (`count`/`for_each`, the arguments read with
    /// that instance's `count.index` or `each`), its resources standing for the call (ids
    /// `module.NAME[KEY].…`, origin the call's, so the call's cluster is judged with the
    /// caller's values and the proof sees what else an argument feeds). The callee's own local
    /// calls are followed the same way (the module tree is read bounded and without cycles,
    /// see `plan::Folder::read`), their resources standing for the outermost call.
    fn local_call(&self, b: &Block, name: &str, callee: &Module, out: &mut Deployment) {
        let origin = vec![
            "resource".to_string(),
            "module".to_string(),
            name.to_string(),
        ];
        for (id, condition, scope) in self.instances(b, &format!("module.{name}")) {
            let values = b
                .body
                .attrs()
                .filter(|a| {
                    !matches!(
                        a.key.as_str(),
                        "source" | "version" | "providers" | "count" | "for_each" | "depends_on"
                    )
                })
                .map(|a| (a.key.clone(), self.value(&a.value, &scope)))
                .collect();
            let config = Configuration {
                name: self.config.name.clone(),
                values,
            };
            let inner = evaluate(callee, &config);
            for mut r in inner.resources {
                r.id = format!("{id}.{}", r.id);
                // An instance of a `count`/`for_each` call names its resources with the call's
                // key (`module.aks["b"].st`): which instance a side effect is in.
                if id.contains('[') {
                    if let Value::Str(n) = &r.name {
                        r.name = Value::str(format!("{id}.{n}"));
                    }
                }
                r.origin = origin.clone();
                r.condition = match (&condition, r.condition) {
                    (Value::Bool(true), c) => c,
                    (_, Value::Bool(false)) | (Value::Bool(false), _) => Value::Bool(false),
                    (u, _) => u.clone(),
                };
                out.resources.push(r);
            }
        }
    }

    /// A block body's arguments and nested blocks, evaluated (`dynamic` blocks expanded).
    fn body(&self, body: &Body, scope: &Scope) -> Object {
        let mut o = Object::new();
        for item in &body.items {
            match item {
                Item::Attr(a) => {
                    if matches!(a.key.as_str(), "count" | "for_each") {
                        continue;
                    }
                    o.insert(a.key.clone(), self.value(&a.value, scope));
                }
                Item::Block(b) if b.ident == "lifecycle" || b.ident == "provisioner" => {}
                Item::Block(b) if b.ident == "dynamic" => {
                    let Some(kind) = b.labels.first() else {
                        continue;
                    };
                    let entries = self.dynamic(b, kind, scope);
                    push_block(&mut o, kind, entries);
                }
                Item::Block(b) => {
                    let v = Value::Object(self.body(&b.body, scope));
                    push_block(&mut o, &b.ident, Value::Array(vec![v]));
                }
            }
        }
        o
    }

    /// The blocks a `dynamic "kind"` block generates: a list of objects, or Unknown when its
    /// `for_each` is (with the content evaluated once under an Unknown iterator).
    fn dynamic(&self, b: &Block, kind: &str, scope: &Scope) -> Value {
        let iterator = b
            .body
            .attr("iterator")
            .and_then(|a| match &a.value.kind {
                ExprKind::Traversal(n, s) if s.is_empty() => Some(n.clone()),
                _ => None,
            })
            .unwrap_or_else(|| kind.to_string());
        let Some(content) = b.body.blocks("content").next() else {
            return Value::Array(Vec::new());
        };
        let items = b
            .body
            .attr("for_each")
            .map_or(Value::Null, |f| self.value(&f.value, scope));
        let one = |k: Value, v: Value| {
            let mut it = Object::new();
            it.insert("key", k);
            it.insert("value", v);
            Value::Object(self.body(&content.body, &scope.with(&iterator, Value::Object(it))))
        };
        match items {
            Value::Array(a) => Value::Array(
                a.into_iter()
                    .enumerate()
                    .map(|(i, v)| one(Value::Int(i as i64), v))
                    .collect(),
            ),
            Value::Object(o) => Value::Array(
                o.members
                    .into_iter()
                    .map(|(k, v)| one(Value::str(k), v))
                    .collect(),
            ),
            Value::Null => Value::Array(Vec::new()),
            Value::Unknown(u) => {
                let mut o = Object::new();
                o.insert("for_each", Value::Unknown(u.clone()));
                let content = one(Value::Unknown(u.clone()), Value::Unknown(u.clone()));
                o.insert("content", content);
                Value::Unknown(u).tag(o)
            }
            _ => unknown("a dynamic block's `for_each` is not a collection"),
        }
    }
}

trait Tag {
    fn tag(self, o: Object) -> Value;
}

impl Tag for Value {
    /// An Unknown list of blocks whose one possible entry is known: kept as an object with
    /// `for_each` Unknown and the `content`, so the cluster's shape can still read it.
    fn tag(self, mut o: Object) -> Value {
        o.insert("unknown", self);
        Value::Object(o)
    }
}

fn push_block(o: &mut Object, kind: &str, entries: Value) {
    match (o.get_mut(kind), entries) {
        (Some(Value::Array(list)), Value::Array(more)) => list.extend(more),
        (_, entries) => o.insert(kind.to_string(), entries),
    }
}

/// The public AKS modules whose inputs armfix knows, each by the inputs that turn the add-on on
/// and set rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `Azure/aks/azurerm`: `key_vault_secrets_provider_enabled` and `secret_rotation_enabled`
    /// (default false).
    Aks,
    /// The Azure Verified Module `Azure/avm-res-containerservice-managedcluster/azurerm` from
    /// 0.3 on (azapi): `addon_profile_key_vault_secrets_provider = { enabled, config = {
    /// enable_secret_rotation } }` (rotation defaults to false).
    AvmAddonProfile,
    /// The same module before 0.3 (azurerm): `key_vault_secrets_provider = {
    /// secret_rotation_enabled }` (the add-on is on when the object is set; rotation defaults
    /// to null, which the provider reads as false).
    AvmLegacy,
}

/// The input that turns the add-on on, per family.
pub(crate) const AKS_ADDON_INPUT: &str = "key_vault_secrets_provider_enabled";
pub(crate) const AVM_ADDON_INPUT: &str = "addon_profile_key_vault_secrets_provider";
pub(crate) const AVM_ROTATION: &str = "enable_secret_rotation";

/// Which known AKS module a `module` block calls, by its `source` (a registry address, with
/// or without the registry host, or a git address of the module's repository).
pub(crate) fn aks_module(body: &Body) -> Option<Family> {
    let source = match &body.attr("source")?.value.kind {
        ExprKind::Str(s) => s.to_ascii_lowercase(),
        _ => return None,
    };
    let source = source
        .trim_start_matches("git::")
        .trim_start_matches("https://")
        .trim_start_matches("registry.terraform.io/")
        .trim_start_matches("github.com/");
    let repo = |name: &str| {
        source
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['?', '/', '.']))
    };
    if source == "azure/aks/azurerm" || repo("azure/terraform-azurerm-aks") {
        Some(Family::Aks)
    } else if source == "azure/avm-res-containerservice-managedcluster/azurerm"
        || repo("azure/terraform-azurerm-avm-res-containerservice-managedcluster")
    {
        Some(
            if body.attr(ADDON_BLOCK).is_some() && body.attr(AVM_ADDON_INPUT).is_none() {
                Family::AvmLegacy
            } else {
                Family::AvmAddonProfile
            },
        )
    } else {
        None
    }
}

/// Gives an evaluated call of a known AKS module the ARM shape PSRule judges; the input that
/// holds rotation is moved there, so the proof sees rotation in one place.
fn module_shape(family: Family, body: &mut Object) {
    let (enabled, rotation) = match family {
        Family::Aks => (
            body.get(AKS_ADDON_INPUT)
                .cloned()
                .unwrap_or(Value::Bool(false)),
            body.remove(ROTATION_ARG),
        ),
        Family::AvmAddonProfile | Family::AvmLegacy => {
            let input = if family == Family::AvmLegacy {
                ADDON_BLOCK
            } else {
                AVM_ADDON_INPUT
            };
            match body.get_mut(input) {
                None | Some(Value::Null) => (Value::Bool(false), None),
                Some(Value::Object(o)) if family == Family::AvmLegacy => {
                    (Value::Bool(true), o.remove(ROTATION_ARG))
                }
                Some(Value::Object(o)) => {
                    let enabled = o.get("enabled").cloned().unwrap_or(Value::Bool(false));
                    let rotation = match o.get_mut("config") {
                        Some(Value::Object(c)) => {
                            let r = c.remove(AVM_ROTATION);
                            // `config = {}` and no `config` mean the same: both defaults.
                            if c.is_empty() {
                                o.remove("config");
                            }
                            r
                        }
                        Some(u @ Value::Unknown(_)) => Some(u.clone()),
                        _ => None,
                    };
                    (enabled, rotation)
                }
                Some(u @ Value::Unknown(_)) => (u.clone(), Some(u.clone())),
                Some(_) => (unknown("the add-on input is not an object"), None),
            }
        }
    };
    shape_with(body, enabled, rotation);
}

/// Gives an evaluated `azurerm_kubernetes_cluster` body the ARM shape PSRule judges (see the
/// module's documentation).
fn cluster_shape(body: &mut Object) {
    if body.get(ADDON_BLOCK).is_none() {
        if let Some((enabled, rotation)) = legacy_addon(body) {
            shape_with(body, enabled, rotation);
        }
        return;
    }
    let (enabled, rotation) = match body.get_mut(ADDON_BLOCK) {
        None => return,
        Some(Value::Array(list)) if list.is_empty() => (Value::Bool(false), None),
        Some(Value::Array(list)) => {
            let rotation = list[0].as_object_mut().and_then(|o| o.remove(ROTATION_ARG));
            (Value::Bool(true), rotation)
        }
        Some(Value::Object(o)) => {
            // A dynamic block whose `for_each` is Unknown.
            let u = o.get("for_each").cloned().unwrap_or(Value::Null);
            let rotation = o
                .get_mut("content")
                .and_then(Value::as_object_mut)
                .and_then(|c| c.remove(ROTATION_ARG));
            (u, rotation)
        }
        Some(other) => (other.clone(), None),
    };
    shape_with(body, enabled, rotation);
}

/// The azurerm 2.x form of the add-on: `addon_profile { azure_keyvault_secrets_provider {
/// enabled = ..., secret_rotation_enabled = ... } }` (azurerm 2.x, removed in 3.0, where the
/// block became `key_vault_secrets_provider`). Its `enabled` argument is required and turns the
/// add-on on; rotation is read as in the 3.x block (missing or null: false). Either block may
/// be `dynamic`: an empty one is off, an Unknown `for_each` makes `enabled` Unknown. `None`
/// when the cluster has neither block (nothing about the add-on is written).
fn legacy_addon(body: &mut Object) -> Option<(Value, Option<Value>)> {
    /// The first block of a list of blocks (`None`: there is none, the add-on is off), or
    /// the content of a dynamic block whose `for_each` is Unknown (with that Unknown).
    fn first(v: &mut Value) -> Result<(Option<&mut Object>, Option<Value>), Value> {
        match v {
            Value::Array(list) => Ok((list.first_mut().and_then(Value::as_object_mut), None)),
            Value::Object(o) => {
                let u = o.get("for_each").cloned().unwrap_or(Value::Null);
                Ok((o.get_mut("content").and_then(Value::as_object_mut), Some(u)))
            }
            other => Err(other.clone()),
        }
    }
    let profile = body.get_mut(LEGACY_PROFILE)?;
    let (outer, u1) = match first(profile) {
        Ok(x) => x,
        Err(other) => return Some((other, None)),
    };
    let Some(inner) = outer.and_then(|o| o.get_mut(LEGACY_ADDON)) else {
        return Some((Value::Bool(false), None));
    };
    let (block, u2) = match first(inner) {
        Ok(x) => x,
        Err(other) => return Some((other, None)),
    };
    let Some(block) = block else {
        return Some((u1.or(u2).unwrap_or(Value::Bool(false)), None));
    };
    let rotation = block.remove(ROTATION_ARG);
    let enabled = block
        .get("enabled")
        .cloned()
        .unwrap_or_else(|| unknown("`enabled` is required in `azure_keyvault_secrets_provider`"));
    // An Unknown `for_each` above the block: whether the add-on is on is not known.
    let enabled = match (u1.or(u2), enabled) {
        (Some(u @ Value::Unknown(_)), Value::Bool(true)) => u,
        (_, e) => e,
    };
    Some((enabled, rotation))
}

/// Adds `properties.addonProfiles.azureKeyvaultSecretsProvider` with `enabled` and the
/// rotation value (left out when missing or null: the provider's default is false).
fn shape_with(body: &mut Object, enabled: Value, rotation: Option<Value>) {
    let mut config = Object::new();
    match rotation {
        None | Some(Value::Null) => {}
        Some(v) => config.insert(crate::rule::ROTATION, v),
    }
    let mut addon = Object::new();
    addon.insert("enabled", enabled);
    addon.insert("config", Value::Object(config));
    let mut profiles = Object::new();
    profiles.insert(crate::rule::ADDON, Value::Object(addon));
    let mut props = Object::new();
    props.insert("addonProfiles", Value::Object(profiles));
    body.insert("properties", Value::Object(props));
}

/// Whether a value is true, false, or not known; a failure for a non-boolean.
fn truth(v: &Value) -> Result<Option<bool>, Failure> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Str(s) if s == "true" => Ok(Some(true)),
        Value::Str(s) if s == "false" => Ok(Some(false)),
        Value::Unknown(_) => Ok(None),
        _ => Err(Failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::judge::{judge, Judgement};
    use crate::lang::terraform::hcl::parse;

    fn judged(text: &str, values: &[(&str, Value)]) -> Vec<Judgement> {
        let body = parse(text).unwrap();
        let module = Module {
            bodies: vec![&body],
            locals: Vec::new(),
        };
        let config = Configuration {
            name: "t".into(),
            values: values
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect(),
        };
        evaluate(&module, &config)
            .resources
            .iter()
            .map(judge)
            .collect()
    }

    /// The value `var.v` evaluates to, with the type and default written.
    fn var_value(ty: &str, default: &str, given: Option<Value>) -> Value {
        let text = format!("variable \"v\" {{\n  type = {ty}\n  default = {default}\n}}\n");
        let body = parse(&text).unwrap();
        let module = Module {
            bodies: vec![&body],
            locals: Vec::new(),
        };
        let config = Configuration {
            name: "t".into(),
            values: given.map(|v| ("v".to_string(), v)).into_iter().collect(),
        };
        let env = Env {
            module: &module,
            config: &config,
            locals: HashMap::new(),
            local_values: RefCell::new(HashMap::new()),
            var_values: RefCell::new(HashMap::new()),
            depth: RefCell::new(0),
        };
        env.var("v")
    }

    #[test]
    fn values_convert_to_the_variables_type_with_optional_defaults() {
        let lit = |s: &str| {
            let body = parse(&format!("x = {s}\n")).unwrap();
            let attr = body.attrs().next().unwrap();
            literal(&attr.value)
        };
        let obj = "object({ a = optional(bool, true), b = optional(bool), c = string })";
        // Missing and null optional attributes take their default (null without one); an
        // attribute the type does not name is dropped; "true" reads as a bool.
        let v = var_value(obj, r#"{ c = "x", b = null, z = 1 }"#, None);
        assert_eq!(v, lit(r#"{ a = true, b = null, c = "x" }"#));
        let v = var_value(
            "object({ a = optional(bool, false) })",
            r#"{ a = "true" }"#,
            None,
        );
        assert_eq!(v, lit("{ a = true }"));
        // A required attribute missing is Terraform's error, not a guess.
        let v = var_value(obj, "{}", None);
        assert!(matches!(v, Value::Unknown(_)), "{v}");
        // Nested in maps, lists and objects, and a configuration's value is converted too.
        let inner = "object({ r = optional(bool, false) })";
        let v = var_value(&format!("map({inner})"), "{ x = {} }", None);
        assert_eq!(v, lit("{ x = { r = false } }"));
        let v = var_value(&format!("list({inner})"), "[{}, { r = true }]", None);
        assert_eq!(v, lit("[{ r = false }, { r = true }]"));
        let v = var_value(
            &format!("object({{ o = optional({inner}, {{}}) }})"),
            "null",
            Some(Value::Object(Object::new())),
        );
        assert_eq!(v, lit("{ o = { r = false } }"));
        // `any` keeps the value as written.
        assert_eq!(var_value("any", "{ q = 1 }", None), lit("{ q = 1 }"));
    }

    #[test]
    fn for_expressions_build_lists_and_objects_filtered_and_grouped() {
        let lit = |s: &str| {
            let body = parse(&format!("x = {s}\n")).unwrap();
            let attr = body.attrs().next().unwrap();
            literal(&attr.value)
        };
        assert_eq!(lit("[for x in [1, 2, 3] : x if x != 2]"), lit("[1, 3]"));
        assert_eq!(
            lit(r#"{ for k, v in { a = 1, b = 2 } : v => k }"#),
            lit(r#"{ "1" = "a", "2" = "b" }"#)
        );
        assert_eq!(
            lit(r#"{ for v in ["x", "y", "x"] : v => v... }"#),
            lit(r#"{ x = ["x", "x"], y = ["y"] }"#)
        );
        assert_eq!(lit("[for i, v in [true] : i]"), lit("[0]"));
        // A repeated key without `...` is Terraform's error; an unknown collection Unknown.
        assert!(matches!(
            lit(r#"{ for v in ["x", "x"] : v => v }"#),
            Value::Unknown(_)
        ));
        assert!(matches!(lit("[for v in data.x.y : v]"), Value::Unknown(_)));
    }

    const DYNAMIC: &str = r#"
variable "on" { default = true }
variable "rotation" {
  type    = bool
  default = false
}
locals { r = var.rotation ? true : false }
resource "azurerm_kubernetes_cluster" "a" {
  dynamic "key_vault_secrets_provider" {
    for_each = var.on ? [1] : []
    content {
      secret_rotation_enabled = coalesce(local.r, true)
    }
  }
}
"#;

    #[test]
    fn dynamic_blocks_conditionals_and_functions_are_evaluated() {
        assert!(matches!(judged(DYNAMIC, &[])[..], [Judgement::Fail { .. }]));
        let on = [("rotation", Value::Bool(true))];
        assert_eq!(judged(DYNAMIC, &on), vec![Judgement::Pass]);
        let off = [("on", Value::Bool(false))];
        assert_eq!(judged(DYNAMIC, &off), vec![Judgement::NotApplicable]);
        let unknown = [("on", Value::unknown("x"))];
        assert!(matches!(
            judged(DYNAMIC, &unknown)[..],
            [Judgement::Fail { .. }]
        ));
    }

    #[test]
    fn count_zero_deploys_nothing_and_try_lookup_fall_back() {
        let text = r#"
variable "s" { default = {} }
resource "azurerm_kubernetes_cluster" "a" {
  count = 0
  key_vault_secrets_provider {}
}
resource "azurerm_kubernetes_cluster" "b" {
  for_each = toset(["x", "y"])
  key_vault_secrets_provider {
    secret_rotation_enabled = try(var.s.rotation, lookup(var.s, "r", each.key == "x"))
  }
}
"#;
        let j = judged(text, &[]);
        assert_eq!(j[0], Judgement::NotDeployed);
        assert_eq!(j[1], Judgement::Pass);
        assert!(matches!(j[2], Judgement::Fail { .. }));
    }

    #[test]
    fn what_cannot_be_known_is_unknown() {
        let text = r#"
variable "r" {}
resource "azurerm_kubernetes_cluster" "a" {
  key_vault_secrets_provider {
    secret_rotation_enabled = var.r
  }
}
resource "azurerm_kubernetes_cluster" "b" {
  key_vault_secrets_provider {
    secret_rotation_enabled = data.x.y.enabled
  }
}
"#;
        let j = judged(text, &[]);
        assert!(
            j.iter().all(|j| matches!(j, Judgement::Unknown { .. })),
            "{j:?}"
        );
    }

    #[test]
    fn azapi_clusters_are_judged_on_their_body_whatever_its_form() {
        let text = r#"
variable "rot" { default = "false" }
resource "azapi_resource" "obj" {
  type = "microsoft.containerservice/managedclusters@2024-02-01"
  body = { properties = { addonProfiles = { azureKeyvaultSecretsProvider = { enabled = true } } } }
}
resource "azapi_resource" "json" {
  type = "Microsoft.ContainerService/managedClusters@2023-08-01"
  body = jsonencode({ properties = { addonProfiles = { azureKeyvaultSecretsProvider = {
    enabled = true, config = { enableSecretRotation = var.rot } } } } })
}
resource "azapi_resource" "pass" {
  type = "Microsoft.ContainerService/managedClusters@2023-08-01"
  body = { properties = { addonProfiles = { azureKeyvaultSecretsProvider = {
    enabled = true, config = { enableSecretRotation = "true" } } } } }
}
resource "azapi_resource" "other" {
  type = "Microsoft.Storage/storageAccounts@2023-01-01"
  body = { properties = { addonProfiles = { azureKeyvaultSecretsProvider = { enabled = true } } } }
}
"#;
        let j = judged(text, &[]);
        assert!(matches!(j[0], Judgement::Fail { .. }), "{j:?}");
        assert!(matches!(j[1], Judgement::Fail { .. }), "{j:?}");
        assert_eq!(j[2], Judgement::Pass);
        assert_eq!(j[3], Judgement::NotACluster);
        let on = [("rot", Value::str("true"))];
        assert_eq!(judged(text, &on)[1], Judgement::Pass);
    }

    fn merged(primary: &[&str], overrides: &[&str]) -> Vec<Body> {
        let p: Vec<Body> = primary.iter().map(|t| parse(t).unwrap()).collect();
        let o: Vec<Body> = overrides.iter().map(|t| parse(t).unwrap()).collect();
        merge_overrides(p, &o.iter().collect::<Vec<_>>())
    }

    fn judged_bodies(bodies: &[Body]) -> Vec<(String, Judgement)> {
        let module = Module {
            bodies: bodies.iter().collect(),
            locals: Vec::new(),
        };
        evaluate(&module, &Configuration::defaults())
            .resources
            .iter()
            .map(|r| (r.id.clone(), judge(r)))
            .collect()
    }

    #[test]
    fn override_file_names_are_recognised() {
        for yes in [
            "override.tf",
            "main_override.tf",
            "X_OVERRIDE.TF",
            "a_override.tf.json",
        ] {
            assert!(is_override(yes), "{yes}");
        }
        for no in [
            "overrides.tf",
            "main-override.tf",
            "override.tfvars",
            "myoverride.tf",
        ] {
            assert!(!is_override(no), "{no}");
        }
    }

    #[test]
    fn overrides_merge_arguments_replace_nested_blocks_and_stack_in_order() {
        let base = r#"
variable "r" { default = true }
locals {
  x = 1
  y = true
}
resource "azurerm_kubernetes_cluster" "a" {
  count = 1
  key_vault_secrets_provider {
    secret_rotation_enabled = local.y
  }
  lifecycle {
    ignore_changes = [tags]
  }
}
resource "azurerm_kubernetes_cluster" "b" {
  dynamic "key_vault_secrets_provider" {
    for_each = [1]
    content { secret_rotation_enabled = true }
  }
}
"#;
        // A static block replaces a dynamic one of the same type; `lifecycle` merges.
        let first = r#"
locals { y = false }
resource "azurerm_kubernetes_cluster" "a" {
  lifecycle { prevent_destroy = true }
}
resource "azurerm_kubernetes_cluster" "b" {
  key_vault_secrets_provider { secret_rotation_interval = "5m" }
}
resource "azurerm_kubernetes_cluster" "missing_base" {
  key_vault_secrets_provider {}
}
"#;
        let second = r#"
locals { y = true }
resource "azurerm_kubernetes_cluster" "a" { count = 0 }
"#;
        let one = merged(&[base], &[first]);
        let j = judged_bodies(&one);
        assert_eq!(j.len(), 2, "the block without a base is left out: {j:?}");
        assert!(matches!(j[0].1, Judgement::Fail { .. }), "{j:?}");
        assert!(matches!(j[1].1, Judgement::Fail { .. }), "{j:?}");
        let Item::Block(a) = &one[0].items[2] else {
            panic!()
        };
        let life = a.body.blocks("lifecycle").next().unwrap();
        assert!(life.body.attr("ignore_changes").is_some());
        assert!(life.body.attr("prevent_destroy").is_some());
        // The second override stacks on the first: its `count = 0` deploys nothing.
        let two = merged(&[base], &[first, second]);
        let j = judged_bodies(&two);
        assert_eq!(j[0].1, Judgement::NotDeployed, "{j:?}");
    }

    #[test]
    fn local_calls_are_evaluated_per_instance_and_through_nested_calls() {
        let caller = parse(
            r#"
module "m" {
  source   = "./a"
  for_each = { on = true, off = false }
  csi      = each.value
}
module "z" {
  source = "./a"
  count  = 0
}
"#,
        )
        .unwrap();
        let a = parse(
            r#"
variable "csi" { default = true }
module "inner" {
  source = "./b"
  csi    = var.csi
}
"#,
        )
        .unwrap();
        let b = parse(
            r#"
variable "csi" {}
resource "azurerm_kubernetes_cluster" "c" {
  dynamic "key_vault_secrets_provider" {
    for_each = var.csi ? [1] : []
    content {}
  }
}
"#,
        )
        .unwrap();
        let inner = Module {
            bodies: vec![&b],
            locals: Vec::new(),
        };
        let outer = Module {
            bodies: vec![&a],
            locals: vec![("./b".to_string(), inner)],
        };
        let module = Module {
            bodies: vec![&caller],
            locals: vec![("./a".to_string(), outer)],
        };
        let d = evaluate(&module, &Configuration::defaults());
        let got: Vec<(String, Judgement)> = d
            .resources
            .iter()
            .map(|r| (r.id.clone(), judge(r)))
            .collect();
        let ids: Vec<&str> = got.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(
            ids,
            [
                "module.m[\"on\"].module.inner.azurerm_kubernetes_cluster.c",
                "module.m[\"off\"].module.inner.azurerm_kubernetes_cluster.c",
                "module.z.module.inner.azurerm_kubernetes_cluster.c",
            ]
        );
        assert!(matches!(got[0].1, Judgement::Fail { .. }), "{got:?}");
        assert_eq!(got[1].1, Judgement::NotApplicable);
        assert_eq!(got[2].1, Judgement::NotDeployed);
        assert!(d.resources.iter().all(|r| r.origin[2] != "inner"));
    }
}
