//! Reads the text of one Bicep value (any expression, or a resource body with `if`/`for`)
//! into an [`Expr`] tree for the evaluator in [`super::bicep`]: the syntax tree of
//! `crate::lang::bicep::ast` keeps operators, property access and interpolated strings as opaque
//! spans, so their text is re-lexed here (with the same lexer) and parsed by precedence
//! climbing. Nothing here fails: what cannot be read becomes [`E::Unknown`] with the reason,
//! and nesting deeper than [`MAX_DEPTH`] is such a reason.

use super::MAX_DEPTH;
use crate::lang::bicep::ast::Span;
use crate::lang::bicep::lexer::{lex, Tok, Token};

/// One parsed expression with its span in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub(crate) span: Span,
    pub(crate) kind: E,
}

/// What an expression is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum E {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// An interpolated string: literal text and holes in order.
    Interp(Vec<Part>),
    /// Items; `true` marks a `...spread`.
    Array(Vec<(bool, Expr)>),
    Object(Vec<Entry>),
    Ident(String),
    /// A call of a function by name (`sys.`/`az.` dropped).
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `a.b` (`safe`: `a.?b`); also `a::b`.
    Member {
        target: Box<Expr>,
        name: String,
        safe: bool,
    },
    /// `a[i]` (`safe`: `a[?i]`).
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
        safe: bool,
    },
    /// `a!`.
    NonNull(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: &'static str,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        other: Box<Expr>,
    },
    /// `[for x in xs: body]`, `[for (x, i) in xs: body]`.
    For {
        names: Vec<String>,
        source: Box<Expr>,
        body: Box<Expr>,
    },
    /// `if (cond) body` (resource and module bodies, loop bodies).
    If {
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    /// Not evaluated offline (a lambda, a method call), or not readable; says why.
    Unknown(String),
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Text(String),
    Hole(Expr),
}

/// A member of an object literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    /// `key: value`; the key is a string or an interpolated string.
    Member(Expr, Expr),
    /// `...value`.
    Spread(Expr),
}

/// Parses the text of `span` in `text` as one value. Never fails: an unreadable value is an
/// [`E::Unknown`] whose reason quotes the text.
pub(crate) fn parse(text: &str, span: Span) -> Expr {
    parse_at(text, span, 0)
}

fn parse_at(text: &str, span: Span, depth: usize) -> Expr {
    let unknown = |why: String| Expr {
        span,
        kind: E::Unknown(why),
    };
    let Some(src) = text.get(span.start..span.end) else {
        return unknown("a span outside the file".into());
    };
    let shown = shorten(src);
    if depth > MAX_DEPTH {
        return unknown(format!(
            "`{shown}` is nested deeper than {MAX_DEPTH} levels"
        ));
    }
    let toks = match lex(src) {
        Ok((toks, _)) => toks,
        Err(e) => return unknown(format!("`{shown}` cannot be read: {e}")),
    };
    let mut p = P {
        text,
        base: span.start,
        toks,
        pos: 0,
        depth,
    };
    match p.expr(false) {
        Ok(e) if p.peek().tok == Tok::Eof => e,
        Ok(_) => unknown(format!(
            "`{shown}` cannot be read: unexpected `{}`",
            shorten(p.tok_text(p.pos))
        )),
        Err(why) => unknown(format!("`{shown}` cannot be read: {why}")),
    }
}

/// The first line of `s`, at most 60 characters, for messages.
pub(crate) fn shorten(s: &str) -> String {
    let s = s.trim();
    let line = s.lines().next().unwrap_or("");
    let short: String = line.chars().take(60).collect();
    if short.len() < s.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// The depth one level of nesting counts for while parsing: the parser's frames for one
/// level take about twice the stack of an evaluation's, and both stay within [`MAX_DEPTH`].
const PARSE_COST: usize = 2;

/// Tokens that continue an expression on a new line (as in `crate::lang::bicep::parser`).
const CONTINUATION: &[&str] = &[
    "?", ":", "??", "||", "&&", "==", "!=", "=~", "!~", "<", "<=", ">", ">=", "+", "*", "/", "%",
    ".", ".?", "::", "|", "=>",
];

/// Binding power of a binary operator (higher binds tighter).
fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "??" => 1,
        "||" => 2,
        "&&" => 3,
        "==" | "!=" | "=~" | "!~" => 4,
        "<" | "<=" | ">" | ">=" => 5,
        "+" | "-" => 6,
        "*" | "/" | "%" => 7,
        _ => return None,
    })
}

