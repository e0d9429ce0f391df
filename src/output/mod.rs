//! What a person or a machine is shown: [`present`] draws findings, diffs (with
//! [`textdiff`]) and summaries for a terminal, `review` what surrounds each diff in `fix`'s
//! review; [`report`] writes JSON, SARIF, GitHub annotations and Markdown summaries.

pub mod present;
pub(crate) mod progress;
pub(crate) mod report;
pub(crate) mod review;
pub(crate) mod textdiff;
