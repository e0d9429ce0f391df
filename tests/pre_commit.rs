//! The hooks of `.pre-commit-hooks.yaml`, run as pre-commit runs them: their entry on the
//! staged files their `files` pattern matches, in a real git repository.

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
