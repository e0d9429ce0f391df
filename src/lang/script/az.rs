//! The rule `Azure.AKS.SecretStoreRotation` for Azure CLI command lines: recognises the `az aks`
//! commands that turn the Key Vault add-on on (or turn rotation off), reads their arguments
//! the way the CLI's argument parser would, and returns a [`Verdict`]. It knows words, not
//! text: spans and edits are the caller's.

use super::lex::{Command, Dialect, Word, DYNAMIC};

/// The add-on that runs the Secrets Store CSI Driver, as the CLI names it.
pub(crate) const ADDON: &str = "azure-keyvault-secrets-provider";
/// The argument the rule wants.
pub(crate) const ENABLE: &str = "--enable-secret-rotation";
/// The argument that fails it.
pub(crate) const DISABLE: &str = "--disable-secret-rotation";

/// The `az aks` commands that concern the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sub {
    Create,
    EnableAddons,
    AddonEnable,
    AddonUpdate,
    Update,
}

impl Sub {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sub::Create => "az aks create",
            Sub::EnableAddons => "az aks enable-addons",
            Sub::AddonEnable => "az aks addon enable",
            Sub::AddonUpdate => "az aks addon update",
            Sub::Update => "az aks update",
        }
    }

    /// Options whose value is the add-on list (`--enable-addons a,b`, `-a a,b`).
    fn is_addon_option(self, name: &str) -> bool {
        match self {
            Sub::Create | Sub::EnableAddons => {
                matches!(name, "--enable-addons" | "--addons" | "-a")
            }
            Sub::AddonEnable | Sub::AddonUpdate => matches!(name, "--addon" | "-a"),
            Sub::Update => false,
        }
    }
}

/// What a command's first words say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Head {
    /// An `az aks` command that concerns the rule; its arguments start at word `args`.
    Az {
        sub: Sub,
        args: usize,
    },
    /// `az` whose (sub)command is only known at run time (`az $CMD`, `az "$@"`, `az @p`);
    /// `at` is the word in the way.
    Dynamic {
        at: usize,
    },
    Other,
}

/// Words that may stand before a command without being it.
fn is_prefix(word: &Word, dialect: Dialect) -> bool {
    let text = word.text.as_str();
    if matches!(
        text,
        "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!"
    ) && !word.dynamic
    {
        return true;
    }
    dialect != Dialect::PowerShell && is_assignment(text)
}

/// A program that runs the command after its own options (`sudo -u root az ...`,
/// `env -i X=1 az ...`, `timeout 10m az ...`): its options that take a value, and how many
/// operands come before the command (`timeout`'s duration).
fn wrapper(name: &str) -> Option<(&'static [&'static str], usize)> {
    Some(match name {
        "sudo" => (
            &[
                "-u",
                "-g",
                "-h",
                "-p",
                "-C",
                "-D",
                "-r",
                "-t",
                "-U",
                "-T",
                "--user",
                "--group",
                "--host",
                "--prompt",
                "--close-from",
                "--chdir",
                "--role",
                "--type",
                "--other-user",
                "--command-timeout",
            ],
            0,
        ),
        "doas" => (&["-u", "-C"], 0),
        "env" => (&["-u", "--unset", "-C", "--chdir"], 0),
        "timeout" => (&["-s", "--signal", "-k", "--kill-after"], 1),
        "nice" => (&["-n", "--adjustment"], 0),
        "ionice" => (&["-c", "-n", "-p", "--class", "--classdata"], 0),
        "stdbuf" => (&["-i", "-o", "-e", "--input", "--output", "--error"], 0),
        "time" => (&["-f", "-o", "--format", "--output"], 0),
        "exec" => (&["-a"], 0),
        "nohup" | "command" | "builtin" | "noglob" => (&[], 0),
        _ => return None,
    })
}

