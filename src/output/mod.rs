//! What a person or a machine is shown: [`present`] draws findings, diffs (with
//! [`textdiff`]) and summaries for a terminal; [`report`] writes JSON, SARIF, GitHub
//! annotations and Markdown summaries.

pub mod present;
pub(crate) mod progress;
pub(crate) mod report;
pub(crate) mod textdiff;
