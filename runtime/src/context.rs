//! The pipeline context: the run's string→string values, its internal values and the
//! dirty set that drives per-node scoping (spec §3.1–3.2).
//!
//! The engine owns one [`PipelineContext`] per run and calls it in the order of
//! §2.1–2.2: [`seed_graph`](PipelineContext::seed_graph) and
//! [`restore`](PipelineContext::restore) at init, then
//! [`clear_dirty`](PipelineContext::clear_dirty); per node
//! [`reset_routing`](PipelineContext::reset_routing), the handler's
//! [`merge`](PipelineContext::merge), [`scope_dirty_to_node`](PipelineContext::scope_dirty_to_node),
//! steering through [`merge_quiet`](PipelineContext::merge_quiet) and the one-shot
//! [`clear_human_response_if_unchanged`](PipelineContext::clear_human_response_if_unchanged).
//!
//! Values live in a `BTreeMap`, so iteration, snapshots and the dirty list are in
//! key order: the reference's Go maps have no order at all, and sorted is what its
//! `encoding/json` prints. There is no delete, as in the reference: clearing a key
//! means setting it to `""`.
//!
//! ```
//! use tracker_runtime::context::PipelineContext;
//!
//! let mut ctx = PipelineContext::new();
//! ctx.set("last_response", "done");
//! ctx.scope_dirty_to_node("Build");
//! assert_eq!(ctx.get("node.Build.last_response"), Some("done"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

/// The node's status (`success`, `fail`, …), written by the engine.
pub const OUTCOME: &str = "outcome";
/// The label the node prefers to route along.
pub const PREFERRED_LABEL: &str = "preferred_label";
/// Comma-joined node ids the node suggests routing to.
pub const SUGGESTED_NEXT_NODES: &str = "suggested_next_nodes";
/// The last human answer (one-shot, §3.7).
pub const HUMAN_RESPONSE: &str = "human_response";
/// A tool node's (right-trimmed) standard output.
pub const TOOL_STDOUT: &str = "tool_stdout";
/// A tool node's (right-trimmed) standard error.
pub const TOOL_STDERR: &str = "tool_stderr";
/// The most recent agent response.
pub const LAST_RESPONSE: &str = "last_response";
/// Prefix of the per-node aliases written by scoping (`node.<id>.<key>`).
pub const NODE_PREFIX: &str = "node.";
/// Prefix under which the graph attributes are seeded (`graph.<attr>`).
pub const GRAPH_PREFIX: &str = "graph.";
/// Internal key: the run id.
pub const INTERNAL_RUN_ID: &str = "_run_id";
/// Internal key: `<artifactDir>/<runID>`, set only when there is an artifact dir.
pub const INTERNAL_ARTIFACT_DIR: &str = "_artifact_dir";

/// The routing keys the engine blanks before each node (§2.2 step 2).
const ROUTING_RESET_KEYS: [&str; 3] = [OUTCOME, PREFERRED_LABEL, SUGGESTED_NEXT_NODES];

/// The keys of the routing snapshot in `decision_outcome` and edge selection (§2.4).
const ROUTING_SNAPSHOT_KEYS: [&str; 5] = [
    OUTCOME,
    PREFERRED_LABEL,
    TOOL_STDOUT,
    HUMAN_RESPONSE,
    SUGGESTED_NEXT_NODES,
];

/// Dirty keys that are never aliased under `node.<id>.` (besides `node.*` itself).
const UNSCOPED_KEYS: [&str; 2] = ["episode_summary", "episode_summaries"];

/// The run's key/value store: user values, internal values and the set of user keys
/// written (via [`set`](Self::set) or [`merge`](Self::merge)) since the dirty set was
/// last consumed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineContext {
    /// Shared so that handing a node a snapshot is a reference-count bump; a write
    /// copies the map only while a node still holds the old snapshot.
    values: Arc<BTreeMap<String, String>>,
    internal: BTreeMap<String, String>,
    dirty: BTreeSet<String>,
    /// Every key written since [`take_changed`](Self::take_changed), dirty or not:
    /// what the next checkpoint save must record.
    changed: BTreeSet<String>,
}

