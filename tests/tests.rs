//! End-to-end tests of the `tracker` binary and the `dippin` front end over real files.
//!
//! One test binary (ripgrep's layout): each module is one area.

mod cli;
mod conformance;
mod corpus;
mod crash;
mod diagnostics;
mod events;
mod formatting;
mod language_guide;
mod lints;
mod providers;
mod run;
