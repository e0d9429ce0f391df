//! What every test module shares: the binary and how to run it, the fixture folders and the
//! optional corpus, temporary copies and their contents, snapshot settings, small templates
//! with known findings, an independent JSON(-with-comments) reader to check armfix's output
//! against, and a way to show invisible bytes (CR, tab, BOM) in snapshots.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Asserts a snapshot stored in `snapshots/` under exactly `$name`: no module prefix, so the
/// name does not depend on which module a test lives in. With a description, the expression
/// is left out of the snapshot's header.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!(
            {snapshot_path => "../snapshots", prepend_module_to_snapshot => false},
            { insta::assert_snapshot!($name, $value) }
        )
    };
    ($name:expr, $value:expr, description => $description:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => $description,
        }, {
            insta::assert_snapshot!($name, $value)
        })
    };
}

// ---------------------------------------------------------------------------------------
// Running the binary

/// The `armfix` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_armfix");

/// `armfix`, with colour left to its default (no `NO_COLOR`) and standard input closed
/// unless given with `write_stdin`.
pub fn armfix() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(BIN);
    c.env_remove("NO_COLOR");
    c
}

/// What one run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `armfix ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    run_cmd(armfix().current_dir(dir).args(args))
}

/// Runs `armfix ARGS` in `dir` with `input` on standard input.
pub fn run_stdin(dir: &Path, args: &[&str], input: impl Into<Vec<u8>>) -> Run {
    run_cmd(armfix().current_dir(dir).args(args).write_stdin(input))
}

/// Runs a command built from [`armfix`] to its end.
pub fn run_cmd(cmd: &mut assert_cmd::Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().expect("armfix exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        // The command a dry run ends with names the program as called: the same in every
        // checkout.
        stderr: String::from_utf8(out.stderr)
            .unwrap()
            .replace(BIN, "armfix"),
    }
}

/// Parses `s` as one JSON document, failing the test with the text when it is not.
pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{s}"))
}

/// Makes a report stable for snapshots: the version and the temporary folder.
pub fn stable(s: &str, root: &Path) -> String {
    let version = env!("CARGO_PKG_VERSION");
    s.replace(&format!("armfix {version}"), "armfix [version]")
        .replace(&format!("\"{version}\""), "\"[version]\"")
        .replace(&root.display().to_string(), "[root]")
}

// ---------------------------------------------------------------------------------------
// Fixtures, the corpus, temporary copies

/// `tests/fixtures/<sub>`.
pub fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

/// The names of the entries of `tests/fixtures/<sub>`, sorted.
pub fn fixture_names(sub: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixtures(sub))
        .expect("fixtures folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `../shared/corpus/<sub>` (`""` for all of it): real templates beside the repository, not
/// part of it. It is optional: a test that reads it skips that part, saying so on stderr,
/// when it is absent.
pub fn corpus(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(sub)
}

/// The entries of `../shared/corpus/<sub>`, sorted; `None`, with a note on stderr that the
/// test skips it, when the corpus is absent.
pub fn corpus_entries(sub: &str) -> Option<Vec<PathBuf>> {
    let dir = corpus(sub);
    let Ok(entries) = fs::read_dir(&dir) else {
        eprintln!("skipped: {} is absent", dir.display());
        return None;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    Some(paths)
}

/// Copies `src` (one file, or a folder's contents recursively) into the folder `dst`. A
/// read-only source (the shared corpus is) gives a writable copy.
pub fn copy_into(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    if src.is_file() {
        copy_file(src, &dst.join(src.file_name().unwrap()));
        return;
    }
    for e in fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let target = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_into(&p, &target);
        } else {
            copy_file(&p, &target);
        }
    }
}

fn copy_file(src: &Path, dst: &Path) {
    fs::copy(src, dst).unwrap();
    let mut perms = fs::metadata(dst).unwrap().permissions();
    if perms.readonly() {
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(dst, perms).unwrap();
    }
}

/// A temporary folder holding a copy of `src` (a file or a folder's contents).
pub fn temp_copy(src: &Path) -> TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_into(src, d.path());
    d
}

