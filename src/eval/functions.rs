//! ARM template functions over [`Value`], in one table: [`call`] looks a name up (ignoring
//! case) and applies it to evaluated arguments. Lazy functions (`if`, `and`, `or`,
//! `coalesce`) also have helpers taking closures, so an evaluator evaluates only what the
//! deployment engine would. Functions known only at deploy time, and any name not in the
//! table, give an Unknown whose reason is the call with its evaluated arguments
//! (`reference('x')`), so two evaluations with different inputs give different Unknowns.
//! Nothing here panics: a wrong arity or type is an Unknown that says what was expected.

use super::value::{Object, Value};

/// One function: its canonical spelling, whether any Unknown argument makes the result
/// Unknown before the function sees it, and the function.
struct Row {
    name: &'static str,
    strict: bool,
    f: fn(&[Value]) -> Result<Value, String>,
}

const fn row(name: &'static str, f: fn(&[Value]) -> Result<Value, String>) -> Row {
    Row {
        name,
        strict: true,
        f,
    }
}

/// Functions that look at Unknown arguments themselves.
const fn lazy(name: &'static str, f: fn(&[Value]) -> Result<Value, String>) -> Row {
    Row {
        name,
        strict: false,
        f,
    }
}

/// The functions armfix evaluates.
static TABLE: &[Row] = &[
    // logical
    lazy("and", and),
    lazy("or", or),
    row("not", not),
    lazy("if", if_),
    row("bool", bool_),
    row("true", |a| nullary(a, Value::Bool(true))),
    row("false", |a| nullary(a, Value::Bool(false))),
    // comparison
    lazy("equals", equals),
    row("less", |a| compare(a, |o| o.is_lt())),
    row("lessOrEquals", |a| compare(a, |o| o.is_le())),
    row("greater", |a| compare(a, |o| o.is_gt())),
    row("greaterOrEquals", |a| compare(a, |o| o.is_ge())),
    // strings
    lazy("concat", concat),
    lazy("format", format),
    row("toLower", |a| map_str(a, |s| s.to_lowercase())),
    row("toUpper", |a| map_str(a, |s| s.to_uppercase())),
    row("trim", |a| map_str(a, |s| s.trim().to_string())),
    row("replace", replace),
    lazy("contains", contains),
    row("startsWith", |a| {
        let (s, p) = two_strs(a)?;
        Ok(Value::Bool(lower(s).starts_with(&lower(p))))
    }),
    row("endsWith", |a| {
        let (s, p) = two_strs(a)?;
        Ok(Value::Bool(lower(s).ends_with(&lower(p))))
    }),
    row("indexOf", index_of),
    row("lastIndexOf", last_index_of),
    row("substring", substring),
    row("split", split),
    lazy("join", join),
    row("string", |a| {
        arity(a, 1, 1)?;
        to_string(&a[0]).map(Value::Str)
    }),
    row("padLeft", pad_left),
    // arrays and objects
    row("union", union),
    row("intersection", intersection),
    lazy("createObject", create_object),
    lazy("createArray", |a| Ok(Value::Array(a.to_vec()))),
    lazy("array", |a| {
        arity(a, 1, 1)?;
        Ok(match &a[0] {
            Value::Array(_) => a[0].clone(),
            v => Value::Array(vec![v.clone()]),
        })
    }),
    row("empty", |a| {
        arity(a, 1, 1)?;
        Ok(Value::Bool(match &a[0] {
            Value::Null => true,
            Value::Str(s) => s.is_empty(),
            Value::Array(v) => v.is_empty(),
            Value::Object(o) => o.is_empty(),
            v => return Err(expected("a string, array or object", v)),
        }))
    }),
    row("length", |a| {
        arity(a, 1, 1)?;
        let n = match &a[0] {
            Value::Str(s) => s.chars().count(),
            Value::Array(v) => v.len(),
            Value::Object(o) => o.len(),
            v => return Err(expected("a string, array or object", v)),
        };
        Ok(Value::Int(n as i64))
    }),
    row("first", |a| end(a, true)),
    row("last", |a| end(a, false)),
    row("take", |a| take_skip(a, true)),
    row("skip", |a| take_skip(a, false)),
    row("range", range),
    row("min", |a| extreme(a, true)),
    row("max", |a| extreme(a, false)),
    row("items", items),
    lazy("tryGet", try_get),
    row("shallowMerge", shallow_merge),
    row("objectKeys", |a| {
        arity(a, 1, 1)?;
        let o = object(&a[0])?;
        Ok(Value::Array(o.iter().map(|(k, _)| Value::str(k)).collect()))
    }),
    // numbers
    row("add", |a| arith(a, i64::checked_add)),
    row("sub", |a| arith(a, i64::checked_sub)),
    row("mul", |a| arith(a, i64::checked_mul)),
    row("div", |a| arith(a, i64::checked_div)),
    row("mod", |a| arith(a, i64::checked_rem)),
    row("int", int),
    // values
    row("json", json),
    row("null", |a| nullary(a, Value::Null)),
    lazy("coalesce", |a| {
        Ok(coalesce_lazy(a.len(), |i| a[i].clone()).unwrap_or(Value::Null))
    }),
];

/// Functions known only at deploy time (or never offline), listed so a reason spells them
/// as the documentation does; every name not in [`TABLE`] is an Unknown all the same.
const DEPLOY_TIME: &[&str] = &[
    "reference",
    "resourceGroup",
    "subscription",
    "tenant",
    "managementGroup",
    "deployment",
    "environment",
    "utcNow",
    "newGuid",
    "resourceId",
    "subscriptionResourceId",
    "tenantResourceId",
    "extensionResourceId",
    "managementGroupResourceId",
    "listKeys",
    "listSecrets",
    "listAccountSas",
    "listCredentials",
    "providers",
    "pickZones",
    "uniqueString",
    "guid",
    "base64",
    "base64ToString",
    "base64ToJson",
    "dataUri",
    "dataUriToString",
    "uri",
    "uriComponent",
    "uriComponentToString",
    "copyIndex",
    "parameters",
    "variables",
];

