//! The `checkpoint.json` format: what a run saves so `-r <id>` can resume it.
//!
//! [`Checkpoint::to_json`] writes exactly what the reference's
//! `json.MarshalIndent(cp, "", "  ")` writes (fields in struct order, map keys
//! sorted, empty optional fields left out, no trailing newline), and
//! [`Checkpoint::from_json`] reads that back — and what the reference itself wrote.
//! Writing the file (temp file, fsync, rename, mode 0600) is the caller's job.
//!
//! Reading is as lenient as Go's decoder where a checkpoint from an older or newer
//! version could differ: unknown fields are ignored, missing fields and `null`
//! take their empty value. Anything else that does not fit — malformed JSON, a
//! field of the wrong type, a timestamp that is not RFC 3339 — is an error that
//! names the field.

use std::collections::{BTreeMap, BTreeSet};

use crate::gojson::{self, GoValue, ParseError};

/// The field that marks a snapshot with a journal beside it (see
/// [`Checkpoint::journaled`]).
pub const JOURNALED_FIELD: &str = "tracker_journal";

/// Go's zero `time.Time` as it encodes; what a missing timestamp reads as.
pub const ZERO_TIMESTAMP: &str = "0001-01-01T00:00:00Z";

/// The execution state of a run, as saved in `checkpoint.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The run's id.
    pub run_id: String,
    /// The node the run resumes at.
    pub current_node: String,
    /// Completed node ids, in completion order.
    pub completed_nodes: Vec<String>,
    /// Retries used per node.
    pub retry_counts: BTreeMap<String, u64>,
    /// The pipeline context.
    pub context: BTreeMap<String, String>,
    /// When the checkpoint was saved: RFC 3339 with nanoseconds, trailing zeros
    /// trimmed, as Go writes a `time.Time` (`2026-01-02T15:04:05.5+01:00`).
    pub timestamp: String,
    /// Loop restarts used (against the global `max_restarts`).
    pub restart_count: u64,
    /// The edge target each completed node selected, replayed on resume.
    pub edge_selections: BTreeMap<String, String>,
    /// The last outcome status per node.
    pub node_outcomes: BTreeMap<String, String>,
    /// Goal gates that have used their one-shot fallback route.
    pub fallback_taken: BTreeSet<String>,
    /// Goal gates redirected away from but not yet re-executed.
    pub gate_recheck_pending: BTreeSet<String>,
    /// Goal gates a human resolved through an override edge.
    pub overridden_gates: BTreeSet<String>,
    /// The git ref preserving each failed node's uncommitted work.
    pub wip_refs: BTreeMap<String, String>,
    /// The `.dipx` bundle identity (`sha256:<hex>`); empty for a plain `.dip`.
    pub bundle_identity: String,
    /// Every override edge taken, in order.
    pub validation_overrides: Vec<OverrideDetail>,
    /// Memoized successful outcomes by content-hash key.
    pub memo_entries: BTreeMap<String, MemoEntry>,
    /// This snapshot has a `checkpoint.journal` beside it (written by this
    /// tracker; the reference keeps no journal). Resuming refuses a journaled
    /// snapshot whose journal is gone, rather than silently losing the saves
    /// it held. Written last, only when set; the reference ignores it.
    pub journaled: bool,
}

/// One traversal of a validation-override edge.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OverrideDetail {
    /// The gate the override edge leaves.
    pub gate_node_id: String,
    /// The override edge's label; empty when it has none.
    pub label: String,
    /// Who took the edge: `human`, `autopilot`, `webhook` or `unknown`.
    pub actor: String,
    /// Goal gates this override resolved as satisfied.
    pub covered_gates: Vec<String>,
    /// Subgraph node ids, outermost first, when propagated from a child run.
    pub subgraph_path: Vec<String>,
    /// When the edge was taken (RFC 3339 with nanoseconds).
    pub timestamp: String,
}

