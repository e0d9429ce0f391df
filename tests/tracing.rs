//! Tracing: values are followed to their source (variables, expressions, parameter defaults,
//! nested deployments, parameter files) and fixed there. Each folder under
//! `tests/fixtures/trace/` is a small repository; the test copies it, snapshots what
//! `fix --dry-run` shows, checks the specific edits, writes with `fix --yes`, and proves a
//! second run finds nothing left to fix.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{fixtures, run, temp_copy, tree, Run};

fn fixture(name: &str) -> PathBuf {
    fixtures("trace").join(name)
}

/// Copies the case, snapshots the dry run, writes the fixes, and checks idempotence.
/// Returns the temporary folder (kept alive by the guard) for further checks.
fn run_case(name: &str) -> (tempfile::TempDir, Run) {
    let tmp = temp_copy(&fixture(name));
    let dry = run(tmp.path(), &["fix", "--dry-run", "--color", "never", "."]);
    // Diffs of CRLF files are shown with a visible mark so the snapshot keeps them.
    snapshot!(
        format!("trace__{name}"),
        format!(
            "{}\n--- stderr ---\n{}",
            dry.stdout.replace('\r', "␍"),
            dry.stderr
        )
    );
    let before = tree(tmp.path());
    let write = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_ne!(write.code, 2, "fix --yes failed: {}", write.stderr);
    let after = tree(tmp.path());
    let again = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(tree(tmp.path()), after, "a second run changed files");
    assert!(
        !again.stderr.contains("armfix: wrote")
            && !again.stderr.contains("Fixed 1")
            && !again.stderr.contains(" not written"),
        "second run still finds fixable findings: {}",
        again.stderr
    );
    if dry.stdout.contains("+++ ") {
        assert_ne!(
            before, after,
            "the dry run showed diffs but nothing was written"
        );
    }
    (tmp, dry)
}

