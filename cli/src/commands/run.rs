//! `tracker run <pipeline>` (and `tracker <pipeline>`): runs a pipeline to its
//! end under the actor runtime, printing events as they happen and a summary
//! at the end.
//!
//! Everything that can be checked is checked before the run directory is
//! created — the pipeline, its parameters, budgets, providers, the working and
//! artifact directories, the run to resume — so a bad invocation leaves
//! nothing behind.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::providers;
use anyhow::{anyhow, bail, Context as _, Result};
use dippin::duration::GoDuration;
use tracker_actors::activity::{audit_base, ActivityLog, Finish};
use tracker_actors::clock::SystemClock;
use tracker_actors::gate::{ConsoleInterviewer, Route, Unroute};
use tracker_actors::process::Process;
use tracker_actors::run::RunSpec;
use tracker_actors::run_lock::RunLock;
use tracker_actors::store::{self, Durability, RunStore};
use tracker_actors::supervisor::CancelRun;
use tracker_handlers::child::Subgraphs;
use tracker_handlers::codergen::provider_and_model;
use tracker_handlers::human::{AutoApprove, Interviewer};
use tracker_handlers::tool_safety::ToolPolicy;
use tracker_runtime::checkpoint::Checkpoint;
use tracker_runtime::clock::Clock;
use tracker_runtime::engine::{BudgetLimits, EngineConfig, RunEnd, TerminalStatus};
use tracker_runtime::llm::Completers;
use tracker_runtime::plan::{Handler, SpawnPlan};
use tracker_runtime::supervision::SupervisionPolicy;

use crate::args::RunArgs;
use crate::exit;
use crate::load::{self, Diagnostics, Loaded};
use crate::output::console::ConsolePrinter;
use crate::output::ndjson::NdjsonPrinter;
use crate::output::summary::{failure_line, Summary};
use crate::pipeline;

/// The file a run directory keeps its workflow's source in.
pub const WORKFLOW_COPY: &str = "workflow.dip";
/// The same, for a legacy Graphviz pipeline (the reader goes by extension).
pub const WORKFLOW_COPY_DOT: &str = "workflow.dot";

/// The file a run directory keeps its pipeline's original directory in, so
/// that `-r` without the pipeline argument resolves the copy's file directives
/// (`prompt_file`, subgraphs) where the original did.
pub const WORKFLOW_BASE: &str = "workflow.base";

/// The original pipeline's directory recorded in run directory `dir`, if it
/// is recorded and still a directory.
fn recorded_base(dir: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut tracker_runtime::private_files::open(&dir.join(WORKFLOW_BASE)).ok()?,
        &mut bytes,
    )
    .ok()?;
    let base = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
    (base.is_absolute() && base.is_dir()).then_some(base)
}

/// The workflow copy in run directory `dir`.
pub fn workflow_copy(dir: &Path) -> PathBuf {
    let dot = dir.join(WORKFLOW_COPY_DOT);
    if dot.is_file() {
        dot
    } else {
        dir.join(WORKFLOW_COPY)
    }
}

