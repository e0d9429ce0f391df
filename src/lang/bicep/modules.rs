//! Module signatures: what a Bicep `module` reference resolves to, and so how a call of it
//! is checked. Its one job: from a reference (`'./aks.bicep'`, `'br/public:avm/res/…:0.9.0'`,
//! `'br/modules:aks:1.0'`, `'ts/specs:aks:1.0'`) and the calling file's folder, say whether
//! the callee is a file on disk (expanded by the evaluator), the AKS resource module (and
//! whether its `enableSecretRotation` takes a bool or a string), a pattern module that turns
//! the add-on on without a way to pass rotation, or a module armfix cannot identify.
//!
//! Registry references are resolved as Bicep resolves them: `br/ALIAS:PATH:TAG` and
//! `ts/ALIAS:NAME:VERSION` through the `moduleAliases` of the nearest `bicepconfig.json`
//! (looked for upward from the calling file's folder; `br/public` is built in as
//! `mcr.microsoft.com/bicep` unless the file redefines it). Only a reference that resolves
//! to `mcr.microsoft.com/bicep/avm/res/container-service/managed-cluster` is the Azure
//! Verified Module: a private registry or a template spec whose path merely contains
//! `container-service/managed-cluster` may take anything, so a call of one that enables the
//! add-on is manual review.

use super::ast::{Doc, Kind, NodeId};
use crate::edit::Edit;
use crate::lang::style;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// How the AKS module's `enableSecretRotation` parameter is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// `param enableSecretRotation bool` (AVM from 0.2): `true`.
    Bool,
    /// `param enableSecretRotation string` (AVM before 0.2, CARML): `'true'`.
    Str,
    /// Not known (a module on disk without the parameter, a version armfix cannot read):
    /// spelled like the call's `enableKeyvaultSecretsProvider`, or manual review.
    Sibling,
}

/// What a module reference is, for the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Callee {
    /// A Bicep or JSON file on disk, relative to the caller: expanded with the call's
    /// arguments by the evaluator.
    Local,
    /// The AKS resource module (AVM `avm/res/container-service/managed-cluster`, or CARML's
    /// `Microsoft.ContainerService/managedClusters`), checked on the call's `params`.
    Aks(Spelling),
    /// A pattern module whose add-on is on unless the call turns it off, with no parameter
    /// for rotation (`avm/ptn/azd/aks`): named for the finding.
    Pattern(String),
    /// A registry module or template spec armfix cannot identify (the resolved reference).
    Unidentified(String),
}

thread_local! {
    /// The file being analysed on this thread: its folder is where module paths and
    /// `bicepconfig.json` are looked for.
    static FILE: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Runs `f` with `path` as the file whose module references are resolved (its folder, and
/// the `bicepconfig.json` above it). Without it (standard input), references resolve with
/// the built-in aliases only and modules on disk are not read.
pub(crate) fn analysing<R>(path: Option<&Path>, f: impl FnOnce() -> R) -> R {
    let old = FILE.with(|c| c.replace(path.map(Path::to_path_buf)));
    let out = f();
    FILE.with(|c| *c.borrow_mut() = old);
    out
}

/// The folder of the file being analysed (of any language: ARM templates resolve their
/// linked templates from it too), if known.
pub(crate) fn analysed_folder() -> Option<PathBuf> {
    folder()
}

fn folder() -> Option<PathBuf> {
    FILE.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
    })
}

/// What the reference `target` of a module in the file being analysed is.
pub(crate) fn classify(target: &str) -> Callee {
    classify_from(target, folder().as_deref())
}

