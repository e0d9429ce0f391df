//! Reads PSRule's own settings file (`ps-rule.yaml`) for what it says about this rule, so
//! armfix agrees with the team's PSRule run: whether the rule runs at all, which clusters it
//! is suppressed for, which paths are ignored, and how parameter files are linked.
//!
//! The file is looked for like `armfix.toml`: in the working folder, then each parent,
//! stopping after the folder that holds `.git`; in each folder the names PSRule itself tries,
//! in its order: `ps-rule.yaml`, `ps-rule.yml`, `psrule.yaml`, `psrule.yml`. Keys compare
//! ignoring case, as PSRule reads them. What armfix honours:
//!
//! - `rule.exclude` naming `Azure.AKS.SecretStoreRotation` (also module-qualified,
//!   `PSRule.Rules.Azure\Azure.AKS.SecretStoreRotation`, or by its ref `AZR-000034`), or a
//!   `rule.include` that does not name it: the rule is off, nothing is checked or fixed. As
//!   PSRule's `RuleFilter` reads it, an empty `include` filters nothing, and one item with a
//!   wildcard (`Azure.AKS.*`) is a pattern (PowerShell's, case-sensitive).
//! - `suppression` for the rule (a list of target names, or `targetName:` holding one): a
//!   cluster is left alone when its name (PSRule's target name for a template resource, as
//!   evaluated) is listed in every configuration that deploys it. Scripts are not read by
//!   PSRule, so suppression does not apply to them.
//! - Suppression groups (`kind: SuppressionGroup` in `.Rule.yaml|yml|json|jsonc` files under the
//!   settings' `include.path`, else `.ps-rule/`, beside the settings file) whose `rule` names
//!   the rule or is empty (PSRule: all rules), whose `type` lists the cluster type when given,
//!   and whose `expiresOn` has not passed: `if` is judged on each evaluated cluster by
//!   [`expr`] (PSRule's expression language). A group holds for a cluster only when its
//!   condition is known to hold: one that reads a value not known offline does not (a
//!   suppression that might not apply must not hide a failure; `--verbose` says why), and one
//!   armfix cannot evaluate is not applied, with a warning naming its file, line and column.
//!   A cluster is left alone when its name is listed, or a group holds, in every
//!   configuration that deploys it. A fix that would also change a suppressed cluster (a
//!   parameter default both read) is manual review; one that does not stays, and the
//!   suppressed clusters' findings do not count against it when it is verified. The same
//!   holds for a parameter file's fix: judged by the clusters of its templates it changes.
//! - `input.pathIgnore`: gitignore-style patterns (with `!` to re-include), relative to the
//!   settings file's folder; matching files are not read.
//! - `configuration.AZURE_PARAMETER_FILE_EXPANSION: false`,
//!   `AZURE_BICEP_PARAMS_FILE_EXPANSION: false`: JSON / `.bicepparam` parameter files are not
//!   linked. Only an explicit `false` turns linking off (PSRule's own default for JSON is off,
//!   but armfix links by default: a deployment uses its parameter files whether PSRule reads
//!   them or not). `AZURE_PARAMETER_FILE_METADATA_LINK: true`: JSON parameter files are linked
//!   only by `metadata.template`.
//!
//! `armfix.toml` and flags win over all of these; `--no-psrule-config` ignores the file.

mod expr;

use crate::location::LineIndex;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// The rule's name and ref, as PSRule settings name it.
pub(crate) const RULE_NAMES: [&str; 2] = ["Azure.AKS.SecretStoreRotation", "AZR-000034"];

/// The names looked for in each folder, in PSRule's order.
pub(crate) const FILE_NAMES: [&str; 4] =
    ["ps-rule.yaml", "ps-rule.yml", "psrule.yaml", "psrule.yml"];

/// What a `ps-rule.yaml` says about this rule.
#[derive(Debug, Default)]
pub(crate) struct PsRule {
    /// The file read.
    pub(crate) path: PathBuf,
    /// Why the rule is off (`rule.exclude` names it, or `rule.include` does not), if it is.
    pub(crate) excluded: Option<String>,
    /// Target names the rule is suppressed for, each with where it says so.
    pub(crate) suppressed: Vec<(String, String)>,
    /// `input.pathIgnore` as written, and built, rooted at the file's folder.
    pub(crate) path_ignore_list: Vec<String>,
    pub(crate) path_ignore: Option<ignore::gitignore::Gitignore>,
    pub(crate) parameter_file_expansion: Option<bool>,
    pub(crate) bicep_params_expansion: Option<bool>,
    pub(crate) metadata_link: Option<bool>,
    /// Suppression groups that apply to the rule.
    pub(crate) groups: Vec<Group>,
    /// Notes for `--verbose` (suppression groups not applied, and why).
    pub(crate) notes: Vec<String>,
    /// Warnings for stderr: suppression groups armfix cannot evaluate, with file:line:col.
    pub(crate) warnings: Vec<String>,
}

impl PsRule {
    /// Whether `path` is ignored by `input.pathIgnore`.
    pub(crate) fn ignores(&self, path: &Path) -> bool {
        let Some(gi) = &self.path_ignore else {
            return false;
        };
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        };
        let abs = crate::run::configurations::lexical_path(&abs);
        let Ok(rel) = abs.strip_prefix(gi.path()) else {
            return false;
        };
        gi.matched_path_or_any_parents(rel, abs.is_dir())
            .is_ignore()
    }

    /// Where the rule is suppressed for a target named `name`, if it is.
    pub(crate) fn suppression_of(&self, name: &str) -> Option<&str> {
        self.suppressed
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, why)| why.as_str())
    }
}

/// Finds the PSRule settings file for a run started in `start`.
pub(crate) fn discover(start: &Path) -> Option<PathBuf> {
    crate::settings::find_upward(start, &FILE_NAMES)
}