/// Applies function `name` (any case) to evaluated arguments.
pub(crate) fn call(name: &str, args: &[Value]) -> Value {
    let Some(row) = TABLE.iter().find(|r| r.name.eq_ignore_ascii_case(name)) else {
        return Value::unknown(render_call(name, args));
    };
    if row.strict && args.iter().any(|a| !a.is_known()) {
        return Value::unknown(render_call(row.name, args));
    }
    match (row.f)(args) {
        Ok(v) => v,
        Err(why) => Value::unknown(format!("{}: {why}", render_call(row.name, args))),
    }
}

/// The documented spelling of a function name (`resourcegroup` → `resourceGroup`), or the
/// name as given.
pub(crate) fn canonical(name: &str) -> &str {
    TABLE
        .iter()
        .map(|r| r.name)
        .chain(DEPLOY_TIME.iter().copied())
        .find(|n| n.eq_ignore_ascii_case(name))
        .unwrap_or(name)
}

/// A call as ARM text with its evaluated arguments: `reference('x', true)`, bounded by
/// [`bounded`].
pub(crate) fn render_call(name: &str, args: &[Value]) -> String {
    let args: Vec<String> = args.iter().map(render).collect();
    bounded(format!("{}({})", canonical(name), args.join(", ")))
}

/// The longest reason text kept whole.
const MAX_REASON: usize = 600;

/// A reason no longer than about `MAX_REASON` (600 bytes): a longer one keeps its start and
/// ends in a hash of the whole, so reasons that differ anywhere still differ (within one process:
/// `DefaultHasher::new()` is the same in every call of a run). Without the bound, an Unknown
/// used twice in each of many chained variables would double its reason at every step.
pub(crate) fn bounded(s: String) -> String {
    if s.len() <= MAX_REASON {
        return s;
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    let mut cut = MAX_REASON - 40;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… #{:016x}", &s[..cut], h.finish())
}

/// A value as an ARM expression would write it; an Unknown as its reason.
pub(crate) fn render(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Unknown(u) => u.reason.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(render).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("'{}': {}", k.replace('\'', "''"), render(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        v => v.to_string(),
    }
}

/// `base.name`: an object's member, by [`Object::lookup`] (the exact spelling first, then
/// ignoring case); on an Unknown, an Unknown with the
/// access appended to its reason.
pub(crate) fn member(base: &Value, name: &str) -> Value {
    match base {
        Value::Unknown(u) => Value::unknown(bounded(format!("{}.{name}", u.reason))),
        Value::Object(o) => match o.lookup(name) {
            Ok(Some(v)) => v.clone(),
            Ok(None) => Value::unknown(bounded(format!("{}.{name}: no such member", render(base)))),
            Err(()) => Value::unknown(bounded(format!(
                "{}.{name}: several members differ from `{name}` only in case",
                render(base)
            ))),
        },
        v => Value::unknown(bounded(format!(
            "{}.{name}: {}",
            render(base),
            expected("an object", v)
        ))),
    }
}

/// `base[index]`: an array's element or an object's member; Unknown in, Unknown out.
pub(crate) fn index(base: &Value, index: &Value) -> Value {
    let text = || bounded(format!("{}[{}]", render(base), render(index)));
    match (base, index) {
        (Value::Unknown(_), _) | (_, Value::Unknown(_)) => Value::unknown(text()),
        (Value::Array(a), Value::Int(i)) => match usize::try_from(*i).ok().and_then(|i| a.get(i)) {
            Some(v) => v.clone(),
            None => Value::unknown(format!("{}: index out of range", text())),
        },
        (Value::Object(_), Value::Str(k)) => member(base, k),
        _ => Value::unknown(format!(
            "{}: expected an array with an int index or an object with a string key",
            text()
        )),
    }
}

/// Lazy `if(cond, then, else)`: only the taken branch is evaluated. An Unknown condition
/// evaluates both; equal branches give that value, else an Unknown naming the condition.
pub(crate) fn if_lazy(
    cond: &Value,
    then: impl FnOnce() -> Value,
    other: impl FnOnce() -> Value,
) -> Value {
    match cond {
        Value::Bool(true) => then(),
        Value::Bool(false) => other(),
        Value::Unknown(_) => {
            let (a, b) = (then(), other());
            if a == b {
                a
            } else {
                Value::unknown(render_call("if", &[cond.clone(), a, b]))
            }
        }
        v => Value::unknown(format!(
            "if({}, ...): {}",
            render(v),
            expected("a bool condition", v)
        )),
    }
}

/// Lazy `and` over `n` arguments evaluated by `arg(i)` in order: stops at the first false.
/// An Unknown argument makes the result Unknown unless a later one is false.
pub(crate) fn and_lazy(n: usize, arg: impl FnMut(usize) -> Value) -> Value {
    logic_lazy("and", n, false, arg)
}

/// Lazy `or`: stops at the first true; see [`and_lazy`].
pub(crate) fn or_lazy(n: usize, arg: impl FnMut(usize) -> Value) -> Value {
    logic_lazy("or", n, true, arg)
}

fn logic_lazy(name: &str, n: usize, decisive: bool, mut arg: impl FnMut(usize) -> Value) -> Value {
    if n == 0 {
        return Value::unknown(format!("{name}(): expected at least one argument"));
    }
    let mut seen = Vec::new();
    let mut unknown = false;
    for i in 0..n {
        let v = arg(i);
        match v {
            Value::Bool(b) if b == decisive => return Value::Bool(decisive),
            Value::Bool(_) => {}
            Value::Unknown(_) => unknown = true,
            ref other => {
                let why = expected("bool arguments", other);
                seen.push(v);
                return Value::unknown(format!("{}: {why}", render_call(name, &seen)));
            }
        }
        seen.push(v);
    }
    if unknown {
        Value::unknown(render_call(name, &seen))
    } else {
        Value::Bool(!decisive)
    }
}

/// Lazy `coalesce`: the first argument that is not null, evaluating no further. An Unknown
/// met first makes the result Unknown (it may be null). `None` when all are null.
pub(crate) fn coalesce_lazy(n: usize, mut arg: impl FnMut(usize) -> Value) -> Option<Value> {
    let mut seen = Vec::new();
    for i in 0..n {
        let v = arg(i);
        match v {
            Value::Null => seen.push(v),
            Value::Unknown(_) => {
                seen.push(v);
                return Some(Value::unknown(format!(
                    "{}, ...)",
                    render_call("coalesce", &seen).trim_end_matches(')')
                )));
            }
            v => return Some(v),
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Helpers

fn expected(what: &str, got: &Value) -> String {
    format!("expected {what}, not {}", got.type_name())
}

fn arity(a: &[Value], min: usize, max: usize) -> Result<(), String> {
    if a.len() < min || a.len() > max {
        let want = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(format!("expected {want} arguments, not {}", a.len()));
    }
    Ok(())
}

fn nullary(a: &[Value], v: Value) -> Result<Value, String> {
    arity(a, 0, 0)?;
    Ok(v)
}

fn str_of(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| expected("a string", v))
}

fn int_of(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        v => Err(expected("an int", v)),
    }
}

fn object(v: &Value) -> Result<&Object, String> {
    v.as_object().ok_or_else(|| expected("an object", v))
}

fn two_strs(a: &[Value]) -> Result<(&str, &str), String> {
    arity(a, 2, 2)?;
    Ok((str_of(&a[0])?, str_of(&a[1])?))
}

fn map_str(a: &[Value], f: fn(&str) -> String) -> Result<Value, String> {
    arity(a, 1, 1)?;
    Ok(Value::Str(f(str_of(&a[0])?)))
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn unknown_inside(a: &[Value]) -> bool {
    a.iter().any(|v| !v.is_fully_known())
}

/// Deep equality as the engine compares JSON: strings case-sensitively, object members by
/// key regardless of order. `None` when an Unknown decides it.
pub(crate) fn deep_eq(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Unknown(_), _) | (_, Value::Unknown(_)) => None,
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.iter().zip(y) {
                match deep_eq(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            (!unknown).then_some(true)
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (k, p) in x.iter() {
                let Some(q) = y.iter().find(|(k2, _)| *k2 == k).map(|(_, v)| v) else {
                    return Some(false);
                };
                match deep_eq(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            (!unknown).then_some(true)
        }
        _ => Some(a == b),
    }
}

/// `string(v)`: as the engine converts (`True`/`False` for bools, compact JSON for arrays
/// and objects, an empty string for null).
pub(crate) fn to_string(v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Bool(true) => Ok("True".into()),
        Value::Bool(false) => Ok("False".into()),
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => to_json(v)
            .map(|j| j.to_string())
            .ok_or_else(|| "the value holds an Unknown".to_string()),
        Value::Unknown(_) => Err("the value is Unknown".into()),
    }
}

/// The JSON of a fully known value.
pub(crate) fn to_json(v: &Value) -> Option<serde_json::Value> {
    Some(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Str(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_json).collect::<Option<_>>()?),
        Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, v)| Some((k.to_string(), to_json(v)?)))
                .collect::<Option<_>>()?,
        ),
        Value::Unknown(_) => return None,
    })
}

