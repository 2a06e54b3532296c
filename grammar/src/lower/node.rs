//! Node bodies: which fields each node kind accepts and how each value is typed.

use std::collections::HashMap;

use crate::ast::{Head, Stmt};
use crate::ir::{AgentConfig, Branch, Condition, Node, NodeConfig, NodeIo, NodeKind, Retry};
use crate::source::Span;

use super::values::{csv, suggest, FieldValue, Sink};
use super::{field_value, Lowerer};

/// Fields every kind but `parallel` and `fan_in` accepts.
const COMMON_FIELDS: &[&str] = &[
    "label",
    "class",
    "reads",
    "writes",
    "retry_policy",
    "max_retries",
    "base_delay",
    "retry_target",
    "fallback_target",
    "fallback_retry_target",
];

const AGENT_FIELDS: &[&str] = &[
    "prompt",
    "prompt_file",
    "system_prompt",
    "system_prompt_file",
    "response_schema",
    "prompt_include",
    "prompt_prefix",
    "prompt_suffix",
    "model",
    "provider",
    "backend",
    "working_dir",
    "tool_access",
    "reasoning_effort",
    "fidelity",
    "compaction",
    "response_format",
    "writable_paths",
    "max_turns",
    "last_response_truncate",
    "compaction_threshold",
    "cmd_timeout",
    "auto_status",
    "goal_gate",
    "cache_tools",
    "params",
];

const HUMAN_FIELDS: &[&str] = &[
    "mode",
    "default",
    "prompt",
    "questions_key",
    "answers_key",
    "timeout",
    "timeout_action",
];

const TOOL_FIELDS: &[&str] = &[
    "command",
    "command_file",
    "timeout",
    "outputs",
    "marker_grep",
    "route_required",
    "output_limit",
];

const SUBGRAPH_FIELDS: &[&str] = &["ref", "params", "inputs"];

const MANAGER_LOOP_FIELDS: &[&str] = &[
    "subgraph_ref",
    "poll_interval",
    "max_cycles",
    "stop_condition",
    "steer_condition",
    "steer_context",
];

const BRANCH_FIELDS: &[&str] = &[
    "model",
    "provider",
    "fidelity",
    "tool_access",
    "writable_paths",
    "last_response_truncate",
];

/// The fields `kind` accepts besides the common ones.
pub(crate) fn kind_fields(kind: NodeKind) -> &'static [&'static str] {
    match kind {
        NodeKind::Agent => AGENT_FIELDS,
        NodeKind::Human => HUMAN_FIELDS,
        NodeKind::Tool => TOOL_FIELDS,
        NodeKind::Subgraph => SUBGRAPH_FIELDS,
        NodeKind::ManagerLoop => MANAGER_LOOP_FIELDS,
        NodeKind::Conditional | NodeKind::Parallel | NodeKind::FanIn => &[],
    }
}