/// Reads a PSRule settings file. An error names the file, line and column.
pub(crate) fn load(path: &Path) -> Result<PsRule, String> {
    let text = std::fs::read(path)
        .map_err(|e| {
            format!(
                "{}: {}",
                path.display(),
                crate::run::discover::io_message(&e)
            )
        })
        .and_then(|b| {
            crate::run::read::decode(b)
                .map_err(|e| format!("{}: not UTF-8 (at byte {})", path.display(), e.offset))
        })?;
    let mut out = parse(&text).map_err(|(offset, message)| {
        let (line, col) = LineIndex::new(&text).line_col(&text, offset);
        format!("{}:{line}:{col}: {message}", path.display())
    })?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let abs_dir = std::fs::canonicalize(&dir).unwrap_or(dir.clone());
    // Shown relative to the working folder, as every other path.
    out.path = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    if let Some(patterns) = &out.path_ignore_patterns() {
        let mut b = ignore::gitignore::GitignoreBuilder::new(&abs_dir);
        for p in patterns {
            b.add_line(None, p)
                .map_err(|e| format!("{}: input.pathIgnore: {e}", path.display()))?;
        }
        out.path_ignore = Some(
            b.build()
                .map_err(|e| format!("{}: input.pathIgnore: {e}", path.display()))?,
        );
    }
    let root = YamlLoader::load_from_str(&text)
        .ok()
        .and_then(|d| d.into_iter().next());
    suppression_groups(&group_paths(root.as_ref(), &abs_dir), &mut out);
    Ok(out)
}

/// The parsed file, before its path-dependent parts are built.
fn parse(text: &str) -> Result<PsRule, (usize, String)> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        let m = e.marker();
        let offset = text
            .char_indices()
            .nth(m.index())
            .map_or(text.len(), |(i, _)| i);
        (offset, e.info().to_string())
    })?;
    let mut out = PsRule::default();
    let Some(root) = docs.into_iter().next() else {
        return Ok(out);
    };
    let rule = get(&root, "rule");
    if let Some(rule) = rule {
        let names = |key| strings(get(rule, key));
        if let Some(name) = names("exclude").into_iter().find(|n| names_rule(n)) {
            out.excluded = Some(format!("its rule.exclude lists {name}"));
        } else if !includes_rule(&names("include")) {
            out.excluded = Some("its rule.include does not list the rule".into());
        }
    }
    if let Some(Yaml::Hash(map)) = get(&root, "suppression") {
        for (k, v) in map {
            let Some(k) = k.as_str().filter(|k| names_rule(k)) else {
                continue;
            };
            let targets = match v {
                Yaml::Hash(_) => strings(get(v, "targetName")),
                other => strings(Some(other)),
            };
            for t in targets {
                out.suppressed
                    .push((t, format!("suppression.{k} lists it")));
            }
        }
    }
    let input = get(&root, "input");
    out.path_ignore_list = strings(input.and_then(|i| get(i, "pathIgnore")));
    if let Some(c) = get(&root, "configuration") {
        out.parameter_file_expansion = get(c, "AZURE_PARAMETER_FILE_EXPANSION").and_then(boolean);
        out.bicep_params_expansion = get(c, "AZURE_BICEP_PARAMS_FILE_EXPANSION").and_then(boolean);
        out.metadata_link = get(c, "AZURE_PARAMETER_FILE_METADATA_LINK").and_then(boolean);
    }
    Ok(out)
}

impl PsRule {
    fn path_ignore_patterns(&self) -> Option<Vec<String>> {
        (!self.path_ignore_list.is_empty()).then(|| self.path_ignore_list.clone())
    }
}

/// A suppression group that applies to the rule, with its condition parsed.
#[derive(Debug)]
pub(crate) struct Group {
    /// `metadata.name` and the file it is in, as shown in messages.
    pub(crate) label: String,
    pub(crate) condition: expr::Expr,
}

/// Where PSRule reads suppression groups from: `include.path` (files or folders, relative to
/// the settings file's folder) when set, else `.ps-rule/`.
fn group_paths(root: Option<&Yaml>, dir: &Path) -> Vec<PathBuf> {
    let include = strings(
        root.and_then(|r| get(r, "include"))
            .and_then(|i| get(i, "path")),
    );
    if include.is_empty() {
        return vec![dir.join(".ps-rule")];
    }
    include.iter().map(|p| dir.join(p)).collect()
}

/// Reads the suppression groups (in `.Rule.yaml|yml|json|jsonc` files under `paths`) that apply
/// to the rule: `spec.rule` names it or is empty (PSRule: "if no rules are specified,
/// suppression will occur for all rules"), `spec.type` (when given) lists the cluster type,
/// and `spec.expiresOn` is not past.
fn suppression_groups(paths: &[PathBuf], out: &mut PsRule) {
    let mut files: Vec<PathBuf> = Vec::new();
    let is_rule_file = |p: &Path| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        [".rule.yaml", ".rule.yml", ".rule.json", ".rule.jsonc"]
            .iter()
            .any(|e| n.ends_with(e))
    };
    for path in paths {
        if path.is_file() {
            if is_rule_file(path) {
                files.push(path.clone());
            }
            continue;
        }
        if !path.is_dir() {
            continue;
        }
        for entry in ignore::WalkBuilder::new(path)
            .standard_filters(false)
            .build()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_some_and(|t| t.is_file()) && is_rule_file(entry.path()) {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    files.dedup();
    let now = now();
    for file in files {
        let relative = std::env::current_dir()
            .ok()
            .and_then(|cwd| std::fs::canonicalize(cwd).ok())
            .and_then(|cwd| file.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| file.clone());
        let shown = crate::run::engine::display(&crate::run::discover::Candidate::File(relative));
        let Ok(text) = std::fs::read_to_string(&file) else {
            out.warnings.push(format!(
                "{shown}: cannot be read; its suppression groups are not applied"
            ));
            continue;
        };
        let json = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("jsonc"));
        let loaded = if json {
            json_documents(&text)
        } else {
            YamlLoader::load_from_str(&text).map_err(|e| {
                let m = e.marker();
                (m.line(), m.col() + 1, e.info().to_string())
            })
        };
        let docs = match loaded {
            Ok(docs) => docs,
            Err((line, col, info)) => {
                out.warnings.push(format!(
                    "{shown}:{line}:{col}: {info}; its suppression groups are not applied"
                ));
                continue;
            }
        };
        let starts = if json {
            // Each group from where its name is written.
            docs.iter()
                .map(|d| {
                    get(d, "metadata")
                        .and_then(|m| get(m, "name"))
                        .and_then(Yaml::as_str)
                        .and_then(|n| text.find(&format!("\"{n}\"")))
                        .unwrap_or(0)
                })
                .collect()
        } else {
            document_starts(&text, docs.len())
        };
        for (doc, start) in docs.iter().zip(starts) {
            let kind = get(doc, "kind").and_then(Yaml::as_str);
            if !kind.is_some_and(|k| k.eq_ignore_ascii_case("SuppressionGroup")) {
                continue;
            }
            let name = get(doc, "metadata")
                .and_then(|m| get(m, "name"))
                .and_then(Yaml::as_str)
                .unwrap_or("?")
                .to_string();
            let Some(spec) = get(doc, "spec") else {
                continue;
            };
            let rules = strings(get(spec, "rule"));
            if !rules.is_empty() && !rules.iter().any(|r| names_rule(r)) {
                continue;
            }
            let types = strings(get(spec, "type"));
            if !types.is_empty()
                && !types
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters"))
            {
                continue;
            }
            let label = format!("suppression group {name} ({shown})");
            if let Some(expires) = get(spec, "expiresOn").and_then(scalar) {
                if expired(&expires, &now) {
                    out.notes
                        .push(format!("{label} expired on {expires}: not applied"));
                    continue;
                }
            }
            let Some(condition) = get(spec, "if") else {
                out.notes
                    .push(format!("{label} has no `if`: PSRule applies it to nothing"));
                continue;
            };
            match expr::parse(condition) {
                Ok(condition) => out.groups.push(Group { label, condition }),
                Err(e) => {
                    let at = locate(&text, start, &e.key);
                    let (line, col) = LineIndex::new(&text).line_col(&text, at);
                    out.warnings.push(format!(
                        "{shown}:{line}:{col}: suppression group {name}: {}; the group is not \
                         applied and its clusters are still checked",
                        e.message
                    ));
                }
            }
        }
    }
}

