//! Decides each `azurerm_kubernetes_cluster` of a Terraform folder on its evaluated values and
//! searches its fix under the deploy-time proof: the candidate places (the cluster's own
//! argument, then the `.tfvars` values, variable defaults, `local` values and literals inside
//! conditionals and `coalesce`/`try`/`lookup` that feed it, the `for_each` values an
//! `each.value` reads, then the cluster's argument written as the literal `true`) are tried
//! in order, each with the fixes already chosen; one is taken when fewer of the cluster's
//! instances fail (summed over the configurations) and the folder's evaluated deployment
//! changes only in rotation (the shared [`crate::eval::proof`]). One that changes more is an
//! unsafe fix, applied only with `--unsafe-fixes`. A file keeps the findings whose edit lands
//! in it.

use super::hcl::{Block, Body, Expr, ExprKind, Item, Step};
use super::render;
use crate::edit::{self, Edit};
use crate::error::Error;
use crate::eval::judge::{judge, Judgement};
use crate::eval::terraform::{self as tf, ADDON_BLOCK, CLUSTER, ROTATION_ARG};
use crate::eval::{Configuration, Deployment, Value};
use crate::finding::{Analysis, Applicability, Finding, FixSource, Remedy};
use crate::lang::Options;
use crate::location::LineIndex;
use std::path::{Path, PathBuf};

/// What a file is to its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A `.tf` file: part of the module.
    Tf,
    /// An override file (`override.tf`, `*_override.tf`): merged into the module's blocks
    /// after every other `.tf` file, in lexical order ([`tf::merge_overrides`]).
    Override,
    /// `terraform.tfvars` or `*.auto.tfvars`: loaded in every configuration.
    AutoVars,
    /// Another `*.tfvars`: a configuration of its own (`-var-file`).
    VarFile,
}

/// One file of the folder.
pub(crate) struct Unit {
    /// As the user knows it (the path as shown, or `<stdin>`).
    pub(crate) display: String,
    pub(crate) text: String,
    pub(crate) body: Body,
    pub(crate) role: Role,
}

/// A Terraform folder, with the file being analysed at `me`, and the local modules its
/// `.tf` files call.
pub(crate) struct Folder {
    pub(crate) units: Vec<Unit>,
    pub(crate) me: usize,
    pub(crate) callees: Vec<Callee>,
}

/// A local module a call names: its `source` as written (`./modules/aks`), the callee
/// folder's `.tf` bodies (override files merged in), and the local modules it calls in turn.
pub(crate) struct Callee {
    pub(crate) source: String,
    pub(crate) bodies: Vec<Body>,
    pub(crate) callees: Vec<Callee>,
}

/// The folders (canonical) of the local modules that the folder of the file at `path` (its
/// text given) calls and judges through the call: those whose cluster takes its rotation
/// from a variable the call passes (see [`local_call`]).
/// With each, the pointer prefixes (`/resource/azurerm_kubernetes_cluster/this/`,
/// `/module/inner/`) of the findings the callee's own analysis makes about those clusters.
pub(crate) fn judged_callees(text: &str, path: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let Ok(folder) = Folder::read(text, Some(path), false) else {
        return Vec::new();
    };
    let dir = super::folder_of(path);
    folder
        .callees
        .iter()
        .filter_map(|c| {
            let (input, _) = rotation_input(c, 0)?;
            let prefixes = reading_clusters(c, &input, 0)
                .iter()
                .filter_map(|a| {
                    let mut parts = a.split('.');
                    match (parts.next()?, parts.next()?) {
                        ("module", m) => Some(format!("/module/{m}/")),
                        (kind, name) => Some(format!("/resource/{kind}/{name}/")),
                    }
                })
                .collect();
            Some((dir.join(&c.source).canonicalize().ok()?, prefixes))
        })
        .collect()
}

/// How deep local module calls are followed (`./a` calling `./b` calling ...); a deeper call
/// is a plain module call, as is a call that would enter a folder already being followed (a
/// cycle, which Terraform refuses).
const MODULE_DEPTH: usize = 8;

impl Callee {
    /// The evaluator's view of this callee and its own callees.
    fn module(&self) -> tf::Module<'_> {
        tf::Module {
            bodies: self.bodies.iter().collect(),
            locals: modules(&self.callees),
        }
    }
}

/// The evaluator's view of a list of callees, by `source`.
fn modules(callees: &[Callee]) -> Vec<(String, tf::Module<'_>)> {
    callees
        .iter()
        .map(|c| (c.source.clone(), c.module()))
        .collect()
}

/// The local modules the `bodies` of folder `dir` call, each read with its own callees, no
/// deeper than [`MODULE_DEPTH`] and never re-entering a folder on `stack`.
fn read_callees(dir: &Path, bodies: &[&Body], stack: &mut Vec<PathBuf>) -> Vec<Callee> {
    let mut out: Vec<Callee> = Vec::new();
    if stack.len() > MODULE_DEPTH {
        return out;
    }
    for body in bodies {
        for b in body.blocks("module") {
            let Some(src) = tf::local_source(&b.body) else {
                continue;
            };
            if out.iter().any(|c| c.source == src) {
                continue;
            }
            let path = dir.join(src);
            let Ok(canonical) = path.canonicalize() else {
                continue;
            };
            if stack.contains(&canonical) {
                continue;
            }
            let own = module_bodies(&path);
            stack.push(canonical);
            let callees = read_callees(&path, &own.iter().collect::<Vec<_>>(), stack);
            stack.pop();
            out.push(Callee {
                source: src.to_string(),
                bodies: own,
                callees,
            });
        }
    }
    out
}

