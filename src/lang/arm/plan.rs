//! Plans the fix of one ARM template: runs the rule on every cluster through the traced
//! view (see `trace`), turns each verdict into a finding and, where armfix can fix it, into
//! RFC 6902 operations on the parsed document at the value's source (the cluster itself, a
//! variable, an expression, a parameter's default), then asks the renderer for the text
//! edits that carry those operations out.

use crate::edit::Edit;
use crate::error::Error;
use crate::eval::arm_origin::{self as trace, At, ParamSource, Traced, V};
use crate::finding::{
    duplicate_key, manual_review_message, Analysis, Finding, FixSource, Quote, Remedy,
};
use crate::lang::arm::expr::{Expr, TermKind};
use crate::lang::arm::jsonc::Node;
use crate::lang::arm::render;
use crate::lang::arm::template::{self as arm, Segment};
use crate::location::LineIndex;
use crate::rule::{self, FixKind, Verdict, ROTATION};
use json_patch::{AddOperation, PatchOperation, ReplaceOperation};
use jsonptr::PointerBuf;
use serde_json::Value;
use typed_arena::Arena;

pub use crate::lang::Options;

/// Analyses one JSON file. `Ok(None)` means it is not a deployment template (nothing to do).
pub fn analyze(text: &str, options: &Options) -> Result<Option<Analysis>, Error> {
    let root = arm::parse(text).map_err(|e| Error::source(e.offset, e.message))?;
    if !arm::is_template(&root) {
        return Ok(None);
    }
    analyze_template(text, &root, options).map(Some)
}

/// True when `metadata._generator.name` is `bicep` (ASCII case-insensitive).
fn compiled_by_bicep(root: &Node) -> bool {
    use crate::rule::Lookup;
    let Lookup::Found(_, meta) = arm::get(root, "metadata") else {
        return false;
    };
    let Lookup::Found(_, generator) = arm::get(meta, "_generator") else {
        return false;
    };
    matches!(arm::get(generator, "name"), Lookup::Found(_, n)
        if n.as_str().is_some_and(|n| n.eq_ignore_ascii_case("bicep")))
}

/// One change to make, before rendering.
#[derive(Clone)]
enum Change<'t> {
    /// A JSON Patch operation on a JSON value.
    Op(PatchOperation),
    /// An edit inside the decoded text of the JSON string `host` (an expression).
    InString {
        host: &'t Node<'t>,
        path: Vec<Segment>,
        start: usize,
        end: usize,
        text: String,
    },
}

/// What becomes of one failing cluster.
enum Outcome<'t> {
    Fixed(Vec<Change<'t>>, FixSource),
    Manual { reason: String, expression: String },
    Passes,
}

/// Analyses a parsed template.
pub fn analyze_template(text: &str, root: &Node, options: &Options) -> Result<Analysis, Error> {
    let arena = Arena::new();
    let json = std::cell::OnceCell::new();
    let mut analysis = analyze_traced(text, root, &arena, &json, options)?;
    analysis.compiled_from_bicep = compiled_by_bicep(root);
    Ok(analysis)
}

