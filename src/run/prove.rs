//! Proves each fix at deploy time, between planning and verification. The file's deployment
//! is evaluated in every configuration (its defaults, and each parameter file linked to it),
//! before and after each finding's edits; the rule is decided on the evaluated values:
//!
//! - a finding whose cluster passes in every configuration (its add-on off, its condition
//!   false, its rotation already true once evaluated) is dropped, with its edits;
//! - a cluster that fails once evaluated but that the source reading did not flag gets a
//!   manual-review finding;
//! - a fix is *safe* when, in every configuration, the evaluated deployment differs only in
//!   the rotation setting of clusters whose add-on is on, and its own cluster passes with
//!   the defaults; else the next place on the value's provenance chain, closer to the cluster,
//!   is tried (a variable, a term of the cluster's expression, the cluster's own value; then
//!   the guesses, see [`search`]); when none is safe the fix is *unsafe* (kept, with its side
//!   effects, and held back unless `--unsafe-fixes`), or manual review when it would not take
//!   effect at all;
//! - each finding is proven on its own, then the safe ones are combined one by one, each
//!   combination proven again, so one finding never hides another.
//!
//! What cannot be known offline (`reference()`, a parameter without a value) is an Unknown
//! that flows through; a cluster whose verdict is Unknown keeps the source reading's finding.
//! Languages without an evaluator (scripts) are not touched here.

use crate::edit::{self, Edit};
use crate::eval::{self, judge, Configuration, Deployment, Judgement, Resource, Value};
use crate::finding::{Analysis, Applicability, Finding, FixSource, Remedy};
use crate::lang::Language;
use crate::location::LineIndex;
use crate::rule::{ADDON, ROTATION};
use std::path::Path;

/// What a proof reads about one file.
pub(crate) struct Subject<'a> {
    pub(crate) language: &'static dyn Language,
    /// What makes a failure with a parameter file that file's own finding: the parameters
    /// the template hands on to be checked there (filled by [`prove`]), and the answers so
    /// far, by cluster and configuration.
    pub(crate) owned: std::cell::RefCell<Owned>,
    pub(crate) text: &'a str,
    pub(crate) path: Option<&'a Path>,
    /// The configurations to evaluate; the first is the defaults.
    pub(crate) configurations: &'a [Configuration],
    /// Whether unsafe fixes are applied.
    pub(crate) unsafe_fixes: bool,
}

/// How one cluster fares once evaluated, over every configuration.
#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Not deployed, add-on off, or passing, in every configuration.
    Pass,
    /// Fails in some configuration: the configuration and the reason, for each.
    Fail(Vec<(String, String)>),
    /// Cannot be decided offline (or the evaluated deployment has no such cluster).
    Unknown,
}

/// See [`Subject::owned`].
#[derive(Debug, Default)]
pub(crate) struct Owned {
    demands: Vec<crate::eval::provenance::ParamDemand>,
    known: std::collections::HashMap<(String, usize), bool>,
    /// The side effects of a parameter file's own fix that keep it from owning a failure,
    /// by configuration name (said when the template's fix is made instead).
    unsafe_files: Vec<(String, Vec<String>)>,
}

impl Subject<'_> {
    /// Whether cluster `k`'s failure with configuration `name` is its parameter file's own
    /// finding: the file sets a parameter the template hands on to be checked there, and
    /// setting it true there makes the cluster stop failing (so the file's fix settles it)
    /// and changes nothing but rotation. A file whose fix would be unsafe (the parameter
    /// also turns on a storage account's public access) does not own it: the template's
    /// search goes on to a place closer to the cluster, as for a `.tfvars` file.
    fn is_owned(&self, k: &str, name: &str) -> bool {
        let Some(i) = self.configurations.iter().position(|c| c.name == name) else {
            return false;
        };
        if i == 0 {
            return false;
        }
        if let Some(known) = self.owned.borrow().known.get(&(k.to_string(), i)) {
            return *known;
        }
        let c = &self.configurations[i];
        let demands = self.owned.borrow().demands.clone();
        let mut values = c.values.clone();
        let mut set = false;
        for d in &demands {
            if let Some(slot) = values
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(&d.name))
            {
                slot.1 = if d.boolean {
                    Value::Bool(true)
                } else {
                    Value::str("true")
                };
                set = true;
            }
        }
        let answer = set && {
            let fixed = Configuration {
                name: c.name.clone(),
                values,
            };
            self.language
                .evaluate(self.text, &fixed, self.path)
                .is_some_and(|d| {
                    !matches!(
                        state(k, std::slice::from_ref(&d), std::slice::from_ref(&fixed)),
                        State::Fail(_)
                    ) && self.file_fix_is_safe(c, &demands)
                })
        };
        self.owned
            .borrow_mut()
            .known
            .insert((k.to_string(), i), answer);
        answer
    }

    /// Whether setting the demanded parameters true in configuration `c`, as its file's fix
    /// would write them (in the type and spelling the file already uses: `true`, `'true'`,
    /// `'True'`; a value not known offline is left, its fix is a human's), changes nothing
    /// but rotation.
    fn file_fix_is_safe(
        &self,
        c: &Configuration,
        demands: &[crate::eval::provenance::ParamDemand],
    ) -> bool {
        let mut values = c.values.clone();
        for d in demands {
            let Some(slot) = values
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(&d.name))
            else {
                continue;
            };
            slot.1 = match &slot.1 {
                Value::Bool(_) => Value::Bool(true),
                Value::Str(v) if v == "FALSE" => Value::str("TRUE"),
                Value::Str(v) if v.starts_with('F') => Value::str("True"),
                Value::Str(_) => Value::str("true"),
                _ => continue,
            };
        }
        let fixed = Configuration {
            name: c.name.clone(),
            values,
        };
        let (Some(before), Some(after)) = (
            self.language.evaluate(self.text, c, self.path),
            self.language.evaluate(self.text, &fixed, self.path),
        ) else {
            return true;
        };
        let effects = eval::classify(&before, &after).side_effects;
        if effects.is_empty() {
            return true;
        }
        let mut owned = self.owned.borrow_mut();
        if !owned.unsafe_files.iter().any(|(n, _)| *n == c.name) {
            owned.unsafe_files.push((c.name.clone(), effects));
        }
        false
    }

    /// A failure's reason as the judge gives it (`` `enableSecretRotation` is "false" ``),
    /// with the value spelled as the file's language writes it (Bicep `'false'`). Standard
    /// input, which has no file name, keeps the evaluator's JSON spelling.
    fn respell(&self, reason: &str) -> String {
        let Some(kind) = self.path.and_then(crate::lang::FileKind::of) else {
            return reason.to_string();
        };
        let Some((head, tail)) = reason.split_once("` is ") else {
            return reason.to_string();
        };
        let (value, rest) = match tail.rsplit_once(", ") {
            Some((v, rest)) if serde_json::from_str::<serde_json::Value>(v).is_ok() => (v, rest),
            _ => (tail, ""),
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(value) else {
            return reason.to_string();
        };
        let spelled = kind.spell(&Value::from_json(&json));
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(", {rest}")
        };
        format!("{head}` is {spelled}{rest}")
    }

    /// Whether cluster `k` fails, once evaluated, in a configuration whose failure is not a
    /// parameter file's own finding.
    fn fails_unowned(&self, k: &str, after: &[Deployment]) -> bool {
        matches!(state(k, after, self.configurations), State::Fail(fails)
            if fails.iter().any(|(c, _)| !self.is_owned(k, c)))
    }
}

/// What a set of edits does at deploy time.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Safe,
    /// Changes more than rotation: one sentence per side effect.
    Unsafe(Vec<String>),
    /// Changes nothing else, but its cluster still fails with the defaults: why.
    Ineffective(String),
    /// The edited text cannot be evaluated (verification will say why).
    Unproven,
}

