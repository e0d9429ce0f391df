//! The rule `Azure.AKS.SecretStoreRotation`, decided on one cluster resource. It reads the
//! resource through the [`Tree`] trait, so the same decision serves ARM JSON and Bicep; it
//! knows nothing of text, spans, terminals or patches, and returns a [`Verdict`].
//!
//! Semantics (PSRule's): the rule applies when
//! `properties.addonProfiles.azureKeyvaultSecretsProvider.enabled` is `true`, `"true"` or an
//! expression (which may be true at deploy time); it passes when
//! `config.enableSecretRotation` is `"true"` in any case or boolean `true`. Property names
//! match ignoring ASCII case.
//!
//! # The one reading of the rule
//!
//! This module is where the rule's semantics are written: which `enabled` puts a cluster in
//! scope ([`enabled_in_scope`]), which rotation value passes ([`rotation_passes`]), the walk
//! down to the add-on, and what a missing, null or non-object `config` means ([`decide`]).
//! Every reader of a whole cluster goes through [`decide`]: the ARM and Bicep source trees
//! (where a value computed at deploy time is a [`Shape::Expr`]) and the evaluated deployment
//! ([`eval::judge`](mod@crate::eval::judge) implements [`Tree`] for evaluated values, an
//! Unknown being a [`Shape::Expr`], and maps the [`Verdict`] to its `Judgement`). `judge` adds
//! only what the source cannot know: whether the resource is deployed (`condition`,
//! `existing`), an Unknown type, and the Unknown's reason. The other direction (both callers
//! sharing predicates but each walking the resource itself) was rejected: it would have kept
//! two walks that can drift. A property test in `eval::judge` checks that the two readings
//! agree on literal templates. Code that tests one value (a module argument, a parameter
//! file's value) should ask [`enabled_in_scope`] and [`rotation_passes`] rather than spell
//! the comparison out again.

use serde_json::Value;

/// The rule's identifier, as PSRule names it.
pub(crate) const RULE_ID: &str = "Azure.AKS.SecretStoreRotation";
/// The rule's public documentation.
pub(crate) const RULE_URL: &str =
    "https://azure.github.io/PSRule.Rules.Azure/en/rules/Azure.AKS.SecretStoreRotation/";
/// The resource type the rule looks at (compared ignoring case).
pub(crate) const CLUSTER_TYPE: &str = "Microsoft.ContainerService/managedClusters";
/// The add-on that runs the Secrets Store CSI Driver.
pub(crate) const ADDON: &str = "azureKeyvaultSecretsProvider";
/// The setting the rule wants to be `"true"`.
pub(crate) const ROTATION: &str = "enableSecretRotation";

/// What a value is, as far as the rule cares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape<'t, N> {
    Null,
    Bool(bool),
    /// A literal string.
    Str(&'t str),
    /// A value computed at deploy time (an ARM `"[...]"` string, a Bicep expression); the
    /// text is the expression as written.
    Expr(&'t str),
    Object(N),
    /// Numbers, arrays and anything else.
    Other,
}

/// The result of looking a key up in an object, ignoring case.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lookup<N> {
    Missing,
    /// The key as spelled in the source, and its value.
    Found(String, N),
    /// Two keys that differ only in case (or not at all): which one deploys is ambiguous.
    Duplicate(String, N),
}

/// A parsed document the rule can read. `N` is a cheap handle to a value in it.
pub(crate) trait Tree<'t> {
    type Node: Clone;
    /// What the value is.
    fn shape(&self, node: Self::Node) -> Shape<'t, Self::Node>;
    /// Looks `key` up in an object node, ignoring ASCII case.
    fn get(&self, object: Self::Node, key: &str) -> Lookup<Self::Node>;
}

/// Which property a verdict is about, for messages.
pub(crate) const PATH_NAMES: [&str; 5] = ["properties", "addonProfiles", ADDON, "config", ROTATION];

