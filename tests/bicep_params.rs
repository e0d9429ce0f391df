//! Bicep parameter files: `.bicepparam` files (`using 'main.bicep'`) that set a parameter a
//! scanned template's rotation setting reads are fixed like ARM parameter files. The tree in
//! `tests/fixtures/bicep-params/` is a small repository: `app/main.bicep` (a `bool` parameter
//! without default and a `string` parameter with one, each feeding a cluster) with parameter
//! files beside it (LF, CRLF, passing, JSON), `env/dev.bicepparam` using it from another
//! folder, `other/` with parameter files of a template that has no cluster or is missing, and
//! `defaulted/` whose only finding is in its parameter file.

use std::fs;
use std::path::Path;

use crate::util::{corpus, fixtures, run, temp_copy, tree};

fn copy() -> tempfile::TempDir {
    temp_copy(&fixtures("bicep-params"))
}

fn original(rel: &str) -> Vec<u8> {
    fs::read(fixtures("bicep-params").join(rel)).unwrap()
}

#[test]
fn dry_run_shows_the_parameter_file_fixes() {
    let tmp = copy();
    let before = tree(tmp.path());
    let dry = run(tmp.path(), &["fix", "--dry-run", "--color", "never", "."]);
    assert_eq!(dry.code, 1, "{}", dry.stderr);
    assert_eq!(tree(tmp.path()), before, "a dry run wrote files");
    snapshot!(
        "bicepparams__dry_run",
        format!("{}\n--- stderr ---\n{}", dry.stdout.replace('\r', "␍"), dry.stderr),
        description => "armfix fix --dry-run on tests/fixtures/bicep-params (␍ marks CR)"
    );
    let check = run(tmp.path(), &["check", "--color", "never", "."]);
    assert_eq!(check.code, 1);
    snapshot!(
        "bicepparams__check",
        check.stdout,
        description => "armfix check on tests/fixtures/bicep-params"
    );
}

#[test]
fn fix_writes_minimal_edits_once() {
    let tmp = copy();
    let write = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    // Manual reviews remain (the template's parameter without default, two expressions).
    assert_eq!(write.code, 1, "{}", write.stderr);
    let after: Vec<(String, Vec<u8>)> = tree(tmp.path());
    let get = |rel: &str| {
        String::from_utf8(after.iter().find(|(p, _)| p == rel).unwrap().1.clone()).unwrap()
    };

    assert_eq!(
        get("app/main.bicepparam"),
        "using 'main.bicep'\n\nparam clusterName = 'aks-dev'\n\n\
         // Rotation was switched off while debugging mounts.\nparam enableSecretRotation = true\n\n\
         param backupRotation = 'true' // keep in sync with dev\n"
    );
    // CRLF kept; the expression is left for a human, the literal fixed.
    assert_eq!(
        get("app/prod.bicepparam"),
        "using './main.bicep'\r\n\r\nparam clusterName = 'aks-prod'\r\n\
         param enableSecretRotation = readEnvironmentVariable('AKS_ROTATE_SECRETS', 'false')\r\n\
         param backupRotation = 'true'\r\n"
    );
    // From another folder, through a variable of the parameter file.
    assert_eq!(
        get("env/dev.bicepparam"),
        String::from_utf8(original("env/dev.bicepparam"))
            .unwrap()
            .replace("var rotate = false", "var rotate = true")
    );
    assert_eq!(
        get("defaulted/main.bicepparam"),
        "using 'main.bicep'\n\nparam rotate = true\n"
    );
    // A JSON parameter file named for the Bicep template is linked as for ARM templates.
    assert_eq!(
        get("app/main.parameters.json"),
        String::from_utf8(original("app/main.parameters.json"))
            .unwrap()
            .replace(
                "\"enableSecretRotation\": { \"value\": false }",
                "\"enableSecretRotation\": { \"value\": true }"
            )
    );
    // Nothing else changed: templates, passing files, files of other or missing templates.
    let changed = [
        "app/main.bicepparam",
        "app/prod.bicepparam",
        "env/dev.bicepparam",
        "defaulted/main.bicepparam",
        "app/main.parameters.json",
    ];
    for (rel, bytes) in &after {
        if !changed.contains(&rel.as_str()) {
            assert_eq!(bytes, &original(rel), "{rel} changed");
        } else {
            assert_ne!(bytes, &original(rel), "{rel} was not fixed");
        }
    }
    assert!(write.stderr.contains("armfix: wrote app/main.bicepparam"));
    assert!(!write.stderr.contains("other/"), "{}", write.stderr);

    // A second run finds nothing to fix and writes nothing.
    let again = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(again.code, 1);
    assert_eq!(tree(tmp.path()), after, "a second run changed files");
    assert!(
        !again.stderr.contains("armfix: wrote")
            && !again.stderr.contains("Fixed 1")
            && !again.stderr.contains(" not written"),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("wrote"), "{}", again.stderr);
    let check = run(tmp.path(), &["check", "--color", "never", "."]);
    assert_eq!(check.code, 1);
    let lines: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.contains(": Azure."))
        .collect();
    assert_eq!(lines.len(), 3, "{}", check.stdout);
    assert!(
        lines.iter().all(|l| l.contains("needs manual review")),
        "{}",
        check.stdout
    );
}

