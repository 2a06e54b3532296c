//! Tool access: what an agent may do, and where its output goes.
//!
//! * `DIP139` — an unknown `tool_access` (agents, parallel branches);
//! * `DIP140` — `params` re-enabling tools that `tool_access` strips;
//! * `DIP141` — `writable_paths` with `tool_access: none` (dead config);
//! * `DIP142` — a `writable_paths` entry that escapes the workspace or is malformed;
//! * `DIP147` (hint) — a `tool_access: none` agent's output read by a tool-bearing agent
//!   downstream: one BFS over the graph index from each such restricted agent, so it
//!   costs nothing on workflows that do not restrict agents.

use std::collections::HashSet;

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::graph::Graph;
use crate::ir::{AgentConfig, Node, NodeConfig};

/// Unknown `tool_access`.
pub(crate) const TOOL_ACCESS: Code = Code(139);

/// `params` re-enabling tools that `tool_access` strips.
pub(crate) const PARAMS_REENABLE_TOOLS: Code = Code(140);

/// `writable_paths` with `tool_access: none`.
pub(crate) const WRITABLE_PATHS_DEAD: Code = Code(141);

/// Unsafe `writable_paths` entry.
pub(crate) const WRITABLE_PATHS_UNSAFE: Code = Code(142);

/// Restricted agent output read by a tool-bearing agent (hint).
pub(crate) const CHAIN_ATTACK: Code = Code(147);

/// `params` keys that would hand tools back to an agent whose `tool_access` strips them.
const TOOL_REENABLING_PARAMS: &[&str] = &[
    "allowed_tools",
    "disallowed_tools",
    "tool_choice",
    "permission_mode",
];

/// Appends the tool-access findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for node in &g.wf.nodes {
        match &node.config {
            NodeConfig::Agent(a) => agent(node, a, out),
            NodeConfig::Parallel(p) => {
                for b in &p.branches {
                    let target = Some(b.target.as_str());
                    tool_access(node, &b.tool_access, target, out);
                    writable_paths(node, &b.writable_paths, &b.tool_access, target, out);
                }
            }
            _ => {}
        }
    }
    chain_attack(g, out);
}

/// DIP139, DIP140, DIP141 and DIP142 on one agent.
fn agent(node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    tool_access(node, &a.tool_access, None, out);
    if !a.tool_access.trim().is_empty() {
        for key in a.params.keys() {
            if TOOL_REENABLING_PARAMS.contains(&key.as_str()) {
                out.push(
                    Diagnostic::warning(
                        PARAMS_REENABLE_TOOLS,
                        format!(
                            "node {id:?} params key {key:?} re-enables tools that tool_access strips; the runtime ignores it"
                        ),
                    )
                    .with_span(node.span)
                    .with_help("tool_access governs the tool catalog; to grant tools, omit tool_access instead")
                    .with_fix(format!("remove {key} from params")),
                );
            }
        }
    }
    writable_paths(node, &a.writable_paths, &a.tool_access, None, out);
}

/// DIP139 on an agent's or a branch's `tool_access`.
fn tool_access(node: &Node, value: &str, branch: Option<&str>, out: &mut Vec<Diagnostic>) {
    let canonical = value.trim().to_ascii_lowercase();
    if canonical.is_empty() || canonical == "none" {
        return;
    }
    let (message, help) = match branch {
        Some(b) => (
            format!(
                "node {:?} branch {b:?} has tool_access {value:?} which is not recognized",
                node.id
            ),
            "the only value is none (omit the field to inherit the target agent's tool_access); invalid values fall back to no tools at run time",
        ),
        None => (
            format!(
                "node {:?} has tool_access {value:?} which is not recognized",
                node.id
            ),
            "the only value is none (omit the field for the full tool catalog); invalid values fall back to no tools at run time",
        ),
    };
    out.push(
        Diagnostic::warning(TOOL_ACCESS, message)
            .with_span(node.span)
            .with_help(help)
            .with_fix("use tool_access: none, or remove the field"),
    );
}

/// DIP141 and DIP142 on an agent's or a branch's `writable_paths`.
fn writable_paths(
    node: &Node,
    paths: &[String],
    tool_access: &str,
    branch: Option<&str>,
    out: &mut Vec<Diagnostic>,
) {
    if paths.is_empty() {
        return;
    }
    let subject = match branch {
        Some(b) => format!("node {:?} branch {b:?}", node.id),
        None => format!("node {:?}", node.id),
    };
    if tool_access.trim().eq_ignore_ascii_case("none") {
        out.push(
            Diagnostic::warning(
                WRITABLE_PATHS_DEAD,
                format!(
                    "{subject} has writable_paths but tool_access \"none\"; with no tools there is nothing to bound (dead config)"
                ),
            )
            .with_span(node.span)
            .with_fix("remove writable_paths, or drop tool_access: none"),
        );
    }
    for entry in paths {
        let reason = match unsafe_entry(entry) {
            Some(UnsafeEntry::Escapes) => {
                "escapes the workspace (absolute, ~ or parent path); the write jail will not honor it"
            }
            Some(UnsafeEntry::Brace) => {
                "is malformed (brace expansion is split on commas); list the entries instead"
            }
            None => continue,
        };
        out.push(
            Diagnostic::warning(
                WRITABLE_PATHS_UNSAFE,
                format!("{subject} writable_paths entry {entry:?} {reason}"),
            )
            .with_span(node.span)
            .with_help("use workspace-relative globs such as .ai/sprints/**"),
        );
    }
}

