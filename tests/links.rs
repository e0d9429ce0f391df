//! Inputs a deployment really uses (issue 13): each case is a folder under
//! `tests/fixtures/links/`, copied to a temporary repository and run through the binary
//! (`check`, `fix --dry-run`, `fix --yes`, then `check` again). The transcript is one
//! snapshot per case; the assertions beside it say what the case is about.

use crate::util::{fixtures, run, stable, temp_repo_copy, tree, Run};

/// What the runs of one case gave.
struct Case {
    check: Run,
    fix: Run,
    second: Run,
    /// The files `fix --yes` changed, with their new text.
    written: Vec<(String, String)>,
    transcript: String,
}

/// Runs the case `name` and snapshots its transcript as `links__NAME`.
fn case(name: &str) -> Case {
    let src = fixtures("links").join(name);
    let tmp = temp_repo_copy(&src);
    let root = tmp.path();
    let before = tree(root);
    let check = run(root, &["check", "."]);
    let dry = run(root, &["fix", "--dry-run", "--color", "never", "."]);
    assert_eq!(tree(root), before, "{name}: a dry run wrote");
    let fix = run(root, &["fix", "--yes", "--color", "never", "."]);
    let after = tree(root);
    let written: Vec<(String, String)> = after
        .iter()
        .filter(|f| !before.contains(f))
        .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect();
    let second = run(root, &["check", "."]);
    let mut t = String::new();
    for (args, r) in [
        ("check .", &check),
        ("fix --dry-run .", &dry),
        ("fix --yes .", &fix),
        ("check . (after fix --yes)", &second),
    ] {
        t += &format!("$ armfix {args}\nexit: {}\n", r.code);
        if !r.stdout.is_empty() {
            t += &format!("--- stdout\n{}\n", r.stdout.trim_end());
        }
        if !r.stderr.is_empty() {
            t += &format!("--- stderr\n{}\n", r.stderr.trim_end());
        }
    }
    let transcript = stable(&t, root);
    snapshot!(
        format!("links__{}", name.replace('-', "_")),
        transcript.clone(),
        description => format!("tests/fixtures/links/{name}: check, fix --dry-run, fix --yes, check")
    );
    Case {
        check,
        fix,
        second,
        written,
        transcript,
    }
}

/// ARM accepts strings broken over lines (in descriptions, and in expressions written over
/// several lines): such a template is read, traced through the multi-line expression and
/// fixed, never an error.
#[test]
fn multi_line_strings_are_read() {
    let c = case("multiline");
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    assert!(!c.transcript.contains("error"), "{}", c.transcript);
    assert!(
        c.check
            .stdout
            .contains("fixed at the default value of parameter `rotation`"),
        "{}",
        c.transcript
    );
    assert_eq!(c.fix.code, 0, "{}", c.transcript);
    assert_eq!(c.written.len(), 1);
    let (path, text) = &c.written[0];
    assert_eq!(path, "main.json");
    assert!(text.contains("\"defaultValue\": \"true\""));
    // The raw line breaks outside the edit are kept.
    assert!(text.contains("strings\nspan several lines"));
    assert!(text.contains("[createObject(\n      'enabled'"));
    assert_eq!(c.second.code, 0, "{}", c.transcript);
}

/// Local modules by any relative path are judged with their caller's arguments: a compliant
/// add-on object passed three folders up is not manual review, a failing one is fixed in the
/// call, a caller turning off rotation that the module's default turns on is fixed at the
/// caller, and a string-typed module parameter gets `'true'`.
#[test]
fn local_modules_are_judged_with_the_callers_arguments() {
    let c = case("local-modules");
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    let lines: Vec<&str> = c.check.stdout.lines().collect();
    assert_eq!(
        c.check.stderr,
        "Found 3 findings in 2 of 6 files: 3 fixable (3 at their source).\n"
    );
    assert_eq!(lines.len(), 3, "three findings: {}", c.transcript);
    assert!(
        !c.check.stdout.contains("compliant.bicep"),
        "{}",
        c.transcript
    );
    assert!(
        !c.check.stdout.contains("manual review)") || c.check.stdout.contains(" 0 manual review")
    );
    let written: Vec<&str> = c.written.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(written, ["app/env/dev/failing.bicep", "caller.bicep"]);
    let caller = &c.written[1].1;
    assert!(caller.contains("rotation: true\n  }\n}\n\n// Turns the add-on off"));
    assert!(caller.contains("rotation: false\n    secretsProvider: false"));
    assert!(caller.contains("rotation: 'true'"));
    assert_eq!(c.fix.code, 0, "{}", c.transcript);
    assert_eq!(c.second.code, 0, "{}", c.transcript);
}

