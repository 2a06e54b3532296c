//! Child workflows: subgraph calls and manager loops.
//!
//! * `DIP109` — two subgraph nodes calling the same child;
//! * `DIP135` — a manager loop with no `subgraph_ref` (a missing file is checked in
//!   [`super::environment`]);
//! * `DIP136` — a negative manager-loop `poll_interval` or `max_cycles`;
//! * `DIP137` — a manager loop with neither `stop_condition` nor `max_cycles`.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::{ManagerLoopConfig, Node, NodeConfig, Workflow};

/// Two subgraph nodes with the same `ref`.
pub(crate) const DUPLICATE_SUBGRAPH_REF: Code = Code(109);

/// `manager_loop` without a `subgraph_ref`.
pub(crate) const MANAGER_REF: Code = Code(135);

/// Negative `manager_loop` control field.
pub(crate) const MANAGER_CONTROL: Code = Code(136);

/// `manager_loop` with neither `stop_condition` nor `max_cycles`.
pub(crate) const MANAGER_UNBOUNDED: Code = Code(137);

/// Appends the child-workflow findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    duplicate_subgraph_refs(g.wf, out);
    for node in &g.wf.nodes {
        if let NodeConfig::ManagerLoop(m) = &node.config {
            manager_loop(node, m, out);
        }
    }
}

/// DIP109: two subgraph nodes calling the same child.
fn duplicate_subgraph_refs(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &Node> = HashMap::new();
    for node in &wf.nodes {
        let NodeConfig::Subgraph(s) = &node.config else {
            continue;
        };
        let reference = s.reference.trim();
        if reference.is_empty() {
            continue;
        }
        match first.get(reference) {
            Some(prev) => out.push(
                Diagnostic::warning(
                    DUPLICATE_SUBGRAPH_REF,
                    format!(
                        "nodes {:?} and {:?} both reference subgraph {reference:?}, which may cause namespace collisions",
                        prev.id, node.id
                    ),
                )
                .with_span(node.span)
                .with_help("make sure the names the child introduces do not collide once both calls are expanded"),
            ),
            None => {
                first.insert(reference, node);
            }
        }
    }
}

/// DIP135 (missing `subgraph_ref`), DIP136 and DIP137.
fn manager_loop(node: &Node, m: &ManagerLoopConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    if m.subgraph_ref.trim().is_empty() {
        out.push(
            Diagnostic::warning(
                MANAGER_REF,
                format!("manager_loop {id:?} has no subgraph_ref"),
            )
            .with_span(node.span)
            .with_fix("add subgraph_ref: <path of the child .dip file>"),
        );
    }
    if m.poll_interval.is_negative() {
        out.push(
            Diagnostic::warning(
                MANAGER_CONTROL,
                format!(
                    "manager_loop {id:?} poll_interval is negative ({})",
                    m.poll_interval
                ),
            )
            .with_span(node.span)
            .with_help("0 means event-driven")
            .with_fix("use a non-negative duration, e.g. poll_interval: 30s"),
        );
    }
    if m.max_cycles < 0 {
        out.push(
            Diagnostic::warning(
                MANAGER_CONTROL,
                format!(
                    "manager_loop {id:?} max_cycles is negative ({})",
                    m.max_cycles
                ),
            )
            .with_span(node.span)
            .with_help("0 means unbounded")
            .with_fix("use a positive cycle count, e.g. max_cycles: 10"),
        );
    }
    let has_stop = m
        .stop_condition
        .as_ref()
        .is_some_and(|c| !c.raw.trim().is_empty());
    if !has_stop && m.max_cycles == 0 {
        out.push(
            Diagnostic::warning(
                MANAGER_UNBOUNDED,
                format!("manager_loop {id:?} is unbounded: no stop_condition and no max_cycles"),
            )
            .with_span(node.span)
            .with_help("supervision would run until the child finishes on its own")
            .with_fix("add stop_condition: stack.child.outcome = success, or max_cycles: 10"),
        );
    }
}
