//! Fixture-driven tests: every template in `tests/fixtures/arm/` is run through the binary
//! (`check`, `fix --dry-run`, `patch`) and the output is snapshotted in `snapshots/`. Beside
//! the snapshot, each fixture's expectations are asserted in code: how many findings of each
//! kind, and for every fix that the new text re-parses, equals `json_patch::patch` of the
//! original, leaves every byte outside the edits alone, keeps the file's style, and that a
//! second run finds nothing to fix.

use crate::util::{armfix, corpus_entries, fixtures, line_col, parse_json, run_cmd, visible, Run};
use armfix::edit::Edit;
use armfix::finding::{Analysis, Remedy};
use armfix::lang::FileKind;
use armfix::output::present::{self, Paint};
use armfix::run::engine::{self, Outcome};
use similar::{ChangeTag, TextDiff};

/// What a fixture must produce.
#[derive(Debug, Clone, Copy)]
struct Expect {
    outcome: Want,
    /// The fix keeps every line count: the edited objects are on one line.
    same_lines: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// A template with this many fixable and manual-review findings.
    Findings { fixable: usize, manual: usize },
    /// Not a template armfix acts on.
    Skipped,
    /// An error at this line and column.
    Error { line: usize, column: usize },
}

fn fixes(n: usize) -> Expect {
    mixed(n, 0)
}

fn review(n: usize) -> Expect {
    mixed(0, n)
}

fn mixed(fixable: usize, manual: usize) -> Expect {
    Expect {
        outcome: Want::Findings { fixable, manual },
        same_lines: false,
    }
}

fn clean() -> Expect {
    mixed(0, 0)
}

fn skipped() -> Expect {
    Expect {
        outcome: Want::Skipped,
        same_lines: false,
    }
}

fn error(line: usize, column: usize) -> Expect {
    Expect {
        outcome: Want::Error { line, column },
        same_lines: false,
    }
}

impl Expect {
    fn on_one_line(mut self) -> Self {
        self.same_lines = true;
        self
    }
}

macro_rules! fixtures {
    ($($test:ident: $file:literal => $expect:expr;)*) => {
        /// Every fixture this file knows; a fixture on disk that is not listed fails a test.
        const LISTED: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $test() {
                run($file, $expect);
            }
        )*
    };
}

fixtures! {
    indent_2_spaces: "indent-2-spaces.json" => fixes(1);
    indent_4_spaces: "indent-4-spaces.json" => fixes(2);
    indent_tabs: "indent-tabs.json" => fixes(1);
    crlf: "crlf.json" => fixes(1);
    utf8_bom: "utf8-bom.json" => fixes(1);
    crlf_bom_no_final_newline: "crlf-bom-no-final-newline.json" => fixes(1);
    no_final_newline: "no-final-newline.json" => fixes(1);
    comment_line_end: "comment-line-end.json" => fixes(1);
    comment_block_line_end: "comment-block-line-end.json" => fixes(1);
    comment_inside_config: "comment-inside-config.json" => fixes(1);
    comment_before_value: "comment-before-value.json" => fixes(1).on_one_line();
    crlf_line_comment: "crlf-line-comment.json" => fixes(1);
    one_line_compact: "one-line-compact.json" => fixes(1).on_one_line();
    one_line_spaced: "one-line-spaced.json" => fixes(1).on_one_line();
    minified_one_line: "minified-one-line.json" => fixes(1).on_one_line();
    key_case_variants: "key-case-variants.json" => fixes(3);
    type_case_variant: "type-case-variant.json" => fixes(1);
    enabled_string_true: "enabled-string-true.json" => fixes(1);
    enabled_expression: "enabled-expression.json" => fixes(1);
    value_false: "value-false.json" => fixes(1).on_one_line();
    value_string_false: "value-string-false.json" => fixes(1).on_one_line();
    value_null: "value-null.json" => fixes(1).on_one_line();
    config_null: "config-null.json" => fixes(1);
    config_empty_one_line: "config-empty-one-line.json" => fixes(1).on_one_line();
    config_empty_multi_line: "config-empty-multi-line.json" => fixes(1);
    config_empty_with_comment: "config-empty-with-comment.json" => fixes(1);
    nested_deployment: "nested-deployment.json" => fixes(2);
    symbolic_resources: "symbolic-resources.json" => fixes(1).on_one_line();
    existing_cluster: "existing-cluster.json" => fixes(1);
    several_clusters: "several-clusters.json" => mixed(3, 1);
    // Since issue 3 the add-on built by `if(.., createObject(..), null())` is fixed inside the
    // expression and `variables('props')` is followed (no add-on there): 1 fix, 3 reviews.
    manual_review_expressions: "manual-review-expressions.json" => mixed(1, 3);
    untraceable_expressions: "untraceable-expressions.json" => review(3);
    addon_disabled: "addon-disabled.json" => clean();
    addon_absent: "addon-absent.json" => clean();
    already_compliant: "already-compliant.json" => clean();
    numbers_and_escapes: "numbers-and-escapes.json" => fixes(1);
    subscription_scope: "subscription-scope.json" => fixes(1);
    parameters_file: "parameters-file.json" => skipped();
    not_a_template: "not-a-template.json" => skipped();
    invalid_trailing_comma: "invalid-trailing-comma.json" => error(10, 11);
    duplicate_key_case: "duplicate-key-case.json" => error(14, 24);
}

