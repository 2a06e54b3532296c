//! The run engine: a pipeline's control flow as a state machine that performs no
//! I/O (engine-semantics §2).
//!
//! The engine decides; its driver acts. The driver calls [`Engine::start`], then
//! does what each [`Next`] asks — run a node's handler and report back with
//! [`Engine::finish_node`], wait and call [`Engine::wake`], or stop — and carries
//! out the [`Effect`]s every call appends, in order: publish an event, save a
//! checkpoint delta. Because nothing here waits, spawns or writes, every routing,
//! retry, restart, goal-gate and budget rule is tested with plain unit tests, and
//! the same engine runs under the actor runtime, inside a subgraph handler, or in a
//! benchmark loop.
//!
//! ```text
//!   start ──► Execute(task) ──► finish_node(result) ──► Execute(next) … Finished(end)
//!                   └───────────────────────────────► Sleep(backoff) ──► wake ──┘
//! ```

mod budget;
mod flow;
mod record;
mod trace;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use budget::{Breach, BudgetLimits};
pub use trace::{Trace, TraceEntry};

use crate::checkpoint::{Checkpoint, OverrideDetail};
use crate::clock::{Clock, WallTime};
use crate::context::{self, PipelineContext};
use crate::event::{Actor, CostSnapshot, EventKind, EventSource, PipelineEvent};
use crate::fidelity::Fidelity;
use crate::jitter::JitterRng;
use crate::journal::Change;
use crate::outcome::NodeResult;
use crate::plan::{Handler, NodeIndex, SpawnPlan};
use crate::spec::NodeSpec;
use crate::usage::UsageSummary;
use crate::wire_enum::wire_enum;

use record::RunRecord;

/// How a run is set up.
#[derive(Clone, Debug, Default)]
pub struct EngineConfig {
    /// The run's id (12 lowercase hex digits); a resumed checkpoint's id wins.
    pub run_id: String,
    /// The run's artifact directory (`<base>/<run id>`), exposed to handlers as
    /// `_artifact_dir`; `None` writes node files under the working directory.
    pub artifact_dir: Option<PathBuf>,
    /// Whether the driver persists checkpoints: when set, the engine asks for a
    /// save (an [`Effect::Save`]) at every point the reference saves.
    pub checkpointing: bool,
    /// Ceilings from the command line; unset fields come from the workflow.
    pub budget: BudgetLimits,
    /// Usage already spent by a parent run, counted against the budget.
    pub baseline_usage: Option<UsageSummary>,
    /// Usage the resumed run's earlier processes spent (read back from its
    /// activity log): counted as the run's own, in its `cost_updated`
    /// events, its budget and its result, so that a resume neither forgets
    /// nor re-grants what was spent.
    pub earlier_usage: Option<UsageSummary>,
    /// Values the context starts with (a parent's context, for a child run).
    pub initial_context: BTreeMap<String, String>,
    /// The checkpoint to resume from.
    pub resume_from: Option<Checkpoint>,
    /// Seed for retry-backoff jitter.
    pub jitter_seed: u64,
}

/// Something the driver must do, in the order the engine appended it.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Publish an event.
    Emit(Box<PipelineEvent>),
    /// Persist these checkpoint changes, then publish `checkpoint_saved` (or
    /// `checkpoint_failed`). Only appended when checkpointing is on.
    Save(Vec<Change>),
    /// [`Effect::Save`] with the current node's attempt cut short, not used
    /// (the run was cancelled): the attempt is still the one a resume must
    /// recognise, so a save with nothing to change writes
    /// nothing and leaves the attempt's token (the last save's timestamp) as
    /// it was. A resume then adopts what the attempt finished — a tool
    /// command that ended as the run was stopped is not run again.
    SaveInFlight(Vec<Change>),
}

/// What the driver does next.
#[derive(Clone, Debug)]
pub enum Next {
    /// Run this node's handler, then call [`Engine::finish_node`].
    Execute(NodeTask),
    /// Wait this long (a retry backoff), then call [`Engine::wake`].
    Sleep(Duration),
    /// The run is over.
    Finished(RunEnd),
}

