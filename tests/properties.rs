//! Property tests: templates generated in varied formatting (indent unit, tabs, CRLF, BOM,
//! final newline or none, comments, one-line objects, colon and comma spacing, key case,
//! clusters nested in deployments, languageVersion 2.0) holding clusters in every failing
//! state, beside passing, disabled, existing and expression-driven ones. For each:
//! - the fixed text parses;
//! - its value equals the JSON Patch applied to the input, and equals the fix computed
//!   here on the generator's own model (independently of armfix's patch);
//! - it passes the rule, and a second run finds nothing to fix and changes nothing;
//! - it differs from the input only inside the failing clusters' add-on objects (spans the
//!   generator recorded while printing), and new text follows the file's style: CRLF where
//!   the file uses CRLF, no line break inside a one-line object, the file's indent unit.
//!
//! Bounded to a few hundred cases so the whole file runs in seconds.

use armfix::lang::arm::jsonc;
use armfix::lang::FileKind;
use armfix::run::engine::{self, Outcome};
use proptest::prelude::*;
use serde_json::Value;

const SCHEMAS: [&str; 3] = [
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
    "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#",
];

// ---------------------------------------------------------------------------------------
// A tiny JSON model that knows how it is laid out.

#[derive(Debug, Clone)]
enum J {
    /// Members, layout, and a mark: the printer records the object's span under it.
    Obj(Vec<(String, J)>, Layout, Option<usize>),
    Arr(Vec<J>, bool),
    /// A scalar exactly as written (`1.50`, `"a\"b"`, `true`).
    Raw(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    Lines,
    OneLine,
    /// An empty object written over two lines: `{` newline `}`.
    OpenEmpty,
}

fn s(text: &str) -> J {
    J::Raw(serde_json::to_string(text).unwrap())
}

fn obj(members: Vec<(&str, J)>) -> J {
    J::Obj(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        Layout::Lines,
        None,
    )
}

#[derive(Debug, Clone)]
struct Style {
    indent: &'static str,
    crlf: bool,
    bom: bool,
    final_newline: bool,
    comments: bool,
    colon: &'static str,
    /// One-line objects: after the comma, and inside the braces.
    sep: &'static str,
    pad: &'static str,
    minified: bool,
}

struct Printer<'s> {
    out: String,
    style: &'s Style,
    marks: Vec<(usize, usize, bool)>,
    counter: usize,
}

impl Printer<'_> {
    fn eol(&self) -> &'static str {
        if self.style.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }

    fn tick(&mut self) -> usize {
        self.counter += 1;
        self.counter
    }

    fn print(&mut self, j: &J, depth: usize, one_line: bool) {
        match j {
            J::Raw(r) => self.out += r,
            J::Arr(items, flat) => {
                let flat = one_line || *flat || items.is_empty();
                self.out += "[";
                for (i, item) in items.iter().enumerate() {
                    if flat {
                        if i > 0 {
                            self.out += ",";
                            self.out += self.style.sep;
                        }
                    } else {
                        if i > 0 {
                            self.out += ",";
                        }
                        self.out += self.eol();
                        self.out += &self.style.indent.repeat(depth + 1);
                    }
                    self.print(item, depth + 1, flat);
                }
                if !flat {
                    self.out += self.eol();
                    self.out += &self.style.indent.repeat(depth);
                }
                self.out += "]";
            }
            J::Obj(members, layout, mark) => {
                let start = self.out.len();
                let flat = one_line || *layout == Layout::OneLine;
                if members.is_empty() {
                    if *layout == Layout::OpenEmpty && !flat {
                        self.out += "{";
                        self.out += self.eol();
                        self.out += &self.style.indent.repeat(depth);
                        self.out += "}";
                    } else {
                        self.out += "{}";
                    }
                } else if flat {
                    self.out += "{";
                    self.out += self.style.pad;
                    for (i, (k, v)) in members.iter().enumerate() {
                        if i > 0 {
                            self.out += ",";
                            self.out += self.style.sep;
                        }
                        self.out += &serde_json::to_string(k).unwrap();
                        self.out += self.style.colon;
                        if self.style.comments && self.tick() % 4 == 0 {
                            self.out += "/* c */ ";
                        }
                        self.print(v, depth + 1, true);
                    }
                    self.out += self.style.pad;
                    self.out += "}";
                } else {
                    self.out += "{";
                    let inner = self.style.indent.repeat(depth + 1);
                    for (i, (k, v)) in members.iter().enumerate() {
                        self.out += self.eol();
                        if self.style.comments && i == 0 && depth % 2 == 0 {
                            self.out += &inner;
                            self.out += "// a comment on its own line";
                            self.out += self.eol();
                        }
                        self.out += &inner;
                        self.out += &serde_json::to_string(k).unwrap();
                        self.out += self.style.colon;
                        self.print(v, depth + 1, false);
                        if i + 1 < members.len() {
                            self.out += ",";
                        }
                        if self.style.comments && self.tick() % 3 == 0 {
                            self.out += " // trailing";
                        }
                    }
                    self.out += self.eol();
                    self.out += &self.style.indent.repeat(depth);
                    self.out += "}";
                }
                if let Some(m) = mark {
                    if self.marks.len() <= *m {
                        self.marks.resize(*m + 1, (0, 0, false));
                    }
                    self.marks[*m] = (start, self.out.len(), flat);
                }
            }
        }
    }
}