/// The `.tf` (and `.tf.json`) bodies of the folder `dir`, in name order, its override files
/// merged in; files that cannot be read or parsed are left out (their own reports say why).
fn module_bodies(dir: &Path) -> Vec<Body> {
    let mut names: Vec<(Role, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter_map(|p| {
                    let role = p.file_name().and_then(|n| n.to_str()).and_then(role_of)?;
                    matches!(role, Role::Tf | Role::Override).then_some((role, p))
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort_by(|a, b| a.1.cmp(&b.1));
    let read = |role: Role| -> Vec<Body> {
        names
            .iter()
            .filter(|(r, _)| *r == role)
            .filter_map(|(_, p)| std::fs::read_to_string(p).ok())
            .filter_map(|t| super::body_of_text(&t).ok())
            .collect()
    };
    let overrides = read(Role::Override);
    tf::merge_overrides(read(Role::Tf), &overrides.iter().collect::<Vec<_>>())
}

/// The role of a file by its name.
pub(crate) fn role_of(name: &str) -> Option<Role> {
    let lower = name.to_ascii_lowercase();
    // Terraform's JSON syntax is the same file with `.json` after it.
    let lower = lower.strip_suffix(".json").unwrap_or(&lower);
    if lower.ends_with(".tf") {
        Some(if tf::is_override(name) {
            Role::Override
        } else {
            Role::Tf
        })
    } else if lower == "terraform.tfvars" || lower.ends_with(".auto.tfvars") {
        Some(Role::AutoVars)
    } else if lower.ends_with(".tfvars") {
        Some(Role::VarFile)
    } else {
        None
    }
}

impl Unit {
    /// Whether the file is Terraform code (`.tf`, an override file), not variable values.
    fn is_code(&self) -> bool {
        matches!(self.role, Role::Tf | Role::Override)
    }
}

impl Folder {
    /// The folder of the file at `path` (its text given), every sibling read from disk;
    /// standard input is a folder of one file. A sibling that cannot be read or parsed is
    /// left out (its own report says why).
    pub(crate) fn read(text: &str, path: Option<&Path>, vars: bool) -> Result<Folder, Error> {
        let body = super::body_of_text(text)?;
        let Some(path) = path else {
            let role = if vars { Role::AutoVars } else { Role::Tf };
            let display = "<stdin>".to_string();
            let units = vec![Unit {
                display,
                text: text.to_string(),
                body,
                role,
            }];
            return Ok(Folder {
                units,
                me: 0,
                callees: Vec::new(),
            });
        };
        let dir = super::folder_of(path);
        let own = path.file_name().map(|n| n.to_string_lossy().to_string());
        let mut names: Vec<(String, Role)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        let role = role_of(&name)?;
                        e.file_type().ok().filter(|t| !t.is_dir())?;
                        Some((name, role))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let own_role =
            own.as_deref()
                .and_then(role_of)
                .unwrap_or(if vars { Role::VarFile } else { Role::Tf });
        if let Some(own) = &own {
            if !names.iter().any(|(n, _)| n == own) {
                names.push((own.clone(), own_role));
            }
        }
        // Terraform's order: `.tf` files, then `terraform.tfvars`, then `*.auto.tfvars` in
        // lexical order; `-var-file`s are configurations.
        names.sort_by_key(|(n, r)| (*r as u8, n != "terraform.tfvars", n.clone()));
        let mut units = Vec::new();
        let mut me = 0;
        for (name, role) in names {
            let p: PathBuf = dir.join(&name);
            let display =
                crate::run::engine::display(&crate::run::discover::Candidate::File(p.clone()));
            if Some(&name) == own.as_ref() {
                me = units.len();
                units.push(Unit {
                    display,
                    text: text.to_string(),
                    body: body.clone(),
                    role,
                });
                continue;
            }
            let Ok(t) = std::fs::read_to_string(&p) else {
                continue;
            };
            let Ok(b) = super::body_of_text(&t) else {
                continue;
            };
            units.push(Unit {
                display,
                text: t,
                body: b,
                role,
            });
        }
        let code: Vec<&Body> = units
            .iter()
            .filter(|u| u.is_code())
            .map(|u| &u.body)
            .collect();
        let mut stack: Vec<PathBuf> = dir.canonicalize().into_iter().collect();
        let callees = read_callees(&dir, &code, &mut stack);
        Ok(Folder { units, me, callees })
    }

    /// The configurations the folder deploys with: the defaults (with the automatic
    /// `.tfvars`), then one per other `.tfvars` file.
    fn configurations(&self, bodies: &[Body]) -> Vec<Configuration> {
        let values = |b: &Body| -> Vec<(String, Value)> {
            b.attrs()
                .map(|a| (a.key.clone(), tf::literal(&a.value)))
                .collect()
        };
        let mut base = Vec::new();
        for (u, b) in self.units.iter().zip(bodies) {
            if u.role == Role::AutoVars {
                base.extend(values(b));
            }
        }
        let mut out = vec![Configuration {
            name: "defaults".into(),
            values: base.clone(),
        }];
        for (u, b) in self.units.iter().zip(bodies) {
            if u.role == Role::VarFile {
                let mut v = base.clone();
                v.extend(values(b));
                out.push(Configuration {
                    name: u.display.clone(),
                    values: v,
                });
            }
        }
        out
    }

    /// Evaluates the folder with `edits` (unit, edit) applied, in every configuration;
    /// `None` when an edited file does not parse.
    fn evaluate(&self, edits: &[(usize, Edit)]) -> Option<Vec<Deployment>> {
        let mut bodies = Vec::with_capacity(self.units.len());
        for (i, u) in self.units.iter().enumerate() {
            let mine: Vec<Edit> = edits
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, e)| e.clone())
                .collect();
            if mine.is_empty() {
                bodies.push(u.body.clone());
            } else {
                let t = edit::apply(&u.text, &mine).ok()?;
                bodies.push(super::body_of_text(&t).ok()?);
            }
        }
        let of = |role: Role| -> Vec<&Body> {
            self.units
                .iter()
                .zip(&bodies)
                .filter(|(u, _)| u.role == role)
                .map(|(_, b)| b)
                .collect()
        };
        // Merging copies the bodies: only when the folder has override files.
        let overrides = of(Role::Override);
        let merged: Vec<Body> = if overrides.is_empty() {
            Vec::new()
        } else {
            let primary: Vec<Body> = of(Role::Tf).into_iter().cloned().collect();
            tf::merge_overrides(primary, &overrides)
        };
        let module = tf::Module {
            bodies: if overrides.is_empty() {
                of(Role::Tf)
            } else {
                merged.iter().collect()
            },
            locals: modules(&self.callees),
        };
        Some(
            self.configurations(&bodies)
                .iter()
                .map(|c| tf::evaluate(&module, c))
                .collect(),
        )
    }

    fn configuration_names(&self) -> Vec<String> {
        let mut names = vec!["defaults".to_string()];
        names.extend(
            self.units
                .iter()
                .filter(|u| u.role == Role::VarFile)
                .map(|u| u.display.clone()),
        );
        names
    }
}

/// A cluster of the folder (a resource, or a call of a known AKS module) whose add-on may be
/// on, with where its rotation value is written or would be added.
struct Cluster<'f> {
    unit: usize,
    /// `azurerm_kubernetes_cluster` or `module`, and the name: its evaluated resources'
    /// origin.
    kind: &'static str,
    name: String,
    /// What the rotation argument is called where it is written.
    arg: String,
    /// The rotation value, when written.
    value: Option<&'f Expr>,
    /// The edits that add it, when it is not written (`None`: armfix cannot add it there).
    add: Option<Vec<Edit>>,
    /// Where a finding about a missing value points.
    at: usize,
    /// Why the add-on is on, for a finding about a missing value.
    missing: String,
    /// The block's `for_each` (its unit and expression): what `each.value` reads.
    each: Option<(usize, &'f Expr)>,
    /// The iterators of the `dynamic` blocks around the rotation argument.
    dynamics: Vec<Bound<'f>>,
    /// Where rotation is inside `value` (a local module's object input read as
    /// `var.csi.rotation`: `rotation`); empty when `value` is the rotation itself.
    path: Vec<String>,
    /// A call of a local module: `value` is the call's argument, not the cluster's.
    local: bool,
    /// For a local module call, the addresses inside the module (`azurerm_kubernetes_cluster.
    /// this`, `module.inner.azurerm_kubernetes_cluster.this`) of the clusters that read
    /// rotation from the call's argument: the ones the call decides. A cluster of the module
    /// written otherwise is its own files' to fix. Empty for any other cluster.
    reads: Vec<String>,
}

impl Cluster<'_> {
    fn label(&self) -> String {
        if self.kind == "module" {
            format!("`module.{}`", self.name)
        } else {
            format!("`{}.{}`", self.kind, self.name)
        }
    }
}

/// Where a block's braces are.
fn braces(text: &str, b: &Block) -> Option<(usize, usize)> {
    let open = b.span.0 + text.get(b.span.0..b.span.1)?.find('{')?;
    Some((open, b.span.1.checked_sub(1)?))
}

/// A cluster resource's add-on block: the static `key_vault_secrets_provider`, or the
/// `content` of a `dynamic` one; or the azurerm 2.x `azure_keyvault_secrets_provider` inside
/// `addon_profile` (each static or dynamic), which takes the same `secret_rotation_enabled`.
fn addon_block(body: &Body) -> Option<&Block> {
    named_block(body, ADDON_BLOCK).or_else(|| {
        named_block(
            &named_block(body, tf::LEGACY_PROFILE)?.body,
            tf::LEGACY_ADDON,
        )
    })
}

/// The block `ident` of a body: a static one, or the `content` of a `dynamic "ident"`.
fn named_block<'b>(body: &'b Body, ident: &str) -> Option<&'b Block> {
    body.items.iter().find_map(|it| match it {
        Item::Block(s) if s.ident == ident => Some(s),
        Item::Block(d)
            if d.ident == "dynamic" && d.labels.first().map(String::as_str) == Some(ident) =>
        {
            d.body.blocks("content").next()
        }
        _ => None,
    })
}