/// One node attempt for a handler to run.
#[derive(Clone, Debug)]
pub struct NodeTask {
    /// The node.
    pub node: NodeIndex,
    /// Its id.
    pub node_id: String,
    /// What runs it.
    pub handler: Handler,
    /// 1-based attempt number.
    pub attempt: u32,
    /// Its settings with `$name` variables expanded.
    pub spec: Arc<NodeSpec>,
    /// The context as the node starts (shared, read-only).
    pub context: Arc<BTreeMap<String, String>>,
    /// The run's id.
    pub run_id: String,
    /// The run's artifact directory, if any.
    pub artifact_dir: Option<PathBuf>,
    /// The run's ceilings (a child run launched by this node shares them).
    pub budget: BudgetLimits,
    /// What the run has spent so far, when ceilings are set.
    pub usage: Option<UsageSummary>,
}

wire_enum! {
    names: as_str, from_wire_name;
    /// How a run ended.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum TerminalStatus {
        /// The exit node was reached.
        Success => "success",
        /// The exit node was reached past an override edge.
        ValidationOverridden => "validation_overridden",
        /// The run failed.
        Fail => "fail",
        /// A budget ceiling was breached.
        BudgetExceeded => "budget_exceeded",
        /// A provider's credit ran out; resumable.
        PausedBilling => "paused_billing",
    }
}

impl TerminalStatus {
    /// `success` and `validation_overridden` count as success.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            TerminalStatus::Success | TerminalStatus::ValidationOverridden
        )
    }
}

/// A finished run's result.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The run's id.
    pub run_id: String,
    /// How it ended.
    pub status: TerminalStatus,
    /// Completed nodes in completion order.
    pub completed_nodes: Vec<String>,
    /// The final context.
    pub context: BTreeMap<String, String>,
    /// Every handler call.
    pub trace: Vec<TraceEntry>,
    /// The run's own usage (child runs included); `None` if no session ran.
    /// A resumed run's includes what its earlier processes spent.
    pub usage: Option<UsageSummary>,
    /// Of `usage`, what a resumed run's earlier processes spent.
    pub earlier_usage: Option<UsageSummary>,
    /// Which budget limits stopped the run.
    pub budget_limits_hit: Vec<String>,
    /// Override edges taken.
    pub validation_overrides: Vec<OverrideDetail>,
}

/// The end of a run: a result unless an invariant broke (unknown node, no edges,
/// a routing error), and an error unless the run simply succeeded or failed.
#[derive(Clone, Debug)]
pub struct RunEnd {
    /// The result; `None` when the run halted on a broken invariant.
    pub result: Option<RunResult>,
    /// What went wrong, if anything worth an error.
    pub error: Option<String>,
    /// Why the checkpoint's final save or fold failed, when it did: the run
    /// ended as `result` says, but what is on disk may be behind it. Set by
    /// the driver, after the engine is done.
    pub checkpoint_error: Option<String>,
}

/// What happens after a step inside the engine.
enum Flow {
    /// Continue at this node.
    Goto(NodeIndex),
    /// Wait, then continue with the pending retry.
    Sleep(Duration),
    /// Stop.
    End(Box<RunEnd>),
}

impl Flow {
    fn end(end: RunEnd) -> Flow {
        Flow::End(Box::new(end))
    }
}

/// What resuming past a completed node leads to.
enum Skip {
    /// Continue at this node.
    Goto(NodeIndex),
    /// Run the completed node again (met a second time).
    Rerun,
    /// The node has no outgoing edges: the run is complete.
    Done,
    /// Stop.
    End(Box<RunEnd>),
}

/// The node attempt in flight.
#[derive(Debug)]
struct Pending {
    node: NodeIndex,
    spec: Arc<NodeSpec>,
    human_response_before: String,
    started: WallTime,
}

/// A retry waiting out its backoff.
#[derive(Debug)]
struct PendingRetry {
    node: NodeIndex,
    entry: TraceEntry,
    spec: Arc<NodeSpec>,
    max_retries: u32,
    policy: &'static str,
}