/// What must change, in terms of the resource's ARM shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FixKind {
    /// `config` is missing: add `"config": {"enableSecretRotation": "true"}` to the add-on.
    AddConfig,
    /// `config` exists without the key: add `"enableSecretRotation": "true"`.
    AddKey,
    /// `config` is null: replace it with an object holding the key.
    ReplaceConfig,
    /// The key holds a failing value (shown as written): replace it with `"true"`.
    ReplaceValue(String),
}

/// A fix, addressed by the path of keys (as spelled in the source) from the resource down.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fix<N> {
    pub(crate) kind: FixKind,
    /// Path under the resource to the key to add or replace, e.g.
    /// `["properties", "addonProfiles", "azureKeyvaultSecretsProvider", "config"]`.
    pub(crate) path: Vec<String>,
    /// The value to put there.
    pub(crate) value: Value,
    /// The node the finding points at: the failing value, or the add-on object.
    pub(crate) at: N,
    /// The node the operation applies to: the object a key is added to, or the value
    /// replaced.
    pub(crate) target: N,
}

/// The rule's decision for one cluster.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict<N> {
    /// No add-on, or the add-on is disabled.
    NotApplicable,
    Pass,
    Fix(Fix<N>),
    /// A value on the way is computed at deploy time; a human must look.
    Review {
        at: N,
        /// Path (as spelled) to the computed value.
        path: Vec<String>,
        expression: String,
        reason: String,
    },
    /// A key on the way appears twice: which one deploys is ambiguous.
    Ambiguous {
        at: N,
        path: Vec<String>,
    },
}

/// The value the fix writes.
pub(crate) fn rotation_value() -> Value {
    Value::String("true".into())
}

/// The `config` object the fix writes when there is none.
pub(crate) fn config_value() -> Value {
    let mut map = serde_json::Map::new();
    map.insert(ROTATION.into(), rotation_value());
    Value::Object(map)
}

/// Decides the rule for one cluster resource (the resource object itself).
pub(crate) fn decide<'t, T: Tree<'t>>(tree: &T, resource: T::Node) -> Verdict<T::Node> {
    let mut path: Vec<String> = Vec::new();
    // Walk properties -> addonProfiles -> add-on; each must be an object.
    let mut node = resource;
    for name in &PATH_NAMES[..3] {
        match tree.get(node, name) {
            Lookup::Missing => return Verdict::NotApplicable,
            Lookup::Duplicate(key, at) => {
                path.push(key);
                return Verdict::Ambiguous { at, path };
            }
            Lookup::Found(key, value) => {
                path.push(key);
                match tree.shape(value.clone()) {
                    Shape::Object(obj) => node = obj,
                    Shape::Expr(e) => return review(value, path, e, name),
                    _ => return Verdict::NotApplicable,
                }
            }
        }
    }
    let addon = node;

    // Does the rule apply?
    match tree.get(addon.clone(), "enabled") {
        Lookup::Missing => return Verdict::NotApplicable,
        Lookup::Duplicate(key, at) => {
            path.push(key);
            return Verdict::Ambiguous { at, path };
        }
        Lookup::Found(_, value) => {
            if !enabled_in_scope(&tree.shape(value)) {
                return Verdict::NotApplicable;
            }
        }
    }

    let (config_key, config) = match tree.get(addon.clone(), "config") {
        Lookup::Missing => {
            return Verdict::Fix(Fix {
                kind: FixKind::AddConfig,
                path: with(&path, "config"),
                value: config_value(),
                at: addon.clone(),
                target: addon,
            })
        }
        Lookup::Duplicate(key, at) => {
            path.push(key);
            return Verdict::Ambiguous { at, path };
        }
        Lookup::Found(key, value) => (key, value),
    };
    path.push(config_key);
    let config_obj = match tree.shape(config.clone()) {
        Shape::Object(obj) => obj,
        Shape::Null => {
            return Verdict::Fix(Fix {
                kind: FixKind::ReplaceConfig,
                path,
                value: config_value(),
                at: config.clone(),
                target: config,
            })
        }
        Shape::Expr(e) => return review(config, path, e, "config"),
        _ => {
            return Verdict::Review {
                at: config,
                path,
                expression: String::new(),
                reason: "`config` is not an object; set it to {\"enableSecretRotation\": \"true\"}"
                    .into(),
            }
        }
    };

    match tree.get(config_obj.clone(), ROTATION) {
        Lookup::Missing => Verdict::Fix(Fix {
            kind: FixKind::AddKey,
            path: with(&path, ROTATION),
            value: rotation_value(),
            at: addon,
            target: config_obj,
        }),
        Lookup::Duplicate(key, at) => {
            path.push(key);
            Verdict::Ambiguous { at, path }
        }
        Lookup::Found(key, value) => {
            path.push(key);
            let shape = tree.shape(value.clone());
            if rotation_passes(&shape) {
                return Verdict::Pass;
            }
            let written = match shape {
                Shape::Expr(e) => return review(value, path, e, ROTATION),
                Shape::Bool(b) => b.to_string(),
                Shape::Str(s) => format!("\"{s}\""),
                Shape::Null => "null".to_string(),
                Shape::Object(_) => "an object".to_string(),
                Shape::Other => "not a boolean".to_string(),
            };
            Verdict::Fix(Fix {
                kind: FixKind::ReplaceValue(written),
                path,
                value: rotation_value(),
                at: value.clone(),
                target: value,
            })
        }
    }
}

