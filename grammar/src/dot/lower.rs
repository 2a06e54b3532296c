//! Lowering: the parsed DOT graph becomes the [`Workflow`] IR.
//!
//! Node kinds come from shapes (or `type`), attributes map to IR fields, and this
//! pass also reads branches and graph attributes, infers fan lists and marks loop edges.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::attrs::{is_passthrough, misspelt_node_key, LAYOUT_KEYS};
use super::migrate::migrate_condition;
use super::parser::{Graph, RawEdge, RawNode, Val};
use super::values::{csv, kv_list, percent_decode, stylesheet, Values};
use crate::diagnostic::Diagnostic;
use crate::ir::{
    AgentConfig, Branch, Condition, Edge, FanInConfig, HumanConfig, ManagerLoopConfig, Node,
    NodeConfig, NodeIo, NodeKind, ParallelConfig, Retry, SubgraphConfig, ToolConfig, Workflow,
};

/// Whether a node is the start, the exit or neither.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Plain,
    Start,
    Exit,
}

/// The node's kind, its start/exit role, and whether it is a diamond migrated to an
/// agent (which implies `auto_status`).
fn classify(n: &RawNode) -> (NodeKind, Role, bool) {
    let shape = n.text("shape").unwrap_or("").trim().to_ascii_lowercase();
    let role = match shape.as_str() {
        "mdiamond" => Role::Start,
        "msquare" => Role::Exit,
        _ => Role::Plain,
    };
    if let Some(ty) = n.text("type") {
        let kind = match ty.trim() {
            "codergen" | "agent" => Some((NodeKind::Agent, role)),
            "wait.human" | "human" => Some((NodeKind::Human, role)),
            "tool" => Some((NodeKind::Tool, role)),
            "parallel" => Some((NodeKind::Parallel, role)),
            "parallel.fan_in" | "fan_in" => Some((NodeKind::FanIn, role)),
            "subgraph" => Some((NodeKind::Subgraph, role)),
            "conditional" => Some((NodeKind::Conditional, role)),
            "stack.manager_loop" | "manager_loop" => Some((NodeKind::ManagerLoop, role)),
            "start" => Some((NodeKind::Agent, Role::Start)),
            "exit" => Some((NodeKind::Agent, Role::Exit)),
            _ => None,
        };
        if let Some((kind, role)) = kind {
            return (kind, role, false);
        }
    }
    let has = |k: &str| n.text(k).is_some_and(|v| !v.trim().is_empty());
    let kind = match shape.as_str() {
        "hexagon" => NodeKind::Human,
        "parallelogram" => NodeKind::Tool,
        "diamond" if has("tool_command") => NodeKind::Tool,
        "diamond" if has("prompt") => return (NodeKind::Agent, role, true),
        "diamond" => NodeKind::Conditional,
        "component" => NodeKind::Parallel,
        "tripleoctagon" => NodeKind::FanIn,
        "tab" => NodeKind::Subgraph,
        "house" => NodeKind::ManagerLoop,
        _ => NodeKind::Agent,
    };
    (kind, role, false)
}

/// Every attribute of `n` (own ones over defaults), in a deterministic order.
fn all_attrs(n: &RawNode) -> Vec<(&str, &Val)> {
    let mut out: BTreeMap<&str, &Val> = n.defaults.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (k, v) in &n.attrs {
        out.insert(k.as_str(), v);
    }
    out.into_iter().collect()
}

