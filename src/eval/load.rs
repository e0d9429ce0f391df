//! What Bicep's `load*Content` functions make of a file's bytes when it builds a template:
//! text in an encoding, JSON or YAML as a [`Value`], a JSONPath-like filter (`$.a.b[0]`,
//! `['a b']`), Base64. Reading the file is the caller's job.

use super::value::{Object, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// The file's text in `encoding` (`utf-8` when `None`; `iso-8859-1` too); a UTF-8 byte order
/// mark is dropped.
pub(crate) fn decode(bytes: &[u8], encoding: Option<&Value>) -> Result<String, String> {
    let encoding = match encoding {
        None => "utf-8".to_string(),
        Some(Value::Str(e)) => e.to_ascii_lowercase(),
        Some(_) => return Err("the encoding is not a known string".to_string()),
    };
    match encoding.as_str() {
        "utf-8" => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            String::from_utf8(bytes.to_vec()).map_err(|_| "the file is not UTF-8".to_string())
        }
        "iso-8859-1" => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        e => Err(format!("the encoding '{e}' is not read offline")),
    }
}

/// Standard Base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A YAML document as a value: mappings with scalar keys, sequences, strings, integers,
/// booleans, null. A float, an alias or several documents is an error.
pub(crate) fn yaml(text: &str) -> Result<Value, String> {
    let docs =
        YamlLoader::load_from_str(text).map_err(|e| format!("the file is not YAML ({e})"))?;
    match docs.as_slice() {
        [] => Ok(Value::Null),
        [doc] => from_yaml(doc),
        _ => Err("the file holds several YAML documents".to_string()),
    }
}

fn from_yaml(y: &Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Int(*i),
        Yaml::String(s) => Value::Str(s.clone()),
        Yaml::Array(a) => Value::Array(a.iter().map(from_yaml).collect::<Result<_, _>>()?),
        Yaml::Hash(h) => {
            let mut o = Object::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    _ => return Err("a YAML key is not a plain scalar".to_string()),
                };
                o.members.push((key, from_yaml(v)?));
            }
            Value::Object(o)
        }
        Yaml::Real(r) => return Err(format!("the number {r} is not an integer")),
        _ => return Err("the YAML uses aliases or tags".to_string()),
    })
}

/// The part of `v` a path filter selects: an optional `$`, then `.name`, `['name']` or
/// `[index]` steps (names by exact spelling, then ignoring case). Wildcards, slices and
/// filters are an error, as is a step that selects nothing (Bicep fails to build then).
pub(crate) fn select(v: &Value, filter: &str) -> Result<Value, String> {
    let why = |s: &str| format!("the path filter '{filter}' {s}");
    let mut rest = filter.trim();
    rest = rest.strip_prefix('$').unwrap_or(rest);
    let mut v = v.clone();
    let mut first = true;
    while !rest.is_empty() {
        let step;
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| why("is not read offline"))?;
            let inner = r[..end].trim();
            rest = &r[end + 1..];
            if let Ok(i) = inner.parse::<usize>() {
                v = match v {
                    Value::Array(mut a) if i < a.len() => a.swap_remove(i),
                    _ => return Err(why("selects nothing")),
                };
                first = false;
                continue;
            }
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
            step = quoted
                .ok_or_else(|| why("is not read offline"))?
                .to_string();
        } else {
            let r = match rest.strip_prefix('.') {
                Some(r) => r,
                None if first => rest,
                None => return Err(why("is not read offline")),
            };
            let end = r.find(['.', '[']).unwrap_or(r.len());
            step = r[..end].to_string();
            rest = &r[end..];
            if step.is_empty() || step == "*" || step.starts_with('.') {
                return Err(why("is not read offline"));
            }
        }
        first = false;
        if step.contains('*') {
            return Err(why("is not read offline"));
        }
        v = match v.as_object().and_then(|o| o.get(&step)) {
            Some(m) => m.clone(),
            None => return Err(why("selects nothing")),
        };
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: serde_json::Value) -> Value {
        Value::from_json(&v)
    }

    #[test]
    fn base64_pads_like_the_standard() {
        for (input, out) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), out);
        }
    }

    #[test]
    fn path_filters_select_names_and_indexes_and_refuse_the_rest() {
        let v = json(serde_json::json!({"a": {"b c": [1, {"d": "x"}]}}));
        assert_eq!(select(&v, "$.a['b c'][1].d"), Ok(Value::str("x")));
        assert_eq!(select(&v, "a[\"b c\"][0]"), Ok(Value::Int(1)));
        assert_eq!(select(&v, "$"), Ok(v.clone()));
        assert_eq!(select(&v, "$.A['B C'][1].D"), Ok(Value::str("x")));
        assert!(select(&v, "$.a.missing").is_err());
        assert!(select(&v, "$..d").is_err());
        assert!(select(&v, "$.a['b c'][*]").is_err());
        assert!(select(&v, "$.a[?(@.d)]").is_err());
    }

    #[test]
    fn decoding_keeps_to_known_encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFtrue", None), Ok("true".to_string()));
        assert_eq!(
            decode(b"caf\xE9", Some(&Value::str("iso-8859-1"))),
            Ok("café".to_string())
        );
        assert!(decode(b"caf\xE9", None).is_err());
        assert!(decode(b"x", Some(&Value::str("utf-16"))).is_err());
    }

    #[test]
    fn yaml_is_plain_data_or_an_error() {
        let v = yaml("a:\n  rotation: 'true'\n  on: true\n  n: 3\n  l: [x, null]\n").unwrap();
        assert_eq!(
            v,
            json(
                serde_json::json!({"a": {"rotation": "true", "on": true, "n": 3, "l": ["x", null]}})
            )
        );
        assert!(yaml("a: 1.5\n").is_err());
        assert!(yaml("a: [\n").is_err());
        assert!(yaml("a: 1\n---\nb: 2\n").is_err());
    }
}