/// Whether a word names the `az` program: `az`, a path ending in `/az` (also with a
/// run-time part, `"$HOME/bin/az"`), and on Windows `az.cmd`/`az.exe` or a `\az` path.
pub(crate) fn is_az(word: &Word) -> bool {
    let t = word.text.as_str();
    if !word.dynamic && t == "az" {
        return true;
    }
    let base = t.rsplit(['/', '\\']).next().unwrap_or(t);
    (base.len() < t.len() || !word.dynamic)
        && (base == "az"
            || base.eq_ignore_ascii_case("az.cmd")
            || base.eq_ignore_ascii_case("az.exe"))
        && !base.contains(DYNAMIC)
}

/// `NAME=value` (also `NAME+=`, `NAME[i]=`), a shell variable assignment.
fn is_assignment(text: &str) -> bool {
    let Some(eq) = text.find('=') else {
        return false;
    };
    let name = text[..eq].trim_end_matches('+');
    let name = name.split('[').next().unwrap_or(name);
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The word at which the program a command runs is named, past keywords, assignments and
/// wrappers (`sudo`, `env`, `timeout N`, `nice -n N`, `command`...) with their options.
/// `None`: the command runs nothing armfix can name (`command -v az`, a wrapper with
/// nothing after it).
pub(crate) fn program(cmd: &Command, dialect: Dialect) -> Option<usize> {
    let w = &cmd.words;
    let mut i = 0;
    loop {
        let word = w.get(i)?;
        // PowerShell `$x = az ...`
        if dialect != Dialect::Shell
            && word.dynamic
            && w.get(i + 1)
                .is_some_and(|n| matches!(n.literal(), Some("=" | "+=")))
        {
            i += 2;
            continue;
        }
        if is_prefix(word, dialect) {
            i += 1;
            continue;
        }
        let Some((with_value, operands)) = word.literal().and_then(wrapper) else {
            return Some(i);
        };
        let name = word.text.as_str();
        i += 1;
        // Its options, up to `--` or the first word that is not one.
        while let Some(opt) = w.get(i).and_then(Word::literal) {
            if opt == "--" {
                i += 1;
                break;
            }
            if !opt.starts_with('-') || opt == "-" && name != "env" {
                break;
            }
            if name == "command" && matches!(opt, "-v" | "-V") {
                return None;
            }
            i += if with_value.contains(&opt) { 2 } else { 1 };
        }
        if name == "env" {
            while w.get(i).is_some_and(|x| is_assignment(&x.text)) {
                i += 1;
            }
        }
        i += operands;
    }
}

/// Shells that run a command string given with `-c`.
const SHELLS: [&str; 7] = ["sh", "bash", "zsh", "dash", "ksh", "ash", "mksh"];

/// The words of a command that hold another command, run by another program: the string
/// after `bash -c` (also `sudo sh -c`, `docker exec c sh -c`, `kubectl exec p -- bash -c`),
/// after `pwsh -Command`, everything after `eval`, and the remote command of `ssh host ...`.
/// Returns the range of words, joined with spaces, and the runner's name.
pub(crate) fn runs_text(cmd: &Command, dialect: Dialect) -> Option<(usize, usize, String)> {
    let w = &cmd.words;
    let p = program(cmd, dialect)?;
    let base = |i: usize| {
        w[i].literal().map(|t| {
            let b = t.rsplit(['/', '\\']).next().unwrap_or(t);
            let b = b.strip_suffix(".exe").unwrap_or(b);
            b.to_ascii_lowercase()
        })
    };
    let first = base(p)?;
    match first.as_str() {
        "eval" => return (p + 1 < w.len()).then(|| (p + 1, w.len(), first)),
        "ssh" => {
            // Options (some take a value), the host, then the remote command.
            const WITH_VALUE: &str = "bcDEeFIiJLlmOopQRSWw";
            let mut i = p + 1;
            while let Some(t) = w.get(i).and_then(Word::literal) {
                if !t.starts_with('-') {
                    break;
                }
                let takes = t.len() == 2 && WITH_VALUE.contains(&t[1..]);
                i += if takes { 2 } else { 1 };
            }
            return (i + 1 < w.len()).then(|| (i + 1, w.len(), first));
        }
        _ => {}
    }
    // A shell anywhere in the command line, with `-c` (or `-lc`, `-ec`...) after it.
    for i in p..w.len() {
        let Some(name) = base(i) else { continue };
        let powershell = matches!(name.as_str(), "pwsh" | "powershell");
        if !SHELLS.contains(&name.as_str()) && !powershell {
            continue;
        }
        let mut j = i + 1;
        while let Some(t) = w.get(j).and_then(Word::literal) {
            if !t.starts_with('-') {
                break;
            }
            let command = if powershell {
                let t = t.to_ascii_lowercase();
                t.len() >= 2 && "-command".starts_with(&t)
            } else {
                !t.starts_with("--") && t[1..].contains('c')
            };
            if command {
                let end = if powershell { w.len() } else { j + 2 };
                return (j + 1 < w.len()).then(|| (j + 1, end.min(w.len()), name));
            }
            j += 1;
        }
    }
    None
}

/// Global options of `az` that may stand before the command group, and whether each takes
/// a value (`az --only-show-errors aks create`, `az -o json aks create`).
fn global_option(name: &str) -> Option<bool> {
    match name {
        "--debug" | "--verbose" | "--only-show-errors" | "--help" | "-h" => Some(false),
        "--output" | "-o" | "--query" | "--subscription" => Some(true),
        _ => None,
    }
}

/// Reads what command `cmd` is.
pub(crate) fn head(cmd: &Command, dialect: Dialect) -> Head {
    let w = &cmd.words;
    let Some(at) = program(cmd, dialect) else {
        return Head::Other;
    };
    if !is_az(&w[at]) {
        return Head::Other;
    }
    // The command group and its subcommands, past global options.
    let mut names: Vec<(usize, Option<&str>)> = Vec::new();
    let mut i = at + 1;
    while names.len() < 3 {
        let Some(word) = w.get(i) else { break };
        match word.literal() {
            Some(t) if t.starts_with('-') => {
                let (name, attached) = match t.split_once('=') {
                    Some((n, _)) if n.starts_with("--") => (n, true),
                    _ => (t, false),
                };
                match global_option(name) {
                    Some(takes) => i += if takes && !attached { 2 } else { 1 },
                    // Any other option ends the command's name.
                    None => break,
                }
                continue;
            }
            lit => names.push((i, lit)),
        }
        i += 1;
    }
    let lit = |j: usize| names.get(j).map(|x| x.1);
    let after = |j: usize| names.get(j).map_or(w.len(), |x| x.0 + 1);
    let dynamic = |j: usize| Head::Dynamic { at: names[j].0 };
    let (sub, args) = match lit(0) {
        Some(Some("aks")) => match lit(1) {
            Some(Some("create")) => (Sub::Create, after(1)),
            Some(Some("enable-addons")) => (Sub::EnableAddons, after(1)),
            Some(Some("update")) => (Sub::Update, after(1)),
            Some(Some("addon")) => match lit(2) {
                Some(Some("enable")) => (Sub::AddonEnable, after(2)),
                Some(Some("update")) => (Sub::AddonUpdate, after(2)),
                Some(None) => return dynamic(2),
                _ => return Head::Other,
            },
            Some(None) => return dynamic(1),
            _ => return Head::Other,
        },
        Some(None) => return dynamic(0),
        _ => return Head::Other,
    };
    Head::Az { sub, args }
}

/// Whether an option takes no value. The CLI's switches follow a pattern (`--enable-*`,
/// `--disable-*`, `--no-*`) with a few exceptions; anything else takes the next word.
fn is_switch(name: &str) -> bool {
    match name {
        "--enable-addons"
        | "--enable-azure-container-storage"
        | "--disable-azure-container-storage" => false,
        "--generate-ssh-keys"
        | "--yes"
        | "-y"
        | "--debug"
        | "--verbose"
        | "--only-show-errors"
        | "--skip-subnet-role-assignment"
        | "--help"
        | "-h" => true,
        n => n.starts_with("--enable-") || n.starts_with("--disable-") || n.starts_with("--no-"),
    }
}

/// Whether an add-on list holds the Key Vault add-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    No,
    /// Part of the list is only known at run time.
    Maybe,
    Yes,
}

