//! Decides which parameter files are linked to which template, so the deploy-time proof
//! evaluates each template in every configuration it is deployed with (its defaults, and one
//! per linked parameter file) and the run fixes the parameter files too.
//!
//! A parameter file is linked, in this order of precedence (the first that says anything
//! decides):
//!
//! 1. `armfix.toml` names its template under `[parameter-files.links]`;
//! 2. a `.bicepparam` file's `using '…'` names it (relative to the file's folder);
//! 3. a JSON parameter file's `metadata.template` names it: `./` and `../` paths are relative to
//!    the parameter file; any other path is relative to the parameter file's folder when it
//!    exists there, else to the repository's root (the nearest folder holding `.git`), as
//!    PSRule for Azure resolves it. Such a file links from any folder of the repository;
//! 4. its name, in the template's folder (or, for a file in a `parameters/` folder, the folder
//!    above): `STEM.parameters.json`, `STEM.parameters.ENV.json`, `STEM.parameters-ENV.json`,
//!    `STEM.ENV.parameters.json` (when no template is named `STEM.ENV`),
//!    `azuredeploy.parameters*.json` beside `main.*` (when there is no `azuredeploy.*`),
//!    `parameters.json` / `parameters.ENV.json` and `parameters/ENV.json` (the folder's only
//!    template). `.jsonc` is read like `.json`; names compare ignoring ASCII case. A template
//!    compiled beside its source (`main.json` and `main.bicep`) is one deployment: the file
//!    links to both. A name that fits templates of two different stems is **not guessed**: it
//!    is left unlinked, said with `--verbose`, and can be linked in `armfix.toml`.
//!
//! From a template's side, the candidates are the files of its folder, of its `parameters/`
//! subfolder, every parameter file of its repository whose `metadata.template` names it (an
//! index built once per repository, bounded by [`MAX_INDEXED`] files; outside a repository,
//! the template's folder three levels deep) and the `armfix.toml`
//! links. This reads the disk itself, so a template named alone on the command line (the
//! pre-commit hook) is still evaluated with every file linked to it.
//!
//! PSRule's own settings (see [`crate::psrule`]) and `armfix.toml` may turn the linking of
//! JSON or `.bicepparam` files off, or require metadata links; see [`LinkSettings`].

use crate::eval::Configuration;
use crate::lang::arm::{jsonc, params};
use crate::lang::bicep;
use crate::run::{engine, read};
use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The most sibling files looked at in one folder: a folder holding more is searched only
/// by name, never read file by file.
const MAX_SIBLINGS: usize = 512;

/// The most files the repository-wide `metadata.template` index looks at: a larger
/// repository is indexed up to there (in the walk's order), and `--verbose` says so.
pub(crate) const MAX_INDEXED: usize = 20_000;

/// How parameter files are linked in this run: `armfix.toml` and flags over `ps-rule.yaml`
/// over the defaults (everything on, no explicit links).
#[derive(Debug, Clone)]
pub(crate) struct LinkSettings {
    /// Link JSON parameter files (PSRule: `AZURE_PARAMETER_FILE_EXPANSION`).
    pub(crate) json: bool,
    /// Link `.bicepparam` files (PSRule: `AZURE_BICEP_PARAMS_FILE_EXPANSION`).
    pub(crate) bicepparam: bool,
    /// Link JSON parameter files only by `metadata.template`, never by name (PSRule:
    /// `AZURE_PARAMETER_FILE_METADATA_LINK`).
    pub(crate) metadata_only: bool,
    /// Explicit links: a parameter file and its template, both canonical.
    pub(crate) links: Vec<(PathBuf, PathBuf)>,
    /// Say every link made, and every name left unlinked, on stderr.
    pub(crate) verbose: bool,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings {
            json: true,
            bicepparam: true,
            metadata_only: false,
            links: Vec::new(),
            verbose: false,
        }
    }
}

static SETTINGS: OnceLock<LinkSettings> = OnceLock::new();