/// Whether a body writes the add-on's block (either form, static or dynamic).
fn writes_addon(body: &Body) -> bool {
    body.items.iter().any(|it| {
        matches!(it, Item::Block(b) if [ADDON_BLOCK, tf::LEGACY_PROFILE].contains(&b.ident.as_str())
            || (b.ident == "dynamic"
                && b.labels.first().is_some_and(|l| l == ADDON_BLOCK || l == tf::LEGACY_PROFILE)))
    })
}

/// The add-on block that deploys for the resource `labels` first declared in unit `unit`
/// with `block`: the last override file's block of that type when one replaces it (nested
/// blocks are replaced whole, not merged), else its own; with the unit it is written in.
fn effective_addon<'f>(
    folder: &'f Folder,
    unit: usize,
    labels: &[String],
    block: Option<&'f Block>,
) -> (usize, Option<&'f Block>) {
    let mut out = (unit, block);
    for (j, u) in folder.units.iter().enumerate() {
        if u.role != Role::Override {
            continue;
        }
        for r in u.body.blocks("resource").filter(|r| r.labels == labels) {
            if writes_addon(&r.body) {
                out = (j, addon_block(&r.body));
            }
        }
    }
    out
}

fn clusters(folder: &Folder) -> Vec<Cluster<'_>> {
    let mut out = Vec::new();
    for (i, u) in folder.units.iter().enumerate() {
        // Override files merge into these clusters; they declare none of their own.
        if u.role != Role::Tf {
            continue;
        }
        for b in u.body.blocks("resource") {
            let [kind, name] = &b.labels[..] else {
                continue;
            };
            if tf::azapi_cluster(kind, &b.body) {
                if let Some(mut c) = azapi_cluster(&u.text, i, name, b) {
                    c.each = b.body.attr("for_each").map(|a| (i, &a.value));
                    out.push(c);
                }
                continue;
            }
            if kind != CLUSTER {
                continue;
            }
            let (unit, target) = effective_addon(folder, i, &b.labels, addon_block(&b.body));
            let text = &folder.units[unit].text;
            if let Some(target) = target {
                out.push(Cluster {
                    unit,
                    kind: CLUSTER,
                    name: name.clone(),
                    arg: ROTATION_ARG.to_string(),
                    value: target.body.attr(ROTATION_ARG).map(|a| &a.value),
                    add: render::add_rotation(text, target),
                    at: target.span.0,
                    missing: format!(
                        "`{}` turns on the Secrets Store CSI Driver add-on without \
                         `{ROTATION_ARG} = true`",
                        if named_block(&b.body, ADDON_BLOCK).is_some() {
                            ADDON_BLOCK.to_string()
                        } else {
                            format!("{} {{ {} }}", tf::LEGACY_PROFILE, tf::LEGACY_ADDON)
                        }
                    ),
                    each: b.body.attr("for_each").map(|a| (i, &a.value)),
                    // An override's block stands in its own file; its iterators are not read.
                    dynamics: if unit == i {
                        dynamic_iterators(&b.body, i)
                    } else {
                        Vec::new()
                    },
                    path: Vec::new(),
                    local: false,
                    reads: Vec::new(),
                });
            }
        }
        for b in u.body.blocks("module") {
            if let ([name], Some(src)) = (&b.labels[..], tf::local_source(&b.body)) {
                if let Some(callee) = folder.callees.iter().find(|c| c.source == src) {
                    if let Some(mut c) = local_call(&u.text, i, name, b, callee) {
                        c.each = b.body.attr("for_each").map(|a| (i, &a.value));
                        overridden_input(folder, &b.labels, &mut c);
                        out.push(c);
                    }
                }
                continue;
            }
            let ([name], Some(family)) = (&b.labels[..], tf::aks_module(&b.body)) else {
                continue;
            };
            // The AVM inputs are objects: an override's object replaces the base's whole.
            let object = match family {
                tf::Family::Aks => None,
                tf::Family::AvmLegacy => Some(ADDON_BLOCK),
                tf::Family::AvmAddonProfile => Some(tf::AVM_ADDON_INPUT),
            };
            let replaced = object.and_then(|key| module_override(folder, &b.labels, key));
            let c = match replaced {
                Some((j, ob, _)) => module_cluster(&folder.units[j].text, j, name, ob, family),
                None => module_cluster(&u.text, i, name, b, family).map(|mut c| {
                    if family == tf::Family::Aks {
                        overridden_input(folder, &b.labels, &mut c);
                    }
                    c
                }),
            };
            out.extend(c.map(|mut c| {
                c.each = b.body.attr("for_each").map(|a| (i, &a.value));
                c
            }));
        }
    }
    out
}

/// The last override file's `module` block with these labels that sets `key`: its unit, the
/// block and the argument.
fn module_override<'f>(
    folder: &'f Folder,
    labels: &[String],
    key: &str,
) -> Option<(usize, &'f Block, &'f super::hcl::Attr)> {
    let mut out = None;
    for (j, u) in folder.units.iter().enumerate() {
        if u.role != Role::Override {
            continue;
        }
        for m in u.body.blocks("module").filter(|m| m.labels == labels) {
            if let Some(a) = m.body.attr(key) {
                out = Some((j, m, a));
            }
        }
    }
    out
}

/// A module call's rotation argument as deployed: when an override file sets the call's
/// argument `c.arg`, that value is the one to judge and fix, in the override file.
fn overridden_input<'f>(folder: &'f Folder, labels: &[String], c: &mut Cluster<'f>) {
    if let Some((j, _, a)) = module_override(folder, labels, &c.arg) {
        c.unit = j;
        c.value = Some(&a.value);
        c.add = None;
        c.at = a.span.0;
    }
}

/// A call of a local module (`source = "./modules/aks"`) whose cluster takes its rotation
/// from a variable (`secret_rotation_enabled = var.X`), directly or through the module's own
/// local call (`module "b" { source = "./b"; r = var.X }` whose cluster reads `var.r`): the
/// call is judged with its own arguments, per instance when it has `count`/`for_each` (the
/// evaluator follows it), and its fix is the call's `X` (replaced, or added after its last
/// argument). A callee whose rotation is written otherwise is fixed in the callee's own
/// files, by their own analysis.
fn local_call<'f>(
    text: &str,
    unit: usize,
    name: &str,
    b: &'f Block,
    callee: &Callee,
) -> Option<Cluster<'f>> {
    let (input, path) = rotation_input(callee, 0)?;
    let reads = reading_clusters(callee, &input, 0);
    let slots = render::block_slots(b);
    let after = slots.iter().rposition(|s| s.key_span.is_some());
    // An object input read at a path (`var.csi.rotation`): the call passes `csi = {
    // rotation = true }` when it passes no `csi`.
    let mut value = "true".to_string();
    for k in path.iter().rev() {
        value = format!("{{ {k} = {value} }}");
    }
    let add = braces(text, b)
        .and_then(|br| render::add_member(text, br, &slots, after, &input, &value, false));
    let read = std::iter::once(format!("var.{input}"))
        .chain(path.iter().cloned())
        .collect::<Vec<_>>()
        .join(".");
    let missing = format!(
        "the module's cluster takes `{ROTATION_ARG}` from `{read}`, which this call \
         does not set (the module's default is not true)"
    );
    Some(Cluster {
        unit,
        kind: "module",
        name: name.to_string(),
        value: b.body.attr(&input).map(|a| &a.value),
        arg: input,
        add,
        at: b.span.0,
        missing,
        each: None,
        dynamics: Vec::new(),
        reads,
        path,
        local: true,
    })
}