/// Lowers one node of the given kind.
fn lower_node(n: &RawNode, kind: NodeKind, migrated: bool, values: &mut Values<'_>) -> Node {
    let text = |k: &str| n.text(k).unwrap_or("").to_string();
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| n.get(k))
            .map(|v| v.text.clone())
            .unwrap_or_default()
    };
    // An attribute the lowering does not read becomes a parameter, as in the
    // reference; one that looks like a misspelt attribute is said so.
    let mut own: Vec<(&String, &Val)> = n.attrs.iter().collect();
    own.sort_by_key(|(_, v)| v.span.start);
    for (key, v) in own {
        if !is_passthrough(key, kind) {
            continue;
        }
        if let Some(known) = misspelt_node_key(key) {
            values.warn(
                v.span,
                format!(
                    "unknown attribute `{key}` (did you mean `{known}`?); kept as a free-form parameter"
                ),
            );
        }
    }
    let mut classes = n.text("class").map(csv).unwrap_or_default();
    for c in &n.clusters {
        if !classes.contains(c) {
            classes.push(c.clone());
        }
    }
    let mut retry = Retry {
        policy: text("retry_policy"),
        retry_target: text("retry_target"),
        fallback_target: first(&["fallback_retry_target", "fallback_target"]),
        ..Retry::default()
    };
    if let Some(v) = n.get("max_retries") {
        retry.max_retries = values.int("max_retries", v);
    }
    if let Some(v) = n.get("base_delay") {
        retry.base_delay = values.duration("base_delay", v);
    }
    let io = NodeIo {
        reads: n.text("reads").map(csv).unwrap_or_default(),
        writes: n.text("writes").map(csv).unwrap_or_default(),
    };
    let passthrough = || -> BTreeMap<String, String> {
        all_attrs(n)
            .into_iter()
            .filter(|(k, _)| is_passthrough(k, kind))
            .map(|(k, v)| (k.to_string(), v.text.clone()))
            .collect()
    };
    let config = match kind {
        NodeKind::Agent => {
            let mut a = AgentConfig {
                prompt: text("prompt"),
                prompt_file: text("prompt_file"),
                system_prompt: text("system_prompt"),
                system_prompt_file: text("system_prompt_file"),
                prompt_include: text("prompt_include"),
                prompt_prefix: text("prompt_prefix"),
                prompt_suffix: text("prompt_suffix"),
                model: first(&["llm_model", "model"]),
                provider: first(&["llm_provider", "provider"]),
                reasoning_effort: text("reasoning_effort"),
                fidelity: text("fidelity"),
                compaction: first(&["context_compaction", "compaction"]),
                response_format: text("response_format"),
                response_schema: text("response_schema"),
                backend: text("backend"),
                working_dir: text("working_dir"),
                tool_access: text("tool_access"),
                writable_paths: n.text("writable_paths").map(csv).unwrap_or_default(),
                auto_status: migrated,
                params: passthrough(),
                ..AgentConfig::default()
            };
            for (key, v) in all_attrs(n) {
                match key {
                    "goal_gate" => a.goal_gate = values.boolean(key, v),
                    "auto_status" => a.auto_status = values.boolean(key, v),
                    "max_turns" => a.max_turns = values.int(key, v),
                    "last_response_truncate" => a.last_response_truncate = values.int(key, v),
                    "command_timeout" | "cmd_timeout" => {
                        a.cmd_timeout = values.duration(key, v);
                    }
                    "cache_tool_results" | "cache_tools" => {
                        a.cache_tools = values.boolean(key, v);
                    }
                    "context_compaction_threshold" | "compaction_threshold" => {
                        a.compaction_threshold = values.float(key, v);
                    }
                    _ => {}
                }
            }
            NodeConfig::Agent(a)
        }
        NodeKind::Human => {
            let mut h = HumanConfig {
                mode: text("mode"),
                default: first(&["default_choice", "default"]),
                prompt: text("prompt"),
                questions_key: text("questions_key"),
                answers_key: text("answers_key"),
                timeout_action: text("timeout_action"),
                ..HumanConfig::default()
            };
            if let Some(v) = n.get("timeout") {
                h.timeout = values.duration("timeout", v);
            }
            NodeConfig::Human(h)
        }
        NodeKind::Tool => {
            let mut t = ToolConfig {
                command: first(&["tool_command", "command"]),
                command_file: text("command_file"),
                outputs: n.text("outputs").map(csv).unwrap_or_default(),
                marker_grep: text("marker_grep"),
                ..ToolConfig::default()
            };
            if let Some(v) = n.get("timeout") {
                t.timeout = values.duration("timeout", v);
            }
            if let Some(v) = n.get("route_required") {
                t.route_required = values.boolean("route_required", v);
            }
            if let Some(v) = n.get("output_limit") {
                t.output_limit = values.int("output_limit", v);
            }
            NodeConfig::Tool(t)
        }
        NodeKind::Parallel => {
            let mut p = ParallelConfig {
                targets: n
                    .get("parallel_targets")
                    .or_else(|| n.get("targets"))
                    .map(|v| csv(&v.text))
                    .unwrap_or_default(),
                branches: branches(n, values),
                params: passthrough(),
            };
            if p.targets.is_empty() {
                p.targets = p.branches.iter().map(|b| b.target.clone()).collect();
            }
            NodeConfig::Parallel(p)
        }
        NodeKind::FanIn => NodeConfig::FanIn(FanInConfig {
            sources: n
                .get("fan_in_sources")
                .or_else(|| n.get("sources"))
                .map(|v| csv(&v.text))
                .unwrap_or_default(),
            params: passthrough(),
        }),
        NodeKind::Subgraph => NodeConfig::Subgraph(SubgraphConfig {
            reference: first(&["subgraph_ref", "ref"]),
            params: n
                .get("subgraph_params")
                .or_else(|| n.get("params"))
                .map(|v| kv_list(&v.text))
                .unwrap_or_default(),
        }),
        NodeKind::ManagerLoop => {
            let mut m = ManagerLoopConfig {
                subgraph_ref: text("subgraph_ref"),
                steer_context: n.text("steer_context").map(kv_list).unwrap_or_default(),
                ..ManagerLoopConfig::default()
            };
            if let Some(v) = n.get("poll_interval") {
                m.poll_interval = values.duration("poll_interval", v);
            }
            if let Some(v) = n.get("max_cycles") {
                m.max_cycles = values.int("max_cycles", v);
            }
            let cond = |k: &str| {
                n.text(k)
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| Condition::new(migrate_condition(t)))
            };
            m.stop_condition = cond("stop_condition");
            m.steer_condition = cond("steer_condition");
            NodeConfig::ManagerLoop(m)
        }
        NodeKind::Conditional => NodeConfig::Conditional,
    };
    Node {
        id: n.id.clone(),
        label: text("label"),
        classes,
        config,
        retry,
        io,
        span: n.span,
    }
}

