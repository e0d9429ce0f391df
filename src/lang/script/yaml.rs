//! Pipeline YAML (GitHub Actions, Azure Pipelines, GitLab CI, Drone...): finds the scalars
//! that hold commands and decodes each into the text its shell receives, with a map from
//! every byte of that text back to the file. It knows YAML's layout (indentation, list
//! items, keys, the five scalar styles), not what a command means.
//!
//! A scalar holds commands when its key is a script key ([`SCRIPT_KEYS`]: `run:`, `script:`,
//! `inlineScript:`, `bash:`, `pwsh:`...), or when it is an item of a list under a script-list
//! key ([`LIST_KEYS`]: `script:`, `before_script:`, `after_script:`, `commands:`, `steps:`).
//! Anything else (`docs: examples: - az ...`, `description: |`) is prose. Literal blocks
//! (`|`) keep their lines as they are; folded blocks (`>`), plain and quoted scalars fold
//! their line breaks into spaces, and quoted ones are unescaped, as YAML reads them.
//! A flow sequence under a script or script-list key (`script: [ "az ...", az ... ]`,
//! Packer's `inline: [...]`) holds one command per scalar item; under `command:` it is one
//! command's argument vector (Kubernetes, Compose) and is not read, nor are other flow
//! collections (`{...}`, nested ones) and aliases.

/// Keys whose scalar value is a script.
const SCRIPT_KEYS: [&str; 12] = [
    "run",
    "script",
    "inlinescript",
    "bash",
    "pwsh",
    "powershell",
    "inline",
    "command",
    "before_script",
    "after_script",
    "commands",
    "scriptblock",
];

/// Keys whose list items are commands.
const LIST_KEYS: [&str; 5] = [
    "script",
    "before_script",
    "after_script",
    "commands",
    "steps",
];

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Literal,
    Folded,
    Plain,
    SingleQuoted,
    DoubleQuoted,
}

/// A scalar that holds commands: its value, and where each byte of it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scalar {
    /// The value as the shell receives it.
    pub(crate) text: String,
    /// For each byte of `text`, the range of the file it was read from (a decoded escape
    /// or a folded line break maps to the whole of its source).
    src: Vec<(usize, usize)>,
    /// Where the scalar's value starts and ends in the file.
    pub(crate) span: (usize, usize),
    pub(crate) style: Style,
    /// The key it is the value of (or the list's key), lower case.
    pub(crate) key: String,
}

impl Scalar {
    /// The file offset where the text's byte `at` starts (`at == len`: the scalar's end).
    pub(crate) fn start_of(&self, at: usize) -> usize {
        self.src.get(at).map_or(self.end_of(at), |s| s.0)
    }

    /// The file offset just after the text's bytes `..at` (`at == 0`: the scalar's start).
    pub(crate) fn end_of(&self, at: usize) -> usize {
        match at.checked_sub(1).and_then(|i| self.src.get(i)) {
            Some(s) => s.1,
            None if at == 0 => self.src.first().map_or(self.span.0, |s| s.0),
            None => self.span.1,
        }
    }
}

/// One line of the file: where it starts, where its content ends (before `\r\n` or `\n`),
/// and where the next line starts.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

fn lines_of(text: &str) -> Vec<Line> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while start < b.len() {
        let (end, next) = match memchr::memchr(b'\n', &b[start..]) {
            Some(i) => {
                let nl = start + i;
                let end = if nl > start && b[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                (end, nl + 1)
            }
            None => (b.len(), b.len()),
        };
        out.push(Line { start, end, next });
        start = next;
    }
    out
}

/// Builds a scalar's text and its map.
#[derive(Default)]
struct Builder {
    text: Vec<u8>,
    src: Vec<(usize, usize)>,
}

impl Builder {
    /// Copies the file's bytes `from..to`.
    fn copy(&mut self, file: &[u8], from: usize, to: usize) {
        self.text.extend_from_slice(&file[from..to]);
        self.src.extend((from..to).map(|i| (i, i + 1)));
    }

    /// Adds `s`, read from the file's `from..to`.
    fn put(&mut self, s: &str, from: usize, to: usize) {
        for b in s.bytes() {
            self.text.push(b);
            self.src.push((from, to));
        }
    }

