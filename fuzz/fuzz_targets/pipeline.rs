//! The whole per-file pipeline (decode, parse, find clusters, decide, plan, render the
//! edits, verify) on arbitrary input. The first byte picks where the rest goes: the whole
//! file, or spliced into a template at the add-on, the cluster or the resources array, so
//! that mutations reach the rule and the renderer instead of dying in the parser.
//!
//! Oracles: no panic; no "internal error" (a rendered fix that failed verification is a
//! bug in the renderer, even though armfix would safely refuse to write it); a fix must
//! parse, touch only bytes inside its edits, pass the rule, and a second run on it must
//! find nothing and change nothing.
#![no_main]

use armfix::run::engine::{self, Outcome};
use armfix::lang::FileKind;
use libfuzzer_sys::fuzz_target;

const HEAD: &str = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": ["#;

fn splice(mode: u8, rest: &str) -> String {
    match mode % 4 {
        0 => rest.to_string(),
        1 => format!(
            "{HEAD}{{\"type\": \"Microsoft.ContainerService/managedClusters\", \"properties\": {{\"addonProfiles\": {{\"azureKeyvaultSecretsProvider\": {rest}}}}}}}]}}"
        ),
        2 => format!(
            "{HEAD}{{\"type\": \"Microsoft.ContainerService/managedClusters\", {rest}}}]}}"
        ),
        _ => format!("{HEAD}{rest}]}}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let outcome = match std::str::from_utf8(rest) {
        Ok(rest) => engine::process_text(splice(mode, rest), FileKind::Json),
        // Not UTF-8: the byte path (marker search, decoding errors).
        Err(_) => engine::process_bytes(rest.to_vec(), FileKind::Json),
    };
    match outcome {
        Outcome::Error(e) => assert!(!e.message.contains("internal error"), "{e:?}"),
        Outcome::Skipped => {}
        Outcome::Analysed {
            original,
            analysis,
            fixed,
        } => {
            let Some(fixed) = fixed else {
                assert!(analysis.edits.is_empty());
                assert_eq!(analysis.fixable(), 0);
                return;
            };
            assert_eq!(
                armfix::edit::apply(&original, &analysis.edits).as_ref(),
                Ok(&fixed)
            );
            match engine::process_text(fixed.clone(), FileKind::Json) {
                Outcome::Analysed {
                    analysis: again,
                    fixed: None,
                    ..
                } => {
                    assert_eq!(again.fixable(), 0);
                    assert_eq!(again.manual(), analysis.manual());
                }
                other => panic!("second run is not a no-op: {other:?}\n{fixed}"),
            }
        }
    }
});
