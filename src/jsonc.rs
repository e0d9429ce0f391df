//! Parses JSON with comments into a tree that keeps the byte span of every value and key,
//! so that later stages can edit the original text in place. It reads strict JSON plus `//`
//! and `/* */` comments (what ARM accepts); trailing commas and other laxities are errors.
//! The parser is iterative in spirit but recursive in code, so depth is capped at
//! [`MAX_DEPTH`] to turn hostile nesting into an error rather than a stack overflow.

use std::borrow::Cow;

/// Deepest nesting of arrays and objects accepted. Real templates stay far below 100.
pub const MAX_DEPTH: usize = 500;

/// A half-open byte range `start..end` in the parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// One JSON value with its span in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    pub span: Span,
    pub kind: Kind<'a>,
}

/// What a node is. Numbers keep their spelling; strings are decoded (borrowed when the
/// source has no escapes).
#[derive(Debug, Clone, PartialEq)]
pub enum Kind<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<Member<'a>>),
}

/// One `"key": value` pair of an object, in source order (duplicates are kept).
#[derive(Debug, Clone, PartialEq)]
pub struct Member<'a> {
    pub key: Cow<'a, str>,
    pub key_span: Span,
    pub value: Node<'a>,
}

/// Why the text is not JSON, and the byte offset where that was noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl<'a> Node<'a> {
    /// The members of an object node, or `None` for any other kind.
    pub fn members(&self) -> Option<&[Member<'a>]> {
        match &self.kind {
            Kind::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The string value, or `None` for any other kind.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts the tree into a `serde_json::Value`. Of duplicate keys the last one wins,
    /// as in every JSON reader ARM uses.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(raw) => raw
                .parse::<serde_json::Number>()
                .map(Value::Number)
                // The parser only accepts valid JSON numbers; serde_json can still refuse
                // ones outside f64 range, which we keep as their spelling.
                .unwrap_or_else(|_| Value::String((*raw).to_string())),
            Kind::String(s) => Value::String(s.to_string()),
            Kind::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Kind::Object(members) => {
                let mut map = serde_json::Map::with_capacity(members.len());
                for m in members {
                    map.insert(m.key.to_string(), m.value.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

/// Parses `text` (which may start with a UTF-8 byte order mark) as one JSON document.
pub fn parse(text: &str) -> Result<Node<'_>, ParseError> {
    let mut p = Parser::new(text);
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_trivia()?;
    if p.pos >= p.bytes.len() {
        return Err(p.error("expected a JSON value, found end of file"));
    }
    let node = p.value(0)?;
    p.skip_trivia()?;
    if p.pos < p.bytes.len() {
        return Err(p.error("unexpected text after the JSON document"));
    }
    Ok(node)
}

/// A subtree set aside by [`compare_outside`]: which hole, the node parsed from the text
/// there, and the node at the same place in the tree.
#[derive(Debug)]
pub struct Hole<'a, 'n, 'b> {
    pub index: usize,
    pub text_node: Node<'a>,
    pub tree_node: &'n Node<'b>,
}

/// Parses `text` in step with `tree`, without building a tree for it, and tells whether the
/// two are the same document outside the `holes` (paths of JSON pointer tokens; array items
/// by decimal index): the same kinds, object keys (decoded) in the same order and number,
/// the same strings (decoded), numbers (spelled alike), booleans and nulls. Each place a
/// hole's path reaches in both is parsed into a node and returned beside the tree's node,
/// for the caller to compare. `Ok(None)`: they differ. An error: `text` is not JSON.
/// Duplicate keys are compared pairwise, so a hole under a duplicate key is reached once
/// per occurrence. When one hole lies inside another, only the outer one is reached.
pub fn compare_outside<'a, 'n, 'b>(
    text: &'a str,
    tree: &'n Node<'b>,
    holes: &[Vec<String>],
) -> Result<Option<Vec<Hole<'a, 'n, 'b>>>, ParseError> {
    let mut m = Matcher {
        p: Parser::new(text),
        holes,
        found: Vec::new(),
    };
    if text.starts_with('\u{feff}') {
        m.p.pos = 3;
    }
    m.p.skip_trivia()?;
    let live: Vec<usize> = (0..holes.len()).collect();
    if !m.node(tree, 0, &live)? {
        return Ok(None);
    }
    m.p.skip_trivia()?;
    if m.p.pos < m.p.bytes.len() {
        return Ok(None);
    }
    Ok(Some(m.found))
}

struct Matcher<'a, 'n, 'b, 'h> {
    p: Parser<'a>,
    holes: &'h [Vec<String>],
    found: Vec<Hole<'a, 'n, 'b>>,
}

impl<'a, 'n, 'b> Matcher<'a, 'n, 'b, '_> {
    /// Reads one value (trivia before it already skipped) at path depth `depth`; `live`
    /// holds the holes whose paths lead here.
    fn node(
        &mut self,
        want: &'n Node<'b>,
        depth: usize,
        live: &[usize],
    ) -> Result<bool, ParseError> {
        if let Some(&index) = live.iter().find(|&&h| self.holes[h].len() == depth) {
            let text_node = self.p.value(depth)?;
            self.found.push(Hole {
                index,
                text_node,
                tree_node: want,
            });
            return Ok(true);
        }
        Ok(match (self.p.peek(), &want.kind) {
            (Some(b'{'), Kind::Object(members)) => self.object(members, depth, live)?,
            (Some(b'['), Kind::Array(items)) => self.array(items, depth, live)?,
            (Some(b'"'), Kind::String(s)) => self.p.string()? == *s,
            (Some(b'-' | b'0'..=b'9'), Kind::Number(n)) => self.p.number()? == *n,
            (Some(b't'), Kind::Bool(true)) => self.p.literal("true", Kind::Null).is_ok(),
            (Some(b'f'), Kind::Bool(false)) => self.p.literal("false", Kind::Null).is_ok(),
            (Some(b'n'), Kind::Null) => self.p.literal("null", Kind::Null).is_ok(),
            _ => false,
        })
    }

    /// The holes among `live` whose next token is `token`.
    fn narrow(&self, live: &[usize], depth: usize, token: &str) -> Vec<usize> {
        live.iter()
            .copied()
            .filter(|&h| self.holes[h].get(depth).is_some_and(|t| t == token))
            .collect()
    }

    fn object(
        &mut self,
        members: &'n [Member<'b>],
        depth: usize,
        live: &[usize],
    ) -> Result<bool, ParseError> {
        let child_depth = self.p.enter(depth)?;
        self.p.pos += 1; // `{`
        self.p.skip_trivia()?;
        if self.p.peek() == Some(b'}') {
            self.p.pos += 1;
            return Ok(members.is_empty());
        }
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                if self.p.peek() != Some(b',') {
                    return Ok(false);
                }
                self.p.pos += 1;
                self.p.skip_trivia()?;
            }
            if self.p.peek() != Some(b'"') || self.p.string()? != m.key {
                return Ok(false);
            }
            self.p.skip_trivia()?;
            if self.p.peek() != Some(b':') {
                return Ok(false);
            }
            self.p.pos += 1;
            self.p.skip_trivia()?;
            let child_live = if live.is_empty() {
                Vec::new()
            } else {
                self.narrow(live, depth, &m.key)
            };
            if !self.node(&m.value, child_depth, &child_live)? {
                return Ok(false);
            }
            self.p.skip_trivia()?;
        }
        if self.p.peek() != Some(b'}') {
            return Ok(false);
        }
        self.p.pos += 1;
        Ok(true)
    }

    fn array(
        &mut self,
        items: &'n [Node<'b>],
        depth: usize,
        live: &[usize],
    ) -> Result<bool, ParseError> {
        let child_depth = self.p.enter(depth)?;
        self.p.pos += 1; // `[`
        self.p.skip_trivia()?;
        if self.p.peek() == Some(b']') {
            self.p.pos += 1;
            return Ok(items.is_empty());
        }
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                if self.p.peek() != Some(b',') {
                    return Ok(false);
                }
                self.p.pos += 1;
                self.p.skip_trivia()?;
            }
            let child_live = if live.is_empty() {
                Vec::new()
            } else {
                self.narrow(live, depth, &i.to_string())
            };
            if !self.node(item, child_depth, &child_live)? {
                return Ok(false);
            }
            self.p.skip_trivia()?;
        }
        if self.p.peek() != Some(b']') {
            return Ok(false);
        }
        self.p.pos += 1;
        Ok(true)
    }
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Members and items of the containers being read, innermost last. Each container's
    /// children are moved from here into a vector of exactly their number when it closes:
    /// no regrowth while reading and no spare capacity kept in the tree.
    members: Vec<Member<'a>>,
    items: Vec<Node<'a>>,
}

