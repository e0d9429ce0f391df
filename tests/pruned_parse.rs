//! The planner parses templates without the `properties` of resources the rule never reads
//! (`arm::parse`). Its analysis must be exactly the one made on the full tree: same
//! findings, patch and edits, same errors. Checked on the shared corpus (when present) and
//! on fixtures written here that put `type` before and after `properties`, nest deployments
//! and use languageVersion 2.0 symbolic names.

use crate::util::{corpus_entries, SCHEMA};
use armfix::lang::arm::{jsonc, plan, template as arm};

fn full_analysis(text: &str) -> Result<Option<armfix::finding::Analysis>, String> {
    let root = jsonc::parse(text).map_err(|e| format!("{} at {}", e.message, e.offset))?;
    if !arm::is_template(&root) {
        return Ok(None);
    }
    plan::analyze_template(text, &root, &plan::Options::default())
        .map(Some)
        .map_err(|e| format!("{} at {}", e.message, e.offset))
}

fn pruned_analysis(text: &str) -> Result<Option<armfix::finding::Analysis>, String> {
    plan::analyze(text, &plan::Options::default())
        .map_err(|e| format!("{} at {}", e.message, e.offset))
}

fn cluster(first: bool) -> String {
    let t = r#""type": "Microsoft.ContainerService/managedClusters""#;
    let p =
        r#""properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true}}}"#;
    if first {
        format!("{{{t}, \"name\": \"a\", {p}}}")
    } else {
        format!("{{\"name\": \"a\", {p}, {t}}}")
    }
}

fn fixtures() -> Vec<String> {
    let storage = r#"{"type": "Microsoft.Storage/storageAccounts", "properties": {"x": [1, {"type": "Microsoft.ContainerService/managedClusters"}]}}"#;
    let inner = format!(
        r#"{{"$schema": "{SCHEMA}", "resources": [{storage}, {}, {}]}}"#,
        cluster(true),
        cluster(false)
    );
    let deployment = format!(
        r#"{{"type": "Microsoft.Resources/deployments", "name": "d", "properties": {{"template": {inner}}}}}"#
    );
    let deployment_type_last = format!(
        r#"{{"name": "d", "properties": {{"template": {inner}}}, "type": "Microsoft.Resources/deployments"}}"#
    );
    vec![
        inner.clone(),
        format!(
            r#"{{"$schema": "{SCHEMA}", "resources": [{storage}, {deployment}, {deployment_type_last}]}}"#
        ),
        format!(
            r#"{{"$schema": "{SCHEMA}", "languageVersion": "2.0", "resources": {{"s": {storage}, "c": {}, "d": {deployment}}}}}"#,
            cluster(true)
        ),
        // Duplicate `type` keys are ambiguous, with or without pruning.
        format!(
            r#"{{"$schema": "{SCHEMA}", "resources": [{{"type": "x", "properties": {{}}, "Type": "Microsoft.ContainerService/managedClusters"}}]}}"#
        ),
        // Invalid JSON inside a pruned value: the same error at the same offset.
        format!(
            r#"{{"$schema": "{SCHEMA}", "resources": [{{"type": "x", "properties": {{"a": 1,}}}}]}}"#
        ),
        // A variable that looks like a resource under a key named `resources` elsewhere.
        format!(
            r#"{{"$schema": "{SCHEMA}", "variables": {{"resources": [{storage}]}}, "resources": [{}]}}"#,
            cluster(false)
        ),
    ]
}

#[test]
fn pruned_analysis_equals_full_analysis_on_fixtures() {
    let mut findings = 0;
    for text in fixtures() {
        let full = full_analysis(&text);
        assert_eq!(pruned_analysis(&text), full, "{text}");
        findings += full.ok().flatten().map_or(0, |a| a.findings.len());
    }
    assert!(
        findings >= 8,
        "the fixtures must exercise the rule ({findings} findings)"
    );
}

#[test]
fn pruned_analysis_equals_full_analysis_on_the_corpus() {
    let Some(paths) = corpus_entries("arm") else {
        return;
    };
    let mut compared = 0;
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        assert_eq!(
            pruned_analysis(&text),
            full_analysis(&text),
            "{}",
            path.display()
        );
        compared += 1;
    }
    assert!(compared > 0);
}