/// Proves the analysis' fixes and rewrites it: findings confirmed or dropped, missed
/// failures added, each fix classed safe or unsafe, and the edits and patch those that will
/// be applied. Does nothing for a file without clusters or a language without an evaluator.
pub(crate) fn prove(s: &Subject, analysis: &mut Analysis) {
    if analysis.clusters.is_empty() {
        return;
    }
    if settled_by_reading(analysis) {
        return;
    }
    let Some(before) = evaluate_all(s, s.text) else {
        return;
    };
    prove_evaluated(s, analysis, &before);
    name_clusters(analysis, &before);
}

/// The evaluated names of the clusters a settled file's findings are about
/// ([`settled_by_reading`]: no proof ran, so they were not named on the way), for a reader:
/// only where a finding's cluster is named by an expression, evaluated with the defaults (a
/// name only a parameter file gives stays the expression as written). Called when the
/// names are shown (a dry run, the review), never for `check` or `fix --yes`: an evaluation
/// of every such file would cost more than the name is worth there.
pub(crate) fn names_for_display(
    analysis: &Analysis,
    text: &str,
    language: &dyn Language,
    path: Option<&Path>,
) -> Vec<(String, Vec<String>)> {
    let named = analysis
        .findings
        .iter()
        .any(|f| !f.cluster_names.is_empty());
    if named || analysis.clusters.is_empty() || !names_an_expression(text, language, analysis) {
        return Vec::new();
    }
    let Some(d) = language.evaluate(text, &Configuration::defaults(), path) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for k in analysis
        .findings
        .iter()
        .flat_map(|f| f.cluster.iter().chain(&f.other_clusters))
    {
        let names = names_of(k, std::slice::from_ref(&d));
        if !names.is_empty() && !out.iter().any(|(c, _)| c == k) {
            out.push((k.clone(), names));
        }
    }
    out
}

/// Whether a finding is about a cluster whose `name` is an expression (or interpolation).
fn names_an_expression(text: &str, language: &dyn Language, analysis: &Analysis) -> bool {
    if analysis.findings.is_empty() {
        return false;
    }
    let Some(shape) = language.shape(text) else {
        return false;
    };
    analysis
        .findings
        .iter()
        .flat_map(|f| f.cluster.iter().chain(&f.other_clusters))
        .filter_map(|k| shape.pointer(k)?.get("name")?.as_str())
        .any(|n| n.starts_with('[') || n.contains("${"))
}

/// Gives every finding the evaluated names of the clusters it is about (see
/// [`Finding::cluster_names`]): each string name the place deploys, in any configuration,
/// once, in order.
fn name_clusters(analysis: &mut Analysis, before: &[Deployment]) {
    let name = |k: &str| names_of(k, before);
    let findings = analysis
        .findings
        .iter_mut()
        .chain(analysis.left_to.iter_mut().map(|(_, f)| f));
    for f in findings {
        f.cluster_names = f
            .cluster
            .iter()
            .chain(&f.other_clusters)
            .map(|k| (k.clone(), name(k)))
            .filter(|(_, n)| !n.is_empty())
            .collect();
    }
}

/// The string names of the clusters place `k` deploys, in any of the evaluations, each once.
fn names_of(k: &str, before: &[Deployment]) -> Vec<String> {
    {
        let mut names: Vec<String> = Vec::new();
        // A module call whose template is not on hand stands for its cluster; its name is
        // the deployment's, not the cluster's.
        let clusters = before.iter().flat_map(|d| deployed(k, d)).filter(|r| {
            r.kind
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(crate::rule::CLUSTER_TYPE))
        });
        for r in clusters {
            if let Some(n) = r.name.as_str() {
                if !names.iter().any(|m| m == n) {
                    names.push(n.to_string());
                }
            }
        }
        names
    }
}

