//! Declared types of parameters and outputs, shared by the ARM and Bicep evaluators: a base
//! type plus the constraints a template can put on a value (allowed values, lengths, ranges,
//! nullability, and languageVersion 2.0's object properties and array items). [`check`]
//! says whether a value fits; [`from_arm`] reads an ARM declaration. A Bicep literal or union
//! type is an [`DeclaredType::allowed`] list compared case-sensitively.

use super::value::Value;
use super::MAX_DEPTH;

/// The base type of a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseType {
    String,
    SecureString,
    Int,
    Bool,
    Object,
    SecureObject,
    Array,
    /// No base type is declared (or it is not one armfix knows): any value fits.
    Any,
}

impl BaseType {
    /// Reads an ARM `type` (ignoring case); `None` for an unknown name.
    pub(crate) fn from_name(name: &str) -> Option<BaseType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "string" => BaseType::String,
            "securestring" => BaseType::SecureString,
            "int" => BaseType::Int,
            "bool" => BaseType::Bool,
            "object" => BaseType::Object,
            "secureobject" => BaseType::SecureObject,
            "array" => BaseType::Array,
            "any" => BaseType::Any,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            BaseType::String => "string",
            BaseType::SecureString => "securestring",
            BaseType::Int => "int",
            BaseType::Bool => "bool",
            BaseType::Object => "object",
            BaseType::SecureObject => "secureObject",
            BaseType::Array => "array",
            BaseType::Any => "any",
        }
    }

    fn fits(self, v: &Value) -> bool {
        matches!(
            (self, v),
            (BaseType::Any, _)
                | (BaseType::String | BaseType::SecureString, Value::Str(_))
                | (BaseType::Int, Value::Int(_))
                | (BaseType::Bool, Value::Bool(_))
                | (BaseType::Object | BaseType::SecureObject, Value::Object(_))
                | (BaseType::Array, Value::Array(_))
        )
    }
}

/// What a member not named in [`DeclaredType::properties`] may be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Additional {
    /// `additionalProperties: false`: no other members.
    Forbidden,
    /// `additionalProperties: {type}`: other members must fit it.
    Typed(Box<DeclaredType>),
}

/// A declared type with its constraints.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeclaredType {
    pub(crate) base: BaseType,
    /// The only values allowed (`allowedValues`, `@allowed`, a Bicep literal or union type).
    /// For an array type whose allowed values are not arrays, every item must be one of them.
    pub(crate) allowed: Option<Vec<Value>>,
    /// Whether strings in `allowed` are compared case-sensitively: true for Bicep's
    /// literal types, false for ARM's `allowedValues` (see [`from_arm`]).
    pub(crate) allowed_case_sensitive: bool,
    /// For strings (in chars) and arrays (in items).
    pub(crate) min_length: Option<i64>,
    pub(crate) max_length: Option<i64>,
    /// For ints.
    pub(crate) min_value: Option<i64>,
    pub(crate) max_value: Option<i64>,
    /// Whether null is allowed (and, for an object property, whether it may be missing).
    pub(crate) nullable: bool,
    /// languageVersion 2.0 object `properties`, by name (compared ignoring case).
    pub(crate) properties: Vec<(String, DeclaredType)>,
    pub(crate) additional: Option<Additional>,
    /// languageVersion 2.0 array `items`.
    pub(crate) items: Option<Box<DeclaredType>>,
    /// languageVersion 2.0 tuple `prefixItems`: the type of the item at each position.
    pub(crate) prefix_items: Vec<DeclaredType>,
}

impl DeclaredType {
    /// A type of `base` with no constraints.
    pub(crate) fn new(base: BaseType) -> DeclaredType {
        DeclaredType {
            base,
            allowed: None,
            allowed_case_sensitive: true,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            nullable: false,
            properties: Vec::new(),
            additional: None,
            items: None,
            prefix_items: Vec::new(),
        }
    }
}

