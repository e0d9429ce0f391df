//! Times each stage of the per-file pipeline on one file (default: the 20 MB template that
//! scripts/bench.sh makes), median of 7 runs, to show where a fix of a large file spends
//! its time:
//!
//!     cargo bench --bench stages -- FILE

use armfix::{edit, jsonc, kind::FileKind, plan, present, read, verify};
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
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "target/bench/big.json".into());
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("cannot read {path}; run scripts/bench.sh first or pass a file");
        return;
    };
    let mb = bytes.len() as f64 / 1e6;
    let row = |name: &str, d: Duration| {
        println!(
            "{name:28} {:>8.1} ms  {:>7.0} MB/s",
            d.as_secs_f64() * 1e3,
            mb / d.as_secs_f64()
        )
    };
    println!("{path}: {mb:.1} MB");
    let (t, _) = median(|| read::mentions_rule(&bytes));
    row("prefilter", t);
    let (t, text) = median(|| read::decode(bytes.clone()).expect("UTF-8"));
    row("decode (with a copy)", t);
    let (t, _) = median(|| jsonc::parse(&text).map(|_| ()).expect("parses"));
    row("parse (and drop the tree)", t);
    let (t, analysis) = median(|| plan::analyze(&text).expect("parses").expect("template"));
    row("analyze (parse, plan, render)", t);
    let (t, fixed) = median(|| edit::apply(&text, &analysis.edits).expect("applies"));
    row("apply edits", t);
    let (t, ()) = median(|| verify::json(&text, &analysis, &fixed).expect("verifies"));
    row("verify", t);
    let (t, _) = median(|| FileKind::Json.verify(&text, &analysis, &fixed));
    row("verify (via kind)", t);
    let (t, _) = median(|| present::diff(&path, &text, &fixed, present::Paint(false)));
    row("diff", t);
    println!("{} findings, {} edits", analysis.findings.len(), analysis.edits.len());
}
