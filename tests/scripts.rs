//! Azure CLI scripts: each fixture in `tests/fixtures/scripts` is analysed, fixed, verified and
//! snapshotted (findings, then the diff); the fix is idempotent; verification refuses edits
//! that are not the intended ones; and the command line treats scripts like templates.

use crate::util::{armfix, fixtures, run_cmd, Run as Output};
use armfix::edit;
use armfix::finding::{Analysis, Remedy};
use armfix::lang::script::{self, Dialect};
use armfix::lang::FileKind;
use armfix::output::present::{self, Paint};
use std::fs;
use std::path::Path;

fn fixture_names() -> Vec<String> {
    crate::util::fixture_names("scripts")
}

/// A fixture analysed through its file kind, with its verified fixed text.
struct Run {
    kind: FileKind,
    original: String,
    analysis: Analysis,
    fixed: String,
}

fn run(name: &str) -> Run {
    let path = fixtures("scripts").join(name);
    let original = fs::read_to_string(&path).expect("fixture");
    let kind = FileKind::of(&path).expect("a script extension");
    assert!(
        matches!(kind, FileKind::Script(_)),
        "{name} is not routed to scripts"
    );
    assert!(kind.may_concern(original.as_bytes()), "{name}: prefilter");
    let analysis = kind
        .analyze(&original, &Default::default())
        .expect("scripts always analyse")
        .unwrap_or_else(|| panic!("{name}: no relevant command"));
    let fixed = edit::apply(&original, &analysis.edits).expect("edits apply");
    if !analysis.edits.is_empty() {
        kind.verify(&original, &analysis, &fixed)
            .unwrap_or_else(|e| panic!("{name}: verification failed: {e}"));
    }
    Run {
        kind,
        original,
        analysis,
        fixed,
    }
}

/// What a reviewer reads: findings (with their remedy), then the unified diff.
fn report(name: &str, r: &Run) -> String {
    let mut out = String::new();
    for f in &r.analysis.findings {
        let remedy = match &f.remedy {
            Remedy::Fix => "fix".to_string(),
            Remedy::ManualReview { expression, .. } => format!(
                "manual review of `{}`",
                expression.as_deref().unwrap_or_default()
            ),
        };
        out += &format!("{}\n  -> {remedy}\n", present::finding_line(name, f));
    }
    out += "\n";
    out += &present::diff(name, &r.original, &r.fixed, Paint(false));
    out
}

#[test]
fn every_fixture_matches_its_snapshot() {
    let names = fixture_names();
    assert!(names.len() >= 15, "fixtures missing: {names:?}");
    for name in names {
        let r = run(&name);
        let snapshot = format!("scripts__{}", name.replace(['.', '-'], "_"));
        snapshot!(snapshot, report(&name, &r));
    }
}

/// (fixture, fixable findings, manual-review findings): every fixture must be listed.
const EXPECTED: [(&str, usize, usize); 15] = [
    ("addon-last-line.bash", 1, 0),
    ("aligned-marks.sh", 1, 0),
    ("azure-pipelines.yml", 3, 0),
    ("bash-continued.sh", 1, 0),
    ("crlf.sh", 2, 0),
    ("disable-replaced.sh", 1, 0),
    ("github-actions.yml", 3, 0),
    ("no-kv-addon.sh", 0, 0),
    ("one-liner-comment.sh", 2, 0),
    ("powershell-backticks.ps1", 1, 0),
    ("redirection.sh", 4, 0),
    ("repeated-addons.sh", 1, 1),
    ("splatting.ps1", 0, 2),
    ("update-disable.azcli", 2, 0),
    ("variable-built.sh", 0, 4),
];

#[test]
fn findings_per_fixture() {
    let listed: Vec<&str> = EXPECTED.iter().map(|(n, ..)| *n).collect();
    assert_eq!(
        fixture_names(),
        listed,
        "a fixture is missing from EXPECTED"
    );
    for (name, fixable, manual) in EXPECTED {
        let r = run(name);
        assert_eq!(
            (r.analysis.fixable(), r.analysis.manual()),
            (fixable, manual),
            "{name}"
        );
        assert_eq!(r.analysis.edits.len(), fixable, "{name}: one edit a fix");
        assert!(r.analysis.patch.is_empty(), "{name}: scripts have no patch");
        for f in &r.analysis.findings {
            assert_eq!(f.rule, "Azure.AKS.SecretStoreRotation");
            assert!(f.pointer.is_none());
            assert!(f.start < f.end && f.end <= r.original.len());
        }
    }
}