    /// A folded line break at `brk` followed by `empties` empty lines: a space when there
    /// are none, else one line break per empty line (YAML's line folding).
    fn fold(&mut self, empties: usize, brk: usize) {
        if empties == 0 {
            self.put(" ", brk, brk);
        } else {
            for _ in 0..empties {
                self.put("\n", brk, brk);
            }
        }
    }

    fn trim_end(&mut self) {
        while matches!(self.text.last(), Some(b' ' | b'\t')) {
            self.text.pop();
            self.src.pop();
        }
    }

    fn finish(self, span: (usize, usize), style: Style, key: &str) -> Scalar {
        Scalar {
            // Only whole UTF-8 sequences and encoded chars were added.
            text: String::from_utf8(self.text).unwrap_or_default(),
            src: self.src,
            span,
            style,
            key: key.to_string(),
        }
    }
}

fn indent_of(file: &[u8], l: Line) -> usize {
    file[l.start..l.end]
        .iter()
        .take_while(|c| **c == b' ')
        .count()
}

fn is_blank(file: &[u8], l: Line) -> bool {
    file[l.start..l.end]
        .iter()
        .all(|c| *c == b' ' || *c == b'\t')
}

/// Where a mapping key ends on `file[from..to]`: returns the key (lower case, unquoted) and
/// the offset just after its `:`. A plain key ends at the first `:` followed by a blank or
/// the end of the line; a quoted key at its closing quote.
fn split_key(file: &[u8], from: usize, to: usize) -> Option<(String, usize)> {
    let s = &file[from..to];
    let colon_at = |i: usize| {
        s.get(i) == Some(&b':') && s.get(i + 1).is_none_or(|c| *c == b' ' || *c == b'\t')
    };
    let key_end = match s.first()? {
        q @ (b'"' | b'\'') => {
            let close = s[1..].iter().position(|c| c == q)? + 1;
            let mut i = close + 1;
            while matches!(s.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            if !colon_at(i) {
                return None;
            }
            let key = String::from_utf8_lossy(&s[1..close]).to_ascii_lowercase();
            return Some((key, from + i + 1));
        }
        b'[' | b'{' | b'#' | b'|' | b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => return None,
        _ => {
            let mut i = 0;
            loop {
                if i >= s.len() {
                    return None;
                }
                if colon_at(i) {
                    break i;
                }
                if s[i] == b'#' && i > 0 && matches!(s[i - 1], b' ' | b'\t') {
                    return None;
                }
                i += 1;
            }
        }
    };
    let key = String::from_utf8_lossy(&s[..key_end])
        .trim_end()
        .to_ascii_lowercase();
    Some((key, from + key_end + 1))
}

/// Skips blanks, a tag (`!!str`, `!t`) and an anchor (`&a`) before a value.
fn value_start(file: &[u8], mut at: usize, end: usize) -> usize {
    loop {
        while at < end && matches!(file[at], b' ' | b'\t') {
            at += 1;
        }
        if at < end && matches!(file[at], b'!' | b'&') {
            while at < end && !matches!(file[at], b' ' | b'\t') {
                at += 1;
            }
            continue;
        }
        return at;
    }
}

/// The scalars of a YAML file that hold commands, in file order.
pub(crate) fn command_scalars(text: &str) -> Vec<Scalar> {
    let file = text.as_bytes();
    let lines = lines_of(text);
    let mut out = Vec::new();
    // Open keys: (column, key).
    let mut stack: Vec<(usize, String)> = Vec::new();
    // A key with nothing after it, whose scalar may start on the next line.
    let mut pending: Option<(usize, String)> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let indent = indent_of(file, l);
        let at = l.start + indent;
        if is_blank(file, l) || file[at] == b'#' {
            i += 1;
            continue;
        }
        let content = &file[at..l.end];
        if indent == 0 && (content.starts_with(b"---") || content.starts_with(b"...")) {
            stack.clear();
            pending = None;
            i += 1;
            continue;
        }
        if let Some((col, key)) = pending.take() {
            if indent > col
                && !(content.starts_with(b"-") && content.get(1).is_none_or(|c| *c == b' '))
                && split_key(file, at, l.end).is_none()
            {
                let (scalar, next) = read_value(file, &lines, i, at, col, &key);
                if commands_under(&key, file[at]) {
                    out.extend(scalar);
                }
                i = next;
                continue;
            }
        }
        // List item markers (`- `, `- - `).
        let mut rest = at;
        let mut item = false;
        while rest < l.end
            && file[rest] == b'-'
            && (rest + 1 == l.end || matches!(file[rest + 1], b' ' | b'\t'))
        {
            item = true;
            rest += 1;
            while rest < l.end && matches!(file[rest], b' ' | b'\t') {
                rest += 1;
            }
        }
        if item {
            stack.retain(|(c, _)| *c <= indent);
        }
        if rest >= l.end || file[rest] == b'#' {
            i += 1;
            continue;
        }
        match split_key(file, rest, l.end) {
            Some((key, after)) => {
                let col = rest - l.start;
                stack.retain(|(c, _)| *c < col);
                stack.push((col, key.clone()));
                let v = value_start(file, after, l.end);
                if v >= l.end || file[v] == b'#' {
                    pending = Some((col, key));
                    i += 1;
                    continue;
                }
                let (scalar, next) = read_value(file, &lines, i, v, col, &key);
                if commands_under(&key, file[v]) {
                    out.extend(scalar);
                }
                i = next;
            }
            None if item => {
                let list = stack.last().map(|(_, k)| k.clone()).unwrap_or_default();
                let v = value_start(file, rest, l.end);
                let (scalar, next) = read_value(file, &lines, i, v, indent, &list);
                if LIST_KEYS.contains(&list.as_str()) {
                    out.extend(scalar);
                }
                i = next;
            }
            None => i += 1,
        }
    }
    out
}