fn unknown_result(name: &str, a: &[Value]) -> Value {
    Value::unknown(render_call(name, a))
}

// ---------------------------------------------------------------------------------------
// Logical

fn and(a: &[Value]) -> Result<Value, String> {
    Ok(and_lazy(a.len(), |i| a[i].clone()))
}

fn or(a: &[Value]) -> Result<Value, String> {
    Ok(or_lazy(a.len(), |i| a[i].clone()))
}

fn not(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, 1)?;
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        v => Err(expected("a bool", v)),
    }
}

fn if_(a: &[Value]) -> Result<Value, String> {
    arity(a, 3, 3)?;
    Ok(if_lazy(&a[0], || a[1].clone(), || a[2].clone()))
}

/// `bool(x)`: a bool as it is, an int as `x != 0`, and a string only when it reads `true` or
/// `false` (ignoring case and surrounding blanks, as .NET's `bool.Parse`). The engine rejects
/// any other string (`bool('yes')` fails the deployment), so that is an Unknown, not `false`:
/// an add-on whose `enabled` is `bool('yes')` cannot be said to be off.
fn bool_(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, 1)?;
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::Int(i) => Ok(Value::Bool(*i != 0)),
        Value::Str(s) => match s.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(format!("expected 'true' or 'false', not '{s}'")),
        },
        v => Err(expected("a string or int", v)),
    }
}

// ---------------------------------------------------------------------------------------
// Comparison

fn equals(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, 2)?;
    Ok(match deep_eq(&a[0], &a[1]) {
        Some(b) => Value::Bool(b),
        None => unknown_result("equals", a),
    })
}

fn compare(a: &[Value], f: fn(std::cmp::Ordering) -> bool) -> Result<Value, String> {
    arity(a, 2, 2)?;
    let o = match (&a[0], &a[1]) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (x, y) => {
            return Err(format!(
                "expected two ints or two strings, not {} and {}",
                x.type_name(),
                y.type_name()
            ))
        }
    };
    Ok(Value::Bool(f(o)))
}

