//! The data every stage after the rule passes along: findings, and the analysis of one file
//! (its findings, its JSON Patch and the text edits that carry it out). Presenting,
//! reporting and writing all read these, never the rule directly.

use crate::edit::Edit;
use crate::error::Error;
use crate::location::LineIndex;
use json_patch::PatchOperation;
use serde::Serialize;

/// One cluster that fails the rule (or may fail it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    /// Byte range of the offending value (or of the add-on object when the value is missing).
    pub start: usize,
    pub end: usize,
    /// 1-based line and column of `start`.
    pub line: usize,
    pub column: usize,
    /// JSON pointer to the offending value or to where it is missing, in the file's ARM
    /// shape; `None` for files that have no such shape (scripts).
    pub pointer: Option<String>,
    pub message: String,
    /// Whether armfix carries a fix for it, or a human must look.
    pub remedy: Remedy,
    /// Where the fix lands, when it is not the offending value itself.
    pub source: Option<FixSource>,
    /// JSON pointer of the cluster resource the finding is about, in the file's ARM shape
    /// (`None` for scripts): ties the finding to the cluster the evaluator deploys.
    #[serde(skip)]
    pub(crate) cluster: Option<String>,
    /// Other clusters the same finding is about (clusters sharing the variable or parameter
    /// whose one edit fixes them all).
    #[serde(skip)]
    pub(crate) other_clusters: Vec<String>,
    /// The names the evaluator gives the clusters the finding is about (by pointer; a copy
    /// loop's copies, or the clusters a nested deployment or module deploys), where the
    /// deploy-time proof evaluated them: how messages name a cluster whose name is an
    /// expression or that another template holds.
    #[serde(skip)]
    pub(crate) cluster_names: Vec<(String, Vec<String>)>,
    /// The edits that carry this finding's fix on their own (the file's edits are those of
    /// every finding, merged): what the deploy-time proof tries finding by finding.
    #[serde(skip)]
    pub(crate) edits: Vec<Edit>,
    /// Whether `fix --yes` may write the fix (see [`Applicability`]).
    pub(crate) applicability: Applicability,
    /// What else the fix changes at deploy time: set for unsafe fixes and for manual
    /// reviews that a side effect made, one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) side_effects: Vec<String>,
}

/// How safe a fix is to apply unattended, as ruff has it: `fix --yes` writes safe fixes;
/// unsafe ones (proven to change more than rotation, or not proven at all) only with
/// `--unsafe-fixes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Applicability {
    /// Proven, or from a language the evaluator does not cover (scripts), whose own
    /// verification proves the edit changes only the rotation flag.
    #[default]
    Safe,
    /// Changes something besides rotation at deploy time.
    Unsafe,
}

/// Where a fix lands, so a reviewer understands a diff far from the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FixSource {
    /// The value in the cluster resource itself.
    Value,
    /// Inside the definition of a template variable.
    Variable { name: String },
    /// Inside the ARM expression that computes the value.
    Expression,
    /// The `defaultValue` of a template parameter.
    ParameterDefault { name: String },
    /// The value a nested deployment passes for a parameter of its inner template.
    DeploymentParameter { name: String },
    /// The value a parameter file sets.
    ParameterFile { name: String, template: String },
}

