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
//!   `rule.include` that does not name it: the rule is off, nothing is checked or fixed.
//! - `suppression` for the rule (a list of target names, or `targetName:` holding one): a
//!   cluster is left alone when its name (PSRule's target name for a template resource, as
//!   evaluated) is listed in every configuration that deploys it. Scripts are not read by
//!   PSRule, so suppression does not apply to them.
//! - Suppression groups (`kind: SuppressionGroup` in `.ps-rule/*.Rule.yaml|yml` beside the
//!   settings file) that name the rule: one whose `if` is a condition on the name only
//!   (`name: '.'` or `field: name`, with `equals` or `in`) suppresses those names like
//!   `suppression`; any other condition is not evaluated, and `--verbose` says the group was
//!   not applied (the clusters are still checked: armfix never hides a failure it cannot
//!   prove PSRule would hide). Groups past their `expiresOn` are ignored.
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
    /// Notes for `--verbose` (suppression groups not applied, and why).
    pub(crate) notes: Vec<String>,
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
    suppression_groups(&abs_dir.join(".ps-rule"), &mut out);
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
        } else if get(rule, "include").is_some() && !names("include").iter().any(|n| names_rule(n))
        {
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

/// Reads the suppression groups in `.ps-rule/` that name the rule.
fn suppression_groups(dir: &Path, out: &mut PsRule) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            n.ends_with(".rule.yaml") || n.ends_with(".rule.yml")
        })
        .collect();
    files.sort();
    let today = today();
    for file in files {
        let Some(docs) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| YamlLoader::load_from_str(&t).ok())
        else {
            continue;
        };
        let relative = std::env::current_dir()
            .ok()
            .and_then(|cwd| std::fs::canonicalize(cwd).ok())
            .and_then(|cwd| file.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| file.clone());
        let shown = crate::run::engine::display(&crate::run::discover::Candidate::File(relative));
        for doc in docs {
            let kind = get(&doc, "kind").and_then(Yaml::as_str);
            if !kind.is_some_and(|k| k.eq_ignore_ascii_case("SuppressionGroup")) {
                continue;
            }
            let name = get(&doc, "metadata")
                .and_then(|m| get(m, "name"))
                .and_then(Yaml::as_str)
                .unwrap_or("?")
                .to_string();
            let Some(spec) = get(&doc, "spec") else {
                continue;
            };
            if !strings(get(spec, "rule")).iter().any(|r| names_rule(r)) {
                continue;
            }
            if let Some(expires) = get(spec, "expiresOn").and_then(Yaml::as_str) {
                if expires.get(..10).is_some_and(|d| d < today.as_str()) {
                    out.notes.push(format!(
                        "suppression group {name} ({shown}) expired on {expires}: not applied"
                    ));
                    continue;
                }
            }
            match get(spec, "if").and_then(names_condition) {
                Some(names) => {
                    for n in names {
                        out.suppressed
                            .push((n, format!("suppression group {name} ({shown}) names it")));
                    }
                }
                None => out.notes.push(format!(
                    "suppression group {name} ({shown}) names the rule, but its condition is \
                     not on the target name alone: armfix does not evaluate it, and still checks \
                     every cluster"
                )),
            }
        }
    }
}

/// The names a condition selects, when it is a condition on the target name alone:
/// `{name: '.', equals: x}`, `{name: '.', in: [..]}`, or the same with `field: name`
/// (PSRule's target name for a template resource is its name), or `anyOf` of those.
fn names_condition(cond: &Yaml) -> Option<Vec<String>> {
    if let Some(any) = get(cond, "anyOf") {
        let mut out = Vec::new();
        for c in any.as_vec()? {
            out.extend(names_condition(c)?);
        }
        return Some(out);
    }
    let Yaml::Hash(map) = cond else {
        return None;
    };
    let on_name = get(cond, "name").and_then(Yaml::as_str) == Some(".")
        || get(cond, "field")
            .and_then(Yaml::as_str)
            .is_some_and(|f| f.eq_ignore_ascii_case("name"));
    if !on_name || map.len() != 2 {
        return None;
    }
    if let Some(v) = get(cond, "equals").and_then(Yaml::as_str) {
        return Some(vec![v.to_string()]);
    }
    get(cond, "in").map(|v| strings(Some(v)))
}

