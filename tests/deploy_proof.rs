//! The deploy-time proof (issue 12), as regression fixtures written by an adversary: every
//! folder of `tests/fixtures/proof/` is a small repository (templates beside their parameter
//! files and local modules) with an `EXPECTED.md` saying what a careful human expects.
//!
//! Each case is copied to a temporary folder and run through `check`, `fix --dry-run`,
//! `fix --yes` and a second `fix --yes` (which must change nothing), plus `check --format json`
//! before and after. One snapshot per case (`proof__<case>`) holds the text outputs and the
//! diffs `fix --yes` wrote; then the case's own asserts check the behaviour that matters
//! without depending on wording: what must not be flipped, what must be fixed, which findings
//! exist, their applicability (`"safe"`/`"unsafe"`) and side effects.
//!
//! The snapshot comes first, so a fresh run stops there until it is accepted; run with
//! `INSTA_FORCE_PASS=1` (as `cargo insta test` does) to see the behaviour asserts too.

use crate::util::{fixture_names, fixtures, json, parse_json, run, stable, temp_copy, tree, Run};
use serde_json::Value;
use tempfile::TempDir;

/// Every case folder, each with its test below: `every_case_has_a_test` keeps them in step.
const CASES: &[&str] = &[
    "break-arm-allowed-values-case",
    "break-arm-constant-scope",
    "break-bicep-allowed-case-module",
    "break-bicep-constant-scope",
    "break-bicep-for-if-index",
    "break-bicep-imported-literal-type",
    "break-bicep-load-relative",
    "break-bicep-loadjson-true",
    "break-bicepparam-var",
    "break-config-missing-addon-off-by-default",
    "break-enabled-bool-garbage",
    "break-inner-nested-other",
    "break-literal-brackets",
    "break-lookup-exact-case",
    "break-lv2-existing",
    "break-module-callee-default",
    "break-module-callee-default-bool",
    "break-nested-condition-prod",
    "break-outer-scope-shadow",
    "break-paramfile-name-case",
    "break-shallow-merges",
    "break-side-effects-beyond-properties",
    "break-union-null-later",
    "c1-arm-default-false",
    "c1-bicep-chain",
    "c1-bicepparam-dev-false",
    "c1-condition-param",
    "c1-feeds-other-cluster-enabled",
    "c1-param-file-dev-false",
    "c1x-arm-variable-indirection",
    "c1x-bicep-chain-two-clusters",
    "c1x-bicep-loop-shared-variable",
    "c1x-bicep-module-shared",
    "c1x-copy-loop-element",
    "c1x-nested-inner-shared",
    "c2-storage-public-access",
    "c2x-arm-condition-other-resource",
    "c2x-arm-shared-variable",
    "c2x-bicep-keyvault-purge",
    "c2x-bicep-shared-variable-storage",
    "c2x-profile-variable-in-tags",
    "c3-bicep-ternary-null",
    "c3-if-createobject-false-branch",
    "c3-if-createobject-null",
    "c3-if-string-null",
    "c3x-arm-contains-dead-branch",
    "c3x-bicep-coalesce-default",
    "c3x-bicep-decided-condition",
    "c3x-bicep-nullable-param",
    "c3x-bicep-safe-deref",
    "c3x-bicep-settings-member",
    "c3x-bicep-ternary-null-on",
    "c4-union-deep-keeps-false",
    "c4-union-override-ok",
    "c4x-bicep-union-deep-false",
    "c4x-bicep-union-override-ok",
    "c4x-union-later-false-wins",
    "c4x-union-later-wins-true",
    "c5-bicep-literal-type-case",
    "c5-minlength",
    "c5-ref-allowed-false",
    "c5x-arm-bool-param-string",
    "c5x-bicep-minlength-decorator",
    "c5x-bicepparam-bool",
    "c5x-ref-object-property",
    "c6-bicep-module-string-param",
    "c6x-arm-nested-string-param",
    "c6x-bicep-module-bool-param",
    "c6x-bicep-module-via-param",
    "c7-bicep-string-true",
    "c7-enabled-and-true-false",
    "c7-enabled-equals-1-2",
    "c7-enabled-json-false",
    "c7-enabled-not-true",
    "c7-nested-inner-default-false",
    "c7-object-param-default-true",
    "c7-rotation-if-bool-true-string",
    "c7-rotation-if-true-true",
    "c7-rotation-if-true-upper",
    "c7x-bicep-enabled-constant-false",
    "c7x-bicep-module-default-off",
    "c7x-bicep-tolower-true",
    "c7x-enabled-bool-string-false",
    "c7x-enabled-coalesce-false",
    "c7x-rotation-concat-true",
    "c7x-rotation-string-equals",
    "c8-three-clusters",
    "c8x-bicep-three-clusters",
    "c8x-unknown-plus-plain",
    "ch-bicep-two-clusters-one-variable",
    "ch-bool-wrapper-variable",
    "ch-copy-loop-one-variable",
    "ch-if-branch",
    "ch-lv2-symbolic",
    "ch-nested-passed-value",
    "ch-param-shared-fix-at-variable",
    "ch-two-clusters-one-variable",
    "ch-two-variables-farthest",
    "ch-two-variables-second",
    "ch-union-operand",
    "ch-variable-object-config",
    "ch-variable-shared-fix-in-cluster",
    "control-bicepparam-dev",
    "control-param-default",
    "control-param-file-dev",
    "control-plain-false",
    "nm-settled-name-expression",
    "o2-arm-coalesce-variable",
    "o2-arm-copy-element-default",
    "o2-spec-unlinked-rotation-missing",
    "sp-bicep-side-effect-spelling",
    "sw-bool-param-shared",
    "sw-env-equals",
    "sw-not-bool-param",
    "sw-string-param-condition",
    "x-b1-unknown-config",
    "x-b1b-unknown-config-bicep",
    "x-b1c-unknown-properties",
    "x-b7-metadata-noparam-name",
    "x-e3-module-caller-side-effect",
];

#[test]
fn every_case_has_a_test() {
    let on_disk = fixture_names("proof");
    assert_eq!(on_disk, CASES, "tests/fixtures/proof and CASES differ");
    for case in CASES {
        let expected = fixtures("proof").join(case).join("EXPECTED.md");
        assert!(expected.is_file(), "{case} has no EXPECTED.md");
    }
}

// ---------------------------------------------------------------------------------------
// Running one case

/// What the runs of one case gave.
struct Proof {
    case: &'static str,
    /// The temporary copy, kept until the asserts are done.
    _dir: TempDir,
    before: Vec<(String, Vec<u8>)>,
    after: Vec<(String, Vec<u8>)>,
    check: Run,
    /// `check --format json`, before any fix.
    report: Value,
    /// `check --format json` after `fix --yes`, and its exit code.
    after_report: Value,
    after_code: i32,
}

/// Runs a case, snapshots it, and checks what holds for every case: a dry run writes
/// nothing, a second `fix --yes` changes nothing, no run reports an internal error.
fn prove(case: &'static str) -> Proof {
    let dir = temp_copy(&fixtures("proof").join(case));
    let root = dir.path();
    let before = tree(root);

    let check = run(root, &["check", "--color", "never", "."]);
    let json_run = run(root, &["check", "--format", "json", "."]);
    let report = json(&json_run.stdout);
    assert_eq!(
        json_run.code, check.code,
        "{case}: json and text check disagree"
    );

    let dry = run(root, &["fix", "--dry-run", "--color", "never", "."]);
    let after_dry = tree(root);
    let fix = run(root, &["fix", "--yes", "--color", "never", "."]);
    let after = tree(root);
    let second = run(root, &["fix", "--yes", "--color", "never", "."]);
    let after_second = tree(root);
    let after_run = run(root, &["check", "--format", "json", "."]);
    let after_report = json(&after_run.stdout);

    let mut snap = String::new();
    for (title, r) in [
        ("check", &check),
        ("fix --dry-run", &dry),
        ("fix --yes", &fix),
    ] {
        snap.push_str(&format!("== {title} (exit {})\n", r.code));
        snap.push_str(&stable(&r.stdout, root));
        if !r.stderr.is_empty() {
            snap.push_str("-- stderr\n");
            snap.push_str(&stable(&r.stderr, root));
        }
    }
    snap.push_str("== files changed by fix --yes\n");
    snap.push_str(&diffs(&before, &after));
    snapshot!(
        format!("proof__{case}"),
        snap,
        description => format!("tests/fixtures/proof/{case}: see its EXPECTED.md")
    );

    assert_eq!(before, after_dry, "{case}: fix --dry-run wrote");
    assert_eq!(
        after,
        after_second,
        "{case}: a second fix --yes changed files (not idempotent):\n{}",
        diffs(&after, &after_second)
    );
    for (title, r) in [
        ("check", &check),
        ("fix --dry-run", &dry),
        ("fix --yes", &fix),
        ("second fix --yes", &second),
    ] {
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            !all.contains("internal error"),
            "{case}: {title} reports an internal error:\n{all}"
        );
        assert_ne!(r.code, 2, "{case}: {title} failed:\n{all}");
    }
    Proof {
        case,
        _dir: dir,
        before,
        after,
        check,
        report,
        after_report,
        after_code: after_run.code,
    }
}