#[test]
fn fixing_twice_changes_nothing() {
    for name in fixture_names() {
        let r = run(&name);
        let again = r
            .kind
            .analyze(&r.fixed, &Default::default())
            .expect("analyses")
            .expect("still relevant");
        assert_eq!(again.fixable(), 0, "{name}: a fix is left after fixing");
        assert!(again.edits.is_empty(), "{name}: second run edits");
        assert_eq!(again.manual(), r.analysis.manual(), "{name}");
    }
}

#[test]
fn line_and_column_point_at_the_add_on_list() {
    let r = run("bash-continued.sh");
    let f = &r.analysis.findings[0];
    assert_eq!((f.line, f.column), (14, 19));
    assert_eq!(
        &r.original[f.start..f.end],
        "monitoring,azure-keyvault-secrets-provider"
    );
    let r = run("update-disable.azcli");
    let f = &r.analysis.findings[0];
    assert_eq!((f.line, f.column), (2, 15));
    assert_eq!(&r.original[f.start..f.end], "--disable-secret-rotation");
}

#[test]
fn crlf_stays_crlf() {
    let r = run("crlf.sh");
    let bare_lf = |t: &str| t.match_indices('\n').any(|(i, _)| !t[..i].ends_with('\r'));
    assert!(
        r.original.contains("\r\n") && !bare_lf(&r.original),
        "the fixture lost its CRLF line endings (git normalisation?)"
    );
    assert_ne!(r.original, r.fixed);
    assert!(!bare_lf(&r.fixed), "the fix introduced a bare LF");
}

#[test]
fn continued_commands_get_a_line_shaped_like_their_neighbours() {
    let cases = [
        // Tabs and a value on its own line: the option is not parted from its value.
        (
            "az aks create \\\n\t--enable-addons \\\n\tazure-keyvault-secrets-provider\n",
            "az aks create \\\n\t--enable-secret-rotation \\\n\t--enable-addons \\\n\tazure-keyvault-secrets-provider\n",
        ),
        // No line starts with an option: the flag goes after the last argument.
        (
            "az aks create --name \\\n  x -a azure-keyvault-secrets-provider\n",
            "az aks create --name \\\n  x -a azure-keyvault-secrets-provider --enable-secret-rotation\n",
        ),
        // A chain on the last line stays where it is.
        (
            "az aks create -g rg \\\n  -a azure-keyvault-secrets-provider && \\\n  echo done\n",
            "az aks create -g rg \\\n  --enable-secret-rotation \\\n  -a azure-keyvault-secrets-provider && \\\n  echo done\n",
        ),
        // A command substitution closing on the last line.
        (
            "ID=$(az aks create \\\n  -a azure-keyvault-secrets-provider \\\n  --query id -o tsv)\n",
            "ID=$(az aks create \\\n  -a azure-keyvault-secrets-provider \\\n  --enable-secret-rotation \\\n  --query id -o tsv)\n",
        ),
    ];
    for (input, want) in cases {
        let a = script::analyze_as(input, Dialect::Shell)
            .unwrap()
            .expect("relevant");
        let got = edit::apply(input, &a.edits).unwrap();
        assert_eq!(got, want);
        script::verify_as(input, &a, &got, Dialect::Shell).expect("verifies");
    }
}

