//! Lets the shared rule ([`rule::decide`]) read a Bicep resource body through [`rule::Tree`].
//! A bare identifier that names a variable is read as the variable's value, and one that
//! names a parameter as the parameter's default, so the rule sees the value a human would
//! edit (and the edit lands there). One exception keeps PSRule's "may be true at deploy time"
//! semantics: a parameter read as the add-on's `enabled` flag stays an expression, because a
//! deployment can pass `true` whatever the default. Loop variables shadow declarations.
//! Value-preserving wrappers (`string()`, `toLower()`, `bool()`, `json()`) around such a
//! reference are seen through, as for ARM expressions.
//! Objects with a spread or computed keys are expressions: their keys are unknowable here.

use super::ast::{Doc, Kind, NodeId};
use crate::rule::{self, Lookup, Shape};

/// A value in the document, and whether parameters are followed to their defaults when
/// reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle {
    pub id: NodeId,
    pub follow_params: bool,
}

impl Handle {
    pub fn new(id: NodeId) -> Self {
        Handle {
            id,
            follow_params: true,
        }
    }
}

/// Where a followed identifier led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Variable(String),
    /// A parameter's default value.
    Parameter(String),
}

/// The Bicep view of one resource for the rule.
pub struct BicepTree<'d> {
    pub doc: &'d Doc,
    pub text: &'d str,
    /// Loop variables in scope (they shadow parameters and variables).
    pub shadowed: Vec<String>,
}

/// How many identifiers are followed in a row before giving up (`var a = b`, `var b = a`).
const MAX_HOPS: usize = 32;

impl<'d> BicepTree<'d> {
    pub fn new(doc: &'d Doc, text: &'d str, shadowed: Vec<String>) -> Self {
        BicepTree {
            doc,
            text,
            shadowed,
        }
    }