fn holds(list: &str) -> Holds {
    let mut maybe = false;
    for item in list.split(',') {
        let item = item.trim();
        if item.contains(DYNAMIC) {
            maybe = true;
        } else if item.eq_ignore_ascii_case(ADDON) {
            return Holds::Yes;
        }
    }
    if maybe {
        Holds::Maybe
    } else {
        Holds::No
    }
}

/// The rule's decision for one command. Word indexes point into the command's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    /// Add `--enable-secret-rotation`; `addon` is the word holding the add-on list.
    Add {
        addon: usize,
    },
    /// Replace the `--disable-secret-rotation` at this word with `--enable-secret-rotation`.
    Replace {
        word: usize,
    },
    /// A human must look: at which word, and why.
    Review {
        at: usize,
        reason: String,
    },
}

/// What the arguments say.
struct Args {
    /// The (last) add-on list word and whether it holds the add-on.
    addon: Option<(usize, Holds)>,
    /// An earlier add-on list word that holds the add-on, when a later one replaced it.
    overridden: Option<usize>,
    enable: Vec<usize>,
    disable: Vec<usize>,
    /// The first word that may be any number of arguments (`$ARGS`, `"${a[@]}"`, `@p`).
    opaque: Option<usize>,
    /// The first rotation switch given a value (`--enable-secret-rotation=true`).
    valued: Option<usize>,
}