#[test]
fn what_is_left_alone() {
    for (text, d) in [
        // Commented out, quoted, or another add-on.
        (
            "# az aks create -a azure-keyvault-secrets-provider\n",
            Dialect::Shell,
        ),
        (
            "echo 'az aks create -a azure-keyvault-secrets-provider'\n",
            Dialect::Shell,
        ),
        (
            "<# az aks create -a azure-keyvault-secrets-provider #>\n",
            Dialect::PowerShell,
        ),
        (
            "az aks create -a monitoring # azure-keyvault-secrets-provider later\n",
            Dialect::Shell,
        ),
        // `az aks update` without --disable-secret-rotation.
        (
            "az aks update -n x -g y  # disable-secret-rotation? no\n",
            Dialect::Shell,
        ),
    ] {
        assert_eq!(script::analyze_as(text, d).unwrap(), None, "{text}");
    }
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_command() {
    let text = "\u{feff}az aks create -a azure-keyvault-secrets-provider\r\n";
    let a = script::analyze_as(text, Dialect::PowerShell)
        .unwrap()
        .expect("relevant");
    assert_eq!(a.fixable(), 1);
    assert_eq!((a.findings[0].line, a.findings[0].column), (1, 18));
}

#[test]
fn verification_refuses_other_changes() {
    let original =
        "az aks create \\\n  --enable-addons azure-keyvault-secrets-provider \\\n  -n x\n";
    let a = script::analyze_as(original, Dialect::Shell)
        .unwrap()
        .unwrap();
    let good = edit::apply(original, &a.edits).unwrap();
    script::verify_as(original, &a, &good, Dialect::Shell).expect("the planned fix verifies");
    // A byte changed outside the edit.
    let tampered = good.replace("-n x", "-n y");
    assert!(script::verify_as(original, &a, &tampered, Dialect::Shell).is_err());
    // The flag parts an option from its value: the command reads differently.
    let mut bad = a.clone();
    let at = original.find("azure-keyvault").unwrap();
    bad.edits = vec![edit::Edit::insert(at, "--enable-secret-rotation ")];
    let fixed = edit::apply(original, &bad.edits).unwrap();
    assert!(script::verify_as(original, &bad, &fixed, Dialect::Shell).is_err());
    // An edit that fixes nothing.
    bad.edits = vec![edit::Edit::insert(0, "# --enable-secret-rotation\n")];
    let fixed = edit::apply(original, &bad.edits).unwrap();
    assert!(script::verify_as(original, &bad, &fixed, Dialect::Shell).is_err());
}

#[test]
fn extensions_route_to_scripts() {
    for (file, want) in [
        ("a.sh", Some(FileKind::Script(Dialect::Shell))),
        ("a.BASH", Some(FileKind::Script(Dialect::Shell))),
        ("a.azcli", Some(FileKind::Script(Dialect::Shell))),
        ("a.ps1", Some(FileKind::Script(Dialect::PowerShell))),
        ("a.yml", Some(FileKind::Script(Dialect::Yaml))),
        ("a.yaml", Some(FileKind::Script(Dialect::Yaml))),
        ("a.json", Some(FileKind::Json)),
        ("a.txt", None),
    ] {
        assert_eq!(FileKind::of(Path::new(file)), want, "{file}");
    }
    let kind = FileKind::Script(Dialect::Shell);
    assert!(kind.may_concern(b"az aks update --DISABLE-secret-rotation"));
    assert!(kind.may_concern(b"-a Azure-KeyVault-Secrets-Provider"));
    assert!(!kind.may_concern(b"az aks create -a monitoring"));
    assert!(!kind.has_json_patch());
}

// ---- the command line ----

/// A copy of the fixtures in a temporary folder (tests write to it).
fn workspace(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in names {
        fs::copy(fixtures("scripts").join(name), dir.path().join(name)).expect("copy");
    }
    dir
}

#[test]
fn cli_check_reports_scripts() {
    let names = fixture_names();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let dir = workspace(&refs);
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = run_cmd(
        armfix()
            .arg("check")
            .arg(dir.path())
            .current_dir(dir.path()),
    );
    assert_eq!(code, 1);
    let name = dir.path().join("bash-continued.sh");
    assert!(
        out.contains(&format!(
            "{}:14:19: Azure.AKS.SecretStoreRotation: `az aks create` turns on \
             azure-keyvault-secrets-provider without --enable-secret-rotation",
            name.display()
        )),
        "{out}"
    );
    assert_eq!(
        err,
        "Found 29 findings in 14 of 15 files: 22 fixable, 7 need manual review.\n"
    );
}

#[test]
fn cli_fix_yes_writes_and_a_second_run_is_clean() {
    let names = [
        "bash-continued.sh",
        "crlf.sh",
        "github-actions.yml",
        "powershell-backticks.ps1",
    ];
    let dir = workspace(&names);
    let before: Vec<String> = names
        .iter()
        .map(|n| fs::read_to_string(dir.path().join(n)).unwrap())
        .collect();
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = run_cmd(armfix().args(["fix", "--yes", "."]).current_dir(dir.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("+  --enable-secret-rotation \\\n"), "{out}");
    assert!(
        err.ends_with("Fixed 7 of 7 findings in 4 of 4 files.\n"),
        "{err}"
    );
    for (n, old) in names.iter().zip(&before) {
        let new = fs::read_to_string(dir.path().join(n)).unwrap();
        assert_ne!(&new, old, "{n} was not written");
        assert_eq!(
            new,
            run_text(n, old),
            "{n}: written text differs from the plan"
        );
    }
    let crlf = fs::read_to_string(dir.path().join("crlf.sh")).unwrap();
    assert!(crlf.contains("  --enable-secret-rotation \\\r\n"));
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = run_cmd(armfix().args(["check", "."]).current_dir(dir.path()));
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(err, "No findings in 4 files.\n");
    let Output {
        code, stdout: out, ..
    } = run_cmd(armfix().args(["fix", "--yes", "."]).current_dir(dir.path()));
    assert_eq!((code, out.as_str()), (0, ""));
}

/// The planned fix of a fixture's text, through the library.
fn run_text(name: &str, text: &str) -> String {
    let kind = FileKind::of(Path::new(name)).unwrap();
    let a = kind.analyze(text, &Default::default()).unwrap().unwrap();
    edit::apply(text, &a.edits).unwrap()
}

#[test]
fn cli_manual_review_keeps_exit_one_and_writes_nothing_it_cannot_prove() {
    let dir = workspace(&["variable-built.sh", "redirection.sh"]);
    let original = fs::read_to_string(dir.path().join("variable-built.sh")).unwrap();
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = run_cmd(armfix().args(["fix", "--yes", "."]).current_dir(dir.path()));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("variable-built.sh:3:28: Azure.AKS.SecretStoreRotation: needs manual review"),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("variable-built.sh")).unwrap(),
        original
    );
    assert!(
        err.contains("Fixed 4 of 8 findings in 2 of 2 files; 4 need manual review."),
        "{err}"
    );
}