fn analyze_traced<'t>(
    text: &'t str,
    root: &'t Node<'t>,
    arena: &'t Arena<Expr>,
    json: &'t std::cell::OnceCell<Option<serde_json::Value>>,
    options: &Options,
) -> Result<Analysis, Error> {
    let clusters = arm::find_clusters(root).map_err(|a| ambiguous(&a.path, a.node.span.start))?;
    let traced = Traced::new(arena, text, json);
    let mut analysis = Analysis::default();
    let mut changes: Vec<Change<'t>> = Vec::new();
    let mut lines: Option<LineIndex> = None;
    analysis.clusters = clusters
        .iter()
        .map(|c| pointer(&c.path).to_string())
        .collect();
    analysis.clusters_literal = clusters
        .iter()
        .all(|c| c.path.len() == 2 && crate::lang::arm::literal_cluster(c.node));
    // Deployments linking a template on disk: its clusters are judged with what this passes.
    let linked = crate::eval::linked::linked_deployments_in(text, root);
    if !linked.is_empty() {
        analysis.clusters_literal = false;
        analysis.clusters.extend(linked);
    }
    for cluster in clusters {
        let v = traced.cluster(root, &cluster.path, cluster.node);
        let (at, message, outcome) = match rule::decide(&traced, v) {
            Verdict::NotApplicable | Verdict::Pass => continue,
            Verdict::Ambiguous { at, .. } => {
                return Err(ambiguous(&at.path, at.span(text).0));
            }
            Verdict::Fix(fix) => {
                let message = rule::fix_message(&fix.kind);
                let outcome = fix_at_source(text, &traced, &fix.kind, fix.target, &fix.value);
                (fix.at, message, outcome)
            }
            Verdict::Review {
                at,
                path,
                expression,
                reason,
            } => {
                let rotation = path
                    .last()
                    .is_some_and(|k| k.eq_ignore_ascii_case(ROTATION));
                let switch = rotation.then(|| traced.switch(at.clone())).flatten();
                let outcome = if rotation {
                    follow_parameter(&traced, at.clone(), &mut analysis)
                        .or_else(|| follow_member(&traced, at.clone(), cluster.node))
                        .or_else(|| switch.as_ref().map(|w| flip(w, &mut analysis)))
                } else {
                    None
                };
                let outcome = outcome.unwrap_or_else(|| {
                    let (reason, expression) = explain(&traced, &at, &path, reason, &expression);
                    if options.force_literal {
                        force_literal(&at, &cluster.path)
                            .unwrap_or(Outcome::Manual { reason, expression })
                    } else {
                        Outcome::Manual { reason, expression }
                    }
                });
                let message = if let Some(w) = &switch {
                    format!(
                        "`{ROTATION}` is chosen by parameter `{}`, whose default selects a \
                         value that is not true",
                        w.name
                    )
                } else if rotation {
                    format!("`{ROTATION}` comes from a parameter that is not true")
                } else {
                    format!(
                        "`{}` is computed at deploy time",
                        path.last().map_or("", |s| s)
                    )
                };
                (at, message, outcome)
            }
        };
        let mut own = Vec::new();
        let (message, remedy, source) = match outcome {
            Outcome::Passes => continue,
            Outcome::Fixed(new, source) => {
                own = new.clone();
                changes.extend(new);
                let message = match &source {
                    FixSource::Value => message,
                    other => format!("{message}; fixed {}", other.describe()),
                };
                let note = match &source {
                    FixSource::Variable { name } => shared_variable_note(text, name),
                    _ => None,
                };
                (
                    message + &note.unwrap_or_default(),
                    Remedy::Fix,
                    Some(source),
                )
            }
            Outcome::Manual { reason, expression } => (
                manual_review_message(&reason, &expression, Quote::Backticks),
                Remedy::ManualReview {
                    reason,
                    expression: Some(expression).filter(|e| !e.is_empty()),
                },
                None,
            ),
        };
        let lines = lines.get_or_insert_with(|| LineIndex::new(text));
        analysis.findings.push(Finding::placed(
            lines,
            text,
            at.span(text),
            Some(pointer(&at.path).to_string()),
            message,
            remedy,
            source,
        ));
        // A finding's own edits serve the deploy-time proof, which clusters written with
        // literals all the way do not need (see `run::prove::settled_by_reading`).
        let own = if own.is_empty() || analysis.clusters_literal {
            Vec::new()
        } else {
            render_changes(text, root, own)?.1
        };
        if let Some(f) = analysis.findings.last_mut() {
            f.cluster = Some(pointer(&cluster.path).to_string());
            f.edits = own;
        }
    }
    let (patch, edits) = render_changes(text, root, changes)?;
    analysis.patch = patch;
    analysis.edits = edits;
    analysis.parameters.dedup();
    Ok(analysis)
}

