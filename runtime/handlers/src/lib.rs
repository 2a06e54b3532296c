//! `tracker-handlers`: the built-in node handlers — what runs a node once the
//! engine has decided to run it (ADR 0006, ADR 0007).
//!
//! **Owns** the work of each node kind: agent sessions, shell commands, human
//! gates, fan-out and fan-in, child runs, and the node files they write. **Must
//! not depend on** actix or the engine's state: a handler gets a [`NodeTask`]
//! (the node, its typed spec with `$variables` expanded, a snapshot of the
//! context) and a [`HandlerEnv`] (the plan, the working directory, the event
//! sink and the shared services: LLM completers, the gate interviewer, the tool
//! policy, the child-run launcher) and returns a [`NodeResult`]; everything it
//! changes comes back as the outcome's context updates. The actors drive it.
//!
//! | handler | module |
//! |---|---|
//! | `start`, `exit`, `conditional` | here: no-ops that succeed |
//! | `tool` | [`tool`] (with [`shell`] and [`tool_safety`]) |
//! | `codergen` | [`codergen`] (with [`tracker_runtime::llm`]) |
//! | `wait.human` | [`human`] (with [`questions`]) |
//! | `parallel`, `parallel.fan_in` | [`parallel`] |
//! | `subgraph`, `stack.manager_loop` | [`child`] |
//! | any, capped across runs | [`limited`] |

pub mod agent_events;
pub mod child;
pub mod codergen;
pub mod failover;
pub mod human;
pub mod limited;
pub mod parallel;
pub mod questions;
pub mod shell;
pub mod tool;
pub mod writes;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracker_runtime::clock::Clock;
use tracker_runtime::engine::NodeTask;
use tracker_runtime::event::{EventKind, EventSource, PipelineEvent};
use tracker_runtime::interpolate::VarSource;
use tracker_runtime::llm::Completers;
use tracker_runtime::outcome::{NodeFileError, NodeResult, Outcome};
use tracker_runtime::plan::{Handler, SpawnPlan};

pub use tracker_runtime::future::BoxFuture;
/// The deny and allow lists, at the crate's top since the agent's `bash` uses
/// them too; re-exported here where callers knew them.
pub use tracker_runtime::tool_safety;

/// Where handlers publish the events they produce themselves (gates, parallel
/// branches, child runs). Publishing waits while the consumers are behind, so a
/// fast handler cannot flood them.
pub trait EventSink: Send + Sync {
    /// Publishes `event`.
    fn emit(&self, event: PipelineEvent) -> BoxFuture<()>;

    /// Publishes `events` in order (one hand-off where the sink supports it).
    fn emit_batch(&self, events: Vec<PipelineEvent>) -> BoxFuture<()> {
        let pending: Vec<BoxFuture<()>> = events.into_iter().map(|e| self.emit(e)).collect();
        Box::pin(async move {
            for emit in pending {
                emit.await;
            }
        })
    }
}

/// Runs one kind of node.
pub trait NodeHandler: Send + Sync {
    /// Runs `task`. The future owns everything it uses.
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult>;
}

/// Everything a handler may use besides its task.
#[derive(Clone)]
pub struct HandlerEnv {
    /// The plan being run.
    pub plan: Arc<SpawnPlan>,
    /// The working directory: tool commands run here, and node files land here
    /// when the run has no artifact directory.
    pub workdir: PathBuf,
    /// Where handler events go.
    pub events: Arc<dyn EventSink>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Shared services.
    pub services: Arc<Services>,
    /// The child workflows this run's subgraph and manager-loop nodes name.
    pub subgraphs: Arc<child::Subgraphs>,
    /// Identifies the checkpoint state a node attempt started from, so that an
    /// attempt interrupted by a crash is recognised on resume (see
    /// [`tool`]): the timestamp of the run's last checkpoint save.
    pub resume_token: String,
    /// The directory of the records of the run this one belongs to (its own
    /// run directory, or a child run's parent's), which agent file tools may
    /// not change; none when the run keeps none.
    pub records: Option<PathBuf>,
}

impl std::fmt::Debug for HandlerEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerEnv")
            .field("workdir", &self.workdir)
            .finish_non_exhaustive()
    }
}

impl HandlerEnv {
    /// An event from `task`'s node.
    pub fn event(&self, kind: EventKind, task: &NodeTask) -> PipelineEvent {
        PipelineEvent::new(
            kind,
            EventSource::Pipeline,
            self.clock.now().event_timestamp(),
        )
        .with_run_id(&task.run_id)
        .with_node_id(&task.node_id)
    }

    /// The directory for `task`'s node files: `<artifact dir>/<node>` or, without
    /// an artifact directory, `<workdir>/<node>` (as the reference does).
    pub fn node_dir(&self, task: &NodeTask) -> PathBuf {
        task.artifact_dir
            .as_deref()
            .unwrap_or(&self.workdir)
            .join(&task.node_id)
    }
}