impl FixSource {
    /// Words for a one-line message, e.g. "in variable `x`".
    pub(crate) fn describe(&self) -> String {
        match self {
            FixSource::Value => "in the cluster".into(),
            FixSource::Variable { name } => format!("in variable `{name}`"),
            FixSource::Expression => "inside the expression".into(),
            FixSource::ParameterDefault { name } => {
                format!("at the default value of parameter `{name}`")
            }
            FixSource::DeploymentParameter { name } => {
                format!("in the value the nested deployment passes for parameter `{name}`")
            }
            FixSource::ParameterFile { name, template } => {
                format!("parameter `{name}` of {template}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Remedy {
    /// The file's edits fix it.
    Fix,
    /// armfix cannot fix it safely: why, and the expression in the way (if any).
    ManualReview {
        reason: String,
        /// The expression in the way, as written; `None` when no expression is to blame.
        expression: Option<String>,
    },
}

impl Finding {
    /// A finding of the rule about `text[span]`, placed by `lines`: the one way every
    /// language builds one.
    pub(crate) fn placed(
        lines: &LineIndex,
        text: &str,
        span: (usize, usize),
        pointer: Option<String>,
        message: String,
        remedy: Remedy,
        source: Option<FixSource>,
    ) -> Finding {
        let (line, column) = lines.line_col(text, span.0);
        Finding {
            rule: crate::rule::RULE_ID,
            start: span.0,
            end: span.1,
            line,
            column,
            pointer,
            message,
            remedy,
            source,
            cluster: None,
            other_clusters: Vec::new(),
            cluster_names: Vec::new(),
            edits: Vec::new(),
            applicability: Applicability::Safe,
            side_effects: Vec::new(),
        }
    }

    /// Whether the finding is about the cluster at pointer `k`.
    pub(crate) fn is_about(&self, k: &str) -> bool {
        self.cluster.as_deref() == Some(k) || self.other_clusters.iter().any(|c| c == k)
    }

    pub(crate) fn is_fixable(&self) -> bool {
        self.remedy == Remedy::Fix
    }
}

/// What armfix found in one file and how it would change it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// RFC 6902 operations on the parsed document (empty for files that are not JSON).
    pub patch: Vec<PatchOperation>,
    /// The text edits that carry out the patch.
    pub edits: Vec<Edit>,
    /// Top-level parameters that feed the rotation setting: parameter files that set them
    /// must be checked too.
    pub(crate) parameters: Vec<crate::eval::provenance::ParamDemand>,
    /// JSON pointers of every cluster the file declares (passing ones too), in its ARM shape:
    /// the evaluator judges each of them.
    pub(crate) clusters: Vec<String>,
    /// Planned fixes that the edits do not carry (dropped by the deploy-time proof, or unsafe
    /// and not asked for): the fixed text may still show them to a re-reading planner.
    pub(crate) held_back: usize,
    /// Whether every cluster is written with literals only (no condition or copy loop, no
    /// expression on the way to its rotation setting): evaluating it tells nothing the
    /// source reading does not.
    pub(crate) clusters_literal: bool,
    /// Whether unsafe fixes are among the edits (`--unsafe-fixes`).
    pub(crate) unsafe_applied: bool,
    /// Failures left to a parameter file's own finding (its configuration name, as shown),
    /// each with the finding to report here instead when the run does not read that file.
    pub(crate) left_to: Vec<(String, Finding)>,
    /// Manual-review findings of the source reading that the deploy-time proof dropped (their
    /// clusters pass once evaluated): a re-reading planner may still show them.
    pub(crate) settled_manual: usize,
    /// True for ARM JSON that Bicep compiled (`metadata._generator.name` is `bicep`): its
    /// source is the place to fix.
    pub(crate) compiled_from_bicep: bool,
}

/// An expression (or command) as a finding quotes it: on one line, runs of white space
/// folded to one space, cut after 72 characters with `…`.
pub(crate) fn shorten(expression: &str) -> String {
    const MAX: usize = 72;
    let one_line = expression.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// How a manual-review message quotes the expression in the way: ARM expressions in
/// backticks (they sit inside JSON strings), Bicep and script source as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quote {
    Backticks,
    Plain,
}

/// The message of a finding for a human: the reason, then the expression in the way (when
/// there is one), shortened.
pub(crate) fn manual_review_message(reason: &str, expression: &str, quote: Quote) -> String {
    if expression.trim().is_empty() {
        return format!("needs manual review: {reason}");
    }
    match quote {
        Quote::Backticks => format!("needs manual review: {reason} (`{}`)", shorten(expression)),
        Quote::Plain => format!("needs manual review: {reason} ({})", shorten(expression)),
    }
}

/// The error for a key that appears twice (ignoring case) on the way to a value the rule
/// reads; `at` is the pointer to it, when the message should say where.
pub(crate) fn duplicate_key(offset: usize, key: &str, at: Option<&str>) -> Error {
    let at = at.map(|p| format!(" at {p}")).unwrap_or_default();
    Error::source(
        offset,
        format!(
            "duplicate key `{key}`{at} (keys differing only in case count as the same): which \
             one deploys is ambiguous, so armfix will not edit this file"
        ),
    )
}

/// A finding's message without the note on where its fix lands (`; fixed …`, ` (fixed …)`):
/// a finding turned over to a human never says its fix was made.
pub(crate) fn without_fix_note(message: &str) -> &str {
    let cut = [message.find("; fixed"), message.find(" (fixed")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(message.len());
    &message[..cut]
}

impl Analysis {
    /// Takes back the file's fixes: every fixable finding that `which` picks becomes manual
    /// review, `reason` appended to its message, and no edit or patch is left. For a fix
    /// that must not be written as planned (it fails verification, it would change a
    /// suppressed cluster).
    pub(crate) fn withdraw_fixes(&mut self, reason: &str, which: impl Fn(&Finding) -> bool) {
        for f in self
            .findings
            .iter_mut()
            .filter(|f| f.is_fixable() && which(f))
        {
            f.message = format!("{}; {reason}", without_fix_note(&f.message));
            f.remedy = Remedy::ManualReview {
                reason: reason.to_string(),
                expression: None,
            };
            f.source = None;
        }
        self.edits.clear();
        self.patch.clear();
    }

    pub fn fixable(&self) -> usize {
        self.findings.iter().filter(|f| f.is_fixable()).count()
    }

    /// Whether the analysis' edits carry `f`'s fix: a fixable finding, safe or with unsafe
    /// fixes asked for.
    pub(crate) fn applies(&self, f: &Finding) -> bool {
        f.is_fixable() && (f.applicability == Applicability::Safe || self.unsafe_applied)
    }

    /// How many findings the edits fix.
    pub(crate) fn applied(&self) -> usize {
        self.findings.iter().filter(|f| self.applies(f)).count()
    }

    /// Fixable findings whose unsafe fix is held back.
    pub(crate) fn held_unsafe(&self) -> usize {
        self.fixable() - self.applied()
    }

    pub fn manual(&self) -> usize {
        self.findings.len() - self.fixable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fix taken back leaves a finding for a human whose message never says "fixed", in
    /// either spelling of the note on where the fix lands.
    #[test]
    fn withdrawn_fix_does_not_say_fixed() {
        for message in [
            "`enableSecretRotation` comes from a parameter that is not true; fixed at the \
             default value of parameter `rot`",
            "`enableSecretRotation` is 'false'; it must be 'true' (fixed at the default of \
             parameter `rot`; `rot` is used 2 times)",
        ] {
            let mut a = Analysis::default();
            let text = "x";
            let lines = crate::location::LineIndex::new(text);
            a.findings.push(Finding::placed(
                &lines,
                text,
                (0, 1),
                None,
                message.to_string(),
                Remedy::Fix,
                None,
            ));
            a.withdraw_fixes("make the change by hand", |_| true);
            let m = &a.findings[0].message;
            assert!(!m.contains("fixed"), "{m}");
            assert!(
                m.contains("not true") || m.contains("must be 'true'"),
                "{m}"
            );
            assert!(m.ends_with("; make the change by hand"), "{m}");
        }
    }
}