/// Whether a value that starts with byte `first` under `key` holds commands: a script key's
/// value, or a flow sequence under a script or script-list key, but `command:`, whose flow
/// sequence is one command's argument vector (Kubernetes, Compose: `command: ["az", "aks"]`).
fn commands_under(key: &str, first: u8) -> bool {
    if first == b'[' {
        return key != "command" && (SCRIPT_KEYS.contains(&key) || LIST_KEYS.contains(&key));
    }
    SCRIPT_KEYS.contains(&key)
}

/// Reads the value that starts at `at` on line `i`, whose parent node is at column `parent`.
/// Returns the scalar (if it is one this module reads) and the line after it.
fn read_value(
    file: &[u8],
    lines: &[Line],
    i: usize,
    at: usize,
    parent: usize,
    key: &str,
) -> (Vec<Scalar>, usize) {
    let (scalar, next) = match file[at] {
        b'|' | b'>' => block(file, lines, i, at, parent, key),
        q @ (b'"' | b'\'') => quoted(file, lines, i, at, q, key),
        b'[' if commands_under(key, b'[') => return flow_sequence(file, lines, i, at, key),
        b'[' | b'{' => (None, skip_flow(file, lines, i, at)),
        b'*' => (None, i + 1),
        _ => plain(file, lines, i, at, parent, key),
    };
    (scalar.into_iter().collect(), next)
}

/// The scalar items of a flow sequence (`[ "az ...", az ... ]`) opening at `at` on line `i`
/// under a script key: each quoted or plain item is a command, read as YAML reads it in flow
/// context (plain items end at `,` `[` `]` `{` `}` or a comment, their line breaks folded).
/// Nested collections and `key: value` items are not read. Returns the scalars and the line
/// after the sequence; one that never closes gives none.
fn flow_sequence(
    file: &[u8],
    lines: &[Line],
    i: usize,
    at: usize,
    key: &str,
) -> (Vec<Scalar>, usize) {
    let line_of = |off: usize| lines.partition_point(|l| l.start <= off).saturating_sub(1);
    let unclosed = || (Vec::new(), skip_flow(file, lines, i, at));
    let mut out = Vec::new();
    let mut k = at + 1;
    loop {
        let Some(next) = skip_flow_space(file, k) else {
            return unclosed();
        };
        k = next;
        match file[k] {
            b']' => return (out, line_of(k) + 1),
            b',' => k += 1,
            q @ (b'"' | b'\'') => match quoted(file, lines, line_of(k), k, q, key) {
                (Some(s), _) => {
                    k = s.span.1 + 1;
                    // `"a": b` is a mapping, not a command.
                    match skip_flow_space(file, k) {
                        Some(n) if file[n] == b':' => match skip_item(file, n) {
                            Some(n) => k = n,
                            None => return unclosed(),
                        },
                        _ => out.push(s),
                    }
                }
                (None, _) => return unclosed(),
            },
            b'[' | b'{' | b'}' => match skip_item(file, k) {
                Some(n) => k = n,
                None => return unclosed(),
            },
            _ => match flow_plain(file, k, key) {
                Some((s, n)) => {
                    out.extend(s);
                    k = n;
                }
                None => return unclosed(),
            },
        }
    }
}