/// The resources of a `.Rule.json`/`.Rule.jsonc` file (an array of them, or one), as YAML
/// values; an error as line, column and message.
fn json_documents(text: &str) -> Result<Vec<Yaml>, (usize, usize, String)> {
    fn to_yaml(v: &serde_json::Value) -> Yaml {
        use serde_json::Value as J;
        match v {
            J::Null => Yaml::Null,
            J::Bool(b) => Yaml::Boolean(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Yaml::Integer(i),
                None => Yaml::Real(n.to_string()),
            },
            J::String(s) => Yaml::String(s.clone()),
            J::Array(a) => Yaml::Array(a.iter().map(to_yaml).collect()),
            J::Object(o) => Yaml::Hash(
                o.iter()
                    .map(|(k, v)| (Yaml::String(k.clone()), to_yaml(v)))
                    .collect(),
            ),
        }
    }
    let root = crate::lang::arm::jsonc::parse(text).map_err(|e| {
        let (line, col) = LineIndex::new(text).line_col(text, e.offset);
        (line, col, e.message.to_string())
    })?;
    Ok(match to_yaml(&root.to_value()) {
        Yaml::Array(items) => items,
        one => vec![one],
    })
}

/// The byte offset where each of `count` YAML documents starts (`---` lines), best effort.
fn document_starts(text: &str, count: usize) -> Vec<usize> {
    let mut starts: Vec<usize> = Vec::new();
    let mut offset = 0;
    let mut content_before = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            starts.push(offset);
        } else if starts.is_empty() && !t.trim().is_empty() && !t.trim_start().starts_with('#') {
            content_before = true;
        }
        offset += line.len();
    }
    if content_before || starts.is_empty() {
        starts.insert(0, 0);
    }
    starts.resize(count, 0);
    starts
}

/// Where key `key` is written in `text`, at or after `from` (else `from`).
fn locate(text: &str, from: usize, key: &str) -> usize {
    let from = from.min(text.len());
    let rest = &text[from..];
    let mut search = 0;
    while let Some(i) = rest[search..].find(key) {
        let at = search + i;
        let before = rest[..at].chars().next_back();
        let after = rest[at + key.len()..].trim_start_matches([' ', '\'', '"']);
        if before.is_none_or(|c| c.is_whitespace() || matches!(c, '-' | '{' | ',' | '\'' | '"'))
            && after.starts_with(':')
        {
            return from + at - usize::from(matches!(before, Some('\'' | '"')));
        }
        search = at + key.len();
    }
    from
}

/// Whether `expiresOn` (a date, or a date and time, read as UTC) is not after `now`
/// (`YYYY-MM-DDTHH:MM:SS`): PSRule ignores a group once `expiresOn` has passed, and a bare
/// date is midnight at the start of that day.
fn expired(expires: &str, now: &str) -> bool {
    let e = expires.trim().replacen(' ', "T", 1);
    let e: String = if e.len() <= 10 {
        format!("{e}T00:00:00")
    } else {
        e.chars().take(19).collect()
    };
    e.as_str() <= now
}

/// Now as `YYYY-MM-DDTHH:MM:SS` (UTC), for `expiresOn`.
fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// Whether a rule name in the settings names this rule (`Module\Name` too, any case).
/// Whether `rule.include` lets the rule run, as PSRule's `RuleFilter` decides: an empty (or
/// null) list filters nothing; a list whose first item holds a wildcard (`*`, `?`, `[...]`)
/// is that one pattern, matched against the rule's name and ref as PowerShell's
/// `WildcardPattern` does (case-sensitive); otherwise a name must be listed.
fn includes_rule(include: &[String]) -> bool {
    match include.first() {
        None => true,
        Some(first) if first.contains(['*', '?', '[']) => {
            let short = first.rsplit(['\\', '/']).next().unwrap_or(first).trim();
            RULE_NAMES.iter().any(|r| wildcard(short, r))
        }
        Some(_) => include.iter().any(|n| names_rule(n)),
    }
}

/// PowerShell's wildcard match of the whole text: `*` any run, `?` one character, `[abc]` /
/// `[a-z]` one of a set; case-sensitive (`WildcardOptions.None`).
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|i| go(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|c| *c == ']') else {
                    return t.first() == Some(&'[') && go(&p[1..], &t[1..]);
                };
                let Some(c) = t.first() else { return false };
                let set = &p[1..end];
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= (set[i]..=set[i + 2]).contains(c);
                        i += 3;
                    } else {
                        hit |= set[i] == *c;
                        i += 1;
                    }
                }
                hit && go(&p[end + 1..], &t[1..])
            }
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

