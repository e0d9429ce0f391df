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
        "if" | "then"
            | "else"
            | "elif"
            | "do"
            | "while"
            | "until"
            | "!"
            | "time"
            | "exec"
            | "command"
            | "nohup"
    ) && !word.dynamic
    {
        return true;
    }
    if dialect != Dialect::PowerShell && is_assignment(text) {
        return true;
    }
    // Pipeline YAML: `run: az ...`, `- script: az ...`, a GitLab `- az ...` list item.
    dialect == Dialect::Yaml
        && !word.dynamic
        && (text == "-"
            || text.strip_suffix(':').is_some_and(|key| {
                [
                    "run",
                    "script",
                    "inlinescript",
                    "bash",
                    "pwsh",
                    "powershell",
                    "inline",
                    "command",
                ]
                .iter()
                .any(|k| key.eq_ignore_ascii_case(k))
            }))
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

/// Reads what command `cmd` is.
pub(crate) fn head(cmd: &Command, dialect: Dialect) -> Head {
    let w = &cmd.words;
    let mut i = 0;
    loop {
        let Some(word) = w.get(i) else {
            return Head::Other;
        };
        // PowerShell `$x = az ...`
        if dialect != Dialect::Shell
            && word.dynamic
            && w.get(i + 1)
                .is_some_and(|n| matches!(n.literal(), Some("=" | "+=")))
        {
            i += 2;
            continue;
        }
        if word.literal() == Some("az") {
            break;
        }
        if !is_prefix(word, dialect) {
            return Head::Other;
        }
        i += 1;
    }
    let lit = |j: usize| w.get(j).map(|x| x.literal());
    let (sub, args) = match lit(i + 1) {
        Some(Some("aks")) => match lit(i + 2) {
            Some(Some("create")) => (Sub::Create, i + 3),
            Some(Some("enable-addons")) => (Sub::EnableAddons, i + 3),
            Some(Some("update")) => (Sub::Update, i + 3),
            Some(Some("addon")) => match lit(i + 3) {
                Some(Some("enable")) => (Sub::AddonEnable, i + 4),
                Some(Some("update")) => (Sub::AddonUpdate, i + 4),
                Some(None) => return Head::Dynamic { at: i + 3 },
                _ => return Head::Other,
            },
            Some(None) => return Head::Dynamic { at: i + 2 },
            _ => return Head::Other,
        },
        Some(None) => return Head::Dynamic { at: i + 1 },
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
}

fn read_args(words: &[Word], sub: Sub, first: usize) -> Args {
    let mut a = Args {
        addon: None,
        overridden: None,
        enable: Vec::new(),
        disable: Vec::new(),
        opaque: None,
    };
    let mut i = first;
    while i < words.len() {
        let w = &words[i];
        let (name, attached) = match w.text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (w.text.as_str(), None),
        };
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
        if sub.is_addon_option(name) {
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
    match sub {
        Sub::Create | Sub::EnableAddons | Sub::AddonEnable => {
            let on = a.addon.map(|(_, h)| h).unwrap_or(Holds::No);
            if let Some(o) = a.opaque {
                return match (a.enable.is_empty(), on) {
                    (false, _) if a.disable.is_empty() => Some(Verdict::Pass),
                    (_, Holds::No) if sub == Sub::AddonEnable && a.addon.is_some() => None,
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
        Sub::AddonUpdate | Sub::Update => {
            let on = match sub {
                Sub::Update => Holds::Yes,
                _ => a.addon.map(|(_, h)| h).unwrap_or(Holds::No),
            };
            if a.disable.is_empty() || on == Holds::No {
                return (!a.enable.is_empty() && on != Holds::No).then_some(Verdict::Pass);
            }
            if let Some(o) = a.opaque {
                return Some(opaque(o));
            }
            if on == Holds::Maybe {
                return Some(Verdict::Review {
                    at: a.disable[0],
                    reason: format!(
                        "`{name}` passes {DISABLE} for an add-on named at run time; if it is \
                         {ADDON}, pass {ENABLE} instead"
                    ),
                });
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
            verdict(&format!("sudo az aks create -a {kv}")),
            None,
            "not at command position"
        );
        assert_eq!(
            verdict(&format!("X=1 az aks addon enable --addon {kv} {DISABLE}")),
            Some(Verdict::Replace { word: 7 })
        );
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
