//! What a person reviewing fixes reads around each diff: the block above a finding's hunks
//! (where, which cluster, what is wrong, where the fix lands and why, how safe it is), the
//! `git add -p`-style question and its help, and the command that would write what a dry
//! run showed. It formats; `commands::fix` decides.

use crate::finding::{shorten, Applicability, Finding, FixSource};
use crate::output::present;
use crate::rule::ROTATION;
use serde_json::Value;

/// The names of a file's clusters, read once from its ARM shape (`None`: a file without
/// one, such as a script).
pub(crate) struct Clusters(Option<Value>, Vec<(String, Vec<String>)>);

impl Clusters {
    pub(crate) fn new(shape: Option<Value>) -> Self {
        Clusters(shape, Vec::new())
    }

    /// With the evaluated names of clusters (by pointer) that the findings do not carry
    /// (`run::prove::names_for_display`).
    pub(crate) fn with_names(mut self, names: Vec<(String, Vec<String>)>) -> Self {
        self.1 = names;
        self
    }

    /// [`Clusters::label`], with the names the evaluator gave what `k` deploys (`evaluated`,
    /// empty when it did not evaluate): a name expression gives way to the evaluated name (each
    /// copy's, in a loop), and a nested deployment or module call that holds the cluster is
    /// named by the cluster it deploys (`aks-linked` (deployed by `aksDeploy`)),
    /// so a cluster is never called by its deployment's name.
    pub(crate) fn label_evaluated(&self, k: &str, evaluated: &[String]) -> String {
        let written = self.label(k);
        let resource = self.0.as_ref().and_then(|s| s.pointer(k));
        let kind = resource
            .and_then(|r| r.get("type"))
            .and_then(Value::as_str)
            .unwrap_or(crate::rule::CLUSTER_TYPE);
        if evaluated.is_empty() {
            // A module whose template is not on hand (a registry module: AVM, CARML) names
            // its cluster by its `name` argument, as those modules do; else the call is
            // named as what deploys the cluster, never as the cluster.
            if kind.eq_ignore_ascii_case(crate::rule::CLUSTER_TYPE) {
                return written;
            }
            // Bicep and languageVersion 2.0 key a call by its symbolic name; an ARM
            // deployment (by index) is named as written.
            let token = k.rsplit('/').next().unwrap_or_default().replace("~1", "/");
            let by = if token.bytes().all(|b| b.is_ascii_digit()) {
                written
            } else {
                format!("`{token}`")
            };
            let argument = resource
                .and_then(|r| r.pointer("/properties/parameters/name/value"))
                .and_then(Value::as_str)
                .filter(|n| !n.starts_with('[') && !n.contains("${"));
            return match argument {
                Some(n) => format!("`{n}` (deployed by {by})"),
                None => format!("deployed by {by}"),
            };
        }
        let names = evaluated
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if !kind.eq_ignore_ascii_case(crate::rule::CLUSTER_TYPE) {
            return format!("{names} (deployed by {written})");
        }
        let name = resource.and_then(|r| r.get("name")).and_then(Value::as_str);
        let literal = name.is_some_and(|n| !n.starts_with('[') && !n.contains("${"));
        if literal && evaluated.len() == 1 {
            written
        } else if written.starts_with("`[") || written.starts_with("at `") {
            names
        } else if let Some((symbolic, _)) = written.split_once(" (name ") {
            format!("{symbolic} (name {names})")
        } else if written.contains("${") {
            names
        } else {
            format!("{written} (name {names})")
        }
    }

    /// How a person knows the cluster at JSON pointer `k`: its `name` when it is a literal,
    /// its symbolic name (Bicep, languageVersion 2.0), else its name expression, shortened.
    pub(crate) fn label(&self, k: &str) -> String {
        let token = k
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace("~1", "/")
            .replace("~0", "~");
        let name = self
            .0
            .as_ref()
            .and_then(|s| s.pointer(k))
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str);
        let literal = name.filter(|n| !n.starts_with('[') && !n.contains("${"));
        let symbolic = !token.is_empty() && !token.bytes().all(|b| b.is_ascii_digit());
        match (symbolic, literal, name) {
            (true, Some(n), _) if n != token => format!("`{token}` (name `{n}`)"),
            (true, _, _) => format!("`{token}`"),
            (false, Some(n), _) => format!("`{n}`"),
            (false, None, Some(expr)) => format!("`{}`", shorten(expr)),
            (false, None, None) => format!("at `{k}`"),
        }
    }
}