/// [`temp_copy`] in a folder marked as a repository's root (an empty `.git`), so that the
/// search for armfix.toml stays inside the copy.
pub fn temp_repo_copy(src: &Path) -> TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join(".git")).unwrap();
    copy_into(src, d.path());
    d
}

/// Every file under `dir` (not under `.git`, links not followed) with its bytes, by path
/// relative to `dir` with `/` between names, sorted: to prove what a run changed.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let kind = fs::symlink_metadata(&p).unwrap().file_type();
            if kind.is_dir() && p.file_name().unwrap() != ".git" {
                stack.push(p);
            } else if kind.is_file() {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Writes `contents` at `dir/rel`, creating folders.
pub fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, contents).unwrap();
    path
}

pub fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path).unwrap()
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

// ---------------------------------------------------------------------------------------
// Templates with known findings

pub const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/// A template whose only cluster enables the add-on without `config`. Its finding is at
/// 9:43 (the add-on's `{`).
pub const NEEDS_FIX: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.ContainerService/managedClusters",
      "name": "aks",
      "properties": {
        "addonProfiles": {
          "azureKeyvaultSecretsProvider": {
            "enabled": true
          }
        }
      }
    }
  ]
}
"#;

/// [`NEEDS_FIX`] as a careful human would fix it.
pub const NEEDS_FIX_FIXED: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.ContainerService/managedClusters",
      "name": "aks",
      "properties": {
        "addonProfiles": {
          "azureKeyvaultSecretsProvider": {
            "enabled": true,
            "config": {
              "enableSecretRotation": "true"
            }
          }
        }
      }
    }
  ]
}
"#;

/// The finding `check` reports for [`NEEDS_FIX`], after `path:`.
pub const NEEDS_FIX_FINDING: &str = "9:43: Azure.AKS.SecretStoreRotation: ";

/// A template that passes the rule: [`NEEDS_FIX_FIXED`].
pub const CLEAN: &str = NEEDS_FIX_FIXED;

/// A template whose only finding needs manual review (`config` is an expression, at 11:23).
pub const MANUAL: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.ContainerService/managedClusters",
      "name": "aks",
      "properties": {
        "addonProfiles": {
          "azureKeyvaultSecretsProvider": {
            "enabled": true,
            "config": "[parameters('csiConfig')]"
          }
        }
      }
    }
  ]
}
"#;

/// Mentions managedClusters but is not JSON: a comma is missing at 6:7.
pub const INVALID: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.ContainerService/managedClusters"
      "name": "aks"
    }
  ]
}
"#;

// ---------------------------------------------------------------------------------------
// An independent reader of armfix's output

/// Replaces `//` and `/* */` comments (outside strings) with spaces, so that a strict JSON
/// reader can read the text. Written independently of armfix's own parser.
pub fn strip_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                out.push(b'"');
                i += 1;
                while i < b.len() {
                    out.push(b[i]);
                    match b[i] {
                        b'\\' if i + 1 < b.len() => {
                            out.push(b[i + 1]);
                            i += 2;
                        }
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    out.push(b' ');
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                for &c in &b[i..end] {
                    out.push(if c == b'\n' || c == b'\r' { c } else { b' ' });
                }
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    // Comments are replaced byte for byte by spaces; multi-byte characters inside comments
    // become several spaces, which keeps the text valid UTF-8.
    String::from_utf8(out).expect("comment stripping keeps UTF-8")
}

/// Reads JSON with comments (and an optional BOM) with serde_json, which refuses trailing
/// commas and every other laxity.
pub fn parse_json(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(&strip_comments(text))
}

/// Makes CR, tab and BOM visible, so snapshots (which normalise line endings) still show them.
pub fn visible(s: &str) -> String {
    s.replace('\u{feff}', "<BOM>")
        .replace('\r', "␍")
        .replace('\t', "␉")
}

/// The 1-based line and column (in characters, a BOM not counted) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_text = before.rsplit('\n').next().unwrap_or("");
    let line_text = if line == 1 {
        line_text.strip_prefix('\u{feff}').unwrap_or(line_text)
    } else {
        line_text
    };
    (line, line_text.chars().count() + 1)
}