/// An option word as the CLI's parser (Python's argparse) reads it: `--name=value`,
/// `-a=value` and `-avalue` carry their value; `--name` and `-a` do not.
fn split_option(text: &str) -> (&str, Option<&str>) {
    if text.starts_with("--") {
        return match text.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
    }
    match text.char_indices().nth(2) {
        Some((at, _)) if text.starts_with('-') && text.is_char_boundary(2) => {
            let rest = &text[at..];
            (&text[..2], Some(rest.strip_prefix('=').unwrap_or(rest)))
        }
        _ => (text, None),
    }
}

fn read_args(words: &[Word], sub: Sub, first: usize) -> Args {
    let mut a = Args {
        addon: None,
        overridden: None,
        enable: Vec::new(),
        disable: Vec::new(),
        opaque: None,
        valued: None,
    };
    let mut i = first;
    while i < words.len() {
        let w = &words[i];
        let (name, attached) = split_option(&w.text);
        if !name.starts_with('-') || name.contains(DYNAMIC) {
            // Not an option: a stray literal is harmless, a run-time word may be anything.
            if w.dynamic && a.opaque.is_none() {
                a.opaque = Some(i);
            }
            i += 1;
            continue;
        }
        let value = match attached {
            Some(v) => Some((i, v.to_string())),
            None if !is_switch(name) => match words.get(i + 1) {
                Some(n) if !n.text.starts_with('-') => {
                    i += 1;
                    Some((i, n.text.clone()))
                }
                _ => None,
            },
            None => None,
        };
        if (name == ENABLE || name == DISABLE) && attached.is_some() {
            // The CLI refuses a value on a switch, and the whole command fails.
            a.valued.get_or_insert(i);
        } else if sub.is_addon_option(name) {
            // The CLI's parser keeps the last occurrence of an option.
            if let Some((at, list)) = value {
                if let Some((old, Holds::Yes)) = a.addon {
                    a.overridden = a.overridden.or(Some(old));
                }
                a.addon = Some((at, holds(&list)));
            }
        } else if name == ENABLE {
            a.enable.push(i);
        } else if name == DISABLE {
            a.disable.push(i);
        }
        i += 1;
    }
    a
}