/// The block above one finding's diff:
///
/// ```text
/// infra/aks.json:34:43: Azure.AKS.SecretStoreRotation: <what is wrong>
///     cluster: `aks-basic`
///     fix: at the default value of parameter `rot`, which the rotation setting of cluster `aks` reads
///     safe fix: it changes only the rotation setting at deploy time
/// ```
///
/// An unsafe fix has one `unsafe fix: it also …` line per side effect instead of the last.
/// Every line ends with a newline.
pub(crate) fn header(path: &str, f: &Finding, clusters: &Clusters) -> String {
    let (wrong, landing) = split_message(&f.message);
    let mut shown = f.clone();
    shown.message = wrong.to_string();
    let mut out = present::finding_line(path, &shown);
    out.push('\n');
    let names: Vec<String> = f
        .cluster
        .iter()
        .chain(&f.other_clusters)
        .map(|k| {
            let evaluated = f
                .cluster_names
                .iter()
                .chain(&clusters.1)
                .find(|(c, _)| c == k)
                .map_or(&[][..], |(_, n)| &n[..]);
            clusters.label_evaluated(k, evaluated)
        })
        .collect();
    match names.len() {
        0 => {}
        1 => out += &format!("    cluster: {}\n", names[0]),
        _ => out += &format!("    clusters: {}\n", names.join(", ")),
    }
    let at_source = f.source.as_ref().is_some_and(|s| *s != FixSource::Value);
    let mut landing = match landing {
        Some(l) => l.to_string(),
        None => match &f.source {
            None | Some(FixSource::Value) => "in the cluster".to_string(),
            Some(s) => s.describe(),
        },
    };
    if at_source && !landing.contains("because") {
        match names.as_slice() {
            [] => {}
            [one] => landing += &format!(", which `{ROTATION}` of cluster {one} reads"),
            more => {
                landing += &format!(", which `{ROTATION}` of clusters {} reads", more.join(", "))
            }
        }
    }
    out += &format!("    fix: {landing}\n");
    if f.applicability == Applicability::Safe {
        out += "    safe fix: it changes only the rotation setting at deploy time\n";
    } else {
        for note in present::side_effect_notes(f) {
            out += &format!("    {note}\n");
        }
    }
    out
}

/// A finding's message split into what is wrong and where the fix lands (the words after
/// `; fixed `, as the planner and the proof write them), when it says.
fn split_message(message: &str) -> (&str, Option<&str>) {
    match message.split_once("; fixed ") {
        Some((wrong, landing)) => (wrong, Some(landing)),
        None => (message, None),
    }
}

/// The question after a finding's diff: `(1/3) Apply this fix to infra/aks.json
/// [y,n,a,d,q,e,?] (Enter: n)? `; `count` findings share it when their fixes cannot be
/// applied apart.
pub(crate) fn prompt(n: usize, total: usize, path: &str, count: usize) -> String {
    let what = if count > 1 {
        format!("these {count} fixes")
    } else {
        "this fix".to_string()
    };
    format!("({n}/{total}) Apply {what} to {path} [y,n,a,d,q,e,?] (Enter: n)? ")
}

/// What `?` prints.
pub(crate) const HELP: &str = "\
y - apply this fix
n - do not apply this fix (Enter alone is n)
a - apply this fix and every later one, without asking
d - do not apply this fix or any later one in this file
q - quit: apply nothing more and print nothing more
e - open this file in $VISUAL or $EDITOR at this line; it is read and checked again when the editor exits
? - print this help";

