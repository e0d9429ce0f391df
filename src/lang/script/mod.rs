//! Azure CLI scripts (`*.sh`, `*.bash`, `*.azcli`, `*.ps1`, pipeline `*.yml`/`*.yaml`, and
//! files without an extension whose `#!` line names a shell): finds the `az aks` commands
//! that turn on the Key Vault add-on without `--enable-secret-rotation` (or turn rotation
//! off), and plans the edit a person would make: the flag as its own argument, in the
//! command's style. [`yaml`] finds a pipeline's command scalars, [`lex`] reads commands,
//! [`az`] decides; this module turns verdicts into findings and edits (mapped back through a
//! YAML scalar to the file), and proves a fixed text before anything is written.
//! Scripts have no JSON Patch: [`Analysis::patch`] stays empty.

pub(crate) mod az;
pub(crate) mod lex;
pub(crate) mod yaml;

use crate::edit::{self, Edit};
use crate::error::Error;
use crate::finding::{manual_review_message, Analysis, Finding, FixSource, Quote, Remedy};
use crate::lang::style::line_start;
use crate::lang::{checks, Language, Options};
use crate::location::LineIndex;
use crate::run::read;
use az::{Head, Verdict, ADDON, DISABLE, ENABLE};
pub use lex::Dialect;
use lex::{Command, Cont, Script, Word};

/// Words a script must contain (ignoring ASCII case) to possibly need a fix.
pub(crate) const MARKERS: [&str; 2] = [ADDON, "disable-secret-rotation"];

/// True when the bytes mention a marker, in UTF-8 or (with a byte order mark) UTF-16, so that
/// a UTF-16 PowerShell script is reported rather than silently skipped.
pub(crate) fn mentions_rule(bytes: &[u8]) -> bool {
    read::mentions_any(bytes, &MARKERS)
}

/// The dialect a `#!` line names: `sh`, `bash`, `dash`, `ksh`, `zsh`, `ash`, `mksh`
/// (by path or through `env`, with `env`'s options and assignments) are shell; `pwsh` and
/// `powershell` are PowerShell. Anything else (python, node...) is `None`.
pub fn dialect_of_shebang(line: &[u8]) -> Option<Dialect> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let rest = std::str::from_utf8(line.strip_prefix(b"#!")?).ok()?;
    let mut words = rest.split_ascii_whitespace();
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let mut program = base(words.next()?);
    if program == "env" {
        program = loop {
            let w = words.next()?;
            if w.starts_with('-') || w.contains('=') {
                continue;
            }
            break base(w);
        };
    }
    match program.as_str() {
        "sh" | "bash" | "dash" | "ksh" | "zsh" | "ash" | "mksh" => Some(Dialect::Shell),
        "pwsh" | "powershell" => Some(Dialect::PowerShell),
        _ => None,
    }
}

/// The command texts armfix reads in a pipeline YAML file, decoded as YAML decodes them
/// (for tests that hold them against another YAML parser).
pub fn yaml_command_texts(text: &str) -> Vec<String> {
    yaml::command_scalars(text)
        .into_iter()
        .map(|s| s.text)
        .collect()
}

/// Scripts of one dialect as a [`Language`].
pub(crate) struct Scripts(pub(crate) Dialect);

impl Language for Scripts {
    fn may_concern(&self, bytes: &[u8]) -> bool {
        mentions_rule(bytes)
    }

    fn analyze(&self, text: &str, _: &Options) -> Result<Option<Analysis>, Error> {
        analyze_as(text, self.0)
    }

    fn verify(&self, original: &str, analysis: &Analysis, fixed: &str) -> Result<(), String> {
        verify_as(original, analysis, fixed, self.0)
    }

    fn has_json_patch(&self) -> bool {
        false
    }
}

/// Findings as they are found, with their line and column.
struct Findings<'t> {
    /// The file.
    text: &'t str,
    lines: Option<LineIndex>,
    analysis: Analysis,
    /// The YAML scalar whose text is being read (positions are in its text), if any.
    scalar: Option<&'t yaml::Scalar>,
}

