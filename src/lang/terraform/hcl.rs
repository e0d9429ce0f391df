//! Reads Terraform's native syntax (HCL) into armfix's own small tree with byte spans: the
//! `hcl-edit` crate parses (it keeps every comment and blank), and this module is the only
//! place that knows its types. Planning and evaluation see [`Body`], [`Block`], [`Attr`] and
//! [`Expr`], each with the byte range of its text.

use crate::error::Error;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Body as HBody, Structure};

/// A byte range of the source.
pub(crate) type Span = (usize, usize);

/// A body: the attributes and blocks of a file or of a block, in source order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Body {
    pub(crate) items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Attr(Attr),
    Block(Block),
}

/// `key = value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attr {
    pub(crate) key: String,
    /// The whole attribute, from its key to the end of its value.
    pub(crate) span: Span,
    pub(crate) key_span: Span,
    pub(crate) value: Expr,
}

/// `ident "label" ... { body }`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    pub(crate) ident: String,
    pub(crate) labels: Vec<String>,
    /// From the identifier to the closing brace (included).
    pub(crate) span: Span,
    pub(crate) body: Body,
}

/// An expression with the byte range of its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub(crate) span: Span,
    pub(crate) kind: ExprKind,
}

/// The expressions armfix reads; anything else is [`ExprKind::Other`] (evaluated as Unknown).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    /// A number that is not an integer, as written.
    Number(String),
    Str(String),
    Array(Vec<Expr>),
    Object(Vec<Member>),
    /// A name and what follows it: `var.x`, `local.y["k"]`, `each.value`.
    Traversal(String, Vec<Step>),
    /// Any other expression followed by steps (`(x).y`, `f(x)[0]`).
    Access(Box<Expr>, Vec<Step>),
    Call(String, Vec<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Paren(Box<Expr>),
    /// `[for k, v in coll : value if cond]`, `{for k, v in coll : key => value... if cond}`.
    For(Box<For>),
    /// A string template with interpolations, a heredoc.
    Other,
}

/// A `for` expression: its iterator names, collection, result expressions and filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct For {
    pub(crate) key_var: Option<String>,
    pub(crate) value_var: String,
    pub(crate) collection: Expr,
    /// The key expression of an object `for` (`None`: a list).
    pub(crate) key: Option<Expr>,
    pub(crate) value: Expr,
    /// `...` after the value: entries of the same key are grouped in a list.
    pub(crate) grouping: bool,
    pub(crate) cond: Option<Expr>,
}

/// One member of an object expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    /// As written (an identifier or a literal string); `None` for a computed key.
    pub(crate) key: Option<String>,
    pub(crate) key_span: Span,
    pub(crate) value: Expr,
}

/// One step of a traversal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Attr(String),
    Index(Expr),
    /// `[*]` or `.*`.
    Splat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    And,
    Or,
    Plus,
    Minus,
    Mul,
    Div,
    Mod,
}

impl Expr {
    /// The member `key` of an object expression.
    pub(crate) fn member(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            ExprKind::Object(ms) => ms.iter().rev().find(|m| m.key.as_deref() == Some(key)),
            _ => None,
        }
    }
}

impl Body {
    /// The attributes named `key`.
    pub(crate) fn attr(&self, key: &str) -> Option<&Attr> {
        self.items.iter().find_map(|i| match i {
            Item::Attr(a) if a.key == key => Some(a),
            _ => None,
        })
    }

    /// The blocks of type `ident`, in order.
    pub(crate) fn blocks<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.items.iter().filter_map(move |i| match i {
            Item::Block(b) if b.ident == ident => Some(b),
            _ => None,
        })
    }

    pub(crate) fn attrs(&self) -> impl Iterator<Item = &Attr> {
        self.items.iter().filter_map(|i| match i {
            Item::Attr(a) => Some(a),
            _ => None,
        })
    }
}

/// Parses a Terraform file (`.tf`, `.tfvars`).
pub(crate) fn parse(text: &str) -> Result<Body, Error> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        Error::source(
            offset_of(text, loc.line(), loc.column()).unwrap_or(loc.offset()),
            format!("invalid HCL: {}", e.message()),
        )
    })?;
    Ok(body_of(&body))
}

/// The byte offset of 1-based line and column (in characters), if within the text.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    Some(
        start
            + rest
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(rest.len(), |(i, _)| i),
    )
}

