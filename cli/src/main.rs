//! The `tracker` binary: parses arguments and hands off to [`tracker_cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    tracker_cli::run(std::env::args_os())
}