/// Sets how this run links parameter files; the first call wins (a run has one setting).
pub(crate) fn configure(settings: LinkSettings) {
    let _ = SETTINGS.set(settings);
}

fn settings() -> &'static LinkSettings {
    static DEFAULT: OnceLock<LinkSettings> = OnceLock::new();
    SETTINGS
        .get()
        .unwrap_or_else(|| DEFAULT.get_or_init(LinkSettings::default))
}

/// The notes `--verbose` prints: every link made and why, every name not guessed.
static NOTES: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn note(line: String) {
    if settings().verbose {
        NOTES.lock().unwrap_or_else(|p| p.into_inner()).insert(line);
    }
}

/// Prints the notes gathered so far on stderr (sorted, each once) and forgets them.
pub(crate) fn flush_notes() {
    let notes = std::mem::take(&mut *NOTES.lock().unwrap_or_else(|p| p.into_inner()));
    for n in notes {
        crate::commands::note!("armfix: {n}");
    }
}

/// A parameter file linked to a template, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) file: PathBuf,
    pub(crate) why: String,
}

/// What a parameter file is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Targets {
    /// Not a parameter file, or linked to nothing on disk.
    None,
    /// Linked to these templates (one deployment: a template and its compiled twin), and why.
    Linked(Vec<PathBuf>, String),
    /// Its name fits templates of different stems; not guessed.
    Ambiguous(Vec<PathBuf>, String),
}

/// The defaults, then one configuration per linked parameter file (sorted by path).
pub(crate) fn for_template(template: Option<&Path>) -> Vec<Configuration> {
    let mut out = vec![Configuration::defaults()];
    let Some(template) = template else {
        return out;
    };
    for file in linked_files(template) {
        let Some(text) = read::read_text(&file) else {
            continue;
        };
        // A base file is deployed only through the files that extend it, each a
        // configuration of its own with the base's values under its own.
        if is_bicepparam(&file) && is_base(&text) {
            continue;
        }
        if let Some(c) = of_file(&file, &text) {
            out.push(c);
        }
    }
    out
}

/// The configuration a parameter file (ARM JSON or `.bicepparam`) gives, named by its path;
/// `None` when it does not parse. azd placeholders in JSON values are resolved as azd would
/// (see [`params::placeholder`]); one azd decides at deploy time is Unknown.
pub(crate) fn of_file(file: &Path, text: &str) -> Option<Configuration> {
    of_file_with(file, text, None)
}

/// The configurations a parameter file's values take part in, with the file read as
/// `text`: its own ([`of_file`]), or, for a base `.bicepparam` file (`using none`), that of
/// every file extending it (each with the base's values as `text` has them, under its own):
/// a base alone is no deployment. Empty when the file does not parse or no file extends it.
pub(crate) fn reached_by(file: &Path, text: &str) -> Vec<Configuration> {
    if !(is_bicepparam(file) && is_base(text)) {
        return of_file(file, text).into_iter().collect();
    }
    let Ok(canonical) = std::fs::canonicalize(file) else {
        return Vec::new();
    };
    extending(&canonical)
        .into_iter()
        .filter_map(|other| {
            let other_text = read::read_text(&other)?;
            of_file_with(&other, &other_text, Some((&canonical, text)))
        })
        .collect()
}

/// [`of_file`], with the base file at canonical path `replaced.0` read as `replaced.1`.
fn of_file_with(file: &Path, text: &str, replaced: Option<(&Path, &str)>) -> Option<Configuration> {
    let name = engine::display(&crate::run::discover::Candidate::File(file.to_path_buf()));
    if is_bicepparam(file) {
        let doc = bicep::parser::parse(text).ok()?;
        let mut c = crate::eval::bicep::configuration_from_bicepparam(&name, &doc, text);
        for (_, base) in bases(file, &doc, replaced) {
            for (k, v) in base.values {
                if !c.values.iter().any(|(n, _)| n.eq_ignore_ascii_case(&k)) {
                    c.values.push((k, v));
                }
            }
        }
        Some(c)
    } else {
        let root = jsonc::parse(text).ok()?;
        let mut c = crate::eval::arm::configuration_from_parameter_file(&name, &root.to_value());
        for (_, v) in &mut c.values {
            if let crate::eval::Value::Str(s) = v {
                if let Some(p) = params::placeholder(s) {
                    *v = params::placeholder_value(&p, file);
                }
            }
        }
        Some(c)
    }
}