struct P<'a> {
    text: &'a str,
    /// Offset of the lexed text in the file.
    base: usize,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

type R<T> = Result<T, String>;

impl<'a> P<'a> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn tok_at(&self, i: usize) -> &Token {
        &self.toks[i.min(self.toks.len() - 1)]
    }

    fn tok_text(&self, i: usize) -> &'a str {
        let t = self.tok_at(i);
        &self.text[self.base + t.start..self.base + t.end]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek().tok, Tok::Punct(q) if q == p)
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.peek().tok == Tok::Ident && self.tok_text(self.pos) == kw
    }

    fn expect(&mut self, p: &str) -> R<()> {
        if self.is_punct(p) {
            self.bump();
            Ok(())
        } else {
            Err(format!(
                "expected `{p}`, found `{}`",
                shorten(self.tok_text(self.pos))
            ))
        }
    }

    fn ident(&mut self) -> R<String> {
        if self.peek().tok == Tok::Ident {
            let i = self.pos;
            self.bump();
            Ok(self.tok_text(i).to_string())
        } else {
            Err(format!(
                "expected a name, found `{}`",
                shorten(self.tok_text(self.pos))
            ))
        }
    }

    fn start(&self) -> usize {
        self.base + self.peek().start
    }

    fn end(&self) -> usize {
        if self.pos == 0 {
            self.base
        } else {
            self.base + self.toks[self.pos - 1].end
        }
    }

    fn node(&self, start: usize, kind: E) -> Expr {
        Expr {
            span: Span {
                start,
                end: self.end().max(start),
            },
            kind,
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += PARSE_COST;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn at_op(&self, p: &str, nl: bool) -> bool {
        let t = self.peek();
        matches!(t.tok, Tok::Punct(q) if q == p)
            && (!nl || !t.newline_before || CONTINUATION.contains(&p))
    }

    /// An expression; `nl` when a line break ends it (object members, array items).
    fn expr(&mut self, nl: bool) -> R<Expr> {
        self.enter()?;
        let r = self.ternary(nl);
        self.depth -= PARSE_COST;
        r
    }

    fn ternary(&mut self, nl: bool) -> R<Expr> {
        let start = self.start();
        let cond = self.binary(nl, 1)?;
        if !self.at_op("?", nl) {
            return Ok(cond);
        }
        self.bump();
        let then = self.expr(nl)?;
        if !self.at_op(":", nl) {
            return Err("expected `:` in the conditional expression".into());
        }
        self.bump();
        let other = self.expr(nl)?;
        Ok(self.node(
            start,
            E::Ternary {
                cond: Box::new(cond),
                then: Box::new(then),
                other: Box::new(other),
            },
        ))
    }

    fn binary(&mut self, nl: bool, min: u8) -> R<Expr> {
        let start = self.start();
        let mut left = self.unary(nl)?;
        // Each operator of a chain nests the tree one level deeper.
        let saved = self.depth;
        let r = self.binary_rest(nl, min, start, &mut left);
        self.depth = saved;
        r.map(|()| left)
    }

    fn binary_rest(&mut self, nl: bool, min: u8, start: usize, left: &mut Expr) -> R<()> {
        while let Tok::Punct(op) = self.peek().tok {
            let Some(prec) = precedence(op) else { break };
            if prec < min || !self.at_op(op, nl) {
                break;
            }
            self.bump();
            self.enter()?;
            let right = self.binary(nl, prec + 1)?;
            let l = std::mem::replace(left, self.node(start, E::Null));
            *left = self.node(
                start,
                E::Binary {
                    op,
                    left: Box::new(l),
                    right: Box::new(right),
                },
            );
        }
        Ok(())
    }

    fn unary(&mut self, nl: bool) -> R<Expr> {
        if self.is_punct("!") || self.is_punct("-") {
            let start = self.start();
            let not = self.is_punct("!");
            self.bump();
            self.enter()?;
            let inner = self.unary(nl);
            self.depth -= PARSE_COST;
            let inner = Box::new(inner?);
            // `-5` is the literal -5 (so i64::MIN can be written).
            if !not {
                if let E::Int(i) = inner.kind {
                    return Ok(self.node(start, E::Int(-i)));
                }
                if let E::Unknown(why) = &inner.kind {
                    if why.contains("is too large") {
                        let raw = &self.text[inner.span.start..inner.span.end];
                        if let Ok(i) = format!("-{raw}").parse::<i64>() {
                            return Ok(self.node(start, E::Int(i)));
                        }
                    }
                }
            }
            return Ok(self.node(start, if not { E::Not(inner) } else { E::Neg(inner) }));
        }
        self.postfix(nl)
    }

    fn postfix(&mut self, nl: bool) -> R<Expr> {
        // Each link of a chain nests the tree one level deeper.
        let saved = self.depth;
        let r = self.postfix_chain(nl);
        self.depth = saved;
        r
    }

    fn postfix_chain(&mut self, nl: bool) -> R<Expr> {
        let start = self.start();
        let mut e = self.primary(nl)?;
        loop {
            let t = self.peek().clone();
            let fresh_line = nl && t.newline_before;
            match t.tok {
                Tok::Punct(p @ ("." | ".?" | "::")) => {
                    self.bump();
                    let name = self.ident()?;
                    self.enter()?;
                    e = self.node(
                        start,
                        E::Member {
                            target: Box::new(e),
                            name,
                            safe: p == ".?",
                        },
                    );
                }
                Tok::Punct("(") if !fresh_line => {
                    self.bump();
                    let args = self.args()?;
                    let name = match &e.kind {
                        E::Ident(n) => Some(n.clone()),
                        E::Member {
                            target,
                            name,
                            safe: false,
                        } => match &target.kind {
                            E::Ident(ns) if ns == "sys" || ns == "az" => Some(name.clone()),
                            // A namespace's function, or a resource's method: the evaluator
                            // tells them apart.
                            E::Ident(ns) => Some(format!("{ns}.{name}")),
                            _ => None,
                        },
                        _ => None,
                    };
                    let kind = match name {
                        Some(name) => E::Call { name, args },
                        None => {
                            let end = self.end();
                            E::Unknown(format!(
                                "`{}` calls a method of a resource or a namespace, which is not \
                                 evaluated offline",
                                shorten(&self.text[start..end])
                            ))
                        }
                    };
                    self.enter()?;
                    e = self.node(start, kind);
                }
                Tok::Punct("[") if !fresh_line => {
                    self.bump();
                    let safe = self.is_punct("?");
                    if safe {
                        self.bump();
                    }
                    let index = self.expr(false)?;
                    self.expect("]")?;
                    self.enter()?;
                    e = self.node(
                        start,
                        E::Index {
                            target: Box::new(e),
                            index: Box::new(index),
                            safe,
                        },
                    );
                }
                Tok::Punct("!") if !t.newline_before => {
                    self.bump();
                    self.enter()?;
                    e = self.node(start, E::NonNull(Box::new(e)));
                }
                _ => break,
            }
        }
        Ok(e)
    }

    /// Call arguments after `(`, through `)`.
    fn args(&mut self) -> R<Vec<Expr>> {
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
                return Err("expected `,` or `)`".into());
            }
        }
    }

    /// Whether the `(` at the current position closes with `) =>` (a lambda).
    fn lambda_ahead(&self) -> bool {
        let mut depth = 0usize;
        let mut i = self.pos;
        loop {
            match self.tok_at(i).tok {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => {
                    depth -= 1;
                    if depth == 0 {
                        return matches!(self.tok_at(i + 1).tok, Tok::Punct("=>"));
                    }
                }
                Tok::Eof => return false,
                _ => {}
            }
            i += 1;
        }
    }

    fn lambda(&mut self, start: usize, nl: bool) -> R<Expr> {
        self.expect("=>")?;
        self.expr(nl)?;
        let end = self.end();
        Ok(self.node(
            start,
            E::Unknown(format!(
                "the lambda `{}` is not evaluated offline",
                shorten(&self.text[start..end])
            )),
        ))
    }

    fn primary(&mut self, nl: bool) -> R<Expr> {
        let start = self.start();
        let t = self.peek().clone();
        match &t.tok {
            Tok::Punct("{") => self.object(),
            Tok::Punct("[") => self.array(),
            Tok::Punct("(") => {
                if self.lambda_ahead() {
                    self.bump();
                    while !self.is_punct(")") {
                        self.bump();
                    }
                    self.bump();
                    return self.lambda(start, nl);
                }
                self.bump();
                let inner = self.expr(false)?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Ident => {
                let name = self.tok_text(self.pos);
                self.bump();
                if self.is_punct("=>") {
                    return self.lambda(start, nl);
                }
                if name == "if" && self.is_punct("(") {
                    self.bump();
                    let cond = self.expr(false)?;
                    self.expect(")")?;
                    let body = self.expr(nl)?;
                    return Ok(self.node(
                        start,
                        E::If {
                            cond: Box::new(cond),
                            body: Box::new(body),
                        },
                    ));
                }
                let kind = match name {
                    "true" => E::Bool(true),
                    "false" => E::Bool(false),
                    "null" => E::Null,
                    _ => E::Ident(name.to_string()),
                };
                Ok(self.node(start, kind))
            }
            Tok::Str { value } => {
                self.bump();
                let kind = match value {
                    Some(v) => E::Str(v.clone()),
                    None => {
                        let raw = &self.text[start..self.end()];
                        match interpolation(self.text, start, raw, self.depth) {
                            Some(parts) => E::Interp(parts),
                            None => {
                                E::Unknown(format!("the string `{}` cannot be read", shorten(raw)))
                            }
                        }
                    }
                };
                Ok(self.node(start, kind))
            }
            Tok::Int => {
                self.bump();
                let raw = &self.text[start..self.end()];
                let kind = match raw.parse::<i64>() {
                    Ok(i) => E::Int(i),
                    Err(_) if raw.contains('.') => {
                        E::Unknown(format!("the number {raw} is not an integer"))
                    }
                    Err(_) => E::Unknown(format!("the number {raw} is too large")),
                };
                Ok(self.node(start, kind))
            }
            _ => Err(format!(
                "expected a value, found `{}`",
                shorten(self.tok_text(self.pos))
            )),
        }
    }

    /// Skips decorators (`@batchSize(2)`) before object members and nested resources.
    fn decorators(&mut self) -> R<()> {
        while self.is_punct("@") {
            self.bump();
            self.postfix(false)?;
        }
        Ok(())
    }

    fn object(&mut self) -> R<Expr> {
        let start = self.start();
        self.bump();
        let mut entries = Vec::new();
        loop {
            if self.is_punct("}") {
                break;
            }
            if self.peek().tok == Tok::Eof {
                return Err("`{` is never closed".into());
            }
            self.decorators()?;
            if self.is_punct("...") {
                self.bump();
                entries.push(Entry::Spread(self.expr(true)?));
            } else if self.is_kw("resource")
                && self.tok_at(self.pos + 1).tok == Tok::Ident
                && matches!(self.tok_at(self.pos + 2).tok, Tok::Str { .. })
            {
                // A nested child resource: a declaration of its own, not a member.
                self.bump();
                self.bump();
                self.bump();
                if self.is_kw("existing") {
                    self.bump();
                }
                self.expect("=")?;
                self.expr(true)?;
            } else {
                let key_start = self.start();
                let key = match &self.peek().tok {
                    Tok::Ident => {
                        let name = self.tok_text(self.pos).to_string();
                        self.bump();
                        self.node(key_start, E::Str(name))
                    }
                    // A string, or an interpolated one.
                    Tok::Str { .. } => self.primary(true)?,
                    _ => return Err("expected a property name or `}`".into()),
                };
                self.expect(":")?;
                let value = self.expr(true)?;
                entries.push(Entry::Member(key, value));
            }
            if self.is_punct(",") {
                self.bump();
            } else if !self.is_punct("}") && !self.peek().newline_before {
                return Err("expected a line break, `,` or `}` after the object member".into());
            }
        }
        self.bump();
        Ok(self.node(start, E::Object(entries)))
    }

    fn array(&mut self) -> R<Expr> {
        let start = self.start();
        self.bump();
        if self.is_kw("for") {
            return self.for_loop(start);
        }
        let mut items = Vec::new();
        loop {
            if self.is_punct("]") {
                break;
            }
            if self.peek().tok == Tok::Eof {
                return Err("`[` is never closed".into());
            }
            let spread = self.is_punct("...");
            if spread {
                self.bump();
            }
            items.push((spread, self.expr(true)?));
            if self.is_punct(",") {
                self.bump();
            } else if !self.is_punct("]") && !self.peek().newline_before {
                return Err("expected a line break, `,` or `]` after the array item".into());
            }
        }
        self.bump();
        Ok(self.node(start, E::Array(items)))
    }

    fn for_loop(&mut self, start: usize) -> R<Expr> {
        self.bump();
        let mut names = Vec::new();
        if self.is_punct("(") {
            self.bump();
            loop {
                names.push(self.ident()?);
                if self.is_punct(",") {
                    self.bump();
                } else {
                    break;
                }
            }
            self.expect(")")?;
        } else {
            names.push(self.ident()?);
        }
        if !self.is_kw("in") {
            return Err("expected `in`".into());
        }
        self.bump();
        let source = self.expr(false)?;
        self.expect(":")?;
        let body = self.expr(true)?;
        self.expect("]")?;
        Ok(self.node(
            start,
            E::For {
                names,
                source: Box::new(source),
                body: Box::new(body),
            },
        ))
    }
}