/// Decides the rule for an `az aks` command. `None`: the command does not concern it.
pub(crate) fn decide(words: &[Word], sub: Sub, args: usize) -> Option<Verdict> {
    let a = read_args(words, sub, args);
    let name = sub.name();
    let both = |at: usize| Verdict::Review {
        at,
        reason: format!("`{name}` passes both {ENABLE} and {DISABLE}; keep only {ENABLE}"),
    };
    let opaque = |at: usize| Verdict::Review {
        at,
        reason: format!(
            "`{name}` takes arguments built at run time; if they turn on {ADDON}, \
             they must pass {ENABLE}"
        ),
    };
    let on = match sub {
        Sub::Update => Holds::Yes,
        _ => a.addon.map(|(_, h)| h).unwrap_or(Holds::No),
    };
    if let (Some(at), false) = (a.valued, on == Holds::No) {
        return Some(Verdict::Review {
            at,
            reason: format!(
                "`{name}` gives a value to a switch that takes none, so the CLI refuses the \
                 whole command; write {ENABLE} alone"
            ),
        });
    }
    match sub {
        // `az aks addon update` rebuilds the add-on's config as `addon enable` does
        // (azure-cli's `enable_addons` with `check_enabled=False`): without the flag,
        // rotation is turned off.
        Sub::Create | Sub::EnableAddons | Sub::AddonEnable | Sub::AddonUpdate => {
            if let Some(o) = a.opaque {
                let named = matches!(sub, Sub::AddonEnable | Sub::AddonUpdate);
                return match (a.enable.is_empty(), on) {
                    (false, _) if a.disable.is_empty() => Some(Verdict::Pass),
                    (_, Holds::No) if named && a.addon.is_some() => None,
                    _ => Some(opaque(o)),
                };
            }
            let at = a.addon.map(|(at, _)| at).unwrap_or(args);
            if let (Some(old), false) = (a.overridden, on == Holds::Yes) {
                return Some(Verdict::Review {
                    at: old,
                    reason: format!(
                        "`{name}` names its add-on list more than once and the CLI keeps only \
                         the last, which lacks {ADDON}; merge the lists into one and pass {ENABLE}"
                    ),
                });
            }
            match on {
                Holds::No => None,
                Holds::Maybe if a.enable.is_empty() || !a.disable.is_empty() => {
                    Some(Verdict::Review {
                        at,
                        reason: format!(
                            "`{name}` takes its add-on list from a run-time value; if it holds \
                             {ADDON}, pass {ENABLE}"
                        ),
                    })
                }
                Holds::Maybe => Some(Verdict::Pass),
                Holds::Yes => Some(match (a.enable.is_empty(), a.disable.is_empty()) {
                    (false, false) => both(a.disable[0]),
                    (true, false) => replace(&a.disable, name),
                    (true, true) => Verdict::Add { addon: at },
                    (false, true) => Verdict::Pass,
                }),
            }
        }
        Sub::Update => {
            if a.disable.is_empty() {
                return (!a.enable.is_empty()).then_some(Verdict::Pass);
            }
            if let Some(o) = a.opaque {
                return Some(opaque(o));
            }
            Some(if a.enable.is_empty() {
                replace(&a.disable, name)
            } else {
                both(a.disable[0])
            })
        }
    }
}

