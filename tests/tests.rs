//! The integration tests, as one binary (`cargo test --test integration`): a module per
//! feature, and `util` for what they share (running the binary, fixtures, temporary copies,
//! snapshot settings, small templates and an independent JSON reader). Snapshots live in
//! `snapshots/` under explicit names, fixtures in `tests/fixtures/`. Tests that read the
//! shared corpus (`../shared/corpus`) skip that part when it is absent.

// Shared helpers (and the `snapshot!` macro), first so every module can use them.
#[macro_use]
mod util;

mod arm_fixtures;
mod bicep;
mod bicep_params;
mod break4;
mod cli;
mod compiled_json;
mod config;
mod deploy_proof;
mod github;
mod help_and_completions;
mod interrupt;
mod json_output;
mod links;
mod markdown_summary;
mod params;
mod pre_commit;
mod prefilter;
mod prompt;
mod proof_properties;
mod properties;
mod pruned_parse;
mod real_world;
mod reliability;
mod sarif;
mod scripts;
mod stdin;
mod terraform;
mod tracing;
mod verbosity;