#[test]
fn every_fixture_is_listed() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures("arm"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = LISTED.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "fixtures on disk and fixtures listed differ"
    );
}

/// Runs the binary in the fixtures folder; returns a transcript for the snapshot.
fn transcript(args: &[&str], file: &str) -> (i32, String, String, String) {
    let Run {
        code,
        stdout,
        stderr,
    } = run_cmd(armfix().args(args).arg(file).current_dir(fixtures("arm")));
    let mut t = format!("$ armfix {} {file}\nexit: {code}\n", args.join(" "));
    if !stdout.is_empty() {
        t += &format!("--- stdout\n{}", visible(&stdout));
        if !stdout.ends_with('\n') {
            t += "\n";
        }
    }
    if !stderr.is_empty() {
        t += &format!("--- stderr\n{}", visible(&stderr));
    }
    (code, stdout, stderr, t)
}

fn run(file: &str, expect: Expect) {
    let bytes = std::fs::read(fixtures("arm").join(file)).unwrap();
    let outcome = engine::process_bytes(bytes.clone(), FileKind::Json);

    let (check_code, check_out, check_err, check_t) = transcript(&["check"], file);
    let (fix_code, fix_out, fix_err, fix_t) =
        transcript(&["fix", "--dry-run", "--color", "never"], file);
    let (patch_code, patch_out, _, patch_t) = transcript(&["patch"], file);

    match (expect.outcome, &outcome) {
        (Want::Skipped, Outcome::Skipped) => {
            assert_eq!(check_code, 0);
            assert_eq!(fix_code, 0);
            assert_eq!(patch_out, "[]\n");
            assert_eq!(fix_err, "No findings in 1 file.\n");
            assert!(
                check_out.is_empty() && check_err == "No findings in 1 file.\n",
                "a skipped file is read, without findings: {check_out}{check_err}"
            );
        }
        (Want::Error { line, column }, Outcome::Error(e)) => {
            assert_eq!(e.line_col, Some((line, column)), "{}", e.message);
            assert_eq!((check_code, fix_code, patch_code), (2, 2, 2));
            let place = format!("{file}:{line}:{column}: ");
            assert!(fix_err.contains(&place), "{fix_err}");
            assert!(fix_out.is_empty(), "no diff for a file in error");
        }
        (
            Want::Findings { fixable, manual },
            Outcome::Analysed {
                original,
                analysis,
                fixed,
            },
        ) => {
            assert_eq!(
                (analysis.fixable(), analysis.manual()),
                (fixable, manual),
                "findings: {:#?}",
                analysis.findings
            );
            let any = fixable + manual > 0;
            assert_eq!(check_code, i32::from(any), "check's exit code");
            assert_eq!(fix_code, i32::from(any), "dry-run's exit code");
            assert_eq!(patch_code, 0);
            // The binary prints the library's patch.
            let printed: serde_json::Value = serde_json::from_str(&patch_out).unwrap();
            assert_eq!(printed, serde_json::to_value(&analysis.patch).unwrap());
            assert_eq!(analysis.patch.len(), fixable, "one operation per fix");
            check_findings(file, original, analysis);
            match fixed {
                Some(fixed) => {
                    assert!(fixable > 0);
                    // The binary shows the library's diff.
                    let diff = present::diff(file, original, fixed, Paint(false));
                    assert!(fix_out.contains(&diff), "dry-run shows the diff");
                    check_fix(original, analysis, fixed, expect);
                }
                None => {
                    assert_eq!(fixable, 0, "fixable findings come with a fix");
                    assert!(analysis.edits.is_empty() && analysis.patch.is_empty());
                    assert!(!fix_out.contains("--- a/"), "no diff without a fix");
                }
            }
        }
        (want, got) => panic!("{file}: wanted {want:?}, got {got:#?}"),
    }

    let name = format!("arm__{}", file.trim_end_matches(".json"));
    let mut header = format!("input: {}\n", describe(&String::from_utf8_lossy(&bytes)));
    if let Outcome::Analysed {
        fixed: Some(fixed), ..
    } = &outcome
    {
        header += &format!("fixed: {}\n", describe(fixed));
    }
    let snapshot = format!("{header}\n{check_t}\n{fix_t}\n{patch_t}");
    snapshot!(
        name,
        snapshot,
        description => format!("tests/fixtures/arm/{file}: check, fix --dry-run and patch (CR shown as ␍, tab as ␉)")
    );
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The invisible traits of a text, for the snapshot header.
fn describe(text: &str) -> String {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    let eol = match (crlf, lf) {
        (0, 0) => "no line break",
        (_, 0) => "CRLF",
        (0, _) => "LF",
        _ => "mixed CRLF and LF",
    };
    format!(
        "{} lines, {eol}, {}BOM, {} final newline",
        text.lines().count(),
        if text.starts_with('\u{feff}') {
            ""
        } else {
            "no "
        },
        if text.ends_with('\n') { "with" } else { "no" },
    )
}

/// Findings point where they say: line and column of their start, spans that hold one JSON
/// value, pointers that exist in the document.
fn check_findings(file: &str, original: &str, analysis: &Analysis) {
    let doc = parse_json(original).expect("fixture parses as JSON with comments");
    for f in &analysis.findings {
        assert_eq!(f.rule, "Azure.AKS.SecretStoreRotation");
        assert_eq!(
            (f.line, f.column),
            line_col(original, f.start),
            "{file}: {f:?}"
        );
        let pointer = f.pointer.as_deref().expect("an ARM finding has a pointer");
        let span = &original[f.start..f.end];
        if let Err(e) = parse_json(span) {
            // A finding traced into an expression points at the term inside the JSON string
            // that its pointer leads to.
            let host = doc
                .pointer(pointer)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| {
                    panic!("{file}: span {span:?} is not a value ({e}) nor inside a string")
                });
            assert!(
                host.contains(span),
                "{file}: span {span:?} is not inside {host:?}"
            );
        }
        assert!(
            doc.pointer(pointer).is_some(),
            "{file}: pointer {pointer} is not in the document"
        );
        if let Remedy::ManualReview { expression, reason } = &f.remedy {
            assert!(f.message.contains("manual review"), "{}", f.message);
            assert!(!reason.is_empty());
            if let Some(expression) = expression {
                assert!(expression.starts_with('[') && expression.ends_with(']'));
                // The pointer leads to the expression in the cluster; the expression named
                // is where tracing stopped (the same string, or one it leads to).
                let at = doc.pointer(pointer).and_then(|v| v.as_str());
                assert!(
                    at.is_some_and(|s| s.starts_with('[')),
                    "the pointer leads to an expression: {at:?}"
                );
            }
        }
    }
}

