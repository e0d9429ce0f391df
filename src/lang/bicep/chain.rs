//! Turns the provenance of a cluster's rotation value ([`crate::eval::bicep_origin`]) into
//! the fixes the deploy-time proof tries, in its order: the place where the value is written
//! first, then each place it passes closer to the cluster, the cluster's own value last. Each
//! place gets the edit that writes true there, spelled as that place is typed: `true` where
//! the value is a bool, `'true'` where it is a string; at a parameter's default, the first of
//! `true`, `'true'`, `'True'`, `'TRUE'` its declared type (literal union type, `@allowed`,
//! alias) admits, or nothing when it admits none. A place whose value already passes, and the
//! argument of a value-preserving wrapper (the wrapper itself is the place), are skipped.

use super::ast::{Doc, Kind, NodeId};
use crate::edit::Edit;
use crate::eval::bicep::Probe;
use crate::eval::bicep_origin::rotation_places;
use crate::eval::provenance::Hop;
use crate::eval::Value;
use crate::finding::FixSource;

/// The proof's candidates along the chain of the cluster at `cluster` (see the module doc).
pub(crate) fn candidates(doc: &Doc, text: &str, cluster: &str) -> Vec<(Edit, FixSource)> {
    let (places, locals) = rotation_places(doc, text, cluster);
    let probe = Probe::new(doc, text);
    let mut out: Vec<(Edit, FixSource)> = Vec::new();
    for (i, (place, _)) in places.iter().enumerate() {
        // The argument of `string(x)`: the wrapper, the next place, is written instead.
        if matches!(places.get(i + 1), Some((_, Some(Hop::Wrapper(_))))) {
            continue;
        }
        let id = place.id;
        let Some(spelled) = spelling(doc, &probe, id, &locals) else {
            continue;
        };
        let span = doc.node(id).span;
        let edit = Edit::replace(span.start, span.end, spelled);
        if out.iter().any(|(e, _)| *e == edit) {
            continue;
        }
        out.push((edit, source_of(doc, id)));
    }
    out
}

