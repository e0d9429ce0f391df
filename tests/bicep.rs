//! Bicep support end to end: one snapshot per fixture in `tests/fixtures/bicep` (findings,
//! JSON Patch and diff, through the shared pipeline with its verification), idempotency,
//! byte-level style checks (tabs, CRLF, BOM, stray CR, no final newline), the command line,
//! and the shared corpus when it is present.

use crate::util::{armfix, corpus, corpus_entries, fixtures};
use armfix::lang::FileKind;
use armfix::output::present::{self, Paint};
use armfix::run::engine::{process_text, Outcome};

/// The Bicep files of `tests/fixtures/bicep`, sorted.
fn fixture_names() -> Vec<String> {
    crate::util::fixture_names("bicep")
        .into_iter()
        .filter(|n| n.ends_with(".bicep") || n.ends_with(".bicepparam"))
        .collect()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixtures("bicep").join(name)).unwrap()
}

/// Runs the pipeline on `text`; returns the analysis and the verified fixed text.
fn run(text: &str) -> (armfix::finding::Analysis, Option<String>) {
    match process_text(text.to_string(), FileKind::Bicep) {
        Outcome::Analysed {
            analysis, fixed, ..
        } => (analysis, fixed),
        Outcome::Error(e) => panic!("unexpected error: {e:?}"),
        Outcome::Skipped => panic!("unexpectedly skipped"),
    }
}

/// Findings, patch and diff of one file, with CR and BOM made visible (insta normalises
/// line endings, and a BOM does not show).
fn report(name: &str, text: &str) -> String {
    let out = match process_text(text.to_string(), FileKind::Bicep) {
        Outcome::Skipped => "skipped\n".to_string(),
        Outcome::Error(e) => format!("error: {}\n", present::error_line(name, &e)),
        Outcome::Analysed {
            original,
            analysis,
            fixed,
        } => {
            let mut out = String::new();
            for f in &analysis.findings {
                out += &format!(
                    "{}\n    at {}\n",
                    present::finding_line(name, f),
                    f.pointer.as_deref().unwrap_or_default()
                );
            }
            if analysis.findings.is_empty() {
                out += "(no findings)\n";
            }
            out += "--- patch\n";
            out += &serde_json::to_string_pretty(&analysis.patch).unwrap();
            out += "\n--- diff\n";
            out += &match fixed {
                Some(fixed) => present::diff(name, &original, &fixed, Paint(false)),
                None => "(no edits)\n".into(),
            };
            out
        }
    };
    out.replace('\r', "␍").replace('\u{feff}', "<BOM>")
}

#[test]
fn fixture_snapshots() {
    let names = fixture_names();
    assert!(names.len() >= 10, "fixtures missing: {names:?}");
    for name in names {
        let stem = match name.strip_suffix(".bicep") {
            Some(stem) => stem.to_string(),
            None => name.replace('.', "_"),
        };
        let report = report(&name, &read(&name));
        snapshot!(
            format!("bicep__{stem}"),
            report,
            description => format!("armfix on tests/fixtures/bicep/{name}")
        );
    }
}

#[test]
fn second_run_finds_nothing_to_fix() {
    let mut fixed_files = 0;
    for name in fixture_names() {
        let text = read(&name);
        let Outcome::Analysed {
            analysis, fixed, ..
        } = process_text(text, FileKind::Bicep)
        else {
            continue;
        };
        let Some(fixed) = fixed else { continue };
        fixed_files += 1;
        let (again, refixed) = run(&fixed);
        assert_eq!(again.fixable(), 0, "{name}: {:?}", again.findings);
        assert!(refixed.is_none(), "{name}: a second run changed the text");
        // A fix can settle another cluster once the template is evaluated, never unsettle one.
        assert!(again.manual() <= analysis.manual(), "{name}");
    }
    assert!(fixed_files >= 10, "only {fixed_files} fixtures were fixed");
}

#[test]
fn tabs_and_crlf_are_kept() {
    let (_, fixed) = run(&read("tabs_crlf.bicep"));
    let fixed = fixed.unwrap();
    assert!(fixed.contains(
        "\t\t\t\tenabled: true\r\n\t\t\t\tconfig: {\r\n\t\t\t\t\tenableSecretRotation: 'true'\r\n\t\t\t\t}\r\n\t\t\t}\r\n"
    ));
    assert_eq!(fixed.matches('\n').count(), fixed.matches("\r\n").count());
}