// Only the tests build such types by hand; Bicep's own types set the flag as they are read.
#[cfg(test)]
impl DeclaredType {
    /// This type with allowed strings compared case-sensitively (or not), all the way down.
    pub(crate) fn case_sensitive(mut self, on: bool) -> DeclaredType {
        self.allowed_case_sensitive = on;
        self.properties = self
            .properties
            .into_iter()
            .map(|(k, t)| (k, t.case_sensitive(on)))
            .collect();
        self.additional = self.additional.map(|a| match a {
            Additional::Typed(t) => Additional::Typed(Box::new(t.case_sensitive(on))),
            f => f,
        });
        self.items = self.items.map(|t| Box::new(t.case_sensitive(on)));
        self.prefix_items = self
            .prefix_items
            .into_iter()
            .map(|t| t.case_sensitive(on))
            .collect();
        self
    }
}

/// Whether `v` fits `ty`; the error says why not (`allows only "false", not "true"`). Unknown
/// values, and Unknown parts of values, fit.
pub(crate) fn check(ty: &DeclaredType, v: &Value) -> Result<(), String> {
    check_at(ty, v, 0)
}

/// [`check`] with the error prefixed by what is checked: `parameter `rot` allows only ...`.
pub(crate) fn check_named(what: &str, ty: &DeclaredType, v: &Value) -> Result<(), String> {
    check(ty, v).map_err(|e| format!("{what} {e}"))
}

fn allowed_eq(a: &Value, b: &Value, case_sensitive: bool) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) if !case_sensitive => x.eq_ignore_ascii_case(y),
        _ => super::functions::deep_eq(a, b) == Some(true),
    }
}

fn list(values: &[Value]) -> String {
    match values {
        [] => "no value".into(),
        [one] => one.to_string(),
        _ => {
            let (last, rest) = values.split_last().unwrap_or((&values[0], &[]));
            let rest: Vec<String> = rest.iter().map(Value::to_string).collect();
            format!("{} or {last}", rest.join(", "))
        }
    }
}

fn check_at(ty: &DeclaredType, v: &Value, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Ok(()); // Too deep to say: treated like an Unknown part.
    }
    if !v.is_known() {
        return Ok(());
    }
    if *v == Value::Null {
        return if ty.nullable || ty.base == BaseType::Any {
            Ok(())
        } else {
            Err(format!("expects {}, not null", ty.base.name()))
        };
    }
    if !ty.base.fits(v) {
        return Err(format!("expects {}, not {}", ty.base.name(), v.type_name()));
    }
    if let Some(allowed) = &ty.allowed {
        let cs = ty.allowed_case_sensitive;
        let each_item =
            ty.base == BaseType::Array && !allowed.iter().any(|a| matches!(a, Value::Array(_)));
        match v {
            Value::Array(items) if each_item => {
                for item in items.iter().filter(|i| i.is_fully_known()) {
                    if !allowed.iter().any(|a| allowed_eq(a, item, cs)) {
                        return Err(format!("allows only items {}, not {item}", list(allowed)));
                    }
                }
            }
            v if v.is_fully_known() && !allowed.iter().any(|a| allowed_eq(a, v, cs)) => {
                return Err(format!("allows only {}, not {v}", list(allowed)));
            }
            _ => {}
        }
    }
    let length = match v {
        Value::Str(s) => Some(s.chars().count() as i64),
        Value::Array(a) => Some(a.len() as i64),
        _ => None,
    };
    if let Some(n) = length {
        if let Some(min) = ty.min_length.filter(|m| n < *m) {
            return Err(format!("needs a length of at least {min}, not {n}"));
        }
        if let Some(max) = ty.max_length.filter(|m| n > *m) {
            return Err(format!("allows a length of at most {max}, not {n}"));
        }
    }
    if let Value::Int(i) = v {
        if let Some(min) = ty.min_value.filter(|m| i < m) {
            return Err(format!("needs a value of at least {min}, not {i}"));
        }
        if let Some(max) = ty.max_value.filter(|m| i > m) {
            return Err(format!("allows a value of at most {max}, not {i}"));
        }
    }
    if let Value::Object(o) = v {
        for (name, pty) in &ty.properties {
            match o.get(name) {
                Some(pv) => {
                    check_at(pty, pv, depth + 1).map_err(|e| format!("member `{name}` {e}"))?
                }
                None if pty.nullable => {}
                None => return Err(format!("needs the member `{name}`")),
            }
        }
        if let Some(additional) = &ty.additional {
            for (k, mv) in o.iter() {
                if ty.properties.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
                    continue;
                }
                match additional {
                    Additional::Forbidden => {
                        return Err(format!("allows no member `{k}`"));
                    }
                    Additional::Typed(aty) => {
                        check_at(aty, mv, depth + 1).map_err(|e| format!("member `{k}` {e}"))?
                    }
                }
            }
        }
    }
    if let Value::Array(items) = v {
        for (i, item) in items.iter().enumerate() {
            let ity = ty.prefix_items.get(i).or(ty.items.as_deref());
            if let Some(ity) = ity {
                check_at(ity, item, depth + 1).map_err(|e| format!("item {i} {e}"))?;
            }
        }
    }
    Ok(())
}