/// Unified diffs of every file that differs between two trees (`/dev/null` for a file that
/// is in one only), or `(none)`.
fn diffs(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) -> String {
    let mut names: Vec<&String> = before.iter().chain(after).map(|(n, _)| n).collect();
    names.sort();
    names.dedup();
    let mut out = String::new();
    for name in names {
        let a = lookup(before, name);
        let b = lookup(after, name);
        if a == b {
            continue;
        }
        let (a_text, b_text) = (
            a.map(|t| String::from_utf8_lossy(t).into_owned())
                .unwrap_or_default(),
            b.map(|t| String::from_utf8_lossy(t).into_owned())
                .unwrap_or_default(),
        );
        let old = a.map_or("/dev/null".to_string(), |_| format!("a/{name}"));
        let new = b.map_or("/dev/null".to_string(), |_| format!("b/{name}"));
        out.push_str(
            &similar::TextDiff::from_lines(&a_text, &b_text)
                .unified_diff()
                .header(&old, &new)
                .to_string(),
        );
    }
    if out.is_empty() {
        out.push_str("(none)\n");
    }
    out
}

fn lookup<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a Vec<u8>> {
    files.iter().find(|(n, _)| n == name).map(|(_, b)| b)
}

// ---------------------------------------------------------------------------------------
// What a case can assert

impl Proof {
    fn text_before(&self, rel: &str) -> String {
        text(&self.before, rel, self.case)
    }

    fn text_after(&self, rel: &str) -> String {
        text(&self.after, rel, self.case)
    }

    /// The JSON value at `pointer` in `rel` after `fix --yes`.
    fn after_at(&self, rel: &str, pointer: &str) -> Value {
        at(&self.text_after(rel), pointer, self.case, rel)
    }

    /// The JSON value at `pointer` in `rel` before any fix.
    fn before_at(&self, rel: &str, pointer: &str) -> Value {
        at(&self.text_before(rel), pointer, self.case, rel)
    }

    /// The files `fix --yes` changed.
    fn changed(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .before
            .iter()
            .chain(&self.after)
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| lookup(&self.before, n) != lookup(&self.after, n))
            .collect()
    }

    /// Every finding of the JSON report before any fix.
    fn findings(&self) -> Vec<Value> {
        findings_of(&self.report)
    }

    fn summary_findings(report: &Value) -> i64 {
        report["summary"]["findings"]
            .as_i64()
            .expect("summary.findings")
    }

    /// The rule does not apply, or every cluster passes: no finding, exit 0, nothing written.
    fn assert_nothing_to_do(&self) {
        let case = self.case;
        assert_eq!(
            self.check.code, 0,
            "{case}: check should exit 0 (nothing to report):\n{}",
            self.check.stdout
        );
        assert_eq!(
            Self::summary_findings(&self.report),
            0,
            "{case}: expected no finding, got {:#?}",
            self.findings()
        );
        assert!(
            self.changed().is_empty(),
            "{case}: fix --yes should write nothing, changed:\n{}",
            diffs(&self.before, &self.after)
        );
    }

    /// At least `n` findings, and check exits 1.
    fn assert_reported(&self, n: usize) {
        let case = self.case;
        assert_eq!(
            self.check.code, 1,
            "{case}: check should report a finding (exit 1):\n{}{}",
            self.check.stdout, self.check.stderr
        );
        let found = self.findings().len();
        assert!(
            found >= n,
            "{case}: expected at least {n} findings, got {found}: {:#?}",
            self.findings()
        );
    }

    /// After `fix --yes`, check finds nothing and exits 0.
    fn assert_clean_after(&self) {
        let case = self.case;
        assert_eq!(
            Self::summary_findings(&self.after_report),
            0,
            "{case}: after fix --yes findings remain: {:#?}\nfix wrote:\n{}",
            findings_of(&self.after_report),
            diffs(&self.before, &self.after)
        );
        assert_eq!(
            self.after_code, 0,
            "{case}: check after fix --yes exits non-zero"
        );
    }

    /// A write must make the cluster pass: if `fix --yes` changed anything, check is clean
    /// afterwards (a "fix" that leaves the cluster failing, e.g. inside a branch that is
    /// not deployed, is no fix). Manual review that writes nothing is fine.
    fn assert_no_fix_unless_it_passes(&self) {
        if !self.changed().is_empty() {
            self.assert_clean_after();
        }
    }

    /// Every finding carries `applicability` and it is `"safe"`.
    fn assert_all_safe(&self) {
        for f in self.findings() {
            assert_eq!(
                f.get("applicability").and_then(Value::as_str),
                Some("safe"),
                "{}: finding should be a safe fix: {f:#}",
                self.case
            );
        }
    }

    /// One finding, a safe fix moved from its unsafe source to a place of kind `kind` (the
    /// JSON report's `fixSource.kind`) closer to the cluster; its message names the side
    /// effect the source would have had (`effect`); `fix --yes` fixes it and a second run
    /// finds nothing.
    fn assert_fixed_closer(&self, rel: &str, kind: &str, effect: &str) {
        let case = self.case;
        self.assert_reported(1);
        let findings = self.findings();
        assert_eq!(findings.len(), 1, "{case}: {findings:#?}");
        let f = &findings[0];
        assert_eq!(f["fixSource"]["kind"], kind, "{case}: {f:#}");
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("because fixing it at its source also changes")
                && message.contains(effect),
            "{case}: the message must say why the fix is not at the source: {message}"
        );
        assert_eq!(self.changed(), [rel.to_string()], "{case}");
        self.assert_all_safe();
        self.assert_clean_after();
    }

    fn assert_unchanged(&self, rel: &str) {
        assert_eq!(
            self.text_before(rel),
            self.text_after(rel),
            "{}: fix --yes must not change {rel}",
            self.case
        );
    }

    /// The JSON value at `pointer` of `rel` is the same after `fix --yes`.
    fn assert_kept(&self, rel: &str, pointer: &str) {
        assert_eq!(
            self.before_at(rel, pointer),
            self.after_at(rel, pointer),
            "{}: fix --yes must not change {rel} {pointer}",
            self.case
        );
    }
}

fn text(files: &[(String, Vec<u8>)], rel: &str, case: &str) -> String {
    let bytes = lookup(files, rel).unwrap_or_else(|| panic!("{case}: no file {rel}"));
    String::from_utf8(bytes.clone()).unwrap()
}

fn at(text: &str, pointer: &str, case: &str, rel: &str) -> Value {
    let doc = parse_json(text).unwrap_or_else(|e| panic!("{case}: {rel} is not JSON: {e}"));
    doc.pointer(pointer)
        .cloned()
        .unwrap_or_else(|| panic!("{case}: {rel} has nothing at {pointer}"))
}

