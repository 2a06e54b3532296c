//! Command-line arguments. These types only parse and validate; commands turn them
//! into work.

use std::ffi::OsString;
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
    /// Run a pipeline (also: `tracker <pipeline>`).
    Run(Box<RunArgs>),
    /// Show what a pipeline would do, without running anything.
    Simulate(SimulateArgs),
    /// Run a pipeline's scenario tests (`<pipeline>.test.json`) through the
    /// simulator: routing checked without a model, a shell or a person.
    Test(TestArgs),
    /// Copy a built-in workflow into the current directory as `<name>.dip`.
    Init(InitArgs),
    /// Conformance harness (`tracker conformance golden <fixture.dip>`).
    Conformance(ConformanceCommand),
    /// Check API keys, provider reachability and the working directory.
    Doctor(DoctorArgs),
    /// Store provider API keys and base URLs in tracker's env file.
    Setup(SetupArgs),
    /// Send a message to a running agent node (delivered before its next turn).
    Steer(SteerArgs),
    /// Run a service hosting many runs in this process, driven over a local socket.
    Serve(ServeArgs),
    /// Watch every run recorded under the working directory on a dashboard.
    Dash(DashArgs),
    /// Submit a pipeline to the running service; prints the run id.
    Submit(SubmitArgs),
    /// List the service's runs.
    Ps(PsArgs),
    /// Print a service run's events (`-f`: follow it to its end).
    Logs(LogsArgs),
    /// Cancel a service run.
    Cancel(CancelArgs),
    /// Answer a gate a service run waits at.
    Answer(AnswerArgs),
}

/// `tracker answer`
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The run's id.
    pub run: String,
    /// The gate's node id.
    pub node: String,
    /// The choice (its label) or the text.
    pub answer: String,
    /// For an interview: the answer to each question, in order; repeatable.
    #[arg(long = "question-answer", value_name = "TEXT")]
    pub answers: Vec<String>,
    /// The service's socket.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// How `tracker serve` logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per record.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `tracker serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The socket to listen on (default: `$TRACKER_SOCKET`, else
    /// `$XDG_RUNTIME_DIR/tracker/tracker.sock`, else under the state directory).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Where the service keeps its records of unfinished runs (default
    /// `~/.local/state/tracker/service`).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Also serve the API over TCP on this address (e.g. 127.0.0.1:7411);
    /// every request then needs the bearer token kept in the state directory.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Let `--listen` take an address other machines can reach.
    #[arg(long, requires = "listen")]
    pub allow_remote: bool,
    /// How many runs run at once (0: no limit); the others wait in order.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_runs: usize,
    /// How many agent sessions run at once across all runs (0: no limit);
    /// the others wait for a slot, in order.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_agent_sessions: usize,
    /// A ceiling on what all runs together spend on LLM calls, in US
    /// dollars: once reached, new calls wait until it is raised
    /// (`POST /v1/limits`).
    #[arg(long, value_name = "USD", value_parser = parse_dollars)]
    pub max_cost: Option<f64>,
    /// How many requests each provider has in flight at once across all runs
    /// (default `$TRACKER_LLM_CONCURRENCY`, else 8).
    #[arg(long, value_name = "N")]
    pub provider_concurrency: Option<usize>,
    /// How logs are written to stderr (`RUST_LOG` filters them).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Do not fsync checkpoints.
    #[arg(long)]
    pub no_fsync: bool,
}

/// `tracker dash`
#[derive(Debug, Args)]
pub struct DashArgs {
    /// Where the runs were started (default: here).
    #[arg(short = 'w', long, value_name = "DIR", conflicts_with = "service")]
    pub workdir: Option<PathBuf>,
    /// Show the runs of the running `tracker serve` instead (`x` cancels
    /// one).
    #[arg(long)]
    pub service: bool,
    /// The service's socket (with `--service`).
    #[arg(long, value_name = "PATH", requires = "service")]
    pub socket: Option<PathBuf>,
}

