//! Reads shell, PowerShell and pipeline-YAML text into simple commands: each a list of words
//! with their byte spans, their unquoted text, and whether part of them is only known at run
//! time. It also records every line continuation (`\` or a backtick before a line break),
//! the bodies of heredocs and here-strings (commands there are text for another program), and
//! quotes that never close. It does not know what a command means; `az` reads that.
//!
//! It is a tolerant reader, not a shell: it never fails, and constructs it does not model
//! (`case` patterns, `--%`) at worst hide a command from it.

/// The syntax a script is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// POSIX shells and bash (`*.sh`, `*.bash`, `*.azcli`): `\` continues a line and escapes.
    Shell,
    /// PowerShell (`*.ps1`): a backtick continues a line and escapes; `@args` splats.
    PowerShell,
    /// The command scalars of pipeline YAML (`*.yml`, `*.yaml`; found and decoded by
    /// `yaml`): they hold shell or PowerShell, so both continuation marks count, and a quote
    /// never spans lines (which shell reads the block is not known, so a quote it would
    /// carry over a line break makes the command unreadable rather than guessed).
    Yaml,
}

/// Stands, in [`Word::text`], for a part of the word that is only known at run time.
pub(crate) const DYNAMIC: char = '\0';

/// One word of a command, as the program would receive it (quotes removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The word's value, with [`DYNAMIC`] where a variable, substitution or splat stands.
    pub(crate) text: String,
    pub(crate) dynamic: bool,
}

impl Word {
    /// The value when it is fully known.
    pub(crate) fn literal(&self) -> Option<&str> {
        (!self.dynamic).then_some(self.text.as_str())
    }
}

/// Where a command's text lives when it is data rather than code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    Heredoc,
    HereString,
}

impl Body {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Body::Heredoc => "a heredoc",
            Body::HereString => "a here-string",
        }
    }
}

/// A simple command: words up to a separator (`;`, `&&`, `|`, a line break...). Redirections
/// and their targets are not words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub(crate) words: Vec<Word>,
    /// Set when the command sits inside a heredoc or here-string body.
    pub(crate) body: Option<Body>,
}

/// A line continuation: the mark (`\` or a backtick) at `mark`, then the line break
/// `eol_start..eol_end` (`\n` or `\r\n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cont {
    pub(crate) mark: usize,
    pub(crate) eol_start: usize,
    pub(crate) eol_end: usize,
}

/// What the lexer read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Script {
    /// In the order they start, nested ones (in `$(...)`) after the enclosing command's
    /// earlier words.
    pub(crate) commands: Vec<Command>,
    /// In text order.
    pub(crate) conts: Vec<Cont>,
    /// Byte offsets of quotes and here-strings that never close (outside bodies).
    pub(crate) unterminated: Vec<usize>,
    /// Byte offsets of every quote that did not close where its shell would close it: the
    /// above, those in bodies, and YAML quotes cut at the end of their line. A command
    /// holding one is not what it seems, and is not edited.
    pub(crate) broken: Vec<usize>,
}

/// Reads `text` as `dialect`.
pub(crate) fn lex(text: &str, dialect: Dialect) -> Script {
    let mut l = Lexer {
        b: text.as_bytes(),
        // A byte order mark is not part of the first word.
        pos: if text.starts_with('\u{feff}') { 3 } else { 0 },
        end: text.len(),
        d: dialect,
        body: None,
        pending: Vec::new(),
        depth: 0,
        out: Script::default(),
    };
    l.seq(Close::Eof);
    l.out
        .commands
        .sort_by_key(|c| c.words.first().map_or(0, |w| w.start));
    l.out
}

/// How deep `$(`, `(`, `{` and bodies may nest before the lexer stops descending.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    Eof,
    Paren,
    Brace,
    Backtick,
}

struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
}

struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
    /// Reading stops here (the end of a heredoc body, or of the text).
    end: usize,
    d: Dialect,
    body: Option<Body>,
    /// Heredocs whose bodies start after the current line.
    pending: Vec<Heredoc>,
    depth: usize,
    out: Script,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r')
}