#[test]
fn check_exit_codes() {
    let tmp = copy();
    let dir = tmp.path();
    // Only the parameter file is wrong: 1, then fixed: 0.
    assert_eq!(run(dir, &["check", "defaulted"]).code, 1);
    assert_eq!(run(dir, &["fix", "--yes", "defaulted"]).code, 0);
    let clean = run(dir, &["check", "defaulted"]);
    assert_eq!(clean.code, 0, "{}", clean.stdout);

    // The template is not named (as when the pre-commit hook passes only a staged parameter
    // file): the parameter file is still judged with the template its `using` names, which
    // is read for that but neither reported nor written.
    let alone = run(dir, &["check", "app/main.bicepparam"]);
    assert_eq!(alone.code, 1, "{}", alone.stdout);
    assert!(
        alone.stdout.starts_with("app/main.bicepparam:") && !alone.stdout.contains("main.bicep:"),
        "{}",
        alone.stdout
    );
    let template = fs::read(dir.join("app/main.bicep")).unwrap();
    assert_eq!(run(dir, &["fix", "--yes", "app/main.bicepparam"]).code, 0);
    assert_ne!(
        fs::read(dir.join("app/main.bicepparam")).unwrap(),
        original("app/main.bicepparam")
    );
    assert_eq!(fs::read(dir.join("app/main.bicep")).unwrap(), template);
    assert_eq!(run(dir, &["check", "app/main.bicepparam"]).code, 0);

    // A parameter file of a scanned template that does not parse: 2, with its place, and
    // nothing written.
    let broken = "using 'main.bicep'\n\nparam enableSecretRotation = false\nparam = 1\n";
    fs::write(dir.join("app/broken.bicepparam"), broken).unwrap();
    let r = run(dir, &["fix", "--yes", "app"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: app/broken.bicepparam:4:7: "),
        "{}",
        r.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.join("app/broken.bicepparam")).unwrap(),
        broken
    );
}

