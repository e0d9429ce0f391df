//! Finds the configurations a template is deployed with, so the deploy-time proof evaluates
//! each: its defaults, and every parameter file linked to it in its folder. A parameter file
//! is linked by name (`STEM.parameters.json`, `STEM.parameters.ENV.json`), by
//! `metadata.template` naming the template, or, for Bicep, by a `.bicepparam` file whose
//! `using` names it. This reads the folder itself, so a template named alone on the command
//! line is still evaluated with the parameter files beside it.

use crate::eval::Configuration;
use crate::lang::arm::{jsonc, params};
use crate::lang::bicep;
use crate::run::{engine, read};
use std::path::{Path, PathBuf};

/// The most sibling files looked at in one folder: a folder holding more is searched only
/// by name, never read file by file.
const MAX_SIBLINGS: usize = 512;

/// The defaults, then one configuration per linked parameter file (sorted by path).
pub(crate) fn for_template(template: Option<&Path>) -> Vec<Configuration> {
    let mut out = vec![Configuration::defaults()];
    let Some(template) = template else {
        return out;
    };
    for file in linked_files(template) {
        if let Some(c) = read::read_text(&file).and_then(|text| of_file(&file, &text)) {
            out.push(c);
        }
    }
    out
}

/// The configuration a parameter file (ARM JSON or `.bicepparam`) gives, named by its path;
/// `None` when it does not parse.
pub(crate) fn of_file(file: &Path, text: &str) -> Option<Configuration> {
    let name = engine::display(&crate::run::discover::Candidate::File(file.to_path_buf()));
    if is_bicepparam(file) {
        let doc = bicep::parser::parse(text).ok()?;
        Some(crate::eval::bicep::configuration_from_bicepparam(
            &name, &doc, text,
        ))
    } else {
        let root = jsonc::parse(text).ok()?;
        Some(crate::eval::arm::configuration_from_parameter_file(
            &name,
            &root.to_value(),
        ))
    }
}

/// The parameter files in the template's folder that are linked to it.
pub(crate) fn linked_files(template: &Path) -> Vec<PathBuf> {
    let dir = match template.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let canonical = std::fs::canonicalize(template).ok();
    let siblings = parameter_files_in(&dir);
    siblings
        .iter()
        .filter(|s| {
            let path = match template.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.join(&s.name),
                _ => PathBuf::from(&s.name),
            };
            path.as_path() != template
                && (params::named_for(template, &path)
                    || (s.target.is_some() && s.target.as_deref() == canonical.as_deref()))
        })
        .map(|s| match template.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.join(&s.name),
            _ => PathBuf::from(&s.name),
        })
        .collect()
}

/// A file of a folder that may be a parameter file: its name, and the template it names
/// (`metadata.template`, or a `.bicepparam`'s `using`), resolved, when it names one.
#[derive(Debug)]
struct Sibling {
    name: std::ffi::OsString,
    target: Option<PathBuf>,
}

/// The candidate parameter files of `dir`, read once per run: every template with a cluster
/// in the folder asks, and reading the folder's JSON files again for each would cost as
/// much as the walk. Only a file whose first 4 KiB name a `deploymentParameters` schema (or
/// a `.bicepparam`) is read in full.
fn parameter_files_in(dir: &Path) -> std::sync::Arc<Vec<Sibling>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, Arc<Vec<Sibling>>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(HashMap::new()));
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if let Some(known) = seen.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return known;
    }
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut names: Vec<std::ffi::OsString> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name())
            .filter(|n| {
                let n = n.to_string_lossy().to_ascii_lowercase();
                n.ends_with(".json") || n.ends_with(".jsonc") || n.ends_with(".bicepparam")
            })
            .collect();
        names.sort();
        // A folder with very many JSON files is searched by name only beyond the first
        // files: a parameter file named for its template is always kept.
        let mut read = 0;
        names.retain(|n| {
            let keep = read < MAX_SIBLINGS || params::looks_named_like_parameters(n);
            read += 1;
            keep
        });
        for name in names {
            let file = dir.join(&name);
            let target = if is_bicepparam(&file) {
                read::read_text(&file)
                    .and_then(|t| bicep::using_target(&t))
                    .map(|u| dir.join(u))
            } else if head_names_parameters(&file) {
                read::read_text(&file).and_then(|t| params::metadata_template(&file, &t))
            } else if params::looks_named_like_parameters(&name) {
                None
            } else {
                continue;
            };
            let target = target.and_then(|t| std::fs::canonicalize(t).ok());
            out.push(Sibling { name, target });
        }
    }
    let out = Arc::new(out);
    if let Ok(mut m) = seen.lock() {
        m.insert(key, out.clone());
    }
    out
}

/// Whether the first 4 KiB of `file` name a `deploymentParameters` schema.
fn head_names_parameters(file: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4096];
    let Ok(mut f) = std::fs::File::open(file) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    read::contains_ignore_ascii_case(&head[..n], b"deploymentparameters")
}

fn is_bicepparam(file: &Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bicepparam"))
}
