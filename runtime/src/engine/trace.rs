//! The run's trace: one entry per handler call, in order, and the usage they add
//! up to (kept as a running total so reading it is O(1) per node).

use std::time::Duration;

use crate::usage::{SessionStats, UsageSummary};

/// One handler call.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    /// The node.
    pub node_id: String,
    /// The handler's wire name (`codergen`, `tool`, …).
    pub handler_name: String,
    /// The outcome status, or `error` when the handler failed to run.
    pub status: String,
    /// Where the run went next; empty when it stopped here.
    pub edge_to: String,
    /// The node's session statistics. (Boxed, as is the child's usage: tool,
    /// gate and routing entries have neither, and a run keeps every entry.)
    pub stats: Option<Box<SessionStats>>,
    /// A child run's usage.
    pub child_usage: Option<Box<UsageSummary>>,
    /// The handler's error text.
    pub error: String,
    /// How long the handler ran.
    pub duration: Duration,
}

/// The entries so far and their aggregate usage.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    entries: Vec<TraceEntry>,
    usage: UsageSummary,
}

impl Trace {
    /// A trace whose usage starts at `earlier`: what a resumed run's earlier
    /// processes spent (their entries are not kept: only their sum).
    pub fn resumed(earlier: UsageSummary) -> Trace {
        Trace {
            entries: Vec::new(),
            usage: earlier,
        }
    }

    /// Appends an entry and folds its usage in.
    pub fn push(&mut self, entry: TraceEntry) {
        if let Some(stats) = &entry.stats {
            self.usage.add_session(stats);
        }
        if let Some(child) = &entry.child_usage {
            self.usage.add_child(child);
        }
        self.entries.push(entry);
    }

    /// The entries in order.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// The aggregate usage; `None` until some session has been counted (the
    /// reference's nil summary).
    pub fn usage(&self) -> Option<&UsageSummary> {
        (self.usage.session_count > 0).then_some(&self.usage)
    }

    /// Takes the entries out.
    pub fn into_entries(self) -> Vec<TraceEntry> {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::TraceUsage;

    fn entry(stats: Option<SessionStats>, child: Option<UsageSummary>) -> TraceEntry {
        TraceEntry {
            node_id: "N".into(),
            handler_name: "codergen".into(),
            status: "success".into(),
            edge_to: String::new(),
            stats: stats.map(Box::new),
            child_usage: child.map(Box::new),
            error: String::new(),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn running_usage_matches_a_fold_of_the_entries() {
        let stats = SessionStats {
            turns: 1,
            input_tokens: 100,
            output_tokens: 50,
            total_tokens: 150,
            provider: "stub".into(),
            ..SessionStats::default()
        };
        let mut trace = Trace::default();
        assert!(trace.usage().is_none());
        trace.push(entry(None, None));
        assert!(trace.usage().is_none());
        trace.push(entry(Some(stats.clone()), None));
        let child = UsageSummary::fold([TraceUsage::Stats(&stats)]);
        trace.push(entry(Some(stats.clone()), child.clone()));
        let folded = UsageSummary::fold(trace.entries().iter().flat_map(|e| {
            e.stats
                .iter()
                .map(|s| TraceUsage::Stats(s))
                .chain(e.child_usage.iter().map(|c| TraceUsage::Child(c)))
        }));
        assert_eq!(trace.usage(), folded.as_ref());
        assert_eq!(trace.usage().map(|u| u.session_count), Some(3));
    }
}