/// Plans a fix the rule asked for at `target`, wherever tracing found it.
fn fix_at_source<'t>(
    text: &str,
    traced: &Traced<'t>,
    kind: &FixKind,
    target: V<'t>,
    value: &Value,
) -> Outcome<'t> {
    let target = traced.deref(target);
    let source = match target.variable() {
        Some(name) => FixSource::Variable {
            name: name.to_string(),
        },
        None if matches!(target.at, At::Term { .. }) => FixSource::Expression,
        None => FixSource::Value,
    };
    let _ = text;
    match (kind, target.at) {
        (FixKind::AddConfig | FixKind::AddKey, At::Json(_)) => {
            let key = if *kind == FixKind::AddConfig {
                "config"
            } else {
                ROTATION
            };
            let mut path = (*target.path).clone();
            path.push(Segment::Key(key.into()));
            let op = PatchOperation::Add(AddOperation {
                path: pointer(&path),
                value: value.clone(),
            });
            Outcome::Fixed(vec![Change::Op(op)], source)
        }
        (FixKind::ReplaceConfig | FixKind::ReplaceValue(_), At::Json(_)) => {
            let op = PatchOperation::Replace(ReplaceOperation {
                path: pointer(&target.path),
                value: value.clone(),
            });
            Outcome::Fixed(vec![Change::Op(op)], source)
        }
        (_, At::Term { host, expr, term }) => {
            let t = &expr.terms[term];
            let (start, end, insert) = match (kind, &t.kind) {
                // A trailing argument without its pair: appending a pair would shift every
                // key after it, so the object is left for a human.
                (FixKind::AddConfig | FixKind::AddKey, TermKind::Call { name, args })
                    if name == "createobject" && args.len() % 2 == 0 =>
                {
                    let pair = if *kind == FixKind::AddConfig {
                        format!("'config', createObject('{ROTATION}', 'true')")
                    } else {
                        format!("'{ROTATION}', 'true'")
                    };
                    let close = t.end - 1;
                    let text = if args.is_empty() {
                        pair
                    } else {
                        format!(", {pair}")
                    };
                    (close, close, text)
                }
                (FixKind::ReplaceConfig, _) => (
                    t.start,
                    t.end,
                    format!("createObject('{ROTATION}', 'true')"),
                ),
                (FixKind::ReplaceValue(_), TermKind::Str(_) | TermKind::Word(_))
                | (FixKind::ReplaceValue(_), TermKind::Call { .. })
                    if literal_term(expr, term) =>
                {
                    (t.start, t.end, "'true'".to_string())
                }
                _ => {
                    return Outcome::Manual {
                        reason: format!(
                            "the value is built by an expression armfix cannot edit; make it set \
                             `{ROTATION}` to 'true'"
                        ),
                        expression: host.as_str().unwrap_or("").to_string(),
                    }
                }
            };
            Outcome::Fixed(
                vec![Change::InString {
                    host,
                    path: (*target.path).clone(),
                    start,
                    end,
                    text: insert,
                }],
                source,
            )
        }
    }
}

/// String, number and `true`/`false`/`null` terms (with or without parentheses).
fn literal_term(expr: &Expr, term: usize) -> bool {
    match &expr.terms[term].kind {
        TermKind::Str(_) | TermKind::Word(_) | TermKind::Number(_) => true,
        TermKind::Call { name, args } => {
            args.is_empty() && matches!(name.as_str(), "true" | "false" | "null")
        }
        _ => false,
    }
}

/// The rotation value reads a parameter: fix its default, or the value a nested deployment
/// passes. `None` when the value is not a parameter.
fn follow_parameter<'t>(
    traced: &Traced<'t>,
    at: V<'t>,
    analysis: &mut Analysis,
) -> Option<Outcome<'t>> {
    let (name, scope) = traced.parameter_of(at)?;
    let sources = traced.trace_parameter(&scope, &name, &mut analysis.parameters, 0);
    let mut changes = Vec::new();
    let mut source = None;
    for s in sources {
        match s {
            ParamSource::Passes => {}
            ParamSource::Replace {
                path,
                value,
                name,
                passed,
                ..
            } => {
                source = Some(if passed {
                    FixSource::DeploymentParameter { name }
                } else {
                    FixSource::ParameterDefault { name }
                });
                changes.push(Change::Op(PatchOperation::Replace(ReplaceOperation {
                    path: pointer(&path),
                    value,
                })));
            }
            ParamSource::NoDefault { name } => {
                return Some(Outcome::Manual {
                    reason: format!(
                        "parameter `{name}` has no default value; make every deployment pass \
                         true (armfix fixes the parameter files it finds beside the template)"
                    ),
                    expression: format!("[parameters('{name}')]"),
                })
            }
            ParamSource::Review(reason) => {
                return Some(Outcome::Manual {
                    reason,
                    expression: format!("[parameters('{name}')]"),
                })
            }
        }
    }
    Some(match source {
        Some(source) => Outcome::Fixed(changes, source),
        None => Outcome::Passes,
    })
}

