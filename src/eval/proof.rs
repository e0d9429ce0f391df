//! Proves that a fix changes nothing but secret rotation: [`compare`] lists every difference
//! between two evaluations of one configuration (before and after the fix), and [`classify`]
//! sorts them into the fix itself and side effects, in sentences a person can read. Running
//! the evaluators, and deciding what to do with an unsafe proof, are the caller's.
//!
//! What counts:
//! - Resources are matched by `id`; their `condition`, `existing` and whole `body` are
//!   compared. Parameters are inputs and are not compared: their effects are.
//! - A nested deployment whose template was evaluated (`expanded` before and after): its
//!   `properties.parameters` and `properties.template` are not compared, since the resources
//!   and outputs they produce are compared themselves. One not expanded is compared as is.
//! - Outputs are matched by name (ignoring ASCII case), and violations (values the
//!   template's own types reject) as messages: one that appears, or disappears, is a
//!   difference.
//!
//! What is allowed (everything else is a side effect): in a cluster deployed before and after
//! whose add-on was off before, setting the rotation value to a passing one, or creating
//! `config` holding only that (it has no effect there); in one whose add-on was in scope
//! before ([`judge`] says pass, fail or unknown), setting
//! `properties.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation` to a
//! passing value, or creating `config` (where it was missing or null) as an object holding
//! only that. A change in a resource deployed neither before nor after (condition false, or
//! `existing`), or a resource that appears or vanishes without being deployed, has no effect
//! in this configuration and is not a side effect.
//!
//! A cluster is still failing when [`judge`] says it fails after the fix; one it cannot
//! decide (Unknown) is not listed, and does not make the proof unsafe.

use super::deployment::{Deployment, Resource};
use super::judge::{enabled_in_scope, judge, rotation_passes, Judgement};
use super::value::{Object, Value};
use crate::finding::shorten;
use crate::rule::{CLUSTER_TYPE, PATH_NAMES, ROTATION};

/// A resource as differences name it: its identity, and its type and name for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRef {
    pub id: String,
    pub(crate) kind: Value,
    pub name: Value,
}

/// What a difference is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The resource is in one evaluation only; the values are its bodies, the path empty.
    Resource(ResourceRef),
    /// The resource's `condition` (path empty).
    Condition(ResourceRef),
    /// Whether the resource is an `existing` reference (path empty, values booleans).
    Existing(ResourceRef),
    /// A property of the resource's body, at the path.
    Property(ResourceRef),
    /// An output (by name), at the path inside its value.
    Output(String),
    /// A violation (path empty, the value its message as a string).
    Violation,
}

/// One difference between two evaluations.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub subject: Subject,
    /// Keys (as spelled before, or after when added; array indexes in decimal) from the body
    /// or output value down.
    pub path: Vec<String>,
    /// `None` when added.
    pub before: Option<Value>,
    /// `None` when removed.
    pub after: Option<Value>,
}

/// Whether a fix is proven to change nothing but rotation, and what else it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Proof {
    /// No side effects, and no cluster still failing.
    pub(crate) safe: bool,
    /// One sentence per side effect, deduplicated, in the order found.
    pub(crate) side_effects: Vec<String>,
    /// In-scope clusters that still fail after the fix: name and reason.
    pub(crate) still_failing: Vec<String>,
}

/// Lists every difference between two evaluations of one configuration: resources in the
/// order of `before` (then those only in `after`), then outputs, then violations.
pub fn compare(before: &Deployment, after: &Deployment) -> Vec<Difference> {
    let mut out = Vec::new();
    let index = |d: &'_ Deployment| -> std::collections::HashMap<String, usize> {
        d.resources
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (r.id.clone(), i))
            .collect()
    };
    let (in_before, in_after) = (index(before), index(after));
    for b in &before.resources {
        match in_after.get(&b.id).map(|&i| &after.resources[i]) {
            Some(a) => compare_resource(b, a, &mut out),
            None => out.push(Difference {
                subject: Subject::Resource(refer(b, b)),
                path: Vec::new(),
                before: Some(b.body.clone()),
                after: None,
            }),
        }
    }
    for a in &after.resources {
        if !in_before.contains_key(&a.id) {
            out.push(Difference {
                subject: Subject::Resource(refer(a, a)),
                path: Vec::new(),
                before: None,
                after: Some(a.body.clone()),
            });
        }
    }

    for (name, b) in &before.outputs {
        let subject = Subject::Output(name.clone());
        match output(after, name) {
            Some(a) => {
                let mut changes = Vec::new();
                diff(b, a, &mut Vec::new(), &|_| false, &mut changes);
                out.extend(changes.into_iter().map(|c| c.into(subject.clone())));
            }
            None => out.push(Difference {
                subject,
                path: Vec::new(),
                before: Some(b.clone()),
                after: None,
            }),
        }
    }
    for (name, a) in &after.outputs {
        if output(before, name).is_none() {
            out.push(Difference {
                subject: Subject::Output(name.clone()),
                path: Vec::new(),
                before: None,
                after: Some(a.clone()),
            });
        }
    }

    let violation = |before: Option<&String>, after: Option<&String>| Difference {
        subject: Subject::Violation,
        path: Vec::new(),
        before: before.map(|m| Value::str(m.clone())),
        after: after.map(|m| Value::str(m.clone())),
    };
    for (i, m) in before.violations.iter().enumerate() {
        if !after.violations.contains(m) && !before.violations[..i].contains(m) {
            out.push(violation(Some(m), None));
        }
    }
    for (i, m) in after.violations.iter().enumerate() {
        if !before.violations.contains(m) && !after.violations[..i].contains(m) {
            out.push(violation(None, Some(m)));
        }
    }
    out
}

/// Classifies the differences between two evaluations of one configuration.
pub(crate) fn classify(before: &Deployment, after: &Deployment) -> Proof {
    classify_with(before, after, false)
}

/// [`classify`]; `unknown_ok`: a value on the way to a cluster's rotation setting that is
/// Unknown before and after is no side effect. Only for edits made inside the cluster's own
/// text, which the language's verification proves change nothing but rotation: an edit
/// elsewhere (a parameter the Unknown also reads) may change more inside it.
pub(crate) fn classify_with(before: &Deployment, after: &Deployment, unknown_ok: bool) -> Proof {
    classify_spelled(before, after, unknown_ok, &json_spelling)
}

/// How a message spells an evaluated value: as the file's language writes it
/// (`FileKind::spell`), JSON by default.
pub(crate) type Spell<'a> = &'a dyn Fn(&Value) -> String;

/// The evaluator's own spelling of a value (JSON-like).
pub(crate) fn json_spelling(v: &Value) -> String {
    v.to_string()
}

/// [`classify_with`], values in the side effects spelled by `spell`.
pub(crate) fn classify_spelled(
    before: &Deployment,
    after: &Deployment,
    unknown_ok: bool,
    spell: Spell,
) -> Proof {
    let mut side_effects = Vec::new();
    let (bi, ai) = (Index::new(before), Index::new(after));
    for d in compare(before, after) {
        if let Some(sentence) = side_effect(&bi, &ai, &d, unknown_ok, spell) {
            push_unique(&mut side_effects, sentence);
        }
    }
    let mut still_failing = Vec::new();
    for a in &after.resources {
        if let Judgement::Fail { reason } = judge(a) {
            push_unique(
                &mut still_failing,
                format!("`{}` still fails: {reason}", short_name(a)),
            );
        }
    }
    Proof {
        safe: side_effects.is_empty() && still_failing.is_empty(),
        side_effects,
        still_failing,
    }
}

