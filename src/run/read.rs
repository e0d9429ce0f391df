//! Reads a candidate's bytes, drops files that cannot concern the rule before anything
//! parses them (an ASCII case-insensitive search for `managedclusters`, at memory speed),
//! and decodes the rest as UTF-8, with exact errors for other encodings and binary data.

use crate::error::Error;
use std::cell::RefCell;
use std::io::{self, Read};
use std::path::Path;

/// The largest file armfix reads (32 MiB). ARM itself refuses templates over 4 MB; parsing,
/// verifying and diffing a file takes several times its size in memory, so a larger file is
/// reported instead of read (when it mentions the marker; otherwise it is skipped).
pub(crate) const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// What reading a candidate gave.
#[derive(Debug)]
pub(crate) enum Contents {
    Bytes(Vec<u8>),
    /// Over [`MAX_FILE_BYTES`]: not kept in memory; only searched for the marker.
    TooLarge {
        mentions_rule: bool,
    },
}

/// Reads a file another file refers to (a parameter file, a module) as text: `None` when it
/// cannot be read, is too large, or is not UTF-8 (such a file is not followed).
pub(crate) fn read_text(path: &Path) -> Option<String> {
    match read_file(path) {
        Ok(Contents::Bytes(bytes)) => decode(bytes).ok(),
        _ => None,
    }
}

/// The first line of a regular file (at most 256 bytes), to read its `#!` line. `None` for
/// anything else: FIFOs and devices are never read from, so a walk cannot hang on them.
pub(crate) fn first_line(path: &Path) -> Option<Vec<u8>> {
    let file = open_for_reading(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(256);
    file.take(256).read_to_end(&mut head).ok()?;
    let end = memchr::memchr(b'\n', &head).unwrap_or(head.len());
    head.truncate(end);
    Some(head)
}

/// Reads a candidate without ever blocking on it or reading without end: a FIFO with no
/// writer reads as empty instead of hanging the run, devices are refused, and only the first
/// [`MAX_FILE_BYTES`] are kept.
pub(crate) fn read_file(path: impl AsRef<Path>) -> io::Result<Contents> {
    let file = open_for_reading(path.as_ref())?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    if is_fifo(&kind) {
        restore_blocking(&file)?;
    } else if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a device or socket); not read",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_FILE_BYTES) as usize + 1);
    (&file).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 <= MAX_FILE_BYTES {
        return Ok(Contents::Bytes(bytes));
    }
    // Too large to parse. Does it concern the rule at all? Search the rest as a stream,
    // starting a little before the cut so a marker across it is still seen.
    let mentions_rule = mentions_rule(&bytes) || {
        let mut window = bytes.split_off(bytes.len() - (MARKER.len() - 1));
        drop(bytes);
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = (&file).read(&mut chunk)?;
            if n == 0 {
                break false;
            }
            window.extend_from_slice(&chunk[..n]);
            if mentions_rule(&window) {
                break true;
            }
            // Keep the tail, so a marker across two chunks is still seen.
            window.drain(..window.len() - (MARKER.len() - 1));
        }
    };
    Ok(Contents::TooLarge { mentions_rule })
}

#[cfg(unix)]
fn open_for_reading(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Opening a FIFO blocks until a writer comes, unless O_NONBLOCK is given. The flag does
    // nothing to reads of a regular file; for a FIFO, `restore_blocking` turns it off once
    // open, so a FIFO with a writer (`<(cmd)`) is read in full and one without reads as empty.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(unix)]
fn restore_blocking(file: &std::fs::File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(unix))]
fn restore_blocking(_: &std::fs::File) -> io::Result<()> {
    Ok(())
}

#[cfg(not(unix))]
fn open_for_reading(path: &Path) -> io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(unix)]
fn is_fifo(kind: &std::fs::FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(kind)
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}

/// The word a file must contain (ignoring ASCII case) to possibly need a fix.
pub(crate) const MARKER: &str = "managedclusters";

/// True when the bytes mention the marker, in UTF-8 or (with a byte order mark) UTF-16.
pub fn mentions_rule(bytes: &[u8]) -> bool {
    mentions_any(bytes, &[MARKER])
}