impl Lowerer {
    /// Lowers `<kind> <id>` and its indented body.
    pub(super) fn node(&mut self, kind: NodeKind, id: &str, span: Span, body: Vec<Stmt>) -> Node {
        let mut node = Node {
            id: id.to_string(),
            label: String::new(),
            classes: Vec::new(),
            config: NodeConfig::empty(kind),
            retry: Retry::default(),
            io: NodeIo::default(),
            span,
        };
        if body.is_empty() && kind != NodeKind::Parallel {
            self.sink.error(
                span,
                format!(
                    "{} node {id:?} has no body: indent its fields under `{} {id}`",
                    kind.as_str(),
                    kind.as_str()
                ),
            );
            return node;
        }
        // Where each field was first set, for the "both X and X_file" errors.
        let mut seen: HashMap<String, Span> = HashMap::new();
        for stmt in body {
            let value = match stmt.head {
                Head::Field(f) => field_value(f),
                Head::Block(b) => super::block_value(b),
                Head::Words(words) if words.first().is_some_and(|w| w.text == "retry") => {
                    self.sink.error(
                        stmt.span,
                        "nested retry blocks are not supported; use flat attributes instead (retry_policy, max_retries, retry_target, fallback_target, base_delay)",
                    );
                    continue;
                }
                Head::Words(words) if kind == NodeKind::Parallel && !words.is_empty() => {
                    self.sink.error(
                        stmt.span,
                        format!("unexpected {:?} in parallel {id:?}: expected `branch: <node>` or `params:`", words[0].text),
                    );
                    continue;
                }
                Head::Error => continue,
                _ => {
                    self.sink.error(
                        stmt.span,
                        format!(
                            "unexpected line in {} node {id:?}: expected `key: value`",
                            kind.as_str()
                        ),
                    );
                    continue;
                }
            };
            let anchor = if kind == NodeKind::Parallel && value.key == "branch" {
                crate::ir::CommentAnchor::Node(id.to_string())
            } else {
                crate::ir::CommentAnchor::NodeField(id.to_string(), value.key.clone())
            };
            self.anchors.push((value.key_span.start, anchor));
            if kind == NodeKind::Parallel && value.key == "branch" {
                self.branch(&mut node, value, stmt.body);
                continue;
            }
            if !stmt.body.is_empty() {
                self.unexpected_block(&value, &stmt.body);
            }
            seen.entry(value.key.clone()).or_insert(value.key_span);
            self.node_field(&mut node, value, &seen);
        }
        node
    }

    /// Reports lines indented under a field that takes none.
    pub(super) fn unexpected_block(&mut self, value: &FieldValue, body: &[Stmt]) {
        let span = body.first().map_or(value.span, |s| s.span);
        if matches!(value.text.as_str(), "|" | ">" | "|-" | ">-") {
            self.sink.error(
                value.span,
                format!(
                    "YAML block scalars are not Dippin: write `{}:` on its own line and indent the text under it",
                    value.key
                ),
            );
        } else {
            self.sink.error(
                span,
                format!(
                    "unexpected indented block under `{}: {}`; only a bare `{}:` line takes indented text",
                    value.key, value.text, value.key
                ),
            );
        }
    }

    fn branch(&mut self, node: &mut Node, value: FieldValue, body: Vec<Stmt>) {
        let NodeConfig::Parallel(cfg) = &mut node.config else {
            return;
        };
        let target = value.text.trim().to_string();
        if target.is_empty() {
            self.sink
                .error(value.span, "`branch:` needs a target node id");
            return;
        }
        let mut branch = Branch {
            target: target.clone(),
            ..Branch::default()
        };
        for stmt in body {
            let v = match stmt.head {
                Head::Field(f) => field_value(f),
                Head::Block(b) => super::block_value(b),
                _ => continue,
            };
            self.anchors.push((
                v.key_span.start,
                crate::ir::CommentAnchor::Node(node.id.clone()),
            ));
            match v.key.as_str() {
                "model" => branch.model = v.text,
                "provider" => branch.provider = v.text,
                "fidelity" => branch.fidelity = v.text,
                "tool_access" => branch.tool_access = v.text,
                "writable_paths" => branch.writable_paths = writable_paths(&mut self.sink, &v),
                "last_response_truncate" => branch.last_response_truncate = self.sink.int(&v),
                // The reference ignores other branch keys; say so rather than drop them silently.
                other => self.sink.warn(
                    v.key_span,
                    format!(
                        "unknown branch field {other:?} is ignored (known: {})",
                        BRANCH_FIELDS.join(", ")
                    ),
                ),
            }
        }
        cfg.targets.push(target);
        cfg.branches.push(branch);
    }