/// The services every run of a process shares.
pub struct Services {
    /// Handlers by kind (the parallel handler runs its branches through them).
    pub handlers: HandlerRegistry,
    /// LLM completers by provider.
    pub completers: Completers,
    /// Who answers human gates.
    pub interviewer: Arc<dyn human::Interviewer>,
    /// Tool-command safety settings from the command line.
    pub tool_policy: tool_safety::ToolPolicy,
    /// Launches child runs (subgraphs, manager loops); `None` where child runs are
    /// not available.
    pub children: Option<Arc<dyn child::ChildRunner>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// Handlers by kind.
#[derive(Clone)]
pub struct HandlerRegistry {
    handlers: HashMap<Handler, Arc<dyn NodeHandler>>,
}

impl HandlerRegistry {
    /// The built-in handlers.
    pub fn builtin() -> HandlerRegistry {
        let mut handlers: HashMap<Handler, Arc<dyn NodeHandler>> = HashMap::new();
        handlers.insert(Handler::Start, Arc::new(NoOp));
        handlers.insert(Handler::Exit, Arc::new(NoOp));
        handlers.insert(Handler::Conditional, Arc::new(NoOp));
        handlers.insert(Handler::Tool, Arc::new(tool::ToolHandler));
        handlers.insert(Handler::Codergen, Arc::new(codergen::CodergenHandler));
        handlers.insert(Handler::Human, Arc::new(human::HumanHandler));
        handlers.insert(Handler::Parallel, Arc::new(parallel::ParallelHandler));
        handlers.insert(Handler::FanIn, Arc::new(parallel::FanInHandler));
        handlers.insert(Handler::Subgraph, Arc::new(child::SubgraphHandler));
        handlers.insert(Handler::ManagerLoop, Arc::new(child::ManagerLoopHandler));
        HandlerRegistry { handlers }
    }

    /// Replaces the handler for `kind` (tests, embedders).
    pub fn set(&mut self, kind: Handler, handler: Arc<dyn NodeHandler>) {
        self.handlers.insert(kind, handler);
    }

    /// The handler for `kind`.
    pub fn get(&self, kind: Handler) -> Option<Arc<dyn NodeHandler>> {
        self.handlers.get(&kind).cloned()
    }
}

impl std::fmt::Debug for HandlerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerRegistry")
            .field("kinds", &self.handlers.len())
            .finish()
    }
}

/// `start`, `exit` and `conditional`: succeed without doing anything.
struct NoOp;

impl NodeHandler for NoOp {
    fn run(&self, _task: NodeTask, _env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async { Ok(Outcome::success()) })
    }
}

/// The context snapshot a task carries, as a `${…}` variable source.
#[derive(Clone, Copy, Debug)]
pub struct ContextVars<'a> {
    /// The context values.
    pub ctx: &'a BTreeMap<String, String>,
    /// The graph attributes.
    pub graph: &'a BTreeMap<String, String>,
}

impl<'a> ContextVars<'a> {
    /// The variables of `task` under `plan`.
    pub fn of(task: &'a NodeTask, plan: &'a SpawnPlan) -> ContextVars<'a> {
        ContextVars {
            ctx: &task.context,
            graph: &plan.graph_attrs,
        }
    }

    /// The context value of `key`, or `""`.
    pub fn get(&self, key: &str) -> &'a str {
        self.ctx.get(key).map_or("", String::as_str)
    }
}

impl VarSource for ContextVars<'_> {
    fn ctx(&self, key: &str) -> Option<&str> {
        self.ctx.get(key).map(String::as_str)
    }

    fn graph(&self, key: &str) -> Option<&str> {
        self.graph.get(key).map(String::as_str)
    }
}

/// Writes `status.json` for a node (2-space JSON, no final newline), creating
/// the node directory.
pub fn write_status(dir: &Path, outcome: &Outcome) -> Result<(), NodeFileError> {
    tracker_runtime::private_files::ensure_dir(dir).map_err(|e| NodeFileError::CreateNodeDir {
        path: dir.to_path_buf(),
        source: Arc::new(e),
    })?;
    write_status_in(dir, outcome)
}

/// [`write_status`] into a node directory the caller has just made.
pub(crate) fn write_status_in(dir: &Path, outcome: &Outcome) -> Result<(), NodeFileError> {
    use tracker_runtime::gojson::{to_go_json_indent, GoValue};
    let mut fields: Vec<(&str, GoValue)> = vec![("outcome", outcome.status.as_str().into())];
    if !outcome.preferred_label.is_empty() {
        fields.push((
            "preferred_next_label",
            outcome.preferred_label.as_str().into(),
        ));
    }
    if !outcome.suggested_next_nodes.is_empty() {
        fields.push((
            "suggested_next_ids",
            GoValue::strings(&outcome.suggested_next_nodes),
        ));
    }
    if !outcome.context_updates.is_empty() {
        fields.push((
            "context_updates",
            GoValue::sorted_map(&outcome.context_updates, |v| v.as_str().into()),
        ));
    }
    let text = to_go_json_indent(&GoValue::object(fields));
    let path = dir.join("status.json");
    tracker_runtime::private_files::write(&path, text.as_bytes()).map_err(|e| {
        NodeFileError::Write {
            path,
            source: Arc::new(e),
        }
    })
}
