//! `--stdin-filename NAME` reads standard input as the kind of file NAME names, so Bicep and
//! scripts can be piped through `fix -` and `patch -` like JSON.

use crate::util::run_stdin;
use std::path::Path;

/// `armfix ARGS` in the package's folder with `input` on standard input.
fn run(args: &[&str], input: &str) -> (i32, String, String) {
    let r = run_stdin(Path::new(env!("CARGO_MANIFEST_DIR")), args, input);
    (r.code, r.stdout, r.stderr)
}

const BICEP: &str = "resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' = {
  name: 'aks'
  properties: {
    addonProfiles: {
      azureKeyvaultSecretsProvider: {
        enabled: true
      }
    }
  }
}
";

#[test]
fn bicep_through_fix_and_patch() {
    let (code, out, _) = run(&["fix", "--stdin-filename", "main.bicep", "-"], BICEP);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        BICEP.replace(
            "        enabled: true\n",
            "        enabled: true\n        config: {\n          enableSecretRotation: 'true'\n        }\n"
        )
    );
    let (code, out, _) = run(&["patch", "--stdin-filename", "main.bicep", "-"], BICEP);
    assert_eq!(code, 0);
    let patch: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        patch[0]["path"],
        "/resources/aks/properties/addonProfiles/azureKeyvaultSecretsProvider/config"
    );
    // Without the name, the same text is not JSON: an error, and the input comes back.
    let (code, out, err) = run(&["fix", "-"], BICEP);
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, BICEP);
}

#[test]
fn script_through_check_and_fix() {
    let script =
        "az aks create -g rg -n aks --enable-addons azure-keyvault-secrets-provider # new\n";
    let (code, out, _) = run(&["check", "--stdin-filename", "deploy.sh", "-"], script);
    assert_eq!(code, 1);
    assert!(out.starts_with("<stdin>:1:"), "{out}");
    let (code, out, _) = run(&["fix", "--stdin-filename", "deploy.sh", "-"], script);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "az aks create -g rg -n aks --enable-addons azure-keyvault-secrets-provider --enable-secret-rotation # new\n"
    );
}

/// `fix --dry-run -` shows the diff and exits 1 when the input would change, as with files;
/// 0 and nothing on stdout when it would not. Each kind of input, the same way.
#[test]
fn fix_dry_run_of_stdin_exits_1_when_the_input_would_change() {
    let json = crate::util::NEEDS_FIX;
    let script = "az aks create -g rg -n aks --enable-addons azure-keyvault-secrets-provider\n";
    for (args, input) in [
        (&["fix", "--dry-run", "-"][..], json),
        (
            &["fix", "--dry-run", "--stdin-filename", "main.bicep", "-"][..],
            BICEP,
        ),
        (
            &["fix", "--dry-run", "--stdin-filename", "deploy.sh", "-"][..],
            script,
        ),
    ] {
        let (code, out, err) = run(args, input);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(
            out.starts_with("--- a/<stdin>\n+++ b/<stdin>\n@@ "),
            "{args:?}: {out}"
        );
        assert!(out.lines().any(|l| l.starts_with('+')), "{out}");
        // The same input without --dry-run is fixed (exit 0); its output then needs nothing.
        let (code, fixed, _) = run(
            &args[..args.len() - 1]
                .iter()
                .filter(|a| **a != "--dry-run")
                .chain(&["-"])
                .copied()
                .collect::<Vec<_>>(),
            input,
        );
        assert_eq!(code, 0, "{args:?}");
        let (code, out, err) = run(args, &fixed);
        assert_eq!((code, out.as_str()), (0, ""), "{args:?}: {err}");
    }
}