/// Reads an ARM parameter, output or type declaration (`type`, `allowedValues`, `minLength`,
/// `maxLength`, `minValue`, `maxValue`, `nullable`, `properties`, `additionalProperties`,
/// `items`, `prefixItems`, `$ref` to `#/definitions/x`). Allowed strings compare ignoring
/// case. That is a judgement, not a documented fact: the template reference is silent on
/// case, and the engine is believed to accept `standard_lrs` for an allowed `Standard_LRS`.
/// The strict reading is [`DeclaredType::allowed_case_sensitive`], which Bicep literal
/// types set. A `$ref` that does not resolve,
/// that refers to itself, or that goes deeper than [`MAX_DEPTH`] is `any`; so is a type
/// larger than a fixed budget of nodes (definitions that nest many times over).
pub(crate) fn from_arm(
    decl: &serde_json::Value,
    definitions: Option<&serde_json::Value>,
) -> DeclaredType {
    let mut r = Reader {
        definitions,
        stack: Vec::new(),
        budget: 10_000,
    };
    r.read(decl, 0)
}

struct Reader<'d> {
    definitions: Option<&'d serde_json::Value>,
    /// `$ref`s being read, to stop at one that refers to itself.
    stack: Vec<String>,
    /// Nodes left to read.
    budget: usize,
}

fn get<'j>(obj: &'j serde_json::Value, key: &str) -> Option<&'j serde_json::Value> {
    obj.as_object()?
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