pub(crate) fn names_rule(name: &str) -> bool {
    let short = name.rsplit(['\\', '/']).next().unwrap_or(name).trim();
    RULE_NAMES.iter().any(|r| r.eq_ignore_ascii_case(short))
}

/// A key of a mapping, compared ignoring case.
fn get<'y>(y: &'y Yaml, key: &str) -> Option<&'y Yaml> {
    let Yaml::Hash(map) = y else {
        return None;
    };
    map.iter()
        .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
}

/// A string or a list of strings (scalars of other types as written).
fn strings(y: Option<&Yaml>) -> Vec<String> {
    match y {
        Some(Yaml::Array(items)) => items.iter().filter_map(scalar).collect(),
        Some(other) => scalar(other).into_iter().collect(),
        None => Vec::new(),
    }
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn boolean(y: &Yaml) -> Option<bool> {
    match y {
        Yaml::Boolean(b) => Some(*b),
        Yaml::String(s) => {
            s.trim()
                .parse::<bool>()
                .ok()
                .or_else(|| match s.trim().to_ascii_lowercase().as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                })
        }
        _ => None,
    }
}

static ACTIVE: std::sync::OnceLock<Option<PsRule>> = std::sync::OnceLock::new();
static STDIN_KIND: std::sync::OnceLock<crate::lang::FileKind> = std::sync::OnceLock::new();

/// How standard input is read this run (`--stdin-filename`'s kind), so that its clusters
/// are found as the engine found them.
pub(crate) fn configure_stdin(kind: crate::lang::FileKind) {
    let _ = STDIN_KIND.set(kind);
}

fn stdin_kind() -> crate::lang::FileKind {
    STDIN_KIND
        .get()
        .copied()
        .unwrap_or(crate::lang::FileKind::Json)
}

/// Where the PSRule settings are looked for: from the folder of the file standard input
/// stands for (`--stdin-filename`, relative to `cwd`) when standard input is the only
/// input, else from the working folder, as PSRule looks from where it runs.
pub(crate) fn discover_for(cwd: &Path, stdin_filename: Option<&Path>) -> Option<PathBuf> {
    let start = stdin_filename
        .map(|f| cwd.join(f))
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| cwd.to_path_buf());
    discover(&start)
}

/// Sets the PSRule settings of this run (`None`: no file, or `--no-psrule-config`).
pub(crate) fn configure(settings: Option<PsRule>) {
    let _ = ACTIVE.set(settings);
}

/// The PSRule settings of this run, if any.
pub(crate) fn active() -> Option<&'static PsRule> {
    ACTIVE.get().and_then(Option::as_ref)
}

/// Whether the settings file turns the rule off, and why, as a note for stderr.
pub(crate) fn rule_off() -> Option<String> {
    let p = active()?;
    let why = p.excluded.as_ref()?;
    Some(format!(
        "{} is off: {}: {why}; nothing is checked (--no-psrule-config checks anyway)",
        RULE_NAMES[0],
        shown(&p.path)
    ))
}

fn shown(path: &Path) -> String {
    crate::run::engine::display(&crate::run::discover::Candidate::File(path.to_path_buf()))
}

/// Whether this run's PSRule settings suppress the rule for any cluster.
pub(crate) fn suppresses_any() -> bool {
    active().is_some_and(|p| !p.suppressed.is_empty() || !p.groups.is_empty())
}

/// The settings file as messages name it (`ps-rule.yaml` when none is active).
pub(crate) fn settings_shown() -> String {
    active().map_or_else(|| "ps-rule.yaml".to_string(), |p| shown(&p.path))
}

