//! Parses Bicep tokens into a [`Doc`]: every declaration of the language (decorators, `param`,
//! `var`, `resource` with `existing` and nested children, `module`, `output`, `type`, `func`,
//! `import`, `extension`, `metadata`, `targetScope`, `using`…), with full structure for values
//! (objects, arrays, `for` loops, `if` bodies, literals, identifiers, calls, ternaries) and the
//! full expression grammar (operators, `.?`, `[?`, `!`, `??`, lambdas, spread) read only to find
//! where each expression ends. Types are kept as text, read with bracket matching. Newlines
//! matter as in Bicep: they end statements, members and items, except before an operator that
//! continues an expression (multi-line ternaries). Nesting is capped so hostile input cannot
//! overflow the stack.

use super::ast::{
    Decl, Decorator, Doc, Func, Import, Kind, Member, Node, NodeId, Object, Output, Param, Span,
    TypeDecl, Var,
};
use super::lexer::{lex, Tok, Token};
use crate::error::Error;

/// Deepest nesting of expressions accepted.
pub(crate) const MAX_DEPTH: usize = 100;

/// Binary operators.
const BINARY: &[&str] = &[
    "??", "||", "&&", "==", "!=", "=~", "!~", "<", "<=", ">", ">=", "+", "-", "*", "/", "%",
];

/// Tokens that continue an expression on a new line: they cannot begin a statement, an
/// object member or an array item. (`-` can: it is a sign in arrays.)
const CONTINUATION: &[&str] = &[
    "?", ":", "??", "||", "&&", "==", "!=", "=~", "!~", "<", "<=", ">", ">=", "+", "*", "/", "%",
    ".", ".?", "::", "|", "=>",
];

/// Parses a Bicep or `.bicepparam` file.
pub fn parse(text: &str) -> Result<Doc, Error> {
    let (toks, holes) = lex(text)?;
    let mut p = Parser {
        text,
        toks,
        pos: 0,
        doc: Doc::default(),
        depth: 0,
        parents: Vec::new(),
    };
    p.file()?;
    let mut doc = p.doc;
    doc.refs.extend(
        holes
            .into_iter()
            .map(|(start, end)| (text[start..end].to_string(), Span { start, end })),
    );
    Ok(doc)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    doc: Doc,
    depth: usize,
    /// Resources whose bodies are being read (for nested child resources).
    parents: Vec<usize>,
}

type R<T> = Result<T, Error>;

