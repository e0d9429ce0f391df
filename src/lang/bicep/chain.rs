//! Turns the provenance of a cluster's rotation value ([`crate::eval::bicep_origin`]) into
//! the fixes the deploy-time proof tries, in its order: the place where the value is written
//! first, then each place it passes closer to the cluster, the cluster's own value last. Each
//! place gets the edit that writes true there, spelled as that place is typed: `true` where
//! the value is a bool, `'true'` where it is a string; at a parameter's default, the first of
//! `true`, `'true'`, `'True'`, `'TRUE'` its declared type (literal union type, `@allowed`,
//! alias) admits, or nothing when it admits none. A place whose value already passes, and the
//! argument of a value-preserving wrapper (the wrapper itself is the place), are skipped. For
//! a local module call (`/resources/<module name>`), the chain is that of the argument the
//! call passes for the callee parameter its cluster reads, ending at that argument (spelled as
//! the callee declares the parameter).

use super::ast::{Doc, Kind, NodeId};
use crate::edit::Edit;
use crate::eval::bicep::{ModuleSource, Probe};
use crate::eval::bicep_origin::{rotation_places, BicepTree, Handle, Place};
use crate::eval::provenance::Hop;
use crate::eval::Value;
use crate::finding::FixSource;
use crate::rule::{self, Lookup};

/// The proof's candidates along the chain of the cluster at `cluster` (see the module doc).
pub(crate) fn candidates(doc: &Doc, text: &str, cluster: &str) -> Vec<(Edit, FixSource)> {
    let call = module_call(doc, cluster).and_then(|i| module_places(doc, text, i));
    let (places, locals, argument) = match call {
        Some((places, locals, argument)) => (places, locals, Some(argument)),
        None => {
            let (places, locals) = rotation_places(doc, text, cluster);
            (places, locals, None)
        }
    };
    let probe = Probe::new(doc, text);
    let mut out: Vec<(Edit, FixSource)> = Vec::new();
    for (i, (place, _)) in places.iter().enumerate() {
        // The argument of `string(x)`: the wrapper, the next place, is written instead.
        if matches!(places.get(i + 1), Some((_, Some(Hop::Wrapper(_))))) {
            continue;
        }
        let id = place.id;
        let passed = argument.as_ref().filter(|a| a.node == id);
        let spelled = match passed {
            // The call's own argument: spelled as the callee's parameter admits.
            Some(a) => callee_spelling(doc, &probe, a, &locals),
            None => spelling(doc, &probe, id, &locals),
        };
        let Some(spelled) = spelled else {
            continue;
        };
        let span = doc.node(id).span;
        let edit = Edit::replace(span.start, span.end, spelled);
        if out.iter().any(|(e, _)| *e == edit) {
            continue;
        }
        let source = match passed {
            Some(a) => FixSource::DeploymentParameter {
                name: a.name.clone(),
            },
            None => source_of(doc, id),
        };
        out.push((edit, source));
    }
    out
}

/// The argument a local module call passes for the callee parameter its cluster reads as
/// its rotation value.
struct Argument {
    node: NodeId,
    name: String,
    callee: Doc,
    callee_text: String,
}

/// The module call a cluster pointer names (`/resources/<module name>`), when no resource
/// has that name.
fn module_call(doc: &Doc, cluster: &str) -> Option<usize> {
    let name = cluster
        .strip_prefix("/resources/")?
        .replace("~1", "/")
        .replace("~0", "~");
    if (0..doc.resources.len()).any(|i| doc.symbolic_name(i) == name) {
        return None;
    }
    doc.modules.iter().position(|m| m.name == name)
}

/// The chain of a local module call's cluster, in the caller: from where the argument the
/// call passes for the callee's rotation parameter is written, to that argument.
#[allow(clippy::type_complexity)]
fn module_places(
    doc: &Doc,
    text: &str,
    call: usize,
) -> Option<(Vec<(Place, Option<Hop>)>, Vec<String>, Argument)> {
    let m = &doc.modules[call];
    if !super::plan::is_local_module(&m.target) {
        return None;
    }
    let modules = super::Modules {
        dir: super::modules::analysed_folder(),
        replaced: None,
    };
    let (callee, callee_text) = ModuleSource::load(&modules, &m.target)?;
    let (body, locals) = super::plan::unwrap_body(doc, m.body);
    let tree = BicepTree::new(doc, text, locals.clone());
    let Lookup::Found(_, params) = rule::Tree::get(&tree, Handle::new(body), "params") else {
        return None;
    };
    for r in &callee.resources {
        if r.existing || !r.type_name().eq_ignore_ascii_case(rule::CLUSTER_TYPE) {
            continue;
        }
        let (cbody, clocals) = super::plan::unwrap_body(&callee, r.body);
        let ctree = BicepTree::new(&callee, &callee_text, clocals);
        for value in super::plan::rotation_values(&ctree, Handle::new(cbody)) {
            let Some(name) = super::plan::parameters_read(&ctree, value)
                .into_iter()
                .next()
            else {
                continue;
            };
            // Bicep matches argument names exactly.
            let Lookup::Found(key, arg) = rule::Tree::get(&tree, params, &name) else {
                continue;
            };
            if key != name || arg.undecided {
                continue;
            }
            let (id, chain) = tree.origin(arg);
            let mut places = chain.places(Place { id });
            if places.last().is_none_or(|(p, _)| p.id != arg.id) {
                places.push((Place { id: arg.id }, None));
            }
            let argument = Argument {
                node: arg.id,
                name,
                callee: callee.clone(),
                callee_text: callee_text.clone(),
            };
            return Some((places, locals, argument));
        }
    }
    None
}

