//! Terraform: the fixtures in `tests/fixtures/terraform` (static and dynamic add-on blocks,
//! `count`/`for_each` clusters, variables, locals and `.tfvars`, a variable that feeds another
//! resource, CRLF and tabs, a value not known offline) through `check`, `fix`, the machine
//! formats, standard input and `patch`; fixes are written in the file's style, proven, and
//! idempotent.

use crate::util::{fixtures, json, read, run, run_stdin, temp_repo_copy, tree, visible, write};
use std::fs;

fn copy() -> tempfile::TempDir {
    temp_repo_copy(&fixtures("terraform"))
}

#[test]
fn check_reports_each_failing_cluster_where_its_fix_lands() {
    let d = copy();
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!("terraform_check", r.stdout);
    // PSRule's scope, not Checkov's: a cluster without the add-on block is not a finding,
    // nor one whose dynamic block's `for_each` is empty or that is counted zero times.
    for quiet in ["no_addon", "dynamic_off", "zero", "good"] {
        assert!(
            !r.stdout
                .contains(&format!("azurerm_kubernetes_cluster.{quiet}`")),
            "{quiet}: {}",
            r.stdout
        );
    }
}

#[test]
fn fix_writes_minimal_edits_in_the_files_style_and_is_idempotent() {
    let d = copy();
    let before = tree(d.path());
    let r = run(d.path(), &["fix", "--yes", "."]);
    assert_eq!(r.code, 1, "a manual review is left: {}", r.stderr);
    let after = tree(d.path());
    let mut changed = String::new();
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        if a != b {
            changed.push_str(&format!(
                "== {name}\n{}\n",
                visible(&String::from_utf8_lossy(a))
            ));
        }
    }
    snapshot!("terraform_fixed_files", changed);
    let crlf = fs::read_to_string(d.path().join("crlf_tabs/main.tf")).unwrap();
    assert!(crlf.contains(
        "\t\tsecret_rotation_interval = \"2m\"\r\n\t\tsecret_rotation_enabled  = true\r\n"
    ));
    assert!(
        !crlf.replace("\r\n", "").contains('\n'),
        "every line ending stays CRLF"
    );
    // The heredoc that only looks like the argument is text, never edited.
    let main = fs::read_to_string(d.path().join("static/main.tf")).unwrap();
    assert!(main.contains("    secret_rotation_enabled = false\n  EOT"));
    // The second run has nothing left to fix and changes nothing.
    let again = run(d.path(), &["check", "--format", "json", "."]);
    let report = json(&again.stdout);
    assert_eq!(report["summary"]["fixable"], 0, "{}", again.stdout);
    let r2 = run(d.path(), &["fix", "--yes", "."]);
    assert_eq!(tree(d.path()), after, "{}", r2.stdout);
}