/// The shared corpus, when present: its one `.bicepparam` (`using 'cluster-stamp.bicep'`) is
/// put beside its template under the name it uses. That template's rotation is a literal,
/// so no parameter is demanded and the parameter file must stay untouched; every fix is
/// stable.
#[test]
fn corpus_parameter_file_beside_its_template() {
    let corpus = corpus("bicep");
    let param =
        corpus.join("mspnp__aks-baseline__workload-team__azuredeploy.parameters.prod.bicepparam");
    let template = corpus.join("mspnp__aks-baseline__workload-team__cluster-stamp.bicep");
    if !param.exists() || !template.exists() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Written, not copied: the corpus is read-only and a copy keeps the permissions.
    let bytes = |p: &Path| fs::read(p).unwrap();
    fs::write(
        dir.join("azuredeploy.parameters.prod.bicepparam"),
        bytes(&param),
    )
    .unwrap();
    fs::write(dir.join("cluster-stamp.bicep"), bytes(&template)).unwrap();
    let first = run(dir, &["fix", "--yes", "--color", "never", "."]);
    assert_ne!(first.code, 2, "{}", first.stderr);
    assert_eq!(
        fs::read(dir.join("azuredeploy.parameters.prod.bicepparam")).unwrap(),
        fs::read(&param).unwrap()
    );
    let after = tree(dir);
    run(dir, &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(tree(dir), after);
}

// ---------------------------------------------------------------------------------------
// Found by using armfix on a platform team's tree (issue 14's run-through).

/// A caller passes its own string parameter to a local module's rotation parameter; both its
/// default and its `.bicepparam` say 'false'. The cluster is fixed at both sources whether it
/// is declared directly in the caller or in the local module (whose argument the planner
/// follows into the caller). The class: a module argument fed by a caller's parameter that a
/// `.bicepparam` overrides.
fn module_fed_by_bicepparam(direct: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let cluster = "resource aks 'Microsoft.ContainerService/managedClusters@2023-01-01' = {
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
    if direct {
        crate::util::write(
            tmp.path(),
            "main.bicep",
            format!(
                "param name string = 'aks-direct'\nparam rotation string = 'false'\n\n{cluster}"
            ),
        );
    } else {
        crate::util::write(
            tmp.path(),
            "modules/aks.bicep",
            format!("param name string\nparam rotation string = 'true'\n\n{cluster}"),
        );
        crate::util::write(
            tmp.path(),
            "main.bicep",
            "param rotation string = 'false'\n\nmodule aks './modules/aks.bicep' = {\n  name: 'aks'\n  params: {\n    name: 'aks-bicep'\n    rotation: rotation\n  }\n}\n",
        );
    }
    crate::util::write(
        tmp.path(),
        "main.bicepparam",
        "using './main.bicep'\n\nparam rotation = 'false'\n",
    );
    tmp
}

fn fixed_at_both_sources(direct: bool) {
    let tmp = module_fed_by_bicepparam(direct);
    let r = run(tmp.path(), &["fix", "--yes", "--color", "never", "."]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let main = fs::read_to_string(tmp.path().join("main.bicep")).unwrap();
    assert!(main.contains("param rotation string = 'true'"), "{main}");
    let params = fs::read_to_string(tmp.path().join("main.bicepparam")).unwrap();
    assert!(params.contains("param rotation = 'true'"), "{params}");
    let again = run(tmp.path(), &["check", "."]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn direct_cluster_is_fixed_at_both_sources() {
    fixed_at_both_sources(true);
}

#[test]
fn module_cluster_is_fixed_at_both_sources() {
    fixed_at_both_sources(false);
}

/// A `.bicepparam` value its template's `@allowed` rejects (Bicep compares case-sensitively:
/// `'FALSE'` is not `'false'`) is not fixed silently: writing `'true'` would make an
/// environment that cannot be deployed deployable, so the fix is unsafe, held back, and says
/// why; the file is left as it is.
#[test]
fn a_rejected_bicepparam_value_is_an_unsafe_fix() {
    let tmp = copy();
    let prod = tmp.path().join("app/prod.bicepparam");
    let text = fs::read_to_string(&prod).unwrap();
    let rejected = text.replace(
        "param backupRotation = 'false'",
        "param backupRotation = 'FALSE'",
    );
    assert_ne!(rejected, text, "the fixture's prod value moved");
    fs::write(&prod, &rejected).unwrap();

    let check = run(tmp.path(), &["check", "."]);
    let line = check
        .stdout
        .lines()
        .position(|l| l.starts_with("app/prod.bicepparam:5:24: "))
        .unwrap_or_else(|| panic!("no finding on the rejected value: {}", check.stdout));
    let next = check.stdout.lines().nth(line + 1).unwrap_or_default();
    assert!(
        next.contains("unsafe fix") && next.contains("allows only"),
        "{}",
        check.stdout
    );

    run(tmp.path(), &["fix", "--yes", "."]);
    assert_eq!(fs::read_to_string(&prod).unwrap(), rejected);
}

/// Extendable parameter files (`extends`, Bicep CLI 0.44.1+), in
/// `tests/fixtures/bicep-extends`: a failing value a `using none` base assigns is fixed in
/// the base, once for every file that extends it (directly, or through another base), and a
/// file's own assignment wins over its base's (`prod` passes; `dev`, once it says `'false'`
/// itself, is fixed in its own line). A base alone is no deployment: nothing is reported
/// for a base nobody extends, and a cycle of `extends` ends cleanly.
#[test]
fn extended_bases_are_fixed_once_for_every_file_that_extends_them() {
    let tmp = temp_copy(&fixtures("bicep-extends"));
    let dir = tmp.path();
    let check = run(dir, &["check", "--color", "never", "."]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    let findings: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.contains("Azure.AKS.SecretStoreRotation"))
        .collect();
    assert_eq!(findings.len(), 1, "{}", check.stdout);
    assert!(
        findings[0].starts_with("params/base.bicepparam:4:18: "),
        "{}",
        check.stdout
    );
    let untouched = [
        "params/prod.bicepparam",
        "params/dev.bicepparam",
        "params/weu.bicepparam",
    ];
    let before: Vec<String> = untouched
        .iter()
        .map(|f| fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    let fix = run(dir, &["fix", "--yes", "."]);
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    let base = fs::read_to_string(dir.join("params/base.bicepparam")).unwrap();
    assert!(base.contains("param rotation = 'true'"), "{base}");
    for (f, b) in untouched.iter().zip(&before) {
        assert_eq!(&fs::read_to_string(dir.join(f)).unwrap(), b, "{f}");
    }
    assert_eq!(run(dir, &["check", "."]).code, 0);

    // The extending file's own value wins over the base's.
    fs::write(
        dir.join("params/dev.bicepparam"),
        "using '../main.bicep'\nextends 'base.bicepparam'\n\nparam rotation = 'false'\n",
    )
    .unwrap();
    let check = run(dir, &["check", "--color", "never", "."]);
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(
        check.stdout.starts_with("params/dev.bicepparam:4:18: "),
        "{}",
        check.stdout
    );
    run(dir, &["fix", "--yes", "."]);
    assert_eq!(run(dir, &["check", "."]).code, 0);

    // A cycle of bases, and a base nobody extends: no finding, no hang.
    fs::write(
        dir.join("params/base.bicepparam"),
        "using none\nextends './regional.bicepparam'\n\nparam csi = true\nparam rotation = 'false'\n",
    )
    .unwrap();
    fs::write(
        dir.join("params/lonely.bicepparam"),
        "using none\n\nparam rotation = 'false'\n",
    )
    .unwrap();
    for f in ["dev", "weu", "prod"] {
        fs::remove_file(dir.join(format!("params/{f}.bicepparam"))).unwrap();
    }
    let check = run(dir, &["check", "."]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

/// A base's fix is proven in every configuration that extends it, never with the base's
/// values alone: a base that turns the add-on off, extended by a file that turns it on,
/// fails there (and is fixed in the base); a base whose rotation every extending file
/// overrides with 'true' needs no fix.
#[test]
fn a_base_is_judged_in_the_files_that_extend_it() {
    let tmp = temp_copy(&fixtures("bicep-extends"));
    let dir = tmp.path();
    for f in ["regional", "weu", "prod"] {
        fs::remove_file(dir.join(format!("params/{f}.bicepparam"))).unwrap();
    }
    let base = "using none\n\nparam csi = false\nparam rotation = 'false'\n";
    fs::write(dir.join("params/base.bicepparam"), base).unwrap();
    let dev = "using '../main.bicep'\nextends 'base.bicepparam'\n\nparam csi = true\n";
    fs::write(dir.join("params/dev.bicepparam"), dev).unwrap();
    let check = run(dir, &["check", "--color", "never", "."]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.starts_with("params/base.bicepparam:4:18: "),
        "{}",
        check.stdout
    );
    // Every file extending the base sets rotation itself: the base's value never deploys.
    let dev = "using '../main.bicep'\nextends 'base.bicepparam'\n\nparam csi = true\nparam rotation = 'true'\n";
    fs::write(dir.join("params/dev.bicepparam"), dev).unwrap();
    let check = run(dir, &["check", "--color", "never", "."]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

/// A `.bicepparam` value for a parameter whose `@allowed` spells true only as `'True'` is
/// fixed to `'True'` in the parameter file (not hard-coded in the cluster, not `'true'`,
/// which Bicep's case-sensitive `@allowed` rejects).
#[test]
fn a_bicepparam_value_gets_the_allowed_spelling_of_true() {
    let tmp = temp_copy(&fixtures("real-world/bicep-allowed-title-case"));
    let dir = tmp.path();
    let main = fs::read_to_string(dir.join("main.bicep")).unwrap().replace(
        "param rotation string = 'False'",
        "param rotation string = 'True'",
    );
    fs::write(dir.join("main.bicep"), &main).unwrap();
    fs::write(
        dir.join("dev.bicepparam"),
        "using 'main.bicep'\n\nparam rotation = 'False'\n",
    )
    .unwrap();
    let fix = run(dir, &["fix", "--yes", "."]);
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    assert_eq!(
        fs::read_to_string(dir.join("dev.bicepparam")).unwrap(),
        "using 'main.bicep'\n\nparam rotation = 'True'\n"
    );
    assert_eq!(fs::read_to_string(dir.join("main.bicep")).unwrap(), main);
    assert_eq!(run(dir, &["check", "."]).code, 0);
}

/// A base in another folder of the repository than the files extending it
/// (`extends '../../base/common.bicepparam'`) is found through the repository's index of
/// `extends` statements, and fixed there.
#[test]
fn a_base_elsewhere_in_the_repository_is_linked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir_all(dir.join(".git")).unwrap();
    fs::create_dir_all(dir.join("base")).unwrap();
    fs::create_dir_all(dir.join("env/dev")).unwrap();
    fs::copy(
        fixtures("bicep-extends").join("main.bicep"),
        dir.join("env/dev/main.bicep"),
    )
    .unwrap();
    fs::write(
        dir.join("base/common.bicepparam"),
        "using none\n\nparam csi = true\nparam rotation = 'false'\n",
    )
    .unwrap();
    fs::write(
        dir.join("env/dev/dev.bicepparam"),
        "using 'main.bicep'\nextends '../../base/common.bicepparam'\n\nparam env = 'dev'\n",
    )
    .unwrap();
    let check = run(dir, &["check", "--color", "never", "."]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.starts_with("base/common.bicepparam:4:18: "),
        "{}",
        check.stdout
    );
    run(dir, &["fix", "--yes", "."]);
    assert_eq!(run(dir, &["check", "."]).code, 0);
}
