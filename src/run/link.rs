//! Rewrites findings across files, after every file was processed on its own: parameter
//! files are analysed for the templates they feed (`link_parameter_files`), and ARM JSON
//! compiled from a scanned Bicep file points at its source (`point_compiled_json_at_bicep`).
//! A local Bicep module that a scanned file calls is judged through that call
//! (`settle_called_modules`).
//! Its one job: what one file's report says because of another file.

use crate::eval::provenance::ParamDemand;
use crate::finding::{Finding, Remedy};
use crate::lang::arm::params::{self, Demand};
use crate::run::discover::Candidate;
use crate::run::engine::{self, FileReport, Outcome};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// ARM JSON compiled from Bicep (`metadata._generator.name` is `bicep`): each finding is
/// about a cluster whose real source is a Bicep file, `STEM.bicep` beside the JSON or a local
/// module it calls (followed through the nested deployments on the finding's pointer). The
/// JSON's own proven fix is kept whatever its source does, so that one run reaches a state a
/// second run leaves alone (a bot re-runs `fix --yes`): were the JSON left for a rebuild
/// while its source is fixed, the next run would find the source passing and the JSON stale,
/// and fix the JSON then. Its findings name the source and what the run does there: it has a
/// fix of its own in this run (rebuild later gives the same), it already passes (a stale
/// build), it needs the same change, or none was found beside the JSON. A finding the JSON
/// cannot fix itself, whose source has a fix, says to apply that and rebuild. No message
/// claims the source is fixed: whether it is written is decided later (a prompt, a dry run,
/// a failed write).
pub(crate) fn point_compiled_json_at_bicep(reports: &mut [FileReport]) {
    // Scanned Bicep files with a fix of their own in this run (canonical paths).
    let fixing: HashSet<PathBuf> = reports
        .iter()
        .filter_map(|r| match (&r.candidate, &r.outcome) {
            (
                Candidate::File(p),
                Outcome::Analysed {
                    fixed: Some(_),
                    analysis,
                    ..
                },
            ) if analysis.fixable() > 0 => std::fs::canonicalize(p).ok(),
            _ => None,
        })
        .collect();
    // Scanned Bicep files analysed without any finding.
    let clean: HashSet<PathBuf> = reports
        .iter()
        .filter_map(|r| match (&r.candidate, &r.outcome) {
            (Candidate::File(p), Outcome::Analysed { analysis, .. })
                if analysis.findings.is_empty()
                    && p.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("bicep")) =>
            {
                std::fs::canonicalize(p).ok()
            }
            _ => None,
        })
        .collect();
    for r in reports.iter_mut() {
        let Candidate::File(path) = &r.candidate else {
            continue;
        };
        let Outcome::Analysed {
            original, analysis, ..
        } = &mut r.outcome
        else {
            continue;
        };
        if !analysis.compiled_from_bicep || analysis.findings.is_empty() {
            continue;
        }
        let text = if original.is_empty() {
            crate::run::read::read_text(path).unwrap_or_default()
        } else {
            original.clone()
        };
        let json = crate::lang::arm::jsonc::parse(&text)
            .ok()
            .map(|root| root.to_value());
        let stem = path.with_extension("bicep");
        let stem_name = stem
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Per finding: the file its cluster is written in, and whether a file on the way
        // there has a fix of its own in this run.
        let sources: Vec<Option<(String, Source)>> = analysis
            .findings
            .iter()
            .map(|f| {
                let chain = json
                    .as_ref()
                    .map(|j| bicep_sources(&stem, j, f.pointer.as_deref().unwrap_or("")))
                    .unwrap_or_default();
                let source = chain.last()?;
                let canonical: Vec<PathBuf> = chain
                    .iter()
                    .filter_map(|c| std::fs::canonicalize(c).ok())
                    .collect();
                let state = if canonical.iter().any(|c| fixing.contains(c)) {
                    Source::Fixed
                } else if canonical.len() == chain.len()
                    && canonical.iter().all(|c| clean.contains(c))
                {
                    Source::Passes
                } else {
                    Source::Unfixed
                };
                Some((engine::display(&Candidate::File(source.clone())), state))
            })
            .collect();
        for (f, source) in analysis.findings.iter_mut().zip(sources) {
            let reason = match source {
                None if f.is_fixable() => {
                    f.message = format!(
                        "{} (this file was compiled from Bicep, but its source is not beside it \
                         as {stem_name}: make the same change there too, or the next build \
                         brings it back)",
                        f.message
                    );
                    continue;
                }
                Some((shown, Source::Passes)) if f.is_fixable() => {
                    f.message = format!(
                        "{} (this file was compiled from Bicep and is stale: its source {shown} \
                         already passes, so rebuilding it gives the same result)",
                        f.message
                    );
                    continue;
                }
                Some((shown, Source::Unfixed)) if f.is_fixable() => {
                    f.message = format!(
                        "{} (this file was compiled from Bicep: make the same change in its \
                         source {shown}, or the next build brings it back)",
                        f.message
                    );
                    continue;
                }
                Some((shown, Source::Fixed)) if f.is_fixable() => {
                    f.message = format!(
                        "{} (this file was compiled from Bicep: its source {shown} has its own \
                         fix in this run, and this file's fix keeps it passing until it is \
                         rebuilt with `az bicep build --file {stem_name}`)",
                        f.message
                    );
                    continue;
                }
                Some((shown, Source::Fixed)) => format!(
                    "compiled from Bicep: the cluster is in {shown}, where armfix reports its \
                     own fix; apply that, then rebuild this file (`az bicep build --file \
                     {stem_name}`)"
                ),
                _ => continue,
            };
            f.message = format!("{}; {reason}", f.message);
            f.remedy = Remedy::ManualReview {
                reason,
                expression: None,
            };
            f.source = None;
        }
    }
}

