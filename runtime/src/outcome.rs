//! What a handler reports back: an [`Outcome`] (the node ran and decided
//! something) or a [`HandlerError`] (the node could not run at all).
//!
//! The distinction is the reference's: an outcome — `success`, `fail`, `retry` or
//! anything else — is routed by the engine; an error ends the run (or, for a
//! billing exhaustion, pauses it so `-r` can pick it up again).

use std::collections::BTreeMap;

use crate::checkpoint::OverrideDetail;
use crate::event::{Actor, AutoStatusDetail, MarkerDetail, RouteDetail, Truncation};
use crate::usage::{SessionStats, UsageSummary};

/// `success`: the node did its job.
pub const SUCCESS: &str = "success";
/// `fail`: the node ran and failed; routing decides what happens next.
pub const FAIL: &str = "fail";
/// `retry`: run the node again under its retry policy.
pub const RETRY: &str = "retry";

/// The result of running a node's handler.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// `success`, `fail`, `retry`, or any other text (treated as a failure that
    /// does not complete the node).
    pub status: String,
    /// Context keys to write, in key order.
    pub context_updates: BTreeMap<String, String>,
    /// The edge label the handler prefers (a gate's answer, a routing sentinel).
    pub preferred_label: String,
    /// Node ids the handler suggests going to next.
    pub suggested_next_nodes: Vec<String>,
    /// The agent session's statistics, when the node ran one.
    pub stats: Option<SessionStats>,
    /// The usage of a child run (subgraph, manager loop) under this node.
    pub child_usage: Option<UsageSummary>,
    /// Overrides a child run recorded, with this node prepended to their path.
    pub child_overrides: Vec<OverrideDetail>,
    /// Who chose the answer, for gates (read when an override edge is taken).
    pub actor: Option<Actor>,
    /// Tool output streams that were cut to their limit.
    pub truncations: Vec<Truncation>,
    /// A `marker_grep` that found nothing (or did not compile).
    pub missing_marker: Option<MarkerDetail>,
    /// A required `_TRACKER_ROUTE=` line that was not printed.
    pub missing_route: Option<RouteDetail>,
    /// An `auto_status` agent that printed no `STATUS:` line.
    pub missing_auto_status: Option<AutoStatusDetail>,
}

impl Outcome {
    /// An outcome with `status` and nothing else.
    pub fn with_status(status: impl Into<String>) -> Outcome {
        Outcome {
            status: status.into(),
            ..Outcome::default()
        }
    }

    /// `success` with no updates: what start, exit and conditional nodes return.
    pub fn success() -> Outcome {
        Outcome::with_status(SUCCESS)
    }

    /// Adds one context update.
    pub fn update(mut self, key: impl Into<String>, value: impl Into<String>) -> Outcome {
        self.context_updates.insert(key.into(), value.into());
        self
    }
}