/// Whether a `.bicepparam` file's text is a base file (`using none`).
fn is_base(text: &str) -> bool {
    text.contains("none") && bicep::parser::parse(text).is_ok_and(|d| d.using_none)
}

/// What a base `.bicepparam` file (`using none`) feeds: the templates of the files that
/// extend it ([`extending`]), sorted, each once. `Targets::None` when no file extends it.
fn extended_by(canonical: &Path) -> Targets {
    let mut templates: Vec<PathBuf> = Vec::new();
    let mut by: Vec<String> = Vec::new();
    for other in extending(canonical) {
        let Targets::Linked(ts, _) = targets(&other) else {
            continue;
        };
        by.push(show(&other));
        for t in ts {
            if !templates.contains(&t) {
                templates.push(t);
            }
        }
    }
    if templates.is_empty() {
        return Targets::None;
    }
    templates.sort();
    Targets::Linked(
        templates,
        format!(
            "it is the base (`using none`) that {} extends",
            by.join(", ")
        ),
    )
}

/// The `.bicepparam` files bound to a template (`using '…'`) that extend the base file at
/// `file` (canonical path `canonical`), directly or through other bases (`using none` files
/// between), found in the repository's index of `extends` statements ([`extends_index`]),
/// sorted, each once.
fn extending(canonical: &Path) -> Vec<PathBuf> {
    let index = extends_index(&repository_root(canonical));
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen: Vec<PathBuf> = vec![canonical.to_path_buf()];
    let mut todo: Vec<PathBuf> = vec![canonical.to_path_buf()];
    while let Some(base) = todo.pop() {
        for (other, bound) in index.get(&base).into_iter().flatten() {
            let Ok(c) = std::fs::canonicalize(other) else {
                continue;
            };
            if seen.contains(&c) || seen.len() > MAX_EXTENDS * 64 {
                continue;
            }
            seen.push(c.clone());
            if *bound {
                out.push(other.clone());
            } else {
                todo.push(c);
            }
        }
    }
    out.sort();
    out
}

/// Files by the base they `extends` (canonical), each with whether it is bound to a template
/// (`using '…'`; else it is a base itself): every `.bicepparam` file under `root` that says
/// `extends`, built once per root, walked like [`metadata_index`].
fn extends_index(root: &Path) -> Arc<HashMap<PathBuf, Vec<(PathBuf, bool)>>> {
    type Extends = HashMap<PathBuf, Vec<(PathBuf, bool)>>;
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, Arc<Extends>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(known) = seen.lock().ok().and_then(|m| m.get(root).cloned()) {
        return known;
    }
    let mut index: Extends = HashMap::new();
    let in_repository = root.join(".git").exists();
    let walk = ignore::WalkBuilder::new(root)
        .max_depth((!in_repository).then_some(3))
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walk.filter_map(Result::ok).take(MAX_INDEXED) {
        let path = entry.path();
        if !entry.file_type().is_some_and(|t| t.is_file()) || !is_bicepparam(path) {
            continue;
        }
        let Some(text) = read::read_text(path).filter(|t| t.contains("extends")) else {
            continue;
        };
        let Ok(doc) = bicep::parser::parse(&text) else {
            continue;
        };
        let Some(base) = doc
            .extends
            .as_ref()
            .and_then(|e| std::fs::canonicalize(join(&folder_of(path), e)).ok())
        else {
            continue;
        };
        index
            .entry(base)
            .or_default()
            .push((tidy(path), doc.using.is_some()));
    }
    let index = Arc::new(index);
    if let Ok(mut m) = seen.lock() {
        m.insert(root.to_path_buf(), index.clone());
    }
    index
}

/// How many `extends` a `.bicepparam` file's chain of base files may take.
const MAX_EXTENDS: usize = 16;