/// One pipeline run's state machine.
pub struct Engine {
    plan: Arc<SpawnPlan>,
    clock: Arc<dyn Clock>,
    run_id: String,
    artifact_dir: Option<PathBuf>,
    checkpointing: bool,
    budget: BudgetLimits,
    baseline: Option<UsageSummary>,
    /// What a resumed run's earlier processes spent (already in the trace's
    /// usage), for the result to tell apart.
    earlier_usage: Option<UsageSummary>,
    ctx: PipelineContext,
    record: RunRecord,
    trace: Trace,
    /// Where the run starts or resumes; `None` when the checkpoint names a node
    /// the workflow no longer has.
    entry: Result<NodeIndex, String>,
    resume_visited: HashSet<NodeIndex>,
    pending: Option<Pending>,
    retry: Option<PendingRetry>,
    rng: JitterRng,
    started: WallTime,
    last_progress: WallTime,
    terminal_emitted: bool,
    steering: Vec<(String, String)>,
    last_actor: Option<Actor>,
    resumed: bool,
    done: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("run_id", &self.run_id)
            .field("workflow", &self.plan.name)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Sets up a run (§2.1): seeds the context with `graph.*` and the initial
    /// values, merges a resumed checkpoint, and picks the node to start at.
    pub fn new(plan: Arc<SpawnPlan>, config: EngineConfig, clock: Arc<dyn Clock>) -> Engine {
        let now = clock.now();
        let mut ctx = PipelineContext::new();
        ctx.seed_graph(&plan.graph_attrs);
        ctx.restore(config.initial_context);
        let resumed = config.resume_from.is_some();
        let cp = config
            .resume_from
            .unwrap_or_else(|| Checkpoint::new(config.run_id.clone()));
        let run_id = if cp.run_id.is_empty() {
            config.run_id
        } else {
            cp.run_id.clone()
        };
        if resumed {
            ctx.restore(cp.context.clone());
            ctx.seed_graph(&plan.graph_attrs);
            compact_for_resume(&plan, &cp, &mut ctx);
        }
        ctx.set_internal(context::INTERNAL_RUN_ID, run_id.clone());
        if let Some(dir) = &config.artifact_dir {
            ctx.set_internal(
                context::INTERNAL_ARTIFACT_DIR,
                dir.to_string_lossy().into_owned(),
            );
        }
        ctx.clear_dirty();
        let entry = if cp.current_node.is_empty() {
            Ok(plan.start)
        } else {
            plan.node_index(&cp.current_node)
                .ok_or_else(|| format!("node {:?} not found in graph", cp.current_node))
        };
        // Record the resumed checkpoint as the baseline: a save records only what
        // changes from here.
        let mut record = RunRecord::new(cp);
        record.set_current(
            &entry
                .as_ref()
                .map_or(String::new(), |&n| plan.node(n).id.clone()),
        );
        if resumed {
            record.take_changes();
        }
        Engine {
            budget: config.budget.or_graph(&plan.graph_attrs),
            plan,
            clock,
            run_id,
            artifact_dir: config.artifact_dir,
            checkpointing: config.checkpointing,
            baseline: config.baseline_usage,
            ctx,
            record,
            trace: Trace::resumed(config.earlier_usage.clone().unwrap_or_default()),
            earlier_usage: config.earlier_usage,
            entry,
            resume_visited: HashSet::new(),
            pending: None,
            retry: None,
            rng: JitterRng::new(config.jitter_seed),
            started: now,
            last_progress: now,
            terminal_emitted: false,
            steering: Vec::new(),
            last_actor: None,
            resumed,
            done: false,
        }
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The plan being run.
    pub fn plan(&self) -> &Arc<SpawnPlan> {
        &self.plan
    }

    /// Whether the run is over.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The live context.
    pub fn context(&self) -> &PipelineContext {
        &self.ctx
    }

    /// The checkpoint as of now (context included).
    pub fn checkpoint(&self) -> Checkpoint {
        let mut cp = self.record.checkpoint().clone();
        cp.context = self.ctx.snapshot();
        cp
    }

    /// Queues context updates from a manager loop's steering; they are merged
    /// (without scoping) after the node in flight finishes.
    pub fn steer(&mut self, updates: impl IntoIterator<Item = (String, String)>) {
        self.steering.extend(updates);
    }

    /// Emits `pipeline_started` and moves to the first node.
    pub fn start(&mut self, out: &mut Vec<Effect>) -> Next {
        let snapshot = self.snapshot();
        let message = if self.resumed {
            "pipeline resumed"
        } else {
            "pipeline started"
        };
        let event = self
            .event(EventKind::PipelineStarted)
            .with_message(message)
            .with_snapshot(snapshot);
        self.emit(out, event);
        // A resumed run already past its budget (what it spent before it
        // stopped counts) runs no further node: each resume would otherwise
        // spend one more.
        if self.earlier_usage.is_some() {
            if let Some(end) = self.budget_breach(out, false) {
                return self.end(end, out);
            }
        }
        match self.entry.clone() {
            Ok(node) => self.run_from(node, out),
            Err(error) => self.end(halt(error), out),
        }
    }

    /// Reports the outcome of the node attempt [`Next::Execute`] asked for.
    pub fn finish_node(&mut self, result: NodeResult, out: &mut Vec<Effect>) -> Next {
        let Some(pending) = self.pending.take() else {
            return self.end(halt("finish_node called with no node running".into()), out);
        };
        let flow = self.after_node(pending, result, out);
        self.follow(flow, out)
    }

    /// Continues after a [`Next::Sleep`].
    pub fn wake(&mut self, out: &mut Vec<Effect>) -> Next {
        let Some(retry) = self.retry.take() else {
            return self.end(halt("wake called with no retry waiting".into()), out);
        };
        let flow = self.retry_after_backoff(retry, out);
        self.follow(flow, out)
    }

    /// Cancels the run (Ctrl-C, a parent's cancellation): saves, emits
    /// `pipeline_failed`, and ends as `fail`.
    pub fn cancel(&mut self, out: &mut Vec<Effect>) -> RunEnd {
        let during_backoff = self.retry.take().is_some();
        self.pending = None;
        self.save_in_flight(out);
        let (message, error) = if during_backoff {
            (
                "pipeline cancelled during retry backoff",
                "pipeline cancelled during retry backoff: context canceled",
            )
        } else {
            ("context cancelled", "pipeline cancelled: context canceled")
        };
        let event = self
            .event(EventKind::PipelineFailed)
            .with_message(message)
            .with_error("context canceled")
            .with_terminal_status(TerminalStatus::Fail.as_str());
        self.emit(out, event);
        let end = RunEnd {
            checkpoint_error: None,
            result: Some(self.result(TerminalStatus::Fail, Vec::new())),
            error: Some(error.into()),
        };
        self.close(end, out)
    }

    // -- the loop ---------------------------------------------------------------

    fn follow(&mut self, flow: Flow, out: &mut Vec<Effect>) -> Next {
        match flow {
            Flow::Goto(node) => self.run_from(node, out),
            Flow::Sleep(d) => Next::Sleep(d),
            Flow::End(end) => self.end(*end, out),
        }
    }

    /// Walks from `node` until a handler must run (§2.2 steps 1–5).
    fn run_from(&mut self, mut node: NodeIndex, out: &mut Vec<Effect>) -> Next {
        while self.record.is_completed(&self.plan.node(node).id) {
            match self.resume_skip(node, out) {
                Skip::Goto(next) => node = next,
                Skip::Rerun => break,
                Skip::Done => {
                    let end = self.complete(out);
                    return self.end(end, out);
                }
                Skip::End(end) => return self.end(*end, out),
            }
        }
        self.begin(node, out)
    }

    /// §7.3: a completed node met while resuming: the first time, announce it and
    /// follow its stored edge selection; the second time, clear what follows it
    /// and run it again.
    fn resume_skip(&mut self, node: NodeIndex, out: &mut Vec<Effect>) -> Skip {
        let id = self.plan.node(node).id.clone();
        if !self.resume_visited.insert(node) {
            for cleared in self.plan.downstream(node) {
                let cleared_id = self.plan.node(cleared).id.clone();
                self.record.clear_completed(&cleared_id);
                self.record.set_retry_count(&cleared_id, 0);
            }
            return Skip::Rerun;
        }
        let event = self
            .event(EventKind::StageCompleted)
            .with_node_id(&id)
            .with_message("previously completed (resumed)");
        self.emit(out, event);
        if self.plan.outgoing(node).next().is_none() {
            return Skip::Done;
        }
        if let Some(next) = self
            .record
            .edge_selection(&id)
            .and_then(|to| self.plan.node_index(to))
        {
            return Skip::Goto(next);
        }
        let vars = self.vars();
        let hints = crate::routing::RoutingHints::from_lookup(&vars);
        match crate::routing::select_edge(&self.plan, node, &vars, &hints) {
            Ok(selection) => Skip::Goto(selection.to),
            Err(err) => Skip::End(Box::new(halt(format!(
                "select edge from completed node {id:?}: {err}"
            )))),
        }
    }

    /// §2.2 steps 2–5: reset the routing keys, expand the attributes, announce the
    /// attempt and hand it to the driver.
    fn begin(&mut self, node: NodeIndex, out: &mut Vec<Effect>) -> Next {
        let plan = Arc::clone(&self.plan);
        let spec = plan.node(node);
        self.ctx.reset_routing();
        let human_response_before = self.ctx.get_or_empty(context::HUMAN_RESPONSE).to_string();
        let expanded = if spec.spec.names_variables() {
            Arc::new(spec.spec.expanded(&self.ctx.graph_vars()))
        } else {
            Arc::clone(&spec.spec)
        };
        let attempt = u32::try_from(self.record.retry_count(&spec.id))
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let event = self
            .event(EventKind::StageStarted)
            .with_node_id(&spec.id)
            .with_message(format!("executing node {:?}", spec.id))
            .with_attempt(spec.handler.wire_name(), attempt);
        self.emit(out, event);
        self.pending = Some(Pending {
            node,
            spec: Arc::clone(&expanded),
            human_response_before,
            started: self.clock.now(),
        });
        Next::Execute(NodeTask {
            node,
            node_id: spec.id.clone(),
            handler: spec.handler,
            attempt,
            spec: expanded,
            context: self.ctx.shared(),
            run_id: self.run_id.clone(),
            artifact_dir: self.artifact_dir.clone(),
            budget: self.budget,
            usage: if self.budget.is_set() {
                self.combined_usage()
            } else {
                None
            },
        })
    }

    /// Ends the run (see [`Engine::close`]).
    fn end(&mut self, end: RunEnd, out: &mut Vec<Effect>) -> Next {
        Next::Finished(self.close(end, out))
    }

    /// Marks the run over, emitting the backstop terminal event when the path
    /// that ended it emitted none (§2.7: exactly one event carries the status).
    fn close(&mut self, end: RunEnd, out: &mut Vec<Effect>) -> RunEnd {
        if !self.terminal_emitted {
            let status = end
                .result
                .as_ref()
                .map_or(TerminalStatus::Fail, |r| r.status);
            let kind = if status.is_success() {
                EventKind::PipelineCompleted
            } else {
                EventKind::PipelineFailed
            };
            let mut event = self
                .event(kind)
                .with_message("pipeline halted")
                .with_terminal_status(status.as_str());
            if let Some(error) = &end.error {
                event = event.with_error(error.clone());
            }
            self.emit(out, event);
        }
        self.done = true;
        end
    }

    // -- helpers ----------------------------------------------------------------

    fn event(&self, kind: EventKind) -> PipelineEvent {
        PipelineEvent::new(
            kind,
            EventSource::Pipeline,
            self.clock.now().event_timestamp(),
        )
        .with_run_id(&self.run_id)
    }

    fn emit(&mut self, out: &mut Vec<Effect>, event: PipelineEvent) {
        if event.terminal_status.is_some() {
            self.terminal_emitted = true;
        }
        out.push(Effect::Emit(Box::new(event)));
    }

    /// Asks the driver to persist what changed since the last save.
    fn save(&mut self, out: &mut Vec<Effect>) {
        let changes = self.changes();
        if self.checkpointing {
            out.push(Effect::Save(changes));
        }
    }

    /// A save while the current node's attempt is unfinished (see
    /// [`Effect::SaveInFlight`]).
    fn save_in_flight(&mut self, out: &mut Vec<Effect>) {
        let changes = self.changes();
        if self.checkpointing {
            out.push(Effect::SaveInFlight(changes));
        }
    }

    /// What changed since the last save. A `graph.*` value (a `--param`)
    /// holding a key tracker loaded is saved with the key cut out: a resume
    /// seeds `graph.*` from the pipeline again, never from the checkpoint.
    fn changes(&mut self) -> Vec<Change> {
        let mut changes = self.record.take_changes();
        changes.extend(self.ctx.take_changed().into_iter().map(|(key, value)| {
            let value = if key.starts_with("graph.") {
                match crate::secrets::redact_known(&value) {
                    std::borrow::Cow::Borrowed(_) => value,
                    std::borrow::Cow::Owned(redacted) => redacted,
                }
            } else {
                value
            };
            Change::Context { key, value }
        }));
        changes
    }

    /// The run snapshot for `pipeline_started`.
    fn snapshot(&self) -> crate::event::RunSnapshot {
        let mut nodes: Vec<crate::event::SnapshotNode> = self
            .plan
            .nodes
            .iter()
            .map(|n| crate::event::SnapshotNode {
                id: n.id.clone(),
                label: Some(n.label.clone()),
                handler: Some(n.handler.wire_name().to_string()),
            })
            .collect();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        let (current, completed) = if self.resumed {
            (
                Some(self.record.checkpoint().current_node.clone()),
                self.record.completed_nodes().to_vec(),
            )
        } else {
            (None, Vec::new())
        };
        crate::event::RunSnapshot {
            nodes,
            start_node: Some(self.plan.node(self.plan.start).id.clone()),
            exit_node: Some(self.plan.node(self.plan.exit).id.clone()),
            current_node: current,
            completed_nodes: completed,
        }
    }

    /// The context as condition variables, with lenient `${}` expansion.
    fn vars(&self) -> ConditionVars<'_> {
        ConditionVars {
            ctx: &self.ctx,
            graph: &self.plan.graph_attrs,
        }
    }