/// What `target` is, called from a file in `dir`.
pub(crate) fn classify_from(target: &str, dir: Option<&Path>) -> Callee {
    if super::plan::is_local_module(target) {
        if !super::plan::is_cluster_module(target) {
            return Callee::Local;
        }
        let on_disk = dir
            .map(|d| d.join(target))
            .and_then(|f| crate::run::read::read_text(&f))
            .and_then(|text| declared_spelling(&text));
        let carml = target
            .to_ascii_lowercase()
            .replace('\\', "/")
            .contains("microsoft.containerservice/managedclusters");
        return Callee::Aks(on_disk.unwrap_or(if carml {
            Spelling::Str
        } else {
            Spelling::Sibling
        }));
    }
    let resolved = resolve(target, dir);
    let lower = resolved.to_ascii_lowercase();
    const AVM: &str = "br:mcr.microsoft.com/bicep/avm/";
    if let Some(rest) = lower.strip_prefix(AVM) {
        let (path, tag) = rest.split_once(':').unwrap_or((rest, ""));
        if path == "res/container-service/managed-cluster" {
            return Callee::Aks(match version(tag) {
                Some(v) if v < (0, 2) => Spelling::Str,
                Some(_) => Spelling::Bool,
                None => Spelling::Sibling,
            });
        }
        if path.starts_with("ptn/") && path.split('/').any(|s| s == "aks") {
            return Callee::Pattern(format!("avm/{path}"));
        }
        if path.starts_with("res/") {
            // Another AVM resource module: it does not deploy a cluster.
            return Callee::Local;
        }
    }
    Callee::Unidentified(resolved)
}

/// `MAJOR.MINOR` of a module tag (`0.1.7`, `v0.2`), if it is a version.
fn version(tag: &str) -> Option<(u64, u64)> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let mut parts = t.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((major, minor))
}

/// The declared type of `param enableSecretRotation` in a module's Bicep text.
pub(crate) fn declared_spelling(text: &str) -> Option<Spelling> {
    let doc = super::parser::parse(text).ok()?;
    let p = doc
        .params
        .iter()
        .find(|p| p.name == crate::rule::ROTATION)?;
    match p.type_text.trim().trim_end_matches('?') {
        "bool" => Some(Spelling::Bool),
        "string" => Some(Spelling::Str),
        _ => None,
    }
}

/// The fully qualified reference: `br/ALIAS:…` and `ts/ALIAS:…` expanded through the
/// nearest `bicepconfig.json` (and the built-in `br/public`); other references as written.
pub(crate) fn resolve(target: &str, dir: Option<&Path>) -> String {
    let config = dir.and_then(bicepconfig);
    let alias = |kind: &str, name: &str| {
        config
            .as_ref()
            .and_then(|c| c.get("moduleAliases")?.get(kind)?.get(name).cloned())
    };
    let field = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(|s| s.trim_matches('/').to_string())
    };
    if let Some(rest) = target.strip_prefix("br/") {
        let Some((name, path)) = rest.split_once(':') else {
            return target.to_string();
        };
        let found = alias("br", name);
        let (registry, module_path) = match (&found, name) {
            (Some(a), _) => (field(a, "registry"), field(a, "modulePath")),
            (None, "public") => (Some("mcr.microsoft.com".into()), Some("bicep".into())),
            _ => return target.to_string(),
        };
        let Some(registry) = registry else {
            return target.to_string();
        };
        return match module_path.filter(|p| !p.is_empty()) {
            Some(mp) => format!("br:{registry}/{mp}/{path}"),
            None => format!("br:{registry}/{path}"),
        };
    }
    if let Some(rest) = target.strip_prefix("ts/") {
        let Some((name, spec)) = rest.split_once(':') else {
            return target.to_string();
        };
        if let Some(a) = alias("ts", name) {
            if let (Some(sub), Some(rg)) = (field(&a, "subscription"), field(&a, "resourceGroup")) {
                return format!("ts:{sub}/{rg}/{spec}");
            }
        }
    }
    target.to_string()
}

/// The nearest `bicepconfig.json` at or above `dir`, parsed (comments allowed). A file that
/// does not parse counts as none: the built-in aliases stay.
fn bicepconfig(dir: &Path) -> Option<serde_json::Value> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for d in dir.ancestors() {
        let file = d.join("bicepconfig.json");
        if file.is_file() {
            let text = crate::run::read::read_text(&file)?;
            return crate::lang::arm::jsonc::parse(&text)
                .ok()
                .map(|root| root.to_value());
        }
    }
    None
}

/// The value of a call's `enableKeyvaultSecretsProvider` as a literal spelling, for a module
/// whose own spelling is not known.
pub(crate) fn sibling_spelling(doc: &Doc, addon_value: NodeId) -> Option<Spelling> {
    match doc.node(addon_value).kind {
        Kind::Bool(_) => Some(Spelling::Bool),
        Kind::Str(_) => Some(Spelling::Str),
        _ => None,
    }
}