/// Skips blank space, line breaks and comments inside a flow collection.
fn skip_flow_space(file: &[u8], mut k: usize) -> Option<usize> {
    loop {
        match file.get(k)? {
            b' ' | b'\t' | b'\r' | b'\n' => k += 1,
            b'#' if k == 0 || matches!(file[k - 1], b' ' | b'\t' | b'\r' | b'\n') => {
                k += file[k..].iter().position(|c| *c == b'\n')?;
            }
            _ => return Some(k),
        }
    }
}

/// Skips the rest of a flow item from `k` (nested collections and quotes included), to the
/// `,` or closing `]` that ends it.
fn skip_item(file: &[u8], mut k: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    while let Some(&c) = file.get(k) {
        match quote {
            Some(b'"') if c == b'\\' => k += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'"' | b'\'' => quote = Some(c),
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth > 0 => depth -= 1,
                b']' | b',' if depth == 0 => return Some(k),
                b'#' if k > 0 && matches!(file[k - 1], b' ' | b'\t') => {
                    k += file[k..].iter().position(|c| *c == b'\n')?;
                }
                _ => {}
            },
        }
        k += 1;
    }
    None
}

/// A plain scalar inside a flow collection, from `at`: the scalar (none for a `key: value`
/// item) and where the item ends.
fn flow_plain(file: &[u8], at: usize, key: &str) -> Option<(Option<Scalar>, usize)> {
    let mut b = Builder::default();
    let mut k = at;
    loop {
        let c = *file.get(k)?;
        match c {
            b',' | b']' | b'[' | b'{' | b'}' => break,
            b'#' if matches!(file[k - 1], b' ' | b'\t') => break,
            b':' if file
                .get(k + 1)
                .is_none_or(|n| matches!(n, b' ' | b'\t' | b'\r' | b'\n' | b',' | b']')) =>
            {
                return Some((None, skip_item(file, k)?));
            }
            b'\r' | b'\n' => {
                // A line break: folded into a space, or kept per empty line.
                b.trim_end();
                let brk = b.src.last().map_or(at, |s| s.1);
                let mut empties = 0usize;
                let mut n = k;
                loop {
                    while matches!(file.get(n), Some(b'\r')) {
                        n += 1;
                    }
                    if file.get(n) != Some(&b'\n') {
                        break;
                    }
                    n += 1;
                    while matches!(file.get(n), Some(b' ' | b'\t')) {
                        n += 1;
                    }
                    empties += 1;
                }
                let empties = empties.saturating_sub(1);
                if matches!(file.get(n), None | Some(b',' | b']' | b'}' | b'#')) {
                    k = n;
                    break;
                }
                b.fold(empties, brk);
                k = n;
            }
            _ => {
                b.copy(file, k, k + 1);
                k += 1;
            }
        }
    }
    b.trim_end();
    if b.text.is_empty() {
        return Some((None, k));
    }
    let end = b.src.last().map_or(at, |s| s.1);
    Some((Some(b.finish((at, end), Style::Plain, key)), k))
}