/// Classifies every configuration (its name, before, after) and merges the proofs; with more
/// than one configuration each message starts with `with <configuration>: `.
#[cfg(test)]
pub(crate) fn classify_all(pairs: &[(&str, &Deployment, &Deployment)]) -> Proof {
    classify_all_with(pairs, false)
}

/// [`classify_all`] with [`classify_with`]'s `unknown_ok`.
pub(crate) fn classify_all_with(
    pairs: &[(&str, &Deployment, &Deployment)],
    unknown_ok: bool,
) -> Proof {
    classify_all_spelled(pairs, unknown_ok, &json_spelling)
}

/// [`classify_all_with`], values in the side effects spelled by `spell`.
pub(crate) fn classify_all_spelled(
    pairs: &[(&str, &Deployment, &Deployment)],
    unknown_ok: bool,
    spell: Spell,
) -> Proof {
    let mut merged = Proof::default();
    for (name, before, after) in pairs {
        let proof = classify_spelled(before, after, unknown_ok, spell);
        let prefix = |m: String| {
            if pairs.len() > 1 {
                format!("with {name}: {m}")
            } else {
                m
            }
        };
        for m in proof.side_effects {
            push_unique(&mut merged.side_effects, prefix(m));
        }
        for m in proof.still_failing {
            push_unique(&mut merged.still_failing, prefix(m));
        }
    }
    merged.safe = merged.side_effects.is_empty() && merged.still_failing.is_empty();
    merged
}

// ---------------------------------------------------------------------------------------
// Comparing

/// A change found by [`diff`]: path, before, after.
struct Change(Vec<String>, Option<Value>, Option<Value>);

impl Change {
    fn into(self, subject: Subject) -> Difference {
        Difference {
            subject,
            path: self.0,
            before: self.1,
            after: self.2,
        }
    }
}

fn compare_resource(b: &Resource, a: &Resource, out: &mut Vec<Difference>) {
    let r = refer(b, a);
    if b.condition != a.condition {
        out.push(Difference {
            subject: Subject::Condition(r.clone()),
            path: Vec::new(),
            before: Some(b.condition.clone()),
            after: Some(a.condition.clone()),
        });
    }
    if b.existing != a.existing {
        out.push(Difference {
            subject: Subject::Existing(r.clone()),
            path: Vec::new(),
            before: Some(Value::Bool(b.existing)),
            after: Some(Value::Bool(a.existing)),
        });
    }
    let expanded = b.expanded && a.expanded;
    let skip = |path: &[String]| {
        expanded
            && (matches(path, &["properties", "parameters"])
                || matches(path, &["properties", "template"]))
    };
    let mut changes = Vec::new();
    diff(&b.body, &a.body, &mut Vec::new(), &skip, &mut changes);
    out.extend(
        changes
            .into_iter()
            .map(|c| c.into(Subject::Property(r.clone()))),
    );
}

/// Every change from `before` to `after` below `path`, except under paths `skip` accepts.
/// Objects are compared key by key (ignoring ASCII case), arrays index by index.
fn diff(
    before: &Value,
    after: &Value,
    path: &mut Vec<String>,
    skip: &dyn Fn(&[String]) -> bool,
    out: &mut Vec<Change>,
) {
    if skip(path) {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            // Every member counts, in every spelling (an expression may read any of them):
            // each is compared with its namesake (the exact spelling, else the last in any
            // case), and no pair is compared twice.
            let mut paired = vec![false; a.members.len()];
            for (key, bv) in &b.members {
                path.push(key.clone());
                match namesake(a, key) {
                    Some(j) => {
                        paired[j] = true;
                        diff(bv, &a.members[j].1, path, skip, out);
                    }
                    None if !skip(path) => out.push(Change(path.clone(), Some(bv.clone()), None)),
                    None => {}
                }
                path.pop();
            }
            for (j, (key, av)) in a.members.iter().enumerate() {
                if paired[j] {
                    continue;
                }
                match namesake(b, key) {
                    Some(i) => {
                        path.push(b.members[i].0.clone());
                        diff(&b.members[i].1, av, path, skip, out);
                    }
                    None => {
                        path.push(key.clone());
                        if !skip(path) {
                            out.push(Change(path.clone(), None, Some(av.clone())));
                        }
                    }
                }
                path.pop();
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            for i in 0..b.len().max(a.len()) {
                path.push(i.to_string());
                match (b.get(i), a.get(i)) {
                    (Some(bv), Some(av)) => diff(bv, av, path, skip, out),
                    (bv, av) => out.push(Change(path.clone(), bv.cloned(), av.cloned())),
                }
                path.pop();
            }
        }
        _ if before != after => out.push(Change(
            path.clone(),
            Some(before.clone()),
            Some(after.clone()),
        )),
        _ => {}
    }
}

/// The index of the member of `o` that `key` pairs with: the last spelled exactly so, else
/// the last spelled in any case.
fn namesake(o: &Object, key: &str) -> Option<usize> {
    let last = |same: &dyn Fn(&str) -> bool| o.members.iter().rposition(|(k, _)| same(k));
    last(&|k| k == key).or_else(|| last(&|k| k.eq_ignore_ascii_case(key)))
}

/// A deployment's resources by id (the first of a repeated id, as a linear search finds it).
struct Index<'d> {
    deployment: &'d Deployment,
    ids: std::collections::HashMap<&'d str, usize>,
}

impl<'d> Index<'d> {
    fn new(deployment: &'d Deployment) -> Index<'d> {
        let ids = deployment
            .resources
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        Index { deployment, ids }
    }

    fn get(&self, id: &str) -> Option<&'d Resource> {
        self.ids.get(id).map(|&i| &self.deployment.resources[i])
    }
}

fn output<'d>(d: &'d Deployment, name: &str) -> Option<&'d Value> {
    d.outputs
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Names a resource by its type and name before the fix (after, when it only exists after).
fn refer(named: &Resource, identity: &Resource) -> ResourceRef {
    ResourceRef {
        id: identity.id.clone(),
        kind: named.kind.clone(),
        name: named.name.clone(),
    }
}

/// Whether `path` is `names`, ignoring ASCII case.
fn matches(path: &[String], names: &[&str]) -> bool {
    path.len() == names.len()
        && path
            .iter()
            .zip(names)
            .all(|(p, n)| p.eq_ignore_ascii_case(n))
}

// ---------------------------------------------------------------------------------------
// Classifying

