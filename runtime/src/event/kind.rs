//! The closed vocabularies of an event line: [`EventKind`] (`type`),
//! [`EventSource`] (`source`), [`EdgePriority`] (`edge_priority`) and [`Actor`]
//! (`gate_actor`, `override_actor`), each declared with its wire names once.
//!
//! The wire names are an API boundary: they appear in `activity.jsonl`, the
//! `--json` stream and the conformance goldens.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The closed set of pipeline event types. The wire names (see
    /// [`EventKind::wire_name`]) are an API boundary: they appear in
    /// `activity.jsonl`, the `--json` stream and the conformance goldens.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum EventKind {
        /// A run begins, after context seeding and checkpoint restore; carries the
        /// run snapshot (nodes, start/exit node, resume position).
        PipelineStarted => "pipeline_started",
        /// The run reached its exit node successfully (or a backstop closed a run
        /// that ended without a terminal event); carries the terminal status.
        PipelineCompleted => "pipeline_completed",
        /// The run stopped on a failure path: strict failure, exhausted retries,
        /// handler error, restart limit, cancellation, panic.
        PipelineFailed => "pipeline_failed",
        /// A node attempt is about to run its handler (also each parallel branch and
        /// a manager loop's child launch); carries node kind and attempt number.
        StageStarted => "stage_started",
        /// A node finished with `success`, or a completed node was skipped on resume.
        StageCompleted => "stage_completed",
        /// A node finished with `fail` or an unknown status, its handler errored, or
        /// routing gave up on it (no failure edge, retries or goal-gate budget spent).
        StageFailed => "stage_failed",
        /// A node (or an unsatisfied goal gate) is being sent round again after a
        /// `retry` outcome; carries the new attempt number.
        StageRetrying => "stage_retrying",
        /// The checkpoint file was written.
        CheckpointSaved => "checkpoint_saved",
        /// Writing the checkpoint file failed.
        CheckpointFailed => "checkpoint_failed",
        /// A parallel node is fanning out to its branches.
        ParallelStarted => "parallel_started",
        /// Every branch of a parallel node has reported back.
        ParallelCompleted => "parallel_completed",
        /// A manager loop polled its child pipeline (or steered it).
        ManagerCycleTick => "manager_cycle_tick",
        /// Routing selected an already-completed node, so that part of the graph is
        /// cleared and run again; node id is the restart target.
        LoopRestart => "loop_restart",
        /// Something non-fatal went wrong, such as preserving uncommitted work.
        Warning => "warning",
        /// Weight-based routing found several top-weight edges and broke the tie by
        /// target id.
        EdgeTiebreaker => "edge_tiebreaker",
        /// The edge leaving a node was chosen; carries source, target and priority.
        DecisionEdge => "decision_edge",
        /// One edge condition was evaluated during routing; carries the condition
        /// and whether it matched.
        DecisionCondition => "decision_condition",
        /// A node's outcome was applied to the context; carries status, context
        /// updates, the routing snapshot and the node's token counts.
        DecisionOutcome => "decision_outcome",
        /// The bookkeeping of a loop restart: restart count and cleared nodes.
        DecisionRestart => "decision_restart",
        /// The run's aggregate usage after a node; carries the cost snapshot.
        CostUpdated => "cost_updated",
        /// A token, cost, wall-time or stall limit was breached between nodes; ends
        /// the run with status `budget_exceeded`.
        BudgetExceeded => "budget_exceeded",
        /// A provider reported a billing or quota failure; the run pauses with
        /// status `paused_billing`.
        BillingPaused => "billing_paused",
        /// A tool node's stdout or stderr exceeded its capture limit and was cut.
        ToolOutputTruncated => "tool_output_truncated",
        /// Routing tried conditions, none matched, and an unconditional edge was
        /// taken instead; lists the conditions tried.
        ConditionalFallthrough => "conditional_fallthrough",
        /// An agent node went over its own cost ceiling.
        NodeCostLimitExceeded => "node_cost_limit_exceeded",
        /// An agent node made no workspace progress for too many turns.
        NodeNoProgressDetected => "node_no_progress_detected",
        /// Snapshotting the working tree's uncommitted changes on a failure path
        /// did not work.
        WorkPreserveFailed => "work_preserve_failed",
        /// A resume went ahead although the bundle identity changed
        /// (`--force-bundle-mismatch`); written by the CLI to the activity log only.
        BundleMismatchForced => "bundle_mismatch_forced",
        /// A tool node's output lacked the marker its `marker_grep` pattern wanted
        /// (or the pattern did not compile).
        ToolMarkerMissing => "tool_marker_missing",
        /// A tool node's output carried no routing line.
        ToolRouteMissing => "tool_route_missing",
        /// An agent's response lacked the `STATUS` line `auto_status` asked for.
        AutoStatusMissing => "auto_status_missing",
        /// An override edge was taken past a failed goal gate; node id is the gate.
        ValidationOverridden => "validation_overridden",
        /// A human gate was opened and is waiting for an answer.
        GateOpened => "gate_opened",
        /// A human gate was answered (or timed out, or failed to collect an answer).
        GateResolved => "gate_resolved",
        /// A memoized agent node reused a stored successful outcome instead of
        /// running.
        NodeMemoReplayed => "node_memo_replayed",
        /// tracker's supervisor started a crashed node attempt again (not in the
        /// reference, which has no supervisor).
        NodeRestarted => "node_restarted",
        /// tracker's supervisor gave up restarting a node (its restart intensity was
        /// spent) and escalated: the node fails or the run ends.
        SupervisorEscalated => "supervisor_escalated",
        /// An agent session began (source `agent`).
        SessionStart => "session_start",
        /// An agent session ended; the message says how (source `agent`).
        SessionEnd => "session_end",
        /// An agent is about to call its model (source `agent`).
        LlmRequestStart => "llm_request_start",
        /// An agent's model answered: finish reason and the turn's tokens
        /// (source `agent`).
        LlmFinish => "llm_finish",
        /// Text of an agent's answer as it streams in, gathered into a few
        /// events a second (source `agent`; the text is in `content`).
        TextDelta => "text_delta",
        /// An agent called a tool (source `agent`).
        ToolCallStart => "tool_call_start",
        /// An agent's tool returned (source `agent`).
        ToolCallEnd => "tool_call_end",
        /// A steering message reached an agent (source `agent`).
        SteeringInjected => "steering_injected",
        /// An agent's context was compacted (source `agent`).
        ContextCompaction => "context_compaction",
        /// An agent's provider was out of credit and its session moved to the
        /// next `llm_fallbacks` lane (source `agent`).
        ProviderFailover => "provider_failover",
    }
}

