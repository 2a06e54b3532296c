//! The checkpoint journal: what changed at each save, so that saving costs what
//! changed and not the size of the whole run.
//!
//! A run's durable state is `checkpoint.json` (the reference's format, a full
//! snapshot) plus `checkpoint.journal`, an append-only file of JSON lines:
//!
//! ```text
//! {"base":"2026-12-01T10:00:00.123456789Z"}          <- the snapshot it extends
//! {"ts":"…","changes":[{"op":"current_node","node":"Build"}, …]}
//! {"ts":"…","changes":[…]}
//! ```
//!
//! Each save appends one line and syncs it: one fsync per transition. When the
//! journal has grown past the snapshot's size, the writer folds it into a new
//! snapshot instead (written to a temp file, synced, renamed) and starts a new
//! journal whose header names the new snapshot. A journal whose header does not
//! name the snapshot beside it is stale and ignored, and so is a torn last line
//! (a save that was never acknowledged), so the pair reads back as exactly the
//! last acknowledged state at every instant.

use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, MemoEntry, OverrideDetail};

/// The journal file's name in a run directory.
pub const JOURNAL_FILE: &str = "checkpoint.journal";

/// One change to a [`Checkpoint`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// `current_node` is now `node`.
    CurrentNode {
        /// The node.
        node: String,
    },
    /// `node` completed (appended to `completed_nodes`).
    Completed {
        /// The node.
        node: String,
    },
    /// `node` is no longer completed, and its edge selection is dropped.
    Uncompleted {
        /// The node.
        node: String,
    },
    /// `retry_counts[node] = count` (0 removes the entry).
    RetryCount {
        /// The node.
        node: String,
        /// Retries used.
        count: u64,
    },
    /// `restart_count = count`.
    RestartCount {
        /// Restarts used.
        count: u64,
    },
    /// `edge_selections[node] = to`.
    EdgeSelection {
        /// The node routed from.
        node: String,
        /// The node routed to.
        to: String,
    },
    /// `node_outcomes[node] = status`.
    NodeOutcome {
        /// The node.
        node: String,
        /// Its last outcome status.
        status: String,
    },
    /// `node` used its one-shot fallback.
    FallbackTaken {
        /// The node.
        node: String,
    },
    /// A goal gate's re-check flag.
    GateRecheck {
        /// The gate.
        node: String,
        /// Whether a re-check is pending.
        pending: bool,
    },
    /// A goal gate's human-override flag.
    OverriddenGate {
        /// The gate.
        node: String,
        /// Whether it is overridden.
        overridden: bool,
    },
    /// An override edge was taken.
    Override {
        /// The record.
        detail: OverrideDetail,
    },
    /// `context[key] = value`.
    Context {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// A memoized outcome was stored.
    Memo {
        /// The content-hash key.
        key: String,
        /// The stored outcome.
        entry: MemoEntry,
    },
}

impl Checkpoint {
    /// Applies one change.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::CurrentNode { node } => self.current_node.clone_from(node),
            Change::Completed { node } => self.completed_nodes.push(node.clone()),
            Change::Uncompleted { node } => {
                self.completed_nodes.retain(|n| n != node);
                self.edge_selections.remove(node);
            }
            Change::RetryCount { node, count } => {
                if *count == 0 {
                    self.retry_counts.remove(node);
                } else {
                    self.retry_counts.insert(node.clone(), *count);
                }
            }
            Change::RestartCount { count } => self.restart_count = *count,
            Change::EdgeSelection { node, to } => {
                self.edge_selections.insert(node.clone(), to.clone());
            }
            Change::NodeOutcome { node, status } => {
                self.node_outcomes.insert(node.clone(), status.clone());
            }
            Change::FallbackTaken { node } => {
                self.fallback_taken.insert(node.clone());
            }
            Change::GateRecheck { node, pending } => {
                set_flag(&mut self.gate_recheck_pending, node, *pending)
            }
            Change::OverriddenGate { node, overridden } => {
                set_flag(&mut self.overridden_gates, node, *overridden)
            }
            Change::Override { detail } => self.validation_overrides.push(detail.clone()),
            Change::Context { key, value } => {
                self.context.insert(key.clone(), value.clone());
            }
            Change::Memo { key, entry } => {
                self.memo_entries.insert(key.clone(), entry.clone());
            }
        }
    }
}

fn set_flag(set: &mut std::collections::BTreeSet<String>, node: &str, on: bool) {
    if on {
        set.insert(node.to_string());
    } else {
        set.remove(node);
    }
}

/// The first line of a journal: the timestamp of the snapshot it extends.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    base: String,
}

/// One save.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    ts: String,
    changes: Vec<Change>,
}

/// The header line (with its newline) of a journal extending the snapshot saved
/// at `snapshot_timestamp`.
pub fn header_line(snapshot_timestamp: &str) -> String {
    let mut line = serde_json::to_string(&Header {
        base: snapshot_timestamp.to_string(),
    })
    .unwrap_or_default();
    line.push('\n');
    line
}

/// One save's line (with its newline).
pub fn record_line(timestamp: &str, changes: &[Change]) -> String {
    #[derive(Serialize)]
    struct RecordRef<'a> {
        ts: &'a str,
        changes: &'a [Change],
    }
    // Serializing plain strings and maps cannot fail.
    let mut line = serde_json::to_string(&RecordRef {
        ts: timestamp,
        changes,
    })
    .unwrap_or_default();
    line.push('\n');
    line
}

/// Why a journal cannot be replayed: a line that was completely written (it
/// ends in a newline) but does not read as a journal line. A crash can only
/// tear the last line, and a torn line has no newline, so this is damage.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ReplayError {
    /// The damaged line, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Replays `journal` onto `snapshot`: nothing when the journal extends another
