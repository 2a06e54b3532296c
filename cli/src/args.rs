//! Command-line arguments. These types only parse and validate; commands turn them
//! into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run multi-agent LLM pipelines written in Dippin.
#[derive(Debug, Parser)]
#[command(name = "tracker", version, about, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a pipeline for errors and warnings (exit 1 on errors).
    Validate(ValidateArgs),
    /// Like validate, plus checks against this machine; `--json` prints the check report.
    Check(CheckArgs),
    /// Print a pipeline in canonical form, or check or rewrite it in place.
    Fmt(FmtArgs),
    /// List the built-in workflows.
    Workflows,
}

/// `tracker validate <pipeline>`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A `.dip` or `.dot` file, or the name of a built-in workflow.
    pub pipeline: String,
}

/// `tracker check <pipeline> [--json]`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A `.dip` or `.dot` file, or the name of a built-in workflow.
    pub pipeline: String,
    /// Print one JSON object (the reference's `check` shape) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `tracker fmt <file> [--check | --write]`
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// The file to format.
    pub file: PathBuf,
    /// Exit 1 if the file is not already formatted; print nothing else.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Rewrite the file in place (atomically).
    #[arg(long)]
    pub write: bool,
}
