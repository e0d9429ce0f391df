//! Machine and CI interfaces (issue 5): `--format json|sarif|github`, `--summary-md`, the
//! SARIF round trip (applying a report's replacements reproduces `fix --yes` byte for byte),
//! SARIF validation (pure Rust, and Microsoft's SARIF Multitool when it can be had),
//! `--quiet`/`--verbose`, armfix.toml, completions, the man page and the pre-commit hooks.
//! Every test runs the real binary in a temporary copy of its fixtures.

use crate::util::{
    armfix, corpus, fixtures, json, read, run, run_cmd, stable, temp_repo_copy, tree,
    write, Run, CLEAN, INVALID, MANUAL, NEEDS_FIX, NEEDS_FIX_FIXED,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------------------
// JSON

#[test]
fn json_check_has_every_field_and_nothing_else_on_stdout() {
    let d = temp_repo_copy(&fixtures("formats"));
    let r = run(d.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 2, "an invalid file: {}", r.stderr);
    let doc = json(&r.stdout);
    assert_eq!(doc["tool"]["name"], "armfix");
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["schemaVersion"], 1);
    assert_eq!(doc["command"], "check");
    assert_eq!(doc["mode"], "check");
    assert_eq!(doc["rule"]["id"], "Azure.AKS.SecretStoreRotation");
    let files = doc["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "broken.json",
            "clean.json",
            "crlf-bom.json",
            "infra/main.json",
            "infra/main.parameters.json"
        ],
        "analysed files and errors, in path order; skipped files left out"
    );
    // The error, with its place.
    assert_eq!(files[0]["status"], "error");
    assert_eq!(files[0]["error"]["line"], 4);
    assert_eq!(files[0]["error"]["column"], 78);
    assert_eq!(files[0]["error"]["stage"], "read");
    // A clean file: no findings, no change.
    assert_eq!(files[1]["findings"].as_array().unwrap().len(), 0);
    assert_eq!(files[1]["changed"], false);
    assert_eq!(files[1]["diff"], Value::Null);
    assert_eq!(files[1]["written"], Value::Null, "check never writes");
    // Every finding's positions agree with the text, and with the text format's lines.
    let text = run(d.path(), &["check"]).stdout;
    let mut seen = 0;
    for f in files.iter().filter(|f| f["status"] == "analysed") {
        let path = f["path"].as_str().unwrap();
        let original = read(d.path().join(path));
        for finding in f["findings"].as_array().unwrap() {
            seen += 1;
            for end in ["start", "end"] {
                let p = &finding[end];
                let offset = p["offset"].as_u64().unwrap() as usize;
                let (line, col) = crate::util::line_col(&original, offset);
                assert_eq!(
                    (p["line"].as_u64(), p["column"].as_u64()),
                    (Some(line as u64), Some(col as u64)),
                    "{path} {end}"
                );
            }
            let line = format!(
                "{path}:{}:{}: {}: {}",
                finding["start"]["line"],
                finding["start"]["column"],
                finding["ruleId"].as_str().unwrap(),
                finding["message"].as_str().unwrap()
            );
            assert!(text.contains(&line), "{line}\nnot in\n{text}");
            assert_eq!(finding["severity"], "warning");
            let fixable = finding["fixable"].as_bool().unwrap();
            assert_eq!(
                finding["remedy"]["kind"],
                if fixable { "fix" } else { "manual-review" }
            );
            if fixable {
                assert!(finding["fixSource"]["kind"].is_string(), "{finding}");
            } else {
                assert!(finding["remedy"]["reason"].is_string());
                assert_eq!(finding["fixSource"], Value::Null);
            }
            assert!(finding["pointer"].as_str().unwrap().starts_with('/'));
        }
    }
    assert_eq!(seen, 6);
    // Sources: a variable, a parameter default, a parameter file.
    let kinds: Vec<&str> = files
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .filter_map(|f| f["fixSource"]["kind"].as_str())
        .collect();
    for k in ["value", "variable", "parameter-default", "parameter-file"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let s = &doc["summary"];
    assert_eq!(
        (
            s["files"].as_u64(),
            s["findings"].as_u64(),
            s["fixable"].as_u64(),
            s["fixableDirectly"].as_u64(),
            s["fixableAtSource"].as_u64(),
            s["manualReview"].as_u64(),
            s["errors"].as_u64()
        ),
        (
            Some(4),
            Some(6),
            Some(5),
            Some(2),
            Some(3),
            Some(1),
            Some(1)
        )
    );
    // People's notes go to stderr.
    assert!(r.stderr.contains("broken.json:4:78"), "{}", r.stderr);
    assert!(r.stderr.contains("Found 6 findings"), "{}", r.stderr);
}