// ---------------------------------------------------------------------------------------
// Strings

fn concat(a: &[Value]) -> Result<Value, String> {
    if a.iter().any(|v| !v.is_known()) {
        return Ok(unknown_result("concat", a));
    }
    if a.first().is_some_and(|v| matches!(v, Value::Array(_))) {
        let mut out = Vec::new();
        for v in a {
            match v {
                Value::Array(x) => out.extend(x.iter().cloned()),
                Value::Null => {}
                v => return Err(expected("arrays only", v)),
            }
        }
        return Ok(Value::Array(out));
    }
    let mut out = String::new();
    for v in a {
        match v {
            Value::Array(_) | Value::Object(_) => return Err(expected("strings only", v)),
            v => out.push_str(&to_string(v)?),
        }
    }
    Ok(Value::Str(out))
}

/// `format('{0}-{1}', ...)`: .NET composite formatting for `{n}` and `{{`/`}}`; a format
/// specifier (`{0:D3}`) is not evaluated.
fn format(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, usize::MAX)?;
    if a.iter().any(|v| !v.is_known()) {
        return Ok(unknown_result("format", a));
    }
    let f = str_of(&a[0])?;
    let mut out = String::new();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => spec.push(c),
                        None => return Err("an unclosed `{` in the format".into()),
                    }
                }
                let n: usize = spec
                    .trim()
                    .parse()
                    .map_err(|_| format!("the format item `{{{spec}}}` is not evaluated"))?;
                let v = a
                    .get(n.saturating_add(1))
                    .ok_or_else(|| format!("the format item {{{n}}} has no argument"))?;
                out.push_str(&to_string(v)?);
            }
            '}' => return Err("a lone `}` in the format".into()),
            c => out.push(c),
        }
    }
    Ok(Value::Str(out))
}

fn replace(a: &[Value]) -> Result<Value, String> {
    arity(a, 3, 3)?;
    let (s, old, new) = (str_of(&a[0])?, str_of(&a[1])?, str_of(&a[2])?);
    if old.is_empty() {
        return Err("the old string is empty".into());
    }
    Ok(Value::Str(s.replace(old, new)))
}

/// `contains`: a substring (case-sensitive), an array element, an object key (ignoring case).
fn contains(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, 2)?;
    let item = &a[1];
    Ok(match &a[0] {
        Value::Unknown(_) => unknown_result("contains", a),
        Value::Str(s) => match item {
            Value::Unknown(_) => unknown_result("contains", a),
            v => Value::Bool(s.contains(&to_string(v)?)),
        },
        Value::Object(o) => match item {
            Value::Str(k) => Value::Bool(o.get(k).is_some()),
            Value::Unknown(_) => unknown_result("contains", a),
            v => return Err(expected("a string key", v)),
        },
        Value::Array(x) => {
            let mut unknown = false;
            for e in x {
                match deep_eq(e, item) {
                    Some(true) => return Ok(Value::Bool(true)),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            if unknown {
                unknown_result("contains", a)
            } else {
                Value::Bool(false)
            }
        }
        v => return Err(expected("a string, array or object", v)),
    })
}

/// Char position of `needle` in `hay`, both lower-cased (ARM compares ignoring case).
fn char_pos(hay: &str, byte: usize) -> i64 {
    hay[..byte].chars().count() as i64
}

fn index_of(a: &[Value]) -> Result<Value, String> {
    let (s, p) = two_strs(a)?;
    let (s, p) = (lower(s), lower(p));
    Ok(Value::Int(s.find(&p).map_or(-1, |b| char_pos(&s, b))))
}

fn last_index_of(a: &[Value]) -> Result<Value, String> {
    let (s, p) = two_strs(a)?;
    if p.is_empty() {
        return Err("lastIndexOf of an empty string is not evaluated".into());
    }
    let (s, p) = (lower(s), lower(p));
    Ok(Value::Int(s.rfind(&p).map_or(-1, |b| char_pos(&s, b))))
}

fn substring(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, 3)?;
    let s: Vec<char> = str_of(&a[0])?.chars().collect();
    let start = int_of(&a[1])?;
    let len = match a.get(2) {
        Some(v) => int_of(v)?,
        None => s.len() as i64 - start,
    };
    let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(len)) else {
        return Err("a negative start or length".into());
    };
    match start.checked_add(len) {
        Some(end) if end <= s.len() => Ok(Value::Str(s[start..end].iter().collect())),
        _ => Err("the start and length go past the end of the string".into()),
    }
}

fn split(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, 2)?;
    let s = str_of(&a[0])?;
    let delims: Vec<&str> = match &a[1] {
        Value::Str(d) => vec![d.as_str()],
        Value::Array(ds) => ds.iter().map(str_of).collect::<Result<_, _>>()?,
        v => return Err(expected("a string or an array of strings", v)),
    };
    let delims: Vec<&str> = delims.into_iter().filter(|d| !d.is_empty()).collect();
    let mut parts = Vec::new();
    let mut rest = s;
    loop {
        let next = delims
            .iter()
            .filter_map(|d| rest.find(d).map(|i| (i, d.len())))
            .min_by_key(|&(i, _)| i);
        match next {
            Some((i, n)) => {
                parts.push(Value::str(&rest[..i]));
                rest = &rest[i + n..];
            }
            None => {
                parts.push(Value::str(rest));
                break;
            }
        }
    }
    Ok(Value::Array(parts))
}