/// Today's date as `YYYY-MM-DD` (UTC), for `expiresOn`.
fn today() -> String {
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
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whether a rule name in the settings names this rule (`Module\Name` too, any case).
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

/// Leaves alone the clusters the rule is suppressed for: their findings go, with their
/// edits; the file's other fixes stay (re-proven), or become manual review when they cannot
/// be told apart. `--verbose` says which clusters were left alone and why.
pub(crate) fn suppress(reports: &mut [crate::run::engine::FileReport], verbose: bool) {
    use crate::run::discover::Candidate;
    use crate::run::engine::Outcome;
    let Some(p) = active() else { return };
    if verbose {
        for n in &p.notes {
            crate::commands::note!("armfix: {}: {n}", shown(&p.path));
        }
    }
    if p.suppressed.is_empty() {
        return;
    }
    for r in reports.iter_mut() {
        let Candidate::File(path) = &r.candidate else {
            continue;
        };
        let kind = r.candidate.kind();
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
            continue;
        }
        let names = cluster_names(kind, original, path, &analysis.clusters);
        let mut dropped: Vec<crate::finding::Finding> = Vec::new();
        let mut kept = Vec::new();
        for f in std::mem::take(&mut analysis.findings) {
            let about: Vec<&String> = f.cluster.iter().chain(&f.other_clusters).collect();
            let why = about
                .iter()
                .map(|k| suppressed(p, &names, k))
                .collect::<Vec<_>>();
            if !about.is_empty() && why.iter().all(Option::is_some) {
                if verbose {
                    let name = about
                        .iter()
                        .filter_map(|k| names.iter().find(|(c, _)| c == *k))
                        .flat_map(|(_, n)| n.iter().cloned())
                        .collect::<Vec<_>>()
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
            } else {
                kept.push(f);
            }
        }
        analysis.findings = kept;
        if dropped.is_empty() {
            continue;
        }
        analysis.left_to.retain(|(_, f)| {
            f.cluster
                .as_ref()
                .is_none_or(|k| suppressed(p, &names, k).is_none())
        });
        refix(kind, original, analysis, fixed, &dropped);
    }
}

/// The names each cluster (pointer) has once evaluated, over every configuration.
fn cluster_names(
    kind: crate::lang::FileKind,
    text: &str,
    path: &Path,
    clusters: &[String],
) -> Vec<(String, Vec<String>)> {
    let language = kind.language();
    let configs = crate::run::configurations::for_template(Some(path));
    let deployments: Vec<crate::eval::Deployment> = configs
        .iter()
        .filter_map(|c| language.evaluate(text, c, Some(path)))
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
            let mut names: Vec<String> = Vec::new();
            let mut unknown = false;
            for d in &deployments {
                for r in d.resources.iter().filter(|r| {
                    r.origin.len() >= tokens.len() && r.origin[..tokens.len()] == tokens[..]
                }) {
                    let is_cluster = matches!(&r.kind, crate::eval::Value::Str(t)
                        if t.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters"));
                    if !is_cluster {
                        continue;
                    }
                    match &r.name {
                        crate::eval::Value::Str(n) => {
                            if !names.contains(n) {
                                names.push(n.clone());
                            }
                        }
                        _ => unknown = true,
                    }
                }
            }
            if deployments.is_empty() {
                // No evaluator: the name written in the source, when it is a literal.
                if let Some(n) = shape
                    .as_ref()
                    .and_then(|s| s.pointer(&format!("{k}/name")))
                    .and_then(|n| n.as_str())
                    .filter(|n| !n.starts_with('['))
                {
                    names.push(n.to_string());
                }
            }
            if unknown {
                names.clear();
            }
            (k.clone(), names)
        })
        .collect()
}

/// Why cluster `k` is suppressed: each of its names, in every configuration, is listed.
fn suppressed<'p>(p: &'p PsRule, names: &[(String, Vec<String>)], k: &str) -> Option<&'p str> {
    let (_, ns) = names.iter().find(|(c, _)| c == k)?;
    if ns.is_empty() {
        return None;
    }
    let mut why = None;
    for n in ns {
        why = Some(p.suppression_of(n)?);
    }
    why
}

/// Rebuilds a file's fix from the findings it keeps, after some were dropped.
fn refix(
    kind: crate::lang::FileKind,
    original: &str,
    analysis: &mut crate::finding::Analysis,
    fixed: &mut Option<String>,
    dropped: &[crate::finding::Finding],
) {
    let dropped_edits = dropped
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
    let mut edits: Vec<crate::edit::Edit> = Vec::new();
    let mut separable = true;
    for f in &applied {
        if f.edits.is_empty() {
            separable = false;
        }
        for e in &f.edits {
            if !edits.contains(e) {
                edits.push(e.clone());
            }
        }
    }
    // An edit a dropped finding needs too cannot stay.
    if dropped
        .iter()
        .flat_map(|f| &f.edits)
        .any(|e| edits.contains(e))
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
    for f in analysis.findings.iter_mut().filter(|f| f.is_fixable()) {
        f.message = format!("{}; {reason}", f.message);
        f.remedy = crate::finding::Remedy::ManualReview {
            reason: reason.clone(),
            expression: None,
        };
        f.source = None;
    }
    analysis.edits.clear();
    analysis.patch.clear();
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
    fn name_conditions() {
        let y = |s: &str| YamlLoader::load_from_str(s).unwrap().remove(0);
        assert_eq!(
            names_condition(&y("name: '.'\nin: [a, b]\n")),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            names_condition(&y("field: name\nequals: a\n")),
            Some(vec!["a".to_string()])
        );
        assert_eq!(names_condition(&y("field: tags.env\nequals: dev\n")), None);
        assert_eq!(today().len(), 10);
    }
}