impl<'a> Parser<'a> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    fn text_of(&self, t: &Token) -> &'a str {
        &self.text[t.start..t.end]
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek().tok, Tok::Punct(q) if q == p)
    }

    fn is_kw(&self, kw: &str) -> bool {
        let t = self.peek();
        t.tok == Tok::Ident && self.text_of(t) == kw
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.toks[self.pos - 1].end
        }
    }

    fn describe(&self, t: &Token) -> String {
        match t.tok {
            Tok::Eof => "end of file".into(),
            _ => {
                let s = self.text_of(t);
                let short: String = s.chars().take(30).collect();
                if short.len() < s.len() {
                    format!("`{short}…`")
                } else {
                    format!("`{short}`")
                }
            }
        }
    }

    fn error_here(&self, expected: &str) -> Error {
        let t = self.peek();
        Error::source(
            t.start,
            format!("expected {expected}, found {}", self.describe(t)),
        )
    }

    fn expect_punct(&mut self, p: &str) -> R<Token> {
        if self.is_punct(p) {
            Ok(self.bump())
        } else {
            Err(self.error_here(&format!("`{p}`")))
        }
    }

    fn expect_ident(&mut self, what: &str) -> R<(String, Span)> {
        let t = self.peek().clone();
        if t.tok == Tok::Ident {
            self.bump();
            Ok((
                self.text_of(&t).to_string(),
                Span {
                    start: t.start,
                    end: t.end,
                },
            ))
        } else {
            Err(self.error_here(what))
        }
    }

    fn expect_literal_string(&mut self, what: &str) -> R<String> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Str { value: Some(v) } => {
                self.bump();
                Ok(v)
            }
            _ => Err(self.error_here(what)),
        }
    }

    /// After the interpolated string `'${name}'` (one hole holding one identifier, nothing
    /// else) at `start..end`, the identifier as a node of its own, right after the string's:
    /// such a string is `string(name)` written otherwise (see
    /// [`crate::eval::bicep_origin::unwrapped`]).
    fn lone_hole(&mut self, start: usize, end: usize) {
        let raw = &self.text[start..end];
        let Some(inner) = raw.strip_prefix("'${").and_then(|r| r.strip_suffix("}'")) else {
            return;
        };
        let name = inner.trim();
        let ident = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident || matches!(name, "true" | "false" | "null") {
            return;
        }
        let at = start + 3 + (inner.len() - inner.trim_start().len());
        self.doc.nodes.push(Node {
            span: Span {
                start: at,
                end: at + name.len(),
            },
            kind: Kind::Ident(name.to_string()),
        });
    }

    fn push(&mut self, start: usize, kind: Kind) -> NodeId {
        let end = self.prev_end();
        self.doc.nodes.push(Node {
            span: Span { start, end },
            kind,
        });
        self.doc.nodes.len() - 1
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek();
            return Err(Error::source(
                t.start,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Whether the next token is operator `p` and may continue the current expression.
    fn at_op(&self, p: &str, nl: bool) -> bool {
        let t = self.peek();
        matches!(t.tok, Tok::Punct(q) if q == p)
            && (!nl || !t.newline_before || CONTINUATION.contains(&p))
    }

    // ---- statements ----

    fn file(&mut self) -> R<()> {
        while self.peek().tok != Tok::Eof {
            self.statement()?;
            let t = self.peek();
            if t.tok != Tok::Eof && !t.newline_before {
                return Err(self.error_here("a line break after the declaration"));
            }
        }
        Ok(())
    }

    fn statement(&mut self) -> R<()> {
        let mut decorators = Vec::new();
        while self.is_punct("@") {
            self.bump();
            decorators.push(self.decorator()?);
        }
        let t = self.peek().clone();
        let kw = if t.tok == Tok::Ident {
            self.text_of(&t)
        } else {
            ""
        };
        match kw {
            "param" => self.param(decorators),
            "var" => self.var(),
            "resource" => self.resource(),
            "module" => self.module(),
            "output" => {
                self.bump();
                let (name, _) = self.expect_ident("an output name")?;
                let type_start = self.peek().start;
                self.skip(&["="])?;
                let type_text = self.text[type_start..self.prev_end().max(type_start)].to_string();
                self.expect_punct("=")?;
                let value = self.expr(true)?;
                self.doc.outputs.push(Output {
                    name,
                    type_text,
                    value,
                });
                Ok(())
            }
            "metadata" | "assert" => {
                self.bump();
                self.expect_ident("a name")?;
                self.expect_punct("=")?;
                self.expr(true).map(drop)
            }
            "targetScope" => {
                self.bump();
                self.expect_punct("=")?;
                self.expr(true).map(drop)
            }
            "type" => {
                self.bump();
                let (name, _) = self.expect_ident("a type name")?;
                self.expect_punct("=")?;
                // The type may start on the next line (`type t =` then `| 'a'` lines).
                let start = self.peek().start;
                self.skip_from_next_line()?;
                let text = self.text[start..self.prev_end().max(start)]
                    .trim()
                    .to_string();
                self.doc.types.push(TypeDecl {
                    name,
                    decorators,
                    text,
                });
                Ok(())
            }
            "func" => {
                self.bump();
                let (name, _) = self.expect_ident("a function name")?;
                let start = self.peek().start;
                self.skip(&["=>"])?;
                let signature = self.text[start..self.prev_end().max(start)].to_string();
                self.expect_punct("=>")?;
                let body = self.expr(true)?;
                self.doc.funcs.push(Func {
                    name,
                    signature,
                    body,
                });
                Ok(())
            }
            "using" => {
                self.bump();
                let t = self.peek().clone();
                match &t.tok {
                    Tok::Str { value: Some(v) } => self.doc.using = Some(v.clone()),
                    Tok::Ident if self.text_of(&t) == "none" => self.doc.using_none = true,
                    _ => {}
                }
                self.skip(&[])
            }
            "import" => {
                self.bump();
                let start = self.pos;
                self.skip(&[])?;
                if let Some(import) = self.import(start) {
                    self.doc.imports.push(import);
                }
                Ok(())
            }
            "extends" => {
                self.bump();
                if let Tok::Str { value: Some(v) } = &self.peek().tok {
                    self.doc.extends = Some(v.clone());
                }
                self.skip(&[])
            }
            "extension" | "provider" | "test" => {
                self.bump();
                self.skip(&[])
            }
            _ => Err(self.error_here(
                "a declaration (`param`, `var`, `resource`, `module`, `output`, `type`, \
                 `func`, `import`, `metadata`…)",
            )),
        }
    }

    /// The `import` statement whose tokens after `import` run from `start` to here, when it
    /// imports names or a namespace from a file (`None` for a provider import).
    fn import(&self, start: usize) -> Option<Import> {
        let toks = &self.toks[start..self.pos];
        let word = |i: usize| toks.get(i).map(|t| self.text_of(t));
        let is = |i: usize, p: &str| matches!(toks.get(i), Some(t) if matches!(t.tok, Tok::Punct(q) if q == p));
        let mut names = Vec::new();
        let mut namespace = None;
        let mut i;
        if is(0, "{") {
            i = 1;
            while !is(i, "}") {
                if is(i, ",") {
                    i += 1;
                    continue;
                }
                if toks.get(i)?.tok != Tok::Ident {
                    return None;
                }
                let exported = word(i)?.to_string();
                i += 1;
                let mut local = exported.clone();
                if word(i) == Some("as") {
                    local = word(i + 1)?.to_string();
                    i += 2;
                }
                names.push((exported, local));
            }
            i += 1;
        } else if is(0, "*") && word(1) == Some("as") {
            namespace = Some(word(2)?.to_string());
            i = 3;
        } else {
            return None;
        }
        if word(i) != Some("from") {
            return None;
        }
        match &toks.get(i + 1)?.tok {
            Tok::Str { value: Some(from) } => Some(Import {
                names,
                namespace,
                from: from.clone(),
            }),
            _ => None,
        }
    }

    fn decorator(&mut self) -> R<Decorator> {
        let id = self.postfix(true)?;
        let (name, args) = match &self.doc.nodes[id].kind {
            Kind::Call { name, args } => (name.clone(), args.clone()),
            Kind::Ident(name) => (name.clone(), Vec::new()),
            _ => (String::new(), Vec::new()),
        };
        let name = name.strip_prefix("sys.").unwrap_or(&name).to_string();
        Ok(Decorator { name, args })
    }

    fn param(&mut self, decorators: Vec<Decorator>) -> R<()> {
        self.bump();
        let (name, _) = self.expect_ident("a parameter name")?;
        let type_start = self.peek().start;
        let mut type_end = type_start;
        if !self.is_punct("=") {
            self.skip(&["="])?;
            type_end = self.prev_end();
        }
        let default = if self.is_punct("=") {
            self.bump();
            Some(self.expr(true)?)
        } else {
            None
        };
        self.doc.params.push(Param {
            name,
            decorators,
            type_text: self.text[type_start..type_end.max(type_start)].to_string(),
            default,
        });
        Ok(())
    }

    fn var(&mut self) -> R<()> {
        self.bump();
        let (name, _) = self.expect_ident("a variable name")?;
        if !self.is_punct("=") {
            self.skip(&["="])?;
        }
        self.expect_punct("=")?;
        let value = self.expr(true)?;
        self.doc.vars.push(Var { name, value });
        Ok(())
    }

    fn resource(&mut self) -> R<()> {
        self.bump();
        let (name, name_span) = self.expect_ident("a resource name")?;
        let mut target = self.expect_literal_string("a resource type string")?;
        let parent = self.parents.last().copied();
        if let Some(p) = parent {
            // A nested child may name its type relative to the parent's.
            let (ty, version) = target.split_once('@').unwrap_or((target.as_str(), ""));
            if !ty.contains('/') {
                let parent_type = self.doc.resources[p].type_name().to_string();
                target = format!("{parent_type}/{ty}@{version}");
            }
        }
        let existing = if self.is_kw("existing") {
            self.bump();
            true
        } else {
            false
        };
        self.expect_punct("=")?;
        let index = self.doc.resources.len();
        self.doc.resources.push(Decl {
            name,
            name_span,
            target,
            existing,
            body: usize::MAX,
            parent,
        });
        self.parents.push(index);
        let body = self.body();
        self.parents.pop();
        self.doc.resources[index].body = body?;
        Ok(())
    }

    fn module(&mut self) -> R<()> {
        self.bump();
        let (name, name_span) = self.expect_ident("a module name")?;
        let target = self.expect_literal_string("a module path or reference")?;
        self.expect_punct("=")?;
        // Resources nested in a module body would be an error in Bicep; none are expected.
        let saved = std::mem::take(&mut self.parents);
        let body = self.body();
        self.parents = saved;
        self.doc.modules.push(Decl {
            name,
            name_span,
            target,
            existing: false,
            body: body?,
            parent: None,
        });
        Ok(())
    }

    /// A resource or module body: `{…}`, `if (…) {…}` or `[for …]`.
    fn body(&mut self) -> R<NodeId> {
        if self.is_kw("if") {
            return self.if_body();
        }
        if self.is_punct("{") || self.is_punct("[") {
            return self.expr(true);
        }
        Err(self.error_here("`{`, `if (…)` or `[for …]`"))
    }

    fn if_body(&mut self) -> R<NodeId> {
        let start = self.bump().start;
        self.expect_punct("(")?;
        let cond = self.expr(false)?;
        self.expect_punct(")")?;
        if !self.is_punct("{") {
            return Err(self.error_here("`{` after the condition"));
        }
        let body = self.expr(true)?;
        Ok(self.push(start, Kind::If { cond, body }))
    }

    /// Skips a type (or other unstructured tokens) with bracket matching, up to one of
    /// `stops` at depth 0 or the end of the statement.
    fn skip(&mut self, stops: &[&str]) -> R<()> {
        self.skip_inner(stops, false)
    }

    fn skip_from_next_line(&mut self) -> R<()> {
        if self.peek().tok == Tok::Eof {
            return Err(self.error_here("a type"));
        }
        self.skip_inner(&[], true)
    }

    fn skip_inner(&mut self, stops: &[&str], mut first: bool) -> R<()> {
        let mut stack: Vec<(&'static str, usize)> = Vec::new();
        loop {
            let t = self.peek().clone();
            if stack.is_empty() {
                if let Tok::Punct(p) = t.tok {
                    if stops.contains(&p) {
                        return Ok(());
                    }
                }
                let continues = matches!(t.tok, Tok::Punct(p) if CONTINUATION.contains(&p));
                if t.tok == Tok::Eof || (!first && t.newline_before && !continues) {
                    return Ok(());
                }
            }
            match t.tok {
                Tok::Eof => {
                    let (open, at) = stack.last().copied().unwrap_or(("", t.start));
                    return Err(Error::source(at, format!("`{open}` is never closed")));
                }
                Tok::Punct(p @ ("(" | "[" | "{")) => stack.push((p, t.start)),
                Tok::Punct(p @ (")" | "]" | "}")) => {
                    let want = match p {
                        ")" => "(",
                        "]" => "[",
                        _ => "{",
                    };
                    match stack.pop() {
                        Some((open, _)) if open == want => {}
                        _ => return Err(self.error_here("a matching bracket")),
                    }
                }
                _ => {}
            }
            self.bump();
            first = false;
        }
    }

    // ---- expressions ----

    /// An expression; `nl` when line breaks end it (statements, members, items).
    fn expr(&mut self, nl: bool) -> R<NodeId> {
        self.enter()?;
        let start = self.peek().start;
        let result = (|| {
            let first = self.binary(nl)?;
            if !self.at_op("?", nl) {
                return Ok(first);
            }
            self.bump();
            let then = self.expr(nl)?;
            if !self.at_op(":", nl) {
                return Err(self.error_here("`:` in the conditional expression"));
            }
            self.bump();
            let other = self.expr(nl)?;
            Ok(self.push(
                start,
                Kind::Ternary {
                    cond: first,
                    then,
                    other,
                },
            ))
        })();
        self.leave();
        result
    }

    fn binary(&mut self, nl: bool) -> R<NodeId> {
        let start = self.peek().start;
        let first = self.unary(nl)?;
        let mut any = false;
        while let Tok::Punct(p) = self.peek().tok {
            if !BINARY.contains(&p) || !self.at_op(p, nl) {
                break;
            }
            self.bump();
            self.unary(nl)?;
            any = true;
        }
        Ok(if any {
            self.push(start, Kind::Expr)
        } else {
            first
        })
    }

    fn unary(&mut self, nl: bool) -> R<NodeId> {
        if self.is_punct("!") || self.is_punct("-") {
            self.enter()?;
            let start = self.bump().start;
            let r = self.unary(nl);
            self.leave();
            r?;
            return Ok(self.push(start, Kind::Expr));
        }
        self.postfix(nl)
    }

    fn postfix(&mut self, nl: bool) -> R<NodeId> {
        let start = self.peek().start;
        let mut id = self.primary(nl)?;
        // A dotted name that may be called: `f`, `sys.f`, `az.f`.
        let mut callee = match &self.doc.nodes[id].kind {
            Kind::Ident(n) => Some(n.clone()),
            _ => None,
        };
        let mut changed = false;
        loop {
            let t = self.peek().clone();
            let fresh_line = nl && t.newline_before;
            match t.tok {
                Tok::Punct(p @ ("." | ".?" | "::")) => {
                    self.bump();
                    let (name, _) = self.expect_ident("a property name")?;
                    callee = match callee {
                        Some(c) if p == "." && !changed => Some(format!("{c}.{name}")),
                        _ => None,
                    };
                    changed = true;
                }
                Tok::Punct("(") if !fresh_line => {
                    self.bump();
                    let args = self.args()?;
                    match callee.take() {
                        Some(name) => {
                            id = self.push(start, Kind::Call { name, args });
                            changed = false;
                        }
                        None => changed = true,
                    }
                    callee = None;
                }
                Tok::Punct("[") if !fresh_line => {
                    self.bump();
                    if self.is_punct("?") {
                        self.bump();
                    }
                    self.expr(false)?;
                    self.expect_punct("]")?;
                    callee = None;
                    changed = true;
                }
                Tok::Punct("!") if !t.newline_before => {
                    self.bump();
                    callee = None;
                    changed = true;
                }
                _ => break,
            }
        }
        Ok(if changed {
            self.push(start, Kind::Expr)
        } else {
            id
        })
    }

    /// Call arguments after `(`, through `)`.
    fn args(&mut self) -> R<Vec<NodeId>> {
        let mut args = Vec::new();
        loop {
            if self.is_punct(")") {
                self.bump();
                return Ok(args);
            }
            args.push(self.expr(false)?);
            if self.is_punct(",") {
                self.bump();
            } else if !self.is_punct(")") {
                return Err(self.error_here("`,` or `)`"));
            }
        }
    }

    fn primary(&mut self, nl: bool) -> R<NodeId> {
        let t = self.peek().clone();
        let start = t.start;
        match &t.tok {
            Tok::Punct("{") => self.object(),
            Tok::Punct("[") => self.array(),
            Tok::Punct("(") => {
                self.bump();
                self.args()?;
                if self.is_punct("=>") {
                    self.bump();
                    self.expr(nl)?;
                }
                Ok(self.push(start, Kind::Expr))
            }
            Tok::Ident => {
                self.bump();
                let name = self.text_of(&t);
                if self.is_punct("=>") {
                    self.bump();
                    self.expr(nl)?;
                    return Ok(self.push(start, Kind::Expr));
                }
                let kind = match name {
                    "true" => Kind::Bool(true),
                    "false" => Kind::Bool(false),
                    "null" => Kind::Null,
                    _ => {
                        self.doc.refs.push((
                            name.to_string(),
                            Span {
                                start: t.start,
                                end: t.end,
                            },
                        ));
                        Kind::Ident(name.to_string())
                    }
                };
                Ok(self.push(start, kind))
            }
            Tok::Str { value } => {
                let kind = match value {
                    Some(v) => Kind::Str(v.clone()),
                    None => Kind::Expr,
                };
                let end = t.end;
                self.bump();
                let id = self.push(start, kind);
                if value.is_none() {
                    self.lone_hole(start, end);
                }
                Ok(id)
            }
            Tok::Int => {
                self.bump();
                Ok(self.push(start, Kind::Int))
            }
            _ => Err(self.error_here("a value")),
        }
    }

    fn object(&mut self) -> R<NodeId> {
        let open = self.bump().start;
        let mut members = Vec::new();
        let mut dynamic = false;
        loop {
            let t = self.peek().clone();
            match t.tok {
                Tok::Punct("}") => break,
                Tok::Eof => return Err(Error::source(open, "`{` is never closed")),
                _ => {}
            }
            while self.is_punct("@") {
                self.bump();
                self.decorator()?;
            }
            let t = self.peek().clone();
            if self.is_punct("...") {
                self.bump();
                self.expr(true)?;
                dynamic = true;
            } else if self.is_kw("resource") && self.peek_at(1).tok == Tok::Ident {
                self.resource()?;
            } else {
                let key = match &t.tok {
                    Tok::Ident => Some(self.text_of(&t).to_string()),
                    Tok::Str { value: Some(v) } => Some(v.clone()),
                    Tok::Str { value: None } => None,
                    _ => return Err(self.error_here("a property name or `}`")),
                };
                self.bump();
                dynamic |= key.is_none();
                self.expect_punct(":")?;
                let value = self.expr(true)?;
                members.push(Member {
                    key,
                    key_span: Span {
                        start: t.start,
                        end: t.end,
                    },
                    value,
                });
            }
            if self.is_punct(",") {
                self.bump();
            } else if !self.is_punct("}") && !self.peek().newline_before {
                return Err(self.error_here("a line break, `,` or `}` after the object member"));
            }
        }
        let close = self.bump().start;
        Ok(self.push(
            open,
            Kind::Object(Object {
                open,
                close,
                members,
                dynamic,
            }),
        ))
    }

    fn array(&mut self) -> R<NodeId> {
        let open = self.bump().start;
        if self.is_kw("for") {
            return self.for_loop(open);
        }
        let mut items = Vec::new();
        loop {
            match self.peek().tok {
                Tok::Punct("]") => break,
                Tok::Eof => return Err(Error::source(open, "`[` is never closed")),
                _ => {}
            }
            if self.is_punct("...") {
                self.bump();
                self.expr(true)?;
            } else {
                items.push(self.expr(true)?);
            }
            if self.is_punct(",") {
                self.bump();
            } else if !self.is_punct("]") && !self.peek().newline_before {
                return Err(self.error_here("a line break, `,` or `]` after the array item"));
            }
        }
        self.bump();
        Ok(self.push(open, Kind::Array(items)))
    }

    fn for_loop(&mut self, open: usize) -> R<NodeId> {
        self.bump();
        let mut names = Vec::new();
        if self.is_punct("(") {
            self.bump();
            loop {
                names.push(self.expect_ident("a loop variable")?.0);
                if self.is_punct(",") {
                    self.bump();
                } else {
                    break;
                }
            }
            self.expect_punct(")")?;
        } else {
            names.push(self.expect_ident("a loop variable")?.0);
        }
        if !self.is_kw("in") {
            return Err(self.error_here("`in`"));
        }
        self.bump();
        self.expr(false)?;
        self.expect_punct(":")?;
        let body = if self.is_kw("if") {
            self.if_body()?
        } else {
            self.expr(true)?
        };
        self.expect_punct("]")?;
        Ok(self.push(open, Kind::For { names, body }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Doc {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {} at {}", e.message, e.offset))
    }

    /// `using none` marks a base parameter file; `extends '…'` names its base.
    #[test]
    fn base_parameter_files() {
        let d = ok("using none\nextends 'root.bicepparam'\nparam a = 1\n");
        assert!(d.using_none && d.using.is_none() && d.is_params_file());
        assert_eq!(d.extends.as_deref(), Some("root.bicepparam"));
        let d = ok("using 'main.bicep'\nparam a = 1\n");
        assert!(!d.using_none && d.extends.is_none() && d.is_params_file());
        assert!(!ok("param none string\n").is_params_file());
    }

    /// `'${x}'` gets a node for `x` right after the string's; other interpolations do not.
    #[test]
    fn a_lone_identifier_hole_is_a_node() {
        for (value, hole) in [
            ("'${rot}'", Some("rot")),
            ("'${  rot }'", Some("rot")),
            ("'${rot}x'", None),
            ("'${a}${b}'", None),
            ("'${a.b}'", None),
            ("'${true}'", None),
            ("'${'a'}'", None),
            ("'''${rot}'''", None),
        ] {
            let text = format!("var v = {value}\n");
            let doc = ok(&text);
            let id = doc.var("v").unwrap().value;
            let next = doc
                .nodes
                .get(id + 1)
                .map(|n| (&n.kind, &text[n.span.start..n.span.end]));
            match hole {
                Some(h) => assert_eq!(next, Some((&Kind::Ident(h.into()), h)), "{value}"),
                None => assert!(
                    !matches!(next, Some((Kind::Ident(_), _))),
                    "{value}: {next:?}"
                ),
            }
        }
    }

    #[test]
    fn declarations() {
        let doc = ok("targetScope = 'resourceGroup'\n\
             metadata name = 'x'\n\
             import { a, b as c } from 'br/public:x:1'\n\
             extension microsoftGraphV1\n\
             @description('''\nmulti\n''')\n\
             @allowed([\n  'false'\n  'true'\n])\n\
             #disable-next-line secure-secrets-in-params\n\
             param rot string = 'false'\n\
             param p resourceInput<'Microsoft.X/y@2024-01-01'>.properties.z?\n\
             param o {\n  @description('d')\n  a: string?\n  *: int\n} = {}\n\
             type t = 'a' | 'b'\n\
             func f(x string) string => '${x}!'\n\
             var v = { a: 1, b: [1, 2] }\n\
             output o string = v.?a ?? 'n'\n");
        assert_eq!(doc.params.len(), 3);
        assert_eq!(doc.params[0].decorators[1].name, "allowed");
        assert_eq!(doc.params[0].type_text, "string");
        assert!(doc.params[1].default.is_none());
        assert_eq!(doc.vars[0].name, "v");
        let obj = doc.object(doc.vars[0].value).unwrap();
        assert_eq!(obj.members.len(), 2);
        assert_eq!(doc.types.len(), 1);
        assert_eq!(
            (doc.types[0].name.as_str(), doc.types[0].text.as_str()),
            ("t", "'a' | 'b'")
        );
        assert_eq!(doc.outputs.len(), 1);
        assert_eq!(doc.outputs[0].name, "o");
        assert_eq!(doc.outputs[0].type_text, "string");
    }

    #[test]
    fn types_and_outputs_are_kept() {
        let doc = ok("@description('on or off')
             type onOff =
  | 'False'
  | 'True'
             type cfg = {
  a: onOff?
}
             output ids array = [for x in xs: x.id]
             output r resource 'T/u@1' = r
");
        assert_eq!(doc.types[0].name, "onOff");
        assert_eq!(doc.types[0].text, "| 'False'\n  | 'True'");
        assert_eq!(doc.types[0].decorators[0].name, "description");
        assert_eq!(doc.types[1].text, "{\n  a: onOff?\n}");
        assert_eq!(doc.outputs.len(), 2);
        assert!(matches!(
            doc.node(doc.outputs[0].value).kind,
            Kind::For { .. }
        ));
        assert_eq!(doc.outputs[1].type_text, "resource 'T/u@1'");
    }

    #[test]
    fn imports_are_kept() {
        let doc = ok("import { a, b as c,\n  d } from './shared.bicep'\nimport * as ns from 'br/public:x:1'\n\
             import 'az@1.0.0'\nimport {} from 'e.bicep'\n");
        assert_eq!(doc.imports.len(), 3);
        let names: Vec<(&str, &str)> = doc.imports[0]
            .names
            .iter()
            .map(|(e, l)| (e.as_str(), l.as_str()))
            .collect();
        assert_eq!(names, [("a", "a"), ("b", "c"), ("d", "d")]);
        assert_eq!(doc.imports[0].from, "./shared.bicep");
        assert_eq!(doc.imports[1].namespace.as_deref(), Some("ns"));
        assert_eq!(doc.imports[1].from, "br/public:x:1");
        assert!(doc.imports[2].names.is_empty());
    }

    #[test]
    fn functions_are_kept() {
        let doc = ok("@export()\nfunc name(prefix string, i int) string => '${prefix}-${i}'\nfunc none() bool => true\n");
        assert_eq!(doc.funcs.len(), 2);
        assert_eq!(doc.funcs[0].name, "name");
        assert_eq!(doc.funcs[0].signature, "(prefix string, i int) string");
        assert!(matches!(doc.node(doc.funcs[0].body).kind, Kind::Expr));
        assert_eq!(doc.funcs[1].signature, "() bool");
        assert_eq!(doc.node(doc.funcs[1].body).kind, Kind::Bool(true));
    }

    #[test]
    fn resource_forms() {
        let doc = ok("resource a 'Microsoft.ContainerService/managedClusters@2024-01-01' = {\n\
             name: 'a'\n\
             resource child 'agentPools@2024-01-01' = {\n name: 'p'\n }\n\
             }\n\
             resource b 'T/u@1' existing = if (x) {\n name: 'b'\n}\n\
             resource c 'T/u@1' = [for (x, i) in xs: if (i > 0) {\n name: x\n}]\n\
             module m 'br/public:avm/res/container-service/managed-cluster:0.9.0' = [for x in xs: {\n name: x\n}]\n");
        assert_eq!(doc.resources.len(), 4);
        assert_eq!(
            doc.resources[1].target,
            "Microsoft.ContainerService/managedClusters/agentPools@2024-01-01"
        );
        assert_eq!(doc.symbolic_name(1), "a::child");
        assert!(doc.resources[2].existing);
        assert!(matches!(
            doc.node(doc.resources[2].body).kind,
            Kind::If { .. }
        ));
        assert!(
            matches!(&doc.node(doc.resources[3].body).kind, Kind::For { names, .. } if names == &["x", "i"])
        );
        assert_eq!(doc.modules.len(), 1);
    }

    #[test]
    fn expressions() {
        ok("var a = x.?y[?0]!.z ?? (c ? d : e)\n\
             var b = map(xs, (x, i) => { n: x })\n\
             var c = !empty(x) && y || -1 == z\n\
             var d = {\n  a: cond\n    ? {\n        b: 1\n      }\n    : null\n  ...rest\n  'quoted-key': 2\n}\n\
             var e = [\n  1\n  -2\n  ...others\n]\n\
             var f = sys.union(a, b)\n\
             var g = $'''\n${x}\n'''\n");
    }

    #[test]
    fn single_line_objects_and_crlf() {
        let doc = ok("var a = { x: 1, y: { z: true } }\r\nvar b = {\r\n  p: 'q'\r}\r\n");
        let a = doc.object(doc.vars[0].value).unwrap();
        assert_eq!(a.members.len(), 2);
        let b = doc.object(doc.vars[1].value).unwrap();
        assert_eq!(b.members[0].key.as_deref(), Some("p"));
    }

    #[test]
    fn calls_and_ternaries_keep_structure() {
        let doc = ok("var a = toLower(string(p))\nvar b = c ? 'x' : 'y'\n");
        assert!(
            matches!(&doc.node(doc.vars[0].value).kind, Kind::Call { name, args } if name == "toLower" && args.len() == 1)
        );
        assert!(matches!(
            doc.node(doc.vars[1].value).kind,
            Kind::Ternary { .. }
        ));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("var a = {\n  b: 1 c: 2\n}\n").unwrap_err();
        assert_eq!(e.offset, 17);
        let e = parse("var a = {\n  b: 1\n").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(e.message.contains("never closed"));
        assert!(parse("resource x 'T@1' = 3\n").is_err());
        assert!(parse("bogus x\n").is_err());
        assert!(parse("var a = 1 var b = 2\n").is_err());
        // A parameter without a type does not swallow the next declaration.
        assert_eq!(ok("param x\nvar y = 1\n").vars.len(), 1);
        assert!(parse("type t =\n").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("var a = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&text).unwrap_err().message.contains("nesting"));
        let text = format!("var a = {}x\n", "!".repeat(5000));
        assert!(parse(&text).is_err());
        for (open, close) in [
            ("{a: ", "}"),
            ("f(", ")"),
            ("(", ")"),
            ("x => ", ""),
            ("a ? ", " : b"),
            ("'${", "}'"),
            ("[for x in y: ", "]"),
        ] {
            let text = format!("var a = {}1{}\n", open.repeat(3000), close.repeat(3000));
            assert!(parse(&text).is_err(), "{open}");
            // Just under the cap, on a test thread's small stack, in a debug build.
            let text = format!("var a = {}1{}\n", open.repeat(30), close.repeat(30));
            ok(&text);
        }
        let text = format!("var a = {}1{}\n", "{a: [".repeat(48), "]}".repeat(48));
        ok(&text);
    }
}