impl<'d> Reader<'d> {
    fn read(&mut self, decl: &'d serde_json::Value, depth: usize) -> DeclaredType {
        let any = DeclaredType::new(BaseType::Any);
        if depth > MAX_DEPTH || self.budget == 0 || !decl.is_object() {
            return any;
        }
        self.budget -= 1;
        let int = |k: &str| get(decl, k).and_then(serde_json::Value::as_i64);
        let mut ty = match get(decl, "$ref").and_then(|r| r.as_str()) {
            Some(r) => {
                let target = r
                    .strip_prefix("#/definitions/")
                    .and_then(|name| get(self.definitions?, name));
                match target {
                    Some(t) if !self.stack.iter().any(|s| s == r) => {
                        self.stack.push(r.to_string());
                        let t = self.read(t, depth + 1);
                        self.stack.pop();
                        t
                    }
                    _ => any,
                }
            }
            None => {
                let base = get(decl, "type")
                    .and_then(|t| t.as_str())
                    .and_then(BaseType::from_name)
                    .unwrap_or(BaseType::Any);
                DeclaredType::new(base)
            }
        };
        // Constraints beside a `$ref` narrow the referenced type.
        if let Some(a) = get(decl, "allowedValues").and_then(|a| a.as_array()) {
            ty.allowed = Some(a.iter().map(Value::from_json).collect());
            ty.allowed_case_sensitive = false;
        }
        ty.min_length = int("minLength").or(ty.min_length);
        ty.max_length = int("maxLength").or(ty.max_length);
        ty.min_value = int("minValue").or(ty.min_value);
        ty.max_value = int("maxValue").or(ty.max_value);
        if let Some(n) = get(decl, "nullable").and_then(|n| n.as_bool()) {
            ty.nullable = n;
        }
        if let Some(props) = get(decl, "properties").and_then(|p| p.as_object()) {
            ty.properties = props
                .iter()
                .map(|(k, p)| (k.clone(), self.read(p, depth + 1)))
                .collect();
        }
        match get(decl, "additionalProperties") {
            Some(serde_json::Value::Bool(false)) => ty.additional = Some(Additional::Forbidden),
            Some(a @ serde_json::Value::Object(_)) => {
                ty.additional = Some(Additional::Typed(Box::new(self.read(a, depth + 1))))
            }
            _ => {}
        }
        if let Some(items) = get(decl, "items").filter(|i| i.is_object()) {
            ty.items = Some(Box::new(self.read(items, depth + 1)));
        }
        if let Some(prefix) = get(decl, "prefixItems").and_then(|p| p.as_array()) {
            ty.prefix_items = prefix.iter().map(|p| self.read(p, depth + 1)).collect();
        }
        ty
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    fn arm(decl: serde_json::Value) -> DeclaredType {
        from_arm(&decl, None)
    }

    #[test]
    fn allowed_values_name_the_allowed_and_the_given() {
        let ty = arm(json!({"type": "string", "allowedValues": ["false"]}));
        assert_eq!(
            check_named("parameter `rot`", &ty, &Value::str("true")),
            Err("parameter `rot` allows only \"false\", not \"true\"".into())
        );
        assert_eq!(check(&ty, &Value::str("false")), Ok(()));
        // ARM compares allowed strings ignoring case; a Bicep literal type does not.
        assert_eq!(check(&ty, &Value::str("FALSE")), Ok(()));
        let bicep = ty.clone().case_sensitive(true);
        assert!(check(&bicep, &Value::str("FALSE")).is_err());
        let nested =
            arm(json!({"type": "array", "items": {"type": "string", "allowedValues": ["a"]}}));
        assert!(check(&nested, &v(json!(["A"]))).is_ok());
        assert!(check(&nested.case_sensitive(true), &v(json!(["A"]))).is_err());
        let two = arm(json!({"type": "string", "allowedValues": ["a", "b"]}));
        assert_eq!(
            check(&two, &Value::str("c")),
            Err("allows only \"a\" or \"b\", not \"c\"".into())
        );
    }

    #[test]
    fn base_types_lengths_and_ranges() {
        let s = arm(json!({"type": "secureString", "minLength": 2, "maxLength": 3}));
        assert!(check(&s, &Value::str("ab")).is_ok());
        assert_eq!(
            check(&s, &Value::str("a")),
            Err("needs a length of at least 2, not 1".into())
        );
        assert!(check(&s, &Value::str("abcd")).is_err());
        assert_eq!(
            check(&s, &Value::Int(1)),
            Err("expects securestring, not int".into())
        );
        let i = arm(json!({"type": "int", "minValue": 1, "maxValue": 5}));
        assert!(check(&i, &Value::Int(5)).is_ok());
        assert!(check(&i, &Value::Int(0)).is_err());
        assert!(check(&i, &Value::Int(6)).is_err());
        assert!(check(&arm(json!({"type": "bool"})), &Value::str("true")).is_err());
        assert!(check(&arm(json!({"type": "object"})), &v(json!({}))).is_ok());
        assert!(check(&arm(json!({"type": "array"})), &v(json!({}))).is_err());
        assert!(check(&arm(json!({"type": "bool"})), &Value::Null).is_err());
        assert!(check(
            &arm(json!({"type": "bool", "nullable": true})),
            &Value::Null
        )
        .is_ok());
    }

    #[test]
    fn unknowns_fit_any_type() {
        let ty = arm(json!({"type": "int", "allowedValues": [1]}));
        assert!(check(&ty, &Value::unknown("reference('x')")).is_ok());
        let arr = arm(json!({"type": "array", "allowedValues": ["a"]}));
        assert!(check(&arr, &v(json!(["a"]))).is_ok());
        assert!(check(
            &arr,
            &Value::Array(vec![Value::unknown("u"), Value::str("a")])
        )
        .is_ok());
        assert_eq!(
            check(&arr, &v(json!(["a", "b"]))),
            Err("allows only items \"a\", not \"b\"".into())
        );
    }

    #[test]
    fn definitions_refs_properties_and_items() {
        let defs = json!({
            "addon": {"type": "object", "properties": {
                "enabled": {"type": "bool"},
                "rotation": {"type": "string", "allowedValues": ["true", "false"], "nullable": true}
            }, "additionalProperties": false},
            "list": {"type": "array", "items": {"$ref": "#/definitions/addon"}},
            "node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node", "nullable": true}}}
        });
        let ty = from_arm(&json!({"$ref": "#/definitions/list"}), Some(&defs));
        assert!(check(&ty, &v(json!([{"enabled": true, "rotation": "false"}]))).is_ok());
        assert_eq!(
            check(
                &ty,
                &v(json!([{"enabled": true}, {"enabled": true, "rotation": "maybe"}]))
            ),
            Err("item 1 member `rotation` allows only \"true\" or \"false\", not \"maybe\"".into())
        );
        assert_eq!(
            check(&ty, &v(json!([{}]))),
            Err("item 0 needs the member `enabled`".into())
        );
        assert_eq!(
            check(&ty, &v(json!([{"enabled": true, "x": 1}]))),
            Err("item 0 allows no member `x`".into())
        );
        // A type that refers to itself stops at the second reference.
        let node = from_arm(&json!({"$ref": "#/definitions/node"}), Some(&defs));
        assert!(check(&node, &v(json!({"next": {"next": null}}))).is_ok());
        assert!(
            check(&node, &v(json!({"next": 1}))).is_ok(),
            "the inner reference is any"
        );
        assert!(check(&node, &v(json!(1))).is_err());
        // A reference that does not resolve is any.
        assert_eq!(
            from_arm(&json!({"$ref": "#/definitions/none"}), Some(&defs)).base,
            BaseType::Any
        );
        let typed = arm(json!({"type": "object", "additionalProperties": {"type": "int"}}));
        assert!(check(&typed, &v(json!({"a": 1}))).is_ok());
        assert!(check(&typed, &v(json!({"a": "1"}))).is_err());
        let tuple =
            arm(json!({"type": "array", "prefixItems": [{"type": "int"}, {"type": "string"}]}));
        assert!(check(&tuple, &v(json!([1, "a"]))).is_ok());
        assert_eq!(
            check(&tuple, &v(json!(["a"]))),
            Err("item 0 expects int, not string".into())
        );
    }

    #[test]
    fn definitions_that_nest_many_times_over_stay_small() {
        // Each definition uses the next one twice: 2^40 nodes if expanded naively.
        let mut defs = serde_json::Map::new();
        for i in 0..40 {
            defs.insert(
                format!("d{i}"),
                json!({"type": "object", "properties": {
                    "a": {"$ref": format!("#/definitions/d{}", i + 1)},
                    "b": {"$ref": format!("#/definitions/d{}", i + 1)}
                }}),
            );
        }
        let defs = serde_json::Value::Object(defs);
        let ty = from_arm(&json!({"$ref": "#/definitions/d0"}), Some(&defs));
        assert_eq!(ty.base, BaseType::Object);
    }
}