impl Findings<'_> {
    /// The file's range for `start..end` of the text being read.
    fn span(&self, start: usize, end: usize) -> (usize, usize) {
        match self.scalar {
            None => (start, end),
            Some(s) if start == end => (s.end_of(end), s.end_of(end)),
            Some(s) => (s.start_of(start), s.end_of(end)),
        }
    }

    fn push(&mut self, start: usize, end: usize, message: String, remedy: Remedy) {
        let (start, end) = self.span(start, end);
        let text = self.text;
        let lines = self.lines.get_or_insert_with(|| LineIndex::new(text));
        let source = (remedy == Remedy::Fix).then_some(FixSource::Value);
        self.analysis.findings.push(Finding::placed(
            lines,
            text,
            (start, end),
            None,
            message,
            remedy,
            source,
        ));
    }

    fn fix(&mut self, at: &Word, message: String, edit: Edit) {
        self.push(at.start, at.end, message, Remedy::Fix);
        let (start, end) = self.span(edit.start, edit.end);
        self.analysis.edits.push(Edit {
            start,
            end,
            replacement: edit.replacement,
        });
    }

    /// Like [`Findings::fix`], with the edit already in the file's offsets.
    fn fix_in_file(&mut self, at: &Word, message: String, edit: Edit) {
        self.push(at.start, at.end, message, Remedy::Fix);
        self.analysis.edits.push(edit);
    }

    /// A finding for a human, about `start..end` of the text being read.
    fn review(&mut self, start: usize, end: usize, reason: String) {
        let (s, e) = self.span(start, end);
        let expression = self.text[s..e].trim_end().to_string();
        let message = manual_review_message(&reason, &expression, Quote::Plain);
        let remedy = Remedy::ManualReview {
            reason,
            expression: Some(expression).filter(|e| !e.is_empty()),
        };
        self.push(start, end, message, remedy);
    }
}

/// The texts a shell reads in a file: the whole file, or for pipeline YAML each scalar
/// that holds commands.
fn scripts_in(text: &str, dialect: Dialect) -> Vec<Option<yaml::Scalar>> {
    match dialect {
        Dialect::Yaml => yaml::command_scalars(text).into_iter().map(Some).collect(),
        _ => vec![None],
    }
}

/// Analyses a script. `Ok(None)`: no command concerns the rule. Never fails: what cannot be
/// read is reported for manual review.
pub fn analyze_as(text: &str, dialect: Dialect) -> Result<Option<Analysis>, Error> {
    let scalars = scripts_in(text, dialect);
    let mut out = Findings {
        text,
        lines: None,
        analysis: Analysis::default(),
        scalar: None,
    };
    let mut relevant = false;
    for scalar in &scalars {
        out.scalar = scalar.as_ref();
        let script = scalar.as_ref().map_or(text, |s| s.text.as_str());
        relevant |= analyze_text(&mut out, script, dialect);
    }
    if !relevant {
        return Ok(None);
    }
    let mut analysis = out.analysis;
    analysis.findings.sort_by_key(|f| f.start);
    analysis.edits.sort_by_key(|e| (e.start, e.end));
    Ok(Some(analysis))
}

/// Reads the commands of one script text into `out`. Returns whether any concerns the rule.
fn analyze_text(out: &mut Findings, text: &str, dialect: Dialect) -> bool {
    let script = lex::lex(text, dialect);
    let mut relevant = false;
    let line_end = |at: usize| text[at..].find('\n').map_or(text.len(), |i| at + i);
    // A shell stops reading at a quote or substitution that never closes: nothing after it
    // is a command armfix may edit (the quote itself is reported below).
    let readable_until = script.unterminated.iter().copied().min();
    for cmd in &script.commands {
        let w = &cmd.words;
        if readable_until.is_some_and(|u| w.first().is_some_and(|f| f.start >= u)) {
            continue;
        }
        if let Some(at) = broken_quote(&script, cmd) {
            // Never edited. An unterminated quote is reported below; a YAML quote cut at the
            // end of its line is reported here when the command may concern the rule.
            let span = &text[w[0].start..w[w.len() - 1].end];
            if !script.unterminated.contains(&at)
                && az::head(cmd, dialect) != Head::Other
                && read::mentions_any(span.as_bytes(), &MARKERS)
            {
                relevant = true;
                let reason = "a quote in this command does not close where it should, so \
                              armfix cannot read the command";
                out.review(at, line_end(at), reason.into());
            }
            continue;
        }
        let (verdict, sub, args) = match az::head(cmd, dialect) {
            Head::Other => {
                if let Some((from, to, runner)) = az::runs_text(cmd, dialect) {
                    relevant |= review_inner(out, &w[from..to], &runner, cmd.body);
                }
                continue;
            }
            Head::Dynamic { at } => {
                relevant = true;
                let reason = format!(
                    "the `az` command line is built at run time; if it turns on {ADDON}, it \
                     must pass {ENABLE}"
                );
                out.review(w[at].start, w[at].end, reason);
                continue;
            }
            Head::Az { sub, args } => match az::decide(w, sub, args) {
                None => continue,
                Some(v) => (in_body(cmd, sub, v), sub, args),
            },
        };
        relevant = true;
        match verdict {
            Verdict::Pass => {}
            Verdict::Add { addon } => {
                let message = format!("`{}` turns on {ADDON} without {ENABLE}", sub.name());
                match folded_flag(out, w, args, addon) {
                    Some(edit) => out.fix_in_file(&w[addon], message, edit),
                    None => match add_flag(text, &script.conts, w, args, addon) {
                        Some(edit) => out.fix(&w[addon], message, edit),
                        None => {
                            let reason = format!(
                                "{message}, and its words end in an escape character that \
                                 escapes nothing, so armfix cannot add the flag after them; \
                                 add {ENABLE} by hand"
                            );
                            out.review(w[addon].start, w[addon].end, reason);
                        }
                    },
                }
            }
            Verdict::Replace { word } => {
                let message = format!("`{}` passes {DISABLE}; it must pass {ENABLE}", sub.name());
                let edit = Edit::replace(w[word].start, w[word].end, ENABLE);
                out.fix(&w[word], message, edit);
            }
            Verdict::Review { at, reason } => out.review(w[at].start, w[at].end, reason),
        }
    }
    if let Some(at) = readable_until {
        if read::mentions_any(&text.as_bytes()[at..], &MARKERS) {
            relevant = true;
            let reason = "a quote or substitution opened here never closes, so armfix cannot \
                          read the commands after it";
            out.review(at, line_end(at), reason.into());
        }
    }
    relevant
}