    /// Follows identifiers to the value they stand for; returns that value and the
    /// sources passed on the way (the last one holds the value).
    pub fn resolve(&self, h: Handle) -> (NodeId, Vec<Source>) {
        if let Some(found) = self.through_wrapper(h) {
            return found;
        }
        let mut id = h.id;
        let mut via = Vec::new();
        for _ in 0..MAX_HOPS {
            let Kind::Ident(name) = &self.doc.node(id).kind else {
                break;
            };
            if self.shadowed.iter().any(|s| s == name) {
                break;
            }
            if let Some(v) = self.doc.var(name) {
                via.push(Source::Variable(name.clone()));
                id = v.value;
                continue;
            }
            match self.doc.param(name) {
                Some(p) if h.follow_params => match p.default {
                    Some(d) => {
                        via.push(Source::Parameter(name.clone()));
                        id = d;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        (id, via)
    }

    /// `string(p)`, `toLower(p)`, `bool(p)`, `json(p)` (nested too) of a parameter or
    /// variable whose value is a literal scalar: the call keeps the meaning of `true`, so
    /// the literal is the value to read and fix. Anything else stays a call.
    fn through_wrapper(&self, h: Handle) -> Option<(NodeId, Vec<Source>)> {
        let mut id = h.id;
        let mut wrapped = false;
        for _ in 0..MAX_HOPS {
            match &self.doc.node(id).kind {
                Kind::Call { name, args } if args.len() == 1 && is_value_preserving(name) => {
                    id = args[0];
                    wrapped = true;
                }
                _ => break,
            }
        }
        if !wrapped || !matches!(self.doc.node(id).kind, Kind::Ident(_)) {
            return None;
        }
        let (value, via) = self.resolve(Handle { id, ..h });
        let scalar = matches!(
            self.doc.node(value).kind,
            Kind::Bool(_) | Kind::Str(_) | Kind::Null
        );
        (scalar && !via.is_empty()).then_some((value, via))
    }

    fn text_of(&self, id: NodeId) -> &'d str {
        let span = self.doc.node(id).span;
        &self.text[span.start..span.end]
    }
}

impl<'d> rule::Tree<'d> for BicepTree<'d> {
    type Node = Handle;

    fn shape(&self, h: Handle) -> Shape<'d, Handle> {
        let (id, _) = self.resolve(h);
        let doc: &'d Doc = self.doc;
        match &doc.node(id).kind {
            Kind::Null => Shape::Null,
            Kind::Bool(b) => Shape::Bool(*b),
            Kind::Str(s) => Shape::Str(s),
            Kind::Object(o) if !o.dynamic => Shape::Object(Handle { id, ..h }),
            Kind::Int | Kind::Array(_) | Kind::For { .. } => Shape::Other,
            Kind::Object(_)
            | Kind::Ident(_)
            | Kind::Call { .. }
            | Kind::Ternary { .. }
            | Kind::If { .. }
            | Kind::Expr => Shape::Expr(self.text_of(id)),
        }
    }

    fn get(&self, object: Handle, key: &str) -> Lookup<Handle> {
        let Some(o) = self.doc.object(object.id) else {
            return Lookup::Missing;
        };
        let mut found: Option<(&str, NodeId)> = None;
        for m in &o.members {
            let Some(k) = m.key.as_deref() else { continue };
            if k.eq_ignore_ascii_case(key) {
                if found.is_some() {
                    return Lookup::Duplicate(k.to_string(), handle_for(key, m.value));
                }
                found = Some((k, m.value));
            }
        }
        match found {
            Some((k, v)) => Lookup::Found(k.to_string(), handle_for(key, v)),
            None => Lookup::Missing,
        }
    }
}

/// `string`, `toLower`, `bool`, `json` (with or without `sys.`): calls that keep `true` true.
pub(crate) fn is_value_preserving(name: &str) -> bool {
    let name = name.strip_prefix("sys.").unwrap_or(name);
    ["string", "toLower", "bool", "json"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
}

/// The add-on's `enabled` flag is read without following parameters (see the module doc).
fn handle_for(key: &str, id: NodeId) -> Handle {
    Handle {
        id,
        follow_params: !key.eq_ignore_ascii_case("enabled"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bicep::parser::parse;
    use crate::rule::{decide, FixKind, Verdict};

    fn verdict(text: &str) -> Verdict<Handle> {
        let doc = parse(text).unwrap();
        let tree = BicepTree::new(&doc, text, Vec::new());
        decide(&tree, Handle::new(doc.resources[0].body))
    }

    fn cluster(addon: &str) -> String {
        format!(
            "resource aks 'Microsoft.ContainerService/managedClusters@2024-01-01' = {{\n\
             properties: {{\n addonProfiles: {{\n azureKeyvaultSecretsProvider: {addon}\n }}\n }}\n}}\n"
        )
    }

    #[test]
    fn literal_values() {
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n }")),
            Verdict::Fix(f) if f.kind == FixKind::AddConfig
        ));
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n config: { enableSecretRotation: false }\n }")),
            Verdict::Fix(f) if f.kind == FixKind::ReplaceValue("false".into())
        ));
        assert_eq!(
            verdict(&cluster(
                "{\n enabled: true\n config: { enableSecretRotation: 'TRUE' }\n }"
            )),
            Verdict::Pass
        );
        assert_eq!(
            verdict(&cluster("{\n enabled: false\n }")),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn parameters_and_variables() {
        // `enabled` from a parameter defaulting to false may still be true: the rule applies,
        // and the rotation parameter's default is what fails.
        let text = format!(
            "param on bool = false\nparam rot string = 'false'\nvar cfg = {{\n enableSecretRotation: rot\n}}\n{}",
            cluster("{\n enabled: on\n config: cfg\n }")
        );
        let doc = parse(&text).unwrap();
        let tree = BicepTree::new(&doc, &text, Vec::new());
        let Verdict::Fix(fix) = decide(&tree, Handle::new(doc.resources[0].body)) else {
            panic!("expected a fix");
        };
        assert_eq!(fix.kind, FixKind::ReplaceValue("\"false\"".into()));
        // The rule points at the reference; following it leads to the default.
        let (source, via) = tree.resolve(fix.at);
        assert_eq!(&text[doc.node(source).span.start..][..7], "'false'");
        assert_eq!(via, [Source::Parameter("rot".into())]);
        // A loop variable of the same name is not the parameter.
        let tree = BicepTree::new(&doc, &text, vec!["rot".into()]);
        assert!(matches!(
            decide(&tree, Handle::new(doc.resources[0].body)),
            Verdict::Review { .. }
        ));
    }

    #[test]
    fn spreads_and_calls_are_expressions() {
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n config: {\n ...base\n }\n }")),
            Verdict::Review { .. }
        ));
        assert!(matches!(
            verdict(&cluster("{\n enabled: true\n config: union(a, b)\n }")),
            Verdict::Review { .. }
        ));
    }
}
