//! The hooks of `.pre-commit-hooks.yaml`, run as pre-commit runs them: their entry on the
//! staged files their `files` pattern matches, in a real git repository; and under a real
//! `pre-commit` when one is installed (`pip install pre-commit`; skipped with a message
//! otherwise).

use crate::util::{read, run, write, Run, CLEAN, NEEDS_FIX, NEEDS_FIX_FIXED};
use std::path::Path;
use std::process::Command;

/// The hooks of `.pre-commit-hooks.yaml`, each as its `key: value` pairs (the file keeps to
/// that flat subset of YAML, so a line reader suffices).
fn hooks() -> Vec<Vec<(String, String)>> {
    let text = read(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"));
    let mut hooks: Vec<Vec<(String, String)>> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let (t, new) = match t.strip_prefix("- ") {
            Some(rest) => (rest, true),
            None => (t, false),
        };
        if new {
            hooks.push(Vec::new());
        }
        let (k, v) = t.split_once(':').expect("key: value");
        let v = v.trim();
        let v = v
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(v);
        hooks
            .last_mut()
            .expect("a hook starts with `- `")
            .push((k.trim().to_string(), v.to_string()));
    }
    hooks
}

fn hook(id: &str) -> Vec<(String, String)> {
    hooks()
        .into_iter()
        .find(|h| h.iter().any(|(k, v)| k == "id" && v == id))
        .unwrap_or_else(|| panic!("hook {id}"))
}

fn get<'h>(hook: &'h [(String, String)], key: &str) -> Option<&'h str> {
    hook.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a hook as pre-commit would: its entry, then the staged files its `files` pattern
/// matches, in the repository's root.
fn run_hook(id: &str, repo: &Path) -> Run {
    let h = hook(id);
    assert_eq!(get(&h, "language"), Some("rust"), "{id}");
    assert_eq!(
        get(&h, "require_serial"),
        Some("true"),
        "templates and parameter files together"
    );
    let pattern = regex::Regex::new(get(&h, "files").expect("files")).unwrap();
    let staged = git(
        repo,
        &["diff", "--cached", "--name-only", "--diff-filter=ACMR"],
    );
    let files: Vec<&str> = staged.lines().filter(|f| pattern.is_match(f)).collect();
    let entry: Vec<&str> = get(&h, "entry").unwrap().split_whitespace().collect();
    assert_eq!(entry[0], "armfix", "the hook runs the installed binary");
    let mut args: Vec<&str> = entry[1..].to_vec();
    args.extend(&files);
    run(repo, &args)
}

#[test]
fn pre_commit_hooks_check_and_fix_staged_templates() {
    let ids: Vec<String> = hooks()
        .iter()
        .filter_map(|h| get(h, "id").map(str::to_string))
        .collect();
    assert_eq!(ids, ["armfix-check", "armfix-fix"]);
    let d = tempfile::tempdir().unwrap();
    let repo = d.path();
    git(repo, &["init", "-q"]);
    write(repo, "infra/aks.json", NEEDS_FIX);
    write(repo, "infra/ok.json", CLEAN);
    write(repo, "README.md", "managedClusters");
    write(repo, "unstaged.json", NEEDS_FIX);
    git(repo, &["add", "infra", "README.md"]);

    let r = run_hook("armfix-check", repo);
    assert_eq!(r.code, 1, "a finding fails the hook: {}", r.stderr);
    assert!(
        r.stdout.starts_with("infra/aks.json:9:43: "),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("unstaged"),
        "only staged files are passed"
    );
    assert_eq!(read(repo.join("infra/aks.json")), NEEDS_FIX);

    let r = run_hook("armfix-fix", repo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(repo.join("infra/aks.json")), NEEDS_FIX_FIXED);
    assert_eq!(
        read(repo.join("unstaged.json")),
        NEEDS_FIX,
        "not staged, not touched"
    );
    // pre-commit fails a hook that modified files; the change is left to stage.
    assert_eq!(git(repo, &["diff", "--name-only"]), "infra/aks.json\n");
    git(repo, &["add", "infra"]);
    assert_eq!(run_hook("armfix-check", repo).code, 0);
    assert_eq!(run_hook("armfix-fix", repo).code, 0);
    assert_eq!(git(repo, &["diff", "--name-only"]), "");
}

/// A cluster in Bicep whose add-on is on without rotation.
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