/// [`prove`] once the file is evaluated (`before`: every configuration, unedited).
fn prove_evaluated(s: &Subject, analysis: &mut Analysis, before: &[Deployment]) {
    analysis.unsafe_applied = s.unsafe_fixes;
    s.owned.borrow_mut().demands = analysis.parameters.clone();
    let planner_fixable = analysis.fixable();
    let all_edits = analysis.edits.clone();
    // Every edit the planner tied to a finding, to tell whether the fixes stand as planned.
    let mut planned_own: Vec<Edit> = Vec::new();
    for e in analysis.findings.iter().flat_map(|f| &f.edits) {
        if !planned_own.contains(e) {
            planned_own.push(e.clone());
        }
    }
    let clusters = analysis.clusters.clone();
    let states: Vec<State> = clusters
        .iter()
        .map(|k| state(k, before, s.configurations))
        .collect();
    let state_of = |k: &str| {
        clusters
            .iter()
            .position(|c| c == k)
            .map_or(State::Unknown, |i| states[i].clone())
    };

    // Findings about clusters that pass once evaluated go (their edits with them).
    // A failure only in configurations whose parameter files own it is theirs to fix.
    let settled = |k: &str| match state_of(k) {
        State::Pass => true,
        State::Fail(fails) => {
            fails.iter().all(|(c, _)| s.is_owned(k, c))
                && state(k, &before[..1], &s.configurations[..1]) != State::Unknown
        }
        State::Unknown => false,
    };
    let manual_before = analysis.manual();
    analysis.findings.retain(|f| {
        let mut about = f.cluster.iter().chain(&f.other_clusters).peekable();
        about.peek().is_none() || !about.all(|k| settled(k))
    });
    analysis.settled_manual = manual_before - analysis.manual();
    split_suppressed(analysis, before);
    // What was left to parameter files, in case this run does not read them.
    let mut left_lines: Option<LineIndex> = None;
    for (k, st) in clusters.iter().zip(&states) {
        let State::Fail(fails) = st else { continue };
        for (config, reason) in fails.iter().filter(|(c, _)| s.is_owned(k, c)) {
            if analysis.left_to.iter().any(|(c, _)| c == config) {
                continue;
            }
            let lines = left_lines.get_or_insert_with(|| LineIndex::new(s.text));
            let span = s.language.locate(s.text, k).unwrap_or((0, 0));
            let reason = format!(
                "cluster {} fails with {config} ({}); the fix belongs in that parameter \
                 file, which this run does not read: run armfix on it too",
                cluster_name(k, before),
                s.respell(reason)
            );
            let mut f = Finding::placed(
                lines,
                s.text,
                span,
                Some(k.clone()),
                crate::finding::manual_review_message(&reason, "", crate::finding::Quote::Plain),
                Remedy::ManualReview {
                    reason,
                    expression: None,
                },
                None,
            );
            f.cluster = Some(k.clone());
            analysis.left_to.push((config.clone(), f));
        }
    }

    // Clusters that fail once evaluated, but that no finding is about: a human must look.
    let mut lines: Option<LineIndex> = None;
    let mut added = 0;
    for (k, st) in clusters.iter().zip(&states) {
        let State::Fail(fails) = st else { continue };
        // A failure only with a parameter file is that file's finding when the template
        // hands its parameters on to be checked there.
        if fails.iter().all(|(c, _)| s.is_owned(k, c)) {
            continue;
        }
        if analysis.findings.iter().any(|f| f.is_about(k)) {
            continue;
        }
        let lines = lines.get_or_insert_with(|| LineIndex::new(s.text));
        let what = format!(
            "cluster {} fails once the template is evaluated ({})",
            cluster_name(k, before),
            describe_fails(s, fails, s.configurations.len())
        );
        let mut f = match search(s, before, k, &clusters, &[], Order::SourcesFirst) {
            Some((edits, source, refused)) => {
                let e = &edits[0];
                let message = match &source {
                    FixSource::Value => format!("{what}; fixed in the cluster"),
                    other => format!(
                        "{what}; fixed {}{}",
                        other.describe(),
                        variable_note(s, other)
                    ),
                };
                // A parameter file that could not own the failure: why its fix was not made.
                let mut refused = refused;
                for (config, effects) in &s.owned.borrow().unsafe_files {
                    if fails.iter().any(|(c, _)| c == config) {
                        refused.push(format!("in {config} it {}", effects_clause(effects)));
                    }
                }
                let message = match with_refusals(String::new(), &refused) {
                    why if why.is_empty() => message,
                    why => format!("{message}, because {why}"),
                };
                let at = s
                    .language
                    .shape(s.text)
                    .and_then(|shape| pointer_of(&shape, s, e))
                    .unwrap_or_else(|| k.clone());
                let mut f = Finding::placed(
                    lines,
                    s.text,
                    (e.start, e.end),
                    Some(at),
                    message,
                    Remedy::Fix,
                    Some(source),
                );
                f.edits = edits;
                added += 1;
                f
            }
            None => {
                let span = s.language.locate(s.text, k).unwrap_or((0, 0));
                let reason = format!(
                    "{what}; armfix found no change it can prove safe, so set `{ROTATION}` to \
                     true where it is computed"
                );
                let message = crate::finding::manual_review_message(
                    &reason,
                    "",
                    crate::finding::Quote::Plain,
                );
                Finding::placed(
                    lines,
                    s.text,
                    span,
                    Some(k.clone()),
                    message,
                    Remedy::ManualReview {
                        reason,
                        expression: None,
                    },
                    None,
                )
            }
        };
        f.cluster = Some(k.clone());
        analysis.findings.push(f);
    }

    // What the planner, reading the fixed text again, may still count as fixable: its own
    // findings, and those added here (it never sees them, so they may count the other way).
    let planned = planner_fixable + added;

    // Each fixable finding on its own, with the edits that carry it alone.
    if analysis
        .findings
        .iter()
        .any(|f| f.is_fixable() && f.edits.is_empty())
    {
        // A fix the planner did not tie to its finding: the fixes are proven together.
        prove_whole(s, analysis, before, all_edits, planned, &clusters);
        return;
    }
    let groups: Vec<Vec<Edit>> = analysis
        .findings
        .iter()
        .map(|f| {
            if f.is_fixable() {
                f.edits.clone()
            } else {
                Vec::new()
            }
        })
        .collect();
    // The usual case first, in one evaluation: every fix together changes nothing but
    // rotation and each of their clusters passes (or cannot be decided) with the defaults.
    let mut together: Vec<Edit> = Vec::new();
    for e in groups.iter().flatten() {
        if !together.contains(e) {
            together.push(e.clone());
        }
    }
    let nothing_dropped =
        together.len() == planned_own.len() && together.iter().all(|e| planned_own.contains(e));
    let whole = if nothing_dropped {
        all_edits.clone()
    } else {
        together.clone()
    };
    let after = edit::apply(s.text, &whole)
        .ok()
        .filter(|_| !whole.is_empty())
        .and_then(|t| evaluate_all(s, &t));
    if let Some(after) = after
        .filter(|after| verdict_with(s, before, after, None, &clusters, &whole) == Verdict::Safe)
    {
        let effective = analysis
            .findings
            .iter()
            .filter(|f| f.is_fixable())
            .all(|f| {
                f.cluster.iter().chain(&f.other_clusters).all(|k| {
                    !matches!(
                        state(k, &after[..1], &s.configurations[..1]),
                        State::Fail(_)
                    )
                })
            });
        if effective {
            let count = analysis.fixable();
            analysis.held_back = planned.saturating_sub(count);
            let mut together = together;
            // `after` is the evaluation of `whole`; it is `together`'s too when nothing was
            // dropped (the planner's merged edits make the same text).
            let known = nothing_dropped.then_some(after);
            let completed = complete(s, before, analysis, &mut together, &clusters, known);
            if completed || !nothing_dropped || count != planned {
                set_edits(s, analysis, together, &all_edits);
            }
            return;
        }
    }
    let mut chosen: Vec<Option<Vec<Edit>>> = vec![None; analysis.findings.len()];
    for (i, group) in groups.into_iter().enumerate() {
        if !analysis.findings[i].is_fixable() {
            continue;
        }
        let target = analysis.findings[i].cluster.clone();
        match verdict(s, before, &group, target.as_deref(), &clusters) {
            Verdict::Safe | Verdict::Unproven => chosen[i] = Some(group),
            first => {
                // A declared type may allow only another spelling of true (a Bicep literal
                // type `'False' | 'True'`): the same place, spelled so, passes the rule too.
                // Only when the type is all that was wrong: a respelling must not slip past
                // a comparison the template makes (`equals(rot, 'true')`).
                let rejected_only = matches!(&first, Verdict::Unsafe(effects)
                    if !effects.is_empty()
                        && effects.iter().all(|e| e.contains("writes a value the template rejects")));
                if let Some(respelled) = respelled(&group).filter(|g| {
                    rejected_only
                        && verdict(s, before, g, target.as_deref(), &clusters) == Verdict::Safe
                }) {
                    let f = &mut analysis.findings[i];
                    // Inside the note on where the fix lands, which the text output shows
                    // apart from what the rule says.
                    const AS: &str = "written 'True', the spelling its declared type allows";
                    let rule = rule_part(&f.message).to_string();
                    let note = &f.message[rule.len()..];
                    f.message = match note.strip_suffix(')') {
                        Some(open) if note.starts_with(" (fixed") => format!("{rule}{open}; {AS})"),
                        _ if note.starts_with("; fixed") => format!("{rule}{note}, {AS}"),
                        _ => format!("{rule}{note} (fixed where it is set, {AS})"),
                    };
                    f.edits = respelled.clone();
                    chosen[i] = Some(respelled);
                    continue;
                }
                let alt = target
                    .as_deref()
                    .and_then(|k| search(s, before, k, &clusters, &group, Order::ClusterFirst));
                if let Some((alt, source, refused)) = alt {
                    let lines = lines.get_or_insert_with(|| LineIndex::new(s.text));
                    let why = with_refusals(why_not(&first), &refused);
                    relocate(
                        s,
                        lines,
                        &mut analysis.findings[i],
                        alt.clone(),
                        source,
                        &why,
                    );
                    chosen[i] = Some(alt);
                    continue;
                }
                let f = &mut analysis.findings[i];
                match first {
                    // PSRule's settings leave that cluster alone: not even an unsafe fix
                    // may change it.
                    // The template's own types reject what it writes: never offered.
                    Verdict::Unsafe(effects) if effects.iter().any(|e| is_rejected_value(e)) => {
                        let rejected: Vec<String> = effects
                            .iter()
                            .filter(|e| is_rejected_value(e))
                            .cloned()
                            .collect();
                        to_manual(
                            f,
                            format!(
                                "the fix armfix would make {}; set `{ROTATION}` to true where \
                                 the template allows it",
                                effects_clause(&rejected)
                            ),
                        );
                    }
                    Verdict::Unsafe(effects) if effects.iter().any(|e| is_suppressed_effect(e)) => {
                        let names: Vec<String> = effects
                            .iter()
                            .filter(|e| is_suppressed_effect(e))
                            .filter_map(|e| {
                                e.strip_prefix("also changes cluster ")?
                                    .rsplit_once(", which ")
                                    .map(|(n, _)| n.to_string())
                            })
                            .collect();
                        to_manual(f, crate::psrule::leaves_alone(&names));
                    }
                    Verdict::Unsafe(effects) => {
                        f.applicability = Applicability::Unsafe;
                        f.side_effects = effects;
                        chosen[i] = Some(group);
                    }
                    Verdict::Ineffective(why) => {
                        to_manual(
                            f,
                            format!(
                            "the fix armfix would make does not take effect at deploy time: {why}"
                        ),
                        );
                    }
                    Verdict::Safe | Verdict::Unproven => unreachable!("handled above"),
                }
            }
        }
    }

    // The fixes that will be applied, combined one by one, each combination proven again:
    // it may change nothing the fixes taken so far did not already change.
    let mut combined: Vec<Edit> = Vec::new();
    let mut accepted: Vec<String> = Vec::new();
    for (i, group) in chosen.iter_mut().enumerate() {
        let Some(edits) = group else { continue };
        let f = &analysis.findings[i];
        if f.applicability == Applicability::Unsafe && !s.unsafe_fixes {
            continue;
        }
        let mut next = combined.clone();
        for e in edits.iter() {
            if !next.contains(e) {
                next.push(e.clone());
            }
        }
        let fits = edit::apply(s.text, &next).is_ok()
            && (combined.is_empty()
                || match verdict(s, before, &next, f.cluster.as_deref(), &clusters) {
                    Verdict::Safe | Verdict::Unproven => true,
                    Verdict::Unsafe(effects) => effects
                        .iter()
                        .all(|e| accepted.contains(e) || f.side_effects.contains(e)),
                    Verdict::Ineffective(_) => false,
                });
        if fits {
            combined = next;
            accepted.extend(f.side_effects.iter().cloned());
            // Its own clusters are changed by the fixes taken so far: another fix that
            // changes them too (one of them suppressed) changes nothing more.
            for k in f.cluster.iter().chain(&f.other_clusters) {
                accepted.extend(names_of(k, before).iter().map(|n| suppressed_effect(n)));
            }
        } else {
            let reason = "its fix changes more than rotation when applied with this file's \
                          other fixes; apply it on its own, then run armfix again";
            to_manual(&mut analysis.findings[i], reason.to_string());
            *group = None;
        }
    }
    let applied: Vec<bool> = analysis
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.is_fixable()
                && chosen[i]
                    .as_ref()
                    .is_some_and(|g| g.iter().all(|e| combined.contains(e)))
                && (f.applicability == Applicability::Safe || s.unsafe_fixes)
        })
        .collect();
    let count = applied.iter().filter(|a| **a).count();
    analysis.held_back = planned.saturating_sub(count);
    if complete(s, before, analysis, &mut combined, &clusters, None) {
        set_edits(s, analysis, combined, &all_edits);
        return;
    }
    let same_set = |a: &[Edit], b: &[Edit]| {
        a.len() == b.len() && a.iter().all(|e| b.contains(e)) && b.iter().all(|e| a.contains(e))
    };
    let untouched = count == planned && same_set(&combined, &planned_own);
    if untouched {
        // Every planned fix holds as planned: the planner's edits and patch stand (they
        // merge edits inside one expression that the findings' own edits keep apart).
        return;
    }
    set_edits(s, analysis, combined, &all_edits);
}