/// What this run does with the Bicep source of a compiled template's cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A file on the way to the cluster has a fix of its own.
    Fixed,
    /// Every file on the way was analysed without a finding: the JSON is stale.
    Passes,
    /// Neither: not scanned, or only manual review there.
    Unfixed,
}

/// The Bicep files a compiled template's cluster at `pointer` comes from: `stem` (the
/// `.bicep` beside the JSON), then for each nested deployment on the pointer the local module
/// it was compiled from, matched by symbolic name (languageVersion 2.0), by its literal
/// deployment `name`, or as the file's only local module. Empty when `stem` does not exist;
/// it stops at a module that cannot be matched or is not on disk.
fn bicep_sources(stem: &Path, json: &serde_json::Value, pointer: &str) -> Vec<PathBuf> {
    let mut chain = Vec::new();
    if !stem.is_file() {
        return chain;
    }
    chain.push(stem.to_path_buf());
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut node = json;
    let mut i = 0;
    while i + 3 < tokens.len() {
        let nested = tokens[i] == "resources"
            && tokens[i + 2].eq_ignore_ascii_case("properties")
            && tokens[i + 3].eq_ignore_ascii_case("template");
        if !nested {
            i += 1;
            continue;
        }
        let key = &tokens[i + 1];
        let deployment = match &node["resources"] {
            serde_json::Value::Array(a) => key.parse::<usize>().ok().and_then(|k| a.get(k)),
            serde_json::Value::Object(o) => o.get(key),
            _ => None,
        };
        let Some(deployment) = deployment else { break };
        let current = chain.last().expect("the stem is first").clone();
        let Some(text) = crate::run::read::read_text(&current) else {
            break;
        };
        let Ok(doc) = crate::lang::bicep::parser::parse(&text) else {
            break;
        };
        let local: Vec<_> = doc
            .modules
            .iter()
            .filter(|m| crate::lang::bicep::plan::is_local_module(&m.target))
            .collect();
        let literal_name = |m: &&crate::lang::bicep::ast::Decl| {
            let (body, _) = crate::lang::bicep::plan::unwrap_body(&doc, m.body);
            let member = doc
                .object(body)?
                .members
                .iter()
                .find(|x| x.key.as_deref() == Some("name"))?;
            match &doc.node(member.value).kind {
                crate::lang::bicep::ast::Kind::Str(s) => Some(s.clone()),
                _ => None,
            }
        };
        let by_symbol = local.iter().find(|m| &m.name == key);
        let by_name = deployment["name"]
            .as_str()
            .and_then(|n| local.iter().find(|m| literal_name(m).as_deref() == Some(n)));
        let only = (local.len() == 1).then(|| &local[0]);
        let Some(module) = by_symbol.or(by_name).or(only) else {
            break;
        };
        let file = lexical(
            &current
                .parent()
                .unwrap_or(Path::new(""))
                .join(&module.target),
        );
        if !file.is_file() {
            break;
        }
        chain.push(file);
        node = &deployment["properties"]["template"];
        i += 4;
    }
    chain
}

