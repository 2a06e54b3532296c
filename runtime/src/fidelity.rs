//! Context fidelity: how much of the run's context an agent's prompt carries
//! (engine-semantics §3.4), and what a resumed run keeps (§3.5).

use crate::attrs::{self, Attrs};
use crate::wire_enum::wire_enum;

wire_enum! {
    names: as_str, parse;
    /// How much context a prompt carries, from everything to nearly nothing.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Fidelity {
        /// The prompt plus the previous node's output and the last human answer.
        Full => "full",
        /// Every context key.
        SummaryHigh => "summary:high",
        /// The routing keys, outputs and goal, plus the node's `reads`.
        SummaryMedium => "summary:medium",
        /// The goal and the summary of completed nodes.
        SummaryLow => "summary:low",
        /// The goal and the last outcome.
        Compact => "compact",
        /// As `SummaryMedium`, each value cut to 500 bytes.
        Truncate => "truncate",
    }
}

/// The keys `summary:medium` and `truncate` carry.
pub const MEDIUM_KEYS: [&str; 7] = [
    "outcome",
    "last_response",
    "human_response",
    "preferred_label",
    "tool_stdout",
    "tool_stderr",
    "graph.goal",
];

/// How many bytes of each value `truncate` keeps.
pub const TRUNCATE_BYTES: usize = 500;

impl Fidelity {
    /// A node's level: its own `fidelity`, else the workflow's
    /// `default_fidelity`, else `full`; names that are not levels are ignored
    /// (lint DIP114 warns about them at load).
    pub fn of(node: Option<Fidelity>, graph: &Attrs) -> Fidelity {
        node.or_else(|| Fidelity::parse(attrs::get(graph, "default_fidelity")))
            .unwrap_or(Fidelity::Full)
    }

    /// One step down, as a resumed run degrades its first node's fidelity.
    pub fn degrade(self) -> Fidelity {
        match self {
            Fidelity::Full => Fidelity::SummaryHigh,
            Fidelity::SummaryHigh => Fidelity::SummaryMedium,
            Fidelity::SummaryMedium => Fidelity::SummaryLow,
            Fidelity::SummaryLow => Fidelity::Compact,
            Fidelity::Compact | Fidelity::Truncate => Fidelity::Truncate,
        }
    }

    /// The context keys this level keeps, sorted and without repeats, or `None`
    /// for every key (`full`, `summary:high`). `reads` are the node's declared
    /// reads, which the medium levels keep too.
    pub fn keys<'a>(self, reads: &[&'a str]) -> Option<Vec<&'a str>> {
        let mut keys: Vec<&str> = match self {
            Fidelity::Full | Fidelity::SummaryHigh => return None,
            Fidelity::SummaryMedium | Fidelity::Truncate => MEDIUM_KEYS
                .iter()
                .copied()
                .chain(reads.iter().copied())
                .collect(),
            Fidelity::SummaryLow => vec!["graph.goal", "completed_summary"],
            Fidelity::Compact => vec!["graph.goal", "outcome"],
        };
        keys.sort_unstable();
        keys.dedup();
        Some(keys)
    }

    /// A kept value as this level carries it.
    pub fn shape(self, value: &str) -> String {
        if self == Fidelity::Truncate {
            crate::text::cut_at_whitespace(value, TRUNCATE_BYTES)
        } else {
            value.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_resolve_degrade_and_select_keys() {
        let graph: Attrs = [("default_fidelity".to_string(), "compact".to_string())].into();
        assert_eq!(Fidelity::of(None, &graph), Fidelity::Compact);
        assert_eq!(
            Fidelity::of(Some(Fidelity::Truncate), &graph),
            Fidelity::Truncate
        );
        assert_eq!(Fidelity::of(None, &Attrs::new()), Fidelity::Full);
        assert_eq!(Fidelity::Full.degrade(), Fidelity::SummaryHigh);
        assert_eq!(Fidelity::Truncate.degrade(), Fidelity::Truncate);
        assert_eq!(Fidelity::SummaryHigh.keys(&[]), None);
        let keys = Fidelity::SummaryMedium
            .keys(&["plan", "outcome"])
            .expect("keys");
        assert!(keys.contains(&"plan") && keys.contains(&"graph.goal"));
        assert_eq!(keys.iter().filter(|k| **k == "outcome").count(), 1);
        let cut = Fidelity::Truncate.shape(&"word ".repeat(200));
        assert!(
            cut.len() <= TRUNCATE_BYTES + 3 && cut.ends_with("word..."),
            "{cut}"
        );
    }
}