/// Bytes that end a shell word.
fn is_meta(c: u8) -> bool {
    matches!(c, b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>')
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Lexer<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        (i < self.end).then(|| self.b[i])
    }

    fn shell(&self) -> bool {
        self.d != Dialect::PowerShell
    }

    fn powershell(&self) -> bool {
        self.d != Dialect::Shell
    }

    /// Is there a line continuation (mark, then a line break) at `i`? Returns the end of
    /// its line break.
    fn cont_at(&self, i: usize) -> Option<usize> {
        let mark = self.at(i)?;
        let ok = match self.d {
            Dialect::Shell => mark == b'\\',
            Dialect::PowerShell => mark == b'`',
            Dialect::Yaml => mark == b'\\' || mark == b'`',
        };
        if !ok {
            return None;
        }
        match (self.at(i + 1), self.at(i + 2)) {
            (Some(b'\n'), _) => Some(i + 2),
            (Some(b'\r'), Some(b'\n')) => Some(i + 3),
            _ => None,
        }
    }

    fn take_cont(&mut self) -> bool {
        match self.cont_at(self.pos) {
            Some(eol_end) => {
                self.out.conts.push(Cont {
                    mark: self.pos,
                    eol_start: self.pos + 1,
                    eol_end,
                });
                self.pos = eol_end;
                true
            }
            None => false,
        }
    }

    fn flush(&mut self, words: &mut Vec<Word>) {
        if !words.is_empty() {
            self.out.commands.push(Command {
                words: std::mem::take(words),
                body: self.body,
            });
        }
    }

    /// Reads commands until `close` (or the end). Returns whether `close` was found.
    fn seq(&mut self, close: Close) -> bool {
        self.depth += 1;
        let mut closed = close == Close::Eof;
        let mut words: Vec<Word> = Vec::new();
        while let Some(c) = self.at(self.pos) {
            if self.take_cont() {
                continue;
            }
            let next = self.at(self.pos + 1);
            match c {
                _ if is_space(c) => self.pos += 1,
                b'\n' => {
                    self.flush(&mut words);
                    self.pos += 1;
                    self.heredoc_bodies();
                }
                b'#' => self.skip_line_comment(),
                b'<' if next == Some(b'#') && self.powershell() => self.skip_block_comment(),
                b';' | b'|' => {
                    self.flush(&mut words);
                    self.pos += 1;
                }
                b'&' if next == Some(b'>') && self.shell() => self.redirection(),
                b'&' => {
                    self.flush(&mut words);
                    self.pos += 1;
                }
                b'(' => {
                    self.flush(&mut words);
                    self.pos += 1;
                    self.nest(Close::Paren);
                }
                b')' => {
                    self.flush(&mut words);
                    self.pos += 1;
                    if close == Close::Paren {
                        closed = true;
                        break;
                    }
                }
                b'{' if self.powershell() || next.is_none_or(|n| is_space(n) || is_meta(n)) => {
                    self.flush(&mut words);
                    self.pos += 1;
                    self.nest(Close::Brace);
                }
                b'}' if close == Close::Brace || self.d == Dialect::PowerShell => {
                    self.flush(&mut words);
                    self.pos += 1;
                    if close == Close::Brace {
                        closed = true;
                        break;
                    }
                }
                b'`' if close == Close::Backtick && self.d == Dialect::Shell => {
                    self.flush(&mut words);
                    self.pos += 1;
                    closed = true;
                    break;
                }
                b'<' | b'>' => self.redirection(),
                b'*' if next == Some(b'>') && self.powershell() => self.redirection(),
                b'0'..=b'9' if self.digits_then_redirect() => self.redirection(),
                _ => {
                    let before = self.pos;
                    let w = self.word(close);
                    if self.pos == before {
                        self.pos += 1;
                    } else {
                        words.push(w);
                    }
                }
            }
        }
        self.flush(&mut words);
        self.depth -= 1;
        closed
    }

    /// Reads a nested sequence, unless nesting is already too deep (then skips it).
    /// Returns whether it closed.
    fn nest(&mut self, close: Close) -> bool {
        if self.depth < MAX_DEPTH {
            return self.seq(close);
        }
        let (open, shut) = match close {
            Close::Paren => (b'(', b')'),
            Close::Brace => (b'{', b'}'),
            Close::Backtick | Close::Eof => (0, b'`'),
        };
        let mut level = 1usize;
        while let Some(c) = self.at(self.pos) {
            self.pos += 1;
            if c == shut {
                level -= 1;
                if level == 0 {
                    return true;
                }
            } else if c == open {
                level += 1;
            }
        }
        false
    }

    /// A substitution inside a word (`$(`, a backtick, `@(`, `@{`) opened at `open`: one
    /// that never closes makes the word unreadable.
    fn nest_in_word(&mut self, close: Close, open: usize) {
        if !self.nest(close) {
            self.unterminated(open);
        }
    }

    fn skip_line_comment(&mut self) {
        while let Some(c) = self.at(self.pos) {
            if c == b'\n' {
                return;
            }
            self.pos += 1;
        }
    }

    fn skip_block_comment(&mut self) {
        self.pos += 2;
        while let Some(c) = self.at(self.pos) {
            if c == b'#' && self.at(self.pos + 1) == Some(b'>') {
                self.pos += 2;
                return;
            }
            self.pos += 1;
        }
    }

    fn digits_then_redirect(&self) -> bool {
        let mut i = self.pos;
        while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        matches!(self.at(i), Some(b'<' | b'>'))
    }

    /// Skips a redirection and its target; registers a heredoc.
    fn redirection(&mut self) {
        while self
            .at(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || c == b'*' || c == b'&')
        {
            self.pos += 1;
        }
        let rest = &self.b[self.pos..self.end];
        if self.shell() && rest.starts_with(b"<<") && !rest.starts_with(b"<<<") {
            let strip_tabs = rest.get(2) == Some(&b'-');
            self.pos += if strip_tabs { 3 } else { 2 };
            self.skip_blanks();
            let before = self.pos;
            let w = self.word(Close::Eof);
            if self.pos > before {
                self.pending.push(Heredoc {
                    delimiter: w.text,
                    strip_tabs,
                });
            }
            return;
        }
        // `<<<`, `>>`, `>|`, `<>`, `>`, `<`, then `&N` or a target word.
        while self
            .at(self.pos)
            .is_some_and(|c| matches!(c, b'<' | b'>' | b'|'))
        {
            self.pos += 1;
        }
        if self.at(self.pos) == Some(b'&') {
            self.pos += 1;
            while self
                .at(self.pos)
                .is_some_and(|c| c.is_ascii_digit() || c == b'-')
            {
                self.pos += 1;
            }
            return;
        }
        self.skip_blanks();
        match self.at(self.pos) {
            None | Some(b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>') => {}
            Some(_) => {
                self.word(Close::Eof);
            }
        }
    }

    fn skip_blanks(&mut self) {
        while self.at(self.pos).is_some_and(|c| c == b' ' || c == b'\t') {
            self.pos += 1;
        }
    }

    /// After a line break: reads the bodies of the heredocs opened on that line.
    fn heredoc_bodies(&mut self) {
        for doc in std::mem::take(&mut self.pending) {
            let start = self.pos;
            let mut line = start;
            let (body_end, after) = loop {
                if line >= self.end {
                    break (self.end, self.end);
                }
                let eol = self.b[line..self.end]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(self.end, |i| line + i);
                let mut text = &self.b[line..eol];
                if text.last() == Some(&b'\r') {
                    text = &text[..text.len() - 1];
                }
                if doc.strip_tabs {
                    while text.first() == Some(&b'\t') {
                        text = &text[1..];
                    }
                }
                if text == doc.delimiter.as_bytes() {
                    break (line, (eol + 1).min(self.end));
                }
                line = eol + 1;
            };
            self.body_region(start, body_end, Body::Heredoc);
            self.pos = after;
        }
    }

    /// Reads `start..end` as commands that are data (a heredoc or here-string body).
    fn body_region(&mut self, start: usize, end: usize, body: Body) {
        if self.depth >= MAX_DEPTH || start >= end {
            return;
        }
        let saved = (
            self.pos,
            self.end,
            self.body,
            std::mem::take(&mut self.pending),
        );
        self.pos = start;
        self.end = end;
        self.body = Some(body);
        self.seq(Close::Eof);
        (self.pos, self.end, self.body, self.pending) = saved;
    }

    fn unterminated(&mut self, at: usize) {
        self.out.broken.push(at);
        if self.body.is_none() {
            self.out.unterminated.push(at);
        }
    }

    /// Reads one word starting at `pos`.
    fn word(&mut self, close: Close) -> Word {
        let start = self.pos;
        let mut text: Vec<u8> = Vec::new();
        let mut dynamic = false;
        while let Some(c) = self.at(self.pos) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                    break
                }
                b'}' if close == Close::Brace && self.powershell() => break,
                b'`' if self.d == Dialect::Shell => {
                    if close == Close::Backtick {
                        break;
                    }
                    self.pos += 1;
                    self.nest_in_word(Close::Backtick, self.pos - 1);
                    text.push(0);
                    dynamic = true;
                }
                b'`' | b'\\' => {
                    let escapes = if c == b'`' {
                        self.powershell()
                    } else {
                        self.shell()
                    };
                    if !escapes {
                        text.push(c);
                        self.pos += 1;
                    } else if self.cont_at(self.pos).is_some() {
                        if c == b'`' {
                            // PowerShell: a continuation is blank space.
                            break;
                        }
                        // Shell: `\` and the line break vanish; the word goes on.
                        self.take_cont();
                    } else {
                        self.pos += 1;
                        if let Some(n) = self.at(self.pos) {
                            text.push(n);
                            self.pos += 1;
                        }
                    }
                }
                b'\'' => self.single_quoted(&mut text),
                b'"' => {
                    self.pos += 1;
                    if self.double_quoted(&mut text) {
                        dynamic = true;
                    }
                }
                b'$' => {
                    if self.dollar(&mut text) {
                        dynamic = true;
                    }
                }
                b'@' if self.pos == start && self.powershell() => {
                    if self.at_sign(&mut text) {
                        dynamic = true;
                    }
                }
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        Word {
            start,
            end: self.pos,
            text: String::from_utf8_lossy(&text).into_owned(),
            dynamic,
        }
    }

    /// `'...'` (PowerShell: `''` is a quote inside). Pushes the contents.
    fn single_quoted(&mut self, text: &mut Vec<u8>) {
        let open = self.pos;
        self.pos += 1;
        while let Some(c) = self.at(self.pos) {
            if c == b'\'' {
                if self.d == Dialect::PowerShell && self.at(self.pos + 1) == Some(b'\'') {
                    text.push(b'\'');
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return;
            }
            if c == b'\n' && self.d == Dialect::Yaml {
                self.out.broken.push(open);
                return;
            }
            text.push(c);
            self.pos += 1;
        }
        self.unterminated(open);
    }

    /// `"..."` after its opening quote. Returns whether it holds run-time parts.
    fn double_quoted(&mut self, text: &mut Vec<u8>) -> bool {
        let open = self.pos - 1;
        let mut dynamic = false;
        while let Some(c) = self.at(self.pos) {
            match c {
                b'"' => {
                    if self.d == Dialect::PowerShell && self.at(self.pos + 1) == Some(b'"') {
                        text.push(b'"');
                        self.pos += 2;
                        continue;
                    }
                    self.pos += 1;
                    return dynamic;
                }
                b'\n' if self.d == Dialect::Yaml => {
                    self.out.broken.push(open);
                    return dynamic;
                }
                b'`' if self.d == Dialect::Shell => {
                    self.pos += 1;
                    self.nest_in_word(Close::Backtick, self.pos - 1);
                    text.push(0);
                    dynamic = true;
                }
                b'\\' | b'`' if (c == b'\\') == self.shell() || self.d == Dialect::Yaml => {
                    if self.cont_at(self.pos).is_some() {
                        self.take_cont();
                    } else {
                        self.pos += 1;
                        if let Some(n) = self.at(self.pos) {
                            if c == b'\\' && !matches!(n, b'"' | b'\\' | b'$' | b'`') {
                                text.push(c);
                            }
                            text.push(n);
                            self.pos += 1;
                        }
                    }
                }
                b'$' => {
                    if self.dollar(text) {
                        dynamic = true;
                    }
                }
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        self.unterminated(open);
        dynamic
    }

    /// `$...` at `pos`. Returns whether it is a run-time value (else a literal `$`).
    fn dollar(&mut self, text: &mut Vec<u8>) -> bool {
        let next = self.at(self.pos + 1);
        match next {
            Some(b'(') => {
                self.pos += 2;
                self.nest_in_word(Close::Paren, self.pos - 2);
            }
            Some(b'{') => {
                let open = self.pos;
                self.pos += 2;
                let mut level = 1usize;
                while let Some(c) = self.at(self.pos) {
                    if c == b'\n' && self.d == Dialect::Yaml {
                        break;
                    }
                    self.pos += 1;
                    if c == b'{' {
                        level += 1;
                    } else if c == b'}' {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                }
                if level > 0 {
                    if self.d == Dialect::Yaml {
                        self.out.broken.push(open);
                    } else {
                        self.unterminated(open);
                    }
                }
            }
            Some(b'\'') if self.shell() => {
                // ANSI-C quoting: a literal with backslash escapes.
                let open = self.pos;
                self.pos += 2;
                while let Some(c) = self.at(self.pos) {
                    self.pos += 1;
                    match c {
                        b'\'' => return false,
                        b'\\' => {
                            if let Some(n) = self.at(self.pos) {
                                text.push(n);
                                self.pos += 1;
                            }
                        }
                        _ => text.push(c),
                    }
                }
                self.unterminated(open);
                return false;
            }
            Some(c) if is_ident(c) => {
                self.pos += 1;
                while self.at(self.pos).is_some_and(|c| {
                    is_ident(c)
                        || (c == b':'
                            && self.powershell()
                            && self.at(self.pos + 1).is_some_and(is_ident))
                }) {
                    self.pos += 1;
                }
            }
            Some(b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-') if self.shell() => self.pos += 2,
            Some(b'?' | b'^' | b'$') if self.powershell() => self.pos += 2,
            _ => {
                text.push(b'$');
                self.pos += 1;
                return false;
            }
        }
        text.push(0);
        true
    }

    /// PowerShell `@...` at the start of a word: `@(...)`, `@{...}`, `@name` (splatting),
    /// a here-string. Returns whether it is a run-time value (else a literal `@`).
    fn at_sign(&mut self, text: &mut Vec<u8>) -> bool {
        match self.at(self.pos + 1) {
            Some(b'(') => {
                self.pos += 2;
                self.nest_in_word(Close::Paren, self.pos - 2);
            }
            Some(b'{') => {
                self.pos += 2;
                self.nest_in_word(Close::Brace, self.pos - 2);
            }
            Some(q @ (b'"' | b'\'')) if self.here_string_opens() => self.here_string(q),
            Some(c) if is_ident(c) => {
                self.pos += 1;
                while self.at(self.pos).is_some_and(is_ident) {
                    self.pos += 1;
                }
            }
            _ => {
                text.push(b'@');
                self.pos += 1;
                return false;
            }
        }
        text.push(0);
        true
    }

    fn here_string_opens(&self) -> bool {
        let mut i = self.pos + 2;
        while self
            .at(i)
            .is_some_and(|c| c == b' ' || c == b'\t' || c == b'\r')
        {
            i += 1;
        }
        self.at(i) == Some(b'\n')
    }

    /// `@"` ... `"@` (or with single quotes): the body is data.
    fn here_string(&mut self, quote: u8) {
        let open = self.pos;
        let body_start = match self.b[self.pos..self.end].iter().position(|c| *c == b'\n') {
            Some(i) => self.pos + i + 1,
            None => self.end,
        };
        let mut line = body_start;
        while line < self.end {
            if self.b[line] == quote && self.at(line + 1) == Some(b'@') {
                self.body_region(body_start, line, Body::HereString);
                self.pos = line + 2;
                return;
            }
            line = match self.b[line..self.end].iter().position(|c| *c == b'\n') {
                Some(i) => line + i + 1,
                None => self.end,
            };
        }
        self.body_region(body_start, self.end, Body::HereString);
        self.unterminated(open);
        self.pos = self.end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, d: Dialect) -> Vec<Vec<String>> {
        lex(text, d)
            .commands
            .iter()
            .map(|c| {
                c.words
                    .iter()
                    .map(|w| w.text.replace(DYNAMIC, "<$>"))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn splits_commands_and_skips_redirections_and_comments() {
        let got = words(
            "az aks create -n x > out.json 2>&1 # note\nfoo && bar | tee log; baz\n",
            Dialect::Shell,
        );
        assert_eq!(
            got,
            [
                vec!["az", "aks", "create", "-n", "x"],
                vec!["foo"],
                vec!["bar"],
                vec!["tee", "log"],
                vec!["baz"]
            ]
        );
    }

    #[test]
    fn continuations_join_lines_and_are_recorded() {
        let text = "az aks create \\\n  -n x \\\r\n  -a y\n";
        let s = lex(text, Dialect::Shell);
        assert_eq!(s.commands.len(), 1);
        assert_eq!(s.commands[0].words.len(), 7);
        assert_eq!(s.conts.len(), 2);
        assert_eq!(&text[s.conts[1].eol_start..s.conts[1].eol_end], "\r\n");
        let ps = lex("az aks create `\n  -n x\n", Dialect::PowerShell);
        assert_eq!(ps.commands[0].words.len(), 5);
    }

    #[test]
    fn quotes_variables_and_substitutions() {
        let got = words(
            "X=$(az aks create -a \"a,b\" --tags 'k=v w') && echo \"$X\" ${Y} $'q\\'s'\n",
            Dialect::Shell,
        );
        assert_eq!(
            got,
            [
                vec!["X=<$>"],
                vec!["az", "aks", "create", "-a", "a,b", "--tags", "k=v w"],
                vec!["echo", "<$>", "<$>", "q's"]
            ]
        );
    }

    #[test]
    fn heredoc_bodies_are_marked() {
        let s = lex(
            "ssh host <<-'EOF'\n\taz aks create -a kv\n\tEOF\naz aks show\n",
            Dialect::Shell,
        );
        let bodies: Vec<_> = s.commands.iter().map(|c| c.body).collect();
        assert_eq!(bodies, [None, Some(Body::Heredoc), None]);
        assert_eq!(s.commands[2].words[2].text, "show");
    }

    #[test]
    fn powershell_splats_here_strings_and_blocks() {
        let text = "$p = @{ n = 'x' }\naz aks create @p\n$s = @\"\naz aks create\n\"@\nif ($a) { az aks show }\n<# az aks create #>\n";
        let s = lex(text, Dialect::PowerShell);
        let got: Vec<_> = s
            .commands
            .iter()
            .map(|c| (c.words[0].text.replace(DYNAMIC, "<$>"), c.body))
            .collect();
        assert_eq!(
            got,
            [
                ("<$>".to_string(), None),
                ("n".to_string(), None),
                ("az".to_string(), None),
                ("<$>".to_string(), None),
                ("az".to_string(), Some(Body::HereString)),
                ("if".to_string(), None),
                ("<$>".to_string(), None),
                ("az".to_string(), None),
            ]
        );
        assert!(s.commands[2].words[3].dynamic);
    }

    #[test]
    fn yaml_quotes_end_at_the_line() {
        let got = words(
            "- name: Don't stop\n  run: az aks create -n x\n",
            Dialect::Yaml,
        );
        assert_eq!(got[1], ["run:", "az", "aks", "create", "-n", "x"]);
    }

    #[test]
    fn unterminated_quotes_are_reported_and_never_panic() {
        let s = lex("echo \"abc\naz aks create\n", Dialect::Shell);
        assert_eq!(s.unterminated, [5]);
        for text in [
            "$", "@", "\\", "`", "$(", "${", "<<", "@\"\n", "((((", "é\"", "2>",
        ] {
            for d in [Dialect::Shell, Dialect::PowerShell, Dialect::Yaml] {
                lex(text, d);
            }
        }
        let deep = "$(".repeat(5000);
        lex(&deep, Dialect::Shell);
    }
}