/// How true is written as the call's argument `a`: the first spelling the callee's
/// parameter admits, bool first where the value is a bool; `None` when it passes already.
fn callee_spelling(
    doc: &Doc,
    probe: &Probe,
    a: &Argument,
    locals: &[String],
) -> Option<&'static str> {
    let now = probe.value(a.node, locals);
    if matches!(&now, Value::Bool(true))
        || matches!(&now, Value::Str(s) if s.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    let boolean = matches!(now, Value::Bool(_)) || matches!(doc.node(a.node).kind, Kind::Bool(_));
    let callee = Probe::new(&a.callee, &a.callee_text);
    let mut order = vec![
        ("'true'", Value::Str("true".into())),
        ("true", Value::Bool(true)),
        ("'True'", Value::Str("True".into())),
        ("'TRUE'", Value::Str("TRUE".into())),
    ];
    if boolean {
        order.swap(0, 1);
    }
    order
        .into_iter()
        .find(|(_, v)| callee.parameter_admits(&a.name, v) != Some(false))
        .map(|(s, _)| s)
}

/// How true is written at node `id`: `None` when its value passes already or is an object
/// or array, or when the parameter whose default it is admits no spelling of true.
fn spelling(doc: &Doc, probe: &Probe, id: NodeId, locals: &[String]) -> Option<&'static str> {
    let now = probe.value(id, locals);
    let passes = match &now {
        Value::Bool(b) => *b,
        Value::Str(s) => s.eq_ignore_ascii_case("true"),
        // An object or array is no place for a scalar.
        Value::Object(_) | Value::Array(_) => true,
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

    /// `'${rot}'` is `string(rot)` written as an interpolation: the same chain, however the
    /// hole is spaced; an interpolation with more than one identifier is only the value.
    #[test]
    fn an_interpolation_of_one_identifier_is_followed_like_string() {
        let chain = |rotation: &str| {
            run(&format!(
                "param enableCsi bool = false\nparam rot bool = enableCsi\nvar v = {rotation}\n{}",
                cluster("v")
            ))
        };
        let expected = |own: &str| -> Vec<(String, String)> {
            vec![
                (
                    "param enableCsi bool = true".into(),
                    "default enableCsi".into(),
                ),
                ("param rot bool = true".into(), "default rot".into()),
                ("var v = 'true'".into(), "variable v".into()),
                (own.into(), "value".into()),
            ]
        };
        assert_eq!(
            chain("string(rot)"),
            expected("enableSecretRotation: 'true'")
        );
        assert_eq!(chain("'${rot}'"), expected("enableSecretRotation: 'true'"));
        assert_eq!(
            chain("'${ rot }'"),
            expected("enableSecretRotation: 'true'")
        );
        assert_eq!(
            chain("toLower('${rot}')"),
            expected("enableSecretRotation: 'true'")
        );
        for not_one in [
            "'x${rot}'",
            "'${rot}${rot}'",
            "'${rot.x}'",
            "'${rot || false}'",
        ] {
            assert_eq!(
                chain(not_one),
                [
                    ("var v = 'true'".into(), "variable v".into()),
                    ("enableSecretRotation: 'true'".into(), "value".into())
                ],
                "{not_one}"
            );
        }
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
        // An object is no place for a scalar: not offered.
        let text = format!("var cfg = {{\n a: 1\n}}\n{}", cluster("cfg"));
        assert!(run(&text).is_empty());
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

    #[test]
    fn a_local_module_call_is_followed_to_where_its_argument_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("modules")).unwrap();
        std::fs::write(
            dir.path().join("modules/aks.bicep"),
            format!(
                "@allowed(['False', 'True'])\nparam rot string = 'True'\n{}",
                cluster("rot")
            ),
        )
        .unwrap();
        let main = dir.path().join("main.bicep");
        let text = "param rotation string = 'False'\nvar passed = rotation\nmodule aks './modules/aks.bicep' = {\n name: 'aks'\n params: {\n rot: passed\n }\n}\n";
        let got = super::super::modules::analysing(Some(&main), || run(text));
        assert_eq!(
            got,
            [
                (
                    "param rotation string = 'true'".into(),
                    "default rotation".into()
                ),
                ("var passed = 'true'".into(), "variable passed".into()),
                (
                    "rot: 'True'".into(),
                    "DeploymentParameter { name: \"rot\" }".into()
                ),
            ],
            "the call's own argument is spelled as the callee's @allowed admits"
        );
        // Without the callee on disk there is no chain.
        assert!(run(text).is_empty());
    }

    #[test]
    fn mutated_files_plan_and_chain_without_panicking() {
        // Every edit of a file of conditions, unions and chains that still parses is planned
        // and its clusters' chains are followed, without a panic or a stack overflow.
        let text = include_str!("../../../tests/fixtures/bicep/union_forms.bicep");
        let mut planned = 0;
        for i in (0..text.len()).step_by(13) {
            let Some(j) = (i + 1..=text.len()).find(|j| text.is_char_boundary(*j)) else {
                continue;
            };
            if !text.is_char_boundary(i) {
                continue;
            }
            for edit in ["", "(", "?", "!", "??", ".?a", "}"] {
                let mutated = format!("{}{edit}{}", &text[..i], &text[j..]);
                let Ok(doc) = parse(&mutated) else { continue };
                let _ = crate::lang::bicep::plan::plan(&mutated, &doc);
                for r in 0..doc.resources.len() {
                    let _ = candidates(
                        &doc,
                        &mutated,
                        &format!("/resources/{}", doc.symbolic_name(r)),
                    );
                }
                planned += 1;
            }
        }
        assert!(planned > 300, "{planned}");
    }
}