/// The whole document, and the spans of the marked objects.
fn render(doc: &J, style: &Style) -> (String, Vec<(usize, usize, bool)>) {
    let mut p = Printer {
        out: String::new(),
        style,
        marks: Vec::new(),
        counter: 0,
    };
    if style.bom {
        p.out += "\u{feff}";
    }
    p.print(doc, 0, style.minified);
    if style.final_newline {
        p.out += p.eol();
    }
    (p.out, p.marks)
}

/// The model's value, with no formatting: what the text must parse to.
fn value(doc: &J) -> Value {
    let plain = Style {
        indent: "",
        crlf: false,
        bom: false,
        final_newline: false,
        comments: false,
        colon: ":",
        sep: "",
        pad: "",
        minified: true,
    };
    serde_json::from_str(&render(doc, &plain).0).unwrap()
}

// ---------------------------------------------------------------------------------------
// Clusters in every state.

#[derive(Debug, Clone)]
enum State {
    NoConfig,
    EmptyConfig(bool),
    OtherKeys,
    NullConfig,
    Bad(&'static str),
    Pass(&'static str),
    Disabled,
    Review,
}

impl State {
    fn fails(&self) -> bool {
        !matches!(self, State::Pass(_) | State::Disabled | State::Review)
    }
}

#[derive(Debug, Clone)]
struct Cluster {
    state: State,
    enabled: &'static str,
    type_name: &'static str,
    keys: [&'static str; 5],
    one_line_addon: bool,
    one_line_cluster: bool,
    existing: bool,
    nesting: usize,
    extras: usize,
}

impl Cluster {
    /// Whether armfix must fix it.
    fn fixable(&self) -> bool {
        self.state.fails() && !self.existing
    }
}

fn failing_state() -> impl Strategy<Value = State> {
    prop_oneof![
        Just(State::NoConfig),
        any::<bool>().prop_map(State::EmptyConfig),
        Just(State::OtherKeys),
        Just(State::NullConfig),
        prop::sample::select(vec![
            "\"false\"",
            "false",
            "null",
            "0",
            "\"no\"",
            "{}",
            "[]",
            "\"[[literal]\""
        ])
        .prop_map(State::Bad),
    ]
}

fn any_state() -> impl Strategy<Value = State> {
    prop_oneof![
        4 => failing_state(),
        1 => prop::sample::select(vec!["\"true\"", "\"TRUE\"", "true"]).prop_map(State::Pass),
        1 => Just(State::Disabled),
        1 => Just(State::Review),
    ]
}

fn cluster(state: impl Strategy<Value = State>, existing: bool) -> impl Strategy<Value = Cluster> {
    (
        state,
        prop::sample::select(vec![
            "true",
            "\"true\"",
            "\"True\"",
            "\"[parameters('csi')]\"",
        ]),
        prop::sample::select(vec![
            "Microsoft.ContainerService/managedClusters",
            "microsoft.containerservice/managedclusters",
            "Microsoft.ContainerService/ManagedClusters",
        ]),
        (
            prop::sample::select(vec!["properties", "Properties"]),
            prop::sample::select(vec!["addonProfiles", "AddonProfiles", "addonprofiles"]),
            prop::sample::select(vec![
                "azureKeyvaultSecretsProvider",
                "azureKeyVaultSecretsProvider",
                "AzureKeyvaultSecretsProvider",
            ]),
            prop::sample::select(vec!["config", "Config"]),
            prop::sample::select(vec![
                "enableSecretRotation",
                "EnableSecretRotation",
                "enablesecretrotation",
            ]),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(if existing { 0.2 } else { 0.0 }),
        ),
        0usize..3,
        0usize..3,
    )
        .prop_map(
            |(state, enabled, type_name, keys, (ola, olc, existing), nesting, extras)| Cluster {
                state,
                enabled,
                type_name,
                keys: [keys.0, keys.1, keys.2, keys.3, keys.4],
                one_line_addon: ola,
                one_line_cluster: olc && ola,
                existing,
                nesting,
                extras,
            },
        )
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop::sample::select(vec!["  ", "    ", "\t", " "]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![": ", ":", " : "]),
        prop::sample::select(vec![" ", ""]),
        prop::sample::select(vec![" ", ""]),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(indent, crlf, bom, final_newline, comments, colon, sep, pad, minified)| Style {
                indent,
                crlf,
                bom,
                final_newline,
                comments,
                colon,
                sep,
                pad,
                minified,
            },
        )
}

#[derive(Debug, Clone)]
struct Doc {
    style: Style,
    schema: &'static str,
    lv2: bool,
    clusters: Vec<Cluster>,
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        style(),
        prop::sample::select(SCHEMAS.to_vec()),
        any::<bool>(),
        cluster(failing_state(), false),
        prop::collection::vec(cluster(any_state(), true), 0..4),
    )
        .prop_map(|(style, schema, lv2, first, rest)| {
            let mut clusters = vec![first];
            clusters.extend(rest);
            Doc {
                style,
                schema,
                lv2,
                clusters,
            }
        })
}

/// Scalars with spellings armfix must keep: numbers, escapes, non-ASCII.
fn extra(i: usize) -> (String, J) {
    let vals = [
        "1.50",
        "1E3",
        "-0",
        "\"a\\\"b\\\\c\\u00e9\"",
        "\"caf\u{e9} \u{6f22}\"",
        "[1, 2]",
    ];
    (format!("x{i}"), J::Raw(vals[i % vals.len()].to_string()))
}

/// The add-on object of a cluster, before or after the fix.
fn addon(c: &Cluster, mark: usize, fixed: bool) -> J {
    let [_, _, _, config_key, rot_key] = c.keys;
    let mut m: Vec<(String, J)> = vec![("enabled".into(), J::Raw(c.enabled.into()))];
    let fix = fixed && c.fixable();
    let rotation_true = || vec![("enableSecretRotation".to_string(), s("true"))];
    let one = |members| J::Obj(members, Layout::Lines, None);
    match &c.state {
        State::NoConfig => {
            if fix {
                m.push(("config".into(), one(rotation_true())));
            }
        }
        State::EmptyConfig(open) => {
            let layout = if *open {
                Layout::OpenEmpty
            } else {
                Layout::Lines
            };
            let inner = if fix { rotation_true() } else { vec![] };
            m.push((config_key.into(), J::Obj(inner, layout, None)));
        }
        State::OtherKeys => {
            let mut inner = vec![("rotationPollInterval".to_string(), s("2m"))];
            if fix {
                inner.extend(rotation_true());
            }
            m.push((config_key.into(), one(inner)));
        }
        State::NullConfig => {
            let v = if fix {
                one(rotation_true())
            } else {
                J::Raw("null".into())
            };
            m.push((config_key.into(), v));
        }
        State::Bad(raw) => {
            let v = if fix {
                s("true")
            } else {
                J::Raw(raw.to_string())
            };
            m.push((
                config_key.into(),
                one(vec![
                    (rot_key.to_string(), v),
                    ("rotationPollInterval".to_string(), s("2m")),
                ]),
            ));
        }
        State::Pass(raw) => m.push((
            config_key.into(),
            one(vec![(rot_key.to_string(), J::Raw(raw.to_string()))]),
        )),
        State::Disabled => m[0].1 = J::Raw("false".into()),
        State::Review => m.push((config_key.into(), s("[variables('csiConfig')]"))),
    }
    let layout = if c.one_line_addon {
        Layout::OneLine
    } else {
        Layout::Lines
    };
    J::Obj(m, layout, Some(mark))
}

fn cluster_json(c: &Cluster, mark: usize, fixed: bool) -> J {
    let [props, profiles, addon_key, _, _] = c.keys;
    let mut members: Vec<(String, J)> = vec![
        ("type".into(), s(c.type_name)),
        ("apiVersion".into(), s("2024-02-01")),
        ("name".into(), s(&format!("aks{mark}"))),
    ];
    if c.existing {
        members.push(("existing".into(), J::Raw("true".into())));
    }
    members.extend((0..c.extras).map(extra));
    let addon_profiles = J::Obj(
        vec![
            (
                "omsagent".into(),
                J::Obj(
                    vec![("enabled".into(), J::Raw("false".into()))],
                    Layout::Lines,
                    None,
                ),
            ),
            (addon_key.into(), addon(c, mark, fixed)),
        ],
        Layout::Lines,
        None,
    );
    members.push((
        props.into(),
        J::Obj(
            vec![
                ("dnsPrefix".into(), s("aks")),
                (profiles.into(), addon_profiles),
            ],
            Layout::Lines,
            None,
        ),
    ));
    let layout = if c.one_line_cluster {
        Layout::OneLine
    } else {
        Layout::Lines
    };
    let mut resource = J::Obj(members, layout, None);
    for level in 0..c.nesting {
        resource = obj(vec![
            ("type", s("Microsoft.Resources/deployments")),
            ("apiVersion", s("2022-09-01")),
            ("name", s(&format!("nested{mark}-{level}"))),
            (
                "properties",
                obj(vec![
                    ("mode", s("Incremental")),
                    (
                        "template",
                        obj(vec![
                            ("$schema", s(SCHEMAS[0])),
                            ("contentVersion", s("1.0.0.0")),
                            ("resources", J::Arr(vec![resource], false)),
                        ]),
                    ),
                ]),
            ),
        ]);
    }
    resource
}

fn document(d: &Doc, fixed: bool) -> J {
    let storage = obj(vec![
        ("type", s("Microsoft.Storage/storageAccounts")),
        ("apiVersion", s("2023-01-01")),
        ("name", s("[parameters('name')]")),
        (
            "sku",
            J::Obj(
                vec![("name".into(), s("Standard_LRS"))],
                Layout::OneLine,
                None,
            ),
        ),
    ]);
    let clusters: Vec<J> = d
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| cluster_json(c, i, fixed))
        .collect();
    let mut top = vec![
        ("$schema".to_string(), s(d.schema)),
        ("contentVersion".to_string(), s("1.0.0.0")),
    ];
    if d.lv2 {
        top.push(("languageVersion".into(), s("2.0")));
    }
    top.push((
        "parameters".into(),
        obj(vec![(
            "name",
            obj(vec![("type", s("string")), ("defaultValue", s("st1"))]),
        )]),
    ));
    let resources = if d.lv2 {
        let mut m = vec![("storage".to_string(), storage)];
        m.extend(
            clusters
                .into_iter()
                .enumerate()
                .map(|(i, c)| (format!("aks{i}"), c)),
        );
        J::Obj(m, Layout::Lines, None)
    } else {
        let mut items = vec![storage];
        items.extend(clusters);
        J::Arr(items, false)
    };
    top.push(("resources".into(), resources));
    top.push((
        "outputs".into(),
        obj(vec![(
            "n",
            obj(vec![("type", s("int")), ("value", J::Raw("1E3".into()))]),
        )]),
    ));
    J::Obj(top, Layout::Lines, None)
}