#[test]
fn bom_stray_cr_and_missing_final_newline_are_kept() {
    // The add-on on (the fixture turns it on only when `pools` is given), so there is a fix.
    let original =
        read("syntax_zoo.bicep").replace("enabled: !empty(pools)", "enabled: empty(pools)");
    let (_, fixed) = run(&original);
    let fixed = fixed.unwrap();
    assert!(fixed.starts_with('\u{feff}'));
    assert!(fixed.ends_with("'no final newline'"));
    let lone_cr = |s: &str| s.matches('\r').count() - s.matches("\r\n").count();
    assert_eq!(lone_cr(&original), 1);
    assert_eq!(lone_cr(&fixed), 1);
    assert!(fixed.contains("config: {\r\n          enableSecretRotation: 'true'\r\n        }\r\n"));
}

#[test]
fn only_the_planned_bytes_change() {
    for name in fixture_names() {
        let text = read(&name);
        let Outcome::Analysed {
            analysis,
            fixed: Some(fixed),
            ..
        } = process_text(text.clone(), FileKind::Bicep)
        else {
            continue;
        };
        // Every edit is small and the rest of the file is byte-identical.
        let added: usize = analysis.edits.iter().map(|e| e.replacement.len()).sum();
        let removed: usize = analysis.edits.iter().map(|e| e.end - e.start).sum();
        assert_eq!(fixed.len() + removed, text.len() + added, "{name}");
        let first = analysis.edits.iter().map(|e| e.start).min().unwrap();
        let last = analysis.edits.iter().map(|e| e.end).max().unwrap();
        assert_eq!(fixed[..first], text[..first], "{name}");
        assert_eq!(
            fixed[fixed.len() - (text.len() - last)..],
            text[last..],
            "{name}"
        );
    }
}

#[test]
fn a_tampered_fix_fails_verification() {
    let text = read("plain_add_config.bicep");
    let (analysis, fixed) = run(&text);
    let fixed = fixed.unwrap();
    assert!(armfix::lang::bicep::verify(&text, &analysis, &fixed).is_ok());
    // A change outside the edits, a wrong value, or text that no longer parses.
    let outside = fixed.replace("'aks-plain'", "'aks-other'");
    assert!(armfix::lang::bicep::verify(&text, &analysis, &outside).is_err());
    let wrong = fixed.replace(
        "enableSecretRotation: 'true'",
        "enableSecretRotation: 'yes'",
    );
    assert!(armfix::lang::bicep::verify(&text, &analysis, &wrong).is_err());
    let broken = fixed.replace("config: {", "config: {{");
    assert!(armfix::lang::bicep::verify(&text, &analysis, &broken).is_err());
}

#[test]
fn cli_check_fix_patch_on_bicep() {
    let dir = tempfile::tempdir().unwrap();
    let infra = dir.path().join(".azure");
    std::fs::create_dir(&infra).unwrap();
    let file = infra.join("aks.bicep");
    std::fs::write(&file, read("plain_add_config.bicep")).unwrap();
    std::fs::write(
        infra.join("storage.bicep"),
        "resource s 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 's'\n}\n",
    )
    .unwrap();

    let out = armfix()
        .args(["check", "--color", "never"])
        .arg(dir.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("aks.bicep:10:37: Azure.AKS.SecretStoreRotation: "),
        "{out}"
    );
    assert!(!out.contains("storage.bicep"), "{out}");

    let patch = armfix().arg("patch").arg(&file).assert().code(0);
    let ops: serde_json::Value = serde_json::from_slice(&patch.get_output().stdout).unwrap();
    assert_eq!(
        ops[0]["path"],
        "/resources/aks/properties/addonProfiles/azureKeyvaultSecretsProvider/config"
    );
    assert_eq!(ops[0]["value"]["enableSecretRotation"], "true");

    armfix()
        .args(["fix", "--yes", "--color", "never"])
        .arg(dir.path())
        .assert()
        .code(0);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains(
        "        enabled: true // CSI driver\n        config: {\n          enableSecretRotation: 'true'\n        }\n      }\n"
    ));
    armfix().arg("check").arg(dir.path()).assert().code(0);
}

