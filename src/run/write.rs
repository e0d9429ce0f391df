//! Writes a fixed file safely: into a temporary file in the same folder, flushed to disk,
//! then renamed over the original, keeping its permissions (and owner, where allowed). It
//! refuses read-only files and files that changed on disk since they were read, and removes
//! the temporary files an interrupted run left behind.
//!
//! Guarantees, and how they hold:
//! - The original is replaced in one `rename`, so at any instant (even after SIGKILL or a
//!   power cut, once the folder is synced) the path holds either the old bytes or the new.
//! - The new bytes are fsync'ed before the rename and the folder after it.
//! - A file that already holds the fix (reached earlier in the run through another path, a
//!   symbolic or hard link) is left as it is and counts as written.
//! - A write that fails (disk full, quota, file size limit) leaves the original untouched and
//!   removes its temporary file.
//! - Temporary files are named `.NAME.XXXXXX.armfix.tmp` and locked (`flock`) while written.
//!   A process killed mid-write leaves its file unlocked (the kernel drops the lock), and the
//!   next write in that folder removes every unlocked one. A live writer's file is locked,
//!   so two runs never delete each other's work.

use crate::run::discover::io_message;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Ends the name of every temporary file armfix writes.
pub const TEMP_SUFFIX: &str = ".armfix.tmp";

/// Replaces the file at `path` (whose content was `original` when read) with `fixed`.
pub fn write_atomic(path: &Path, original: &[u8], fixed: &str) -> Result<(), String> {
    // Write through symbolic links: replace the file they point at, not the link.
    let real = fs::canonicalize(path).map_err(|e| io_message(&e))?;
    let meta = fs::metadata(&real).map_err(|e| io_message(&e))?;
    if !meta.is_file() {
        return Err("not a regular file any more; not written".into());
    }
    if meta.permissions().readonly() || !may_write(&real) {
        return Err("the file is read-only; not written".into());
    }
    if holds(&real, fixed.as_bytes()).map_err(|e| io_message(&e))? {
        // Already fixed: the same file reached by another path (a symbolic or hard link
        // walked beside its target) was just written.
        return Ok(());
    }
    unchanged(&real, original)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    clean_once(dir);
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", temp_stem(&name)))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file: {}", io_message(&e)))?;
    // From here on, an error drops `tmp`, which removes the temporary file.
    lock(tmp.as_file());
    keep_owner(tmp.as_file(), &meta);
    fs::set_permissions(tmp.path(), meta.permissions())
        .map_err(|e| format!("cannot keep permissions: {}", io_message(&e)))?;
    tmp.write_all(fixed.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| {
            format!(
                "cannot write: {}; the original is unchanged",
                io_message(&e)
            )
        })?;
    // Check again at the last moment: the window for a concurrent edit to be lost is now
    // only between this read and the rename.
    unchanged(&real, original)?;
    tmp.persist(&real).map_err(|e| {
        format!(
            "cannot replace the file: {}; the original is unchanged",
            io_message(&e.error)
        )
    })?;
    // Make the rename itself durable. Some file systems cannot sync a folder; the data
    // is written either way.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

const CHANGED: &str = "the file changed on disk since armfix read it; not written";

fn unchanged(real: &Path, original: &[u8]) -> Result<(), String> {
    if holds(real, original).map_err(|e| io_message(&e))? {
        Ok(())
    } else {
        Err(CHANGED.into())
    }
}

/// Whether the file holds exactly `expected`, compared in chunks so that checking a large
/// file costs no copy of it in memory.
fn holds(path: &Path, expected: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    let mut file = File::open(path)?;
    if file.metadata()?.len() != expected.len() as u64 {
        return Ok(false);
    }
    let mut chunk = vec![0u8; 64 * 1024];
    let mut at = 0;
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(at == expected.len());
        }
        if expected.get(at..at + n) != Some(&chunk[..n]) {
            return Ok(false);
        }
        at += n;
    }
}

/// Whether this process may write the file (mode bits alone do not tell for other users).
#[cfg(unix)]
fn may_write(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid C string and a flag.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(not(unix))]
fn may_write(_: &Path) -> bool {
    true
}