/// The command that writes what a dry run showed: the command line as given, with `--yes`
/// after `fix` and without `--dry-run`; the program as it was called unless `armfix` on the
/// `PATH` is this very program. `None` when an argument cannot be written for a shell (not
/// UTF-8).
pub(crate) fn write_command(args: &[std::ffi::OsString], program_on_path: bool) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    let (program, rest) = args.split_first()?;
    words.push(if program_on_path {
        "armfix".to_string()
    } else {
        program.to_str()?.to_string()
    });
    let mut after_separator = false;
    let mut yes_added = false;
    for a in rest {
        let a = a.to_str()?;
        if !after_separator && a == "--dry-run" {
            continue;
        }
        words.push(a.to_string());
        if a == "--" {
            after_separator = true;
        }
        if !yes_added && !after_separator && a == "fix" {
            words.push("--yes".to_string());
            yes_added = true;
        }
    }
    yes_added.then(|| {
        words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// `word` as a POSIX shell reads it back: as is when it is plain, else in single quotes.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_write_command_keeps_the_paths_and_options_given() {
        let c = |w: &[&str], on_path| write_command(&os(w), on_path);
        assert_eq!(
            c(&["armfix", "fix", "--dry-run", "examples"], true).unwrap(),
            "armfix fix --yes examples"
        );
        assert_eq!(
            c(&["target/debug/armfix", "fix", "examples"], false).unwrap(),
            "target/debug/armfix fix --yes examples"
        );
        assert_eq!(
            c(
                &[
                    "armfix",
                    "--color",
                    "never",
                    "fix",
                    "--exclude",
                    "a b/*",
                    "x's",
                    "--dry-run"
                ],
                true
            )
            .unwrap(),
            r"armfix --color never fix --yes --exclude 'a b/*' 'x'\''s'"
        );
        // A path named `--dry-run` after `--` is a path.
        assert_eq!(
            c(&["armfix", "fix", "--", "--dry-run"], true).unwrap(),
            "armfix fix --yes -- --dry-run"
        );
        assert_eq!(c(&["armfix", "check"], true), None);
    }

    #[test]
    fn the_prompt_says_what_enter_means() {
        assert_eq!(
            prompt(1, 3, "infra/aks.json", 1),
            "(1/3) Apply this fix to infra/aks.json [y,n,a,d,q,e,?] (Enter: n)? "
        );
        assert!(prompt(2, 3, "a.json", 2).contains("Apply these 2 fixes to a.json"));
    }

    #[test]
    fn messages_split_into_what_is_wrong_and_where_the_fix_lands() {
        assert_eq!(
            split_message("`x` is false; fixed in variable `v`"),
            ("`x` is false", Some("in variable `v`"))
        );
        assert_eq!(split_message("`x` is false"), ("`x` is false", None));
    }

    #[test]
    fn clusters_are_named_as_the_evaluator_deploys_them() {
        let shape = serde_json::json!({"resources": [
            {"type": "Microsoft.ContainerService/managedClusters", "name": "aks-a"},
            {"type": "Microsoft.ContainerService/managedClusters", "name": "[parameters('n')]"},
            {"type": "Microsoft.Resources/deployments", "name": "aksDeploy"}
        ], "sym": {"resources": {"aks": {"name": "[parameters('n')]"}}}});
        let c = Clusters::new(Some(shape));
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            c.label_evaluated("/resources/0", &names(&["aks-a"])),
            "`aks-a`"
        );
        assert_eq!(
            c.label_evaluated("/resources/1", &[]),
            "`[parameters('n')]`"
        );
        assert_eq!(
            c.label_evaluated("/resources/1", &names(&["aks-weu", "aks-neu"])),
            "`aks-weu`, `aks-neu`"
        );
        assert_eq!(
            c.label_evaluated("/resources/2", &names(&["aks-linked"])),
            "`aks-linked` (deployed by `aksDeploy`)"
        );
        assert_eq!(
            c.label_evaluated("/sym/resources/aks", &names(&["aks-prod"])),
            "`aks` (name `aks-prod`)"
        );
        // A registry module (its template not on hand): named by its `name` argument.
        let shape = serde_json::json!({"resources": {
            "aks": {"type": "Microsoft.Resources/deployments", "name": "deploy-aks",
                    "properties": {"parameters": {"name": {"value": "aks-avm"}}}},
            "other": {"type": "Microsoft.Resources/deployments", "name": "x",
                      "properties": {"parameters": {"name": {"value": "[p]"}}}}
        }});
        let c = Clusters::new(Some(shape));
        assert_eq!(
            c.label_evaluated("/resources/aks", &[]),
            "`aks-avm` (deployed by `aks`)"
        );
        assert_eq!(
            c.label_evaluated("/resources/other", &[]),
            "deployed by `other`"
        );
        // An ARM deployment whose template is not on hand: by its name, not its index.
        let shape = serde_json::json!({"resources": [
            {"type": "Microsoft.Resources/deployments", "name": "aksDeploy"}
        ]});
        assert_eq!(
            Clusters::new(Some(shape)).label_evaluated("/resources/0", &[]),
            "deployed by `aksDeploy`"
        );
    }

    #[test]
    fn clusters_are_named_by_their_literal_or_symbolic_names() {
        let shape = serde_json::json!({"resources": [
            {"name": "aks-a"}, {"name": "[parameters('n')]"}
        ], "sym": {"resources": {"aks": {"name": "aks-prod"}}}});
        let c = Clusters::new(Some(shape));
        assert_eq!(c.label("/resources/0"), "`aks-a`");
        assert_eq!(c.label("/resources/1"), "`[parameters('n')]`");
        assert_eq!(c.label("/sym/resources/aks"), "`aks` (name `aks-prod`)");
        assert_eq!(
            Clusters::new(None).label("/resources/2"),
            "at `/resources/2`"
        );
    }
}
