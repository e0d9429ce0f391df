//! The prefilter must never skip a file that needs a fix: every file of the shared corpus
//! (`../shared/corpus`, skipped when absent) in which the full pipeline, run without the
//! prefilter, finds a finding must pass the prefilter. Fixtures written here cover the
//! spellings the corpus may lack (any case, escaped letters, UTF-8 BOM).

use crate::util::{corpus, SCHEMA};
use armfix::lang::FileKind;
use armfix::run::read;
use std::path::{Path, PathBuf};

/// Findings of the full pipeline on `bytes`, bypassing the prefilter.
fn findings(bytes: &[u8], kind: FileKind) -> usize {
    let Ok(text) = read::decode(bytes.to_vec()) else {
        return 0;
    };
    match kind.analyze(&text, &Default::default()) {
        Ok(Some(a)) => a.findings.len(),
        _ => 0,
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.file_name().is_some_and(|n| n != "SOURCES.md") {
            out.push(p);
        }
    }
}

#[test]
fn corpus_files_with_findings_pass_the_prefilter() {
    let corpus = corpus("");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let mut paths = Vec::new();
    files(&corpus, &mut paths);
    paths.sort();
    let (mut with_findings, mut skipped) = (0, Vec::new());
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let kind = FileKind::of_explicit(path);
        if findings(&bytes, kind) > 0 {
            with_findings += 1;
            if !kind.may_concern(&bytes) {
                skipped.push(path.display().to_string());
            }
        }
    }
    eprintln!(
        "{} corpus files, {with_findings} with findings",
        paths.len()
    );
    assert!(
        skipped.is_empty(),
        "the prefilter skips files that need a fix: {skipped:?}"
    );
    // The corpus is there to exercise this: it must hold files with findings.
    assert!(with_findings > 0, "no corpus file has a finding");
}

fn template(ty: &str) -> String {
    format!(
        r#"{{"$schema": "{SCHEMA}", "resources": [{{"type": "{ty}", "properties":
            {{"addonProfiles": {{"azureKeyvaultSecretsProvider": {{"enabled": true}}}}}}}}]}}"#
    )
}

#[test]
fn spellings_of_the_type_pass_the_prefilter() {
    let kind = FileKind::Json;
    let spellings = [
        "Microsoft.ContainerService/managedClusters",
        "microsoft.containerservice/MANAGEDCLUSTERS",
        "Microsoft.ContainerService/mAnAgEdClUsTeRs",
        r"Microsoft.ContainerService/managed\u0043lusters",
        r"Microsoft.ContainerService/\u006d\u0061\u006E\u0061gedClusters",
    ];
    for ty in spellings {
        for text in [template(ty), format!("\u{feff}{}", template(ty))] {
            let bytes = text.as_bytes();
            assert_eq!(findings(bytes, kind), 1, "{ty}: the pipeline must find it");
            assert!(kind.may_concern(bytes), "{ty}: skipped by the prefilter");
        }
    }
    // And the prefilter does skip a template without clusters.
    let other = template("Microsoft.Storage/storageAccounts");
    assert_eq!(findings(other.as_bytes(), kind), 0);
    assert!(!kind.may_concern(other.as_bytes()));
}
