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
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let canonical = std::fs::canonicalize(template).ok();
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            // Keep the template's own spelling of the folder (`./x` stays `x`).
            match template.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.join(e.file_name()),
                _ => PathBuf::from(e.file_name()),
            }
        })
        .take(MAX_SIBLINGS)
        .collect();
    files.sort();
    files
        .into_iter()
        .filter(|f| f.as_path() != template)
        .filter(|f| links(template, canonical.as_deref(), f))
        .collect()
}

fn links(template: &Path, canonical: Option<&Path>, file: &Path) -> bool {
    if is_bicepparam(file) {
        return read::read_text(file)
            .and_then(|t| bicep::using_target(&t))
            .map(|u| file.parent().unwrap_or(Path::new("")).join(u))
            .and_then(|t| std::fs::canonicalize(t).ok())
            .is_some_and(|t| Some(t.as_path()) == canonical);
    }
    let json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("jsonc"));
    if !json {
        return false;
    }
    if params::named_for(template, file) {
        return true;
    }
    // `metadata.template`: only files that mention it are parsed.
    read::read_text(file).is_some_and(|t| {
        read::contains_ignore_ascii_case(t.as_bytes(), b"deploymentparameters")
            && params::metadata_template(file, &t)
                .and_then(|t| std::fs::canonicalize(t).ok())
                .is_some_and(|t| Some(t.as_path()) == canonical)
    })
}

fn is_bicepparam(file: &Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bicepparam"))
}