#[test]
fn cli_errors_and_manual_review() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.bicep");
    std::fs::write(&bad, read("invalid.bicep")).unwrap();
    let err = armfix()
        .arg("check")
        .arg(&bad)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("bad.bicep:5:53: "));

    let manual = dir.path().join("manual.bicep");
    let text = read("manual_review.bicep");
    std::fs::write(&manual, &text).unwrap();
    armfix()
        .args(["fix", "--yes"])
        .arg(&manual)
        .assert()
        .code(1);
    assert_eq!(std::fs::read_to_string(&manual).unwrap(), text);
}

/// The shared corpus, when present: every Bicep file parses; each one is analysed, its fix
/// (if any) verified, and a second run finds nothing to fix.
#[test]
fn corpus_parses_and_fixes_are_stable() {
    let Some(paths) = corpus_entries("bicep") else {
        return;
    };
    let (mut parsed, mut fixed_files) = (0, 0);
    for path in paths {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "bicep" && ext != "bicepparam" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Err(e) = armfix::lang::bicep::parser::parse(&text) {
            let (l, c) = armfix::location::LineIndex::new(&text).line_col(&text, e.offset);
            panic!("{name}:{l}:{c}: {}", e.message);
        }
        parsed += 1;
        if ext != "bicep" {
            continue;
        }
        let (analysis, fixed) = run(&text);
        if let Some(fixed) = fixed {
            fixed_files += 1;
            let (again, refixed) = run(&fixed);
            assert_eq!(again.fixable(), 0, "{name}");
            assert!(refixed.is_none(), "{name}");
            // A fix can settle another cluster once the template is evaluated, never unsettle one.
            assert!(again.manual() <= analysis.manual(), "{name}");
        }
        eprintln!(
            "{name}: {} fixable, {} manual review",
            analysis.fixable(),
            analysis.manual()
        );
    }
    assert!(
        parsed > 0,
        "no Bicep files in {}",
        corpus("bicep").display()
    );
    assert!(fixed_files > 0, "nothing in the corpus was fixed");
}

/// The shared corpus, when present: a Bicep module and the ARM template compiled from it get
/// the same verdict, fixed at the same source (conditionals, `union()` and parameters are
/// followed alike).
#[test]
fn corpus_twins_agree() {
    let twins = [
        (
            "Azure__bicep-registry-modules__avm__res__container-service__managed-cluster__main.bicep",
            "Azure__bicep-registry-modules__avm__res__container-service__managed-cluster__main.json",
        ),
        (
            "Azure__ResourceModules__modules__container-service__managed-cluster__main.bicep",
            "Azure__ResourceModules__modules__container-service__managed-cluster__main.json",
        ),
        (
            "Azure__AKS-Construction__bicep__main.bicep",
            "Azure__AKS-Construction__samples__SampleAppMain.json",
        ),
    ];
    let mut compared = 0;
    for (bicep, arm) in twins {
        let (Ok(b), Ok(a)) = (
            std::fs::read_to_string(corpus("bicep").join(bicep)),
            std::fs::read_to_string(corpus("arm").join(arm)),
        ) else {
            eprintln!("skipped: {bicep} or {arm} is absent");
            continue;
        };
        let summary = |text: String, kind: FileKind| match process_text(text, kind) {
            Outcome::Analysed { analysis, .. } => {
                let sources: Vec<_> = analysis.findings.iter().map(|f| f.source.clone()).collect();
                (analysis.fixable(), analysis.manual(), sources)
            }
            _ => panic!("{bicep}/{arm}: not analysed"),
        };
        assert_eq!(
            summary(b, FileKind::Bicep),
            summary(a, FileKind::Json),
            "{bicep} and {arm} disagree"
        );
        compared += 1;
    }
    eprintln!("{compared} twins compared");
}

