//! The budget guard: token, cost, wall-time and stall ceilings, checked between
//! nodes (engine-semantics §8).

use std::collections::BTreeMap;
use std::time::Duration;

use dippin::duration::GoDuration;

use crate::usage::UsageSummary;
use crate::wire_enum::wire_enum;

/// Run ceilings; zero means "no limit".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Total tokens across every session.
    pub max_total_tokens: u64,
    /// Total cost in US cents.
    pub max_cost_cents: u64,
    /// Wall-clock time since the run started.
    pub max_wall_time: Duration,
    /// Time since the run last made progress (advanced to a new node).
    pub stall_timeout: Duration,
}

impl BudgetLimits {
    /// Whether any limit is set.
    pub fn is_set(&self) -> bool {
        *self != BudgetLimits::default()
    }

    /// Each limit from `self` when set, else from the workflow's graph attributes
    /// (`max_total_tokens`, `max_cost_cents`, `max_wall_time`, `stall_timeout`).
    pub fn or_graph(self, graph: &BTreeMap<String, String>) -> BudgetLimits {
        let count = |key: &str| {
            graph
                .get(key)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        let duration = |key: &str| {
            graph
                .get(key)
                .and_then(|v| GoDuration::parse(v).ok())
                .and_then(GoDuration::to_std)
                .unwrap_or(Duration::ZERO)
        };
        let pick_u = |mine: u64, key: &str| if mine > 0 { mine } else { count(key) };
        let pick_d = |mine: Duration, key: &str| {
            if mine.is_zero() {
                duration(key)
            } else {
                mine
            }
        };
        BudgetLimits {
            max_total_tokens: pick_u(self.max_total_tokens, "max_total_tokens"),
            max_cost_cents: pick_u(self.max_cost_cents, "max_cost_cents"),
            max_wall_time: pick_d(self.max_wall_time, "max_wall_time"),
            stall_timeout: pick_d(self.stall_timeout, "stall_timeout"),
        }
    }

    /// The first limit breached, in the reference's order: tokens, cost, wall
    /// time, stall. Limits are inclusive (a run may use exactly its budget).
    pub fn check(
        &self,
        usage: Option<&UsageSummary>,
        elapsed: Duration,
        since_progress: Duration,
    ) -> Option<Breach> {
        let tokens = usage.map_or(0, |u| u.total_tokens);
        let usd = usage.map_or(0.0, |u| u.total_cost_usd);
        if self.max_total_tokens > 0 && tokens > self.max_total_tokens {
            return Some(Breach::Tokens);
        }
        if self.max_cost_cents > 0 && (usd * 100.0).round() > self.max_cost_cents as f64 {
            return Some(Breach::Cost);
        }
        if !self.max_wall_time.is_zero() && elapsed > self.max_wall_time {
            return Some(Breach::WallTime);
        }
        if !self.stall_timeout.is_zero() && since_progress > self.stall_timeout {
            return Some(Breach::Stall);
        }
        None
    }
}

wire_enum! {
    names: kind, from_kind;
    /// Which limit a run broke.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Breach {
        /// `max_total_tokens`.
        Tokens => "tokens",
        /// `max_cost_cents`.
        Cost => "cost",
        /// `max_wall_time`.
        WallTime => "wall_time",
        /// `stall_timeout`.
        Stall => "stall",
    }
}

impl Breach {
    /// The `budget_exceeded` message.
    pub fn message(self) -> &'static str {
        match self {
            Breach::Tokens => "max_total_tokens exceeded",
            Breach::Cost => "max_cost_cents exceeded",
            Breach::WallTime => "max_wall_time exceeded",
            Breach::Stall => "stall_timeout exceeded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive_and_checked_in_order() {
        let limits = BudgetLimits {
            max_total_tokens: 150,
            max_cost_cents: 5,
            ..BudgetLimits::default()
        };
        let mut usage = UsageSummary {
            total_tokens: 150,
            total_cost_usd: 0.05,
            ..UsageSummary::default()
        };
        assert_eq!(
            limits.check(Some(&usage), Duration::ZERO, Duration::ZERO),
            None
        );
        usage.total_tokens = 151;
        usage.total_cost_usd = 0.2;
        assert_eq!(
            limits.check(Some(&usage), Duration::ZERO, Duration::ZERO),
            Some(Breach::Tokens)
        );
        assert_eq!(limits.check(None, Duration::ZERO, Duration::ZERO), None);
    }

    #[test]
    fn graph_attributes_fill_unset_limits() {
        let graph: BTreeMap<String, String> = [
            ("max_total_tokens".to_string(), "10".to_string()),
            ("max_wall_time".to_string(), "1m0s".to_string()),
        ]
        .into();
        let limits = BudgetLimits {
            max_total_tokens: 99,
            ..BudgetLimits::default()
        }
        .or_graph(&graph);
        assert_eq!(limits.max_total_tokens, 99);
        assert_eq!(limits.max_wall_time, Duration::from_secs(60));
        assert!(limits.is_set());
    }
}