/// An `az aks create` that turns the add-on on without rotation.
const AZ: &str = "az aks create -g rg -n aks --enable-addons azure-keyvault-secrets-provider\n";

/// `pre-commit`'s path, or None when it is not installed.
fn pre_commit() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("pre-commit"))
        .find(|p| p.is_file())
}

/// Runs `pre-commit run HOOK` in `repo` with the freshly built armfix first on PATH.
fn pre_commit_run(pre_commit: &Path, repo: &Path, hook: &str, home: &Path) -> (i32, String) {
    let bin_dir = Path::new(crate::util::BIN).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = Command::new(pre_commit)
        .current_dir(repo)
        .args(["run", "--color", "never", hook])
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// The hooks under a real pre-commit: a local repository whose hooks are ours, with
/// `language: system` (pre-commit would otherwise build armfix with `cargo install`, minutes
/// per run) and everything else (`entry`, `files`, `require_serial`) as the file says. Every
/// kind armfix reads is passed; armfix.toml's `exclude` holds for staged files
/// (`--force-exclude`); a template staged alone is judged with the parameter files beside it.
#[test]
fn hooks_run_under_a_real_pre_commit() {
    let Some(pre_commit) = pre_commit() else {
        eprintln!("pre_commit: skipped: `pre-commit` is not installed (pip install pre-commit)");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = d.path();
    git(repo, &["init", "-q"]);
    let mut config = String::from("repos:\n  - repo: local\n    hooks:\n");
    for h in hooks() {
        for key in ["id", "name", "entry", "files"] {
            let lead = if key == "id" { "      - " } else { "        " };
            config += &format!("{lead}{key}: '{}'\n", get(&h, key).unwrap());
        }
        config += "        language: system\n";
        config += &format!(
            "        require_serial: {}\n",
            get(&h, "require_serial").unwrap()
        );
    }
    write(repo, ".pre-commit-config.yaml", &config);
    write(repo, "armfix.toml", "exclude = [\"legacy/**\"]\n");
    // A template with parameter files, committed; then only the template is changed.
    let fixture = crate::util::fixtures("trace/parameter-files");
    for f in [
        "main.json",
        "main.parameters.json",
        "main.parameters.prod.json",
    ] {
        write(repo, &format!("params/{f}"), read(fixture.join(f)));
    }
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "start"]);
    let kinds = [
        ("infra/aks.json", NEEDS_FIX),
        ("infra/aks.jsonc", NEEDS_FIX),
        ("infra/main.bicep", BICEP),
        ("scripts/deploy.sh", AZ),
        ("scripts/deploy.azcli", AZ),
        ("scripts/deploy.ps1", AZ),
        (
            ".github/workflows/aks.yml",
            &format!("jobs:\n  a:\n    steps:\n      - run: {AZ}"),
        ),
        ("legacy/old.json", NEEDS_FIX),
    ];
    for (f, text) in kinds {
        write(repo, f, text);
    }
    write(
        repo,
        "params/main.json",
        read(repo.join("params/main.json")) + "\n",
    );
    git(repo, &["add", "."]);

    let (code, out) = pre_commit_run(&pre_commit, repo, "armfix-check", home.path());
    assert_eq!(code, 1, "a finding fails the hook: {out}");
    for (f, _) in &kinds[..7] {
        assert!(out.contains(&format!("{f}:")), "{f} was checked: {out}");
    }
    assert!(!out.contains("legacy/old.json:9:"), "excluded: {out}");
    assert!(
        out.contains("no file read from legacy/old.json: excluded by `legacy/**`"),
        "{out}"
    );
    assert!(
        out.contains("fails with params/main.parameters.prod.json"),
        "the staged template is judged with its parameter files: {out}"
    );

    let (code, out) = pre_commit_run(&pre_commit, repo, "armfix-fix", home.path());
    assert_eq!(code, 1, "pre-commit fails a hook that changed files: {out}");
    assert!(out.contains("files were modified by this hook"), "{out}");
    for (f, text) in &kinds[..7] {
        assert_ne!(&read(repo.join(f)), text, "{f} was fixed");
    }
    assert_eq!(read(repo.join("legacy/old.json")), NEEDS_FIX, "excluded");
    git(repo, &["add", "."]);
    let (_, out) = pre_commit_run(&pre_commit, repo, "armfix-check", home.path());
    for (f, _) in &kinds[..7] {
        assert!(!out.contains(&format!("{f}:")), "{f} is clean now: {out}");
    }
}
