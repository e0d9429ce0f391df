//! The rule `Azure.AKS.SecretStoreRotation` on one EVALUATED resource: decides from the values
//! the deployment engine would see (with [`Value::Unknown`] for what cannot be known offline)
//! whether the resource is a cluster in the rule's scope and whether it passes. It knows
//! nothing of source text or fixes; [`crate::rule`] decides on source trees.
//!
//! # PSRule's semantics, as checked in its source
//!
//! PSRule for Azure defines the rule in YAML (`src/PSRule.Rules.Azure/rules/Azure.AKS.Rule.yaml`,
//! ref `AZR-000034`): `type: Microsoft.ContainerService/managedClusters`, `with:
//! Azure.AKS.SecretStoreEnabled`, and the condition `field:
//! Properties.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation`,
//! `equals: 'true'`. The selector `Azure.AKS.SecretStoreEnabled` requires the type and
//! `field: Properties.addonProfiles.azureKeyvaultSecretsProvider.enabled`, `equals: true`.
//!
//! PSRule's `equals` condition calls `ExpressionHelpers.Equal(expected, actual, caseSensitive,
//! convertExpected: true, convertActual: convert)`, with `caseSensitive` and `convert` false
//! unless the rule says otherwise, and field paths are looked up ignoring case. So:
//! - the condition (expected the string `'true'`) passes for a string equal to `true` ignoring
//!   case (string comparison first), and for the boolean `true` (the expected string converts
//!   to a boolean; the actual boolean needs no conversion). Anything else fails: `false`,
//!   `"false"`, null, a missing key, a number (the actual value is not converted);
//! - the selector (expected the boolean `true`) matches the boolean `true` only: a string
//!   `"true"` is not converted because `convert` is false.
//!
//! armfix departs from PSRule in one place, on purpose and as [`crate::rule`] does: an
//! `enabled` that is the string `"true"` (any case) is in scope, as is an `enabled` that is
//! Unknown (it may be true at deploy time). Judging more clusters than PSRule never hides a
//! failure; it may only ask for rotation on a cluster PSRule would skip.
//!
//! A resource whose `condition` is Unknown may be deployed, so it is judged; one whose
//! condition is `false`, or that is an `existing` reference, is not deployed.

use super::deployment::Resource;
use super::value::Value;
use crate::rule::{ADDON, CLUSTER_TYPE, ROTATION};

/// The rule's decision on one evaluated resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// Not a `Microsoft.ContainerService/managedClusters`.
    NotACluster,
    /// A cluster (or a resource whose type is Unknown) that is not deployed: its condition
    /// is false, or it is `existing`.
    NotDeployed,
    /// A deployed cluster without the add-on, or whose add-on's `enabled` is false.
    NotApplicable,
    Pass,
    /// In scope and failing; the reason names the failing value.
    Fail {
        reason: String,
    },
    /// In scope (or maybe in scope: the type, or an object on the way to the add-on, is
    /// Unknown) and undecidable offline; the reason is the Unknown's.
    Unknown {
        reason: String,
    },
}

impl Judgement {
    /// Whether the rule applies (or may apply): the judgement is a pass, a failure or
    /// unknown.
    pub(crate) fn in_scope(&self) -> bool {
        matches!(
            self,
            Judgement::Pass | Judgement::Fail { .. } | Judgement::Unknown { .. }
        )
    }
}

/// Judges one evaluated resource.
pub(crate) fn judge(resource: &Resource) -> Judgement {
    if resource.kind.is_known() && !resource.is_type(CLUSTER_TYPE) {
        return Judgement::NotACluster;
    }
    if !resource.deployed() {
        return Judgement::NotDeployed;
    }
    // A type that cannot be known offline may be a cluster's.
    if let Value::Unknown(u) = &resource.kind {
        return Judgement::Unknown {
            reason: u.reason.to_string(),
        };
    }
    // properties -> addonProfiles -> the add-on: each must be an object to go on.
    let mut node = &resource.body;
    for key in ["properties", "addonProfiles", ADDON] {
        match node.get(key) {
            Some(Value::Unknown(u)) => {
                return Judgement::Unknown {
                    reason: u.reason.to_string(),
                }
            }
            Some(v @ Value::Object(_)) => node = v,
            _ => return Judgement::NotApplicable,
        }
    }
    let addon = node;
    if !enabled_in_scope(addon.get("enabled")) {
        return Judgement::NotApplicable;
    }
    let config = match addon.get("config") {
        None => return fail("`config` is missing".into()),
        Some(Value::Null) => return fail("`config` is null".into()),
        Some(Value::Unknown(u)) => {
            return Judgement::Unknown {
                reason: u.reason.to_string(),
            }
        }
        Some(Value::Object(o)) => o,
        Some(other) => return fail(format!("`config` is {other}, not an object")),
    };
    match config.get(ROTATION) {
        None => fail(format!("`{ROTATION}` is missing")),
        Some(Value::Unknown(u)) => Judgement::Unknown {
            reason: u.reason.to_string(),
        },
        Some(v) if rotation_passes(v) => Judgement::Pass,
        Some(v) => fail(format!("`{ROTATION}` is {v}")),
    }
}

