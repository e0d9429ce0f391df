//! Reads Bicep type syntax (a parameter's type, a `type` declaration) into the shared
//! [`DeclaredType`] that [`super::types::check`] checks values against. Names of `type`
//! declarations and decorator arguments are resolved by the evaluator through [`Env`].

use super::types::{Additional, BaseType, DeclaredType};
use super::value::Value;
use super::MAX_DEPTH;
use crate::lang::bicep::ast::Span;
use crate::lang::bicep::lexer::{lex, Tok, Token};
use std::cell::Cell;

/// What reading a type needs from the evaluator.
pub(super) trait Env {
    /// The type `type name = …` declares (with its decorators), read at `depth`; `None`
    /// when no such declaration exists.
    fn alias(&self, name: &str, depth: usize, budget: &Cell<usize>) -> Option<DeclaredType>;
    /// The value of a decorator argument: the expression at `span` of `text`.
    fn constant(&self, text: &str, span: Span) -> Value;
}

/// A type from its text, read at `depth` with what is left of `budget`; what is not read
/// is `any`.
pub(super) fn read(env: &dyn Env, text: &str, depth: usize, budget: &Cell<usize>) -> DeclaredType {
    let any = DeclaredType::new(BaseType::Any);
    if depth > MAX_DEPTH || budget.get() == 0 {
        return any;
    }
    let Ok((toks, _)) = lex(text) else {
        return any;
    };
    let mut r = TypeReader {
        env,
        text,
        toks,
        pos: 0,
        depth,
        budget,
    };
    let ty = r.union();
    // A type too large to read whole (its budget spent) is not checked at all.
    if r.peek().tok == Tok::Eof && budget.get() > 0 {
        ty
    } else {
        any
    }
}

/// The depth a `type` alias adds when a type refers to it: reading one takes some eight
/// times the stack of an expression level, so recursive types stop `MAX_DEPTH / 8` deep.
pub(super) const ALIAS_DEPTH: usize = 8;

/// How many types one declared type may be read from (a recursive type that refers to
/// itself several times would otherwise grow exponentially).
pub(super) const BUDGET: usize = 1_000;

/// Narrows `ty` by decorator `name` with evaluated arguments: `@allowed`, `@minLength`,
/// `@maxLength`, `@minValue`, `@maxValue`, `@secure`, `@sealed`. Others do not constrain
/// values.
///
/// `@allowed` compares strings case-sensitively. It compiles to `allowedValues`, which the
/// engine compares ignoring case, but the Bicep compiler checks every value written in Bicep
/// (a default, a module argument, a `.bicepparam` value) against it first, as a union of
/// literal types, and rejects `'true'` for `@allowed(['False', 'True'])` (Azure/bicep#2489).
/// armfix writes Bicep, so the compiler's reading decides. A value a JSON parameter file
/// gives is then held to the stricter reading too: at worst a fix is refused, never wrong.
pub(super) fn decorate(ty: &mut DeclaredType, name: &str, args: &[Value]) {
    let int = || match args.first() {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    };
    match name {
        "allowed" => {
            if let Some(Value::Array(a)) = args.first() {
                ty.allowed = Some(a.clone());
                ty.allowed_case_sensitive = true;
            }
        }
        "minLength" => ty.min_length = int().or(ty.min_length),
        "maxLength" => ty.max_length = int().or(ty.max_length),
        "minValue" => ty.min_value = int().or(ty.min_value),
        "maxValue" => ty.max_value = int().or(ty.max_value),
        "secure" => {
            ty.base = match ty.base {
                BaseType::String => BaseType::SecureString,
                BaseType::Object => BaseType::SecureObject,
                b => b,
            }
        }
        "sealed" => ty.additional = Some(Additional::Forbidden),
        _ => {}
    }
}