/// A literal (`|`) or folded (`>`) block scalar whose header is at `at`.
fn block(
    file: &[u8],
    lines: &[Line],
    i: usize,
    at: usize,
    parent: usize,
    key: &str,
) -> (Option<Scalar>, usize) {
    let folded = file[at] == b'>';
    let header = &file[at + 1..lines[i].end];
    let explicit = header
        .iter()
        .take_while(|c| !matches!(c, b' ' | b'\t' | b'#'))
        .find(|c| c.is_ascii_digit())
        .map(|c| usize::from(c - b'0'));
    // The block's lines: blank ones, or indented past the parent.
    let mut indent = explicit.map(|d| parent + d);
    let mut last = None;
    let mut j = i + 1;
    while j < lines.len() {
        let l = lines[j];
        if is_blank(file, l) {
            j += 1;
            continue;
        }
        let n = indent_of(file, l);
        let want = *indent.get_or_insert(n);
        if n < want || n <= parent {
            break;
        }
        last = Some(j);
        j += 1;
    }
    let (Some(last), Some(indent)) = (last, indent) else {
        return (None, i + 1);
    };
    let first = i + 1;
    let mut b = Builder::default();
    if !folded {
        b.copy(file, lines[first].start, lines[last].next);
    } else {
        let more = |l: Line| {
            file.get(l.start + indent)
                .is_some_and(|c| *c == b' ' || *c == b'\t')
        };
        let mut prev: Option<Line> = None;
        let mut empties = 0usize;
        for l in &lines[first..=last] {
            if is_blank(file, *l) {
                empties += 1;
                continue;
            }
            if let Some(p) = prev {
                if empties == 0 && !more(p) && !more(*l) {
                    b.put(" ", p.end, p.end);
                } else {
                    let n = if more(p) || more(*l) {
                        empties + 1
                    } else {
                        empties.max(1)
                    };
                    for _ in 0..n {
                        b.put("\n", p.end, p.end);
                    }
                }
            }
            b.copy(file, (l.start + indent).min(l.end), l.end);
            prev = Some(*l);
            empties = 0;
        }
        if let Some(p) = prev {
            b.put("\n", p.end, p.end);
        }
    }
    let span = (lines[first].start, lines[last].end);
    let style = if folded {
        Style::Folded
    } else {
        Style::Literal
    };
    (Some(b.finish(span, style, key)), last + 1)
}

/// A plain scalar starting at `at` on line `i`: its line, and the lines after it indented
/// past `parent`, folded; it ends at a comment.
fn plain(
    file: &[u8],
    lines: &[Line],
    i: usize,
    at: usize,
    parent: usize,
    key: &str,
) -> (Option<Scalar>, usize) {
    let mut b = Builder::default();
    let comment = |from: usize, l: Line| {
        (from..l.end)
            .find(|&k| file[k] == b'#' && (k == from || matches!(file[k - 1], b' ' | b'\t')))
    };
    let end_of = |from: usize, l: Line| comment(from, l).unwrap_or(l.end);
    let first_end = end_of(at, lines[i]);
    b.copy(file, at, first_end);
    b.trim_end();
    let mut span_end = at + b.text.len();
    let mut j = i + 1;
    let mut empties = 0usize;
    let mut last = i;
    if comment(at, lines[i]).is_none() {
        while j < lines.len() {
            let l = lines[j];
            if is_blank(file, l) {
                empties += 1;
                j += 1;
                continue;
            }
            let n = indent_of(file, l);
            let from = l.start + n;
            if n <= parent || file[from] == b'#' || split_key(file, from, l.end).is_some() {
                break;
            }
            let brk = b.src.last().map_or(at, |s| s.1);
            b.fold(empties, brk);
            let e = end_of(from, l);
            b.copy(file, from, e);
            b.trim_end();
            span_end = b.src.last().map_or(span_end, |s| s.1);
            empties = 0;
            last = j;
            j += 1;
            if comment(from, l).is_some() {
                break;
            }
        }
    }
    if b.text.is_empty() {
        return (None, last + 1);
    }
    (Some(b.finish((at, span_end), Style::Plain, key)), last + 1)
}