#[test]
fn cli_dry_run_writes_nothing() {
    let dir = workspace(&["one-liner-comment.sh"]);
    let path = dir.path().join("one-liner-comment.sh");
    let original = fs::read_to_string(&path).unwrap();
    let Output {
        code, stdout: out, ..
    } = run_cmd(armfix().args(["fix", "--dry-run"]).arg(&path));
    assert_eq!(code, 1);
    assert!(out.contains(
        "+az aks create -g rg -n aks --enable-addons azure-keyvault-secrets-provider \
         --generate-ssh-keys --enable-secret-rotation  # CSI driver for Key Vault\n"
    ));
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
}

#[test]
fn cli_patch_says_scripts_have_no_json_patch() {
    let dir = workspace(&["bash-continued.sh"]);
    let path = dir.path().join("bash-continued.sh");
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = run_cmd(armfix().arg("patch").arg(&path));
    assert_eq!(code, 0);
    assert_eq!(out, "[]\n");
    assert!(err.contains("not a JSON Patch"), "{err}");
}

#[test]
fn cli_walk_finds_pipelines_in_hidden_folders() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    fs::create_dir_all(&wf).unwrap();
    fs::copy(
        fixtures("scripts").join("github-actions.yml"),
        wf.join("deploy.yml"),
    )
    .unwrap();
    fs::write(
        dir.path().join("notes.txt"),
        "az aks create -a azure-keyvault-secrets-provider\n",
    )
    .unwrap();
    let Output {
        code, stdout: out, ..
    } = run_cmd(armfix().args(["check", "."]).current_dir(dir.path()));
    assert_eq!(code, 1);
    assert!(
        out.contains(".github/workflows/deploy.yml:20:29: "),
        "{out}"
    );
    assert!(!out.contains("notes.txt"), "{out}");
}