/// The variable of `callee` that its cluster's rotation is read from: `var.X` written as the
/// rotation argument of a cluster of its own, or passed as the input a local module it calls
/// reads its rotation from (bounded by the callee tree's own depth).
fn rotation_input(callee: &Callee, depth: usize) -> Option<(String, Vec<String>)> {
    // `var.X`, or `var.X.a["b"]`: the input and the path read inside it.
    let read_var = |e: &Expr| match &e.kind {
        ExprKind::Traversal(root, steps) if root == "var" && !steps.is_empty() => {
            let Step::Attr(x) = &steps[0] else {
                return None;
            };
            let path = step_path(&steps[1..])?;
            (!path.iter().any(|p| p == "*")).then(|| (x.clone(), path))
        }
        _ => None,
    };
    let own = callee.bodies.iter().find_map(|body| {
        body.blocks("resource")
            .filter(|r| r.labels.first().map(String::as_str) == Some(CLUSTER))
            .find_map(|r| read_var(&addon_block(&r.body)?.body.attr(ROTATION_ARG)?.value))
    });
    if own.is_some() || depth > MODULE_DEPTH {
        return own;
    }
    callee.bodies.iter().find_map(|body| {
        body.blocks("module").find_map(|m| {
            let src = tf::local_source(&m.body)?;
            let inner = callee.callees.iter().find(|c| c.source == src)?;
            let (input, path) = rotation_input(inner, depth + 1)?;
            // A nested call passes the input on whole: `r = var.X`.
            let (outer, more) = read_var(&m.body.attr(&input)?.value)?;
            more.is_empty().then_some((outer, path))
        })
    })
}

/// `var.X` (possibly read at a path: `var.X.a`) as the name `X`.
fn var_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Traversal(root, steps) if root == "var" => match steps.first() {
            Some(Step::Attr(x)) => Some(x),
            _ => None,
        },
        _ => None,
    }
}

/// The addresses inside `callee` of the clusters that read their rotation from its variable
/// `input`: its own (`azurerm_kubernetes_cluster.NAME`), and those of a local module it
/// passes `var.input` on to whole (`module.M.` and that module's own).
fn reading_clusters(callee: &Callee, input: &str, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    if depth > MODULE_DEPTH {
        return out;
    }
    for body in &callee.bodies {
        for r in body.blocks("resource") {
            let [kind, name] = &r.labels[..] else {
                continue;
            };
            let reads = kind == CLUSTER
                && addon_block(&r.body)
                    .and_then(|a| a.body.attr(ROTATION_ARG))
                    .and_then(|a| var_name(&a.value))
                    == Some(input);
            if reads {
                out.push(format!("{kind}.{name}"));
            }
        }
        for m in body.blocks("module") {
            let ([call], Some(src)) = (&m.labels[..], tf::local_source(&m.body)) else {
                continue;
            };
            let Some(inner) = callee.callees.iter().find(|c| c.source == src) else {
                continue;
            };
            let Some((inner_input, _)) = rotation_input(inner, depth + 1) else {
                continue;
            };
            let passes = m.body.attr(&inner_input).is_some_and(|a| {
                matches!(&a.value.kind, ExprKind::Traversal(r, st)
                    if r == "var" && st.len() == 1 && var_name(&a.value) == Some(input))
            });
            if passes {
                out.extend(
                    reading_clusters(inner, &inner_input, depth + 1)
                        .into_iter()
                        .map(|a| format!("module.{call}.{a}")),
                );
            }
        }
    }
    out
}

/// Whether an evaluated resource is one of cluster `c`'s: of its block, and for a local
/// module call one of the clusters that read rotation from the call (see [`Cluster::reads`]).
fn is_of(c: &Cluster, r: &crate::eval::Resource) -> bool {
    if !(r.origin.len() == 3 && r.origin[1] == c.kind && r.origin[2] == c.name) {
        return false;
    }
    if !c.local {
        return true;
    }
    // `module.NAME[KEY].inner.address[KEY]` without the call and the instance keys.
    let Some(rest) = r.id.strip_prefix(&format!("module.{}", c.name)) else {
        return false;
    };
    let mut plain = String::new();
    let mut depth = 0usize;
    for ch in rest.chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(ch),
            _ => {}
        }
    }
    let plain = plain.strip_prefix('.').unwrap_or(&plain);
    c.reads.iter().any(|a| a == plain)
}

/// A call of a known AKS module as a cluster: where its rotation input is, or how to add it
/// beside the add-on input.
fn module_cluster<'f>(
    text: &str,
    unit: usize,
    name: &str,
    b: &'f Block,
    family: tf::Family,
) -> Option<Cluster<'f>> {
    let mut c = Cluster {
        unit,
        kind: "module",
        name: name.to_string(),
        arg: ROTATION_ARG.to_string(),
        value: None,
        add: None,
        at: b.span.0,
        missing: String::new(),
        each: None,
        dynamics: Vec::new(),
        path: Vec::new(),
        local: false,
        reads: Vec::new(),
    };
    match family {
        tf::Family::Aks => {
            let input = b.body.attr(tf::AKS_ADDON_INPUT)?;
            c.at = input.span.0;
            c.value = b.body.attr(ROTATION_ARG).map(|a| &a.value);
            let slots = render::block_slots(b);
            let after = slots.iter().position(|s| s.span == input.span);
            c.add = braces(text, b).and_then(|br| {
                render::add_member(text, br, &slots, after, ROTATION_ARG, "true", false)
            });
            c.missing = format!(
                "`{}` turns on the Secrets Store CSI Driver add-on without `{ROTATION_ARG} = \
                 true` (the module's default is false)",
                tf::AKS_ADDON_INPUT
            );
        }
        tf::Family::AvmLegacy => {
            let input = b.body.attr(ADDON_BLOCK)?;
            c.at = input.span.0;
            c.missing = format!(
                "`{ADDON_BLOCK}` turns on the Secrets Store CSI Driver add-on without \
                 `{ROTATION_ARG} = true` (the provider's default is false)"
            );
            // An object from elsewhere (`= var.kv`): rotation is read inside it, where it
            // is written.
            if !matches!(input.value.kind, ExprKind::Object(_)) {
                c.value = Some(&input.value);
                c.arg = ADDON_BLOCK.to_string();
                c.path = vec![ROTATION_ARG.to_string()];
            }
            if let ExprKind::Object(ms) = &input.value.kind {
                c.value = input.value.member(ROTATION_ARG).map(|m| &m.value);
                let slots = render::object_slots(ms);
                let br = (input.value.span.0, input.value.span.1.checked_sub(1)?);
                c.add = render::add_member(
                    text,
                    br,
                    &slots,
                    slots.len().checked_sub(1),
                    ROTATION_ARG,
                    "true",
                    true,
                );
            }
        }
        tf::Family::AvmAddonProfile => {
            let input = b.body.attr(tf::AVM_ADDON_INPUT)?;
            c.at = input.span.0;
            c.arg = tf::AVM_ROTATION.to_string();
            c.missing = format!(
                "`{}` turns on the Secrets Store CSI Driver add-on without \
                 `config.{} = true` (the module's default is false)",
                tf::AVM_ADDON_INPUT,
                tf::AVM_ROTATION
            );
            if !matches!(input.value.kind, ExprKind::Object(_)) {
                c.value = Some(&input.value);
                c.arg = tf::AVM_ADDON_INPUT.to_string();
                c.path = vec!["config".to_string(), tf::AVM_ROTATION.to_string()];
            }
            if matches!(input.value.kind, ExprKind::Object(_)) {
                (c.value, c.add) = rotation_in_addon(text, &input.value, tf::AVM_ROTATION, "true")?;
            }
        }
    }
    Some(c)
}