/// The base files a `.bicepparam` file (`doc`, at `file`) extends, nearest first, each with
/// the values it assigns itself: `extends 'base.bicepparam'` (relative to the file's folder,
/// Bicep CLI 0.44.1+) inherits the base's parameter assignments under the file's own, and a
/// base may extend another. A base that is missing, does not parse, or closes a cycle ends
/// the chain there. The values of a base's variables are evaluated in the base (they are not
/// the extending file's). The base at canonical path `replaced.0`, if any, is read as
/// `replaced.1`.
pub(crate) fn bases(
    file: &Path,
    doc: &bicep::ast::Doc,
    replaced: Option<(&Path, &str)>,
) -> Vec<(PathBuf, Configuration)> {
    let mut out: Vec<(PathBuf, Configuration)> = Vec::new();
    let mut seen: Vec<PathBuf> = std::fs::canonicalize(file).into_iter().collect();
    let mut next = doc.extends.as_ref().map(|e| join(&folder_of(file), e));
    while let Some(base) = next.take() {
        if out.len() >= MAX_EXTENDS {
            break;
        }
        let Ok(canonical) = std::fs::canonicalize(&base) else {
            break;
        };
        if seen.contains(&canonical) {
            break;
        }
        let text = match replaced {
            Some((at, text)) if at == canonical => Some(text.to_string()),
            _ => read::read_text(&base),
        };
        seen.push(canonical);
        let Some(text) = text else {
            break;
        };
        let Ok(bdoc) = bicep::parser::parse(&text) else {
            break;
        };
        let name = engine::display(&crate::run::discover::Candidate::File(base.clone()));
        let c = crate::eval::bicep::configuration_from_bicepparam(&name, &bdoc, &text);
        next = bdoc.extends.as_ref().map(|e| join(&folder_of(&base), e));
        out.push((base, c));
    }
    out
}

/// The parameter files linked to the template (sorted by path, each once).
pub(crate) fn linked_files(template: &Path) -> Vec<PathBuf> {
    links(template).into_iter().map(|l| l.file).collect()
}

