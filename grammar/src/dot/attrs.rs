//! The attribute vocabulary: which DOT attributes tracker reads and which are Graphviz layout.

use crate::ir::NodeKind;

/// Edge attributes the lowering reads (the only ones kept as `edge [...]` defaults).
pub(super) const EDGE_KEYS: &[&str] = &[
    "label",
    "condition",
    "weight",
    "loop_restart",
    "restart",
    "choice",
    "override",
];

/// Attributes every node kind reads.
const COMMON_NODE_KEYS: &[&str] = &[
    "shape",
    "type",
    "label",
    "class",
    "retry_policy",
    "max_retries",
    "base_delay",
    "retry_target",
    "fallback_target",
    "fallback_retry_target",
    "reads",
    "writes",
];

/// Attributes of agent nodes.
const AGENT_KEYS: &[&str] = &[
    "prompt",
    "prompt_file",
    "system_prompt",
    "system_prompt_file",
    "prompt_include",
    "prompt_prefix",
    "prompt_suffix",
    "llm_model",
    "model",
    "llm_provider",
    "provider",
    "reasoning_effort",
    "fidelity",
    "goal_gate",
    "auto_status",
    "max_turns",
    "command_timeout",
    "cmd_timeout",
    "cache_tool_results",
    "cache_tools",
    "context_compaction",
    "compaction",
    "context_compaction_threshold",
    "compaction_threshold",
    "response_format",
    "response_schema",
    "backend",
    "working_dir",
    "tool_access",
    "writable_paths",
    "last_response_truncate",
];

/// Attributes of the other node kinds.
const OTHER_KIND_KEYS: &[&str] = &[
    // human
    "mode",
    "default_choice",
    "default",
    "questions_key",
    "answers_key",
    "timeout",
    "timeout_action",
    // tool
    "tool_command",
    "command",
    "command_file",
    "outputs",
    "marker_grep",
    "route_required",
    "output_limit",
    // parallel / fan_in
    "targets",
    "parallel_targets",
    "branches",
    "parallel_join",
    "sources",
    "fan_in_sources",
    // subgraph / manager_loop
    "subgraph_ref",
    "ref",
    "subgraph_params",
    "params",
    "poll_interval",
    "max_cycles",
    "stop_condition",
    "steer_condition",
    "steer_context",
];

/// Graphviz presentation attributes: read by nobody, never passed through.
pub(super) const LAYOUT_KEYS: &[&str] = &[
    "area",
    "bgcolor",
    "center",
    "charset",
    "color",
    "colorscheme",
    "comment",
    "compound",
    "concentrate",
    "distortion",
    "dpi",
    "fillcolor",
    "fixedsize",
    "fontcolor",
    "fontname",
    "fontnames",
    "fontpath",
    "fontsize",
    "gradientangle",
    "group",
    "height",
    "href",
    "id",
    "image",
    "imagepos",
    "imagescale",
    "label",
    "labeljust",
    "labelloc",
    "landscape",
    "layer",
    "layers",
    "layout",
    "margin",
    "mclimit",
    "newrank",
    "nodesep",
    "nojustify",
    "nslimit",
    "ordering",
    "orientation",
    "outputorder",
    "overlap",
    "pad",
    "page",
    "pagedir",
    "pencolor",
    "penwidth",
    "peripheries",
    "pos",
    "quantum",
    "rank",
    "rankdir",
    "ranksep",
    "ratio",
    "regular",
    "remincross",
    "rotate",
    "searchsize",
    "shape",
    "showboxes",
    "sides",
    "size",
    "skew",
    "sortv",
    "splines",
    "style",
    "stylesheet",
    "tooltip",
    "URL",
    "width",
    "xlabel",
    "z",
];

/// Whether `key` is a node attribute of the vocabulary above (only these are kept as
/// `node [...]` defaults).
pub(super) fn is_known_node_key(key: &str) -> bool {
    COMMON_NODE_KEYS.contains(&key) || AGENT_KEYS.contains(&key) || OTHER_KIND_KEYS.contains(&key)
}

/// Whether a node attribute is passed through as a parameter of a node of `kind`:
/// attributes the IR has no field for. An agent's `timeout` (a node-level attribute
/// in tracker, with no agent field in the IR) is kept this way too.
pub(super) fn is_passthrough(key: &str, kind: NodeKind) -> bool {
    (kind == NodeKind::Agent && key == "timeout")
        || (!is_known_node_key(key) && !LAYOUT_KEYS.contains(&key) && !key.starts_with("branch."))
}

/// The `params` the runtime reads, which a DOT file writes as plain node
/// attributes: never taken for a misspelling of another attribute.
const RUNTIME_PARAMS: &[&str] = &[
    "max_concurrency",
    "quorum",
    "fan_in_policy",
    "branch_timeout",
    "injection_cap",
    "memoize",
    "supervise",
];

/// The node attribute a pass-through `key` is most likely a misspelling of, if
/// any: within one edit for short keys, two for longer ones.
pub(super) fn misspelt_node_key(key: &str) -> Option<&'static str> {
    if RUNTIME_PARAMS.contains(&key) || is_known_node_key(key) || key.len() < 4 {
        return None;
    }
    let limit = if key.len() <= 5 { 1 } else { 2 };
    COMMON_NODE_KEYS
        .iter()
        .chain(AGENT_KEYS)
        .chain(OTHER_KIND_KEYS)
        .copied()
        .map(|known| (crate::lower::values::levenshtein(key, known), known))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}