/// The stored projection of a successful outcome, replayed for a memo hit.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemoEntry {
    /// The outcome status.
    pub status: String,
    /// The context updates the node made.
    pub context_updates: BTreeMap<String, String>,
    /// The preferred edge label the node returned.
    pub preferred_label: String,
    /// The suggested next node ids the node returned.
    pub suggested_next_nodes: Vec<String>,
}

/// Why a `checkpoint.json` could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text is not JSON.
    #[error("checkpoint is not valid JSON: {0}")]
    Syntax(#[from] ParseError),
    /// The text is JSON but not an object.
    #[error("checkpoint is not a JSON object: found {found}")]
    NotAnObject {
        /// What the text held.
        found: &'static str,
    },
    /// A field holds the wrong kind of value.
    #[error("checkpoint field `{field}`: expected {expected}, found {found}")]
    WrongType {
        /// The field's path, e.g. `retry_counts.Build`.
        field: String,
        /// What the field must hold.
        expected: &'static str,
        /// What it held.
        found: &'static str,
    },
    /// A timestamp field is not RFC 3339.
    #[error("checkpoint field `{field}` is not an RFC 3339 timestamp: {value:?}")]
    BadTimestamp {
        /// The field's path.
        field: String,
        /// The text found.
        value: String,
    },
}

impl Checkpoint {
    /// A fresh checkpoint for a new run: everything empty, the zero timestamp.
    pub fn new(run_id: impl Into<String>) -> Checkpoint {
        Checkpoint {
            run_id: run_id.into(),
            current_node: String::new(),
            completed_nodes: Vec::new(),
            retry_counts: BTreeMap::new(),
            context: BTreeMap::new(),
            timestamp: ZERO_TIMESTAMP.to_owned(),
            restart_count: 0,
            edge_selections: BTreeMap::new(),
            node_outcomes: BTreeMap::new(),
            fallback_taken: BTreeSet::new(),
            gate_recheck_pending: BTreeSet::new(),
            overridden_gates: BTreeSet::new(),
            wip_refs: BTreeMap::new(),
            bundle_identity: String::new(),
            validation_overrides: Vec::new(),
            memo_entries: BTreeMap::new(),
            journaled: false,
        }
    }

    /// The JSON object in the reference's field order. The first seven fields are
    /// always present (empty collections as `[]`/`{}`); the rest only when
    /// non-empty.
    pub fn to_go_value(&self) -> GoValue {
        let mut fields: Vec<(&str, GoValue)> = vec![
            ("run_id", self.run_id.as_str().into()),
            ("current_node", self.current_node.as_str().into()),
            ("completed_nodes", GoValue::strings(&self.completed_nodes)),
            (
                "retry_counts",
                GoValue::sorted_map(&self.retry_counts, |n| GoValue::Uint(*n)),
            ),
            ("context", string_map(&self.context)),
            ("timestamp", self.timestamp.as_str().into()),
            ("restart_count", self.restart_count.into()),
        ];
        if !self.edge_selections.is_empty() {
            fields.push(("edge_selections", string_map(&self.edge_selections)));
        }
        if !self.node_outcomes.is_empty() {
            fields.push(("node_outcomes", string_map(&self.node_outcomes)));
        }
        for (name, set) in [
            ("fallback_taken", &self.fallback_taken),
            ("gate_recheck_pending", &self.gate_recheck_pending),
            ("overridden_gates", &self.overridden_gates),
        ] {
            if !set.is_empty() {
                fields.push((
                    name,
                    GoValue::object(set.iter().map(|id| (id.as_str(), GoValue::Bool(true)))),
                ));
            }
        }
        if !self.wip_refs.is_empty() {
            fields.push(("wip_refs", string_map(&self.wip_refs)));
        }
        if !self.bundle_identity.is_empty() {
            fields.push(("bundle_identity", self.bundle_identity.as_str().into()));
        }
        if !self.validation_overrides.is_empty() {
            let overrides = self
                .validation_overrides
                .iter()
                .map(OverrideDetail::to_go_value)
                .collect();
            fields.push(("validation_overrides", GoValue::Array(overrides)));
        }
        if !self.memo_entries.is_empty() {
            fields.push((
                "memo_entries",
                GoValue::sorted_map(&self.memo_entries, MemoEntry::to_go_value),
            ));
        }
        if self.journaled {
            fields.push((JOURNALED_FIELD, GoValue::Bool(true)));
        }
        GoValue::object(fields)
    }

