//! Node attributes: a node's settings as the reference's flat string map
//! (engine-semantics §1.2).
//!
//! The reference engine hands its handlers a node's attributes as strings under
//! fixed names (`llm_model`, `tool_command`, `fallback_retry_target`, …). Ours
//! read typed specs ([`crate::spec`]) instead; this map remains as a derived view
//! under the same names, for `simulate`'s output and the command line, so the
//! names users see match the reference's.
//!
//! Empty and zero values are left out, as the reference's adapter does, so
//! "present" always means "set".

use std::collections::BTreeMap;

use dippin::ir::{Node, NodeConfig};

/// A node's attributes by reference name.
pub type Attrs = BTreeMap<String, String>;

/// The attributes of `node` under the reference's names.
pub fn node_attrs(node: &Node) -> Attrs {
    let mut attrs = Attrs::new();
    let mut put = |key: &str, value: String| {
        if !value.is_empty() {
            attrs.insert(key.to_string(), value);
        }
    };
    let positive = |n: i64| if n > 0 { n.to_string() } else { String::new() };
    let flag = |b: bool| if b { "true".to_string() } else { String::new() };

    match &node.config {
        NodeConfig::Agent(a) => {
            put("prompt", a.prompt.clone());
            put("system_prompt", a.system_prompt.clone());
            put("llm_model", a.model.clone());
            put("llm_provider", a.provider.clone());
            put("max_turns", positive(a.max_turns));
            if !a.cmd_timeout.is_zero() {
                put("command_timeout", a.cmd_timeout.to_string());
            }
            put("cache_tool_results", flag(a.cache_tools));
            put("context_compaction", a.compaction.clone());
            if a.compaction_threshold > 0.0 {
                put(
                    "context_compaction_threshold",
                    format!("{:.2}", a.compaction_threshold),
                );
            }
            put("last_response_truncate", positive(a.last_response_truncate));
            put("reasoning_effort", a.reasoning_effort.clone());
            put("fidelity", a.fidelity.clone());
            put("auto_status", flag(a.auto_status));
            put("goal_gate", flag(a.goal_gate));
            put("response_format", a.response_format.clone());
            put("response_schema", a.response_schema.clone());
            put("backend", a.backend.clone());
            put("working_dir", a.working_dir.clone());
            put("writable_paths", a.writable_paths.join(","));
            put("tool_access", a.tool_access.clone());
        }
        NodeConfig::Human(h) => {
            put("mode", h.mode.clone());
            put("default_choice", h.default.clone());
            put("questions_key", h.questions_key.clone());
            put("answers_key", h.answers_key.clone());
            put("prompt", h.prompt.clone());
            if !h.timeout.is_zero() {
                put("timeout", h.timeout.to_string());
            }
            put("timeout_action", h.timeout_action.clone());
        }
        NodeConfig::Tool(t) => {
            put("tool_command", t.command.clone());
            if !t.timeout.is_zero() {
                put("timeout", t.timeout.to_string());
            }
            put("marker_grep", t.marker_grep.clone());
            put("route_required", flag(t.route_required));
            put("output_limit", positive(t.output_limit));
            put("outputs", t.outputs.join(","));
        }
        NodeConfig::Parallel(p) => {
            put("parallel_targets", p.targets.join(","));
            for (i, b) in p.branches.iter().enumerate() {
                put(&format!("branch.{i}.target"), b.target.clone());
                put(&format!("branch.{i}.llm_model"), b.model.clone());
                put(&format!("branch.{i}.llm_provider"), b.provider.clone());
                put(&format!("branch.{i}.fidelity"), b.fidelity.clone());
                put(&format!("branch.{i}.tool_access"), b.tool_access.clone());
                put(
                    &format!("branch.{i}.writable_paths"),
                    b.writable_paths.join(","),
                );
                put(
                    &format!("branch.{i}.last_response_truncate"),
                    positive(b.last_response_truncate),
                );
            }
        }
        NodeConfig::FanIn(f) => put("fan_in_sources", f.sources.join(",")),
        NodeConfig::Subgraph(s) => {
            put("subgraph_ref", s.reference.clone());
            let params: Vec<String> = s.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            put("subgraph_params", params.join(","));
        }
        NodeConfig::ManagerLoop(m) => {
            put("subgraph_ref", m.subgraph_ref.clone());
            if !m.poll_interval.is_zero() && !m.poll_interval.is_negative() {
                put("poll_interval", m.poll_interval.to_string());
            }
            put("max_cycles", positive(m.max_cycles));
            if let Some(c) = &m.stop_condition {
                put("stop_condition", c.raw.clone());
            }
            if let Some(c) = &m.steer_condition {
                put("steer_condition", c.raw.clone());
            }
            let steer: Vec<String> = m
                .steer_context
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect();
            put("steer_context", steer.join(","));
        }
        NodeConfig::Conditional => {}
    }

    let retry = &node.retry;
    put("retry_policy", retry.policy.clone());
    put("max_retries", positive(retry.max_retries));
    if !retry.base_delay.is_zero() {
        put("base_delay", retry.base_delay.to_string());
    }
    put("retry_target", retry.retry_target.clone());
    put("fallback_retry_target", retry.fallback_target.clone());
    put("reads", node.io.reads.join(","));
    put("writes", node.io.writes.join(","));

    // Free-form `params:` entries spill in last and never replace a typed key.
    let params = match &node.config {
        NodeConfig::Agent(a) => Some(&a.params),
        NodeConfig::Parallel(p) => Some(&p.params),
        NodeConfig::FanIn(f) => Some(&f.params),
        _ => None,
    };
    for (key, value) in params.into_iter().flatten() {
        if !value.is_empty() {
            attrs.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    attrs
}

/// `%` → `%25`, `,` → `%2C`, `=` → `%3D`: the escaping `steer_context` values get
/// so that the `k=v,k=v` list round-trips.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            ',' => out.push_str("%2C"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

/// The value of attribute `key`, or `""`.
pub fn get<'a>(attrs: &'a Attrs, key: &str) -> &'a str {
    attrs.get(key).map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs_of(src: &str, id: &str) -> Attrs {
        let (wf, diags) = dippin::parse_dip(src);
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        node_attrs(wf.node(id).expect("node"))
    }

    #[test]
    fn agent_fields_use_reference_names_and_params_never_overwrite() {
        let attrs = attrs_of(
            "workflow W\n  start: A\n  exit: A\n  agent A\n    prompt: go\n    model: m1\n    provider: p1\n    goal_gate: true\n    fallback_target: A\n    max_retries: 2\n    params:\n      llm_model: ignored\n      memoize: true\n",
            "A",
        );
        assert_eq!(attrs["prompt"], "go");
        assert_eq!(attrs["llm_model"], "m1");
        assert_eq!(attrs["llm_provider"], "p1");
        assert_eq!(attrs["goal_gate"], "true");
        assert_eq!(attrs["fallback_retry_target"], "A");
        assert_eq!(attrs["max_retries"], "2");
        assert_eq!(attrs["memoize"], "true");
        assert!(!attrs.contains_key("auto_status"));
    }

    #[test]
    fn tool_and_human_fields_are_renamed() {
        let src = "workflow W\n  start: T\n  exit: H\n  tool T\n    timeout: 90s\n    command: echo hi\n  human H\n    mode: choice\n    default: yes\n  edges\n    T -> H\n";
        let tool = attrs_of(src, "T");
        assert_eq!(tool["tool_command"], "echo hi");
        assert_eq!(tool["timeout"], "1m30s");
        let human = attrs_of(src, "H");
        assert_eq!(human["default_choice"], "yes");
        assert_eq!(human["mode"], "choice");
    }

    #[test]
    fn steer_context_is_percent_encoded() {
        assert_eq!(percent_encode("a,b=c%"), "a%2Cb%3Dc%25");
    }
}
