//! Splits Bicep source into tokens with byte spans. Trivia (spaces, comments, `#disable-…`
//! pragmas, a byte order mark) is skipped but never lost: it stays in the source text between
//! token spans, and each token records whether a line break preceded it, because line breaks
//! separate statements, object members and array items in Bicep. Strings are read whole,
//! including `${…}` interpolation holes (lexed recursively so nested strings and braces do not
//! confuse the end), `'''` multi-line strings and `$'''` interpolated multi-line strings.

use crate::error::Error;

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier or keyword.
    Ident,
    /// A string literal. `value` is the decoded text when the string has no interpolation.
    Str { value: Option<String> },
    /// An integer literal.
    Int,
    /// Punctuation or an operator, as written.
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// One token: its kind, its byte range, and whether a line break came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) newline_before: bool,
}

/// Identifiers read inside interpolation holes (`'${name}'`), for reference counting.
pub(crate) type HoleIdents = Vec<(usize, usize)>;

/// Operators and punctuation, longest first so that `...` wins over `.`.
const PUNCT: &[&str] = &[
    "...", "=>", "==", "!=", "=~", "!~", "<=", ">=", "&&", "||", "??", ".?", "::", "{", "}", "[",
    "]", "(", ")", ",", ":", "?", "!", "=", "<", ">", "+", "-", "*", "/", "%", "|", "&", ".", "@",
];

/// Tokenises a whole file. The last token is always [`Tok::Eof`].
pub(crate) fn lex(text: &str) -> Result<(Vec<Token>, HoleIdents), Error> {
    let mut lx = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        holes: Vec::new(),
        depth: 0,
    };
    if text.starts_with('\u{feff}') {
        lx.pos = 3;
    }
    let mut out = Vec::new();
    loop {
        let newline_before = lx.skip_trivia()?;
        let start = lx.pos;
        if start >= lx.bytes.len() {
            out.push(Token {
                tok: Tok::Eof,
                start,
                end: start,
                newline_before: true,
            });
            return Ok((out, lx.holes));
        }
        let tok = lx.token()?;
        out.push(Token {
            tok,
            start,
            end: lx.pos,
            newline_before,
        });
    }
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    holes: HoleIdents,
    /// Interpolation holes open around the current position.
    depth: usize,
}

