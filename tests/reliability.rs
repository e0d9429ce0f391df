//! Bad input: one CLI run over a tree holding every kind of broken or hostile file beside
//! good templates that need a fix. Each bad file must give exactly one error line on stderr
//! naming it (with line and column where a place exists), nothing may be written for it,
//! the good files must still be fixed, and the exit code must be 2. Files that cannot
//! concern the rule are skipped without a word.
//!
//! Races (a file deleted between the walk and the read, changed between the read and the
//! write) are driven through the library's stages, which the CLI runs in the same order:
//! `discover` → `engine::process_path` → `apply::write_atomic`. The race the user can cause
//! at a prompt is also driven through the real CLI in a pseudo-terminal.
//!
//! Root reads every file whatever its mode bits. When the tests run as root, the CLI runs
//! with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped from its capability bounding set
//! (`prctl(PR_CAPBSET_DROP)` between fork and exec), so mode bits bind it exactly as they
//! bind an ordinary user, with no test hook in armfix itself.

use crate::util::{BIN, SCHEMA};
use armfix::lang::FileKind;
use armfix::run::discover::{self, Candidate, WalkOptions};
use armfix::run::engine::{self, Outcome};
use armfix::{output::present, run::write as apply};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn armfix() -> Command {
    Command::new(BIN)
}

/// A template whose one cluster lacks `config`, and the text a careful human would write.
fn good(name: &str) -> (String, String) {
    let before = format!(
        r#"{{
  "$schema": "{SCHEMA}",
  "contentVersion": "1.0.0.0",
  "resources": [
    {{
      "type": "Microsoft.ContainerService/managedClusters",
      "apiVersion": "2024-02-01",
      "name": "{name}",
      "properties": {{
        "addonProfiles": {{
          "azureKeyvaultSecretsProvider": {{
            "enabled": true
          }}
        }}
      }}
    }}
  ]
}}
"#
    );
    let after = before.replace(
        "            \"enabled\": true\n",
        "            \"enabled\": true,\n            \"config\": {\n              \"enableSecretRotation\": \"true\"\n            }\n",
    );
    assert_ne!(before, after);
    (before, after)
}

/// 1-based line and character column of a byte offset, computed independently of armfix.
fn place(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

fn find(hay: &[u8], needle: &[u8], nth: usize) -> usize {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(needle)))
}