/// How true is written at node `id`: `None` when its value passes already, or when the
/// parameter whose default it is admits no spelling of true.
fn spelling(doc: &Doc, probe: &Probe, id: NodeId, locals: &[String]) -> Option<&'static str> {
    let now = probe.value(id, locals);
    let passes = match &now {
        Value::Bool(b) => *b,
        Value::Str(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    if passes {
        return None;
    }
    let boolean = match (&now, &doc.node(id).kind) {
        (Value::Bool(_), _) | (_, Kind::Bool(_)) => true,
        (Value::Str(_), _) | (_, Kind::Str(_)) => false,
        _ => false,
    };
    let order: [(&str, Value); 4] = if boolean {
        [
            ("true", Value::Bool(true)),
            ("'true'", Value::Str("true".into())),
            ("'True'", Value::Str("True".into())),
            ("'TRUE'", Value::Str("TRUE".into())),
        ]
    } else {
        [
            ("'true'", Value::Str("true".into())),
            ("true", Value::Bool(true)),
            ("'True'", Value::Str("True".into())),
            ("'TRUE'", Value::Str("TRUE".into())),
        ]
    };
    match doc.params.iter().find(|p| p.default == Some(id)) {
        Some(p) => order
            .iter()
            .find(|(_, v)| probe.parameter_admits(&p.name, v) == Some(true))
            .map(|(s, _)| *s),
        None => Some(order[0].0),
    }
}

/// Where an edit of node `id` lands: a parameter's default, a variable, a member value of
/// a resource (the cluster's own value), or inside an expression.
fn source_of(doc: &Doc, id: NodeId) -> FixSource {
    let span = doc.node(id).span;
    let within = |outer: NodeId| {
        let o = doc.node(outer).span;
        o.start <= span.start && span.end <= o.end
    };
    if let Some(p) = doc.params.iter().find(|p| p.default.is_some_and(within)) {
        return FixSource::ParameterDefault {
            name: p.name.clone(),
        };
    }
    if let Some(v) = doc.vars.iter().find(|v| within(v.value)) {
        return FixSource::Variable {
            name: v.name.clone(),
        };
    }
    let member = doc.nodes.iter().any(|n| match &n.kind {
        Kind::Object(o) => o.members.iter().any(|m| m.value == id),
        _ => false,
    });
    if member {
        FixSource::Value
    } else {
        FixSource::Expression
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::bicep::parser::parse;

    /// The candidates' new texts, as (text after the edit's line start, source kind).
    fn run(text: &str) -> Vec<(String, String)> {
        let doc = parse(text).unwrap();
        candidates(&doc, text, "/resources/aks")
            .into_iter()
            .map(|(e, s)| {
                let mut fixed = text.to_string();
                fixed.replace_range(e.start..e.end, &e.replacement);
                let line_start = fixed[..e.start].rfind('\n').map_or(0, |i| i + 1);
                let line_end = fixed[e.start..]
                    .find('\n')
                    .map_or(fixed.len(), |i| e.start + i);
                let kind = match s {
                    FixSource::ParameterDefault { name } => format!("default {name}"),
                    FixSource::Variable { name } => format!("variable {name}"),
                    FixSource::Value => "value".into(),
                    FixSource::Expression => "expression".into(),
                    other => format!("{other:?}"),
                };
                (fixed[line_start..line_end].trim().to_string(), kind)
            })
            .collect()
    }

    fn cluster(rotation: &str) -> String {
        format!(
            "resource aks 'Microsoft.ContainerService/managedClusters@2024-01-01' = {{\n\
             properties: {{\n addonProfiles: {{\n azureKeyvaultSecretsProvider: {{\n enabled: true\n \
             config: {{\n enableSecretRotation: {rotation}\n }}\n }}\n }}\n }}\n}}\n"
        )
    }

    #[test]
    fn a_parameter_chain_lists_the_source_first_and_the_cluster_last() {
        let text = format!(
            "param enableCsi bool = false\nparam rot bool = enableCsi\n{}",
            cluster("string(rot)")
        );
        assert_eq!(
            run(&text),
            [
                (
                    "param enableCsi bool = true".into(),
                    "default enableCsi".into()
                ),
                ("param rot bool = true".into(), "default rot".into()),
                ("enableSecretRotation: 'true'".into(), "value".into()),
            ]
        );
    }

    #[test]
    fn variables_and_typed_defaults() {
        let text = format!(
            "@allowed(['False', 'True'])\nparam flag string = 'False'\nvar rot = flag\n{}",
            cluster("rot")
        );
        assert_eq!(
            run(&text),
            [
                ("param flag string = 'True'".into(), "default flag".into()),
                ("var rot = 'true'".into(), "variable rot".into()),
                ("enableSecretRotation: 'true'".into(), "value".into()),
            ]
        );
        // A literal union type that admits no spelling of true: not that default.
        let text = format!(
            "type off = 'false' | 'no'\nparam flag off = 'false'\n{}",
            cluster("flag")
        );
        assert_eq!(
            run(&text),
            [("enableSecretRotation: 'true'".into(), "value".into())]
        );
    }

    #[test]
    fn a_decided_condition_reads_the_branch_that_deploys() {
        let text = format!(
            "param env string = 'dev'\n{}",
            cluster("env == 'prod' ? 'true' : 'false'")
        );
        assert_eq!(
            run(&text),
            [
                (
                    "enableSecretRotation: env == 'prod' ? 'true' : 'true'".into(),
                    "expression".into()
                ),
                ("enableSecretRotation: 'true'".into(), "value".into()),
            ]
        );
        // With prod as the default the value passes: nothing to write.
        assert!(run(&text.replace("= 'dev'", "= 'prod'")).is_empty());
        // A condition the evaluator cannot decide (no default): no chain through it.
        let text = format!(
            "param env string\n{}",
            cluster("env == 'prod' ? 'true' : 'false'")
        );
        assert_eq!(
            run(&text),
            [("enableSecretRotation: 'true'".into(), "value".into())]
        );
    }

    #[test]
    fn coalescing_reads_the_operand_that_gives_the_value() {
        let text = format!(
            "param rot string?\nparam fallback string = 'false'\n{}",
            cluster("rot ?? fallback")
        );
        assert_eq!(
            run(&text),
            [
                (
                    "param fallback string = 'true'".into(),
                    "default fallback".into()
                ),
                (
                    "enableSecretRotation: rot ?? 'true'".into(),
                    "expression".into()
                ),
                ("enableSecretRotation: 'true'".into(), "value".into()),
            ]
        );
    }
}