/// Applies JSON edits (offset, length, replacement; in array order) to a text.
fn apply_json_edits(text: &str, edits: &[Value]) -> String {
    let mut out = String::new();
    let mut pos = 0;
    for e in edits {
        let offset = e["offset"].as_u64().unwrap() as usize;
        let length = e["length"].as_u64().unwrap() as usize;
        assert!(offset >= pos, "edits are in order and do not overlap");
        out.push_str(&text[pos..offset]);
        out.push_str(e["replacement"].as_str().unwrap());
        pos = offset + length;
    }
    out.push_str(&text[pos..]);
    out
}

#[test]
fn json_edits_and_patch_reproduce_fix_yes() {
    let d = temp_repo_copy(&fixtures("formats"));
    let doc = json(&run(d.path(), &["fix", "--dry-run", "--format", "json"]).stdout);
    assert_eq!(doc["mode"], "dry-run");
    let before = tree(d.path());
    let written = temp_repo_copy(&fixtures("formats"));
    run(written.path(), &["fix", "--yes"]);
    let mut changed = 0;
    for f in doc["files"].as_array().unwrap() {
        if f["status"] != "analysed" {
            continue;
        }
        let path = f["path"].as_str().unwrap();
        let original = read(d.path().join(path));
        let edits = f["edits"].as_array().unwrap();
        let fixed = apply_json_edits(&original, edits);
        assert_eq!(fixed, read(written.path().join(path)), "{path}");
        assert_eq!(f["changed"], !edits.is_empty());
        assert_eq!(f["written"], false, "a dry run writes nothing");
        if !edits.is_empty() {
            changed += 1;
            assert!(f["diff"]
                .as_str()
                .unwrap()
                .starts_with(&format!("--- a/{path}\n+++ b/{path}\n")));
            // The RFC 6902 patch, applied to the parsed original, gives the parsed fix.
            let mut value = crate::util::parse_json(&original).unwrap();
            let patch: json_patch::Patch = serde_json::from_value(f["patch"].clone()).unwrap();
            json_patch::patch(&mut value, &patch).unwrap();
            assert_eq!(value, crate::util::parse_json(&fixed).unwrap(), "{path}");
        }
    }
    assert_eq!(changed, 3);
    assert_eq!(
        tree(d.path()),
        before,
        "--format json without --yes writes nothing"
    );
}

#[test]
fn json_fix_yes_says_which_files_were_written() {
    let d = temp_repo_copy(&fixtures("formats"));
    let r = run(d.path(), &["fix", "--yes", "--format", "json"]);
    assert_eq!(r.code, 2, "broken.json: {}", r.stderr);
    let doc = json(&r.stdout);
    assert_eq!(doc["mode"], "write");
    let written: Vec<(&str, bool)> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["written"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        written,
        [
            ("broken.json", false),
            ("clean.json", false),
            ("crlf-bom.json", true),
            ("infra/main.json", true),
            ("infra/main.parameters.json", true)
        ]
    );
    assert_eq!(doc["summary"]["fixed"], 5);
    assert!(
        r.stderr.contains("wrote infra/main.json"),
        "notes on stderr: {}",
        r.stderr
    );
    // A second run finds only the manual review left.
    let doc = json(&run(d.path(), &["check", "--format", "json"]).stdout);
    assert_eq!(doc["summary"]["fixable"], 0);
    assert_eq!(doc["summary"]["manualReview"], 1);
}