/// The parameter files linked to the template, and why (sorted by path, each once).
pub(crate) fn links(template: &Path) -> Vec<Link> {
    let Some(canonical) = std::fs::canonicalize(template).ok() else {
        return Vec::new();
    };
    let dir = folder_of(template);
    let mut candidates: Vec<PathBuf> = Vec::new();
    for name in parameter_names_in(&dir).iter() {
        candidates.push(join(&dir, name));
    }
    let sub = dir.join("parameters");
    if sub.is_dir() {
        for name in parameter_names_in(&sub).iter() {
            candidates.push(join(&sub, name));
        }
    }
    if settings().json {
        let root = repository_root(&canonical);
        if let Some(found) = metadata_index(&root).get(&canonical) {
            candidates.extend(found.iter().cloned());
        }
    }
    for (file, t) in &settings().links {
        if *t == canonical {
            candidates.push(tidy(file));
        }
    }
    let mut out: Vec<Link> = Vec::new();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    for file in candidates {
        let Ok(c) = std::fs::canonicalize(&file) else {
            continue;
        };
        if c == canonical || !seen.insert(c) {
            continue;
        }
        match targets(&file) {
            Targets::Linked(ts, why) if ts.iter().any(|t| same_file(t, &canonical)) => {
                note(format!(
                    "linked {} to {}: {why}",
                    show(&file),
                    show(template)
                ));
                out.push(Link { file, why });
            }
            Targets::Ambiguous(ts, why) if ts.iter().any(|t| same_file(t, &canonical)) => {
                let names: Vec<String> = ts.iter().map(|t| show(t)).collect();
                note(format!(
                    "not linked {}: {why}, it fits {}; name its template in armfix.toml under \
                     [parameter-files.links]",
                    show(&file),
                    names.join(" and ")
                ));
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// The templates a parameter file is linked to, by the rules of this module's doc.
pub(crate) fn targets(file: &Path) -> Targets {
    static KNOWN: OnceLock<Mutex<HashMap<PathBuf, Targets>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    let key = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    if let Some(t) = known.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return t;
    }
    let t = targets_uncached(file, &key);
    if let Ok(mut m) = known.lock() {
        m.insert(key, t.clone());
    }
    t
}

fn targets_uncached(file: &Path, canonical: &Path) -> Targets {
    let s = settings();
    if let Some((_, t)) = s.links.iter().find(|(p, _)| p == canonical) {
        return Targets::Linked(
            vec![tidy(t)],
            "armfix.toml links it under [parameter-files.links]".into(),
        );
    }
    let dir = folder_of(file);
    if is_bicepparam(file) {
        if !s.bicepparam {
            return Targets::None;
        }
        let text = read::read_text(file);
        return match text.as_deref().and_then(bicep::using_target) {
            Some(u) if Path::new(&u).extension().is_some() => {
                let t = join(&dir, &u);
                if t.is_file() {
                    Targets::Linked(vec![t], format!("its `using` names {u}"))
                } else {
                    Targets::None
                }
            }
            _ if text.as_deref().is_some_and(is_base) => extended_by(canonical),
            _ => Targets::None,
        };
    }
    if !s.json || !is_json(file) {
        return Targets::None;
    }
    let names_schema = head_names_parameters(file);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !names_schema && !params::looks_named_like_parameters(std::ffi::OsStr::new(&name)) {
        return Targets::None;
    }
    if let Some(text) = read::read_text(file) {
        if let Some(rel) = params::metadata_template_text(&text) {
            return match resolve_metadata(file, &rel) {
                Some(t) => Targets::Linked(vec![t], format!("its metadata.template names {rel}")),
                None => Targets::None,
            };
        }
    }
    if s.metadata_only {
        return Targets::None;
    }
    let in_parameters_folder = dir
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("parameters"));
    for step in conventions(&name, in_parameters_folder, names_schema) {
        let folder = if step.parent {
            match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ if dir == Path::new(".") => PathBuf::from(".."),
                _ => PathBuf::from("."),
            }
        } else {
            dir.clone()
        };
        let scan = self::folder(&folder);
        let mut templates: Vec<String> = scan.templates.to_vec();
        // A crowded folder was not read file by file: a template named for the stem is
        // looked for by name.
        if let (true, Some(stem)) = (scan.crowded, &step.stem) {
            for ext in ["json", "jsonc", "bicep"] {
                let name = format!("{stem}.{ext}");
                let path = folder.join(&name);
                let is_template = path.is_file()
                    && (ext == "bicep"
                        || read::contains_ignore_ascii_case(&head(&path), b"deploymenttemplate"));
                if is_template && !templates.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
                    templates.push(name);
                }
            }
        }
        let found: Vec<&String> = templates
            .iter()
            .filter(|t| match &step.stem {
                Some(stem) => stem_of(t) == *stem,
                None => true,
            })
            .collect();
        if found.is_empty() {
            continue;
        }
        let stems: BTreeSet<String> = found.iter().map(|t| stem_of(t)).collect();
        let paths: Vec<PathBuf> = found.iter().map(|t| join(&folder, t)).collect();
        let why = format!("named like {}", step.convention);
        return if stems.len() > 1 {
            Targets::Ambiguous(paths, why)
        } else {
            Targets::Linked(paths, why)
        };
    }
    Targets::None
}

/// One naming convention to try: where the template is (the file's folder, or the one above
/// a `parameters/` folder), its stem (`None`: the folder's only template), and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    parent: bool,
    stem: Option<String>,
    convention: &'static str,
}

