//! `.bicepparam` files of scanned templates: a parameter file `using 'main.bicep'` that sets a
//! parameter the template's rotation setting reads (a [`Demand`]) to a failing literal gets
//! that literal replaced by `true` (for a `bool` parameter) or `'true'`, as an ARM parameter
//! file would. A value armfix cannot rewrite (`readEnvironmentVariable(…)`, a ternary, an
//! object…) is a manual-review finding that says what to write instead.
//!
//! Names match exactly: Bicep identifiers are case-sensitive, and `bicep build-params`
//! rejects a `param` the template does not declare in the same spelling, so `param
//! EnableSecretRotation = false` cannot set `enableSecretRotation` and is not touched.
//!
//! The JSON Patch is addressed like an ARM parameter file (`/parameters/NAME/value`, or
//! `/variables/NAME` when the value is a variable of the file), the shape
//! [`super::view::view`] gives a `.bicepparam` file.

use super::ast::{Doc, Kind, NodeId};
use super::lexer::{lex, Tok};
use super::{parser, render, view};
use crate::error::Error;
use crate::eval::bicep_origin::{BicepTree, Handle, Source};
use crate::finding::{manual_review_message, Analysis, Finding, FixSource, Quote, Remedy};
use crate::lang::arm::params::Demand;
use crate::location::LineIndex;
use crate::rule::ROTATION;
use json_patch::{PatchOperation, ReplaceOperation};
use jsonptr::PointerBuf;
use serde_json::Value;

/// The path in a `.bicepparam` file's top-level `using '…'` statement, as written (not
/// resolved). `None` without one, for `using none`, or when the file cannot be tokenised.
/// Only the tokens are read, so a file that does not parse further down still names its
/// template (and its analysis then reports the parse error).
pub(crate) fn using_target(text: &str) -> Option<String> {
    let (toks, _) = lex(text).ok()?;
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Punct("{" | "[" | "(") => depth += 1,
            Tok::Punct("}" | "]" | ")") => depth = depth.saturating_sub(1),
            Tok::Ident
                if depth == 0
                    && (i == 0 || t.newline_before)
                    && &text[t.start..t.end] == "using" =>
            {
                return match toks.get(i + 1).map(|n| &n.tok) {
                    Some(Tok::Str { value: Some(v) }) => Some(v.clone()),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    None
}

/// Plans the fixes of a `.bicepparam` file for the parameters its template needs to be true.
/// `Ok(None)` when the file has no `using` statement (it is not a parameter file). A base
/// file (`using none`) is planned like the files that `extends` it: its assignments are
/// theirs where they do not assign the parameter themselves (the demands are those of their
/// templates), so a failing value written in the base is fixed there, once for all of them.
pub(crate) fn analyze_params(text: &str, demands: &[Demand]) -> Result<Option<Analysis>, Error> {
    let doc = parser::parse(text)?;
    if !doc.is_params_file() {
        return Ok(None);
    }
    let mut p = ParamsPlanner {
        text,
        doc: &doc,
        tree: BicepTree::new(&doc, text, Vec::new()),
        lines: LineIndex::new(text),
        analysis: Analysis::default(),
    };
    for demand in demands {
        p.demand(demand)?;
    }
    p.analysis.findings.sort_by_key(|f| (f.start, f.end));
    Ok(Some(p.analysis))
}

/// Proves a `.bicepparam` fix: everything [`super::verify`] proves (bytes outside the edits
/// unchanged, the text parses, its ARM shape is the original's with the patch applied), and
/// the same demands find nothing fixable left in it and no new manual review.
pub(crate) fn verify_params(
    original: &str,
    analysis: &Analysis,
    fixed: &str,
    demands: &[Demand],
) -> Result<(), String> {
    super::verify(original, analysis, fixed)?;
    let again = analyze_params(fixed, demands)
        .map_err(|e| format!("the edited text cannot be re-checked: {e}"))?
        .ok_or("the edited text lost its `using` statement")?;
    crate::lang::checks::nothing_left(analysis, &again)
}

struct ParamsPlanner<'d> {
    text: &'d str,
    doc: &'d Doc,
    tree: BicepTree<'d>,
    lines: LineIndex,
    analysis: Analysis,
}

/// How true is written for a string parameter the Bicep template of `demand` declares: the
/// first of `'true'`, `'True'`, `'TRUE'` its type admits (an `@allowed(['False', 'True'])`
/// takes only `'True'`; PSRule compares ignoring case), `'true'` when the template is not
/// Bicep, cannot be read, or admits none (the proof then says why the fix is unsafe).
fn admitted_spelling(demand: &Demand) -> &'static str {
    let text = match &demand.template_fixed {
        Some(t) => Some(t.as_str().to_string()),
        None => crate::run::read::read_text(&demand.template_path),
    };
    let bicep = demand
        .template_path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bicep"));
    let Some(text) = text.filter(|_| bicep) else {
        return "true";
    };
    let Ok(doc) = parser::parse(&text) else {
        return "true";
    };
    let probe = crate::eval::bicep::Probe::new(&doc, &text);
    ["true", "True", "TRUE"]
        .into_iter()
        .find(|s| {
            probe.parameter_admits(
                &demand.parameter.name,
                &crate::eval::Value::Str((*s).into()),
            ) == Some(true)
        })
        .unwrap_or("true")
}