    /// Usage counted against the budget: a parent's baseline plus this run's.
    fn combined_usage(&self) -> Option<UsageSummary> {
        match (&self.baseline, self.trace.usage()) {
            (None, local) => local.cloned(),
            (Some(base), local) => {
                let mut merged = base.clone();
                if let Some(local) = local {
                    merged.add_child(local);
                }
                Some(merged)
            }
        }
    }

    fn cost_snapshot(&self, usage: &UsageSummary) -> CostSnapshot {
        CostSnapshot {
            total_tokens: Some(usage.total_tokens),
            total_cost_usd: Some(usage.total_cost_usd),
            provider_totals: usage.provider_totals.clone(),
            wall_elapsed_ms: Some(
                u64::try_from(self.clock.now().since(self.started).as_millis()).unwrap_or(u64::MAX),
            ),
            estimated: usage.estimated,
        }
    }

    /// Emits `cost_updated` once usage exists.
    fn emit_cost(&mut self, node: &str, out: &mut Vec<Effect>) {
        if let Some(usage) = self.combined_usage() {
            let cost = self.cost_snapshot(&usage);
            let event = self
                .event(EventKind::CostUpdated)
                .with_node_id(node)
                .with_cost(cost);
            self.emit(out, event);
        }
    }

    /// The budget guard (§8): `Some(end)` when a limit is breached.
    fn check_budget(&mut self, out: &mut Vec<Effect>) -> Option<RunEnd> {
        self.budget_breach(out, true)
    }