/// The conventions a (lower-case) parameter file name fits, in the order they are tried; the
/// first that finds a template decides. `schema`: the file names a `deploymentParameters`
/// schema (required for the generic names, `parameters.json` and `parameters/ENV.json`).
fn conventions(name: &str, in_parameters_folder: bool, schema: bool) -> Vec<Step> {
    let base = name
        .strip_suffix(".jsonc")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(name);
    let mut out = Vec::new();
    let mut push = |stem: Option<&str>, convention| {
        for parent in [false, true] {
            if parent && !in_parameters_folder {
                continue;
            }
            out.push(Step {
                parent,
                stem: stem.map(str::to_string),
                convention,
            });
        }
    };
    if let Some(i) = base.find(".parameters").filter(|&i| i > 0) {
        let (stem, rest) = (&base[..i], &base[i + ".parameters".len()..]);
        let convention = match rest.chars().next() {
            None => "STEM.parameters.json",
            Some('.') => "STEM.parameters.ENV.json",
            Some('-') => "STEM.parameters-ENV.json",
            Some(_) => return out,
        };
        push(Some(stem), convention);
        if let Some((shorter, _)) = stem.rsplit_once('.').filter(|(s, _)| !s.is_empty()) {
            push(Some(shorter), "STEM.ENV.parameters.json");
        }
        if stem == "azuredeploy" {
            push(Some("main"), "azuredeploy.parameters.json beside main");
        }
    } else if schema
        && (base == "parameters"
            || base.starts_with("parameters.")
            || base.starts_with("parameters-"))
    {
        push(None, "parameters.json (the folder's only template)");
    } else if schema && in_parameters_folder {
        out.push(Step {
            parent: true,
            stem: None,
            convention: "parameters/ENV.json (the only template above)",
        });
    }
    out
}

