//! `tracker simulate <pipeline>`: the execution plan without running anything —
//! nodes, edges, and the order a breadth-first walk from the start reaches them,
//! with dead ends and unreachable nodes marked. Diagnostics are listed but do not
//! stop the plan from printing. Text from the workflow is shown printable
//! (no terminal escape sequences).

use std::collections::VecDeque;
use std::fmt::Write as _;

use anyhow::Result;
use dippin::diagnostic::printable_line as shown;
use tracker_runtime::plan::SpawnPlan;
use tracker_runtime::routing;

use crate::args::SimulateArgs;
use crate::exit;

/// Prints the simulation.
pub fn run(args: &SimulateArgs) -> Result<u8> {
    let (source, doc, diags) = super::analyse(&args.pipeline, false)?;
    let mut out = String::new();
    let _ = writeln!(out, "═══ Pipeline Simulation ═══");
    let plan = match SpawnPlan::compile(&doc.workflow) {
        Ok(plan) => Some(plan),
        Err(e) => {
            let _ = writeln!(out, "! cannot build a plan: {}", shown(&e.to_string()));
            None
        }
    };
    if let Some(plan) = &plan {
        render(&mut out, plan);
    }
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    let warnings: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == dippin::Severity::Warning)
        .collect();
    if !errors.is_empty() || !warnings.is_empty() {
        let _ = writeln!(out, "\nDiagnostics");
        for d in &errors {
            let _ = writeln!(out, "  ! [{}] {}", d.code, shown(&d.message));
        }
        for d in &warnings {
            let _ = writeln!(out, "  ~ [{}] {}", d.code, shown(&d.message));
        }
    }
    print!("{out}");
    let _ = source;
    Ok(if errors.is_empty() && plan.is_some() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

fn render(out: &mut String, plan: &SpawnPlan) {
    let _ = writeln!(out, "Name:   {}", shown(&plan.name));
    let _ = writeln!(
        out,
        "Nodes:  {}   Edges: {}",
        plan.nodes.len(),
        plan.edges.len()
    );
    let _ = writeln!(
        out,
        "Start:  {}   Exit: {}",
        shown(&plan.node(plan.start).id),
        shown(&plan.node(plan.exit).id)
    );
    if !plan.graph_attrs.is_empty() {
        let _ = writeln!(out, "Graph attributes:");
        for (k, v) in &plan.graph_attrs {
            let _ = writeln!(out, "  {}={}", shown(k), shown(v));
        }
    }
    let _ = writeln!(out, "\nNodes");
    let _ = writeln!(
        out,
        "  {:<24} {:<20} {:<14} LABEL",
        "ID", "HANDLER", "SHAPE"
    );
    for node in &plan.nodes {
        let _ = writeln!(
            out,
            "  {:<24} {:<20} {:<14} {}",
            shown(&node.id),
            node.handler.wire_name(),
            node.handler.shape(),
            shown(&node.label)
        );
        for key in [
            "llm_model",
            "llm_provider",
            "retry_policy",
            "max_retries",
            "fidelity",
            "tool_command",
            "prompt",
        ] {
            if let Some(value) = node.attrs.get(key) {
                let first = value.lines().next().unwrap_or("");
                let more = if value.lines().count() > 1 {
                    " …"
                } else {
                    ""
                };
                let _ = writeln!(out, "      > {key}={}{more}", shown(first));
            }
        }
    }
    let _ = writeln!(out, "\nEdges");
    for edge in &plan.edges {
        let mut line = format!(
            "  {} -> {}",
            shown(&plan.node(edge.from).id),
            shown(&edge.to_id)
        );
        if !edge.label.is_empty() {
            line.push_str(&format!(" [{}]", shown(&edge.label)));
        }
        if let Some(c) = routing::guard(edge) {
            line.push_str(&format!(" (when: {})", shown(&c.raw)));
        }
        if edge.implicit {
            line.push_str(" (implied)");
        }
        if edge.otherwise {
            line.push_str(" (else)");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\nExecution Plan");
    let mut seen = vec![false; plan.nodes.len()];
    let mut queue = VecDeque::from([plan.start]);
    seen[plan.start] = true;
    let mut step = 1;
    while let Some(n) = queue.pop_front() {
        let node = plan.node(n);
        let _ = writeln!(
            out,
            "  {step}. {} ({})",
            shown(&node.id),
            node.handler.wire_name()
        );
        step += 1;
        let otherwise = plan.else_edge(n).map(|e| &plan.edges[e]);
        let targets: Vec<_> = plan.outgoing(n).chain(otherwise).collect();
        if targets.is_empty() && n != plan.exit {
            let _ = writeln!(out, "       ! dead end");
        }
        for edge in targets {
            let mark = if edge.otherwise { " (else)" } else { "" };
            let _ = writeln!(out, "       └─> {}{mark}", shown(&edge.to_id));
            if !seen[edge.to] {
                seen[edge.to] = true;
                queue.push_back(edge.to);
            }
        }
    }
    for (i, node) in plan.nodes.iter().enumerate() {
        if !seen[i] {
            let _ = writeln!(out, "  ~ unreachable: {}", shown(&node.id));
        }
    }
}
