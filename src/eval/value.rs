//! The value model every evaluator shares (ARM, Bicep, and Terraform later): JSON-like values
//! plus [`Value::Unknown`], a value that cannot be known offline and says why. Operations on
//! an Unknown give an Unknown (go-cty's rule); only the place that decides asks whether a value
//! is known. Object keys keep their order and their spelling, and are looked up ignoring ASCII
//! case, as the deployment engine does.

use std::fmt;
use std::rc::Rc;

/// A value of an evaluated deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Value>),
    Object(Object),
    /// Known only at deploy time (or not at all offline): `reference()`, `utcNow()`, a
    /// parameter without a value, a function armfix does not evaluate.
    Unknown(Unknown),
}

/// Why a value is not known offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub(crate) reason: Rc<str>,
}

impl Unknown {
    pub(crate) fn new(reason: impl Into<String>) -> Unknown {
        Unknown {
            reason: Rc::from(reason.into()),
        }
    }
}

/// An object: members in source order, keys as spelled, looked up ignoring ASCII case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object {
    pub members: Vec<(String, Value)>,
}

impl Object {
    pub(crate) fn new() -> Object {
        Object::default()
    }

    /// The value of `key`, ignoring ASCII case (the last one when a key repeats).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.members
            .iter_mut()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Sets `key` (replacing a member spelled in any case), keeping the original position.
    pub(crate) fn insert(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.members.push((key, value)),
        }
    }

    /// Sets `key` by its exact spelling, keeping members spelled in another case: how the
    /// engine reads a JSON object, whose keys are case-sensitive (a key repeated exactly keeps
    /// its first place and its last value, as a JSON reader does).
    pub(crate) fn insert_exact(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.members.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => self.members.push((key, value)),
        }
    }

    /// The member an expression reads for `key` (`x.key`, `x['key']`): the one spelled
    /// exactly so, else the one spelled in another case (PSRule.Rules.Azure#794 describes the
    /// engine's order). `Err(())` when no member is spelled exactly so and several, with
    /// different values, differ from `key` only in case: which one the engine reads is not
    /// documented, and armfix does not guess.
    pub(crate) fn lookup(&self, key: &str) -> Result<Option<&Value>, ()> {
        if let Some((_, v)) = self.members.iter().rev().find(|(k, _)| k == key) {
            return Ok(Some(v));
        }
        let mut found = self
            .members
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v);
        let first = found.next();
        match first {
            Some(v) if found.any(|other| other != v) => Err(()),
            v => Ok(v),
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self
            .members
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))?;
        Some(self.members.remove(i).1)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl FromIterator<(String, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Object {
        let mut o = Object::new();
        for (k, v) in iter {
            o.insert(k, v);
        }
        o
    }
}

impl Value {
    pub(crate) fn unknown(reason: impl Into<String>) -> Value {
        Value::Unknown(Unknown::new(reason))
    }

    pub(crate) fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub(crate) fn is_known(&self) -> bool {
        !matches!(self, Value::Unknown(_))
    }

    /// Whether this value and everything inside it is known.
    pub(crate) fn is_fully_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Array(a) => a.iter().all(Value::is_fully_known),
            Value::Object(o) => o.members.iter().all(|(_, v)| v.is_fully_known()),
            _ => true,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub(crate) fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Member `key` of an object; `None` for a missing key or a value that is not an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// Follows a path of keys; an Unknown on the way is returned as it is (its members are
    /// unknown too).
    pub(crate) fn at(&self, path: &[&str]) -> Option<&Value> {
        let mut v = self;
        for key in path {
            if let Value::Unknown(_) = v {
                return Some(v);
            }
            v = v.get(key)?;
        }
        Some(v)
    }

    /// The name of the value's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Unknown(_) => "unknown",
        }
    }

    /// Converts a JSON value (numbers that are not integers become Unknown).
    pub(crate) fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::unknown(format!("the number {n} is not an integer")),
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => {
                let mut out = Object::new();
                for (k, v) in o {
                    out.insert_exact(k.clone(), Value::from_json(v));
                }
                Value::Object(out)
            }
        }
    }
}

impl fmt::Display for Value {
    /// JSON-like, one line: `true`, `"false"`, `{"a": 1}`, `<unknown: reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Object(o) => {
                f.write_str("{")?;
                for (i, (k, v)) in o.members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {v}", serde_json::Value::String(k.clone()))?;
                }
                f.write_str("}")
            }
            Value::Unknown(u) => write!(f, "<unknown: {}>", u.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_ignoring_case_and_keep_their_place() {
        let mut o = Object::new();
        o.insert("enableSecretRotation", Value::str("false"));
        o.insert("other", Value::Int(1));
        o.insert("ENABLESECRETROTATION", Value::str("true"));
        assert_eq!(o.members[0].0, "enableSecretRotation");
        assert_eq!(o.get("enablesecretrotation"), Some(&Value::str("true")));
        assert_eq!(o.len(), 2);
    }

    #[test]
    fn lookups_prefer_the_exact_spelling_and_refuse_to_guess_between_others() {
        let v =
            Value::from_json(&serde_json::json!({"True": 1, "true": 2, "a": 3, "B": 4, "b": 4}));
        let o = v.as_object().unwrap();
        assert_eq!(o.len(), 5, "JSON keys are case-sensitive: {o:?}");
        assert_eq!(o.lookup("True"), Ok(Some(&Value::Int(1))));
        assert_eq!(o.lookup("true"), Ok(Some(&Value::Int(2))));
        assert_eq!(o.lookup("A"), Ok(Some(&Value::Int(3))));
        assert_eq!(o.lookup("TRUE"), Err(()));
        assert_eq!(o.lookup("b"), Ok(Some(&Value::Int(4))));
        assert_eq!(o.lookup("c"), Ok(None));
        // Object::get stays "the last in any case" (the rule's and the proof's view).
        assert_eq!(o.get("TRUE"), Some(&Value::Int(2)));
    }

    #[test]
    fn a_path_through_an_unknown_is_unknown() {
        let v = Value::from_json(&serde_json::json!({"a": {"b": 1}}));
        assert_eq!(v.at(&["A", "B"]), Some(&Value::Int(1)));
        let u = Value::unknown("reference()");
        assert!(!u.at(&["x", "y"]).unwrap().is_known());
        assert_eq!(v.at(&["a", "c"]), None);
    }
}