    /// [`Engine::check_budget`]; `save`: whether the breach saves the run
    /// (not at a resume's start, where nothing changed since the save it
    /// resumes from, whose token the interrupted attempt must keep).
    fn budget_breach(&mut self, out: &mut Vec<Effect>, save: bool) -> Option<RunEnd> {
        if !self.budget.is_set() {
            return None;
        }
        let now = self.clock.now();
        let usage = self.combined_usage();
        let breach = self.budget.check(
            usage.as_ref(),
            now.since(self.started),
            now.since(self.last_progress),
        )?;
        if save {
            self.save(out);
        }
        let mut event = self
            .event(EventKind::BudgetExceeded)
            .with_message(breach.message())
            .with_terminal_status(TerminalStatus::BudgetExceeded.as_str());
        if let Some(usage) = &usage {
            event = event.with_cost(self.cost_snapshot(usage));
        }
        self.emit(out, event);
        Some(RunEnd {
            checkpoint_error: None,
            result: Some(self.result(
                TerminalStatus::BudgetExceeded,
                vec![breach.kind().to_string()],
            )),
            error: None,
        })
    }

    /// The run's result as of now.
    fn result(&self, status: TerminalStatus, budget_limits_hit: Vec<String>) -> RunResult {
        RunResult {
            run_id: self.run_id.clone(),
            status,
            completed_nodes: self.record.completed_nodes().to_vec(),
            context: self.ctx.snapshot(),
            trace: self.trace.entries().to_vec(),
            usage: self.trace.usage().cloned(),
            earlier_usage: self.earlier_usage.clone(),
            budget_limits_hit,
            validation_overrides: self.record.overrides().to_vec(),
        }
    }