/// A template's stem for matching: its file name without the extension, lower case.
fn stem_of(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Where `metadata.template` points, as PSRule for Azure resolves it: `./` and `../` paths
/// from the parameter file's folder; others from that folder when the file exists there,
/// else from the repository's root. `None` when nothing is there.
fn resolve_metadata(file: &Path, rel: &str) -> Option<PathBuf> {
    let rel = rel.replace('\\', "/");
    let dir = folder_of(file);
    let local = join(&dir, &rel);
    if rel.starts_with("./") || rel.starts_with("../") || local.is_file() {
        return local.is_file().then_some(local);
    }
    let canonical = std::fs::canonicalize(&dir).ok()?;
    let from_root = repository_root(&canonical).join(&rel);
    from_root.is_file().then(|| tidy(&from_root))
}

/// The nearest folder at or above `start` (a file or folder) that holds `.git`; without one,
/// `start`'s own folder.
pub(crate) fn repository_root(start: &Path) -> PathBuf {
    let first = if start.is_dir() {
        start
    } else {
        start.parent().unwrap_or(start)
    };
    let mut dir = Some(first);
    while let Some(d) = dir {
        if d.join(".git").exists() {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    first.to_path_buf()
}

/// Parameter files by the template their `metadata.template` names (canonical).
type Index = HashMap<PathBuf, Vec<PathBuf>>;

/// Every JSON parameter file under `root` whose `metadata.template` names a template, by
/// that template (canonical), built once per root. Honours `.gitignore` like the walk.
fn metadata_index(root: &Path) -> Arc<Index> {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, Arc<Index>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(known) = seen.lock().ok().and_then(|m| m.get(root).cloned()) {
        return known;
    }
    let mut index: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
    let mut looked = 0usize;
    // Outside a repository the root is the template's own folder, and every template folder
    // has its own index: only three levels below it are looked at, so nested template
    // folders do not each walk a large tree again.
    let in_repository = root.join(".git").exists();
    let walk = ignore::WalkBuilder::new(root)
        .max_depth((!in_repository).then_some(3))
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walk.filter_map(Result::ok) {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        looked += 1;
        if looked > MAX_INDEXED {
            note(format!(
                "the repository at {} has more than {MAX_INDEXED} files: parameter files beyond \
                 them are linked only by name or armfix.toml",
                show(root)
            ));
            break;
        }
        let path = entry.path();
        if !is_json(path) || !head_names_parameters(path) {
            continue;
        }
        let Some(rel) = read::read_text(path).and_then(|t| params::metadata_template_text(&t))
        else {
            continue;
        };
        let Some(t) = resolve_metadata(path, &rel).and_then(|t| std::fs::canonicalize(t).ok())
        else {
            continue;
        };
        index.entry(t).or_default().push(tidy(path));
    }
    let index = Arc::new(index);
    if let Ok(mut m) = seen.lock() {
        m.insert(root.to_path_buf(), index.clone());
    }
    index
}

/// The names of the files of `dir` that may be parameter files (`.json`, `.jsonc`,
/// `.bicepparam`), read once per run.
fn parameter_names_in(dir: &Path) -> Arc<Vec<String>> {
    folder(dir).params.clone()
}

#[derive(Debug, Clone, Default)]
struct Folder {
    params: Arc<Vec<String>>,
    /// `.bicep` files, and JSON naming a `deploymentTemplate` schema in its first 4 KiB.
    templates: Arc<Vec<String>>,
    /// More than [`MAX_SIBLINGS`] JSON files: the rest were kept by name only.
    crowded: bool,
}

/// One folder's candidate parameter files and templates, read once per run: every template
/// with a cluster in the folder asks, and reading the folder's JSON files again for each
/// would cost as much as the walk.
fn folder(dir: &Path) -> Folder {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, Folder>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if let Some(known) = seen.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return known;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut params = Vec::new();
    let mut templates = Vec::new();
    let mut read = 0usize;
    for name in names {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".bicepparam") {
            params.push(name);
        } else if lower.ends_with(".bicep") {
            templates.push(name);
        } else if lower.ends_with(".json") || lower.ends_with(".jsonc") {
            // A folder with very many JSON files is searched by name only beyond the first
            // files: a parameter file named for its template is always kept.
            read += 1;
            if read > MAX_SIBLINGS {
                if params::looks_named_like_parameters(std::ffi::OsStr::new(&name)) {
                    params.push(name);
                }
                continue;
            }
            let head = head(&dir.join(&name));
            if read::contains_ignore_ascii_case(&head, b"deploymenttemplate") {
                templates.push(name);
            } else if read::contains_ignore_ascii_case(&head, b"deploymentparameters")
                || params::looks_named_like_parameters(std::ffi::OsStr::new(&name))
            {
                params.push(name);
            }
        }
    }
    let out = Folder {
        params: Arc::new(params),
        templates: Arc::new(templates),
        crowded: read > MAX_SIBLINGS,
    };
    if let Ok(mut m) = seen.lock() {
        m.insert(key, out.clone());
    }
    out
}

/// The first 4 KiB of `file` (empty when it cannot be read).
fn head(file: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut head = vec![0u8; 4096];
    let Ok(mut f) = std::fs::File::open(file) else {
        return Vec::new();
    };
    let n = f.read(&mut head).unwrap_or(0);
    head.truncate(n);
    head
}

/// Whether the first 4 KiB of `file` name a `deploymentParameters` schema.
fn head_names_parameters(file: &Path) -> bool {
    read::contains_ignore_ascii_case(&head(file), b"deploymentparameters")
}

fn is_bicepparam(file: &Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bicepparam"))
}

fn is_json(file: &Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("jsonc"))
}

/// The folder a path is in, `.` for a bare name.
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `dir/rel`, without a leading `./` for the working folder, and with `..` resolved where
/// the path allows it (`env/../main.json` is `main.json`).
fn join(dir: &Path, rel: impl AsRef<Path>) -> PathBuf {
    let joined = if dir == Path::new(".") {
        rel.as_ref().to_path_buf()
    } else {
        dir.join(rel)
    };
    lexical(&joined)
}

/// `path` with `.` dropped and `a/..` folded, without touching the disk.
pub(crate) fn lexical_path(path: &Path) -> PathBuf {
    lexical(path)
}

fn lexical(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// A path as the user knows it: relative to the working folder when under it.
fn tidy(path: &Path) -> PathBuf {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    let cwd = CWD.get_or_init(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| d.canonicalize().ok())
    });
    let path = lexical(path);
    match cwd {
        Some(cwd) if path.is_absolute() => path
            .strip_prefix(cwd)
            .map(Path::to_path_buf)
            .unwrap_or(path),
        _ => path,
    }
}

