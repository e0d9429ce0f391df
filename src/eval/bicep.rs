//! Evaluates a Bicep file (or a `.bicepparam` file's values) into a [`Deployment`], laid out
//! in the ARM shape of [`crate::lang::bicep::view`]: parameters from a [`Configuration`] or their
//! defaults, variables lazily, resources per `if` and `for`, module calls as nested
//! deployments (expanded when a [`ModuleSource`] has the callee), outputs, user-defined
//! functions, and names imported from files the [`ModuleSource`] has. Expressions
//! are read by the private `bicep_expr`; operators are the ARM functions Bicep compiles them
//! to, from the one table in [`super::functions`]; declared types are read by the private
//! `bicep_types` and checked with [`super::types::check`]. What cannot be known offline is
//! an Unknown that says why.

use super::bicep_expr::{self, Entry, Expr, Part, E};
use super::bicep_types;
use super::deployment::{Configuration, Deployment, Resource};
use super::functions;
use super::load;
use super::types::{self, DeclaredType};
use super::value::{Object, Value};
use super::MAX_DEPTH;
use crate::lang::bicep::ast::{Decl, Decorator, Doc, Func, Kind, NodeId, Span};
use crate::lang::bicep::lexer::{lex, Tok};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The type of a module call: a nested deployment.
const DEPLOYMENTS: &str = "Microsoft.Resources/deployments";

/// Finds the Bicep file a module call (or an `import … from`) refers to.
pub(crate) trait ModuleSource {
    /// The parsed callee and its text, for a module's path or reference as written (relative
    /// to the calling file); `None` when it is not on hand (a registry module, a missing file).
    fn load(&self, target: &str) -> Option<(Doc, String)>;

    /// The bytes of a file a `load*Content` function reads, for its path as written (relative
    /// to the top file's folder, as [`ModuleSource::load`]); `None` when it cannot be read.
    fn read(&self, _target: &str) -> Option<Vec<u8>> {
        None
    }
}

/// A [`ModuleSource`] that has no modules: every module call stays unexpanded.
pub(crate) struct NoModules;

impl ModuleSource for NoModules {
    fn load(&self, _target: &str) -> Option<(Doc, String)> {
        None
    }
}

/// Evaluates a parsed Bicep file with `config`'s parameter values.
pub(crate) fn evaluate(
    doc: &Doc,
    text: &str,
    config: &Configuration,
    modules: &dyn ModuleSource,
) -> Deployment {
    let calls = Calls {
        files: RefCell::new(vec![text.to_string()]),
        expansions: Cell::new(0),
    };
    Ev::new(doc, text, config, modules, &calls, 0).run()
}

/// Evaluates single values of one file with the defaults (module calls unexpanded), for the
/// provenance reader ([`super::bicep_origin`]): the conditions it decides and the spelling of
/// the places it may write. Each question starts a fresh evaluation (parameters and
/// variables on demand), so a probe holds no borrowed state.
pub(crate) struct Probe<'a> {
    doc: &'a Doc,
    text: &'a str,
    defaults: Configuration,
}

impl<'a> Probe<'a> {
    pub(crate) fn new(doc: &'a Doc, text: &'a str) -> Probe<'a> {
        Probe {
            doc,
            text,
            defaults: Configuration::defaults(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&Ev) -> T) -> T {
        let calls = Calls {
            files: RefCell::new(vec![self.text.to_string()]),
            expansions: Cell::new(0),
        };
        let ev = Ev::new(self.doc, self.text, &self.defaults, &NoModules, &calls, 0);
        f(&ev)
    }

    /// The value of node `id` with the defaults; `locals` (loop variables in scope) are
    /// Unknown.
    pub(crate) fn value(&self, id: NodeId, locals: &[String]) -> Value {
        let scope = Scope {
            names: locals
                .iter()
                .map(|n| (n.clone(), Value::unknown(format!("loop variable `{n}`"))))
                .collect(),
            up: None,
        };
        self.with(|ev| ev.eval_node(id, &scope))
    }

    /// Whether parameter `name`'s declared type (with its decorators and literal or alias
    /// types) admits `v`; `None` when no such parameter is declared.
    pub(crate) fn parameter_admits(&self, name: &str, v: &Value) -> Option<bool> {
        let p = self.doc.params.iter().find(|p| p.name == name)?;
        self.with(|ev| {
            let ty = ev.declared_type(&p.type_text, &p.decorators, 0);
            Some(types::check(&ty, v).is_ok())
        })
    }
}

/// The depth a module call adds: evaluating a callee takes some four times the stack of one
/// level of an expression, so modules nest at most `MAX_DEPTH / MODULE_DEPTH` deep.
const MODULE_DEPTH: usize = 4;

/// Most module calls one evaluation expands (loop iterations and nested calls included):
/// files that call each other several times over would otherwise take exponential time.
const MAX_EXPANSIONS: usize = 10_000;

/// What the module calls of one evaluation share.
struct Calls {
    /// Texts of the files being evaluated, outermost first: a callee among them calls
    /// itself and is not expanded again.
    files: RefCell<Vec<String>>,
    /// Module calls expanded so far.
    expansions: Cell<usize>,
}

/// The parameter values a `.bicepparam` file gives (`param x = value`, evaluated; it may use
/// its `var`s). `readEnvironmentVariable('X', default)` is its default; without a default it
/// is Unknown. Parameters the file declares without a value are left to the template.
pub(crate) fn configuration_from_bicepparam(name: &str, doc: &Doc, text: &str) -> Configuration {
    let defaults = Configuration::defaults();
    let calls = Calls {
        files: RefCell::new(Vec::new()),
        expansions: Cell::new(0),
    };
    let ev = Ev::new(doc, text, &defaults, &NoModules, &calls, 0);
    let values = doc
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.default.is_some())
        .map(|(i, p)| (p.name.clone(), ev.param(i)))
        .collect();
    Configuration {
        name: name.to_string(),
        values,
    }
}

/// The folders of `path` (its last step dropped), with `.` and `name/..` steps taken.
fn folder_steps(path: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    let mut steps: Vec<&str> = Vec::new();
    for part in parts {
        match part {
            "" | "." => {}
            ".." if steps.last().is_some_and(|s| *s != "..") => {
                steps.pop();
            }
            p => steps.push(p),
        }
    }
    steps
}

/// A file a [`ModuleSource`] loaded, or `None` when it is not on hand.
type Loaded = Option<Rc<(Doc, String)>>;

/// A lazily computed value: parameters, variables.
#[derive(Clone)]
enum Slot {
    Todo,
    Busy,
    Done(Value),
}

/// A module call, evaluated once.
struct ModuleEval {
    /// What the module's symbolic name evaluates to: `{name, outputs}` (an array of them for
    /// a loop), or an Unknown when its template is not evaluated.
    value: Value,
    /// The module's deployment parts, each iteration followed by what its callee deployed.
    part: Deployment,
}

/// Loop variables (and nothing else: Bicep has no other local names).
struct Scope<'s> {
    names: Vec<(String, Value)>,
    up: Option<&'s Scope<'s>>,
}

impl Scope<'_> {
    const ROOT: Scope<'static> = Scope {
        names: Vec::new(),
        up: None,
    };

    fn get(&self, name: &str) -> Option<&Value> {
        match self.names.iter().find(|(n, _)| n == name) {
            Some((_, v)) => Some(v),
            None => self.up?.get(name),
        }
    }
}

/// One iteration of a resource or module declaration: its identity, its loop variables and
/// its condition.
struct Iteration {
    id: String,
    copy_index: Option<usize>,
    names: Vec<(String, Value)>,
    condition: Value,
    body: Expr,
}

struct Ev<'a> {
    doc: &'a Doc,
    text: &'a str,
    config: &'a Configuration,
    modules: &'a dyn ModuleSource,
    calls: &'a Calls,
    /// Current recursion depth (a module's evaluation starts below its caller's).
    depth: Cell<usize>,
    params: RefCell<Vec<Slot>>,
    vars: RefCell<Vec<Slot>>,
    module_evals: RefCell<Vec<Option<Rc<ModuleEval>>>>,
    /// Modules being evaluated (a module whose arguments use its own outputs).
    module_busy: RefCell<Vec<bool>>,
    /// Files of `import`s, loaded once (`Some(None)`: not on hand).
    imported: RefCell<Vec<Option<Loaded>>>,
    /// Values of imported names, by the name used here.
    imported_values: RefCell<Vec<(String, Value)>>,
    violations: RefCell<Vec<String>>,
    /// The folder of this file relative to the top file's folder (`""` for the top file,
    /// `"modules/"` for a module it calls there): a callee's own paths are relative to it.
    base: String,
}

