//! How much context a node sees: fidelity, compaction, resume and truncation.
//!
//! * `DIP114` — an unknown fidelity level (defaults, agents, parallel branches);
//! * `DIP116` — a compaction threshold outside `[0, 1]`, an unknown `on_resume`, or
//!   `on_resume` without a fidelity;
//! * `DIP148` — a negative `last_response_truncate` (agents, parallel branches).

use super::common::{closest_fix, defaults_span, maybe_fix};
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::{AgentConfig, Node, NodeConfig, Workflow};

/// Unknown fidelity level.
pub(crate) const FIDELITY: Code = Code(114);

/// Bad compaction threshold or `on_resume`.
pub(crate) const COMPACTION_RESUME: Code = Code(116);

/// Negative `last_response_truncate`.
pub(crate) const NEGATIVE_TRUNCATE: Code = Code(148);

const FIDELITIES: &[&str] = &[
    "full",
    "summary:high",
    "summary:medium",
    "summary:low",
    "compact",
    "truncate",
];

const ON_RESUME: &[&str] = &["preserve", "degrade"];

/// Appends the context findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    defaults(wf, out);
    for node in &wf.nodes {
        match &node.config {
            NodeConfig::Agent(a) => agent(node, a, out),
            NodeConfig::Parallel(p) => {
                for b in &p.branches {
                    fidelity(node, &b.fidelity, Some(b.target.as_str()), out);
                    if b.last_response_truncate < 0 {
                        out.push(
                            Diagnostic::warning(
                                NEGATIVE_TRUNCATE,
                                format!(
                                    "parallel {:?} branch -> {:?} last_response_truncate is {}; cannot be negative",
                                    node.id, b.target, b.last_response_truncate
                                ),
                            )
                            .with_span(node.span)
                            .with_help("0 (or omitting it) means no truncation")
                            .with_fix("use a non-negative character count, e.g. last_response_truncate: 4096"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// DIP114 and DIP116 on the `defaults` section.
fn defaults(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let d = &wf.defaults;
    let span = defaults_span(wf);
    if !d.fidelity.is_empty() && !FIDELITIES.contains(&d.fidelity.as_str()) {
        let diag = Diagnostic::warning(
            FIDELITY,
            format!(
                "workflow default fidelity {:?} is not a recognized level",
                d.fidelity
            ),
        )
        .with_span(span)
        .with_help(format!("valid levels: {}", FIDELITIES.join(", ")));
        out.push(maybe_fix(
            diag,
            closest_fix("fidelity", &d.fidelity, FIDELITIES),
        ));
    }
    if !d.on_resume.is_empty() {
        if !ON_RESUME.contains(&d.on_resume.as_str()) {
            let diag = Diagnostic::warning(
                COMPACTION_RESUME,
                format!(
                    "workflow default on_resume {:?} is not a recognized value",
                    d.on_resume
                ),
            )
            .with_span(span)
            .with_help("valid values: preserve, degrade");
            out.push(maybe_fix(
                diag,
                closest_fix("on_resume", &d.on_resume, ON_RESUME),
            ));
        }
        if d.fidelity.is_empty() {
            out.push(
                Diagnostic::warning(
                    COMPACTION_RESUME,
                    "on_resume is set but fidelity is not configured",
                )
                .with_span(span)
                .with_help(
                    "on_resume decides what happens to the context fidelity on resume; set a defaults fidelity (e.g. fidelity: summary:medium)",
                ),
            );
        }
    }
}

/// DIP114, DIP116 and DIP148 on one agent.
fn agent(node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    fidelity(node, &a.fidelity, None, out);
    let t = a.compaction_threshold;
    if t != 0.0 && !(0.0..=1.0).contains(&t) {
        out.push(
            Diagnostic::warning(
                COMPACTION_RESUME,
                format!(
                    "node {id:?} has compaction_threshold {t:.2} outside valid range [0.0, 1.0]"
                ),
            )
            .with_span(node.span)
            .with_help(
                "the threshold is the fraction of the context window that triggers compaction",
            )
            .with_fix("use a value between 0.0 and 1.0, e.g. compaction_threshold: 0.8"),
        );
    }
    if a.last_response_truncate < 0 {
        out.push(
            Diagnostic::warning(
                NEGATIVE_TRUNCATE,
                format!(
                    "agent {id:?} last_response_truncate is {}; cannot be negative",
                    a.last_response_truncate
                ),
            )
            .with_span(node.span)
            .with_help("0 (or omitting it) means no truncation")
            .with_fix("use a non-negative character count, e.g. last_response_truncate: 4096"),
        );
    }
}

/// DIP114 on an agent's or a branch's fidelity.
fn fidelity(node: &Node, value: &str, branch: Option<&str>, out: &mut Vec<Diagnostic>) {
    if value.is_empty() || FIDELITIES.contains(&value) {
        return;
    }
    let message = match branch {
        Some(b) => format!(
            "node {:?} branch {b:?} has fidelity {value:?} which is not a recognized level",
            node.id
        ),
        None => format!(
            "node {:?} has fidelity {value:?} which is not a recognized level",
            node.id
        ),
    };
    let diag = Diagnostic::warning(FIDELITY, message)
        .with_span(node.span)
        .with_help(format!("valid levels: {}", FIDELITIES.join(", ")));
    out.push(maybe_fix(diag, closest_fix("fidelity", value, FIDELITIES)));
}
