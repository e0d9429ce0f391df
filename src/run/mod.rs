//! The run stages between the command line and the output: [`discover`] the files,
//! [`read`] and prefilter them, run the per-file pipeline in the [`engine`] (with the
//! deploy-time proof, `prove`, in each configuration `configurations` finds), settle what
//! one file says because of another ([`link`]), do it for many files in parallel
//! ([`batch`]), and [`mod@write`] fixes atomically.

pub(crate) mod batch;
pub(crate) mod configurations;
pub mod discover;
pub mod engine;
pub(crate) mod link;
pub(crate) mod prove;
pub mod read;
pub mod write;