/// Commands inside a string another program runs (`bash -c '...'`, `ssh host "..."`,
/// `eval`) are read as a shell would read the string; what they need is for a human, as in
/// a heredoc: armfix does not edit inside another program's text. Returns whether any
/// concerns the rule.
fn review_inner(out: &mut Findings, words: &[Word], runner: &str, body: Option<lex::Body>) -> bool {
    let text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if !read::mentions_any(text.as_bytes(), &MARKERS) {
        return false;
    }
    let dialect = if matches!(runner, "pwsh" | "powershell") {
        Dialect::PowerShell
    } else {
        Dialect::Shell
    };
    let Ok(Some(inner)) = analyze_as(&text, dialect) else {
        return false;
    };
    let (start, end) = (words[0].start, words[words.len() - 1].end);
    let place = match body {
        Some(b) => format!(" (itself inside {})", b.name()),
        None => String::new(),
    };
    for f in &inner.findings {
        let what = match &f.remedy {
            Remedy::Fix => f.message.clone(),
            Remedy::ManualReview { reason, .. } => reason.clone(),
        };
        out.review(
            start,
            end,
            format!(
                "a command in the text that `{runner}` runs{place}: {what}; armfix does not \
                 edit inside another program's text, so change it there"
            ),
        );
    }
    !inner.findings.is_empty()
}

/// The first quote in the command that does not close where it should.
fn broken_quote(script: &Script, cmd: &Command) -> Option<usize> {
    let (first, last) = (cmd.words.first()?, cmd.words.last()?);
    script
        .broken
        .iter()
        .copied()
        .find(|&at| at >= first.start && at < last.end)
}

/// A command inside a heredoc or here-string is text for another program: a fix becomes a
/// request for review.
fn in_body(cmd: &Command, sub: az::Sub, verdict: Verdict) -> Verdict {
    let Some(body) = cmd.body else {
        return verdict;
    };
    let (at, what) = match verdict {
        Verdict::Add { addon } => (addon, format!("pass {ENABLE} there")),
        Verdict::Replace { word } => (word, format!("pass {ENABLE} there instead")),
        other => return other,
    };
    Verdict::Review {
        at,
        reason: format!(
            "`{}` is inside {}, text another program reads, so armfix does not edit it; {what}",
            sub.name(),
            body.name()
        ),
    }
}

