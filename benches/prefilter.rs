//! Compares ways to find `managedclusters` (ASCII case-insensitive) in file contents.
//!
//!     cargo bench --bench prefilter -- DIR
//!
//! reads every `*.json` file under DIR (default `target/bench/r10k`, made by scripts/bench.sh)
//! into memory and times each method over all of them (median of 15 passes), checking that
//! they agree file by file.

use aho_corasick::AhoCorasick;
use std::time::{Duration, Instant};

const NEEDLE: &[u8] = b"managedclusters";

fn files(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            if let Ok(b) = std::fs::read(&p) {
                out.push(b);
            }
        }
    }
}

fn median(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut hits = 0;
    for _ in 0..15 {
        let t = Instant::now();
        hits = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], hits)
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "target/bench/r10k".into());
    let mut data = Vec::new();
    files(std::path::Path::new(&dir), &mut data);
    let bytes: usize = data.iter().map(Vec::len).sum();
    if data.is_empty() {
        eprintln!("no JSON files under {dir}; run scripts/bench.sh first or pass a folder");
        return;
    }
    println!("{} files, {:.1} MB", data.len(), bytes as f64 / 1e6);
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build([NEEDLE])
        .unwrap();
    let lower = memchr::memmem::Finder::new(NEEDLE);
    let variants: Vec<_> = [
        "managedClusters",
        "managedclusters",
        "ManagedClusters",
        "MANAGEDCLUSTERS",
    ]
    .iter()
    .map(|v| memchr::memmem::Finder::new(v.as_bytes()).into_owned())
    .collect();
    type Method<'m> = (&'static str, Box<dyn Fn(&[u8]) -> bool + 'm>);
    let methods: Vec<Method> = vec![
        (
            "aho-corasick ascii-case-insensitive",
            Box::new(|b| ac.is_match(b)),
        ),
        (
            "armfix::run::read::mentions_rule",
            Box::new(armfix::run::read::mentions_rule),
        ),
        (
            "memmem x4 case variants (incomplete)",
            Box::new(|b| variants.iter().any(|f| f.find(b).is_some())),
        ),
        (
            "fold |0x20 into 64K blocks + memmem",
            Box::new(|b| {
                let mut buf = vec![0u8; 65536];
                let mut start = 0;
                while start < b.len() {
                    let end = (start + buf.len()).min(b.len());
                    let chunk = &b[start..end];
                    for (d, s) in buf.iter_mut().zip(chunk) {
                        *d = s | 0x20;
                    }
                    if lower.find(&buf[..chunk.len()]).is_some() {
                        return true;
                    }
                    if end == b.len() {
                        break;
                    }
                    start = end - (NEEDLE.len() - 1);
                }
                false
            }),
        ),
        (
            "fold |0x20 into 8K stack blocks + memmem",
            Box::new(|b| {
                let mut buf = [0u8; 8192];
                let mut start = 0;
                while start < b.len() {
                    let end = (start + buf.len()).min(b.len());
                    let chunk = &b[start..end];
                    for (d, s) in buf.iter_mut().zip(chunk) {
                        *d = s | 0x20;
                    }
                    if lower.find(&buf[..chunk.len()]).is_some() {
                        return true;
                    }
                    if end == b.len() {
                        break;
                    }
                    start = end - (NEEDLE.len() - 1);
                }
                false
            }),
        ),
    ];
    let reference: Vec<bool> = data.iter().map(|b| ac.is_match(b)).collect();
    for (name, f) in &methods {
        let (t, hits) = median(|| data.iter().filter(|b| f(b)).count());
        let agree = data.iter().zip(&reference).all(|(b, r)| f(b) == *r);
        println!(
            "{name:40} {:>8.2} ms {:>7.2} GB/s  {hits} files match{}",
            t.as_secs_f64() * 1e3,
            bytes as f64 / t.as_secs_f64() / 1e9,
            if agree {
                ""
            } else {
                "  (DISAGREES with aho-corasick)"
            }
        );
    }
}