/// The rotation value reads a member or element of a parameter (`parameters('cfg').rot`,
/// `parameters('list')[copyIndex()].rot`): fix it in the parameter's default, as Bicep's
/// `cfg.rot` is, each failing element of the array when the cluster's copy loop runs once
/// per element (`count` is `length()` of that parameter). Parameter files are not asked
/// to write an object's member: a configuration that sets the parameter is judged by the
/// deploy-time proof. `None` when the value is not such a read.
fn follow_member<'t>(traced: &Traced<'t>, at: V<'t>, cluster: &Node) -> Option<Outcome<'t>> {
    let (name, scope, steps) = traced.parameter_access_of(at)?;
    let whole_array = copy_counts(cluster, &name);
    let sources = traced.trace_parameter_member(&scope, &name, &steps, whole_array);
    let mut changes = Vec::new();
    let mut source = None;
    for s in sources {
        match s {
            ParamSource::Passes => {}
            ParamSource::Replace {
                path, value, name, ..
            } => {
                source = Some(FixSource::ParameterDefault { name });
                changes.push(Change::Op(PatchOperation::Replace(ReplaceOperation {
                    path: pointer(&path),
                    value,
                })));
            }
            ParamSource::Review(reason) => {
                return Some(Outcome::Manual {
                    reason,
                    expression: format!("[parameters('{name}')]"),
                })
            }
            ParamSource::NoDefault { .. } => return None,
        }
    }
    Some(match source {
        Some(source) => Outcome::Fixed(changes, source),
        None => Outcome::Passes,
    })
}

/// Whether `cluster`'s copy loop runs once per element of parameter `name`: its `count` is
/// `[length(parameters('name'))]`.
fn copy_counts(cluster: &Node, name: &str) -> bool {
    use crate::rule::Lookup;
    let Lookup::Found(_, copy) = arm::get(cluster, "copy") else {
        return false;
    };
    let Lookup::Found(_, count) = arm::get(copy, "count") else {
        return false;
    };
    let Some(e) = count.as_str().and_then(crate::lang::arm::expr::parse) else {
        return false;
    };
    matches!(e.call(e.root), Some(("length", [p]))
        if matches!(e.call(*p), Some(("parameters", [n]))
            if e.str_lit(*n).is_some_and(|n| n.eq_ignore_ascii_case(name))))
}

/// The fix of a [`trace::Switch`]: its parameter's default flipped to the value that
/// selects the passing branch (nothing when it already does). A parameter file that sets
/// the parameter is checked too when true selects it (the demand says the parameter feeds
/// rotation, as a plain `parameters('p')` does).
fn flip<'t>(w: &trace::Switch, analysis: &mut Analysis) -> Outcome<'t> {
    if w.want && w.default.len() == 3 {
        let demand = crate::eval::provenance::ParamDemand {
            name: w.name.clone(),
            boolean: true,
        };
        if !analysis.parameters.contains(&demand) {
            analysis.parameters.push(demand);
        }
    }
    if w.passes {
        return Outcome::Passes;
    }
    Outcome::Fixed(
        vec![Change::Op(PatchOperation::Replace(ReplaceOperation {
            path: pointer(&w.default),
            value: Value::Bool(w.want),
        }))],
        FixSource::ParameterDefault {
            name: w.name.clone(),
        },
    )
}

/// Why a traced value stops armfix, and the concrete change a human should make.
fn explain<'t>(
    traced: &Traced<'t>,
    at: &V<'t>,
    path: &[String],
    reason: String,
    expression: &str,
) -> (String, String) {
    let end = if at.undecided {
        at.clone()
    } else {
        traced.deref(at.clone())
    };
    let what = path.last().map_or("value", |s| s.as_str());
    let why = match end.at {
        At::Term { expr, term, .. } => match expr.call(head_call(expr, term)) {
            Some(("parameters", _)) => format!("`{what}` comes from a parameter"),
            Some(("reference" | "list" | "listkeys", _)) => {
                format!("`{what}` depends on another resource at deploy time")
            }
            Some(("if", _)) => format!("`{what}` depends on a condition"),
            Some((f, _)) => format!("`{what}` is computed by `{f}()`"),
            None => format!("`{what}` is computed at deploy time"),
        },
        At::Json(_) => return (reason, expression.to_string()),
    };
    let change = if what.eq_ignore_ascii_case(ROTATION) {
        "make it evaluate to 'true'".to_string()
    } else {
        format!("make it set `{ROTATION}` to 'true' whenever the add-on is enabled")
    };
    let host = end.host().as_str().unwrap_or(expression).to_string();
    (format!("{why}; {change}"), host)
}

/// The call a term starts from: `reference('x').outputs.y` starts from `reference`.
fn head_call(expr: &Expr, mut term: usize) -> usize {
    loop {
        match &expr.terms[term].kind {
            TermKind::Member { base, .. } | TermKind::Index { base, .. } => term = *base,
            _ => return term,
        }
    }
}