/// Per-branch overrides, from `branches` (`target=a;model=m,target=b`) or from
/// `branch.<i>.<key>` attributes (ordered by index).
fn branches(n: &RawNode, values: &mut Values<'_>) -> Vec<Branch> {
    fn set(b: &mut Branch, key: &str, value: String, v: &Val, values: &mut Values<'_>) {
        match key {
            "target" => b.target = value,
            "model" | "llm_model" => b.model = value,
            "provider" | "llm_provider" => b.provider = value,
            "fidelity" => b.fidelity = value,
            "tool_access" => b.tool_access = value,
            "writable_paths" => b.writable_paths = csv(&value),
            "last_response_truncate" => {
                let tmp = Val {
                    text: value,
                    span: v.span,
                };
                b.last_response_truncate = values.int("last_response_truncate", &tmp);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(v) = n.get("branches") {
        for entry in v.text.split(',') {
            let mut b = Branch::default();
            for field in entry.split(';') {
                if let Some((k, val)) = field.split_once('=') {
                    set(&mut b, k.trim(), percent_decode(val.trim()), v, values);
                }
            }
            if !b.target.is_empty() {
                out.push(b);
            }
        }
        return out;
    }
    let mut indexed: BTreeMap<u64, Branch> = BTreeMap::new();
    for (key, v) in all_attrs(n) {
        let Some(rest) = key.strip_prefix("branch.") else {
            continue;
        };
        let Some((i, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = i.parse::<u64>() else {
            continue;
        };
        set(
            indexed.entry(i).or_default(),
            field,
            v.text.clone(),
            v,
            values,
        );
    }
    out.extend(indexed.into_values().filter(|b| !b.target.is_empty()));
    out
}

/// Lowers one edge, migrating its condition.
fn lower_edge(g: &Graph, e: &RawEdge, values: &mut Values<'_>) -> Edge {
    let text = |k: &str| e.get(k).map(|v| v.text.clone()).unwrap_or_default();
    let mut edge = Edge {
        from: g.nodes[e.from].id.clone(),
        to: g.nodes[e.to].id.clone(),
        label: text("label"),
        choice: text("choice"),
        condition: e
            .get("condition")
            .filter(|v| !v.text.trim().is_empty())
            .map(|v| Condition::new(migrate_condition(&v.text))),
        weight: 0,
        restart: false,
        override_: false,
        span: e.span,
        from_span: e.from_span,
        to_span: e.to_span,
    };
    if let Some(v) = e.get("weight") {
        edge.weight = values.int("weight", v);
    }
    for key in ["loop_restart", "restart"] {
        if let Some(v) = e.get(key) {
            edge.restart |= values.boolean(key, v);
        }
    }
    if let Some(v) = e.get("override") {
        edge.override_ = values.boolean("override", v);
    }
    edge
}

/// Applies the root graph attributes: goal, version, defaults, stylesheet and vars.
fn lower_graph_attrs(wf: &mut Workflow, attrs: &[(String, Val)], values: &mut Values<'_>) {
    for (key, v) in attrs {
        let text = v.text.clone();
        let d = &mut wf.defaults;
        match key.as_str() {
            "goal" => wf.goal = text,
            "version" => match v.text.trim() {
                "1" => wf.version = 1,
                "2" => wf.version = 2,
                other => values.warn(
                    v.span,
                    format!("unknown pipeline version {other:?}; using 1"),
                ),
            },
            "requires" => wf.requires = csv(&text),
            "llm_model" | "model" => d.model = text,
            "llm_provider" | "provider" => d.provider = text,
            "default_fidelity" => d.fidelity = text,
            "default_retry_policy" => d.retry_policy = text,
            "default_max_retry" | "default_max_retries" => {
                d.max_retries = values.int(key, v);
            }
            "max_restarts" => d.max_restarts = values.int(key, v),
            "restart_target" => d.restart_target = text,
            "fallback_target" => {
                d.on_failure = text;
                d.on_failure_span = Some(v.span);
            }
            "cache_tool_results" | "cache_tools" => d.cache_tools = values.boolean(key, v),
            "context_compaction" | "compaction" => d.compaction = text,
            "on_resume" => d.on_resume = text,
            "max_total_tokens" => d.max_total_tokens = values.int(key, v),
            "max_cost_cents" => d.max_cost_cents = values.int(key, v),
            "max_wall_time" => d.max_wall_time = values.duration(key, v),
            "stall_timeout" => d.stall_timeout = values.duration(key, v),
            "tool_commands_allow" => d.tool_commands_allow = text,
            "tool_denylist_add" => d.tool_denylist_add = text,
            "prompt_prefix" => d.prompt_prefix = text,
            "prompt_suffix" => d.prompt_suffix = text,
            "prompt_prefix_file" => d.prompt_prefix_file = text,
            "prompt_suffix_file" => d.prompt_suffix_file = text,
            "system_prompt_file" => d.system_prompt_file = text,
            "model_stylesheet" => wf.stylesheet = stylesheet(v, values),
            k if LAYOUT_KEYS.contains(&k) => {}
            k => {
                let name = k.strip_prefix("params.").unwrap_or(k);
                wf.vars.insert(name.to_string(), text);
            }
        }
    }
}

/// Lowers the parsed graph: nodes, edges, fan inference, graph attributes.
pub(super) fn lower(g: Graph, diags: &mut Vec<Diagnostic>) -> Workflow {
    let mut values = Values { diags };
    let mut wf = Workflow {
        name: g.name.clone(),
        version: 1,
        span: g.header,
        ..Workflow::default()
    };
    lower_graph_attrs(&mut wf, &g.graph_attrs, &mut values);

    let mut starts = Vec::new();
    let mut exits = Vec::new();
    for (i, raw) in g.nodes.iter().enumerate() {
        let (kind, role, migrated) = classify(raw);
        match role {
            Role::Start => starts.push(i),
            Role::Exit => exits.push(i),
            Role::Plain => {}
        }
        wf.nodes.push(lower_node(raw, kind, migrated, &mut values));
    }
    for (role, found, fallback) in [
        ("start", &starts, &["start", "Start"][..]),
        ("exit", &exits, &["exit", "Exit", "end", "End"][..]),
    ] {
        let chosen = match found.as_slice() {
            [] => fallback.iter().find_map(|id| g.index.get(*id).copied()),
            [one, rest @ ..] => {
                for &dup in rest {
                    values.diags.push(
                        Diagnostic::parse(
                            g.nodes[dup].span,
                            format!(
                                "more than one {role} node: {:?} and {:?}",
                                g.nodes[*one].id, g.nodes[dup].id
                            ),
                        )
                        .with_help(format!(
                            "a pipeline has exactly one {} node",
                            if role == "start" {
                                "Mdiamond"
                            } else {
                                "Msquare"
                            }
                        )),
                    );
                }
                Some(*one)
            }
        };
        if let Some(i) = chosen {
            let id = g.nodes[i].id.clone();
            let span = Some(g.nodes[i].span);
            if role == "start" {
                wf.start = id;
                wf.start_span = span;
            } else {
                wf.exit = id;
                wf.exit_span = span;
            }
        }
    }

    let edges: Vec<Edge> = g
        .edges
        .iter()
        .map(|e| lower_edge(&g, e, &mut values))
        .collect();
    let mut keep = vec![true; edges.len()];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    for (i, e) in g.edges.iter().enumerate() {
        outgoing[e.from].push(i);
        incoming[e.to].push(i);
    }
    let fan_edge = |e: &Edge| e.condition.is_none() && !e.restart;
    for (i, node) in wf.nodes.iter_mut().enumerate() {
        let (list, adjacent, outward) = match &mut node.config {
            NodeConfig::Parallel(p) => (&mut p.targets, &outgoing[i], true),
            NodeConfig::FanIn(f) => (&mut f.sources, &incoming[i], false),
            _ => continue,
        };
        let other = |e: &Edge| {
            if outward {
                e.to.clone()
            } else {
                e.from.clone()
            }
        };
        if list.is_empty() {
            let mut seen = HashSet::new();
            for &ei in adjacent {
                let e = &edges[ei];
                if keep[ei] && fan_edge(e) {
                    keep[ei] = false;
                    let name = other(e);
                    if seen.insert(name.clone()) {
                        list.push(name);
                    }
                }
            }
        } else {
            let named: HashSet<&String> = list.iter().collect();
            for &ei in adjacent {
                if keep[ei] && fan_edge(&edges[ei]) && named.contains(&other(&edges[ei])) {
                    keep[ei] = false;
                }
            }
        }
    }
    wf.edges = edges
        .into_iter()
        .zip(keep)
        .filter_map(|(e, k)| k.then_some(e))
        .collect();
    mark_loops(&mut wf);
    wf
}

/// Marks the guarded back edges of DOT cycles as loop (`restart`) edges.
///
/// DOT pipelines close retry loops with ordinary edges, while the IR requires every
/// cycle to contain a loop edge (DIP005). A depth-first search from the start node
/// (then from every node in declaration order), following explicit non-loop edges in
/// source order, finds the edges that close a cycle. Such a back edge becomes a loop
/// edge when the cycle it closes has a condition somewhere (the loop can be left), as
/// in the hand-converted `.dip` twins of the corpus. A cycle made only of
/// unconditional edges is left alone, so DIP005 still reports it.
fn mark_loops(wf: &mut Workflow) {
    const NEW: usize = usize::MAX;
    const DONE: usize = usize::MAX - 1;
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(wf.nodes.len());
    for (i, n) in wf.nodes.iter().enumerate() {
        index.entry(n.id.as_str()).or_insert(i);
    }
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); wf.nodes.len()];
    for (ei, e) in wf.edges.iter().enumerate() {
        if e.restart {
            continue;
        }
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            adj[a].push((b, ei));
        }
    }
    let conditional = |ei: usize| wf.edges[ei].condition.is_some();
    let mut back = Vec::new();
    // For an active node: its depth on the DFS stack; otherwise NEW or DONE.
    let mut state = vec![NEW; wf.nodes.len()];
    let roots = index
        .get(wf.start.as_str())
        .copied()
        .into_iter()
        .chain(0..wf.nodes.len());
    for root in roots {
        if state[root] != NEW {
            continue;
        }
        state[root] = 0;
        // (node, next child, conditional tree edges from the root to this node)
        let mut stack: Vec<(usize, usize, usize)> = vec![(root, 0, 0)];
        while let Some(top) = stack.last_mut() {
            let (n, next, guards) = *top;
            match adj[n].get(next) {
                Some(&(m, ei)) => {
                    top.1 += 1;
                    let guards_to_m = guards + usize::from(conditional(ei));
                    match state[m] {
                        NEW => {
                            state[m] = stack.len();
                            stack.push((m, 0, guards_to_m));
                        }
                        DONE => {}
                        depth => {
                            // The cycle is m → … → n → m; its guards are the
                            // conditional tree edges below m plus this edge.
                            if guards_to_m > stack[depth].2 {
                                back.push(ei);
                            }
                        }
                    }
                }
                None => {
                    state[n] = DONE;
                    stack.pop();
                }
            }
        }
    }
    for ei in back {
        wf.edges[ei].restart = true;
    }
}