fn join(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, 2)?;
    if unknown_inside(a) {
        return Ok(unknown_result("join", a));
    }
    let Value::Array(items) = &a[0] else {
        return Err(expected("an array", &a[0]));
    };
    let d = str_of(&a[1])?;
    let parts: Vec<String> = items.iter().map(to_string).collect::<Result<_, _>>()?;
    Ok(Value::Str(parts.join(d)))
}

fn pad_left(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, 3)?;
    let s = match &a[0] {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        v => return Err(expected("a string or int", v)),
    };
    let total = usize::try_from(int_of(&a[1])?).map_err(|_| "a negative length".to_string())?;
    let pad = match a.get(2) {
        Some(v) => {
            let p = str_of(v)?;
            let mut cs = p.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => c,
                _ => return Err("expected one padding character".into()),
            }
        }
        None => ' ',
    };
    let n = s.chars().count();
    if total > 16 * 1024 * 1024 {
        return Err("the length is too large".into());
    }
    let mut out: String = std::iter::repeat_n(pad, total.saturating_sub(n)).collect();
    out.push_str(&s);
    Ok(Value::Str(out))
}

// ---------------------------------------------------------------------------------------
// Arrays and objects

/// `union`: objects merged deeply (later arguments win key by key, nested objects merged
/// recursively, anything else replaced); arrays concatenated without duplicates.
fn union(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, usize::MAX)?;
    match &a[0] {
        Value::Object(_) => {
            let mut out = Object::new();
            for v in a {
                merge_deep(&mut out, object(v)?, 0);
            }
            Ok(Value::Object(out))
        }
        Value::Array(_) => {
            let mut out: Vec<Value> = Vec::new();
            for v in a {
                let Value::Array(x) = v else {
                    return Err(expected("arrays only", v));
                };
                for e in x {
                    match out
                        .iter()
                        .map(|o| deep_eq(o, e))
                        .find(|r| *r != Some(false))
                    {
                        Some(Some(true)) => {}
                        Some(None) => return Err("an Unknown element may be a duplicate".into()),
                        _ => out.push(e.clone()),
                    }
                }
            }
            Ok(Value::Array(out))
        }
        v => Err(expected("objects or arrays", v)),
    }
}

fn merge_deep(into: &mut Object, from: &Object, depth: usize) {
    for (k, v) in from.iter() {
        if let (Some(Value::Object(old)), Value::Object(new)) = (into.get_mut(k), v) {
            if depth < super::MAX_DEPTH {
                merge_deep(old, new, depth + 1);
                continue;
            }
        }
        into.insert(k, v.clone());
    }
}

fn intersection(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, usize::MAX)?;
    if unknown_inside(a) {
        return Ok(unknown_result("intersection", a));
    }
    match &a[0] {
        Value::Object(first) => {
            let others: Vec<&Object> = a[1..].iter().map(object).collect::<Result<_, _>>()?;
            let out = first
                .iter()
                .filter(|(k, v)| {
                    others
                        .iter()
                        .all(|o| o.get(k).is_some_and(|w| deep_eq(v, w) == Some(true)))
                })
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            Ok(Value::Object(out))
        }
        Value::Array(first) => {
            let mut others = Vec::new();
            for v in &a[1..] {
                match v {
                    Value::Array(x) => others.push(x),
                    v => return Err(expected("arrays only", v)),
                }
            }
            let mut out: Vec<Value> = Vec::new();
            for e in first {
                let everywhere = others
                    .iter()
                    .all(|o| o.iter().any(|w| deep_eq(e, w) == Some(true)));
                if everywhere && !out.iter().any(|w| deep_eq(e, w) == Some(true)) {
                    out.push(e.clone());
                }
            }
            Ok(Value::Array(out))
        }
        v => Err(expected("objects or arrays", v)),
    }
}

fn create_object(a: &[Value]) -> Result<Value, String> {
    if a.len() % 2 != 0 {
        return Err("expected key and value pairs".into());
    }
    let mut o = Object::new();
    for pair in a.chunks(2) {
        match &pair[0] {
            Value::Str(k) => o.insert(k.clone(), pair[1].clone()),
            Value::Unknown(_) => return Ok(unknown_result("createObject", a)),
            v => return Err(expected("string keys", v)),
        }
    }
    Ok(Value::Object(o))
}

fn end(a: &[Value], first: bool) -> Result<Value, String> {
    arity(a, 1, 1)?;
    match &a[0] {
        Value::Str(s) => {
            let c = if first {
                s.chars().next()
            } else {
                s.chars().last()
            };
            Ok(Value::Str(c.map(String::from).unwrap_or_default()))
        }
        Value::Array(x) => {
            let e = if first { x.first() } else { x.last() };
            e.cloned().ok_or_else(|| "the array is empty".into())
        }
        v => Err(expected("a string or array", v)),
    }
}

fn take_skip(a: &[Value], take: bool) -> Result<Value, String> {
    arity(a, 2, 2)?;
    let n = usize::try_from(int_of(&a[1])?.max(0)).unwrap_or(usize::MAX);
    match &a[0] {
        Value::Str(s) => Ok(Value::Str(if take {
            s.chars().take(n).collect()
        } else {
            s.chars().skip(n).collect()
        })),
        Value::Array(x) => Ok(Value::Array(if take {
            x.iter().take(n).cloned().collect()
        } else {
            x.iter().skip(n).cloned().collect()
        })),
        v => Err(expected("a string or array", v)),
    }
}

fn range(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, 2)?;
    let (start, count) = (int_of(&a[0])?, int_of(&a[1])?);
    // The engine's own limit for range().
    if !(0..=10_000).contains(&count) {
        return Err("the count must be from 0 to 10000".into());
    }
    if start.checked_add(count).is_none() {
        return Err("the range overflows".into());
    }
    Ok(Value::Array(
        (start..start + count).map(Value::Int).collect(),
    ))
}