    /// The run's trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// A `fail` result ending with `pipeline_failed`.
    fn fail(&mut self, message: String, error: Option<String>, out: &mut Vec<Effect>) -> RunEnd {
        let mut event = self
            .event(EventKind::PipelineFailed)
            .with_message(message)
            .with_terminal_status(TerminalStatus::Fail.as_str());
        if let Some(error) = &error {
            event = event.with_error(error.clone());
        }
        self.emit(out, event);
        RunEnd {
            checkpoint_error: None,
            result: Some(self.result(TerminalStatus::Fail, Vec::new())),
            error,
        }
    }

    /// The successful end: `pipeline_completed`, `validation_overridden` when an
    /// override edge was taken.
    fn complete(&mut self, out: &mut Vec<Effect>) -> RunEnd {
        let status = if self.record.overrides().is_empty() {
            TerminalStatus::Success
        } else {
            TerminalStatus::ValidationOverridden
        };
        let event = self
            .event(EventKind::PipelineCompleted)
            .with_message("pipeline completed")
            .with_terminal_status(status.as_str());
        self.emit(out, event);
        RunEnd {
            checkpoint_error: None,
            result: Some(self.result(status, Vec::new())),
            error: None,
        }
    }

    /// Un-completes `target` and everything downstream of it.
    fn clear_downstream(&mut self, target: NodeIndex) {
        for node in self.plan.downstream(target) {
            let id = self.plan.node(node).id.clone();
            self.record.clear_completed(&id);
        }
    }