/// Whether the source reading settles the file alone: every cluster is written with literals
/// all the way (no condition or copy loop, no expression on the way to its rotation setting)
/// and every fix lands in its own cluster. Such a cluster deploys as written whatever the
/// parameters (so every configuration agrees), and each fix changes only the literal it
/// replaces: there is nothing to prove, and the evaluation would only cost time.
pub(crate) fn settled_by_reading(analysis: &Analysis) -> bool {
    analysis.clusters_literal
        && analysis.findings.iter().all(|f| {
            f.source.as_ref().is_none_or(|src| *src == FixSource::Value)
                && f.cluster.as_ref().is_some_and(|k| {
                    f.pointer
                        .as_deref()
                        .is_some_and(|p| p.starts_with(k.as_str()))
                })
        })
}

/// Proves the fixes of a parameter file for the templates it feeds: each template is
/// evaluated with the file as it is and as fixed. A file with which no cluster of those
/// templates fails needs no fix (its findings go: in that environment the add-on is off, or
/// the cluster not deployed); a fix that changes anything but rotation is unsafe.
pub(crate) fn prove_parameter_file(
    file: &Path,
    text: &str,
    analysis: &mut Analysis,
    templates: &[(std::path::PathBuf, Option<std::sync::Arc<String>>)],
    unsafe_fixes: bool,
) {
    if analysis.fixable() == 0 {
        return;
    }
    // Every configuration the file's values take part in: its own, or for a `.bicepparam`
    // base (`using none`) that of each file extending it.
    let configs = crate::run::configurations::reached_by(file, text);
    let fixed = edit::apply(text, &analysis.edits).ok();
    let after_configs = fixed
        .as_deref()
        .map(|t| crate::run::configurations::reached_by(file, t))
        .unwrap_or_default();
    let mut needed = false;
    let mut effects: Vec<String> = Vec::new();
    let mut judged = false;
    let after_configs = &after_configs;
    for ((t, fixed_template), (config, after_config)) in templates.iter().flat_map(|t| {
        configs
            .iter()
            .enumerate()
            .map(move |(i, c)| (t, (c, after_configs.get(i))))
    }) {
        let Some(kind) = crate::lang::FileKind::of(t) else {
            continue;
        };
        // The template as it will be deployed: with its own fixes, when it has any.
        let Some(ttext) = fixed_template
            .as_ref()
            .map(|t| t.as_str().to_string())
            .or_else(|| crate::run::read::read_text(t))
        else {
            continue;
        };
        let language = kind.language();
        let Some(before) = language.evaluate(&ttext, config, Some(t)) else {
            continue;
        };
        judged = true;
        let fails = before
            .resources
            .iter()
            .any(|r| matches!(judge(r), Judgement::Fail { .. } | Judgement::Unknown { .. }));
        if !fails {
            continue;
        }
        needed = true;
        let Some(after) = after_config.and_then(|c| language.evaluate(&ttext, c, Some(t))) else {
            continue;
        };
        for e in eval::classify(&before, &after).side_effects {
            if !effects.contains(&e) {
                effects.push(e);
            }
        }
    }
    if !judged {
        return;
    }
    let planned = analysis.fixable();
    analysis.unsafe_applied = unsafe_fixes;
    if !needed {
        // Nothing fails with this file: its findings were read off the source alone.
        analysis.findings.retain(|f| !f.is_fixable());
        analysis.edits.clear();
        analysis.patch.clear();
        analysis.held_back = planned;
        return;
    }
    if effects.is_empty() {
        return;
    }
    for f in analysis.findings.iter_mut().filter(|f| f.is_fixable()) {
        f.applicability = Applicability::Unsafe;
        f.side_effects = effects.clone();
    }
    if !unsafe_fixes {
        analysis.edits.clear();
        analysis.patch.clear();
        analysis.held_back = planned;
    }
}

/// The fixes of a file whose edits cannot be told apart per finding, proven together: safe,
/// or every fixable finding unsafe (or manual review when they would not take effect).
fn prove_whole(
    s: &Subject,
    analysis: &mut Analysis,
    before: &[Deployment],
    edits: Vec<Edit>,
    planned: usize,
    clusters: &[String],
) {
    let v = verdict(s, before, &edits, None, clusters);
    if matches!(v, Verdict::Safe | Verdict::Unproven) {
        analysis.held_back = 0;
        return;
    }
    for f in analysis.findings.iter_mut().filter(|f| f.is_fixable()) {
        match &v {
            Verdict::Unsafe(effects) => {
                f.applicability = Applicability::Unsafe;
                f.side_effects = effects.clone();
            }
            Verdict::Ineffective(why) => {
                to_manual(
                    f,
                    format!("the fix armfix would make does not take effect at deploy time: {why}"),
                );
            }
            Verdict::Safe | Verdict::Unproven => {}
        }
    }
    if s.unsafe_fixes && matches!(v, Verdict::Unsafe(_)) {
        analysis.held_back = 0;
    } else {
        analysis.held_back = planned;
        set_edits(s, analysis, Vec::new(), &edits);
    }
}