/// The edit adding `key: value` on its own line right after the member whose value is
/// `after` (a module's `enableKeyvaultSecretsProvider`), at that member's indentation:
/// where a reviewer looks for it. `None` when that member does not start its own line (a
/// one-line object): the caller adds at the end instead.
pub(crate) fn add_after(
    text: &str,
    doc: &Doc,
    key_start: usize,
    after: NodeId,
    line: &str,
) -> Option<Edit> {
    if !style::starts_line(text, key_start) {
        return None;
    }
    let end = doc.node(after).span.end;
    let eol_at = end + text[end..].find('\n')?;
    let at = eol_at + 1;
    let indent = style::indent_of_line(text, key_start);
    let eol = style::eol_before(text, at);
    Some(Edit::insert(at, format!("{indent}{line}{eol}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avm_versions_decide_the_spelling() {
        let aks = |t: &str| classify_from(t, None);
        let avm = "br/public:avm/res/container-service/managed-cluster";
        assert_eq!(aks(&format!("{avm}:0.1.7")), Callee::Aks(Spelling::Str));
        assert_eq!(aks(&format!("{avm}:0.2.0")), Callee::Aks(Spelling::Bool));
        assert_eq!(aks(&format!("{avm}:1.0.0")), Callee::Aks(Spelling::Bool));
        assert_eq!(
            aks(&format!("{avm}:latest")),
            Callee::Aks(Spelling::Sibling)
        );
        assert_eq!(
            aks("br:mcr.microsoft.com/bicep/avm/res/container-service/managed-cluster:0.1.0"),
            Callee::Aks(Spelling::Str)
        );
        assert_eq!(
            aks("br/public:avm/ptn/azd/aks:0.2.0"),
            Callee::Pattern("avm/ptn/azd/aks".into())
        );
        assert_eq!(
            aks("br/public:avm/res/storage/storage-account:0.9.0"),
            Callee::Local
        );
        // A path that merely contains the AVM folder is not the AVM module.
        for t in [
            "br:myacr.azurecr.io/container-service/managed-cluster:1.0.0",
            "br:myacr.azurecr.io/bicep/avm/res/container-service/managed-cluster:0.9.0",
            "ts:0000/rg/container-service/managed-cluster:1.0",
            "ts/specs:container-service/managed-cluster:1.0",
            "br/modules:container-service/managed-cluster:1.0",
        ] {
            assert!(matches!(aks(t), Callee::Unidentified(_)), "{t}");
        }
        assert_eq!(
            aks("../CARML/Microsoft.ContainerService/managedClusters/deploy.bicep"),
            Callee::Aks(Spelling::Str)
        );
        assert_eq!(
            aks("../modules/container-service/managed-cluster/main.bicep"),
            Callee::Aks(Spelling::Sibling)
        );
        assert_eq!(aks("./aks.bicep"), Callee::Local);
    }

    #[test]
    fn aliases_come_from_the_nearest_bicepconfig() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(
            d.path().join("bicepconfig.json"),
            r#"{ // comments are allowed
              "moduleAliases": {
                "br": {
                  "avm": { "registry": "mcr.microsoft.com", "modulePath": "bicep/avm" },
                  "mine": { "registry": "myacr.azurecr.io" }
                },
                "ts": { "specs": { "subscription": "0000", "resourceGroup": "rg" } }
              }
            }"#,
        )
        .unwrap();
        let from = |t: &str| classify_from(t, Some(&deep));
        assert_eq!(
            from("br/avm:res/container-service/managed-cluster:0.1.2"),
            Callee::Aks(Spelling::Str)
        );
        assert_eq!(
            resolve("br/mine:container-service/managed-cluster:1.0", Some(&deep)),
            "br:myacr.azurecr.io/container-service/managed-cluster:1.0"
        );
        assert_eq!(
            resolve("ts/specs:aks:1.0", Some(&deep)),
            "ts:0000/rg/aks:1.0"
        );
        assert_eq!(
            from("br/public:avm/res/container-service/managed-cluster:0.3.0"),
            Callee::Aks(Spelling::Bool)
        );
    }

    #[test]
    fn a_module_on_disk_declares_its_spelling() {
        assert_eq!(
            declared_spelling("param enableSecretRotation string = 'false'\n"),
            Some(Spelling::Str)
        );
        assert_eq!(
            declared_spelling("@description('x')\nparam enableSecretRotation bool = false\n"),
            Some(Spelling::Bool)
        );
        assert_eq!(declared_spelling("param other bool\n"), None);
    }
}