/// The properties every fix must have.
fn check_fix(original: &str, analysis: &Analysis, fixed: &str, expect: Expect) {
    // 1. The new text parses, with armfix's parser and with an independent strict one.
    armfix::lang::arm::jsonc::parse(fixed).expect("armfix's parser reads the fixed text");
    let got = parse_json(fixed).expect("the fixed text is JSON (with comments)");

    // 2. It is exactly the JSON Patch applied to the original, key order included.
    let mut want = parse_json(original).unwrap();
    json_patch::patch(&mut want, &analysis.patch).expect("the patch applies");
    assert_eq!(got, want);
    assert_eq!(
        serde_json::to_string(&got).unwrap(),
        serde_json::to_string(&want).unwrap(),
        "key order"
    );

    // 3. Every byte outside the edited ranges is unchanged, and an edit only ever replaces
    //    one value of a finding (inserts touch nothing).
    let mut edits: Vec<&Edit> = analysis.edits.iter().collect();
    edits.sort_by_key(|e| (e.start, e.end));
    let (mut pos, mut at) = (0, 0);
    for e in &edits {
        let keep = &original[pos..e.start];
        assert_eq!(&fixed[at..at + keep.len()], keep, "bytes before edit {e:?}");
        at += keep.len();
        assert_eq!(&fixed[at..at + e.replacement.len()], e.replacement);
        at += e.replacement.len();
        if e.end > e.start {
            let old = &original[e.start..e.end];
            // A replacement covers one JSON value (a finding's, or the source it was traced
            // to: a variable, a parameter default) or a term inside an expression string.
            assert!(
                parse_json(old).is_ok() || !old.contains('"'),
                "a replacement covers one value: {old:?}"
            );
            assert!(!old.contains('\n') && !old.contains("/*") && !old.contains("//"));
        }
        pos = e.end;
    }
    assert_eq!(&fixed[at..], &original[pos..], "bytes after the last edit");

    // 4. Minimal diff: each edit changes at most one existing line.
    let removed = TextDiff::from_lines(original, fixed)
        .iter_all_changes()
        .filter(|c| c.tag() == ChangeTag::Delete)
        .count();
    assert!(
        removed <= edits.len(),
        "{removed} lines changed by {edits:?}"
    );
    if expect.same_lines {
        assert_eq!(
            original.lines().count(),
            fixed.lines().count(),
            "one-line objects stay on one line"
        );
    }

    // 5. The file's style: BOM, final newline, line endings, indentation characters.
    assert_eq!(
        original.starts_with('\u{feff}'),
        fixed.starts_with('\u{feff}'),
        "BOM"
    );
    assert_eq!(
        original.ends_with('\n'),
        fixed.ends_with('\n'),
        "final newline"
    );
    let lone_lf = |t: &str| t.match_indices('\n').any(|(i, _)| !t[..i].ends_with('\r'));
    if !lone_lf(original) {
        assert!(!lone_lf(fixed), "CRLF stays CRLF");
    }
    if !original.contains('\r') {
        assert!(!fixed.contains('\r'), "LF stays LF");
    }
    let indents = |t: &str| -> (bool, bool) {
        t.lines().fold((false, false), |(tab, space), l| {
            let ws: String = l.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            (tab || ws.contains('\t'), space || ws.contains(' '))
        })
    };
    assert_eq!(indents(original), indents(fixed), "indentation characters");
    let step = |t: &str| {
        t.lines()
            .map(|l| l.bytes().take_while(|b| *b == b' ').count())
            .filter(|n| *n > 0)
            .fold(0, gcd)
    };
    let unit = step(original);
    if unit > 0 {
        let new_lines = TextDiff::from_lines(original, fixed)
            .iter_all_changes()
            .filter(|c| c.tag() == ChangeTag::Insert)
            .map(|c| c.value().bytes().take_while(|b| *b == b' ').count())
            .collect::<Vec<_>>();
        assert!(
            new_lines.iter().all(|n| n % unit == 0),
            "new lines are indented in steps of {unit} spaces: {new_lines:?}"
        );
    }
    for e in &edits {
        assert!(!e.replacement.contains("//") && !e.replacement.contains("/*"));
    }

    // 6. Idempotent: the fixed text has nothing left to fix.
    match engine::process_text(fixed.to_string(), FileKind::Json) {
        Outcome::Analysed {
            analysis: again,
            fixed: none,
            ..
        } => {
            assert_eq!(again.fixable(), 0, "{:#?}", again.findings);
            assert_eq!(again.manual(), analysis.manual(), "manual findings remain");
            assert!(again.patch.is_empty() && again.edits.is_empty() && none.is_none());
        }
        other => panic!("the fixed text is not analysed again: {other:#?}"),
    }
}

