//! Compiled JSON: ARM JSON compiled from Bicep names the Bicep file that really holds its
//! cluster, and never claims that file is fixed. In `a/` the source `main.bicep` has a fix
//! in the run, and the JSON gets its own proven fix too (so a second run changes nothing,
//! rather than finding the source passing and the JSON stale); in `b/` there is no source beside the JSON,
//! so the JSON is fixed and says so; in `c/` the cluster is in a local module
//! (`modules/aks.bicep`), which the message names (not `main.bicep`), and the caller does not
//! report the failure the module's fix settles; in `d/` the source already passes (a stale
//! build), so the JSON is fixed and says a rebuild gives the same.

use crate::util::{fixtures, run, stable, temp_copy};
use std::fs;

#[test]
fn compiled_json_points_at_its_bicep_source() {
    let fixtures = fixtures("compiled");
    let tmp = temp_copy(&fixtures);
    let check = run(tmp.path(), &["check", "."]);
    let out = &check.stdout;
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {out}"))
    };
    assert!(
        line("a/main.json:21:39: ").contains("its source a/main.bicep has its own fix in this run")
    );
    assert!(line("b/main.json:21:39: ")
        .contains("its source is not beside it as main.bicep: make the same change there too"));
    let c = line("c/main.json:42:47: ");
    assert!(
        c.contains("its source c/modules/aks.bicep has its own fix in this run"),
        "{c}"
    );
    assert!(line("d/main.json:21:39: ").contains("its source d/main.bicep already passes"));
    // Nothing claims that a source "is fixed" or that armfix "fixes" it.
    assert!(
        !out.contains("is fixed") && !out.contains("armfix fixes"),
        "{out}"
    );
    // The caller of the module does not report the failure the module's fix settles.
    assert!(!out.contains("c/main.bicep"), "{out}");
    assert_eq!(
        check.stderr, "Found 6 findings in 6 of 8 files: 6 fixable.\n",
        "{out}"
    );
    snapshot!(
        "compiled_json__check",
        stable(out, tmp.path()),
        description => "tests/fixtures/compiled: armfix check ."
    );

    let fix = run(tmp.path(), &["fix", "--yes", "."]);
    // One run reaches the fixed state: each JSON file passes before it is rebuilt, and its
    // source is fixed as well (so the rebuild passes too).
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    let read = |p: &str| fs::read_to_string(tmp.path().join(p)).unwrap();
    let original = |p: &str| fs::read_to_string(fixtures.join(p)).unwrap();
    assert!(read("a/main.bicep").contains("enableSecretRotation: 'true'"));
    assert!(read("c/modules/aks.bicep").contains("enableSecretRotation: 'true'"));
    assert_eq!(read("c/main.bicep"), original("c/main.bicep"));
    for fixed in ["a/main.json", "b/main.json", "c/main.json", "d/main.json"] {
        assert!(
            read(fixed).contains("\"enableSecretRotation\": \"true\""),
            "{fixed}"
        );
    }
    let again = run(tmp.path(), &["check", "."]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    // A second `fix --yes` changes nothing.
    let once = crate::util::tree(tmp.path());
    let second = run(tmp.path(), &["fix", "--yes", "."]);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert!(crate::util::tree(tmp.path()) == once, "{}", second.stderr);
}

/// A compiled template named alone (its source not scanned): the JSON is fixed and names the
/// source file that needs the same change, the module for a cluster inside one.
#[test]
fn a_compiled_template_named_alone_names_its_real_source() {
    let tmp = temp_copy(&fixtures("compiled"));
    let r = run(tmp.path(), &["check", "c/main.json"]);
    let out = r.stdout;
    assert!(
        out.contains("make the same change in its source c/modules/aks.bicep"),
        "{out}"
    );
    assert_eq!(
        r.stderr, "Found 1 finding in 1 of 1 file: 1 fixable.\n",
        "{out}"
    );
}