impl PipelineContext {
    /// An empty context.
    pub fn new() -> PipelineContext {
        PipelineContext::default()
    }

    /// Sets `graph.<k>` for every graph attribute without marking anything dirty
    /// (§2.1 steps 2–3: at init, and again after a checkpoint is merged).
    pub fn seed_graph(&mut self, attrs: &BTreeMap<String, String>) {
        for (key, value) in attrs {
            self.write(format!("{GRAPH_PREFIX}{key}"), value.clone());
        }
    }

    /// The user value of `key`, if it was ever written (internal values are not
    /// visible here).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The user value of `key`, or `""` when it was never written.
    pub fn get_or_empty(&self, key: &str) -> &str {
        self.get(key).unwrap_or("")
    }

    /// Writes a user value and marks it dirty.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.write(key.clone(), value.into());
        self.dirty.insert(key);
    }

    /// Writes every pair (a handler's context updates) and marks each key dirty. A key
    /// given twice keeps its last value.
    pub fn merge<K, V>(&mut self, updates: impl IntoIterator<Item = (K, V)>)
    where
        K: Into<String>,
        V: Into<String>,
    {
        for (key, value) in updates {
            self.set(key, value);
        }
    }

    /// Writes a user value without marking it dirty: steering, the one-shot
    /// human_response clear, temporary truncation.
    pub fn set_quiet(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.write(key.into(), value.into());
    }

    /// Stores a value and records the key as changed.
    fn write(&mut self, key: String, value: String) {
        use std::collections::btree_map::Entry;
        match Arc::make_mut(&mut self.values).entry(key) {
            Entry::Occupied(e) if *e.get() == value => {}
            Entry::Occupied(mut e) => {
                self.changed.insert(e.key().clone());
                e.insert(value);
            }
            Entry::Vacant(e) => {
                self.changed.insert(e.key().clone());
                e.insert(value);
            }
        }
    }

    /// Empties the set of keys written since the last call and returns them with
    /// their current values, in key order: the context part of a checkpoint save.
    pub fn take_changed(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.changed)
            .into_iter()
            .filter_map(|key| {
                let value = self.values.get(&key)?.clone();
                Some((key, value))
            })
            .collect()
    }

    /// The user values as a shared, immutable snapshot (cheap: no copy).
    pub fn shared(&self) -> Arc<BTreeMap<String, String>> {
        Arc::clone(&self.values)
    }

    /// Writes every pair without marking anything dirty (the steering drain, §2.2
    /// step 10).
    pub fn merge_quiet<K, V>(&mut self, updates: impl IntoIterator<Item = (K, V)>)
    where
        K: Into<String>,
        V: Into<String>,
    {
        for (key, value) in updates {
            self.set_quiet(key, value);
        }
    }

    /// Writes an internal value (`_run_id`, `_artifact_dir`). Internal values are
    /// never dirty, never scoped and not part of [`snapshot`](Self::snapshot).
    pub fn set_internal(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.internal.insert(key.into(), value.into());
    }

    /// The internal value of `key`, if set.
    pub fn internal(&self, key: &str) -> Option<&str> {
        self.internal.get(key).map(String::as_str)
    }

    /// Whether `key` was written dirty since the dirty set was last consumed.
    pub fn is_dirty(&self, key: &str) -> bool {
        self.dirty.contains(key)
    }

    /// Empties the dirty set and returns its keys, **sorted**. The reference keeps
    /// the set in an unordered Go map, so no order is observable there; sorted is
    /// deterministic and free with a `BTreeSet`.
    pub fn take_dirty(&mut self) -> Vec<String> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// Empties the dirty set (§2.1 step 5, after the init writes).
    pub fn clear_dirty(&mut self) {
        self.dirty.clear();
    }

    /// §2.2 step 9: copies each dirty key to `node.<node_id>.<key>`, except keys
    /// starting `node.` and `episode_summary`/`episode_summaries`, then empties the
    /// dirty set. The aliases themselves are not dirty; the bare keys keep their
    /// last-writer-wins values.
    pub fn scope_dirty_to_node(&mut self, node_id: &str) {
        for key in std::mem::take(&mut self.dirty) {
            if key.starts_with(NODE_PREFIX) || UNSCOPED_KEYS.contains(&key.as_str()) {
                continue;
            }
            if let Some(value) = self.values.get(&key) {
                let mut alias =
                    String::with_capacity(NODE_PREFIX.len() + node_id.len() + 1 + key.len());
                alias.push_str(NODE_PREFIX);
                alias.push_str(node_id);
                alias.push('.');
                alias.push_str(&key);
                let value = value.clone();
                self.write(alias, value);
            }
        }
    }

    /// §2.2 step 2: sets `outcome`, `preferred_label` and `suggested_next_nodes` to
    /// `""` as dirty writes (so they are scoped to the node even if it writes none).
    pub fn reset_routing(&mut self) {
        for key in ROUTING_RESET_KEYS {
            self.set(key, "");
        }
    }

    /// §3.7: after a non-retry completion of a prompt-consuming node, blanks
    /// `human_response` (quietly) when it was non-empty before the node (`before`,
    /// remembered at step 2) and the node left it unchanged. Returns whether it was
    /// cleared.
    pub fn clear_human_response_if_unchanged(&mut self, before: &str) -> bool {
        if before.is_empty() || self.get(HUMAN_RESPONSE) != Some(before) {
            return false;
        }
        self.set_quiet(HUMAN_RESPONSE, "");
        true
    }

    /// The non-empty values among `outcome`, `preferred_label`, `tool_stdout`,
    /// `human_response` and `suggested_next_nodes` (§2.4, `decision_outcome`).
    pub fn routing_snapshot(&self) -> BTreeMap<String, String> {
        ROUTING_SNAPSHOT_KEYS
            .iter()
            .filter_map(|&key| match self.get(key) {
                Some(value) if !value.is_empty() => Some((key.to_string(), value.to_string())),
                _ => None,
            })
            .collect()
    }

    /// A copy of the user values (what a checkpoint's `context` holds).
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.values.as_ref().clone()
    }

    /// The user values, borrowed, in key order.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// Merges a checkpoint's (or a parent's) snapshot into the user values without
    /// marking anything dirty; keys absent from `snapshot` are kept, as the
    /// reference merges rather than replaces (§2.1 step 3). Re-seed `graph.*` from the
    /// live graph afterwards with [`seed_graph`](Self::seed_graph).
    pub fn restore(&mut self, snapshot: BTreeMap<String, String>) {
        for (key, value) in snapshot {
            self.write(key, value);
        }
    }

    /// The `$name` variables of §3.3: every `graph.<X>` value keyed by `X` (so
    /// `graph.params.repo` becomes `params.repo`), ready for
    /// [`expand_dollar_names`](crate::interpolate::expand_dollar_names).
    pub fn graph_vars(&self) -> BTreeMap<String, String> {
        self.values
            .range::<str, _>((Bound::Included(GRAPH_PREFIX), Bound::Unbounded))
            .map_while(|(key, value)| {
                key.strip_prefix(GRAPH_PREFIX)
                    .map(|name| (name.to_string(), value.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn set_and_merge_mark_dirty() {
        let mut ctx = PipelineContext::new();
        ctx.set("a", "1");
        ctx.merge([("c", "3"), ("b", "2")]);
        assert_eq!(ctx.get("a"), Some("1"));
        assert_eq!(ctx.get("b"), Some("2"));
        assert!(ctx.is_dirty("c"));
        assert_eq!(ctx.take_dirty(), ["a", "b", "c"]);
        assert!(ctx.take_dirty().is_empty());
    }

    #[test]
    fn merge_keeps_the_last_value_of_a_repeated_key() {
        let mut ctx = PipelineContext::new();
        ctx.merge(vec![
            ("k".to_string(), "first"),
            ("k".to_string(), "second"),
        ]);
        assert_eq!(ctx.get("k"), Some("second"));
        assert_eq!(ctx.take_dirty(), ["k"]);
    }

    #[test]
    fn quiet_writes_are_visible_but_not_dirty() {
        let mut ctx = PipelineContext::new();
        ctx.set_quiet("steer.mode", "fast");
        ctx.merge_quiet([("steer.x", "1")]);
        assert_eq!(ctx.get("steer.mode"), Some("fast"));
        assert_eq!(ctx.get("steer.x"), Some("1"));
        assert!(!ctx.is_dirty("steer.mode"));
        ctx.scope_dirty_to_node("N");
        assert_eq!(ctx.get("node.N.steer.mode"), None);
    }

    #[test]
    fn missing_keys_are_none_and_empty() {
        let ctx = PipelineContext::new();
        assert_eq!(ctx.get("nope"), None);
        assert_eq!(ctx.get_or_empty("nope"), "");
    }

    #[test]
    fn seed_graph_prefixes_and_is_not_dirty() {
        let mut ctx = PipelineContext::new();
        ctx.seed_graph(&attrs(&[("goal", "ship"), ("params.repo", "x")]));
        assert_eq!(ctx.get("graph.goal"), Some("ship"));
        assert_eq!(ctx.get("graph.params.repo"), Some("x"));
        assert_eq!(ctx.get("goal"), None);
        assert!(ctx.take_dirty().is_empty());
    }

    #[test]
    fn internal_values_are_separate_from_user_values() {
        let mut ctx = PipelineContext::new();
        ctx.set_internal(INTERNAL_RUN_ID, "abc123def456");
        assert_eq!(ctx.internal(INTERNAL_RUN_ID), Some("abc123def456"));
        assert_eq!(ctx.get(INTERNAL_RUN_ID), None);
        assert!(!ctx.snapshot().contains_key(INTERNAL_RUN_ID));
        assert!(!ctx.is_dirty(INTERNAL_RUN_ID));
        assert_eq!(ctx.internal(INTERNAL_ARTIFACT_DIR), None);
    }

    #[test]
    fn scoping_aliases_dirty_keys_and_clears_the_set() {
        let mut ctx = PipelineContext::new();
        ctx.set("last_response", "hello");
        ctx.set("outcome", "success");
        ctx.set_quiet("quiet", "q");
        ctx.scope_dirty_to_node("Build");
        assert_eq!(ctx.get("node.Build.last_response"), Some("hello"));
        assert_eq!(ctx.get("node.Build.outcome"), Some("success"));
        assert_eq!(ctx.get("node.Build.quiet"), None);
        assert_eq!(ctx.get("last_response"), Some("hello"));
        assert!(ctx.take_dirty().is_empty());
    }

    #[test]
    fn scoping_skips_node_keys_and_episode_summaries() {
        let mut ctx = PipelineContext::new();
        ctx.set("node.Other.outcome", "fail");
        ctx.set("episode_summary", "s");
        ctx.set("episode_summaries", "[]");
        ctx.set("episode_summary_extra", "kept");
        ctx.scope_dirty_to_node("N");
        assert_eq!(ctx.get("node.N.node.Other.outcome"), None);
        assert_eq!(ctx.get("node.N.episode_summary"), None);
        assert_eq!(ctx.get("node.N.episode_summaries"), None);
        assert_eq!(ctx.get("node.N.episode_summary_extra"), Some("kept"));
    }

    #[test]
    fn later_nodes_do_not_overwrite_earlier_aliases() {
        let mut ctx = PipelineContext::new();
        ctx.set("last_response", "first");
        ctx.scope_dirty_to_node("A");
        ctx.set("last_response", "second");
        ctx.scope_dirty_to_node("B");
        assert_eq!(ctx.get("node.A.last_response"), Some("first"));
        assert_eq!(ctx.get("node.B.last_response"), Some("second"));
        assert_eq!(ctx.get("last_response"), Some("second"));
    }

    #[test]
    fn reset_routing_blanks_three_keys_as_dirty_writes() {
        let mut ctx = PipelineContext::new();
        ctx.set("outcome", "fail");
        ctx.set("preferred_label", "Yes");
        ctx.set("suggested_next_nodes", "X");
        ctx.set("human_response", "keep me");
        ctx.clear_dirty();
        ctx.reset_routing();
        assert_eq!(ctx.get("outcome"), Some(""));
        assert_eq!(ctx.get("preferred_label"), Some(""));
        assert_eq!(ctx.get("suggested_next_nodes"), Some(""));
        assert_eq!(ctx.get("human_response"), Some("keep me"));
        ctx.scope_dirty_to_node("C");
        assert_eq!(ctx.get("node.C.outcome"), Some(""));
        assert_eq!(ctx.get("node.C.human_response"), None);
    }

    #[test]
    fn routing_snapshot_keeps_only_non_empty_routing_keys() {
        let mut ctx = PipelineContext::new();
        ctx.reset_routing();
        ctx.set("outcome", "success");
        ctx.set("tool_stdout", "ok");
        ctx.set("human_response", "");
        ctx.set("last_response", "not routing");
        let snap = ctx.routing_snapshot();
        assert_eq!(
            snap,
            attrs(&[("outcome", "success"), ("tool_stdout", "ok")])
        );
    }

    #[test]
    fn human_response_is_cleared_once_when_unchanged() {
        let mut ctx = PipelineContext::new();
        ctx.set("human_response", "approve");
        ctx.clear_dirty();
        let before = ctx.get_or_empty("human_response").to_string();
        assert!(ctx.clear_human_response_if_unchanged(&before));
        assert_eq!(ctx.get("human_response"), Some(""));
        assert!(!ctx.is_dirty("human_response"));
        // Empty before: nothing to clear.
        assert!(!ctx.clear_human_response_if_unchanged(""));
    }

    #[test]
    fn human_response_changed_by_the_node_is_kept() {
        let mut ctx = PipelineContext::new();
        ctx.set("human_response", "old");
        ctx.set("human_response", "new answer");
        assert!(!ctx.clear_human_response_if_unchanged("old"));
        assert_eq!(ctx.get("human_response"), Some("new answer"));
    }

    #[test]
    fn snapshot_and_restore_round_trip_and_merge() {
        let mut ctx = PipelineContext::new();
        ctx.set("a", "1");
        ctx.set("node.X.a", "1");
        let snap = ctx.snapshot();
        let mut fresh = PipelineContext::new();
        fresh.set_quiet("initial", "kept");
        fresh.set_quiet("a", "stale");
        fresh.restore(snap.clone());
        assert_eq!(fresh.get("a"), Some("1"));
        assert_eq!(fresh.get("node.X.a"), Some("1"));
        assert_eq!(fresh.get("initial"), Some("kept"));
        assert!(fresh.take_dirty().is_empty());
        assert_eq!(fresh.values().len(), 3);
    }

    #[test]
    fn reseeding_graph_after_restore_wins_over_checkpoint_values() {
        let mut ctx = PipelineContext::new();
        ctx.restore(attrs(&[("graph.goal", "old goal"), ("x", "1")]));
        ctx.seed_graph(&attrs(&[("goal", "new goal")]));
        assert_eq!(ctx.get("graph.goal"), Some("new goal"));
        assert_eq!(ctx.get("x"), Some("1"));
    }

    #[test]
    fn graph_vars_strip_the_prefix_and_ignore_other_keys() {
        let mut ctx = PipelineContext::new();
        ctx.seed_graph(&attrs(&[("goal", "g"), ("params.repo", "r")]));
        ctx.set("graphic", "no");
        ctx.set("a.graph.b", "no");
        ctx.set("goal", "no");
        assert_eq!(
            ctx.graph_vars(),
            attrs(&[("goal", "g"), ("params.repo", "r")])
        );
    }
}
