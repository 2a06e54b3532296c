//! Run budgets in `defaults`.
//!
//! * `DIP145` — a negative `max_total_tokens`, `max_cost_cents`, `max_wall_time` or
//!   `stall_timeout`.

use super::common::defaults_span;
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;

/// Negative budget default.
pub(crate) const NEGATIVE_BUDGET: Code = Code(145);

/// DIP145: negative budget defaults.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    let d = &wf.defaults;
    let span = defaults_span(wf);
    let budgets = [
        (
            "max_total_tokens",
            d.max_total_tokens < 0,
            d.max_total_tokens.to_string(),
        ),
        (
            "max_cost_cents",
            d.max_cost_cents < 0,
            d.max_cost_cents.to_string(),
        ),
        (
            "max_wall_time",
            d.max_wall_time.is_negative(),
            d.max_wall_time.to_string(),
        ),
        (
            "stall_timeout",
            d.stall_timeout.is_negative(),
            d.stall_timeout.to_string(),
        ),
    ];
    for (name, negative, value) in budgets {
        if negative {
            out.push(
                Diagnostic::warning(
                    NEGATIVE_BUDGET,
                    format!(
                        "workflow budget default {name} is {value}; budgets cannot be negative"
                    ),
                )
                .with_span(span)
                .with_help("use a positive cap, or omit it (0 means no limit)")
                .with_fix(format!("remove {name} or make it positive")),
            );
        }
    }
}