impl ParamsPlanner<'_> {
    fn demand(&mut self, demand: &Demand) -> Result<(), Error> {
        let name = demand.parameter.name.as_str();
        let mut set = self.doc.params.iter().filter(|p| p.name == name);
        let param = match (set.next(), set.next()) {
            (None, _) => return Ok(()),
            (Some(_), Some(again)) => {
                let offset = again.default.map_or(0, |d| self.doc.node(d).span.start);
                return Err(Error::source(
                    offset,
                    format!(
                        "parameter `{name}` is set twice: which value deploys is ambiguous, so \
                         armfix will not edit this file"
                    ),
                ));
            }
            (Some(p), None) => p,
        };
        let Some(value) = param.default else {
            return Ok(());
        };
        // Variables of the file are followed; `param` values are never defaults here.
        let (target, via) = self.tree.resolve(Handle::unfollowed(value));
        let mut pointer = vec!["parameters".to_string(), name.to_string(), "value".into()];
        let landing = via.last().cloned();
        if let Some(Source::Variable(v)) = &landing {
            pointer = vec!["variables".into(), v.clone()];
        }
        let path = PointerBuf::from_tokens(pointer).to_string();
        if self
            .analysis
            .findings
            .iter()
            .any(|f| f.pointer.as_deref() == Some(path.as_str()))
        {
            return Ok(());
        }
        let new = if demand.parameter.boolean {
            Value::Bool(true)
        } else {
            Value::String(admitted_spelling(demand).into())
        };
        let source = Some(FixSource::ParameterFile {
            name: name.to_string(),
            template: demand.template.clone(),
        });
        let was = self.span_text(target);
        let remedy = match &self.doc.node(target).kind {
            Kind::Bool(true) => return Ok(()),
            Kind::Str(s) if s.eq_ignore_ascii_case("true") => return Ok(()),
            Kind::Bool(false) | Kind::Null | Kind::Int | Kind::Str(_) => Remedy::Fix,
            _ => {
                let reason = self.why_manual(name, &demand.template, target, &landing, &new);
                Remedy::ManualReview {
                    reason,
                    expression: Some(was.to_string()),
                }
            }
        };
        let message = match &remedy {
            Remedy::Fix => format!(
                "parameter `{name}` sets `{ROTATION}` of {} to {}; it must be {}{}",
                demand.template,
                crate::finding::shorten(was),
                render::render_inline(&new),
                self.landing_note(&landing)
            ),
            Remedy::ManualReview { reason, .. } => manual_review_message(reason, was, Quote::Plain),
        };
        if remedy == Remedy::Fix {
            let edit = render::replace(self.text, self.doc, target, &new, true);
            let internal = |why: String| {
                Error::internal(
                    self.doc.node(target).span.start,
                    format!("cannot place the fix: {why}"),
                )
            };
            // A literal inside an expression (a branch of `c ? false : null`) rewrites the
            // expression's string.
            let op = match view::place(self.doc, target) {
                Some(view::Place {
                    pointer,
                    host: Some(host),
                }) => view::expression_op(
                    self.text,
                    self.doc,
                    host,
                    &pointer,
                    std::slice::from_ref(&edit),
                )
                .map_err(internal)?,
                _ => PatchOperation::Replace(ReplaceOperation {
                    path: PointerBuf::parse(&path)
                        .map_err(|e| internal(format!("bad pointer {path}: {e}")))?,
                    value: new,
                }),
            };
            self.analysis.patch.push(op);
            self.analysis.edits.push(edit);
        }
        let span = self.doc.node(target).span;
        self.analysis.findings.push(Finding::placed(
            &self.lines,
            self.text,
            (span.start, span.end),
            Some(path),
            message,
            remedy,
            source,
        ));
        Ok(())
    }

    fn span_text(&self, id: NodeId) -> &str {
        let s = self.doc.node(id).span;
        &self.text[s.start..s.end]
    }

    /// Why the value cannot be rewritten, and what to write instead.
    fn why_manual(
        &self,
        name: &str,
        template: &str,
        target: NodeId,
        landing: &Option<Source>,
        new: &Value,
    ) -> String {
        let want = render::render_inline(new);
        let from = match landing {
            Some(Source::Variable(v)) => format!(" (through variable `{v}`)"),
            _ => String::new(),
        };
        let what = match &self.doc.node(target).kind {
            Kind::Call { name: f, args } if f.ends_with("readEnvironmentVariable") => {
                let var = args.first().and_then(|a| match &self.doc.node(*a).kind {
                    Kind::Str(s) => Some(s.clone()),
                    _ => None,
                });
                let default = args.get(1).map(|a| self.span_text(*a));
                let mut advice = match var {
                    Some(v) => format!("set the environment variable `{v}` to {want}"),
                    None => format!("make the environment variable it reads {want}"),
                };
                if let Some(d) = default {
                    advice += &format!(
                        " and make the fallback {want} instead of {}",
                        crate::finding::shorten(d)
                    );
                }
                format!(
                    "is read from the environment with `readEnvironmentVariable(…)`, which armfix \
                     does not rewrite; {advice} wherever this file is deployed, or write \
                     `param {name} = {want}`"
                )
            }
            Kind::Call { name: f, .. } => format!(
                "is computed by `{f}(…)`, which armfix does not rewrite; make sure the result is \
                 {want}, or write `param {name} = {want}`"
            ),
            Kind::Ternary { .. } => format!(
                "is a conditional (`? :`) expression, which armfix does not rewrite; make each \
                 branch {want}, or write `param {name} = {want}`"
            ),
            Kind::Object(_) | Kind::Array(_) | Kind::For { .. } => {
                format!("is not a plain value; write `param {name} = {want}`")
            }
            _ => format!(
                "is an expression, which armfix does not rewrite; make sure it evaluates to \
                 {want}, or write `param {name} = {want}`"
            ),
        };
        format!("parameter `{name}`{from} feeds `{ROTATION}` of {template} but {what}")
    }

    /// Says where a fix lands when it is a variable of the file, and whether it is shared.
    fn landing_note(&self, landing: &Option<Source>) -> String {
        let Some(Source::Variable(v)) = landing else {
            return String::new();
        };
        let uses = self.doc.uses(v);
        if uses > 1 {
            format!(
                " (fixed in variable `{v}`; `{v}` is used {uses} times in this file: check its \
                 other uses want the change)"
            )
        } else {
            format!(" (fixed in variable `{v}`)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::provenance::ParamDemand;

    fn demand(name: &str, boolean: bool) -> Demand {
        Demand {
            parameter: ParamDemand {
                name: name.into(),
                boolean,
            },
            template: "main.bicep".into(),
            template_path: "main.bicep".into(),
            template_fixed: None,
        }
    }

    fn fix(text: &str, demands: &[Demand]) -> (Analysis, String) {
        let a = analyze_params(text, demands).unwrap().unwrap();
        let fixed = crate::edit::apply(text, &a.edits).unwrap();
        if !a.edits.is_empty() {
            verify_params(text, &a, &fixed, demands).unwrap();
        }
        (a, fixed)
    }

    #[test]
    fn using_statements() {
        assert_eq!(
            using_target("// c\nusing './main.bicep'\nparam x = 1\n").as_deref(),
            Some("./main.bicep")
        );
        assert_eq!(
            using_target("\u{feff}using 'a.json'\r\n").as_deref(),
            Some("a.json")
        );
        assert_eq!(using_target("using none\nparam x = 1\n"), None);
        assert_eq!(using_target("param x = {\n using: 'no'\n}\n"), None);
        assert_eq!(using_target("param x = 1\n"), None);
        // A later syntax error does not hide the template.
        assert_eq!(
            using_target("using 'm.bicep'\nparam = \n").as_deref(),
            Some("m.bicep")
        );
    }

    #[test]
    fn literals_are_fixed_in_the_demanded_type() {
        let text = "using 'main.bicep'\n\nparam a = false\nparam b = 'false'\nparam c = 'TRUE'\nparam d = null\nparam other = false\n";
        let demands = [
            demand("a", true),
            demand("b", false),
            demand("c", false),
            demand("d", true),
        ];
        let (a, fixed) = fix(text, &demands);
        assert_eq!(a.fixable(), 3);
        assert_eq!(a.manual(), 0);
        assert_eq!(
            fixed,
            "using 'main.bicep'\n\nparam a = true\nparam b = 'true'\nparam c = 'TRUE'\nparam d = true\nparam other = false\n"
        );
        assert_eq!(
            a.findings[0].pointer.as_deref(),
            Some("/parameters/a/value")
        );
        assert_eq!(
            a.findings[0].source,
            Some(FixSource::ParameterFile {
                name: "a".into(),
                template: "main.bicep".into()
            })
        );
        // The demand's type wins over the literal's: a string param set to `false`.
        let (_, fixed) = fix("using 'm.bicep'\nparam s = false\n", &[demand("s", false)]);
        assert_eq!(fixed, "using 'm.bicep'\nparam s = 'true'\n");
    }

    #[test]
    fn names_are_case_sensitive() {
        let text = "using 'main.bicep'\nparam EnableSecretRotation = false\n";
        let a = analyze_params(text, &[demand("enableSecretRotation", true)])
            .unwrap()
            .unwrap();
        assert!(a.findings.is_empty());
    }

    #[test]
    fn variables_are_followed() {
        let text = "using 'main.bicep'\nvar rot = 'false'\nparam r = rot\n";
        let (a, fixed) = fix(text, &[demand("r", false)]);
        assert_eq!(a.findings[0].pointer.as_deref(), Some("/variables/rot"));
        assert!(a.findings[0].message.contains("fixed in variable `rot`"));
        assert_eq!(
            fixed,
            "using 'main.bicep'\nvar rot = 'true'\nparam r = rot\n"
        );
    }

    #[test]
    fn expressions_need_review() {
        let text = "using 'main.bicep'\nparam a = readEnvironmentVariable('ROTATE', 'false')\nparam b = prod ? true : false\nparam c = {\n x: 1\n}\n";
        let demands = [demand("a", true), demand("b", true), demand("c", true)];
        let a = analyze_params(text, &demands).unwrap().unwrap();
        assert_eq!(a.manual(), 3);
        assert!(a.edits.is_empty() && a.patch.is_empty());
        let m = &a.findings[0].message;
        assert!(m.contains("environment variable `ROTATE` to true"), "{m}");
        assert!(m.contains("fallback true instead of 'false'"), "{m}");
        assert!(m.contains("`param a = true`"), "{m}");
        assert!(a.findings[1].message.contains("conditional"));
        assert!(a.findings[2].message.contains("not a plain value"));
    }

    #[test]
    fn duplicates_and_non_parameter_files() {
        let err = analyze_params(
            "using 'm.bicep'\nparam a = true\nparam a = false\n",
            &[demand("a", true)],
        )
        .unwrap_err();
        assert!(err.message.contains("set twice"));
        assert_eq!(
            err.offset,
            "using 'm.bicep'\nparam a = true\nparam a = ".len()
        );
        assert_eq!(
            analyze_params("param a bool = false\n", &[demand("a", true)]).unwrap(),
            None
        );
    }

    #[test]
    fn verification_uses_the_demands() {
        let text = "using 'm.bicep'\nparam a = false\nparam b = false\n";
        let a = analyze_params(text, &[demand("a", true)]).unwrap().unwrap();
        let fixed = crate::edit::apply(text, &a.edits).unwrap();
        assert!(verify_params(text, &a, &fixed, &[demand("a", true)]).is_ok());
        // Judged with a wider demand, `b` is still failing: the proof must refuse.
        let wider = [demand("a", true), demand("b", true)];
        assert!(verify_params(text, &a, &fixed, &wider).is_err());
    }
}