impl<'a> Ev<'a> {
    fn new(
        doc: &'a Doc,
        text: &'a str,
        config: &'a Configuration,
        modules: &'a dyn ModuleSource,
        calls: &'a Calls,
        depth: usize,
    ) -> Ev<'a> {
        Ev {
            doc,
            text,
            config,
            modules,
            calls,
            depth: Cell::new(depth),
            params: RefCell::new(vec![Slot::Todo; doc.params.len()]),
            vars: RefCell::new(vec![Slot::Todo; doc.vars.len()]),
            module_evals: RefCell::new(vec![None; doc.modules.len()]),
            module_busy: RefCell::new(vec![false; doc.modules.len()]),
            imported: RefCell::new(vec![None; doc.imports.len()]),
            imported_values: RefCell::new(Vec::new()),
            violations: RefCell::new(Vec::new()),
            base: String::new(),
        }
    }

    /// A path as written in this file, relative to the top file's folder (`.` and `name/..`
    /// steps taken); a registry or template-spec reference as it is.
    fn resolve(&self, target: &str) -> String {
        let t = target.to_ascii_lowercase();
        if self.base.is_empty()
            || ["br:", "br/", "ts:", "ts/"]
                .iter()
                .any(|p| t.starts_with(p))
        {
            return target.to_string();
        }
        let full = format!("{}{target}", self.base);
        let mut steps = folder_steps(&full);
        steps.push(target.rsplit('/').next().unwrap_or(target));
        steps.join("/")
    }

    /// The `base` of a file at `target` as written in this file: `""` for this file's folder,
    /// else its folder relative to the top file's (`"modules/"`).
    fn base_of(&self, target: &str) -> String {
        folder_steps(&format!("{}{target}", self.base))
            .iter()
            .map(|s| format!("{s}/"))
            .collect()
    }

    fn run(self) -> Deployment {
        let mut d = Deployment::default();
        for (i, p) in self.doc.params.iter().enumerate() {
            d.parameters.push((p.name.clone(), self.param(i)));
        }
        // Resources and modules in source order.
        let mut decls: Vec<(usize, bool, usize)> = (0..self.doc.resources.len())
            .map(|i| (self.doc.resources[i].name_span.start, false, i))
            .chain(
                (0..self.doc.modules.len()).map(|i| (self.doc.modules[i].name_span.start, true, i)),
            )
            .collect();
        decls.sort();
        for (_, module, i) in decls {
            if module {
                let m = self.module(i);
                d.resources.extend(m.part.resources.iter().cloned());
                d.parameters.extend(m.part.parameters.iter().cloned());
                d.outputs.extend(m.part.outputs.iter().cloned());
                self.violations
                    .borrow_mut()
                    .extend(m.part.violations.iter().cloned());
            } else {
                d.resources.extend(self.resource(i));
            }
        }
        // Outputs' declared types are not checked: one is mostly broken by a parameter's
        // violation, already reported, which a second message would only repeat.
        for o in &self.doc.outputs {
            let v = self.eval_node(o.value, &Scope::ROOT);
            d.outputs.push((o.name.clone(), v));
        }
        d.violations = self.violations.take();
        d
    }

    fn parse_node(&self, id: NodeId) -> Expr {
        match self.doc.nodes.get(id) {
            Some(n) => bicep_expr::parse(self.text, n.span),
            None => Expr {
                span: Span { start: 0, end: 0 },
                kind: E::Unknown("a value missing from the syntax tree".into()),
            },
        }
    }

    fn eval_node(&self, id: NodeId, scope: &Scope) -> Value {
        self.eval(&self.parse_node(id), scope)
    }

    fn src(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    // ---- declarations ----

    /// Parameter `i`: its configured value, else its default, else Unknown; checked
    /// against its declared type once.
    fn param(&self, i: usize) -> Value {
        let p = &self.doc.params[i];
        match &self.params.borrow()[i] {
            Slot::Done(v) => return v.clone(),
            Slot::Busy => {
                return Value::unknown(format!("parameter `{}` refers to itself", p.name))
            }
            Slot::Todo => {}
        }
        self.params.borrow_mut()[i] = Slot::Busy;
        let ty = self.declared_type(&p.type_text, &p.decorators, 0);
        let v = match (self.config.value(&p.name), p.default) {
            // The engine takes a null value as none given: the default applies (how a module
            // call leaves an optional parameter to its default: `p: cond ? x : null`).
            (Some(Value::Null), Some(d)) => self.eval_node(d, &Scope::ROOT),
            (Some(v), _) => v.clone(),
            (None, Some(d)) => self.eval_node(d, &Scope::ROOT),
            // A nullable parameter is optional: null when not given.
            (None, None) if ty.nullable => Value::Null,
            (None, None) => Value::unknown(format!("parameter `{}` has no value", p.name)),
        };
        if let Err(e) = types::check_named(&format!("parameter `{}`", p.name), &ty, &v) {
            self.violations.borrow_mut().push(e);
        }
        self.params.borrow_mut()[i] = Slot::Done(v.clone());
        v
    }

    fn var(&self, i: usize) -> Value {
        let var = &self.doc.vars[i];
        match &self.vars.borrow()[i] {
            Slot::Done(v) => return v.clone(),
            Slot::Busy => {
                return Value::unknown(format!("variable `{}` refers to itself", var.name))
            }
            Slot::Todo => {}
        }
        self.vars.borrow_mut()[i] = Slot::Busy;
        let v = self.eval_node(var.value, &Scope::ROOT);
        self.vars.borrow_mut()[i] = Slot::Done(v.clone());
        v
    }

    /// A declared type: the type's text (see [`bicep_types`]) narrowed by the declaration's
    /// decorators.
    fn declared_type(&self, text: &str, decorators: &[Decorator], depth: usize) -> DeclaredType {
        let budget = Cell::new(bicep_types::BUDGET);
        let mut ty = bicep_types::read(self, text, depth, &budget);
        for d in decorators {
            let args: Vec<Value> = d
                .args
                .iter()
                .map(|a| self.eval_node(*a, &Scope::ROOT))
                .collect();
            bicep_types::decorate(&mut ty, &d.name, &args);
        }
        ty
    }

    /// A `type` declaration's type, with its decorators.
    fn alias(&self, name: &str, depth: usize, budget: &Cell<usize>) -> Option<DeclaredType> {
        let Some(t) = self.doc.types.iter().find(|t| t.name == name) else {
            // An imported type (not through a namespace: `ns.t` is not followed).
            let (i, exported) = self
                .doc
                .imports
                .iter()
                .enumerate()
                .find_map(|(i, import)| {
                    let (e, _) = import.names.iter().find(|(_, l)| l == name)?;
                    Some((i, e.clone()))
                })?;
            return self
                .in_import(i, name, |ev| ev.alias(&exported, depth, budget))
                .ok()
                .flatten();
        };
        let mut ty = bicep_types::read(self, &t.text, depth + bicep_types::ALIAS_DEPTH, budget);
        for d in &t.decorators {
            let args: Vec<Value> = d
                .args
                .iter()
                .map(|a| self.eval_node(*a, &Scope::ROOT))
                .collect();
            bicep_types::decorate(&mut ty, &d.name, &args);
        }
        Some(ty)
    }

    /// Resource `i`: one [`Resource`] per iteration.
    fn resource(&self, i: usize) -> Vec<Resource> {
        let decl = &self.doc.resources[i];
        let symbolic = self.doc.symbolic_name(i);
        let parent_condition = decl.parent.map(|p| self.resource_condition(p));
        let parent_name = decl.parent.map(|p| self.resource_name(p));
        self.iterations(&symbolic, decl)
            .into_iter()
            .map(|it| {
                let scope = Scope {
                    names: it.names,
                    up: None,
                };
                let mut condition = it.condition;
                if let Some(pc) = &parent_condition {
                    condition = both(pc, &condition);
                }
                let mut body = Object::new();
                body.insert("type", Value::str(decl.type_name()));
                body.insert("apiVersion", Value::str(decl.api_version()));
                if decl.existing {
                    body.insert("existing", Value::Bool(true));
                }
                match self.eval(&it.body, &scope) {
                    Value::Object(o) => {
                        for (k, v) in o.members {
                            body.insert(k, v);
                        }
                    }
                    other => body.insert("body", other),
                }
                let body = Value::Object(body);
                let mut name = name_of(&body, &symbolic);
                if let Some(parent) = &parent_name {
                    name =
                        functions::call("format", &[Value::str("{0}/{1}"), parent.clone(), name]);
                }
                Resource {
                    id: it.id,
                    origin: vec!["resources".into(), symbolic.clone()],
                    copy_index: it.copy_index,
                    kind: Value::str(decl.type_name()),
                    name,
                    condition,
                    existing: decl.existing,
                    expanded: false,
                    body,
                }
            })
            .collect()
    }

    /// The full name of resource `i` (for its nested children): `parent/child` for a nested
    /// child, as the engine names it.
    fn resource_name(&self, i: usize) -> Value {
        let decl = &self.doc.resources[i];
        let body = self.parse_node(decl.body);
        if let E::For { .. } = body.kind {
            return Value::unknown(format!("the name of a child of the loop `{}`", decl.name));
        }
        let (_, body) = self.unwrap_if(body, &Scope::ROOT);
        let own = name_of(&self.eval(&body, &Scope::ROOT), &decl.name);
        match decl.parent {
            Some(p) => functions::call(
                "format",
                &[Value::str("{0}/{1}"), self.resource_name(p), own],
            ),
            None => own,
        }
    }

    /// The condition of resource `i` (for its nested children): its `if`, and its parent's.
    fn resource_condition(&self, i: usize) -> Value {
        let decl = &self.doc.resources[i];
        let own = match self.parse_node(decl.body).kind {
            E::If { cond, .. } => self.eval(&cond, &Scope::ROOT),
            E::For { .. } => Value::unknown(format!(
                "the condition of a child of the loop `{}`",
                decl.name
            )),
            _ => Value::Bool(true),
        };
        match decl.parent {
            Some(p) => both(&self.resource_condition(p), &own),
            None => own,
        }
    }

    /// The iterations of a resource or module body: one, or one per item of a `for` loop's
    /// array; a loop over an Unknown array is one iteration whose condition and loop
    /// variables are Unknown.
    fn iterations(&self, symbolic: &str, decl: &Decl) -> Vec<Iteration> {
        let body = self.parse_node(decl.body);
        let E::For {
            names,
            source,
            body,
        } = body.kind
        else {
            let (condition, body) = self.unwrap_if(body, &Scope::ROOT);
            return vec![Iteration {
                id: symbolic.to_string(),
                copy_index: None,
                names: Vec::new(),
                condition,
                body,
            }];
        };
        let items = self.eval(&source, &Scope::ROOT);
        let Value::Array(items) = items else {
            let why = match &items {
                Value::Unknown(u) => u.reason.to_string(),
                v => format!(
                    "`{}` is {}, not an array",
                    self.src(source.span),
                    v.type_name()
                ),
            };
            let names = names
                .iter()
                .map(|n| {
                    let v = Value::unknown(format!("`{n}` of a loop over {why}"));
                    (n.clone(), v)
                })
                .collect();
            let scope = Scope { names, up: None };
            let (_, inner) = self.unwrap_if(*body, &scope);
            return vec![Iteration {
                id: format!("{symbolic}[*]"),
                copy_index: None,
                names: scope.names,
                condition: Value::unknown(format!("a loop over {why}")),
                body: inner,
            }];
        };
        items
            .into_iter()
            .enumerate()
            .map(|(n, item)| {
                let mut vars = vec![(names[0].clone(), item)];
                if let Some(index) = names.get(1) {
                    vars.push((index.clone(), Value::Int(n as i64)));
                }
                let scope = Scope {
                    names: vars,
                    up: None,
                };
                let (condition, inner) = self.unwrap_if((*body).clone(), &scope);
                Iteration {
                    id: format!("{symbolic}[{n}]"),
                    copy_index: Some(n),
                    names: scope.names,
                    condition,
                    body: inner,
                }
            })
            .collect()
    }

    /// The condition of `if (cond) body` and its body; `true` and the expression itself
    /// otherwise.
    fn unwrap_if(&self, e: Expr, scope: &Scope) -> (Value, Expr) {
        match e.kind {
            E::If { cond, body } => (self.eval(&cond, scope), *body),
            _ => (Value::Bool(true), e),
        }
    }

    /// Module `i`, evaluated once: its deployment resources, and what its callee deployed
    /// when the callee is on hand.
    fn module(&self, i: usize) -> Rc<ModuleEval> {
        if let Some(m) = &self.module_evals.borrow()[i] {
            return m.clone();
        }
        let decl = &self.doc.modules[i];
        if self.module_busy.borrow()[i] {
            return Rc::new(ModuleEval {
                value: Value::unknown(format!("module `{}` uses its own outputs", decl.name)),
                part: Deployment::default(),
            });
        }
        self.module_busy.borrow_mut()[i] = true;
        let callee = if self.depth.get() + MODULE_DEPTH < MAX_DEPTH {
            self.modules.load(&self.resolve(&decl.target))
        } else {
            None
        };
        let mut part = Deployment::default();
        let mut values = Vec::new();
        let iterations = self.iterations(&decl.name, decl);
        let looped = matches!(self.doc.node(decl.body).kind, Kind::For { .. });
        let unknown_loop = iterations
            .first()
            .filter(|it| it.copy_index.is_none() && looped);
        let unknown_loop_reason = unknown_loop.map(|it| it.condition.clone());
        for it in iterations {
            let scope = Scope {
                names: it.names,
                up: None,
            };
            let evaluated = self.eval(&it.body, &scope);
            let (resource, value, nested) = self.module_call(
                decl,
                &it.id,
                it.copy_index,
                &it.condition,
                evaluated,
                callee.as_ref(),
            );
            part.resources.push(resource);
            if let Some(nested) = nested {
                part.resources.extend(nested.resources);
                part.parameters.extend(nested.parameters);
                part.outputs.extend(nested.outputs);
                part.violations.extend(nested.violations);
            }
            values.push(value);
        }
        let value = match (looped, unknown_loop_reason) {
            (true, Some(Value::Unknown(u))) => Value::Unknown(u),
            (true, _) => Value::Array(values),
            (false, _) => values.pop().unwrap_or(Value::Null),
        };
        let m = Rc::new(ModuleEval { value, part });
        self.module_busy.borrow_mut()[i] = false;
        self.module_evals.borrow_mut()[i] = Some(m.clone());
        m
    }

    /// One iteration of a module call: its deployment resource, what its symbolic name
    /// evaluates to, and the callee's evaluated deployment with names under `id`.
    fn module_call(
        &self,
        decl: &Decl,
        id: &str,
        copy_index: Option<usize>,
        condition: &Value,
        evaluated: Value,
        callee: Option<&(Doc, String)>,
    ) -> (Resource, Value, Option<Deployment>) {
        let mut body = Object::new();
        body.insert("type", Value::str(DEPLOYMENTS));
        body.insert("module", Value::str(&decl.target));
        let mut args = Value::Object(Object::new());
        match evaluated {
            Value::Object(o) => {
                for (k, v) in o.members {
                    if k == "params" {
                        args = v;
                    } else {
                        body.insert(k, v);
                    }
                }
            }
            other => body.insert("body", other),
        }
        let parameters = match &args {
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| {
                        let wrapped: Object =
                            [("value".to_string(), v.clone())].into_iter().collect();
                        (k.to_string(), Value::Object(wrapped))
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        let mut properties = Object::new();
        properties.insert("parameters", parameters);
        body.insert("properties", Value::Object(properties));
        let body = Value::Object(body);
        let mut resource = Resource {
            id: id.to_string(),
            origin: vec!["resources".into(), decl.name.clone()],
            copy_index,
            kind: Value::str(DEPLOYMENTS),
            name: name_of(&body, &decl.name),
            condition: condition.clone(),
            existing: false,
            expanded: false,
            body,
        };
        let Some((cdoc, ctext)) = callee.filter(|(_, t)| {
            self.calls.expansions.get() < MAX_EXPANSIONS
                && !self.calls.files.borrow().iter().any(|f| f == t)
        }) else {
            return (resource, Value::unknown(id), None);
        };
        let values = cdoc
            .params
            .iter()
            .filter_map(|p| match &args {
                Value::Object(o) => o.get(&p.name).map(|v| (p.name.clone(), v.clone())),
                Value::Unknown(u) => Some((p.name.clone(), Value::Unknown(u.clone()))),
                other => Some((
                    p.name.clone(),
                    Value::unknown(format!(
                        "`params` of module `{id}` is {}",
                        other.type_name()
                    )),
                )),
            })
            .collect();
        let config = Configuration {
            name: format!("{} / module {id}", self.config.name),
            values,
        };
        self.calls.files.borrow_mut().push(ctext.clone());
        self.calls.expansions.set(self.calls.expansions.get() + 1);
        let mut inner = Ev::new(
            cdoc,
            ctext,
            &config,
            self.modules,
            self.calls,
            self.depth.get() + MODULE_DEPTH,
        );
        inner.base = self.base_of(&decl.target);
        let inner = inner.run();
        self.calls.files.borrow_mut().pop();
        resource.expanded = true;
        let mut outputs = Object::new();
        for (k, v) in &inner.outputs {
            if !k.contains('/') && !k.contains('.') {
                outputs.insert(k.clone(), v.clone());
            }
        }
        let mut value = Object::new();
        value.insert("name", resource.name.clone());
        value.insert("outputs", Value::Object(outputs));
        let nested = Deployment {
            parameters: inner
                .parameters
                .into_iter()
                .map(|(k, v)| (nested_name(id, &k), v))
                .collect(),
            resources: inner
                .resources
                .into_iter()
                .map(|mut r| {
                    r.id = format!("{id}/{}", r.id);
                    let mut origin = vec!["resources".to_string(), decl.name.clone()];
                    origin.append(&mut r.origin);
                    r.origin = origin;
                    r.condition = both(condition, &r.condition);
                    r
                })
                .collect(),
            outputs: inner
                .outputs
                .into_iter()
                .map(|(k, v)| (nested_name(id, &k), v))
                .collect(),
            // A deployment that is not deployed is not validated either.
            violations: match condition {
                Value::Bool(false) => Vec::new(),
                _ => inner
                    .violations
                    .into_iter()
                    .map(|v| format!("module `{id}` {v}"))
                    .collect(),
            },
        };
        (resource, Value::Object(value), Some(nested))
    }

    // ---- expressions ----

    fn eval(&self, e: &Expr, scope: &Scope) -> Value {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Value::unknown(format!(
                "`{}` is nested deeper than {MAX_DEPTH} levels",
                bicep_expr::shorten(self.src(e.span))
            ));
        }
        self.depth.set(depth + 1);
        let v = self.eval_inner(e, scope);
        self.depth.set(depth);
        v
    }

    fn eval_inner(&self, e: &Expr, scope: &Scope) -> Value {
        match &e.kind {
            E::Null => Value::Null,
            E::Bool(b) => Value::Bool(*b),
            E::Int(i) => Value::Int(*i),
            E::Str(s) => Value::Str(s.clone()),
            E::Interp(parts) => self.interpolation(parts, scope),
            E::Array(items) => {
                let mut out = Vec::new();
                for (spread, item) in items {
                    let v = self.eval(item, scope);
                    if !spread {
                        out.push(v);
                        continue;
                    }
                    match v {
                        Value::Array(a) => out.extend(a),
                        Value::Unknown(u) => {
                            return Value::unknown(format!("an array spreading {}", u.reason))
                        }
                        v => {
                            return Value::unknown(format!(
                                "`...{}` spreads {}, not an array",
                                self.src(item.span),
                                v.type_name()
                            ))
                        }
                    }
                }
                Value::Array(out)
            }
            E::Object(entries) => self.object(entries, scope),
            E::Ident(name) => self.lookup(name, scope),
            E::Call { name, args } => self.call(name, args, scope),
            E::Member { target, name, safe } => {
                let t = self.eval(target, scope);
                match (&t, safe) {
                    (Value::Null, true) => Value::Null,
                    (Value::Unknown(u), true) => Value::unknown(format!("{}.?{name}", u.reason)),
                    (Value::Object(o), true) => o.get(name).cloned().unwrap_or(Value::Null),
                    _ => functions::member(&t, name),
                }
            }
            E::Index {
                target,
                index,
                safe,
            } => {
                let t = self.eval(target, scope);
                let i = self.eval(index, scope);
                if *safe {
                    match (&t, &i) {
                        (Value::Null, _) => return Value::Null,
                        (Value::Unknown(u), _) => {
                            return Value::unknown(format!(
                                "{}[?{}]",
                                u.reason,
                                functions::render(&i)
                            ))
                        }
                        (Value::Object(o), Value::Str(k)) => {
                            return o.get(k).cloned().unwrap_or(Value::Null)
                        }
                        (Value::Array(a), Value::Int(n)) => {
                            return usize::try_from(*n)
                                .ok()
                                .and_then(|n| a.get(n))
                                .cloned()
                                .unwrap_or(Value::Null)
                        }
                        _ => {}
                    }
                }
                functions::index(&t, &i)
            }
            E::NonNull(t) => self.eval(t, scope),
            E::Not(t) => functions::call("not", &[self.eval(t, scope)]),
            E::Neg(t) => match self.eval(t, scope) {
                Value::Int(i) => match i.checked_neg() {
                    Some(n) => Value::Int(n),
                    None => Value::unknown(format!("-({i}) overflows")),
                },
                v => functions::call("sub", &[Value::Int(0), v]),
            },
            E::Binary { op, left, right } => self.binary(op, left, right, scope),
            E::Ternary { cond, then, other } => {
                let c = self.eval(cond, scope);
                functions::if_lazy(&c, || self.eval(then, scope), || self.eval(other, scope))
            }
            E::For {
                names,
                source,
                body,
            } => self.for_value(names, source, body, scope),
            E::If { cond, body } => {
                let c = self.eval(cond, scope);
                match c {
                    Value::Bool(true) => self.eval(body, scope),
                    _ => Value::unknown(format!(
                        "`{}` outside a resource body",
                        bicep_expr::shorten(self.src(e.span))
                    )),
                }
            }
            E::Unknown(why) => Value::unknown(why.clone()),
        }
    }

    /// `'a${x}b'` as Bicep compiles it: `format('a{0}b', x)`.
    fn interpolation(&self, parts: &[Part], scope: &Scope) -> Value {
        let mut format = String::new();
        let mut args = vec![Value::Null];
        for p in parts {
            match p {
                Part::Text(t) => format.push_str(&t.replace('{', "{{").replace('}', "}}")),
                Part::Hole(h) => {
                    format.push_str(&format!("{{{}}}", args.len() - 1));
                    args.push(self.eval(h, scope));
                }
            }
        }
        args[0] = Value::Str(format);
        functions::call("format", &args)
    }

    fn object(&self, entries: &[Entry], scope: &Scope) -> Value {
        let mut out = Object::new();
        for entry in entries {
            match entry {
                Entry::Member(k, v) => {
                    let key = match self.eval(k, scope) {
                        Value::Str(s) => s,
                        Value::Unknown(u) => {
                            return Value::unknown(format!("an object with the key {}", u.reason))
                        }
                        other => {
                            return Value::unknown(format!(
                                "an object with the key {}, not a string",
                                other.type_name()
                            ))
                        }
                    };
                    out.insert(key, self.eval(v, scope));
                }
                Entry::Spread(v) => match self.eval(v, scope) {
                    Value::Object(o) => {
                        for (k, v) in o.members {
                            out.insert(k, v);
                        }
                    }
                    Value::Unknown(u) => {
                        return Value::unknown(format!("an object spreading {}", u.reason))
                    }
                    other => {
                        return Value::unknown(format!(
                            "`...{}` spreads {}, not an object",
                            self.src(v.span),
                            other.type_name()
                        ))
                    }
                },
            }
        }
        Value::Object(out)
    }

    /// A name: a loop variable, a parameter, a variable, a resource (known only at deploy
    /// time: an Unknown whose reason is its name, so `aks.properties.x` reads as written),
    /// or a module.
    fn lookup(&self, name: &str, scope: &Scope) -> Value {
        if let Some(v) = scope.get(name) {
            return v.clone();
        }
        if let Some(i) = self.doc.params.iter().position(|p| p.name == name) {
            return self.param(i);
        }
        if let Some(i) = self.doc.vars.iter().position(|v| v.name == name) {
            return self.var(i);
        }
        if self
            .doc
            .resources
            .iter()
            .any(|r| r.parent.is_none() && r.name == name)
        {
            return Value::unknown(name);
        }
        if let Some(i) = self.doc.modules.iter().position(|m| m.name == name) {
            return self.module(i).value.clone();
        }
        if let Some(v) = self
            .imported_values
            .borrow()
            .iter()
            .find(|(n, _)| n == name)
        {
            return v.1.clone();
        }
        for (i, import) in self.doc.imports.iter().enumerate() {
            let v = if let Some((exported, _)) = import.names.iter().find(|(_, l)| l == name) {
                self.in_import(i, name, |ev| ev.lookup(exported, &Scope::ROOT))
            } else if import.namespace.as_deref() == Some(name) {
                // A namespace: its file's variables (functions are called as `ns.f()`).
                self.in_import(i, name, |ev| {
                    Value::Object(
                        (0..ev.doc.vars.len())
                            .map(|j| (ev.doc.vars[j].name.clone(), ev.var(j)))
                            .collect(),
                    )
                })
            } else {
                continue;
            };
            let v = v.unwrap_or_else(|unknown| unknown);
            self.imported_values
                .borrow_mut()
                .push((name.to_string(), v.clone()));
            return v;
        }
        Value::unknown(format!("`{name}` is not declared in this file"))
    }

    fn call(&self, name: &str, args: &[Expr], scope: &Scope) -> Value {
        if let Some(f) = self.doc.funcs.iter().find(|f| f.name == name) {
            let values = args.iter().map(|a| self.eval(a, scope)).collect();
            return self.user_function(f, values);
        }
        if let Some(v) = self.imported_function(name, args, scope) {
            return v;
        }
        if name.contains('.') {
            return Value::unknown(format!(
                "`{name}(…)` calls a method of a resource or a namespace, which is not \
                 evaluated offline"
            ));
        }
        // Lazy functions evaluate only what the engine would.
        match name.to_ascii_lowercase().as_str() {
            "if" if args.len() == 3 => {
                let c = self.eval(&args[0], scope);
                return functions::if_lazy(
                    &c,
                    || self.eval(&args[1], scope),
                    || self.eval(&args[2], scope),
                );
            }
            "and" => return functions::and_lazy(args.len(), |i| self.eval(&args[i], scope)),
            "or" => return functions::or_lazy(args.len(), |i| self.eval(&args[i], scope)),
            "coalesce" => {
                return functions::coalesce_lazy(args.len(), |i| self.eval(&args[i], scope))
                    .unwrap_or(Value::Null)
            }
            _ => {}
        }
        let values: Vec<Value> = args.iter().map(|a| self.eval(a, scope)).collect();
        match (name, values.as_slice()) {
            // Bicep's own functions, not the engine's: `any` only changes the type checker's
            // view; a `.bicepparam` file's environment variable is its default offline.
            ("any", [v]) => v.clone(),
            ("readEnvironmentVariable", [_, default]) => default.clone(),
            ("readEnvironmentVariable", [v]) => Value::unknown(format!(
                "readEnvironmentVariable({}) is read where the file is built",
                functions::render(v)
            )),
            (
                "loadTextContent" | "loadJsonContent" | "loadYamlContent" | "loadFileAsBase64",
                [path, rest @ ..],
            ) => self.load_content(name, path, rest),
            _ => functions::call(name, &values),
        }
    }

    /// `loadTextContent(path[, encoding])`, `loadJsonContent(path[, jsonPath[, encoding]])`,
    /// `loadYamlContent(path[, pathFilter[, encoding]])`, `loadFileAsBase64(path)`: Bicep reads
    /// the file (relative to this file) when it builds the template, so its value is known
    /// offline. A file that cannot be read, an encoding other than UTF-8 or ISO-8859-1, a path
    /// filter beyond names and indexes, or YAML that is not plain data is Unknown.
    fn load_content(&self, name: &str, path: &Value, rest: &[Value]) -> Value {
        let call = || functions::render_call(name, &[&[path.clone()][..], rest].concat());
        let Value::Str(file) = path else {
            return Value::unknown(format!("{}: the path is not a known string", call()));
        };
        let Some(bytes) = self.modules.read(&self.resolve(file)) else {
            return Value::unknown(format!("{}: the file is not on hand", call()));
        };
        if name == "loadFileAsBase64" {
            return match rest {
                [] => Value::Str(load::base64(&bytes)),
                _ => Value::unknown(format!("{}: takes one argument", call())),
            };
        }
        let (filter, encoding) = match (name, rest) {
            ("loadTextContent", []) => (None, None),
            ("loadTextContent", [e]) => (None, Some(e)),
            (_, []) => (None, None),
            (_, [f]) => (Some(f), None),
            (_, [f, e]) => (Some(f), Some(e)),
            _ => return Value::unknown(format!("{}: too many arguments", call())),
        };
        let text = match load::decode(&bytes, encoding) {
            Ok(t) => t,
            Err(why) => return Value::unknown(format!("{}: {why}", call())),
        };
        let parsed = match name {
            "loadTextContent" => return Value::Str(text),
            "loadJsonContent" => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) => Ok(Value::from_json(&json)),
                Err(e) => Err(format!("the file is not JSON ({e})")),
            },
            _ => load::yaml(&text),
        };
        let filtered = parsed.and_then(|v| match filter {
            None => Ok(v),
            Some(Value::Str(f)) => load::select(&v, f),
            Some(_) => Err("the path filter is not a known string".to_string()),
        });
        filtered.unwrap_or_else(|why| Value::unknown(format!("{}: {why}", call())))
    }

    /// A call of a `func` of this file: its body with its parameters bound to the arguments
    /// (a function sees nothing else; recursion ends at the depth limit).
    fn user_function(&self, f: &Func, args: Vec<Value>) -> Value {
        let names = parameter_names(&f.signature);
        if names.len() != args.len() {
            return Value::unknown(format!(
                "`{}` takes {} arguments, not {}",
                f.name,
                names.len(),
                args.len()
            ));
        }
        let bound = names.into_iter().zip(args).collect();
        let inner = Scope {
            names: bound,
            up: None,
        };
        self.eval_node(f.body, &inner)
    }

    /// A call of an imported function (`f()` imported by name, `ns.f()` from a namespace);
    /// `None` when `name` is not imported.
    fn imported_function(&self, name: &str, args: &[Expr], scope: &Scope) -> Option<Value> {
        let (i, exported) =
            self.doc
                .imports
                .iter()
                .enumerate()
                .find_map(|(i, import)| match name.split_once('.') {
                    Some((ns, f)) if import.namespace.as_deref() == Some(ns) => Some((i, f)),
                    Some(_) => None,
                    None => import
                        .names
                        .iter()
                        .find(|(_, l)| l == name)
                        .map(|(e, _)| (i, e.as_str())),
                })?;
        let values: Vec<Value> = args.iter().map(|a| self.eval(a, scope)).collect();
        let v = self.in_import(i, name, |ev| {
            match ev.doc.funcs.iter().find(|f| f.name == exported) {
                Some(f) => ev.user_function(f, values),
                None => Value::unknown(format!(
                    "`{exported}` is not a function of '{}'",
                    self.doc.imports[i].from
                )),
            }
        });
        Some(v.unwrap_or_else(|unknown| unknown))
    }

    /// The file import `i` reads, loaded once.
    fn imported_file(&self, i: usize) -> Loaded {
        if let Some(f) = &self.imported.borrow()[i] {
            return f.clone();
        }
        let f = self
            .modules
            .load(&self.resolve(&self.doc.imports[i].from))
            .map(Rc::new);
        self.imported.borrow_mut()[i] = Some(f.clone());
        f
    }

    /// Runs `f` with an evaluator of import `i`'s file (with its defaults: what a file
    /// exports cannot use its parameters). An Unknown saying why `what` cannot be known when
    /// the file is not on hand, imports itself back, or nests too deep.
    fn in_import<T>(&self, i: usize, what: &str, f: impl FnOnce(&Ev) -> T) -> Result<T, Value> {
        let from = &self.doc.imports[i].from;
        let Some(file) = self.imported_file(i) else {
            return Err(Value::unknown(format!(
                "`{what}` is imported from '{from}', which is not on hand"
            )));
        };
        let depth = self.depth.get() + MODULE_DEPTH;
        if depth >= MAX_DEPTH || self.calls.files.borrow().iter().any(|t| *t == file.1) {
            return Err(Value::unknown(format!(
                "`{what}` is imported from '{from}', which imports this file back"
            )));
        }
        self.calls.files.borrow_mut().push(file.1.clone());
        let defaults = Configuration::defaults();
        let mut ev = Ev::new(&file.0, &file.1, &defaults, self.modules, self.calls, depth);
        ev.base = self.base_of(from);
        let r = f(&ev);
        self.calls.files.borrow_mut().pop();
        Ok(r)
    }

    fn binary(&self, op: &str, left: &Expr, right: &Expr, scope: &Scope) -> Value {
        let side = |i: usize| self.eval(if i == 0 { left } else { right }, scope);
        let function = match op {
            "&&" => return functions::and_lazy(2, side),
            "||" => return functions::or_lazy(2, side),
            "??" => return functions::coalesce_lazy(2, side).unwrap_or(Value::Null),
            "==" | "!=" | "=~" | "!~" => "equals",
            "<" => "less",
            "<=" => "lessOrEquals",
            ">" => "greater",
            ">=" => "greaterOrEquals",
            "+" => "add",
            "-" => "sub",
            "*" => "mul",
            "/" => "div",
            "%" => "mod",
            _ => return Value::unknown(format!("the operator `{op}`")),
        };
        let (mut l, mut r) = (side(0), side(1));
        if op == "=~" || op == "!~" {
            l = functions::call("toLower", &[l]);
            r = functions::call("toLower", &[r]);
        }
        let v = functions::call(function, &[l, r]);
        if op == "!=" || op == "!~" {
            functions::call("not", &[v])
        } else {
            v
        }
    }

    /// `[for x in xs: body]` as a value (`body` may be `if (c) value`, which filters).
    fn for_value(&self, names: &[String], source: &Expr, body: &Expr, scope: &Scope) -> Value {
        let items = match self.eval(source, scope) {
            Value::Array(a) => a,
            Value::Unknown(u) => return Value::unknown(format!("a loop over {}", u.reason)),
            v => {
                return Value::unknown(format!(
                    "a loop over `{}`, {} and not an array",
                    self.src(source.span),
                    v.type_name()
                ))
            }
        };
        let mut out = Vec::new();
        for (n, item) in items.into_iter().enumerate() {
            let mut vars = vec![(names[0].clone(), item)];
            if let Some(index) = names.get(1) {
                vars.push((index.clone(), Value::Int(n as i64)));
            }
            let inner = Scope {
                names: vars,
                up: Some(scope),
            };
            match &body.kind {
                E::If { cond, body } => match self.eval(cond, &inner) {
                    Value::Bool(true) => out.push(self.eval(body, &inner)),
                    Value::Bool(false) => {}
                    other => {
                        return Value::unknown(format!(
                            "a loop filtered by {}",
                            functions::render(&other)
                        ))
                    }
                },
                _ => out.push(self.eval(body, &inner)),
            }
        }
        Value::Array(out)
    }
}

