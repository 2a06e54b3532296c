//! `tracker run <pipeline>` (and `tracker <pipeline>`): runs a pipeline to its
//! end under the actor runtime, printing events as they happen and a summary
//! at the end.
//!
//! Everything that can be checked is checked before the run directory is
//! created — the pipeline, its parameters, budgets, providers, the working and
//! artifact directories, the run to resume — so a bad invocation leaves
//! nothing behind.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use dippin::duration::GoDuration;
use tracker_actors::activity::{self, audit_base};
use tracker_actors::clock::SystemClock;
use tracker_actors::launch::{launch, Finished, RunOptions};
use tracker_actors::process::Process;
use tracker_actors::run_dir::{self, RunDir};
use tracker_actors::store::Durability;
use tracker_handlers::child::Subgraphs;
use tracker_handlers::human::{AutoApprove, Interviewer};
use tracker_handlers::tool_safety::ToolPolicy;
use tracker_runtime::clock::Clock;
use tracker_runtime::engine::{BudgetLimits, RunEnd, TerminalStatus};
use tracker_runtime::plan::SpawnPlan;
use tracker_runtime::supervision::SupervisionPolicy;

use crate::args::RunArgs;
use crate::dashboard::app::Dashboard;
use crate::dashboard::model::RunView;
use crate::exit;
use crate::interviewer::ConsoleInterviewer;
use crate::load::{self, Diagnostics, Loaded};
use crate::output::console::ConsolePrinter;
use crate::output::ndjson::NdjsonPrinter;
use crate::output::summary::{failure_line, Summary};
use crate::pipeline;
use crate::providers::{self, providers_used};
use crate::signals::Interrupts;

/// Runs the pipeline (or several, with [`super::batch`]); returns the exit
/// code.
pub fn run(args: &RunArgs) -> Result<u8> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let workdir = working_dir(args.workdir.as_deref(), &cwd)?;
    let root = match &args.artifact_dir {
        Some(dir) => cwd.join(dir),
        None => run_dir::default_root(&workdir),
    };
    if args.pipelines.len() > 1 {
        if args.resume.is_some() {
            bail!("--resume takes at most one pipeline");
        }
        return super::batch::run(args, &cwd, workdir, &root);
    }
    let resume = match &args.resume {
        Some(prefix) => Some(run_dir::find(&root, prefix)?),
        None => None,
    };
    if let Some(dir) = resume.as_deref().filter(|dir| activity::completed(dir)) {
        bail!(
            "run {} completed; there is nothing to resume (its files: {})",
            dir.file_name().unwrap_or_default().to_string_lossy(),
            dir.display()
        );
    }
    let source = match (args.pipelines.first(), &resume) {
        (Some(arg), _) => pipeline::resolve(arg, &cwd)?,
        (None, Some(dir)) => pipeline::PipelineSource::of_run(dir)?,
        (None, None) => bail!(
            "which pipeline? give a .dip file or a built-in name (`tracker workflows` lists them)"
        ),
    };
    let Ready {
        display,
        plan,
        subgraphs,
        text,
        settings,
    } = ready(
        args,
        source.clone(),
        args.pipelines.first(),
        Params::Declared,
    )?;
    let completers = completers(args, &workdir, &providers_used(&plan, &subgraphs))?;

    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let durability = if args.no_fsync {
        Durability::NoSync
    } else {
        Durability::Sync
    };
    let mut run_dir = match &resume {
        Some(dir) => RunDir::resume(dir, clock.now(), durability)?,
        None => {
            let base = source.recorded_base();
            let copy = source.run_copy(&text, base.as_deref());
            RunDir::create(&root, copy, clock.now(), durability)?
        }
    };
    // Resumed with a pipeline, perhaps edited since: the run goes on with
    // it, and so will a later `tracker -r ID` alone. (Not one that lacks the
    // node the run resumes at: the run halts on it, and its copy stays.)
    let fits = run_dir
        .resumes_at()
        .is_none_or(|node| node.is_empty() || plan.node_index(node).is_some());
    if resume.is_some() && !args.pipelines.is_empty() && fits {
        let base = source.recorded_base();
        if run_dir.update_workflow(&source.run_copy(&text, base.as_deref()))? {
            eprintln!(
                "note: {} differs from the pipeline run {} started with; it goes on with this one (its copy is updated)",
                dippin::diagnostic::printable_line(&display),
                run_dir.id()
            );
        }
    }
    let run_id = run_dir.id().to_string();
    if !args.json {
        // A reader gone from stdout does not stop the run.
        let _ = writeln!(
            std::io::stdout(),
            "tracker: {} {} (run {run_id}, {})",
            if resume.is_some() {
                "resuming"
            } else {
                "running"
            },
            dippin::diagnostic::printable_line(&display),
            dippin::diagnostic::printable_line(&run_dir.path().display().to_string())
        );
    }

    let mut options = settings.options(workdir, completers, subgraphs, clock);
    if runs_one_node_at_a_time(&plan) {
        // The only work on this process's thread: waiting out its own disk
        // flush there is quicker than handing each save to another thread.
        run_dir.sync_on_run_thread();
    }
    options.run_dir = Some(run_dir);
    let started = Instant::now();
    let end = execute(plan, options, Output::of(args), !settings.auto_approve)?.end;

    let summary = Summary {
        run_id: &run_id,
        pipeline: &display,
        end: &end,
        elapsed: started.elapsed(),
        resume: Some(crate::output::resume_hint::command(&run_id, &display, args)),
        params: &args.params,
    }
    .render();
    // Written, not printed: after a hangup the terminal may be gone, and
    // that must not turn a cancelled run into a panic.
    if args.json {
        let _ = write!(std::io::stderr(), "{summary}");
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(summary.as_bytes())?;
        out.flush()?;
    }
    if let Some(line) = failure_line(&end) {
        let _ = writeln!(std::io::stderr(), "error: {line}");
    }
    Ok(exit_code(&end, args.fail_on_override))
}

