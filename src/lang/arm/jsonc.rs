//! Parses JSON with comments into a tree that keeps the byte span of every value and key,
//! so that later stages can edit the original text in place. It reads strict JSON plus `//`
//! and `/* */` comments and raw tabs and line breaks inside strings (multi-line strings: what
//! ARM accepts); trailing commas, other control characters and other laxities are errors.
//! The parser is iterative in spirit but recursive in code, so depth is capped at
//! [`MAX_DEPTH`] to turn hostile nesting into an error rather than a stack overflow.

use std::borrow::Cow;

/// Deepest nesting of arrays and objects accepted. Real templates stay far below 100.
pub(crate) const MAX_DEPTH: usize = 500;

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
    pub(crate) fn members(&self) -> Option<&[Member<'a>]> {
        match &self.kind {
            Kind::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The string value, or `None` for any other kind.
    pub(crate) fn as_str(&self) -> Option<&str> {
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
    Parser::new(text, None).document()
}

/// Where a member being read sits: for each container open from the root down to the
/// object that holds the member, the key it is the value of (`None` for the root and for
/// array items).
pub(crate) type Slots<'s, 'a> = &'s [Option<Cow<'a, str>>];

/// Decides, for a member about to be read, whether its value may be left out of the tree:
/// given where the object sits, the members of the object read so far, and the key.
pub(crate) type Prune<'f> =
    &'f dyn for<'s, 'a, 'm> Fn(Slots<'s, 'a>, &'m [Member<'a>], &str) -> bool;

/// Parses like [`parse`] (same checks, same errors at the same offsets) but leaves out of
/// the tree the values that `prune` picks: each is read and checked, and stands in the tree
/// as a `null` with the span of the value it replaces. For callers that read only part of
/// a document, to spare building (and holding) the rest.
pub(crate) fn parse_pruned<'a>(text: &'a str, prune: Prune<'_>) -> Result<Node<'a>, ParseError> {
    Parser::new(text, Some(prune)).document()
}

/// A subtree set aside by [`compare_texts`]: which hole, and the node parsed there from
/// each text.
#[derive(Debug)]
pub(crate) struct Hole<'a, 'b> {
    pub(crate) index: usize,
    pub(crate) a: Node<'a>,
    pub(crate) b: Node<'b>,
}

/// Reads two texts in step, without building trees, and tells whether they are the same
/// document outside the `holes` (paths of JSON pointer tokens; array items by decimal
/// index): the same kinds, object keys (decoded) in the same order and number, the same
/// strings (decoded), numbers (spelled alike), booleans and nulls; comments and spacing may
/// differ. Each place a hole's path reaches is parsed into a node on both sides and
/// returned, for the caller to compare. `Ok(None)`: they differ. An error: one text is not
/// JSON. Duplicate keys are compared pairwise, so a hole under a duplicate key is reached
/// once per occurrence; when one hole lies inside another, only the outer one is reached.
pub(crate) fn compare_texts<'a, 'b>(
    a: &'a str,
    b: &'b str,
    holes: &[Vec<String>],
) -> Result<Option<Vec<Hole<'a, 'b>>>, ParseError> {
    let mut m = Lockstep {
        a: Parser::new(a, None),
        b: Parser::new(b, None),
        holes,
        found: Vec::new(),
        shift: 0,
        same_until: 0,
    };
    if a.starts_with('\u{feff}') {
        m.a.pos = 3;
    }
    if b.starts_with('\u{feff}') {
        m.b.pos = 3;
    }
    m.sync();
    m.trivia()?;
    let live: Vec<usize> = (0..holes.len()).collect();
    if !m.node(0, &live)? {
        return Ok(None);
    }
    m.trivia()?;
    if m.a.pos < m.a.bytes.len() || m.b.pos < m.b.bytes.len() {
        return Ok(None);
    }
    Ok(Some(m.found))
}