/// Makes a command honour mode bits even when run by root (see the module docs).
fn drop_dac(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    // SAFETY: only async-signal-safe calls (prctl) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            // 1 = CAP_DAC_OVERRIDE, 2 = CAP_DAC_READ_SEARCH (linux/capability.h).
            for cap in [1, 2] {
                if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs a command to its end, failing the test (not hanging it) after `limit`.
fn run(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("armfix starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("armfix did not finish within {limit:?} (a hang on some input?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
    }
}

/// What a bad file must produce: the message fragment and, where it applies, the place.
struct Expect {
    message: &'static str,
    place: Option<(usize, usize)>,
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid C string and a mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

fn write_huge_template(path: &Path, size: usize) {
    // A real template that needs a fix, made large by one long string.
    let (text, _) = good("huge");
    let cut = find(text.as_bytes(), b"  \"resources\"", 0);
    let mut f = std::io::BufWriter::new(fs::File::create(path).unwrap());
    write!(f, "{}  \"metadata\": {{\"padding\": \"", &text[..cut]).unwrap();
    let chunk = [b'x'; 1 << 16];
    for _ in 0..size / chunk.len() {
        f.write_all(&chunk).unwrap();
    }
    write!(f, "\"}},\n{}", &text[cut..]).unwrap();
    f.flush().unwrap();
}

/// Everything about a file that a rewrite would change.
fn fingerprint(path: &Path) -> Option<(u64, u64, i64, i64)> {
    let m = fs::symlink_metadata(path).ok()?;
    Some((m.ino(), m.len(), m.mtime(), m.mtime_nsec()))
}

fn temp_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if e
                .file_name()
                .to_string_lossy()
                .ends_with(apply::TEMP_SUFFIX)
            {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn bad_input_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut bad: BTreeMap<&str, Expect> = BTreeMap::new();
    let mut goods: Vec<(&str, String)> = Vec::new();
    let mut silent: Vec<&str> = Vec::new();

    // Good files that must be fixed whatever sits beside them.
    let (text, fixed) = good("good");
    fs::write(root.join("good.json"), text).unwrap();
    goods.push(("good.json", fixed));
    // The same file again through a link, walked beside it: fixed once, no error.
    std::os::unix::fs::symlink("good.json", root.join("latest.json")).unwrap();
    // A folder named like a file is a folder: walked, and what it holds is fixed.
    fs::create_dir_all(root.join("x.json/inner")).unwrap();
    let (text, fixed) = good("inner");
    fs::write(root.join("x.json/inner/t.json"), text).unwrap();
    goods.push(("x.json/inner/t.json", fixed));
    // A 5 MB template on one line (minified) that needs a fix.
    {
        let mut s = format!(r#"{{"$schema":"{SCHEMA}","resources":["#);
        let mut i = 0;
        while s.len() < 5 << 20 {
            s += &format!(
                r#"{{"type":"Microsoft.Storage/storageAccounts","name":"sa{i}","properties":{{"a":[1,2.50,1E3],"b":"\u00e9x"}}}},"#
            );
            i += 1;
        }
        s += r#"{"type":"Microsoft.ContainerService/managedClusters","properties":{"addonProfiles":{"azureKeyvaultSecretsProvider":{"enabled":true}}}}]}"#;
        let fixed = s.replace(
            r#"{"enabled":true}"#,
            r#"{"enabled":true,"config":{"enableSecretRotation":"true"}}"#,
        );
        assert!(!s.contains('\n'));
        fs::write(root.join("minified-5mb.json"), &s).unwrap();
        goods.push(("minified-5mb.json", fixed));
    }

    // Files that cannot concern the rule: skipped without a word.
    fs::write(
        root.join("unrelated.json"),
        r#"{"name": "web", "version": 1}"#,
    )
    .unwrap();
    silent.push("unrelated.json");
    fs::write(root.join("unrelated-broken.json"), "{\"a\": [1, 2,,}").unwrap();
    silent.push("unrelated-broken.json");
    fs::write(
        root.join("params.json"),
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {"t": {"value": "Microsoft.ContainerService/managedClusters"}}}"#,
    )
    .unwrap();
    silent.push("params.json");
    fs::write(
        root.join("not-a-template.json"),
        r#"{"kind": "Microsoft.ContainerService/managedClusters", "enabled": true}"#,
    )
    .unwrap();
    silent.push("not-a-template.json");
    // A FIFO with no writer must not hang the run: it reads as empty.
    mkfifo(&root.join("pipe.json"));
    silent.push("pipe.json");
    // Over the size limit but never mentioning the rule (sparse: zeros, cheap to make).
    fs::File::create(root.join("big-unrelated.json"))
        .unwrap()
        .set_len(40 << 20)
        .unwrap();
    silent.push("big-unrelated.json");

    // Broken candidates.
    let (text, _) = good("truncated");
    let cut = find(text.as_bytes(), b"\"enabled\": ", 0) + "\"enabled\": ".len();
    fs::write(root.join("truncated.json"), &text[..cut]).unwrap();
    bad.insert(
        "truncated.json",
        Expect {
            message: "end of file",
            place: Some(place(text.as_bytes(), cut)),
        },
    );

    let (text, _) = good("comma");
    let text = text.replace("\"enabled\": true\n", "\"enabled\": true,\n");
    let at = find(text.as_bytes(), b"true,\n", 0) + "true,\n".len();
    let at = at + text[at..].find('}').unwrap();
    fs::write(root.join("trailing-comma.json"), &text).unwrap();
    bad.insert(
        "trailing-comma.json",
        Expect {
            message: "trailing comma",
            place: Some(place(text.as_bytes(), at)),
        },
    );

    let (text, _) = good("dup");
    let text = text.replace(
        "\"enabled\": true\n",
        "\"enabled\": true,\n            \"config\": {\"enableSecretRotation\": \"false\"},\n            \"Config\": {}\n",
    );
    let at = find(text.as_bytes(), b"\"Config\": ", 0) + "\"Config\": ".len();
    fs::write(root.join("duplicate-keys.json"), &text).unwrap();
    bad.insert(
        "duplicate-keys.json",
        Expect {
            message: "duplicate key `Config`",
            place: Some(place(text.as_bytes(), at)),
        },
    );

    let (text, _) = good("latin1-caf\u{e9}");
    let mut bytes = text.into_bytes();
    let at = find(&bytes, "\u{e9}".as_bytes(), 0);
    bytes.splice(at..at + 2, [0xE9]); // Latin-1 é: not UTF-8
    fs::write(root.join("invalid-utf8.json"), &bytes).unwrap();
    bad.insert(
        "invalid-utf8.json",
        Expect {
            message: "not valid UTF-8",
            place: Some(place(&bytes, at)),
        },
    );

    let (text, _) = good("utf16");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    fs::write(root.join("utf16.json"), &bytes).unwrap();
    bad.insert(
        "utf16.json",
        Expect {
            message: "UTF-16",
            place: Some((1, 1)),
        },
    );

    let mut bytes = b"\x7fELF\x02\x01 managedClusters \n\x01\x02".to_vec();
    let at = bytes.len();
    bytes.extend((0..4096u32).map(|i| (i * 7919 % 251) as u8));
    fs::write(root.join("binary.json"), &bytes).unwrap();
    bad.insert(
        "binary.json",
        Expect {
            message: "binary data",
            place: Some(place(&bytes, at)),
        },
    );

    write_huge_template(&root.join("huge-100mb.json"), 100 << 20);
    bad.insert(
        "huge-100mb.json",
        Expect {
            message: "larger than 32 MiB",
            place: None,
        },
    );

    let (text, _) = good("deep");
    let depth = 10_000;
    let text = text.replace(
        "\"apiVersion\"",
        &format!(
            "\"deep\":\n{}{},\n      \"apiVersion\"",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    fs::write(root.join("deep.json"), &text).unwrap();
    let deep_line = place(
        text.as_bytes(),
        find(text.as_bytes(), "[".repeat(depth).as_bytes(), 0),
    )
    .0;
    bad.insert(
        "deep.json",
        Expect {
            message: "nesting is deeper",
            place: None, // checked below: the brackets' line, some column on it
        },
    );

    let mut text = format!(r#"{{"$schema":"{SCHEMA}","resources":["#);
    while text.len() < 5 << 20 {
        text += r#"{"type":"Microsoft.ContainerService/managedClusters","properties":{}},"#;
    }
    text += r#"{"type":"x"}]"#; // the closing brace is missing
    fs::write(root.join("broken-5mb-line.json"), &text).unwrap();
    bad.insert(
        "broken-5mb-line.json",
        Expect {
            message: "expected `,` or `}`",
            place: Some((1, text.chars().count() + 1)),
        },
    );

    std::os::unix::fs::symlink("loop-b.json", root.join("loop-a.json")).unwrap();
    std::os::unix::fs::symlink("loop-a.json", root.join("loop-b.json")).unwrap();
    for name in ["loop-a.json", "loop-b.json"] {
        bad.insert(
            name,
            Expect {
                message: "symbolic links",
                place: None,
            },
        );
    }
    fs::create_dir(root.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/back")).unwrap();
    bad.insert(
        "sub/back",
        Expect {
            message: "symbolic link loop",
            place: None,
        },
    );
    std::os::unix::fs::symlink("nowhere.json", root.join("dangling.json")).unwrap();
    bad.insert(
        "dangling.json",
        Expect {
            message: "dangling symbolic link",
            place: None,
        },
    );

    let (text, _) = good("noread");
    fs::write(root.join("no-read.json"), &text).unwrap();
    fs::set_permissions(root.join("no-read.json"), fs::Permissions::from_mode(0o000)).unwrap();
    // Can this platform make the CLI honour mode bits? (Not as root without CAP_SETPCAP.)
    let mut probe = armfix();
    probe.arg("patch").arg(root.join("no-read.json"));
    drop_dac(&mut probe);
    let honours_modes = run(probe, Duration::from_secs(30)).code == Some(2);
    if honours_modes {
        bad.insert(
            "no-read.json",
            Expect {
                message: "Permission denied",
                place: None,
            },
        );
    } else {
        eprintln!("note: cannot drop root's read override here; no-read.json not checked");
        fs::remove_file(root.join("no-read.json")).unwrap();
    }

    let (text, _) = good("readonly");
    fs::write(root.join("read-only.json"), &text).unwrap();
    fs::set_permissions(
        root.join("read-only.json"),
        fs::Permissions::from_mode(0o444),
    )
    .unwrap();

    let before: BTreeMap<String, _> = bad
        .keys()
        .chain(silent.iter())
        .chain(["read-only.json"].iter())
        .map(|n| (n.to_string(), fingerprint(&root.join(n))))
        .collect();
    let content = |n: &str| fs::read(root.join(n)).ok();
    let small_before: BTreeMap<String, _> = before
        .keys()
        // Not the FIFO: reading it here would wait for a writer.
        .filter(|n| !n.contains("huge") && !n.contains("big") && *n != "pipe.json")
        .map(|n| (n.clone(), content(n)))
        .collect();

    // `check` first: it writes nothing and reports the same errors.
    let mut cmd = armfix();
    cmd.current_dir(root).args(["check", "."]);
    drop_dac(&mut cmd);
    let checked = run(cmd, Duration::from_secs(120));
    assert_eq!(checked.code, Some(2), "{}", checked.stderr);
    assert_errors(&checked.stderr, &bad, deep_line, &[]);
    for name in [
        "good.json",
        "x.json/inner/t.json",
        "minified-5mb.json",
        "read-only.json",
    ] {
        assert!(
            checked
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("{name}:"))),
            "check reports {name}:\n{}",
            checked.stdout
        );
    }

    let mut cmd = armfix();
    cmd.current_dir(root).args(["fix", "--yes", "."]);
    drop_dac(&mut cmd);
    let fixed = run(cmd, Duration::from_secs(180));
    assert_eq!(fixed.code, Some(2), "{}", fixed.stderr);
    assert_errors(&fixed.stderr, &bad, deep_line, &["read-only.json"]);

    for (name, want) in &goods {
        assert!(
            fs::read_to_string(root.join(name)).unwrap() == *want,
            "{name} is fixed exactly"
        );
    }
    for (name, fp) in &before {
        assert_eq!(fingerprint(&root.join(name)), *fp, "{name} was not written");
    }
    for (name, bytes) in &small_before {
        assert_eq!(content(name), *bytes, "{name} is byte-for-byte unchanged");
    }
    assert!(fs::symlink_metadata(root.join("latest.json"))
        .unwrap()
        .is_symlink());
    assert_eq!(temp_files(root), Vec::<PathBuf>::new());
    // Nothing is created either: the tree holds what it held plus nothing.
    assert!(!root.join("nowhere.json").exists());
}

/// Every error line names its file; each expected file has exactly one; nothing else errs;
/// no line echoes file content.
fn assert_errors(stderr: &str, bad: &BTreeMap<&str, Expect>, deep_line: usize, extra: &[&str]) {
    for line in stderr.lines() {
        assert!(
            line.len() < 400,
            "a short line, not file content: {line:.200}"
        );
    }
    let errors: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .collect();
    assert_eq!(
        errors.len(),
        bad.len() + extra.len(),
        "one error per bad file:\n{stderr}"
    );
    for name in extra {
        let n = errors
            .iter()
            .filter(|e| e.starts_with(&format!("{name}: ")))
            .count();
        assert_eq!(n, 1, "one error for {name}:\n{stderr}");
    }
    for (name, expect) in bad {
        let mine: Vec<&&str> = errors
            .iter()
            .filter(|e| e.strip_prefix(name).is_some_and(|r| r.starts_with(':')))
            .collect();
        assert_eq!(mine.len(), 1, "exactly one error for {name}:\n{stderr}");
        let rest = &mine[0][name.len()..];
        assert!(
            rest.contains(expect.message),
            "{name}: `{}` in {rest}",
            expect.message
        );
        match expect.place {
            Some((l, c)) => assert!(
                rest.starts_with(&format!(":{l}:{c}: ")),
                "{name} at {l}:{c}: {rest}"
            ),
            None if *name == "deep.json" => {
                let (l, c) = parse_place(rest).expect("deep.json has a place");
                assert_eq!(l, deep_line, "{rest}");
                assert!(c > 1 && c <= 10_001, "{rest}");
            }
            None => assert!(rest.starts_with(": "), "{name} has no place: {rest}"),
        }
    }
}

fn parse_place(rest: &str) -> Option<(usize, usize)> {
    let mut parts = rest.strip_prefix(':')?.splitn(3, ':');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn discover_all(root: &Path) -> Vec<PathBuf> {
    let (found, errors) =
        discover::discover(&[root.to_path_buf()], &WalkOptions::default()).expect("globs are fine");
    assert!(errors.is_empty(), "{errors:?}");
    found
        .into_iter()
        .filter_map(|c| match c {
            Candidate::File(p) => Some(p),
            Candidate::Stdin => None,
        })
        .collect()
}

fn error_line(path: &Path, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Error(e) => present::error_line(&path.display().to_string(), e),
        other => panic!("{} should fail: {other:?}", path.display()),
    }
}

#[test]
fn a_file_gone_or_replaced_between_the_walk_and_the_read() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "deleted.json",
        "now-a-dir.json",
        "now-a-fifo.json",
        "ok.json",
    ];
    for n in names {
        fs::write(dir.path().join(n), good(n).0).unwrap();
    }
    let found = discover_all(dir.path());
    assert_eq!(found.len(), names.len());
    // The walk is done; now the tree changes under it.
    fs::remove_file(dir.path().join("deleted.json")).unwrap();
    fs::remove_file(dir.path().join("now-a-dir.json")).unwrap();
    fs::create_dir(dir.path().join("now-a-dir.json")).unwrap();
    fs::remove_file(dir.path().join("now-a-fifo.json")).unwrap();
    mkfifo(&dir.path().join("now-a-fifo.json"));

    let outcomes: BTreeMap<String, Outcome> = found
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, engine::process_path(p, FileKind::Json).outcome)
        })
        .collect();
    let deleted = error_line(&dir.path().join("deleted.json"), &outcomes["deleted.json"]);
    assert!(
        deleted.ends_with("deleted.json: No such file or directory"),
        "{deleted}"
    );
    let now_dir = error_line(
        &dir.path().join("now-a-dir.json"),
        &outcomes["now-a-dir.json"],
    );
    assert!(
        now_dir.ends_with("now-a-dir.json: is a directory"),
        "{now_dir}"
    );
    assert!(matches!(outcomes["now-a-fifo.json"], Outcome::Skipped));
    assert!(matches!(
        &outcomes["ok.json"],
        Outcome::Analysed { fixed: Some(_), .. }
    ));
    // Nothing came back to life.
    assert!(!dir.path().join("deleted.json").exists());
}

#[test]
fn a_file_changed_or_deleted_between_the_read_and_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("changed.json");
    let deleted = dir.path().join("deleted.json");
    let same = dir.path().join("same.json");
    for p in [&changed, &deleted, &same] {
        fs::write(p, good("c").0).unwrap();
    }
    let read: Vec<(PathBuf, String, String)> = [&changed, &deleted, &same]
        .iter()
        .map(|p| match engine::process_path(p, FileKind::Json).outcome {
            Outcome::Analysed {
                original,
                fixed: Some(fixed),
                ..
            } => (p.to_path_buf(), original, fixed),
            other => panic!("{other:?}"),
        })
        .collect();
    // Someone edits one file and deletes another while armfix holds its fixes.
    let edited = good("c").0.replace("2024-02-01", "2024-05-01");
    fs::write(&changed, &edited).unwrap();
    fs::remove_file(&deleted).unwrap();

    let results: Vec<_> = read
        .iter()
        .map(|(p, original, fixed)| apply::write_atomic(p, original.as_bytes(), fixed))
        .collect();
    assert!(results[0].as_ref().unwrap_err().contains("changed on disk"));
    assert!(results[1].as_ref().unwrap_err().contains("No such file"));
    assert!(results[2].is_ok());
    assert_eq!(
        fs::read_to_string(&changed).unwrap(),
        edited,
        "their edit is kept"
    );
    assert!(!deleted.exists(), "a deleted file is not recreated");
    assert_eq!(fs::read_to_string(&same).unwrap(), good("c").1);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

/// The real CLI, at its prompt: the file is edited while armfix waits for the answer.
#[test]
fn a_file_edited_while_the_prompt_waits_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let (text, _) = good("prompt");
    fs::write(&path, &text).unwrap();
    let mut cmd = armfix();
    cmd.current_dir(dir.path())
        .args(["fix", "--color", "never", "t.json"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("Apply this fix to t.json [").unwrap();
    let edited = text.replace("\"prompt\"", "\"renamed-meanwhile\"");
    fs::write(&path, &edited).unwrap();
    p.send_line("y").unwrap();
    p.exp_string("t.json: the file changed on disk since armfix read it; not written")
        .unwrap();
    p.exp_eof().unwrap();
    match p.process.wait().unwrap() {
        rexpect::process::wait::WaitStatus::Exited(_, code) => assert_eq!(code, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), edited);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

/// Out of space during the write, for real: a 64 KiB tmpfs (root only; skipped elsewhere).
#[test]
fn a_full_disk_leaves_the_original_intact() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: not root, no tmpfs to fill; see write_limit_* for the same check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: cannot mount a tmpfs here; see write_limit_* for the same check");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    // A 40 KiB template leaves no room for its 40 KiB fixed copy.
    let (text, _) = good("full");
    let text = text.replace(
        "\"contentVersion\": \"1.0.0.0\",",
        &format!(
            "\"contentVersion\": \"1.0.0.0\",\n  \"metadata\": {{\"pad\": \"{}\"}},",
            "p".repeat(40 << 10)
        ),
    );
    let path = mnt.join("t.json");
    fs::write(&path, &text).unwrap();
    let r = run(
        {
            let mut c = armfix();
            c.args(["fix", "--yes"]).arg(&path);
            c
        },
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("No space left on device; the original is unchanged"),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(temp_files(&mnt), Vec::<PathBuf>::new());
}

/// The same failure on any machine: RLIMIT_FSIZE makes the write fail (EFBIG) part-way.
#[test]
fn write_limit_leaves_the_original_intact() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let (text, _) = good("limit");
    fs::write(&path, &text).unwrap();
    let mut cmd = armfix();
    cmd.args(["fix", "--yes"]).arg(&path);
    let limit = (text.len() / 2) as libc::rlim_t;
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Without this, exceeding the limit kills with SIGXFSZ instead of failing write(2).
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let r = run(cmd, Duration::from_secs(30));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("File too large; the original is unchanged"),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

/// Keys, expressions and characters quoted from the file cannot break the one-line format
/// of findings and errors, nor send escape sequences to the terminal.
#[test]
fn quoted_file_content_stays_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = |config: &str| {
        format!(
            r#"{{"type": "Microsoft.ContainerService/managedClusters", "properties": {{"addonProfiles": {{"azureKeyvaultSecretsProvider": {{"enabled": true, "config": {config}}}}}}}}}"#
        )
    };
    let files = [
        (
            "dup-name.json",
            format!(
                r#"{{"$schema": "{SCHEMA}", "languageVersion": "2.0", "resources": {{"a\nb": {}, "a\nb": {{}}}}}}"#,
                cluster("{}")
            ),
        ),
        (
            "expression.json",
            format!(
                r#"{{"$schema": "{SCHEMA}", "resources": [{}]}}"#,
                cluster(r#"{"enableSecretRotation": "[concat('a',\r\n'\u001b[31m')]"}"#)
            ),
        ),
        (
            "control.json",
            "{\"x\": \"managedClusters\", \"y\": [\u{1b}[2J]}".to_string(),
        ),
    ];
    for (name, text) in &files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let mut cmd = armfix();
    cmd.current_dir(dir.path()).args(["check", "."]);
    let r = run(cmd, Duration::from_secs(30));
    assert_eq!(r.code, Some(2));
    assert!(!r.stdout.contains('\u{1b}') && !r.stderr.contains('\u{1b}'));
    assert!(!r.stdout.contains('\r') && !r.stderr.contains('\r'));
    let findings: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(findings.len(), 1, "{}", r.stdout);
    assert!(
        findings[0].starts_with("expression.json:1:"),
        "{}",
        findings[0]
    );
    assert!(
        // Line breaks inside a quoted expression fold to a space; the escape byte shows.
        findings[0].contains(r"[concat('a', '\u{1b}[31m')]"),
        "{}",
        findings[0]
    );
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 2, "{}", r.stderr);
    assert!(
        errors[0].starts_with("error: control.json:1:"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains(r"`\u{1b}`"), "{}", errors[0]);
    assert!(
        errors[1].starts_with("error: dup-name.json:1:"),
        "{}",
        errors[1]
    );
    assert!(errors[1].contains(r"`a\nb`"), "{}", errors[1]);
}