/// `path` with `.` and `name/..` removed without touching the disk (the module's path as its
/// caller names it, for messages).
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Replaces the reports of parameter files that feed a scanned template's rotation setting
/// with their analysis. Parameter files of templates that were not scanned stay untouched.
pub(crate) fn link_parameter_files(reports: &mut [FileReport], unsafe_fixes: bool) {
    let mut wanted: Vec<(usize, Vec<Demand>)> = Vec::new();
    let templates: Vec<(PathBuf, String, Vec<ParamDemand>)> = reports
        .iter()
        .filter_map(|r| match (&r.candidate, &r.outcome) {
            (Candidate::File(p), Outcome::Analysed { analysis, .. })
                if !analysis.parameters.is_empty() =>
            {
                Some((p.clone(), r.display(), analysis.parameters.clone()))
            }
            _ => None,
        })
        .collect();
    if templates.is_empty() {
        return;
    }
    // Each of those templates as its own fixes leave it, for the parameter files' proof.
    let fixed_texts: std::collections::HashMap<PathBuf, std::sync::Arc<String>> = reports
        .iter()
        .filter(|r| {
            matches!(&r.candidate, Candidate::File(p) if templates.iter().any(|(t, ..)| t == p))
        })
        .filter_map(|r| match (&r.candidate, &r.outcome) {
            (
                Candidate::File(p),
                Outcome::Analysed {
                    fixed: Some(fixed), ..
                },
            ) => Some((p.clone(), std::sync::Arc::new(fixed.clone()))),
            _ => None,
        })
        .collect();
    // The parameter files linked to each template (by name, `metadata.template` from any
    // folder, or armfix.toml, as the deploy-time proof reads them), among the scanned files.
    let index: std::collections::HashMap<PathBuf, usize> = reports
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match (&r.candidate, &r.outcome) {
            (Candidate::File(p), Outcome::Skipped) => {
                Some((std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()), i))
            }
            _ => None,
        })
        .collect();
    let demands_of = |t: &PathBuf, display: &String, needs: &[ParamDemand]| -> Vec<Demand> {
        needs
            .iter()
            .map(|n| Demand {
                parameter: n.clone(),
                template: display.clone(),
                template_path: t.clone(),
                template_fixed: fixed_texts.get(t).cloned(),
            })
            .collect()
    };
    let mut by_file: std::collections::BTreeMap<usize, Vec<Demand>> = Default::default();
    for (t, display, needs) in &templates {
        for file in crate::run::configurations::linked_files(t) {
            if file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("bicepparam"))
            {
                continue; // read below, by `using`
            }
            let key = std::fs::canonicalize(&file).unwrap_or(file);
            let Some(&i) = index.get(&key) else { continue };
            let demands = by_file.entry(i).or_default();
            for d in demands_of(t, display, needs) {
                if !demands.contains(&d) {
                    demands.push(d);
                }
            }
        }
    }
    // And a scanned parameter file outside the templates' repositories whose
    // `metadata.template` (or armfix.toml) links it to a scanned template.
    let canonical_templates: Vec<Option<PathBuf>> = templates
        .iter()
        .map(|(t, ..)| std::fs::canonicalize(t).ok())
        .collect();
    for (key, &i) in &index {
        if by_file.contains_key(&i) || !is_json(key) {
            continue;
        }
        let crate::run::configurations::Targets::Linked(targets, _) =
            crate::run::configurations::targets(key)
        else {
            continue;
        };
        let targets: Vec<PathBuf> = targets
            .iter()
            .filter_map(|t| std::fs::canonicalize(t).ok())
            .collect();
        let mut demands = Vec::new();
        for ((t, display, needs), c) in templates.iter().zip(&canonical_templates) {
            if c.as_ref().is_some_and(|c| targets.contains(c)) {
                demands.extend(demands_of(t, display, needs));
            }
        }
        if !demands.is_empty() {
            wanted.push((i, demands));
        }
    }
    wanted.extend(by_file);
    wanted.sort_by_key(|(i, _)| *i);
    replace_linked(
        reports,
        &wanted,
        unsafe_fixes,
        engine::process_parameter_file,
    );

    // `.bicepparam` files name their template in `using '…'` (relative to their folder).
    // One is analysed when that template was scanned and demands parameters, unless its own
    // analysis (e.g. as parameters of the AKS module) already found something.
    let canonical: Vec<Option<PathBuf>> = templates
        .iter()
        .map(|(t, ..)| std::fs::canonicalize(t).ok())
        .collect();
    let mut bicepparams: Vec<(usize, Vec<Demand>)> = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let Candidate::File(p) = &r.candidate else {
            continue;
        };
        let free = match &r.outcome {
            Outcome::Skipped => true,
            Outcome::Analysed { analysis, .. } => analysis.findings.is_empty(),
            Outcome::Error(_) => false,
        };
        if !free
            || !p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("bicepparam"))
        {
            continue;
        }
        // Linked by `using` (or armfix.toml), unless the settings turn `.bicepparam` off.
        let crate::run::configurations::Targets::Linked(targets, _) =
            crate::run::configurations::targets(p)
        else {
            continue;
        };
        let Some(target) = targets.first().and_then(|t| std::fs::canonicalize(t).ok()) else {
            continue;
        };
        let demands: Vec<Demand> = templates
            .iter()
            .zip(&canonical)
            .filter(|(_, c)| c.as_ref() == Some(&target))
            .flat_map(|((t, display, needs), _)| {
                needs.iter().map(|n| Demand {
                    parameter: n.clone(),
                    template: display.clone(),
                    template_path: t.clone(),
                    template_fixed: fixed_texts.get(t).cloned(),
                })
            })
            .collect();
        if !demands.is_empty() {
            bicepparams.push((i, demands));
        }
    }
    replace_linked(
        reports,
        &bicepparams,
        unsafe_fixes,
        engine::process_bicepparam_file,
    );
}