    /// The text of `checkpoint.json`: two-space indented, no trailing newline.
    pub fn to_json(&self) -> String {
        gojson::to_go_json_indent(&self.to_go_value())
    }

    /// Reads a `checkpoint.json`.
    pub fn from_json(text: &str) -> Result<Checkpoint, CheckpointError> {
        let value = GoValue::parse(text)?;
        if !matches!(value, GoValue::Object(_)) {
            return Err(CheckpointError::NotAnObject {
                found: kind(&value),
            });
        }
        let root = Fields::of(&value, "")?;
        let mut cp = Checkpoint::new(root.string("run_id")?);
        cp.current_node = root.string("current_node")?;
        cp.completed_nodes = root.string_list("completed_nodes")?;
        cp.retry_counts = root.map("retry_counts", count)?;
        cp.context = root.map("context", string)?;
        cp.timestamp = root.timestamp("timestamp")?;
        cp.restart_count = root.count("restart_count")?;
        cp.edge_selections = root.map("edge_selections", string)?;
        cp.node_outcomes = root.map("node_outcomes", string)?;
        cp.fallback_taken = root.flag_set("fallback_taken")?;
        cp.gate_recheck_pending = root.flag_set("gate_recheck_pending")?;
        cp.overridden_gates = root.flag_set("overridden_gates")?;
        cp.wip_refs = root.map("wip_refs", string)?;
        cp.bundle_identity = root.string("bundle_identity")?;
        cp.validation_overrides =
            root.list("validation_overrides", OverrideDetail::from_go_value)?;
        cp.memo_entries = root.map("memo_entries", MemoEntry::from_go_value)?;
        cp.journaled = match root.get(JOURNALED_FIELD) {
            None => false,
            Some((path, value)) => flag(value, &path)?,
        };
        Ok(cp)
    }
}

impl OverrideDetail {
    /// The JSON object: `gate_node_id, label?, actor, covered_gates?,
    /// subgraph_path?, timestamp`.
    pub fn to_go_value(&self) -> GoValue {
        let mut fields: Vec<(&str, GoValue)> =
            vec![("gate_node_id", self.gate_node_id.as_str().into())];
        if !self.label.is_empty() {
            fields.push(("label", self.label.as_str().into()));
        }
        fields.push(("actor", self.actor.as_str().into()));
        if !self.covered_gates.is_empty() {
            fields.push(("covered_gates", GoValue::strings(&self.covered_gates)));
        }
        if !self.subgraph_path.is_empty() {
            fields.push(("subgraph_path", GoValue::strings(&self.subgraph_path)));
        }
        fields.push(("timestamp", self.timestamp.as_str().into()));
        GoValue::object(fields)
    }

    fn from_go_value(value: &GoValue, path: &str) -> Result<OverrideDetail, CheckpointError> {
        let fields = Fields::of(value, path)?;
        Ok(OverrideDetail {
            gate_node_id: fields.string("gate_node_id")?,
            label: fields.string("label")?,
            actor: fields.string("actor")?,
            covered_gates: fields.string_list("covered_gates")?,
            subgraph_path: fields.string_list("subgraph_path")?,
            timestamp: fields.timestamp("timestamp")?,
        })
    }
}

