//! The JSON-with-comments parser on arbitrary text. Beyond "no panic, no overflow":
//! - every span lies inside the text, on character boundaries, children inside parents,
//!   and a string or number node's span is exactly its source token;
//! - differential check against serde_json: text serde_json accepts must parse to the same
//!   value (key order included); text serde_json refuses must be refused too, unless it
//!   holds a comment (`/`), nests deeper than serde_json's limit of 128, or has a number
//!   out of f64 range, which armfix accepts on purpose.
#![no_main]

use armfix::lang::arm::jsonc::{self, Kind, Node, Span};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = jsonc::parse(text);
    if let Ok(root) = &ours {
        check_spans(text, &root.span, root);
    }
    if let Err(e) = &ours {
        assert!(e.offset <= text.len(), "error offset past the end: {e:?}");
    }
    if text.starts_with('\u{feff}') {
        return; // serde_json does not skip a byte order mark
    }
    match (serde_json::from_str::<serde_json::Value>(text), &ours) {
        (Ok(theirs), Ok(root)) => {
            let mine = root.to_value();
            assert_eq!(
                serde_json::to_string(&mine).unwrap(),
                serde_json::to_string(&theirs).unwrap(),
                "values differ"
            );
        }
        (Ok(_), Err(e)) => panic!("serde_json accepts what armfix refuses: {e:?}"),
        (Err(theirs), Ok(_)) => {
            let why = theirs.to_string();
            assert!(
                text.contains('/')
                    || why.contains("recursion limit")
                    || why.contains("number out of range"),
                "armfix accepts what serde_json refuses: {why}"
            );
        }
        (Err(_), Err(_)) => {}
    }
});

fn check_spans(text: &str, outer: &Span, node: &Node) {
    let s = node.span;
    assert!(s.start <= s.end && s.end <= text.len(), "{s:?}");
    assert!(
        outer.start <= s.start && s.end <= outer.end,
        "{s:?} not in {outer:?}"
    );
    assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
    let src = &text[s.start..s.end];
    match &node.kind {
        Kind::Number(raw) => assert_eq!(*raw, src),
        Kind::String(_) => assert!(src.starts_with('"') && src.ends_with('"') && src.len() >= 2),
        Kind::Null => assert_eq!(src, "null"),
        Kind::Bool(b) => assert_eq!(src, if *b { "true" } else { "false" }),
        Kind::Array(items) => {
            assert!(src.starts_with('[') && src.ends_with(']'));
            for item in items {
                check_spans(text, &s, item);
            }
        }
        Kind::Object(members) => {
            assert!(src.starts_with('{') && src.ends_with('}'));
            for m in members {
                let k = &text[m.key_span.start..m.key_span.end];
                assert!(k.starts_with('"') && k.ends_with('"'));
                assert!(s.start < m.key_span.start && m.key_span.end <= m.value.span.start);
                check_spans(text, &s, &m.value);
            }
        }
    }
}
