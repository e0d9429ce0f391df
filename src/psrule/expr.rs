//! PSRule's expression language (the `if` of a suppression group), as far as it applies to
//! an evaluated template resource: parsed once from YAML, then judged per cluster with three
//! outcomes (matches, does not match, not known offline).
//!
//! Semantics follow PSRule's documentation (`about_PSRule_Expressions`,
//! <https://microsoft.github.io/PSRule/stable/expressions/conditions/>) and its implementation
//! (`src/PSRule/Definitions/Expressions/LanguageExpressions.cs`):
//!
//! - operators `allOf`, `anyOf`, `not`; operands `field` (a dotted path with `[n]` / `['key']`
//!   steps, keys compared ignoring case), `name: '.'` (the target name: the resource name, as
//!   evaluated) and `type: '.'` (the resource type);
//! - when the field does not exist: `exists: false`, `hasValue: false`, `notEquals`, `notIn`,
//!   `notMatch`, `notStartsWith`, `notEndsWith`, `notContains`, `notLike` and `hasDefault`
//!   match; every other condition does not;
//! - `equals`/`notEquals`/`hasDefault` compare strings ignoring case unless `caseSensitive:
//!   true`; an expected string is converted to the field's type (`equals: 'true'` matches a
//!   boolean), and `convert: true` converts the field's value to the expected type too;
//! - `in`/`notIn` ignore case, and match an array field when any item is in the list;
//! - `startsWith`/`endsWith`/`contains`/`like` (wildcards `*` `?`) take one string or a list,
//!   ignore case unless `caseSensitive: true`, and need a string field (`convert: true` turns a
//!   number or boolean into one); `match`/`notMatch` is a regular expression, always ignoring
//!   case;
//! - `less`/`lessOrEquals`/`greater`/`greaterOrEquals` compare a number, the length of a string
//!   (its number with `convert: true`) or the count of an array; a null field counts as 0;
//! - `isString`, `isArray`, `isBoolean`, `isInteger`, `isNumeric`, `count`;
//! - a field PSRule.Rules.Azure adds when it expands a template for a scope (`id`,
//!   `resourceGroupName`, `subscriptionId` ...) is not known offline rather than missing.
//!
//! Anything else (`source`, `scope`, `setOf`, `version`, sub-selectors ...) is not evaluated:
//! [`parse`] fails with the key, so the group is not applied and the caller warns. A value
//! the evaluator does not know offline makes a condition [`Truth::Unknown`]; `anyOf`, `allOf`
//! and `not` combine the three outcomes as Kleene logic does.

use crate::eval::Value;
use yaml_rust2::Yaml;

/// A parsed expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    AllOf(Vec<Expr>),
    AnyOf(Vec<Expr>),
    Not(Box<Expr>),
    Cond(Cond),
}

/// One condition on one operand.
#[derive(Debug, Clone)]
pub(crate) struct Cond {
    operand: Operand,
    op: Op,
    case_sensitive: bool,
    convert: bool,
}

#[derive(Debug, Clone)]
enum Operand {
    /// The path as written, and its steps.
    Field(String, Vec<Step>),
    Name,
    Type,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A literal written in the expression.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
}

#[derive(Debug, Clone)]
enum Op {
    Exists(bool),
    Equals(Lit),
    NotEquals(Lit),
    HasDefault(Lit),
    HasValue(bool),
    In(Vec<Lit>),
    NotIn(Vec<Lit>),
    /// `startsWith`, `endsWith`, `contains`, `like`, and their negations.
    Text(TextOp, bool, Vec<String>),
    Match(regex::Regex, bool),
    /// `less`, `lessOrEquals`, `greater`, `greaterOrEquals`.
    Compare(std::cmp::Ordering, bool, i64),
    Count(i64),
    Is(IsOp, bool),
}

#[derive(Debug, Clone, Copy)]
enum TextOp {
    StartsWith,
    EndsWith,
    Contains,
    Like,
}

#[derive(Debug, Clone, Copy)]
enum IsOp {
    String,
    Array,
    Boolean,
    Integer,
    Numeric,
}

/// Why an expression cannot be evaluated: the key it stops at, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParseError {
    pub(crate) key: String,
    pub(crate) message: String,
}

