//! One module per subcommand; [`dispatch`] picks the one the user asked for.

pub mod batch;
pub mod check;
pub mod conformance;
pub mod dash;
pub mod doctor;
pub mod fmt;
pub mod init;
pub mod run;
pub mod setup;
pub mod simulate;
pub mod steer;
pub mod test;
pub mod validate;
pub mod workflows;

use anyhow::Result;

use crate::args::{Cli, Command, ConformanceSubcommand};

/// Runs the parsed command line and returns the exit code.
pub fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Workflows => workflows::run(),
        Command::Run(args) => run::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Conformance(c) => match c.command {
            ConformanceSubcommand::Golden(args) => conformance::run(&args),
        },
        Command::Doctor(args) => doctor::run(&args),
        Command::Setup(args) => setup::run(&args),
        Command::Steer(args) => steer::run(&args),
        Command::Serve(args) => crate::serve::run(&args),
        Command::Dash(args) => dash::run(&args),
        Command::Submit(args) => crate::serve::client::submit(&args),
        Command::Ps(args) => crate::serve::client::ps(&args),
        Command::Logs(args) => crate::serve::client::logs(&args),
        Command::Cancel(args) => crate::serve::client::cancel(&args),
        Command::Answer(args) => crate::serve::client::answer(&args),
    }
}

/// Loads and analyses a pipeline argument: the document plus every diagnostic
/// (parse errors alone when the file does not parse).
pub(crate) fn analyse(
    arg: &std::ffi::OsStr,
    environment: bool,
) -> Result<(
    crate::pipeline::PipelineSource,
    dippin::Document,
    Vec<dippin::Diagnostic>,
)> {
    let cwd = std::env::current_dir()?;
    let source = crate::pipeline::resolve(arg, &cwd)?;
    let doc = crate::pipeline::load(&source)?;
    let mut diags = doc.diagnostics.clone();
    if !doc.has_errors() {
        let base_dir = source.base_dir();
        let options = dippin::lint::LintOptions {
            base_dir,
            environment,
        };
        diags.extend(dippin::analyze(&doc, &options));
    }
    Ok((source, doc, diags))
}
