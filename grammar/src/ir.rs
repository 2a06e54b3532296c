//! The intermediate representation every consumer works from.
//!
//! Field names follow the reference IR one to one, so the runtime and the
//! conformance harness reason in the same terms. Empty strings, zero numbers and
//! `false` mean "unset", as in the reference. Spans point into the `.dip` file the
//! workflow came from; [`Workflow::without_spans`] erases them so two parses of
//! differently formatted text can be compared.

use std::collections::BTreeMap;

use crate::condition::{ConditionError, Expr};
use crate::duration::GoDuration;
use crate::source::Span;

/// A whole workflow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workflow {
    /// The name after `workflow`.
    pub name: String,
    /// The language version (`dip N`); 1 when absent.
    pub version: u32,
    /// `goal:`
    pub goal: String,
    /// `start:` node id.
    pub start: String,
    /// Where `start:`'s value is.
    pub start_span: Option<Span>,
    /// `exit:` node id.
    pub exit: String,
    /// Where `exit:`'s value is.
    pub exit_span: Option<Span>,
    /// `requires:` (comma list, empty items dropped).
    pub requires: Vec<String>,
    /// The `defaults` section.
    pub defaults: Defaults,
    /// The `vars` section.
    pub vars: BTreeMap<String, String>,
    /// The `inputs` section, in declaration order.
    pub inputs: Vec<Input>,
    /// Nodes in declaration order, `parallel` and `fan_in` included.
    pub nodes: Vec<Node>,
    /// Explicit edges in source order (implicit fan edges are not stored).
    pub edges: Vec<Edge>,
    /// `else -> X`: where a node whose guards all fail goes.
    pub else_target: Option<String>,
    /// Where the `else` edge is.
    pub else_span: Option<Span>,
    /// The `stylesheet:` rules.
    pub stylesheet: Vec<StyleRule>,
    /// Where the `workflow` line is.
    pub span: Span,
    /// `#` comment lines before the first statement, kept by the formatter.
    pub leading_comments: Vec<String>,
    /// Every other comment, attached to the line it belongs to (formatter only).
    pub comments: Vec<Comment>,
}

/// A source comment attached to the line the formatter prints it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The line it belongs to.
    pub anchor: CommentAnchor,
    /// The text, `#` included.
    pub text: String,
    /// Printed at the end of the anchor's line rather than above it.
    pub trailing: bool,
}

/// The lines comments can belong to, named so they survive reordering.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommentAnchor {
    /// The `workflow` line.
    Workflow,
    /// A header field (`goal`, `start`, `exit`, `requires`, `stylesheet`).
    Header(String),
    /// A section line (`defaults`, `vars`, `inputs`, `edges`).
    Section(String),
    /// An entry of a section: (section, key or input name).
    Entry(String, String),
    /// A node's declaration line.
    Node(String),
    /// A field of a node: (node id, key).
    NodeField(String, String),
    /// The explicit edge at this index of [`Workflow::edges`].
    Edge(usize),
    /// The `else -> X` line.
    Else,
    /// After everything else.
    End,
}

/// The `defaults` section.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Defaults {
    /// Default model for agents.
    pub model: String,
    /// Default provider for agents.
    pub provider: String,
    /// Default retry policy name.
    pub retry_policy: String,
    /// Default retry count.
    pub max_retries: i64,
    /// Default context fidelity.
    pub fidelity: String,
    /// Global restart budget for loop edges (runtime default 5 when 0).
    pub max_restarts: i64,
    /// Where restarts go by default.
    pub restart_target: String,
    /// The graph-level failure route.
    pub on_failure: String,
    /// Where `on_failure`'s value is.
    pub on_failure_span: Option<Span>,
    /// Cache tool results.
    pub cache_tools: bool,
    /// Context compaction mode.
    pub compaction: String,
    /// `preserve` or `degrade` on resume.
    pub on_resume: String,
    /// Token budget (0 = unlimited).
    pub max_total_tokens: i64,
    /// Cost budget in cents (0 = unlimited).
    pub max_cost_cents: i64,
    /// Wall-time budget (0 = unlimited).
    pub max_wall_time: GoDuration,
    /// Stall timeout (0 = disabled).
    pub stall_timeout: GoDuration,
    /// Allowed tool command globs (verbatim).
    pub tool_commands_allow: String,
    /// Extra denied tool command globs (verbatim).
    pub tool_denylist_add: String,
    /// Text prepended to every agent prompt.
    pub prompt_prefix: String,
    /// Text appended to every agent prompt.
    pub prompt_suffix: String,
    /// File whose text is prepended to every agent prompt.
    pub prompt_prefix_file: String,
    /// File whose text is appended to every agent prompt.
    pub prompt_suffix_file: String,
    /// Fallback system prompt file.
    pub system_prompt_file: String,
    /// Where the `defaults` line is.
    pub span: Option<Span>,
}

