//! `tracker-cli`: the `tracker` command-line interface.
//!
//! * [`args`] — the clap definitions (they only parse and validate);
//! * [`commands`] — one module per subcommand, each with a `run` returning an exit code;
//! * [`dashboard`] — the terminal dashboard: a run's view and how it is drawn;
//! * [`load`] — a pipeline and its subgraphs, checked and ready to run;
//! * [`output`] — console and NDJSON event printers, and the end-of-run summary;
//! * [`providers`] — LLM provider keys, URLs, tuning and completers;
//! * [`pipeline`] — resolving a pipeline argument to a file or a built-in workflow;
//! * [`report`] — printing diagnostics for humans and as `check` JSON;
//! * [`serve`] — the run service and its clients;
//! * [`workflows`] — the built-in workflows embedded from `workflows/`.
//!
//! [`run`] is the single place where results become process exit codes.

pub mod args;
pub mod commands;
pub mod dashboard;
pub mod interviewer;
pub mod load;
pub mod output;
pub mod pipeline;
pub mod providers;
pub mod report;
pub mod serve;
pub mod signals;
pub mod workflows;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

/// Exit codes shared by every command.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The input has errors (invalid pipeline, failed run, unreadable file).
    pub const FAILURE: u8 = 1;
    /// Bad command-line usage (the reference uses 1 for flag errors too).
    pub const USAGE: u8 = 1;
    /// The run ended `validation_overridden` under `--fail-on-override`.
    pub const OVERRIDDEN: u8 = 2;
    /// `tracker doctor` found warnings but no failures.
    pub const WARNINGS: u8 = 2;
}

/// Parses `args` and runs the chosen command, returning the process exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = with_default_command(args);
    // `tracker test` keeps failing tests (1) apart from a command it cannot
    // use (2), as it does for an unusable test file.
    let testing = args.get(1).is_some_and(|a| a == "test");
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with status 0; usage errors exit 1,
            // as the reference's do.
            let code = match (err.use_stderr(), testing) {
                (false, _) => exit::OK,
                (true, true) => commands::test::BAD_TESTS,
                (true, false) => exit::USAGE,
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                // The reader went away (e.g. `tracker fmt x.dip | head`): by Unix
                // convention that is not a failure of ours.
                return ExitCode::from(exit::OK);
            }
            // Errors may quote a workflow, a model or a command: shown
            // printable, and a closed stderr is not a reason to panic.
            let text = format!("{err:#}");
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                dippin::diagnostic::printable_text(&text)
            );
            exit::FAILURE
        }
    };
    ExitCode::from(code)
}

/// `tracker <pipeline> [flags]` means `tracker run <pipeline> [flags]`: when the
/// first argument is neither a subcommand nor help/version, `run` is inserted.
fn with_default_command<I, T>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let Some(first) = args.get(1) else {
        return args;
    };
    // A first argument that is not UTF-8 is no subcommand: a pipeline's path.
    let known = first.to_str().is_some_and(|first| {
        <args::Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .any(|c| c.get_name() == first)
            || matches!(first, "help" | "-h" | "--help" | "-V" | "--version")
    });
    if !known {
        args.insert(1, OsString::from("run"));
    }
    args
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