/// Whether the add-on's `enabled` value puts the cluster in scope: `true`, `"true"` in any
/// case, or an expression (it may be true at deploy time). Null, false, other strings,
/// numbers, arrays and objects do not. (A missing `enabled` does not either: see [`decide`].)
pub(crate) fn enabled_in_scope<N>(enabled: &Shape<'_, N>) -> bool {
    match enabled {
        Shape::Bool(b) => *b,
        Shape::Str(s) => s.eq_ignore_ascii_case("true"),
        Shape::Expr(_) => true,
        Shape::Null | Shape::Object(_) | Shape::Other => false,
    }
}

/// Whether an `enableSecretRotation` value passes: boolean `true` or `"true"` in any case. An
/// expression does not (yet): it is for a human, or an evaluator, to decide.
pub(crate) fn rotation_passes<N>(rotation: &Shape<'_, N>) -> bool {
    match rotation {
        Shape::Bool(b) => *b,
        Shape::Str(s) => s.eq_ignore_ascii_case("true"),
        Shape::Null | Shape::Expr(_) | Shape::Object(_) | Shape::Other => false,
    }
}

fn with(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_string());
    p
}

fn review<N>(at: N, path: Vec<String>, expression: &str, name: &str) -> Verdict<N> {
    let reason = if name == ROTATION {
        format!("`{ROTATION}` is an expression; make sure it evaluates to \"true\"")
    } else {
        format!(
            "`{name}` is an expression, so armfix cannot edit it; make sure it sets \
             `{ROTATION}` to \"true\""
        )
    };
    Verdict::Review {
        at,
        path,
        expression: expression.to_string(),
        reason,
    }
}

/// The one-line message for a fixable finding.
pub(crate) fn fix_message(kind: &FixKind) -> String {
    match kind {
        FixKind::AddConfig => format!(
            "the Secrets Store CSI Driver add-on is enabled without `config`; \
             `config.{ROTATION}` must be \"true\""
        ),
        FixKind::AddKey => format!(
            "the Secrets Store CSI Driver add-on is enabled without `config.{ROTATION}`; \
             it must be \"true\""
        ),
        FixKind::ReplaceConfig => format!(
            "the Secrets Store CSI Driver add-on is enabled with `config` null; \
             `config.{ROTATION}` must be \"true\""
        ),
        FixKind::ReplaceValue(was) => format!("`{ROTATION}` is {was}; it must be \"true\""),
    }
}