fn is_cluster(r: &crate::eval::deployment::Resource) -> bool {
    matches!(&r.kind, crate::eval::Value::Str(t)
        if t.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters"))
}

fn suppressed_resource(p: &PsRule, r: &crate::eval::deployment::Resource) -> bool {
    let instance = Instance {
        name: r.name.clone(),
        kind: r.kind.clone(),
        body: r.body.clone(),
    };
    verdict(p, &[instance]).why.is_some()
}

fn resource_name(r: &crate::eval::deployment::Resource) -> String {
    r.name.as_str().map_or_else(|| r.id.clone(), str::to_string)
}

/// The names of the suppressed clusters that `after` deploys otherwise than `before` (the
/// same resource, by its identity in the source, with another name, body or condition, or
/// one that only one of them deploys): a fix that gives `after` must not be written, since
/// the settings leave those clusters alone. Empty without suppressions.
pub(crate) fn suppressed_changes(
    before: &crate::eval::deployment::Deployment,
    after: &crate::eval::deployment::Deployment,
) -> Vec<String> {
    let Some(p) = active().filter(|_| suppresses_any()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut push = |r: &crate::eval::deployment::Resource| {
        let name = resource_name(r);
        if suppressed_resource(p, r) && !out.contains(&name) {
            out.push(name);
        }
    };
    for b in before.resources.iter().filter(|r| is_cluster(r)) {
        let same = after
            .resources
            .iter()
            .find(|a| a.id == b.id)
            .is_some_and(|a| a.name == b.name && a.body == b.body && a.condition == b.condition);
        if !same {
            push(b);
        }
    }
    for a in after.resources.iter().filter(|r| is_cluster(r)) {
        if !before.resources.iter().any(|b| b.id == a.id) {
            push(a);
        }
    }
    out
}

/// Why a fix that changes the suppressed `clusters` is not written, naming the settings.
pub(crate) fn leaves_alone(clusters: &[String]) -> String {
    let file = active().map_or_else(|| "ps-rule.yaml".to_string(), |p| shown(&p.path));
    format!(
        "this fix would also change cluster {}, which {file} leaves alone; make the change \
         by hand where only the other clusters read it",
        clusters.join(", ")
    )
}

/// Whether `d` deploys at least one cluster under `origin` and the rule is suppressed for
/// every one of them.
pub(crate) fn suppressed_under(d: &crate::eval::deployment::Deployment, origin: &[String]) -> bool {
    let Some(p) = active().filter(|_| suppresses_any()) else {
        return false;
    };
    let mut clusters = d
        .resources
        .iter()
        .filter(|r| r.origin.starts_with(origin) && is_cluster(r))
        .peekable();
    clusters.peek().is_some() && clusters.all(|r| suppressed_resource(p, r))
}

/// Leaves alone the clusters the rule is suppressed for: their findings go, with their
/// edits; the file's other fixes stay (re-proven), or become manual review when they cannot
/// be told apart. `--verbose` says which clusters were left alone and why, and which
/// suppression groups might apply but read a value not known offline.
pub(crate) fn suppress(reports: &mut [crate::run::engine::FileReport], verbose: bool) {
    use crate::run::discover::Candidate;
    use crate::run::engine::Outcome;
    let Some(p) = active() else { return };
    for w in &p.warnings {
        crate::commands::note!("armfix: warning: {w}");
    }
    if verbose {
        for n in &p.notes {
            crate::commands::note!("armfix: {}: {n}", shown(&p.path));
        }
    }
    if p.suppressed.is_empty() && p.groups.is_empty() {
        return;
    }
    for r in reports.iter_mut() {
        // Standard input is judged as the file it stands for (read as `--stdin-filename`
        // says, its settings found from that file's folder or the working folder): the same
        // answer as a run over the file. It has no parameter files of its own.
        let (path, kind) = match &r.candidate {
            Candidate::File(path) => (Some(path.as_path()), r.candidate.kind()),
            Candidate::Stdin => (None, stdin_kind()),
        };
        if !matches!(
            kind,
            crate::lang::FileKind::Json | crate::lang::FileKind::Bicep
        ) {
            continue;
        }
        let display = r.display();
        let Outcome::Analysed {
            original,
            analysis,
            fixed,
        } = &mut r.outcome
        else {
            continue;
        };
        if analysis.findings.iter().all(|f| f.cluster.is_none()) {
            if let Some(path) = path.filter(|_| !analysis.findings.is_empty()) {
                parameter_file(p, path, &display, original, analysis, fixed, verbose);
            }
            continue;
        }
        let clusters = cluster_instances(kind, original, path, &analysis.clusters);
        let verdicts: Vec<(String, Verdict)> = clusters
            .iter()
            .map(|(k, instances)| (k.clone(), verdict(p, instances)))
            .collect();
        let verdict_of = |k: &str| verdicts.iter().find(|(c, _)| c == k).map(|(_, v)| v);
        if verbose {
            for (_, v) in &verdicts {
                for u in &v.unknown {
                    crate::commands::note!("armfix: {display}: {u}");
                }
            }
        }
        let mut dropped: Vec<crate::finding::Finding> = Vec::new();
        let mut touched: Vec<crate::finding::Finding> = Vec::new();
        let mut kept = Vec::new();
        for f in std::mem::take(&mut analysis.findings) {
            let about: Vec<&String> = f.cluster.iter().chain(&f.other_clusters).collect();
            let why: Vec<Option<&str>> = about
                .iter()
                .map(|k| verdict_of(k).and_then(|v| v.why.as_deref()))
                .collect();
            if !about.is_empty() && why.iter().all(Option::is_some) {
                if verbose {
                    let name = about
                        .iter()
                        .filter_map(|k| clusters.iter().find(|(c, _)| c == *k))
                        .flat_map(|(_, i)| i.iter().filter_map(|i| i.name.as_str()))
                        .fold(Vec::<&str>::new(), |mut acc, n| {
                            if !acc.contains(&n) {
                                acc.push(n);
                            }
                            acc
                        })
                        .join(", ");
                    crate::commands::note!(
                        "armfix: {display}:{}:{}: cluster {name} left alone: {}: {}",
                        f.line,
                        f.column,
                        shown(&p.path),
                        why[0].unwrap_or_default()
                    );
                }
                dropped.push(f);
            } else if f.is_fixable()
                && (why.iter().any(Option::is_some)
                    || about
                        .iter()
                        .any(|k| verdict_of(k).is_some_and(|v| !v.partly.is_empty())))
            {
                // One fix for several clusters (or for a loop's instances), one of them
                // suppressed: writing it would change the cluster the settings leave alone.
                let mut names: Vec<&str> = about
                    .iter()
                    .zip(&why)
                    .filter(|(_, w)| w.is_some())
                    .filter_map(|(k, _)| clusters.iter().find(|(c, _)| c == *k))
                    .flat_map(|(_, i)| i.iter().filter_map(|i| i.name.as_str()))
                    .collect();
                for k in &about {
                    for n in verdict_of(k).iter().flat_map(|v| &v.partly) {
                        if !names.contains(&n.as_str()) {
                            names.push(n);
                        }
                    }
                }
                let names = names.join(", ");
                touched.push(f.clone());
                let mut f = f;
                let reason = format!(
                    "this fix would also change cluster {names}, which {} leaves alone; make \
                     the change by hand",
                    shown(&p.path)
                );
                f.message = format!("{}; {reason}", crate::finding::without_fix_note(&f.message));
                f.remedy = crate::finding::Remedy::ManualReview {
                    reason,
                    expression: None,
                };
                f.source = None;
                kept.push(f);
            } else {
                kept.push(f);
            }
        }
        analysis.findings = kept;
        if dropped.is_empty() && touched.is_empty() {
            continue;
        }
        analysis.left_to.retain(|(_, f)| {
            f.cluster
                .as_ref()
                .is_none_or(|k| verdict_of(k).is_none_or(|v| v.why.is_none()))
        });
        refix(kind, original, analysis, fixed, &dropped, &touched);
    }
}

/// A parameter file's fixes change clusters of the templates it is linked to (their
/// evaluations with the file as written and as fixed differ). When every cluster they change
/// is suppressed, the findings go with their edits; when some are, the fixes are manual
/// review (writing them would change a cluster the settings leave alone). A parameter file
/// without a fix is left as it is.
fn parameter_file(
    p: &PsRule,
    path: &Path,
    display: &str,
    original: &str,
    analysis: &mut crate::finding::Analysis,
    fixed: &mut Option<String>,
    verbose: bool,
) {
    use crate::eval::Value;
    let Some(after_text) = fixed.as_deref() else {
        return;
    };
    let crate::run::configurations::Targets::Linked(templates, _) =
        crate::run::configurations::targets(path)
    else {
        return;
    };
    // Every configuration the file's values take part in: its own, or for a `.bicepparam`
    // base (`using none`) that of each file extending it.
    let before = crate::run::configurations::reached_by(path, original);
    let after = crate::run::configurations::reached_by(path, after_text);
    if before.is_empty() || before.len() != after.len() {
        return;
    }
    let is_cluster = |r: &crate::eval::Resource| {
        matches!(&r.kind, Value::Str(t)
            if t.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters"))
    };
    let mut changed: Vec<(String, Option<String>)> = Vec::new();
    for t in &templates {
        let Some(kind) = crate::lang::FileKind::of(t) else {
            continue;
        };
        let Some(text) = crate::run::read::read_text(t) else {
            continue;
        };
        let language = kind.language();
        for (before, after) in before.iter().zip(&after) {
            let (Some(b), Some(a)) = (
                language.evaluate(&text, before, Some(t)),
                language.evaluate(&text, after, Some(t)),
            ) else {
                continue;
            };
            for r in b.resources.iter().filter(|r| is_cluster(r)) {
                let same = a
                    .resources
                    .iter()
                    .find(|x| x.id == r.id)
                    .is_some_and(|x| x.body == r.body);
                if same {
                    continue;
                }
                let v = verdict(
                    p,
                    &[Instance {
                        name: r.name.clone(),
                        kind: r.kind.clone(),
                        body: r.body.clone(),
                    }],
                );
                let name = r
                    .name
                    .as_str()
                    .unwrap_or("(name not known offline)")
                    .to_string();
                if !changed.contains(&(name.clone(), v.why.clone())) {
                    changed.push((name, v.why));
                }
            }
        }
    }
    let suppressed: Vec<&(String, Option<String>)> =
        changed.iter().filter(|(_, w)| w.is_some()).collect();
    if suppressed.is_empty() {
        return;
    }
    if suppressed.len() == changed.len() {
        if verbose {
            for (name, why) in &suppressed {
                crate::commands::note!(
                    "armfix: {display}: cluster {name} left alone: {}: {}",
                    shown(&p.path),
                    why.as_deref().unwrap_or_default()
                );
            }
        }
        analysis.findings.clear();
        analysis.edits.clear();
        analysis.patch.clear();
        *fixed = None;
        return;
    }
    let names = suppressed
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let reason = format!(
        "this fix would also change cluster {names}, which {} leaves alone; make the change \
         by hand",
        shown(&p.path)
    );
    analysis.withdraw_fixes(&reason, |_| true);
    *fixed = None;
}

/// One evaluated deployment of a cluster: what PSRule sees as its target.
struct Instance {
    name: crate::eval::Value,
    kind: crate::eval::Value,
    body: crate::eval::Value,
}

/// Each cluster (pointer) as evaluated, over every configuration. No instance when the
/// language has no evaluator and the name is not a literal, or the cluster is not found.
fn cluster_instances(
    kind: crate::lang::FileKind,
    text: &str,
    path: Option<&Path>,
    clusters: &[String],
) -> Vec<(String, Vec<Instance>)> {
    use crate::eval::Value;
    let language = kind.language();
    let configs = crate::run::configurations::for_template(path);
    let deployments: Vec<crate::eval::Deployment> = configs
        .iter()
        .filter_map(|c| language.evaluate(text, c, path))
        .collect();
    let shape = language.shape(text);
    clusters
        .iter()
        .map(|k| {
            let tokens: Vec<String> = k
                .split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect();
            let mut instances: Vec<Instance> = Vec::new();
            for d in &deployments {
                for r in d.resources.iter().filter(|r| {
                    r.origin.len() >= tokens.len() && r.origin[..tokens.len()] == tokens[..]
                }) {
                    let is_cluster = matches!(&r.kind, Value::Str(t)
                        if t.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters"));
                    if is_cluster {
                        instances.push(Instance {
                            name: r.name.clone(),
                            kind: r.kind.clone(),
                            body: r.body.clone(),
                        });
                    }
                }
            }
            if deployments.is_empty() {
                // No evaluator: the name written in the source, when it is a literal; the
                // rest of the resource is not known.
                if let Some(n) = shape
                    .as_ref()
                    .and_then(|s| s.pointer(&format!("{k}/name")))
                    .and_then(|n| n.as_str())
                    .filter(|n| !n.starts_with('['))
                {
                    instances.push(Instance {
                        name: Value::str(n),
                        kind: Value::str("Microsoft.ContainerService/managedClusters"),
                        body: Value::unknown("the file is not evaluated"),
                    });
                }
            }
            (k.clone(), instances)
        })
        .collect()
}

/// Whether a cluster is suppressed, and what `--verbose` says about groups that might apply.
#[derive(Debug, Default)]
struct Verdict {
    /// Why, when every instance is suppressed.
    why: Option<String>,
    /// Groups whose condition reads a value not known offline, for a name.
    unknown: Vec<String>,
    /// The names of the suppressed instances when only some are, but for names that another
    /// instance has and is checked with (a loop's suppressed instance, not one cluster
    /// suppressed with one parameter file only): a fix there changes them too.
    partly: Vec<String>,
}

/// A cluster is suppressed when, in every configuration that deploys it, its name is listed
/// (`suppression`) or a suppression group's condition holds. A condition on a value not known
/// offline does not hold: a suppression that might not apply must not hide a failure.
fn verdict(p: &PsRule, instances: &[Instance]) -> Verdict {
    let mut out = Verdict::default();
    let mut why = None;
    let mut all = !instances.is_empty();
    let mut suppressed: Vec<String> = Vec::new();
    let mut checked: Vec<String> = Vec::new();
    for i in instances {
        let by_name = i.name.as_str().and_then(|n| p.suppression_of(n));
        let shown_name = || {
            i.name
                .as_str()
                .unwrap_or("(name not known offline)")
                .to_string()
        };
        if let Some(w) = by_name {
            why.get_or_insert_with(|| w.to_string());
            if !suppressed.contains(&shown_name()) {
                suppressed.push(shown_name());
            }
            continue;
        }
        let target = expr::Target {
            name: &i.name,
            kind: &i.kind,
            body: &i.body,
        };
        let mut held = None;
        for g in &p.groups {
            match g.condition.eval(&target) {
                expr::Truth::Yes => {
                    held = Some(format!("{} applies", g.label));
                    break;
                }
                expr::Truth::No => {}
                expr::Truth::Unknown(reason) => {
                    let name = i.name.as_str().unwrap_or("(name not known offline)");
                    let note = format!(
                        "cluster {name}: {} might apply, but its condition reads {reason}; \
                         not known offline, so the cluster is still checked",
                        g.label
                    );
                    if !out.unknown.contains(&note) {
                        out.unknown.push(note);
                    }
                }
            }
        }
        match held {
            Some(w) => {
                why.get_or_insert(w);
                if !suppressed.contains(&shown_name()) {
                    suppressed.push(shown_name());
                }
            }
            None => {
                all = false;
                checked.push(shown_name());
            }
        }
    }
    if all {
        out.why = why;
    } else {
        // A cluster suppressed in one configuration and checked in another is one cluster,
        // checked (its fix is written); another cluster of the same source (a loop's
        // instance) that is suppressed is left alone.
        out.partly = suppressed
            .into_iter()
            .filter(|n| !checked.contains(n))
            .collect();
    }
    out
}

/// The edits that carry `f`'s fix alone: those the planner tied to it, else the file's edits
/// inside its cluster (a literal fix in the cluster itself). Empty when neither is known.
fn own_edits(
    language: &dyn crate::lang::Language,
    original: &str,
    analysis: &crate::finding::Analysis,
    f: &crate::finding::Finding,
) -> Vec<crate::edit::Edit> {
    if !f.edits.is_empty() {
        return f.edits.clone();
    }
    let Some((start, end)) = f
        .cluster
        .as_deref()
        .filter(|_| f.other_clusters.is_empty())
        .and_then(|k| language.locate(original, k))
    else {
        return Vec::new();
    };
    analysis
        .edits
        .iter()
        .filter(|e| e.start >= start && e.end <= end)
        .cloned()
        .collect()
}

/// Rebuilds a file's fix from the findings it keeps, after some were dropped (`dropped`: their
/// clusters are suppressed) or held back (`touched`: their fix, as found, would change a
/// suppressed cluster too).
fn refix(
    kind: crate::lang::FileKind,
    original: &str,
    analysis: &mut crate::finding::Analysis,
    fixed: &mut Option<String>,
    dropped: &[crate::finding::Finding],
    touched: &[crate::finding::Finding],
) {
    let dropped_edits = !touched.is_empty()
        || dropped
            .iter()
            .any(|f| !f.edits.is_empty() || f.is_fixable());
    if !dropped_edits {
        return;
    }
    let applied: Vec<&crate::finding::Finding> = analysis
        .findings
        .iter()
        .filter(|f| analysis.applies(f))
        .collect();
    let language = kind.language();
    let mut edits: Vec<crate::edit::Edit> = Vec::new();
    let mut separable = true;
    for f in &applied {
        let own = own_edits(language, original, analysis, f);
        if own.is_empty() {
            separable = false;
        }
        for e in own {
            if !edits.contains(&e) {
                edits.push(e);
            }
        }
    }
    // An edit a dropped finding needs too cannot stay.
    if dropped
        .iter()
        .chain(touched)
        .flat_map(|f| own_edits(language, original, analysis, f))
        .any(|e| edits.contains(&e))
    {
        separable = false;
    }
    edits.sort_by_key(|e| (e.start, e.end));
    let rebuilt = if !separable {
        Err("its fix is shared with a suppressed cluster's".to_string())
    } else if edits.is_empty() {
        Ok(None)
    } else {
        crate::edit::apply(original, &edits).and_then(|t| {
            let language = kind.language();
            let patch = if kind.has_json_patch() {
                match (language.shape(original), language.shape(&t)) {
                    (Some(a), Some(b)) => json_patch::diff(&a, &b).0,
                    _ => return Err("cannot rebuild the patch".into()),
                }
            } else {
                Vec::new()
            };
            Ok(Some((t, patch)))
        })
    };
    match rebuilt {
        Ok(Some((t, patch))) => {
            analysis.edits = edits;
            analysis.patch = patch;
            // The suppressed clusters still fail in the fixed text, as they did before: the
            // re-reading in `verify` (lang/checks.rs `nothing_left`) must not count them as a
            // fix that did not hold or a new value for a human.
            analysis.held_back += dropped.iter().filter(|f| f.is_fixable()).count() + touched.len();
            analysis.settled_manual += dropped.iter().filter(|f| !f.is_fixable()).count();
            match kind.verify(original, analysis, &t) {
                Ok(()) => *fixed = Some(t),
                Err(why) => unfix(analysis, fixed, &why),
            }
        }
        Ok(None) => {
            analysis.edits.clear();
            analysis.patch.clear();
            *fixed = None;
        }
        Err(why) => unfix(analysis, fixed, &why),
    }
}

fn unfix(analysis: &mut crate::finding::Analysis, fixed: &mut Option<String>, why: &str) {
    let reason = format!(
        "armfix left a suppressed cluster of this file alone and cannot separate this fix from it ({why}); make the change by hand"
    );
    analysis.withdraw_fixes(&reason, |_| true);
    *fixed = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_exclusion_by_name_or_ref() {
        for name in [
            "Azure.AKS.SecretStoreRotation",
            "azure.aks.secretstorerotation",
            "PSRule.Rules.Azure\\Azure.AKS.SecretStoreRotation",
            "AZR-000034",
        ] {
            let p = parse(&format!(
                "rule:\n  exclude:\n  - Azure.VM.Standalone\n  - '{name}'\n"
            ))
            .unwrap();
            assert!(p.excluded.is_some(), "{name}");
        }
        assert!(parse("rule:\n  exclude: [Azure.AKS.Other]\n")
            .unwrap()
            .excluded
            .is_none());
        assert!(parse("rule:\n  include: [Azure.AKS.Other]\n")
            .unwrap()
            .excluded
            .is_some());
        assert!(parse("Rule:\n  Include: [AZR-000034]\n")
            .unwrap()
            .excluded
            .is_none());
    }

    /// PSRule's `RuleFilter`: an empty or null `include` filters nothing, and one wildcard
    /// pattern (PowerShell's, case-sensitive) includes the rules it matches.
    #[test]
    fn rule_include_empty_or_wildcard() {
        for on in [
            "rule:\n  include: []\n",
            "rule:\n  include:\n",
            "rule:\n  include: ['Azure.AKS.*']\n",
            "rule:\n  include: ['Azure.*']\n",
            "rule:\n  include: ['*']\n",
            "rule:\n  include: ['AZR-0000[0-9][0-9]']\n",
            "rule:\n  include: ['PSRule.Rules.Azure\\Azure.AKS.Secret*']\n",
            "rule:\n  include: ['Azure.AKS.SecretStoreRotatio?']\n",
        ] {
            assert!(parse(on).unwrap().excluded.is_none(), "{on}");
        }
        for off in [
            "rule:\n  include: ['Azure.VM.*']\n",
            "rule:\n  include: ['azure.aks.*']\n",
            "rule:\n  include: ['Azure.AKS.SecretStore']\n",
            "rule:\n  include: ['Azure.AKS.*']\n  exclude: [AZR-000034]\n",
        ] {
            assert!(parse(off).unwrap().excluded.is_some(), "{off}");
        }
    }

    #[test]
    fn suppression_lists_and_target_names() {
        let p = parse(
            "suppression:\n  Azure.AKS.SecretStoreRotation:\n  - aks-dev\n  Azure.VM.Standalone:\n  - vm1\n  AZR-000034:\n    targetName:\n    - aks-test\n",
        )
        .unwrap();
        assert!(p.suppression_of("AKS-DEV").is_some());
        assert!(p.suppression_of("aks-test").is_some());
        assert!(p.suppression_of("vm1").is_none());
    }

    /// A loop's suppressed instance is named (a fix for the loop changes it); one cluster
    /// suppressed in one configuration and checked in another is not (it is fixed).
    #[test]
    fn verdict_names_a_partly_suppressed_loops_instance_only() {
        let p = parse("suppression:\n  Azure.AKS.SecretStoreRotation:\n  - aks-old\n").unwrap();
        let instance = |name: &str| Instance {
            name: crate::eval::Value::Str(name.into()),
            kind: crate::eval::Value::Str("Microsoft.ContainerService/managedClusters".into()),
            body: crate::eval::Value::Null,
        };
        let v = verdict(&p, &[instance("aks-old"), instance("aks-new")]);
        assert!(v.why.is_none());
        assert_eq!(v.partly, ["aks-old"]);
        let v = verdict(&p, &[instance("aks-old"), instance("aks-old")]);
        assert!(v.why.is_some() && v.partly.is_empty());
        let p = parse("suppression:\n  Azure.AKS.SecretStoreRotation:\n  - aks-new\n").unwrap();
        let v = verdict(&p, &[instance("aks-new"), instance("aks-old")]);
        assert_eq!(v.partly, ["aks-new"]);
        let v = verdict(&p, &[instance("aks-old")]);
        assert!(v.why.is_none() && v.partly.is_empty());
    }

    #[test]
    fn linking_options_and_errors() {
        let p = parse(
            "configuration:\n  AZURE_PARAMETER_FILE_EXPANSION: false\n  AZURE_BICEP_PARAMS_FILE_EXPANSION: 'false'\n  AZURE_PARAMETER_FILE_METADATA_LINK: true\ninput:\n  pathIgnore:\n  - 'legacy/'\n",
        )
        .unwrap();
        assert_eq!(p.parameter_file_expansion, Some(false));
        assert_eq!(p.bicep_params_expansion, Some(false));
        assert_eq!(p.metadata_link, Some(true));
        assert_eq!(p.path_ignore_list, ["legacy/"]);
        let (offset, message) = parse("rule:\n  exclude: [a\n").unwrap_err();
        assert!(offset > 0, "{message}");
        assert!(parse("").unwrap().excluded.is_none());
    }

    #[test]
    fn groups_expiry_and_locations() {
        assert!(expired("2020-01-01", "2026-12-01T01:00:00"));
        assert!(expired("2026-12-01", "2026-12-01T01:00:00"));
        assert!(!expired("2026-12-02", "2026-12-01T01:00:00"));
        assert!(!expired("2026-12-01T02:00:00Z", "2026-12-01T01:00:00"));
        assert_eq!(now().len(), 19);
        let text = "---\nkind: SuppressionGroup\nspec:\n  if:\n    field: x\n    setOf: [a]\n---\nkind: SuppressionGroup\nspec:\n  if:\n    setOf: [b]\n";
        let starts = document_starts(text, 2);
        assert_eq!(
            starts,
            [
                0,
                text.find("---\nkind: SuppressionGroup\nspec:\n  if:\n    setOf")
                    .unwrap()
            ]
        );
        assert_eq!(
            locate(text, starts[1], "setOf"),
            text.rfind("setOf").unwrap()
        );
        assert_eq!(locate(text, 0, "setOf"), text.find("setOf").unwrap());
    }

    /// Groups in `.Rule.jsonc` files (PSRule's JSON form, comments allowed) are read like the
    /// YAML ones; a condition armfix does not evaluate is placed at its key.
    #[test]
    fn json_suppression_groups() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"[
  // Synopsis: by tag
  {
    "apiVersion": "github.com/microsoft/PSRule/v1",
    "kind": "SuppressionGroup",
    "metadata": { "name": "Json.Tagged" },
    "spec": { "rule": ["AZR-000034"], "if": { "field": "tags.env", "equals": "dev" } }
  },
  {
    "kind": "SuppressionGroup",
    "metadata": { "name": "Json.Bad" },
    "spec": { "if": { "field": "tags.env", "subset": ["a"] } }
  }
]
"#;
        std::fs::write(dir.path().join("Groups.Rule.jsonc"), text).unwrap();
        let mut out = PsRule::default();
        suppression_groups(&[dir.path().to_path_buf()], &mut out);
        assert_eq!(out.groups.len(), 1, "{:?}", out.warnings);
        assert!(out.groups[0].label.contains("Json.Tagged"));
        assert_eq!(out.warnings.len(), 1);
        let (line, col) = {
            let at = text.find("\"subset\"").unwrap();
            LineIndex::new(text).line_col(text, at)
        };
        assert!(
            out.warnings[0].contains(&format!(":{line}:{col}: suppression group Json.Bad")),
            "{:?}",
            out.warnings
        );
        std::fs::write(dir.path().join("Broken.Rule.json"), "[{").unwrap();
        let mut out = PsRule::default();
        suppression_groups(&[dir.path().to_path_buf()], &mut out);
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains("Broken.Rule.json:1:")),
            "{:?}",
            out.warnings
        );
    }
}
