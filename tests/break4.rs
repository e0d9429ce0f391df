//! The fourth break review: adversarial templates aimed at what was merged on the day of the
//! provenance chain (the proof's search walking the cluster's provenance chain, the rule read
//! once, PSRule suppression groups, YAML flow lists in scripts, template spec versions as
//! child resources and unlinked `linkedTemplates`, Terraform override files and local module
//! instances). Each case is a small fixture under `tests/fixtures/break4/<name>/`. A test
//! marked `#[ignore = "fault: ..."]` asserts what a careful human expects and fails today;
//! the others guard behaviour that was checked and holds. Run the faults with
//! `cargo test --test integration break4:: -- --ignored`.

use crate::util::{fixture_names, fixtures, read, run, temp_repo_copy, tree};
use std::path::Path;

fn case(name: &str) -> tempfile::TempDir {
    temp_repo_copy(&fixtures("break4").join(name))
}

/// Runs `armfix ARGS .` in `dir` (colour off) and returns (exit code, stdout + stderr).
fn armfix(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--color", "never", "."]);
    let r = run(dir, &all);
    assert!(r.code <= 2, "exit {}: {}{}", r.code, r.stdout, r.stderr);
    (r.code, format!("{}{}", r.stdout, r.stderr))
}

/// `fix --yes` in `dir`: (exit code, output).
fn fix_yes(dir: &Path) -> (i32, String) {
    armfix(dir, &["fix", "--yes"])
}

/// Fixtures whose second `fix --yes` changes more today: each has its own ignored test.
const NOT_IDEMPOTENT: &[&str] = &[];

