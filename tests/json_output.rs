//! `--format json`: the report has every field and nothing else is on stdout, its edits and
//! JSON Patches reproduce `fix --yes`, it says which files were written, it reads standard
//! input, and a snapshot of it. Every test runs the real binary in a temporary copy of its
//! fixtures.

use crate::util::{
    fixtures, json, read, run, run_stdin, stable, temp_repo_copy, tree, write, NEEDS_FIX,
    NEEDS_FIX_FIXED,
};
use serde_json::Value;

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
            "infra/main.parameters.json",
            "unsafe/azuredeploy.json"
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
                let class = finding["applicability"].as_str().unwrap();
                assert!(["safe", "unsafe"].contains(&class), "{finding}");
                // Without --unsafe-fixes exactly the unsafe fixes are held back.
                assert_eq!(finding["heldBack"], class == "unsafe", "{finding}");
            } else {
                assert!(finding["remedy"]["reason"].is_string());
                assert_eq!(finding["fixSource"], Value::Null);
                assert_eq!(finding["applicability"], Value::Null);
                assert_eq!(finding["heldBack"], Value::Null);
            }
            let side_effects = finding["sideEffects"].as_array().unwrap();
            assert_eq!(
                side_effects.is_empty(),
                finding["applicability"] != "unsafe",
                "{finding}"
            );
            assert!(finding["pointer"].as_str().unwrap().starts_with('/'));
        }
    }
    assert_eq!(seen, 8);
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
            s["unsafeHeldBack"].as_u64(),
            s["manualReview"].as_u64(),
            s["errors"].as_u64()
        ),
        (
            Some(5),
            Some(8),
            Some(6),
            Some(3),
            Some(3),
            Some(1),
            Some(1),
            Some(1)
        )
    );
    // The unsafe fix held back, with every side effect.
    let unsafe_file = files
        .iter()
        .find(|f| f["path"] == "unsafe/azuredeploy.json")
        .unwrap();
    let held = &unsafe_file["findings"][1];
    assert_eq!(held["applicability"], "unsafe");
    assert_eq!(held["heldBack"], true);
    assert_eq!(held["sideEffects"].as_array().unwrap().len(), 2);
    assert!(
        !unsafe_file["diff"]
            .as_str()
            .unwrap()
            .contains("defaultValue"),
        "the diff leaves the unsafe fix out"
    );
    // People's notes go to stderr.
    assert!(r.stderr.contains("broken.json:4:78"), "{}", r.stderr);
    assert!(r.stderr.contains("Found 8 findings"), "{}", r.stderr);
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
    assert_eq!(changed, 4);
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
            ("infra/main.parameters.json", true),
            ("unsafe/azuredeploy.json", true)
        ]
    );
    assert_eq!(doc["summary"]["fixed"], 6);
    assert_eq!(doc["summary"]["unsafeHeldBack"], 1);
    assert!(
        r.stderr.contains("wrote infra/main.json"),
        "notes on stderr: {}",
        r.stderr
    );
    // A second run finds only the manual review and the unsafe fix held back left.
    let doc = json(&run(d.path(), &["check", "--format", "json"]).stdout);
    assert_eq!(doc["summary"]["fixable"], 0);
    assert_eq!(doc["summary"]["unsafeHeldBack"], 1);
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
    let out = run_stdin(
        d.path(),
        &["fix", "--yes", "--format", "json", "-"],
        NEEDS_FIX,
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

#[test]
fn json_unsafe_fix_snapshot() {
    let d = temp_repo_copy(&fixtures("formats/unsafe"));
    let r = run(d.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    assert_eq!(doc["summary"]["unsafeHeldBack"], 1);
    assert_eq!(doc["summary"]["findings"], 2);
    snapshot!("formats__unsafe-json", stable(&r.stdout, d.path()));
    // With --unsafe-fixes the fix is not held back, and the edits carry it.
    let r = run(
        d.path(),
        &["fix", "--yes", "--unsafe-fixes", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = json(&r.stdout);
    let f = &doc["files"][0];
    assert_eq!(f["findings"][1]["applicability"], "unsafe");
    assert_eq!(f["findings"][1]["heldBack"], false);
    assert_eq!(f["edits"].as_array().unwrap().len(), 2);
    assert_eq!(doc["summary"]["unsafeHeldBack"], 0);
    assert_eq!(doc["summary"]["fixed"], 2);
}