/// `tracker submit`
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// A `.dip` file or the name of a built-in workflow.
    pub pipeline: OsString,
    /// A value for a declared workflow variable; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Where its tools work and its run directory goes (default: here).
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Answer its human gates automatically.
    #[arg(long)]
    pub auto_approve: bool,
    /// Run every agent node on this provider (`stub`: offline, no key).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Run every agent node with this model.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Follow the run on the console and exit with its exit code.
    #[arg(long)]
    pub wait: bool,
    /// With `--wait`, events as NDJSON.
    #[arg(long)]
    pub json: bool,
    /// The service's socket.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// `tracker ps`
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Finished runs too.
    #[arg(short, long)]
    pub all: bool,
    /// As JSON.
    #[arg(long)]
    pub json: bool,
    /// The service's socket.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// `tracker logs`
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run's id.
    pub run: String,
    /// Follow the run until it ends.
    #[arg(short, long)]
    pub follow: bool,
    /// Events as NDJSON.
    #[arg(long)]
    pub json: bool,
    /// The service's socket.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// `tracker cancel`
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run's id.
    pub run: String,
    /// The service's socket.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// `tracker doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The working directory to check (default: the current one).
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Skip the live call that checks each provider's key and reachability.
    #[arg(long)]
    pub no_probe: bool,
}

/// `tracker setup`
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Write this env file instead of `~/.config/tracker/.env`.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `tracker steer <run-id> <node> <message>`
#[derive(Debug, Args)]
pub struct SteerArgs {
    /// The run (a prefix of its id).
    pub run_id: String,
    /// The agent node.
    pub node: String,
    /// The message.
    pub message: String,
    /// Root of `.tracker/` (default: the current directory).
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Where run directories are (default `<workdir>/.tracker/runs`).
    #[arg(long, value_name = "DIR")]
    pub artifact_dir: Option<PathBuf>,
}

/// `tracker run <pipeline> [flags]`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// `.dip` or `.dot` files, or names of built-in workflows: several run at
    /// once in this process, each in its own run directory. With `--resume`
    /// one may be given, or none: the run's own copy is used.
    pub pipelines: Vec<OsString>,
    /// With several pipelines, how many run at once (0: all of them); the
    /// others wait in order.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_concurrent: usize,
    /// Root for `.tracker/` and the working directory of tool commands.
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Resume the run whose id starts with this (see `.tracker/runs/`).
    #[arg(short = 'r', long = "resume", value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Where run directories go (default `<workdir>/.tracker/runs`).
    #[arg(long, value_name = "DIR")]
    pub artifact_dir: Option<PathBuf>,
    /// Override a declared workflow variable (`${params.KEY}`); repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Stream events as NDJSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// One line per event instead of the dashboard (which a run on a
    /// terminal shows otherwise).
    #[arg(long)]
    pub no_tui: bool,
    /// Answer every human gate automatically (default or first option).
    #[arg(long)]
    pub auto_approve: bool,
    /// Stop the run when its total tokens exceed this (checked after each
    /// node, as the reference does: one agent node may pass it).
    #[arg(long, value_name = "TOKENS")]
    pub max_tokens: Option<u64>,
    /// Stop the run when its cost exceeds this many US cents (checked after
    /// each node, as the reference does: one agent node may pass it).
    #[arg(long, value_name = "CENTS")]
    pub max_cost: Option<u64>,
    /// Stop the run when it has run longer than this (e.g. `30m`, `1h30m`;
    /// checked after each node).
    #[arg(long, value_name = "DURATION")]
    pub max_wall_time: Option<String>,
    /// Run every agent node on this provider (`stub` runs offline).
    #[arg(long, value_name = "PROVIDER")]
    pub provider: Option<String>,
    /// Run every agent node with this model.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Exit 2 when the run ends `validation_overridden`.
    #[arg(long)]
    pub fail_on_override: bool,
    /// Disable the tool-command denylist (loudly).
    #[arg(long)]
    pub bypass_denylist: bool,
    /// Only allow commands matching these globs (comma-separated; repeatable), in tool nodes and the agent's bash tool: every command of a list or pipeline must match; $(…), backquotes, subshells and file redirections are refused.
    #[arg(long, value_name = "PATTERNS", value_parser = patterns)]
    pub tool_allowlist: Vec<String>,
    /// Also deny tool commands matching these globs (comma-separated; repeatable).
    #[arg(long, value_name = "PATTERNS")]
    pub tool_denylist_add: Vec<String>,
    /// The largest `output_limit` a tool may set, in bytes (default 10 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_output_limit: Option<u64>,
    /// Supervision policy, `[NODE:]restart=...,intensity=N/WINDOW,backoff=MIN..MAX,escalate=fail-run|fail-node`; repeatable.
    #[arg(long = "supervise", value_name = "[NODE:]POLICY")]
    pub supervise: Vec<String>,
    /// Do not fsync checkpoints (faster; a power loss may lose the last steps).
    #[arg(long)]
    pub no_fsync: bool,
    /// Send provider traffic through this gateway (as `TRACKER_GATEWAY_URL`).
    #[arg(long, value_name = "URL")]
    pub gateway_url: Option<String>,
    /// The gateway's kind: `cf-aig` (default) or `bedrock` (as
    /// `TRACKER_GATEWAY_KIND`).
    #[arg(long, value_name = "KIND", value_parser = ["cf-aig", "bedrock"])]
    pub gateway_kind: Option<String>,
}