/// Reads two texts in step. Where they are byte for byte the same (the usual case: an
/// edited text differs from its original only around the edits), only `a` is tokenised and
/// `b` follows it by offset: `a[..same_until]` is the same as `b` shifted by `shift`, so a
/// token `a` reads wholly before `same_until` (its look-ahead byte included) is the same
/// token in `b`. Elsewhere both are tokenised and compared, and the run is measured again.
struct Lockstep<'a, 'b, 'h> {
    a: Parser<'a, 'static>,
    b: Parser<'b, 'static>,
    holes: &'h [Vec<String>],
    found: Vec<Hole<'a, 'b>>,
    /// `b.pos - a.pos` while following.
    shift: isize,
    /// Where, in `a`, the run of bytes shared with `b` ends.
    same_until: usize,
}

/// The length of the common prefix of two byte strings.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 64;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .position(|(x, y)| x != y)
        .unwrap_or(n - i)
}

impl Lockstep<'_, '_, '_> {
    /// Measures the shared run from the current positions.
    fn sync(&mut self) {
        self.shift = self.b.pos as isize - self.a.pos as isize;
        self.same_until = self.a.pos
            + common_prefix(
                &self.a.bytes[self.a.pos.min(self.a.bytes.len())..],
                &self.b.bytes[self.b.pos.min(self.b.bytes.len())..],
            );
    }

    /// After `a` has read a token: when it lies in the shared run, `b` steps over the same
    /// token and this is true; otherwise `b` must read its own.
    fn follow(&mut self) -> bool {
        if self.a.pos < self.same_until {
            self.b.pos = self.a.pos.wrapping_add_signed(self.shift);
            true
        } else {
            false
        }
    }

    fn trivia(&mut self) -> Result<(), ParseError> {
        self.a.skip_trivia()?;
        if !self.follow() {
            self.b.skip_trivia()?;
            self.sync();
        }
        Ok(())
    }

    /// Both at the same byte, which is `byte`: steps past it.
    fn both(&mut self, byte: u8) -> bool {
        if self.a.peek() == Some(byte) && self.b.peek() == Some(byte) {
            self.a.pos += 1;
            self.b.pos += 1;
            true
        } else {
            false
        }
    }

    /// Reads a string on each side; true when they are equal.
    fn strings(&mut self) -> Result<bool, ParseError> {
        let x = self.a.string()?;
        if self.follow() {
            return Ok(true);
        }
        let same = self.b.string()? == x;
        self.sync();
        Ok(same)
    }

    /// Reads one value on each side (trivia before it already skipped) at path depth
    /// `depth`; `live` holds the holes whose paths lead here.
    fn node(&mut self, depth: usize, live: &[usize]) -> Result<bool, ParseError> {
        if let Some(&index) = live.iter().find(|&&h| self.holes[h].len() == depth) {
            let a = self.a.value(depth)?;
            let b = self.b.value(depth)?;
            self.found.push(Hole { index, a, b });
            self.sync();
            return Ok(true);
        }
        let (x, y) = (self.a.peek(), self.b.peek());
        if x != y {
            return Ok(false);
        }
        Ok(match x {
            Some(b'{') => self.object(depth, live)?,
            Some(b'[') => self.array(depth, live)?,
            Some(b'"') => self.strings()?,
            Some(b'-' | b'0'..=b'9') => {
                let x = self.a.number()?;
                if self.follow() {
                    true
                } else {
                    let same = self.b.number()? == x;
                    self.sync();
                    same
                }
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            _ => false,
        })
    }

    fn literal(&mut self, word: &str) -> bool {
        if self.a.literal(word, Kind::Null).is_err() {
            return false;
        }
        if self.follow() {
            return true;
        }
        let same = self.b.literal(word, Kind::Null).is_ok();
        self.sync();
        same
    }

    /// The holes among `live` whose next token is `token`.
    fn narrow(&self, live: &[usize], depth: usize, token: &str) -> Vec<usize> {
        live.iter()
            .copied()
            .filter(|&h| self.holes[h].get(depth).is_some_and(|t| t == token))
            .collect()
    }

    fn object(&mut self, depth: usize, live: &[usize]) -> Result<bool, ParseError> {
        let child_depth = self.a.enter(depth)?;
        self.both(b'{');
        self.trivia()?;
        if self.both(b'}') {
            return Ok(true);
        }
        loop {
            if self.a.peek() != Some(b'"') || self.b.peek() != Some(b'"') {
                return Ok(false);
            }
            let key = self.a.string()?;
            if !self.follow() {
                let same = self.b.string()? == key;
                self.sync();
                if !same {
                    return Ok(false);
                }
            }
            self.trivia()?;
            if !self.both(b':') {
                return Ok(false);
            }
            self.trivia()?;
            let child_live = if live.is_empty() {
                Vec::new()
            } else {
                self.narrow(live, depth, &key)
            };
            if !self.node(child_depth, &child_live)? {
                return Ok(false);
            }
            self.trivia()?;
            if self.both(b'}') {
                return Ok(true);
            }
            if !self.both(b',') {
                return Ok(false);
            }
            self.trivia()?;
        }
    }

    fn array(&mut self, depth: usize, live: &[usize]) -> Result<bool, ParseError> {
        let child_depth = self.a.enter(depth)?;
        self.both(b'[');
        self.trivia()?;
        if self.both(b']') {
            return Ok(true);
        }
        let mut i = 0;
        loop {
            let child_live = if live.is_empty() {
                Vec::new()
            } else {
                self.narrow(live, depth, &i.to_string())
            };
            if !self.node(child_depth, &child_live)? {
                return Ok(false);
            }
            self.trivia()?;
            if self.both(b']') {
                return Ok(true);
            }
            if !self.both(b',') {
                return Ok(false);
            }
            self.trivia()?;
            i += 1;
        }
    }
}