/// Whether `plan` runs one node at a time on the run's thread: no parallel
/// branches and no child runs beside the node that is saving.
fn runs_one_node_at_a_time(plan: &SpawnPlan) -> bool {
    use tracker_runtime::plan::Handler;
    !plan.nodes.iter().any(|node| {
        matches!(
            node.handler,
            Handler::Parallel | Handler::Subgraph | Handler::ManagerLoop
        )
    })
}

/// The exit code for how a run ended.
pub fn exit_code(end: &RunEnd, fail_on_override: bool) -> u8 {
    match end.result.as_ref().map(|r| r.status) {
        Some(TerminalStatus::Success) => exit::OK,
        Some(TerminalStatus::ValidationOverridden) => {
            let env = std::env::var("TRACKER_FAIL_ON_OVERRIDE").is_ok_and(|v| v == "1");
            if fail_on_override || env {
                exit::OVERRIDDEN
            } else {
                exit::OK
            }
        }
        _ => exit::FAILURE,
    }
}

/// A pipeline loaded, checked and set up as the command line says: ready
/// for its run directory.
pub(super) struct Ready {
    /// How the pipeline was named on the command line.
    pub(super) display: String,
    /// Its plan, with parameters and model overrides applied.
    pub(super) plan: SpawnPlan,
    /// Its child workflows, overridden the same way.
    pub(super) subgraphs: Subgraphs,
    /// Its source, for the run's copy.
    pub(super) text: String,
    /// The command line's settings for it.
    pub(super) settings: Settings,
}

/// How `--param` values meet a pipeline's declared variables.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Params {
    /// Each must be declared by the pipeline.
    Declared,
    /// Those it does not declare are left out (several pipelines: each gets
    /// the ones it declares).
    Matching,
}