/// What applying `edits` to `s.text` does at deploy time, for a part of a file's fixes
/// applied on its own (the findings a person accepted in `fix`'s review): the side effects
/// (empty when it changes only rotation), and which of `targets` (cluster pointers) still
/// fail with the defaults. `None` when either text cannot be evaluated, which the full proof
/// accepts too (the language's verification still runs).
pub(crate) fn prove_part(
    s: &Subject,
    clusters: &[String],
    edits: &[Edit],
    targets: &[String],
) -> Option<(Vec<String>, Vec<String>)> {
    let before = evaluate_all(s, s.text)?;
    let after = evaluate_all(s, &edit::apply(s.text, edits).ok()?)?;
    let effects = match verdict_with(s, &before, &after, None, clusters, edits) {
        Verdict::Unsafe(effects) => effects,
        _ => Vec::new(),
    };
    let failing = targets
        .iter()
        .filter(|k| {
            matches!(
                state(k, &after[..1], &s.configurations[..1]),
                State::Fail(_)
            )
        })
        .cloned()
        .collect();
    Some((effects, failing))
}

/// Replaces the analysis' edits with `edits`, and its JSON Patch with the one they make
/// (the planned patch when they are the planned edits).
fn set_edits(s: &Subject, analysis: &mut Analysis, mut edits: Vec<Edit>, planned: &[Edit]) {
    edits.sort_by_key(|e| (e.start, e.end));
    let mut sorted = planned.to_vec();
    sorted.sort_by_key(|e| (e.start, e.end));
    if edits == sorted {
        return;
    }
    analysis.edits = edits;
    analysis.patch = if analysis.edits.is_empty() {
        Vec::new()
    } else {
        let before = s.language.shape(s.text);
        let after = edit::apply(s.text, &analysis.edits)
            .ok()
            .and_then(|t| s.language.shape(&t));
        match (before, after) {
            (Some(a), Some(b)) => json_patch::diff(&a, &b).0,
            _ => Vec::new(),
        }
    };
}

/// Evaluates `text` in every configuration; `None` when it cannot be evaluated.
fn evaluate_all(s: &Subject, text: &str) -> Option<Vec<Deployment>> {
    s.configurations
        .iter()
        .map(|c| s.language.evaluate(text, c, s.path))
        .collect()
}

/// The evaluated clusters that a cluster of the source (by pointer) deploys: the resource
/// itself (every copy), or the clusters a local module call holds.
fn deployed<'d>(k: &str, d: &'d Deployment) -> impl Iterator<Item = &'d Resource> {
    let tokens: Vec<String> = k
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    d.resources.iter().filter(move |r| {
        r.origin.len() >= tokens.len()
            && r.origin[..tokens.len()] == tokens[..]
            && judge(r) != Judgement::NotACluster
    })
}

fn state(k: &str, before: &[Deployment], configs: &[Configuration]) -> State {
    let mut fails = Vec::new();
    let mut unknown = false;
    let mut any = false;
    for (d, c) in before.iter().zip(configs) {
        // No resource at all from this place (not even a module call the evaluator could not
        // expand): a copy loop of count 0, or a Bicep `for` over an empty array. It deploys
        // nothing in this configuration.
        if !d.resources.iter().any(|r| origin_is(r, k)) {
            any = true;
            continue;
        }
        for r in deployed(k, d) {
            any = true;
            match judge(r) {
                Judgement::Fail { reason } => fails.push((c.name.clone(), reason)),
                Judgement::Unknown { .. } => unknown = true,
                _ => {}
            }
        }
    }
    if !fails.is_empty() {
        State::Fail(fails)
    } else if unknown || !any {
        State::Unknown
    } else {
        State::Pass
    }
}

/// What the edits do at deploy time, for the finding about cluster `target`.
fn verdict(
    s: &Subject,
    before: &[Deployment],
    edits: &[Edit],
    target: Option<&str>,
    clusters: &[String],
) -> Verdict {
    let Ok(fixed) = edit::apply(s.text, edits) else {
        return Verdict::Unproven;
    };
    let Some(after) = evaluate_all(s, &fixed) else {
        return Verdict::Unproven;
    };
    verdict_with(s, before, &after, target, clusters, edits)
}

/// [`verdict`] on deployments already evaluated after the edits.
fn verdict_with(
    s: &Subject,
    before: &[Deployment],
    after: &[Deployment],
    target: Option<&str>,
    clusters: &[String],
    edits: &[Edit],
) -> Verdict {
    let proxies = |ds: &[Deployment]| {
        ds.iter()
            .any(|d| d.resources.iter().any(|r| is_module_proxy(r, clusters)))
    };
    let (stripped_before, stripped_after);
    let (before, after) = if proxies(before) || proxies(after) {
        stripped_before = before
            .iter()
            .map(|d| without_module_rotation(d, clusters))
            .collect::<Vec<_>>();
        stripped_after = after
            .iter()
            .map(|d| without_module_rotation(d, clusters))
            .collect::<Vec<_>>();
        (&stripped_before[..], &stripped_after[..])
    } else {
        (before, after)
    };
    let pairs: Vec<(&str, &Deployment, &Deployment)> = s
        .configurations
        .iter()
        .zip(before.iter().zip(after))
        .map(|(c, (b, a))| (c.name.as_str(), b, a))
        .collect();
    // Unknowns on the way to rotation may change only when every edit is inside a cluster's
    // own text (the resource object, where `locate` gives it; the language's verification
    // covers those edits). Bicep's `locate` gives a declaration's name, which holds no edit:
    // there an Unknown that changes is always a side effect.
    let inside = !edits.is_empty()
        && edits.iter().all(|e| {
            clusters.iter().any(|k| {
                k.matches("/resources/").count() == 1
                    && s.language
                        .locate(s.text, k)
                        .is_some_and(|(a, b)| a <= e.start && e.end <= b)
            })
        });
    // Values in side effects spelled as the file writes them (Bicep `'false'`); standard
    // input, which has no file name, keeps the evaluator's JSON spelling.
    let kind = s.path.and_then(crate::lang::FileKind::of);
    let spell = |v: &Value| match kind {
        Some(k) => k.spell(v),
        None => eval::proof::json_spelling(v),
    };
    let proof = eval::proof::classify_all_spelled(&pairs, inside, &spell);
    let mut effects = proof.side_effects;
    // A value the template rejected that was a false spelling (`'False'`, which a module's
    // `@allowed(['false', 'true'])` rejects) and is accepted once the fix writes true there:
    // the rejected value is the rotation value itself, and accepting its fix is the fix,
    // when the fix makes its own cluster pass (checked below).
    if target.is_some() {
        effects.retain(|e| !accepts_rejected_false(e));
    }
    effects.extend(suppressed_effects(before, after, target));
    if !effects.is_empty() {
        return Verdict::Unsafe(effects);
    }
    // Its own cluster must pass with the defaults once fixed (a parameter file that sets the
    // value is that file's finding).
    if let Some(k) = target {
        if let State::Fail(fails) = state(k, &after[..1], &s.configurations[..1]) {
            return Verdict::Ineffective(describe_fails(s, &fails, 1));
        }
    }
    Verdict::Safe
}