/// Bytes that end the plain run of a string: `"`, `\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            members: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Moves past bytes that cannot end a string's plain run.
    fn plain_run(&mut self) {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        self.pos += rest
            .iter()
            .position(|&b| STRING_STOP[b as usize])
            .unwrap_or(rest.len());
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            offset,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => match self.bytes.get(self.pos + 1) {
                    Some(b'/') => {
                        self.pos += 2;
                        while let Some(b) = self.peek() {
                            if b == b'\n' {
                                break;
                            }
                            self.pos += 1;
                        }
                    }
                    Some(b'*') => {
                        let start = self.pos;
                        self.pos += 2;
                        loop {
                            match self.peek() {
                                None => {
                                    return Err(self.error_at(start, "unterminated `/*` comment"))
                                }
                                Some(b'*') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                                    self.pos += 2;
                                    break;
                                }
                                Some(_) => self.pos += 1,
                            }
                        }
                    }
                    _ => return Err(self.error("unexpected `/`")),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, ParseError> {
        let start = self.pos;
        let kind = match self.peek() {
            None => return Err(self.error("expected a JSON value, found end of file")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Kind::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            Some(b't') => self.literal("true", Kind::Bool(true))?,
            Some(b'f') => self.literal("false", Kind::Bool(false))?,
            Some(b'n') => self.literal("null", Kind::Null)?,
            Some(b',') => return Err(self.error("unexpected `,`: expected a value")),
            Some(b'}' | b']') => {
                return Err(self.error(format!(
                    "unexpected `{}`: expected a value",
                    self.bytes[self.pos] as char
                )))
            }
            Some(_) => {
                let c = self.src[self.pos..].chars().next().unwrap_or('?');
                return Err(self.error(format!("unexpected character `{c}`: expected a value")));
            }
        };
        Ok(Node {
            span: Span {
                start,
                end: self.pos,
            },
            kind,
        })
    }

    fn literal(&mut self, word: &str, kind: Kind<'a>) -> Result<Kind<'a>, ParseError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
                return Err(self.error("unexpected character after literal"));
            }
            Ok(kind)
        } else {
            Err(self.error("invalid literal: expected a value"))
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, ParseError> {
        if depth >= MAX_DEPTH {
            Err(self.error(format!(
                "nesting is deeper than {MAX_DEPTH} levels; armfix does not read such files"
            )))
        } else {
            Ok(depth + 1)
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind<'a>, ParseError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // `{`
        let mark = self.members.len();
        self.skip_trivia()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Kind::Object(Vec::new()));
        }
        loop {
            self.skip_trivia()?;
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') if self.members.len() > mark => {
                    return Err(self.error("trailing comma before `}`"));
                }
                None => return Err(self.error("unexpected end of file: expected a key")),
                _ => return Err(self.error("expected a string key")),
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span {
                start: key_start,
                end: self.pos,
            };
            self.skip_trivia()?;
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after the key"));
            }
            self.pos += 1;
            self.skip_trivia()?;
            let value = self.value(depth)?;
            self.members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Kind::Object(self.members.drain(mark..).collect()));
                }
                None => return Err(self.error("unexpected end of file: expected `,` or `}`")),
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind<'a>, ParseError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // `[`
        let mark = self.items.len();
        self.skip_trivia()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Kind::Array(Vec::new()));
        }
        loop {
            self.skip_trivia()?;
            if self.peek() == Some(b']') {
                return Err(self.error("trailing comma before `]`"));
            }
            let item = self.value(depth)?;
            self.items.push(item);
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Kind::Array(self.items.drain(mark..).collect()));
                }
                None => return Err(self.error("unexpected end of file: expected `,` or `]`")),
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn number(&mut self) -> Result<&'a str, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number: expected a digit after `.`"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number: expected a digit in the exponent"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'.') {
            return Err(self.error("invalid number"));
        }
        Ok(&self.src[start..self.pos])
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// Reads a string literal starting at `"`, returning its decoded value.
    fn string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let content_start = self.pos;
        // Fast path: no escapes.
        loop {
            self.plain_run();
            match self.peek() {
                None => return Err(self.error_at(open, "unterminated string")),
                Some(b'"') => {
                    let s = &self.src[content_start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(b) if b < 0x20 => {
                    return Err(self.error("control character in string (escape it)"))
                }
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.src[content_start..self.pos]);
        loop {
            match self.peek() {
                None => return Err(self.error_at(open, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4(esc_at)?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes[self.pos..].starts_with(b"\\u") {
                                    self.pos += 2;
                                    let lo = self.hex4(esc_at)?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.error_at(esc_at, "invalid surrogate pair"));
                                    }
                                    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    char::from_u32(code)
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            match c {
                                Some(c) => {
                                    out.push(c);
                                    continue;
                                }
                                None => return Err(self.error_at(esc_at, "invalid unicode escape")),
                            }
                        }
                        _ => return Err(self.error_at(esc_at, "invalid escape in string")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(b) if b < 0x20 => {
                    return Err(self.error("control character in string (escape it)"))
                }
                Some(_) => {
                    // Copy a run of plain bytes at once (always on char boundaries, since
                    // `"`, `\` and control bytes are ASCII).
                    let run_start = self.pos;
                    self.plain_run();
                    out.push_str(&self.src[run_start..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self, esc_at: usize) -> Result<u32, ParseError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.error_at(esc_at, "invalid unicode escape"))?;
        self.pos += 4;
        Ok(digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ParseError {
        parse(text).unwrap_err()
    }

    #[test]
    fn keeps_spans_and_spellings() {
        let text = r#"{ "a": 1.50, "b": [1E3, "x\"y"], /* c */ "c": null // end
}"#;
        let root = parse(text).unwrap();
        let members = root.members().unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(
            &text[members[0].key_span.start..members[0].key_span.end],
            "\"a\""
        );
        assert_eq!(members[0].value.kind, Kind::Number("1.50"));
        let Kind::Array(items) = &members[1].value.kind else {
            panic!("array expected")
        };
        assert_eq!(items[0].kind, Kind::Number("1E3"));
        assert_eq!(items[1].as_str(), Some("x\"y"));
        assert_eq!(&text[items[1].span.start..items[1].span.end], r#""x\"y""#);
        assert_eq!(
            root.span,
            Span {
                start: 0,
                end: text.len()
            }
        );
    }

    #[test]
    fn skips_bom() {
        let root = parse("\u{feff}{\"a\":true}").unwrap();
        assert_eq!(root.span.start, 3);
    }

    #[test]
    fn decodes_unicode_escapes() {
        let root = parse(r#""\u0041\ud83d\ude00\n""#).unwrap();
        assert_eq!(root.as_str(), Some("A\u{1F600}\n"));
    }

    #[test]
    fn reports_errors_with_offsets() {
        assert_eq!(err(r#"{"a": 1,}"#).message, "trailing comma before `}`");
        assert_eq!(err(r#"[1,]"#).message, "trailing comma before `]`");
        let e = err(r#"{"a": 1"#);
        assert_eq!(e.offset, 7);
        assert!(e.message.contains("end of file"));
        assert_eq!(err(r#"{"a" 1}"#).offset, 5);
        assert!(err("/* open").message.contains("unterminated"));
        assert!(err(r#""abc"#).message.contains("unterminated string"));
        assert!(err("01").message.contains("invalid number"));
        assert!(err("{} {}").message.contains("after the JSON document"));
        assert!(err("").message.contains("end of file"));
        assert!(err("tru").message.contains("invalid literal"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(err(&text).message.contains("nesting is deeper"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn to_value_last_duplicate_wins() {
        let v = parse(r#"{"a": 1, "a": 2, "n": 1.50}"#).unwrap().to_value();
        assert_eq!(v["a"], 2);
        assert_eq!(v["n"], 1.5);
    }
}
