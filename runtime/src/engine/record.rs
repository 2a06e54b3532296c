//! The checkpointed part of a run's state, with a log of what changed since the
//! last save (so a save writes only that; see [`crate::journal`]).

use std::collections::{BTreeMap, HashSet};

use crate::checkpoint::{Checkpoint, OverrideDetail};
use crate::journal::Change;

/// The run's routing state: completion, retry and restart counts, edge selections,
/// outcomes, goal-gate flags and overrides. Every mutation goes through a method
/// that also records a [`Change`].
#[derive(Debug)]
pub(crate) struct RunRecord {
    cp: Checkpoint,
    completed: HashSet<String>,
    changes: Vec<Change>,
}

impl RunRecord {
    /// A record continuing from `cp` (a fresh one for a new run).
    pub(crate) fn new(cp: Checkpoint) -> RunRecord {
        let completed = cp.completed_nodes.iter().cloned().collect();
        RunRecord {
            cp,
            completed,
            changes: Vec::new(),
        }
    }

    /// The state as a checkpoint (context not included).
    pub(crate) fn checkpoint(&self) -> &Checkpoint {
        &self.cp
    }

    /// Takes the changes made since the last call.
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    fn change(&mut self, change: Change) {
        self.cp.apply(&change);
        self.changes.push(change);
    }

    pub(crate) fn is_completed(&self, node: &str) -> bool {
        self.completed.contains(node)
    }

    pub(crate) fn completed_nodes(&self) -> &[String] {
        &self.cp.completed_nodes
    }

    pub(crate) fn mark_completed(&mut self, node: &str) {
        if self.completed.insert(node.to_string()) {
            self.change(Change::Completed {
                node: node.to_string(),
            });
        }
    }

    /// Un-completes `node` (and drops its edge selection) if it was completed.
    pub(crate) fn clear_completed(&mut self, node: &str) {
        let was_completed = self.completed.remove(node);
        if was_completed || self.cp.edge_selections.contains_key(node) {
            self.change(Change::Uncompleted {
                node: node.to_string(),
            });
        }
    }

    pub(crate) fn set_current(&mut self, node: &str) {
        if self.cp.current_node != node {
            self.change(Change::CurrentNode {
                node: node.to_string(),
            });
        }
    }

    pub(crate) fn retry_count(&self, node: &str) -> u64 {
        self.cp.retry_counts.get(node).copied().unwrap_or(0)
    }

    pub(crate) fn set_retry_count(&mut self, node: &str, count: u64) {
        if self.retry_count(node) != count {
            self.change(Change::RetryCount {
                node: node.to_string(),
                count,
            });
        }
    }

    pub(crate) fn restart_count(&self) -> u64 {
        self.cp.restart_count
    }

    pub(crate) fn set_restart_count(&mut self, count: u64) {
        self.change(Change::RestartCount { count });
    }

    pub(crate) fn edge_selection(&self, node: &str) -> Option<&str> {
        self.cp.edge_selections.get(node).map(String::as_str)
    }

    pub(crate) fn select_edge(&mut self, node: &str, to: &str) {
        self.change(Change::EdgeSelection {
            node: node.to_string(),
            to: to.to_string(),
        });
    }

    pub(crate) fn node_outcomes(&self) -> &BTreeMap<String, String> {
        &self.cp.node_outcomes
    }

    pub(crate) fn set_node_outcome(&mut self, node: &str, status: &str) {
        if self.cp.node_outcomes.get(node).map(String::as_str) != Some(status) {
            self.change(Change::NodeOutcome {
                node: node.to_string(),
                status: status.to_string(),
            });
        }
    }

    pub(crate) fn fallback_taken(&self, node: &str) -> bool {
        self.cp.fallback_taken.contains(node)
    }

    pub(crate) fn take_fallback(&mut self, node: &str) {
        self.change(Change::FallbackTaken {
            node: node.to_string(),
        });
    }

    pub(crate) fn recheck_pending(&self, node: &str) -> bool {
        self.cp.gate_recheck_pending.contains(node)
    }

    pub(crate) fn recheck_pending_gates(&self) -> impl Iterator<Item = &String> {
        self.cp.gate_recheck_pending.iter()
    }

    pub(crate) fn set_recheck(&mut self, node: &str, pending: bool) {
        if self.recheck_pending(node) != pending {
            self.change(Change::GateRecheck {
                node: node.to_string(),
                pending,
            });
        }
    }

    pub(crate) fn is_overridden(&self, node: &str) -> bool {
        self.cp.overridden_gates.contains(node)
    }

    pub(crate) fn set_overridden(&mut self, node: &str, overridden: bool) {
        if self.is_overridden(node) != overridden {
            self.change(Change::OverriddenGate {
                node: node.to_string(),
                overridden,
            });
        }
    }

    pub(crate) fn overrides(&self) -> &[OverrideDetail] {
        &self.cp.validation_overrides
    }

    pub(crate) fn add_override(&mut self, detail: OverrideDetail) {
        self.change(Change::Override { detail });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_replay_to_the_same_checkpoint() {
        let mut record = RunRecord::new(Checkpoint::new("r"));
        record.mark_completed("A");
        record.select_edge("A", "B");
        record.set_current("B");
        record.set_retry_count("B", 2);
        record.mark_completed("B");
        record.clear_completed("A");
        record.set_recheck("G", true);
        let changes = record.take_changes();
        let mut replayed = Checkpoint::new("r");
        for change in &changes {
            replayed.apply(change);
        }
        assert_eq!(&replayed, record.checkpoint());
        assert_eq!(record.completed_nodes(), ["B"]);
        assert!(record.take_changes().is_empty());
    }

    #[test]
    fn unchanged_values_record_nothing() {
        let mut record = RunRecord::new(Checkpoint::new("r"));
        record.mark_completed("A");
        record.take_changes();
        record.mark_completed("A");
        record.set_retry_count("A", 0);
        record.clear_completed("Z");
        assert!(record.take_changes().is_empty());
    }
}