/// A quoted scalar opening at `at` with quote `q`: unescaped, its line breaks folded.
/// One that never closes is not read.
fn quoted(
    file: &[u8],
    lines: &[Line],
    i: usize,
    at: usize,
    q: u8,
    key: &str,
) -> (Option<Scalar>, usize) {
    let mut b = Builder::default();
    let mut k = at + 1;
    let mut line = i;
    loop {
        let l = lines[line];
        if k >= l.end {
            // A line break inside the quotes: folded, unless escaped (handled below).
            b.trim_end();
            let mut empties = 0;
            let mut next = line + 1;
            while next < lines.len() && is_blank(file, lines[next]) {
                empties += 1;
                next += 1;
            }
            if next >= lines.len() {
                return (None, lines.len());
            }
            let brk = l.end;
            b.fold(empties, brk);
            line = next;
            let nl = lines[line];
            k = nl.start;
            while k < nl.end && matches!(file[k], b' ' | b'\t') {
                k += 1;
            }
            continue;
        }
        let c = file[k];
        if c == q {
            if q == b'\'' && file.get(k + 1) == Some(&b'\'') && k + 1 < l.end {
                b.put("'", k, k + 2);
                k += 2;
                continue;
            }
            return (Some(b.finish((at + 1, k), quoted_style(q), key)), line + 1);
        }
        if q == b'"' && c == b'\\' {
            if k + 1 >= l.end {
                // An escaped line break: joined without a space.
                line += 1;
                if line >= lines.len() {
                    return (None, lines.len());
                }
                let nl = lines[line];
                k = nl.start;
                while k < nl.end && matches!(file[k], b' ' | b'\t') {
                    k += 1;
                }
                continue;
            }
            let (decoded, len) = unescape(&file[k + 1..l.end]);
            let mut buf = [0u8; 4];
            b.put(decoded.encode_utf8(&mut buf), k, k + 1 + len);
            k += 1 + len;
            continue;
        }
        b.copy(file, k, k + 1);
        k += 1;
    }
}

fn quoted_style(q: u8) -> Style {
    if q == b'"' {
        Style::DoubleQuoted
    } else {
        Style::SingleQuoted
    }
}

/// A double-quoted escape after its backslash: the char, and how many bytes it takes.
fn unescape(s: &[u8]) -> (char, usize) {
    let hex = |n: usize| {
        s.get(1..1 + n)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .map(|v| (char::from_u32(v).unwrap_or('\u{fffd}'), 1 + n))
    };
    let simple = |c: char| (c, 1);
    match s.first().copied() {
        Some(b'0') => simple('\0'),
        Some(b'a') => simple('\u{7}'),
        Some(b'b') => simple('\u{8}'),
        Some(b't' | b'\t') => simple('\t'),
        Some(b'n') => simple('\n'),
        Some(b'v') => simple('\u{b}'),
        Some(b'f') => simple('\u{c}'),
        Some(b'r') => simple('\r'),
        Some(b'e') => simple('\u{1b}'),
        Some(b' ') => simple(' '),
        Some(b'"') => simple('"'),
        Some(b'/') => simple('/'),
        Some(b'\\') => simple('\\'),
        Some(b'N') => simple('\u{85}'),
        Some(b'_') => simple('\u{a0}'),
        Some(b'L') => simple('\u{2028}'),
        Some(b'P') => simple('\u{2029}'),
        Some(b'x') => hex(2).unwrap_or(('\u{fffd}', 1)),
        Some(b'u') => hex(4).unwrap_or(('\u{fffd}', 1)),
        Some(b'U') => hex(8).unwrap_or(('\u{fffd}', 1)),
        // Not an escape YAML knows: the document is invalid; keep the text.
        Some(c) if c.is_ascii() => (c as char, 1),
        _ => ('\u{fffd}', 0),
    }
}