/// Why a `writable_paths` entry will not bound writes as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnsafeEntry {
    /// Absolute, home-relative, drive-lettered or climbing out with `..`.
    Escapes,
    /// A `{a,b}` glob cut in pieces by the comma list.
    Brace,
}

fn unsafe_entry(entry: &str) -> Option<UnsafeEntry> {
    let e = entry.trim();
    if e.is_empty() {
        return None;
    }
    let bytes = e.as_bytes();
    let drive = bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic();
    if e.starts_with(['/', '~', '\\']) || drive || escapes_parent(e) {
        return Some(UnsafeEntry::Escapes);
    }
    if e.matches('{').count() != e.matches('}').count() {
        return Some(UnsafeEntry::Brace);
    }
    None
}

/// Whether a relative path, once cleaned, still climbs above its base.
fn escapes_parent(path: &str) -> bool {
    let mut depth: usize = 0;
    for segment in path.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// Whether `a` deliberately strips tools (`tool_access: none`).
fn is_restricted(a: &AgentConfig) -> bool {
    a.tool_access.trim().eq_ignore_ascii_case("none")
}

/// Whether `a` keeps the full tool catalog (no `tool_access`).
fn is_tool_bearing(a: &AgentConfig) -> bool {
    a.tool_access.trim().is_empty()
}

/// DIP147 (hint): a `tool_access: none` agent writes a key that a downstream
/// tool-bearing agent reads. "Downstream" follows non-restart explicit edges and
/// the implicit fan edges. Only restricted agents whose writes some tool-bearing
/// agent reads are walked from, one BFS each.
fn chain_attack(graph: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = graph.wf;
    let privileged_reads: HashSet<&str> = wf
        .nodes
        .iter()
        .filter(|n| n.agent().is_some_and(is_tool_bearing))
        .flat_map(|n| n.io.reads.iter().map(String::as_str))
        .collect();
    if privileged_reads.is_empty() {
        return;
    }
    // Only first declarations: a duplicate declaration has no edges of its own.
    let sources: Vec<(usize, &Node)> = graph
        .first_declarations()
        .filter(|(_, n)| {
            n.agent().is_some_and(is_restricted)
                && n.io
                    .writes
                    .iter()
                    .any(|k| privileged_reads.contains(k.as_str()))
        })
        .collect();
    if sources.is_empty() {
        return;
    }

    // (sink, source, key), reported in node order.
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    for &(source, node) in &sources {
        let writes = &node.io.writes;
        let reached = graph.reach([source], |_, link| {
            !link.is_restart() && graph.node_at(link.to).is_some()
        });
        for (at, sink) in graph.first_declarations() {
            if at == source || !reached[at] || !sink.agent().is_some_and(is_tool_bearing) {
                continue;
            }
            if let Some(key) = writes.iter().find(|k| sink.io.reads.contains(k)) {
                found.push((at, source, key));
            }
        }
    }
    found.sort_unstable();
    for (sink, source, key) in found {
        let sink = graph.node_at(sink).expect("a declared sink");
        let source = graph.node_at(source).expect("a declared source");
        out.push(
            Diagnostic::new(
                CHAIN_ATTACK,
                Severity::Hint,
                format!(
                    "restricted agent {:?} (tool_access: none) writes context key {key:?} that tool-bearing agent {:?} reads; its output reaches a privileged prompt",
                    source.id, sink.id
                ),
            )
            .with_span(sink.span)
            .with_help(
                "tool_access bounds tools, not information flow: audit whether the restricted agent's input is trusted, or put a validating step between them",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_entry_classification() {
        assert_eq!(unsafe_entry("src/**"), None);
        assert_eq!(unsafe_entry("a/../b"), None);
        assert_eq!(unsafe_entry("..foo/x"), None);
        assert_eq!(unsafe_entry("a/../.."), Some(UnsafeEntry::Escapes));
        assert_eq!(unsafe_entry("..\\secrets\\**"), Some(UnsafeEntry::Escapes));
        assert_eq!(unsafe_entry("\\\\share"), Some(UnsafeEntry::Escapes));
        assert_eq!(unsafe_entry("{a,b}"), None);
        assert_eq!(unsafe_entry("x}"), Some(UnsafeEntry::Brace));
    }
}