fn findings_of(report: &Value) -> Vec<Value> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["findings"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// A finding's side effects, as the report names them (`sideEffects`, or `side_effects`).
fn side_effects(f: &Value) -> Vec<String> {
    f.get("sideEffects")
        .or_else(|| f.get("side_effects"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const CSI: &str = "/properties/addonProfiles/azureKeyvaultSecretsProvider";

/// The JSON pointer of a cluster's rotation value, for the cluster at `resource` (a
/// pointer to the resource).
fn rotation(resource: &str) -> String {
    format!("{resource}{CSI}/config/enableSecretRotation")
}

/// The text of `text` from the line `start` to the next top-level `resource` or end.
fn bicep_block<'a>(text: &'a str, start: &str) -> &'a str {
    let from = text.find(start).expect("block start");
    let rest = &text[from + start.len()..];
    let to = rest.find("\nresource ").map_or(rest.len(), |n| n);
    &rest[..to]
}

macro_rules! cases {
    ($($name:ident: $case:literal => |$p:ident| $body:block)*) => {
        $(
            #[test]
            fn $name() {
                let $p = prove($case);
                $body
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------
// Class 1: a shared parameter turns the add-on on elsewhere

cases! {
    c1_param_file_dev_false: "c1-param-file-dev-false" => |p| {
        p.assert_nothing_to_do();
        p.assert_unchanged("main.parameters.dev.json");
        assert_eq!(p.after_at("main.parameters.dev.json", "/parameters/enableCsi/value"), false);
    }
    c1_bicepparam_dev_false: "c1-bicepparam-dev-false" => |p| {
        p.assert_nothing_to_do();
        p.assert_unchanged("main.dev.bicepparam");
        assert!(p.text_after("main.dev.bicepparam").contains("param enableKeyVaultCsi = false"));
    }
    c1_arm_default_false: "c1-arm-default-false" => |p| {
        p.assert_nothing_to_do();
        assert_eq!(p.after_at("azuredeploy.json", "/parameters/enableCsi/defaultValue"), false);
    }
    c1_bicep_chain: "c1-bicep-chain" => |p| {
        p.assert_nothing_to_do();
        let after = p.text_after("main.bicep");
        assert!(after.contains("param enableCsi bool = false"), "enableCsi flipped:\n{after}");
        assert!(after.contains("param rot bool = enableCsi"), "rot changed:\n{after}");
    }
    c1_feeds_other_cluster_enabled: "c1-feeds-other-cluster-enabled" => |p| {
        p.assert_reported(1);
        assert_eq!(p.findings().len(), 1, "only aks-a fails: {:#?}", p.findings());
        assert_eq!(p.after_at("main.json", "/parameters/rotA/defaultValue"), "false");
        p.assert_kept("main.json", &format!("/resources/1{CSI}"));
        assert_eq!(p.after_at("main.json", &rotation("/resources/0")), "true");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c1_condition_param: "c1-condition-param" => |p| {
        p.assert_nothing_to_do();
        assert_eq!(p.after_at("main.json", "/parameters/deployAks/defaultValue"), false);
        p.assert_unchanged("main.parameters.prod.json");
    }
    c1x_arm_variable_indirection: "c1x-arm-variable-indirection" => |p| {
        p.assert_nothing_to_do();
        p.assert_unchanged("azuredeploy.parameters.json");
    }
    c1x_bicep_module_shared: "c1x-bicep-module-shared" => |p| {
        p.assert_nothing_to_do();
        p.assert_unchanged("main.dev.bicepparam");
        p.assert_unchanged("main.bicep");
    }
    c1x_nested_inner_shared: "c1x-nested-inner-shared" => |p| {
        p.assert_nothing_to_do();
        p.assert_unchanged("main.parameters.dev.json");
    }
    c1x_copy_loop_element: "c1x-copy-loop-element" => |p| {
        p.assert_nothing_to_do();
        assert_eq!(p.after_at("main.json", "/parameters/clusters/defaultValue/1/csi"), false);
    }
}

// ---------------------------------------------------------------------------------------
// Class 2: a shared value also feeds another resource's property

cases! {
    c2_storage_public_access: "c2-storage-public-access" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/flag/defaultValue"), "false");
        assert_eq!(
            p.after_at("main.json", "/resources/1/properties/allowBlobPublicAccess"),
            "[bool(parameters('flag'))]"
        );
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c2x_bicep_keyvault_purge: "c2x-bicep-keyvault-purge" => |p| {
        p.assert_reported(1);
        let after = p.text_after("main.bicep");
        assert!(after.contains("param hardening bool = false"), "hardening flipped:\n{after}");
        assert!(after.contains("enablePurgeProtection: hardening ? true : null"), "vault changed:\n{after}");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c2x_arm_shared_variable: "c2x-arm-shared-variable" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/variables/strictMode"), "false");
        p.assert_kept("main.json", "/resources/1");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c2x_arm_condition_other_resource: "c2x-arm-condition-other-resource" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/exposePublicIp/defaultValue"), false);
        p.assert_unchanged("main.parameters.json");
        p.assert_kept("main.json", "/resources/1");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c2x_profile_variable_in_tags: "c2x-profile-variable-in-tags" => |p| {
        p.assert_reported(1);
        assert!(p.changed().is_empty(), "fix --yes must hold the unsafe fix back:\n{}", diffs(&p.before, &p.after));
        let f = &p.findings()[0];
        let manual = f["remedy"]["kind"] == "manual-review";
        assert!(
            manual || f.get("applicability").and_then(Value::as_str) == Some("unsafe"),
            "the only fix changes a tag: unsafe or manual review: {f:#}"
        );
        let effects = side_effects(f);
        assert!(
            effects.iter().any(|e| e.contains("tags")),
            "side effects should name the storage account's tags: {effects:?} in {f:#}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Class 3: a branch that is not deployed (null config, dead `if` branch)

cases! {
    c3_if_createobject_null: "c3-if-createobject-null" => |p| {
        p.assert_reported(1);
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c3_if_string_null: "c3-if-string-null" => |p| {
        p.assert_reported(1);
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c3_bicep_ternary_null: "c3-bicep-ternary-null" => |p| {
        p.assert_reported(1);
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c3_if_createobject_false_branch: "c3-if-createobject-false-branch" => |p| {
        p.assert_reported(1);
        // Read independently of armfix: with `rot` false the `if` deploys null, whatever its
        // other branch says, so an edit inside that branch alone is no fix.
        let config = p.after_at("main.json", &format!("/resources/0{CSI}/config"));
        let rot = p.after_at("main.json", "/parameters/rot/defaultValue");
        let still_null = config.as_str().is_some_and(|c| c.starts_with("[if(parameters('rot')"))
            && rot == false;
        assert!(
            p.changed().is_empty() || !still_null,
            "a fix inside the branch that is not deployed leaves config null:\n{}",
            diffs(&p.before, &p.after)
        );
        p.assert_no_fix_unless_it_passes();
    }
    c3x_bicep_safe_deref: "c3x-bicep-safe-deref" => |p| {
        p.assert_reported(1);
        p.assert_no_fix_unless_it_passes();
    }
    c3x_arm_contains_dead_branch: "c3x-arm-contains-dead-branch" => |p| {
        p.assert_reported(1);
        p.assert_unchanged("main.parameters.prod.json");
        p.assert_no_fix_unless_it_passes();
    }
    c3x_bicep_nullable_param: "c3x-bicep-nullable-param" => |p| {
        p.assert_reported(1);
        p.assert_no_fix_unless_it_passes();
    }
}

// ---------------------------------------------------------------------------------------
// Class 4: union() merges deeply

cases! {
    c4_union_deep_keeps_false: "c4-union-deep-keeps-false" => |p| {
        p.assert_reported(1);
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c4_union_override_ok: "c4-union-override-ok" => |p| {
        p.assert_nothing_to_do();
        p.assert_kept("main.json", "/variables/over");
    }
    c4x_bicep_union_deep_false: "c4x-bicep-union-deep-false" => |p| {
        p.assert_reported(1);
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c4x_union_later_wins_true: "c4x-union-later-wins-true" => |p| {
        p.assert_nothing_to_do();
        assert_eq!(
            p.after_at("main.json", "/variables/defaults/addonProfiles/azureKeyvaultSecretsProvider/config/enableSecretRotation"),
            "false"
        );
    }
    c4x_union_later_false_wins: "c4x-union-later-false-wins" => |p| {
        p.assert_reported(1);
        p.assert_kept("main.json", "/variables/base");
        p.assert_clean_after();
        p.assert_all_safe();
    }
}

// ---------------------------------------------------------------------------------------
// Class 5: values the template's own types reject

cases! {
    c5_ref_allowed_false: "c5-ref-allowed-false" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "false");
        p.assert_kept("main.json", "/definitions");
        p.assert_no_fix_unless_it_passes();
    }
    c5_bicep_literal_type_case: "c5-bicep-literal-type-case" => |p| {
        p.assert_reported(1);
        let after = p.text_after("main.bicep");
        assert!(!after.contains("param rotation onOff = 'true'"), "'true' is not an onOff:\n{after}");
        assert!(after.contains("param rotation onOff = 'True'"), "'True' is the onOff that passes:\n{after}");
        assert!(after.contains("type onOff = 'False' | 'True'"), "type changed:\n{after}");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c5_minlength: "c5-minlength" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "false");
        assert_eq!(p.after_at("main.json", "/parameters/rot/minLength"), 5);
        p.assert_no_fix_unless_it_passes();
    }
    c5x_bicep_minlength_decorator: "c5x-bicep-minlength-decorator" => |p| {
        p.assert_reported(1);
        let after = p.text_after("main.bicep");
        assert!(after.contains("@minLength(5)\nparam rot string = 'false'"), "default changed:\n{after}");
        p.assert_no_fix_unless_it_passes();
    }
    c5x_arm_bool_param_string: "c5x-arm-bool-param-string" => |p| {
        p.assert_reported(1);
        let default = p.after_at("main.json", "/parameters/rot/defaultValue");
        assert!(default.is_boolean(), "a bool parameter got {default}");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c5x_ref_object_property: "c5x-ref-object-property" => |p| {
        p.assert_reported(1);
        p.assert_kept("main.json", "/parameters/cfg");
        p.assert_kept("main.json", "/definitions");
        p.assert_no_fix_unless_it_passes();
    }
    c5x_bicepparam_bool: "c5x-bicepparam-bool" => |p| {
        p.assert_reported(1);
        let dev = p.text_after("main.dev.bicepparam");
        assert!(dev.contains("param rotation = true\n"), "expected the bool true:\n{dev}");
        p.assert_unchanged("main.bicep");
        p.assert_clean_after();
        p.assert_all_safe();
    }
}

// ---------------------------------------------------------------------------------------
// Class 6: a module parameter's declared type

cases! {
    c6_bicep_module_string_param: "c6-bicep-module-string-param" => |p| {
        p.assert_reported(1);
        let main = p.text_after("main.bicep");
        assert!(main.contains("enableSecretRotation: 'true'"), "expected the string 'true':\n{main}");
        assert!(!main.contains("enableSecretRotation: true"), "BCP036: a bool for a string:\n{main}");
        p.assert_unchanged("modules/aks.bicep");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c6x_bicep_module_via_param: "c6x-bicep-module-via-param" => |p| {
        p.assert_reported(1);
        let main = p.text_after("main.bicep");
        assert!(!main.contains("param rotation string = true"), "a bool for a string:\n{main}");
        assert!(!main.contains("enableSecretRotation: true"), "BCP036: a bool for a string:\n{main}");
        p.assert_unchanged("modules/aks.bicep");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c6x_bicep_module_bool_param: "c6x-bicep-module-bool-param" => |p| {
        p.assert_reported(1);
        let main = p.text_after("main.bicep");
        assert!(main.contains("rotate: true\n"), "expected the bool true:\n{main}");
        p.assert_unchanged("modules/aks.bicep");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c6x_arm_nested_string_param: "c6x-arm-nested-string-param" => |p| {
        p.assert_reported(1);
        assert_eq!(
            p.after_at("main.json", "/resources/0/properties/parameters/enableSecretRotation/value"),
            Value::String("true".into())
        );
        p.assert_clean_after();
        p.assert_all_safe();
    }
}

// ---------------------------------------------------------------------------------------
// Class 7: constant values (add-on off, or rotation passing)

cases! {
    c7_enabled_equals_1_2: "c7-enabled-equals-1-2" => |p| { p.assert_nothing_to_do(); }
    c7_enabled_not_true: "c7-enabled-not-true" => |p| { p.assert_nothing_to_do(); }
    c7_enabled_and_true_false: "c7-enabled-and-true-false" => |p| { p.assert_nothing_to_do(); }
    c7_enabled_json_false: "c7-enabled-json-false" => |p| { p.assert_nothing_to_do(); }
    c7_nested_inner_default_false: "c7-nested-inner-default-false" => |p| { p.assert_nothing_to_do(); }
    c7_rotation_if_true_true: "c7-rotation-if-true-true" => |p| { p.assert_nothing_to_do(); }
    c7_rotation_if_true_upper: "c7-rotation-if-true-upper" => |p| { p.assert_nothing_to_do(); }
    c7_rotation_if_bool_true_string: "c7-rotation-if-bool-true-string" => |p| { p.assert_nothing_to_do(); }
    c7_object_param_default_true: "c7-object-param-default-true" => |p| { p.assert_nothing_to_do(); }
    c7_bicep_string_true: "c7-bicep-string-true" => |p| { p.assert_nothing_to_do(); }
    c7x_enabled_bool_string_false: "c7x-enabled-bool-string-false" => |p| { p.assert_nothing_to_do(); }
    c7x_enabled_coalesce_false: "c7x-enabled-coalesce-false" => |p| { p.assert_nothing_to_do(); }
    c7x_bicep_enabled_constant_false: "c7x-bicep-enabled-constant-false" => |p| { p.assert_nothing_to_do(); }
    c7x_bicep_module_default_off: "c7x-bicep-module-default-off" => |p| { p.assert_nothing_to_do(); }
    c7x_rotation_concat_true: "c7x-rotation-concat-true" => |p| { p.assert_nothing_to_do(); }
    c7x_rotation_string_equals: "c7x-rotation-string-equals" => |p| { p.assert_nothing_to_do(); }
    c7x_bicep_tolower_true: "c7x-bicep-tolower-true" => |p| { p.assert_nothing_to_do(); }
}

// ---------------------------------------------------------------------------------------
// Class 8: each finding stands alone

cases! {
    c8_three_clusters: "c8-three-clusters" => |p| {
        p.assert_reported(2);
        assert_eq!(p.after_at("main.json", &rotation("/resources/2")), "true", "aks-c's plain \"false\" must be fixed");
        assert_eq!(p.after_at("main.json", "/variables/shared"), false);
        p.assert_kept("main.json", &format!("/resources/1{CSI}"));
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c8x_bicep_three_clusters: "c8x-bicep-three-clusters" => |p| {
        p.assert_reported(2);
        let after = p.text_after("main.bicep");
        assert!(bicep_block(&after, "resource aksC").contains("enableSecretRotation: 'true'"), "aks-c not fixed:\n{after}");
        assert!(after.contains("var shared = false"), "shared flipped:\n{after}");
        assert!(bicep_block(&after, "resource aksB").contains("enabled: shared"), "aks-b changed:\n{after}");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    c8x_unknown_plus_plain: "c8x-unknown-plus-plain" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", &rotation("/resources/1")), "true", "aks-b's plain \"false\" must be fixed");
        p.assert_kept("main.json", &format!("/resources/0{CSI}"));
    }
}

// ---------------------------------------------------------------------------------------
// Controls: plain safe fixes still happen

cases! {
    control_param_default: "control-param-default" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "true");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    control_param_file_dev: "control-param-file-dev" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.parameters.dev.json", "/parameters/rot/value"), "true");
        p.assert_unchanged("main.json");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    control_bicepparam_dev: "control-bicepparam-dev" => |p| {
        p.assert_reported(1);
        assert!(p.text_after("main.dev.bicepparam").contains("param rot = 'true'"));
        p.assert_unchanged("main.bicep");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    control_plain_false: "control-plain-false" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("azuredeploy.json", &rotation("/resources/0")), "true");
        p.assert_clean_after();
        p.assert_all_safe();
    }
}

// ---------------------------------------------------------------------------------------
// Found by the adversarial review of the proof

cases! {
    // The source (`rot`'s default) is unsafe; the chain's next place is the term inside the
    // cluster's own expression, which changes nothing the rest of it reads.
    x_b1c_unknown_properties: "x-b1c-unknown-properties" => |p| {
        p.assert_fixed_closer("main.json", "expression", "`properties`");
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "false");
        let props = p.after_at("main.json", "/resources/0/properties");
        let props = props.as_str().unwrap();
        assert!(props.contains("createObject('enableSecretRotation', 'true')"), "{props}");
        assert!(props.contains("'disableLocalAccounts', equals(parameters('rot'), 'true')"), "{props}");
        assert_unknown_said_once(&p);
    }
    x_b1_unknown_config: "x-b1-unknown-config" => |p| {
        p.assert_fixed_closer("main.json", "expression", "config");
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "false");
        let config = p.after_at("main.json", &format!("/resources/0{CSI}/config"));
        let config = config.as_str().unwrap();
        assert!(config.contains("createObject('enableSecretRotation', 'true', 'rotationPollInterval', if(equals(parameters('rot'), 'true'), '1m', '2h'))"), "{config}");
        assert_unknown_said_once(&p);
    }
    x_b1b_unknown_config_bicep: "x-b1b-unknown-config-bicep" => |p| {
        p.assert_fixed_closer("main.bicep", "value", "config");
        let after = p.text_after("main.bicep");
        assert!(after.contains("param rot bool = false"), "{after}");
        assert!(after.contains("enableSecretRotation: 'true'"), "{after}");
        assert!(after.contains("rotationPollInterval: rot ? '1m' : '2h'"), "{after}");
        assert_unknown_said_once(&p);
    }
    x_e3_module_caller_side_effect: "x-e3-module-caller-side-effect" => |p| {
        assert!(p.changed().is_empty(), "{}", diffs(&p.before, &p.after));
        let module = p
            .findings()
            .into_iter()
            .find(|f| f.get("applicability").and_then(Value::as_str) == Some("unsafe"))
            .expect("the module's own fix, unsafe");
        let effects = side_effects(&module);
        assert!(effects.iter().any(|e| e.starts_with("through main.bicep") && e.contains("tags.x")), "{effects:?}");
    }
    x_b7_metadata_noparam_name: "x-b7-metadata-noparam-name" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("dev.json", "/parameters/rot/value"), "true");
        p.assert_clean_after();
    }
}

/// A template named alone (as the pre-commit hook passes staged files): a failure with the
/// parameter file beside it, which the run does not read, is reported on the template.
#[test]
fn a_template_named_alone_reports_what_its_unread_parameter_file_breaks() {
    for (template, param, text, ptext) in [
        (
            "main.json",
            "main.parameters.dev.json",
            r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "parameters": {"rot": {"type": "string", "defaultValue": "true"}},
              "resources": [{"type": "Microsoft.ContainerService/managedClusters", "name": "aks",
                "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true,
                  "config": {"enableSecretRotation": "[parameters('rot')]"}}}}}]}"#,
            r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
              "parameters": {"rot": {"value": "false"}}}"#,
        ),
        (
            "main.bicep",
            "main.bicepparam",
            "param rot bool = true\nresource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {\n  name: 'aks'\n  properties: {\n    addonProfiles: {\n      azureKeyvaultSecretsProvider: {\n        enabled: true\n        config: {\n          enableSecretRotation: string(rot)\n        }\n      }\n    }\n  }\n}\n",
            "using 'main.bicep'\nparam rot = false\n",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(template), text).unwrap();
        std::fs::write(d.path().join(param), ptext).unwrap();
        let alone = crate::util::run(d.path(), &["check", "--color", "never", template]);
        assert_eq!(alone.code, 1, "{}{}", alone.stdout, alone.stderr);
        assert!(
            alone.stdout.contains(&format!("fails with {param}")),
            "{}",
            alone.stdout
        );
        // With the folder, the parameter file reports it itself.
        let all = crate::util::run(d.path(), &["check", "--color", "never", "."]);
        assert!(all.stdout.starts_with(param), "{}", all.stdout);
    }
}

/// A folder with more JSON files than armfix reads one by one still links the parameter
/// file named for the template (it is found by name).
#[test]
fn a_crowded_folder_still_links_the_parameter_file_named_for_the_template() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("main.json"),
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
          "parameters": {"rot": {"type": "string", "defaultValue": "false"},
                         "isProd": {"type": "bool", "defaultValue": false}},
          "resources": [{"type": "Microsoft.ContainerService/managedClusters", "name": "aks",
            "tags": {"rotationTag": "[if(parameters('isProd'), parameters('rot'), 'n/a')]"},
            "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true,
              "config": {"enableSecretRotation": "[parameters('rot')]"}}}}}]}"#,
    )
    .unwrap();
    std::fs::write(
        d.path().join("main.parameters.prod.json"),
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
          "parameters": {"isProd": {"value": true}}}"#,
    )
    .unwrap();
    for i in 0..600 {
        std::fs::write(d.path().join(format!("data{i:04}.json")), "{\"a\": 1}").unwrap();
    }
    let r = crate::util::run(d.path(), &["check", "--color", "never", "main.json"]);
    // Flipping `rot` would change the tag with prod: the fix lands in the cluster instead.
    assert!(
        r.stdout.contains("fixed in the cluster itself"),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------
// Found by the break review (tests/fixtures/proof/break-*): faults fixed, faults still open
// (ignored, with the behaviour a careful human expects), and attacks that held.

cases! {
    break_bicep_allowed_case_module: "break-bicep-allowed-case-module" => |p| {
        p.assert_reported(1);
        let main = p.text_after("main.bicep");
        assert!(!main.contains("rot: 'true'"), "`@allowed(['False', 'True'])` rejects 'true':\n{main}");
        p.assert_unchanged("modules/aks.bicep");
        p.assert_no_fix_unless_it_passes();
    }
    break_enabled_bool_garbage: "break-enabled-bool-garbage" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", &rotation("/resources/0")), "true");
        assert_eq!(p.after_at("main.json", "/parameters/csi/defaultValue"), "yes");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_outer_scope_shadow: "break-outer-scope-shadow" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "true");
        p.assert_kept("main.json", "/resources/0/properties/template/parameters");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_literal_brackets: "break-literal-brackets" => |p| {
        p.assert_reported(2);
        assert_eq!(p.findings().len(), 2, "{:#?}", p.findings());
        assert_eq!(p.after_at("main.json", &rotation("/resources/0")), "true");
        p.assert_kept("main.json", "/resources/1");
        assert_eq!(p.after_at("main.json", &rotation("/resources/2")), "true");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_union_null_later: "break-union-null-later" => |p| {
        p.assert_reported(1);
        p.assert_kept("main.json", "/variables/base");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_shallow_merges: "break-shallow-merges" => |p| {
        p.assert_reported(2);
        p.assert_no_fix_unless_it_passes();
    }
    break_side_effects_beyond_properties: "break-side-effects-beyond-properties" => |p| {
        p.assert_reported(6);
        assert_eq!(p.findings().len(), 6, "{:#?}", p.findings());
        p.assert_kept("main.json", "/parameters");
        p.assert_kept("main.json", "/outputs");
        for i in 0..6 {
            assert_eq!(p.after_at("main.json", &rotation(&format!("/resources/{i}"))), "true");
        }
        for i in 6..11 {
            p.assert_kept("main.json", &format!("/resources/{i}"));
        }
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_inner_nested_other: "break-inner-nested-other" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "false");
        p.assert_kept("main.json", "/resources/1");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_paramfile_name_case: "break-paramfile-name-case" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.parameters.dev.json", "/parameters/ROT/value"), "true");
        p.assert_unchanged("main.json");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_nested_condition_prod: "break-nested-condition-prod" => |p| {
        p.assert_reported(1);
        assert_eq!(
            p.after_at("main.json", &rotation("/resources/0/properties/template/resources/0")),
            "true"
        );
        assert_eq!(p.after_at("main.json", "/parameters/deploy/defaultValue"), false);
        p.assert_unchanged("main.parameters.prod.json");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_bicepparam_var: "break-bicepparam-var" => |p| {
        p.assert_reported(1);
        p.assert_unchanged("main.bicep");
        assert_eq!(p.changed(), ["main.dev.bicepparam"]);
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_bicep_imported_literal_type: "break-bicep-imported-literal-type" => |p| {
        p.assert_reported(1);
        let main = p.text_after("main.bicep");
        assert!(!main.contains("param rot onOff = 'true'"), "'true' is not an onOff:\n{main}");
        assert!(main.contains("param rot onOff = 'True'"), "'True' is the onOff that passes:\n{main}");
        p.assert_unchanged("types.bicep");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_arm_allowed_values_case: "break-arm-allowed-values-case" => |p| {
        p.assert_reported(1);
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), "true");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_bicep_for_if_index: "break-bicep-for-if-index" => |p| { p.assert_nothing_to_do(); }
    break_lv2_existing: "break-lv2-existing" => |p| {
        p.assert_reported(1);
        assert_eq!(p.findings().len(), 1, "{:#?}", p.findings());
        p.assert_kept("main.json", "/resources/old");
        assert_eq!(p.after_at("main.json", &rotation("/resources/new")), "true");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_arm_constant_scope: "break-arm-constant-scope" => |p| {
        p.assert_reported(1);
        assert_eq!(p.findings().len(), 1, "{:#?}", p.findings());
        for i in [0, 1, 3] {
            p.assert_kept("main.json", &format!("/resources/{i}"));
        }
        assert_eq!(p.after_at("main.json", &rotation("/resources/2")), "true");
        p.assert_clean_after();
        p.assert_all_safe();
    }
    break_bicep_constant_scope: "break-bicep-constant-scope" => |p| { p.assert_nothing_to_do(); }
}

/// Fixed: ARM looks a member up by its exact spelling before ignoring case
/// (`Object::lookup`), and JSON keys differing only in case are two members.
#[test]
fn break_lookup_exact_case() {
    prove("break-lookup-exact-case").assert_nothing_to_do();
}

/// Fixed: a module whose own defaults leave the add-on off fails only through its caller;
/// the proof also tries passing each callee parameter that defaults to false (`rot: 'true'`).
#[test]
fn break_module_callee_default() {
    let p = prove("break-module-callee-default");
    p.assert_reported(1);
    assert_eq!(p.changed(), ["main.bicep"]);
    assert!(
        p.text_after("main.bicep").contains("rot: 'true'"),
        "{}",
        p.text_after("main.bicep")
    );
    p.assert_unchanged("aks.bicep");
    p.assert_clean_after();
    p.assert_all_safe();
}

/// The same class where the callee's parameter is a bool that also feeds another resource,
/// and a second module call already passes its value: only the argument that changes
/// nothing but rotation is added, and a type the callee declares is kept (`true`, not
/// `'true'`).
#[test]
fn break_module_callee_default_bool() {
    let p = prove("break-module-callee-default-bool");
    p.assert_reported(1);
    assert_eq!(p.changed(), ["main.bicep"]);
    let main = p.text_after("main.bicep");
    assert!(main.contains("rot: true"), "{main}");
    assert!(!main.contains("tagged: true"), "{main}");
    p.assert_clean_after();
    p.assert_all_safe();
}

/// Fixed: `loadJsonContent` is known offline (the file beside the template), and here the
/// cluster passes.
#[test]
fn break_bicep_loadjson_true() {
    prove("break-bicep-loadjson-true").assert_nothing_to_do();
}

/// Each `load*Content` reads a file relative to the file that calls it.
#[test]
fn break_bicep_load_relative() {
    let p = prove("break-bicep-load-relative");
    p.assert_reported(1);
    assert_eq!(p.findings().len(), 1, "{:#?}", p.findings());
    assert!(p.changed().is_empty(), "{:?}", p.changed());
}

/// Where the add-on is off (defaults) but on with a parameter file, creating `config` for
/// rotation in the cluster is as inert as setting the rotation value there (found by the
/// break review; it was held back as unsafe).
#[test]
fn break_config_missing_addon_off_by_default() {
    let p = prove("break-config-missing-addon-off-by-default");

    p.assert_reported(2);
    assert_eq!(p.findings().len(), 2, "{:#?}", p.findings());
    assert_eq!(p.after_at("main.json", &rotation("/resources/0")), "true");
    assert!(
        bicep_block(&p.text_after("main.bicep"), "resource aks")
            .contains("enableSecretRotation: 'true'"),
        "the Bicep cluster is not fixed:\n{}",
        p.text_after("main.bicep")
    );
    assert_eq!(
        p.after_at("main.json", "/parameters/csi/defaultValue"),
        false
    );
    assert!(p
        .text_after("main.bicep")
        .contains("param csi bool = false"));
    p.assert_unchanged("main.parameters.prod.json");
    p.assert_unchanged("main.prod.bicepparam");
    p.assert_clean_after();
    p.assert_all_safe();
}

// ---------------------------------------------------------------------------------------
// The search walks the cluster's provenance chain (issue 12): when the source is unsafe,
// the next place closer to the cluster, the farthest safe one winning.

/// `flag`'s default, read by a storage account too, is kept.
fn assert_flag_kept(p: &Proof) {
    assert_eq!(
        p.after_at("main.json", "/parameters/flag/defaultValue"),
        "false"
    );
}

cases! {
    ch_param_shared_fix_at_variable: "ch-param-shared-fix-at-variable" => |p| {
        p.assert_fixed_closer("main.json", "variable", "allowBlobPublicAccess");
        assert_eq!(p.findings()[0]["fixSource"]["name"], "rot");
        assert_eq!(p.after_at("main.json", "/variables/rot"), "true");
        assert_flag_kept(&p);
        p.assert_kept("main.json", "/resources/0");
        p.assert_kept("main.json", &rotation("/resources/1"));
    }
    ch_variable_shared_fix_in_cluster: "ch-variable-shared-fix-in-cluster" => |p| {
        p.assert_fixed_closer("main.json", "value", "allowBlobPublicAccess");
        assert_eq!(p.after_at("main.json", &rotation("/resources/2")), "true");
        p.assert_kept("main.json", "/variables/rot");
        assert_flag_kept(&p);
    }
    ch_two_clusters_one_variable: "ch-two-clusters-one-variable" => |p| {
        p.assert_reported(2);
        let findings = p.findings();
        assert_eq!(findings.len(), 2, "{findings:#?}");
        for f in &findings {
            assert_eq!(f["fixSource"]["kind"], "variable", "{f:#}");
            assert_eq!(f["fixSource"]["name"], "rot", "{f:#}");
        }
        assert_eq!(p.after_at("main.json", "/variables/rot"), "true");
        p.assert_kept("main.json", "/resources/1");
        p.assert_kept("main.json", "/resources/2");
        assert_flag_kept(&p);
        // Moved to a variable with several uses: the planner's note says all of them change.
        for f in &findings {
            let message = f["message"].as_str().unwrap_or_default();
            assert!(message.contains("(variable `rot` is used in 2 places; all of them change)"), "{message}");
        }
        p.assert_all_safe();
        p.assert_clean_after();
    }
    ch_two_variables_farthest: "ch-two-variables-farthest" => |p| {
        p.assert_fixed_closer("main.json", "variable", "allowBlobPublicAccess");
        assert_eq!(p.findings()[0]["fixSource"]["name"], "v1");
        assert_eq!(p.after_at("main.json", "/variables/v1"), "true");
        p.assert_kept("main.json", "/variables/v2");
        assert_flag_kept(&p);
    }
    ch_two_variables_second: "ch-two-variables-second" => |p| {
        p.assert_fixed_closer("main.json", "variable", "allowBlobPublicAccess");
        assert_eq!(p.findings()[0]["fixSource"]["name"], "v2");
        assert_eq!(p.after_at("main.json", "/variables/v2"), "true");
        p.assert_kept("main.json", "/variables/v1");
        assert_flag_kept(&p);
        // Each place passed over is named with its own reason, not only the first.
        let message = p.findings()[0]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains("in variable `v1` it also changes") && message.contains("allowSharedKeyAccess"), "{message}");
    }
    ch_bool_wrapper_variable: "ch-bool-wrapper-variable" => |p| {
        p.assert_fixed_closer("main.json", "variable", "allowBlobPublicAccess");
        // A bool there before the fix: written as a bool, not the string "true".
        assert_eq!(p.after_at("main.json", "/variables/on"), true);
        assert_flag_kept(&p);
    }
    ch_union_operand: "ch-union-operand" => |p| {
        p.assert_fixed_closer("main.json", "expression", "allowBlobPublicAccess");
        assert_eq!(
            p.after_at("main.json", &format!("/resources/2{CSI}/config")),
            "[union(createObject('rotationPollInterval', '2m'), createObject('enableSecretRotation', 'true'))]"
        );
        p.assert_kept("main.json", "/variables/rot");
        assert_flag_kept(&p);
    }
    ch_if_branch: "ch-if-branch" => |p| {
        p.assert_fixed_closer("main.json", "expression", "allowBlobPublicAccess");
        assert_eq!(
            p.after_at("main.json", &rotation("/resources/2")),
            "[if(parameters('prod'), 'true', parameters('other'))]"
        );
        p.assert_kept("main.json", "/variables/rot");
        assert_flag_kept(&p);
    }
    ch_nested_passed_value: "ch-nested-passed-value" => |p| {
        p.assert_fixed_closer("main.json", "deployment-parameter", "allowBlobPublicAccess");
        assert_eq!(
            p.after_at("main.json", "/resources/1/properties/parameters/rot/value"),
            "true"
        );
        p.assert_kept("main.json", "/resources/1/properties/template");
        assert_flag_kept(&p);
    }
    ch_copy_loop_one_variable: "ch-copy-loop-one-variable" => |p| {
        p.assert_fixed_closer("main.json", "variable", "allowBlobPublicAccess");
        assert_eq!(p.after_at("main.json", "/variables/rot"), "true");
        // One edit for every copy: the cluster resource itself is as it was.
        p.assert_kept("main.json", "/resources/1");
        assert_flag_kept(&p);
    }
    ch_variable_object_config: "ch-variable-object-config" => |p| {
        p.assert_fixed_closer("main.json", "variable", "allowBlobPublicAccess");
        assert_eq!(p.after_at("main.json", "/variables/cfg/enableSecretRotation"), "true");
        p.assert_kept("main.json", "/variables/cfg/rotationPollInterval");
        p.assert_kept("main.json", &format!("/resources/1{CSI}"));
        assert_flag_kept(&p);
    }
    ch_lv2_symbolic: "ch-lv2-symbolic" => |p| {
        p.assert_fixed_closer("main.json", "variable", "allowBlobPublicAccess");
        assert_eq!(p.after_at("main.json", "/variables/rot"), "true");
        p.assert_kept("main.json", "/resources/aks");
        assert_flag_kept(&p);
    }
}

// ---------------------------------------------------------------------------------------
// A switch on one bool parameter (`if(parameters('p'), 'true', 'false')`): the parameter's
// default is flipped when it selects nothing else; other conditions stay a human's.

/// A side effect on a value unknown offline before and after says so, instead of printing
/// the same truncated `<unknown: …>` text twice.
fn assert_unknown_said_once(p: &Proof) {
    for f in p.findings() {
        let message = f["message"].as_str().unwrap_or_default();
        assert!(!message.contains("<unknown"), "{message}");
        assert!(
            message.contains("a value armfix cannot know offline"),
            "{message}"
        );
    }
}

/// One finding, manual review, nothing written.
fn assert_manual_only(p: &Proof) {
    p.assert_reported(1);
    let findings = p.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0]["remedy"]["kind"], "manual-review",
        "{:#}",
        findings[0]
    );
    assert!(p.changed().is_empty(), "{}", diffs(&p.before, &p.after));
}

cases! {
    sw_bool_param_shared: "sw-bool-param-shared" => |p| {
        p.assert_fixed_closer("main.json", "value", "allowBlobPublicAccess");
        assert_eq!(p.after_at("main.json", "/parameters/rot/defaultValue"), false);
        assert_eq!(p.after_at("main.json", &rotation("/resources/1")), "true");
    }
    sw_not_bool_param: "sw-not-bool-param" => |p| {
        p.assert_reported(1);
        let f = &p.findings()[0];
        assert_eq!(f["fixSource"]["kind"], "parameter-default", "{f:#}");
        assert_eq!(f["fixSource"]["name"], "noRotation", "{f:#}");
        assert_eq!(p.after_at("main.json", "/parameters/noRotation/defaultValue"), false);
        p.assert_kept("main.json", &rotation("/resources/0"));
        p.assert_all_safe();
        p.assert_clean_after();
    }
    nm_settled_name_expression: "nm-settled-name-expression" => |p| {
        p.assert_reported(2);
        p.assert_all_safe();
        p.assert_clean_after();
        let dir = temp_copy(&fixtures("proof").join("nm-settled-name-expression"));
        let dry = run(dir.path(), &["fix", "--dry-run", "--color", "never", "."]);
        assert!(dry.stdout.contains("    cluster: `aks-from-default`\n"), "{}", dry.stdout);
        assert!(!dry.stdout.contains("cluster: `[parameters('clusterName')]`"), "{}", dry.stdout);
        // Unknown offline: the expression as written, never a guess.
        assert!(dry.stdout.contains("cluster: `[concat(parameters('prefix'), '-aks')]`"), "{}", dry.stdout);
    }
    ch_bicep_two_clusters_one_variable: "ch-bicep-two-clusters-one-variable" => |p| {
        p.assert_fixed_closer("main.bicep", "variable", "allowBlobPublicAccess");
        let message = p.findings()[0]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains("(variable `rot` is used in 2 places; all of them change)"), "{message}");
        let after = p.text_after("main.bicep");
        assert!(after.contains("param flag string = 'false'") && after.contains("var rot = 'true'"), "{after}");
    }
    sp_bicep_side_effect_spelling: "sp-bicep-side-effect-spelling" => |p| {
        p.assert_fixed_closer("main.bicep", "value", "from 'false' to 'true'");
        assert!(p.text_after("main.bicep").contains("param rotation string = 'false'"));
    }
    sw_env_equals: "sw-env-equals" => |p| {
        assert_manual_only(&p);
        assert_eq!(p.after_at("main.json", "/parameters/env/defaultValue"), "dev");
    }
    sw_string_param_condition: "sw-string-param-condition" => |p| {
        assert_manual_only(&p);
    }
}

// ---------------------------------------------------------------------------------------
// Bicep provenance (eval::bicep_origin): conditions the defaults decide, `??`, deep `union()`,
// chains through parameter defaults, shared variables, loops.

cases! {
    c3x_bicep_ternary_null_on: "c3x-bicep-ternary-null-on" => |p| {
        p.assert_nothing_to_do();
    }
    c3x_bicep_decided_condition: "c3x-bicep-decided-condition" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        p.assert_unchanged("main.prod.bicepparam");
        let after = p.text_after("main.bicep");
        assert!(after.contains("param env string = 'dev'"), "{after}");
        assert!(after.contains("env == 'prod' ? 'true' : 'true'"), "{after}");
    }
    c4x_bicep_union_override_ok: "c4x-bicep-union-override-ok" => |p| {
        p.assert_nothing_to_do();
    }
    c1x_bicep_chain_two_clusters: "c1x-bicep-chain-two-clusters" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        let after = p.text_after("main.bicep");
        assert!(after.contains("param enableCsi bool = false"), "{after}");
        assert!(after.contains("param rot bool = true"), "the next place: {after}");
        assert!(
            bicep_block(&after, "resource aks2").contains("enabled: enableCsi"),
            "{after}"
        );
    }
    c2x_bicep_shared_variable_storage: "c2x-bicep-shared-variable-storage" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        let after = p.text_after("main.bicep");
        assert!(after.contains("var rot = 'false'"), "{after}");
        assert!(after.contains("allowBlobPublicAccess: bool(rot)"), "{after}");
    }
    c3x_bicep_coalesce_default: "c3x-bicep-coalesce-default" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        assert!(p.text_after("main.bicep").contains("rot ?? 'true'"));
    }
    c3x_bicep_settings_member: "c3x-bicep-settings-member" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        let after = p.text_after("main.bicep");
        assert!(after.contains("rotation: 'true'"), "{after}");
        assert!(after.contains("tier: 'Free'"), "{after}");
        assert!(after.contains("settings.?rotation ?? 'true'"), "{after}");
    }
    c1x_bicep_loop_shared_variable: "c1x-bicep-loop-shared-variable" => |p| {
        p.assert_reported(1);
        assert_eq!(p.findings().len(), 1, "{:#?}", p.findings());
        p.assert_all_safe();
        p.assert_clean_after();
        assert!(p.text_after("main.bicep").contains("var rotation = 'true'"));
    }
}

