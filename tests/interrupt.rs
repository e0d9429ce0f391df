//! Interruption: `armfix fix --yes` over 1,000 files that need a fix, killed with SIGKILL
//! at varied moments (5 and 250 ms after the start, while it reads, and right after 1, 37,
//! 300, 512, 750, 901 and 999 files are reported written on stderr). After every
//! kill each file must be byte-for-byte its original or its fully fixed version, every
//! leftover temporary file must be one armfix recognises, and a rerun must fix the rest and
//! leave no temporary file behind.

use crate::util::{BIN, SCHEMA};
use armfix::run::write as apply;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 1000;
const FOLDERS: usize = 10;

/// A template that needs a fix (of varied size, so writes take varied time) and its fix.
fn pair(i: usize) -> (String, String) {
    let tags: String = (0..i % 37)
        .map(|t| format!(",\n        \"tag{t}\": \"value {t} of file {i}\""))
        .collect();
    let before = format!(
        "{{\n  \"$schema\": \"{SCHEMA}\",\n  \"resources\": [\n    {{\n      \"type\": \"Microsoft.ContainerService/managedClusters\",\n      \"name\": \"aks-{i}\",\n      \"tags\": {{\n        \"n\": {i}{tags}\n      }},\n      \"properties\": {{\n        \"addonProfiles\": {{\n          \"azureKeyvaultSecretsProvider\": {{\n            \"enabled\": true,\n            \"config\": {{\n              \"enableSecretRotation\": \"false\"\n            }}\n          }}\n        }}\n      }}\n    }}\n  ]\n}}\n"
    );
    let after = before.replace(
        "\"enableSecretRotation\": \"false\"",
        "\"enableSecretRotation\": \"true\"",
    );
    (before, after)
}

fn path_of(root: &Path, i: usize) -> PathBuf {
    root.join(format!("team{}", i % FOLDERS))
        .join(format!("aks-{i:04}.json"))
}

fn lay_out(root: &Path) {
    for f in 0..FOLDERS {
        fs::create_dir_all(root.join(format!("team{f}"))).unwrap();
    }
    for i in 0..FILES {
        fs::write(path_of(root, i), pair(i).0).unwrap();
    }
}

fn armfix(root: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(["fix", "--yes", "--color", "never"])
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}

fn temp_files(root: &Path) -> Vec<PathBuf> {
    (0..FOLDERS)
        .flat_map(|f| fs::read_dir(root.join(format!("team{f}"))).unwrap())
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .map(|e| e.path())
        .collect()
}

/// Checks every file is whole; returns how many are fixed.
fn check_whole(root: &Path, when: &str) -> usize {
    let mut fixed = 0;
    for i in 0..FILES {
        let (before, after) = pair(i);
        let got = fs::read_to_string(path_of(root, i)).unwrap();
        if got == after {
            fixed += 1;
        } else {
            assert!(
                got == before,
                "{when}: file {i} is neither the original nor the fix:\n{got}"
            );
        }
    }
    let extra: Vec<_> = (0..FOLDERS)
        .flat_map(|f| fs::read_dir(root.join(format!("team{f}"))).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("aks-"))
        .collect();
    for name in &extra {
        assert!(
            apply::is_temp_name(name),
            "{when}: unexpected file {name} left behind"
        );
    }
    fixed
}

enum Moment {
    /// After armfix reports this many files written.
    Written(usize),
    /// This long after the start.
    After(Duration),
}

#[test]
fn sigkill_at_any_moment_leaves_every_file_whole() {
    // In memory when the machine has a tmpfs at /dev/shm: a kill tests the process, not
    // the disk, and 12,000 fsyncs on a shared disk would take minutes.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .unwrap();
    let root = dir.path();
    let moments = [
        Moment::After(Duration::from_millis(5)),
        Moment::Written(1),
        Moment::Written(37),
        Moment::Written(300),
        Moment::Written(512),
        Moment::Written(750),
        Moment::Written(901),
        Moment::Written(FILES - 1),
        // Mid-run by count, not by time: a fixed delay lands after the end once the run is
        // fast enough (250 ms did, when fixes of literal clusters stopped being evaluated).
        Moment::Written(600),
    ];
    let mut left_temp = 0;
    let mut partial = 0;
    for (n, moment) in moments.iter().enumerate() {
        lay_out(root);
        let mut child = armfix(root).stderr(Stdio::piped()).spawn().unwrap();
        let start = Instant::now();
        let stderr = child.stderr.take().unwrap();
        let target = match moment {
            Moment::Written(k) => *k,
            Moment::After(_) => usize::MAX,
        };
        // Count "wrote" lines on a thread; the main thread decides when to kill.
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut written = 0;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("armfix: wrote ") {
                    written += 1;
                    if written == target {
                        let _ = tx.send(());
                    }
                }
            }
            written
        });
        match moment {
            Moment::After(d) => std::thread::sleep(d.saturating_sub(start.elapsed())),
            Moment::Written(_) => {
                let _ = rx.recv_timeout(Duration::from_secs(120));
            }
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        let reported = reader.join().unwrap();
        let when = format!("run {n}");
        let fixed = check_whole(root, &when);
        // Every file reported written is written (fsync before the report).
        assert!(
            fixed >= reported,
            "{when}: {fixed} fixed < {reported} reported"
        );
        if status.code().is_none() && fixed < FILES {
            partial += 1;
        }
        let temps = temp_files(root);
        left_temp += usize::from(!temps.is_empty());
        // Whether or not this kill landed mid-write, leave what such a kill leaves: a
        // temporary file beside a file still to fix (its rename never happened).
        if let Some(i) =
            (0..FILES).find(|i| fs::read_to_string(path_of(root, *i)).unwrap() == pair(*i).0)
        {
            let p = path_of(root, i);
            let name = p.file_name().unwrap().to_string_lossy();
            fs::write(
                p.with_file_name(format!(".{name}.K1lled.armfix.tmp")),
                "{\n  \"$sch",
            )
            .unwrap();
        }

        // The rerun finishes the job and cleans up.
        let rerun = armfix(root).stderr(Stdio::null()).status().unwrap();
        assert_eq!(rerun.code(), Some(0), "{when}: rerun");
        assert_eq!(check_whole(root, &format!("{when}, rerun")), FILES);
        assert_eq!(temp_files(root), Vec::<PathBuf>::new(), "{when}: rerun");
        eprintln!(
            "run {n}: killed with {fixed}/{FILES} fixed ({reported} reported), {} temporary file(s) left, cleaned by the rerun",
            temps.len()
        );
    }
    // The kills must really have landed mid-run for the test to mean anything.
    assert!(partial >= 8, "only {partial} runs were cut short");
    eprintln!("{partial} runs cut short; {left_temp} left a temporary file");
}
