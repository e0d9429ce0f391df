//! Writes a fixed file safely: into a temporary file in the same folder, flushed to disk,
//! then renamed over the original, keeping its permissions. It refuses read-only files and
//! files that changed on disk since they were read.

use crate::discover::io_message;
use std::fs;
use std::io::Write;
use std::path::Path;

/// Replaces the file at `path` (whose content was `original` when read) with `fixed`.
pub fn write_atomic(path: &Path, original: &[u8], fixed: &str) -> Result<(), String> {
    // Write through symbolic links: replace the file they point at, not the link.
    let real = fs::canonicalize(path).map_err(|e| io_message(&e))?;
    let meta = fs::metadata(&real).map_err(|e| io_message(&e))?;
    if meta.permissions().readonly() {
        return Err("the file is read-only; not written".into());
    }
    let current = fs::read(&real).map_err(|e| io_message(&e))?;
    if current != original {
        return Err("the file changed on disk since armfix read it; not written".into());
    }
    let dir = real.parent().unwrap_or(Path::new("."));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".armfix.tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file: {}", io_message(&e)))?;
    tmp.write_all(fixed.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| {
            format!(
                "cannot write: {}; the original is unchanged",
                io_message(&e)
            )
        })?;
    fs::set_permissions(tmp.path(), meta.permissions())
        .map_err(|e| format!("cannot keep permissions: {}", io_message(&e)))?;
    tmp.persist(&real)
        .map_err(|e| format!("cannot replace the file: {}", io_message(&e.error)))?;
    Ok(())
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
}
