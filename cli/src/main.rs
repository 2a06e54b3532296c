//! The `tracker` binary: parses arguments and hands off to [`tracker_cli::run`].

use std::process::ExitCode;

/// mimalloc rather than the system's allocator: a run makes and drops many
/// small values per event, often on another thread than made them (a service's
/// runs hand events to its API thread), and glibc's malloc took a fifth of a
/// service run thread's time (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracker_cli::run(std::env::args_os())
}