fn same_file(a: &Path, canonical: &Path) -> bool {
    std::fs::canonicalize(a).is_ok_and(|a| a == canonical)
}

fn show(path: &Path) -> String {
    engine::display(&crate::run::discover::Candidate::File(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `extends`: a file's own assignments over its base's, over the base's base; a missing
    /// base or a cycle ends the chain.
    #[test]
    fn extending_files_inherit_their_bases_values() {
        use crate::eval::Value;
        let dir = tempfile::tempdir().unwrap();
        let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        put(
            "root.bicepparam",
            "using none\nparam a = 'root'\nparam b = 'root'\nparam c = 'root'\n",
        );
        put(
            "mid.bicepparam",
            "using none\nextends 'root.bicepparam'\nvar v = 'mid'\nparam b = v\n",
        );
        put(
            "dev.bicepparam",
            "using 'main.bicep'\nextends './mid.bicepparam'\nparam c = 'dev'\n",
        );
        let values = |name: &str| {
            let file = dir.path().join(name);
            let text = std::fs::read_to_string(&file).unwrap();
            let mut v = of_file(&file, &text).unwrap().values;
            v.sort_by(|x, y| x.0.cmp(&y.0));
            v
        };
        let s = |x: &str| Value::Str(x.into());
        assert_eq!(
            values("dev.bicepparam"),
            [
                ("a".into(), s("root")),
                ("b".into(), s("mid")),
                ("c".into(), s("dev"))
            ]
        );
        // A cycle (root extends dev) and a missing base end the chain without a loop.
        put(
            "root.bicepparam",
            "using none\nextends 'dev.bicepparam'\nparam a = 'root'\n",
        );
        assert_eq!(values("dev.bicepparam").len(), 3);
        put(
            "mid.bicepparam",
            "using none\nextends 'gone.bicepparam'\nparam b = 'mid'\n",
        );
        assert_eq!(
            values("dev.bicepparam"),
            [("b".into(), s("mid")), ("c".into(), s("dev"))]
        );
    }

    fn stems(name: &str, in_parameters: bool) -> Vec<(bool, Option<String>)> {
        conventions(name, in_parameters, true)
            .into_iter()
            .map(|s| (s.parent, s.stem))
            .collect()
    }

    #[test]
    fn naming_conventions() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(stems("main.parameters.json", false), [(false, s("main"))]);
        assert_eq!(
            stems("main.parameters.prod.json", false),
            [(false, s("main"))]
        );
        assert_eq!(
            stems("main.parameters-prod.jsonc", false),
            [(false, s("main"))]
        );
        assert_eq!(
            stems("main.prod.parameters.json", false),
            [(false, s("main.prod")), (false, s("main"))]
        );
        assert_eq!(
            stems("azuredeploy.parameters.json", false),
            [(false, s("azuredeploy")), (false, s("main"))]
        );
        assert_eq!(stems("parameters.json", false), [(false, None)]);
        assert_eq!(stems("parameters.dev.json", false), [(false, None)]);
        assert_eq!(stems("dev.json", true), [(true, None)]);
        assert_eq!(
            stems("main.parameters.json", true),
            [(false, s("main")), (true, s("main"))]
        );
        assert!(stems("dev.json", false).is_empty());
        assert!(stems(".parameters.json", false).is_empty());
        assert!(stems("main.parametersx.json", false).is_empty());
        // Generic names need the schema.
        assert!(conventions("parameters.json", false, false).is_empty());
        assert!(conventions("dev.json", true, false).is_empty());
    }

    #[test]
    fn lexical_paths() {
        assert_eq!(
            lexical(Path::new("env/../main.json")),
            Path::new("main.json")
        );
        assert_eq!(lexical(Path::new("./a/./b.json")), Path::new("a/b.json"));
        assert_eq!(lexical(Path::new("../a.json")), Path::new("../a.json"));
        assert_eq!(join(Path::new("."), "x.json"), Path::new("x.json"));
    }
}