impl bicep_types::Env for Ev<'_> {
    fn alias(&self, name: &str, depth: usize, budget: &Cell<usize>) -> Option<DeclaredType> {
        Ev::alias(self, name, depth, budget)
    }

    fn constant(&self, text: &str, span: Span) -> Value {
        self.eval(&bicep_expr::parse(text, span), &Scope::ROOT)
    }
}

/// Both conditions: false when either is false, true when both are true, else Unknown.
fn both(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Bool(true), x) | (x, Value::Bool(true)) => x.clone(),
        _ => functions::and_lazy(2, |i| if i == 0 { a.clone() } else { b.clone() }),
    }
}

/// The parameter names of a function signature `(a string, b int) string`: the first word
/// of each item of the top-level parenthesised list.
fn parameter_names(signature: &str) -> Vec<String> {
    let Ok((toks, _)) = lex(signature) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut expect_name = false;
    for t in &toks {
        match t.tok {
            Tok::Punct("(") => {
                depth += 1;
                expect_name = depth == 1;
            }
            Tok::Punct(")") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Tok::Punct("[" | "{") => depth += 1,
            Tok::Punct("]" | "}") => depth = depth.saturating_sub(1),
            Tok::Punct(",") if depth == 1 => expect_name = true,
            Tok::Ident if expect_name => {
                names.push(signature[t.start..t.end].to_string());
                expect_name = false;
            }
            _ => {}
        }
    }
    names
}