wire_enum! {
    /// Which part of tracker wrote an event line.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum EventSource {
        /// The engine (every [`EventKind`] except `bundle_mismatch_forced`).
        Pipeline => "pipeline",
        /// An agent session (its own event vocabulary, not [`EventKind`]).
        Agent => "agent",
        /// Raw LLM client trace events.
        Llm => "llm",
        /// The CLI itself; in the reference only `bundle_mismatch_forced`, and only
        /// in `activity.jsonl`.
        Cli => "cli",
    }
}

wire_enum! {
    /// Which routing step chose an edge, as [`crate::routing::select_edge`]
    /// reports it and `decision_edge.edge_priority` writes it. Serde reads and
    /// writes the wire name.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum EdgePriority {
        /// The first edge whose condition matched.
        Condition => "condition",
        /// The edge whose routing key equals the preferred label.
        Label => "label",
        /// The edge whose target is among the suggested next nodes.
        Suggested => "suggested",
        /// The single heaviest unconditional edge.
        Weight => "weight",
        /// Several heaviest edges, tie broken by target id.
        Lexical => "lexical",
        /// An override edge (always reported as this, whatever step chose it).
        Override => "override",
    }
}

wire_enum! {
    /// Who answered a gate or took an override edge (`gate_actor`, `override_actor`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Actor {
        /// A person, through the TUI, console or chat front-end.
        Human => "human",
        /// The LLM autopilot interviewer.
        Autopilot => "autopilot",
        /// The webhook gate.
        Webhook => "webhook",
        /// An interviewer that does not classify itself.
        Unknown => "unknown",
    }
}