/// Loads the pipeline `source` (named `arg` on the command line) and applies
/// the command line's settings to it.
pub(super) fn ready(
    args: &RunArgs,
    source: pipeline::PipelineSource,
    arg: Option<&std::ffi::OsString>,
    params: Params,
) -> Result<Ready> {
    let loaded = load::load(&source, Diagnostics::Print)?;
    let display = arg.map_or_else(|| loaded.name.clone(), |p| p.to_string_lossy().into_owned());
    let settings = Settings::from_args(args, &loaded, params)?;
    let Loaded {
        mut plan,
        subgraphs,
        text,
        ..
    } = loaded;
    settings.apply(&mut plan)?;
    let subgraphs: Subgraphs = subgraphs
        .into_iter()
        .map(|(k, child)| {
            let mut child = (*child).clone();
            child.override_agents(settings.provider.as_deref(), settings.model.as_deref());
            (k, Arc::new(child))
        })
        .collect();
    Ok(Ready {
        display,
        plan,
        subgraphs,
        text,
        settings,
    })
}

/// The LLM clients for `used` providers, configured from the environment, the
/// working directory's env files and the gateway options.
pub(super) fn completers(
    args: &RunArgs,
    workdir: &Path,
    used: &BTreeMap<String, String>,
) -> Result<tracker_runtime::llm::Completers> {
    let mut env = providers::load_env(workdir)?;
    if let Some(url) = &args.gateway_url {
        env.set("TRACKER_GATEWAY_URL", url);
    }
    if let Some(kind) = &args.gateway_kind {
        env.set("TRACKER_GATEWAY_KIND", kind);
    }
    providers::completers(&env, used)
}

/// Everything the command line sets about a run besides its pipeline.
pub(super) struct Settings {
    params: BTreeMap<String, String>,
    provider: Option<String>,
    model: Option<String>,
    budget: BudgetLimits,
    tool_policy: ToolPolicy,
    supervision: SupervisionPolicy,
    pub(super) auto_approve: bool,
}

impl Settings {
    fn from_args(args: &RunArgs, loaded: &Loaded, check: Params) -> Result<Settings> {
        let mut params = BTreeMap::new();
        for pair in &args.params {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| anyhow!("--param {pair:?}: expected KEY=VALUE"))?;
            let key = key.trim();
            let declares = loaded
                .plan
                .graph_attrs
                .contains_key(&format!("params.{key}"));
            if !declares && check == Params::Matching {
                continue;
            }
            if !declares {
                let declared: Vec<&str> = loaded
                    .plan
                    .graph_attrs
                    .keys()
                    .filter_map(|k| k.strip_prefix("params."))
                    .collect();
                bail!(
                    "--param {key:?}: {} declares no such variable ({})",
                    loaded.name,
                    if declared.is_empty() {
                        "it declares none".to_string()
                    } else {
                        format!("declared: {}", declared.join(", "))
                    }
                );
            }
            params.insert(key.to_string(), value.to_string());
        }
        let max_wall_time = match &args.max_wall_time {
            None => std::time::Duration::ZERO,
            Some(text) => wall_time(text)?,
        };
        let mut supervision = load::node_supervision(&loaded.plan);
        for spec in &args.supervise {
            if let Some((node, _)) = spec.split_once(':').filter(|(n, _)| !n.contains('=')) {
                // A misspelt node would otherwise be supervised as asked:
                // never, the run going on with the defaults.
                let node = node.trim();
                let has = |plan: &tracker_runtime::plan::SpawnPlan| {
                    plan.nodes.iter().any(|n| n.id == node)
                };
                if !has(&loaded.plan) && !loaded.subgraphs.values().any(|p| has(p)) {
                    bail!("--supervise {spec:?}: {} has no node {node:?}", loaded.name);
                }
            }
            supervision
                .apply(spec)
                .map_err(|e| anyhow!("--supervise {spec:?}: {e}"))?;
        }
        for node in &loaded.plan.nodes {
            if node.spec.common.memoize {
                eprintln!(
                    "warning: node {:?} asks for memoize=true, which this build does not do yet: the node always runs",
                    node.id
                );
            }
        }
        if args.bypass_denylist {
            eprintln!(
                "WARNING: --bypass-denylist: tool commands are not checked against the denylist"
            );
        }
        Ok(Settings {
            params,
            provider: args.provider.clone(),
            model: args.model.clone(),
            budget: BudgetLimits {
                max_total_tokens: args.max_tokens.unwrap_or(0),
                max_cost_cents: args.max_cost.unwrap_or(0),
                max_wall_time,
                stall_timeout: std::time::Duration::ZERO,
            },
            tool_policy: ToolPolicy {
                bypass_denylist: args.bypass_denylist,
                denylist_add: args.tool_denylist_add.clone(),
                allowlist: args.tool_allowlist.clone(),
                max_output_limit: args.max_output_limit.unwrap_or(0),
            },
            supervision,
            auto_approve: args.auto_approve,
        })
    }

    /// The launch options these settings give a run in `workdir`.
    pub(super) fn options(
        &self,
        workdir: PathBuf,
        completers: tracker_runtime::llm::Completers,
        subgraphs: Subgraphs,
        clock: Arc<dyn Clock>,
    ) -> RunOptions {
        let mut options = RunOptions::new(workdir, completers);
        options.subgraphs = subgraphs;
        options.tool_policy = self.tool_policy.clone();
        options.supervision = self.supervision.clone();
        options.budget = self.budget;
        options.interviewer = Some(if self.auto_approve {
            Arc::new(AutoApprove) as Arc<dyn Interviewer>
        } else {
            Arc::new(ConsoleInterviewer::default())
        });
        options.activity_log = Some(audit_base());
        options.clock = clock;
        options
    }

    /// Applies parameters and provider/model overrides to the plan.
    fn apply(&self, plan: &mut SpawnPlan) -> Result<()> {
        for (key, value) in &self.params {
            plan.graph_attrs
                .insert(format!("params.{key}"), value.clone());
        }
        plan.override_agents(self.provider.as_deref(), self.model.as_deref());
        Ok(())
    }
}