fn patch(dir: &Path, file: &str) -> serde_json::Value {
    let r = run(dir, &["patch", file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn variable_holding_the_addon_profiles_object() {
    let (tmp, dry) = run_case("variable-object");
    assert!(
        dry.stdout.contains("fixed in variable `addonProfiles`")
            || dry.stderr.contains("1 at its source")
    );
    let p = patch(&fixture("variable-object"), "azuredeploy.json");
    assert_eq!(p[0]["op"], "add");
    assert_eq!(
        p[0]["path"],
        "/variables/addonProfiles/azureKeyvaultSecretsProvider/config"
    );
    let fixed: serde_json::Value =
        serde_json::from_str(&read(tmp.path(), "azuredeploy.json")).unwrap();
    assert_eq!(
        fixed["variables"]["addonProfiles"]["azureKeyvaultSecretsProvider"]["config"]
            ["enableSecretRotation"],
        "true"
    );
}

#[test]
fn string_variable_used_elsewhere_stays_and_the_cluster_gets_the_literal() {
    // `rotate` also names a storage account: changing it would rename (replace) that
    // account at deploy time, so the fix lands in the cluster itself.
    let tmp = temp_copy(&fixture("variable-string"));
    let check = run(tmp.path(), &["check", "."]);
    assert_eq!(check.code, 1);
    assert!(
        check.stdout.contains(
            "fixed in the cluster itself, because fixing it at its source also changes \
             `Microsoft.Storage/storageAccounts` `stfalse` `name` from \"stfalse\" to \"sttrue\""
        ),
        "{}",
        check.stdout
    );
    let (tmp, _) = run_case("variable-string");
    let text = read(tmp.path(), "azuredeploy.json");
    assert!(text.contains("\"rotate\": \"false\""), "{text}");
    assert!(
        text.contains("\"enableSecretRotation\": \"true\""),
        "{text}"
    );
}

#[test]
fn inner_scoped_nested_deployment() {
    let (tmp, _) = run_case("nested-inner");
    let text = read(tmp.path(), "azuredeploy.json");
    // The outer parameter feeding the inner one through the deployment's parameters.
    assert!(text.contains("\"defaultValue\": \"true\""), "{text}");
    // The literal the deployment passes for a bool parameter stays a bool.
    assert!(text.contains("\"passed\": { \"value\": true }"), "{text}");
    // The inner template's own variable, not the outer one of the same name.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["variables"]["kvAddon"]["config"]["enableSecretRotation"] == "true");
    let inner = &v["resources"][0]["properties"]["template"]["variables"]["kvAddon"];
    assert_eq!(inner["config"]["enableSecretRotation"], "true");
}

#[test]
fn parameter_defaults_in_their_own_type() {
    let (tmp, dry) = run_case("parameter-default");
    let v: serde_json::Value = serde_json::from_str(&read(tmp.path(), "azuredeploy.json")).unwrap();
    assert_eq!(v["parameters"]["rotationBool"]["defaultValue"], true);
    assert_eq!(v["parameters"]["rotationString"]["defaultValue"], "true");
    assert_eq!(v["parameters"]["rotationJson"]["defaultValue"], "true");
    // allowedValues without true: reported, not edited.
    assert_eq!(v["parameters"]["restricted"]["defaultValue"], "false");
    assert!(
        dry.stdout.contains("allowedValues do not include true"),
        "{}",
        dry.stdout
    );
    assert_eq!(dry.code, 1);
}

#[test]
fn parameter_files_beside_the_template() {
    let (tmp, dry) = run_case("parameter-files");
    // No default: reported, none added.
    assert!(
        dry.stdout.contains("has no default value"),
        "{}",
        dry.stdout
    );
    assert!(!read(tmp.path(), "main.json").contains("defaultValue"));
    // The failing parameter file is fixed in its own style (tabs, CRLF).
    let prod = read(tmp.path(), "main.parameters.prod.json");
    assert!(prod.contains("\t\t\t\"value\": true\r\n"), "{prod:?}");
    // A parameter file in another folder belongs to another template: untouched.
    assert_eq!(
        read(tmp.path(), "other-folder/main.parameters.json"),
        read(
            &fixture("parameter-files"),
            "other-folder/main.parameters.json"
        )
    );
    // The template's patch holds only the template's edits: none here.
    assert_eq!(
        patch(&fixture("parameter-files"), "main.json"),
        serde_json::json!([])
    );
}

#[test]
fn parameter_file_linked_by_metadata_template() {
    let (tmp, _) = run_case("metadata-link");
    assert!(read(tmp.path(), "env/prod-params.json").contains("\"value\": \"true\""));
}

#[test]
fn literals_inside_expressions() {
    let (tmp, _) = run_case("expression-literal");
    let text = read(tmp.path(), "azuredeploy.json");
    assert!(
        text.contains("createObject('enableSecretRotation', 'true', 'rotationPollInterval', '2m')")
    );
    assert!(
        text.contains("createObject('rotationPollInterval', '2m', 'enableSecretRotation', 'true')")
    );
    assert!(text.contains("string('true')"));
}

#[test]
fn union_and_if_in_variables() {
    let (tmp, _) = run_case("union-variables");
    let text = read(tmp.path(), "azuredeploy.json");
    assert!(
        text.contains("createObject('enableSecretRotation', 'true', 'rotationPollInterval', '5m')")
    );
    assert!(!text.contains("'false'"));
}

#[test]
fn untraceable_values_need_manual_review_with_place_and_reason() {
    let (tmp, dry) = run_case("manual-review");
    assert_eq!(dry.code, 1);
    let lines: Vec<&str> = dry
        .stdout
        .lines()
        .filter(|l| l.contains("needs manual review"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", dry.stdout);
    assert!(
        lines[0].starts_with("azuredeploy.json:14:45: "),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("depends on another resource"));
    assert!(lines[2].contains("depends on a condition"));
    // Nothing was written.
    assert_eq!(
        read(tmp.path(), "azuredeploy.json"),
        read(&fixture("manual-review"), "azuredeploy.json")
    );
}

#[test]
fn force_literal_overwrites_expressions_on_request() {
    let tmp = temp_copy(&fixture("manual-review"));
    // Overwriting the loop's computed `config` (an Unknown offline) with a literal object may
    // drop what the expression computed besides rotation: an unsafe fix, held back by
    // default.
    let safe_only = run(
        tmp.path(),
        &[
            "fix",
            "--dry-run",
            "--force-literal",
            "--color",
            "never",
            ".",
        ],
    );
    assert!(
        safe_only.stderr.contains("1 unsafe fix held back"),
        "{}",
        safe_only.stderr
    );
    assert!(
        !safe_only.stdout.contains("addonConfigs"),
        "{}",
        safe_only.stdout
    );
    let r = run(
        tmp.path(),
        &[
            "fix",
            "--yes",
            "--force-literal",
            "--unsafe-fixes",
            "--color",
            "never",
            ".",
        ],
    );
    assert!(
        r.stdout
            .contains("+        \"config\": { \"enableSecretRotation\": \"true\" }")
            || r.stdout.contains("\"enableSecretRotation\": \"true\""),
        "{}",
        r.stdout
    );
    let v: serde_json::Value = serde_json::from_str(&read(tmp.path(), "azuredeploy.json")).unwrap();
    let rotation = &v["resources"][0]["properties"]["addonProfiles"]
        ["azureKeyvaultSecretsProvider"]["config"]["enableSecretRotation"];
    assert_eq!(rotation, "true");
    let again = run(tmp.path(), &["check", "."]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn summary_counts_direct_source_and_manual() {
    let tmp = temp_copy(&fixture("parameter-default"));
    let r = run(tmp.path(), &["check", "."]);
    assert!(
        r.stderr
            .contains(": 3 fixable (3 at their source), 1 needs manual review."),
        "{}",
        r.stderr
    );
}

/// A message names a parameter as declared (`Rot`), not as one use spells it (`rOT`).
#[test]
fn messages_name_parameters_as_declared() {
    let dir = tempfile::tempdir().unwrap();
    let template = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": { "Rot": { "type": "string", "defaultValue": "false", "allowedValues": ["false"] },
                  "Kind": { "type": "int", "defaultValue": 0 } },
  "resources": [
    { "type": "Microsoft.ContainerService/managedClusters", "apiVersion": "2024-02-01", "name": "aks",
      "location": "westeurope",
      "properties": { "addonProfiles": { "azureKeyvaultSecretsProvider": { "enabled": true,
        "config": { "enableSecretRotation": "[parameters('rOT')]" } } } } },
    { "type": "Microsoft.ContainerService/managedClusters", "apiVersion": "2024-02-01", "name": "aks2",
      "location": "westeurope",
      "properties": { "addonProfiles": { "azureKeyvaultSecretsProvider": { "enabled": true,
        "config": { "enableSecretRotation": "[parameters('kIND')]" } } } } }
  ]
}"#;
    std::fs::write(dir.path().join("main.json"), template).unwrap();
    let r = crate::util::run(dir.path(), &["check", "--color", "never", "main.json"]);
    assert!(
        r.stdout.contains("parameter `Rot`'s allowedValues"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("parameter `Kind` is of type `int`"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("parameter `rOT`"), "{}", r.stdout);
    assert!(!r.stdout.contains("parameter `kIND`"), "{}", r.stdout);
}
