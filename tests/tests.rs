//! End-to-end tests of the `tracker` binary and the `dippin` front end over real files.
//!
//! One test binary (ripgrep's layout): each module is one area.

mod agent_run;
mod arguments;
mod attributes;
mod batch;
mod cli;
mod conformance;
mod corpus;
mod crash;
mod credentials;
mod dashboard;
mod diagnostics;
mod events;
mod formatting;
mod hardening;
mod language_guide;
mod lints;
mod provider_setup;
mod providers;
mod run;
mod scenario_tests;
mod serve;
mod serve_admission;
mod serve_chaos;
mod serve_limits;
mod serve_recovery;
mod signals;
mod structure;
mod terminal_text;
mod tool_allowlist;
mod url_credentials;