/// True when the bytes contain one of `markers` ignoring ASCII case, in UTF-8 or (with a
/// byte order mark) UTF-16. Markers made of letters match exactly; other bytes in a marker
/// may also match their counterpart with bit 0x20 flipped (a prefilter may say yes too
/// often, never too rarely).
pub(crate) fn mentions_any(bytes: &[u8], markers: &[&str]) -> bool {
    let needles: Vec<&[u8]> = markers.iter().map(|m| m.as_bytes()).collect();
    let found = |b: &[u8]| {
        contains_any_ignore_ascii_case(b, &needles)
            // A JSON string may spell a letter as `\u0063`: look again with those decoded.
            || (memchr::memmem::find(b, b"\\u").is_some()
                && contains_any_ignore_ascii_case(&unescape_ascii(b), &needles))
    };
    if found(bytes) {
        return true;
    }
    match utf16_units(bytes) {
        Some(units) => found(String::from_utf16_lossy(&units).as_bytes()),
        None => false,
    }
}

/// The bytes with every `\uXXXX` escape of an ASCII character replaced by that character
/// (other bytes, and escapes of other characters, are kept as they are).
fn unescape_ascii(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'u') {
            let code = bytes
                .get(i + 2..i + 6)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            if let Some(c) = code.filter(|c| *c < 0x80) {
                out.push(c as u8);
                i += 6;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Searches `haystack` for `needle` ignoring ASCII case (see
/// [`contains_any_ignore_ascii_case`]).
pub fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    contains_any_ignore_ascii_case(haystack, &[needle])
}

/// Searches `haystack` for any of `needles` ignoring ASCII case: each block of the haystack
/// is folded once (`| 0x20`, which maps `A`-`Z` onto `a`-`z`) into a per-thread buffer and
/// searched with memchr's SIMD `memmem` for every folded needle; blocks overlap by the
/// longest needle's length less one, so no match straddling two blocks is missed. Measured at
/// about twice the speed of aho-corasick's case-insensitive search (`cargo bench --bench
/// prefilter`); folding once for all needles, rather than once per needle, keeps a language
/// with several markers (Bicep 4, Terraform 6) at the cost of one.
pub fn contains_any_ignore_ascii_case(haystack: &[u8], needles: &[&[u8]]) -> bool {
    const BLOCK: usize = 8192;
    thread_local!(static FOLDED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) });
    if needles.iter().any(|n| n.is_empty()) {
        return true;
    }
    let folded_needles: Vec<Vec<u8>> = needles
        .iter()
        .map(|n| n.iter().map(|b| b | 0x20).collect())
        .collect();
    let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
    let shortest = needles.iter().map(|n| n.len()).min().unwrap_or(0);
    if longest == 0 {
        return false;
    }
    if longest > BLOCK / 2 {
        let folded: Vec<u8> = haystack.iter().map(|b| b | 0x20).collect();
        return folded_needles
            .iter()
            .any(|n| memchr::memmem::find(&folded, n).is_some());
    }
    let finders: Vec<memchr::memmem::Finder> = folded_needles
        .iter()
        .map(memchr::memmem::Finder::new)
        .collect();
    // A buffer reused for every file (a fresh one would be zeroed on every call).
    FOLDED.with_borrow_mut(|buf| {
        buf.resize(BLOCK, 0);
        let mut start = 0;
        while start + shortest <= haystack.len() {
            let end = (start + BLOCK).min(haystack.len());
            let block = &haystack[start..end];
            for (d, s) in buf.iter_mut().zip(block) {
                *d = s | 0x20;
            }
            let folded = &buf[..block.len()];
            if finders.iter().any(|f| f.find(folded).is_some()) {
                return true;
            }
            if end == haystack.len() {
                break;
            }
            start = end + 1 - longest;
        }
        false
    })
}

/// The UTF-16 code units of a file that starts with a UTF-16 byte order mark.
pub(crate) fn utf16_units(bytes: &[u8]) -> Option<Vec<u16>> {
    let le = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    Some(
        bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect(),
    )
}

