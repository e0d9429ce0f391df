//! Reads a parsed ARM template: tells templates from other JSON, finds the AKS cluster
//! resources in it (in `resources` arrays, languageVersion 2.0 symbolic-name objects and
//! inline nested deployments, to any depth), and lets the rule read them through
//! [`rule::Tree`]. It knows nothing of text edits.

use crate::lang::arm::jsonc::{self, Kind, Member, Node, ParseError, Slots};
use crate::rule::{self, Lookup, Shape};

const DEPLOYMENT_TYPE: &str = "Microsoft.Resources/deployments";
/// A template spec's version: its `properties.mainTemplate` is an inline template, read like
/// a nested deployment's (its clusters deploy wherever the spec is deployed).
pub(crate) const SPEC_VERSION_TYPE: &str = "Microsoft.Resources/templateSpecs/versions";

/// Parses a JSON file for the rule: the tree holds everything the rule, the planner and the
/// renderer read, and leaves out the `properties` of resources whose `type` (given before
/// them) is neither a cluster nor a deployment, which are most of a large template's bytes.
/// They are still read and checked (errors are the same as [`jsonc::parse`]'s) and stand in
/// the tree as `null`s with their spans.
pub(crate) fn parse(text: &str) -> Result<Node<'_>, ParseError> {
    jsonc::parse_pruned(text, &prunable)
}

/// Whether the value of member `key` of an object can be left out of the tree: the object
/// is a resource (an item of a `resources` array, or a value of a `resources` object) and
/// `key` is its `properties`, after a `type` that names neither a cluster nor a deployment.
/// A cluster's or deployment's properties, and anything outside resources, are kept.
fn prunable(slots: Slots<'_, '_>, read: &[Member<'_>], key: &str) -> bool {
    let in_resources = slots.len() >= 2
        && slots[slots.len() - 2]
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("resources"));
    in_resources
        && key.eq_ignore_ascii_case("properties")
        && read.iter().any(|m| {
            m.key.eq_ignore_ascii_case("type")
                && m.value.as_str().is_some_and(|t| {
                    !t.eq_ignore_ascii_case(rule::CLUSTER_TYPE)
                        && !t.eq_ignore_ascii_case(DEPLOYMENT_TYPE)
                        && !t.eq_ignore_ascii_case(SPEC_VERSION_TYPE)
                })
        })
}

/// True when the root object's `$schema` names a deployment template (any scope, any case).
pub fn is_template(root: &Node) -> bool {
    schema_names(root, "deploymenttemplate.json")
}

/// True when the root object's `$schema` names a deployment parameters file.
pub(crate) fn is_parameters_file(root: &Node) -> bool {
    schema_names(root, "deploymentparameters.json")
}

/// True when the root object's `$schema` contains `file` (ASCII case-insensitive).
fn schema_names(root: &Node, file: &str) -> bool {
    root.members().is_some_and(|members| {
        members.iter().any(|m| {
            m.key.eq_ignore_ascii_case("$schema")
                && m.value
                    .as_str()
                    .is_some_and(|s| contains_ignore_case(s, file))
        })
    })
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// True for ARM's expression syntax: a string in `[` `]` that does not start with the `[[`
/// escape for a literal bracket.
pub(crate) fn is_expression(s: &str) -> bool {
    s.starts_with('[') && s.ends_with(']') && !s.starts_with("[[")
}

/// One path segment of a JSON pointer: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

impl Segment {
    pub(crate) fn token(&self) -> String {
        match self {
            Segment::Key(k) => k.clone(),
            Segment::Index(i) => i.to_string(),
        }
    }
}

/// A cluster resource found in a template, with the path from the document root to it.
#[derive(Debug)]
pub(crate) struct Cluster<'n, 'a> {
    pub(crate) path: Vec<Segment>,
    pub(crate) node: &'n Node<'a>,
}

/// A key on the way to the clusters appears twice (ignoring case).
#[derive(Debug)]
pub(crate) struct Ambiguous<'n, 'a> {
    pub(crate) path: Vec<Segment>,
    pub(crate) node: &'n Node<'a>,
}

/// Finds every cluster resource that is deployed (not `"existing": true`).
pub(crate) fn find_clusters<'n, 'a>(
    root: &'n Node<'a>,
) -> Result<Vec<Cluster<'n, 'a>>, Ambiguous<'n, 'a>> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk_template(root, &mut path, &mut out)?;
    Ok(out)
}