fn error(key: &str, message: impl Into<String>) -> ParseError {
    ParseError {
        key: key.to_string(),
        message: message.into(),
    }
}

/// The outcome of an expression on one resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Truth {
    Yes,
    No,
    /// Not known offline: why.
    Unknown(String),
}

/// What an expression is judged on.
pub(crate) struct Target<'v> {
    pub(crate) name: &'v Value,
    pub(crate) kind: &'v Value,
    pub(crate) body: &'v Value,
}

const CONDITIONS: [&str; 26] = [
    "exists",
    "equals",
    "notEquals",
    "hasDefault",
    "hasValue",
    "in",
    "notIn",
    "startsWith",
    "notStartsWith",
    "endsWith",
    "notEndsWith",
    "contains",
    "notContains",
    "like",
    "notLike",
    "match",
    "notMatch",
    "less",
    "lessOrEquals",
    "greater",
    "greaterOrEquals",
    "count",
    "isString",
    "isArray",
    "isBoolean",
    "isInteger",
];

/// Parses an expression (a mapping with one operator, or an operand and one condition).
pub(crate) fn parse(y: &Yaml) -> Result<Expr, ParseError> {
    let Yaml::Hash(map) = y else {
        return Err(error("if", "an expression is a mapping"));
    };
    let keys: Vec<(&str, &Yaml)> = map
        .iter()
        .map(|(k, v)| (k.as_str().unwrap_or(""), v))
        .collect();
    let key_is = |k: &str, name: &str| k.eq_ignore_ascii_case(name);
    for (k, v) in &keys {
        for (name, make) in [
            ("allOf", Expr::AllOf as fn(Vec<Expr>) -> Expr),
            ("anyOf", Expr::AnyOf),
        ] {
            if key_is(k, name) {
                if keys.len() != 1 {
                    return Err(error(k, format!("{name} stands alone in its mapping")));
                }
                let Some(items) = v.as_vec() else {
                    return Err(error(k, format!("{name} takes a list of expressions")));
                };
                return items.iter().map(parse).collect::<Result<_, _>>().map(make);
            }
        }
        if key_is(k, "not") {
            if keys.len() != 1 {
                return Err(error(k, "not stands alone in its mapping"));
            }
            return Ok(Expr::Not(Box::new(parse(v)?)));
        }
    }
    let mut operand = None;
    let mut op = None;
    let mut case_sensitive = false;
    let mut convert = false;
    for (k, v) in &keys {
        if key_is(k, "field") {
            let path = v.as_str().ok_or_else(|| error(k, "field takes a path"))?;
            operand = Some(Operand::Field(
                path.to_string(),
                steps(path).map_err(|m| error(k, m))?,
            ));
        } else if key_is(k, "name") || key_is(k, "type") {
            if v.as_str() != Some(".") {
                return Err(error(k, format!("{k} takes '.' (the target's own {k})")));
            }
            operand = Some(if key_is(k, "name") {
                Operand::Name
            } else {
                Operand::Type
            });
        } else if key_is(k, "caseSensitive") {
            case_sensitive = v
                .as_bool()
                .ok_or_else(|| error(k, "caseSensitive takes true or false"))?;
        } else if key_is(k, "convert") {
            convert = v
                .as_bool()
                .ok_or_else(|| error(k, "convert takes true or false"))?;
        } else if let Some(name) = CONDITIONS
            .iter()
            .chain(["isNumeric"].iter())
            .find(|c| key_is(k, c))
        {
            if op.is_some() {
                return Err(error(k, "one condition per mapping"));
            }
            op = Some(condition(name, k, v)?);
        } else {
            return Err(error(
                k,
                format!("armfix does not evaluate `{k}` in a suppression group's condition"),
            ));
        }
    }
    let Some(op) = op else {
        return Err(error(
            keys.first().map_or("if", |(k, _)| k),
            "no condition (equals, in, exists ...) in this mapping",
        ));
    };
    let operand = match (operand, &op) {
        (Some(o), _) => o,
        (None, _) => {
            return Err(error(
                keys.first().map_or("if", |(k, _)| k),
                "a condition needs `field`, `name: '.'` or `type: '.'`",
            ))
        }
    };
    if matches!(op, Op::Exists(_) | Op::Count(_)) && !matches!(operand, Operand::Field(..)) {
        return Err(error("exists", "exists and count take a field"));
    }
    Ok(Expr::Cond(Cond {
        operand,
        op,
        case_sensitive,
        convert,
    }))
}