/// Decodes a file as UTF-8 (keeping a UTF-8 byte order mark in the text).
pub fn decode(bytes: Vec<u8>) -> Result<String, Error> {
    decode_placed(bytes).map_err(|(e, _)| e)
}

/// Like [`decode`], also giving the 1-based line and column of the error (columns count the
/// characters before it, undecodable bytes as one each), so the message can point there.
pub(crate) fn decode_placed(bytes: Vec<u8>) -> Result<String, (Error, (usize, usize))> {
    if utf16_units(&bytes).is_some() {
        let e = Error::source(
            0,
            "the file is UTF-16 (it starts with a UTF-16 byte order mark); armfix reads \
                      UTF-8 only: convert it first",
        );
        return Err((e, (1, 1)));
    }
    if let Some(nul) = memchr_nul(&bytes) {
        let e = Error::source(
            nul,
            "the file holds binary data (a NUL byte); it is not a template",
        );
        return Err((e, byte_line_col(&bytes, nul)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let place = byte_line_col(e.as_bytes(), offset);
        let e = Error::source(offset, "the file is not valid UTF-8");
        (e, place)
    })
}

/// The 1-based line and column of `offset` in bytes that may not be valid UTF-8.
fn byte_line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let mut line = &before[line_start..];
    if line_start == 0 {
        line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
    }
    let line_no = before.iter().filter(|b| **b == b'\n').count() + 1;
    (line_no, String::from_utf8_lossy(line).chars().count() + 1)
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(0, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_ignores_case_and_sees_utf16() {
        assert!(mentions_rule(
            b"x Microsoft.ContainerService/MANAGEDClusters"
        ));
        assert!(!mentions_rule(
            b"{\"type\": \"Microsoft.Storage/storageAccounts\"}"
        ));
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "managedClusters"
                    .encode_utf16()
                    .flat_map(|u| u.to_le_bytes()),
            )
            .collect();
        assert!(mentions_rule(&utf16));
        assert!(decode(utf16).unwrap_err().message.contains("UTF-16"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_without_writer_reads_as_empty_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string and a mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        match read_file(&fifo).unwrap() {
            Contents::Bytes(b) => assert!(b.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused() {
        let e = read_file(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        assert!(read_file(dir.path())
            .unwrap_err()
            .to_string()
            .contains("is a directory"));
    }

    #[test]
    fn files_over_the_limit_are_only_searched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.json");
        // Sparse: cheap to make, and read as zeros.
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(MAX_FILE_BYTES + 10).unwrap();
        assert!(matches!(
            read_file(&p).unwrap(),
            Contents::TooLarge {
                mentions_rule: false
            }
        ));
        // The marker straddling the cut is still found.
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.seek(SeekFrom::Start(MAX_FILE_BYTES - 5)).unwrap();
        f.write_all(b"ManagedClusters").unwrap();
        drop(f);
        assert!(matches!(
            read_file(&p).unwrap(),
            Contents::TooLarge {
                mentions_rule: true
            }
        ));
        std::fs::write(&p, b"managedClusters").unwrap();
        assert!(matches!(read_file(&p).unwrap(), Contents::Bytes(b) if b.len() == 15));
    }

    #[test]
    fn decode_errors_carry_lines_and_columns() {
        let (e, place) = decode_placed(b"{\n  \"a\": \"\xff\"}".to_vec()).unwrap_err();
        assert_eq!((e.offset, place), (10, (2, 9)));
        let (_, place) =
            decode_placed(b"\xef\xbb\xbf\xe9t\xe9\n \xc3\xa9\x00".to_vec()).unwrap_err();
        assert_eq!(place, (2, 3));
    }

    /// The blocked search against a plain scan, on every needle position around the block
    /// edges and with every case mix of a short needle.
    #[test]
    fn a_search_for_several_needles_finds_each_across_block_edges() {
        let plain = |h: &[u8], n: &[u8]| h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
        let needles: [&[u8]; 3] = [b"managedclusters", b"templatelink", b"az"];
        for len in [0, 2, 15, 8191, 8192, 8193, 16390, 20000] {
            let base = vec![b'x'; len];
            assert!(!contains_any_ignore_ascii_case(&base, &needles), "{len}");
            for n in needles {
                for at in (0..=len.saturating_sub(n.len())).filter(|a| {
                    *a < 20 || a.abs_diff(8192) < 20 || a.abs_diff(16384) < 20 || *a + 20 > len
                }) {
                    if len < n.len() {
                        break;
                    }
                    let mut h = base.clone();
                    let upper: Vec<u8> = n.to_ascii_uppercase();
                    h[at..at + n.len()].copy_from_slice(&upper);
                    assert!(plain(&h, n));
                    assert!(
                        contains_any_ignore_ascii_case(&h, &needles),
                        "{} in {len} at {at}",
                        String::from_utf8_lossy(n)
                    );
                    assert!(!contains_any_ignore_ascii_case(&h, &[b"absent"]));
                }
            }
        }
        assert!(!contains_any_ignore_ascii_case(b"anything", &[]));
    }

    #[test]
    fn blocked_search_matches_a_plain_scan() {
        fn plain(h: &[u8], n: &[u8]) -> bool {
            h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
        }
        let needle = b"managedclusters";
        for len in [
            0, 1, 14, 15, 16, 8191, 8192, 8193, 8205, 16384, 16400, 20000,
        ] {
            let base = vec![b'x'; len];
            assert!(!contains_ignore_ascii_case(&base, needle), "{len}");
            for at in (0..=len.saturating_sub(needle.len())).filter(|a| {
                *a < 40 || a.abs_diff(8192) < 40 || a.abs_diff(16384) < 40 || *a + 40 > len
            }) {
                if len < needle.len() {
                    break;
                }
                let mut h = base.clone();
                h[at..at + needle.len()].copy_from_slice(b"MaNaGeDcLuStErS");
                assert!(contains_ignore_ascii_case(&h, needle), "len {len} at {at}");
                assert!(plain(&h, needle));
                // One wrong letter: no match anywhere.
                h[at + 7] = b'x';
                assert!(!contains_ignore_ascii_case(&h, needle), "len {len} at {at}");
            }
        }
        for mask in 0u32..(1 << 5) {
            let word: Vec<u8> = b"abcde"
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if mask & (1 << i) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        *c
                    }
                })
                .collect();
            let h = [b"..".as_slice(), &word, b".."].concat();
            assert!(contains_ignore_ascii_case(&h, b"abcde"));
            assert!(contains_ignore_ascii_case(&h, b"ABCDE"));
        }
        // Non-letters fold too: the prefilter may say yes too often, never too rarely.
        assert!(contains_ignore_ascii_case(b"a-b", b"a-b"));
        assert!(!contains_ignore_ascii_case(b"manag", needle));
        let long = vec![b'q'; 5000];
        assert!(contains_ignore_ascii_case(&long, &long[..4500]));
        assert!(mentions_any(
            b"x enableSECRETrotation",
            &["managedclusters", "enablesecretrotation"]
        ));
    }

    #[test]
    fn escaped_letters_are_seen() {
        assert!(mentions_rule(
            br#"{"type": "Microsoft.ContainerService/managed\u0043lusters"}"#
        ));
        assert!(mentions_rule(br#""\u006D\u0061nagedclusters""#));
        assert!(!mentions_rule(br#""\u006Xanagedclusters \u00e9""#));
        assert_eq!(unescape_ascii(br"a\u0041\u00e9\u12"), br"aA\u00e9\u12");
    }

    #[test]
    fn decode_errors_carry_offsets() {
        let e = decode(b"{\"a\": \"\xff\"}".to_vec()).unwrap_err();
        assert_eq!(e.offset, 7);
        assert!(decode(b"{\x00}".to_vec())
            .unwrap_err()
            .message
            .contains("binary"));
        assert_eq!(
            decode("\u{feff}{}".as_bytes().to_vec()).unwrap(),
            "\u{feff}{}"
        );
    }
}