/// The sentence for a difference that is a side effect; `None` when it is allowed or has no
/// effect in this configuration.
fn side_effect(
    before: &Index,
    after: &Index,
    d: &Difference,
    unknown_ok: bool,
    spell: Spell,
) -> Option<String> {
    match &d.subject {
        Subject::Property(r) => {
            let (rb, ra) = (before.get(&r.id)?, after.get(&r.id)?);
            if !rb.deployed() && !ra.deployed() {
                return None;
            }
            if allowed(rb, ra, d, unknown_ok) {
                return None;
            }
            Some(addon_switch(rb, ra, &d.path).unwrap_or_else(|| change_sentence(r, d, spell)))
        }
        Subject::Condition(r) => {
            let (b, a) = (d.before.as_ref()?, d.after.as_ref()?);
            let label = label(r);
            let off = Value::Bool(false);
            Some(match (b == &off, a) {
                (true, Value::Bool(true)) => {
                    format!("also deploys {label} (its condition turns true)")
                }
                (true, Value::Unknown(u)) => format!(
                    "also may deploy {label} (its condition becomes unknown: {})",
                    u.reason
                ),
                (false, a) if a == &off => {
                    format!("also stops deploying {label} (its condition turns false)")
                }
                _ if both_unknown(b, a, spell) => format!(
                    "also changes the condition of {label}, a value armfix cannot know offline"
                ),
                _ => format!(
                    "also changes the condition of {label} from {} to {}",
                    text(b, spell),
                    text(a, spell)
                ),
            })
        }
        Subject::Existing(r) => Some(if d.after == Some(Value::Bool(true)) {
            format!(
                "also stops deploying {} (it becomes an `existing` reference)",
                label(r)
            )
        } else {
            format!(
                "also deploys {} (it is no longer an `existing` reference)",
                label(r)
            )
        }),
        Subject::Resource(r) => match (before.get(&r.id), after.get(&r.id)) {
            (None, Some(a)) if a.deployed() => {
                Some(format!("also deploys {} (a new resource)", label(r)))
            }
            (Some(b), None) if b.deployed() => Some(format!(
                "also stops deploying {} (the resource is gone)",
                label(r)
            )),
            _ => None,
        },
        Subject::Output(name) => {
            let label = output_label(before, after, name);
            Some(match (&d.before, &d.after) {
                (Some(_), Some(_)) => format!("also changes {label}"),
                (None, _) => format!("also adds {label}"),
                (_, None) => format!("also removes {label}"),
            })
        }
        Subject::Violation => Some(match (&d.before, &d.after) {
            (_, Some(a)) => format!("writes a value the template rejects: {}", plain(a)),
            (Some(b), None) => format!(
                "also makes the template accept a value it rejected: {}",
                plain(b)
            ),
            (None, None) => return None,
        }),
    }
}

/// Whether a body difference is the fix itself: in a cluster deployed before and after whose
/// add-on was in scope, rotation set to a passing value, or `config` created for it.
fn allowed(rb: &Resource, ra: &Resource, d: &Difference, unknown_ok: bool) -> bool {
    if !(rb.is_type(CLUSTER_TYPE) && ra.deployed()) {
        return false;
    }
    // With the add-on off the rotation setting has no effect: setting it to a passing value
    // there is harmless (and it is what one fix of a value shared by configurations, where
    // the add-on is on in one and off in another, must do).
    // The same holds for creating `config` for it: a value the fix writes into the cluster's
    // own add-on object is written in every configuration, and where the add-on is off the
    // new `config` is as inert as the rotation value it holds.
    if !judge(rb).in_scope() {
        return (matches(&d.path, &PATH_NAMES) && d.after.as_ref().is_some_and(rotation_passes))
            || config_for_rotation_only(d);
    }
    if matches(&d.path, &PATH_NAMES) {
        return d
            .after
            .as_ref()
            .is_some_and(|v| rotation_passes(v) || !v.is_known());
    }
    // A value on the way to the rotation setting that is Unknown before and after (computed
    // by an expression armfix cannot evaluate, which the fix edited): the evaluation cannot
    // tell what changed inside it, and the language's own verification proves the edit
    // touches only the rotation setting.
    if d.path.len() < PATH_NAMES.len() && matches(&d.path, &PATH_NAMES[..d.path.len()]) {
        if let (Some(Value::Unknown(b)), Some(Value::Unknown(a))) = (&d.before, &d.after) {
            // Allowed when the edit is inside the cluster (`unknown_ok`), or when the two
            // Unknowns say the same but for the rotation values they hold.
            return unknown_ok || but_rotation(&b.reason) == but_rotation(&a.reason);
        }
    }
    config_for_rotation_only(d)
}

/// Whether a difference is the add-on's `config` created (where it was missing or null) or
/// changed so that it differs only in a passing rotation value.
fn config_for_rotation_only(d: &Difference) -> bool {
    if !matches(&d.path, &PATH_NAMES[..4]) {
        return false;
    }
    let empty = Object::new();
    let was = match &d.before {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => return false,
    };
    let Some(Value::Object(now)) = &d.after else {
        return false;
    };
    if !now.get(ROTATION).is_some_and(rotation_passes) {
        return false;
    }
    let (mut was, mut now) = (was.clone(), now.clone());
    was.remove(ROTATION);
    now.remove(ROTATION);
    let mut changes = Vec::new();
    diff(
        &Value::Object(was),
        &Value::Object(now),
        &mut Vec::new(),
        &|_| false,
        &mut changes,
    );
    changes.is_empty()
}

/// An Unknown's reason with every value written for `enableSecretRotation` (`'x'`, `"x"` or a
/// word after the key and a `:` or `,`) replaced by `*`: two reasons equal this way differ
/// only in rotation. A reason cut short for length keeps a hash of the whole, so a change
/// past the cut still shows.
fn but_rotation(reason: &str) -> String {
    let lower = reason.to_ascii_lowercase();
    let key = ROTATION.to_ascii_lowercase();
    let b = reason.as_bytes();
    let mut out = String::with_capacity(reason.len());
    let mut from = 0;
    let mut search = 0;
    while let Some(at) = lower[search..].find(&key).map(|i| search + i) {
        let mut i = at + key.len();
        // The key's closing quote, then `:` or `,` with blanks around.
        while i < b.len() && matches!(b[i], b'\'' | b'"' | b' ') {
            i += 1;
        }
        if i < b.len() && matches!(b[i], b':' | b',') {
            i += 1;
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            let end = match b.get(i) {
                Some(q @ (b'\'' | b'"')) => b[i + 1..]
                    .iter()
                    .position(|c| c == q)
                    .map_or(b.len(), |n| i + 2 + n),
                _ => b[i..]
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric())
                    .map_or(b.len(), |n| i + n),
            };
            out.push_str(&reason[from..i]);
            out.push('*');
            from = end;
            search = end;
        } else {
            search = at + key.len();
        }
    }
    out.push_str(&reason[from..]);
    out
}

/// "also turns the add-on on/off in `name`", when the difference is the add-on object or its
/// `enabled` and the cluster's scope flips.
fn addon_switch(rb: &Resource, ra: &Resource, path: &[String]) -> Option<String> {
    let addon = &PATH_NAMES[..3];
    let enabled = [addon, &["enabled"]].concat();
    if !(matches(path, addon) || matches(path, &enabled)) {
        return None;
    }
    let on = |r: &Resource| {
        let value = match r.body.at(addon) {
            Some(u @ Value::Unknown(_)) => Some(u),
            Some(v) => v.get("enabled"),
            None => None,
        };
        enabled_in_scope(value)
    };
    match (on(rb), on(ra)) {
        (false, true) => Some(format!("also turns the add-on on in `{}`", short_name(ra))),
        (true, false) => Some(format!("also turns the add-on off in `{}`", short_name(ra))),
        _ => None,
    }
}