fn span_of(s: &impl hcl_edit::Span) -> Span {
    s.span().map_or((0, 0), |r| (r.start, r.end))
}

fn body_of(body: &HBody) -> Body {
    let items = body
        .iter()
        .map(|s| match s {
            Structure::Attribute(a) => Item::Attr(Attr {
                key: a.key.as_str().to_string(),
                span: span_of(a),
                key_span: span_of(&a.key),
                value: expr_of(&a.value),
            }),
            Structure::Block(b) => Item::Block(Block {
                ident: b.ident.as_str().to_string(),
                labels: b.labels.iter().map(|l| l.as_str().to_string()).collect(),
                span: span_of(b),
                body: body_of(&b.body),
            }),
        })
        .collect();
    Body { items }
}

fn expr_of(e: &Expression) -> Expr {
    let span = span_of(e);
    let kind = match e {
        Expression::Null(_) => ExprKind::Null,
        Expression::Bool(b) => ExprKind::Bool(*b.value()),
        Expression::Number(n) => match n.value().as_i64() {
            Some(i) if n.value().is_i64() || n.value().is_u64() => ExprKind::Int(i),
            _ => ExprKind::Number(n.value().to_string()),
        },
        Expression::String(s) => ExprKind::Str(s.value().to_string()),
        Expression::Array(a) => ExprKind::Array(a.iter().map(expr_of).collect()),
        Expression::Object(o) => ExprKind::Object(
            o.iter()
                .map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Ident(i) => Some(i.as_str().to_string()),
                        ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
                        ObjectKey::Expression(_) => None,
                    };
                    Member {
                        key,
                        key_span: span_of(k),
                        value: expr_of(v.expr()),
                    }
                })
                .collect(),
        ),
        Expression::Parenthesis(p) => ExprKind::Paren(Box::new(expr_of(p.inner()))),
        Expression::Variable(v) => ExprKind::Traversal(v.as_str().to_string(), Vec::new()),
        Expression::Conditional(c) => ExprKind::Cond(
            Box::new(expr_of(&c.cond_expr)),
            Box::new(expr_of(&c.true_expr)),
            Box::new(expr_of(&c.false_expr)),
        ),
        Expression::FuncCall(f) => {
            let mut name = String::new();
            for ns in &f.name.namespace {
                name.push_str(ns.as_str());
                name.push_str("::");
            }
            name.push_str(f.name.name.as_str());
            ExprKind::Call(name, f.args.iter().map(expr_of).collect())
        }
        Expression::Traversal(t) => {
            let steps: Vec<Step> = t
                .operators
                .iter()
                .map(|op| match op.value() {
                    TraversalOperator::GetAttr(i) => Step::Attr(i.as_str().to_string()),
                    TraversalOperator::Index(x) => Step::Index(expr_of(x)),
                    TraversalOperator::LegacyIndex(i) => Step::Index(Expr {
                        span: span_of(op),
                        kind: ExprKind::Int(i64::try_from(*i.value()).unwrap_or(i64::MAX)),
                    }),
                    TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                        Step::Splat
                    }
                })
                .collect();
            match &t.expr {
                Expression::Variable(v) => ExprKind::Traversal(v.as_str().to_string(), steps),
                other => ExprKind::Access(Box::new(expr_of(other)), steps),
            }
        }
        Expression::UnaryOp(u) => match u.operator.value() {
            UnaryOperator::Not => ExprKind::Not(Box::new(expr_of(&u.expr))),
            UnaryOperator::Neg => ExprKind::Neg(Box::new(expr_of(&u.expr))),
        },
        Expression::BinaryOp(b) => {
            let op = match b.operator.value() {
                BinaryOperator::Eq => BinOp::Eq,
                BinaryOperator::NotEq => BinOp::NotEq,
                BinaryOperator::Less => BinOp::Less,
                BinaryOperator::LessEq => BinOp::LessEq,
                BinaryOperator::Greater => BinOp::Greater,
                BinaryOperator::GreaterEq => BinOp::GreaterEq,
                BinaryOperator::And => BinOp::And,
                BinaryOperator::Or => BinOp::Or,
                BinaryOperator::Plus => BinOp::Plus,
                BinaryOperator::Minus => BinOp::Minus,
                BinaryOperator::Mul => BinOp::Mul,
                BinaryOperator::Div => BinOp::Div,
                BinaryOperator::Mod => BinOp::Mod,
            };
            ExprKind::Binary(
                op,
                Box::new(expr_of(&b.lhs_expr)),
                Box::new(expr_of(&b.rhs_expr)),
            )
        }
        Expression::ForExpr(f) => ExprKind::For(Box::new(For {
            key_var: f.intro.key_var.as_ref().map(|k| k.as_str().to_string()),
            value_var: f.intro.value_var.as_str().to_string(),
            collection: expr_of(&f.intro.collection_expr),
            key: f.key_expr.as_ref().map(expr_of),
            value: expr_of(&f.value_expr),
            grouping: f.grouping,
            cond: f.cond.as_ref().map(|c| expr_of(&c.expr)),
        })),
        Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => ExprKind::Other,
    };
    Expr { span, kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_source() {
        let text = "# c\r\nresource \"a\" \"b\" {\r\n  x   = false # why\r\n  k {\r\n\ty = var.z\r\n  }\r\n}\r\n";
        let body = parse(text).unwrap();
        let Item::Block(b) = &body.items[0] else {
            panic!()
        };
        assert_eq!(&text[b.span.0..b.span.1], &text[5..text.len() - 2]);
        let x = b.body.attr("x").unwrap();
        assert_eq!(&text[x.span.0..x.span.1], "x   = false");
        assert_eq!(&text[x.value.span.0..x.value.span.1], "false");
        let k = b.body.blocks("k").next().unwrap();
        assert!(text[k.span.0..k.span.1].ends_with('}'));
        let y = k.body.attr("y").unwrap();
        assert_eq!(&text[y.value.span.0..y.value.span.1], "var.z");
        assert!(matches!(&y.value.kind, ExprKind::Traversal(n, s) if n == "var" && s.len() == 1));
    }

    #[test]
    fn errors_have_a_place() {
        let e = parse("a = {\n  b = \n").unwrap_err();
        assert!(e.offset > 0, "{e:?}");
    }

    /// The round-trip measurement on real files (README "Terraform"): for every `.tf` file
    /// under `$ARMFIX_TF_DIR`, hcl-edit must print the text back byte for byte but for CRLF
    /// (the line break ending an attribute or a block's first line is printed as LF, one in
    /// a comment or blank line is kept), and every attribute's and block's span must start with its name. Run with
    /// `ARMFIX_TF_DIR=DIR cargo test --lib round_trip -- --ignored --nocapture`.
    #[test]
    #[ignore = "needs ARMFIX_TF_DIR"]
    fn round_trip_of_real_files() {
        fn spans_ok(text: &str, body: &Body) -> bool {
            body.items.iter().all(|i| match i {
                Item::Attr(a) => text[a.span.0..].starts_with(&a.key),
                Item::Block(b) => text[b.span.0..].starts_with(&b.ident) && spans_ok(text, &b.body),
            })
        }
        let dir = std::env::var("ARMFIX_TF_DIR").expect("ARMFIX_TF_DIR");
        let (mut files, mut bytes, mut exact) = (0, 0, 0);
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("tf") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let parsed = hcl_edit::parser::parse_body(&text).unwrap();
            files += 1;
            bytes += text.len();
            let printed = parsed.to_string();
            let same = printed == text;
            let lf = |t: &str| t.replace("\r\n", "\n");
            assert_eq!(lf(&printed), lf(&text), "{}", p.display());
            exact += usize::from(same);
            if !same {
                let at = printed
                    .bytes()
                    .zip(text.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(printed.len().min(text.len()));
                println!(
                    "  first difference at byte {at}: {:?} printed as {:?}",
                    &text[at..text.len().min(at + 12)],
                    &printed[at..printed.len().min(at + 12)]
                );
            }
            let ours = parse(&text).unwrap();
            println!(
                "{}: {} bytes, round trip {}, spans {}",
                p.display(),
                text.len(),
                if same { "exact" } else { "DIFFERS" },
                if spans_ok(&text, &ours) {
                    "ok"
                } else {
                    "WRONG"
                }
            );
            assert!(spans_ok(&text, &ours), "{}", p.display());
        }
        println!("{exact} of {files} files ({bytes} bytes) round-trip exactly");
        // hcl-edit prints CRLF as LF; armfix never prints its tree (it edits the text at
        // spans), so only that difference is allowed.
        assert!(files > 0, "no .tf file in ARMFIX_TF_DIR");
    }
}