fn extreme(a: &[Value], min: bool) -> Result<Value, String> {
    arity(a, 1, usize::MAX)?;
    let items: &[Value] = match a {
        [Value::Array(x)] => x,
        _ => a,
    };
    if unknown_inside(items) {
        return Ok(unknown_result(if min { "min" } else { "max" }, a));
    }
    let ints: Vec<i64> = items.iter().map(int_of).collect::<Result<_, _>>()?;
    let r = if min {
        ints.iter().min()
    } else {
        ints.iter().max()
    };
    r.map(|i| Value::Int(*i))
        .ok_or_else(|| "expected at least one int".into())
}

/// `items(object)`: `{key, value}` objects, sorted by key (ignoring case) as the engine does.
fn items(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, 1)?;
    let o = object(&a[0])?;
    let mut members: Vec<(&str, &Value)> = o.iter().collect();
    members.sort_by_key(|(k, _)| k.to_lowercase());
    Ok(Value::Array(
        members
            .into_iter()
            .map(|(k, v)| {
                let mut e = Object::new();
                e.insert("key", Value::str(k));
                e.insert("value", v.clone());
                Value::Object(e)
            })
            .collect(),
    ))
}

/// `tryGet(value, key or index, ...)`: follows the keys (ignoring case) and indexes, null
/// where one is missing or the value is null.
fn try_get(a: &[Value]) -> Result<Value, String> {
    arity(a, 2, usize::MAX)?;
    let mut v = &a[0];
    for k in &a[1..] {
        match (v, k) {
            (Value::Null, _) => return Ok(Value::Null),
            (Value::Unknown(_), _) | (_, Value::Unknown(_)) => {
                return Ok(unknown_result("tryGet", a))
            }
            (Value::Object(o), Value::Str(key)) => match o.get(key) {
                Some(next) => v = next,
                None => return Ok(Value::Null),
            },
            (Value::Array(x), Value::Int(i)) => {
                match usize::try_from(*i).ok().and_then(|i| x.get(i)) {
                    Some(next) => v = next,
                    None => return Ok(Value::Null),
                }
            }
            (v, k) => {
                return Err(format!(
                "expected an object with a string key or an array with an int index, not {} and {}",
                v.type_name(),
                k.type_name()
            ))
            }
        }
    }
    Ok(v.clone())
}

/// `shallowMerge(array of objects)`: top-level members, later objects winning.
fn shallow_merge(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, 1)?;
    let Value::Array(items) = &a[0] else {
        return Err(expected("an array of objects", &a[0]));
    };
    if items.iter().any(|i| !i.is_known()) {
        return Ok(unknown_result("shallowMerge", a));
    }
    let mut out = Object::new();
    for item in items {
        for (k, v) in object(item)?.iter() {
            out.insert(k, v.clone());
        }
    }
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------------------
// Numbers and values

fn arith(a: &[Value], f: fn(i64, i64) -> Option<i64>) -> Result<Value, String> {
    arity(a, 2, 2)?;
    f(int_of(&a[0])?, int_of(&a[1])?)
        .map(Value::Int)
        .ok_or_else(|| "division by zero or overflow".into())
}

fn int(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, 1)?;
    match &a[0] {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Str(s) => s
            .trim()
            .parse()
            .map(Value::Int)
            .map_err(|_| format!("`{s}` is not an integer")),
        v => Err(expected("a string or int", v)),
    }
}

