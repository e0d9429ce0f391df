//! Times each stage of the per-file pipeline on one file (default: the 20 MB template that
//! scripts/bench.sh makes), median of 7 runs, to show where a fix of a large file spends
//! its time:
//!
//!     cargo bench --bench stages -- FILE
//!
//! With `--once STAGE` (parse, analyze, verify, diff) it runs that stage once and stops, for a
//! profiler: `valgrind --tool=callgrind target/release/deps/stages-* FILE --once verify`.

use armfix::lang::arm::{jsonc, plan, verify};
use armfix::{edit, output::present, run::read};
use std::time::{Duration, Instant};

fn median<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..7 {
        let t = Instant::now();
        out = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], out.expect("ran at least once"))
}

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| {
            !a.starts_with('-') && !matches!(a.as_str(), "parse" | "analyze" | "verify" | "diff")
        })
        .unwrap_or_else(|| "target/bench/big.json".into());
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("cannot read {path}; run scripts/bench.sh first or pass a file");
        return;
    };
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--once") {
        let text = read::decode(bytes).expect("UTF-8");
        let analysis = || {
            plan::analyze(&text, &plan::Options::default())
                .expect("parses")
                .expect("template")
        };
        match args.get(i + 1).map(String::as_str) {
            Some("parse") => drop(jsonc::parse(&text).expect("parses")),
            Some("analyze") => drop(analysis()),
            Some(stage @ ("verify" | "diff")) => {
                let a = analysis();
                let fixed = edit::apply(&text, &a.edits).expect("applies");
                if stage == "verify" {
                    verify::json(&text, &a, &fixed).expect("verifies");
                } else {
                    present::diff(&path, &text, &fixed, present::Paint(false));
                }
            }
            _ => eprintln!("--once takes parse, analyze, verify or diff"),
        }
        return;
    }
    let mb = bytes.len() as f64 / 1e6;
    let row = |name: &str, d: Duration| {
        println!(
            "{name:28} {:>8.1} ms  {:>7.0} MB/s",
            d.as_secs_f64() * 1e3,
            mb / d.as_secs_f64()
        )
    };
    println!("{path}: {mb:.1} MB");
    // The prefilter stops at the first mention; a file without one is scanned whole.
    let (t, _) = median(|| read::contains_ignore_ascii_case(&bytes, b"nosuchmarkerhere"));
    row("prefilter (whole file)", t);
    let (t, text) = median(|| read::decode(bytes.clone()).expect("UTF-8"));
    row("decode (with a copy)", t);
    let (t, _) = median(|| jsonc::parse(&text).map(|_| ()).expect("parses"));
    row("parse (and drop the tree)", t);
    let (t, analysis) = median(|| {
        plan::analyze(&text, &plan::Options::default())
            .expect("parses")
            .expect("template")
    });
    row("analyze (parse, plan, render)", t);
    let (t, fixed) = median(|| edit::apply(&text, &analysis.edits).expect("applies"));
    row("apply edits", t);
    let (t, ()) = median(|| verify::json(&text, &analysis, &fixed).expect("verifies"));
    row("verify", t);
    let (t, _) = median(|| present::diff(&path, &text, &fixed, present::Paint(false)));
    row("diff", t);
    println!(
        "{} findings, {} edits",
        analysis.findings.len(),
        analysis.edits.len()
    );
}
