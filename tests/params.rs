//! Parameter files of every shape, and PSRule's own settings (issue 13). Three fixture trees,
//! each described by its README: `tests/fixtures/params-naming/` (every naming convention,
//! `metadata.template` from other folders, an ambiguous name, azd's layout),
//! `tests/fixtures/params-values/` (Key Vault references, azd placeholders) and
//! `tests/fixtures/params-psrule/` (a `ps-rule.yaml` that excludes the rule, one that
//! suppresses it and ignores a folder, one that turns parameter-file linking off, suppression
//! groups with conditions on the evaluated clusters).

use std::fs;
use std::path::Path;

use crate::util::{fixtures, json, run, stable, temp_repo_copy, tree};

fn both(r: &crate::util::Run, root: &Path) -> String {
    stable(&format!("{}\n--- stderr ---\n{}", r.stdout, r.stderr), root)
}

/// The files whose bytes differ between two trees.
fn changed(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) -> Vec<String> {
    after
        .iter()
        .filter(|(p, b)| before.iter().find(|(q, _)| q == p).map(|(_, a)| a) != Some(b))
        .map(|(p, _)| p.clone())
        .collect()
}

#[test]
fn every_naming_convention_is_linked_and_said_with_verbose() {
    let tmp = temp_repo_copy(&fixtures("params-naming"));
    let check = run(tmp.path(), &["check", "-v", "--color", "never", "."]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    snapshot!(
        "params__naming_check_verbose",
        both(&check, tmp.path()),
        description => "armfix check -v on tests/fixtures/params-naming"
    );
    // The ambiguous name is reported (verbose), not guessed.
    assert!(check.stderr.contains(
        "not linked ambiguous/parameters.json: named like parameters.json (the folder's only template), it fits ambiguous/one.json and ambiguous/two.json"
    ), "{}", check.stderr);
    assert!(!check.stdout.contains("ambiguous/"), "{}", check.stdout);

    let before = tree(tmp.path());
    let fix = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    let after = tree(tmp.path());
    assert_eq!(
        changed(&before, &after),
        [
            "azd/infra/main.parameters.json",
            "deployments/prod.json",
            "envfolder/parameters/dev.json",
            "linked/env/dev.json",
            "quickstart/azuredeploy.parameters.json",
            "single/parameters.json",
            "suffixes/main.parameters-test.jsonc",
            "suffixes/main.parameters.dev.json",
            "suffixes/main.prod.parameters.json",
        ]
    );
    // Only the value changed; the JSONC comment stays.
    let jsonc = String::from_utf8(
        after
            .iter()
            .find(|(p, _)| p == "suffixes/main.parameters-test.jsonc")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert_eq!(
        jsonc,
        fs::read_to_string(fixtures(
            "params-naming/suffixes/main.parameters-test.jsonc"
        ))
        .unwrap()
        .replace("\"value\": \"false\"", "\"value\": \"true\"")
    );
    let again = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(tree(tmp.path()), after, "a second run changed files");
}

/// Issue 12's known limit: a parameter file in another folder that names the template by
/// `metadata.template` is a configuration of the template too, also when only the template
/// is named on the command line (the pre-commit hook).
#[test]
fn a_template_named_alone_is_evaluated_with_files_linked_from_any_folder() {
    let tmp = temp_repo_copy(&fixtures("params-naming"));
    let r = run(
        tmp.path(),
        &["check", "--color", "never", "linked/main.json"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!(
        "params__template_alone",
        both(&r, tmp.path()),
        description => "armfix check linked/main.json in tests/fixtures/params-naming"
    );
    assert!(r.stdout.contains("fails with deployments/prod.json"));
    assert!(r.stdout.contains("fails with linked/env/dev.json"));
    // Each parameter file alone prints its own patch, read with the template it names.
    for file in ["linked/env/dev.json", "deployments/prod.json"] {
        let p = run(tmp.path(), &["patch", file]);
        assert_eq!(p.code, 0, "{}", p.stderr);
        assert_eq!(
            json(&p.stdout),
            serde_json::json!([{"op": "replace", "path": "/parameters/rotation/value", "value": "true"}]),
            "{file}"
        );
    }
}

/// The pre-commit hook names only the staged files: a parameter file staged alone is judged
/// with the template it is linked to (read for that, not reported or written), as `patch`
/// reads it; each link kind (metadata.template from another folder, a naming convention, a
/// `.bicepparam`'s `using`).
#[test]
fn a_parameter_file_named_alone_is_judged_with_its_template() {
    let tmp = temp_repo_copy(&fixtures("params-naming"));
    let before = tree(tmp.path());
    for file in ["linked/env/dev.json", "deployments/prod.json"] {
        let r = run(tmp.path(), &["check", "--color", "never", file]);
        assert_eq!(r.code, 1, "{file}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with(&format!("{file}:")), "{}", r.stdout);
        assert!(
            !r.stdout.contains("main.json:") && r.stderr.contains("in 1 of 1 file"),
            "the template is read, not reported: {}{}",
            r.stdout,
            r.stderr
        );
    }
    let r = run(tmp.path(), &["fix", "--yes", "linked/env/dev.json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        changed(&before, &tree(tmp.path())),
        ["linked/env/dev.json"],
        "only the named file is written"
    );
    let r = run(tmp.path(), &["check", "linked/env/dev.json"]);
    assert_eq!(r.code, 0, "idempotent: {}{}", r.stdout, r.stderr);

    let d = tempfile::tempdir().unwrap();
    crate::util::write(
        d.path(),
        "main.bicep",
        "param rot bool\n\nresource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {\n  name: 'aks'\n  location: 'westeurope'\n  properties: {\n    addonProfiles: {\n      azureKeyvaultSecretsProvider: {\n        enabled: true\n        config: {\n          enableSecretRotation: string(rot)\n        }\n      }\n    }\n  }\n}\n",
    );
    crate::util::write(
        d.path(),
        "prod.bicepparam",
        "using 'main.bicep'\nparam rot = false\n",
    );
    let r = run(d.path(), &["check", "--color", "never", "prod.bicepparam"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("prod.bicepparam:2:"), "{}", r.stdout);
}

/// A `.bicepparam` base (`using none`) is judged against PSRule's suppression in every
/// configuration that extends it: a fix of the base that changes only suppressed clusters is
/// left alone; one that also changes a suppressed cluster beside another is manual review.
#[test]
fn a_bicepparam_base_fix_is_judged_against_suppression_in_each_extending_file() {
    let tmp = temp_repo_copy(&fixtures("bicep-extends"));
    let base = crate::util::read(tmp.path().join("params/base.bicepparam"));
    crate::util::write(
        tmp.path(),
        "ps-rule.yaml",
        "suppression:\n  Azure.AKS.SecretStoreRotation:\n  - aks-dev\n  - aks-weu\n",
    );
    let r = run(tmp.path(), &["fix", "--yes", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        crate::util::read(tmp.path().join("params/base.bicepparam")),
        base,
        "every cluster the base's fix changes is suppressed"
    );
    crate::util::write(
        tmp.path(),
        "ps-rule.yaml",
        "suppression:\n  Azure.AKS.SecretStoreRotation:\n  - aks-dev\n",
    );
    let r = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("aks-dev"), "{}", r.stdout);
    assert_eq!(
        crate::util::read(tmp.path().join("params/base.bicepparam")),
        base,
        "the base's fix would change the suppressed aks-dev"
    );
}

#[test]
fn an_ambiguous_name_is_linked_by_armfix_toml() {
    let tmp = temp_repo_copy(&fixtures("params-naming"));
    let p = run(tmp.path(), &["patch", "ambiguous/parameters.json"]);
    assert_eq!((p.code, p.stdout.trim()), (0, "[]"), "{}", p.stderr);
    fs::write(
        tmp.path().join("armfix.toml"),
        "[parameter-files.links]\n\"ambiguous/parameters.json\" = \"ambiguous/two.json\"\n",
    )
    .unwrap();
    let r = run(
        tmp.path(),
        &["check", "-v", "--color", "never", "ambiguous"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.starts_with(
        "ambiguous/parameters.json:6:16: Azure.AKS.SecretStoreRotation: parameter `rotation` sets `enableSecretRotation` of ambiguous/two.json"
    ), "{}", r.stdout);
    assert!(r.stderr.contains(
        "linked ambiguous/parameters.json to ambiguous/two.json: armfix.toml links it under [parameter-files.links]"
    ), "{}", r.stderr);
    let p = run(tmp.path(), &["patch", "ambiguous/parameters.json"]);
    assert_eq!(
        json(&p.stdout).as_array().map(Vec::len),
        Some(1),
        "{}",
        p.stderr
    );
    // A link to a file that does not exist is a configuration error.
    fs::write(
        tmp.path().join("armfix.toml"),
        "[parameter-files.links]\n\"ambiguous/parameters.json\" = \"ambiguous/three.json\"\n",
    )
    .unwrap();
    let bad = run(tmp.path(), &["check", "ambiguous"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("ambiguous/three.json"),
        "{}",
        bad.stderr
    );
}

#[test]
fn patch_of_a_bicepparam_file_is_its_own() {
    let tmp = temp_repo_copy(&fixtures("bicep-params"));
    let p = run(tmp.path(), &["patch", "defaulted/main.bicepparam"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(
        json(&p.stdout),
        serde_json::json!([{"op": "replace", "path": "/parameters/rotate/value", "value": true}])
    );
}

#[test]
fn key_vault_references_are_manual_review_never_success() {
    let tmp = temp_repo_copy(&fixtures("params-values"));
    let before = tree(tmp.path());
    for args in [
        &["check", "--color", "never", "keyvault"][..],
        &["check", "--color", "never", "keyvault/main.json"],
        &["fix", "--yes", "--color", "never", "keyvault"],
    ] {
        let r = run(tmp.path(), args);
        assert_eq!(r.code, 1, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout
                .contains("is a Key Vault reference (secret `aks-rotation`)"),
            "{args:?}: {}",
            r.stdout
        );
    }
    assert_eq!(
        tree(tmp.path()),
        before,
        "a Key Vault reference was overwritten"
    );
}

#[test]
fn azd_placeholders_are_never_replaced_by_a_literal() {
    let tmp = temp_repo_copy(&fixtures("params-values"));
    let r = run(tmp.path(), &["fix", "--yes", "--color", "never", "azd"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!(
        "params__azd_fix",
        both(&r, tmp.path()),
        description => "armfix fix --yes azd in tests/fixtures/params-values"
    );
    let file = tmp.path().join("azd/infra/main.parameters.json");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        fs::read_to_string(fixtures("params-values/azd/infra/main.parameters.json"))
            .unwrap()
            .replace("${AKS_ROTATION=false}", "${AKS_ROTATION=true}")
    );
    // The two left for a human stay findings; nothing else is written.
    let before = tree(tmp.path());
    let again = run(tmp.path(), &["fix", "--yes", "--color", "never", "azd"]);
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stdout.matches("needs manual review").count(),
        2,
        "{}",
        again.stdout
    );
    assert_eq!(tree(tmp.path()), before);
    // Named alone, the template says what the unread parameter file needs.
    let alone = run(
        tmp.path(),
        &["check", "--color", "never", "azd/infra/main.bicep"],
    );
    assert_eq!(alone.code, 1);
    assert!(
        alone.stdout.contains("AKS_BACKUP_ROTATION"),
        "{}",
        alone.stdout
    );
    assert!(
        alone.stdout.contains("AKS_STAGING_ROTATION"),
        "{}",
        alone.stdout
    );
}

#[test]
fn psrule_rule_exclude_turns_the_rule_off() {
    let tmp = temp_repo_copy(&fixtures("params-psrule/excluded"));
    let r = run(tmp.path(), &["check", "--color", "never", "."]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains(
        "armfix: Azure.AKS.SecretStoreRotation is off: ps-rule.yaml: its rule.exclude lists Azure.AKS.SecretStoreRotation"
    ), "{}", r.stderr);
    let p = run(tmp.path(), &["patch", "main.json"]);
    assert_eq!((p.code, p.stdout.trim()), (0, "[]"));
    let own = run(
        tmp.path(),
        &["check", "--no-psrule-config", "--color", "never", "."],
    );
    assert_eq!(own.code, 1, "{}", own.stdout);
}

#[test]
fn psrule_suppression_and_path_ignore_leave_clusters_alone() {
    let tmp = temp_repo_copy(&fixtures("params-psrule/suppressed"));
    let check = run(tmp.path(), &["check", "-v", "--color", "never", "."]);
    assert_eq!(check.code, 1);
    snapshot!(
        "params__psrule_suppressed",
        both(&check, tmp.path()),
        description => "armfix check -v on tests/fixtures/params-psrule/suppressed"
    );
    let before = tree(tmp.path());
    let fix = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    let after = tree(tmp.path());
    assert_eq!(changed(&before, &after), ["main.json"]);
    let main = fs::read_to_string(tmp.path().join("main.json")).unwrap();
    // aks-prod fixed in place; aks-dev's parameter default left as it was.
    assert!(main.contains("\"defaultValue\": \"false\""));
    assert_eq!(
        main.matches("\"enableSecretRotation\": \"true\"").count(),
        1
    );
    // Without the settings, every cluster is checked again.
    let own = run(
        tmp.path(),
        &["check", "--no-psrule-config", "--color", "never", "."],
    );
    assert_eq!(own.code, 1);
    for name in ["grouped.json", "legacy/old.json", "main.json"] {
        assert!(own.stdout.contains(name), "{name}: {}", own.stdout);
    }
}

/// Suppression groups with conditions on the evaluated resource (tags from a parameter, the
/// type, wildcards on the name), read from `include.path`; a condition on a value not known
/// offline, an expired group, another rule's group and a condition armfix does not evaluate
/// all leave their clusters checked, each said why (a warning with file:line:col for the
/// last).
#[test]
fn psrule_suppression_group_conditions_are_evaluated_on_each_cluster() {
    let tmp = temp_repo_copy(&fixtures("params-psrule/groups"));
    let check = run(tmp.path(), &["check", "-v", "--color", "never", "."]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    snapshot!(
        "params__psrule_groups",
        both(&check, tmp.path()),
        description => "armfix check -v on tests/fixtures/params-psrule/groups"
    );
    // Without --verbose the warning still shows; the notes do not.
    let quiet = run(tmp.path(), &["check", "--color", "never", "."]);
    assert!(
        quiet.stderr.contains(
            "warning: .ps-rule/Groups.Rule.yaml:39:5: suppression group Local.Unsupported"
        ),
        "{}",
        quiet.stderr
    );
    assert!(!quiet.stderr.contains("might apply"), "{}", quiet.stderr);
    let fix = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    let main: serde_json::Value = json(&fs::read_to_string(tmp.path().join("main.json")).unwrap());
    let rotation = |i: usize| {
        main["resources"][i]["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]
            ["config"]["enableSecretRotation"]
            .clone()
    };
    // aks-dev (tag from a parameter default) and legacy-aks left alone; aks-prod and
    // aks-owned (its owner tag not known offline) fixed.
    assert_eq!(
        [rotation(0), rotation(1), rotation(2), rotation(3)],
        ["false", "true", "true", "false"]
    );
    // A parameter file that sets the tag to prod: aks-dev is no longer suppressed in every
    // configuration, so it is checked.
    fs::write(
        tmp.path().join("main.parameters.json"),
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": {"env": {"value": "prod"}}}"#,
    )
    .unwrap();
    let linked = run(tmp.path(), &["check", "--color", "never", "main.json"]);
    assert_eq!(linked.code, 1, "{}{}", linked.stdout, linked.stderr);
    assert!(
        linked.stdout.contains("main.json:27:39"),
        "{}",
        linked.stdout
    );
}

/// Two clusters read one parameter and one is suppressed: the fix of the parameter default
/// would change the suppressed cluster too (the settings leave it alone), so the search
/// walks past it to the other cluster's own value, and says why in one sentence.
#[test]
fn a_fix_shared_with_a_suppressed_cluster_moves_to_the_other_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let cluster = |name: &str| {
        format!(
            "resource {name} 'Microsoft.ContainerService/managedClusters@2023-01-01' = {{
  name: '{name}'
  location: resourceGroup().location
  properties: {{
    addonProfiles: {{
      azureKeyvaultSecretsProvider: {{
        enabled: true
        config: {{
          enableSecretRotation: rotation
        }}
      }}
    }}
  }}
}}
"
        )
    };
    crate::util::write(
        tmp.path(),
        "main.bicep",
        format!(
            "param rotation string = 'false'\n\n{}\n{}",
            cluster("aksA"),
            cluster("aksSuppressed")
        ),
    );
    crate::util::write(
        tmp.path(),
        "ps-rule.yaml",
        "suppression:\n  Azure.AKS.SecretStoreRotation:\n    - aksSuppressed\n",
    );
    let r = run(tmp.path(), &["check", "--color", "never", "main.bicep"]);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("also changes cluster aksSuppressed, which ps-rule.yaml leaves alone"))
        .unwrap_or_else(|| panic!("the fix does not say why it moved:\n{}", r.stdout));
    assert!(!line.contains("  "), "a run of spaces in: {line}");
    let r = run(
        tmp.path(),
        &["fix", "--yes", "--color", "never", "main.bicep"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let text = crate::util::read(tmp.path().join("main.bicep"));
    assert!(text.contains("param rotation string = 'false'"), "{text}");
    assert_eq!(
        text.matches("enableSecretRotation: 'true'").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("name: 'aksSuppressed'")
            && text
                .ends_with("enableSecretRotation: rotation\n        }\n      }\n    }\n  }\n}\n"),
        "the suppressed cluster (the last) is left alone:\n{text}"
    );
}

/// A parameter file whose fix changes only a suppressed cluster is left alone (found by
/// using the suppression groups on a template fed by a parameter file); one whose fix would
/// change a suppressed cluster and another is manual review, and nothing is written.
#[test]
fn a_parameter_file_fix_for_a_suppressed_cluster_is_left_alone() {
    let cluster = |name: &str, env: &str| {
        serde_json::json!({
            "type": "Microsoft.ContainerService/managedClusters",
            "apiVersion": "2024-02-01",
            "name": name,
            "location": "westeurope",
            "tags": {"env": env},
            "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {
                "enabled": true,
                "config": {"enableSecretRotation": "[parameters('rotation')]"}
            }}}
        })
    };
    let template = |clusters: Vec<serde_json::Value>| {
        serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"rotation": {"type": "string", "defaultValue": "true"}},
            "resources": clusters
        })
        .to_string()
    };
    let params = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {"rotation": {"value": "false"}}
}
"#;
    let group = "kind: SuppressionGroup\nmetadata:\n  name: Dev\nspec:\n  rule: [Azure.AKS.SecretStoreRotation]\n  if:\n    field: tags.env\n    equals: dev\n";
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir(root.join(".git")).unwrap();
    crate::util::write(root, "ps-rule.yaml", "input: {}\n");
    crate::util::write(root, ".ps-rule/Dev.Rule.yaml", group);
    crate::util::write(
        root,
        "dev/main.json",
        template(vec![cluster("aks-dev", "dev")]),
    );
    crate::util::write(root, "dev/main.parameters.json", params);
    crate::util::write(
        root,
        "both/main.json",
        template(vec![
            cluster("aks-dev2", "dev"),
            cluster("aks-prod", "prod"),
        ]),
    );
    crate::util::write(root, "both/main.parameters.json", params);
    let check = run(root, &["check", "-v", "--color", "never", "."]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stderr.contains(
            "dev/main.parameters.json: cluster aks-dev left alone: ps-rule.yaml: suppression group Dev"
        ),
        "{}",
        check.stderr
    );
    assert!(
        !check.stdout.contains("dev/main.parameters.json"),
        "{}",
        check.stdout
    );
    let line = check
        .stdout
        .lines()
        .find(|l| l.starts_with("both/main.parameters.json"))
        .unwrap_or_else(|| panic!("{}", check.stdout));
    assert!(
        line.contains("would also change cluster aks-dev2, which ps-rule.yaml leaves alone"),
        "{line}"
    );
    let before = tree(root);
    let fix = run(root, &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(fix.code, 1, "{}{}", fix.stdout, fix.stderr);
    assert!(changed(&before, &tree(root)).is_empty());
}

#[test]
fn psrule_linking_options_yield_to_armfix_toml() {
    let tmp = temp_repo_copy(&fixtures("params-psrule/linking"));
    let off = run(tmp.path(), &["check", "--color", "never", "."]);
    assert_eq!(off.code, 0, "{}", off.stdout);
    let ignored = run(
        tmp.path(),
        &["check", "--no-psrule-config", "--color", "never", "."],
    );
    assert_eq!(ignored.code, 1, "{}", ignored.stdout);
    fs::write(
        tmp.path().join("armfix.toml"),
        "[parameter-files]\njson = true\n",
    )
    .unwrap();
    let on = run(tmp.path(), &["check", "--color", "never", "."]);
    assert_eq!(on.code, 1, "{}", on.stdout);
    assert!(
        on.stdout.starts_with("main.parameters.json:6:16:"),
        "{}",
        on.stdout
    );
}

#[test]
fn a_broken_ps_rule_yaml_is_an_error_with_its_place() {
    let tmp = temp_repo_copy(&fixtures("params-psrule/linking"));
    fs::write(tmp.path().join("ps-rule.yml"), "rule:\n  exclude: [a\n").unwrap();
    let r = run(tmp.path(), &["check", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("ps-rule.yml:3:1"), "{}", r.stderr);
    let skipped = run(tmp.path(), &["check", "--no-psrule-config", "."]);
    assert_eq!(skipped.code, 1, "{}", skipped.stderr);
}

// ---------------------------------------------------------------------------------------
// Found by using armfix on a platform team's tree (issue 14's run-through).

/// A Bicep file with a suppressed cluster and a second cluster, in a module, whose rotation
/// comes from a parameter default of the caller.
const SUPPRESSED_BESIDE_SOURCE_FIX: &str = "param rotation string = 'false'

module aks './modules/aks.bicep' = {
  name: 'aks'
  params: {
    name: 'aks-bicep'
    rotation: rotation
  }
}

resource other 'Microsoft.ContainerService/managedClusters@2023-01-01' = {
  name: 'aks-suppressed'
  location: resourceGroup().location
  properties: {
    addonProfiles: {
      azureKeyvaultSecretsProvider: {
        enabled: true
      }
    }
  }
}
";

const AKS_MODULE: &str = "param name string
param rotation string = 'true'

resource aks 'Microsoft.ContainerService/managedClusters@2023-01-01' = {
  name: name
  location: resourceGroup().location
  properties: {
    addonProfiles: {
      azureKeyvaultSecretsProvider: {
        enabled: true
        config: {
          enableSecretRotation: rotation
        }
      }
    }
  }
}
";

fn suppressed_beside_source_fix() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    crate::util::write(tmp.path(), "main.bicep", SUPPRESSED_BESIDE_SOURCE_FIX);
    crate::util::write(tmp.path(), "modules/aks.bicep", AKS_MODULE);
    crate::util::write(
        tmp.path(),
        "ps-rule.yaml",
        "suppression:\n  Azure.AKS.SecretStoreRotation:\n    - aks-suppressed\n",
    );
    tmp
}

/// Two ARM clusters read one parameter default, one of them suppressed: the fix moves to
/// the other cluster's own value (the default would change the suppressed one), and a
/// second run finds nothing.
#[test]
fn an_arm_fix_shared_with_a_suppressed_cluster_moves_to_the_other_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let aks = |name: &str| {
        serde_json::json!({
            "type": "Microsoft.ContainerService/managedClusters",
            "apiVersion": "2024-02-01",
            "name": name,
            "location": "westeurope",
            "properties": {"addonProfiles": {"azureKeyvaultSecretsProvider": {
                "enabled": true,
                "config": {"enableSecretRotation": "[parameters('rotation')]"}
            }}}
        })
    };
    let template = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"rotation": {"type": "string", "defaultValue": "false"}},
        "resources": [aks("aks-a"), aks("aks-suppressed")]
    });
    crate::util::write(
        tmp.path(),
        "main.json",
        serde_json::to_string_pretty(&template).unwrap(),
    );
    crate::util::write(
        tmp.path(),
        "ps-rule.yaml",
        "suppression:\n  Azure.AKS.SecretStoreRotation:\n    - aks-suppressed\n",
    );
    let r = run(
        tmp.path(),
        &["fix", "--yes", "--color", "never", "main.json"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let text = crate::util::read(tmp.path().join("main.json"));
    assert!(text.contains("\"defaultValue\": \"false\""), "{text}");
    assert_eq!(
        text.matches("\"enableSecretRotation\": \"[parameters('rotation')]\"")
            .count(),
        1,
        "the suppressed cluster keeps its value:\n{text}"
    );
    assert_eq!(
        text.matches("\"enableSecretRotation\": \"true\"").count(),
        1,
        "{text}"
    );
    let again = run(tmp.path(), &["check", "--color", "never", "main.json"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

/// Fixing the caller's parameter default touches only `rotation`, which the suppressed
/// cluster does not read; the suppressed cluster still failing the rule must not hold back
/// the other cluster's fix (the language's verify re-checks every cluster, suppressed ones
/// too: src/psrule.rs `refix` -> `FileKind::verify`).
#[test]
fn a_suppressed_cluster_does_not_hold_back_another_clusters_fix() {
    let tmp = suppressed_beside_source_fix();
    let r = run(
        tmp.path(),
        &["fix", "--yes", "--color", "never", "main.bicep"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let text = crate::util::read(tmp.path().join("main.bicep"));
    assert!(text.contains("param rotation string = 'true'"), "{text}");
    assert!(text.contains("name: 'aks-suppressed'"), "{text}");
    assert!(
        !text.contains("enableSecretRotation"),
        "suppressed cluster left alone:\n{text}"
    );
}

/// `fix --yes` twice on `tests/fixtures/params-psrule/<name>`: (code, output) of the first;
/// asserts the second changes nothing.
fn fix_twice(name: &str) -> (tempfile::TempDir, i32, String) {
    let tmp = temp_repo_copy(&fixtures(&format!("params-psrule/{name}")));
    let r = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    let once = tree(tmp.path());
    let again = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert!(
        tree(tmp.path()) == once,
        "{name}: a second fix --yes changed more:\n{}{}",
        again.stdout,
        again.stderr
    );
    assert_eq!(again.code, r.code, "{name}: {}", again.stdout);
    (tmp, r.code, format!("{}{}", r.stdout, r.stderr))
}

/// A loop whose instances are partly suppressed (a Bicep module loop whose `aks-old` instance
/// a suppression group leaves alone by its `env` tag; an ARM copy loop whose `aks-old` is
/// listed in `suppression`): the one fix for the loop would change the suppressed instance,
/// so it is manual review naming it, and nothing is written.
#[test]
fn a_loop_fix_never_changes_its_suppressed_instance() {
    for name in [
        "partly-suppressed-loops/bicep",
        "partly-suppressed-loops/arm",
    ] {
        let before = tree(&fixtures(&format!("params-psrule/{name}")));
        let (tmp, code, out) = fix_twice(name);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(
            changed(&before, &tree(tmp.path())).is_empty(),
            "{name}: wrote a file:\n{out}"
        );
        assert!(
            out.contains("would also change cluster aks-old, which ps-rule.yaml leaves alone"),
            "{name}: {out}"
        );
    }
}

/// One module (or linked template) called twice, one call's cluster left alone by a
/// suppression group on its `env` tag. Bicep: the module's default stays, the other call
/// passes `rotation: 'true'`, and the module reports nothing (the calls settle it). ARM: the
/// linked template's default stays and is manual review naming the suppressed cluster and
/// the linking template (a linking ARM template's call is not edited today).
#[test]
fn a_called_template_fix_never_changes_a_suppressed_call() {
    let (tmp, code, out) = fix_twice("module-twice-group/bicep");
    assert_eq!(code, 0, "{out}");
    let module = crate::util::read(tmp.path().join("aks.bicep"));
    assert!(module.contains("param rotation string = 'false'"), "{out}");
    let main = crate::util::read(tmp.path().join("main.bicep"));
    assert_eq!(main.matches("rotation: 'true'").count(), 1, "{main}");
    assert!(
        main.contains("name: 'aks-b'\n    rotation: 'true'"),
        "{main}"
    );

    let before = tree(&fixtures("params-psrule/module-twice-group/arm"));
    let (tmp, code, out) = fix_twice("module-twice-group/arm");
    assert_eq!(code, 1, "{out}");
    assert!(changed(&before, &tree(tmp.path())).is_empty(), "{out}");
    assert!(
        out.contains(
            "would also change cluster aks-a (through main.json), which ps-rule.yaml leaves alone"
        ),
        "{out}"
    );
}

/// Standard input read as Bicep (`--stdin-filename main.bicep`) in a folder whose
/// ps-rule.yaml suppresses `aks-legacy`: the parameter default both clusters read is left
/// alone by `fix -` and `patch -` (the fix goes to `aks-new`'s own value), as a run over
/// the file leaves it.
#[test]
fn stdin_read_as_bicep_honours_suppression() {
    let tmp = temp_repo_copy(&fixtures("params-psrule/stdin-bicep"));
    let text = crate::util::read(tmp.path().join("main.bicep"));
    let args = ["--stdin-filename", "main.bicep", "-"];
    let fix = crate::util::run_stdin(tmp.path(), &[&["fix"][..], &args].concat(), text.clone());
    assert!(
        fix.stdout.contains("param rot bool = false"),
        "{}",
        fix.stdout
    );
    assert_eq!(
        fix.stdout
            .matches("enableSecretRotation: string(rot)")
            .count(),
        1,
        "the suppressed cluster keeps its value:\n{}",
        fix.stdout
    );
    assert!(
        fix.stdout.contains("enableSecretRotation: 'true'"),
        "{}",
        fix.stdout
    );
    let patch = crate::util::run_stdin(tmp.path(), &[&["patch"][..], &args].concat(), text);
    assert!(!patch.stdout.contains("/parameters"), "{}", patch.stdout);
    let file = run(tmp.path(), &["fix", "--yes", "main.bicep"]);
    assert_eq!(file.code, fix.code, "{}", file.stdout);
    assert_eq!(crate::util::read(tmp.path().join("main.bicep")), fix.stdout);
}