/// `--max-wall-time`'s value: a Go duration, not negative, and no longer than
/// the longest one (`2562047h47m16.854775807s`, as Go's).
fn wall_time(text: &str) -> Result<std::time::Duration> {
    match GoDuration::parse(text) {
        Ok(d) => d
            .to_std()
            .ok_or_else(|| anyhow!("--max-wall-time {text:?}: a duration cannot be negative")),
        Err(_) if is_duration_syntax(text) => bail!(
            "--max-wall-time {text:?}: too large (the longest duration is 2562047h47m16s, about 292 years)"
        ),
        Err(_) => bail!("--max-wall-time {text:?}: not a duration (examples: 90s, 30m, 1h30m)"),
    }
}

/// Whether `text` is written as a Go duration (an optional sign, then numbers
/// each with a unit), whatever its size.
fn is_duration_syntax(text: &str) -> bool {
    let mut rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.matches('.').count() > 1 || !number.contains(|c: char| c.is_ascii_digit()) {
            return false;
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&unit) {
            return false;
        }
        rest = after;
    }
    true
}

/// The working directory: given or current; it must be a directory.
fn working_dir(given: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    let dir = given.map_or_else(|| cwd.to_path_buf(), |d| cwd.join(d));
    let meta =
        std::fs::metadata(&dir).map_err(|e| anyhow!("working directory {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        bail!("working directory {} is not a directory", dir.display());
    }
    Ok(std::fs::canonicalize(&dir).unwrap_or(dir))
}

/// Where a command's runs are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Output {
    /// NDJSON on stdout.
    Json,
    /// One line per event.
    Console,
    /// The terminal: the dashboard (one run) or the board (several).
    Terminal,
}

impl Output {
    /// As the command line and the terminal say: `--json`, else the
    /// terminal when both ends are one and `--no-tui` is not given, else
    /// the console.
    pub(super) fn of(args: &RunArgs) -> Output {
        if args.json {
            Output::Json
        } else if !args.no_tui && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
        {
            Output::Terminal
        } else {
            Output::Console
        }
    }
}