/// Number spellings and string escapes far from the edit survive byte for byte (also
/// covered by the generic check; spelled out here for the record).
#[test]
fn numbers_and_escapes_keep_their_spelling() {
    let original = crate::util::read(fixtures("arm").join("numbers-and-escapes.json"));
    let Outcome::Analysed {
        fixed: Some(fixed), ..
    } = engine::process_text(original.clone(), FileKind::Json)
    else {
        panic!("numbers-and-escapes.json needs a fix");
    };
    for spelled in [
        "\"ratio\": 1.50,",
        "\"big\": 1E3,",
        "\"small\": -2.5e-3,",
        "\"zero\": 0.0,",
        r#""caf\u00e9 d\u00E9j\u00e0""#,
        r#""https:\/\/example.com\/aks""#,
        r#""say \"hi\"\tthen \\ leave""#,
        "\"[[not an expression]\"",
        r#""\ud83d\ude80 launch""#,
        "\"Zürich ✓\"",
        "\"cost\": 1.50,",
        "\"limit\": 1E3,",
        r#""\u0041KS team""#,
        "\"maxPods\": 1.1e2",
    ] {
        assert!(original.contains(spelled), "fixture holds {spelled}");
        assert_eq!(
            fixed.matches(spelled).count(),
            original.matches(spelled).count(),
            "{spelled}"
        );
    }
}

/// The shared corpus of real templates (not part of the repository) gets the same checks
/// when it is present: every fix verifies, and a second pass finds nothing.
#[test]
fn corpus_fixes_verify_when_present() {
    let Some(paths) = corpus_entries("arm") else {
        return;
    };
    for path in paths {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if let Outcome::Analysed {
            original,
            analysis,
            fixed: Some(fixed),
        } = engine::process_bytes(bytes, FileKind::Json)
        {
            check_findings(&path.display().to_string(), &original, &analysis);
            check_fix(&original, &analysis, &fixed, fixes(analysis.fixable()));
        }
    }
}