fn walk_template<'n, 'a>(
    template: &'n Node<'a>,
    path: &mut Vec<Segment>,
    out: &mut Vec<Cluster<'n, 'a>>,
) -> Result<(), Ambiguous<'n, 'a>> {
    let (key, resources) = match get(template, "resources") {
        Lookup::Missing => return Ok(()),
        Lookup::Duplicate(key, node) => return Err(ambiguous(path, key, node)),
        Lookup::Found(key, node) => (key, node),
    };
    path.push(Segment::Key(key));
    match &resources.kind {
        Kind::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                visit_resource(item, path, out)?;
                path.pop();
            }
        }
        Kind::Object(members) => {
            // languageVersion 2.0: symbolic name -> resource.
            for (i, m) in members.iter().enumerate() {
                // A name given twice (ignoring case, like every key on the way): which
                // resource deploys is ambiguous.
                if members[..i]
                    .iter()
                    .any(|o| o.key.eq_ignore_ascii_case(&m.key))
                {
                    return Err(ambiguous(path, m.key.to_string(), &m.value));
                }
                path.push(Segment::Key(m.key.to_string()));
                visit_resource(&m.value, path, out)?;
                path.pop();
            }
        }
        _ => {}
    }
    path.pop();
    Ok(())
}

fn visit_resource<'n, 'a>(
    resource: &'n Node<'a>,
    path: &mut Vec<Segment>,
    out: &mut Vec<Cluster<'n, 'a>>,
) -> Result<(), Ambiguous<'n, 'a>> {
    let Some(members) = resource.members() else {
        return Ok(());
    };
    // Cheap exit for the many resources without a type of interest.
    let ty = match get(resource, "type") {
        Lookup::Found(_, node) => node.as_str().unwrap_or(""),
        Lookup::Duplicate(key, node) => return Err(ambiguous(path, key, node)),
        Lookup::Missing => "",
    };
    if ty.eq_ignore_ascii_case(rule::CLUSTER_TYPE) {
        let existing = members
            .iter()
            .any(|m| m.key.eq_ignore_ascii_case("existing") && m.value.kind == Kind::Bool(true));
        if !existing {
            out.push(Cluster {
                path: path.clone(),
                node: resource,
            });
        }
    } else if ty.eq_ignore_ascii_case(DEPLOYMENT_TYPE) || ty.eq_ignore_ascii_case(SPEC_VERSION_TYPE)
    {
        let (pkey, props) = match get(resource, "properties") {
            Lookup::Found(k, n) => (k, n),
            Lookup::Duplicate(key, node) => return Err(ambiguous(path, key, node)),
            Lookup::Missing => return Ok(()),
        };
        path.push(Segment::Key(pkey));
        let inline = if ty.eq_ignore_ascii_case(DEPLOYMENT_TYPE) {
            "template"
        } else {
            "mainTemplate"
        };
        match get(props, inline) {
            Lookup::Found(tkey, template) if template.members().is_some() => {
                path.push(Segment::Key(tkey));
                walk_template(template, path, out)?;
                path.pop();
            }
            Lookup::Duplicate(key, node) => return Err(ambiguous(path, key, node)),
            _ => {}
        }
        path.pop();
    }
    Ok(())
}

fn ambiguous<'n, 'a>(path: &[Segment], key: String, node: &'n Node<'a>) -> Ambiguous<'n, 'a> {
    let mut path = path.to_vec();
    path.push(Segment::Key(key));
    Ambiguous { path, node }
}