fn condition(name: &str, key: &str, v: &Yaml) -> Result<Op, ParseError> {
    let boolean = || {
        v.as_bool()
            .ok_or_else(|| error(key, format!("{name} takes true or false")))
    };
    let integer = || {
        v.as_i64()
            .ok_or_else(|| error(key, format!("{name} takes an integer")))
    };
    let lits = || -> Result<Vec<Lit>, ParseError> {
        v.as_vec()
            .ok_or_else(|| error(key, format!("{name} takes a list")))?
            .iter()
            .map(|i| lit(i).ok_or_else(|| error(key, format!("{name}: a list of scalars"))))
            .collect()
    };
    let texts = || -> Result<Vec<String>, ParseError> {
        let items: Vec<&Yaml> = match v {
            Yaml::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        items
            .into_iter()
            .map(|i| match lit(i) {
                Some(Lit::Str(s)) => Ok(s),
                Some(Lit::Int(n)) => Ok(n.to_string()),
                Some(Lit::Bool(b)) => Ok(b.to_string()),
                _ => Err(error(
                    key,
                    format!("{name} takes a string or a list of strings"),
                )),
            })
            .collect()
    };
    let scalar = || lit(v).ok_or_else(|| error(key, format!("{name} takes a scalar")));
    use std::cmp::Ordering::{Greater, Less};
    Ok(match name {
        "exists" => Op::Exists(boolean()?),
        "equals" => Op::Equals(scalar()?),
        "notEquals" => Op::NotEquals(scalar()?),
        "hasDefault" => Op::HasDefault(scalar()?),
        "hasValue" => Op::HasValue(boolean()?),
        "in" => Op::In(lits()?),
        "notIn" => Op::NotIn(lits()?),
        "startsWith" => Op::Text(TextOp::StartsWith, false, texts()?),
        "notStartsWith" => Op::Text(TextOp::StartsWith, true, texts()?),
        "endsWith" => Op::Text(TextOp::EndsWith, false, texts()?),
        "notEndsWith" => Op::Text(TextOp::EndsWith, true, texts()?),
        "contains" => Op::Text(TextOp::Contains, false, texts()?),
        "notContains" => Op::Text(TextOp::Contains, true, texts()?),
        "like" => Op::Text(TextOp::Like, false, texts()?),
        "notLike" => Op::Text(TextOp::Like, true, texts()?),
        "match" | "notMatch" => {
            let Some(Lit::Str(p)) = lit(v) else {
                return Err(error(key, format!("{name} takes a regular expression")));
            };
            let re = regex::RegexBuilder::new(&p)
                .case_insensitive(true)
                .build()
                .map_err(|e| error(key, format!("{name}: {e}")))?;
            Op::Match(re, name == "notMatch")
        }
        "less" => Op::Compare(Less, false, integer()?),
        "lessOrEquals" => Op::Compare(Less, true, integer()?),
        "greater" => Op::Compare(Greater, false, integer()?),
        "greaterOrEquals" => Op::Compare(Greater, true, integer()?),
        "count" => Op::Count(integer()?),
        "isString" => Op::Is(IsOp::String, boolean()?),
        "isArray" => Op::Is(IsOp::Array, boolean()?),
        "isBoolean" => Op::Is(IsOp::Boolean, boolean()?),
        "isInteger" => Op::Is(IsOp::Integer, boolean()?),
        _ => Op::Is(IsOp::Numeric, boolean()?),
    })
}

fn lit(y: &Yaml) -> Option<Lit> {
    Some(match y {
        Yaml::Null => Lit::Null,
        Yaml::Boolean(b) => Lit::Bool(*b),
        Yaml::Integer(i) => Lit::Int(*i),
        Yaml::String(s) | Yaml::Real(s) => Lit::Str(s.clone()),
        _ => return None,
    })
}

/// The steps of a field path: `a.b[0]['c.d']`, an optional leading `$.`.
fn steps(path: &str) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    let s = path.strip_prefix("$.").unwrap_or(path);
    let b = s.as_bytes();
    let mut i = 0;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Step>| {
        if !word.is_empty() {
            out.push(Step::Key(std::mem::take(word)));
        }
    };
    while i < b.len() {
        match b[i] {
            b'.' => {
                flush(&mut word, &mut out);
                i += 1;
            }
            b'[' => {
                flush(&mut word, &mut out);
                let end = s[i..]
                    .find(']')
                    .map(|e| i + e)
                    .ok_or_else(|| format!("unclosed `[` in field `{path}`"))?;
                let inner = s[i + 1..end].trim();
                if let Some(q) = inner
                    .strip_prefix('\'')
                    .and_then(|t| t.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
                {
                    out.push(Step::Key(q.to_string()));
                } else if let Ok(n) = inner.parse::<usize>() {
                    out.push(Step::Index(n));
                } else {
                    return Err(format!(
                        "armfix does not evaluate `[{inner}]` in field `{path}`"
                    ));
                }
                i = end + 1;
            }
            _ => {
                let c = s[i..].chars().next().unwrap_or(' ');
                word.push(c);
                i += c.len_utf8();
            }
        }
    }
    flush(&mut word, &mut out);
    if out.is_empty() {
        return Err(format!("empty field `{path}`"));
    }
    Ok(out)
}

/// What a field reads.
enum Found<'v> {
    Value(&'v Value),
    Missing,
    Unknown(String),
}

fn lookup<'v>(body: &'v Value, steps: &[Step]) -> Found<'v> {
    let mut v = body;
    for s in steps {
        if let Value::Unknown(u) = v {
            return Found::Unknown(u.reason.to_string());
        }
        let next = match (s, v) {
            (Step::Key(k), Value::Object(o)) => o.get(k),
            (Step::Index(n), Value::Array(a)) => a.get(*n),
            _ => None,
        };
        match next {
            Some(n) => v = n,
            None => return Found::Missing,
        }
    }
    Found::Value(v)
}