/// An `azapi_resource` cluster whose `body` writes the add-on's object literally: where its
/// `config.enableSecretRotation` is, or how to add it (inside `config`, or a new `config`
/// after `enabled`) in the body's own style, as the string `"true"` ARM documents.
/// A body whose add-on object is not written out (a variable, a `merge`) is still a cluster:
/// the evaluator judges it, and a failure is manual review (no edit is offered).
fn azapi_cluster<'f>(text: &str, unit: usize, name: &str, b: &'f Block) -> Option<Cluster<'f>> {
    let mut c = Cluster {
        unit,
        kind: tf::AZAPI,
        name: name.to_string(),
        arg: crate::rule::ROTATION.to_string(),
        value: None,
        add: None,
        at: b.body.attr("body").map_or(b.span.0, |a| a.span.0),
        missing: format!(
            "`{}` turns on the Secrets Store CSI Driver add-on without `config.{} = \"true\"`",
            crate::rule::ADDON,
            crate::rule::ROTATION
        ),
        each: None,
        dynamics: Vec::new(),
        path: Vec::new(),
        local: false,
        reads: Vec::new(),
    };
    let mut addon = tf::azapi_body(&b.body)?;
    for key in ["properties", "addonProfiles", crate::rule::ADDON] {
        match addon.member(key) {
            Some(m) => addon = &m.value,
            None => return Some(c),
        }
    }
    if !matches!(addon.kind, ExprKind::Object(_)) {
        return Some(c);
    }
    c.at = addon.span.0;
    (c.value, c.add) = rotation_in_addon(text, addon, crate::rule::ROTATION, "\"true\"")?;
    Some(c)
}

/// The rotation setting `key` of an add-on written as an HCL object (an AVM module's
/// `azure_keyvault_secrets_provider` input, an azapi body's add-on): its value in `config`
/// when written, and the edit that writes `value` there: into `config`, or as a new
/// `config = { KEY = value }` beside `enabled`. `None` when the object's braces are not where
/// its span says.
fn rotation_in_addon<'e>(
    text: &str,
    addon: &'e Expr,
    key: &str,
    value: &str,
) -> Option<(Option<&'e Expr>, Option<Vec<Edit>>)> {
    let ExprKind::Object(ms) = &addon.kind else {
        return Some((None, None));
    };
    match addon.member("config") {
        Some(cfg) => {
            let ExprKind::Object(cms) = &cfg.value.kind else {
                return Some((None, None));
            };
            let slots = render::object_slots(cms);
            let br = (cfg.value.span.0, cfg.value.span.1.checked_sub(1)?);
            let add = render::add_member(
                text,
                br,
                &slots,
                slots.len().checked_sub(1),
                key,
                value,
                true,
            );
            Some((cfg.value.member(key).map(|m| &m.value), add))
        }
        None => {
            let slots = render::object_slots(ms);
            let after = ms
                .iter()
                .position(|m| m.key.as_deref() == Some("enabled"))
                .or(slots.len().checked_sub(1));
            let br = (addon.span.0, addon.span.1.checked_sub(1)?);
            let config = format!("{{ {key} = {value} }}");
            let add = render::add_member(text, br, &slots, after, "config", &config, true);
            Some((None, add))
        }
    }
}

/// How many of a cluster's instances (`count`/`for_each`, a local module's per call instance)
/// fail, summed over the configurations: a fix search step must lower it (fixing one
/// instance's value in a `for_each` map is progress even while another still fails).
fn failing_instances(c: &Cluster, deployments: &[Deployment]) -> usize {
    deployments
        .iter()
        .flat_map(|d| &d.resources)
        .filter(|r| is_of(c, r))
        .filter(|r| matches!(judge(r), Judgement::Fail { .. }))
        .count()
}

