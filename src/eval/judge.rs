//! The rule `Azure.AKS.SecretStoreRotation` on one EVALUATED resource: decides from the values
//! the deployment engine would see (with [`Value::Unknown`] for what cannot be known offline)
//! whether the resource is a cluster in the rule's scope and whether it passes. It knows
//! nothing of source text or fixes.
//!
//! # One reading of the rule
//!
//! The rule itself is written once, in [`crate::rule`]: this module does not walk the cluster
//! itself but lets [`rule::decide`] read the evaluated body through [`Evaluated`], the
//! [`rule::Tree`] of evaluated values (an Unknown is a [`Shape::Expr`] whose text is its
//! reason), and maps the [`Verdict`] to a [`Judgement`]: a fix is a failure, a review of an
//! Unknown is Unknown, a review of a `config` that is not an object is a failure.
//! [`enabled_in_scope`] and [`rotation_passes`] (used by the proof on single values) are the
//! rule's predicates on an evaluated value's shape. What only this module knows stays here:
//! whether the resource is deployed (`condition`, `existing`), an Unknown type, and the
//! reasons, named from the evaluated values. The alternative (shared predicates, two walks)
//! was rejected because the walks themselves (which node is an object, what a null or
//! non-object `config` means) were what could drift.
//!
//! Keys differing only in case: the source reading calls them ambiguous and edits nothing;
//! an evaluated object keeps each spelling, and [`Evaluated`] reads the last one, as
//! [`Object::get`](super::value::Object::get) does (the value the proof compares). The property test below checks that
//! the judgement then equals the source verdict on the same template with only the last
//! spelling kept.
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
use crate::rule::{self, FixKind, Lookup, Shape, Tree, Verdict, CLUSTER_TYPE, ROTATION};

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
    match rule::decide(&Evaluated, &resource.body) {
        Verdict::NotApplicable => Judgement::NotApplicable,
        Verdict::Pass => Judgement::Pass,
        Verdict::Fix(fix) => fail(match fix.kind {
            FixKind::AddConfig => "`config` is missing".into(),
            FixKind::ReplaceConfig => "`config` is null".into(),
            FixKind::AddKey => format!("`{ROTATION}` is missing"),
            FixKind::ReplaceValue(_) => format!("`{ROTATION}` is {}", fix.target),
        }),
        // A value on the way that is Unknown, or a `config` that is not an object.
        Verdict::Review { at, .. } => match at {
            Value::Unknown(u) => Judgement::Unknown {
                reason: u.reason.to_string(),
            },
            other => fail(format!("`config` is {other}, not an object")),
        },
        // [`Evaluated`] reads the last spelling of a key, so it never finds two; kept total.
        Verdict::Ambiguous { path, .. } => Judgement::Unknown {
            reason: format!("`{}` appears twice", path.join(".")),
        },
    }
}

/// The rule's view ([`rule::Tree`]) of evaluated values: a node is a `&Value`, an Unknown is
/// an expression (its text is the Unknown's reason), integers and arrays are "other". Keys
/// are looked up ignoring ASCII case, the last spelling winning ([`Object::get`](super::value::Object::get)).
pub(crate) struct Evaluated;

impl<'t> rule::Tree<'t> for Evaluated {
    type Node = &'t Value;

    fn shape(&self, node: &'t Value) -> Shape<'t, &'t Value> {
        match node {
            Value::Null => Shape::Null,
            Value::Bool(b) => Shape::Bool(*b),
            Value::Str(s) => Shape::Str(s),
            Value::Unknown(u) => Shape::Expr(&u.reason),
            Value::Object(_) => Shape::Object(node),
            Value::Int(_) | Value::Array(_) => Shape::Other,
        }
    }