/// Deepest nesting of `${…}` holes accepted (strings inside holes inside strings…).
const MAX_HOLE_DEPTH: usize = 32;

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Lexer<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> Error {
        Error::source(offset, message.into())
    }

    fn peek_at(&self, i: usize) -> Option<u8> {
        self.bytes.get(self.pos + i).copied()
    }

    /// Skips spaces, line breaks, comments and pragmas; returns whether a line break was seen.
    fn skip_trivia(&mut self) -> Result<bool, Error> {
        let mut newline = false;
        loop {
            match self.peek_at(0) {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\n' | b'\r') => {
                    newline = true;
                    self.pos += 1;
                }
                Some(b'/') if self.peek_at(1) == Some(b'/') => self.skip_line(),
                Some(b'/') if self.peek_at(1) == Some(b'*') => {
                    let start = self.pos;
                    match self.text[self.pos + 2..].find("*/") {
                        Some(i) => self.pos += 2 + i + 2,
                        None => return Err(self.error(start, "unterminated `/*` comment")),
                    }
                }
                // `#disable-next-line …`, `#disable-diagnostics …`: pragmas run to the line's end.
                Some(b'#') if self.peek_at(1).is_some_and(is_ident_start) => self.skip_line(),
                _ => return Ok(newline),
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.peek_at(0) {
            if b == b'\n' || b == b'\r' {
                break;
            }
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Result<Tok, Error> {
        let b = self.bytes[self.pos];
        if is_ident_start(b) {
            while self.peek_at(0).is_some_and(is_ident_char) {
                self.pos += 1;
            }
            return Ok(Tok::Ident);
        }
        if b.is_ascii_digit() {
            while self.peek_at(0).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
            // Bicep numbers are integers; a fraction is read too, so it is not an error here.
            if self.peek_at(0) == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit())
            {
                self.pos += 1;
                while self.peek_at(0).is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            return Ok(Tok::Int);
        }
        if b == b'\'' {
            if self.text[self.pos..].starts_with("'''") {
                return self.multiline(0);
            }
            return self.string();
        }
        if b == b'$' {
            let dollars = self.bytes[self.pos..]
                .iter()
                .take_while(|c| **c == b'$')
                .count();
            if self.text[self.pos + dollars..].starts_with("'''") {
                self.pos += dollars;
                return self.multiline(dollars);
            }
            return Err(self.error(self.pos, "unexpected `$`: expected `$'''` to open a string"));
        }
        for p in PUNCT {
            if self.text[self.pos..].starts_with(p) {
                self.pos += p.len();
                return Ok(Tok::Punct(p));
            }
        }
        let c = self.text[self.pos..].chars().next().unwrap_or('?');
        Err(self.error(self.pos, format!("unexpected character `{c}`")))
    }

    /// A `'…'` string with escapes and `${…}` holes.
    fn string(&mut self) -> Result<Tok, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut interpolated = false;
        loop {
            let Some(b) = self.peek_at(0) else {
                return Err(self.error(start, "unterminated string"));
            };
            match b {
                b'\'' => {
                    self.pos += 1;
                    break;
                }
                b'\n' | b'\r' => {
                    return Err(self.error(start, "unterminated string (line break inside `'…'`)"))
                }
                b'\\' => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    match self.peek_at(0) {
                        Some(b'\\') => value.push('\\'),
                        Some(b'\'') => value.push('\''),
                        Some(b'n') => value.push('\n'),
                        Some(b'r') => value.push('\r'),
                        Some(b't') => value.push('\t'),
                        Some(b'$') => value.push('$'),
                        Some(b'u') if self.peek_at(1) == Some(b'{') => {
                            let close = self.text[self.pos..].find('}').ok_or_else(|| {
                                self.error(esc_at, "unterminated `\\u{…}` escape")
                            })?;
                            let hex = &self.text[self.pos + 2..self.pos + close];
                            let c = u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.error(esc_at, "invalid `\\u{…}` escape"))?;
                            value.push(c);
                            self.pos += close;
                        }
                        _ => return Err(self.error(esc_at, "invalid escape in string")),
                    }
                    self.pos += 1;
                }
                b'$' if self.peek_at(1) == Some(b'{') => {
                    interpolated = true;
                    self.pos += 2;
                    self.hole(start)?;
                }
                _ => {
                    let c = self.text[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        Ok(Tok::Str {
            value: (!interpolated).then_some(value),
        })
    }

    /// A `'''…'''` string (`dollars` = 0) or a `$'''…'''` one whose holes open with that
    /// many `$` followed by `{`. `self.pos` is at the opening quotes.
    fn multiline(&mut self, dollars: usize) -> Result<Tok, Error> {
        let start = self.pos;
        self.pos += 3;
        let body_start = self.pos;
        let mut interpolated = false;
        loop {
            if self.pos >= self.bytes.len() {
                return Err(self.error(start, "unterminated `'''` string"));
            }
            if self.text[self.pos..].starts_with("'''") {
                // More quotes right after the closing ones belong to the content.
                let quotes = self.bytes[self.pos..]
                    .iter()
                    .take_while(|c| **c == b'\'')
                    .count();
                let body_end = self.pos + quotes - 3;
                self.pos += quotes;
                if interpolated {
                    return Ok(Tok::Str { value: None });
                }
                let body = &self.text[body_start..body_end];
                // A line break right after the opening quotes is not part of the value.
                let body = body
                    .strip_prefix("\r\n")
                    .or_else(|| body.strip_prefix('\n'))
                    .unwrap_or(body);
                return Ok(Tok::Str {
                    value: Some(body.to_string()),
                });
            }
            if dollars > 0 && self.bytes[self.pos] == b'$' {
                let run = self.bytes[self.pos..]
                    .iter()
                    .take_while(|c| **c == b'$')
                    .count();
                if run >= dollars && self.peek_at(run) == Some(b'{') {
                    interpolated = true;
                    self.pos += run + 1;
                    self.hole(start)?;
                    continue;
                }
                self.pos += run;
                continue;
            }
            let c = self.text[self.pos..].chars().next().unwrap_or('\u{fffd}');
            self.pos += c.len_utf8();
        }
    }

    /// Skips an interpolation hole up to and including its closing `}`, lexing what is
    /// inside so that strings and braces in it nest properly.
    fn hole(&mut self, string_start: usize) -> Result<(), Error> {
        if self.depth >= MAX_HOLE_DEPTH {
            return Err(self.error(
                string_start,
                format!("interpolation nested deeper than {MAX_HOLE_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        let r = self.hole_inner(string_start);
        self.depth -= 1;
        r
    }

    fn hole_inner(&mut self, string_start: usize) -> Result<(), Error> {
        let mut depth = 0usize;
        loop {
            self.skip_trivia()?;
            if self.pos >= self.bytes.len() {
                return Err(self.error(string_start, "unterminated `${` in string"));
            }
            let at = self.pos;
            let tok = self.token()?;
            match tok {
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") if depth == 0 => return Ok(()),
                Tok::Punct("}") => depth -= 1,
                Tok::Ident => self.holes.push((at, self.pos)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Tok, &str, bool)> {
        lex(text)
            .unwrap()
            .0
            .into_iter()
            .map(|t| (t.tok.clone(), &text[t.start..t.end], t.newline_before))
            .collect()
    }

    #[test]
    fn strings_and_holes() {
        let toks = kinds("x = 'a${f('}')}b' // c\r\n'it\\'s'");
        assert_eq!(toks[2].1, "'a${f('}')}b'");
        assert_eq!(toks[2].0, Tok::Str { value: None });
        assert_eq!(
            toks[3].0,
            Tok::Str {
                value: Some("it's".into())
            }
        );
        assert!(toks[3].2);
    }

    #[test]
    fn multiline_strings() {
        let toks = kinds("'''\nline ${x}\n''' $'''a ${b} '''  $$'''${c} $${d}'''");
        assert_eq!(
            toks[0].0,
            Tok::Str {
                value: Some("line ${x}\n".into())
            }
        );
        assert_eq!(toks[1].1, "$'''a ${b} '''");
        assert_eq!(toks[1].0, Tok::Str { value: None });
        assert_eq!(toks[2].1, "$$'''${c} $${d}'''");
    }

    #[test]
    fn operators_and_pragmas() {
        let toks = kinds("#disable-next-line x\na.?b ?? c[?0]!...d");
        let texts: Vec<&str> = toks.iter().map(|t| t.1).collect();
        assert_eq!(
            texts,
            ["a", ".?", "b", "??", "c", "[", "?", "0", "]", "!", "...", "d", ""]
        );
    }

    #[test]
    fn errors_have_offsets() {
        assert_eq!(lex("x = 'abc").unwrap_err().offset, 4);
        assert_eq!(lex("a /* b").unwrap_err().offset, 2);
        assert!(lex("a ^ b").unwrap_err().message.contains('^'));
    }
}