/// Looks `key` up in an object ignoring ASCII case; non-objects have no keys.
pub(crate) fn get<'n, 'a>(object: &'n Node<'a>, key: &str) -> Lookup<&'n Node<'a>> {
    let Some(members) = object.members() else {
        return Lookup::Missing;
    };
    let mut found: Option<&'n crate::lang::arm::jsonc::Member<'a>> = None;
    for m in members {
        if m.key.eq_ignore_ascii_case(key) {
            if found.is_some() {
                return Lookup::Duplicate(m.key.to_string(), &m.value);
            }
            found = Some(m);
        }
    }
    match found {
        Some(m) => Lookup::Found(m.key.to_string(), &m.value),
        None => Lookup::Missing,
    }
}

/// The ARM view of a parsed template for the rule.
#[derive(Default)]
pub(crate) struct ArmTree<'a>(std::marker::PhantomData<Node<'a>>);

impl ArmTree<'_> {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

impl<'n, 'a: 'n> rule::Tree<'n> for ArmTree<'a> {
    type Node = &'n Node<'a>;

    fn shape(&self, node: Self::Node) -> Shape<'n, Self::Node> {
        match &node.kind {
            Kind::Null => Shape::Null,
            Kind::Bool(b) => Shape::Bool(*b),
            Kind::String(s) if is_expression(s) => Shape::Expr(s),
            Kind::String(s) => Shape::Str(s),
            Kind::Object(_) => Shape::Object(node),
            Kind::Number(_) | Kind::Array(_) => Shape::Other,
        }
    }

    fn get(&self, object: Self::Node, key: &str) -> Lookup<Self::Node> {
        get(object, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::arm::jsonc::parse;
    use crate::rule::{decide, FixKind, Verdict};

    const SCHEMA: &str =
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

    fn template(resources: &str) -> String {
        format!(r#"{{"$schema": "{SCHEMA}", "resources": {resources}}}"#)
    }

    fn verdicts(text: &str) -> Vec<Verdict<String>> {
        let root = parse(text).unwrap();
        find_clusters(&root)
            .unwrap()
            .into_iter()
            .map(|c| match decide(&ArmTree::new(), c.node) {
                Verdict::NotApplicable => Verdict::NotApplicable,
                Verdict::Pass => Verdict::Pass,
                Verdict::Fix(f) => Verdict::Fix(crate::rule::Fix {
                    kind: f.kind,
                    path: f.path,
                    value: f.value,
                    at: String::new(),
                    target: String::new(),
                }),
                Verdict::Review {
                    path,
                    expression,
                    reason,
                    ..
                } => Verdict::Review {
                    at: String::new(),
                    path,
                    expression,
                    reason,
                },
                Verdict::Ambiguous { path, .. } => Verdict::Ambiguous {
                    at: String::new(),
                    path,
                },
            })
            .collect()
    }

    fn cluster(addon: &str) -> String {
        format!(
            r#"{{"type": "Microsoft.ContainerService/managedClusters", "properties": {{"addonProfiles": {{"azureKeyvaultSecretsProvider": {addon}}}}}}}"#
        )
    }

    fn kind_of(v: &Verdict<String>) -> Option<&FixKind> {
        match v {
            Verdict::Fix(f) => Some(&f.kind),
            _ => None,
        }
    }

    #[test]
    fn detects_templates() {
        assert!(is_template(&parse(&template("[]")).unwrap()));
        assert!(is_template(
            &parse(r#"{"$SCHEMA": "https://x/subscriptionDeploymentTemplate.json#"}"#).unwrap()
        ));
        assert!(!is_template(
            &parse(r#"{"$schema": "https://x/deploymentParameters.json#"}"#).unwrap()
        ));
        assert!(!is_template(&parse("[]").unwrap()));
    }

    #[test]
    fn duplicate_symbolic_names_are_ambiguous() {
        // Found by fuzzing (fuzz/ target `pipeline`): the first `aks` was planned, the
        // renderer resolved the last one, and the run ended in an internal error.
        let text = format!(
            r#"{{"$schema": "{SCHEMA}", "languageVersion": "2.0", "resources": {{"aks": {}, "AKS": {{}}}}}}"#,
            cluster(r#"{"enabled": true}"#)
        );
        let root = parse(&text).unwrap();
        let a = find_clusters(&root).unwrap_err();
        assert_eq!(
            a.path,
            vec![Segment::Key("resources".into()), Segment::Key("AKS".into())]
        );
    }

    #[test]
    fn expressions() {
        assert!(is_expression("[parameters('a')]"));
        assert!(!is_expression("[[not an expression]"));
        assert!(!is_expression("true"));
    }

    #[test]
    fn rule_semantics() {
        let cases: &[(&str, Option<FixKind>)] = &[
            (r#"{"enabled": true}"#, Some(FixKind::AddConfig)),
            (r#"{"enabled": "True"}"#, Some(FixKind::AddConfig)),
            (
                r#"{"enabled": "[parameters('x')]"}"#,
                Some(FixKind::AddConfig),
            ),
            (r#"{"enabled": true, "config": {}}"#, Some(FixKind::AddKey)),
            (
                r#"{"enabled": true, "config": null}"#,
                Some(FixKind::ReplaceConfig),
            ),
            (
                r#"{"enabled": true, "config": {"enableSecretRotation": "false"}}"#,
                Some(FixKind::ReplaceValue("\"false\"".into())),
            ),
            (
                r#"{"enabled": true, "config": {"enableSecretRotation": false}}"#,
                Some(FixKind::ReplaceValue("false".into())),
            ),
        ];
        for (addon, want) in cases {
            let v = verdicts(&template(&format!("[{}]", cluster(addon))));
            assert_eq!(kind_of(&v[0]), want.as_ref(), "{addon}");
        }
        for addon in [
            r#"{"enabled": true, "config": {"enableSecretRotation": "TRUE"}}"#,
            r#"{"Enabled": true, "Config": {"EnableSecretRotation": true}}"#,
        ] {
            assert_eq!(
                verdicts(&template(&format!("[{}]", cluster(addon)))),
                [Verdict::Pass]
            );
        }
        for addon in [
            r#"{"enabled": false}"#,
            r#"{"enabled": "false"}"#,
            "{}",
            "null",
        ] {
            assert_eq!(
                verdicts(&template(&format!("[{}]", cluster(addon)))),
                [Verdict::NotApplicable],
                "{addon}"
            );
        }
    }

    #[test]
    fn expressions_need_review() {
        let v = verdicts(&template(&format!(
            "[{}]",
            cluster(r#"{"enabled": true, "config": "[variables('c')]"}"#)
        )));
        assert!(
            matches!(&v[0], Verdict::Review { expression, .. } if expression == "[variables('c')]")
        );
    }

    #[test]
    fn duplicate_keys_are_ambiguous() {
        let v = verdicts(&template(&format!(
            "[{}]",
            cluster(r#"{"enabled": true, "config": {}, "Config": {}}"#)
        )));
        assert!(
            matches!(&v[0], Verdict::Ambiguous { path, .. } if path.last().unwrap() == "Config")
        );
    }

    #[test]
    fn finds_nested_symbolic_and_skips_existing() {
        let inner = template(&format!("[{}]", cluster(r#"{"enabled": true}"#)));
        let text = format!(
            r#"{{"$schema": "{SCHEMA}", "languageVersion": "2.0", "resources": {{
                "aks": {c},
                "old": {{"type": "microsoft.containerservice/MANAGEDCLUSTERS", "existing": true}},
                "dep": {{"type": "Microsoft.Resources/deployments", "properties": {{"template": {inner}}}}}
            }}}}"#,
            c = cluster(r#"{"enabled": true}"#)
        );
        let root = parse(&text).unwrap();
        let paths: Vec<String> = find_clusters(&root)
            .unwrap()
            .iter()
            .map(|c| {
                c.path
                    .iter()
                    .map(Segment::token)
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        assert_eq!(
            paths,
            [
                "resources/aks",
                "resources/dep/properties/template/resources/0"
            ]
        );
    }
}