/// One declared pipeline input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Input {
    /// The input's name (`${inputs.name}`).
    pub name: String,
    /// Its type, verbatim (`text number bool enum file secret`).
    pub kind: String,
    /// Must be supplied.
    pub required: bool,
    /// The default value.
    pub default: String,
    /// Whether `default:` was written (an empty default is still a default).
    pub has_default: bool,
    /// Question shown to the user.
    pub prompt: String,
    /// Longer description.
    pub description: String,
    /// Allowed values for `enum`.
    pub options: Vec<String>,
    /// Regex the value must match.
    pub pattern: String,
    /// Lower bound (raw text).
    pub min: String,
    /// Upper bound (raw text).
    pub max: String,
    /// Maximum length.
    pub max_length: i64,
    /// Multi-line text entry.
    pub multiline: bool,
    /// Where the input is declared.
    pub span: Span,
}

/// A node of any kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The node's id.
    pub id: String,
    /// Display name (defaults to the id at run time).
    pub label: String,
    /// Stylesheet classes.
    pub classes: Vec<String>,
    /// Kind-specific configuration.
    pub config: NodeConfig,
    /// Retry settings.
    pub retry: Retry,
    /// Declared context reads and writes.
    pub io: NodeIo,
    /// Where the node is declared (its header line).
    pub span: Span,
}

impl Node {
    /// The node's kind.
    pub fn kind(&self) -> NodeKind {
        self.config.kind()
    }

    /// The agent configuration, if this is an agent.
    pub fn agent(&self) -> Option<&AgentConfig> {
        match &self.config {
            NodeConfig::Agent(a) => Some(a),
            _ => None,
        }
    }

    /// The tool configuration, if this is a tool.
    pub fn tool(&self) -> Option<&ToolConfig> {
        match &self.config {
            NodeConfig::Tool(t) => Some(t),
            _ => None,
        }
    }

    /// The human-gate configuration, if this is a human gate.
    pub fn human(&self) -> Option<&HumanConfig> {
        match &self.config {
            NodeConfig::Human(h) => Some(h),
            _ => None,
        }
    }
}

/// The node kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// An LLM session.
    Agent,
    /// A human gate.
    Human,
    /// A shell command.
    Tool,
    /// A fan-out.
    Parallel,
    /// A fan-in.
    FanIn,
    /// A child workflow.
    Subgraph,
    /// A pure routing node.
    Conditional,
    /// A supervisor of a child pipeline.
    ManagerLoop,
}

impl NodeKind {
    /// The keyword that declares this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Agent => "agent",
            NodeKind::Human => "human",
            NodeKind::Tool => "tool",
            NodeKind::Parallel => "parallel",
            NodeKind::FanIn => "fan_in",
            NodeKind::Subgraph => "subgraph",
            NodeKind::Conditional => "conditional",
            NodeKind::ManagerLoop => "manager_loop",
        }
    }

    /// The kind declared by `keyword`, if any.
    pub fn from_keyword(keyword: &str) -> Option<NodeKind> {
        Some(match keyword {
            "agent" => NodeKind::Agent,
            "human" => NodeKind::Human,
            "tool" => NodeKind::Tool,
            "parallel" => NodeKind::Parallel,
            "fan_in" => NodeKind::FanIn,
            "subgraph" => NodeKind::Subgraph,
            "conditional" => NodeKind::Conditional,
            "manager_loop" => NodeKind::ManagerLoop,
            _ => return None,
        })
    }
}

