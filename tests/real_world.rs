//! Faults found by breaking armfix on real public templates (the `rule-once` break review):
//! each is a minimal fixture under `tests/fixtures/real-world/` (written for armfix after a
//! shape seen in public repositories; see its README) and a test of what a careful human
//! expects. A test marked `#[ignore = "..."]` is an open fault outside the review's files:
//! the reason names it; run them with `cargo test --test integration real_world -- --ignored`.
//!
//! Every fixture, faulty or not, must also keep the guarantees that hold today: no panic,
//! exit code 0, 1 or 2 as documented, and a second `fix --yes` that changes nothing.

use crate::util::{fixture_names, fixtures, read, run, temp_repo_copy, tree};
use std::path::Path;

/// Every fixture folder, each with its test below.
const CASES: &[&str] = &[
    "arm-evaluated-name",
    "arm-if-on-bool-param",
    "arm-linked-cluster-label",
    "arm-minified-style",
    "arm-nested-output-label",
    "bicep-allowed-title-case",
    "bicep-coalesce-fallback",
    "bicep-interpolated-bool",
    "bicep-module-chain-output",
    "bicep-module-loop-location",
    "bicep-typed-object-member",
    "bicepparam-extends",
    "terraform-legacy-addon-profile",
    "terraform-optional-defaults",
];

fn case(name: &str) -> tempfile::TempDir {
    temp_repo_copy(&fixtures("real-world").join(name))
}

/// Runs `armfix fix --yes` in `dir` and returns its stdout and stderr together.
fn fix_yes(dir: &Path) -> String {
    let r = run(dir, &["fix", "--yes", "--color", "never", "."]);
    assert!(r.code <= 2, "exit {}: {}", r.code, r.stderr);
    format!("{}{}", r.stdout, r.stderr)
}

#[test]
fn every_case_has_a_test() {
    let mut on_disk = fixture_names("real-world");
    on_disk.retain(|n| n != "README.md");
    assert_eq!(on_disk, CASES, "tests/fixtures/real-world and CASES differ");
}

/// What holds today for every case: `check`, `fix --dry-run` and the JSON and SARIF reports
/// end with a documented exit code, a dry run writes nothing, and `fix --yes` is idempotent.
#[test]
fn every_case_ends_cleanly_and_a_second_fix_changes_nothing() {
    for name in CASES {
        let dir = case(name);
        let before = tree(dir.path());
        for args in [
            &["check", "."][..],
            &["fix", "--dry-run", "."],
            &["check", "--format", "json", "."],
            &["check", "--format", "sarif", "."],
        ] {
            let r = run(dir.path(), args);
            assert!(
                r.code <= 2,
                "{name}: {args:?} exit {}: {}",
                r.code,
                r.stderr
            );
            assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        }
        assert_eq!(tree(dir.path()), before, "{name}: a dry run wrote");
        fix_yes(dir.path());
        let once = tree(dir.path());
        fix_yes(dir.path());
        assert_eq!(
            tree(dir.path()),
            once,
            "{name}: the second fix --yes changed files"
        );
    }
}

/// `'${flag}'` is `string(flag)` written as an interpolation: armfix fixes the latter at the
/// parameter's default (gatewayapi-style templates), but gives up on the former.
#[test]
fn bicep_interpolated_bool_is_fixed_at_the_parameter_default() {
    let dir = case("bicep-interpolated-bool");
    let out = fix_yes(dir.path());
    let text = read(dir.path().join("main.bicep"));
    assert!(
        text.contains("param sharedRotation bool = true"),
        "{out}\n{text}"
    );
    assert!(
        text.contains("'${sharedRotation}'"),
        "the cluster's own value is kept"
    );
}

/// azurerm 2.x wrote the add-on as `addon_profile { azure_keyvault_secrets_provider { ... } }`
/// (removed in azurerm 3.0, still in public repositories). With the add-on on and rotation
/// `false`, armfix says "No findings": a silent miss.
#[test]
fn terraform_legacy_addon_profile_is_reported() {
    let dir = case("terraform-legacy-addon-profile");
    let r = run(dir.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("secret_rotation_enabled"), "{}", r.stdout);
}

