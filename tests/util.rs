//! Helpers shared by the integration tests: the binary's path, small templates with known
//! findings, an independent JSON(-with-comments) reader to check armfix's output against,
//! and a way to show invisible bytes (CR, tab, BOM) in snapshots.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The `armfix` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_armfix");

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

/// A template that passes the rule.
pub const CLEAN: &str = r#"{
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

/// The folder of fixture templates.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arm")
}

/// Writes `contents` at `dir/rel`, creating folders.
pub fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, contents).unwrap();
    path
}

pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

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

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Copies a fixture folder (recursively) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What one run of the binary gave.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs armfix with `args` in `dir`.
pub fn armfix_in(dir: &Path, args: &[&str]) -> Outcome {
    let out = std::process::Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}