/// Whether a field armfix's evaluated resource lacks is one PSRule.Rules.Azure adds when it
/// expands a template for a deployment scope (the resource `id`, `resourceGroupName`,
/// `subscriptionId`, `tenantId`, `scope`, its `_PSRule` metadata): such a field is not
/// missing for PSRule, so a condition on it is not known here (`notEquals` on a missing
/// field would otherwise hold and hide a failure).
fn added_by_expansion(steps: &[Step]) -> bool {
    matches!(steps.first(), Some(Step::Key(k)) if [
        "id",
        "resourceId",
        "resourceGroupName",
        "subscriptionId",
        "tenantId",
        "scope",
        "_PSRule",
    ]
    .iter()
    .any(|f| f.eq_ignore_ascii_case(k)))
}

/// The first reason a value is not fully known.
fn unknown_in(v: &Value) -> Option<String> {
    match v {
        Value::Unknown(u) => Some(u.reason.to_string()),
        Value::Array(a) => a.iter().find_map(unknown_in),
        Value::Object(o) => o.iter().find_map(|(_, v)| unknown_in(v)),
        _ => None,
    }
}

fn truth(b: bool) -> Truth {
    if b {
        Truth::Yes
    } else {
        Truth::No
    }
}

impl Expr {
    /// Judges the expression on one resource.
    pub(crate) fn eval(&self, t: &Target) -> Truth {
        match self {
            Expr::AllOf(items) => {
                let mut out = Truth::Yes;
                for e in items {
                    match e.eval(t) {
                        Truth::No => return Truth::No,
                        u @ Truth::Unknown(_) if out == Truth::Yes => out = u,
                        _ => {}
                    }
                }
                out
            }
            Expr::AnyOf(items) => {
                let mut out = Truth::No;
                for e in items {
                    match e.eval(t) {
                        Truth::Yes => return Truth::Yes,
                        u @ Truth::Unknown(_) if out == Truth::No => out = u,
                        _ => {}
                    }
                }
                out
            }
            Expr::Not(e) => match e.eval(t) {
                Truth::Yes => Truth::No,
                Truth::No => Truth::Yes,
                u => u,
            },
            Expr::Cond(c) => c.eval(t),
        }
    }
}