fn is_json(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("jsonc"))
}

/// Processes the linked parameter files (report index and demands) in parallel with
/// `process`, and puts their reports in place of the ones the walk made.
fn replace_linked(
    reports: &mut [FileReport],
    linked: &[(usize, Vec<Demand>)],
    unsafe_fixes: bool,
    process: fn(&PathBuf, &[Demand], bool) -> FileReport,
) {
    let done: Vec<(usize, FileReport)> = linked
        .par_iter()
        .filter_map(|(i, demands)| match &reports[*i].candidate {
            Candidate::File(p) => Some((*i, process(p, demands, unsafe_fixes))),
            Candidate::Stdin => None,
        })
        .collect();
    for (i, report) in done {
        reports[i] = report;
    }
}

/// A local Bicep module called by a scanned Bicep file is evaluated, with that call's
/// arguments, as part of the caller's deployment, and its clusters are fixed or reported
/// there. Read alone, the module has no values for the parameters its callers pass, so its
/// manual-review findings about them say nothing the callers' reports do not: they go. Its
/// fixable findings (a literal in the module itself) stay.
pub(crate) fn settle_called_modules(reports: &mut [FileReport], unsafe_fixes: bool) {
    let bicep = |p: &Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("bicep"))
    };
    // Each called module (canonical path), with its callers: their path and text.
    let mut called: std::collections::HashMap<PathBuf, Vec<(PathBuf, String)>> = Default::default();
    for r in reports.iter() {
        let Candidate::File(p) = &r.candidate else {
            continue;
        };
        if !bicep(p) {
            continue;
        }
        // Only a caller that was analysed judged its modules' clusters.
        let Outcome::Analysed {
            original, analysis, ..
        } = &r.outcome
        else {
            continue;
        };
        if analysis.clusters.is_empty() {
            continue;
        }
        let Some(text) = engine::text_of(p, original) else {
            continue;
        };
        let Ok(doc) = crate::lang::bicep::parser::parse(&text) else {
            continue;
        };
        let dir = p.parent().unwrap_or(Path::new(""));
        for m in &doc.modules {
            let judged = analysis
                .clusters
                .iter()
                .any(|k| k.strip_prefix("/resources/") == Some(m.name.as_str()));
            if judged && crate::lang::bicep::plan::is_local_module(&m.target) {
                if let Ok(c) = std::fs::canonicalize(dir.join(&m.target)) {
                    let callers = called.entry(c).or_default();
                    if !callers.iter().any(|(q, _)| q == p) {
                        callers.push((p.clone(), text.clone()));
                    }
                }
            }
        }
    }
    if called.is_empty() {
        return;
    }
    // The callers' fixed texts, to tell whether they settle a module's clusters themselves.
    let caller_fixes: std::collections::HashMap<PathBuf, String> =
        if crate::psrule::suppresses_any() {
            reports
                .iter()
                .filter_map(|r| match (&r.candidate, &r.outcome) {
                    (
                        Candidate::File(p),
                        Outcome::Analysed {
                            fixed: Some(text), ..
                        },
                    ) if called.values().flatten().any(|(c, _)| c == p) => {
                        Some((p.clone(), text.clone()))
                    }
                    _ => None,
                })
                .collect()
        } else {
            Default::default()
        };
    // Each called module's fixed text, as the loop below leaves it (canonical path).
    let mut module_fixes: std::collections::HashMap<PathBuf, String> = Default::default();
    for r in reports.iter_mut() {
        let Candidate::File(p) = &r.candidate else {
            continue;
        };
        let Some((canonical, callers)) = std::fs::canonicalize(p)
            .ok()
            .and_then(|c| called.get(&c).map(|callers| (c, callers)))
        else {
            continue;
        };
        let Outcome::Analysed {
            analysis, fixed, ..
        } = &mut r.outcome
        else {
            continue;
        };
        analysis.findings.retain(|f| f.is_fixable());
        // The module's own fixes, proven with each caller's arguments too: what the module
        // deploys is what its callers make of it.
        let Some(text) = fixed.as_deref() else {
            continue;
        };
        // A module fix that changes a cluster the PSRule settings leave alone, through a
        // caller, is never written, even with --unsafe-fixes. When the callers settle every
        // call themselves (their own fixes pass, or the call's clusters are suppressed), the
        // module's finding goes; otherwise it is manual review naming the suppressed cluster.
        let suppressed = suppressed_through_callers(&canonical, text, callers);
        if !suppressed.is_empty() {
            let settled = callers_settle(&canonical, callers, &caller_fixes);
            let reason = crate::psrule::leaves_alone(&suppressed);
            if settled {
                analysis.findings.retain(|f| !f.is_fixable());
            }
            analysis.withdraw_fixes(&reason, |_| true);
            *fixed = None;
            continue;
        }
        let effects = through_callers(&canonical, text, callers);
        if effects.is_empty() {
            continue;
        }
        for f in analysis.findings.iter_mut().filter(|f| f.is_fixable()) {
            f.applicability = crate::finding::Applicability::Unsafe;
            f.side_effects = effects.clone();
        }
        if !unsafe_fixes {
            analysis.edits.clear();
            analysis.patch.clear();
            *fixed = None;
        }
    }
    for r in reports.iter() {
        if let (
            Candidate::File(p),
            Outcome::Analysed {
                fixed: Some(text), ..
            },
        ) = (&r.candidate, &r.outcome)
        {
            if let Some(c) = std::fs::canonicalize(p)
                .ok()
                .filter(|c| called.contains_key(c))
            {
                module_fixes.insert(c, text.clone());
            }
        }
    }
    settle_callers(reports, &module_fixes);
}