/// Why a handler could not produce an outcome, by failure mode. Every variant
/// but [`HandlerError::PausedBilling`] ends the run as `fail`; each displays
/// as the message the run's events and summary carry.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HandlerError {
    /// The node is configured in a way its handler cannot run: a missing or
    /// invalid attribute, an unknown backend or join policy, a branch or
    /// subgraph that does not exist, no key for its provider.
    #[error("{message}")]
    Config {
        /// The node.
        node: String,
        /// What is wrong, naming the node.
        message: String,
    },
    /// A tool command was refused by the deny or allow lists, could not be
    /// started or read, or timed out.
    #[error("{message}")]
    Command {
        /// The node.
        node: String,
        /// What happened, naming the node.
        message: String,
    },
    /// A file of the node's (its directory, `status.json`, `prompt.md`, …)
    /// could not be written.
    #[error("{source}")]
    Io {
        /// The node.
        node: String,
        /// The file and what failed.
        source: NodeFileError,
    },
    /// The provider failed in a way retrying cannot fix.
    #[error("agent node {node:?}: {source}")]
    Provider {
        /// The node.
        node: String,
        /// The provider's error (boxed: it is large, and results are moved
        /// on every node).
        source: Box<crate::llm::ProviderError>,
    },
    /// The gate's interviewer could not answer.
    #[error("gate {node:?}: {source}")]
    Gate {
        /// The node.
        node: String,
        /// Why no answer came.
        source: GateError,
    },
    /// The node's child run (subgraph, manager loop) failed.
    #[error("child run of node {node:?} failed: {message}")]
    Child {
        /// The node.
        node: String,
        /// The child run's error.
        message: String,
    },
    /// A parallel branch ran past its `branch_timeout`.
    #[error("branch timed out after {limit:?}")]
    BranchTimedOut {
        /// The branch's node.
        node: String,
        /// The timeout.
        limit: std::time::Duration,
    },
    /// A parallel branch's task ended without reporting.
    #[error("parallel node {node:?}: branch {branch:?} did not report")]
    BranchLost {
        /// The parallel node.
        node: String,
        /// The branch.
        branch: String,
    },
    /// No handler is registered for the node's kind.
    #[error("no handler is registered for {kind:?} nodes")]
    NoHandler {
        /// The node.
        node: String,
        /// The node kind's wire name.
        kind: &'static str,
    },
    /// The node kept failing and the supervisor's restart limit is spent.
    #[error("node {node:?} {what}; the supervisor's restart limit ({restarts}) is spent")]
    RestartsSpent {
        /// The node.
        node: String,
        /// How its last attempt ended.
        what: String,
        /// The restarts made.
        restarts: u32,
    },
    /// The provider's credit or quota is exhausted. Pauses the run as
    /// `paused_billing`; the node is not completed, so `-r` runs it again.
    #[error("{0}")]
    PausedBilling(String),
    /// The attempt ran past its supervision timeout and was stopped.
    #[error("ran past its supervision timeout of {limit:?} and was stopped")]
    TimedOut {
        /// The node.
        node: String,
        /// The timeout.
        limit: std::time::Duration,
    },
    /// The handler's code panicked. The supervisor decides whether the node is
    /// started again; if not, the run fails as for the other errors.
    #[error("panic: {0}")]
    Panicked(String),
}

/// A node file that could not be written. The I/O error is shared so that
/// results stay cheap to copy and compare.
#[derive(Clone, Debug, thiserror::Error)]
pub enum NodeFileError {
    /// The node's directory could not be created (`status.json`'s writer).
    #[error("create node directory {}: {source}", path.display())]
    CreateNodeDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::sync::Arc<std::io::Error>,
    },
    /// A directory could not be created.
    #[error("create {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::sync::Arc<std::io::Error>,
    },
    /// A file could not be written.
    #[error("write {}: {source}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::sync::Arc<std::io::Error>,
    },
}

impl NodeFileError {
    /// The directory or file concerned.
    pub fn path(&self) -> &std::path::Path {
        match self {
            NodeFileError::CreateNodeDir { path, .. }
            | NodeFileError::CreateDir { path, .. }
            | NodeFileError::Write { path, .. } => path,
        }
    }
}

impl PartialEq for NodeFileError {
    /// Equal when of the same kind, for the same path, with the same message.
    fn eq(&self, other: &NodeFileError) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.path() == other.path()
            && self.to_string() == other.to_string()
    }
}

/// Why a gate's interviewer gave no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// No interviewer answers this run's gates: gates fail closed.
    #[error("no interviewer answers the gates of run {run_id:?}")]
    NoRoute {
        /// The run.
        run_id: String,
    },
    /// The gate router could not be reached.
    #[error("gate router unavailable: {0}")]
    RouterUnavailable(String),
    /// Standard input ended before an answer.
    #[error("no answer: standard input is closed (run with --auto-approve to answer gates automatically)")]
    InputClosed,
    /// The person closed the gate without answering it (Esc on the
    /// dashboard).
    #[error("no answer: the gate was closed without one")]
    Canceled,
}

/// A handler's error together with whatever a child run spent before it failed,
/// so that the spend is still counted.
#[derive(Clone, Debug, PartialEq)]
pub struct HandlerFailure {
    /// What went wrong.
    pub error: HandlerError,
    /// Usage of a child run cut short by the error.
    pub child_usage: Option<Box<UsageSummary>>,
}

impl From<HandlerError> for HandlerFailure {
    fn from(error: HandlerError) -> HandlerFailure {
        HandlerFailure {
            error,
            child_usage: None,
        }
    }
}

/// What a node attempt produced.
pub type NodeResult = Result<Outcome, HandlerFailure>;