/// The instance keys (`[0]`, `["dev"]`) of a `count`/`for_each` cluster or local module call
/// that fail in some configuration, in order, each once; none for a single instance.
fn failing_keys(c: &Cluster, deployments: &[Deployment]) -> Vec<String> {
    let prefix = if c.kind == "module" {
        format!("module.{}", c.name)
    } else {
        format!("{}.{}", c.kind, c.name)
    };
    let mut keys: Vec<String> = Vec::new();
    for r in deployments.iter().flat_map(|d| &d.resources) {
        if !is_of(c, r) {
            continue;
        }
        if !matches!(judge(r), Judgement::Fail { .. }) {
            continue;
        }
        let Some(rest) = r.id.strip_prefix(&prefix) else {
            continue;
        };
        if !rest.starts_with('[') {
            continue;
        }
        let key = match rest.find("].") {
            Some(end) => &rest[..=end],
            None => rest,
        };
        let key = format!("`{key}`");
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// How a cluster fares in each configuration: the failing ones (name, reason) and the first
/// Unknown's reason.
fn state(
    c: &Cluster,
    deployments: &[Deployment],
    names: &[String],
) -> (Vec<(String, String)>, Option<String>) {
    let mut fails = Vec::new();
    let mut unknown = None;
    for (d, config) in deployments.iter().zip(names) {
        for r in d.resources.iter().filter(|r| is_of(c, r)) {
            match judge(r) {
                Judgement::Fail { reason } if !fails.iter().any(|(c, _)| c == config) => {
                    fails.push((config.clone(), reason));
                }
                Judgement::Unknown { reason } => {
                    unknown.get_or_insert(reason);
                }
                _ => {}
            }
        }
    }
    (fails, unknown)
}

/// A place a fix may land.
#[derive(Debug, Clone)]
struct Candidate {
    unit: usize,
    edits: Vec<Edit>,
    source: FixSource,
    /// What the finding points at in `unit`.
    span: (usize, usize),
}

/// The places that may make the cluster pass, closest to the source first, the cluster's
/// own argument last.
fn candidates(folder: &Folder, c: &Cluster, options: &Options) -> Vec<Candidate> {
    let text = &folder.units[c.unit].text;
    // A local module call's own argument is what the call passes for the module's variable
    // (Bicep's module argument: a deployment parameter), not the cluster's value.
    let own = || {
        if c.local {
            FixSource::DeploymentParameter {
                name: c.arg.clone(),
            }
        } else {
            FixSource::Value
        }
    };
    let Some(value) = c.value else {
        return c
            .add
            .clone()
            .map(|edits| Candidate {
                unit: c.unit,
                edits,
                source: own(),
                span: (c.at, c.at),
            })
            .into_iter()
            .collect();
    };
    if !c.path.is_empty() {
        // An object argument: the places inside it (or what it comes from) only.
        let mut out = Vec::new();
        sources(folder, c.unit, value, &c.path, &mut out, 0, c.each, &[]);
        return out;
    }
    if let Some(e) = render::literal_true(text, value) {
        return vec![Candidate {
            unit: c.unit,
            edits: vec![e],
            source: own(),
            span: value.span,
        }];
    }
    let mut out = Vec::new();
    sources(folder, c.unit, value, &[], &mut out, 0, c.each, &c.dynamics);
    // The cluster's own argument as a literal: for a plain reference (the value the
    // variable or local also gives elsewhere stays), or when asked to.
    // `var.x.y` and `var.x["y"]` too: the object the variable holds stays as it is.
    let plain = matches!(&value.kind, ExprKind::Traversal(r, s)
    if (r == "var" || r == "local") && !s.is_empty() && s.iter().all(|s| match s {
        Step::Attr(_) => true,
        Step::Index(i) => matches!(i.kind, ExprKind::Str(_) | ExprKind::Int(_)),
        Step::Splat => false,
    }));
    // A module call's argument is the call's own value: replacing it with `true` changes
    // what the call passes (whatever else it feeds inside the module, the proof names), not
    // what it was computed from (`count.index == 0`, a `for_each` entry shared with others).
    if plain || options.force_literal || c.local {
        let (s, e) = value.span;
        out.push(Candidate {
            unit: c.unit,
            edits: vec![Edit::replace(s, e, "true")],
            source: own(),
            span: value.span,
        });
    }
    out
}

/// Collects the literals that may feed `e` (read at `path` inside it): `.tfvars` values
/// and variable defaults for `var.NAME`, `local` values, and the branches and arguments of
/// conditionals and `coalesce`/`try`/`lookup`/`tobool`/`tostring`/`merge` (never a
/// condition), `for` expressions' values and the items a bound name iterates.
// The walk carries what an expression's names stand for (`each.value`, `for` iterators)
// beside where it is; a struct for them would only rename the arguments.
#[allow(clippy::too_many_arguments)]
fn sources(
    folder: &Folder,
    unit: usize,
    e: &Expr,
    path: &[String],
    out: &mut Vec<Candidate>,
    depth: usize,
    each: Option<(usize, &Expr)>,
    bound: &[Bound],
) {
    if depth > 16 {
        return;
    }
    let text = &folder.units[unit].text;
    match &e.kind {
        ExprKind::Bool(_) | ExprKind::Null | ExprKind::Str(_) if path.is_empty() => {
            if let Some(edit) = render::literal_true(text, e) {
                out.push(Candidate {
                    unit,
                    edits: vec![edit],
                    source: FixSource::Expression,
                    span: e.span,
                });
            }
        }
        // Every member or item: the instances of a `for_each` over an object, or the entries
        // `[count.index]` and `[each.key]` read.
        ExprKind::Object(members) if path.first().is_some_and(|p| p == "*") => {
            for m in members {
                sources(
                    folder,
                    unit,
                    &m.value,
                    &path[1..],
                    out,
                    depth + 1,
                    each,
                    bound,
                );
            }
        }
        ExprKind::Array(items) if path.first().is_some_and(|p| p == "*") => {
            for x in items {
                sources(folder, unit, x, &path[1..], out, depth + 1, each, bound);
            }
        }
        ExprKind::Object(members) if !path.is_empty() => {
            if let Some(m) = members
                .iter()
                .rev()
                .find(|m| m.key.as_deref() == Some(&path[0]))
            {
                sources(
                    folder,
                    unit,
                    &m.value,
                    &path[1..],
                    out,
                    depth + 1,
                    each,
                    bound,
                );
            } else if let Some(edits) = add_path(text, e, members, path) {
                // The attribute is omitted: an object type's `optional(bool, false)` default
                // (or the provider's) is what deploys; writing it in the object overrides it.
                out.push(Candidate {
                    unit,
                    edits,
                    source: FixSource::Expression,
                    span: (e.span.0, e.span.0),
                });
            }
        }
        ExprKind::Paren(x) => sources(folder, unit, x, path, out, depth + 1, each, bound),
        ExprKind::Cond(_, t, f) => {
            sources(folder, unit, t, path, out, depth + 1, each, bound);
            sources(folder, unit, f, path, out, depth + 1, each, bound);
        }
        ExprKind::Call(name, args) => match name.as_str() {
            // `merge`: the last argument that has the key wins; each argument is a place
            // (the proof keeps only one that makes the cluster pass).
            "coalesce" | "try" | "tobool" | "tostring" | "tomap" | "merge" => {
                for a in args {
                    sources(folder, unit, a, path, out, depth + 1, each, bound);
                }
            }
            "lookup" => {
                if let (Some(m), Some(ExprKind::Str(k))) =
                    (args.first(), args.get(1).map(|a| &a.kind))
                {
                    let mut p = vec![k.clone()];
                    p.extend_from_slice(path);
                    sources(folder, unit, m, &p, out, depth + 1, each, bound);
                }
                if let Some(d) = args.get(2) {
                    sources(folder, unit, d, path, out, depth + 1, each, bound);
                }
            }
            _ => {}
        },
        // Every entry of a `for` expression's result: its value expression, the iterator
        // standing for every item of the collection (`{ for c in var.x : c.name => c }`).
        ExprKind::For(f) if !path.is_empty() && !f.grouping => {
            let mut inner = bound.to_vec();
            inner.push((f.value_var.as_str(), false, unit, &f.collection));
            sources(
                folder,
                unit,
                &f.value,
                &path[1..],
                out,
                depth + 1,
                each,
                &inner,
            );
        }
        ExprKind::Traversal(root, steps)
            if bound.iter().any(|b| b.0 == root) && root != "var" && root != "local" =>
        {
            let Some(at) = bound.iter().rposition(|b| b.0 == root) else {
                return;
            };
            let (_, dynamic, u, coll) = bound[at];
            // A dynamic block's iterator reads its item as `NAME.value`.
            let steps = match (dynamic, steps.first()) {
                (false, _) => &steps[..],
                (true, Some(Step::Attr(v))) if v == "value" => &steps[1..],
                (true, _) => return,
            };
            let Some(mut p) = step_path(steps) else {
                return;
            };
            p.insert(0, "*".to_string());
            p.extend_from_slice(path);
            sources(folder, u, coll, &p, out, depth + 1, each, &bound[..at]);
        }
        ExprKind::Traversal(root, steps) => {
            let Some(Step::Attr(name)) = steps.first() else {
                return;
            };
            let mut p: Vec<String> = Vec::new();
            for s in &steps[1..] {
                match s {
                    Step::Attr(a) => p.push(a.clone()),
                    Step::Index(Expr {
                        kind: ExprKind::Str(k),
                        ..
                    }) => p.push(k.clone()),
                    // `[count.index]`, `[each.key]`: the entry of every instance.
                    Step::Index(Expr {
                        kind: ExprKind::Traversal(r, _),
                        ..
                    }) if r == "count" || r == "each" => p.push("*".to_string()),
                    _ => return,
                }
            }
            p.extend_from_slice(path);
            match root.as_str() {
                // `each.value.x`: the `x` of every value the block's `for_each` iterates.
                "each" if name == "value" => {
                    if let Some((u, f)) = each {
                        let mut all = vec!["*".to_string()];
                        all.extend(p);
                        sources(folder, u, f, &all, out, depth + 1, None, &[]);
                    }
                }
                "var" => {
                    // `.tfvars` values first (the last loaded wins), then the default.
                    for (i, u) in folder.units.iter().enumerate().rev() {
                        if u.is_code() {
                            continue;
                        }
                        if let Some(a) = u.body.attr(name) {
                            let before = out.len();
                            sources(folder, i, &a.value, &p, out, depth + 1, each, &[]);
                            for c in &mut out[before..] {
                                c.source = FixSource::ParameterFile {
                                    name: name.clone(),
                                    template: u.display.clone(),
                                };
                            }
                        }
                    }
                    for (i, u) in folder.units.iter().enumerate() {
                        for b in u.body.blocks("variable") {
                            if b.labels.first() != Some(name) {
                                continue;
                            }
                            if let Some(d) = b.body.attr("default") {
                                let before = out.len();
                                sources(folder, i, &d.value, &p, out, depth + 1, each, &[]);
                                for c in &mut out[before..] {
                                    c.source = FixSource::ParameterDefault {
                                        name: format!("var.{name}"),
                                    };
                                }
                            }
                        }
                    }
                }
                "local" => {
                    for (i, u) in folder.units.iter().enumerate() {
                        for b in u.body.blocks("locals") {
                            if let Some(a) = b.body.attr(name) {
                                let before = out.len();
                                sources(folder, i, &a.value, &p, out, depth + 1, each, &[]);
                                for c in &mut out[before..] {
                                    if c.source == FixSource::Expression {
                                        c.source = FixSource::Variable {
                                            name: format!("local.{name}"),
                                        };
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// The edits that add `path` (`a`, or `a.b` as `a = { b = true }`) set to `true` to the
/// object expression `e` that omits its first key, after its last member in the object's
/// style; `None` for a path through every entry (`*`) or a key that is not a plain name.
fn add_path(
    text: &str,
    e: &Expr,
    members: &[super::hcl::Member],
    path: &[String],
) -> Option<Vec<Edit>> {
    let plain = |k: &String| {
        k.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if path.len() > 4 || !path.iter().all(plain) {
        return None;
    }
    let json = super::json::is_json(text);
    let mut value = "true".to_string();
    for k in path[1..].iter().rev() {
        value = if json {
            format!("{{ \"{k}\": {value} }}")
        } else {
            format!("{{ {k} = {value} }}")
        };
    }
    let slots = render::object_slots(members);
    let braces = (e.span.0, e.span.1.checked_sub(1)?);
    render::add_member(
        text,
        braces,
        &slots,
        slots.len().checked_sub(1),
        &path[0],
        &value,
        true,
    )
}

/// A name bound around an expression, standing for every item of a collection: a `for`
/// expression's value variable, or (`true`) a `dynamic` block's iterator (read as
/// `NAME.value`); with the unit and expression of the collection.
type Bound<'f> = (&'f str, bool, usize, &'f Expr);

/// The iterators of the `dynamic` blocks around a cluster's add-on block in `body` (unit
/// `unit`): `dynamic "key_vault_secrets_provider"`, or the azurerm 2.x `dynamic
/// "addon_profile"` and `dynamic "azure_keyvault_secrets_provider"` inside it.
fn dynamic_iterators(body: &Body, unit: usize) -> Vec<Bound<'_>> {
    fn dynamic<'b>(body: &'b Body, ident: &str) -> Option<&'b Block> {
        body.blocks("dynamic")
            .find(|d| d.labels.first().map(String::as_str) == Some(ident))
    }
    let mut out = Vec::new();
    for d in [
        dynamic(body, ADDON_BLOCK),
        dynamic(body, tf::LEGACY_PROFILE),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(b) = bound_of(d, unit) {
            out.push(b);
        }
    }
    if let Some(profile) = named_block(body, tf::LEGACY_PROFILE) {
        if let Some(b) = dynamic(&profile.body, tf::LEGACY_ADDON).and_then(|d| bound_of(d, unit)) {
            out.push(b);
        }
    }
    out
}

/// A `dynamic` block's iterator (its `iterator` argument, else its label) and `for_each`.
fn bound_of(d: &Block, unit: usize) -> Option<Bound<'_>> {
    let name = match d.body.attr("iterator").map(|a| &a.value.kind) {
        Some(ExprKind::Traversal(n, s)) if s.is_empty() => n.as_str(),
        Some(_) => return None,
        None => d.labels.first()?.as_str(),
    };
    Some((name, true, unit, &d.body.attr("for_each")?.value))
}

/// The path a traversal's steps read (`.a["b"]` is `a`, `b`; `[count.index]` and
/// `[each.key]` every entry, `*`); `None` for a step that is not followed.
fn step_path(steps: &[Step]) -> Option<Vec<String>> {
    steps
        .iter()
        .map(|s| match s {
            Step::Attr(a) => Some(a.clone()),
            Step::Index(Expr {
                kind: ExprKind::Str(k),
                ..
            }) => Some(k.clone()),
            Step::Index(Expr {
                kind: ExprKind::Traversal(r, _),
                ..
            }) if r == "count" || r == "each" => Some("*".to_string()),
            _ => None,
        })
        .collect()
}

/// One finding of the folder, in the unit it belongs to.
struct Planned {
    unit: usize,
    /// The cluster's unit, when the finding is placed elsewhere (its fix lands there).
    cluster_unit: usize,
    finding: Finding,
    /// The finding the cluster's file reports when the run does not read `unit`.
    stand_in: Option<Finding>,
}

/// Analyses the folder for the file at `folder.me`. `None` when the folder declares no
/// cluster with the add-on block (nothing here concerns the rule).
pub(crate) fn analyze(folder: &Folder, options: &Options) -> Option<Analysis> {
    let clusters = clusters(folder);
    if clusters.is_empty() {
        return None;
    }
    let names = folder.configuration_names();
    let base = folder.evaluate(&[])?;
    let mut accepted: Vec<(usize, Edit)> = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    for c in &clusters {
        let (fails, unknown) = state(c, &base, &names);
        let unit_text = &folder.units[c.unit].text;
        let at = c.value.map_or((c.at, c.at), |v| v.span);
        let expression = c.value.map(|v| unit_text[v.span.0..v.span.1].to_string());
        let label = c.label();
        if fails.is_empty() {
            if let Some(reason) = unknown {
                let reason =
                    format!("whether {label} rotates its secrets is not known offline ({reason})");
                planned.push(review(folder, c.unit, at, c, reason, expression.clone()));
            }
            continue;
        }
        let problem = match c.value {
            None => format!("{label}: {}", c.missing),
            Some(_) => {
                let expr = crate::finding::shorten(expression.as_deref().unwrap_or(""));
                let with = if names.len() > 1 || fails[0].0 != "defaults" {
                    let list: Vec<&str> = fails.iter().map(|(c, _)| c.as_str()).collect();
                    format!(" with {}", list.join(", "))
                } else {
                    String::new()
                };
                if c.path.is_empty() {
                    format!("{label}: `{} = {expr}` is not true{with}", c.arg)
                } else {
                    format!(
                        "{label}: `{}` of `{} = {expr}` is not true{with}",
                        c.path.join("."),
                        c.arg
                    )
                }
            }
        };
        let problem = match failing_keys(c, &base)[..] {
            [] => problem,
            [ref key] => format!("{problem} in instance {key}"),
            ref keys => format!("{problem} in instances {}", keys.join(", ")),
        };
        let mut pending = candidates(folder, c, options);
        let mut mine: Vec<(Candidate, Vec<String>)> = Vec::new();
        // The first place closer to the source that was passed over because it changes
        // more than rotation: the finding says why its fix is elsewhere.
        let mut passed_over: Option<(FixSource, Vec<String>)> = None;
        for allow_unsafe in [false, true] {
            loop {
                let current: Vec<(usize, Edit)> = accepted.clone();
                let Some(now) = folder.evaluate(&current) else {
                    break;
                };
                let failing = failing_instances(c, &now);
                if failing == 0 {
                    break;
                }
                let mut chosen = None;
                for (i, cand) in pending.iter().enumerate() {
                    let mut trial = current.clone();
                    trial.extend(cand.edits.iter().map(|e| (cand.unit, e.clone())));
                    if edit::apply(&folder.units[cand.unit].text, &with_unit(&trial, cand.unit))
                        .is_err()
                    {
                        continue;
                    }
                    let Some(after) = folder.evaluate(&trial) else {
                        continue;
                    };
                    if failing_instances(c, &after) >= failing {
                        continue;
                    }
                    let pairs: Vec<(&str, &Deployment, &Deployment)> = names
                        .iter()
                        .zip(base.iter().zip(&after))
                        .map(|(n, (b, a))| (n.as_str(), b, a))
                        .collect();
                    let proof = crate::eval::proof::classify_all_with(&pairs, false);
                    if proof.side_effects.is_empty() || allow_unsafe {
                        chosen = Some((i, proof.side_effects));
                        break;
                    }
                    if passed_over.is_none() {
                        passed_over = Some((cand.source.clone(), proof.side_effects));
                    }
                }
                let Some((i, effects)) = chosen else { break };
                let cand = pending.remove(i);
                if effects.is_empty() || options.unsafe_fixes {
                    accepted.extend(cand.edits.iter().map(|e| (cand.unit, e.clone())));
                } else {
                    mine.push((cand, effects));
                    break;
                }
                mine.push((cand, effects));
            }
            if !mine.is_empty() {
                break;
            }
        }
        if mine.is_empty() {
            let reason = format!(
                "{problem}, and armfix found no edit it can prove makes it pass (the value comes \
                 from an expression it cannot fix at its source)"
            );
            planned.push(review(folder, c.unit, at, c, reason, expression.clone()));
            continue;
        }
        for (cand, effects) in mine {
            let unit = &folder.units[cand.unit];
            let lines = LineIndex::new(&unit.text);
            let place = fixed_where(c, &cand.source);
            let mut message = if cand.unit == c.unit {
                format!("{problem}; fixed {place}")
            } else {
                format!(
                    "{problem} (in {}); fixed {place}",
                    folder.units[c.unit].display
                )
            };
            if let Some((source, side)) = passed_over.as_ref().filter(|_| effects.is_empty()) {
                message.push_str(&format!(
                    ", because fixing it at its source {} (there it would be fixed {})",
                    effects_clause(side),
                    source.describe(),
                ));
            }
            if !effects.is_empty() {
                message.push_str(&format!("; unsafe: it {}", effects.join("; ")));
            }
            let mut f = Finding::placed(
                &lines,
                &unit.text,
                cand.span,
                Some(pointer(c)),
                message,
                Remedy::Fix,
                Some(cand.source.clone()),
            );
            f.edits = cand.edits.clone();
            if !effects.is_empty() {
                f.applicability = Applicability::Unsafe;
                f.side_effects = effects;
            }
            let stand_in = (cand.unit != c.unit).then(|| {
                let reason = format!(
                    "{problem}; its fix is in {} ({}), which this run does not read: run armfix \
                     on the folder",
                    unit.display, place
                );
                review(folder, c.unit, at, c, reason, None).finding
            });
            planned.push(Planned {
                unit: cand.unit,
                cluster_unit: c.unit,
                finding: f,
                stand_in,
            });
        }
    }
    let mut analysis = Analysis {
        unsafe_applied: options.unsafe_fixes,
        ..Analysis::default()
    };
    for p in planned {
        if p.unit == folder.me {
            if p.finding.applicability == Applicability::Safe || options.unsafe_fixes {
                analysis.edits.extend(p.finding.edits.iter().cloned());
            } else {
                analysis.held_back += 1;
            }
            analysis.findings.push(p.finding);
        } else if p.cluster_unit == folder.me {
            if let Some(s) = p.stand_in {
                analysis
                    .left_to
                    .push((folder.units[p.unit].display.clone(), s));
            }
        }
    }
    analysis.findings.sort_by_key(|f| f.start);
    analysis.edits.sort_by_key(|e| (e.start, e.end));
    analysis.edits.dedup();
    Some(analysis)
}

/// Where a fix lands, in a finding's words: a module call's own argument is the call's, not
/// the cluster's (the cluster is inside the module).
fn fixed_where(c: &Cluster, source: &FixSource) -> String {
    match source {
        FixSource::DeploymentParameter { .. } if c.local => {
            format!("at the call's argument `{}`", c.arg)
        }
        other => other.describe(),
    }
}

/// The first side effect in a sentence (its configuration after it), and how many more.
fn effects_clause(effects: &[String]) -> String {
    let first = effects.first().map_or("", String::as_str);
    let first = match first.strip_prefix("with ").and_then(|r| r.split_once(": ")) {
        Some((config, rest)) => format!("{rest} (with {config})"),
        None => first.to_string(),
    };
    match effects.len() {
        0 | 1 => first,
        n => format!("{first}, and {} more", n - 1),
    }
}

fn with_unit(edits: &[(usize, Edit)], unit: usize) -> Vec<Edit> {
    edits
        .iter()
        .filter(|(u, _)| *u == unit)
        .map(|(_, e)| e.clone())
        .collect()
}

/// Where the finding is in the folder's terms: the cluster's address, then the argument.
fn pointer(c: &Cluster) -> String {
    let base = if c.kind == "module" {
        format!("/module/{}", c.name)
    } else if c.kind == tf::AZAPI {
        format!(
            "/resource/{}/{}/body/properties/addonProfiles/{}/config",
            c.kind,
            c.name,
            crate::rule::ADDON
        )
    } else {
        format!("/resource/{}/{}/{ADDON_BLOCK}", c.kind, c.name)
    };
    format!("{base}/{}", c.arg)
}

/// A manual-review finding about cluster `c`, placed at `at` in unit `unit`.
fn review(
    folder: &Folder,
    unit: usize,
    at: (usize, usize),
    c: &Cluster,
    reason: String,
    expression: Option<String>,
) -> Planned {
    let u = &folder.units[unit];
    let lines = LineIndex::new(&u.text);
    let message = crate::finding::manual_review_message(
        &reason,
        expression.as_deref().unwrap_or(""),
        crate::finding::Quote::Plain,
    );
    let f = Finding::placed(
        &lines,
        &u.text,
        at,
        Some(pointer(c)),
        message,
        Remedy::ManualReview {
            reason,
            expression: expression.filter(|e| !e.is_empty()),
        },
        None,
    );
    Planned {
        unit,
        cluster_unit: unit,
        finding: f,
        stand_in: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(callees: &[Callee]) -> usize {
        callees
            .iter()
            .map(|c| 1 + depth(&c.callees))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_call_decides_only_the_clusters_that_read_its_argument_at_any_depth() {
        let d = tempfile::tempdir().unwrap();
        let cluster = |name: &str, value: &str| {
            format!(
                "resource \"azurerm_kubernetes_cluster\" \"{name}\" {{\n  \
                 key_vault_secrets_provider {{\n    secret_rotation_enabled = {value}\n  }}\n}}\n"
            )
        };
        let write = |rel: &str, text: String| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "b/main.tf",
            cluster("r", "var.rot") + &cluster("lit", "false") + &cluster("o", "var.other"),
        );
        write(
            "a/main.tf",
            cluster("mine", "var.rotation.on")
                + "module \"in\" {\n  source = \"../b\"\n  rot = var.rotation\n}\n\
                   module \"half\" {\n  source = \"../b\"\n  rot = var.rotation.on\n}\n",
        );
        let main = "module \"x\" {\n  source = \"./a\"\n}\n";
        write("main.tf", main.to_string());
        let folder = Folder::read(main, Some(&d.path().join("main.tf")), false).unwrap();
        let a = &folder.callees[0];
        let (input, _) = rotation_input(a, 0).unwrap();
        assert_eq!(input, "rotation");
        // `half` passes a member, not the variable whole: not followed.
        assert_eq!(
            reading_clusters(a, &input, 0),
            [
                "azurerm_kubernetes_cluster.mine",
                "module.in.azurerm_kubernetes_cluster.r"
            ]
        );
        let judged = judged_callees(main, &d.path().join("main.tf"));
        assert_eq!(judged.len(), 1);
        assert_eq!(
            judged[0].1,
            ["/resource/azurerm_kubernetes_cluster/mine/", "/module/in/"]
        );
    }

    #[test]
    fn local_module_chains_are_followed_bounded_and_cycles_cut() {
        let d = tempfile::tempdir().unwrap();
        // m0 calls m1 ... m19 calls m0: a long chain that is also a cycle.
        for i in 0..20 {
            let dir = d.path().join(format!("m{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let next = (i + 1) % 20;
            std::fs::write(
                dir.join("main.tf"),
                format!("module \"next\" {{\n  source = \"../m{next}\"\n}}\n"),
            )
            .unwrap();
        }
        let main = d.path().join("m0/main.tf");
        let text = std::fs::read_to_string(&main).unwrap();
        let folder = Folder::read(&text, Some(&main), false).unwrap();
        assert_eq!(depth(&folder.callees), MODULE_DEPTH);
        // A short cycle stops where it re-enters a folder being followed.
        std::fs::write(
            d.path().join("m1/main.tf"),
            "module \"back\" {\n  source = \"../m0\"\n}\n",
        )
        .unwrap();
        let folder = Folder::read(&text, Some(&main), false).unwrap();
        assert_eq!(depth(&folder.callees), 1);
        assert!(folder.evaluate(&[]).is_some());
    }
}