/// Registry modules are recognised by what they resolve to: the AVM cluster module (also
/// through a `bicepconfig.json` alias) gets `enableSecretRotation` in the spelling its
/// version declares (a string before 0.2, a bool from 0.2), on the line after
/// `enableKeyvaultSecretsProvider`; a template spec or private registry path that merely
/// contains `container-service/managed-cluster`, and the `avm/ptn/azd/aks` pattern (add-on
/// on, no rotation parameter), are manual review; calls that pass rotation or turn the
/// add-on off are left alone.
#[test]
fn registry_modules_are_recognised_by_what_they_resolve_to() {
    let c = case("registry");
    let out = &c.check.stdout;
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    for (module, want) in [
        ("old", "it must be 'true'"),
        ("new", "it must be true"),
        ("falsy", "it must be 'true'"),
        ("oneLine", "it must be true"),
        ("aliased", "it must be 'true'"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("module `{module}` enables")) && l.contains(want)),
            "{module}: {}",
            c.transcript
        );
    }
    for module in ["ts", "priv", "azd"] {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("module `{module}`: "))),
            "{module}: {}",
            c.transcript
        );
    }
    for module in ["azdoff", "passing"] {
        assert!(
            !out.contains(&format!("module `{module}`")),
            "{}",
            c.transcript
        );
    }
    assert_eq!(
        c.check.stderr,
        "Found 8 findings in 2 of 3 files: 5 fixable, 3 need manual review.\n"
    );
    let avm = &c
        .written
        .iter()
        .find(|(p, _)| p == "infra/avm.bicep")
        .unwrap()
        .1;
    assert!(avm.contains(
        "name: 'aks-old'\n    enableKeyvaultSecretsProvider: true\n    enableSecretRotation: 'true'\n    skuTier: 'Free'"
    ));
    assert!(avm.contains(
        "name: 'aks-new'\n    enableKeyvaultSecretsProvider: true\n    enableSecretRotation: true\n    skuTier: 'Free'"
    ));
    assert!(avm.contains(
        "{ name: 'one', enableKeyvaultSecretsProvider: true, enableSecretRotation: true }"
    ));
    // Manual review remains; the fixable ones are gone.
    assert_eq!(c.fix.code, 1, "{}", c.transcript);
    assert_eq!(c.second.code, 1);
    assert_eq!(
        c.second.stderr, "Found 3 findings in 1 of 3 files: 3 need manual review.\n",
        "{}",
        c.transcript
    );
}

/// A deployment linking a template on disk (`templateLink.relativePath`, or a `uri` built
/// from the caller's own link) expands it with the values the caller passes: a `false` the
/// caller passes is found and fixed at the caller, the linked file's own default (`true`)
/// stays. A link to a missing file or a remote URL is not guessed at: nothing is said of it
/// and its `false` argument is left alone. A linked file whose own default fails is fixed
/// there, and the caller that uses that default is not reported too (the same run's fix
/// settles it).
#[test]
fn linked_templates_are_judged_with_the_callers_values() {
    let c = case("template-link");
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    let lines: Vec<&str> = c.check.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "three findings: {}", c.transcript);
    assert!(!c.transcript.contains("manual review"), "{}", c.transcript);
    assert!(
        lines[..2].iter().all(|l| l.starts_with("main.json:")),
        "{}",
        c.transcript
    );
    assert!(
        lines[..2].iter().all(|l| l
            .contains("fixed in the value the nested deployment passes for parameter `rotation`")),
        "{}",
        c.transcript
    );
    assert!(
        lines[2].starts_with("nested/aks-off.json:")
            && lines[2].contains("default value of parameter `rotation`"),
        "{}",
        c.transcript
    );
    assert_eq!(c.fix.code, 0, "{}", c.transcript);
    assert_eq!(c.written.len(), 2, "{}", c.transcript);
    assert_eq!(c.written[1].0, "nested/aks-off.json");
    let (path, text) = &c.written[0];
    assert_eq!(path, "main.json");
    // The two resolvable links are fixed; the missing file and the remote URI keep `false`.
    assert_eq!(text.matches("\"value\": true").count(), 2, "{text}");
    assert_eq!(text.matches("\"value\": false").count(), 2, "{text}");
    assert_eq!(c.second.code, 0, "{}", c.transcript);
}