    fn is_prompt_consumer(&self, node: NodeIndex) -> bool {
        match self.plan.node(node).handler {
            Handler::Codergen => true,
            Handler::Parallel => self
                .plan
                .outgoing(node)
                .any(|e| self.plan.node(e.to).handler == Handler::Codergen),
            _ => false,
        }
    }
}

/// A run that stopped on a broken invariant: no result.
fn halt(error: String) -> RunEnd {
    RunEnd {
        checkpoint_error: None,
        result: None,
        error: Some(error),
    }
}

/// §3.5: on resume, degrade the current node's fidelity one step and compact the
/// context to that level, keeping the routing hints.
fn compact_for_resume(plan: &SpawnPlan, cp: &Checkpoint, ctx: &mut PipelineContext) {
    if cp.current_node.is_empty() || cp.completed_nodes.is_empty() {
        return;
    }
    let Some(node) = plan.node_index(&cp.current_node) else {
        return;
    };
    let common = &plan.node(node).spec.common;
    let level = Fidelity::of(common.fidelity(), &plan.graph_attrs).degrade();
    let reads: Vec<&str> = common.reads.iter().map(String::as_str).collect();
    // `summary:high` keeps every key: resuming a default (`full`) node is lossless.
    let Some(keep) = level.keys(&reads) else {
        return;
    };
    let values = ctx.snapshot();
    let hints: Vec<(String, String)> = [
        context::OUTCOME,
        context::PREFERRED_LABEL,
        context::SUGGESTED_NEXT_NODES,
    ]
    .iter()
    .filter_map(|k| {
        values
            .get(*k)
            .filter(|v| !v.is_empty())
            .map(|v| (k.to_string(), v.clone()))
    })
    .collect();
    for key in values.keys() {
        ctx.set(key.clone(), "");
    }
    for key in keep {
        if let Some(value) = values.get(key) {
            ctx.set(key, level.shape(value));
        }
    }
    for (key, value) in hints {
        if ctx.get_or_empty(&key).is_empty() {
            ctx.set(key, value);
        }
    }
}

/// Condition variables: the context, internal values and lenient `${}` expansion.
struct ConditionVars<'a> {
    ctx: &'a PipelineContext,
    graph: &'a BTreeMap<String, String>,
}

impl crate::condition::Lookup for ConditionVars<'_> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.ctx.get(name)
    }

    fn internal(&self, name: &str) -> Option<&str> {
        self.ctx.internal(name)
    }

    fn expand<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if !text.contains("${") {
            return std::borrow::Cow::Borrowed(text);
        }
        let sources = crate::interpolate::Sources::new(self.ctx, self.graph);
        match crate::interpolate::expand_braces(text, &sources, crate::interpolate::Mode::Condition)
        {
            Ok(expanded) => std::borrow::Cow::Owned(expanded),
            Err(_) => std::borrow::Cow::Borrowed(text),
        }
    }
}

#[cfg(test)]
mod tests;