#[test]
fn fix_with_a_machine_format_and_no_yes_is_a_dry_run_that_never_prompts() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.json", NEEDS_FIX);
    for format in ["json", "sarif", "github"] {
        let r = run(d.path(), &["fix", "--format", format]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stderr.contains("add --yes"), "{format}: {}", r.stderr);
        assert!(!r.stderr.contains("Apply this fix"));
        assert!(
            !r.stdout.contains("--- a/a.json\n+++"),
            "no bare diff: {}",
            r.stdout
        );
        assert_eq!(read(d.path().join("a.json")), NEEDS_FIX);
    }
    let r = run(d.path(), &["fix", "--yes", "--format", "github"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(d.path().join("a.json")), NEEDS_FIX_FIXED);
    assert!(
        r.stdout.starts_with("::notice file=a.json,"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("::Fixed: "), "{}", r.stdout);
}

#[test]
fn json_reads_standard_input() {
    let d = tempfile::tempdir().unwrap();
    let out = run_cmd(
        armfix()
            .current_dir(d.path())
            .args(["fix", "--yes", "--format", "json", "-"])
            .write_stdin(NEEDS_FIX),
    );
    let doc = json(&out.stdout);
    let f = &doc["files"][0];
    assert_eq!(f["path"], "<stdin>");
    assert_eq!(f["written"], false, "standard input is never written");
    assert_eq!(
        apply_json_edits(NEEDS_FIX, f["edits"].as_array().unwrap()),
        NEEDS_FIX_FIXED
    );
}

#[test]
fn json_snapshot() {
    let d = temp_repo_copy(&fixtures("formats"));
    let r = run(d.path(), &["check", "--format", "json", "infra"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!("formats__json-check", stable(&r.stdout, d.path()));
}

// ---------------------------------------------------------------------------------------
// SARIF

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
    assert_eq!(results.len(), 6);
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
        if let Some(fixes) = r["fixes"].as_array() {
            assert_eq!(
                r["properties"]["remedy"], "fix",
                "only fixable results carry fixes"
            );
            assert!(fixes[0]["description"]["text"].is_string());
            with_fixes.push(loc["artifactLocation"]["uri"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        with_fixes,
        [
            "crlf-bom.json",
            "infra/main.json",
            "infra/main.parameters.json"
        ],
        "each changed file's edits are attached once, to its first fixable result"
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
    assert_eq!(checked, if arm_corpus().is_some() { 12 } else { 9 });
}

// ---------------------------------------------------------------------------------------
// GitHub annotations

#[test]
fn github_annotations_snapshot() {
    let d = temp_repo_copy(&fixtures("formats"));
    let r = run(d.path(), &["check", "--format", "github"]);
    assert_eq!(r.code, 2);
    for line in r.stdout.lines() {
        assert!(
            line.starts_with("::warning file=") || line.starts_with("::error file="),
            "{line}"
        );
    }
    snapshot!("formats__github-check", stable(&r.stdout, d.path()));
}

#[test]
fn github_escapes_paths_and_messages() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a,b:c%.json", MANUAL);
    let r = run(d.path(), &["check", "--format", "github"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::warning file=a%2Cb%3Ac%25.json,line=11,col=23,endLine=11,endColumn=50,title=Azure.AKS.SecretStoreRotation::needs manual review: "),
        "{line}"
    );
    // The message keeps `:` and `,` (only `%`, CR and LF are escaped there).
    assert!(line.contains("`config` comes from a parameter; "), "{line}");
    // An annotation over several lines gives no columns (GitHub refuses them).
    write(d.path(), "a,b:c%.json", NEEDS_FIX);
    let r = run(d.path(), &["check", "--format", "github"]);
    let line = r.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::warning file=a%2Cb%3Ac%25.json,line=9,endLine=11,title="),
        "{line}"
    );
}

// ---------------------------------------------------------------------------------------
// Markdown summary

#[test]
fn summary_md_for_check_dry_run_and_write() {
    let d = temp_repo_copy(&fixtures("formats"));
    let summary = d.path().join("summary.md");
    let s = summary.to_str().unwrap();
    let r = run(d.path(), &["check", "--summary-md", s]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("Found 6 findings"),
        "text output is unchanged"
    );
    snapshot!("formats__summary-check", stable(&read(&summary), d.path()));
    let r = run(d.path(), &["fix", "--dry-run", "--summary-md", s, "infra"]);
    assert_eq!(r.code, 1);
    snapshot!(
        "formats__summary-dry-run",
        stable(&read(&summary), d.path())
    );
    let r = run(
        d.path(),
        &["fix", "--yes", "--format", "json", "--summary-md", s],
    );
    assert_eq!(r.code, 2);
    let md = read(&summary);
    assert!(
        md.contains("armfix fixed 5 of 5 fixable findings in 4 files"),
        "{md}"
    );
    assert!(md.contains("### Needs manual review"), "{md}");
    assert!(
        md.contains("### Errors\n\n- `broken.json` line 4, column 78"),
        "{md}"
    );
    snapshot!("formats__summary-write", stable(&md, d.path()));
}

#[test]
fn summary_md_that_cannot_be_written_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.json", CLEAN);
    let r = run(d.path(), &["check", "--summary-md", "no/such/folder/s.md"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot write the summary"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Quiet, verbose, progress

#[test]
fn quiet_drops_summary_and_notes_but_keeps_findings_diffs_and_errors() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.json", NEEDS_FIX);
    write(d.path(), "b.json", INVALID);
    let r = run(d.path(), &["check", "--quiet"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.starts_with("a.json:9:43: "));
    assert!(r.stderr.contains("b.json:6:7"), "errors stay: {}", r.stderr);
    let r = run(d.path(), &["fix", "--yes", "-q", "--color", "never"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.starts_with("--- a/a.json\n"), "{}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "only the error: {}", r.stderr);
    assert!(r.stderr.starts_with("error: b.json:6:7"));
}

#[test]
fn verbose_notes_skipped_files_and_files_without_findings() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "clean.json", CLEAN);
    write(
        d.path(),
        "params.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {"managedClusters": {"value": 1}}}"#,
    );
    let r = run(d.path(), &["check", "--verbose"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stderr
            .contains("armfix: skipped params.json: not a deployment template"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("armfix: clean.json: no findings"),
        "{}",
        r.stderr
    );
    let r = run(d.path(), &["check"]);
    assert_eq!(r.stderr, "", "silent without --verbose");
    let r = run(d.path(), &["check", "-q", "-v"]);
    assert_eq!(r.code, 2, "--quiet and --verbose conflict");
}

#[test]
fn no_progress_bar_in_pipes() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..200 {
        write(d.path(), &format!("f{i:03}.json"), CLEAN);
    }
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stderr, "", "stderr is a pipe: no progress bar");
}

// ---------------------------------------------------------------------------------------
// Configuration

#[test]
fn config_file_is_found_upward_and_flags_override_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "infra/a.json", NEEDS_FIX);
    write(d.path(), "legacy/b.json", NEEDS_FIX);
    write(
        d.path(),
        "armfix.toml",
        "exclude = [\"legacy/**\"]\nformat = \"github\"\ncolor = \"always\"\n",
    );
    let sub = d.path().join("infra");
    // Found from a subfolder; the excluded file is not read; the format is github.
    let r = run(&sub, &["check", ".."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("::warning file=../infra/a.json,"),
        "{}",
        r.stdout
    );
    // Flags win: --format, --exclude (replaces the file's list), --color.
    let r = run(
        d.path(),
        &[
            "fix",
            "--dry-run",
            "--format",
            "text",
            "--exclude",
            "none",
            "--color",
            "never",
        ],
    );
    assert!(r.stdout.contains("--- a/legacy/b.json"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'));
    let r = run(d.path(), &["fix", "--dry-run", "--format", "text"]);
    assert!(r.stdout.contains('\x1b'), "color = always from the file");
    // --no-config ignores it; --config names another.
    let r = run(d.path(), &["check", "--no-config"]);
    assert!(r.stdout.contains("legacy/b.json:9:43"), "{}", r.stdout);
    write(d.path(), "other.toml", "include = [\"legacy/**\"]\n");
    let r = run(d.path(), &["check", "--config", "other.toml"]);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
    assert!(r.stdout.starts_with("legacy/b.json:9:43"), "{}", r.stdout);
}

#[test]
fn config_force_literal_applies_and_a_flag_turns_it_off() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "a.json", MANUAL);
    let r = run(d.path(), &["check"]);
    assert!(r.stdout.contains("manual review"), "{}", r.stdout);
    write(d.path(), "armfix.toml", "force-literal = true\n");
    let r = run(d.path(), &["check"]);
    assert!(r.stdout.contains("1 fixable directly"), "{}", r.stdout);
    let r = run(d.path(), &["check", "--no-force-literal"]);
    assert!(r.stdout.contains("1 manual review"), "{}", r.stdout);
}

#[test]
fn a_bad_config_file_is_an_error_with_its_place() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), "a.json", CLEAN);
    write(d.path(), "armfix.toml", "format = \"json\"\nfromat = 1\n");
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("armfix.toml:2:1: "), "{}", r.stderr);
    assert!(r.stderr.contains("fromat"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
}

// ---------------------------------------------------------------------------------------
// Completions, man page, version, help

#[test]
fn completions_man_version_and_help() {
    let d = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef armfix"),
        ("fish", "complete -c armfix"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let r = run(d.path(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}");
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..200.min(r.stdout.len())]
        );
        assert!(r.stdout.contains("summary-md"), "{shell}");
    }
    let r = run(d.path(), &["man"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &r.stdout[..100]
    );
    assert!(r.stdout.contains(".TH armfix 1"), "roff");
    let r = run(d.path(), &["--version"]);
    assert_eq!(r.stdout, format!("armfix {}\n", env!("CARGO_PKG_VERSION")));
    let r = run(d.path(), &["check", "--help"]);
    assert!(r.stdout.contains("--format <FORMAT>"), "{}", r.stdout);
    for value in ["- text:", "- json:", "- sarif:", "- github:"] {
        assert!(r.stdout.contains(value), "{value}");
    }
    let r = run(d.path(), &["--help"]);
    assert!(
        r.stdout.contains("armfix check --format sarif"),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------
// pre-commit hooks

/// The hooks of `.pre-commit-hooks.yaml`, each as its `key: value` pairs (the file keeps to
/// that flat subset of YAML, so a line reader suffices).
fn hooks() -> Vec<Vec<(String, String)>> {
    let text = read(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"));
    let mut hooks: Vec<Vec<(String, String)>> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let (t, new) = match t.strip_prefix("- ") {
            Some(rest) => (rest, true),
            None => (t, false),
        };
        if new {
            hooks.push(Vec::new());
        }
        let (k, v) = t.split_once(':').expect("key: value");
        let v = v.trim();
        let v = v
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(v);
        hooks
            .last_mut()
            .expect("a hook starts with `- `")
            .push((k.trim().to_string(), v.to_string()));
    }
    hooks
}

fn hook(id: &str) -> Vec<(String, String)> {
    hooks()
        .into_iter()
        .find(|h| h.iter().any(|(k, v)| k == "id" && v == id))
        .unwrap_or_else(|| panic!("hook {id}"))
}

fn get<'h>(hook: &'h [(String, String)], key: &str) -> Option<&'h str> {
    hook.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a hook as pre-commit would: its entry, then the staged files its `files` pattern
/// matches, in the repository's root.
fn run_hook(id: &str, repo: &Path) -> Run {
    let h = hook(id);
    assert_eq!(get(&h, "language"), Some("rust"), "{id}");
    assert_eq!(
        get(&h, "require_serial"),
        Some("true"),
        "templates and parameter files together"
    );
    let pattern = regex::Regex::new(get(&h, "files").expect("files")).unwrap();
    let staged = git(
        repo,
        &["diff", "--cached", "--name-only", "--diff-filter=ACMR"],
    );
    let files: Vec<&str> = staged.lines().filter(|f| pattern.is_match(f)).collect();
    let entry: Vec<&str> = get(&h, "entry").unwrap().split_whitespace().collect();
    assert_eq!(entry[0], "armfix", "the hook runs the installed binary");
    let mut args: Vec<&str> = entry[1..].to_vec();
    args.extend(&files);
    run(repo, &args)
}

#[test]
fn pre_commit_hooks_check_and_fix_staged_templates() {
    let ids: Vec<String> = hooks()
        .iter()
        .filter_map(|h| get(h, "id").map(str::to_string))
        .collect();
    assert_eq!(ids, ["armfix-check", "armfix-fix"]);
    let d = tempfile::tempdir().unwrap();
    let repo = d.path();
    git(repo, &["init", "-q"]);
    write(repo, "infra/aks.json", NEEDS_FIX);
    write(repo, "infra/ok.json", CLEAN);
    write(repo, "README.md", "managedClusters");
    write(repo, "unstaged.json", NEEDS_FIX);
    git(repo, &["add", "infra", "README.md"]);

    let r = run_hook("armfix-check", repo);
    assert_eq!(r.code, 1, "a finding fails the hook: {}", r.stderr);
    assert!(
        r.stdout.starts_with("infra/aks.json:9:43: "),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("unstaged"),
        "only staged files are passed"
    );
    assert_eq!(read(repo.join("infra/aks.json")), NEEDS_FIX);

    let r = run_hook("armfix-fix", repo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(repo.join("infra/aks.json")), NEEDS_FIX_FIXED);
    assert_eq!(
        read(repo.join("unstaged.json")),
        NEEDS_FIX,
        "not staged, not touched"
    );
    // pre-commit fails a hook that modified files; the change is left to stage.
    assert_eq!(git(repo, &["diff", "--name-only"]), "infra/aks.json\n");
    git(repo, &["add", "infra"]);
    assert_eq!(run_hook("armfix-check", repo).code, 0);
    assert_eq!(run_hook("armfix-fix", repo).code, 0);
    assert_eq!(git(repo, &["diff", "--name-only"]), "");
}
