//! Reads a candidate's bytes, drops files that cannot concern the rule before anything
//! parses them (a case-insensitive search for `managedclusters`), and decodes the rest as
//! UTF-8, with exact errors for other encodings and binary data.

use crate::finding::SourceError;
use aho_corasick::AhoCorasick;
use std::sync::OnceLock;

/// The word a file must contain (ignoring ASCII case) to possibly need a fix.
pub const MARKER: &str = "managedclusters";

fn marker() -> &'static AhoCorasick {
    static M: OnceLock<AhoCorasick> = OnceLock::new();
    M.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([MARKER])
            .expect("a literal pattern builds")
    })
}

/// True when the bytes mention the marker, in UTF-8 or (with a byte order mark) UTF-16.
pub fn mentions_rule(bytes: &[u8]) -> bool {
    if marker().is_match(bytes) {
        return true;
    }
    match utf16_units(bytes) {
        Some(units) => {
            let text = String::from_utf16_lossy(&units);
            marker().is_match(text.as_bytes())
        }
        None => false,
    }
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
pub fn decode(bytes: Vec<u8>) -> Result<String, SourceError> {
    if utf16_units(&bytes).is_some() {
        return Err(SourceError {
            offset: 0,
            message: "the file is UTF-16 (it starts with a UTF-16 byte order mark); armfix reads \
                      UTF-8 only: convert it first"
                .into(),
        });
    }
    if let Some(nul) = memchr_nul(&bytes) {
        return Err(SourceError {
            offset: nul,
            message: "the file holds binary data (a NUL byte); it is not a template".into(),
        });
    }
    String::from_utf8(bytes).map_err(|e| SourceError {
        offset: e.utf8_error().valid_up_to(),
        message: "the file is not valid UTF-8".into(),
    })
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == 0)
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