impl MemoEntry {
    /// The JSON object: `status, context_updates?, preferred_label?,
    /// suggested_next_nodes?`.
    pub fn to_go_value(&self) -> GoValue {
        let mut fields: Vec<(&str, GoValue)> = vec![("status", self.status.as_str().into())];
        if !self.context_updates.is_empty() {
            fields.push(("context_updates", string_map(&self.context_updates)));
        }
        if !self.preferred_label.is_empty() {
            fields.push(("preferred_label", self.preferred_label.as_str().into()));
        }
        if !self.suggested_next_nodes.is_empty() {
            fields.push((
                "suggested_next_nodes",
                GoValue::strings(&self.suggested_next_nodes),
            ));
        }
        GoValue::object(fields)
    }

    fn from_go_value(value: &GoValue, path: &str) -> Result<MemoEntry, CheckpointError> {
        let fields = Fields::of(value, path)?;
        Ok(MemoEntry {
            status: fields.string("status")?,
            context_updates: fields.map("context_updates", string)?,
            preferred_label: fields.string("preferred_label")?,
            suggested_next_nodes: fields.string_list("suggested_next_nodes")?,
        })
    }
}

fn string_map(map: &BTreeMap<String, String>) -> GoValue {
    GoValue::sorted_map(map, |s| GoValue::String(s.clone()))
}

/// The JSON kind of a value, for error messages.
fn kind(value: &GoValue) -> &'static str {
    match value {
        GoValue::Null => "null",
        GoValue::Bool(_) => "a boolean",
        GoValue::Int(_) | GoValue::Uint(_) | GoValue::Float(_) => "a number",
        GoValue::String(_) => "a string",
        GoValue::Array(_) => "an array",
        GoValue::Object(_) => "an object",
    }
}

fn wrong_type(path: &str, expected: &'static str, found: &GoValue) -> CheckpointError {
    CheckpointError::WrongType {
        field: path.to_owned(),
        expected,
        found: kind(found),
    }
}

fn string(value: &GoValue, path: &str) -> Result<String, CheckpointError> {
    match value {
        GoValue::String(s) => Ok(s.clone()),
        other => Err(wrong_type(path, "a string", other)),
    }
}

fn count(value: &GoValue, path: &str) -> Result<u64, CheckpointError> {
    match value {
        GoValue::Uint(n) => Ok(*n),
        GoValue::Int(n) => {
            u64::try_from(*n).map_err(|_| wrong_type(path, "a non-negative integer", value))
        }
        other => Err(wrong_type(path, "a non-negative integer", other)),
    }
}

fn flag(value: &GoValue, path: &str) -> Result<bool, CheckpointError> {
    match value {
        GoValue::Bool(b) => Ok(*b),
        other => Err(wrong_type(path, "a boolean", other)),
    }
}

/// The fields of one JSON object, read with Go's decoding rules: a missing field
/// or `null` is the empty value, a repeated key keeps its last value.
struct Fields<'a> {
    value: &'a GoValue,
    path: &'a str,
}