/// A change to a cluster PSRule's settings leave alone (see [`crate::psrule`]) is a side
/// effect like any other: the settings say nobody wants that cluster touched, so the search
/// walks past a source it shares to a place only the other clusters read. The target's own
/// cluster is not counted (when it is suppressed, its finding goes anyway).
fn suppressed_effects(
    before: &[Deployment],
    after: &[Deployment],
    target: Option<&str>,
) -> Vec<String> {
    if !crate::psrule::suppresses_any() {
        return Vec::new();
    }
    let own = target.map(|k| names_of(k, before)).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for (b, a) in before.iter().zip(after) {
        for n in crate::psrule::suppressed_changes(b, a) {
            if !own.contains(&n) && !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names.into_iter().map(|n| suppressed_effect(&n)).collect()
}

/// Whether PSRule's settings leave cluster `k` alone: every configuration that deploys it
/// deploys only suppressed clusters there.
fn suppressed(k: &str, before: &[Deployment]) -> bool {
    if !crate::psrule::suppresses_any() {
        return false;
    }
    let tokens: Vec<String> = k
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut deploying = before.iter().filter(|d| deployed(k, d).next().is_some());
    let mut any = false;
    deploying.all(|d| {
        any = true;
        crate::psrule::suppressed_under(d, &tokens)
    }) && any
}

/// A fixable finding whose one fix is shared by suppressed and other clusters becomes two:
/// one about the other clusters, proven (and moved by the search) on its own, the
/// suppressed clusters' change counted as a side effect; and one about the suppressed
/// clusters, which PSRule's suppression then drops (see [`crate::psrule::suppress`]).
fn split_suppressed(analysis: &mut Analysis, before: &[Deployment]) {
    if !crate::psrule::suppresses_any() {
        return;
    }
    let mut out: Vec<Finding> = Vec::new();
    for f in std::mem::take(&mut analysis.findings) {
        let about: Vec<String> = f.cluster.iter().chain(&f.other_clusters).cloned().collect();
        let (off, on): (Vec<String>, Vec<String>) =
            about.into_iter().partition(|k| suppressed(k, before));
        if !f.is_fixable() || off.is_empty() || on.is_empty() {
            out.push(f);
            continue;
        }
        let mut left = f.clone();
        left.cluster = Some(off[0].clone());
        left.other_clusters = off[1..].to_vec();
        let mut kept = f;
        kept.cluster = Some(on[0].clone());
        kept.other_clusters = on[1..].to_vec();
        out.push(kept);
        out.push(left);
    }
    analysis.findings = out;
}

/// Whether side effect `e` says the template now accepts a value it rejected, one that was
/// a spelling of false (see [`verdict_with`]).
fn accepts_rejected_false(e: &str) -> bool {
    let e = e.to_ascii_lowercase();
    e.contains("also makes the template accept a value it rejected: ")
        && ["not \"false\"", "not false"]
            .iter()
            .any(|end| e.ends_with(end) || e.contains(&format!("{end} (with ")))
}

/// Whether side effect `e` is a value the template's own types reject: such a fix is never
/// offered, not even as unsafe.
fn is_rejected_value(e: &str) -> bool {
    e.contains("writes a value the template rejects")
}

/// Whether side effect `e` is a change to a suppressed cluster ([`suppressed_effect`]).
fn is_suppressed_effect(e: &str) -> bool {
    e.starts_with("also changes cluster ") && e.ends_with(" leaves alone")
}

/// The side effect of changing suppressed cluster `name` (see [`suppressed_effects`]).
fn suppressed_effect(name: &str) -> String {
    format!(
        "also changes cluster {name}, which {} leaves alone",
        crate::psrule::settings_shown()
    )
}

/// Makes `f` a finding for a human, with `reason`.
fn to_manual(f: &mut Finding, reason: String) {
    f.message = crate::finding::manual_review_message(&reason, "", crate::finding::Quote::Plain);
    f.remedy = Remedy::ManualReview {
        reason,
        expression: None,
    };
    f.source = None;
}

/// Moves finding `f`'s fix to `edits` (found closer to the cluster), saying why.
fn relocate(
    s: &Subject,
    lines: &LineIndex,
    f: &mut Finding,
    edits: Vec<Edit>,
    source: FixSource,
    why: &str,
) {
    let rule_part = rule_part(&f.message).to_string();
    let place = match &source {
        FixSource::Value => "in the cluster itself".to_string(),
        other => other.describe() + &variable_note(s, other),
    };
    f.message = format!("{rule_part}; fixed {place}, because {why}");
    f.source = Some(source);
    let e = &edits[0];
    (f.line, f.column) = lines.line_col(s.text, e.start);
    (f.start, f.end) = (e.start, e.end);
    f.pointer = s
        .language
        .shape(s.text)
        .and_then(|shape| pointer_of(&shape, s, e))
        .or_else(|| f.pointer.clone());
    f.edits = edits;
}

/// The planner's note on a fix that lands in a variable with several uses (` (variable `x`
/// is used in 3 places; all of them change)`), for a fix the search moved there: a reader
/// must know the one edit reaches every use (the proof showed each changes only
/// rotation). ARM counts `variables('x')` as its planner does; Bicep the references its
/// parser records.
fn variable_note(s: &Subject, source: &FixSource) -> String {
    let FixSource::Variable { name } = source else {
        return String::new();
    };
    match s.path.and_then(crate::lang::FileKind::of) {
        Some(crate::lang::FileKind::Json) => {
            crate::lang::arm::plan::shared_variable_note(s.text, name).unwrap_or_default()
        }
        Some(crate::lang::FileKind::Bicep) => {
            match crate::lang::bicep::parser::parse(s.text).map(|d| d.uses(name)) {
                Ok(uses) if uses > 1 => {
                    format!(" (variable `{name}` is used in {uses} places; all of them change)")
                }
                _ => String::new(),
            }
        }
        _ => String::new(),
    }
}

/// `edits` with every `'true'` (or `"true"`) they write spelled `'True'`; `None` when they
/// write none.
fn respelled(edits: &[Edit]) -> Option<Vec<Edit>> {
    let mut any = false;
    let out = edits
        .iter()
        .map(|e| {
            let mut e = e.clone();
            for (from, to) in [("'true'", "'True'"), ("\"true\"", "\"True\"")] {
                if e.replacement.contains(from) {
                    e.replacement = e.replacement.replace(from, to);
                    any = true;
                }
            }
            e
        })
        .collect();
    any.then_some(out)
}

/// Makes every applied fix hold in every configuration whose failure is not a parameter
/// file's own finding: a fix that leaves its cluster failing there (a value only the
/// defaults reach) is replaced by a safe one that holds everywhere, when there is one, so a
/// second run has nothing left to do. Returns whether anything changed.
fn complete(
    s: &Subject,
    before: &[Deployment],
    analysis: &mut Analysis,
    combined: &mut Vec<Edit>,
    clusters: &[String],
    known_after: Option<Vec<Deployment>>,
) -> bool {
    let Some(after) = known_after.or_else(|| {
        edit::apply(s.text, combined)
            .ok()
            .and_then(|t| evaluate_all(s, &t))
    }) else {
        return false;
    };
    let mut lines: Option<LineIndex> = None;
    let mut changed = false;
    for i in 0..analysis.findings.len() {
        let f = &analysis.findings[i];
        let Some(k) = f.cluster.clone().filter(|_| analysis.applies(f)) else {
            continue;
        };
        if !s.fails_unowned(&k, &after) {
            continue;
        }
        let Some((found, source, _)) =
            search(s, before, &k, clusters, &f.edits, Order::SourcesFirst)
        else {
            continue;
        };
        let mut next: Vec<Edit> = combined
            .iter()
            .filter(|e| !f.edits.contains(e))
            .cloned()
            .collect();
        next.extend(found.iter().cloned());
        if verdict(s, before, &next, Some(&k), clusters) != Verdict::Safe {
            continue;
        }
        let still = describe_fails(
            s,
            &match state(&k, &after, s.configurations) {
                State::Fail(fails) => fails,
                _ => Vec::new(),
            },
            s.configurations.len(),
        );
        let lines = lines.get_or_insert_with(|| LineIndex::new(s.text));
        let why = format!("fixing it at its source leaves it failing ({still})");
        relocate(s, lines, &mut analysis.findings[i], found, source, &why);
        *combined = next;
        changed = true;
    }
    changed
}

/// The JSON pointer of the value edit `e` changes, in the file's ARM shape: the first
/// operation of the patch it makes.
fn pointer_of(shape: &serde_json::Value, s: &Subject, e: &Edit) -> Option<String> {
    let fixed = edit::apply(s.text, std::slice::from_ref(e)).ok()?;
    let after = s.language.shape(&fixed)?;
    let patch = json_patch::diff(shape, &after);
    patch.0.first().map(|op| op.path().to_string())
}

/// The most candidate places [`search`] tries for one cluster: each costs an evaluation of
/// every configuration.
const MAX_CANDIDATES: usize = 64;

/// Which places [`search`] tries first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The cluster's own value first: a fix at the source was not safe, so the next place is
    /// the one closest to the cluster.
    ClusterFirst,
    /// The sources first: the source reading found no fix, and a value that feeds the
    /// cluster is where a person would change it.
    SourcesFirst,
}

/// Looks for a safe fix of cluster `k`, each candidate proven on its own, the first safe one
/// winning. First the places on the cluster's provenance chain
/// ([`Language::chain_candidates`]: where the rotation value is written, then each place
/// it passes closer to the cluster, a variable before the cluster's own value); with
/// [`Order::ClusterFirst`] the planner's fix (`skip`) was the chain's first try, so the
/// search starts after its place. Then the cluster's own rotation value and `config`
/// written as literals, and the guesses: each false literal that could feed it (a parameter
/// default, an `enableSecretRotation` member, a module argument) and each argument a module
/// call could add for a callee parameter that defaults to false; with
/// [`Order::SourcesFirst`] the guesses come before the cluster's literals. A guess (and,
/// when no source fix was found, anything tried) must also make the cluster pass everywhere
/// it failed, not merely stop failing, and must change it. `skip`: a fix already tried.
fn search(
    s: &Subject,
    before: &[Deployment],
    k: &str,
    clusters: &[String],
    skip: &[Edit],
    order: Order,
) -> Option<(Vec<Edit>, FixSource, Vec<String>)> {
    let settle = order == Order::SourcesFirst;
    let mut chain = s.language.chain_candidates(s.text, k);
    if order == Order::ClusterFirst {
        // The planner's fix is on the chain: what is farther from the cluster was its
        // source, or feeds it; the search goes on closer to the cluster.
        let overlaps = |e: &Edit| skip.iter().any(|x| x.start < e.end && e.start < x.end);
        if let Some(at) = chain.iter().rposition(|(e, _)| overlaps(e)) {
            chain.drain(..=at);
        }
    }
    let on_chain: Vec<Edit> = chain.iter().map(|(e, _)| e.clone()).collect();
    let chain = chain.into_iter().map(|(e, source)| (e, source, settle));
    let rotation = format!("{k}/properties/addonProfiles/{ADDON}/config/{ROTATION}");
    let config = format!("{k}/properties/addonProfiles/{ADDON}/config");
    let at_cluster: Vec<(Edit, FixSource, bool)> = [
        s.language.literal_rotation(s.text, &rotation),
        s.language.literal_config(s.text, &config),
        kept_config(s, before, k, &config),
    ]
    .into_iter()
    .flatten()
    // Written in the cluster itself, the literal is the fix a person would make there; only
    // as a guess (no source fix was found) must it also settle every configuration.
    .map(|e| (e, FixSource::Value, settle))
    .collect();
    let guesses = s
        .language
        .candidates(s.text)
        .into_iter()
        .chain(s.language.call_candidates(s.text, s.path))
        .take(MAX_CANDIDATES)
        .map(|(e, source)| (e, source, true));
    let tries: Vec<(Edit, FixSource, bool)> = match order {
        Order::ClusterFirst => chain.chain(at_cluster).chain(guesses).collect(),
        Order::SourcesFirst => chain.chain(guesses).chain(at_cluster).collect(),
    };
    let mut tried: Vec<Edit> = Vec::new();
    let refused: std::cell::RefCell<Vec<String>> = Default::default();
    tries
        .into_iter()
        .filter(|(e, ..)| {
            let fresh = !skip.contains(e) && !tried.contains(e);
            tried.push(e.clone());
            fresh
        })
        .find(|(e, source, guess)| {
            let edits = std::slice::from_ref(e);
            let Some(after) = edit::apply(s.text, edits)
                .ok()
                .and_then(|t| evaluate_all(s, &t))
            else {
                return false;
            };
            let v = verdict_with(s, before, &after, Some(k), clusters, edits);
            if v != Verdict::Safe {
                // A place on the chain that was refused: the message says why, briefly.
                if on_chain.contains(e) {
                    let why = refusal(source, &v);
                    if !why.is_empty() && !refused.borrow().contains(&why) {
                        refused.borrow_mut().push(why);
                    }
                }
                return false;
            }
            !guess
                || (state(k, &after[..1], &s.configurations[..1]) == State::Pass
                    && !s.fails_unowned(k, &after)
                    && changes(k, before, &after))
        })
        .map(|(e, source, _)| (vec![e], source, refused.take()))
}

/// The cluster's `config` (an expression: `union(variables('base'), variables('over'))`)
/// written as a literal that keeps every other key the evaluated config has, rotation set
/// to `'true'`: the fallback when the places that feed it are shared (a literal of rotation
/// alone would drop the other keys, a side effect). Only when the evaluated config is one
/// known object, the same in every configuration and every copy, with a key besides
/// rotation, each key writable as the language's bare key; the proof then checks it.
fn kept_config(s: &Subject, before: &[Deployment], k: &str, config: &str) -> Option<Edit> {
    let at = s.language.literal_config(s.text, config)?;
    let kind = s.path.and_then(crate::lang::FileKind::of);
    let mut merged: Option<&Value> = None;
    for d in before {
        for r in deployed(k, d) {
            let c = r
                .body
                .get("properties")?
                .get("addonProfiles")?
                .get(ADDON)?
                .get("config")?;
            if merged.is_some_and(|m| m != c) {
                return None;
            }
            merged = Some(c);
        }
    }
    let Value::Object(o) = merged? else {
        return None;
    };
    fn known(v: &Value) -> bool {
        match v {
            Value::Unknown(_) => false,
            Value::Array(a) => a.iter().all(known),
            Value::Object(o) => o.members.iter().all(|(_, v)| known(v)),
            _ => true,
        }
    }
    let bare = |key: &str| {
        key.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !o.members.iter().all(|(key, v)| known(v) && bare(key))
        || o.members
            .iter()
            .all(|(key, _)| key.eq_ignore_ascii_case(ROTATION))
    {
        return None;
    }
    let mut o = o.clone();
    match o
        .members
        .iter_mut()
        .find(|(key, _)| key.eq_ignore_ascii_case(ROTATION))
    {
        Some(slot) => slot.1 = Value::str("true"),
        None => o.members.push((ROTATION.to_string(), Value::str("true"))),
    }
    let text = match kind {
        Some(kind @ crate::lang::FileKind::Bicep) => kind.spell(&Value::Object(o)),
        Some(crate::lang::FileKind::Json) | None => {
            let members: Vec<String> = o
                .members
                .iter()
                .map(|(key, v)| format!("{}: {v}", serde_json::Value::String(key.clone())))
                .collect();
            format!("{{ {} }}", members.join(", "))
        }
        Some(_) => return None,
    };
    Some(Edit::replace(at.start, at.end, &text))
}

/// Why the search passed over a place on the chain for its side effects, in a few words:
/// "in variable `rot` it also changes …" (empty for any other verdict).
fn refusal(source: &FixSource, v: &Verdict) -> String {
    let place = match source {
        FixSource::Value => "in the cluster".to_string(),
        other => other.describe(),
    };
    // Only a place refused for its side effects: one where the fix would not take effect
    // (a null branch) is no reason a reader needs.
    match v {
        Verdict::Unsafe(effects) => format!("{place} it {}", effects_clause(effects)),
        _ => String::new(),
    }
}

/// A `why` (see [`why_not`]) with the places the search passed over on its way, each with
/// its reason: "…, and in variable `rot` it also changes …".
fn with_refusals(why: String, refused: &[String]) -> String {
    let mut out = why;
    for r in refused {
        if out.is_empty() {
            out = r.clone();
        } else {
            out += &format!("; {r}");
        }
    }
    out
}

/// Whether `r` is a module call the planner took for a cluster, whose template the evaluator
/// does not have.
fn is_module_proxy(r: &Resource, clusters: &[String]) -> bool {
    !r.expanded && r.origin.len() == 2 && clusters.contains(&pointer(&r.origin))
}

/// Whether resource `r` comes from the place `k` (a pointer), or from inside it.
fn origin_is(r: &Resource, k: &str) -> bool {
    let tokens = k
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"));
    let mut n = 0;
    for (i, t) in tokens.enumerate() {
        if r.origin.get(i) != Some(&t) {
            return false;
        }
        n = i + 1;
    }
    r.origin.len() >= n
}

/// Whether cluster `k` deploys differently after than before in some configuration: a
/// guessed fix that leaves it as it was fixes nothing.
fn changes(k: &str, before: &[Deployment], after: &[Deployment]) -> bool {
    before.iter().zip(after).any(|(b, a)| {
        let b: Vec<&Value> = deployed(k, b).map(|r| &r.body).collect();
        let a: Vec<&Value> = deployed(k, a).map(|r| &r.body).collect();
        a != b
    })
}

/// A module call that deploys a cluster the evaluator cannot see (a registry module): its
/// `enableSecretRotation` argument is that cluster's rotation setting, so it is not compared.
fn without_module_rotation(d: &Deployment, clusters: &[String]) -> Deployment {
    let mut d = d.clone();
    for r in &mut d.resources {
        if !is_module_proxy(r, clusters) {
            continue;
        }
        if let Some(Value::Object(params)) = r
            .body
            .as_object_mut()
            .and_then(|b| b.get_mut("properties"))
            .and_then(Value::as_object_mut)
            .and_then(|p| p.get_mut("parameters"))
        {
            params.remove(ROTATION);
        }
    }
    d
}

fn pointer(tokens: &[String]) -> String {
    jsonptr::PointerBuf::from_tokens(tokens.iter().cloned()).to_string()
}

/// The name of a copy of cluster `k` that fails (else of any copy), for messages.
fn cluster_name(k: &str, before: &[Deployment]) -> String {
    let named = |failing: bool| {
        before
            .iter()
            .flat_map(|d| deployed(k, d))
            .filter(|r| !failing || matches!(judge(r), Judgement::Fail { .. }))
            .find_map(|r| r.name.as_str().map(|n| format!("`{n}`")))
    };
    named(true)
        .or_else(|| named(false))
        .unwrap_or_else(|| format!("at `{k}`"))
}

fn describe_fails(s: &Subject, fails: &[(String, String)], configurations: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (config, reason) in fails {
        let reason = &s.respell(reason);
        let part = if configurations > 1 {
            format!("with {config}: {reason}")
        } else {
            reason.clone()
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts.join("; ")
}

/// The first side effect, and how many more there are. A side effect of one configuration
/// (`with dev.json: also …`) reads `also … (with dev.json)`.
fn effects_clause(effects: &[String]) -> String {
    let first = effects.first().map_or("", String::as_str);
    let first = match first.strip_prefix("with ").and_then(|r| r.split_once(": ")) {
        Some((config, rest)) => format!("{rest} (with {config})"),
        None => first.to_string(),
    };
    match effects.len() {
        0 | 1 => first,
        n => format!("{first}, and {} more", n - 1),
    }
}

/// A finding's message without the note on where its fix lands (`; fixed in …`,
/// ` (fixed at …)`): what the rule says of the cluster.
fn rule_part(message: &str) -> &str {
    crate::finding::without_fix_note(message)
}

fn why_not(v: &Verdict) -> String {
    match v {
        Verdict::Unsafe(effects) => {
            format!("fixing it at its source {}", effects_clause(effects))
        }
        Verdict::Ineffective(why) => {
            format!("fixing it at its source does not take effect ({why})")
        }
        Verdict::Safe | Verdict::Unproven => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::FileKind;

    fn proven(text: &str) -> Analysis {
        let kind = FileKind::Json;
        let mut a = kind.analyze(text, &Default::default()).unwrap().unwrap();
        let configurations = [Configuration::defaults()];
        let s = Subject {
            language: kind.language(),
            owned: Default::default(),
            text,
            path: None,
            configurations: &configurations,
            unsafe_fixes: false,
        };
        prove(&s, &mut a);
        a
    }

    #[test]
    fn a_literal_cluster_with_a_false_condition_is_not_deployed_so_not_flagged() {
        // Literal all the way, but the condition decides: the proof must not be skipped.
        let text = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
          "resources": [{"type": "Microsoft.ContainerService/managedClusters", "name": "a",
            "condition": false, "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider":
            {"enabled": true, "config": {"enableSecretRotation": "false"}}}}}]}"#;
        let a = proven(text);
        assert!(a.findings.is_empty(), "{:?}", a.findings);
        assert!(a.edits.is_empty());
    }

    #[test]
    fn a_cluster_copied_zero_times_deploys_nothing() {
        let text = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
          "parameters": {"n": {"type": "int", "defaultValue": 0}},
          "resources": [{"type": "Microsoft.ContainerService/managedClusters",
            "name": "[concat('a', copyIndex())]", "copy": {"name": "c", "count": "[parameters('n')]"},
            "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider":
            {"enabled": true, "config": {"enableSecretRotation": "false"}}}}}]}"#;
        let a = proven(text);
        assert!(a.findings.is_empty(), "{:?}", a.findings);
        assert!(a.edits.is_empty());
    }

    #[test]
    fn a_literal_cluster_is_not_evaluated_and_keeps_its_fix() {
        let text = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
          "resources": [{"type": "Microsoft.ContainerService/managedClusters", "name": "a",
            "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider":
            {"enabled": true, "config": {"enableSecretRotation": "false"}}}}}]}"#;
        let a = proven(text);
        assert!(a.clusters_literal);
        assert_eq!(a.fixable(), 1);
        assert_eq!(a.edits.len(), 1);
    }

    #[test]
    fn a_failure_is_described_with_values_spelled_as_the_file_does() {
        let configurations = [Configuration::defaults()];
        let subject = |path: Option<&'static Path>| Subject {
            language: FileKind::Json.language(),
            owned: Default::default(),
            text: "",
            path,
            configurations: &configurations,
            unsafe_fixes: false,
        };
        let bicep = subject(Some(Path::new("main.bicep")));
        assert_eq!(
            bicep.respell("`enableSecretRotation` is \"false\""),
            "`enableSecretRotation` is 'false'"
        );
        assert_eq!(
            bicep.respell("`config` is \"x, y\", not an object"),
            "`config` is 'x, y', not an object"
        );
        assert_eq!(bicep.respell("`config` is missing"), "`config` is missing");
        assert_eq!(
            bicep.respell("`enableSecretRotation` is <unknown: x>"),
            "`enableSecretRotation` is <unknown: x>"
        );
        let arm = subject(Some(Path::new("main.json")));
        assert_eq!(
            arm.respell("`enableSecretRotation` is \"false\""),
            "`enableSecretRotation` is \"false\""
        );
        let tf = subject(Some(Path::new("main.tf")));
        assert_eq!(
            tf.respell("`enable_secret_rotation` is false"),
            "`enable_secret_rotation` is false"
        );
    }

    #[test]
    fn a_shared_variable_is_left_alone_and_the_cluster_gets_the_literal() {
        let text = include_str!("../../tests/fixtures/trace/variable-string/azuredeploy.json");
        let a = proven(text);
        assert_eq!(a.findings.len(), 1);
        let f = &a.findings[0];
        assert_eq!(f.applicability, Applicability::Safe, "{}", f.message);
        assert_eq!(a.edits.len(), 1);
        assert_eq!(a.edits[0].replacement, "\"true\"");
    }
}