/// A `--tool-allowlist` value: at least one pattern. An empty value would
/// otherwise mean no allowlist at all, the opposite of what was asked.
fn patterns(value: &str) -> Result<String, String> {
    if value.split(',').all(|p| p.trim().is_empty()) {
        return Err(
            "no pattern given: an empty allowlist would allow every command (give globs such as 'git *,make *')"
                .into(),
        );
    }
    Ok(value.to_string())
}

/// `tracker simulate <pipeline>`
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A `.dip` or `.dot` file, or the name of a built-in workflow.
    pub pipeline: OsString,
}

/// `tracker test <pipeline> [tests]`
#[derive(Debug, Args)]
pub struct TestArgs {
    /// A `.dip` or `.dot` file, or the name of a built-in workflow.
    pub pipeline: OsString,
    /// The scenario file (default: `<pipeline>.test.json` beside it).
    pub tests: Option<PathBuf>,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// Run only the tests whose name contains this text.
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
}

/// How `tracker test` prints its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// A line per test, its path, and why a failing one failed.
    Text,
    /// The reference's JSON (`results`, `passed`, `failed`, `total`).
    Json,
}

/// `tracker init [name]`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The built-in workflow to copy; without it, the list is printed.
    pub name: Option<String>,
}

/// `tracker conformance …`
#[derive(Debug, Args)]
pub struct ConformanceCommand {
    /// What to run.
    #[command(subcommand)]
    pub command: ConformanceSubcommand,
}

/// The conformance subcommands.
#[derive(Debug, Subcommand)]
pub enum ConformanceSubcommand {
    /// Run a golden fixture and print its normalized trace.
    Golden(ConformanceArgs),
}

/// `tracker conformance golden <fixture.dip>`
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The fixture. The arguments are taken raw: anything but one fixture is
    /// a usage error the harness reports as JSON (`{"error": …}`), as the
    /// reference's does, not clap's text.
    #[arg(value_name = "FIXTURE", num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<OsString>,
}

/// `tracker validate <pipeline>`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A `.dip` or `.dot` file, or the name of a built-in workflow.
    pub pipeline: OsString,
}

/// `tracker check <pipeline> [--json]`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A `.dip` or `.dot` file, or the name of a built-in workflow.
    pub pipeline: OsString,
    /// Print one JSON object (the reference's `check` shape) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `tracker fmt <file> [--check | --write]`
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// The file to format.
    pub file: PathBuf,
    /// Exit 1 if the file is not already formatted (saying so on stderr);
    /// print no formatted text.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Rewrite the file in place (atomically).
    #[arg(long)]
    pub write: bool,
}

/// A non-negative, finite amount of dollars.
fn parse_dollars(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(usd) if usd.is_finite() && usd >= 0.0 => Ok(usd),
        _ => Err(format!("{text:?} is not an amount of dollars (e.g. 2.50)")),
    }
}