    fn node_field(&mut self, node: &mut Node, v: FieldValue, seen: &HashMap<String, Span>) {
        let kind = node.kind();
        let version = self.version;
        if kind != NodeKind::Parallel && kind != NodeKind::FanIn && self.common_field(node, &v) {
            return;
        }
        let sink = &mut self.sink;
        let id = node.id.clone();
        let exclusive = |sink: &mut Sink, other: &str, what: &str| {
            if seen.contains_key(other) {
                sink.error(
                    v.key_span,
                    format!(
                        "{} node {id:?} has both `{other}` and `{}` set; choose one",
                        what, v.key
                    ),
                );
            }
        };
        match &mut node.config {
            NodeConfig::Agent(a) => match v.key.as_str() {
                "prompt" => {
                    exclusive(sink, "prompt_file", "agent");
                    a.prompt = v.text;
                }
                "prompt_file" => {
                    exclusive(sink, "prompt", "agent");
                    a.prompt_file = v.text;
                }
                "system_prompt" => {
                    exclusive(sink, "system_prompt_file", "agent");
                    a.system_prompt = v.text;
                }
                "system_prompt_file" => {
                    exclusive(sink, "system_prompt", "agent");
                    a.system_prompt_file = v.text;
                }
                "response_schema" => a.response_schema = v.text,
                "prompt_include" => a.prompt_include = v.text,
                "prompt_prefix" | "prompt_suffix" => {
                    if v.text != "none" {
                        sink.error(
                            v.span,
                            format!(
                                "{} on a node only accepts `none` (to opt out of the defaults cascade); set text in defaults",
                                v.key
                            ),
                        );
                    }
                    if v.key == "prompt_prefix" {
                        a.prompt_prefix = v.text;
                    } else {
                        a.prompt_suffix = v.text;
                    }
                }
                "model" => a.model = v.text,
                "provider" => a.provider = v.text,
                "backend" => a.backend = v.text,
                "working_dir" => a.working_dir = v.text,
                "tool_access" => a.tool_access = v.text,
                "reasoning_effort" => a.reasoning_effort = v.text,
                "fidelity" => a.fidelity = v.text,
                "compaction" => a.compaction = v.text,
                "response_format" => a.response_format = v.text,
                "writable_paths" => a.writable_paths = writable_paths(sink, &v),
                "max_turns" => a.max_turns = sink.int(&v),
                "last_response_truncate" => a.last_response_truncate = sink.int(&v),
                "compaction_threshold" => a.compaction_threshold = sink.float(&v),
                "cmd_timeout" => a.cmd_timeout = sink.duration(&v),
                "auto_status" => a.auto_status = sink.bool(&v),
                "goal_gate" => a.goal_gate = sink.bool(&v),
                "cache_tools" => a.cache_tools = sink.bool(&v),
                "params" => a.params = sink.map(&v),
                _ => unknown_field(sink, kind, &v),
            },
            NodeConfig::Human(h) => match v.key.as_str() {
                "mode" => h.mode = v.text,
                "default" => h.default = v.text,
                "prompt" => h.prompt = v.text,
                "questions_key" => h.questions_key = v.text,
                "answers_key" => h.answers_key = v.text,
                "timeout" => h.timeout = sink.duration(&v),
                "timeout_action" => {
                    if !matches!(v.text.as_str(), "" | "fail" | "default") {
                        sink.error(
                            v.span,
                            format!(
                                "invalid timeout_action {:?} (use fail, default, or empty)",
                                v.text
                            ),
                        );
                    }
                    h.timeout_action = v.text;
                }
                _ => unknown_field(sink, kind, &v),
            },
            NodeConfig::Tool(t) => match v.key.as_str() {
                "command" => {
                    exclusive(sink, "command_file", "tool");
                    t.command = v.text;
                }
                "command_file" => {
                    exclusive(sink, "command", "tool");
                    t.command_file = v.text;
                }
                "timeout" => t.timeout = sink.duration(&v),
                "outputs" => t.outputs = csv(&v.text),
                "marker_grep" => t.marker_grep = v.text,
                "route_required" => t.route_required = sink.bool(&v),
                "output_limit" => {
                    let n = sink.int(&v);
                    if n < 0 {
                        sink.error(
                            v.span,
                            format!("invalid output_limit {n} (must be non-negative)"),
                        );
                    }
                    t.output_limit = n;
                }
                _ => unknown_field(sink, kind, &v),
            },
            NodeConfig::Subgraph(s) => match v.key.as_str() {
                "ref" => s.reference = v.text,
                "params" if version >= 2 => sink.error(
                    v.key_span,
                    "`params:` on a subgraph is spelled `inputs:` under `dip 2`",
                ),
                "inputs" if version < 2 => unknown_field(sink, kind, &v),
                "params" | "inputs" => s.params = sink.map(&v),
                _ => unknown_field(sink, kind, &v),
            },
            NodeConfig::ManagerLoop(m) => match v.key.as_str() {
                "subgraph_ref" => m.subgraph_ref = v.text,
                "poll_interval" => m.poll_interval = sink.duration(&v),
                "max_cycles" => m.max_cycles = sink.int(&v),
                "stop_condition" => m.stop_condition = Some(Condition::new(v.text.trim())),
                "steer_condition" => m.steer_condition = Some(Condition::new(v.text.trim())),
                "steer_context" => m.steer_context = sink.steer_context(&v),
                _ => unknown_field(sink, kind, &v),
            },
            NodeConfig::Parallel(p) => match v.key.as_str() {
                "params" => p.params = sink.map(&v),
                _ => unknown_field(sink, kind, &v),
            },
            NodeConfig::FanIn(f) => match v.key.as_str() {
                "params" => f.params = sink.map(&v),
                _ => unknown_field(sink, kind, &v),
            },
            NodeConfig::Conditional => unknown_field(sink, kind, &v),
        }
    }