/// Every fixture, faulty or not (but those in [`NOT_IDEMPOTENT`]): `check`, `fix --dry-run`, JSON and SARIF end with a
/// documented exit code and write nothing, and a second `fix --yes` changes nothing.
#[test]
fn every_case_ends_cleanly_and_a_second_fix_changes_nothing() {
    for name in fixture_names("break4") {
        if NOT_IDEMPOTENT.contains(&name.as_str()) {
            continue;
        }
        let dir = case(&name);
        let before = tree(dir.path());
        for args in [
            &["check"][..],
            &["fix", "--dry-run"],
            &["check", "--format", "json"],
            &["check", "--format", "sarif"],
        ] {
            armfix(dir.path(), args);
            assert!(tree(dir.path()) == before, "{name}: {args:?} wrote a file");
        }
        fix_yes(dir.path());
        let once = tree(dir.path());
        let (_, out) = fix_yes(dir.path());
        assert!(
            tree(dir.path()) == once,
            "{name}: a second fix --yes changed more\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The proof's search along the provenance chain

/// A parameter shared by a storage account's public access and (through a variable) a
/// cluster's rotation: the fix moves to the variable, and says why. Holds.
#[test]
fn arm_chain_moves_from_shared_parameter_to_variable() {
    let dir = case("arm-chain-variable-storage");
    let (_, said) = armfix(dir.path(), &["check"]);
    assert!(said.contains("fixed in variable `rot`"), "{said}");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(text.contains(r#""rot": "true""#), "{out}\n{text}");
    assert!(text.contains(r#""flag": { "type": "string", "defaultValue": "false" }"#));
}

/// A fix the chain moved into the cluster's own expression (the `?:` branch that deploys,
/// because the variable is shared with a storage account's tag) is counted by the summary
/// as "at its source", right after the finding said "because fixing it at its source also
/// changes ...".
#[test]
fn fix_inside_the_cluster_expression_is_not_counted_at_its_source() {
    let dir = case("bicep-branch-counted-at-source");
    let (_, said) = armfix(dir.path(), &["check"]);
    assert!(said.contains("fixed inside the expression"), "{said}");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.bicep"));
    assert!(
        text.contains("enableSecretRotation: prod ? prodRot : 'true'"),
        "{out}\n{text}"
    );
    assert!(
        out.contains("Fixed 1 of 1 finding in 1 of 1 file."),
        "the summary must not call the fix in the cluster 'at its source':\n{out}"
    );
}

// ---------------------------------------------------------------------------------------
// Suppression

/// `rot` feeds the suppressed `aks-legacy` directly and `aks-new` through variable `r`. The
/// fix at `rot` would change the suppressed cluster, so a careful human fixes `r` (it feeds
/// only `aks-new`): the chain's next place. armfix stops at the source and makes it manual
/// review, with a message that says "fixed at the default value of parameter `rot`".
#[test]
fn arm_fix_walks_past_a_source_shared_with_a_suppressed_cluster() {
    let dir = case("arm-suppressed-shares-param");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(text.contains(r#""r": "true""#), "{out}\n{text}");
    assert!(
        text.contains(r#""enableSecretRotation": "[parameters('rot')]""#),
        "the suppressed cluster is left alone"
    );
    assert!(text.contains(r#""defaultValue": "false""#));
}

/// The same in Bicep: `var r = rot` is the place to fix.
#[test]
fn bicep_fix_walks_past_a_source_shared_with_a_suppressed_cluster() {
    let dir = case("bicep-suppressed-shares-param");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.bicep"));
    assert!(text.contains("var r = 'true'"), "{out}\n{text}");
    assert!(text.contains("param rot string = 'false'"), "{text}");
}

/// A manual-review finding never says "fixed at": the suppressed-cluster case says where a
/// fix would go, not that it was made.
#[test]
fn manual_review_for_a_suppressed_cluster_does_not_say_fixed() {
    for name in [
        "arm-suppressed-shares-param",
        "bicep-suppressed-shares-param",
    ] {
        let dir = case(name);
        let (_, out) = armfix(dir.path(), &["check"]);
        for line in out
            .lines()
            .filter(|l| l.contains("make the change by hand"))
        {
            assert!(!line.contains("fixed at"), "{name}: {line}");
        }
    }
}

/// `[if(parameters('on'), parameters('flag'), variables('y'))]` with `on` false: the
/// deploying branch's variable `y` is fixed (the parameter it reads is shared with a storage
/// account), not the parameter and not the dead branch. Holds.
#[test]
fn arm_if_fix_lands_in_the_deploying_branch_variable() {
    let dir = case("arm-if-branch-variable");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(
        text.contains(r#""variables": { "x": "false", "y": "true" }"#),
        "{out}\n{text}"
    );
    assert!(text.contains(r#""flag": { "type": "string", "defaultValue": "false" }"#));
}

/// `[coalesce(null(), parameters('flag'))]`, nothing else reads `flag`: the value comes from
/// the parameter's default, as Bicep's `null ?? flag` does, and Bicep's is fixed there. ARM's
/// `coalesce()` is not a step of the provenance chain, so even the cluster's own value is not
/// tried: manual review for a one-line safe fix.
#[test]
fn arm_coalesce_is_followed_to_the_parameter_default() {
    let dir = case("arm-coalesce-param");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(
        text.contains(r#""flag": { "type": "string", "defaultValue": "true" }"#),
        "{out}\n{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Template specs

/// A spec version written as the spec's child resource, whose `linkedTemplates` hold one
/// entry the main template links (a `false` passed: fixed where passed) and one no link
/// names, with a literal cluster whose add-on has no `config`. The README: such an entry "is
/// evaluated on its own with its defaults, and its failing clusters are found and fixed
/// where they are written". A literal `"false"` there is fixed; a missing `config` is manual
/// review ("armfix found no change it can prove safe").
#[test]
fn spec_unlinked_entry_missing_config_is_fixed_in_place() {
    let dir = case("spec-child-unlinked-missing-config");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("spec.json"));
    assert!(
        text.contains(r#""parameters": { "rot": { "value": "true" } }"#),
        "{out}\n{text}"
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let unused = &doc["resources"][0]["resources"][0]["properties"]["linkedTemplates"][1]
        ["template"]["resources"][0]["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"];
    assert_eq!(
        unused["config"]["enableSecretRotation"], "true",
        "{out}\n{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Terraform

/// An override file replaces the base's `key_vault_secrets_provider` block whole; the fix
/// lands in the override's block (the base's is dead). Holds.
#[test]
fn tf_override_block_gets_the_fix() {
    let dir = case("tf-override-replaces-block");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        read(dir.path().join("main_override.tf")).contains("secret_rotation_enabled  = true"),
        "{out}"
    );
    assert_eq!(
        read(dir.path().join("main.tf")),
        read(fixtures("break4/tf-override-replaces-block/main.tf"))
    );
}

/// `count = 0` in an override, and two overrides of one variable's default (the later file
/// wins): nothing to fix in the first; the later override's default is fixed in the second.
/// Holds.
#[test]
fn tf_override_count_zero_and_later_default() {
    let dir = case("tf-override-count-zero");
    let (code, out) = armfix(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
    let dir = case("tf-override-two-defaults");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(read(dir.path().join("b_override.tf")).contains("default = true"));
    assert!(read(dir.path().join("a_override.tf")).contains("default = true"));
    assert!(read(dir.path().join("main.tf")).contains("default = false"));
}

/// A variable shared by the cluster (its block in an override file) and a storage account:
/// the fix is the cluster's own argument in the override, which holds. The README promises
/// the finding says why it is not at the variable ("and the finding says so"), as ARM's and
/// Bicep's do ("because fixing it at its source also changes ..."); Terraform's says only
/// "fixed in the cluster".
#[test]
fn tf_fix_moved_from_shared_variable_says_why() {
    let dir = case("tf-override-shared-variable");
    let (_, said) = armfix(dir.path(), &["check"]);
    assert!(
        said.contains("because fixing it at its source also changes"),
        "{said}"
    );
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(read(dir.path().join("aks_override.tf")).contains("secret_rotation_enabled  = true"));
    assert!(read(dir.path().join("main.tf")).contains("default = false"));
}

/// A local module whose `rotation` variable has no default, called with `rotation = false`.
/// The call is fixed; but the module folder is also judged on its own as a root module and
/// reported for manual review ("variable `rotation` has no value offline"), so `fix --yes`
/// never reaches a clean run (exit 1 forever). Bicep drops the same callee's standalone
/// finding (a module `param rotation string` without default called with 'false').
#[test]
fn tf_callee_without_default_is_judged_through_its_caller() {
    let dir = case("tf-callee-without-default");
    let (code, out) = fix_yes(dir.path());
    assert!(
        read(dir.path().join("main.tf")).contains("rotation = true"),
        "{out}"
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = armfix(dir.path(), &["check"]);
    assert_eq!(code, 0, "after the fix the run is clean:\n{out}");
}

/// `./a` passes its `rotation` to `./b`'s cluster and to a storage account; the call of `./a`
/// passes `false`. The fix at the call is unsafe (held back), and right. But its finding says
/// "fixed in the cluster" although the edit is the module call's argument in main.tf.
#[test]
fn tf_module_call_fix_names_the_call() {
    let dir = case("tf-nested-module-side-effect");
    let (code, said) = armfix(dir.path(), &["check"]);
    assert_eq!(code, 1);
    let line = said
        .lines()
        .find(|l| l.starts_with("main.tf:3:14:"))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(line.contains("public_network_access_enabled"), "{line}");
    assert!(!line.contains("in the cluster"), "{line}");
    let before = tree(dir.path());
    fix_yes(dir.path());
    assert!(tree(dir.path()) == before, "an unsafe fix is held back");
}

// ---------------------------------------------------------------------------------------
// Scripts: YAML flow lists

/// Flow lists under script keys: quoted, plain, multi-line plain, a trailing comma, a comment
/// after an item, `\"` and `''` escapes, brackets inside quotes; `command:` argv lists and
/// `docs: examples:` are not commands. Every edit keeps the YAML's value the intended one.
/// Holds.
#[test]
fn yaml_flow_lists_are_fixed_inside_their_items() {
    let dir = case("yaml-flow-lists");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("pipeline.yml"));
    assert!(text
        .contains(r#"command: ["az", "aks", "create", "-a", "azure-keyvault-secrets-provider"]"#));
    assert!(text.contains(r#"examples: [ "az aks create -a azure-keyvault-secrets-provider" ]"#));
    assert_eq!(
        text.matches("--enable-secret-rotation").count(),
        3,
        "{text}"
    );
    let dir = case("yaml-flow-edges");
    assert!(!read(dir.path().join("ci.yml")).contains("--enable-secret-rotation"));
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("ci.yml"));
    assert_eq!(
        text.matches("--enable-secret-rotation").count(),
        6,
        "{text}"
    );
    assert!(text.contains(
        r#"azure-keyvault-secrets-provider --enable-secret-rotation # trailing comment"#
    ));
    assert!(text.contains(r#"'az aks create -g rg -n ''a4'' -a azure-keyvault-secrets-provider --enable-secret-rotation'"#));
}

// ---------------------------------------------------------------------------------------
// PSRule's settings

/// `rule.include: []` filters nothing in PSRule (`RuleFilter`: an empty list is no filter),
/// and one wildcard item (`Azure.AKS.*`) includes the rules it matches. armfix turned the
/// rule off for both ("its rule.include does not list the rule; nothing is checked", exit 0):
/// a failing cluster went unreported. Fixed in src/psrule.rs.
#[test]
fn psrule_empty_or_wildcard_include_keeps_the_rule_on() {
    for name in ["psrule-include-empty", "psrule-include-wildcard"] {
        let dir = case(name);
        let (code, out) = armfix(dir.path(), &["check"]);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains("main.json:11:98:"), "{name}: {out}");
        assert!(!out.contains("is off"), "{name}: {out}");
    }
}

/// A suppression group on `tags.env equals dev`, the tag from a parameter: with the defaults
/// it holds, with the prod parameter file it does not, so the cluster is not left alone (it
/// must hold in every configuration) and its literal `"false"` is fixed. Holds.
#[test]
fn psrule_group_must_hold_in_every_configuration() {
    let dir = case("psrule-group-tags-param");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(read(dir.path().join("main.json")).contains(r#""enableSecretRotation": "true""#));
    let dir2 = case("psrule-group-tags-param");
    std::fs::remove_file(dir2.path().join("main.parameters.prod.json")).unwrap();
    let (code, out) = armfix(dir2.path(), &["check", "-v"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("cluster aks-dev left alone"), "{out}");
}

// ---------------------------------------------------------------------------------------
// Bicep modules and declared types

/// The caller passes `enableSecretRotation: string(flag)` to a module parameter
/// `@allowed(['false', 'true']) string`; `flag` (bool, false) also opens a storage account.
/// `string(false)` is `'False'` (ARM's bool-to-string), which the module already rejects.
/// The search offers only the source (`flag = true`), unsafe; `--unsafe-fixes` writes it,
/// although armfix itself says that fix "writes a value the template rejects" (`'True'`): a
/// fix the template's own types reject is written, and the storage account is opened. A
/// careful human writes `enableSecretRotation: 'true'` at the call (the place closest to the
/// module's cluster) and never flips `flag`.
#[test]
fn bicep_fix_rejected_by_module_allowed_is_never_written() {
    let dir = case("bicep-module-allowed-string-of-bool");
    let r = run(
        dir.path(),
        &["fix", "--yes", "--unsafe-fixes", "--color", "never", "."],
    );
    let out = format!("{}{}", r.stdout, r.stderr);
    let main = read(dir.path().join("main.bicep"));
    assert!(main.contains("param flag bool = false"), "{out}\n{main}");
    assert!(
        main.contains("enableSecretRotation: 'true'"),
        "the call's argument is the fix:\n{out}\n{main}"
    );
}

/// `param rot bool = enableCsi`, `enableCsi` also opens a storage account: the chain moves
/// from `enableCsi` to `rot`'s default expression; a `.bicepparam` setting `rot = false` is
/// fixed in its own file. Holds.
#[test]
fn bicep_parameter_default_expression_is_a_chain_place() {
    let dir = case("bicep-param-default-expression");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let main = read(dir.path().join("main.bicep"));
    assert!(main.contains("param enableCsi bool = false"), "{main}");
    assert!(main.contains("param rot bool = true"), "{main}");
    assert!(read(dir.path().join("prod.bicepparam")).contains("param rot = true"));
}

// ---------------------------------------------------------------------------------------
// Parameter files: the chain from a parameter file's value

/// `flag` ("true" by default) feeds a storage account's public access and the cluster's
/// rotation; the prod parameter file sets it to "false". Setting it to "true" there opens
/// the storage account in prod (unsafe, held back), so a careful human fixes the place
/// closer to the cluster: its own value `[parameters('flag')]` becomes "true" in main.json,
/// which changes only rotation in every configuration. armfix holds the unsafe fix back and
/// stops (exit 1 forever); Terraform's tfvars case moves to the cluster (below).
#[test]
fn arm_paramfile_unsafe_fix_moves_to_the_cluster() {
    let dir = case("arm-paramfile-shared-unsafe");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(
        text.contains(r#""config": { "enableSecretRotation": "true" }"#),
        "{out}\n{text}"
    );
    assert!(
        read(dir.path().join("main.parameters.prod.json")).contains(r#""value": "false""#),
        "the parameter file is not flipped"
    );
}

/// The same with a `.bicepparam`: `enableSecretRotation: string(flag)` becomes `'true'`.
#[test]
fn bicepparam_unsafe_fix_moves_to_the_cluster() {
    let dir = case("bicepparam-shared-unsafe");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.bicep"));
    assert!(
        text.contains("enableSecretRotation: 'true'"),
        "{out}\n{text}"
    );
    assert!(read(dir.path().join("prod.bicepparam")).contains("param flag = false"));
}

/// Terraform: `prod.tfvars` sets a shared variable false; the cluster's argument becomes
/// `true` and the tfvars file is left alone. Holds.
#[test]
fn tf_tfvars_shared_variable_moves_to_the_cluster() {
    let dir = case("tf-tfvars-shared-moves-to-cluster");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(read(dir.path().join("main.tf")).contains("secret_rotation_enabled = true"));
    assert_eq!(read(dir.path().join("prod.tfvars")), "rot = false\n");
}

// ---------------------------------------------------------------------------------------
// ARM members and elements of parameter defaults

/// `[parameters('cfg').rot]` with `cfg`'s default `{ "rot": "false", ... }`: Bicep's
/// `cfg.rot` is fixed at the member of the default (`rot: 'true'`); ARM's is manual review
/// ("comes from a parameter; make it evaluate to 'true'"), though the member is the only
/// place the value is written and nothing else reads it.
#[test]
fn arm_object_parameter_member_is_fixed_in_the_default() {
    let dir = case("arm-object-param-member");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(
        text.contains(r#""defaultValue": { "rot": "true", "public": false }"#),
        "{out}\n{text}"
    );
}

/// A copy loop over an array parameter whose second element's `rot` is "false"; the same
/// `rot` also feeds each cluster's tag, so the default cannot change. The cluster's own value
/// written `"true"` changes only rotation (instance `a` already passes): the chain's last
/// place, safe. armfix does not try it: manual review.
#[test]
fn arm_copy_element_shared_falls_back_to_the_cluster_value() {
    let dir = case("arm-copy-array-element-shared");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(
        text.contains(r#""config": { "enableSecretRotation": "true" }"#),
        "{out}\n{text}"
    );
    assert!(
        text.contains(r#"{ "name": "b", "rot": "false" }"#),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Compiled JSON beside its Bicep source

/// `main.bicep`, its compiled `main.json` (`_generator: bicep`) and `main.parameters.json`,
/// all with `rot` false. The first `fix --yes` fixed the Bicep default and the parameter
/// file and said main.json was to be rebuilt (manual review); the second then edited
/// main.json's default itself (its source passing, the JSON stale). Now the first run writes
/// the JSON's own proven fix as well (README, compiled JSON), and the second changes nothing.
#[test]
fn compiled_twin_second_fix_changes_nothing() {
    let dir = case("compiled-twin-second-run");
    let (code, first) = fix_yes(dir.path());
    assert_eq!(code, 0, "{first}");
    assert!(read(dir.path().join("main.bicep")).contains("param rot string = 'true'"));
    assert!(read(dir.path().join("main.json")).contains(r#""defaultValue": "true""#));
    let once = tree(dir.path());
    let (_, second) = fix_yes(dir.path());
    assert!(
        tree(dir.path()) == once,
        "the second run wrote files:\nfirst:\n{first}\nsecond:\n{second}"
    );
}

/// A local module called with `count = 2` and `rotation = count.index == 0`: instance `[1]`
/// fails. The README: a counted call's "fix is still the call's one argument, proven over
/// every instance"; `rotation = true` changes only rotation (instance `[0]` already passes).
/// armfix: manual review ("found no edit it can prove makes it pass").
#[test]
fn tf_counted_module_call_argument_becomes_true() {
    let dir = case("tf-module-count-expression");
    let (_, out) = fix_yes(dir.path());
    let text = read(dir.path().join("main.tf"));
    assert!(text.contains("rotation = true"), "{out}\n{text}");
    // The same class with `for_each`: `rotation = each.value.rotation`, where the map's
    // `rotation` also opens each storage account. The default's entry is unsafe (held back);
    // the call's argument `rotation = true` changes only instance b's rotation.
    let dir = case("tf-module-for-each-shared");
    let (_, out) = fix_yes(dir.path());
    let text = read(dir.path().join("main.tf"));
    assert!(text.contains("rotation = true\n}"), "{out}\n{text}");
    assert!(
        text.contains("b = { rotation = false, public = false }"),
        "{text}"
    );
}

/// Two calls of one module: `legacy` names its cluster `aks-legacy` (suppressed in
/// ps-rule.yaml), `fresh` names `aks-new`; neither passes `rotation`, whose default in the
/// module is 'false'. `fix --yes` adds `rotation: 'true'` to `fresh` (right) and also flips
/// the module's default, which changes what the suppressed `aks-legacy` deploys: a
/// suppressed cluster edited. The README: "A fix that would also change a suppressed cluster
/// (one parameter default read by both) is manual review", and a module's own fix is proven
/// through each scanned caller.
#[test]
fn module_default_fix_never_changes_a_suppressed_cluster() {
    let dir = case("bicep-module-default-changes-suppressed");
    let (_, out) = fix_yes(dir.path());
    assert!(
        read(dir.path().join("aks.bicep")).contains("param rotation string = 'false'"),
        "the module default is read by the suppressed aks-legacy:\n{out}"
    );
    let main = read(dir.path().join("main.bicep"));
    assert_eq!(main.matches("rotation: 'true'").count(), 1, "{main}");
}

/// A suppression group on `name: '.'` `startsWith: aks-legacy` holds for a module's cluster
/// named by the caller's argument: the caller's `rotation: 'false'` is left alone. Holds.
#[test]
fn suppression_group_holds_for_a_module_cluster_named_by_its_caller() {
    let dir = case("bicep-module-suppressed-group");
    let before = tree(dir.path());
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(tree(dir.path()) == before, "{out}");
}

/// The ARM form: `main.json` links `aks.json` twice by relative path, naming the clusters
/// `aks-legacy` (suppressed) and `aks-new`; `aks.json`'s `rotation` defaults to "false".
/// `fix --yes` flipped the linked template's default, changing the suppressed cluster. A
/// careful human passes `"rotation": { "value": "true" }` in the `fresh` deployment only;
/// armfix does not edit a linking ARM template's call today, so the fallback the issue
/// allows holds: the default is left alone, and manual review names the suppressed cluster.
#[test]
fn linked_default_fix_never_changes_a_suppressed_cluster() {
    let dir = case("arm-linked-default-changes-suppressed");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        read(dir.path().join("aks.json")).contains(r#""defaultValue": "false""#),
        "{out}"
    );
    let main: serde_json::Value =
        serde_json::from_str(&read(dir.path().join("main.json"))).unwrap();
    let passed =
        |i: usize| main["resources"][i]["properties"]["parameters"]["rotation"]["value"].clone();
    assert_eq!(
        passed(0),
        serde_json::Value::Null,
        "legacy is left alone:\n{main}"
    );
    assert!(
        out.contains(
            "would also change cluster aks-legacy (through main.json), which ps-rule.yaml \
             leaves alone"
        ),
        "{out}"
    );
}

/// `config` is `[union(variables('base'), variables('over'))]` and `over` (which holds the
/// `"false"`) is also a storage account's `tags`. The fix at `over` is unsafe (it retags the
/// storage account); the README's fallback, the cluster's `config` written as a literal
/// (`{"rotationPollInterval": "2m", "enableSecretRotation": "true"}`, or one more union
/// operand), changes only rotation. armfix holds the unsafe fix back and stops.
#[test]
fn arm_union_shared_operand_falls_back_to_the_cluster() {
    let dir = case("arm-union-shared-operand");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("main.json"));
    assert!(
        text.contains(r#""over": { "enableSecretRotation": "false" }"#),
        "the storage account's tags stay:\n{text}"
    );
}

/// A flow list behind an anchor (and its alias elsewhere), one with a `!!seq` tag, one already
/// passing, and `az aks update --disable-secret-rotation` in a flow list: the anchor's item is
/// edited once (the alias follows), the tagged list is read, the switch is replaced. Holds.
#[test]
fn yaml_flow_lists_behind_anchors_and_tags() {
    let dir = case("yaml-flow-anchor-tag");
    assert_eq!(
        read(dir.path().join("ci.yml"))
            .matches("--enable-secret-rotation")
            .count(),
        1
    );
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("ci.yml"));
    assert_eq!(
        text.matches("--enable-secret-rotation").count(),
        4,
        "{text}"
    );
    assert!(text.contains("script: *s\n"), "{text}");
    assert!(!text.contains("--disable-secret-rotation"), "{text}");
}

// ---------------------------------------------------------------------------------------
// A parameter file named alone (the pre-commit hook passes only staged files)

/// `env/dev.json` (linked to `../main.json` by `metadata.template`) sets `rot` to "false".
/// `armfix patch env/dev.json` prints its fix, and a run over the folder reports it; but
/// `armfix check env/dev.json` (what the pre-commit hook runs when only the parameter file
/// is staged) says "No findings in 1 file" and exits 0, and `fix --yes env/dev.json` writes
/// nothing. The same for a `.bicepparam` named alone. (A `.tfvars` named alone is judged.)
#[test]
fn parameter_file_named_alone_is_judged_with_its_template() {
    let dir = case("paramfile-named-alone");
    let r = run(dir.path(), &["check", "--color", "never", "env/dev.json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("env/dev.json:5:37:"), "{}", r.stdout);
    let r = run(dir.path(), &["fix", "--yes", "env/dev.json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(read(dir.path().join("env/dev.json")).contains(r#""value": "true""#));
    let dir = case("bicepparam-named-alone");
    let r = run(
        dir.path(),
        &["check", "--color", "never", "prod.bicepparam"],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("prod.bicepparam:2:"), "{}", r.stdout);
}

/// The other way round holds: the template named alone reports the parameter file's failure
/// as manual review (the file is not part of the run) and exits 1.
#[test]
fn template_named_alone_reports_its_parameter_file() {
    let dir = case("paramfile-named-alone");
    let r = run(dir.path(), &["check", "--color", "never", "main.json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("fails with env/dev.json"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// Standard input

/// `armfix fix - < main.json` in a folder whose ps-rule.yaml suppresses `aks-legacy`: the
/// filter ignores PSRule's settings and writes the fix at the parameter default both
/// clusters read, so the suppressed cluster is edited (`patch -` likewise prints it). A run
/// over the file leaves `rot` alone (the fix goes to variable `r`). A bot piping templates through
/// `armfix fix -` must get the same answer as `fix --yes FILE`.
#[test]
fn stdin_modes_honour_suppression() {
    let dir = case("arm-suppressed-shares-param");
    let text = read(dir.path().join("main.json"));
    let r = crate::util::run_stdin(dir.path(), &["fix", "-"], text.clone());
    assert!(
        r.stdout.contains(r#""defaultValue": "false""#),
        "fix - flipped the default the suppressed cluster reads:\n{}",
        r.stdout
    );
    // The fix walks past the shared `rot` to variable `r`, which only `aks-new` reads.
    let r = crate::util::run_stdin(dir.path(), &["patch", "-"], text.clone());
    assert!(
        r.stdout.contains("/variables/r") && !r.stdout.contains("/defaultValue"),
        "{}",
        r.stdout
    );
    // `check -` reports what `check main.json` reports.
    let file = run(dir.path(), &["check", "--color", "never", "main.json"]);
    let piped = crate::util::run_stdin(
        dir.path(),
        &["check", "--color", "never", "-"],
        text.clone(),
    );
    assert_eq!(piped.code, file.code, "{}\n{}", piped.stdout, file.stdout);
    assert_eq!(
        piped.stdout.replace("<stdin>", "main.json"),
        file.stdout,
        "{}",
        piped.stderr
    );
    // `--stdin-filename` names the file: its folder's ps-rule.yaml holds, though the
    // working folder has none.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::rename(dir.path().join("ps-rule.yaml"), sub.join("ps-rule.yaml")).unwrap();
    for args in [&["fix", "-"][..], &["patch", "-"]] {
        let mut all = args.to_vec();
        let r = crate::util::run_stdin(dir.path(), &all, text.clone());
        assert!(
            r.stdout.contains(r#""defaultValue": "true""#) || r.stdout.contains("/defaultValue"),
            "without the settings the default is the fix: {}",
            r.stdout
        );
        all.extend(["--stdin-filename", "sub/main.json"]);
        let r = crate::util::run_stdin(dir.path(), &all, text.clone());
        assert!(
            !r.stdout.contains(r#""defaultValue": "true""#) && !r.stdout.contains("/defaultValue"),
            "{all:?}: sub/ps-rule.yaml suppresses aks-legacy:\n{}",
            r.stdout
        );
    }
}

// ---------------------------------------------------------------------------------------
// Guards: the chain and the proof where they hold

/// Each case: after `fix --yes` (exit 0), `file` holds every `after` text and none of the
/// `gone` texts. Checked and found right during this review.
#[test]
fn chain_guards_hold() {
    struct Case {
        name: &'static str,
        file: &'static str,
        after: &'static [&'static str],
        gone: &'static [&'static str],
    }
    let cases = [
        // A variable that also decides another resource's condition: the cluster's value.
        Case {
            name: "arm-variable-in-condition",
            file: "main.json",
            after: &[
                r#""variables": { "legacy": "false" }"#,
                r#""enableSecretRotation": "true""#,
            ],
            gone: &["[variables('legacy')]\" } }"],
        },
        // A parameter shared with a storage account, passed to an inner-scope deployment
        // through a variable: the value the deployment passes.
        Case {
            name: "arm-nested-inner-passed-value",
            file: "main.json",
            after: &[
                r#""parameters": { "rot": { "value": "true" } }"#,
                r#""defaultValue": "false""#,
            ],
            gone: &[],
        },
        // A nested deployment deployed only with the prod parameter file.
        Case {
            name: "arm-conditional-nested-paramfile",
            file: "main.json",
            after: &[
                r#""parameters": { "r": { "value": "true" } }"#,
                r#""defaultValue": "false" }"#,
            ],
            gone: &[],
        },
        // A ternary whose .bicepparam flips the condition: the cluster's own value.
        Case {
            name: "bicep-ternary-bicepparam-flips",
            file: "main.bicep",
            after: &["enableSecretRotation: 'true'"],
            gone: &["prod ?"],
        },
        // The deploying branch is a literal, the other branch a shared variable the
        // .bicepparam selects: the cluster's own value, not the dead branch.
        Case {
            name: "bicep-dead-branch-shared-var",
            file: "main.bicep",
            after: &["enableSecretRotation: 'true'", "var prodRot = 'false'"],
            gone: &[],
        },
        // A variable the evaluator gets as a bool is written `true` (Bicep) / `true` (ARM).
        Case {
            name: "bicep-bool-spelled-variable",
            file: "main.bicep",
            after: &["var r = true", "param rotStr string = 'False'"],
            gone: &[],
        },
        Case {
            name: "arm-bool-spelled-variable",
            file: "main.json",
            after: &[r#""variables": { "r": true }"#],
            gone: &[],
        },
        // `over ?? rot` with `@minLength(5)` on rot: the operand inside the expression.
        Case {
            name: "bicep-minlength-coalesce",
            file: "main.bicep",
            after: &[
                "enableSecretRotation: over ?? 'true'",
                "param rot string = 'false'",
            ],
            gone: &[],
        },
        // A spec's main template linking by uri(deployment().properties.templateLink.uri).
        Case {
            name: "spec-uri-link",
            file: "spec.json",
            after: &[r#""parameters": { "rot": { "value": "true" } }"#],
            gone: &[],
        },
        // A .tf.json override of a local: fixed in the override.
        Case {
            name: "tf-override-locals-json",
            file: "override.tf.json",
            after: &[r#""rot": true"#],
            gone: &[],
        },
        // A parameter that also feeds an output: the cluster's own value.
        Case {
            name: "arm-output-side-effect",
            file: "main.json",
            after: &[
                r#""defaultValue": "false""#,
                r#""enableSecretRotation": "true""#,
            ],
            gone: &[],
        },
        // Caller parameter shared with storage, passed to a module through a variable.
        Case {
            name: "bicep-module-chain-variable",
            file: "main.bicep",
            after: &["var rot = true", "param flag bool = false"],
            gone: &[],
        },
    ];
    for c in cases {
        let dir = case(c.name);
        let (code, out) = fix_yes(dir.path());
        assert_eq!(code, 0, "{}: {out}", c.name);
        let text = read(dir.path().join(c.file));
        for a in c.after {
            assert!(text.contains(a), "{}: missing {a}\n{out}\n{text}", c.name);
        }
        for g in c.gone {
            assert!(!text.contains(g), "{}: still {g}\n{text}", c.name);
        }
    }
}

/// Flow-list items with a `key: value`-looking neighbour, a multi-line plain item ending in
/// spaces before `,`, `\n` and `\t` escapes, and a shell comment inside a quoted item: each
/// gets the flag where the shell reads it, inside its own item. Holds.
#[test]
fn yaml_flow_list_escapes_and_comments() {
    let dir = case("yaml-flow-escapes");
    let (code, out) = fix_yes(dir.path());
    assert_eq!(code, 0, "{out}");
    let text = read(dir.path().join("ci.yml"));
    for want in [
        r#"azure-keyvault-secrets-provider --enable-secret-rotation, "echo x: y" ]"#,
        r#"azure-keyvault-secrets-provider --enable-secret-rotation\n", "#,
        r#"azure-keyvault-secrets-provider\tnext --enable-secret-rotation"]"#,
        r#"azure-keyvault-secrets-provider --enable-secret-rotation # not a comment in quotes"]"#,
        "      --enable-secret-rotation\n      -a azure-keyvault-secrets-provider   ,",
    ] {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
}