/// Whether the add-on's `enabled` value puts the cluster in scope: `true`, `"true"` in any
/// case, or Unknown. Missing, null, false and anything else do not.
pub(crate) fn enabled_in_scope(enabled: Option<&Value>) -> bool {
    match enabled {
        Some(Value::Bool(b)) => *b,
        Some(Value::Str(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Unknown(_)) => true,
        _ => false,
    }
}

/// Whether a known `enableSecretRotation` value passes: `true` or `"true"` in any case.
pub(crate) fn rotation_passes(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Str(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn fail(reason: String) -> Judgement {
    Judgement::Fail { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(kind: &str, body: serde_json::Value) -> Resource {
        Resource {
            id: "resources/0".into(),
            origin: vec!["resources".into(), "0".into()],
            copy_index: None,
            kind: Value::str(kind),
            name: Value::str("aks"),
            condition: Value::Bool(true),
            existing: false,
            expanded: false,
            body: Value::from_json(&body),
        }
    }

    /// A cluster whose add-on object is `addon`.
    fn cluster(addon: serde_json::Value) -> Resource {
        resource(
            CLUSTER_TYPE,
            json!({"type": CLUSTER_TYPE, "name": "aks",
                   "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": addon}}}),
        )
    }

    /// A cluster whose add-on has `enabled` and `config` as given (Unknown when `None`).
    fn with(enabled: Option<Value>, config: Option<Value>) -> Resource {
        let mut r = cluster(json!({}));
        let mut addon = crate::eval::Object::new();
        if let Some(e) = enabled {
            addon.insert("enabled", e);
        }
        if let Some(c) = config {
            addon.insert("config", c);
        }
        set(
            &mut r.body,
            &["properties", "addonProfiles", ADDON],
            Value::Object(addon),
        );
        r
    }

    fn set(v: &mut Value, path: &[&str], to: Value) {
        let mut node = v;
        for key in &path[..path.len() - 1] {
            node = match node {
                Value::Object(o) => o.get_mut(key).unwrap(),
                _ => panic!("not an object"),
            };
        }
        match node {
            Value::Object(o) => o.insert(*path.last().unwrap(), to),
            _ => panic!("not an object"),
        }
    }

    fn rot(v: Value) -> Option<Value> {
        let mut o = crate::eval::Object::new();
        o.insert(ROTATION, v);
        Some(Value::Object(o))
    }

    fn failing(reason: &str) -> Judgement {
        Judgement::Fail {
            reason: reason.into(),
        }
    }

    #[test]
    fn enabled_decides_the_scope() {
        let passing = rot(Value::str("true"));
        let cases: Vec<(Option<Value>, bool)> = vec![
            (Some(Value::Bool(true)), true),
            (Some(Value::str("TRUE")), true),
            (Some(Value::str("true")), true),
            (Some(Value::unknown("parameters('addon')")), true),
            (Some(Value::Bool(false)), false),
            (Some(Value::str("false")), false),
            (Some(Value::Null), false),
            (Some(Value::Int(1)), false),
            (None, false),
        ];
        for (enabled, in_scope) in cases {
            let j = judge(&with(enabled.clone(), passing.clone()));
            let want = if in_scope {
                Judgement::Pass
            } else {
                Judgement::NotApplicable
            };
            assert_eq!(j, want, "enabled = {enabled:?}");
        }
    }

    #[test]
    fn rotation_decides_pass_or_fail() {
        let on = Some(Value::Bool(true));
        let cases: Vec<(Option<Value>, Judgement)> = vec![
            (rot(Value::Bool(true)), Judgement::Pass),
            (rot(Value::str("True")), Judgement::Pass),
            (rot(Value::str("true")), Judgement::Pass),
            (
                rot(Value::str("false")),
                failing("`enableSecretRotation` is \"false\""),
            ),
            (
                rot(Value::Bool(false)),
                failing("`enableSecretRotation` is false"),
            ),
            (rot(Value::Null), failing("`enableSecretRotation` is null")),
            (rot(Value::Int(1)), failing("`enableSecretRotation` is 1")),
            (
                rot(Value::str("yes")),
                failing("`enableSecretRotation` is \"yes\""),
            ),
            (
                Some(Value::Object(crate::eval::Object::new())),
                failing("`enableSecretRotation` is missing"),
            ),
            (None, failing("`config` is missing")),
            (Some(Value::Null), failing("`config` is null")),
            (
                Some(Value::str("x")),
                failing("`config` is \"x\", not an object"),
            ),
            (
                rot(Value::unknown("reference() is only known at deploy time")),
                Judgement::Unknown {
                    reason: "reference() is only known at deploy time".into(),
                },
            ),
            (
                Some(Value::unknown("parameters('config') has no value")),
                Judgement::Unknown {
                    reason: "parameters('config') has no value".into(),
                },
            ),
        ];
        for (config, want) in cases {
            assert_eq!(
                judge(&with(on.clone(), config.clone())),
                want,
                "config = {config:?}"
            );
        }
    }

    #[test]
    fn unknown_enabled_is_judged_on_rotation() {
        let j = judge(&with(
            Some(Value::unknown("parameters('on')")),
            rot(Value::str("false")),
        ));
        assert_eq!(j, failing("`enableSecretRotation` is \"false\""));
    }

    #[test]
    fn keys_match_ignoring_case() {
        let r = resource(
            "microsoft.containerservice/MANAGEDCLUSTERS",
            json!({"Properties": {"AddonProfiles": {"AZUREKEYVAULTSECRETSPROVIDER":
                {"Enabled": true, "Config": {"EnableSecretRotation": "TRUE"}}}}}),
        );
        assert_eq!(judge(&r), Judgement::Pass);
    }

    #[test]
    fn an_unknown_on_the_way_is_unknown() {
        let r = resource(CLUSTER_TYPE, json!({"properties": {"addonProfiles": null}}));
        assert_eq!(judge(&r), Judgement::NotApplicable);
        let mut r = cluster(json!({}));
        set(
            &mut r.body,
            &["properties", "addonProfiles"],
            Value::unknown("variables('addons') uses reference()"),
        );
        assert_eq!(
            judge(&r),
            Judgement::Unknown {
                reason: "variables('addons') uses reference()".into()
            }
        );
        let mut r = cluster(json!({}));
        set(
            &mut r.body,
            &["properties", "addonProfiles", ADDON],
            Value::unknown("the add-on is a parameter without a value"),
        );
        assert_eq!(
            judge(&r),
            Judgement::Unknown {
                reason: "the add-on is a parameter without a value".into()
            }
        );
    }

    #[test]
    fn no_add_on_is_not_applicable() {
        let r = resource(CLUSTER_TYPE, json!({"properties": {"dnsPrefix": "x"}}));
        assert_eq!(judge(&r), Judgement::NotApplicable);
        let r = resource(CLUSTER_TYPE, json!({"properties": {"addonProfiles": {}}}));
        assert_eq!(judge(&r), Judgement::NotApplicable);
    }

    #[test]
    fn not_deployed_and_not_a_cluster() {
        let failing_addon = json!({"enabled": true});
        let mut r = cluster(failing_addon.clone());
        r.condition = Value::Bool(false);
        assert_eq!(judge(&r), Judgement::NotDeployed);
        let mut r = cluster(failing_addon.clone());
        r.existing = true;
        assert_eq!(judge(&r), Judgement::NotDeployed);
        let mut r = cluster(failing_addon.clone());
        r.condition = Value::unknown("parameters('deploy') has no value");
        assert_eq!(judge(&r), failing("`config` is missing"));
        let r = resource(
            "Microsoft.Storage/storageAccounts",
            json!({"properties": {}}),
        );
        assert_eq!(judge(&r), Judgement::NotACluster);
        let mut r = cluster(failing_addon);
        r.kind = Value::unknown("the type is computed");
        assert_eq!(
            judge(&r),
            Judgement::Unknown {
                reason: "the type is computed".into()
            }
        );
        r.condition = Value::Bool(false);
        assert_eq!(judge(&r), Judgement::NotDeployed);
    }

    #[test]
    fn scope() {
        assert!(Judgement::Pass.in_scope());
        assert!(failing("x").in_scope());
        assert!(!Judgement::NotApplicable.in_scope());
        assert!(!Judgement::NotDeployed.in_scope());
        assert!(!Judgement::NotACluster.in_scope());
    }
}