// ---------------------------------------------------------------------------------------
// ARM provenance through coalesce(), members and elements; literals added in place

cases! {
    o2_arm_copy_element_default: "o2-arm-copy-element-default" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        let base = "/parameters/clusters/defaultValue";
        assert_eq!(p.after_at("main.json", &format!("{base}/0/rot")), "true");
        assert_eq!(p.after_at("main.json", &format!("{base}/1/rot")), "true");
        assert_eq!(p.after_at("main.json", &format!("{base}/2/rot")), true);
        assert_eq!(p.after_at("main.json", &format!("{base}/2/name")), "c");
        assert!(p
            .text_after("main.json")
            .contains("[string(parameters('clusters')[copyIndex()].rot)]"));
    }
    o2_arm_coalesce_variable: "o2-arm-coalesce-variable" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        assert_eq!(p.after_at("main.json", "/variables/defaults/rotation"), "true");
        assert_eq!(p.after_at("main.json", "/variables/defaults/tier"), "Free");
    }
    o2_spec_unlinked_rotation_missing: "o2-spec-unlinked-rotation-missing" => |p| {
        p.assert_reported(1);
        p.assert_all_safe();
        p.assert_clean_after();
        let config = "/resources/0/properties/linkedTemplates/0/template/resources/0/properties\
                      /addonProfiles/azureKeyvaultSecretsProvider/config";
        assert_eq!(p.after_at("spec.json", &format!("{config}/enableSecretRotation")), "true");
        assert_eq!(p.after_at("spec.json", &format!("{config}/rotationPollInterval")), "2m");
    }
}

