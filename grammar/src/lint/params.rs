//! Settings the runtime reads that the language leaves free-form: the
//! `params:` entries it understands, and an agent's `backend`.
//!
//! * `DIP163` — a value the runtime cannot use: it falls back to a default
//!   (`max_concurrency: lots` runs every branch at once, as in the reference)
//!   or stops the run before it starts (`fan_in_policy: most`, `backend:
//!   codex`; the plan's typed node specs refuse them). Said by `check` too, at
//!   the node.
//!
//! Values holding a `$` are left alone: they are expanded when the node runs.

use super::common::{closest_fix, maybe_fix};
use crate::diagnostic::{Code, Diagnostic};
use crate::duration::GoDuration;
use crate::graph::Graph;
use crate::ir::{Node, NodeConfig};

/// A setting the runtime cannot use.
pub(crate) const UNUSABLE_SETTING: Code = Code(163);

/// The agent backends the runtime knows.
const BACKENDS: [&str; 4] = ["native", "codergen", "claude-code", "acp"];
/// Join policies of a fan-out.
const JOIN_POLICIES: [&str; 3] = ["any", "all", "quorum"];
/// Boolean spellings the runtime reads as such.
const BOOLEANS: [&str; 2] = ["true", "false"];

/// What a known parameter must be.
#[derive(Clone, Copy)]
enum Kind {
    PositiveInteger,
    Integer,
    Duration,
    OneOf(&'static [&'static str]),
}

/// The `params:` keys the runtime reads, by the node kinds that carry them.
fn known(key: &str) -> Option<Kind> {
    Some(match key {
        "max_concurrency" | "quorum" => Kind::PositiveInteger,
        "injection_cap" => Kind::Integer,
        "branch_timeout" => Kind::Duration,
        "fan_in_policy" => Kind::OneOf(&JOIN_POLICIES),
        "memoize" => Kind::OneOf(&BOOLEANS),
        _ => return None,
    })
}

/// DIP163: settings the runtime cannot use.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for node in &g.wf.nodes {
        let params = match &node.config {
            NodeConfig::Agent(a) => {
                let backend = a.backend.as_str();
                if !backend.is_empty() && !backend.contains('$') && !BACKENDS.contains(&backend) {
                    out.push(finding(
                        node,
                        "backend",
                        backend,
                        "one of native, claude-code, acp",
                        closest_fix("backend", backend, &BACKENDS),
                    ));
                }
                &a.params
            }
            NodeConfig::Parallel(p) => &p.params,
            NodeConfig::FanIn(f) => &f.params,
            _ => continue,
        };
        for (key, value) in params {
            let Some(kind) = known(key) else { continue };
            if value.contains('$') || usable(kind, value) {
                continue;
            }
            let (expected, fix) = match kind {
                Kind::PositiveInteger => ("a positive integer".to_string(), None),
                Kind::Integer => ("an integer".to_string(), None),
                Kind::Duration => ("a duration such as 30s or 5m".to_string(), None),
                Kind::OneOf(allowed) => (
                    format!("one of {}", allowed.join(", ")),
                    closest_fix(key, value, allowed),
                ),
            };
            out.push(finding(
                node,
                &format!("params.{key}"),
                value,
                &expected,
                fix,
            ));
        }
    }
}

fn usable(kind: Kind, value: &str) -> bool {
    let value = value.trim();
    match kind {
        Kind::PositiveInteger => value.parse::<u64>().is_ok_and(|n| n > 0),
        Kind::Integer => value.parse::<i64>().is_ok(),
        Kind::Duration => GoDuration::parse(value).is_ok_and(|d| !d.is_negative()),
        Kind::OneOf(allowed) => allowed.contains(&value),
    }
}

fn finding(node: &Node, key: &str, value: &str, expected: &str, fix: Option<String>) -> Diagnostic {
    let diag = Diagnostic::warning(
        UNUSABLE_SETTING,
        format!(
            "node {:?} has {key} {value:?}, which the runtime cannot use: it must be {expected}",
            node.id
        ),
    )
    .with_span(node.span)
    .with_help(
        "the runtime replaces an unusable count or duration by its default, and refuses an unknown policy or backend before the run starts",
    );
    maybe_fix(diag, fix)
}