/// Kind-specific node configuration.
// Agents carry the most fields; nodes are built once and stored in a Vec, so boxing
// the large variant would cost an allocation per node for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum NodeConfig {
    /// An agent.
    Agent(AgentConfig),
    /// A human gate.
    Human(HumanConfig),
    /// A tool.
    Tool(ToolConfig),
    /// A fan-out.
    Parallel(ParallelConfig),
    /// A fan-in.
    FanIn(FanInConfig),
    /// A child workflow.
    Subgraph(SubgraphConfig),
    /// A routing node (no configuration).
    Conditional,
    /// A child-pipeline supervisor.
    ManagerLoop(ManagerLoopConfig),
}

impl NodeConfig {
    /// The kind this configuration belongs to.
    pub fn kind(&self) -> NodeKind {
        match self {
            NodeConfig::Agent(_) => NodeKind::Agent,
            NodeConfig::Human(_) => NodeKind::Human,
            NodeConfig::Tool(_) => NodeKind::Tool,
            NodeConfig::Parallel(_) => NodeKind::Parallel,
            NodeConfig::FanIn(_) => NodeKind::FanIn,
            NodeConfig::Subgraph(_) => NodeKind::Subgraph,
            NodeConfig::Conditional => NodeKind::Conditional,
            NodeConfig::ManagerLoop(_) => NodeKind::ManagerLoop,
        }
    }

    /// An empty configuration of `kind`.
    pub fn empty(kind: NodeKind) -> NodeConfig {
        match kind {
            NodeKind::Agent => NodeConfig::Agent(AgentConfig::default()),
            NodeKind::Human => NodeConfig::Human(HumanConfig::default()),
            NodeKind::Tool => NodeConfig::Tool(ToolConfig::default()),
            NodeKind::Parallel => NodeConfig::Parallel(ParallelConfig::default()),
            NodeKind::FanIn => NodeConfig::FanIn(FanInConfig::default()),
            NodeKind::Subgraph => NodeConfig::Subgraph(SubgraphConfig::default()),
            NodeKind::Conditional => NodeConfig::Conditional,
            NodeKind::ManagerLoop => NodeConfig::ManagerLoop(ManagerLoopConfig::default()),
        }
    }
}

/// Retry settings common to every node kind but fan nodes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Retry {
    /// Policy name (`standard aggressive patient linear none`).
    pub policy: String,
    /// Retries after the first attempt.
    pub max_retries: i64,
    /// Base delay between attempts.
    pub base_delay: GoDuration,
    /// Node to jump to when retrying.
    pub retry_target: String,
    /// Node to jump to when retries are exhausted.
    pub fallback_target: String,
}

/// Declared context keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeIo {
    /// Keys read.
    pub reads: Vec<String>,
    /// Keys written.
    pub writes: Vec<String>,
}

/// An agent node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentConfig {
    /// The user prompt (inline, or loaded from `prompt_file`).
    pub prompt: String,
    /// Path of the prompt file, as written.
    pub prompt_file: String,
    /// The system prompt.
    pub system_prompt: String,
    /// Path of the system prompt file, as written.
    pub system_prompt_file: String,
    /// Model id or alias.
    pub model: String,
    /// Provider name.
    pub provider: String,
    /// Turn cap (exhaustion fails the node).
    pub max_turns: i64,
    /// Timeout for the agent's shell commands.
    pub cmd_timeout: GoDuration,
    /// Cache tool results.
    pub cache_tools: bool,
    /// Compaction mode.
    pub compaction: String,
    /// Context fill ratio that triggers compaction.
    pub compaction_threshold: f64,
    /// Reasoning effort.
    pub reasoning_effort: String,
    /// Context fidelity.
    pub fidelity: String,
    /// Parse a STATUS line from the reply into the outcome.
    pub auto_status: bool,
    /// The run fails unless this node succeeded.
    pub goal_gate: bool,
    /// `json_object` or `json_schema`.
    pub response_format: String,
    /// The JSON schema for `json_schema`.
    pub response_schema: String,
    /// `native`, `claude-code` or `acp`.
    pub backend: String,
    /// Working directory for the agent's tools.
    pub working_dir: String,
    /// `none` disables tools.
    pub tool_access: String,
    /// Globs the agent may write.
    pub writable_paths: Vec<String>,
    /// Truncate `last_response` to this many characters.
    pub last_response_truncate: i64,
    /// A file whose text is appended to the prompt.
    pub prompt_include: String,
    /// `none` opts out of the defaults prompt prefix.
    pub prompt_prefix: String,
    /// `none` opts out of the defaults prompt suffix.
    pub prompt_suffix: String,
    /// Pass-through parameters.
    pub params: BTreeMap<String, String>,
}