/// (older) snapshot — a crash between writing a new snapshot and its journal
/// leaves that pair, and the snapshot already holds everything — and every
/// record otherwise. A torn last line (a save that was never acknowledged) is
/// left out; any other line that does not read is an error naming it. Returns
/// how many records were applied.
pub fn replay(snapshot: &mut Checkpoint, journal: &str) -> Result<usize, ReplayError> {
    let mut lines = journal.split_inclusive('\n');
    let damaged = |line: usize, reason: String| ReplayError { line, reason };
    let header = match lines.next() {
        None => return Err(damaged(1, "the journal is empty (it has no header)".into())),
        Some(l) if !l.ends_with('\n') => {
            return Err(damaged(1, "the header line is incomplete".into()))
        }
        Some(l) => serde_json::from_str::<Header>(l)
            .map_err(|e| damaged(1, format!("not a journal header: {e}")))?,
    };
    if header.base != snapshot.timestamp {
        // A fold that crashed between its two renames leaves the new
        // snapshot beside the old journal, which extends an older one: the
        // snapshot holds all of it. A journal of any other snapshot is not
        // this run's state, and is not guessed at.
        let instant = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
        return match (instant(&header.base), instant(&snapshot.timestamp)) {
            (Some(base), Some(snapshot)) if base < snapshot => Ok(0),
            _ => Err(damaged(
                1,
                format!(
                    "it extends the snapshot saved at {}, not checkpoint.json's of {}",
                    header.base, snapshot.timestamp
                ),
            )),
        };
    }
    let mut applied = 0;
    for (index, line) in lines.enumerate() {
        if !line.ends_with('\n') {
            break;
        }
        let record = serde_json::from_str::<Record>(line)
            .map_err(|e| damaged(index + 2, format!("not a journal record: {e}")))?;
        for change in &record.changes {
            snapshot.apply(change);
        }
        snapshot.timestamp = record.ts;
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes() -> Vec<Change> {
        vec![
            Change::Completed { node: "A".into() },
            Change::EdgeSelection {
                node: "A".into(),
                to: "B".into(),
            },
            Change::CurrentNode { node: "B".into() },
            Change::Context {
                key: "outcome".into(),
                value: "success".into(),
            },
            Change::RetryCount {
                node: "B".into(),
                count: 1,
            },
        ]
    }

    #[test]
    fn records_replay_onto_their_snapshot() {
        let mut snapshot = Checkpoint::new("abc");
        snapshot.timestamp = "2026-12-01T10:00:00Z".into();
        let mut journal = header_line(&snapshot.timestamp);
        journal.push_str(&record_line("2026-12-01T10:00:01Z", &changes()));
        journal.push_str(&record_line(
            "2026-12-01T10:00:02Z",
            &[Change::Uncompleted { node: "A".into() }],
        ));
        let mut cp = snapshot.clone();
        assert_eq!(replay(&mut cp, &journal), Ok(2));
        assert_eq!(cp.current_node, "B");
        assert!(cp.completed_nodes.is_empty());
        assert!(cp.edge_selections.is_empty());
        assert_eq!(cp.retry_counts["B"], 1);
        assert_eq!(cp.context["outcome"], "success");
        assert_eq!(cp.timestamp, "2026-12-01T10:00:02Z");
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let mut snapshot = Checkpoint::new("abc");
        snapshot.timestamp = "t0".into();
        let mut journal = header_line("t0");
        journal.push_str(&record_line("t1", &changes()));
        let torn = record_line("t2", &[Change::CurrentNode { node: "C".into() }]);
        journal.push_str(&torn[..torn.len() / 2]);
        let mut cp = snapshot.clone();
        assert_eq!(replay(&mut cp, &journal), Ok(1));
        assert_eq!(cp.current_node, "B");
    }

    #[test]
    fn a_journal_of_an_older_snapshot_is_ignored_and_of_any_other_refused() {
        // A fold's crash window: the new snapshot beside the old journal.
        let mut snapshot = Checkpoint::new("abc");
        snapshot.timestamp = "2026-12-08T01:00:05.5+01:00".into();
        let mut journal = header_line("2026-12-08T00:00:01Z");
        journal.push_str(&record_line("2026-12-08T00:00:02Z", &changes()));
        let mut cp = snapshot.clone();
        assert_eq!(replay(&mut cp, &journal), Ok(0));
        assert_eq!(cp, snapshot);
        // A journal extending a later snapshot, or one that is no time.
        for base in ["2026-12-08T00:00:06Z", "t0"] {
            let journal = header_line(base) + &record_line("2026-12-08T00:00:07Z", &changes());
            let refused = replay(&mut cp, &journal).expect_err(base);
            assert_eq!(refused.line, 1);
            assert!(
                refused.reason.contains("not checkpoint.json's"),
                "{refused:?}"
            );
        }
        assert_eq!(cp, snapshot);
    }

    #[test]
    fn a_damaged_line_is_an_error_naming_it() {
        let mut snapshot = Checkpoint::new("abc");
        snapshot.timestamp = "t0".into();
        let mut journal = header_line("t0");
        journal.push_str(&record_line("t1", &changes()));
        journal.push_str("{\"ts\":\"t2\",\"chan\n");
        journal.push_str(&record_line("t3", &changes()));
        let mut cp = snapshot.clone();
        let err = replay(&mut cp, &journal).expect_err("damaged");
        assert_eq!(err.line, 3);
        assert!(
            err.to_string().starts_with("line 3: not a journal record"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_or_headerless_journal_is_an_error() {
        let mut cp = Checkpoint::new("abc");
        assert_eq!(replay(&mut cp, "").map_err(|e| e.line), Err(1));
        assert_eq!(replay(&mut cp, "garbage\n").map_err(|e| e.line), Err(1));
    }
}