/// One run reaches the fixed state: a caller's manual-review finding about a cluster that
/// one of its local modules deploys is dropped when, with that module as this run's fix
/// leaves it, the cluster passes (or is out of scope) in every configuration of the caller.
/// Without this, the caller would report a failure the module's own fix settles, and only
/// a second run would be clean.
fn settle_callers(
    reports: &mut [FileReport],
    module_fixes: &std::collections::HashMap<PathBuf, String>,
) {
    if module_fixes.is_empty() {
        return;
    }
    drop_settled(reports, |caller, original, _| {
        let mut settled: HashSet<String> = HashSet::new();
        let Ok(doc) = crate::lang::bicep::parser::parse(original) else {
            return settled;
        };
        let dir = caller.parent().unwrap_or(Path::new(""));
        let configurations = crate::run::configurations::for_template(Some(caller));
        for m in &doc.modules {
            if !crate::lang::bicep::plan::is_local_module(&m.target) {
                continue;
            }
            let Some((module, fixed)) = std::fs::canonicalize(dir.join(&m.target))
                .ok()
                .and_then(|c| module_fixes.get_key_value(&c))
            else {
                continue;
            };
            let origin = ["resources".to_string(), m.name.clone()];
            let passes = configurations.iter().all(|config| {
                let after = crate::lang::bicep::evaluate_with(
                    &doc,
                    original,
                    config,
                    Some(caller),
                    Some((module, fixed)),
                );
                after.is_some_and(|d| passes_under(&d, &origin))
            });
            if passes {
                settled.insert(jsonptr::PointerBuf::from_tokens(&origin).to_string());
            }
        }
        settled
    });
}

/// Drops, from each file with a manual-review finding, the manual-review findings about the
/// clusters that `settled(path, original text, analysis)` says pass once this run's other
/// fixes are written (the caller's side of [`settle_callers`] and
/// [`settle_linking_templates`]).
fn drop_settled(
    reports: &mut [FileReport],
    mut settled: impl FnMut(&Path, &str, &crate::finding::Analysis) -> HashSet<String>,
) {
    for r in reports.iter_mut() {
        let Candidate::File(caller) = &r.candidate else {
            continue;
        };
        let Outcome::Analysed {
            original, analysis, ..
        } = &mut r.outcome
        else {
            continue;
        };
        if analysis.manual() == 0 || original.is_empty() {
            continue;
        }
        let settled = settled(caller, original, analysis);
        if settled.is_empty() {
            continue;
        }
        analysis
            .findings
            .retain(|f| f.is_fixable() || !f.cluster.as_ref().is_some_and(|k| settled.contains(k)));
    }
}

