//! The one error type of analysing a file: what went wrong ([`ErrorKind`]), the byte offset to
//! point at, and a message. A bug in armfix itself is [`ErrorKind::Internal`], shown with the
//! words "internal error: " before its message; every other error is the file's own.

/// What kind of error an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file as written cannot be analysed: it does not decode or parse, or it is
    /// ambiguous (a duplicate key).
    Source,
    /// A bug in armfix: a fix it planned cannot be rendered or placed.
    Internal,
}

/// Why a file cannot be analysed, and the byte offset to point at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if *.kind == ErrorKind::Internal { "internal error: " } else { "" })]
pub struct Error {
    pub kind: ErrorKind,
    pub offset: usize,
    /// The message without the "internal error: " words; [`Error`]'s `Display` adds them.
    pub message: String,
}

impl Error {
    /// An error of the file as written, at `offset`.
    pub(crate) fn source(offset: usize, message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Source,
            offset,
            message: message.into(),
        }
    }

    /// A bug in armfix, noticed at `offset`.
    pub(crate) fn internal(offset: usize, message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Internal,
            offset,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_shown_as_such() {
        assert_eq!(Error::source(3, "bad").to_string(), "bad");
        assert_eq!(
            Error::internal(3, "cannot render the fix: x").to_string(),
            "internal error: cannot render the fix: x"
        );
    }
}