/// A callee's parameter or output name in its caller's deployment: `aks.rot` for the
/// callee's own, `aks/inner.rot` for one of a module the callee calls (names have no dots).
fn nested_name(id: &str, name: &str) -> String {
    if name.contains('.') {
        format!("{id}/{name}")
    } else {
        format!("{id}.{name}")
    }
}

/// A resource's `name` from its body; an Unknown when it has none.
fn name_of(body: &Value, symbolic: &str) -> Value {
    match body.get("name") {
        Some(v) => v.clone(),
        None => Value::unknown(format!(
            "`{symbolic}` has no `name` (Bicep generates one for a module)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::bicep::parser::parse;

    fn doc(text: &str) -> Doc {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {} at {}", e.message, e.offset))
    }

    fn run_with(text: &str, config: &Configuration, modules: &dyn ModuleSource) -> Deployment {
        evaluate(&doc(text), text, config, modules)
    }

    fn run(text: &str) -> Deployment {
        run_with(text, &Configuration::defaults(), &NoModules)
    }

    fn config(values: &[(&str, Value)]) -> Configuration {
        Configuration {
            name: "test".into(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    fn output<'d>(d: &'d Deployment, name: &str) -> &'d Value {
        &d.outputs
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no output {name} in {:?}", d.outputs))
            .1
    }

    fn reason(v: &Value) -> &str {
        match v {
            Value::Unknown(u) => &u.reason,
            v => panic!("{v} is known"),
        }
    }

    fn json(v: serde_json::Value) -> Value {
        Value::from_json(&v)
    }

    /// Modules by path, for module calls.
    struct Files(Vec<(String, String)>);

    impl Files {
        fn new(files: &[(&str, &str)]) -> Files {
            Files(
                files
                    .iter()
                    .map(|(p, t)| (p.to_string(), t.to_string()))
                    .collect(),
            )
        }
    }

    impl ModuleSource for Files {
        fn load(&self, target: &str) -> Option<(Doc, String)> {
            let (_, text) = self.0.iter().find(|(path, _)| path == target)?;
            Some((doc(text), text.clone()))
        }

        fn read(&self, target: &str) -> Option<Vec<u8>> {
            let (_, text) = self.0.iter().find(|(path, _)| path == target)?;
            Some(text.clone().into_bytes())
        }
    }

    const CONFIG: [&str; 5] = [
        "properties",
        "addonProfiles",
        "azureKeyvaultSecretsProvider",
        "config",
        "enableSecretRotation",
    ];

    #[test]
    fn parameters_chain_to_defaults_and_configured_values() {
        let text = "param enableCsi bool = true\nparam rot bool = enableCsi\nparam none string\n\
                    output r bool = rot\noutput n string = none\n";
        let d = run(text);
        assert_eq!(output(&d, "r"), &Value::Bool(true));
        assert_eq!(reason(output(&d, "n")), "parameter `none` has no value");
        assert_eq!(d.parameters[1], ("rot".to_string(), Value::Bool(true)));
        let d = run_with(
            text,
            &config(&[("ENABLECSI", Value::Bool(false))]),
            &NoModules,
        );
        assert_eq!(output(&d, "r"), &Value::Bool(false));
        // A null given is none given: the default applies.
        let d = run_with(text, &config(&[("rot", Value::Null)]), &NoModules);
        assert_eq!(output(&d, "r"), &Value::Bool(true));
        let d = run_with(text, &config(&[("none", Value::Null)]), &NoModules);
        assert_eq!(output(&d, "n"), &Value::Null);
        // A configured value wins over the default even when it is Unknown.
        let d = run_with(text, &config(&[("rot", Value::unknown("kv"))]), &NoModules);
        assert_eq!(reason(output(&d, "r")), "kv");
    }

    fn cluster(config: &str) -> String {
        format!(
            "resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {{\n\
             name: 'aks'\n  location: 'westeurope'\n  properties: {{\n    addonProfiles: {{\n\
             azureKeyvaultSecretsProvider: {{\n        enabled: true\n        config: {config}\n\
             }}\n    }}\n  }}\n}}\n"
        )
    }

    #[test]
    fn a_conditional_config_follows_its_parameter() {
        let text = format!(
            "param rotationOn bool = false\n{}",
            cluster("rotationOn ? { enableSecretRotation: 'true' } : null")
        );
        let d = run(&text);
        assert_eq!(d.resources.len(), 1);
        let r = &d.resources[0];
        assert_eq!(r.id, "aks");
        assert_eq!(r.origin, ["resources", "aks"]);
        assert!(r.is_type("microsoft.containerservice/managedclusters"));
        assert_eq!(r.name, Value::str("aks"));
        assert_eq!(r.condition, Value::Bool(true));
        assert_eq!(r.body.get("apiVersion"), Some(&Value::str("2024-02-01")));
        assert_eq!(r.body.at(&CONFIG[..4]), Some(&Value::Null));
        let d = run_with(
            &text,
            &config(&[("rotationOn", Value::Bool(true))]),
            &NoModules,
        );
        assert_eq!(d.resources[0].body.at(&CONFIG), Some(&Value::str("true")));
        // An Unknown condition with different branches is Unknown.
        let d = run_with(
            &text,
            &config(&[("rotationOn", Value::unknown("p"))]),
            &NoModules,
        );
        assert!(!d.resources[0].body.at(&CONFIG[..4]).unwrap().is_known());
    }

    #[test]
    fn union_merges_deeply() {
        let text = "var base = {\n  kubernetesVersion: '1.29'\n  addonProfiles: {\n    omsagent: { enabled: true }\n  }\n}\n\
             resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {\n  name: 'aks'\n\
             properties: union(base, {\n    addonProfiles: {\n      azureKeyvaultSecretsProvider: {\n\
             enabled: true\n        config: { enableSecretRotation: 'true' }\n      }\n    }\n  })\n}\n";
        let d = run(text);
        let body = &d.resources[0].body;
        assert_eq!(body.at(&CONFIG), Some(&Value::str("true")));
        assert_eq!(
            body.at(&["properties", "addonProfiles", "omsagent", "enabled"]),
            Some(&Value::Bool(true))
        );
        assert_eq!(
            body.at(&["properties", "kubernetesVersion"]),
            Some(&Value::str("1.29"))
        );
    }

    #[test]
    fn coalesce_and_safe_access() {
        let text = "param p object\nvar o = {\n  a: { b: null }\n  list: [1, 2]\n}\n\
                    output missing string = o.?nope ?? 'default'\n\
                    output nested = o.a.?c.?d\n\
                    output nullMember string = o.?a.b ?? 'n'\n\
                    output safeIndex = o.list[?5] ?? 0\n\
                    output index int = o.list[1]!\n\
                    output caseless int = o.LIST[0]\n\
                    output unknown = p.?x ?? 'd'\n\
                    output error = o.nope\n";
        let d = run(text);
        assert_eq!(output(&d, "missing"), &Value::str("default"));
        assert_eq!(output(&d, "nested"), &Value::Null);
        assert_eq!(output(&d, "nullMember"), &Value::str("n"));
        assert_eq!(output(&d, "safeIndex"), &Value::Int(0));
        assert_eq!(output(&d, "index"), &Value::Int(2));
        assert_eq!(output(&d, "caseless"), &Value::Int(1));
        assert!(!output(&d, "unknown").is_known());
        assert!(reason(output(&d, "error")).contains("no such member"));
    }

    #[test]
    fn operators_are_the_functions_bicep_compiles_them_to() {
        let text = "param u bool\n\
             output a bool = 'Abc' =~ 'aBC'\noutput b bool = 'Abc' !~ 'abc'\n\
             output c bool = 'Abc' == 'abc'\noutput d bool = 'a' != 'b'\n\
             output e int = 1 + 2 * 3 - 10 / 3 % 2\noutput f int = -(2 - 5)\n\
             output g bool = 1 < 2 && 2 <= 2 && 3 > 2 && !(3 >= 4)\n\
             output h bool = false && u\noutput i bool = true || u\noutput j bool = u && true\n\
             output k string = 'aks-${1 + 1}-${'x'}{0}'\noutput l string = string(true)\n\
             output m = { a: [1, { b: 2 }] } == { A: [1, { b: 2 }] }\n\
             output n int = 1 / 0\n";
        let d = run(text);
        for (name, want) in [
            ("a", Value::Bool(true)),
            ("b", Value::Bool(false)),
            ("c", Value::Bool(false)),
            ("d", Value::Bool(true)),
            ("e", Value::Int(6)),
            ("f", Value::Int(3)),
            ("g", Value::Bool(true)),
            ("h", Value::Bool(false)),
            ("i", Value::Bool(true)),
            ("k", Value::str("aks-2-x{0}")),
            ("l", Value::str("True")),
        ] {
            assert_eq!(output(&d, name), &want, "{name}");
        }
        assert!(!output(&d, "j").is_known());
        assert!(!output(&d, "n").is_known());
        // Object keys differ in case: the engine's deep equality compares them as spelled.
        assert_eq!(
            output(&d, "m"),
            &functions::call(
                "equals",
                &[
                    json(serde_json::json!({"a": [1, {"b": 2}]})),
                    json(serde_json::json!({"A": [1, {"b": 2}]}))
                ]
            )
        );
    }

    #[test]
    fn literal_union_types_are_case_sensitive() {
        let text =
            "type onOff = 'False' | 'True'\nparam rot onOff = 'true'\nparam ok onOff = 'True'\n\
                    param maybe onOff?\nparam flags onOff[] = ['True', 'no']\n";
        let d = run(text);
        assert_eq!(d.violations.len(), 2, "{:?}", d.violations);
        assert!(
            d.violations[0].starts_with("parameter `rot` allows only"),
            "{:?}",
            d.violations
        );
        assert!(d.violations[0].contains("\"true\""));
        assert!(
            d.violations[1].starts_with("parameter `flags` item 1"),
            "{:?}",
            d.violations
        );
        let d = run_with(
            text,
            &config(&[
                ("maybe", Value::str("FALSE")),
                ("flags", json(serde_json::json!([]))),
            ]),
            &NoModules,
        );
        assert_eq!(d.violations.len(), 2, "{:?}", d.violations);
        assert!(d.violations[1].starts_with("parameter `maybe`"));
    }

    #[test]
    fn object_array_and_tuple_types() {
        let text = "type pool = {\n  @minLength(2)\n  name: string\n  mode: 'System' | 'User'\n  count: int?\n  *: string\n}\n\
             @sealed()\ntype strict = { a: int }\n\
             type tree = {\n  child: tree?\n}\n\
             type wide = { a: wide?, b: wide?, c: wide?, d: wide? }\n\
             param pools pool[] = [\n  { name: 'a', mode: 'System' }\n]\n\
             param modes pool = { name: 'ab', mode: 'system' }\n\
             param extra pool = { name: 'ab', mode: 'User', extra: 1 }\n\
             param fine pool = { name: 'ab', mode: 'User', count: 3, extra: 'x' }\n\
             param s strict = { a: 1, b: 2 }\n\
             param tuple [string, int] = ['a', 'b']\n\
             param t tree = { child: { child: {} } }\n\
             param w wide = { a: { b: {} } }\n\
             param input resourceInput<'Microsoft.ContainerService/managedClusters@2024-02-01'>.properties? = 3\n\
";
        let d = run(text);
        assert_eq!(
            d.violations,
            [
                "parameter `pools` item 0 member `name` needs a length of at least 2, not 1",
                "parameter `modes` member `mode` allows only \"System\" or \"User\", not \"system\"",
                "parameter `extra` member `extra` expects string, not int",
                "parameter `s` allows no member `b`",
                "parameter `tuple` item 1 expects int, not string",
            ]
        );
    }

    #[test]
    fn decorators_constrain_parameters() {
        let text = "@allowed([\n  'false'\n  'true'\n])\nparam rot string = 'true'\n\
                    @minLength(3)\n@maxLength(5)\nparam name string = 'ab'\n\
                    @minValue(1)\n@maxValue(3)\nparam count int = 4\n\
                    param nullable string? = null\nparam notNull string = null\n\
                    param wrong bool = 'true'\n";
        let d = run(text);
        let v = &d.violations;
        assert_eq!(v.len(), 4, "{v:?}");
        // `@allowed` is checked as the Bicep compiler does (see `bicep_types::decorate`).
        assert!(
            v[0].starts_with("parameter `name` needs a length of at least 3"),
            "{v:?}"
        );
        assert!(
            v[1].starts_with("parameter `count` allows a value of at most 3"),
            "{v:?}"
        );
        assert!(
            v[2].starts_with("parameter `notNull` expects string, not null"),
            "{v:?}"
        );
        assert!(
            v[3].starts_with("parameter `wrong` expects bool, not string"),
            "{v:?}"
        );
        let d = run_with(text, &config(&[("rot", Value::str("yes"))]), &NoModules);
        assert!(d.violations[0].starts_with("parameter `rot` allows only"));
    }

    const CALLEE: &str = "@allowed(['false', 'true'])\nparam enableSecretRotation string = 'false'\n\
         param clusterName string\n\
         resource cluster 'Microsoft.ContainerService/managedClusters@2024-02-01' = {\n\
         name: clusterName\n  properties: {\n    addonProfiles: {\n      azureKeyvaultSecretsProvider: {\n\
         enabled: true\n        config: { enableSecretRotation: enableSecretRotation }\n      }\n    }\n  }\n}\n\
         output rotation string = enableSecretRotation\n";

    #[test]
    fn a_module_call_is_a_nested_deployment_expanded_when_its_callee_is_on_hand() {
        let text = "param rot bool = true\nmodule aks './aks.bicep' = {\n  name: 'aks-deploy'\n\
                    params: {\n    clusterName: 'c1'\n    enableSecretRotation: rot\n  }\n}\n\
                    output fromModule string = aks.outputs.rotation\n";
        let files = Files::new(&[("./aks.bicep", CALLEE)]);
        let d = run_with(text, &Configuration::defaults(), &files);
        assert_eq!(d.resources.len(), 2);
        let m = &d.resources[0];
        assert!(m.expanded);
        assert!(m.is_type(DEPLOYMENTS));
        assert_eq!(m.name, Value::str("aks-deploy"));
        assert_eq!(
            m.body
                .at(&["properties", "parameters", "enableSecretRotation", "value"]),
            Some(&Value::Bool(true))
        );
        let c = &d.resources[1];
        assert_eq!(c.id, "aks/cluster");
        assert_eq!(c.origin, ["resources", "aks", "resources", "cluster"]);
        assert_eq!(c.name, Value::str("c1"));
        // The callee sees what it was given: a bool where it declares a string.
        assert_eq!(c.body.at(&CONFIG), Some(&Value::Bool(true)));
        assert_eq!(
            d.violations,
            ["module `aks` parameter `enableSecretRotation` expects string, not bool"]
        );
        assert!(d
            .parameters
            .contains(&("aks.enableSecretRotation".to_string(), Value::Bool(true))));
        assert_eq!(output(&d, "aks.rotation"), &Value::Bool(true));
        assert_eq!(output(&d, "fromModule"), &Value::Bool(true));

        // A string passes, and the callee's allowed values are checked.
        let d = run_with(text, &config(&[("rot", Value::str("maybe"))]), &files);
        assert_eq!(d.violations.len(), 2, "{:?}", d.violations);
        assert_eq!(d.violations[0], "parameter `rot` expects bool, not string");
        assert!(d.violations[1]
            .starts_with("module `aks` parameter `enableSecretRotation` allows only"));

        // Without the callee: not expanded, outputs Unknown.
        let d = run(text);
        assert_eq!(d.resources.len(), 1);
        assert!(!d.resources[0].expanded);
        assert_eq!(reason(output(&d, "fromModule")), "aks.outputs.rotation");
        assert!(d.violations.is_empty());
    }

    #[test]
    fn files_are_loaded_at_build_time_relative_to_the_file_that_loads_them() {
        let callee =
            "var cfg = loadJsonContent('cfg.json', '$.aks')\noutput r string = cfg.rotation\n\
                      output y object = loadYamlContent('../shared/cfg.yaml')\n";
        let text = "var cfg = loadJsonContent('cfg.json')\nmodule m 'modules/aks.bicep' = {\n  \
                    name: 'm'\n}\noutput r string = cfg.aks.rotation\n\
                    output t string = loadTextContent('cfg.json', 'iso-8859-1')\n\
                    output b string = loadFileAsBase64('modules/cfg.json')\n\
                    output missing string = loadTextContent('nowhere.txt')\n\
                    output wild string = loadJsonContent('cfg.json', '$..rotation')\n";
        let files = Files::new(&[
            ("cfg.json", "{\"aks\": {\"rotation\": \"false\"}}"),
            ("modules/aks.bicep", callee),
            ("modules/cfg.json", "{\"aks\": {\"rotation\": \"true\"}}"),
            ("shared/cfg.yaml", "rotation: 'true'\n"),
        ]);
        let d = run_with(text, &Configuration::defaults(), &files);
        assert_eq!(output(&d, "r"), &Value::str("false"));
        assert_eq!(output(&d, "m.r"), &Value::str("true"));
        assert_eq!(
            output(&d, "m.y"),
            &json(serde_json::json!({"rotation": "true"}))
        );
        assert_eq!(
            output(&d, "t"),
            &Value::str("{\"aks\": {\"rotation\": \"false\"}}")
        );
        assert_eq!(
            output(&d, "b"),
            &Value::str(load::base64(b"{\"aks\": {\"rotation\": \"true\"}}"))
        );
        assert!(reason(output(&d, "missing")).contains("not on hand"));
        assert!(reason(output(&d, "wild")).contains("is not read offline"));
        // Without a file system (a `.bicepparam` file's own values), nothing is loaded.
        let d = run("output r string = loadTextContent('cfg.json')\n");
        assert!(!output(&d, "r").is_known());
    }

    #[test]
    fn modules_in_modules_and_conditional_modules() {
        let outer = "param on bool\nmodule aks './aks.bicep' = if (on) {\n  name: 'inner'\n\
                     params: { clusterName: 'c', enableSecretRotation: true }\n}\noutput r = aks.outputs.rotation\n";
        let text = "module env './outer.bicep' = {\n  name: 'outer'\n  params: { on: false }\n}\n";
        let files = Files::new(&[("./aks.bicep", CALLEE), ("./outer.bicep", outer)]);
        let d = run_with(text, &Configuration::defaults(), &files);
        let got: Vec<(&str, &Value)> = d
            .resources
            .iter()
            .map(|r| (r.id.as_str(), &r.condition))
            .collect();
        assert_eq!(
            got,
            [
                ("env", &Value::Bool(true)),
                ("env/aks", &Value::Bool(false)),
                ("env/aks/cluster", &Value::Bool(false))
            ]
        );
        assert_eq!(
            d.resources[2].origin,
            [
                "resources",
                "env",
                "resources",
                "aks",
                "resources",
                "cluster"
            ]
        );
        let names: Vec<&str> = d.parameters.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "env.on",
                "env/aks.enableSecretRotation",
                "env/aks.clusterName"
            ]
        );
        assert_eq!(output(&d, "env/aks.rotation"), &Value::Bool(true));
        assert_eq!(output(&d, "env.r"), &Value::Bool(true));
        // The module is not deployed: what its callee would reject is not reported.
        assert!(d.violations.is_empty(), "{:?}", d.violations);
        let text = text.replace("on: false", "on: true");
        let d = run_with(&text, &Configuration::defaults(), &files);
        assert_eq!(
            d.violations,
            ["module `env` module `aks` parameter `enableSecretRotation` expects string, not bool"]
        );
    }

    #[test]
    fn module_loops_and_recursion() {
        let text = "module aks './aks.bicep' = [for (n, i) in ['a', 'b']: {\n  name: 'd${i}'\n\
                    params: { clusterName: n }\n}]\noutput second string = aks[1].outputs.rotation\n";
        let files = Files::new(&[("./aks.bicep", CALLEE)]);
        let d = run_with(text, &Configuration::defaults(), &files);
        let ids: Vec<&str> = d.resources.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["aks[0]", "aks[0]/cluster", "aks[1]", "aks[1]/cluster"]
        );
        assert_eq!(d.resources[3].name, Value::str("b"));
        assert_eq!(d.resources[2].copy_index, Some(1));
        assert_eq!(output(&d, "second"), &Value::str("false"));
        // A loop over no items deploys nothing, and its outputs are an empty array.
        let empty = text
            .replace("['a', 'b']", "[]")
            .replace("aks[1].outputs.rotation", "aks");
        let d = run_with(&empty, &Configuration::defaults(), &files);
        assert!(d.resources.is_empty());
        assert_eq!(output(&d, "second"), &Value::Array(Vec::new()));

        // A module that calls itself (twice) is expanded once.
        let me = "param n int = 0\nmodule again './me.bicep' = {\n  name: 'x'\n  params: { n: n + 1 }\n}\n\
                  module twice './me.bicep' = {\n  name: 'y'\n}\noutput depth int = again.outputs.depth\n";
        let files = Files::new(&[("./me.bicep", me)]);
        let top =
            "module first './me.bicep' = {\n  name: 'f'\n}\noutput depth = first.outputs.depth\n";
        let d = run_with(top, &Configuration::defaults(), &files);
        let got: Vec<(&str, bool)> = d
            .resources
            .iter()
            .map(|r| (r.id.as_str(), r.expanded))
            .collect();
        assert_eq!(
            got,
            [
                ("first", true),
                ("first/again", false),
                ("first/twice", false)
            ]
        );
        assert_eq!(reason(output(&d, "depth")), "again.outputs.depth");

        // A chain of distinct files stops at the depth limit instead of the stack's.
        let chain: Vec<(String, String)> = (0..2 * MAX_DEPTH)
            .map(|i| {
                let text = format!(
                    "module next './f{}.bicep' = {{\n  name: 'n{i}'\n}}\noutput depth int = next.outputs.depth + 1\n",
                    i + 1
                );
                (format!("./f{i}.bicep"), text)
            })
            .collect();
        let d = run_with(
            &chain[0].1.clone(),
            &Configuration::defaults(),
            &Files(chain),
        );
        assert_eq!(d.resources.len(), MAX_DEPTH / MODULE_DEPTH);
        assert!(!d.resources.last().unwrap().expanded);
        assert!(!output(&d, "depth").is_known());
    }

    #[test]
    fn conditions_and_loops_of_resources() {
        let text = "param deployAks bool = false\n\
             resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = if (deployAks) {\n\
             name: 'aks'\n  resource pool 'agentPools' = {\n    name: 'p'\n  }\n}\n\
             resource old 'Microsoft.ContainerService/managedClusters@2024-02-01' existing = {\n  name: 'old'\n}\n";
        let d = run(text);
        assert_eq!(d.resources.len(), 3);
        assert_eq!(d.resources[0].condition, Value::Bool(false));
        assert!(!d.resources[0].deployed());
        assert_eq!(d.resources[1].id, "aks::pool");
        assert_eq!(d.resources[1].name, Value::str("aks/p"));
        assert_eq!(d.resources[1].origin, ["resources", "aks::pool"]);
        assert_eq!(d.resources[1].condition, Value::Bool(false));
        assert!(d.resources[2].existing && !d.resources[2].deployed());

        let text = "param clusters array = ['a', 'b']\n\
             resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = [for (c, i) in clusters: if (c != 'x') {\n\
             name: 'aks-${c}-${i}'\n}]\n";
        let d = run(text);
        let got: Vec<(&str, Option<usize>, &Value)> = d
            .resources
            .iter()
            .map(|r| (r.id.as_str(), r.copy_index, &r.name))
            .collect();
        assert_eq!(
            got,
            [
                ("aks[0]", Some(0), &Value::str("aks-a-0")),
                ("aks[1]", Some(1), &Value::str("aks-b-1"))
            ]
        );
        let d = run_with(
            text,
            &config(&[("clusters", Value::unknown("p"))]),
            &NoModules,
        );
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].id, "aks[*]");
        assert!(!d.resources[0].condition.is_known());
        assert!(reason(&d.resources[0].name).contains("`c` of a loop over p"));
    }

    #[test]
    fn resource_references_are_unknown_with_their_text() {
        let text = "resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {\n  name: 'aks'\n}\n\
                    output id string = aks.id\noutput x = aks.properties.oidcIssuerProfile.issuerURL\n\
                    output rg string = resourceGroup().location\noutput f = map([1], x => x)\n\
                    output undeclared = nope\n";
        let d = run(text);
        assert_eq!(reason(output(&d, "id")), "aks.id");
        assert_eq!(
            reason(output(&d, "x")),
            "aks.properties.oidcIssuerProfile.issuerURL"
        );
        assert!(reason(output(&d, "rg")).starts_with("resourceGroup()"));
        assert!(reason(output(&d, "f")).contains("lambda"));
        assert_eq!(
            reason(output(&d, "undeclared")),
            "`nope` is not declared in this file"
        );
        // The same source gives the same Unknowns.
        assert_eq!(d, run(text));
    }

    #[test]
    fn user_defined_functions() {
        let text = "func name(prefix string, i int) string => '${prefix}-${i}'\n\
                    func config(on bool) object => on ? { enableSecretRotation: 'true' } : {}\n\
                    func forever(n int) int => forever(n + 1)\n\
                    func pair(a { x: int }, b int[]) int => a.x + b[0]\n\
                    output n string = name('aks', 1 + 1)\noutput c object = config(true)\n\
                    output f int = forever(0)\noutput p int = pair({ x: 1 }, [2])\n\
                    output wrong = name('a')\n";
        let d = run(text);
        assert_eq!(output(&d, "n"), &Value::str("aks-2"));
        assert_eq!(
            output(&d, "c"),
            &json(serde_json::json!({"enableSecretRotation": "true"}))
        );
        assert!(reason(output(&d, "f")).contains("deeper than"));
        assert_eq!(output(&d, "p"), &Value::Int(3));
        assert_eq!(
            reason(output(&d, "wrong")),
            "`name` takes 2 arguments, not 1"
        );
        assert_eq!(parameter_names("()"), Vec::<String>::new());
    }

    #[test]
    fn imports_from_files_on_hand() {
        let shared = "@export()\nvar rotation = { enableSecretRotation: 'true' }\n\
                      @export()\ntype onOff = 'False' | 'True'\n\
                      @export()\nfunc named(n string) string => 'aks-${n}'\n\
                      import { back } from './main.bicep'\n@export()\nvar loop = back\n";
        let text = "import { rotation, onOff as flag, named } from './shared.bicep'\n\
                    import * as shared from './shared.bicep'\nimport { gone } from './missing.bicep'\n\
                    import { loop } from './shared.bicep'\n@export()\nvar back = loop\n\
                    param p flag = 'true'\n\
                    output r object = rotation\noutput ns string = shared.rotation.enableSecretRotation\n\
                    output f string = named('x')\noutput nsf string = shared.named('y')\n\
                    output gone = gone\noutput loop = back\noutput method = shared.nope(1)\n";
        let files = Files::new(&[("./shared.bicep", shared), ("./main.bicep", text)]);
        let d = run_with(text, &Configuration::defaults(), &files);
        assert_eq!(
            output(&d, "r"),
            &json(serde_json::json!({"enableSecretRotation": "true"}))
        );
        assert_eq!(output(&d, "ns"), &Value::str("true"));
        assert_eq!(output(&d, "f"), &Value::str("aks-x"));
        assert_eq!(output(&d, "nsf"), &Value::str("aks-y"));
        assert_eq!(
            reason(output(&d, "gone")),
            "`gone` is imported from './missing.bicep', which is not on hand"
        );
        assert_eq!(
            reason(output(&d, "loop")),
            "`back` is imported from './main.bicep', which imports this file back"
        );
        assert_eq!(
            reason(output(&d, "method")),
            "`nope` is not a function of './shared.bicep'"
        );
        // The imported literal type is case-sensitive.
        assert_eq!(d.violations.len(), 1, "{:?}", d.violations);
        assert!(d.violations[0].starts_with("parameter `p` allows only"));
        // Without the files: Unknowns that say so, and no type to check.
        let d = run(text);
        assert!(reason(output(&d, "r")).contains("not on hand"));
        assert!(reason(output(&d, "f")).contains("not on hand"));
        assert!(d.violations.is_empty());
    }

    #[test]
    fn variables_are_lazy_and_cycles_unknown() {
        let text = "var a = b\nvar b = a\nvar c = [for i in range(0, 3): i * 2]\n\
                    var d = [for (x, i) in c: x > i]\nvar e = {\n  ...{ k: 1, j: 0 }\n  j: 2\n}\n\
                    var f = [\n  0\n  ...c\n]\nvar g = [for x in c: if (x > 0) {\n  v: x\n}]\noutput a = a\noutput d array = d\noutput e object = e\noutput f array = f\n\
                    output any int = any(3)\noutput g array = g\n";
        let d = run(text);
        assert!(reason(output(&d, "a")).contains("refers to itself"));
        assert_eq!(
            output(&d, "d"),
            &json(serde_json::json!([false, true, true]))
        );
        assert_eq!(output(&d, "e"), &json(serde_json::json!({"k": 1, "j": 2})));
        assert_eq!(output(&d, "f"), &json(serde_json::json!([0, 0, 2, 4])));
        assert_eq!(output(&d, "any"), &Value::Int(3));
        assert_eq!(
            output(&d, "g"),
            &json(serde_json::json!([{"v": 2}, {"v": 4}]))
        );
    }

    #[test]
    fn deep_chains_are_unknown_not_a_crash() {
        let mut text = String::from("var v0 = 1\n");
        for i in 1..300 {
            text.push_str(&format!("var v{i} = v{} + 1\n", i - 1));
        }
        text.push_str("output last int = v299\noutput first int = v10\n");
        let d = run(&text);
        assert!(reason(output(&d, "last")).contains("deeper than"));
        let text = format!("output x int = {}1{}\n", "(".repeat(99), ")".repeat(99));
        assert_eq!(output(&run(&text), "x"), &Value::Int(1));
    }

    #[test]
    fn the_syntax_zoo_evaluates() {
        let text = format!(
            "{}\n\
             output interpolated string = interpolated\noutput doubleDollar string = doubleDollar\n\
             output safe string = safe\noutput asserted = asserted\noutput negated bool = negated\n\
             output mapped = mapped\noutput merged object = merged\noutput list array = list\n\
             output escaped string = escaped\noutput ternary string = multiLineTernary\n\
             output unused string = unused\noutput password string = adminPassword\n",
            include_str!("../../tests/fixtures/bicep/syntax_zoo.bicep")
        );
        let d = run(&text);
        assert!(d.violations.is_empty(), "{:?}", d.violations);
        for (name, want) in [
            ("doubleDollar", Value::str("${literal} and zoo")),
            ("safe", Value::str("none")),
            ("negated", Value::Bool(false)),
            ("list", json(serde_json::json!([1, -2, 0, 1]))),
            ("escaped", Value::str("it's ${not} nested deep")),
            ("ternary", Value::str("none")),
            ("unused", Value::str("ab")),
            ("last", Value::str("no final newline")),
        ] {
            assert_eq!(output(&d, name), &want, "{name}");
        }
        // The fixture's line breaks are CRLF; a multi-line string keeps them.
        assert_eq!(
            output(&d, "interpolated"),
            &Value::str("zoo uses 0 pools\r\n")
        );
        // `lock` is nullable and not given: null, and `lock!.kind` fails at deploy time.
        assert!(reason(output(&d, "asserted")).contains("kind"));
        assert!(reason(output(&d, "mapped")).contains("lambda"));
        // Spreading null: what the engine does with it is not known here.
        assert_eq!(
            reason(output(&d, "merged")),
            "`...tags` spreads null, not an object"
        );
        assert_eq!(
            reason(output(&d, "password")),
            "parameter `adminPassword` has no value"
        );
        assert_eq!(reason(output(&d, "name")), "aks.name");
        assert_eq!(
            reason(output(&d, "safeName")),
            "coalesce(aks.properties.?fqdn, ...)"
        );
        let aks = &d.resources[0];
        assert_eq!(aks.name, Value::str("aks-zoo"));
        assert_eq!(
            aks.body.at(&["properties", "agentPoolProfiles"]),
            Some(&Value::Array(Vec::new()))
        );
        assert_eq!(
            aks.body.at(&[
                "properties",
                "addonProfiles",
                "azureKeyvaultSecretsProvider",
                "enabled"
            ]),
            Some(&Value::Bool(false))
        );
    }

    #[test]
    fn the_deepest_input_the_parser_accepts_fits_the_stack() {
        // As deep as `crate::lang::bicep::parser` accepts, on a test thread's 2 MiB stack.
        for (open, close) in [
            ("(", ")"),
            ("[", "]"),
            ("{a: ", "}"),
            ("f(", ")"),
            ("union(", ", {})"),
            ("true ? ", " : 0"),
            ("!", ""),
            ("-", ""),
        ] {
            let text = format!("output x = {}1{}\n", open.repeat(95), close.repeat(95));
            let d = run(&text);
            assert_eq!(d.outputs.len(), 1, "{open}");
        }
        let text = format!("output x = '{}1{}'\n", "${'".repeat(30), "'}".repeat(30));
        assert_eq!(output(&run(&text), "x"), &Value::str("1"));
        for long in [
            format!("x{}", ".a".repeat(2000)),
            format!("x{}", "[0]".repeat(2000)),
            format!("1{}", " + 1".repeat(2000)),
            format!("x{}", "!".repeat(2000)),
            format!("x{}", " ?? x".repeat(2000)),
        ] {
            let text = format!("var x = {{}}\noutput x = {long}\n");
            assert!(!output(&run(&text), "x").is_known());
        }
        // A deep body in a resource in a loop in a module.
        let callee = format!(
            "resource r 'T/u@1' = [for i in range(0, 2): {{\n  name: 'r'\n  properties: {}1{}\n}}]\n",
            "{a: [".repeat(45),
            "]}".repeat(45)
        );
        let files = Files(vec![("./m.bicep".into(), callee)]);
        let d = run_with(
            "module m './m.bicep' = {\n  name: 'm'\n}\n",
            &Configuration::defaults(),
            &files,
        );
        assert_eq!(d.resources.len(), 3);
        assert!(d.resources[1]
            .body
            .get("properties")
            .unwrap()
            .is_fully_known());
    }

    #[test]
    fn mutated_files_evaluate_without_panicking() {
        // Every edit of the syntax zoo that still parses evaluates (a broader run over all
        // fixtures, every third byte and 16 edits, found nothing either).
        let text = include_str!("../../tests/fixtures/bicep/syntax_zoo.bicep");
        let mut evaluated = 0;
        for i in (0..text.len()).step_by(7) {
            let Some(j) = (i + 1..=text.len()).find(|j| text.is_char_boundary(*j)) else {
                continue;
            };
            if !text.is_char_boundary(i) {
                continue;
            }
            for edit in ["", "(", "'", "${", "}", "]", "?", "!", "\n"] {
                let mutated = format!("{}{edit}{}", &text[..i], &text[j..]);
                if let Ok(doc) = parse(&mutated) {
                    evaluate(&doc, &mutated, &Configuration::defaults(), &NoModules);
                    configuration_from_bicepparam("m", &doc, &mutated);
                    evaluated += 1;
                }
            }
        }
        assert!(evaluated > 500, "{evaluated}");
    }

    #[test]
    fn a_bicepparam_file_overrides_defaults() {
        let params = "using 'main.bicep'\nvar env = 'prod'\nparam rotationOn = env == 'prod'\n\
                      param region = readEnvironmentVariable('REGION', 'westeurope')\n\
                      param secret = readEnvironmentVariable('SECRET')\n";
        let c = configuration_from_bicepparam("main.bicepparam", &doc(params), params);
        assert_eq!(c.name, "main.bicepparam");
        assert_eq!(c.value("rotationOn"), Some(&Value::Bool(true)));
        assert_eq!(c.value("region"), Some(&Value::str("westeurope")));
        assert!(reason(c.value("secret").unwrap()).starts_with("readEnvironmentVariable('SECRET')"));
        let text = format!(
            "param rotationOn bool = false\n{}",
            cluster("rotationOn ? { enableSecretRotation: 'true' } : null")
        );
        let d = run_with(&text, &c, &NoModules);
        assert_eq!(d.resources[0].body.at(&CONFIG), Some(&Value::str("true")));
    }
}