/// ARM's counterpart of [`settle_callers`]: a template's manual-review finding about a
/// cluster that a template it links by a relative path deploys is dropped when, with a
/// linked file as this run's fix leaves it, the cluster passes (or is out of scope) in every
/// configuration of the linking template. Without this, `fix --yes` would write the linked
/// file's own fix and still report the caller's failure that fix settles.
pub(crate) fn settle_linking_templates(reports: &mut [FileReport]) {
    keep_linked_fixes_off_suppressed(reports);
    let json = |p: &Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    };
    // Only a template with a manual review that links another can be settled: without one,
    // nothing below is needed (and every fixed text would be copied for nothing).
    let asks = |r: &FileReport| {
        matches!(&r.candidate, Candidate::File(c) if json(c))
            && matches!(&r.outcome, Outcome::Analysed { original, analysis, .. }
                if analysis.manual() > 0
                    && crate::run::read::mentions_any(original.as_bytes(), &["templatelink"]))
    };
    if !reports.iter().any(asks) {
        return;
    }
    // Each ARM file's fixed text, by canonical path.
    let mut fixes: Vec<(PathBuf, String)> = Vec::new();
    for r in reports.iter() {
        if let (
            Candidate::File(p),
            Outcome::Analysed {
                fixed: Some(text), ..
            },
        ) = (&r.candidate, &r.outcome)
        {
            if let Some(c) = std::fs::canonicalize(p).ok().filter(|_| json(p)) {
                fixes.push((c, text.clone()));
            }
        }
    }
    if fixes.is_empty() {
        return;
    }
    drop_settled(reports, |caller, original, analysis| {
        let mut settled: HashSet<String> = HashSet::new();
        if !json(caller) || !crate::run::read::mentions_any(original.as_bytes(), &["templatelink"])
        {
            return settled;
        }
        let Ok(root) = crate::lang::arm::jsonc::parse(original) else {
            return settled;
        };
        let dir = caller.parent().unwrap_or(Path::new(""));
        let own = std::fs::canonicalize(caller).ok();
        let linked = crate::eval::linked::linked_deployments(&root.to_value(), dir);
        let manual: HashSet<&String> = analysis
            .findings
            .iter()
            .filter(|f| !f.is_fixable())
            .filter_map(|f| f.cluster.as_ref())
            .collect();
        let asked: Vec<&String> = linked.iter().filter(|k| manual.contains(k)).collect();
        if asked.is_empty() {
            return settled;
        }
        let configurations = crate::run::configurations::for_template(Some(caller));
        for (module, fixed) in fixes.iter().filter(|(m, _)| Some(m) != own.as_ref()) {
            let after: Vec<_> = configurations
                .iter()
                .map(|config| {
                    crate::eval::linked::from_folder(Some(dir), Some((module, fixed)), || {
                        crate::lang::arm::evaluate_json(original, config)
                    })
                })
                .collect();
            for key in &asked {
                let Ok(pointer) = jsonptr::Pointer::parse(key.as_str()) else {
                    continue;
                };
                let origin: Vec<String> = pointer.tokens().map(|t| t.decoded().into()).collect();
                let passes = after
                    .iter()
                    .all(|d| d.as_ref().is_some_and(|d| passes_under(d, &origin)));
                if passes {
                    settled.insert((*key).clone());
                }
            }
        }
        settled
    });
}