impl<'a> Fields<'a> {
    fn of(value: &'a GoValue, path: &'a str) -> Result<Fields<'a>, CheckpointError> {
        match value {
            GoValue::Object(_) => Ok(Fields { value, path }),
            other => Err(wrong_type(path, "an object", other)),
        }
    }

    /// The field's path and value, unless it is missing or `null`.
    fn get(&self, key: &str) -> Option<(String, &'a GoValue)> {
        let path = if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        self.value
            .get(key)
            .filter(|v| **v != GoValue::Null)
            .map(|v| (path, v))
    }

    fn string(&self, key: &str) -> Result<String, CheckpointError> {
        self.get(key)
            .map_or(Ok(String::new()), |(path, v)| string(v, &path))
    }

    fn count(&self, key: &str) -> Result<u64, CheckpointError> {
        self.get(key).map_or(Ok(0), |(path, v)| count(v, &path))
    }

    fn timestamp(&self, key: &str) -> Result<String, CheckpointError> {
        let Some((path, value)) = self.get(key) else {
            return Ok(ZERO_TIMESTAMP.to_owned());
        };
        let text = string(value, &path)?;
        if is_rfc3339(&text) {
            Ok(text)
        } else {
            Err(CheckpointError::BadTimestamp {
                field: path,
                value: text,
            })
        }
    }

    fn list<T>(
        &self,
        key: &str,
        item: impl Fn(&GoValue, &str) -> Result<T, CheckpointError>,
    ) -> Result<Vec<T>, CheckpointError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some((path, GoValue::Array(items))) => items
                .iter()
                .enumerate()
                .map(|(i, v)| item(v, &format!("{path}[{i}]")))
                .collect(),
            Some((path, other)) => Err(wrong_type(&path, "an array", other)),
        }
    }

    fn string_list(&self, key: &str) -> Result<Vec<String>, CheckpointError> {
        self.list(key, string)
    }

    fn map<T>(
        &self,
        key: &str,
        item: impl Fn(&GoValue, &str) -> Result<T, CheckpointError>,
    ) -> Result<BTreeMap<String, T>, CheckpointError> {
        match self.get(key) {
            None => Ok(BTreeMap::new()),
            Some((path, GoValue::Object(entries))) => {
                let mut map = BTreeMap::new();
                for (k, v) in entries {
                    map.insert(k.clone(), item(v, &format!("{path}.{k}"))?);
                }
                Ok(map)
            }
            Some((path, other)) => Err(wrong_type(&path, "an object", other)),
        }
    }

    /// A Go `map[string]bool` used as a set: the keys whose value is `true`.
    fn flag_set(&self, key: &str) -> Result<BTreeSet<String>, CheckpointError> {
        let map = self.map(key, flag)?;
        Ok(map
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(k, _)| k)
            .collect())
    }
}