#[test]
fn a_variable_that_feeds_something_else_is_not_flipped() {
    let d = copy();
    let r = run(d.path(), &["fix", "--yes", "shared"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let main = fs::read_to_string(d.path().join("shared/main.tf")).unwrap();
    // The storage account still reads the variable, still false: the cluster's own argument
    // became the literal instead.
    assert!(main.contains("default = false"), "{main}");
    assert!(main.contains("allow_nested_items_to_be_public = var.enabled"));
    assert!(main.contains("secret_rotation_enabled = true"), "{main}");
}

#[test]
fn variables_and_tfvars_are_fixed_at_their_source_under_the_proof() {
    let d = copy();
    let r = run(d.path(), &["fix", "--yes", "variables"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let vars = fs::read_to_string(d.path().join("variables/variables.tf")).unwrap();
    assert!(
        vars.contains("  default     = true\n  description"),
        "{vars}"
    );
    let prod = fs::read_to_string(d.path().join("variables/prod.tfvars")).unwrap();
    assert_eq!(
        prod,
        "environment             = \"prod\"\nsecret_rotation_enabled = true\n"
    );
    // The cluster's own file is unchanged: its values come from elsewhere.
    let main = fs::read(d.path().join("variables/main.tf")).unwrap();
    assert_eq!(
        main,
        fs::read(fixtures("terraform/variables/main.tf")).unwrap()
    );
}

#[test]
fn a_file_named_alone_reports_a_fix_that_lands_in_a_file_the_run_does_not_read() {
    let d = copy();
    let r = run(d.path(), &["check", "variables/main.tf"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("variables/main.tf:7:34:")
            && r.stdout.contains("its fix is in variables/variables.tf"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_value_not_known_offline_is_manual_review() {
    let d = copy();
    let r = run(d.path(), &["check", "--format", "json", "unknown"]);
    assert_eq!(r.code, 1);
    let report = json(&r.stdout);
    assert_eq!(report["summary"]["manualReview"], 1, "{}", r.stdout);
    assert_eq!(report["summary"]["fixable"], 0);
}

#[test]
fn machine_formats_stdin_and_patch_work_for_terraform() {
    let d = copy();
    for format in ["json", "sarif", "github"] {
        let r = run(d.path(), &["check", "--format", format, "static"]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        if format != "github" {
            json(&r.stdout);
        }
        assert!(r.stdout.contains("main.tf"), "{format}");
    }
    let text = fs::read_to_string(d.path().join("crlf_tabs/main.tf")).unwrap();
    let r = run_stdin(
        d.path(),
        &["fix", "--stdin-filename", "main.tf", "-"],
        text.clone(),
    );
    assert_eq!(
        r.stdout,
        text.replace(
            "\t\tsecret_rotation_interval = \"2m\"\r\n",
            "\t\tsecret_rotation_interval = \"2m\"\r\n\t\tsecret_rotation_enabled  = true\r\n"
        )
    );
    let r = run(d.path(), &["patch", "static/main.tf"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "[]"));
    assert!(r.stderr.contains("is Terraform"), "{}", r.stderr);
}

#[test]
fn a_syntax_error_is_placed_and_other_files_still_processed() {
    let d = copy();
    fs::write(
        d.path().join("static/broken.tf"),
        "resource \"azurerm_kubernetes_cluster\" \"y\" {\n  a = \n",
    )
    .unwrap();
    let r = run(d.path(), &["check", "static"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("static/broken.tf:"), "{}", r.stderr);
    assert!(r.stdout.contains("static/main.tf:9:32:"), "{}", r.stdout);
}

#[test]
fn azapi_clusters_are_judged_on_their_body_and_fixed_in_its_style() {
    let d = copy();
    let r = run(d.path(), &["check", "azapi"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!("terraform_azapi_check", r.stdout);
    // Passing, add-on off, and not a cluster's type: not findings.
    for quiet in ["good", "addon_off", "not_a_cluster"] {
        assert!(
            !r.stdout.contains(&format!("azapi_resource.{quiet}`")),
            "{quiet}: {}",
            r.stdout
        );
    }
    // A body the add-on object of which is not written out is judged, and left to review.
    assert!(
        r.stdout
            .contains("needs manual review: `azapi_resource.from_variable`"),
        "{}",
        r.stdout
    );
    let r = run(d.path(), &["fix", "--yes", "azapi"]);
    assert_eq!(
        r.code, 1,
        "the manual review is left: {}{}",
        r.stdout, r.stderr
    );
    let after = fs::read_to_string(d.path().join("azapi/main.tf")).unwrap();
    snapshot!("terraform_azapi_fixed", after);
    let again = run(d.path(), &["fix", "--yes", "azapi"]);
    assert_eq!(again.code, 1);
    assert_eq!(
        fs::read_to_string(d.path().join("azapi/main.tf")).unwrap(),
        after
    );
}

#[test]
fn json_syntax_files_are_read_and_fixed_with_the_json_editor() {
    let d = copy();
    let r = run(d.path(), &["check", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!("terraform_json_check", r.stdout);
    for quiet in ["good", "no_addon"] {
        assert!(
            !r.stdout
                .contains(&format!("azurerm_kubernetes_cluster.{quiet}`")),
            "{quiet}: {}",
            r.stdout
        );
    }
    let before = tree(d.path());
    let r = run(d.path(), &["fix", "--yes", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = tree(d.path());
    let mut changed = String::new();
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        if a != b {
            let text = String::from_utf8_lossy(a).to_string();
            // Still JSON, and still Terraform's JSON syntax.
            json(&text);
            changed.push_str(&format!("== {name}\n{text}\n"));
        }
    }
    snapshot!("terraform_json_fixed", changed);
    let again = run(d.path(), &["fix", "--yes", "json"]);
    assert_eq!((again.code, tree(d.path())), (0, after));
}

#[test]
fn a_local_modules_cluster_is_judged_with_each_calls_arguments_and_fixed_at_the_call() {
    let d = copy();
    let r = run(d.path(), &["check", "local_module/main.tf"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    snapshot!("terraform_local_module_check", r.stdout);
    // The add-on off in a call, or rotation passed as true: not findings.
    for quiet in ["addon_off", "good"] {
        assert!(
            !r.stdout.contains(&format!("`module.{quiet}`")),
            "{quiet}: {}",
            r.stdout
        );
    }
    let callee = tree(&d.path().join("local_module/modules"));
    let r = run(d.path(), &["fix", "--yes", "local_module/main.tf"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let main = fs::read_to_string(d.path().join("local_module/main.tf")).unwrap();
    snapshot!("terraform_local_module_fixed", main);
    // The caller is fixed; the module, which other callers share, is not touched.
    assert_eq!(tree(&d.path().join("local_module/modules")), callee);
    let again = run(d.path(), &["check", "local_module/main.tf"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn a_call_argument_that_feeds_something_else_in_the_module_is_held_back() {
    let d = copy();
    let r = run(d.path(), &["fix", "--yes", "local_module_shared/main.tf"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("unsafe: it also changes `azurerm_storage_account` `sa`"),
        "{}",
        r.stdout
    );
    assert_eq!(
        fs::read(d.path().join("local_module_shared/main.tf")).unwrap(),
        fs::read(fixtures("terraform/local_module_shared/main.tf")).unwrap()
    );
    let r = run(
        d.path(),
        &[
            "fix",
            "--yes",
            "--unsafe-fixes",
            "local_module_shared/main.tf",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let main = fs::read_to_string(d.path().join("local_module_shared/main.tf")).unwrap();
    assert!(main.contains("  rotation = true\n"), "{main}");
}

/// The resource a finding of `check --format json` is about, by its pointer
/// (`/resource/TYPE/NAME/...` or `/module/NAME/...`).
fn findings_by_target(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for file in report["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap().replace('\\', "/");
        for f in file["findings"].as_array().unwrap() {
            let pointer = f["pointer"].as_str().unwrap_or_default();
            let parts: Vec<&str> = pointer.split('/').collect();
            let target = match parts.get(1) {
                Some(&"resource") => format!("{}.{}", parts[2], parts[3]),
                Some(&"module") => format!("module.{}", parts[2]),
                _ => pointer.to_string(),
            };
            let kind = f["remedy"]["kind"].as_str().unwrap_or_default().to_string();
            out.push((path.clone(), target, kind));
        }
    }
    out
}

#[test]
fn override_files_are_merged_and_a_fix_lands_where_the_deployed_value_is_written() {
    let d = copy();
    let r = run(d.path(), &["check", "--format", "json", "override"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = findings_by_target(&json(&r.stdout));
    got.sort();
    let want = |file: &str, target: &str| {
        (
            format!("override/{file}"),
            format!("azurerm_kubernetes_cluster.{target}"),
            "fix".to_string(),
        )
    };
    // `turned_on` (the override sets true) and `not_counted` (the override's `count = 0`)
    // are not findings; the others are fixed in the file whose value deploys.
    let module = |file: &str, m: &str| {
        (
            format!("override/{file}"),
            format!("module.{m}"),
            "fix".to_string(),
        )
    };
    // Module calls too: an argument set in an override is fixed there, and an AVM object
    // the override replaces is fixed inside the override's object.
    let mut expected = vec![
        want("main.tf", "counted"),
        want("main_override.tf", "block_replaced"),
        want("main_override.tf", "from_variable"),
        want("main_override.tf", "turned_off"),
        module("main_override.tf", "public"),
        module("main_override.tf", "local"),
        module("override.tf", "avm"),
    ];
    expected.sort();
    assert_eq!(got, expected, "{}", r.stdout);
    let before_main = fs::read_to_string(d.path().join("override/main.tf")).unwrap();
    let r = run(d.path(), &["fix", "--yes", "override"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let over = ["main_override.tf", "override.tf"]
        .map(|f| {
            let text = fs::read_to_string(d.path().join("override").join(f)).unwrap();
            format!("== {f}\n{text}")
        })
        .join("\n");
    snapshot!("terraform_override_fixed", over);
    // The base's own values are not what deploys: left as written, but for the cluster whose
    // block only the base writes; the module the call names is not touched.
    let main = fs::read_to_string(d.path().join("override/main.tf")).unwrap();
    assert_eq!(
        main,
        before_main.replace(
            "key_vault_secrets_provider {}",
            "key_vault_secrets_provider { secret_rotation_enabled = true }"
        )
    );
    let again = run(d.path(), &["check", "override"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn local_modules_with_count_for_each_and_nested_calls_are_followed_per_instance() {
    let d = copy();
    let r = run(
        d.path(),
        &["check", "--format", "json", "module_instances/main.tf"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = json(&r.stdout);
    let mut got = findings_by_target(&report);
    got.sort();
    let at = |m: &str| {
        (
            "module_instances/main.tf".to_string(),
            format!("module.{m}"),
            "fix".to_string(),
        )
    };
    // `none` (count = 0) and `outer_good` are not findings; `each` fails for its instance
    // "a" only (its "b" turns the add-on off), `outer` through the module `outer` calls.
    let mut expected = vec![
        at("counted"),
        at("each"),
        at("outer"),
        at("outer_default"),
        at("shared_each"),
        at("outer_shared"),
    ];
    expected.sort();
    assert_eq!(got, expected, "{}", r.stdout);
    // The side effect inside the module, and inside the module the module calls, is named,
    // and those two fixes are held back.
    for file in report["files"].as_array().unwrap() {
        for f in file["findings"].as_array().unwrap() {
            let pointer = f["pointer"].as_str().unwrap();
            let shared = pointer.contains("/shared_each/") || pointer.contains("/outer_shared/");
            assert_eq!(f["applicability"] == "unsafe", shared, "{f}");
            if shared {
                let effect = f["sideEffects"][0].as_str().unwrap();
                // An instance of a `for_each` call is named with its key.
                let sa = if pointer.contains("/shared_each/") {
                    "`azurerm_storage_account` `module.shared_each[\"x\"].sa` `allow_nested_items"
                } else {
                    "`azurerm_storage_account` `sa` `allow_nested_items"
                };
                assert!(effect.contains(sa), "{f}");
            }
        }
    }
    let modules = tree(&d.path().join("module_instances/modules"));
    let r = run(d.path(), &["fix", "--yes", "module_instances/main.tf"]);
    assert_eq!(
        r.code, 1,
        "the unsafe fixes are held back: {}{}",
        r.stdout, r.stderr
    );
    let main = fs::read_to_string(d.path().join("module_instances/main.tf")).unwrap();
    snapshot!("terraform_module_instances_fixed", main);
    // The modules, which other callers share, are not touched; the cycle did not hang.
    assert_eq!(tree(&d.path().join("module_instances/modules")), modules);
    let again = run(d.path(), &["check", "module_instances/main.tf"]);
    assert_eq!(
        again.code, 1,
        "only the held-back fixes are left: {}",
        again.stdout
    );
    assert_eq!(again.stdout.matches("SecretStoreRotation").count(), 2);
}

/// Checkov's expected verdicts for its CKV_AZURE_172 test (see the fixture's README.md).
const CHECKOV: [(&str, bool); 3] = [("pass", true), ("fail", false), ("fail2", false)];

#[test]
fn armfix_agrees_with_checkov_wherever_psrule_does_and_the_readme_lists_the_rest() {
    let d = copy();
    let r = run(d.path(), &["check", "--format", "json", "checkov"]);
    let report = json(&r.stdout);
    let flagged: Vec<String> = findings_by_target(&report)
        .into_iter()
        .map(|(_, t, _)| t)
        .collect();
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find("**PSRule and Checkov.**")
        .expect("the comparison")..];
    let section = &section[..section.find("\n### ").unwrap_or(section.len())];
    let mut disagreements = Vec::new();
    for (name, checkov_passes) in CHECKOV {
        let id = format!("azurerm_kubernetes_cluster.{name}");
        let armfix_passes = !flagged.contains(&id);
        if armfix_passes != checkov_passes {
            // Each disagreement is listed, with both verdicts, in the README's comparison.
            let line = format!(
                "`{id}` (Checkov: {}; armfix: {})",
                if checkov_passes { "pass" } else { "fail" },
                if armfix_passes { "pass" } else { "fail" }
            );
            assert!(section.contains(&line), "README lacks {line}");
            disagreements.push(name);
        }
    }
    // Where the block is there, they agree; only the cluster without the add-on differs.
    assert_eq!(disagreements, ["fail"], "{}", r.stdout);
    assert_eq!(flagged, ["azurerm_kubernetes_cluster.fail2"]);
}

#[test]
fn each_value_and_an_instance_index_are_fixed_in_each_failing_instances_value() {
    let d = copy();
    let r = run(d.path(), &["check", "--format", "json", "for_each_values"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got: Vec<String> = findings_by_target(&json(&r.stdout))
        .into_iter()
        .map(|(_, t, _)| t)
        .collect();
    // Two instances of `by_var` fail: each gets its own fix, though either alone leaves the
    // cluster failing in the configuration.
    assert_eq!(
        got,
        [
            "azurerm_kubernetes_cluster.by_map",
            "azurerm_kubernetes_cluster.by_var",
            "azurerm_kubernetes_cluster.by_var",
            "module.calls",
            "azurerm_kubernetes_cluster.by_index",
        ],
        "{}",
        r.stdout
    );
    let r = run(d.path(), &["fix", "--yes", "for_each_values"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let main = fs::read_to_string(d.path().join("for_each_values/main.tf")).unwrap();
    let before = fs::read_to_string(fixtures("terraform/for_each_values/main.tf")).unwrap();
    // Only the failing instances' values changed; the expressions that read them did not.
    assert_eq!(
        main,
        before
            .replace("dev  = { rotation = false }", "dev  = { rotation = true }")
            .replace("= { rotation = false }", "= { rotation = true }")
            .replace("x = { rot = false }", "x = { rot = true }")
            .replace("[true, false]", "[true, true]")
    );
    assert!(main.matches("= each.value.rotation").count() == 2);
    assert!(main.contains("= var.rotations[count.index]"));
    let again = run(d.path(), &["check", "for_each_values"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn an_override_file_in_json_syntax_is_merged_and_fixed_with_the_json_editor() {
    let d = tempfile::tempdir().unwrap();
    crate::util::write(
        d.path(),
        "main.tf",
        "resource \"azurerm_kubernetes_cluster\" \"a\" {\n  key_vault_secrets_provider {\n    \
         secret_rotation_enabled = true\n  }\n}\n",
    );
    let over = "{\n  \"resource\": {\n    \"azurerm_kubernetes_cluster\": {\n      \"a\": {\n        \
                \"key_vault_secrets_provider\": {\n          \"secret_rotation_interval\": \"5m\"\n        \
                }\n      }\n    }\n  }\n}\n";
    crate::util::write(d.path(), "gen_override.tf.json", over);
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.starts_with("gen_override.tf.json:5:"),
        "{}",
        r.stdout
    );
    let r = run(d.path(), &["fix", "--yes", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let fixed = fs::read_to_string(d.path().join("gen_override.tf.json")).unwrap();
    json(&fixed);
    assert!(
        fixed.contains(
            "\"secret_rotation_interval\": \"5m\",\n          \"secret_rotation_enabled\": true\n"
        ),
        "{fixed}"
    );
    assert_eq!(run(d.path(), &["check", "."]).code, 0);
}

#[test]
fn a_local_modules_own_override_file_is_merged_before_the_call_is_judged() {
    let d = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| crate::util::write(d.path(), rel, text);
    w(
        "main.tf",
        "module \"aks\" {\n  source = \"./m\"\n  name   = \"a\"\n}\n",
    );
    w(
        "m/main.tf",
        "variable \"name\" {}\nvariable \"rotation\" {\n  default = true\n}\n\
         resource \"azurerm_kubernetes_cluster\" \"c\" {\n  name = var.name\n  \
         key_vault_secrets_provider {\n    secret_rotation_enabled = var.rotation\n  }\n}\n",
    );
    // Without the override, the module's default passes.
    assert_eq!(run(d.path(), &["check", "main.tf"]).code, 0);
    w(
        "m/override.tf",
        "variable \"rotation\" {\n  default = false\n}\n",
    );
    let r = run(d.path(), &["check", "main.tf"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("main.tf:1:1: "), "{}", r.stdout);
    let r = run(d.path(), &["fix", "--yes", "main.tf"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        fs::read_to_string(d.path().join("main.tf")).unwrap(),
        "module \"aks\" {\n  source   = \"./m\"\n  name     = \"a\"\n  rotation = true\n}\n"
    );
}

/// The `azurerm_kubernetes_cluster` clusters of a folder that `check --format json` reports.
fn reported(dir: &std::path::Path, folder: &str) -> Vec<String> {
    let r = run(dir, &["check", "--format", "json", folder]);
    findings_by_target(&json(&r.stdout))
        .into_iter()
        .map(|(_, t, _)| t)
        .collect()
}

#[test]
fn the_azurerm_2_addon_profile_block_is_judged_and_fixed_like_the_3_block() {
    let d = copy();
    let dir = "legacy_addon_profile";
    // Static, missing, in a dynamic profile, in a dynamic add-on block fed by a variable;
    // never a cluster whose add-on is off (`enabled = false`, only other add-ons, an empty
    // dynamic profile) or that already rotates.
    assert_eq!(
        reported(d.path(), dir),
        [
            "azurerm_kubernetes_cluster.legacy_false",
            "azurerm_kubernetes_cluster.legacy_missing",
            "azurerm_kubernetes_cluster.legacy_dynamic",
            "azurerm_kubernetes_cluster.legacy_nested_dynamic",
        ]
    );
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = fs::read_to_string(d.path().join(dir).join("main.tf")).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(dir).join("main.tf")).unwrap();
    assert_eq!(
        after,
        before
            .replace(
                "secret_rotation_enabled  = false # turned off by hand",
                "secret_rotation_enabled  = true # turned off by hand"
            )
            .replace(
                "      secret_rotation_interval = \"5m\"\n",
                "      secret_rotation_interval = \"5m\"\n      secret_rotation_enabled  = true\n"
            )
            .replace(
                "      azure_keyvault_secrets_provider {\n        enabled = true\n      }\n    }\n  }\n}\n\n# A dynamic add-on",
                "      azure_keyvault_secrets_provider {\n        enabled                 = true\n        secret_rotation_enabled = true\n      }\n    }\n  }\n}\n\n# A dynamic add-on"
            )
            .replace(
                "variable \"legacy_rotation\" {\n  type    = bool\n  default = false",
                "variable \"legacy_rotation\" {\n  type    = bool\n  default = true"
            )
    );
    let again = run(d.path(), &["check", dir]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let snapshot = tree(d.path());
    run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(tree(d.path()), snapshot, "a second fix changes nothing");
}

#[test]
fn optional_attribute_defaults_deploy_and_an_omitted_attribute_is_added_where_the_value_is() {
    let d = copy();
    // The omitted (or null) `optional(bool, false)` attribute deploys false: a finding, not
    // manual review; `optional(bool, true)` passes.
    let r = run(d.path(), &["check", "optional_defaults", "optional_tfvars"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stdout.contains("manual review"), "{}", r.stdout);
    assert!(!r.stdout.contains("would stop"), "{}", r.stdout);
    assert_eq!(
        reported(d.path(), "optional_defaults"),
        [
            "azurerm_kubernetes_cluster.flat",
            "azurerm_kubernetes_cluster.nested",
            "azurerm_kubernetes_cluster.by_env",
            "azurerm_kubernetes_cluster.by_index",
        ]
    );
    let r = run(
        d.path(),
        &["fix", "--yes", "optional_defaults", "optional_tfvars"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let read = |p: &str| fs::read_to_string(d.path().join(p)).unwrap();
    let orig = |p: &str| fs::read_to_string(fixtures("terraform").join(p)).unwrap();
    assert_eq!(
        read("optional_defaults/main.tf"),
        orig("optional_defaults/main.tf")
            .replace(
                "    interval = \"5m\"\n  }",
                "    interval = \"5m\"\n    rotation = true\n  }"
            )
            .replace(
                "  }), {})\n  })\n  default = {}",
                "  }), {})\n  })\n  default = { addons = { kv = { rotation = true } } }"
            )
            .replace("dev = {}", "dev = { rotation = true }")
            .replace("{ rotation = null }", "{ rotation = true }")
    );
    // A value from terraform.tfvars is fixed there, in its alignment; the default is not the
    // deployed value and stays.
    assert_eq!(
        read("optional_tfvars/main.tf"),
        orig("optional_tfvars/main.tf")
    );
    assert_eq!(
        read("optional_tfvars/terraform.tfvars"),
        "csi = {\n  rotation_interval      = \"10m\"\n  enable_secret_rotation = true\n}\n"
    );
    let again = run(d.path(), &["check", "optional_defaults", "optional_tfvars"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn each_value_through_a_for_expression_is_fixed_in_the_entry_it_reads() {
    let d = copy();
    let dir = "for_expressions";
    assert_eq!(
        reported(d.path(), dir),
        [
            "azurerm_kubernetes_cluster.from_for",
            "azurerm_kubernetes_cluster.reshaped",
            "azurerm_kubernetes_cluster.counted",
            "azurerm_kubernetes_cluster.unknowable",
        ]
    );
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(
        r.code, 1,
        "the apply-time one is left: {}{}",
        r.stdout, r.stderr
    );
    let after = fs::read_to_string(d.path().join(dir).join("main.tf")).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(dir).join("main.tf")).unwrap();
    // Only the failing instances' entries; the filtered-out team `b` stays false.
    assert_eq!(
        after,
        before
            .replace(
                "{ name = \"dev\" },",
                "{ name = \"dev\", rotation = true },"
            )
            .replace(
                "a = { rot = false, on = true }",
                "a = { rot = true, on = true }"
            )
            .replace("default = [true, false]", "default = [true, true]")
    );
    let again = run(d.path(), &["check", "--format", "json", dir]);
    let report = json(&again.stdout);
    assert_eq!(report["summary"]["fixable"], 0, "{}", again.stdout);
    assert!(again.stdout.contains("unknowable"), "{}", again.stdout);
}

#[test]
fn an_omitted_attribute_in_a_json_tfvars_object_is_added_nested_in_its_style() {
    let d = copy();
    let dir = "optional_json";
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let vars = fs::read_to_string(d.path().join(dir).join("terraform.tfvars.json")).unwrap();
    assert_eq!(
        vars,
        "{\r\n\t\"platform\": {\r\n\t\t\"name\": \"p1\",\r\n\t\t\"addons\": {\r\n\t\t\t\"kv\": {\r\n\t\t\t\t\"rotation\": true\r\n\t\t\t}\r\n\t\t}\r\n\t}\r\n}\r\n"
    );
    let main = fs::read_to_string(d.path().join(dir).join("main.tf")).unwrap();
    assert_eq!(
        main,
        fs::read_to_string(fixtures("terraform").join(dir).join("main.tf")).unwrap()
    );
    assert_eq!(run(d.path(), &["check", dir]).code, 0);
}

#[test]
fn an_object_default_that_feeds_an_output_is_not_extended_the_cluster_is_fixed() {
    let d = copy();
    let dir = "optional_shared";
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let main = fs::read_to_string(d.path().join(dir).join("main.tf")).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(dir).join("main.tf")).unwrap();
    assert_eq!(
        main,
        before.replace(
            "secret_rotation_enabled  = var.csi[\"rotation\"]",
            "secret_rotation_enabled  = true"
        )
    );
}

#[test]
fn a_one_line_block_with_an_argument_opens_onto_lines_in_the_files_style() {
    let d = copy();
    let dir = "one_line_blocks";
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let read = |f: &str| fs::read_to_string(d.path().join(dir).join(f)).unwrap();
    let orig = |f: &str| fs::read_to_string(fixtures("terraform").join(dir).join(f)).unwrap();
    assert_eq!(
        read("main.tf"),
        orig("main.tf")
            .replace(
                "  key_vault_secrets_provider { secret_rotation_interval = \"2m\" }\n",
                "  key_vault_secrets_provider {\n    secret_rotation_interval = \"2m\"\n    secret_rotation_enabled  = true\n  }\n"
            )
            .replace(
                "    azure_keyvault_secrets_provider { enabled = true }\n",
                "    azure_keyvault_secrets_provider {\n      enabled                 = true\n      secret_rotation_enabled = true\n    }\n"
            )
    );
    assert_eq!(
        read("tabs_crlf.tf"),
        orig("tabs_crlf.tf").replace(
            "\tkey_vault_secrets_provider { secret_rotation_interval = \"2m\" }\r\n",
            "\tkey_vault_secrets_provider {\r\n\t\tsecret_rotation_interval = \"2m\"\r\n\t\tsecret_rotation_enabled  = true\r\n\t}\r\n"
        )
    );
    let snapshot = tree(d.path());
    run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(tree(d.path()), snapshot, "a second fix changes nothing");
}

#[test]
fn a_dynamic_blocks_iterator_is_traced_to_the_item_it_iterates() {
    let d = copy();
    let dir = "dynamic_iterators";
    assert_eq!(
        reported(d.path(), dir),
        [
            "azurerm_kubernetes_cluster.by_label",
            "azurerm_kubernetes_cluster.by_iterator",
            "azurerm_kubernetes_cluster.legacy",
        ]
    );
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = fs::read_to_string(d.path().join(dir).join("main.tf")).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(dir).join("main.tf")).unwrap();
    assert_eq!(
        after,
        before
            .replace(
                "    interval = optional(string, \"2m\")\n  })\n  default = {}",
                "    interval = optional(string, \"2m\")\n  })\n  default = { rotation = true }"
            )
            .replace("main = { rotate = false }", "main = { rotate = true }")
            .replace("default = [{}]", "default = [{ rot = true }]")
    );
    // The expressions that read the iterators are unchanged.
    assert!(after.contains("= key_vault_secrets_provider.value.rotation"));
    assert!(after.contains("= kv.value[\"rotate\"]"));
    assert!(after.contains("= p.value.rot"));
}

#[test]
fn a_locals_chain_through_a_conditional_and_merge_is_fixed_at_its_literal() {
    let d = copy();
    let dir = "locals_chain";
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = fs::read_to_string(d.path().join(dir).join("main.tf")).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(dir).join("main.tf")).unwrap();
    assert_eq!(
        after,
        before
            .replace(
                "base   = { rotation = false }",
                "base   = { rotation = true }"
            )
            .replace(
                "    rotation = optional(bool, false)\n  })\n  default = {}",
                "    rotation = optional(bool, false)\n  })\n  default = { rotation = true }"
            )
    );
}

#[test]
fn a_map_of_cluster_objects_in_tfvars_gets_the_omitted_attribute_per_failing_cluster() {
    let d = copy();
    let dir = "map_of_objects";
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let vars = fs::read_to_string(d.path().join(dir).join("terraform.tfvars")).unwrap();
    let before =
        fs::read_to_string(fixtures("terraform").join(dir).join("terraform.tfvars")).unwrap();
    // `prd` sets no add-on block (the add-on is off) and `uat` rotates: both untouched.
    assert_eq!(
        vars,
        before
            .replace(
                "      secret_rotation_interval = \"2m\"\n",
                "      secret_rotation_interval = \"2m\"\n      secret_rotation_enabled  = true\n"
            )
            .replace(
                "key_vault_secrets_provider = {}",
                "key_vault_secrets_provider = { secret_rotation_enabled = true }"
            )
    );
    for f in ["main.tf", "variables.tf"] {
        let now = fs::read_to_string(d.path().join(dir).join(f)).unwrap();
        assert_eq!(
            now,
            fs::read_to_string(fixtures("terraform").join(dir).join(f)).unwrap()
        );
    }
    assert_eq!(run(d.path(), &["check", dir]).code, 0);
}

#[test]
fn a_local_module_reading_rotation_inside_an_object_input_is_fixed_in_each_calls_object() {
    let d = copy();
    let dir = "local_module_object";
    let r = run(d.path(), &["check", "--format", "json", dir]);
    let got: Vec<(String, String)> = findings_by_target(&json(&r.stdout))
        .into_iter()
        .map(|(f, t, _)| (f, t))
        .collect();
    let main = format!("{dir}/main.tf");
    assert!(
        ["module.partial", "module.explicit", "module.omits"]
            .iter()
            .all(|m| got.contains(&(main.clone(), m.to_string()))),
        "{got:?}"
    );
    assert!(!got.iter().any(|(_, t)| t == "module.good"), "{got:?}");
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = fs::read_to_string(d.path().join(&main)).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(&main)).unwrap();
    assert_eq!(
        after,
        before
            .replace(
                "    interval = \"5m\"\n  }",
                "    interval = \"5m\"\n    rotation = true\n  }"
            )
            .replace(
                "csi    = { rotation = false }",
                "csi    = { rotation = true }"
            )
            .replace(
                "  name   = \"omits\"\n}",
                "  name   = \"omits\"\n  csi    = { rotation = true }\n}"
            )
    );
    assert_eq!(run(d.path(), &["check", dir]).code, 0);
    let snapshot = tree(d.path());
    run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(tree(d.path()), snapshot, "a second fix changes nothing");
}

#[test]
fn a_known_modules_object_input_from_a_variable_or_local_is_fixed_where_it_is_written() {
    let d = copy();
    let dir = "module_object_inputs";
    // `non_nullable` passes: `nullable = false` turns the null in terraform.tfvars into the
    // default, true.
    assert_eq!(
        reported(d.path(), dir),
        ["module.avm", "module.avm_legacy", "module.aks"]
    );
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = fs::read_to_string(d.path().join(dir).join("main.tf")).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(dir).join("main.tf")).unwrap();
    assert_eq!(
        after,
        before
            .replace(
                "    }), {})\n  })\n  default = {}",
                "    }), {})\n  })\n  default = { config = { enable_secret_rotation = true } }"
            )
            .replace(
                "    secret_rotation_interval = \"2m\"\n",
                "    secret_rotation_interval = \"2m\"\n    secret_rotation_enabled  = true\n"
            )
            .replace(
                "rotation = optional(bool, false) })\n  default = {}",
                "rotation = optional(bool, false) })\n  default = { rotation = true }"
            )
    );
    assert_eq!(run(d.path(), &["check", dir]).code, 0);
}

#[test]
fn a_json_syntax_variable_type_string_is_applied_with_its_optional_defaults() {
    let d = copy();
    let dir = "optional_tf_json";
    let r = run(d.path(), &["check", dir]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("manual review"), "{}", r.stdout);
    let r = run(d.path(), &["fix", "--yes", dir]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = fs::read_to_string(d.path().join(dir).join("main.tf.json")).unwrap();
    let before = fs::read_to_string(fixtures("terraform").join(dir).join("main.tf.json")).unwrap();
    assert_eq!(
        after,
        before.replace(
            "        \"interval\": \"5m\"\n",
            "        \"interval\": \"5m\",\n        \"rotation\": true\n"
        )
    );
    assert_eq!(run(d.path(), &["check", dir]).code, 0);
}

/// A module whose cluster's rotation is its `var.rotation`, which has no default.
const NO_DEFAULT_MODULE: &str = r#"variable "rotation" {
  type = bool
}
resource "azurerm_kubernetes_cluster" "this" {
  name                = "aks"
  location            = "westeurope"
  resource_group_name = "rg"
  dns_prefix          = "aks"

  key_vault_secrets_provider {
    secret_rotation_enabled = var.rotation
  }
}
"#;

/// A local module call's argument is the call's own value: whatever expression computes it
/// (a comparison, `count.index`, a `for_each` entry another resource shares), `rotation =
/// true` at the call changes only rotation, and is the fix when nothing closer to the source
/// is safe; the finding names the call's argument and, when a source was passed over, why.
#[test]
fn a_module_calls_argument_computed_by_an_expression_becomes_true_at_the_call() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "m/main.tf", NO_DEFAULT_MODULE);
    write(
        d.path(),
        "main.tf",
        r#"variable "on" {
  default = true
}
variable "strict" {
  default = false
}
module "both" {
  source   = "./m"
  rotation = var.on && var.strict
}
module "counted" {
  source   = "./m"
  count    = 3
  rotation = count.index > 0
}
variable "envs" {
  default = {
    dev = { rotation = false }
    prd = { rotation = true }
  }
}
module "each" {
  source   = "./m"
  for_each = var.envs
  rotation = each.value["rotation"]
}
resource "azurerm_storage_account" "st" {
  for_each                      = var.envs
  name                          = "st${each.key}"
  public_network_access_enabled = each.value.rotation
}
"#,
    );
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stdout.matches("SecretStoreRotation").count(),
        3,
        "{}",
        r.stdout
    );
    for call in ["both", "counted", "each"] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains(&format!("`module.{call}`")))
            .unwrap_or_else(|| panic!("{call}: {}", r.stdout));
        assert!(
            line.contains("fixed at the call's argument `rotation`"),
            "{line}"
        );
        assert!(!line.contains("in the cluster"), "{line}");
    }
    let each = r
        .stdout
        .lines()
        .find(|l| l.contains("`module.each`"))
        .unwrap();
    // The map entry also opens the storage account of that instance, named with its key.
    assert!(
        each.contains(
            "because fixing it at its source also changes `azurerm_storage_account` \
             `st[\"dev\"]` `public_network_access_enabled`"
        ),
        "{each}"
    );
    // Machine output says the same: the value the call passes for the module's variable.
    let r = run(d.path(), &["check", "--format", "json", "."]);
    let report = json(&r.stdout);
    let sources: Vec<&serde_json::Value> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .map(|f| &f["fixSource"])
        .collect();
    assert_eq!(sources.len(), 3, "{}", r.stdout);
    for s in sources {
        assert_eq!(s["kind"], "deployment-parameter", "{s}");
        assert_eq!(s["name"], "rotation", "{s}");
    }
    let r = run(d.path(), &["fix", "--yes", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let main = read(d.path().join("main.tf"));
    assert_eq!(main.matches("  rotation = true\n").count(), 3, "{main}");
    assert!(main.contains("dev = { rotation = false }"), "{main}");
    assert!(main.contains("default = false"), "{main}");
    let again = run(d.path(), &["check", "."]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

/// A folder a scanned file calls as a local module is judged through that call (its
/// variables hold what the call passes), directly or through a module that passes its own
/// variable on: read alone it has no value for them, and that manual review goes, so a bulk
/// `fix --yes` reaches exit 0. What the folder decides on its own values stays: a literal
/// in it is fixed there, and a folder no scanned file calls is manual review alone.
#[test]
fn a_called_folder_is_judged_through_its_scanned_callers() {
    let d = tempfile::tempdir().unwrap();
    let module = NO_DEFAULT_MODULE.to_string()
        + r#"resource "azurerm_kubernetes_cluster" "own" {
  name                = "own"
  location            = "westeurope"
  resource_group_name = "rg"
  dns_prefix          = "own"

  key_vault_secrets_provider {
    secret_rotation_enabled = false
  }
}
"#;
    write(d.path(), "modules/aks/main.tf", &module);
    write(
        d.path(),
        "modules/wrap/main.tf",
        "variable \"rotation\" {}\nmodule \"inner\" {\n  source   = \"../aks\"\n  rotation = var.rotation\n}\n",
    );
    write(
        d.path(),
        "live/main.tf",
        "module \"direct\" {\n  source   = \"../modules/aks\"\n  rotation = false\n}\nmodule \"wrapped\" {\n  source   = \"../modules/wrap\"\n  rotation = false\n}\n",
    );
    // Not called by anything scanned: judged alone, on its own (missing) values.
    write(d.path(), "orphan/main.tf", NO_DEFAULT_MODULE);
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut reported: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("SecretStoreRotation"))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        [
            "live/main.tf",
            "live/main.tf",
            "modules/aks/main.tf",
            "orphan/main.tf"
        ],
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("`azurerm_kubernetes_cluster.own`"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("modules/wrap"), "{}", r.stdout);
    let r = run(d.path(), &["fix", "--yes", "live", "modules"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        read(d.path().join("live/main.tf"))
            .matches("rotation = true")
            .count(),
        2
    );
    // The callee's own variable stays without a default: nothing guessed for other callers.
    assert!(!read(d.path().join("modules/aks/main.tf")).contains("default"));
    let again = run(d.path(), &["check", "live", "modules"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    // Named alone, with no caller in the run, the module is judged on its own values.
    let alone = run(d.path(), &["check", "modules/aks"]);
    assert_eq!(alone.code, 1, "{}", alone.stdout);
    assert!(
        alone.stdout.contains("has no value offline"),
        "{}",
        alone.stdout
    );
    let orphan = run(d.path(), &["check", "orphan"]);
    assert!(
        orphan.stdout.contains("has no value offline"),
        "{}",
        orphan.stdout
    );
}

/// A called folder's cluster the call does not decide (its rotation read from a data source,
/// not known offline) stays manual review in the folder, while the manual review about the
/// cluster that reads the call's argument goes.
#[test]
fn a_called_folders_cluster_the_call_does_not_decide_stays_its_own() {
    let d = tempfile::tempdir().unwrap();
    let module = NO_DEFAULT_MODULE.to_string()
        + r#"resource "azurerm_kubernetes_cluster" "looked_up" {
  name                = "looked-up"
  location            = "westeurope"
  resource_group_name = "rg"
  dns_prefix          = "lu"

  key_vault_secrets_provider {
    secret_rotation_enabled = data.external.cfg.result.rotation
  }
}
"#;
    write(d.path(), "mixed/main.tf", &module);
    write(
        d.path(),
        "main.tf",
        "module \"mixed\" {\n  source   = \"./mixed\"\n  rotation = true\n}\n",
    );
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("SecretStoreRotation"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(lines[0].starts_with("mixed/main.tf:"), "{}", r.stdout);
    assert!(lines[0].contains("looked_up"), "{}", r.stdout);
}