    /// Applies a common field; returns false if `v` is not one.
    fn common_field(&mut self, node: &mut Node, v: &FieldValue) -> bool {
        let sink = &mut self.sink;
        match v.key.as_str() {
            "label" => node.label = v.text.clone(),
            "class" => node.classes = csv(&v.text),
            "reads" => node.io.reads = csv(&v.text),
            "writes" => node.io.writes = csv(&v.text),
            "retry_policy" => node.retry.policy = v.text.clone(),
            "max_retries" => node.retry.max_retries = sink.int(v),
            "base_delay" => node.retry.base_delay = sink.duration(v),
            "retry_target" => node.retry.retry_target = v.text.clone(),
            "fallback_target" if self.version >= 2 => sink.error(
                v.key_span,
                "`fallback_target` is spelled `fallback_retry_target` under `dip 2`",
            ),
            "fallback_retry_target" if self.version < 2 => return false,
            "fallback_target" | "fallback_retry_target" => {
                node.retry.fallback_target = v.text.clone();
            }
            _ => return false,
        }
        true
    }
}

fn writable_paths(sink: &mut Sink, v: &FieldValue) -> Vec<String> {
    let items: Vec<String> = csv(&v.text).into_iter().filter(|s| !s.is_empty()).collect();
    if items.is_empty() {
        sink.error(
            v.span,
            "writable_paths is empty: list at least one glob or remove the field",
        );
    }
    items
}

fn unknown_field(sink: &mut Sink, kind: NodeKind, v: &FieldValue) {
    let known = COMMON_FIELDS
        .iter()
        .chain(kind_fields(kind))
        .copied()
        .filter(|f| *f != "fallback_retry_target" && *f != "inputs");
    let mut message = format!("unrecognized {} field {:?}", kind.as_str(), v.key);
    let hint = suggest(&v.key, known);
    if matches!(kind, NodeKind::Agent | NodeKind::Subgraph) {
        message.push_str(" — did you mean to put it under params:?");
    }
    let mut diag = crate::diagnostic::Diagnostic::parse(v.key_span, message);
    if let Some(hint) = hint {
        diag = diag.with_help(format!("did you mean `{hint}`?"));
    }
    sink.diagnostics.push(diag);
}

/// Whether an agent config has any prompt text or prompt file.
pub(crate) fn has_prompt(agent: &AgentConfig) -> bool {
    !agent.prompt.trim().is_empty() || !agent.prompt_file.is_empty()
}