/// Skips a flow collection opening at `at`; returns the line after it.
fn skip_flow(file: &[u8], lines: &[Line], i: usize, at: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut line = i;
    let mut k = at;
    while line < lines.len() {
        let l = lines[line];
        while k < l.end {
            let c = file[k];
            match quote {
                Some(q) if c == q => quote = None,
                Some(b'"') if c == b'\\' => k += 1,
                Some(_) => {}
                None => match c {
                    b'"' | b'\'' => quote = Some(c),
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return line + 1;
                        }
                    }
                    b'#' if k > 0 && matches!(file[k - 1], b' ' | b'\t') => break,
                    _ => {}
                },
            }
            k += 1;
        }
        line += 1;
        if let Some(n) = lines.get(line) {
            k = n.start;
        }
    }
    lines.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(String, Style, String)> {
        command_scalars(text)
            .into_iter()
            .map(|s| (s.key.clone(), s.style, s.text.clone()))
            .collect()
    }

    #[test]
    fn flow_sequences_under_script_keys_hold_commands() {
        let p = |t: &str| ("script".to_string(), Style::Plain, t.to_string());
        let text = "script: [ \"az a\", 'az b', az c\n    --d,\n\n  az e  # c\n  , [az nested], {k: v}, k2: v2, az f ]\nnext: x\n";
        let got = values(text);
        assert_eq!(
            got,
            [
                (
                    "script".to_string(),
                    Style::DoubleQuoted,
                    "az a".to_string()
                ),
                (
                    "script".to_string(),
                    Style::SingleQuoted,
                    "az b".to_string()
                ),
                p("az c --d"),
                p("az e"),
                p("az f"),
            ]
        );
        // Spans point at each item in the file.
        for s in command_scalars(text) {
            let raw = &text[s.span.0..s.span.1];
            assert!(raw.starts_with(&s.text[..4]), "{raw:?}");
        }
        // Under `steps:` (a script-list key) too; not under other keys; an unclosed one
        // gives nothing and reading goes on after it.
        assert_eq!(values("steps: [az x]\n").len(), 1);
        assert!(values("docs: [az x]\nexamples: [\"az y\"]\n").is_empty());
        assert!(values("script: [az x, \"az y\n").is_empty());
        assert_eq!(values("script: [az x\nrun: az y\n").len(), 0);
        assert_eq!(values("script: [a, b]\nrun: az y\n").len(), 3);
    }

    #[test]
    fn every_style_is_read_as_yaml_reads_it() {
        let text = "steps:\n  - run: |\n      az one \\\n        --x\n    name: n\n  - run: >\n      az two\n      --y\n\n      echo\n  - run: az three\n      --z  # note\n  - run: \"az \\\"four\\\"\n      a\\\n      b\"\n  - run: 'it''s\n      five'\n";
        let got = values(text);
        assert_eq!(
            got,
            [
                (
                    "run".into(),
                    Style::Literal,
                    "      az one \\\n        --x\n".into()
                ),
                ("run".into(), Style::Folded, "az two --y\necho\n".into()),
                ("run".into(), Style::Plain, "az three --z".into()),
                ("run".into(), Style::DoubleQuoted, "az \"four\" ab".into()),
                ("run".into(), Style::SingleQuoted, "it's five".into()),
            ]
        );
        // Each byte maps back to where it was read.
        let s = &command_scalars(text)[3];
        let q = s.text.find('"').unwrap();
        assert_eq!(&text[s.start_of(q)..s.end_of(q + 1)], "\\\"");
    }

    #[test]
    fn list_items_are_commands_only_under_script_keys() {
        let text = "docs:\n  examples:\n    - az aks create\nscript:\n- az aks create -n a\n- - nested\nbefore_script:\n  - >-\n    az b\n    --c\nsteps:\n  - bash: az d\n    displayName: e\n  - plain step\nvariables:\n  - name: x\n";
        let got: Vec<String> = values(text).into_iter().map(|v| v.2).collect();
        assert_eq!(
            got,
            [
                "az aks create -n a",
                "nested",
                "az b --c\n",
                "az d",
                "plain step"
            ]
        );
    }

    #[test]
    fn keys_with_values_on_the_next_line_and_odd_layouts() {
        let text = "job:\n  script:\n    \"az x\"\n  run:\n    az y\n    z\n  command: [\"az\", \"w\"]\n  inlineScript: !!str |\n    az v\n  description: |\n    script: not a key\n---\nrun: &a az u # c\n";
        let got: Vec<String> = values(text).into_iter().map(|v| v.2).collect();
        assert_eq!(got, ["az x", "az y z", "    az v\n", "az u"]);
    }

    #[test]
    fn broken_yaml_never_panics() {
        for text in [
            "run: \"",
            "run: '",
            "run: |",
            "run: >\n",
            "- ",
            "-",
            "run: \"a\\",
            "run: [",
            ":",
            "run:\n",
            "run: \"\\u12\"",
            "run: \"é\\é\"",
            "run: |9\n x\n",
        ] {
            for s in command_scalars(text) {
                assert_eq!(s.src.len(), s.text.len());
                let _ = s.start_of(0);
                let _ = s.end_of(s.text.len());
            }
        }
    }
}