#[test]
fn cli_utf16_powershell_is_an_error_not_a_silent_skip() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    for u in "az aks create -a azure-keyvault-secrets-provider\r\n".encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    fs::write(dir.path().join("create.ps1"), bytes).unwrap();
    let Output {
        code, stderr: err, ..
    } = run_cmd(armfix().args(["check", "."]).current_dir(dir.path()));
    assert_eq!(code, 2);
    assert!(
        err.contains("create.ps1") && err.contains("UTF-16"),
        "{err}"
    );
}

/// Every prefix of every fixture, read in every dialect: no panic, and whatever armfix plans
/// for the broken text it can prove (a plan it cannot prove would be an internal error).
#[test]
fn truncated_scripts_never_panic_and_plans_always_verify() {
    for name in fixture_names() {
        let text = fs::read_to_string(fixtures("scripts").join(&name)).unwrap();
        for cut in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
            let part = &text[..cut];
            for d in [Dialect::Shell, Dialect::PowerShell, Dialect::Yaml] {
                let Some(a) = script::analyze_as(part, d).unwrap() else {
                    continue;
                };
                if a.edits.is_empty() {
                    continue;
                }
                let fixed = edit::apply(part, &a.edits).unwrap();
                if let Err(e) = script::verify_as(part, &a, &fixed, d) {
                    panic!("{name} cut at {cut} as {d:?}: {e}\n{part}");
                }
            }
        }
    }
}

/// Shell metacharacters dropped into every fixture at pseudo-random places: no panic, and
/// every plan verifies. `FUZZ_ROUNDS` and `FUZZ_SEED` run it longer or elsewhere.
#[test]
fn mangled_scripts_never_panic_and_plans_always_verify() {
    const NOISE: &[&str] = &[
        "\"",
        "'",
        "`",
        "$",
        "$(",
        ")",
        "{",
        "}",
        "<<EOF\n",
        "|",
        ";",
        "&",
        "#",
        "\\",
        "\n",
        "@",
        "@\"\n",
        "\\\n",
        "`\n",
        "\r\n",
        "é",
        "<#",
        "--disable-secret-rotation ",
    ];
    let mut seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x2545_F491_4F6C_DD1D);
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for name in fixture_names() {
        let text = fs::read_to_string(fixtures("scripts").join(&name)).unwrap();
        for _ in 0..std::env::var("FUZZ_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300)
        {
            let mut mangled = text.clone();
            for _ in 0..1 + next(3) {
                let mut at = next(mangled.len() + 1);
                while !mangled.is_char_boundary(at) {
                    at -= 1;
                }
                mangled.insert_str(at, NOISE[next(NOISE.len())]);
            }
            for d in [Dialect::Shell, Dialect::PowerShell, Dialect::Yaml] {
                let Some(a) = script::analyze_as(&mangled, d).unwrap() else {
                    continue;
                };
                let fixed = edit::apply(&mangled, &a.edits).unwrap();
                if let Err(e) = script::verify_as(&mangled, &a, &fixed, d) {
                    panic!("{name} as {d:?}: {e}\n{mangled}");
                }
            }
        }
    }
}

#[test]
fn unreadable_text_is_reported_not_edited() {
    // An unclosed quote: the shell reads nothing after it, so neither does armfix.
    let text = "az aks create -a azure-keyvault-secrets-provider\necho \"oops\naz aks create -a azure-keyvault-secrets-provider\n";
    let a = script::analyze_as(text, Dialect::Shell).unwrap().unwrap();
    assert_eq!((a.fixable(), a.manual()), (1, 1));
    assert_eq!((a.findings[1].line, a.findings[1].column), (2, 6));
    assert!(a.findings[1].message.contains("never closes"));
    assert_eq!(a.edits.len(), 1);
    assert!(a.edits[0].start < text.find("echo").unwrap());
    // An unclosed substitution.
    let text = "X=$(az aks create -a azure-keyvault-secrets-provider\n";
    let a = script::analyze_as(text, Dialect::Shell).unwrap().unwrap();
    assert_eq!((a.fixable(), a.manual()), (0, 1));
    // YAML: a quote cut at the end of its line, inside a command that concerns the rule.
    let text = "run: az aks create -a \"azure-keyvault-secrets-provider\n";
    let a = script::analyze_as(text, Dialect::Yaml).unwrap().unwrap();
    assert_eq!((a.fixable(), a.manual()), (0, 1));
    assert!(a.edits.is_empty());
}