/// The parts of an interpolated string token `raw` (at offset `at` of `text`): `'…${x}…'` or
/// `$'''…${x}…'''` (with as many `$` as open a hole). `None` when it cannot be read.
fn interpolation(text: &str, at: usize, raw: &str, depth: usize) -> Option<Vec<Part>> {
    let dollars = raw.bytes().take_while(|b| *b == b'$').count();
    let multiline = raw[dollars..].starts_with("'''");
    let (body_start, body_end) = if multiline {
        (dollars + 3, raw.len().checked_sub(3)?)
    } else {
        (1, raw.len().checked_sub(1)?)
    };
    let b = raw.as_bytes();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = body_start;
    if multiline {
        if raw[i..].starts_with("\r\n") {
            i += 2;
        } else if raw[i..].starts_with('\n') {
            i += 1;
        }
    }
    while i < body_end {
        let opens_hole = if multiline {
            let run = b[i..].iter().take_while(|c| **c == b'$').count();
            if dollars > 0 && run >= dollars && b.get(i + run) == Some(&b'{') {
                lit.push_str(&raw[i..i + run - dollars]);
                i += run - dollars;
                Some(dollars + 1)
            } else {
                None
            }
        } else if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            Some(2)
        } else {
            None
        };
        if let Some(open) = opens_hole {
            let inner = i + open;
            let close = hole_end(raw, inner)?;
            if !lit.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut lit)));
            }
            let span = Span {
                start: at + inner,
                end: at + close,
            };
            parts.push(Part::Hole(parse_at(text, span, depth + PARSE_COST)));
            i = close + 1;
            continue;
        }
        if !multiline && b[i] == b'\\' {
            let (c, len) = match b.get(i + 1)? {
                b'\\' => ('\\', 2),
                b'\'' => ('\'', 2),
                b'n' => ('\n', 2),
                b'r' => ('\r', 2),
                b't' => ('\t', 2),
                b'$' => ('$', 2),
                b'u' => {
                    let close = raw[i..].find('}')?;
                    let hex = raw.get(i + 3..i + close)?;
                    (
                        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?,
                        close + 1,
                    )
                }
                _ => return None,
            };
            lit.push(c);
            i += len;
            continue;
        }
        let c = raw[i..].chars().next()?;
        lit.push(c);
        i += c.len_utf8();
    }
    if !lit.is_empty() {
        parts.push(Part::Text(lit));
    }
    Some(parts)
}