/// The edit that adds `--enable-secret-rotation` to a command whose add-on list is word
/// `addon`. A continued command gets a line of its own, shaped like its neighbours (same
/// indentation, same mark, same space before it or the same mark column, same line break),
/// right after the line that turns the add-on on, or just before it when that line ends the
/// command; it goes before a line that starts with an option, so no option is parted from
/// its value. A one-line command gets ` --enable-secret-rotation` after its last argument,
/// so trailing comments, redirections, pipes and `)` stay where they are.
fn add_flag(text: &str, conts: &[Cont], words: &[Word], args: usize, addon: usize) -> Option<Edit> {
    let last = words.last()?;
    // Lines that start with an option and continue the line before them.
    let candidates: Vec<(usize, &Cont)> = (args..words.len())
        .filter(|&i| words[i].literal().is_some_and(|t| t.starts_with('-')))
        .filter_map(|i| {
            let ls = line_start(text, words[i].start);
            let indent = &text[ls..words[i].start];
            if !indent.bytes().all(|b| b == b' ' || b == b'\t') {
                return None;
            }
            conts.iter().find(|c| c.eol_end == ls).map(|c| (i, c))
        })
        .collect();
    let anchor_line = line_start(text, words[addon].start);
    let chosen = candidates
        .iter()
        .find(|(i, _)| line_start(text, words[*i].start) > anchor_line)
        .or_else(|| candidates.last());
    let Some(&(i, cont)) = chosen else {
        // After the last word, or after the add-on list when the last word ends in a lone
        // escape character (a `\` at the end of the text), which would escape the space;
        // or in an escaped blank (in YAML the blank may be a folded line break, which is
        // after the insertion point in the file: the escape would take the new space).
        let after = [last, &words[addon]].into_iter().find(|w| {
            !text[..w.end].ends_with(['\\', '`'])
                && !text[..w.end]
                    .strip_suffix([' ', '\t', '\n'])
                    .is_some_and(|t| t.ends_with(['\\', '`']))
        })?;
        return Some(Edit::insert(after.end, format!(" {ENABLE}")));
    };
    let ls = line_start(text, words[i].start);
    let indent = &text[ls..words[i].start];
    let mark = &text[cont.mark..cont.eol_start];
    let eol = &text[cont.eol_start..cont.eol_end];
    let before_mark = |c: &Cont| {
        let line = &text[line_start(text, c.mark)..c.mark];
        let body = line.trim_end_matches([' ', '\t']);
        (
            body.chars().count(),
            line.chars().count(),
            &line[body.len()..],
        )
    };
    // Marks aligned in a column (at least two, some padded) keep their column.
    let own: Vec<(usize, usize, &str)> = conts
        .iter()
        .filter(|c| c.mark > words[0].start && c.mark < last.end)
        .map(before_mark)
        .collect();
    let width = indent.chars().count() + ENABLE.len();
    let aligned = own.len() >= 2
        && own.iter().all(|(_, col, _)| *col == own[0].1)
        && own.iter().any(|(_, _, gap)| gap.len() > 1);
    let gap = if aligned && own[0].1 > width {
        " ".repeat(own[0].1 - width)
    } else {
        let (_, _, gap) = before_mark(cont);
        if gap.is_empty() {
            " ".to_string()
        } else {
            gap.to_string()
        }
    };
    Some(Edit::insert(
        ls,
        format!("{indent}{ENABLE}{gap}{mark}{eol}"),
    ))
}

/// In a YAML scalar whose line breaks fold into spaces (a folded block, or a plain or
/// quoted scalar over several lines), a command with an option at the start of a line after
/// its add-on line gets the flag as a line of its own before that option, with its
/// indentation and line break; when the add-on line is the command's last and starts with
/// an option (not on the scalar's first line), just before it. YAML folds the new line
/// into a space, so the command reads the flag as one more argument. Returns the edit in
/// the file's offsets; `None`: the flag goes after the last argument instead.
fn folded_flag(out: &Findings, words: &[Word], args: usize, addon: usize) -> Option<Edit> {
    let s = out.scalar.filter(|s| s.style != yaml::Style::Literal)?;
    let file = out.text;
    let first_line = line_start(file, s.span.0);
    let addon_line = line_start(file, s.start_of(words[addon].start));
    // Option words that start their line, after the scalar's first line.
    let starts_line = |j: usize| {
        let at = s.start_of(words[j].start);
        let ls = line_start(file, at);
        let opens = words[j].literal().is_some_and(|t| t.starts_with('-'));
        let blank = file[ls..at].bytes().all(|b| b == b' ');
        (opens && blank && ls > first_line && at < s.span.1).then_some((ls, at))
    };
    let after = (args..words.len())
        .filter_map(starts_line)
        .find(|(ls, _)| *ls > addon_line);
    // The option whose value is the add-on list, when it starts the add-on line.
    let own = || {
        (args..=addon)
            .rev()
            .take(2)
            .filter_map(starts_line)
            .find(|(ls, _)| *ls == addon_line)
    };
    let (ls, at) = after.or_else(own)?;
    let eol = if file[..ls].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let indent = &file[ls..at];
    Some(Edit::insert(ls, format!("{indent}{ENABLE}{eol}")))
}