/// A `union()` operand shared with a storage account's tags (its fix is unsafe): the
/// cluster's `config` is written as a literal that keeps every other key the merged config
/// has, in Bicep as in ARM (`break4::arm_union_shared_operand_falls_back_to_the_cluster`),
/// and the shared operand is left as it is.
#[test]
fn bicep_union_shared_operand_falls_back_to_a_config_literal_keeping_its_keys() {
    let tmp = tempfile::tempdir().unwrap();
    crate::util::write(
        tmp.path(),
        "main.bicep",
        "var base = { rotationPollInterval: '2m' }\n\
         var over = { enableSecretRotation: 'false' }\n\n\
         resource st 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'st'\n  \
         location: 'westeurope'\n  tags: over\n}\n\n\
         resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {\n  \
         name: 'aks'\n  location: 'westeurope'\n  properties: {\n    addonProfiles: {\n      \
         azureKeyvaultSecretsProvider: { enabled: true, config: union(base, over) }\n    }\n  \
         }\n}\n",
    );
    let r = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let text = crate::util::read(tmp.path().join("main.bicep"));
    assert!(
        text.contains("config: { rotationPollInterval: '2m', enableSecretRotation: 'true' }"),
        "{text}"
    );
    assert!(
        text.contains("var over = { enableSecretRotation: 'false' }"),
        "{text}"
    );
    let again = run(tmp.path(), &["check", "--color", "never", "."]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

/// The same with a key of the merged config not known offline (a parameter without a
/// default): no literal can keep it, so nothing is written in the cluster and the shared
/// operand's fix stays unsafe, held back.
#[test]
fn arm_union_with_an_unknown_key_is_not_written_as_a_literal() {
    let tmp = tempfile::tempdir().unwrap();
    let template = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"poll": {"type": "string"}},
        "variables": {
            "base": {"rotationPollInterval": "[parameters('poll')]"},
            "over": {"enableSecretRotation": "false"}
        },
        "resources": [
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
             "name": "st", "tags": "[variables('over')]", "properties": {}},
            {"type": "Microsoft.ContainerService/managedClusters", "apiVersion": "2024-02-01",
             "name": "aks", "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {
                "enabled": true,
                "config": "[union(variables('base'), variables('over'))]"}}}}
        ]
    });
    let original = serde_json::to_string_pretty(&template).unwrap();
    crate::util::write(tmp.path(), "main.json", &original);
    let r = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(crate::util::read(tmp.path().join("main.json")), original);
}

