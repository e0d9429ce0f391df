//! Parses ARM template expressions (`"[fn(arg, 'str', 1).prop[0]]"`) into terms with byte
//! spans relative to the expression string, so that tracing can follow `parameters()`,
//! `variables()`, `createObject()`, `union()` and `if()` and edit a literal in place.

/// A parsed expression: a flat arena of terms, the root last.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub(crate) terms: Vec<Term>,
    pub(crate) root: usize,
}

/// One term and its byte span in the expression string (which includes the brackets).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) kind: TermKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TermKind {
    /// `name(args)`; the name is lower-cased. `args` index the arena.
    Call { name: String, args: Vec<usize> },
    /// `'text'` (with `''` decoded to `'`).
    Str(String),
    /// A number as written.
    Number(String),
    /// `true`, `false` and `null` written without parentheses.
    Word(String),
    /// `base.name`
    Member { base: usize, name: String },
    /// `base[index]`
    Index { base: usize, index: usize },
}

impl Expr {
    /// The call name and arguments of term `i`, if it is a call.
    pub(crate) fn call(&self, i: usize) -> Option<(&str, &[usize])> {
        match &self.terms[i].kind {
            TermKind::Call { name, args } => Some((name, args)),
            _ => None,
        }
    }

    /// The string literal value of term `i`.
    pub(crate) fn str_lit(&self, i: usize) -> Option<&str> {
        match &self.terms[i].kind {
            TermKind::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses an ARM expression string, brackets included. `None` when the string is not an
/// expression or does not parse (such values are left for manual review).
pub(crate) fn parse(src: &str) -> Option<Expr> {
    if !(src.starts_with('[') && src.ends_with(']')) || src.starts_with("[[") || src.len() < 2 {
        return None;
    }
    let mut p = P {
        s: src.as_bytes(),
        src,
        pos: 1,
        terms: Vec::new(),
        depth: 0,
    };
    let root = p.term()?;
    p.ws();
    if p.pos != src.len() - 1 {
        return None;
    }
    Some(Expr {
        terms: p.terms,
        root,
    })
}

struct P<'s> {
    s: &'s [u8],
    src: &'s str,
    pos: usize,
    terms: Vec<Term>,
    depth: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn push(&mut self, start: usize, kind: TermKind) -> usize {
        self.terms.push(Term {
            start,
            end: self.pos,
            kind,
        });
        self.terms.len() - 1
    }

    fn term(&mut self) -> Option<usize> {
        self.depth += 1;
        if self.depth > 200 {
            return None;
        }
        self.ws();
        let start = self.pos;
        let mut t = match *self.s.get(self.pos)? {
            b'\'' => {
                self.pos += 1;
                let mut out = String::new();
                loop {
                    let rest = &self.src[self.pos..];
                    let q = rest.find('\'')?;
                    out.push_str(&rest[..q]);
                    self.pos += q + 1;
                    if self.s.get(self.pos) == Some(&b'\'') {
                        out.push('\'');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                self.push(start, TermKind::Str(out))
            }
            b'-' | b'0'..=b'9' => {
                self.pos += 1;
                while matches!(self.s.get(self.pos), Some(b'0'..=b'9' | b'.')) {
                    self.pos += 1;
                }
                let n = self.src[start..self.pos].to_string();
                self.push(start, TermKind::Number(n))
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let name = self.ident();
                self.ws();
                if self.s.get(self.pos) == Some(&b'(') {
                    self.pos += 1;
                    let mut args = Vec::new();
                    self.ws();
                    if self.s.get(self.pos) == Some(&b')') {
                        self.pos += 1;
                    } else {
                        loop {
                            args.push(self.term()?);
                            self.ws();
                            match self.s.get(self.pos)? {
                                b',' => self.pos += 1,
                                b')' => {
                                    self.pos += 1;
                                    break;
                                }
                                _ => return None,
                            }
                        }
                    }
                    let name = name.to_ascii_lowercase();
                    self.push(start, TermKind::Call { name, args })
                } else {
                    let lower = name.to_ascii_lowercase();
                    if !matches!(lower.as_str(), "true" | "false" | "null") {
                        return None;
                    }
                    self.push(start, TermKind::Word(lower))
                }
            }
            _ => return None,
        };
        loop {
            match self.s.get(self.pos) {
                Some(b'.') => {
                    self.pos += 1;
                    // `.?` safe dereference is Bicep-only; ARM has none, but be lenient.
                    if self.s.get(self.pos) == Some(&b'?') {
                        self.pos += 1;
                    }
                    let name = self.ident();
                    if name.is_empty() {
                        return None;
                    }
                    t = self.push(start, TermKind::Member { base: t, name });
                }
                Some(b'[') => {
                    self.pos += 1;
                    let index = self.term()?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b']') {
                        return None;
                    }
                    self.pos += 1;
                    t = self.push(start, TermKind::Index { base: t, index });
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Some(t)
    }

    fn word(&mut self) {
        while matches!(self.s.get(self.pos), Some(b) if b.is_ascii_alphanumeric() || *b == b'_') {
            self.pos += 1;
        }
    }

    /// An identifier; user-defined functions are written `namespace.name(`, so a dotted
    /// name counts as one identifier only when a `(` follows it.
    fn ident(&mut self) -> String {
        let start = self.pos;
        self.word();
        if self.s.get(self.pos) == Some(&b'.') {
            let save = self.pos;
            self.pos += 1;
            let name_start = self.pos;
            self.word();
            if self.pos == name_start || self.s.get(self.pos) != Some(&b'(') {
                self.pos = save;
            }
        }
        self.src[start..self.pos].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_strings_and_access() {
        let src = "[if(parameters('a'), createObject('k', 'it''s'), null())]";
        let e = parse(src).unwrap();
        let (name, args) = e.call(e.root).unwrap();
        assert_eq!(name, "if");
        assert_eq!(args.len(), 3);
        let (inner, kv) = e.call(args[1]).unwrap();
        assert_eq!(inner, "createobject");
        assert_eq!(e.str_lit(kv[1]), Some("it's"));
        let lit = &e.terms[kv[1]];
        assert_eq!(&src[lit.start..lit.end], "'it''s'");
        assert_eq!(e.terms[e.root].start, 1);
        assert_eq!(e.terms[e.root].end, src.len() - 1);
    }

    #[test]
    fn member_and_index() {
        let e = parse("[reference('x').outputs.id.value]").unwrap();
        assert!(
            matches!(e.terms[e.root].kind, TermKind::Member { ref name, .. } if name == "value")
        );
        let e = parse("[variables('a')[0]]").unwrap();
        assert!(matches!(e.terms[e.root].kind, TermKind::Index { .. }));
        let e = parse("[udf.myFunc(1)]").unwrap();
        assert_eq!(e.call(e.root).unwrap().0, "udf.myfunc");
    }

    #[test]
    fn rejects_non_expressions() {
        assert!(parse("[[literal]").is_none());
        assert!(parse("plain").is_none());
        assert!(parse("[concat('a']").is_none());
        assert!(parse("[a b]").is_none());
        assert!(parse(&format!("[{}1{}]", "f(".repeat(500), ")".repeat(500))).is_none());
    }
}