fn change_sentence(r: &ResourceRef, d: &Difference, spell: Spell) -> String {
    let (label, path) = (label(r), d.path.join("."));
    match (&d.before, &d.after) {
        (Some(b), Some(a)) if both_unknown(b, a, spell) => {
            format!("also changes {label} `{path}`, a value armfix cannot know offline")
        }
        (Some(b), Some(a)) => format!(
            "also changes {label} `{path}` from {} to {}",
            text(b, spell),
            text(a, spell)
        ),
        (None, Some(a)) => format!(
            "also sets {label} `{path}` to {} (it was not set)",
            text(a, spell)
        ),
        (Some(b), None) => format!("also removes {label} `{path}` (it was {})", text(b, spell)),
        (None, None) => format!("also changes {label} `{path}`"),
    }
}

/// How a person knows an output: "output `x`" for the file's own; for a nested deployment's
/// or a module's (keyed `<id of the deployment>.<name>` in the evaluation), "output `x` of
/// deployment `name`", as the template names them, never by the internal id.
fn output_label(before: &Index, after: &Index, key: &str) -> String {
    let Some((id, name)) = key.rsplit_once('.') else {
        return format!("output `{key}`");
    };
    match before.get(id).or_else(|| after.get(id)) {
        Some(r) => match &r.name {
            Value::Str(n) => format!("output `{name}` of deployment `{n}`"),
            _ => format!("output `{name}` of the deployment at `{id}`"),
        },
        None => format!("output `{key}`"),
    }
}

/// "`type` `name`", or "`type` at `id`" when the name is not a known string.
fn label(r: &ResourceRef) -> String {
    let kind = plain(&r.kind);
    match &r.name {
        Value::Str(name) => format!("`{kind}` `{name}`"),
        _ => format!("`{kind}` at `{}`", r.id),
    }
}

/// A resource's name for short messages: the name when it is a known string, else its id.
fn short_name(r: &Resource) -> String {
    match &r.name {
        Value::Str(name) => name.clone(),
        _ => r.id.clone(),
    }
}

/// A value in a sentence: spelled by `spell`, on one line, shortened.
fn text(v: &Value, spell: Spell) -> String {
    shorten(&spell(v))
}

/// Whether `b` and `a` are both unknown offline and read the same once shortened: the
/// sentence then says so instead of printing one truncated text twice (the reasons differ
/// past what a sentence shows, or only in what they depend on).
fn both_unknown(b: &Value, a: &Value, spell: Spell) -> bool {
    let unknown = |v: &Value| matches!(v, Value::Unknown(_)) || v.to_string().contains("<unknown");
    unknown(b) && unknown(a) && text(b, spell) == text(a, spell)
}

/// A string as it is; anything else as [`text`].
fn plain(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => text(other, &json_spelling),
    }
}