/// Proves a fix of a script before it is written: the edits are all that changed, each adds
/// or restores `--enable-secret-rotation` and only blank space, line breaks and continuation
/// marks around it; every command reads the same words as before but for the rotation flag;
/// and the fixed text has no fixable finding left.
pub fn verify_as(
    original: &str,
    analysis: &Analysis,
    fixed: &str,
    dialect: Dialect,
) -> Result<(), String> {
    checks::untouched_outside_edits(original, &analysis.edits, fixed)?;
    for e in &analysis.edits {
        let rest = e.replacement.replacen(ENABLE, "", 1);
        if rest.len() == e.replacement.len()
            || !rest
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | '\r' | '\n' | '\\' | '`'))
        {
            return Err(format!(
                "the edit at byte {} does more than add {ENABLE}",
                e.start
            ));
        }
    }
    let (before, after) = (scripts_in(original, dialect), scripts_in(fixed, dialect));
    if before.len() != after.len() {
        return Err(format!(
            "the fix changed the number of YAML scalars that hold commands ({} to {})",
            before.len(),
            after.len()
        ));
    }
    for (b, a) in before.iter().zip(&after) {
        if let (Some(b), Some(a)) = (b, a) {
            if (b.style, &b.key) != (a.style, &a.key) {
                return Err(format!(
                    "the fix changed a YAML scalar's style or key (`{}` at byte {})",
                    b.key, b.span.0
                ));
            }
        }
        let text = |s: &Option<yaml::Scalar>, whole: &str| {
            s.as_ref().map_or(whole.to_string(), |s| s.text.clone())
        };
        let before = lex::lex(&text(b, original), dialect);
        let after = lex::lex(&text(a, fixed), dialect);
        same_commands(&before, &after, dialect)?;
    }
    // In YAML, each edit lies inside a scalar that holds commands: the document around the
    // scalars is untouched.
    if dialect == Dialect::Yaml {
        for e in &analysis.edits {
            let inside = before
                .iter()
                .flatten()
                .any(|s| s.span.0 <= e.start && e.end <= s.span.1);
            if !inside {
                return Err(format!(
                    "the edit at byte {} is outside the YAML scalars that hold commands",
                    e.start
                ));
            }
        }
    }
    let again = analyze_as(fixed, dialect)
        .map_err(|e| format!("the fixed text cannot be re-read: {e}"))?
        .unwrap_or_default();
    checks::nothing_left(analysis, &again)?;
    // The edits are text; prove they are the ones applied.
    let applied = edit::apply(original, &analysis.edits)?;
    if applied != fixed {
        return Err("the fixed text is not the original with the edits".into());
    }
    Ok(())
}

/// Every command has the same words before and after, except that a fixed one passes
/// `--enable-secret-rotation` once more (or in place of `--disable-secret-rotation`), in the
/// same order, and now passes the rule: the flag is an argument of its own, not an option's
/// value.
fn same_commands(before: &Script, after: &Script, dialect: Dialect) -> Result<(), String> {
    if before.commands.len() != after.commands.len() {
        return Err(format!(
            "the fix changed the number of commands ({} to {})",
            before.commands.len(),
            after.commands.len()
        ));
    }
    let texts = |c: &Command| c.words.iter().map(|w| w.text.clone()).collect::<Vec<_>>();
    for (b_cmd, a_cmd) in before.commands.iter().zip(&after.commands) {
        let (b, a) = (texts(b_cmd), texts(a_cmd));
        if a == b {
            continue;
        }
        let added = a.len() == b.len() + 1
            && a.iter().filter(|w| *w == ENABLE).count() == 1
            && a.iter().filter(|w| *w != ENABLE).eq(b.iter());
        let replaced = a.len() == b.len() && {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            matches!(diff[..], [i] if b[i] == DISABLE && a[i] == ENABLE)
        };
        let passes = match az::head(a_cmd, dialect) {
            Head::Az { sub, args } => az::decide(&a_cmd.words, sub, args) == Some(Verdict::Pass),
            _ => false,
        };
        if !(added || replaced) || !passes {
            return Err(format!(
                "a command reads differently after the fix: `{}` became `{}`",
                b.join(" "),
                a.join(" ")
            ));
        }
    }
    Ok(())
}