    fn get(&self, object: &'t Value, key: &str) -> Lookup<&'t Value> {
        let found = object.as_object().and_then(|o| {
            o.members
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
        });
        match found {
            Some((k, v)) => Lookup::Found(k.clone(), v),
            None => Lookup::Missing,
        }
    }
}

/// Whether the add-on's `enabled` value puts the cluster in scope ([`rule::enabled_in_scope`]
/// on an evaluated value): `true`, `"true"` in any case, or Unknown. Missing, null, false and
/// anything else do not.
pub(crate) fn enabled_in_scope(enabled: Option<&Value>) -> bool {
    enabled.is_some_and(|v| rule::enabled_in_scope(&Evaluated.shape(v)))
}

/// Whether a known `enableSecretRotation` value passes ([`rule::rotation_passes`] on an
/// evaluated value): `true` or `"true"` in any case.
pub(crate) fn rotation_passes(value: &Value) -> bool {
    rule::rotation_passes(&Evaluated.shape(value))
}

fn fail(reason: String) -> Judgement {
    Judgement::Fail { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::ADDON;
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

/// The property: on literal ARM templates, the source reading ([`rule::decide`] on the parsed
/// text through `ArmTree`) and the evaluated reading ([`judge`] on the ARM evaluator's output)
/// agree, for random shapes of the add-on, `enabled`, `config` and rotation.
#[cfg(test)]
mod agreement {
    use super::*;
    use crate::eval::arm::evaluate;
    use crate::eval::Configuration;
    use crate::lang::arm::jsonc::parse;
    use crate::lang::arm::template::{find_clusters, ArmTree};
    use proptest::prelude::*;
    use serde_json::{json, Map, Value as J};

    /// A value in the generated template.
    #[derive(Debug, Clone)]
    enum V {
        Bool(bool),
        Str(&'static str),
        Null,
        Num(i64),
        Array,
        /// An expression that cannot be known offline; the index picks which.
        Unknown(usize),
        Obj(Vec<(String, V)>),
    }

    const STRINGS: [&str; 9] = [
        "true", "True", "TRUE", "tRuE", "false", "False", "yes", "", " true",
    ];
    const UNKNOWNS: [&str; 4] = [
        "[parameters('noValue')]",
        "[parameters('noObject')]",
        "[reference('somewhere').value]",
        "[utcNow()]",
    ];

    fn leaf() -> impl Strategy<Value = V> {
        prop_oneof![
            any::<bool>().prop_map(V::Bool),
            (0..STRINGS.len()).prop_map(|i| V::Str(STRINGS[i])),
            Just(V::Null),
            (-1i64..3).prop_map(V::Num),
            Just(V::Array),
            (0..UNKNOWNS.len()).prop_map(V::Unknown),
        ]
    }

    /// The members for `key`: none, one (spelled as is, in capitals, or capitalised), or two
    /// spelled differently (a duplicate).
    fn slot(key: &'static str, value: BoxedStrategy<V>) -> BoxedStrategy<Vec<(String, V)>> {
        let upper = key.to_ascii_uppercase();
        let first_up = format!("{}{}", key[..1].to_ascii_uppercase(), &key[1..]);
        let spellings = [key.to_string(), upper.clone(), first_up.clone()];
        prop_oneof![
            1 => Just(Vec::new()),
            4 => (value.clone(), 0..3usize)
                .prop_map(move |(v, i)| vec![(spellings[i].clone(), v)]),
            1 => (value.clone(), value, prop::bool::ANY).prop_map(move |(a, b, flip)| {
                let other = if flip { upper.clone() } else { first_up.clone() };
                if flip {
                    vec![(key.to_string(), a), (other, b)]
                } else {
                    vec![(other, a), (key.to_string(), b)]
                }
            }),
        ]
        .boxed()
    }

    fn object(slots: Vec<BoxedStrategy<Vec<(String, V)>>>) -> BoxedStrategy<V> {
        slots
            .prop_map(|members| V::Obj(members.into_iter().flatten().collect()))
            .boxed()
    }

    /// Either an object made of `slots`, or a leaf (null, a string, Unknown...).
    fn object_or_leaf(slots: Vec<BoxedStrategy<Vec<(String, V)>>>) -> BoxedStrategy<V> {
        prop_oneof![4 => object(slots), 1 => leaf()].boxed()
    }

    fn addon() -> BoxedStrategy<V> {
        let rotation = slot(ROTATION, leaf().boxed());
        let config = slot("config", object_or_leaf(vec![rotation]));
        let enabled = slot("enabled", leaf().boxed());
        object_or_leaf(vec![enabled, config])
    }

    fn properties() -> BoxedStrategy<V> {
        let addon = slot(rule::ADDON, addon());
        let profiles = slot("addonProfiles", object_or_leaf(vec![addon]));
        object_or_leaf(vec![profiles])
    }

    fn to_json(v: &V) -> J {
        match v {
            V::Bool(b) => J::Bool(*b),
            V::Str(s) => J::String(s.to_string()),
            V::Null => J::Null,
            V::Num(n) => json!(n),
            V::Array => json!(["true"]),
            V::Unknown(i) => J::String(UNKNOWNS[*i].to_string()),
            V::Obj(members) => {
                let mut m = Map::new();
                for (k, v) in members {
                    m.insert(k.clone(), to_json(v));
                }
                J::Object(m)
            }
        }
    }

    /// The same value with, in every object, only the last spelling of each key.
    fn last_spellings(v: &V) -> V {
        match v {
            V::Obj(members) => {
                let mut out: Vec<(String, V)> = Vec::new();
                for (k, v) in members {
                    out.retain(|(o, _)| !o.eq_ignore_ascii_case(k));
                    out.push((k.clone(), last_spellings(v)));
                }
                V::Obj(out)
            }
            other => other.clone(),
        }
    }

    fn template(properties: &V) -> J {
        json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"noValue": {"type": "string"}, "noObject": {"type": "object"}},
            "resources": [{
                "type": CLUSTER_TYPE,
                "apiVersion": "2024-02-01",
                "name": "aks",
                "location": "westeurope",
                "properties": to_json(properties)
            }]
        })
    }

    /// The source verdict, as the class of judgement it must agree with (`None` when
    /// ambiguous).
    fn source(template: &J) -> Option<&'static str> {
        let text = serde_json::to_string_pretty(template).unwrap();
        let root = parse(&text).unwrap();
        let clusters = find_clusters(&root).unwrap();
        assert_eq!(clusters.len(), 1);
        Some(match rule::decide(&ArmTree::new(), clusters[0].node) {
            Verdict::NotApplicable => "not applicable",
            Verdict::Pass => "pass",
            Verdict::Fix(_) => "fail",
            Verdict::Review { expression, .. } if expression.is_empty() => "fail",
            Verdict::Review { .. } => "unknown",
            Verdict::Ambiguous { .. } => return None,
        })
    }