/// A human gate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HumanConfig {
    /// `choice freeform interview yes_no`.
    pub mode: String,
    /// The choice used when unattended or timed out.
    pub default: String,
    /// The question.
    pub prompt: String,
    /// Context key holding interview questions.
    pub questions_key: String,
    /// Context key receiving interview answers.
    pub answers_key: String,
    /// How long to wait.
    pub timeout: GoDuration,
    /// `fail`, `default` or empty.
    pub timeout_action: String,
}

/// A tool node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolConfig {
    /// The shell command (inline, or loaded from `command_file`).
    pub command: String,
    /// Path of the command file, as written.
    pub command_file: String,
    /// Kill the command after this long.
    pub timeout: GoDuration,
    /// Expected stdout values.
    pub outputs: Vec<String>,
    /// Regex whose first match becomes `ctx.tool_marker`.
    pub marker_grep: String,
    /// Fail unless the command prints a route line.
    pub route_required: bool,
    /// Output cap in bytes.
    pub output_limit: i64,
}

/// A fan-out node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParallelConfig {
    /// Branch targets in order.
    pub targets: Vec<String>,
    /// Per-branch overrides (block form).
    pub branches: Vec<Branch>,
    /// Parameters such as `fan_in_policy`.
    pub params: BTreeMap<String, String>,
}

/// Per-branch overrides of a block-form `parallel`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Branch {
    /// The branch's target node.
    pub target: String,
    /// Model override.
    pub model: String,
    /// Provider override.
    pub provider: String,
    /// Fidelity override.
    pub fidelity: String,
    /// Tool access override.
    pub tool_access: String,
    /// Writable paths override.
    pub writable_paths: Vec<String>,
    /// Response truncation override.
    pub last_response_truncate: i64,
}

/// A fan-in node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FanInConfig {
    /// Joined sources in order.
    pub sources: Vec<String>,
    /// Parameters.
    pub params: BTreeMap<String, String>,
}

/// A subgraph node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubgraphConfig {
    /// Path or name of the child workflow.
    pub reference: String,
    /// Parameters passed to the child.
    pub params: BTreeMap<String, String>,
}

/// A manager-loop node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManagerLoopConfig {
    /// Path of the child workflow.
    pub subgraph_ref: String,
    /// Poll interval (0 = event-driven).
    pub poll_interval: GoDuration,
    /// Cycle cap (0 = unbounded).
    pub max_cycles: i64,
    /// Stop when this holds.
    pub stop_condition: Option<Condition>,
    /// Steer the child when this holds.
    pub steer_condition: Option<Condition>,
    /// Context to inject when steering.
    pub steer_context: BTreeMap<String, String>,
}

/// A condition as written plus its parse.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The condition text, tokens re-joined by single spaces.
    pub raw: String,
    /// The parsed expression, or why it failed.
    pub parsed: Result<Expr, ConditionError>,
}

impl Condition {
    /// Parses `raw`.
    pub fn new(raw: impl Into<String>) -> Condition {
        let raw = raw.into();
        let parsed = crate::condition::parse(&raw);
        Condition { raw, parsed }
    }
}

/// An explicit edge.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// Display label (and human-gate choice text).
    pub label: String,
    /// Explicit human-gate choice key.
    pub choice: String,
    /// The guard, if any.
    pub condition: Option<Condition>,
    /// Carried, never used for routing.
    pub weight: i64,
    /// A loop (restart) edge.
    pub restart: bool,
    /// May override a failed validation (human gates).
    pub override_: bool,
    /// Where the edge line is.
    pub span: Span,
    /// Where the source id is.
    pub from_span: Span,
    /// Where the target id is.
    pub to_span: Span,
}