/// Truncated and corrupted input is an error or an analysis, never a panic; any fix planned
/// on it still verifies or is refused.
#[test]
fn damaged_input_never_panics() {
    // (text, how many cuts): fixtures finely, the larger corpus files coarsely.
    let mut texts: Vec<(String, usize)> = fixture_names().iter().map(|n| (read(n), 150)).collect();
    let corpus = corpus("bicep");
    if let Ok(entries) = std::fs::read_dir(corpus) {
        for e in entries {
            texts.push((std::fs::read_to_string(e.unwrap().path()).unwrap(), 10));
        }
    }
    let mut analysed = 0;
    for (text, cuts) in &texts {
        let step = (text.len() / cuts).max(1);
        for cut in (0..text.len()).step_by(step) {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let next = text[cut..]
                .chars()
                .next()
                .map_or(cut, |c| cut + c.len_utf8());
            for damaged in [
                text[..cut].to_string(),
                format!("{}{}", &text[..cut], &text[next..]),
                format!("{}'{{[(", &text[..cut]),
            ] {
                if let Outcome::Analysed { .. } = process_text(damaged, FileKind::Bicep) {
                    analysed += 1;
                }
            }
        }
    }
    assert!(analysed > 0);
}

// ---------------------------------------------------------------------------------------
// Found by using armfix on a platform team's tree (issue 14's run-through).

/// Messages spell values as the file does: a Bicep finding says 'false', never the JSON
/// "false". A cluster in a local module, whose rotation a caller parameter feeds, is
/// described by the deploy-time proof (src/run/prove.rs `describe_fails`), which spells the
/// evaluated value as the file's language does (`FileKind::spell`).
#[test]
fn a_module_clusters_message_spells_values_as_bicep_does() {
    let d = tempfile::tempdir().unwrap();
    crate::util::write(
        d.path(),
        "modules/aks.bicep",
        "param name string\nparam rotation string = 'true'\n\nresource aks 'Microsoft.ContainerService/managedClusters@2023-01-01' = {\n  name: name\n  location: resourceGroup().location\n  properties: {\n    addonProfiles: {\n      azureKeyvaultSecretsProvider: {\n        enabled: true\n        config: {\n          enableSecretRotation: rotation\n        }\n      }\n    }\n  }\n}\n",
    );
    crate::util::write(
        d.path(),
        "main.bicep",
        "param rotation string = 'false'\n\nmodule aks './modules/aks.bicep' = {\n  name: 'aks'\n  params: {\n    name: 'aks-bicep'\n    rotation: rotation\n  }\n}\n",
    );
    let r = crate::util::run(d.path(), &["check", "--color", "never", "main.bicep"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("main.bicep:"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("\"false\"") && !r.stdout.contains("\"true\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("'false'") && r.stdout.contains("must be 'true'"),
        "{}",
        r.stdout
    );
}

/// A local module call that does not pass the callee's rotation parameter, whose default
/// fails: the finding is on the call's `params` object (not at the insertion point), names
/// every cluster of the call that fails (each iteration of a loop), spells the argument as
/// the callee's `@allowed` admits, and the fix leaves nothing to find. A call whose cluster
/// passes (the add-on off) gets nothing.
#[test]
fn a_missing_module_argument_is_reported_on_the_call() {
    use crate::util::{json, run as run_in, temp_repo_copy};
    let dir = temp_repo_copy(&fixtures("bicep").join("module-missing-argument"));
    let r = run_in(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let doc = json(&r.stdout);
    let main = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "main.bicep")
        .expect("main.bicep reported");
    let at: Vec<(u64, u64, &str)> = main["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["start"]["line"].as_u64().unwrap(),
                f["start"]["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(at.len(), 2, "{at:?}");
    // `params: {` of `on` (line 11) and of `regions` (line 16), at the `{`.
    assert_eq!((at[0].0, at[0].1), (11, 11), "{at:?}");
    assert_eq!((at[1].0, at[1].1), (16, 11), "{at:?}");
    assert!(at[0].2.contains("`aks-on`"), "{}", at[0].2);
    assert!(
        at[1].2.contains("`aks-weu`") && at[1].2.contains("`aks-neu`"),
        "{}",
        at[1].2
    );
    assert!(!at[1].2.contains("aks-swc"), "the add-on is off there");
    let r = run_in(dir.path(), &["fix", "--yes", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let text = std::fs::read_to_string(dir.path().join("main.bicep")).unwrap();
    assert!(
        text.contains("params: { name: 'aks-on', csi: true, rotation: 'True' }"),
        "{text}"
    );
    assert_eq!(text.matches("rotation: 'True'").count(), 2, "{text}");
    assert_eq!(run_in(dir.path(), &["check", "."]).code, 0);
}