    fn evaluated(template: &J) -> &'static str {
        let d = evaluate(template, &Configuration::defaults());
        assert_eq!(d.resources.len(), 1);
        match judge(&d.resources[0]) {
            Judgement::NotApplicable => "not applicable",
            Judgement::Pass => "pass",
            Judgement::Fail { .. } => "fail",
            Judgement::Unknown { .. } => "unknown",
            other => panic!("a deployed literal cluster judged {other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn the_source_verdict_and_the_evaluated_judgement_agree(props in properties()) {
            let t = template(&props);
            let judged = evaluated(&t);
            match source(&t) {
                Some(verdict) => prop_assert_eq!(verdict, judged, "{:#}", t),
                // Keys differing in case: the source edits nothing; the evaluated reading
                // takes the last spelling, so it agrees with the source on that template.
                None => {
                    let last = template(&last_spellings(&props));
                    prop_assert_eq!(source(&last), Some(judged), "{:#}", t);
                }
            }
        }
    }

    #[test]
    fn the_generator_reaches_every_outcome() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        let mut ambiguous = false;
        for _ in 0..2000 {
            let props = properties().new_tree(&mut runner).unwrap().current();
            let t = template(&props);
            seen.insert(evaluated(&t));
            ambiguous |= source(&t).is_none();
        }
        let all: std::collections::BTreeSet<_> = ["fail", "not applicable", "pass", "unknown"]
            .into_iter()
            .collect();
        assert_eq!(seen, all);
        assert!(ambiguous, "no duplicate key was generated");
    }
}