/// Gives the new file the old one's owner and group. Only root may give a file away; others
/// keep the group when they belong to it, and otherwise own the new file themselves.
#[cfg(unix)]
fn keep_owner(file: &File, meta: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    if std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())).is_err() {
        let _ = std::os::unix::fs::fchown(file, None, Some(meta.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_: &File, _: &fs::Metadata) {}

/// Takes an exclusive lock on a temporary file while it is written. Best effort: where
/// locks are not supported, cleaning may remove a live writer's file, which then fails to
/// rename and reports an error, leaving the original intact.
#[cfg(unix)]
fn lock(file: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn lock(_: &File) -> bool {
    true
}

/// The file's name as it goes into its temporary file's, cut (on a character boundary) so
/// that the whole name stays within the 255 bytes file systems allow.
fn temp_stem(name: &str) -> &str {
    const ROOM: usize = 255 - ".".len() - ".XXXXXX".len() - TEMP_SUFFIX.len();
    let mut end = name.len().min(ROOM);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// True for names armfix gives its temporary files: `.NAME.XXXXXX.armfix.tmp`.
pub fn is_temp_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
    else {
        return false;
    };
    match stem.rsplit_once('.') {
        Some((target, random)) => {
            !target.is_empty()
                && random.len() >= 6
                && random.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Cleans `dir` the first time this process writes into it.
fn clean_once(dir: &Path) {
    static SEEN: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let first = seen
        .lock()
        .map(|mut s| s.insert(dir.to_path_buf()))
        .unwrap_or(false);
    if first {
        clean_stale(dir);
    }
}

/// Removes the temporary files that interrupted runs left in `dir`: those named as armfix
/// names them and not locked by a live writer. Returns how many it removed.
pub(crate) fn clean_stale(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !is_temp_name(&name.to_string_lossy()) {
            continue;
        }
        if remove_if_stale(&entry.path()) {
            removed += 1;
        }
    }
    removed
}

#[cfg(unix)]
fn remove_if_stale(path: &Path) -> bool {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let Ok(file) = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    else {
        return false;
    };
    let (Ok(held), Ok(now)) = (file.metadata(), fs::symlink_metadata(path)) else {
        return false;
    };
    // Only a regular file, still the one at that name, that no live writer holds.
    if !held.is_file() || held.ino() != now.ino() || held.dev() != now.dev() || !lock(&file) {
        return false;
    }
    fs::remove_file(path).is_ok()
}

#[cfg(not(unix))]
fn remove_if_stale(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"old", "new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn refuses_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        fs::write(&p, "changed").unwrap();
        assert!(write_atomic(&p, b"old", "new")
            .unwrap_err()
            .contains("changed on disk"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "changed");
    }

    #[test]
    fn writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"old", "new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    }

    #[test]
    fn a_file_reached_twice_is_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("v2.json");
        let link = dir.path().join("latest.json");
        fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&target, b"old", "new").unwrap();
        // The link was read before the write: its original is stale, its fix is done.
        write_atomic(&link, b"old", "new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        // Not a loophole: other content is still refused.
        assert!(write_atomic(&link, b"old", "other")
            .unwrap_err()
            .contains("changed on disk"));
    }

    #[test]
    fn long_names_get_short_enough_temporary_names() {
        let dir = tempfile::tempdir().unwrap();
        // 250 bytes: the longest names leave no room for a prefix and suffix.
        let name = format!("a{}.json", "\u{e9}".repeat(122)); // the cut falls inside an é
        assert_eq!(name.len(), 250);
        let p = dir.path().join(&name);
        fs::write(&p, "old").unwrap();
        write_atomic(&p, b"old", "new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        let stem = temp_stem(&name);
        assert!(stem.len() <= 255 - 1 - 7 - TEMP_SUFFIX.len() && name.starts_with(stem));
        assert!(is_temp_name(&format!(".{stem}.AbCdEf{TEMP_SUFFIX}")));
    }

    #[test]
    fn keeps_the_owner_when_root_writes() {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return; // only root can give a file away
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        fs::write(&p, "old").unwrap();
        std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
        write_atomic(&p, b"old", "new").unwrap();
        let m = fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (65534, 65534));
    }

    #[test]
    fn recognises_its_temporary_names() {
        assert!(is_temp_name(".azuredeploy.json.a1B2c3.armfix.tmp"));
        assert!(is_temp_name(".x.json.abcdef.armfix.tmp"));
        assert!(!is_temp_name("azuredeploy.json.a1B2c3.armfix.tmp"));
        assert!(!is_temp_name(".x.json.ab.armfix.tmp"));
        assert!(!is_temp_name(".abcdef.armfix.tmp"));
        assert!(!is_temp_name(".x.json.a-b_c3.armfix.tmp"));
        assert!(!is_temp_name(".x.json.abcdef.tmp"));
    }

    #[test]
    fn cleans_stale_temporary_files_but_not_live_ones() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".a.json.Stale1.armfix.tmp");
        let live = dir.path().join(".b.json.Live22.armfix.tmp");
        let other = dir.path().join(".c.json.keep.tmp");
        for p in [&stale, &live, &other] {
            fs::write(p, "x").unwrap();
        }
        // A live writer holds the lock (flock locks belong to the open file, so another
        // open in this same process conflicts with it, as another process would).
        let held = File::open(&live).unwrap();
        assert!(lock(&held));
        assert_eq!(clean_stale(dir.path()), 1);
        assert!(!stale.exists());
        assert!(live.exists());
        assert!(other.exists());
        drop(held);
        assert_eq!(clean_stale(dir.path()), 1);
        assert!(!live.exists());
    }

    #[test]
    fn a_write_cleans_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".gone.json.Xy12Zw.armfix.tmp");
        fs::write(&stale, "partial").unwrap();
        let p = dir.path().join("t.json");
        fs::write(&p, "old").unwrap();
        write_atomic(&p, b"old", "new").unwrap();
        assert!(!stale.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn read_only_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
        assert!(write_atomic(&p, b"old", "new")
            .unwrap_err()
            .contains("read-only"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
    }
}
