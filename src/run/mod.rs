//! The run stages between the command line and the output: [`discover`] the files,
//! [`read`] and prefilter them, run the per-file pipeline in the [`engine`] (with the
//! deploy-time proof, `prove`, in each configuration `configurations` finds), settle what
//! one file says because of another ([`link`]), do it for many files in parallel
//! ([`batch`]), and [`mod@write`] fixes atomically; `subset` applies part of a file's fixes
//! (a review's accepted findings), proven again.

pub(crate) mod batch;
pub(crate) mod configurations;
pub mod discover;
pub mod engine;
pub(crate) mod link;
pub(crate) mod prove;
pub mod read;
pub(crate) mod subset;
pub mod write;