/// A linked template's fix (a file that a scanned ARM template links by a relative path)
/// that changes a cluster the PSRule settings leave alone, in a linking template's
/// deployment (any of its configurations), is never written: its findings are manual review
/// naming the suppressed cluster, and the linking template keeps its own findings about the
/// other calls. (Passing the value in the other calls only, as a Bicep caller's fix does, is
/// not an edit armfix makes in a linking ARM template today.)
fn keep_linked_fixes_off_suppressed(reports: &mut [FileReport]) {
    if !crate::psrule::suppresses_any() {
        return;
    }
    let json = |p: &Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    };
    let linking: Vec<(PathBuf, String)> = reports
        .iter()
        .filter_map(|r| match (&r.candidate, &r.outcome) {
            (Candidate::File(p), Outcome::Analysed { original, .. }) if json(p) => {
                let text = if original.is_empty() {
                    crate::run::read::read_text(p)?
                } else {
                    original.clone()
                };
                crate::run::read::mentions_any(text.as_bytes(), &["templatelink"])
                    .then(|| (p.clone(), text))
            }
            _ => None,
        })
        .collect();
    if linking.is_empty() {
        return;
    }
    for r in reports.iter_mut() {
        let Candidate::File(p) = &r.candidate else {
            continue;
        };
        if !json(p) {
            continue;
        }
        let Outcome::Analysed {
            analysis,
            fixed: Some(text),
            ..
        } = &mut r.outcome
        else {
            continue;
        };
        let Ok(module) = std::fs::canonicalize(p) else {
            continue;
        };
        let file_name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut suppressed: Vec<String> = Vec::new();
        // A caller that links this file names it in a relative path: the others are not
        // evaluated (a repository with suppressions and many templates stays linear).
        for (caller, original) in linking.iter().filter(|(c, text)| {
            c != p && crate::run::read::mentions_any(text.as_bytes(), &[file_name.as_str()])
        }) {
            let dir = caller.parent().unwrap_or(Path::new(""));
            let name = engine::display(&Candidate::File(caller.clone()));
            for config in crate::run::configurations::for_template(Some(caller)) {
                let evaluate = |replaced: Option<(&Path, &str)>| {
                    crate::eval::linked::from_folder(Some(dir), replaced, || {
                        crate::lang::arm::evaluate_json(original, &config)
                    })
                };
                let (Some(before), Some(after)) =
                    (evaluate(None), evaluate(Some((&module, text.as_str()))))
                else {
                    continue;
                };
                for c in crate::psrule::suppressed_changes(&before, &after) {
                    let c = format!("{c} (through {name})");
                    if !suppressed.contains(&c) {
                        suppressed.push(c);
                    }
                }
            }
        }
        if suppressed.is_empty() {
            continue;
        }
        let reason = crate::psrule::leaves_alone(&suppressed);
        analysis.withdraw_fixes(&reason, |_| true);
        r.outcome = match std::mem::replace(&mut r.outcome, Outcome::Skipped) {
            Outcome::Analysed {
                original, analysis, ..
            } => Outcome::Analysed {
                original,
                analysis,
                fixed: None,
            },
            other => other,
        };
    }
}

/// The suppressed clusters (see [`crate::psrule::suppressed_changes`]) that a module's fixed
/// text changes in its callers' deployments (every configuration of each caller), each
/// naming the caller.
fn suppressed_through_callers(
    module: &Path,
    fixed: &str,
    callers: &[(PathBuf, String)],
) -> Vec<String> {
    if !crate::psrule::suppresses_any() {
        return Vec::new();
    }
    in_each_caller(module, fixed, callers, |name, before, after| {
        crate::psrule::suppressed_changes(before, after)
            .into_iter()
            .map(|c| format!("{c} (through {name})"))
            .collect()
    })
}