impl Cond {
    fn eval(&self, t: &Target) -> Truth {
        let (what, value) = match &self.operand {
            Operand::Field(path, steps) => match lookup(t.body, steps) {
                Found::Value(v) => (path.as_str(), Some(v)),
                Found::Missing if added_by_expansion(steps) => {
                    return Truth::Unknown(format!(
                        "{path}, which PSRule's expansion adds to the resource for the scope \
                         it is deployed to (not known offline)"
                    ))
                }
                Found::Missing => (path.as_str(), None),
                Found::Unknown(why) => return Truth::Unknown(format!("{path}: {why}")),
            },
            Operand::Name => ("the name", Some(t.name)),
            Operand::Type => ("the type", Some(t.kind)),
        };
        let Some(v) = value else {
            return truth(self.matches_missing());
        };
        if let Some(why) = unknown_in(v) {
            // Whether a field exists is known even when its value is not.
            if let Op::Exists(want) = self.op {
                return truth(want);
            }
            return Truth::Unknown(format!("{what}: {why}"));
        }
        truth(self.matches(v))
    }

    /// PSRule's outcome when the field does not exist.
    fn matches_missing(&self) -> bool {
        match &self.op {
            Op::Exists(want) | Op::HasValue(want) => !want,
            Op::NotEquals(_) | Op::NotIn(_) | Op::HasDefault(_) => true,
            Op::Text(_, negated, _) | Op::Match(_, negated) => *negated,
            _ => false,
        }
    }