/// A fix whose every place writes a value the template's own types reject (the module
/// allows only `'false'`) is never offered, not even as unsafe: `--unsafe-fixes` writes
/// nothing, and the finding is a human's, saying which value is rejected.
#[test]
fn a_fix_the_template_rejects_is_manual_review_even_with_unsafe_fixes() {
    let tmp = tempfile::tempdir().unwrap();
    let main = "param flag bool = false\n\n\
                resource st 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'st'\n  \
                location: 'westeurope'\n  properties: { allowBlobPublicAccess: flag }\n}\n\n\
                module m './aks.bicep' = {\n  name: 'm'\n  params: {\n    \
                enableSecretRotation: string(flag)\n  }\n}\n";
    let aks = "@allowed(['false'])\nparam enableSecretRotation string = 'false'\n\n\
               resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {\n  \
               name: 'aks'\n  location: 'westeurope'\n  properties: {\n    addonProfiles: {\n      \
               azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: \
               enableSecretRotation } }\n    }\n  }\n}\n";
    crate::util::write(tmp.path(), "main.bicep", main);
    crate::util::write(tmp.path(), "aks.bicep", aks);
    let r = run(
        tmp.path(),
        &[
            "fix",
            "--yes",
            "--unsafe-fixes",
            "--color",
            "never",
            "main.bicep",
        ],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(crate::util::read(tmp.path().join("main.bicep")), main);
    let c = run(tmp.path(), &["check", "--color", "never", "main.bicep"]);
    assert!(
        c.stdout.contains("needs manual review") && c.stdout.contains("rejects"),
        "{}",
        c.stdout
    );
    assert!(!c.stdout.contains("unsafe fix"), "{}", c.stdout);
}

/// A parameter file whose own fix would be unsafe does not own the failure: the template's
/// cluster is fixed instead, and the finding says why the parameter file was not (its side
/// effect there), for JSON parameter files and `.bicepparam` alike.
#[test]
fn a_fix_moved_from_an_unsafe_parameter_file_says_why() {
    for (case, config) in [
        ("arm-paramfile-shared-unsafe", "main.parameters.prod.json"),
        ("bicepparam-shared-unsafe", "prod.bicepparam"),
    ] {
        let dir = crate::util::temp_repo_copy(&fixtures("break4").join(case));
        let r = run(dir.path(), &["check", "--color", "never", "."]);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(&format!(
                "fixed in the cluster, because in {config} it also changes \
                 `Microsoft.Storage/storageAccounts` `st` `properties.allowBlobPublicAccess`"
            )),
            "{case}: {}",
            r.stdout
        );
    }
}