/// Replaces a lone `--disable-secret-rotation`; a repeated one is for a human to tidy.
fn replace(disable: &[usize], name: &str) -> Verdict {
    match disable {
        [word] => Verdict::Replace { word: *word },
        _ => Verdict::Review {
            at: disable[0],
            reason: format!("`{name}` passes {DISABLE} more than once; pass {ENABLE} once instead"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::script::lex::lex;

    fn verdict(line: &str) -> Option<Verdict> {
        let s = lex(line, Dialect::Shell);
        let cmd = &s.commands[0];
        match head(cmd, Dialect::Shell) {
            Head::Az { sub, args } => decide(&cmd.words, sub, args),
            Head::Dynamic { at } => Some(Verdict::Review {
                at,
                reason: "dynamic".into(),
            }),
            Head::Other => None,
        }
    }

    #[test]
    fn reads_add_on_lists() {
        let kv = "azure-keyvault-secrets-provider";
        assert_eq!(
            verdict(&format!("az aks create -g rg -a monitoring,{kv}")),
            Some(Verdict::Add { addon: 6 })
        );
        assert_eq!(
            verdict(&format!("az aks create --enable-addons=\"{kv}\"")),
            Some(Verdict::Add { addon: 3 })
        );
        assert_eq!(
            verdict(&format!("az aks enable-addons --addons {kv} {ENABLE}")),
            Some(Verdict::Pass)
        );
        assert_eq!(verdict("az aks create -a monitoring -n x"), None);
        // The CLI's parser keeps the last occurrence: a human must merge the lists.
        assert!(matches!(
            verdict(&format!(
                "az aks create --enable-addons {kv} --enable-addons osm"
            )),
            Some(Verdict::Review { at: 4, .. })
        ));
        assert_eq!(
            verdict(&format!("az aks create -a osm -a {kv}")),
            Some(Verdict::Add { addon: 6 })
        );
        assert_eq!(
            verdict(&format!("echo az aks create -a {kv}")),
            None,
            "not at command position"
        );
        assert_eq!(
            verdict(&format!("X=1 az aks addon enable --addon {kv} {DISABLE}")),
            Some(Verdict::Replace { word: 7 })
        );
    }

    /// The index of the word holding the add-on (words split at blanks).
    fn at_kv(line: &str) -> usize {
        line.split_whitespace()
            .position(|w| w.contains(ADDON))
            .unwrap()
    }

    #[test]
    fn prefixes_and_global_options_before_the_command() {
        let kv = ADDON;
        for line in [
            format!("sudo az aks create -a {kv}"),
            format!("sudo -u root -E az aks create -a {kv}"),
            format!("sudo --user=root az aks create -a {kv}"),
            format!("env -i A=1 B=2 az aks create -a {kv}"),
            format!("env -u X -- az aks create -a {kv}"),
            format!("timeout 10m az aks create -a {kv}"),
            format!("timeout -k 5 -s KILL 10m az aks create -a {kv}"),
            format!("nice -n 10 nohup az aks create -a {kv}"),
            format!("command az aks create -a {kv}"),
            format!("time -p exec az aks create -a {kv}"),
            format!("/usr/local/bin/az aks create -a {kv}"),
            format!("./az aks create -a {kv}"),
            format!("\"$HOME/.local/bin/az\" aks create -a {kv}"),
            format!("az --only-show-errors aks create -a {kv}"),
            format!("az -o json --query id aks create -a {kv}"),
            format!("az --output=tsv aks create -a {kv}"),
            format!("az aks --debug create -a {kv}"),
            format!("X=1 sudo env Y=2 timeout 5 az aks create -a {kv}"),
        ] {
            assert_eq!(
                verdict(&line),
                Some(Verdict::Add {
                    addon: at_kv(&line)
                }),
                "{line}"
            );
        }
        // Not `az` running: a query, a look-up, or a program named otherwise.
        for line in [
            format!("command -v az aks create -a {kv}"),
            format!("which az aks create -a {kv}"),
            format!("lazy aks create -a {kv}"),
            format!("az --unknown-global aks create -a {kv}"),
        ] {
            assert_eq!(verdict(&line), None, "{line}");
        }
        assert!(matches!(
            verdict(&format!("az --debug $GROUP create -a {kv}")),
            Some(Verdict::Review { at: 2, .. })
        ));
    }

    #[test]
    fn option_spellings_argparse_accepts() {
        let kv = ADDON;
        for line in [
            format!("az aks create -a={kv}"),
            format!("az aks create -a{kv}"),
            format!("az aks create -amonitoring,{kv}"),
            format!("az aks create --addons={kv}"),
            format!("az aks enable-addons --addons=monitoring,{kv}"),
            format!("az aks addon enable -a={kv}"),
            format!("az aks addon update -a{kv}"),
        ] {
            assert_eq!(
                verdict(&line),
                Some(Verdict::Add {
                    addon: at_kv(&line)
                }),
                "{line}"
            );
        }
        // The last list wins, whatever its spelling.
        assert!(matches!(
            verdict(&format!("az aks create -a{kv} --enable-addons=monitoring")),
            Some(Verdict::Review { at: 3, .. })
        ));
        // A value on a switch: the CLI refuses the command.
        for line in [
            format!("az aks create -a {kv} {ENABLE}=true"),
            format!("az aks create -a {kv} {DISABLE}=false"),
            format!("az aks update {ENABLE}=yes"),
        ] {
            assert!(
                matches!(verdict(&line), Some(Verdict::Review { ref reason, .. }) if reason.contains("takes none")),
                "{line}"
            );
        }
        assert_eq!(
            verdict(&format!("az aks create -a monitoring {ENABLE}=true")),
            None
        );
    }

    #[test]
    fn addon_update_rebuilds_the_config() {
        // azure-cli's `aks_addon_update` calls `enable_addons`, which writes rotation
        // "false" unless the flag is given.
        assert_eq!(
            verdict(&format!("az aks addon update -g rg -n x --addon {ADDON}")),
            Some(Verdict::Add { addon: 9 })
        );
        assert_eq!(
            verdict(&format!("az aks addon update --addon {ADDON} {ENABLE}")),
            Some(Verdict::Pass)
        );
        assert_eq!(
            verdict(&format!("az aks addon update --addon {ADDON} {DISABLE}")),
            Some(Verdict::Replace { word: 6 })
        );
        assert_eq!(verdict("az aks addon update --addon monitoring -n x"), None);
        assert!(matches!(
            verdict("az aks addon update --addon \"$A\" -n x"),
            Some(Verdict::Review { at: 5, .. })
        ));
    }

    #[test]
    fn values_are_not_options() {
        // `--name` takes `-a`-looking values only when they do not start with a dash.
        assert_eq!(
            verdict(&format!("az aks create --tags a={ADDON} -n {ADDON}")),
            None
        );
        assert!(matches!(
            verdict(&format!(
                "az aks create --generate-ssh-keys $EXTRA -a {ADDON}"
            )),
            Some(Verdict::Review { at: 4, .. })
        ));
        assert_eq!(
            verdict(&format!("az aks create -g $RG -n \"$N\" -a {ADDON}")),
            Some(Verdict::Add { addon: 8 })
        );
    }

    #[test]
    fn update_and_run_time_values() {
        assert_eq!(
            verdict(&format!("az aks update -g rg -n x {DISABLE}")),
            Some(Verdict::Replace { word: 7 })
        );
        assert_eq!(verdict("az aks update -g rg -n x"), None);
        assert!(matches!(
            verdict(&format!("az aks update {ENABLE} {DISABLE}")),
            Some(Verdict::Review { .. })
        ));
        assert!(matches!(
            verdict("az aks create -a \"$ADDONS\""),
            Some(Verdict::Review { at: 4, .. })
        ));
        assert!(matches!(
            verdict("az aks create \"${args[@]}\""),
            Some(Verdict::Review { at: 3, .. })
        ));
        assert!(matches!(
            verdict("az $SUB create"),
            Some(Verdict::Review { at: 1, .. })
        ));
        assert_eq!(verdict("az aks show -n x"), None);
    }
}