/// Runs the pipeline; returns the exit code.
pub fn run(args: &RunArgs) -> Result<u8> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let workdir = working_dir(args.workdir.as_deref(), &cwd)?;
    let artifacts = match &args.artifact_dir {
        Some(dir) => cwd.join(dir),
        None => workdir.join(".tracker").join("runs"),
    };
    let resume = match &args.resume {
        Some(prefix) => Some(find_run(&artifacts, prefix)?),
        None => None,
    };
    let source = match (&args.pipeline, &resume) {
        (Some(arg), _) => pipeline::resolve(arg, &cwd)?,
        (None, Some(dir)) => {
            // The run's own copy: tracker wrote it as a regular file. Anything
            // else in its place (a link to a device, a FIFO) was planted.
            let copy = workflow_copy(dir);
            if !std::fs::symlink_metadata(&copy).is_ok_and(|m| m.is_file()) {
                bail!(
                    "cannot resume: {} is not the regular file tracker wrote; give the pipeline as an argument",
                    copy.display()
                );
            }
            match recorded_base(dir) {
                Some(base) => pipeline::PipelineSource::RunCopy { copy, base },
                None => pipeline::PipelineSource::File(copy),
            }
        }
        (None, None) => bail!(
            "which pipeline? give a .dip file or a built-in name (`tracker workflows` lists them)"
        ),
    };
    let loaded = load::load(&source, Diagnostics::Print)?;
    let display = args
        .pipeline
        .as_ref()
        .map_or_else(|| loaded.name.clone(), |p| p.to_string_lossy().into_owned());
    let settings = Settings::from_args(args, &loaded)?;
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
    let mut env = providers::load_env(&workdir)?;
    if let Some(url) = &args.gateway_url {
        env.set("TRACKER_GATEWAY_URL", url);
    }
    if let Some(kind) = &args.gateway_kind {
        env.set("TRACKER_GATEWAY_KIND", kind);
    }
    let completers = providers::completers(&env, &providers_used(&plan, &subgraphs))?;

    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let durability = if args.no_fsync {
        Durability::NoSync
    } else {
        Durability::Sync
    };
    let prepared = match &resume {
        Some(dir) => resume_run(dir, clock.now(), durability)?,
        None => {
            let is_dot = matches!(&source, pipeline::PipelineSource::File(p)
                if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("dot")));
            let copy = if is_dot {
                WORKFLOW_COPY_DOT
            } else {
                WORKFLOW_COPY
            };
            let base = source
                .base_dir()
                .map(|dir| std::fs::canonicalize(&dir).unwrap_or(dir));
            new_run(
                &artifacts,
                copy,
                &text,
                base.as_deref(),
                clock.now(),
                durability,
            )?
        }
    };
    let run_id = prepared.run_id.clone();
    let run_dir = prepared.dir.clone();
    if !args.json {
        println!(
            "tracker: {} {} (run {run_id}, {})",
            if resume.is_some() {
                "resuming"
            } else {
                "running"
            },
            dippin::diagnostic::printable_line(&display),
            dippin::diagnostic::printable_line(&run_dir.display().to_string())
        );
    }

    let config = EngineConfig {
        run_id: run_id.clone(),
        artifact_dir: Some(run_dir.clone()),
        checkpointing: true,
        budget: settings.budget,
        resume_from: prepared.resume_from,
        jitter_seed: seed(),
        ..EngineConfig::default()
    };
    let started = Instant::now();
    let end = execute(Execution {
        plan,
        subgraphs,
        config,
        store: prepared.store,
        workdir,
        run_dir: run_dir.clone(),
        completers,
        settings: &settings,
        json: args.json,
        clock,
    })?;

    let summary = Summary {
        run_id: &run_id,
        pipeline: &display,
        end: &end,
        elapsed: started.elapsed(),
        resumable: true,
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

/// Everything the command line sets about a run besides its pipeline.
struct Settings {
    params: BTreeMap<String, String>,
    provider: Option<String>,
    model: Option<String>,
    budget: BudgetLimits,
    tool_policy: ToolPolicy,
    supervision: SupervisionPolicy,
    auto_approve: bool,
}

impl Settings {
    fn from_args(args: &RunArgs, loaded: &Loaded) -> Result<Settings> {
        let mut params = BTreeMap::new();
        for pair in &args.params {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| anyhow!("--param {pair:?}: expected KEY=VALUE"))?;
            let key = key.trim();
            if !loaded
                .plan
                .graph_attrs
                .contains_key(&format!("params.{key}"))
            {
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
        let mut supervision = SupervisionPolicy::default();
        for node in &loaded.plan.nodes {
            if let Some(settings) = &node.spec.common.supervise {
                // Checked when the plan was built, at the node's line.
                supervision
                    .apply(&format!("{}:{settings}", node.id))
                    .map_err(|e| anyhow!("node {:?} params.supervise: {e}", node.id))?;
            }
        }
        for spec in &args.supervise {
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

/// The providers the agent nodes of `plan` and its child workflows use,
/// each with the first node that uses it (for error messages).
fn providers_used(plan: &SpawnPlan, subgraphs: &Subgraphs) -> BTreeMap<String, String> {
    let mut used = BTreeMap::new();
    for p in std::iter::once(plan).chain(subgraphs.values().map(|p| p.as_ref())) {
        for node in p.nodes.iter().filter(|n| n.handler == Handler::Codergen) {
            let Some(agent) = node.spec.agent() else {
                continue;
            };
            let (provider, _) = provider_and_model(agent, &p.graph_attrs);
            used.entry(provider).or_insert_with(|| node.id.clone());
        }
    }
    used
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

/// The run directory whose name starts with `prefix` (an exact match wins).
pub(crate) fn find_run(artifacts: &Path, prefix: &str) -> Result<PathBuf> {
    if prefix.is_empty() || prefix.contains(['/', '\\']) || prefix == "." || prefix == ".." {
        bail!("invalid run id {prefix:?}");
    }
    let entries = std::fs::read_dir(artifacts)
        .map_err(|e| anyhow!("no runs to resume in {}: {e}", artifacts.display()))?;
    let mut matches: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join(store::CHECKPOINT_FILE).is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|name| name.starts_with(prefix))
        .collect();
    matches.sort();
    if matches.iter().any(|m| m == prefix) {
        return Ok(artifacts.join(prefix));
    }
    match matches.as_slice() {
        [] => bail!("no run matches {prefix:?} in {}", artifacts.display()),
        [one] => Ok(artifacts.join(one)),
        many => bail!(
            "run id {prefix:?} is ambiguous: it matches {}",
            many.join(", ")
        ),
    }
}

/// A run directory ready to run in.
struct Prepared {
    run_id: String,
    dir: PathBuf,
    store: Option<RunStore>,
    resume_from: Option<Checkpoint>,
    /// Held for as long as the run runs: no other process drives it meanwhile.
    _lock: RunLock,
}

/// Creates the directory of a new run: its workflow copy and its first
/// checkpoint. On failure, nothing is left behind.
fn new_run(
    artifacts: &Path,
    copy_name: &str,
    text: &str,
    base: Option<&Path>,
    now: tracker_runtime::clock::WallTime,
    durability: Durability,
) -> Result<Prepared> {
    tracker_runtime::private_files::create_dir_all(artifacts).map_err(|e| {
        anyhow!(
            "cannot create the artifact directory {}: {e}",
            artifacts.display()
        )
    })?;
    let (run_id, dir) = loop {
        let id = crate::run_id::new_run_id();
        let dir = artifacts.join(&id);
        match tracker_runtime::private_files::create_dir(&dir) {
            Ok(()) => break (id, dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => bail!("cannot create the run directory {}: {e}", dir.display()),
        }
    };
    let setup = || -> Result<(RunLock, RunStore)> {
        let lock = RunLock::acquire(&dir)?;
        tracker_runtime::private_files::replace(&dir.join(copy_name), text.as_bytes())?;
        if let Some(base) = base {
            use std::os::unix::ffi::OsStrExt;
            tracker_runtime::private_files::replace(
                &dir.join(WORKFLOW_BASE),
                base.as_os_str().as_bytes(),
            )?;
        }
        let store = RunStore::create(&dir, Checkpoint::new(run_id.clone()), now, durability)?;
        Ok((lock, store))
    };
    match setup() {
        Ok((lock, store)) => Ok(Prepared {
            run_id,
            dir,
            store: Some(store),
            resume_from: None,
            _lock: lock,
        }),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(anyhow!(
                "cannot write the run directory {}: {e}",
                dir.display()
            ))
        }
    }
}

/// Reopens the run in `dir` at its last saved state.
///
/// The run's id is its directory's name (a unique match under the artifact
/// directory). A `run_id` in `checkpoint.json` that says otherwise is refused
/// rather than used: it becomes a path and `TRACKER_RUN_ID`.
fn resume_run(
    dir: &Path,
    now: tracker_runtime::clock::WallTime,
    durability: Durability,
) -> Result<Prepared> {
    // Locked before anything is read: a run still going in another process
    // must not be driven by two.
    let lock = RunLock::acquire(dir).map_err(|e| anyhow!("cannot resume: {e}"))?;
    let mut cp = store::load(dir).map_err(|e| anyhow!("cannot resume: {e}"))?;
    let run_id = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| crate::run_id::is_valid(n))
        .ok_or_else(|| anyhow!("cannot resume: {} is not a run directory", dir.display()))?
        .to_string();
    if cp.run_id.is_empty() {
        cp.run_id.clone_from(&run_id);
    } else if cp.run_id != run_id {
        bail!(
            "cannot resume: {}: run_id {:?} does not match the run directory's name {run_id:?}",
            dir.join(store::CHECKPOINT_FILE).display(),
            cp.run_id
        );
    }
    let store = RunStore::continue_from(dir, cp.clone(), now, durability)
        .map_err(|e| anyhow!("cannot write the run directory {}: {e}", dir.display()))?;
    Ok(Prepared {
        run_id,
        dir: dir.to_path_buf(),
        store: Some(store),
        resume_from: Some(cp),
        _lock: lock,
    })
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// What the actor system needs to run.
struct Execution<'a> {
    plan: SpawnPlan,
    subgraphs: Subgraphs,
    config: EngineConfig,
    store: Option<RunStore>,
    workdir: PathBuf,
    run_dir: PathBuf,
    completers: Completers,
    settings: &'a Settings,
    json: bool,
    clock: Arc<dyn Clock>,
}

/// A signal that cancels a run.
#[derive(Clone, Copy, Debug)]
enum Interrupt {
    /// Ctrl-C.
    Int,
    /// `kill`, a service manager stopping tracker, a container stopping.
    Term,
    /// The terminal went away.
    Hup,
}

impl Interrupt {
    /// What happened, for the message.
    fn what(self) -> &'static str {
        match self {
            Interrupt::Int => "interrupted",
            Interrupt::Term => "terminated (SIGTERM)",
            Interrupt::Hup => "hangup (SIGHUP)",
        }
    }

    /// The signal's number (the exit status of a second one is 128 plus it).
    fn number(self) -> i32 {
        match self {
            Interrupt::Int => nix::sys::signal::Signal::SIGINT as i32,
            Interrupt::Term => nix::sys::signal::Signal::SIGTERM as i32,
            Interrupt::Hup => nix::sys::signal::Signal::SIGHUP as i32,
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught: each cancels the run the same way
/// (its tools' process groups are killed, the activity log is copied, the
/// checkpoint is kept for `-r`); a second one exits at once. SIGHUP is left
/// alone when tracker started with it ignored (`nohup`).
struct Interrupts {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    fn listen() -> Result<Interrupts> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| anyhow!("cannot handle {name}: {e}"))
        };
        let hup = if ignored_at_start(nix::sys::signal::Signal::SIGHUP) {
            None
        } else {
            Some(listen(SignalKind::hangup(), "SIGHUP")?)
        };
        Ok(Interrupts {
            int: listen(SignalKind::interrupt(), "SIGINT")?,
            term: listen(SignalKind::terminate(), "SIGTERM")?,
            hup,
        })
    }

    /// The next signal.
    async fn next(&mut self) -> Interrupt {
        let hup = async {
            match &mut self.hup {
                Some(hup) => hup.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.int.recv() => Interrupt::Int,
            _ = self.term.recv() => Interrupt::Term,
            _ = hup => Interrupt::Hup,
        }
    }
}

/// Whether `signal` was ignored when tracker started (as `nohup` leaves
/// SIGHUP), read from `/proc/self/status`; false where that cannot be read.
fn ignored_at_start(signal: nix::sys::signal::Signal) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal as u32 - 1)) != 0)
}