impl Edge {
    /// Whether the edge has no guard.
    pub fn is_unconditional(&self) -> bool {
        self.condition.is_none()
    }
}

/// One stylesheet rule.
#[derive(Clone, Debug, PartialEq)]
pub struct StyleRule {
    /// Which nodes it applies to.
    pub selector: Selector,
    /// Properties in source order.
    pub properties: Vec<(String, String)>,
    /// Where the selector line is, when read from a `.dip` file.
    pub span: Option<Span>,
}

/// A stylesheet selector, in increasing specificity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// `*`
    Universal,
    /// A node kind such as `agent`.
    Kind(String),
    /// `.class`
    Class(String),
    /// `#id`
    Id(String),
}

/// How a workflow edge is reached: written in `edges`, or implied by a fan node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeOrigin {
    /// Written in the `edges` block.
    Explicit,
    /// Implied by a `parallel` target list or a `fan_in` source list.
    Implicit,
}

/// A view of one edge, explicit or implied, used by graph analyses.
#[derive(Clone, Copy, Debug)]
pub struct EdgeRef<'a> {
    /// Source id.
    pub from: &'a str,
    /// Target id.
    pub to: &'a str,
    /// The explicit edge, when there is one.
    pub edge: Option<&'a Edge>,
    /// Where it comes from.
    pub origin: EdgeOrigin,
}

impl Workflow {
    /// The node with `id`, if declared.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Every edge: explicit edges first, then the implied fan edges (`parallel` to
    /// each target, each source to its `fan_in`) that are not already written as an
    /// unconditional explicit edge.
    pub fn all_edges(&self) -> Vec<EdgeRef<'_>> {
        let mut out: Vec<EdgeRef<'_>> = self
            .edges
            .iter()
            .map(|e| EdgeRef {
                from: &e.from,
                to: &e.to,
                edge: Some(e),
                origin: EdgeOrigin::Explicit,
            })
            .collect();
        let written: std::collections::HashSet<(&str, &str)> = self
            .edges
            .iter()
            .filter(|e| e.is_unconditional())
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        for node in &self.nodes {
            let pairs: Vec<(&str, &str)> = match &node.config {
                NodeConfig::Parallel(p) => p
                    .targets
                    .iter()
                    .map(|t| (node.id.as_str(), t.as_str()))
                    .collect(),
                NodeConfig::FanIn(f) => f
                    .sources
                    .iter()
                    .map(|s| (s.as_str(), node.id.as_str()))
                    .collect(),
                _ => continue,
            };
            for (from, to) in pairs {
                if !written.contains(&(from, to)) {
                    out.push(EdgeRef {
                        from,
                        to,
                        edge: None,
                        origin: EdgeOrigin::Implicit,
                    });
                }
            }
        }
        out
    }

    /// The outcome channel an `on` edge from `node` tests: `ctx.outcome` for agents,
    /// `ctx.tool_marker` for tools with `marker_grep`, none otherwise.
    pub fn outcome_channel(node: &Node) -> Option<&'static str> {
        match &node.config {
            NodeConfig::Agent(_) => Some("ctx.outcome"),
            NodeConfig::Tool(t) if !t.marker_grep.is_empty() => Some("ctx.tool_marker"),
            _ => None,
        }
    }

    /// A copy with every span erased, for comparing two parses of differently
    /// formatted text.
    pub fn without_spans(&self) -> Workflow {
        let mut w = self.clone();
        w.span = Span::default();
        w.start_span = None;
        w.exit_span = None;
        w.else_span = None;
        w.leading_comments.clear();
        w.comments.clear();
        w.defaults.span = None;
        w.defaults.on_failure_span = None;
        for rule in &mut w.stylesheet {
            rule.span = None;
        }
        for input in &mut w.inputs {
            input.span = Span::default();
        }
        for node in &mut w.nodes {
            node.span = Span::default();
        }
        for edge in &mut w.edges {
            edge.span = Span::default();
            edge.from_span = Span::default();
            edge.to_span = Span::default();
        }
        w
    }
}

/// Whether `token` may follow `on` (`[A-Za-z0-9][A-Za-z0-9_-]*`).
pub fn is_outcome_token(token: &str) -> bool {
    let mut chars = token.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