/// Runs `plan` under a fresh actor system until it ends, showing its events
/// as `output` says (SIGINT, SIGTERM or SIGHUP cancels it; a second one exits
/// at once; on the dashboard, `q` or Ctrl+C cancels it, and it asks the
/// gates when `ask_gates` — not under `--auto-approve`).
fn execute(
    plan: SpawnPlan,
    mut options: RunOptions,
    output: Output,
    ask_gates: bool,
) -> Result<Finished> {
    let system = actix::System::new();
    system.block_on(async move {
        use actix::Actor;
        let process = Process::start(0);
        let (quit, mut quit_asked) = tokio::sync::mpsc::unbounded_channel();
        let dashboard = match output {
            Output::Json => {
                options.subscribers.push(NdjsonPrinter.start().recipient());
                None
            }
            Output::Console => {
                options
                    .subscribers
                    .push(ConsolePrinter::default().start().recipient());
                None
            }
            Output::Terminal => {
                let run_id = options
                    .run_dir
                    .as_ref()
                    .map(|d| d.id().to_string())
                    .unwrap_or_default();
                let dashboard = Dashboard::start(RunView::new(&plan, &run_id), quit)
                    .context("cannot open the dashboard (try --no-tui)")?;
                options.subscribers.push(dashboard.subscriber());
                if ask_gates {
                    options.interviewer = Some(dashboard.interviewer());
                }
                Some(dashboard)
            }
        };
        // Listening before the run starts, so that no signal finds the
        // default action (an exit that leaves the tools running) in place.
        let mut interrupts = Interrupts::listen()?;
        let handle = launch(&process, Arc::new(plan), options).await?;
        let canceller = handle.canceller();
        let run_id = handle.run_id().to_string();
        if dashboard.is_some() {
            let canceller = canceller.clone();
            actix::spawn(async move {
                if quit_asked.recv().await.is_some() {
                    canceller.cancel().await;
                }
            });
        }
        actix::spawn(async move {
            let signal = interrupts.next().await;
            let _ = writeln!(
                std::io::stderr(),
                "\n{}: cancelling run {run_id} (its checkpoint is kept; Ctrl-C again to quit at once)",
                signal.what()
            );
            canceller.cancel().await;
            let signal = interrupts.next().await;
            // Exiting at once: the terminal is put back first.
            crate::dashboard::app::leave();
            std::process::exit(128 + signal.number());
        });
        let finished = handle.wait().await?;
        if let Some(dashboard) = dashboard {
            dashboard.finish()?;
        }
        if let Some(e) = &finished.activity_error {
            eprintln!("warning: activity log: {e}");
        }
        Ok(finished)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(src: &str) -> SpawnPlan {
        let (workflow, diagnostics) = dippin::parse_dip(src);
        assert!(!diagnostics.iter().any(|d| d.is_error()), "{diagnostics:?}");
        SpawnPlan::compile(&workflow).expect("plan")
    }

    #[test]
    fn only_plans_without_branches_or_child_runs_sync_on_the_run_thread() {
        let chain = plan("workflow C\n  start: A\n  exit: B\n  agent A\n    prompt: a\n  tool B\n    command: true\n  edges\n    A -> B\n");
        assert!(runs_one_node_at_a_time(&chain));
        let fan = plan("workflow F\n  start: S\n  exit: E\n  agent S\n    prompt: s\n  parallel P -> X, Y\n  agent X\n    prompt: x\n  agent Y\n    prompt: y\n  fan_in J <- X, Y\n  agent E\n    prompt: e\n  edges\n    S -> P\n    J -> E\n");
        assert!(!runs_one_node_at_a_time(&fan));
    }

    #[test]
    fn wall_times_too_large_are_told_apart_from_typos() {
        assert_eq!(
            wall_time("1h30m").expect("valid"),
            std::time::Duration::from_secs(5400)
        );
        assert!(wall_time("2562047h47m16s").is_ok());
        for (text, says) in [
            ("2562048h", "too large"),
            ("99999999999999999999s", "too large"),
            ("1.5h9999999999999999h", "too large"),
            ("10 minutes", "not a duration"),
            ("5x", "not a duration"),
            ("h", "not a duration"),
            ("1..5s", "not a duration"),
            ("", "not a duration"),
            ("-5m", "negative"),
        ] {
            let err = wall_time(text).expect_err(text).to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
