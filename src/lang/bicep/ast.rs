//! The syntax tree of a Bicep file, as far as armfix needs it: declarations (params, vars,
//! resources, modules), and values with full structure for objects, arrays and literals and
//! byte spans for everything. Other expressions are kept as opaque spans of the source.
//! Trivia is not stored: it is the source text between spans.

/// A half-open byte range in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Index of a value in [`Doc::nodes`].
pub(crate) type NodeId = usize;

/// One value with its span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) span: Span,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    /// An integer, as written.
    Int,
    /// A string without interpolation (single-line or `'''`), decoded.
    Str(String),
    Object(Object),
    Array(Vec<NodeId>),
    /// A bare identifier: a parameter, variable, resource, loop variable…
    Ident(String),
    /// A call of a named function (`f(…)`, `sys.f(…)`) with its arguments.
    Call {
        name: String,
        args: Vec<NodeId>,
    },
    /// `cond ? then : other`.
    Ternary {
        cond: NodeId,
        then: NodeId,
        other: NodeId,
    },
    /// `[for x in xs: body]` or `[for (x, i) in xs: body]`.
    For {
        names: Vec<String>,
        body: NodeId,
    },
    /// `if (cond) body`, only as a resource or module body (possibly inside a `for`).
    If {
        cond: NodeId,
        body: NodeId,
    },
    /// Any other expression (operators, property access, interpolated strings, lambdas…).
    Expr,
}

/// An object literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Object {
    /// Offsets of `{` and `}`.
    pub(crate) open: usize,
    pub(crate) close: usize,
    pub(crate) members: Vec<Member>,
    /// Whether a `...spread` or a computed (interpolated) key makes the keys unknowable
    /// before deployment.
    pub(crate) dynamic: bool,
}

/// `key: value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    /// The key as a value (identifier or decoded string); `None` when interpolated.
    pub(crate) key: Option<String>,
    pub(crate) key_span: Span,
    pub(crate) value: NodeId,
}

/// A decorator: `@name(args)`; `name` without a `sys.` prefix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decorator {
    pub(crate) name: String,
    pub(crate) args: Vec<NodeId>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) decorators: Vec<Decorator>,
    /// The declared type as written (empty in `.bicepparam` files).
    pub(crate) type_text: String,
    pub(crate) default: Option<NodeId>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Var {
    pub(crate) name: String,
    pub(crate) value: NodeId,
}

/// `output name type = value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Output {
    pub(crate) name: String,
    /// The declared type as written.
    pub(crate) type_text: String,
    pub(crate) value: NodeId,
}

/// `type name = …`: a user-defined type, kept as written (its decorators too).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TypeDecl {
    pub(crate) name: String,
    pub(crate) decorators: Vec<Decorator>,
    /// The type's text after `=`, trimmed.
    pub(crate) text: String,
}

/// `func name(params) type => body`: a user-defined function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Func {
    pub(crate) name: String,
    /// The parameter list and result type as written: `(x string, y int) string`.
    pub(crate) signature: String,
    pub(crate) body: NodeId,
}

/// `import { a, b as c } from 'path'` or `import * as ns from 'path'`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Import {
    /// Names imported: (the name exported, the name used here).
    pub(crate) names: Vec<(String, String)>,
    /// `* as ns`: the namespace name.
    pub(crate) namespace: Option<String>,
    /// The file or registry reference, as written.
    pub(crate) from: String,
}

/// A `resource` or `module` declaration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decl {
    /// The symbolic name.
    pub(crate) name: String,
    pub(crate) name_span: Span,
    /// The resource type with API version (`Microsoft.X/y@2024-01-01`, child types made
    /// full), or the module's path or registry reference.
    pub(crate) target: String,
    pub(crate) existing: bool,
    /// `{…}`, `if (…) {…}` or `[for …: …]`.
    pub(crate) body: NodeId,
    /// The enclosing resource, for nested child resources (index into `Doc::resources`).
    pub(crate) parent: Option<usize>,
}

impl Decl {
    /// The type without its API version.
    pub(crate) fn type_name(&self) -> &str {
        self.target.split('@').next().unwrap_or("")
    }

    /// The API version (empty when there is none).
    pub(crate) fn api_version(&self) -> &str {
        self.target.split_once('@').map_or("", |(_, v)| v)
    }
}

/// A parsed Bicep (or `.bicepparam`) file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub(crate) nodes: Vec<Node>,
    pub(crate) params: Vec<Param>,
    pub(crate) vars: Vec<Var>,
    pub(crate) resources: Vec<Decl>,
    pub(crate) modules: Vec<Decl>,
    /// `output` declarations, in source order.
    pub(crate) outputs: Vec<Output>,
    /// `type` declarations, in source order.
    pub(crate) types: Vec<TypeDecl>,
    /// `func` declarations, in source order.
    pub(crate) funcs: Vec<Func>,
    /// `import … from '…'` statements, in source order (not provider imports).
    pub(crate) imports: Vec<Import>,
    /// `using '…'` of a `.bicepparam` file.
    pub(crate) using: Option<String>,
    /// `extends '…'` of a `.bicepparam` file: the base parameter file whose assignments it
    /// inherits (Bicep CLI 0.44.1+; its own assignments win).
    pub(crate) extends: Option<String>,
    /// `using none`: a base parameter file, bound to no template of its own (others
    /// `extends` it).
    pub(crate) using_none: bool,
    /// Every identifier used as a value (not keys or property names), with its span.
    pub(crate) refs: Vec<(String, Span)>,
}

impl Doc {
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub(crate) fn object(&self, id: NodeId) -> Option<&Object> {
        match &self.nodes[id].kind {
            Kind::Object(o) => Some(o),
            _ => None,
        }
    }

    pub(crate) fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub(crate) fn var(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// The symbolic name ARM gives a resource: `parent::child` for nested ones.
    pub(crate) fn symbolic_name(&self, index: usize) -> String {
        let d = &self.resources[index];
        match d.parent {
            Some(p) => format!("{}::{}", self.symbolic_name(p), d.name),
            None => d.name.clone(),
        }
    }

    /// Whether this is a parameter file: `using '…'`, or a base file's `using none`.
    pub(crate) fn is_params_file(&self) -> bool {
        self.using.is_some() || self.using_none
    }

    /// How many times `name` is used as a value.
    pub(crate) fn uses(&self, name: &str) -> usize {
        self.refs.iter().filter(|(n, _)| n == name).count()
    }
}