fn push_unique(list: &mut Vec<String>, message: String) {
    if !list.contains(&message) {
        list.push(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::ADDON;
    use serde_json::json;

    const STORAGE: &str = "Microsoft.Storage/storageAccounts";
    const DEPLOYMENT: &str = "Microsoft.Resources/deployments";

    fn resource(id: &str, kind: &str, name: &str, body: serde_json::Value) -> Resource {
        Resource {
            id: id.into(),
            origin: id.split('/').map(String::from).collect(),
            copy_index: None,
            kind: Value::str(kind),
            name: Value::str(name),
            condition: Value::Bool(true),
            existing: false,
            expanded: false,
            body: Value::from_json(&body),
        }
    }

    /// A cluster whose add-on object is `addon`.
    fn cluster(id: &str, name: &str, addon: serde_json::Value) -> Resource {
        resource(
            id,
            CLUSTER_TYPE,
            name,
            json!({"type": CLUSTER_TYPE, "name": name,
                   "properties": {"dnsPrefix": name,
                                  "addonProfiles": {"azureKeyvaultSecretsProvider": addon}}}),
        )
    }

    fn storage(id: &str, name: &str, public: bool) -> Resource {
        resource(
            id,
            STORAGE,
            name,
            json!({"type": STORAGE, "name": name,
                   "properties": {"allowBlobPublicAccess": public}}),
        )
    }

    fn deployment(resources: Vec<Resource>) -> Deployment {
        Deployment {
            resources,
            ..Deployment::default()
        }
    }

    fn safe() -> Proof {
        Proof {
            safe: true,
            ..Proof::default()
        }
    }

    fn unsafe_with(side_effects: &[&str]) -> Proof {
        Proof {
            safe: false,
            side_effects: side_effects.iter().map(|s| s.to_string()).collect(),
            still_failing: Vec::new(),
        }
    }

    #[test]
    fn a_rotation_only_change_is_safe() {
        let before = deployment(vec![
            cluster(
                "resources/0",
                "aks",
                json!({"enabled": true, "config": {"enableSecretRotation": "false"}}),
            ),
            storage("resources/1", "st", false),
        ]);
        let after = deployment(vec![
            cluster(
                "resources/0",
                "aks",
                json!({"enabled": true, "config": {"enableSecretRotation": "true"}}),
            ),
            storage("resources/1", "st", false),
        ]);
        let diffs = compare(&before, &after);
        assert_eq!(diffs.len(), 1);
        assert_eq!(
            diffs[0].path,
            [
                "properties",
                "addonProfiles",
                ADDON,
                "config",
                "enableSecretRotation"
            ]
        );
        assert_eq!(diffs[0].before, Some(Value::str("false")));
        assert_eq!(diffs[0].after, Some(Value::str("true")));
        assert_eq!(classify(&before, &after), safe());
    }

    #[test]
    fn a_storage_account_change_is_a_side_effect() {
        let before = deployment(vec![storage("resources/1", "st", false)]);
        let after = deployment(vec![storage("resources/1", "st", true)]);
        assert_eq!(
            classify(&before, &after),
            unsafe_with(&["also changes `Microsoft.Storage/storageAccounts` `st` \
                 `properties.allowBlobPublicAccess` from false to true"])
        );
    }

    #[test]
    fn side_effects_spell_values_as_the_file_does() {
        let tag = |v: serde_json::Value| {
            resource(
                "resources/1",
                STORAGE,
                "st",
                json!({"type": STORAGE, "name": "st", "tags": {"env": v}}),
            )
        };
        let before = deployment(vec![tag(json!("false"))]);
        let after = deployment(vec![tag(json!("true"))]);
        let bicep = |v: &Value| crate::lang::FileKind::Bicep.spell(v);
        assert_eq!(
            classify_spelled(&before, &after, false, &bicep).side_effects,
            [
                "also changes `Microsoft.Storage/storageAccounts` `st` `tags.env` from 'false' \
              to 'true'"
            ]
        );
        assert_eq!(
            classify(&before, &after).side_effects,
            [
                "also changes `Microsoft.Storage/storageAccounts` `st` `tags.env` from \"false\" \
              to \"true\""
            ]
        );
    }

    #[test]
    fn unknowns_that_read_alike_are_said_to_be_unknown_not_printed_twice() {
        let long = "union(variables('base'), createObject('a', reference('x').outputs.y.value, \
                    'b', 1))";
        let tag = |v: Value| {
            let mut r = resource("resources/1", STORAGE, "st", json!({"type": STORAGE}));
            r.body = Value::from_json(&json!({"type": STORAGE, "name": "st", "tags": {}}));
            if let Value::Object(o) = &mut r.body {
                o.insert("tags", v);
            }
            r
        };
        let before = deployment(vec![tag(Value::unknown(format!("{long} before")))]);
        let after = deployment(vec![tag(Value::unknown(format!("{long} after")))]);
        assert_eq!(
            classify(&before, &after).side_effects,
            [
                "also changes `Microsoft.Storage/storageAccounts` `st` `tags`, a value armfix \
              cannot know offline"
            ]
        );
        // Unknowns that read differently keep both texts: they say what differs.
        let before = deployment(vec![tag(Value::unknown("reference('a')"))]);
        let after = deployment(vec![tag(Value::unknown("reference('b')"))]);
        let effects = classify(&before, &after).side_effects;
        assert!(
            effects[0].contains("from <unknown: reference('a')> to <unknown: reference('b')>"),
            "{effects:?}"
        );
    }

    #[test]
    fn creating_config_where_it_was_missing_or_null_is_allowed() {
        let cases = [
            (
                json!({"enabled": true}),
                json!({"enabled": true, "config": {"enableSecretRotation": "true"}}),
            ),
            (
                json!({"enabled": "True", "config": null}),
                json!({"enabled": "True", "config": {"enableSecretRotation": true}}),
            ),
        ];
        for (was, now) in cases {
            let before = deployment(vec![cluster("resources/0", "aks", was)]);
            let after = deployment(vec![cluster("resources/0", "aks", now)]);
            assert_eq!(classify(&before, &after), safe(), "{before:?}");
        }
    }

    #[test]
    fn a_cluster_whose_condition_is_unknown_may_be_fixed() {
        let mut before = cluster("resources/0", "aks", json!({"enabled": true}));
        before.condition = Value::unknown("parameters('deploy') has no value");
        let mut after = cluster(
            "resources/0",
            "aks",
            json!({"enabled": true, "config": {"enableSecretRotation": "true"}}),
        );
        after.condition = before.condition.clone();
        assert_eq!(
            classify(&deployment(vec![before]), &deployment(vec![after])),
            safe()
        );
    }

    #[test]
    fn adding_the_key_to_an_existing_config_is_allowed() {
        let before = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true, "config": {"rotationPollInterval": "2m"}}),
        )]);
        let after = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true,
                   "config": {"rotationPollInterval": "2m", "enableSecretRotation": true}}),
        )]);
        assert_eq!(classify(&before, &after), safe());
    }

    #[test]
    fn creating_config_with_more_than_rotation_is_a_side_effect() {
        let before = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true, "config": null}),
        )]);
        let after = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true,
                   "config": {"enableSecretRotation": "true", "rotationPollInterval": "5m"}}),
        )]);
        assert_eq!(
            classify(&before, &after),
            unsafe_with(&[
                "also changes `Microsoft.ContainerService/managedClusters` `aks` \
                 `properties.addonProfiles.azureKeyvaultSecretsProvider.config` from null to \
                 {\"enableSecretRotation\": \"true\", \"rotationPollInterval\": \"5m\"}"
            ])
        );
    }

    #[test]
    fn changing_other_config_keys_is_a_side_effect() {
        let before = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true,
                   "config": {"enableSecretRotation": "false", "rotationPollInterval": "2m"}}),
        )]);
        let after = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true,
                   "config": {"enableSecretRotation": "true", "rotationPollInterval": "5m"}}),
        )]);
        assert_eq!(
            classify(&before, &after),
            unsafe_with(&["also changes `Microsoft.ContainerService/managedClusters` `aks` \
                 `properties.addonProfiles.azureKeyvaultSecretsProvider.config.rotationPollInterval` \
                 from \"2m\" to \"5m\""])
        );
    }

    /// Where the add-on is off (in this configuration; it is on in another, or the fix would
    /// not be made), creating `config` for a passing rotation has no effect, as setting the
    /// rotation value has none: a fix in the cluster's own add-on object is written for every
    /// configuration at once. Creating more than that is a side effect.
    #[test]
    fn config_for_rotation_in_a_cluster_out_of_scope_is_allowed() {
        for (was, now) in [
            (
                json!({"enabled": false}),
                json!({"enabled": false, "config": {"enableSecretRotation": "true"}}),
            ),
            (
                json!({"enabled": false, "config": null}),
                json!({"enabled": false, "config": {"enableSecretRotation": "true"}}),
            ),
            (
                json!({"enabled": false, "config": {"rotationPollInterval": "2m"}}),
                json!({"enabled": false, "config": {"rotationPollInterval": "2m", "enableSecretRotation": true}}),
            ),
        ] {
            let before = deployment(vec![cluster("resources/0", "aks", was)]);
            let after = deployment(vec![cluster("resources/0", "aks", now)]);
            assert_eq!(classify(&before, &after), safe(), "{before:?}");
        }
        let before = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": false}),
        )]);
        let after = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": false, "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"}}),
        )]);
        assert_eq!(
            classify(&before, &after),
            unsafe_with(&[
                "also sets `Microsoft.ContainerService/managedClusters` `aks` \
                 `properties.addonProfiles.azureKeyvaultSecretsProvider.config` to \
                 {\"enableSecretRotation\": \"true\", \"rotationPollInterval\": \"2m\"} (it was not set)"
            ])
        );
        // A failing value is no fix, on or off.
        let after = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": false, "config": {"enableSecretRotation": "false"}}),
        )]);
        assert!(!classify(&before, &after).safe);
    }

    #[test]
    fn writing_a_failing_rotation_is_a_side_effect_and_still_fails() {
        let before = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true, "config": {"enableSecretRotation": true}}),
        )]);
        let after = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true, "config": {"enableSecretRotation": "false"}}),
        )]);
        let proof = classify(&before, &after);
        assert!(!proof.safe);
        assert_eq!(
            proof.side_effects,
            [
                "also changes `Microsoft.ContainerService/managedClusters` `aks` \
              `properties.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation` \
              from true to \"false\""
            ]
        );
        assert_eq!(
            proof.still_failing,
            ["`aks` still fails: `enableSecretRotation` is \"false\""]
        );
    }

    #[test]
    fn a_cluster_left_failing_is_reported() {
        let failing = cluster("resources/0", "aks", json!({"enabled": true}));
        let d = deployment(vec![failing]);
        assert_eq!(
            classify(&d, &d),
            Proof {
                safe: false,
                side_effects: Vec::new(),
                still_failing: vec!["`aks` still fails: `config` is missing".into()],
            }
        );
    }

    #[test]
    fn a_condition_that_flips_is_a_side_effect() {
        let addon = json!({"enabled": true, "config": {"enableSecretRotation": "true"}});
        let mut off = cluster("resources/1", "aks2", addon.clone());
        off.condition = Value::Bool(false);
        let on = cluster("resources/1", "aks2", addon.clone());
        assert_eq!(
            classify(
                &deployment(vec![off.clone()]),
                &deployment(vec![on.clone()])
            ),
            unsafe_with(&[
                "also deploys `Microsoft.ContainerService/managedClusters` `aks2` \
                 (its condition turns true)"
            ])
        );
        assert_eq!(
            classify(
                &deployment(vec![on.clone()]),
                &deployment(vec![off.clone()])
            ),
            unsafe_with(&[
                "also stops deploying `Microsoft.ContainerService/managedClusters` \
                 `aks2` (its condition turns false)"
            ])
        );
        let mut maybe = on.clone();
        maybe.condition = Value::unknown("parameters('deploy') has no value");
        assert_eq!(
            classify(&deployment(vec![off]), &deployment(vec![maybe])),
            unsafe_with(&[
                "also may deploy `Microsoft.ContainerService/managedClusters` `aks2` \
                 (its condition becomes unknown: parameters('deploy') has no value)"
            ])
        );
        let mut existing = on.clone();
        existing.existing = true;
        assert_eq!(
            classify(&deployment(vec![existing]), &deployment(vec![on])),
            unsafe_with(&[
                "also deploys `Microsoft.ContainerService/managedClusters` `aks2` \
                 (it is no longer an `existing` reference)"
            ])
        );
    }

    #[test]
    fn changes_in_resources_deployed_in_neither_evaluation_have_no_effect() {
        let mut before = cluster("resources/0", "aks", json!({"enabled": true}));
        before.condition = Value::Bool(false);
        let mut after = cluster(
            "resources/0",
            "aks",
            json!({"enabled": true, "config": {"enableSecretRotation": "true"}}),
        );
        after.condition = Value::Bool(false);
        let mut st_before = storage("resources/1", "st", false);
        st_before.existing = true;
        let mut st_after = storage("resources/1", "st", true);
        st_after.existing = true;
        assert_eq!(
            classify(
                &deployment(vec![before, st_before]),
                &deployment(vec![after, st_after])
            ),
            safe()
        );
    }

    #[test]
    fn turning_the_add_on_on_in_another_configuration_is_a_side_effect() {
        let fixed = json!({"enabled": true, "config": {"enableSecretRotation": "true"}});
        let prod_before = deployment(vec![cluster(
            "resources/0",
            "aks-prod",
            json!({"enabled": true, "config": {"enableSecretRotation": "false"}}),
        )]);
        let prod_after = deployment(vec![cluster("resources/0", "aks-prod", fixed.clone())]);
        let dev_before = deployment(vec![cluster(
            "resources/0",
            "aks-dev",
            json!({"enabled": false, "config": {"enableSecretRotation": "false"}}),
        )]);
        let dev_after = deployment(vec![cluster("resources/0", "aks-dev", fixed)]);
        let proof = classify_all(&[
            ("main.parameters.prod.json", &prod_before, &prod_after),
            ("main.parameters.dev.json", &dev_before, &dev_after),
        ]);
        assert_eq!(
            proof,
            Proof {
                safe: false,
                // The rotation setting of a cluster whose add-on was off is harmless; turning
                // the add-on on is not.
                side_effects: vec![
                    "with main.parameters.dev.json: also turns the add-on on in `aks-dev`".into(),
                ],
                still_failing: Vec::new(),
            }
        );
        // One configuration: no prefix.
        let one = classify_all(&[("main.parameters.dev.json", &dev_before, &dev_after)]);
        assert_eq!(one.side_effects[0], "also turns the add-on on in `aks-dev`");
        // The same configuration twice: deduplicated, in order.
        let twice = classify_all(&[
            ("a.json", &dev_before, &dev_after),
            ("a.json", &dev_before, &dev_after),
        ]);
        assert_eq!(twice.side_effects.len(), 1);
    }

    #[test]
    fn unknowns_that_differ_only_in_rotation_are_the_same() {
        assert_eq!(
            but_rotation("if(x, {'enableSecretRotation': 'false', 'a': 1}, y)"),
            but_rotation("if(x, {'enableSecretRotation': 'true', 'a': 1}, y)")
        );
        assert_eq!(
            but_rotation("createObject('enableSecretRotation', false)"),
            but_rotation("createObject('enableSecretRotation', true)")
        );
        assert_ne!(
            but_rotation("{'enableSecretRotation': 'false', 'disableLocalAccounts': false}"),
            but_rotation("{'enableSecretRotation': 'true', 'disableLocalAccounts': true}")
        );
    }

    #[test]
    fn turning_the_add_on_off_is_a_side_effect() {
        let before = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": true, "config": {"enableSecretRotation": "true"}}),
        )]);
        let after = deployment(vec![cluster(
            "resources/0",
            "aks",
            json!({"enabled": "false", "config": {"enableSecretRotation": "true"}}),
        )]);
        assert_eq!(
            classify(&before, &after),
            unsafe_with(&["also turns the add-on off in `aks`"])
        );
    }

    #[test]
    fn a_new_violation_is_a_side_effect() {
        let d = deployment(vec![storage("resources/1", "st", false)]);
        let mut after = d.clone();
        after.violations.push(
            "parameter `rotation` is \"yes\", not one of the allowed values \"true\", \"false\""
                .into(),
        );
        assert_eq!(
            classify(&d, &after),
            unsafe_with(&[
                "writes a value the template rejects: parameter `rotation` is \"yes\", \
                 not one of the allowed values \"true\", \"false\""
            ])
        );
        assert_eq!(
            classify(&after, &d),
            unsafe_with(&[
                "also makes the template accept a value it rejected: parameter \
                 `rotation` is \"yes\", not one of the allowed values \"true\", \"false\""
            ])
        );
        assert_eq!(classify(&after, &after), safe());
    }

    #[test]
    fn outputs_are_compared() {
        let mut before = deployment(Vec::new());
        before.outputs.push((
            "x".into(),
            Value::from_json(&json!({"rotation": "false", "id": "a"})),
        ));
        let mut after = deployment(Vec::new());
        after.outputs.push((
            "X".into(),
            Value::from_json(&json!({"rotation": "true", "id": "a"})),
        ));
        after.outputs.push(("y".into(), Value::Int(1)));
        let diffs = compare(&before, &after);
        assert_eq!(diffs[0].subject, Subject::Output("x".into()));
        assert_eq!(diffs[0].path, ["rotation"]);
        assert_eq!(
            classify(&before, &after),
            unsafe_with(&["also changes output `x`", "also adds output `y`"])
        );
    }

    #[test]
    fn a_nested_deployment_s_output_is_named_as_written() {
        let nested = resource("resources/0", DEPLOYMENT, "aksDeploy", json!({}));
        let mut before = deployment(vec![nested.clone()]);
        before
            .outputs
            .push(("resources/0.rotation".into(), Value::str("false")));
        let mut after = deployment(vec![nested]);
        after
            .outputs
            .push(("resources/0.rotation".into(), Value::str("true")));
        assert_eq!(
            classify(&before, &after),
            unsafe_with(&["also changes output `rotation` of deployment `aksDeploy`"])
        );
    }

    #[test]
    fn parameters_are_not_compared() {
        let mut before = deployment(Vec::new());
        before
            .parameters
            .push(("rotation".into(), Value::str("false")));
        let mut after = deployment(Vec::new());
        after
            .parameters
            .push(("rotation".into(), Value::str("true")));
        assert!(compare(&before, &after).is_empty());
    }

    /// A nested deployment passing `rotation`, with the inner cluster using it.
    fn nested(rotation: &str, expanded: bool) -> Deployment {
        let mut module = resource(
            "resources/0",
            DEPLOYMENT,
            "aksModule",
            json!({"type": DEPLOYMENT, "name": "aksModule",
                   "properties": {"mode": "Incremental",
                                  "parameters": {"rotation": {"value": rotation}},
                                  "template": {"resources": [{"type": CLUSTER_TYPE,
                                      "properties": {"addonProfiles": {ADDON:
                                          {"config": {"enableSecretRotation": rotation}}}}}]}}}),
        );
        module.expanded = expanded;
        let mut resources = vec![module];
        if expanded {
            resources.push(cluster(
                "resources/0/properties/template/resources/0",
                "aks",
                json!({"enabled": true, "config": {"enableSecretRotation": rotation}}),
            ));
        }
        deployment(resources)
    }

    #[test]
    fn an_expanded_deployment_is_judged_by_its_resources() {
        assert_eq!(
            classify(&nested("false", true), &nested("true", true)),
            safe()
        );
    }

    #[test]
    fn a_deployment_not_expanded_is_compared_as_is() {
        let proof = classify(&nested("false", false), &nested("true", false));
        assert_eq!(
            proof.side_effects,
            [
                "also changes `Microsoft.Resources/deployments` `aksModule` \
                 `properties.parameters.rotation.value` from \"false\" to \"true\"",
                "also changes `Microsoft.Resources/deployments` `aksModule` \
                 `properties.template.resources.0.properties.addonProfiles.\
                 azureKeyvaultSecretsProvider.config.enableSecretRotation` from \"false\" to \"true\""
            ]
        );
    }

    #[test]
    fn resources_that_appear_or_vanish_are_side_effects() {
        let st = storage("resources/1", "st", false);
        let empty = deployment(Vec::new());
        let one = deployment(vec![st.clone()]);
        assert_eq!(
            classify(&empty, &one),
            unsafe_with(&[
                "also deploys `Microsoft.Storage/storageAccounts` `st` (a new resource)"
            ])
        );
        assert_eq!(
            classify(&one, &empty),
            unsafe_with(&[
                "also stops deploying `Microsoft.Storage/storageAccounts` `st` \
                 (the resource is gone)"
            ])
        );
    }

    #[test]
    fn keys_differing_in_case_only_are_equal_and_a_repeated_key_counts_once() {
        let before = resource(
            "resources/1",
            STORAGE,
            "st",
            json!({"properties": {"allowBlobPublicAccess": false}}),
        );
        let mut after = before.clone();
        after.body = Value::from_json(&json!({"Properties": {"AllowBlobPublicAccess": false}}));
        assert!(compare(&deployment(vec![before.clone()]), &deployment(vec![after])).is_empty());
        let mut repeated = before.clone();
        if let Value::Object(o) = &mut repeated.body {
            // Object::insert would replace; push a second spelling by hand: the last counts.
            o.members.push((
                "PROPERTIES".into(),
                Value::from_json(&json!({"allowBlobPublicAccess": true})),
            ));
        }
        let diffs = compare(&deployment(vec![before]), &deployment(vec![repeated]));
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].path, ["properties", "allowBlobPublicAccess"]);
    }

    #[test]
    fn a_change_in_any_spelling_of_a_key_is_a_difference() {
        let before = resource(
            "resources/1",
            STORAGE,
            "st",
            json!({"tags": {"True": "a", "true": "b"}}),
        );
        for (changed, path) in [
            (json!({"tags": {"True": "x", "true": "b"}}), "True"),
            (json!({"tags": {"True": "a", "true": "x"}}), "true"),
            (json!({"tags": {"true": "b"}}), "True"),
        ] {
            let mut after = before.clone();
            after.body = Value::from_json(&changed);
            let diffs = compare(&deployment(vec![before.clone()]), &deployment(vec![after]));
            assert_eq!(diffs.len(), 1, "{changed}: {diffs:?}");
            assert_eq!(diffs[0].path, ["tags", path], "{changed}");
        }
    }

    #[test]
    fn an_unnamed_resource_is_named_by_its_id_and_arrays_by_index() {
        let mut before = storage("resources/2", "st", false);
        before.name = Value::unknown("uniqueString() is not evaluated");
        before.body = Value::from_json(&json!({"properties": {"ipRules": ["1.2.3.4"]}}));
        let mut after = before.clone();
        after.body =
            Value::from_json(&json!({"properties": {"ipRules": ["1.2.3.4", "0.0.0.0/0"]}}));
        assert_eq!(
            classify(&deployment(vec![before]), &deployment(vec![after])),
            unsafe_with(&[
                "also sets `Microsoft.Storage/storageAccounts` at `resources/2` \
                 `properties.ipRules.1` to \"0.0.0.0/0\" (it was not set)"
            ])
        );
    }

    // -----------------------------------------------------------------------------------
    // Properties: random deployments where the fix sets rotation, with and without one more
    // change to some other leaf.

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const KEYS: [&str; 6] = ["a", "b", "c", "sku", "tags", "rotationPollInterval"];

        fn leaf() -> BoxedStrategy<Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                (-3i64..3).prop_map(Value::Int),
                prop::sample::select(vec!["", "a", "true", "false", "2m"]).prop_map(Value::str),
                Just(Value::unknown("reference() is only known at deploy time")),
            ]
            .boxed()
        }

        fn object(inner: BoxedStrategy<Value>) -> BoxedStrategy<Object> {
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 0..4)
                .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                .boxed()
        }

        fn tree() -> BoxedStrategy<Value> {
            leaf()
                .prop_recursive(3, 24, 4, |inner| {
                    prop_oneof![
                        prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                        object(inner).prop_map(Value::Object),
                    ]
                })
                .boxed()
        }

        /// A key as spelled: as PSRule writes it, lower case or upper case.
        fn spelled(name: &'static str) -> BoxedStrategy<String> {
            prop::sample::select(vec![
                name.to_string(),
                name.to_ascii_lowercase(),
                name.to_ascii_uppercase(),
            ])
            .boxed()
        }

        #[derive(Debug, Clone)]
        enum Config {
            Missing,
            Null,
            /// Other keys, and the rotation value if any.
            Object(Object, Option<Value>),
        }

        #[derive(Debug, Clone)]
        struct Cluster {
            keys: Vec<String>,
            enabled: Value,
            condition: Value,
            config: Config,
            others: Object,
            fix: Value,
        }

        fn cluster_strategy() -> impl Strategy<Value = Cluster> {
            let keys = PATH_NAMES.iter().map(|n| spelled(n)).collect::<Vec<_>>();
            let enabled = prop_oneof![
                Just(Value::Bool(true)),
                Just(Value::str("True")),
                Just(Value::unknown("parameters('addon') has no value")),
            ];
            let condition = prop_oneof![
                3 => Just(Value::Bool(true)),
                1 => Just(Value::unknown("parameters('deploy') has no value")),
                1 => Just(Value::Bool(false)),
            ];
            let failing = prop::option::of(prop::sample::select(vec![
                Value::str("false"),
                Value::Bool(false),
                Value::Null,
                Value::Int(0),
                Value::str("no"),
            ]));
            let config = prop_oneof![
                Just(Config::Missing),
                Just(Config::Null),
                (object(leaf()), failing).prop_map(|(o, r)| Config::Object(o, r)),
            ];
            let fix = prop::sample::select(vec![Value::Bool(true), Value::str("true")]);
            (keys, enabled, condition, config, object(tree()), fix).prop_map(
                |(keys, enabled, condition, config, others, fix)| Cluster {
                    keys,
                    enabled,
                    condition,
                    config,
                    others,
                    fix,
                },
            )
        }

        impl Cluster {
            fn resource(&self, i: usize, fixed: bool) -> Resource {
                let k = &self.keys;
                let mut addon = Object::new();
                addon.insert("enabled", self.enabled.clone());
                let mut rotation_only = Object::new();
                rotation_only.insert(k[4].clone(), self.fix.clone());
                match (&self.config, fixed) {
                    (Config::Missing, false) => {}
                    (Config::Null, false) => addon.insert(k[3].clone(), Value::Null),
                    (Config::Missing | Config::Null, true) => {
                        addon.insert(k[3].clone(), Value::Object(rotation_only))
                    }
                    (Config::Object(others, rotation), _) => {
                        let mut config = others.clone();
                        let rotation = if fixed {
                            Some(self.fix.clone())
                        } else {
                            rotation.clone()
                        };
                        if let Some(r) = rotation {
                            config.insert(k[4].clone(), r);
                        }
                        addon.insert(k[3].clone(), Value::Object(config));
                    }
                }
                let mut profiles = Object::new();
                profiles.insert(k[2].clone(), Value::Object(addon));
                let mut properties = self.others.clone();
                properties.insert(k[1].clone(), Value::Object(profiles));
                let mut body = Object::new();
                body.insert("type", Value::str(CLUSTER_TYPE));
                body.insert("name", Value::str(format!("aks{i}")));
                body.insert(k[0].clone(), Value::Object(properties));
                Resource {
                    id: format!("resources/{i}"),
                    origin: vec!["resources".into(), i.to_string()],
                    copy_index: None,
                    kind: Value::str(CLUSTER_TYPE),
                    name: Value::str(format!("aks{i}")),
                    condition: self.condition.clone(),
                    existing: false,
                    expanded: false,
                    body: Value::Object(body),
                }
            }
        }

        #[derive(Debug, Clone)]
        struct Scenario {
            clusters: Vec<Cluster>,
            storage: Vec<Object>,
        }

        impl Scenario {
            fn deployment(&self, fixed: bool) -> Deployment {
                let mut resources: Vec<Resource> = self
                    .clusters
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c.resource(i, fixed))
                    .collect();
                for (j, props) in self.storage.iter().enumerate() {
                    let i = self.clusters.len() + j;
                    let mut properties = props.clone();
                    properties.insert("allowBlobPublicAccess", Value::Bool(false));
                    let mut body = Object::new();
                    body.insert("type", Value::str(STORAGE));
                    body.insert("name", Value::str(format!("st{j}")));
                    body.insert("properties", Value::Object(properties));
                    let mut r = storage(&format!("resources/{i}"), &format!("st{j}"), false);
                    r.body = Value::Object(body);
                    resources.push(r);
                }
                deployment(resources)
            }
        }

        fn scenario() -> impl Strategy<Value = Scenario> {
            (
                prop::collection::vec(cluster_strategy(), 1..3),
                prop::collection::vec(object(tree()), 1..3),
            )
                .prop_map(|(clusters, storage)| Scenario { clusters, storage })
        }

        /// Paths to the scalar (or Unknown) leaves of `v`.
        fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            match v {
                Value::Object(o) => {
                    for (k, c) in &o.members {
                        path.push(k.clone());
                        leaves(c, path, out);
                        path.pop();
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        path.push(i.to_string());
                        leaves(c, path, out);
                        path.pop();
                    }
                }
                _ => out.push(path.clone()),
            }
        }

        fn at_mut<'v>(v: &'v mut Value, path: &[String]) -> &'v mut Value {
            let mut node = v;
            for key in path {
                node = match node {
                    Value::Object(o) => o.get_mut(key).unwrap(),
                    Value::Array(a) => &mut a[key.parse::<usize>().unwrap()],
                    _ => panic!("no {key} here"),
                };
            }
            node
        }

        /// A different value of the same kind where there is one.
        fn other(v: &Value) -> Value {
            match v {
                Value::Null => Value::Bool(true),
                Value::Bool(b) => Value::Bool(!b),
                Value::Int(i) => Value::Int(i + 1),
                Value::Str(s) => Value::str(format!("{s}x")),
                _ => Value::Int(7),
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: std::env::var("PROPTEST_CASES")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(256),
                ..ProptestConfig::default()
            })]

            #[test]
            fn setting_rotation_only_is_always_safe(s in scenario()) {
                let before = s.deployment(false);
                let after = s.deployment(true);
                prop_assert_eq!(classify(&before, &after), safe());
            }

            #[test]
            fn any_other_change_is_a_side_effect_naming_its_path(
                s in scenario(),
                pick in any::<prop::sample::Index>(),
                remove in any::<bool>(),
            ) {
                let before = s.deployment(false);
                let mut after = s.deployment(true);
                let addon_enabled = [&PATH_NAMES[..3], &["enabled"]].concat();
                let mut candidates = Vec::new();
                for (i, r) in after.resources.iter().enumerate() {
                    let mut paths = Vec::new();
                    leaves(&r.body, &mut Vec::new(), &mut paths);
                    for p in paths {
                        if !matches(&p, &PATH_NAMES) && !matches(&p, &addon_enabled) {
                            candidates.push((i, p));
                        }
                    }
                }
                let (i, path) = pick.get(&candidates).clone();
                let (parent, key) = path.split_at(path.len() - 1);
                let target = &mut after.resources[i];
                let was = at_mut(&mut target.body, &path).clone();
                match at_mut(&mut target.body, parent) {
                    Value::Object(o) if remove => {
                        o.remove(&key[0]);
                    }
                    _ => *at_mut(&mut target.body, &path) = other(&was),
                }
                let deployed = before.resources[i].deployed();
                let proof = classify(&before, &after);
                if deployed {
                    prop_assert!(!proof.safe);
                    prop_assert_eq!(proof.side_effects.len(), 1, "{:?}", proof.side_effects);
                    let named = format!("`{}`", path.join("."));
                    prop_assert!(
                        proof.side_effects[0].contains(&named),
                        "{} does not name {}", proof.side_effects[0], named
                    );
                } else {
                    prop_assert!(proof.side_effects.is_empty(), "{:?}", proof.side_effects);
                }
            }
        }
    }
}