/// A template spec (`Microsoft.Resources/templateSpecs/versions`): its `mainTemplate` is
/// checked like a nested template with its own defaults (a false default is fixed there),
/// and a link in it by a relative path resolves to the spec's `linkedTemplates`, whose
/// cluster is judged with the value the main template passes.
#[test]
fn template_specs_are_read_with_their_linked_templates() {
    let c = case("template-spec");
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    let lines: Vec<&str> = c.check.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "two findings: {}", c.transcript);
    assert!(
        lines[0].contains("default value of parameter `rotation`"),
        "{}",
        c.transcript
    );
    assert!(
        lines[1].contains("cluster `aks-linked-in-spec`")
            && lines[1].contains("passes for parameter `secretsRotation`"),
        "{}",
        c.transcript
    );
    assert_eq!(c.fix.code, 0, "{}", c.transcript);
    assert_eq!(c.written.len(), 1, "{}", c.transcript);
    let (path, text) = &c.written[0];
    assert_eq!(path, "spec.json");
    assert!(text.contains("\"defaultValue\": \"true\""), "{text}");
    assert!(!text.contains("\"value\": false"), "{text}");
    // The linked template's own default is left as written.
    assert!(text.contains("\"defaultValue\": true"), "{text}");
    assert_eq!(c.second.code, 0, "{}", c.transcript);
}

/// A template spec whose version is written as the spec's child resource (`"type":
/// "versions"` in its `resources`) is read as the top-level form is: the main template's
/// cluster (a false default) is found and fixed, the linked template reached by a relative
/// path is judged with what the main template passes, and a linked template no link reaches
/// is judged on its own with its defaults (one fails and is fixed, one passes). Before, the
/// file had "no findings".
#[test]
fn template_spec_versions_as_child_resources_are_read() {
    let c = case("template-spec-child");
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    for name in ["aks-child-main", "aks-linked", "aks-orphan`"] {
        assert!(c.check.stdout.contains(name), "{name}: {}", c.transcript);
    }
    assert!(
        !c.check.stdout.contains("aks-orphan-ok"),
        "{}",
        c.transcript
    );
    assert_eq!(c.fix.code, 0, "{}", c.transcript);
    assert_eq!(c.written.len(), 1, "{}", c.transcript);
    assert_eq!(c.second.code, 0, "{}", c.transcript);
}

/// A top-level `templateSpecs/versions` whose `linkedTemplates` hold templates its main
/// template never links: each is still a template of the spec, judged with its defaults.
#[test]
fn linked_templates_no_link_reaches_are_judged_on_their_own() {
    let c = case("template-spec-unlinked");
    assert_eq!(c.check.code, 1, "{}", c.transcript);
    let lines: Vec<&str> = c.check.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", c.transcript);
    assert!(
        lines[0].contains("cluster `aks-orphan`"),
        "{}",
        c.transcript
    );
    assert_eq!(c.fix.code, 0, "{}", c.transcript);
    let (_, text) = &c.written[0];
    let spec = crate::util::json(text);
    let rotation = |i: usize| {
        spec["resources"][0]["properties"]["linkedTemplates"][i]["template"]["resources"][0]
            ["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]["config"]
            ["enableSecretRotation"]
            .clone()
    };
    assert_eq!(rotation(1), "true", "{text}");
    // The linked one the main template reaches (passing true) is left as written.
    assert_eq!(rotation(0), "[parameters('secretsRotation')]", "{text}");
    assert_eq!(c.second.code, 0, "{}", c.transcript);
}

/// Two templates linking each other (a deployment error, but a file armfix may meet): the
/// expansion stops at the first link back into a template being expanded, so the run ends,
/// and a template never reports its own cluster as deployed through its own link.
#[test]
fn a_cycle_of_links_ends_and_names_the_right_clusters() {
    let tmp = temp_repo_copy(&fixtures("links").join("template-link-cycle"));
    let check = run(tmp.path(), &["check", "."]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    for (file, own) in [("a.json", "a"), ("b.json", "b")] {
        assert!(
            !check
                .stdout
                .lines()
                .any(|l| l.starts_with(file) && l.contains(&format!("cluster `{own}` fails once"))),
            "{}",
            check.stdout
        );
    }
}

/// On standard input (no folder, so no file on disk is linked) a spec's own linked
/// templates are still read: the unreached one's failing cluster is found.
#[test]
fn a_template_spec_on_standard_input_reads_its_own_linked_templates() {
    let text = std::fs::read_to_string(fixtures("links").join("template-spec-unlinked/spec.json"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = crate::util::run_stdin(dir.path(), &["check", "--color", "never", "-"], text);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("cluster `aks-orphan`"), "{}", r.stdout);
}