    fn matches(&self, v: &Value) -> bool {
        let cs = self.case_sensitive;
        match &self.op {
            Op::Exists(want) => *want,
            Op::Equals(l) => equal(l, v, cs, self.convert),
            Op::NotEquals(l) => !equal(l, v, cs, self.convert),
            Op::HasDefault(l) => equal(l, v, cs, false),
            Op::HasValue(want) => *want != null_or_empty(v),
            Op::In(list) => list.iter().any(|l| any_value(v, l)),
            Op::NotIn(list) => !list.iter().any(|l| any_value(v, l)),
            Op::Text(op, negated, patterns) => {
                let Some(s) = text(v, self.convert) else {
                    return false;
                };
                let any = patterns.iter().any(|p| text_matches(*op, &s, p, cs));
                any != *negated
            }
            // PSRule: a value that is not a string does not match (so `notMatch` holds).
            Op::Match(re, negated) => match v {
                Value::Str(s) => re.is_match(s) != *negated,
                _ => *negated,
            },
            Op::Compare(ord, or_equal, n) => {
                let Some(actual) = number(v, self.convert) else {
                    return false;
                };
                let c = actual.cmp(n);
                c == *ord || (*or_equal && c == std::cmp::Ordering::Equal)
            }
            Op::Count(n) => matches!(v, Value::Array(a) if a.len() as i64 == *n),
            Op::Is(kind, want) => {
                let is = match kind {
                    IsOp::String => matches!(v, Value::Str(_)),
                    IsOp::Array => matches!(v, Value::Array(_)),
                    IsOp::Boolean => {
                        matches!(v, Value::Bool(_))
                            || (self.convert
                                && matches!(v, Value::Str(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")))
                    }
                    IsOp::Integer | IsOp::Numeric => {
                        matches!(v, Value::Int(_))
                            || (self.convert
                                && matches!(v, Value::Str(s) if s.trim().parse::<i64>().is_ok()
                                    || (matches!(kind, IsOp::Numeric) && s.trim().parse::<f64>().is_ok())))
                    }
                };
                is == *want
            }
        }
    }
}

/// PSRule's `Equal`: the expected value converted to the field's type; with `convert`, the
/// field's value converted to the expected type.
fn equal(expected: &Lit, actual: &Value, case_sensitive: bool, convert: bool) -> bool {
    let str_eq = |a: &str, b: &str| {
        if case_sensitive {
            a == b
        } else {
            a.to_lowercase() == b.to_lowercase()
        }
    };
    match (expected, actual) {
        (Lit::Null, Value::Null) => true,
        (Lit::Bool(a), Value::Bool(b)) => a == b,
        (Lit::Int(a), Value::Int(b)) => a == b,
        (Lit::Str(a), Value::Str(b)) => str_eq(a, b),
        (Lit::Str(a), Value::Bool(b)) => a.trim().eq_ignore_ascii_case(&b.to_string()),
        (Lit::Str(a), Value::Int(b)) => a.trim().parse::<i64>().is_ok_and(|a| a == *b),
        (Lit::Bool(a), Value::Str(b)) if convert => b.trim().eq_ignore_ascii_case(&a.to_string()),
        (Lit::Int(a), Value::Str(b)) if convert => b.trim().parse::<i64>().is_ok_and(|b| b == *a),
        _ => false,
    }
}

/// PSRule's `AnyValue` (`in`): the value, or any item of an array, equals the expected one.
fn any_value(actual: &Value, expected: &Lit) -> bool {
    match actual {
        Value::Array(items) => items.iter().any(|i| equal(expected, i, false, false)),
        v => equal(expected, v, false, false),
    }
}

fn null_or_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn text(v: &Value, convert: bool) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(n) if convert => Some(n.to_string()),
        Value::Bool(b) if convert => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: &Value, convert: bool) -> Option<i64> {
    match v {
        Value::Null => Some(0),
        Value::Int(n) => Some(*n),
        Value::Str(s) if convert => s.trim().parse().ok(),
        Value::Str(s) => i64::try_from(s.chars().count()).ok(),
        Value::Array(a) => i64::try_from(a.len()).ok(),
        _ => None,
    }
}

fn text_matches(op: TextOp, s: &str, p: &str, case_sensitive: bool) -> bool {
    let (s, p) = if case_sensitive {
        (s.to_string(), p.to_string())
    } else {
        (s.to_lowercase(), p.to_lowercase())
    };
    match op {
        TextOp::StartsWith => s.starts_with(&p),
        TextOp::EndsWith => s.ends_with(&p),
        TextOp::Contains => s.contains(&p),
        TextOp::Like => like(&s, &p),
    }
}

/// A wildcard match of the whole string: `*` any run, `?` one character.
fn like(s: &str, p: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = p.chars().collect();
    let (mut i, mut j) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while i < s.len() {
        if j < p.len() && (p[j] == '?' || p[j] == s[i]) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '*' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if let Some(st) = star {
            j = st + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while j < p.len() && p[j] == '*' {
        j += 1;
    }
    j == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::YamlLoader;

    fn expr(s: &str) -> Expr {
        parse(&YamlLoader::load_from_str(s).unwrap().remove(0)).unwrap()
    }

    fn cluster() -> Value {
        Value::from_json(&serde_json::json!({
            "type": "Microsoft.ContainerService/managedClusters",
            "name": "aks-dev-01",
            "tags": {"Env": "Dev", "owners": ["a", "b"]},
            "properties": {
                "kubernetesVersion": "1.29",
                "agentPoolProfiles": [{"count": 3}],
                "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true, "config": null}}
            }
        }))
    }

    fn judge(s: &str, body: &Value) -> Truth {
        let name = body.get("name").cloned().unwrap_or(Value::Null);
        let kind = body.get("type").cloned().unwrap_or(Value::Null);
        expr(s).eval(&Target {
            name: &name,
            kind: &kind,
            body,
        })
    }

    #[test]
    fn conditions_follow_psrule() {
        let c = cluster();
        let yes = [
            "field: tags.env\nequals: dev",
            "field: TAGS.ENV\nequals: Dev\ncaseSensitive: true",
            "field: tags.env\nnotEquals: prod",
            "field: tags.missing\nnotEquals: prod",
            "field: tags.missing\nexists: false",
            "field: tags.env\nexists: true",
            "field: properties.addonProfiles.azureKeyvaultSecretsProvider.enabled\nequals: true",
            "field: properties.addonProfiles.azureKeyvaultSecretsProvider.enabled\nequals: 'true'",
            "field: properties.addonProfiles.azureKeyvaultSecretsProvider.config\nhasValue: false",
            "field: tags.missing\nhasValue: false",
            "field: tags.env\nin: [prod, DEV]",
            "field: tags.owners\nin: [b]",
            "field: tags.env\nnotIn: [prod]",
            "field: tags.missing\nnotIn: [prod]",
            "name: '.'\nstartsWith: [aks-dev-, x]",
            "name: '.'\nendsWith: '-01'",
            "name: '.'\ncontains: DEV",
            "name: '.'\nlike: 'aks-*-0?'",
            "name: '.'\nnotLike: 'web-*'",
            "name: '.'\nmatch: '^AKS-(dev|test)'",
            "type: '.'\nequals: microsoft.containerservice/managedclusters",
            "field: properties.agentPoolProfiles[0].count\ngreaterOrEquals: 3",
            "field: properties.agentPoolProfiles\ncount: 1",
            "field: name\nless: 11",
            "field: properties.kubernetesVersion\nisString: true",
            "field: tags.missing\nhasDefault: x",
            "field: tags.env\nhasDefault: dev",
            "anyOf:\n- field: tags.env\n  equals: prod\n- name: '.'\n  like: 'aks-dev*'",
            "allOf:\n- field: tags.env\n  equals: dev\n- not:\n    field: tags.env\n    equals: prod",
            "field: \"tags['Env']\"\nequals: dev",
            "field: properties.agentPoolProfiles[0].count\nnotMatch: '^3$'",
        ];
        for s in yes {
            assert_eq!(judge(s, &c), Truth::Yes, "{s}");
        }
        let no = [
            "field: tags.env\nequals: dev\ncaseSensitive: true",
            "field: tags.missing\nequals: dev",
            "field: tags.missing\nin: [dev]",
            "field: tags.env\nexists: false",
            "field: tags.env\nhasValue: false",
            "field: tags.missing\nhasValue: true",
            "name: '.'\nstartsWith: web",
            "name: '.'\nlike: 'aks-dev'",
            "field: properties.agentPoolProfiles[0].count\nequals: '4'",
            "field: properties.agentPoolProfiles[0].count\nstartsWith: '3'",
            "field: name\ngreater: 10",
            "not:\n  name: '.'\n  contains: dev",
            "field: tags.missing\nstartsWith: a",
        ];
        for s in no {
            assert_eq!(judge(s, &c), Truth::No, "{s}");
        }
        assert_eq!(
            judge(
                "field: properties.agentPoolProfiles[0].count\nstartsWith: '3'\nconvert: true",
                &c
            ),
            Truth::Yes
        );
    }

    #[test]
    fn unknown_values_are_not_guessed() {
        let mut c = cluster();
        if let Value::Object(o) = &mut c {
            let tags = o.get_mut("tags").unwrap().as_object_mut().unwrap();
            tags.insert("env", Value::unknown("parameters('env') has no value"));
        }
        let u = judge("field: tags.env\nequals: dev", &c);
        assert!(
            matches!(&u, Truth::Unknown(w) if w.contains("parameters('env')")),
            "{u:?}"
        );
        assert!(matches!(
            judge("not:\n  field: tags.env\n  equals: dev", &c),
            Truth::Unknown(_)
        ));
        // Fields PSRule's expansion adds (the resource id ...) are not missing, but unknown.
        for s in [
            "field: id\nnotContains: prod",
            "field: resourceGroupName\nequals: rg-dev",
        ] {
            assert!(matches!(judge(s, &c), Truth::Unknown(_)), "{s}");
        }
        // Known regardless of the unknown part.
        assert_eq!(judge("field: tags.env\nexists: true", &c), Truth::Yes);
        assert_eq!(
            judge(
                "anyOf:\n- field: tags.env\n  equals: dev\n- name: '.'\n  equals: aks-dev-01",
                &c
            ),
            Truth::Yes
        );
        assert_eq!(
            judge(
                "allOf:\n- field: tags.env\n  equals: dev\n- name: '.'\n  equals: other",
                &c
            ),
            Truth::No
        );
    }

    #[test]
    fn what_is_not_evaluated_is_an_error_naming_its_key() {
        let err = |s: &str| parse(&YamlLoader::load_from_str(s).unwrap().remove(0)).unwrap_err();
        assert_eq!(err("field: tags.env\nsetOf: [a]").key, "setOf");
        assert_eq!(err("source: Template\nequals: x").key, "source");
        assert_eq!(err("name: 'x'\nequals: x").key, "name");
        assert_eq!(err("field: name\nmatch: '('").key, "match");
        assert_eq!(err("field: name").key, "field");
        assert!(like("abc", "a*c") && like("abc", "*") && !like("abc", "a?") && like("", "*"));
    }
}