/// Runs under a fresh actor system until the run ends (SIGINT, SIGTERM or
/// SIGHUP cancels it).
fn execute(run: Execution<'_>) -> Result<RunEnd> {
    let Execution {
        plan,
        subgraphs,
        config,
        store,
        workdir,
        run_dir,
        completers,
        settings,
        json,
        clock,
    } = run;
    let tool_policy = settings.tool_policy.clone();
    let supervision = settings.supervision.clone();
    let auto_approve = settings.auto_approve;
    let system = actix::System::new();
    system.block_on(async move {
        use actix::Actor;
        let process = Process::start(0);
        let services = process.services(
            None,
            completers,
            tool_policy,
            Arc::clone(&clock),
            supervision.clone(),
        );
        let run_id = config.run_id.clone();
        let activity = ActivityLog::new(&audit_base(), &run_id, Some(&run_dir)).start();
        let printer = if json {
            NdjsonPrinter.start().recipient()
        } else {
            ConsolePrinter::default().start().recipient()
        };
        for recipient in [activity.clone().recipient(), printer] {
            process
                .subscribe(&run_id, recipient)
                .await
                .map_err(|e| anyhow!("event bus: {e}"))?;
        }
        let interviewer: Arc<dyn Interviewer> = if auto_approve {
            Arc::new(AutoApprove)
        } else {
            Arc::new(ConsoleInterviewer)
        };
        process
            .gates
            .send(Route {
                run_id: run_id.clone(),
                interviewer,
            })
            .await
            .map_err(|e| anyhow!("gate router: {e}"))?;
        let mut spec = RunSpec::new(
            Arc::new(plan),
            config,
            services,
            workdir,
            process.sink(),
            clock,
        );
        spec.subgraphs = Arc::new(subgraphs);
        spec.store = store;
        spec.supervision = supervision;
        // Listening before the run starts, so that no signal finds the
        // default action (an exit that leaves the tools running) in place.
        let mut interrupts = Interrupts::listen()?;
        let handle = process
            .start_run(spec)
            .await
            .map_err(|e| anyhow!("runtime supervisor: {e}"))?;
        let supervisor = process.supervisor.clone();
        let interrupted = run_id.clone();
        actix::spawn(async move {
            let signal = interrupts.next().await;
            let _ = writeln!(
                std::io::stderr(),
                "\n{}: cancelling run {interrupted} (its checkpoint is kept; Ctrl-C again to quit at once)",
                signal.what()
            );
            let _ = supervisor.send(CancelRun(interrupted)).await;
            let signal = interrupts.next().await;
            std::process::exit(128 + signal.number());
        });
        let end = handle
            .done
            .await
            .map_err(|_| anyhow!("the run ended without reporting"))?;
        if let Ok(Err(e)) = activity.send(Finish).await {
            eprintln!("warning: activity log: {e}");
        }
        process.gates.do_send(Unroute(run_id));
        Ok(end)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