fn json(a: &[Value]) -> Result<Value, String> {
    arity(a, 1, 1)?;
    let s = str_of(&a[0])?;
    serde_json::from_str::<serde_json::Value>(s)
        .map(|j| Value::from_json(&j))
        .map_err(|e| format!("not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    fn u(reason: &str) -> Value {
        Value::unknown(reason)
    }

    /// (function, arguments as JSON, expected result as JSON)
    #[test]
    fn known_functions_compute_what_the_engine_does() {
        let cases: &[(&str, serde_json::Value, serde_json::Value)] = &[
            ("and", json!([true, true, false]), json!(false)),
            ("and", json!([true, true]), json!(true)),
            ("or", json!([false, true]), json!(true)),
            ("or", json!([false, false]), json!(false)),
            ("not", json!([true]), json!(false)),
            ("if", json!([true, "a", "b"]), json!("a")),
            ("if", json!([false, "a", "b"]), json!("b")),
            ("bool", json!(["TRUE"]), json!(true)),
            ("bool", json!(["false"]), json!(false)),
            ("bool", json!([0]), json!(false)),
            ("bool", json!([2]), json!(true)),
            ("bool", json!([" True "]), json!(true)),
            ("bool", json!(["FALSE"]), json!(false)),
            ("true", json!([]), json!(true)),
            ("false", json!([]), json!(false)),
            ("equals", json!([1, 2]), json!(false)),
            ("equals", json!(["a", "A"]), json!(false)),
            ("equals", json!([{"a": [1]}, {"a": [1]}]), json!(true)),
            ("equals", json!(["1", 1]), json!(false)),
            ("less", json!([1, 2]), json!(true)),
            ("less", json!(["b", "a"]), json!(false)),
            ("lessOrEquals", json!([2, 2]), json!(true)),
            ("greater", json!([3, 2]), json!(true)),
            ("greaterOrEquals", json!([1, 2]), json!(false)),
            ("concat", json!(["a", 1, true]), json!("a1True")),
            ("concat", json!([[1], [2, 1]]), json!([1, 2, 1])),
            ("format", json!(["{0}-{1}{{x}}", "a", 2]), json!("a-2{x}")),
            ("toLower", json!(["AbC"]), json!("abc")),
            ("toUpper", json!(["AbC"]), json!("ABC")),
            ("trim", json!(["  a b "]), json!("a b")),
            ("replace", json!(["a-b-c", "-", "+"]), json!("a+b+c")),
            ("contains", json!(["abc", "b"]), json!(true)),
            ("contains", json!(["abc", "B"]), json!(false)),
            ("contains", json!([[1, "x"], "x"]), json!(true)),
            ("contains", json!([{"Key": 1}, "kEY"]), json!(true)),
            ("contains", json!([{"Key": 1}, "other"]), json!(false)),
            ("startsWith", json!(["Hello", "he"]), json!(true)),
            ("endsWith", json!(["Hello", "LO"]), json!(true)),
            ("endsWith", json!(["Hello", "x"]), json!(false)),
            ("indexOf", json!(["abcB", "B"]), json!(1)),
            ("indexOf", json!(["abc", "z"]), json!(-1)),
            ("lastIndexOf", json!(["abcB", "b"]), json!(3)),
            ("substring", json!(["hello", 1, 3]), json!("ell")),
            ("substring", json!(["hello", 2]), json!("llo")),
            (
                "split",
                json!(["a,b;c", [",", ";"]]),
                json!(["a", "b", "c"]),
            ),
            ("split", json!(["a,,b", ","]), json!(["a", "", "b"])),
            ("join", json!([["a", 1, false], "-"]), json!("a-1-False")),
            ("string", json!([true]), json!("True")),
            ("string", json!([false]), json!("False")),
            ("string", json!([12]), json!("12")),
            (
                "string",
                json!([{"a": [1, "b"]}]),
                json!("{\"a\":[1,\"b\"]}"),
            ),
            ("padLeft", json!(["7", 3, "0"]), json!("007")),
            ("padLeft", json!([12, 1]), json!("12")),
            (
                "union",
                json!([{"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]}]),
                json!({"a": {"x": 1, "y": 3}, "b": [2]}),
            ),
            ("union", json!([[1, 2], [2, 3]]), json!([1, 2, 3])),
            (
                "intersection",
                json!([{"a": 1, "b": 2}, {"a": 1, "b": 3}]),
                json!({"a": 1}),
            ),
            ("intersection", json!([[1, 2, 3], [3, 2]]), json!([2, 3])),
            (
                "createObject",
                json!(["k", 1, "j", "x"]),
                json!({"k": 1, "j": "x"}),
            ),
            ("createArray", json!([1, "a"]), json!([1, "a"])),
            ("array", json!(["a"]), json!(["a"])),
            ("array", json!([[1]]), json!([1])),
            ("empty", json!([""]), json!(true)),
            ("empty", json!([{}]), json!(true)),
            ("empty", json!([[0]]), json!(false)),
            ("empty", json!([null]), json!(true)),
            ("length", json!(["héllo"]), json!(5)),
            ("length", json!([[1, 2]]), json!(2)),
            ("length", json!([{"a": 1}]), json!(1)),
            ("first", json!([[3, 4]]), json!(3)),
            ("first", json!(["xy"]), json!("x")),
            ("last", json!([[3, 4]]), json!(4)),
            ("take", json!([[1, 2, 3], 2]), json!([1, 2])),
            ("take", json!(["abc", 5]), json!("abc")),
            ("skip", json!([[1, 2, 3], 2]), json!([3])),
            ("skip", json!(["abc", -1]), json!("abc")),
            ("range", json!([5, 3]), json!([5, 6, 7])),
            ("min", json!([[4, 2, 9]]), json!(2)),
            ("min", json!([4, 2, 9]), json!(2)),
            ("max", json!([4, 2, 9]), json!(9)),
            (
                "items",
                json!([{"b": 1, "A": 2}]),
                json!([{"key": "A", "value": 2}, {"key": "b", "value": 1}]),
            ),
            ("objectKeys", json!([{"b": 1, "a": 2}]), json!(["b", "a"])),
            ("tryGet", json!([{"a": {"B": [5]}}, "a", "b", 0]), json!(5)),
            ("tryGet", json!([{"a": 1}, "x"]), json!(null)),
            ("tryGet", json!([null, "kind"]), json!(null)),
            ("tryGet", json!([[1], 3]), json!(null)),
            (
                "shallowMerge",
                json!([[{"a": {"x": 1}, "b": 1}, {"a": {"y": 2}}]]),
                json!({"a": {"y": 2}, "b": 1}),
            ),
            ("add", json!([2, 3]), json!(5)),
            ("sub", json!([2, 3]), json!(-1)),
            ("mul", json!([2, 3]), json!(6)),
            ("div", json!([7, 2]), json!(3)),
            ("mod", json!([7, 2]), json!(1)),
            ("int", json!(["42"]), json!(42)),
            ("json", json!(["false"]), json!(false)),
            ("json", json!(["{\"a\": [1]}"]), json!({"a": [1]})),
            ("null", json!([]), json!(null)),
            ("coalesce", json!([null, "a", "b"]), json!("a")),
            ("coalesce", json!([null, null]), json!(null)),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (name, args, want) in cases {
            let args: Vec<Value> = args
                .as_array()
                .unwrap()
                .iter()
                .map(Value::from_json)
                .collect();
            assert_eq!(call(name, &args), v(want.clone()), "{name}{args:?}");
            // Names are compared ignoring case.
            assert_eq!(call(&name.to_uppercase(), &args), v(want.clone()), "{name}");
            seen.insert(name.to_lowercase());
        }
        // Every row of the table has a case.
        for r in TABLE {
            assert!(
                seen.contains(&r.name.to_lowercase()),
                "no test for {}",
                r.name
            );
        }
    }

    #[test]
    fn deploy_time_and_unlisted_functions_are_unknowns_naming_their_arguments() {
        let a = call("reference", &[Value::str("x")]);
        assert_eq!(a, u("reference('x')"));
        assert_ne!(a, call("reference", &[Value::str("y")]));
        assert_eq!(call("resourcegroup", &[]), u("resourceGroup()"));
        assert_eq!(
            member(&call("resourceGroup", &[]), "location"),
            u("resourceGroup().location")
        );
        assert_eq!(call("someUdf", &[Value::Int(1)]), u("someUdf(1)"));
        assert_eq!(
            call("uniqueString", &[Value::str("a")]),
            call("uniqueString", &[Value::str("a")])
        );
    }

    #[test]
    fn unknown_arguments_give_unknowns_unless_the_result_is_decided() {
        let r = call("reference", &[Value::str("x")]);
        assert_eq!(
            call("concat", &[Value::str("a-"), r.clone()]),
            u("concat('a-', reference('x'))")
        );
        assert_eq!(
            call("toLower", std::slice::from_ref(&r)),
            u("toLower(reference('x'))")
        );
        assert_eq!(
            call("and", &[r.clone(), Value::Bool(false)]),
            Value::Bool(false)
        );
        assert!(!call("and", &[r.clone(), Value::Bool(true)]).is_known());
        assert_eq!(
            call("or", &[r.clone(), Value::Bool(true)]),
            Value::Bool(true)
        );
        assert!(!call("or", &[r.clone(), Value::Bool(false)]).is_known());
        let x = Value::str("x");
        assert_eq!(call("if", &[r.clone(), x.clone(), x.clone()]), x);
        assert!(!call("if", &[r.clone(), x.clone(), Value::Null]).is_known());
        assert!(!call("equals", &[r.clone(), x.clone()]).is_known());
        assert_eq!(
            call(
                "equals",
                &[v(json!([1])), Value::Array(vec![Value::Int(1), r.clone()])]
            ),
            Value::Bool(false)
        );
        assert!(!call("coalesce", &[Value::Null, r.clone(), x.clone()]).is_known());
        assert_eq!(call("coalesce", &[x.clone(), r.clone()]), x);
        // Containers holding an Unknown are still known containers.
        let arr = Value::Array(vec![r.clone(), Value::Int(1)]);
        assert_eq!(call("length", std::slice::from_ref(&arr)), Value::Int(2));
        assert!(!call("contains", &[arr.clone(), Value::Int(2)]).is_known());
        assert_eq!(call("contains", &[arr, Value::Int(1)]), Value::Bool(true));
        // Member access and indexing on an Unknown append to its reason.
        assert_eq!(
            index(&member(&r, "outputs"), &Value::Int(0)),
            u("reference('x').outputs[0]")
        );
    }

    #[test]
    fn union_keeps_nested_members_the_later_object_does_not_mention() {
        let base = v(json!({"addonProfiles": {"azureKeyvaultSecretsProvider": {
            "enabled": true, "config": {"enableSecretRotation": "true"}}}}));
        let extra = v(json!({"addonProfiles": {"omsagent": {"enabled": true}}}));
        let merged = call("union", &[base, extra]);
        assert_eq!(
            merged.at(&[
                "addonProfiles",
                "azureKeyvaultSecretsProvider",
                "config",
                "enableSecretRotation"
            ]),
            Some(&Value::str("true"))
        );
        assert_eq!(
            merged.at(&["addonProfiles", "omsagent", "enabled"]),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn wrong_arity_or_types_are_unknowns_that_say_what_was_expected() {
        let bad: &[(&str, serde_json::Value)] = &[
            ("not", json!(["x"])),
            ("not", json!([])),
            ("equals", json!([1])),
            ("substring", json!(["abc", 2, 5])),
            ("div", json!([1, 0])),
            ("add", json!([i64::MAX, 1])),
            ("createObject", json!(["k"])),
            ("createObject", json!([1, 2])),
            ("union", json!([{"a": 1}, [1]])),
            ("first", json!([[]])),
            ("range", json!([0, 100000])),
            ("json", json!(["{"])),
            ("int", json!(["x"])),
            ("format", json!(["{1}", "a"])),
            ("format", json!(["{0:D3}", 1])),
            ("replace", json!(["a", "", "b"])),
            ("less", json!([1, "a"])),
            ("padLeft", json!(["a", 3, "xy"])),
            ("items", json!([[1]])),
            // The engine rejects these; neither is false.
            ("bool", json!(["yes"])),
            ("bool", json!([""])),
        ];
        for (name, args) in bad {
            let args: Vec<Value> = args
                .as_array()
                .unwrap()
                .iter()
                .map(Value::from_json)
                .collect();
            match call(name, &args) {
                Value::Unknown(u) => assert!(
                    u.reason.contains("expected") || u.reason.contains(':'),
                    "{name}: {}",
                    u.reason
                ),
                other => panic!("{name}{args:?} gave {other}"),
            }
        }
        let Value::Unknown(u) = call("not", &[Value::str("x")]) else {
            unreachable!()
        };
        assert_eq!(&*u.reason, "not('x'): expected a bool, not string");
    }

    #[test]
    fn lazy_helpers_evaluate_only_what_is_needed() {
        let mut calls = 0;
        let r = and_lazy(3, |i| {
            calls += 1;
            Value::Bool(i != 0)
        });
        assert_eq!((r, calls), (Value::Bool(false), 1));
        let r = if_lazy(&Value::Bool(true), || Value::Int(1), || panic!("not taken"));
        assert_eq!(r, Value::Int(1));
        let r = coalesce_lazy(2, |i| if i == 0 { Value::Int(1) } else { panic!() });
        assert_eq!(r, Some(Value::Int(1)));
    }
}