/// Whether `text` is an RFC 3339 date-time Go's `time.Time` decoder accepts:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with every part in range.
fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut i = 19;
    if sep(i, b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && sep(i + 3, b':')
                && num(i + 1..i + 3).is_some_and(|h| h <= 23)
                && num(i + 4..i + 6).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Checkpoint {
        let mut cp = Checkpoint::new("r1");
        cp.current_node = "Build".into();
        cp.completed_nodes = vec!["Start".into()];
        cp.context = BTreeMap::from([
            ("outcome".to_owned(), "success".to_owned()),
            ("graph.goal".to_owned(), "ship <it> & go".to_owned()),
        ]);
        cp.timestamp = "2026-03-04T05:06:07.123456789+01:00".into();
        cp
    }

    fn full() -> Checkpoint {
        let mut cp = small();
        cp.completed_nodes.push("Build".into());
        cp.retry_counts = BTreeMap::from([("Flaky".to_owned(), 2), ("Build".to_owned(), 1)]);
        cp.restart_count = 3;
        cp.edge_selections = BTreeMap::from([("Start".to_owned(), "Build".to_owned())]);
        cp.node_outcomes = BTreeMap::from([("Gate".to_owned(), "fail".to_owned())]);
        cp.fallback_taken = BTreeSet::from(["Gate".to_owned()]);
        cp.gate_recheck_pending = BTreeSet::from(["Gate".to_owned(), "Audit".to_owned()]);
        cp.overridden_gates = BTreeSet::from(["Gate".to_owned()]);
        cp.wip_refs =
            BTreeMap::from([("Build".to_owned(), "refs/tracker/wip/r1/Build".to_owned())]);
        cp.bundle_identity = "sha256:abc".into();
        cp.validation_overrides = vec![
            OverrideDetail {
                gate_node_id: "Review".into(),
                label: "accept".into(),
                actor: "human".into(),
                covered_gates: vec!["Gate".into()],
                subgraph_path: vec!["Child".into()],
                timestamp: "2026-03-04T05:06:08Z".into(),
            },
            OverrideDetail {
                gate_node_id: "Other".into(),
                label: String::new(),
                actor: "autopilot".into(),
                covered_gates: vec![],
                subgraph_path: vec![],
                timestamp: "2026-03-04T05:06:09.5-07:00".into(),
            },
        ];
        cp.memo_entries = BTreeMap::from([
            (
                "k2".to_owned(),
                MemoEntry {
                    status: "success".into(),
                    context_updates: BTreeMap::from([(
                        "last_response".to_owned(),
                        "ok".to_owned(),
                    )]),
                    preferred_label: "yes".into(),
                    suggested_next_nodes: vec!["Ship".into()],
                },
            ),
            (
                "k1".to_owned(),
                MemoEntry {
                    status: "success".into(),
                    ..MemoEntry::default()
                },
            ),
        ]);
        cp
    }

    #[test]
    fn small_checkpoint_exact_text() {
        let expected = r#"{
  "run_id": "r1",
  "current_node": "Build",
  "completed_nodes": [
    "Start"
  ],
  "retry_counts": {},
  "context": {
    "graph.goal": "ship \u003cit\u003e \u0026 go",
    "outcome": "success"
  },
  "timestamp": "2026-03-04T05:06:07.123456789+01:00",
  "restart_count": 0
}"#;
        assert_eq!(small().to_json(), expected);
    }

    #[test]
    fn fresh_checkpoint_keeps_empty_required_fields() {
        let expected = r#"{
  "run_id": "new",
  "current_node": "",
  "completed_nodes": [],
  "retry_counts": {},
  "context": {},
  "timestamp": "0001-01-01T00:00:00Z",
  "restart_count": 0
}"#;
        assert_eq!(Checkpoint::new("new").to_json(), expected);
    }

    #[test]
    fn full_checkpoint_exact_text() {
        let expected = r#"{
  "run_id": "r1",
  "current_node": "Build",
  "completed_nodes": [
    "Start",
    "Build"
  ],
  "retry_counts": {
    "Build": 1,
    "Flaky": 2
  },
  "context": {
    "graph.goal": "ship \u003cit\u003e \u0026 go",
    "outcome": "success"
  },
  "timestamp": "2026-03-04T05:06:07.123456789+01:00",
  "restart_count": 3,
  "edge_selections": {
    "Start": "Build"
  },
  "node_outcomes": {
    "Gate": "fail"
  },
  "fallback_taken": {
    "Gate": true
  },
  "gate_recheck_pending": {
    "Audit": true,
    "Gate": true
  },
  "overridden_gates": {
    "Gate": true
  },
  "wip_refs": {
    "Build": "refs/tracker/wip/r1/Build"
  },
  "bundle_identity": "sha256:abc",
  "validation_overrides": [
    {
      "gate_node_id": "Review",
      "label": "accept",
      "actor": "human",
      "covered_gates": [
        "Gate"
      ],
      "subgraph_path": [
        "Child"
      ],
      "timestamp": "2026-03-04T05:06:08Z"
    },
    {
      "gate_node_id": "Other",
      "actor": "autopilot",
      "timestamp": "2026-03-04T05:06:09.5-07:00"
    }
  ],
  "memo_entries": {
    "k1": {
      "status": "success"
    },
    "k2": {
      "status": "success",
      "context_updates": {
        "last_response": "ok"
      },
      "preferred_label": "yes",
      "suggested_next_nodes": [
        "Ship"
      ]
    }
  }
}"#;
        assert_eq!(full().to_json(), expected);
    }

    #[test]
    fn round_trips() {
        for cp in [Checkpoint::new("x"), small(), full()] {
            let text = cp.to_json();
            let back = Checkpoint::from_json(&text).unwrap();
            assert_eq!(back, cp);
            assert_eq!(back.to_json(), text);
        }
    }

    #[test]
    fn omit_empty_fields_leave_no_trace() {
        let text = small().to_json();
        for field in [
            "edge_selections",
            "node_outcomes",
            "fallback_taken",
            "gate_recheck_pending",
            "overridden_gates",
            "wip_refs",
            "bundle_identity",
            "validation_overrides",
            "memo_entries",
        ] {
            assert!(!text.contains(field), "{field} written while empty");
        }
    }

    #[test]
    fn reads_go_leniencies() {
        // Missing fields and nulls are empty, unknown fields ignored, `false`
        // entries of a set are not members, and the last of a repeated key wins.
        let text = r#"{"run_id": "old", "completed_nodes": null, "retry_counts": null, "context": {"a": "1"},
            "restart_count": 1, "restart_count": 2, "fallback_taken": {"X": false, "Y": true},
            "gate_states": {"future": "field"}, "validation_overrides": [{"gate_node_id": "G", "actor": "webhook"}]}"#;
        let cp = Checkpoint::from_json(text).unwrap();
        let mut expected = Checkpoint::new("old");
        expected.context = BTreeMap::from([("a".to_owned(), "1".to_owned())]);
        expected.restart_count = 2;
        expected.fallback_taken = BTreeSet::from(["Y".to_owned()]);
        expected.validation_overrides = vec![OverrideDetail {
            gate_node_id: "G".into(),
            label: String::new(),
            actor: "webhook".into(),
            covered_gates: vec![],
            subgraph_path: vec![],
            timestamp: ZERO_TIMESTAMP.into(),
        }];
        assert_eq!(cp, expected);
    }

    #[test]
    fn corrupt_input_names_the_problem() {
        let err = |text: &str| Checkpoint::from_json(text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"run_id": "r1", "completed_nodes": ["A",]}"#),
            "checkpoint is not valid JSON: invalid JSON at byte 41: unexpected character ']'"
        );
        assert_eq!(
            err(""),
            "checkpoint is not valid JSON: invalid JSON at byte 0: unexpected end of input"
        );
        assert_eq!(err("[]"), "checkpoint is not a JSON object: found an array");
        assert_eq!(
            err(r#"{"retry_counts": {"Build": "2"}}"#),
            "checkpoint field `retry_counts.Build`: expected a non-negative integer, found a string"
        );
        assert_eq!(
            err(r#"{"retry_counts": {"Build": -1}}"#),
            "checkpoint field `retry_counts.Build`: expected a non-negative integer, found a number"
        );
        assert_eq!(
            err(r#"{"restart_count": 1.5}"#),
            "checkpoint field `restart_count`: expected a non-negative integer, found a number"
        );
        assert_eq!(
            err(r#"{"completed_nodes": "Start"}"#),
            "checkpoint field `completed_nodes`: expected an array, found a string"
        );
        assert_eq!(
            err(r#"{"validation_overrides": [{"gate_node_id": 7}]}"#),
            "checkpoint field `validation_overrides[0].gate_node_id`: expected a string, found a number"
        );
        assert_eq!(
            err(r#"{"memo_entries": {"k": {"context_updates": {"x": true}}}}"#),
            "checkpoint field `memo_entries.k.context_updates.x`: expected a string, found a boolean"
        );
        assert_eq!(
            err(r#"{"timestamp": "yesterday"}"#),
            "checkpoint field `timestamp` is not an RFC 3339 timestamp: \"yesterday\""
        );
        assert_eq!(
            err(r#"{"validation_overrides": [{"timestamp": "2026-02-30T00:00:00Z"}]}"#),
            "checkpoint field `validation_overrides[0].timestamp` is not an RFC 3339 timestamp: \"2026-02-30T00:00:00Z\""
        );
    }

    #[test]
    fn rfc3339_timestamps() {
        for good in [
            "2026-01-02T15:04:05Z",
            "2026-01-02T15:04:05.999999999Z",
            "2024-02-29T23:59:59+14:00",
            "0001-01-01T00:00:00Z",
            "2026-12-31T00:00:00.1-07:30",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "",
            "2026-01-02 15:04:05Z",
            "2026-01-02T15:04:05",
            "2026-13-02T15:04:05Z",
            "2025-02-29T15:04:05Z",
            "2026-01-02T24:00:00Z",
            "2026-01-02T15:04:60Z",
            "2026-01-02T15:04:05.Z",
            "2026-01-02T15:04:05+0100",
            "2026-01-02T15:04:05+01:00x",
            "2026-01-02t15:04:05z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