fn ordered(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

fn check(d: &Doc) -> Result<(), TestCaseError> {
    let (text, spans) = render(&document(d, false), &d.style);
    let want = value(&document(d, true));
    let fixable = d.clusters.iter().filter(|c| c.fixable()).count();

    let Outcome::Analysed {
        original,
        analysis,
        fixed,
    } = engine::process_text(text.clone(), FileKind::Json)
    else {
        return Err(TestCaseError::fail("not analysed"));
    };
    prop_assert_eq!(&original, &text);
    prop_assert_eq!(analysis.fixable(), fixable, "{:#?}", analysis.findings);
    let fixed = fixed.ok_or_else(|| TestCaseError::fail("nothing fixed"))?;

    // It parses, to the patch applied to the input, and to the fix made on the model.
    let got = jsonc::parse(&fixed)
        .map_err(|e| TestCaseError::fail(format!("{e:?}\n{fixed}")))?
        .to_value();
    let mut patched = jsonc::parse(&text).unwrap().to_value();
    json_patch::patch(&mut patched, &analysis.patch).unwrap();
    prop_assert_eq!(ordered(&got), ordered(&patched));
    prop_assert_eq!(ordered(&got), ordered(&want), "\n{}", fixed);

    // Only the failing add-on objects changed, and in the file's style.
    let failing: Vec<(usize, usize, bool)> = d
        .clusters
        .iter()
        .zip(&spans)
        .filter(|(c, _)| c.fixable())
        .map(|(_, s)| *s)
        .collect();
    prop_assert_eq!(
        armfix::edit::apply(&text, &analysis.edits).unwrap(),
        fixed.clone()
    );
    for e in &analysis.edits {
        let inside = failing
            .iter()
            .find(|(start, end, _)| *start < e.start && e.end < *end);
        let Some((_, _, one_line)) = inside else {
            return Err(TestCaseError::fail(format!(
                "edit {e:?} outside the failing add-ons {failing:?}\n{text}"
            )));
        };
        if *one_line {
            prop_assert!(!e.replacement.contains('\n'), "{:?}", e);
        }
        for (i, _) in e.replacement.match_indices('\n') {
            let crlf = i > 0 && e.replacement.as_bytes()[i - 1] == b'\r';
            prop_assert_eq!(crlf, d.style.crlf, "{:?}", e);
            let indent: String = e.replacement[i + 1..]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let unit_char = d.style.indent.chars().next().unwrap();
            prop_assert!(
                indent.chars().all(|c| c == unit_char),
                "indent {:?} in {:?}",
                indent,
                e
            );
        }
    }

    // It passes, and a second run does nothing.
    match engine::process_text(fixed.clone(), FileKind::Json) {
        Outcome::Analysed {
            analysis,
            fixed: again,
            ..
        } => {
            prop_assert_eq!(analysis.fixable(), 0);
            prop_assert!(analysis.edits.is_empty());
            prop_assert!(again.is_none());
        }
        other => return Err(TestCaseError::fail(format!("second run: {other:?}"))),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=20000 for a long search; 600 keeps `cargo test` quick.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(600),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fixes_are_exact_minimal_and_idempotent(d in doc()) {
        check(&d)?;
    }
}

/// The generator itself must be able to produce what it promises: a sanity check that
/// rendering keeps every style (so the property above is not vacuous).
#[test]
fn generator_covers_the_styles() {
    let c = Cluster {
        state: State::NoConfig,
        enabled: "true",
        type_name: "Microsoft.ContainerService/managedClusters",
        keys: [
            "Properties",
            "addonProfiles",
            "azureKeyVaultSecretsProvider",
            "Config",
            "enableSecretRotation",
        ],
        one_line_addon: false,
        one_line_cluster: false,
        existing: false,
        nesting: 1,
        extras: 2,
    };
    let d = Doc {
        style: Style {
            indent: "\t",
            crlf: true,
            bom: true,
            final_newline: false,
            comments: true,
            colon: ": ",
            sep: " ",
            pad: "",
            minified: false,
        },
        schema: SCHEMAS[1],
        lv2: true,
        clusters: vec![c],
    };
    let (text, spans) = render(&document(&d, false), &d.style);
    assert!(text.starts_with("\u{feff}{\r\n\t"));
    assert!(text.contains("// a comment on its own line"));
    assert!(text.contains("\"Microsoft.Resources/deployments\""));
    assert!(!text.ends_with('\n'));
    assert_eq!(spans.len(), 1);
    assert!(text[spans[0].0..spans[0].1].starts_with("{\r\n"));
    check(&d).unwrap();
}