/// `@allowed(['False', 'True'])`: `'True'` is allowed and passes the rule (PSRule compares
/// ignoring case). A Bicep literal type `'False' | 'True'` gets `'True'` written; the same
/// list in `@allowed` is manual review whose message asks to add `'true'` to @allowed.
#[test]
fn bicep_allowed_title_case_gets_the_allowed_spelling() {
    let dir = case("bicep-allowed-title-case");
    let out = fix_yes(dir.path());
    let text = read(dir.path().join("main.bicep"));
    assert!(
        text.contains("param rotation string = 'True'"),
        "{out}\n{text}"
    );
}

/// A typed object parameter whose default holds the rotation: an object parameter's default
/// is fixed in place when the add-on object itself comes from it, but a member read
/// (`csi.rotation`) is manual review, though the member's type allows `'true'` and changing
/// it changes nothing else.
#[test]
fn bicep_typed_object_member_is_fixed_in_the_default() {
    let dir = case("bicep-typed-object-member");
    let out = fix_yes(dir.path());
    let text = read(dir.path().join("main.bicep"));
    assert!(text.contains("rotation: 'true'"), "{out}\n{text}");
    assert!(
        text.contains("enableSecretRotation: csi.rotation"),
        "{text}"
    );
}

/// `[if(parameters('rot'), 'true', 'false')]` with `rot` false by default: setting the
/// default to true changes only rotation (the evaluator knows both branches), yet armfix
/// leaves it to a human.
#[test]
fn arm_if_on_bool_param_is_fixed_at_the_default() {
    let dir = case("arm-if-on-bool-param");
    let out = fix_yes(dir.path());
    let text = read(dir.path().join("azuredeploy.json"));
    assert!(
        text.contains(r#""rot": { "type": "bool", "defaultValue": true }"#),
        "{out}\n{text}"
    );
}

/// The message about why the fix lands in the cluster names the nested deployment's output
/// by an internal id (`resources/0.rotation`), not as the template names it.
#[test]
fn nested_output_is_named_as_written() {
    let dir = case("arm-nested-output-label");
    let r = run(dir.path(), &["fix", "--dry-run", "--color", "never", "."]);
    assert!(r.stdout.contains("`rotation`"), "{}", r.stdout);
    assert!(!r.stdout.contains("resources/0"), "{}", r.stdout);
    assert!(r.stdout.contains("aksDeploy"), "{}", r.stdout);
}

/// A cluster in a linked template (`templateLink.relativePath`): the headline names the
/// cluster `aks-linked`, the detail lines call the deployment `aksDeploy` "cluster".
#[test]
fn linked_template_cluster_is_named_as_the_cluster() {
    let dir = case("arm-linked-cluster-label");
    let r = run(dir.path(), &["fix", "--dry-run", "--color", "never", "."]);
    assert!(r.stdout.contains("cluster `aks-linked`"), "{}", r.stdout);
    assert!(!r.stdout.contains("cluster: `aksDeploy`"), "{}", r.stdout);
    assert!(!r.stdout.contains("of cluster `aksDeploy`"), "{}", r.stdout);
}

/// A template saved without whitespace gets `"enableSecretRotation": "true"` with a space,
/// unlike every other member of the file.
#[test]
fn minified_template_keeps_its_style() {
    let dir = case("arm-minified-style");
    let out = fix_yes(dir.path());
    let text = read(dir.path().join("azuredeploy.json"));
    assert!(
        text.contains(r#""config":{"enableSecretRotation":"true"}"#),
        "{out}\n{text}"
    );
}

/// Terraform (1.3+) fills a missing object attribute from its `optional(type, default)`:
/// with `default = {}`, `enable_secret_rotation` is `false` and `enabled` is `true`, so the
/// cluster runs the add-on without rotation. armfix reads the attribute as missing and says
/// "not known offline (Terraform would stop with an error here)", which is untrue.
#[test]
fn terraform_optional_attribute_defaults_are_applied() {
    let dir = case("terraform-optional-defaults");
    let r = run(dir.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        !r.stdout.contains("would stop with an error"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("manual review"), "{}", r.stdout);
    let out = fix_yes(dir.path());
    let again = run(dir.path(), &["check", "."]);
    assert_eq!(again.code, 0, "{out}\n{}", again.stdout);
}

/// A local module call that omits the rotation parameter: the finding is placed at column 1
/// of the line holding the closing `}` of `params` (an empty span at the insertion point),
/// where an annotation shows a bare brace; the AVM path points at the `params` object. And
/// the loop's message names one failing cluster (`aks-dev`) though `aks-test` fails too.
#[test]
fn module_call_finding_points_at_the_call() {
    let dir = case("bicep-module-loop-location");
    let r = run(dir.path(), &["check", "--format", "json", "."]);
    let doc = crate::util::json(&r.stdout);
    let file = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "main.bicep")
        .expect("main.bicep reported");
    let lines: Vec<u64> = file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["start"]["line"].as_u64().unwrap())
        .collect();
    // `module single` spans lines 1-7 with `params` on 3; `module looped` 9-15 with 11.
    assert!(
        lines.iter().all(|l| [1, 3, 9, 11].contains(l)),
        "{lines:?}\n{}",
        r.stdout
    );
    let text = run(dir.path(), &["check", "."]);
    assert!(text.stdout.contains("aks-test"), "{}", text.stdout);
}

/// ARM clusters named by an expression are labelled with the expression as written
/// (`[parameters('clusterName')]`), though the evaluator knows the name (`aks-from-param`,
/// and `aks-weu`/`aks-neu` in the copy loop); Bicep labels show `(name `...`)`.
#[test]
fn arm_cluster_label_shows_the_evaluated_name() {
    let dir = case("arm-evaluated-name");
    let r = run(dir.path(), &["fix", "--dry-run", "--color", "never", "."]);
    assert!(r.stdout.contains("aks-from-param"), "{}", r.stdout);
    assert!(r.stdout.contains("aks-weu"), "{}", r.stdout);
}

/// Extendable parameter files (Bicep CLI 0.44.1+, learn.microsoft.com/azure/
/// azure-resource-manager/bicep/bicep-extend): `main.dev.bicepparam` extends
/// `base.bicepparam` (`using none`), which sets `rotation = 'false'`; deployed with the dev
/// file, the cluster fails. armfix says "No findings": the inherited value is not read.
#[test]
fn bicepparam_extends_applies_the_base_values() {
    let dir = case("bicepparam-extends");
    let r = run(dir.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("main.dev.bicepparam") || r.stdout.contains("base.bicepparam"));
}

/// `cfg.?rotation ?? 'false'` with `cfg` empty by default: the deployed value is the literal
/// fallback. Terraform's `lookup(var.kv, "secret_rotation_enabled", false)` and
/// `try(var.kv.rotation, false)` get their fallback fixed "inside the expression"; the Bicep
/// twin is manual review.
#[test]
fn bicep_coalesce_fallback_is_fixed_in_place() {
    let dir = case("bicep-coalesce-fallback");
    let out = fix_yes(dir.path());
    let text = read(dir.path().join("main.bicep"));
    assert!(text.contains("cfg.?rotation ?? 'true'"), "{out}\n{text}");
}

/// Two module levels: `main.bicep` calls `platform.bicep` (rotation `'false'` by default, also
/// an output) which calls `aks.bicep`. Fixing the default changes the output, so it is unsafe;
/// but the value `platform.bicep` passes to `aks.bicep`, or the cluster's own value, changes
/// only rotation. armfix stops with "found no change it can prove safe".
#[test]
fn module_chain_finds_the_safe_fix_closer_to_the_cluster() {
    let dir = case("bicep-module-chain-output");
    let r = run(dir.path(), &["fix", "--dry-run", "--color", "never", "."]);
    assert!(
        !r.stdout.contains("no change it can prove safe"),
        "{}",
        r.stdout
    );
    let out = fix_yes(dir.path());
    let again = run(dir.path(), &["check", "."]);
    assert_eq!(again.code, 0, "{out}\n{}", again.stdout);
    assert!(
        read(dir.path().join("modules/platform.bicep"))
            .contains("output rotationUsed string = rotation"),
        "the output is kept"
    );
}

/// The same module scanned alone has a finding; scanned with its caller, it has none
/// ("modules/platform.bicep: no findings"), though it is also deployed on its own. Without
/// the output (so with a safe fix), both scans report it.
#[test]
fn a_module_s_own_finding_does_not_depend_on_the_scan_scope() {
    let dir = case("bicep-module-chain-output");
    let alone = run(dir.path(), &["check", "modules/platform.bicep"]);
    assert_eq!(alone.code, 1, "{}", alone.stdout);
    let all = run(dir.path(), &["check", "."]);
    assert!(
        all.stdout.contains("modules/platform.bicep:"),
        "alone:\n{}\nwith its caller:\n{}",
        alone.stdout,
        all.stdout
    );
}