/// Reads Bicep type syntax: `string`, `int`, `bool`, `object`, `array`, literals (`'a'`,
/// `1`, `true`), unions of literals (allowed values compared case-sensitively), `T?`,
/// `T[]`, tuples `[A, B]`, object types `{ a: T, b: U?, *: V }` with decorated members, and
/// `type` aliases. Anything else (`resourceInput<…>`, an imported type, a union of
/// non-literals) is `any`.
struct TypeReader<'r> {
    env: &'r dyn Env,
    text: &'r str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    budget: &'r Cell<usize>,
}

impl TypeReader<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn is(&self, p: &str) -> bool {
        matches!(self.peek().tok, Tok::Punct(q) if q == p)
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn word(&self) -> &str {
        let t = self.peek();
        &self.text[t.start..t.end]
    }

    /// `A | B | …` (a leading `|` allowed).
    fn union(&mut self) -> DeclaredType {
        if self.is("|") {
            self.bump();
        }
        let mut members = vec![self.postfix()];
        while self.is("|") {
            self.bump();
            members.push(self.postfix());
        }
        if members.len() == 1 {
            return members
                .pop()
                .unwrap_or_else(|| DeclaredType::new(BaseType::Any));
        }
        let nullable = members.iter().any(|m| m.nullable);
        let mut allowed = Vec::new();
        let mut base = None;
        for m in &members {
            match &m.allowed {
                Some(values) if m.allowed_case_sensitive => allowed.extend(values.iter().cloned()),
                // `null` alone.
                None if m.nullable && m.base == BaseType::Any => continue,
                _ => {
                    let mut any = DeclaredType::new(BaseType::Any);
                    any.nullable = nullable;
                    return any;
                }
            }
            base = match base {
                Some(b) if b != m.base => Some(BaseType::Any),
                _ => Some(m.base),
            };
        }
        let mut ty = DeclaredType::new(base.unwrap_or(BaseType::Any));
        ty.allowed = Some(allowed);
        ty.nullable = nullable;
        ty
    }