struct Parser<'a, 'p> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// For a pruned parse: what to leave out, where each open container sits, and how many
    /// left-out values are being read (their children are not kept either).
    prune: Option<Prune<'p>>,
    slots: Vec<Option<Cow<'a, str>>>,
    skim: usize,
    /// Members and items of the containers being read, innermost last. Each container's
    /// children are moved from here into a vector of exactly their number when it closes:
    /// no regrowth while reading and no spare capacity kept in the tree.
    members: Vec<Member<'a>>,
    items: Vec<Node<'a>>,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of the first byte of `word` (in memory order) that equals `byte` is set
/// (bits above it may be set too); zero when there is none.
fn has_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * byte as u64);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// As [`has_byte`], for bytes below 0x20.
fn has_control(word: u64) -> u64 {
    word.wrapping_sub(ONES * 0x20) & !word & HIGHS
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

impl<'a, 'p> Parser<'a, 'p> {
    fn new(src: &'a str, prune: Option<Prune<'p>>) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            prune,
            slots: Vec::new(),
            skim: 0,
            members: Vec::new(),
            items: Vec::new(),
        }
    }

    /// The whole text as one document.
    fn document(mut self) -> Result<Node<'a>, ParseError> {
        if self.src.starts_with('\u{feff}') {
            self.pos = 3;
        }
        self.skip_trivia()?;
        if self.pos >= self.bytes.len() {
            return Err(self.error("expected a JSON value, found end of file"));
        }
        let node = self.value(0)?;
        self.skip_trivia()?;
        if self.pos < self.bytes.len() {
            return Err(self.error("unexpected text after the JSON document"));
        }
        Ok(node)
    }

    /// Moves past bytes that cannot end a string's plain run: eight at a time (a word with
    /// no `"`, `\` or control byte is skipped whole), then byte by byte at the end.
    fn plain_run(&mut self) {
        while let Some(word) = self.word() {
            let stops = has_byte(word, b'"') | has_byte(word, b'\\') | has_control(word);
            if stops != 0 {
                self.pos += (stops.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        self.pos += rest
            .iter()
            .position(|&b| STRING_STOP[b as usize])
            .unwrap_or(rest.len());
    }

    /// The eight bytes at the current position, as a little-endian word.
    fn word(&self) -> Option<u64> {
        let bytes = self.bytes.get(self.pos..self.pos + 8)?;
        <[u8; 8]>::try_from(bytes).ok().map(u64::from_le_bytes)
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
                Some(b' ' | b'\t' | b'\n' | b'\r') => {
                    self.pos += 1;
                    // Indentation: spaces, eight at a time.
                    while let Some(word) = self.word() {
                        let other = word ^ (ONES * b' ' as u64);
                        if other != 0 {
                            self.pos += (other.trailing_zeros() / 8) as usize;
                            break;
                        }
                        self.pos += 8;
                    }
                }
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

    /// The kind of a container that closes: its children when kept, else a stand-in.
    fn close_object(&mut self, mark: usize, keep: bool) -> Kind<'a> {
        if keep {
            Kind::Object(self.members.drain(mark..).collect())
        } else {
            Kind::Null
        }
    }

    fn close_array(&mut self, mark: usize, keep: bool) -> Kind<'a> {
        if keep {
            Kind::Array(self.items.drain(mark..).collect())
        } else {
            Kind::Null
        }
    }

    /// Reads a member's or item's value: left out when `prune` says so, and with its slot
    /// recorded while it is read when a pruned parse needs to know where things sit.
    fn child(
        &mut self,
        depth: usize,
        slot: Option<&Cow<'a, str>>,
        mark: usize,
    ) -> Result<Node<'a>, ParseError> {
        let Some(prune) = self.prune.filter(|_| self.skim == 0) else {
            return self.value(depth);
        };
        if let Some(key) = slot {
            if prune(&self.slots, &self.members[mark..], key) {
                self.skim += 1;
                let read = self.value(depth);
                self.skim -= 1;
                let span = read?.span;
                return Ok(Node {
                    span,
                    kind: Kind::Null,
                });
            }
        }
        self.slots.push(slot.cloned());
        let read = self.value(depth);
        self.slots.pop();
        read
    }

    fn object(&mut self, depth: usize) -> Result<Kind<'a>, ParseError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // `{`
        let keep = self.skim == 0;
        let mark = self.members.len();
        let mut count = 0;
        self.skip_trivia()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(self.close_object(mark, keep));
        }
        loop {
            self.skip_trivia()?;
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') if count > 0 => {
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
            let value = self.child(depth, Some(&key), mark)?;
            if keep {
                self.members.push(Member {
                    key,
                    key_span,
                    value,
                });
            }
            count += 1;
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(self.close_object(mark, keep));
                }
                None => return Err(self.error("unexpected end of file: expected `,` or `}`")),
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind<'a>, ParseError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // `[`
        let keep = self.skim == 0;
        let mark = self.items.len();
        self.skip_trivia()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(self.close_array(mark, keep));
        }
        loop {
            self.skip_trivia()?;
            if self.peek() == Some(b']') {
                return Err(self.error("trailing comma before `]`"));
            }
            let item = self.child(depth, None, self.members.len())?;
            if keep {
                self.items.push(item);
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(self.close_array(mark, keep));
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
                // A raw tab or line break is part of the string, as the deployment engine
                // reads it (a multi-line string); it decodes to itself.
                Some(b'\t' | b'\n' | b'\r') => self.pos += 1,
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
                Some(b @ (b'\t' | b'\n' | b'\r')) => {
                    self.pos += 1;
                    out.push(b as char);
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
        // Exactly four hex digits: `from_str_radix` alone would also take a sign (`\u+0eb`).
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
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

    /// ARM accepts a string broken over lines (raw CR, LF or tab inside the quotes): it is the
    /// string holding those characters, in both the borrowed and the escaped path, with its
    /// span covering the whole literal.
    #[test]
    fn multi_line_strings_hold_their_line_breaks() {
        for (raw, want) in [
            ("\"[concat('a',\n  'b')]\"", "[concat('a',\n  'b')]"),
            ("\"a\r\nb\tc\"", "a\r\nb\tc"),
            ("\"\\\"x\ny\"", "\"x\ny"),
            ("\"x\ny\\u0041\r\"", "x\nyA\r"),
        ] {
            let text = format!("{{\"k\": {raw}, \"n\": 1}}");
            let root = parse(&text).unwrap_or_else(|e| panic!("{raw:?}: {}", e.message));
            let m = root.members().unwrap();
            assert_eq!(m[0].value.as_str(), Some(want), "{raw:?}");
            assert_eq!(m[0].value.span.end - m[0].value.span.start, raw.len());
            assert_eq!(m[1].value.kind, Kind::Number("1"));
        }
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
    fn unicode_escapes_take_exactly_four_hex_digits() {
        // Found by fuzzing (fuzz/ target `parse`): a sign was accepted as a digit.
        assert!(err(r#""\u+0eb""#)
            .message
            .contains("invalid unicode escape"));
        assert!(err(r#""\u-0eb""#)
            .message
            .contains("invalid unicode escape"));
        assert!(err(r#""\u00e""#).message.contains("invalid unicode escape"));
        assert_eq!(parse(r#""\u00eB""#).unwrap().as_str(), Some("\u{eb}"));
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

    /// Prunes every value of a key named `skip`.
    fn skip_key(_: Slots<'_, '_>, _: &[Member<'_>], key: &str) -> bool {
        key == "skip"
    }

    /// Replaces every value under a `skip` key by a null with its span, as `parse_pruned` must.
    fn pruned_by_hand<'a>(node: &Node<'a>) -> Node<'a> {
        let kind = match &node.kind {
            Kind::Object(members) => Kind::Object(
                members
                    .iter()
                    .map(|m| Member {
                        key: m.key.clone(),
                        key_span: m.key_span,
                        value: if m.key == "skip" {
                            Node {
                                span: m.value.span,
                                kind: Kind::Null,
                            }
                        } else {
                            pruned_by_hand(&m.value)
                        },
                    })
                    .collect(),
            ),
            Kind::Array(items) => Kind::Array(items.iter().map(pruned_by_hand).collect()),
            other => other.clone(),
        };
        Node {
            span: node.span,
            kind,
        }
    }

    #[test]
    fn pruned_parse_is_the_full_tree_less_the_pruned_values() {
        let text = r#"{"a": [1, {"skip": {"x": [1, 2, {"skip": 3}]}, "b": "\u0041"}],
            "skip": [true, null, "s", {"k": {}}], "c": {"skip": "v", "d": -0.5e3}}"#;
        let full = parse(text).unwrap();
        let pruned = parse_pruned(text, &skip_key).unwrap();
        assert_eq!(pruned, pruned_by_hand(&full));
        assert_ne!(pruned, full);
        // Without anything to prune the trees are equal.
        assert_eq!(parse_pruned(text, &|_, _, _| false).unwrap(), full);
    }

    #[test]
    fn pruned_parse_reports_the_same_errors() {
        for text in [
            r#"{"skip": {"a": 1,}}"#,
            r#"{"skip": [1,]}"#,
            r#"{"skip": {"a" 1}}"#,
            r#"{"skip": "\x"}"#,
            r#"{"skip": [01]}"#,
            r#"{"skip": tru}"#,
            r#"{"skip": {"a": 1}"#,
            "{\"skip\": \"a\u{1}\"}",
            r#"{"skip": /* open"#,
            r#"{"skip": 1} x"#,
        ] {
            let want = parse(text).unwrap_err();
            assert_eq!(parse_pruned(text, &skip_key).unwrap_err(), want, "{text}");
        }
        let deep = format!("{{\"skip\": {}}}", "[".repeat(MAX_DEPTH + 5));
        assert_eq!(
            parse_pruned(&deep, &skip_key).unwrap_err(),
            parse(&deep).unwrap_err()
        );
    }

    #[test]
    fn pruned_parse_tells_where_members_sit() {
        let seen = std::cell::RefCell::new(Vec::new());
        let record = |slots: Slots<'_, '_>, read: &[Member<'_>], key: &str| {
            let path: Vec<String> = slots
                .iter()
                .map(|s| s.as_deref().unwrap_or("[]").to_string())
                .collect();
            seen.borrow_mut()
                .push(format!("{}|{}|{key}", path.join("/"), read.len()));
            false
        };
        parse_pruned(r#"{"r": [{"t": 1, "p": {"q": 2}}], "s": 3}"#, &record).unwrap();
        assert_eq!(
            seen.into_inner(),
            ["|0|r", "r/[]|0|t", "r/[]|1|p", "r/[]/p|0|q", "|1|s"]
        );
    }

    fn holes(paths: &[&str]) -> Vec<Vec<String>> {
        paths
            .iter()
            .map(|p| {
                p.split('/')
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn compare_texts_outside_holes() {
        let a = r#"{"x": [1, {"h": {"k": 1}}], "y": "s", "n": 1.0}"#;
        let same = "\u{feff}{ \"x\" : [1 , {\"h\": {\"k\": 1, \"new\": 2}}] , // c\n \"y\": \"\\u0073\", \"n\": 1.0}";
        let found = compare_texts(a, same, &holes(&["x/1/h"])).unwrap().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].index, 0);
        assert_eq!(found[0].a.to_value(), serde_json::json!({"k": 1}));
        assert_eq!(found[0].b.to_value(), serde_json::json!({"k": 1, "new": 2}));
        for other in [
            r#"{"x": [1, {"h": {}}], "y": "s", "n": 1.00}"#,
            r#"{"x": [1, {"h": {}}], "y": "t", "n": 1.0}"#,
            r#"{"x": [1, {"h": {}}], "Y": "s", "n": 1.0}"#,
            r#"{"x": [1, {"h": {}}], "n": 1.0, "y": "s"}"#,
            r#"{"x": [1, {"h": {}}, 2], "y": "s", "n": 1.0}"#,
            r#"{"x": [1, {"h": {}, "i": 0}], "y": "s", "n": 1.0}"#,
            r#"{"x": [1, {"h": {}}], "y": "s"}"#,
            r#"{"x": [1, {"h": {}}], "y": "s", "n": 1.0, "z": null}"#,
            r#"{"x": [true, {"h": {}}], "y": "s", "n": 1.0}"#,
            r#"{"x": [1, {"h": {}}], "y": "s", "n": 1.0} []"#,
        ] {
            assert!(
                compare_texts(a, other, &holes(&["x/1/h"]))
                    .unwrap()
                    .is_none(),
                "{other}"
            );
        }
        // No holes: equal documents compare equal, and a hole that is never reached is
        // simply not returned.
        assert!(compare_texts(a, a, &[]).unwrap().unwrap().is_empty());
        assert!(compare_texts(a, a, &holes(&["nope/x"]))
            .unwrap()
            .unwrap()
            .is_empty());
        // The whole document as a hole.
        assert_eq!(
            compare_texts(a, "[]", &holes(&[""]))
                .unwrap()
                .unwrap()
                .len(),
            1
        );
        assert!(compare_texts(a, r#"{"x": [1,]}"#, &[]).unwrap().is_none());
        assert!(compare_texts(a, r#"{"x": "#, &holes(&["x"])).is_err());
    }

    /// Same document, ignoring spans: what `compare_texts` must decide without holes.
    fn same_doc(a: &Node, b: &Node) -> bool {
        match (&a.kind, &b.kind) {
            (Kind::Object(x), Kind::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|(m, n)| m.key == n.key && same_doc(&m.value, &n.value))
            }
            (Kind::Array(x), Kind::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(m, n)| same_doc(m, n))
            }
            (x, y) => x == y,
        }
    }

    /// Small edits anywhere in a document, against parsing both texts: the follower that
    /// skips tokenising shared runs must decide exactly as a full comparison does.
    #[test]
    fn compare_texts_agrees_with_full_parses_under_small_edits() {
        let base = r#"{
  "$schema": "x", // comment
  "resources": [
    {"type": "a", "n": 12, "f": 1.5e3, "t": true, "u": null, "s": "a\"b\u0041"},
    {"type": "b", "properties": {"k": [1, 2, 3], "m": {"x": "y"}}},
    /* block */ {"type": "c", "list": ["p", "q"], "neg": -1}
  ],
  "outputs": {}
}"#;
        let edits: &[(&str, &str)] = &[
            ("12", "123"),
            ("12", "13"),
            ("1.5e3", "1.5E3"),
            ("true", "false"),
            ("null", "null "),
            ("\"a\\\"b", "\"a\\\"c"),
            ("\\u0041", "A"),
            ("\\u0041", "\\u0042"),
            ("// comment", "// other comment"),
            ("/* block */", ""),
            ("[1, 2, 3]", "[1,2,3]"),
            ("[1, 2, 3]", "[1, 2]"),
            ("\"k\"", "\"K\""),
            ("{\"x\": \"y\"}", "{\"x\": \"y\", \"z\": 0}"),
            ("\"outputs\": {}", "\"outputs\": {} "),
            ("-1", "-1.0"),
            ("\"q\"]", "\"q\", \"r\"]"),
            ("\n  ", "\r\n\t"),
        ];
        let a = parse(base).unwrap();
        let mut differ = 0;
        for (from, to) in edits {
            // Every occurrence, one at a time.
            for (at, _) in base.match_indices(from) {
                let text = format!("{}{}{}", &base[..at], to, &base[at + from.len()..]);
                let b = parse(&text).unwrap();
                let want = same_doc(&a, &b);
                let got = compare_texts(base, &text, &[]).unwrap().is_some();
                assert_eq!(got, want, "{from:?} -> {to:?} at {at}");
                assert_eq!(compare_texts(&text, base, &[]).unwrap().is_some(), want);
                differ += usize::from(!want);
            }
        }
        assert!(
            differ >= 10,
            "the edits must include real changes ({differ})"
        );
    }

    /// The word-at-a-time scans must stop exactly where the byte loop would: control
    /// characters, quotes and backslashes at every offset of strings of many lengths, with
    /// multi-byte characters (bytes from 0x80 up) around them; indentation of every length.
    #[test]
    fn word_scans_stop_at_the_right_byte() {
        for len in 1..24 {
            for at in 0..len {
                for fill in ["a", "é"] {
                    let before = fill.repeat(at);
                    let after = fill.repeat(len - at - 1);
                    let offset = 1 + before.len();
                    for control in ['\u{0}', '\u{1}', '\u{b}', '\u{1f}'] {
                        let e = err(&format!("\"{before}{control}{after}\""));
                        assert_eq!(e.offset, offset, "control {control:?} at {at} of {len}");
                        assert!(e.message.contains("control character"));
                    }
                    let text = format!("\"{before}\\\"{after}\"");
                    assert_eq!(
                        parse(&text).unwrap().as_str(),
                        Some(format!("{before}\"{after}").as_str())
                    );
                    let text = format!("[\"{before}\", \"{after}\"]");
                    let root = parse(&text).unwrap();
                    let Kind::Array(items) = &root.kind else {
                        panic!("an array")
                    };
                    assert_eq!(items[0].as_str(), Some(before.as_str()));
                    assert_eq!(items[0].span.end, 3 + before.len());
                    assert_eq!(items[1].as_str(), Some(after.as_str()));
                }
            }
            let indent = " ".repeat(len);
            let text =
                format!("{{\n{indent}\"a\":{indent}1,\n{indent}\t\"b\": [{indent}]{indent}}}");
            let root = parse(&text).unwrap();
            let m = root.members().unwrap();
            assert_eq!(m[0].key_span.start, 2 + len);
            assert_eq!(m[0].value.span.start, 2 + len + 4 + len);
            assert_eq!(m[1].value.kind, Kind::Array(Vec::new()));
            assert_eq!(root.span.end, text.len());
        }
    }
}