/// `--force-literal`: overwrite the expression string in the cluster that computes the
/// rotation value or `config` with the literal value. Only strings inside the cluster
/// resource itself are overwritten, never variables or parameters shared with others.
fn force_literal<'t>(at: &V<'t>, cluster: &[Segment]) -> Option<Outcome<'t>> {
    if !at.path.starts_with(cluster) || at.variable().is_some() {
        return None;
    }
    let Segment::Key(what) = at.path.last()? else {
        return None;
    };
    let value = if what.eq_ignore_ascii_case(ROTATION) {
        rule::rotation_value()
    } else if what.eq_ignore_ascii_case("config") {
        rule::config_value()
    } else {
        return None;
    };
    let op = PatchOperation::Replace(ReplaceOperation {
        path: pointer(&at.path),
        value,
    });
    Some(Outcome::Fixed(vec![Change::Op(op)], FixSource::Value))
}

/// A note when the variable that was edited is read in more than one place.
pub(crate) fn shared_variable_note(text: &str, name: &str) -> Option<String> {
    let needle = format!("variables('{}')", name.to_ascii_lowercase());
    let lower = text.to_ascii_lowercase();
    let uses = lower.matches(&needle).count();
    (uses > 1).then(|| format!(" (variable `{name}` is used in {uses} places; all of them change)"))
}

/// Edits planned inside one expression string: the string, its path, and the
/// (start, end, replacement) ranges of its decoded text.
type StringEdits<'t> = (&'t Node<'t>, Vec<Segment>, Vec<(usize, usize, String)>);

/// Turns planned changes into one patch and its edits: duplicate operations (clusters
/// sharing a variable) are made once; edits inside one expression string are merged into
/// one `replace` of that string.
fn render_changes<'t>(
    text: &str,
    root: &'t Node<'t>,
    changes: Vec<Change<'t>>,
) -> Result<(Vec<PatchOperation>, Vec<Edit>), Error> {
    let mut patch: Vec<PatchOperation> = Vec::new();
    let mut edits = Vec::new();
    let mut strings: Vec<StringEdits<'t>> = Vec::new();
    for change in changes {
        match change {
            Change::Op(op) => {
                if patch.iter().any(|p| p.path() == op.path()) {
                    continue;
                }
                let rendered = render::render(text, root, &op).map_err(|message| {
                    Error::internal(0, format!("cannot render the fix: {message}"))
                })?;
                edits.extend(rendered);
                patch.push(op);
            }
            Change::InString {
                host,
                path,
                start,
                end,
                text: insert,
            } => match strings.iter_mut().find(|(h, _, _)| std::ptr::eq(*h, host)) {
                Some((_, _, list)) => {
                    if !list.contains(&(start, end, insert.clone())) {
                        list.push((start, end, insert));
                    }
                }
                None => strings.push((host, path, vec![(start, end, insert)])),
            },
        }
    }
    for (host, path, mut list) in strings {
        let original = host.as_str().unwrap_or("");
        list.sort();
        let inner: Vec<Edit> = list
            .iter()
            .map(|(s, e, t)| Edit::replace(*s, *e, t.clone()))
            .collect();
        let new = crate::edit::apply(original, &inner).map_err(|m| {
            Error::internal(
                host.span.start,
                format!("conflicting edits in one expression: {m}"),
            )
        })?;
        let op = PatchOperation::Replace(ReplaceOperation {
            path: pointer(&path),
            value: Value::String(new),
        });
        if trace::raw_is_plain(text, host) {
            // Offsets in the decoded string are offsets in the source, one byte later.
            edits.extend(inner.into_iter().map(|mut e| {
                e.start += host.span.start + 1;
                e.end += host.span.start + 1;
                e
            }));
        } else {
            edits.extend(render::render(text, root, &op).map_err(|message| {
                Error::internal(host.span.start, format!("cannot render the fix: {message}"))
            })?);
        }
        patch.push(op);
    }
    Ok((patch, edits))
}

fn pointer(path: &[Segment]) -> PointerBuf {
    PointerBuf::from_tokens(path.iter().map(Segment::token).collect::<Vec<_>>())
}

fn ambiguous(path: &[Segment], offset: usize) -> Error {
    let key = path.last().map(Segment::token).unwrap_or_default();
    duplicate_key(offset, &key, Some(&pointer(path).to_string()))
}