/// Evaluates each caller of `module` in each of its configurations with the module as it is
/// and as `fixed`, and gathers what `say(caller's name, before, after)` says of the pair,
/// each sentence once.
fn in_each_caller(
    module: &Path,
    fixed: &str,
    callers: &[(PathBuf, String)],
    say: impl Fn(&str, &crate::eval::Deployment, &crate::eval::Deployment) -> Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (caller, text) in callers {
        let Ok(doc) = crate::lang::bicep::parser::parse(text) else {
            continue;
        };
        let name = engine::display(&Candidate::File(caller.clone()));
        for config in crate::run::configurations::for_template(Some(caller)) {
            let evaluate = |replaced| {
                crate::lang::bicep::evaluate_with(&doc, text, &config, Some(caller), replaced)
            };
            let (Some(before), Some(after)) = (evaluate(None), evaluate(Some((module, fixed))))
            else {
                continue;
            };
            for e in say(&name, &before, &after) {
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
    }
    out
}

/// Whether every call of `module` in its callers, as their own fixes leave them
/// (`caller_fixes`), deploys clusters that pass or that the PSRule settings leave alone, in
/// every configuration: then the callers' reports say all there is about the module.
fn callers_settle(
    module: &Path,
    callers: &[(PathBuf, String)],
    caller_fixes: &std::collections::HashMap<PathBuf, String>,
) -> bool {
    callers.iter().all(|(caller, original)| {
        let text = caller_fixes.get(caller).unwrap_or(original);
        let Ok(doc) = crate::lang::bicep::parser::parse(text) else {
            return false;
        };
        let dir = caller.parent().unwrap_or(Path::new(""));
        let origins: Vec<Vec<String>> = doc
            .modules
            .iter()
            .filter(|m| crate::lang::bicep::plan::is_local_module(&m.target))
            .filter(|m| {
                std::fs::canonicalize(dir.join(&m.target)).is_ok_and(|c| c.as_path() == module)
            })
            .map(|m| vec!["resources".to_string(), m.name.clone()])
            .collect();
        crate::run::configurations::for_template(Some(caller))
            .iter()
            .all(|config| {
                let Some(d) =
                    crate::lang::bicep::evaluate_with(&doc, text, config, Some(caller), None)
                else {
                    return false;
                };
                origins
                    .iter()
                    .all(|o| passes_under(&d, o) || crate::psrule::suppressed_under(&d, o))
            })
    })
}

/// What a module's fixed text changes, beyond rotation, in each caller's deployment (every
/// configuration of the caller), one sentence each, naming the caller.
fn through_callers(module: &Path, fixed: &str, callers: &[(PathBuf, String)]) -> Vec<String> {
    in_each_caller(module, fixed, callers, |name, before, after| {
        crate::eval::proof::classify_with(before, after, false)
            .side_effects
            .into_iter()
            .map(|e| format!("through {name}: {e}"))
            .collect()
    })
}

/// A template's failure with a parameter file is that file's finding; when the run does not
/// read that file (a template named alone on the command line, an excluded or ignored file),
/// nobody would report it: the template reports it instead, as manual review.
pub(crate) fn report_what_no_file_fixes(reports: &mut [FileReport]) {
    // Only a template with a failure left to a parameter file, or with parameters that feed
    // rotation, has anything to check: most runs have none, and naming every file read costs.
    let asks = |r: &FileReport| {
        matches!(&r.outcome, Outcome::Analysed { analysis, .. }
            if !analysis.left_to.is_empty() || !analysis.parameters.is_empty())
    };
    if !reports.iter().any(asks) {
        return;
    }
    let read: HashSet<String> = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Analysed { .. }))
        .map(FileReport::display)
        .collect();
    for r in reports.iter_mut() {
        if !asks(r) {
            continue;
        }
        let template = match &r.candidate {
            Candidate::File(p) => Some(p.clone()),
            Candidate::Stdin => None,
        };
        let display = r.display();
        let Outcome::Analysed {
            analysis, original, ..
        } = &mut r.outcome
        else {
            continue;
        };
        let mut left: Vec<Finding> = analysis
            .left_to
            .iter()
            .filter(|(config, _)| !read.contains(config))
            .map(|(_, f)| f.clone())
            .collect();
        // A value no evaluation decides (a Key Vault reference, an azd placeholder) in a
        // parameter file the run does not read: nobody else would say it.
        if let Some(t) = template.filter(|_| !analysis.parameters.is_empty()) {
            left.extend(unread_reviews(
                &t,
                &display,
                &analysis.parameters,
                &read,
                original,
            ));
        }
        for f in left {
            if !analysis
                .findings
                .iter()
                .any(|g| g.cluster == f.cluster && g.message == f.message)
            {
                analysis.findings.push(f);
            }
        }
    }
}

/// The manual reviews of the JSON parameter files linked to `template` that the run does not
/// read, restated on the template (at its first line) with the file's name.
fn unread_reviews(
    template: &Path,
    display: &str,
    needs: &[ParamDemand],
    read: &HashSet<String>,
    text: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let demands: Vec<Demand> = needs
        .iter()
        .map(|n| Demand {
            parameter: n.clone(),
            template: display.to_string(),
            template_path: template.to_path_buf(),
            template_fixed: None,
        })
        .collect();
    for file in crate::run::configurations::linked_files(template) {
        let name = engine::display(&Candidate::File(file.clone()));
        if read.contains(&name) || !is_json(&file) {
            continue;
        }
        let Some(ptext) = crate::run::read::read_text(&file) else {
            continue;
        };
        let Ok(Some(a)) = params::analyze_at(&ptext, &demands, Some(&file)) else {
            continue;
        };
        for f in a.findings.iter().filter(|f| !f.is_fixable()) {
            let crate::finding::Remedy::ManualReview { reason, .. } = &f.remedy else {
                continue;
            };
            let reason = format!(
                "{name}:{}:{}, which this run does not read: {reason}",
                f.line, f.column
            );
            let lines = crate::location::LineIndex::new(text);
            out.push(Finding::placed(
                &lines,
                text,
                (0, 0),
                None,
                crate::finding::manual_review_message(&reason, "", crate::finding::Quote::Plain),
                crate::finding::Remedy::ManualReview {
                    reason,
                    expression: None,
                },
                None,
            ));
        }
    }
    out
}

/// Whether every cluster deployed under `origin` (a template's pointer tokens) passes or is
/// out of scope in `d`.
fn passes_under(d: &crate::eval::deployment::Deployment, origin: &[String]) -> bool {
    d.resources
        .iter()
        .filter(|res| res.origin.starts_with(origin))
        .all(|res| {
            !matches!(
                crate::eval::judge::judge(res),
                crate::eval::judge::Judgement::Fail { .. }
                    | crate::eval::judge::Judgement::Unknown { .. }
            )
        })
}
