//! `--format sarif`: applying a log's replacements reproduces `fix --yes` byte for byte (on
//! every fixture set, and on the shared corpus when present), its regions point where they
//! should, it has the fields GitHub code scanning requires, and it passes Microsoft's SARIF
//! Multitool when that can be had.

use crate::util::{corpus, fixtures, json, read, run, temp_repo_copy, tree};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Decodes a relative SARIF URI back to a path.
fn decode_uri(uri: &str) -> String {
    let b = uri.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&uri[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Applies every replacement of a SARIF log (by byteOffset/byteLength) to the files under
/// `root`, and returns how many replacements there were.
fn apply_sarif(log: &Value, root: &Path) -> usize {
    let mut by_file: std::collections::BTreeMap<String, Vec<(usize, usize, String)>> =
        Default::default();
    for result in log["runs"][0]["results"].as_array().unwrap() {
        for fix in result["fixes"].as_array().into_iter().flatten() {
            for change in fix["artifactChanges"].as_array().unwrap() {
                let loc = &change["artifactLocation"];
                assert_eq!(loc["uriBaseId"], "%SRCROOT%");
                let path = decode_uri(loc["uri"].as_str().unwrap());
                for r in change["replacements"].as_array().unwrap() {
                    let region = &r["deletedRegion"];
                    by_file.entry(path.clone()).or_default().push((
                        region["byteOffset"].as_u64().unwrap() as usize,
                        region["byteLength"].as_u64().unwrap() as usize,
                        r["insertedContent"]["text"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    let mut count = 0;
    for (path, mut reps) in by_file {
        let file = root.join(&path);
        let original = std::fs::read(&file).unwrap();
        reps.sort_by_key(|r| r.0);
        for w in reps.windows(2) {
            assert!(
                w[0].0 + w[0].1 < w[1].0,
                "{path}: replacements overlap or touch, so their order would matter: {w:?}"
            );
        }
        let mut bytes = original.clone();
        for (offset, length, text) in reps.iter().rev() {
            bytes.splice(offset..&(offset + length), text.bytes());
        }
        count += reps.len();
        std::fs::write(&file, bytes).unwrap();
    }
    count
}

/// Checks that every region's line/column agrees with its byte offset in the file.
fn check_regions(log: &Value, root: &Path) {
    let mut regions = Vec::new();
    for result in log["runs"][0]["results"].as_array().unwrap() {
        let loc = &result["locations"][0]["physicalLocation"];
        regions.push((
            loc["artifactLocation"]["uri"].clone(),
            loc["region"].clone(),
        ));
        for fix in result["fixes"].as_array().into_iter().flatten() {
            for change in fix["artifactChanges"].as_array().unwrap() {
                for r in change["replacements"].as_array().unwrap() {
                    regions.push((
                        change["artifactLocation"]["uri"].clone(),
                        r["deletedRegion"].clone(),
                    ));
                }
            }
        }
    }
    for (uri, region) in regions {
        let text = read(root.join(decode_uri(uri.as_str().unwrap())));
        let start = region["byteOffset"].as_u64().unwrap() as usize;
        let end = start + region["byteLength"].as_u64().unwrap() as usize;
        let (l, c) = crate::util::line_col(&text, start);
        assert_eq!(
            (region["startLine"].as_u64(), region["startColumn"].as_u64()),
            (Some(l as u64), Some(c as u64)),
            "{uri} {region}"
        );
        let (l, c) = crate::util::line_col(&text, end);
        assert_eq!(
            (region["endLine"].as_u64(), region["endColumn"].as_u64()),
            (Some(l as u64), Some(c as u64)),
            "{uri} {region}"
        );
    }
}

/// Every fixture folder (and every single-file fixture of `arm/`), as separate runs.
fn round_trip_sets() -> Vec<PathBuf> {
    let mut sets = vec![fixtures("formats")];
    for group in ["arm", "trace"] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(fixtures(group))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        sets.extend(entries);
    }
    sets.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"));
    sets
}

#[test]
fn sarif_fixes_reproduce_fix_yes_byte_for_byte() {
    let mut replacements = 0;
    let mut files_changed = 0;
    for set in round_trip_sets() {
        let from_sarif = temp_repo_copy(&set);
        let r = run(from_sarif.path(), &["check", "--format", "sarif"]);
        assert!(r.code <= 2, "{}: {}", set.display(), r.stderr);
        let log = json(&r.stdout);
        check_regions(&log, from_sarif.path());
        let by_fix = temp_repo_copy(&set);
        let r = run(by_fix.path(), &["fix", "--yes"]);
        assert!(!r.stderr.contains("not written"), "{}", r.stderr);
        let before = tree(from_sarif.path());
        replacements += apply_sarif(&log, from_sarif.path());
        let after = tree(from_sarif.path());
        files_changed += before.iter().zip(&after).filter(|(a, b)| a != b).count();
        let expected = tree(by_fix.path());
        for ((path, got), (_, want)) in after.iter().zip(&expected) {
            assert_eq!(
                String::from_utf8_lossy(got),
                String::from_utf8_lossy(want),
                "{}: {path}",
                set.display()
            );
        }
        assert_eq!(after.len(), expected.len());
    }
    assert!(replacements > 40, "{replacements} replacements");
    assert!(files_changed > 30, "{files_changed} files changed");
}

/// The shared corpus of real templates, when it is there.
fn arm_corpus() -> Option<PathBuf> {
    let p = corpus("arm");
    p.is_dir().then_some(p)
}

#[test]
fn sarif_round_trip_on_the_corpus() {
    let Some(corpus) = arm_corpus() else {
        eprintln!("SKIPPED sarif_round_trip_on_the_corpus: ../shared/corpus/arm is absent");
        return;
    };
    let from_sarif = temp_repo_copy(&corpus);
    let r = run(from_sarif.path(), &["check", "--format", "sarif"]);
    assert!(r.code <= 1, "{}", r.stderr);
    let log = json(&r.stdout);
    check_regions(&log, from_sarif.path());
    let by_fix = temp_repo_copy(&corpus);
    let r = run(by_fix.path(), &["fix", "--yes"]);
    assert!(r.code <= 1, "{}", r.stderr);
    let replacements = apply_sarif(&log, from_sarif.path());
    assert!(replacements > 0);
    assert!(
        tree(from_sarif.path()) == tree(by_fix.path()),
        "SARIF fixes differ from fix --yes"
    );
    let results = log["runs"][0]["results"].as_array().unwrap().len();
    eprintln!("corpus: {results} results, {replacements} replacements reproduce fix --yes");
}

#[test]
fn sarif_has_the_fields_code_scanning_requires() {
    let d = temp_repo_copy(&fixtures("formats"));
    let r = run(d.path(), &["check", "--format", "sarif"]);
    assert_eq!(r.code, 2);
    let log = json(&r.stdout);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run0 = &runs[0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "armfix");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    assert_eq!(rule["id"], "Azure.AKS.SecretStoreRotation");
    assert!(rule["name"].is_string());
    assert!(rule["shortDescription"]["text"].is_string());
    assert!(rule["fullDescription"]["text"].is_string());
    assert_eq!(
        rule["helpUri"],
        "https://azure.github.io/PSRule.Rules.Azure/en/rules/Azure.AKS.SecretStoreRotation/"
    );
    assert_eq!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", d.path().display())
    );
    let artifacts = run0["artifacts"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    let mut with_fixes = Vec::new();
    for r in results {
        assert_eq!(r["ruleId"], "Azure.AKS.SecretStoreRotation");
        assert_eq!(r["ruleIndex"], 0);
        assert!(matches!(r["level"].as_str(), Some("warning")));
        assert!(r["message"]["text"].as_str().unwrap().ends_with('.'));
        let loc = &r["locations"][0]["physicalLocation"];
        let index = loc["artifactLocation"]["index"].as_u64().unwrap() as usize;
        assert_eq!(
            artifacts[index]["location"]["uri"],
            loc["artifactLocation"]["uri"]
        );
        let region = &loc["region"];
        for k in [
            "startLine",
            "startColumn",
            "endLine",
            "endColumn",
            "byteOffset",
            "byteLength",
        ] {
            assert!(region[k].as_u64().is_some(), "{k} in {region}");
        }
        if r["properties"]["heldBack"] == true {
            assert!(
                r.get("fixes").is_none(),
                "an unsafe fix held back has no fixes"
            );
            assert_eq!(r["properties"]["applicability"], "unsafe");
            assert_eq!(r["properties"]["sideEffects"].as_array().unwrap().len(), 2);
            let text = r["message"]["text"].as_str().unwrap();
            assert!(
                text.contains("The fix is unsafe, so it is held back"),
                "{text}"
            );
            assert!(text.contains("`properties.allowSharedKeyAccess`"), "{text}");
        }
        if let Some(fixes) = r["fixes"].as_array() {
            assert_eq!(
                r["properties"]["remedy"], "fix",
                "only fixable results carry fixes"
            );
            assert_eq!(r["properties"]["heldBack"], false);
            assert_eq!(fixes[0]["properties"]["applicability"], "safe");
            assert!(fixes[0]["description"]["text"].is_string());
            with_fixes.push(loc["artifactLocation"]["uri"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        with_fixes,
        [
            "crlf-bom.json",
            "infra/main.json",
            "infra/main.parameters.json",
            "unsafe/azuredeploy.json"
        ],
        "each changed file's edits are attached once, to its first result they fix"
    );
    let notes = run0["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "error");
    let region = &notes[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(4), Some(78))
    );
}

/// The Multitool's binary: `$ARMFIX_SARIF_MULTITOOL`, or an npm install under target/.
/// `Err` says why it cannot be had.
fn multitool() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ARMFIX_SARIF_MULTITOOL") {
        return Ok(PathBuf::from(p));
    }
    if std::env::var_os("ARMFIX_SKIP_SARIF_MULTITOOL").is_some() {
        return Err("ARMFIX_SKIP_SARIF_MULTITOOL is set".into());
    }
    let platform = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "win32",
        other => return Err(format!("no Multitool package for {other}")),
    };
    let exe = if platform == "win32" {
        "Sarif.Multitool.exe"
    } else {
        "Sarif.Multitool"
    };
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sarif-multitool");
    let binary = prefix
        .join("node_modules/@microsoft")
        .join(format!("sarif-multitool-{platform}"))
        .join(exe);
    if !binary.exists() {
        std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
        let mut child = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg("@microsoft/sarif-multitool@5")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("npm is not available ({e})"))?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
        loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) if status.success() => break,
                Some(status) => return Err(format!("npm install failed ({status})")),
                None if std::time::Instant::now() > deadline => {
                    let _ = child.kill();
                    return Err("npm install took more than 4 minutes".into());
                }
                None => std::thread::sleep(std::time::Duration::from_millis(200)),
            }
        }
        if !binary.exists() {
            return Err(format!("npm installed no {}", binary.display()));
        }
    }
    #[cfg(unix)]
    {
        // npm may not run the package's `chmod` install script.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755));
    }
    Ok(binary)
}

/// Runs `Sarif.Multitool validate` with SARIF's and GitHub's rules; returns its error lines.
fn validate(tool: &Path, log: &Path) -> Vec<String> {
    let out_file = log.with_extension("validation.sarif");
    let out = Command::new(tool)
        .args([
            "validate",
            "--rule-kind",
            "Sarif;Gh",
            "--log",
            "ForceOverwrite",
            "-o",
        ])
        .arg(&out_file)
        .arg(log)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 files scanned"),
        "the Multitool did not run: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut errors: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains(": error "))
        .map(str::to_string)
        .collect();
    let report = json(&std::fs::read_to_string(&out_file).unwrap());
    for r in report["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if r["level"] == "error" || r["level"].is_null() {
            errors.push(format!("{} {}", r["ruleId"], r["message"]));
        }
    }
    errors
}

#[test]
fn sarif_passes_microsofts_multitool_validation() {
    let tool = match multitool() {
        Ok(t) => t,
        Err(why) => {
            eprintln!(
                "SKIPPED sarif_passes_microsofts_multitool_validation: the SARIF Multitool \
                 cannot be had: {why}. Set ARMFIX_SARIF_MULTITOOL to its binary to run it."
            );
            return;
        }
    };
    let out = tempfile::tempdir().unwrap();
    // The control: a broken log must be refused, or this test proves nothing.
    let broken = out.path().join("broken.sarif");
    std::fs::write(
        &broken,
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m."},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}"#,
    )
    .unwrap();
    assert!(
        !validate(&tool, &broken).is_empty(),
        "the control log must fail"
    );
    let mut checked = 0;
    for (name, args) in [
        ("check", &["check", "--format", "sarif"][..]),
        ("dry-run", &["fix", "--dry-run", "--format", "sarif"]),
        ("write", &["fix", "--yes", "--format", "sarif"]),
    ] {
        let sets = [fixtures("formats"), fixtures("trace"), fixtures("arm")];
        for set in sets.into_iter().chain(arm_corpus()) {
            let d = temp_repo_copy(&set);
            let r = run(d.path(), args);
            let log = out.path().join(format!(
                "{name}-{}.sarif",
                set.file_name().unwrap().to_string_lossy()
            ));
            std::fs::write(&log, &r.stdout).unwrap();
            let errors = validate(&tool, &log);
            assert!(
                errors.is_empty(),
                "{}:\n{}",
                log.display(),
                errors.join("\n")
            );
            checked += 1;
        }
    }
    // Unsafe fixes applied: the fix marked unsafe in its properties.
    let d = temp_repo_copy(&fixtures("formats"));
    let r = run(
        d.path(),
        &["fix", "--yes", "--unsafe-fixes", "--format", "sarif"],
    );
    let log = out.path().join("write-unsafe-fixes-formats.sarif");
    std::fs::write(&log, &r.stdout).unwrap();
    let errors = validate(&tool, &log);
    assert!(
        errors.is_empty(),
        "{}:\n{}",
        log.display(),
        errors.join("\n")
    );
    checked += 1;
    assert_eq!(checked, if arm_corpus().is_some() { 13 } else { 10 });
}

#[test]
fn sarif_unsafe_fix_snapshot_and_round_trip_with_unsafe_fixes() {
    let d = temp_repo_copy(&fixtures("formats/unsafe"));
    let r = run(d.path(), &["check", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!(
        "formats__unsafe-sarif",
        crate::util::stable(&r.stdout, d.path())
    );
    // With --unsafe-fixes the log's fixes carry the unsafe fix too, marked so, and still
    // reproduce `fix --yes --unsafe-fixes`.
    let log = json(&run(d.path(), &["check", "--unsafe-fixes", "--format", "sarif"]).stdout);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let fix = &results[0]["fixes"][0];
    assert_eq!(fix["properties"]["applicability"], "unsafe");
    assert_eq!(
        fix["properties"]["sideEffects"].as_array().unwrap().len(),
        2
    );
    assert_eq!(results[1]["properties"]["heldBack"], false);
    assert_eq!(apply_sarif(&log, d.path()), 2);
    let by_fix = temp_repo_copy(&fixtures("formats/unsafe"));
    assert_eq!(
        run(by_fix.path(), &["fix", "--yes", "--unsafe-fixes"]).code,
        0
    );
    assert!(tree(d.path()) == tree(by_fix.path()));
}
