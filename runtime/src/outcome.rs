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

/// Why a handler could not produce an outcome.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HandlerError {
    /// The node could not run: bad configuration, a tool timeout or spawn
    /// failure, a denied command, an artifact that could not be written. Ends
    /// the run as `fail`.
    #[error("{0}")]
    Failed(String),
    /// The provider's credit or quota is exhausted. Pauses the run as
    /// `paused_billing`; the node is not completed, so `-r` runs it again.
    #[error("{0}")]
    PausedBilling(String),
    /// The handler's code panicked. The supervisor decides whether the node is
    /// started again; if not, the run fails as for [`HandlerError::Failed`].
    #[error("panic: {0}")]
    Panicked(String),
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