    /// A type followed by `[]` and `?` suffixes.
    fn postfix(&mut self) -> DeclaredType {
        let mut ty = self.primary();
        loop {
            if self.is("[") && self.toks.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::Punct("]"))
            {
                self.bump();
                self.bump();
                let mut array = DeclaredType::new(BaseType::Array);
                array.items = Some(Box::new(ty));
                ty = array;
            } else if self.is("?") {
                self.bump();
                ty.nullable = true;
            } else {
                return ty;
            }
        }
    }

    fn literal(v: Value) -> DeclaredType {
        let base = match v {
            Value::Str(_) => BaseType::String,
            Value::Int(_) => BaseType::Int,
            Value::Bool(_) => BaseType::Bool,
            _ => BaseType::Any,
        };
        let mut ty = DeclaredType::new(base);
        ty.allowed = Some(vec![v]);
        ty.allowed_case_sensitive = true;
        ty
    }

    fn primary(&mut self) -> DeclaredType {
        let any = DeclaredType::new(BaseType::Any);
        if self.budget.get() == 0 {
            // Out of budget: skip the rest.
            self.pos = self.toks.len() - 1;
            return any;
        }
        self.budget.set(self.budget.get() - 1);
        let t = self.bump();
        match &t.tok {
            Tok::Str { value: Some(v) } => Self::literal(Value::Str(v.clone())),
            Tok::Int => match self.text[t.start..t.end].parse::<i64>() {
                Ok(i) => Self::literal(Value::Int(i)),
                Err(_) => any,
            },
            Tok::Punct("-") if self.peek().tok == Tok::Int => {
                let n = self.bump();
                match format!("-{}", &self.text[n.start..n.end]).parse::<i64>() {
                    Ok(i) => Self::literal(Value::Int(i)),
                    Err(_) => any,
                }
            }
            Tok::Punct("(") => {
                let ty = self.union();
                if self.is(")") {
                    self.bump();
                }
                ty
            }
            Tok::Punct("{") => self.object(),
            Tok::Punct("[") => {
                let mut ty = DeclaredType::new(BaseType::Array);
                while !self.is("]") && self.peek().tok != Tok::Eof {
                    if self.is(",") {
                        self.bump();
                        continue;
                    }
                    let at = self.pos;
                    ty.prefix_items.push(self.union());
                    if self.pos == at {
                        self.bump();
                    }
                }
                self.bump();
                ty
            }
            Tok::Ident => {
                let word = &self.text[t.start..t.end];
                match word {
                    "true" => return Self::literal(Value::Bool(true)),
                    "false" => return Self::literal(Value::Bool(false)),
                    "null" => {
                        let mut ty = any;
                        ty.nullable = true;
                        return ty;
                    }
                    _ => {}
                }
                let mut name = word.to_string();
                let mut dotted = false;
                while self.is(".") {
                    self.bump();
                    dotted = true;
                    name = format!("{name}.{}", self.word());
                    self.bump();
                }
                if self.is("<") {
                    // `resourceInput<'…'>.properties…`: skip the arguments and the path.
                    let mut depth = 0usize;
                    while self.peek().tok != Tok::Eof {
                        match self.bump().tok {
                            Tok::Punct("<") => depth += 1,
                            Tok::Punct(">") => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    while self.is(".") {
                        self.bump();
                        self.bump();
                    }
                    return any;
                }
                let name = name.strip_prefix("sys.").unwrap_or(&name);
                if !dotted || !name.contains('.') {
                    if let Some(ty) = self.env.alias(name, self.depth, self.budget) {
                        return ty;
                    }
                }
                match name {
                    "string" => DeclaredType::new(BaseType::String),
                    "int" => DeclaredType::new(BaseType::Int),
                    "bool" => DeclaredType::new(BaseType::Bool),
                    "object" => DeclaredType::new(BaseType::Object),
                    "array" => DeclaredType::new(BaseType::Array),
                    _ => any,
                }
            }
            _ => any,
        }
    }

    /// An object type after `{`, through `}`.
    fn object(&mut self) -> DeclaredType {
        let mut ty = DeclaredType::new(BaseType::Object);
        loop {
            while self.is(",") {
                self.bump();
            }
            if self.is("}") || self.peek().tok == Tok::Eof {
                self.bump();
                return ty;
            }
            let mut decorators = Vec::new();
            while self.is("@") {
                self.bump();
                decorators.push(self.decorator());
            }
            let key = match &self.peek().tok {
                Tok::Ident => Some(self.word().to_string()),
                Tok::Str { value: Some(v) } => Some(v.clone()),
                Tok::Punct("*") => None,
                _ => {
                    // Not understood: the members are unconstrained.
                    self.pos = self.toks.len() - 1;
                    return DeclaredType::new(BaseType::Object);
                }
            };
            self.bump();
            if !self.is(":") {
                self.pos = self.toks.len() - 1;
                return DeclaredType::new(BaseType::Object);
            }
            self.bump();
            let mut member = self.union();
            for (name, args) in &decorators {
                decorate(&mut member, name, args);
            }
            match key {
                Some(k) => ty.properties.push((k, member)),
                None => ty.additional = Some(Additional::Typed(Box::new(member))),
            }
        }
    }

    /// `@name(args)` after the `@`: its name and evaluated arguments.
    fn decorator(&mut self) -> (String, Vec<Value>) {
        let mut name = self.word().to_string();
        self.bump();
        while self.is(".") {
            self.bump();
            name = self.word().to_string();
            self.bump();
        }
        let mut args = Vec::new();
        if !self.is("(") {
            return (name, args);
        }
        self.bump();
        let mut depth = 0usize;
        let mut start = self.peek().start;
        loop {
            let t = self.peek().clone();
            match t.tok {
                Tok::Eof => break,
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")") if depth == 0 => {
                    if start < t.start {
                        args.push(self.arg(start, t.start));
                    }
                    self.bump();
                    break;
                }
                Tok::Punct(",") if depth == 0 => {
                    args.push(self.arg(start, t.start));
                    start = t.end;
                }
                Tok::Punct(")" | "]" | "}") => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
        (name, args)
    }

    fn arg(&self, start: usize, end: usize) -> Value {
        self.env.constant(self.text, Span { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::types::check;

    /// No `type` declarations; decorator arguments are integers.
    struct Bare;

    impl Env for Bare {
        fn alias(&self, _: &str, _: usize, _: &Cell<usize>) -> Option<DeclaredType> {
            None
        }

        fn constant(&self, text: &str, span: Span) -> Value {
            match text[span.start..span.end].trim().parse() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::unknown("not an int"),
            }
        }
    }

    fn ty(text: &str) -> DeclaredType {
        read(&Bare, text, 0, &Cell::new(BUDGET))
    }

    fn fits(text: &str, v: serde_json::Value) -> bool {
        check(&ty(text), &Value::from_json(&v)).is_ok()
    }

    /// `@allowed` is checked as the Bicep compiler checks it: case-sensitively, so a fix may
    /// not write `'true'` where only `'False'` and `'True'` are allowed (Azure/bicep#2489).
    #[test]
    fn allowed_compares_as_the_bicep_compiler_does() {
        let mut ty = DeclaredType::new(BaseType::String);
        let allowed = Value::Array(vec![Value::str("False"), Value::str("True")]);
        decorate(&mut ty, "allowed", &[allowed]);
        assert!(check(&ty, &Value::str("True")).is_ok());
        assert_eq!(
            check(&ty, &Value::str("true")),
            Err("allows only \"False\" or \"True\", not \"true\"".into())
        );
        let mut list = DeclaredType::new(BaseType::Array);
        decorate(&mut list, "allowed", &[Value::Array(vec![Value::str("a")])]);
        assert!(check(&list, &Value::from_json(&serde_json::json!(["a"]))).is_ok());
        assert!(check(&list, &Value::from_json(&serde_json::json!(["A"]))).is_err());
    }

    #[test]
    fn types_read_as_written() {
        use serde_json::json;
        for (text, value, want) in [
            ("string", json!("x"), true),
            ("string", json!(true), false),
            ("string?", json!(null), true),
            ("'False' | 'True'", json!("True"), true),
            ("'False' | 'True'", json!("true"), false),
            ("| 'a'\n  | 'b'", json!("b"), true),
            ("'a' | 'b' | null", json!(null), true),
            ("1 | -1", json!(-1), true),
            ("1 | -1", json!(0), false),
            ("int[]", json!([1, 2]), true),
            ("int[]", json!([1, "2"]), false),
            ("string?[]", json!(["a", null]), true),
            ("[string, int]", json!(["a", 1]), true),
            ("[string, int]", json!([1, 1]), false),
            ("{ a: int, b: bool? }", json!({"a": 1}), true),
            ("{ a: int, b: bool? }", json!({"b": true}), false),
            (
                "{\n  @minValue(2)\n  a: int\n  *: string\n}",
                json!({"a": 1}),
                false,
            ),
            (
                "{\n  @minValue(2)\n  a: int\n  *: string\n}",
                json!({"a": 2, "x": 1}),
                false,
            ),
            (
                "{\n  @minValue(2)\n  a: int\n  *: string\n}",
                json!({"a": 2, "x": "y"}),
                true,
            ),
            ("(string | int)[]", json!([{}]), true),
            ("resourceInput<'T/u@1'>.properties", json!(1), true),
            ("types.imported", json!(1), true),
            ("unknownName", json!(1), true),
            ("{ a: int", json!({"a": "x"}), false),
            ("string |", json!(1), true),
        ] {
            assert_eq!(fits(text, value.clone()), want, "{text:?} with {value}");
        }
    }
}