/// The offset of the `}` that closes the hole whose contents start at `from`, skipping
/// strings (with their own holes), braces and comments inside.
fn hole_end(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i += s[i..].find('\n')?;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2 + s[i + 2..].find("*/")? + 1;
            }
            b'\'' if s[i..].starts_with("'''") => {
                i += 3 + s[i + 3..].find("'''")? + 2;
            }
            b'\'' => {
                i += 1;
                loop {
                    match *b.get(i)? {
                        b'\\' => i += 2,
                        b'\'' => break,
                        b'$' if b.get(i + 1) == Some(&b'{') => i = hole_end(s, i + 2)? + 1,
                        _ => i += 1,
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Expr {
        parse(
            src,
            Span {
                start: 0,
                end: src.len(),
            },
        )
    }

    /// A compact rendering of the tree, for table-like assertions.
    fn show(e: &Expr) -> String {
        match &e.kind {
            E::Null => "null".into(),
            E::Bool(b) => b.to_string(),
            E::Int(i) => i.to_string(),
            E::Str(s) => format!("{s:?}"),
            E::Interp(parts) => {
                let ps: Vec<String> = parts
                    .iter()
                    .map(|p| match p {
                        Part::Text(t) => format!("{t:?}"),
                        Part::Hole(h) => format!("${{{}}}", show(h)),
                    })
                    .collect();
                format!("interp({})", ps.join(" "))
            }
            E::Array(items) => {
                let is: Vec<String> = items
                    .iter()
                    .map(|(s, e)| format!("{}{}", if *s { "..." } else { "" }, show(e)))
                    .collect();
                format!("[{}]", is.join(", "))
            }
            E::Object(entries) => {
                let es: Vec<String> = entries
                    .iter()
                    .map(|en| match en {
                        Entry::Member(k, v) => format!("{}: {}", show(k), show(v)),
                        Entry::Spread(v) => format!("...{}", show(v)),
                    })
                    .collect();
                format!("{{{}}}", es.join(", "))
            }
            E::Ident(n) => n.clone(),
            E::Call { name, args } => {
                let a: Vec<String> = args.iter().map(show).collect();
                format!("{name}({})", a.join(", "))
            }
            E::Member { target, name, safe } => {
                format!("{}{}{name}", show(target), if *safe { ".?" } else { "." })
            }
            E::Index {
                target,
                index,
                safe,
            } => format!(
                "{}[{}{}]",
                show(target),
                if *safe { "?" } else { "" },
                show(index)
            ),
            E::NonNull(t) => format!("{}!", show(t)),
            E::Not(t) => format!("(!{})", show(t)),
            E::Neg(t) => format!("(-{})", show(t)),
            E::Binary { op, left, right } => format!("({} {op} {})", show(left), show(right)),
            E::Ternary { cond, then, other } => {
                format!("({} ? {} : {})", show(cond), show(then), show(other))
            }
            E::For {
                names,
                source,
                body,
            } => format!(
                "[for {} in {}: {}]",
                names.join(","),
                show(source),
                show(body)
            ),
            E::If { cond, body } => format!("if {} {}", show(cond), show(body)),
            E::Unknown(why) => format!("?({why})"),
        }
    }

    #[test]
    fn precedence_and_associativity() {
        for (src, want) in [
            ("a || b && c == d", "(a || (b && (c == d)))"),
            ("1 + 2 * 3 - 4 % 5", "((1 + (2 * 3)) - (4 % 5))"),
            ("a ?? b || c", "(a ?? (b || c))"),
            ("x < 1 == y >= 2", "((x < 1) == (y >= 2))"),
            ("!a && -b < -3", "((!a) && ((-b) < -3))"),
            (
                "a =~ 'X' ? 1 : b !~ c ? 2 : 3",
                "((a =~ \"X\") ? 1 : ((b !~ c) ? 2 : 3))",
            ),
            ("(a ? b : c).d", "(a ? b : c).d"),
            ("-9223372036854775808", "-9223372036854775808"),
        ] {
            assert_eq!(show(&p(src)), want, "{src}");
        }
    }

    #[test]
    fn postfix_forms_and_calls() {
        for (src, want) in [
            ("a.?b[?0]!.c ?? d", "(a.?b[?0]!.c ?? d)"),
            ("sys.union(a, { x: 1 })", "union(a, {\"x\": 1})"),
            ("az.resourceGroup().location", "resourceGroup().location"),
            ("p::c.id", "p.c.id"),
            ("toLower(string(x))[0]", "toLower(string(x))[0]"),
        ] {
            assert_eq!(show(&p(src)), want, "{src}");
        }
        assert_eq!(show(&p("kv.getSecret('s')")), "kv.getSecret(\"s\")");
        let e = show(&p("a.b.c('s')"));
        assert!(e.starts_with("?(`a.b.c('s')` calls a method"), "{e}");
    }

    #[test]
    fn lambdas_are_unknown_values() {
        let e = show(&p("map(xs, x => x.name)"));
        assert!(e.starts_with("map(xs, ?(the lambda `x => x.name`"), "{e}");
        let e = show(&p("reduce(xs, 0, (cur, next) => cur + next)"));
        assert!(
            e.contains("?(the lambda `(cur, next) => cur + next`"),
            "{e}"
        );
        assert_eq!(show(&p("(a + b) * 2")), "((a + b) * 2)");
    }

    #[test]
    fn interpolated_strings() {
        assert_eq!(
            show(&p("'aks-${env}-${i + 1}\\'s'")),
            "interp(\"aks-\" ${env} \"-\" ${(i + 1)} \"'s\")"
        );
        assert_eq!(
            show(&p("'${f('}')}${ {a: 'x${y}'}.a }'")),
            "interp(${f(\"}\")} ${{\"a\": interp(\"x\" ${y})}.a})"
        );
        assert_eq!(show(&p("$$'''\n${x} $${y}'''")), "interp(\"${x} \" ${y})");
    }

    #[test]
    fn objects_arrays_loops_and_bodies() {
        assert_eq!(
            show(&p("{\n  a: c\n    ? 1\n    : 2\n  ...rest\n  'b-c': [\n    1\n    -2\n    ...xs\n  ]\n  '${k}': 3\n}")),
            "{\"a\": (c ? 1 : 2), ...rest, \"b-c\": [1, -2, ...xs], interp(${k}): 3}"
        );
        assert_eq!(
            show(&p("[for (x, i) in range(0, 2): if (i > 0) {\n  name: x\n  @description('c')\n  resource child 'sub@1' = {\n    name: 'c'\n  }\n}]")),
            "[for x,i in range(0, 2): if (i > 0) {\"name\": x}]"
        );
        assert_eq!(
            show(&p("if (deploy) {\n  name: 'a'\n}")),
            "if deploy {\"name\": \"a\"}"
        );
    }

    #[test]
    fn unreadable_text_is_unknown_with_its_reason() {
        for src in [
            "a +",
            "{ a: 1 b: 2 }",
            "'open",
            "1.5",
            "99999999999999999999",
            "a b",
        ] {
            let e = p(src);
            assert!(matches!(e.kind, E::Unknown(_)), "{src}: {}", show(&e));
        }
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(show(&p(&deep)).contains(&format!("deeper than {MAX_DEPTH}")));
        let deep = format!("{}x", "!".repeat(200));
        assert!(show(&p(&deep)).contains(&format!("deeper than {MAX_DEPTH}")));
        let deep = format!("x{}", ".a".repeat(200));
        assert!(show(&p(&deep)).contains(&format!("deeper than {MAX_DEPTH}")));
        let deep = format!("{}1{}", "'${".repeat(100), "}'".repeat(100));
        assert!(show(&p(&deep)).contains("?("));
    }
}
