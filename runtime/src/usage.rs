//! Per-session statistics and the run's usage summary: what an agent session
//! reports ([`SessionStats`]), how a trace's sessions and child runs add up
//! ([`UsageSummary::fold`]), and the JSON both are written as.
//!
//! The JSON field order and omit-if-empty rules are the reference's
//! (`pipeline/trace.go`); encoding goes through [`crate::gojson`].

use std::collections::BTreeMap;

use crate::gojson::GoValue;

/// The bucket a session without a provider name is counted under.
pub const UNKNOWN_PROVIDER: &str = "unknown";

pub use tracker_agent::stats::{BreachVerify, LaneUsage, SessionStats};

/// A session's stats as a JSON object, fields in the reference's order: `turns, tool_calls?,
/// total_tool_calls, files_modified?, files_created?, compactions,
/// longest_turn` (nanoseconds) `, cache_hits, cache_misses, input_tokens,
/// output_tokens, total_tokens, cost_usd, reasoning_tokens, cache_read_tokens,
/// cache_write_tokens, provider?, estimated?, estimate_source?, breach_verify?`.
pub fn session_stats_value(stats: &SessionStats) -> GoValue {
    let mut fields: Vec<(String, GoValue)> = Vec::with_capacity(20);
    let mut put = |key: &str, value: GoValue| fields.push((key.to_owned(), value));
    put("turns", stats.turns.into());
    if !stats.tool_calls.is_empty() {
        put(
            "tool_calls",
            GoValue::sorted_map(&stats.tool_calls, |n| GoValue::Uint(*n)),
        );
    }
    put("total_tool_calls", stats.total_tool_calls.into());
    if !stats.files_modified.is_empty() {
        put("files_modified", GoValue::strings(&stats.files_modified));
    }
    if !stats.files_created.is_empty() {
        put("files_created", GoValue::strings(&stats.files_created));
    }
    put("compactions", stats.compactions.into());
    let nanos = i64::try_from(stats.longest_turn.as_nanos()).unwrap_or(i64::MAX);
    put("longest_turn", nanos.into());
    put("cache_hits", stats.cache_hits.into());
    put("cache_misses", stats.cache_misses.into());
    put("input_tokens", stats.input_tokens.into());
    put("output_tokens", stats.output_tokens.into());
    put("total_tokens", stats.total_tokens.into());
    put("cost_usd", stats.cost_usd.into());
    put("reasoning_tokens", stats.reasoning_tokens.into());
    put("cache_read_tokens", stats.cache_read_tokens.into());
    put("cache_write_tokens", stats.cache_write_tokens.into());
    if !stats.provider.is_empty() {
        put("provider", stats.provider.clone().into());
    }
    if stats.estimated {
        put("estimated", true.into());
    }
    if !stats.estimate_source.is_empty() {
        put("estimate_source", stats.estimate_source.clone().into());
    }
    if stats.breach_verify != BreachVerify::NotRun {
        put("breach_verify", stats.breach_verify.code().into());
    }
    GoValue::Object(fields)
}

/// One provider's share of a [`UsageSummary`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderUsage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Tokens in all.
    pub total_tokens: u64,
    /// Cost in US dollars.
    pub cost_usd: f64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Prompt tokens read from cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to cache.
    pub cache_write_tokens: u64,
    /// Sessions counted.
    pub session_count: u64,
    /// At least one counted session was estimated.
    pub estimated: bool,
}

impl ProviderUsage {
    /// The JSON object: `input_tokens, output_tokens, total_tokens, cost_usd,
    /// reasoning_tokens, cache_read_tokens, cache_write_tokens, session_count,
    /// estimated?`.
    pub fn to_go_value(&self) -> GoValue {
        let mut fields = vec![
            ("input_tokens", self.input_tokens.into()),
            ("output_tokens", self.output_tokens.into()),
            ("total_tokens", self.total_tokens.into()),
            ("cost_usd", self.cost_usd.into()),
            ("reasoning_tokens", self.reasoning_tokens.into()),
            ("cache_read_tokens", self.cache_read_tokens.into()),
            ("cache_write_tokens", self.cache_write_tokens.into()),
            ("session_count", self.session_count.into()),
        ];
        if self.estimated {
            fields.push(("estimated", true.into()));
        }
        GoValue::object(fields)
    }

    /// Takes `part` (its tokens and cost, not its session) out of these.
    fn take(&mut self, part: &ProviderUsage) {
        self.input_tokens = self.input_tokens.saturating_sub(part.input_tokens);
        self.output_tokens = self.output_tokens.saturating_sub(part.output_tokens);
        self.total_tokens = self.total_tokens.saturating_sub(part.total_tokens);
        self.cost_usd = (self.cost_usd - part.cost_usd).max(0.0);
        self.reasoning_tokens = self.reasoning_tokens.saturating_sub(part.reasoning_tokens);
        self.cache_read_tokens = self
            .cache_read_tokens
            .saturating_sub(part.cache_read_tokens);
        self.cache_write_tokens = self
            .cache_write_tokens
            .saturating_sub(part.cache_write_tokens);
    }

    fn add(&mut self, other: &ProviderUsage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        self.cost_usd += other.cost_usd;
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(other.reasoning_tokens);
        self.cache_read_tokens = self
            .cache_read_tokens
            .saturating_add(other.cache_read_tokens);
        self.cache_write_tokens = self
            .cache_write_tokens
            .saturating_add(other.cache_write_tokens);
        self.session_count = self.session_count.saturating_add(other.session_count);
        self.estimated |= other.estimated;
    }
}

/// Token usage and cost across a run's sessions, child runs included.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsageSummary {
    /// Prompt tokens.
    pub total_input_tokens: u64,
    /// Completion tokens.
    pub total_output_tokens: u64,
    /// Tokens in all.
    pub total_tokens: u64,
    /// Cost in US dollars.
    pub total_cost_usd: f64,
    /// Reasoning tokens.
    pub total_reasoning_tokens: u64,
    /// Prompt tokens read from cache.
    pub total_cache_read_tokens: u64,
    /// Prompt tokens written to cache.
    pub total_cache_write_tokens: u64,
    /// Sessions counted.
    pub session_count: u64,
    /// Per provider (trimmed name, or [`UNKNOWN_PROVIDER`]).
    pub provider_totals: BTreeMap<String, ProviderUsage>,
    /// At least one counted session was estimated.
    pub estimated: bool,
}

/// One trace entry's contribution to a [`UsageSummary`]. A trace entry carrying
/// both session stats and a child run's usage contributes two items, stats first.
#[derive(Clone, Copy, Debug)]
pub enum TraceUsage<'a> {
    /// A session the node ran itself.
    Stats(&'a SessionStats),
    /// The summary of a child run (subgraph, manager loop) under the node.
    Child(&'a UsageSummary),
}

impl UsageSummary {
    /// Folds a trace's contributions in order; `None` when no session was counted
    /// (the reference's nil summary, which the goldens write as `null`).
    pub fn fold<'a>(entries: impl IntoIterator<Item = TraceUsage<'a>>) -> Option<UsageSummary> {
        let mut summary = UsageSummary::default();
        for entry in entries {
            match entry {
                TraceUsage::Stats(stats) => summary.add_session(stats),
                TraceUsage::Child(child) => summary.add_child(child),
            }
        }
        (summary.session_count > 0).then_some(summary)
    }

    /// Counts one session: its numbers go to the totals and to the bucket of its
    /// trimmed provider name ([`UNKNOWN_PROVIDER`] when blank).
    pub fn add_session(&mut self, stats: &SessionStats) {
        let session = ProviderUsage {
            input_tokens: stats.input_tokens,
            output_tokens: stats.output_tokens,
            total_tokens: stats.total_tokens,
            cost_usd: stats.cost_usd,
            reasoning_tokens: stats.reasoning_tokens,
            cache_read_tokens: stats.cache_read_tokens,
            cache_write_tokens: stats.cache_write_tokens,
            session_count: 1,
            estimated: stats.estimated,
        };
        self.add_totals(&session);
        // Calls an `llm_fallbacks` lane answered go to the lane's provider;
        // the session counts as one of each provider's that it used.
        let mut own = session;
        for (provider, lane) in &stats.lanes {
            let share = ProviderUsage {
                input_tokens: lane.input_tokens,
                output_tokens: lane.output_tokens,
                total_tokens: lane.total_tokens,
                cost_usd: lane.cost_usd,
                reasoning_tokens: lane.reasoning_tokens,
                cache_read_tokens: lane.cache_read_tokens,
                cache_write_tokens: lane.cache_write_tokens,
                session_count: 1,
                estimated: stats.estimated,
            };
            own.take(&share);
            self.bucket(provider).add(&share);
        }
        if stats.lanes.is_empty() || own.total_tokens > 0 || own.cost_usd > 1e-12 {
            self.bucket(&stats.provider).add(&own);
        }
    }

    /// The bucket of `provider`, by its trimmed name ([`UNKNOWN_PROVIDER`]
    /// when blank).
    fn bucket(&mut self, provider: &str) -> &mut ProviderUsage {
        let provider = match provider.trim() {
            "" => UNKNOWN_PROVIDER,
            name => name,
        };
        self.provider_totals.entry(provider.to_owned()).or_default()
    }

    /// Adds a child run's summary: its totals, its session count and each of its
    /// provider buckets.
    pub fn add_child(&mut self, child: &UsageSummary) {
        self.add_totals(&ProviderUsage {
            input_tokens: child.total_input_tokens,
            output_tokens: child.total_output_tokens,
            total_tokens: child.total_tokens,
            cost_usd: child.total_cost_usd,
            reasoning_tokens: child.total_reasoning_tokens,
            cache_read_tokens: child.total_cache_read_tokens,
            cache_write_tokens: child.total_cache_write_tokens,
            session_count: child.session_count,
            estimated: child.estimated,
        });
        for (provider, usage) in &child.provider_totals {
            self.provider_totals
                .entry(provider.clone())
                .or_default()
                .add(usage);
        }
    }

    pub(crate) fn add_totals(&mut self, add: &ProviderUsage) {
        self.total_input_tokens = self.total_input_tokens.saturating_add(add.input_tokens);
        self.total_output_tokens = self.total_output_tokens.saturating_add(add.output_tokens);
        self.total_tokens = self.total_tokens.saturating_add(add.total_tokens);
        self.total_cost_usd += add.cost_usd;
        self.total_reasoning_tokens = self
            .total_reasoning_tokens
            .saturating_add(add.reasoning_tokens);
        self.total_cache_read_tokens = self
            .total_cache_read_tokens
            .saturating_add(add.cache_read_tokens);
        self.total_cache_write_tokens = self
            .total_cache_write_tokens
            .saturating_add(add.cache_write_tokens);
        self.session_count = self.session_count.saturating_add(add.session_count);
        self.estimated |= add.estimated;
    }

    /// The JSON object: `total_input_tokens, total_output_tokens, total_tokens,
    /// total_cost_usd, total_reasoning_tokens, total_cache_read_tokens,
    /// total_cache_write_tokens, session_count, provider_totals?` (keys sorted)
    /// `, estimated?`.
    pub fn to_go_value(&self) -> GoValue {
        let mut fields = vec![
            ("total_input_tokens", self.total_input_tokens.into()),
            ("total_output_tokens", self.total_output_tokens.into()),
            ("total_tokens", self.total_tokens.into()),
            ("total_cost_usd", self.total_cost_usd.into()),
            ("total_reasoning_tokens", self.total_reasoning_tokens.into()),
            (
                "total_cache_read_tokens",
                self.total_cache_read_tokens.into(),
            ),
            (
                "total_cache_write_tokens",
                self.total_cache_write_tokens.into(),
            ),
            ("session_count", self.session_count.into()),
        ];
        if !self.provider_totals.is_empty() {
            fields.push((
                "provider_totals",
                GoValue::sorted_map(&self.provider_totals, ProviderUsage::to_go_value),
            ));
        }
        if self.estimated {
            fields.push(("estimated", true.into()));
        }
        GoValue::object(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gojson::{to_go_json_compact, to_go_json_pretty};
    use std::time::Duration;

    const GOLDEN_DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance/golden"
    );

    fn golden(fixture: &str) -> GoValue {
        let path = format!("{GOLDEN_DIR}/{fixture}.golden.json");
        GoValue::parse(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// The encoded `usage` object of a golden file.
    fn golden_usage(fixture: &str) -> String {
        to_go_json_pretty(golden(fixture).get("usage").unwrap())
    }

    fn encoded(summary: Option<UsageSummary>) -> String {
        to_go_json_pretty(&summary.map_or(GoValue::Null, |s| s.to_go_value()))
    }

    /// One call of the golden harness's default stub completer.
    fn stub_session() -> SessionStats {
        SessionStats {
            turns: 1,
            input_tokens: 100,
            output_tokens: 50,
            total_tokens: 150,
            provider: "stub".into(),
            ..SessionStats::default()
        }
    }

    #[test]
    fn agent_linear_usage_matches_golden() {
        let build = stub_session();
        let summary = UsageSummary::fold([TraceUsage::Stats(&build)]);
        assert_eq!(encoded(summary), golden_usage("agent_linear"));
    }

    #[test]
    fn control_flow_usage_matches_golden() {
        let ship = stub_session();
        assert_eq!(
            encoded(UsageSummary::fold([TraceUsage::Stats(&ship)])),
            golden_usage("control_flow")
        );
    }

    #[test]
    fn parallel_fanin_merged_stats_go_to_the_unknown_bucket() {
        // Two branches' stats merged by the parallel handler lose the provider.
        let fork = SessionStats {
            turns: 2,
            input_tokens: 200,
            output_tokens: 100,
            total_tokens: 300,
            ..SessionStats::default()
        };
        let summary = UsageSummary::fold([TraceUsage::Stats(&fork)]).unwrap();
        assert_eq!(
            summary.provider_totals.keys().collect::<Vec<_>>(),
            ["unknown"]
        );
        assert_eq!(encoded(Some(summary)), golden_usage("parallel_fanin"));
    }

    #[test]
    fn calls_a_fallback_lane_answered_are_credited_to_its_provider() {
        let mut stats = SessionStats {
            input_tokens: 30,
            output_tokens: 12,
            total_tokens: 42,
            cost_usd: 0.5,
            provider: "anthropic".into(),
            ..SessionStats::default()
        };
        stats.lanes.insert(
            "openai".into(),
            LaneUsage {
                input_tokens: 20,
                output_tokens: 8,
                total_tokens: 28,
                cost_usd: 0.2,
                ..LaneUsage::default()
            },
        );
        let mut summary = UsageSummary::default();
        summary.add_session(&stats);
        assert_eq!((summary.total_tokens, summary.session_count), (42, 1));
        let anthropic = &summary.provider_totals["anthropic"];
        let openai = &summary.provider_totals["openai"];
        assert_eq!((anthropic.input_tokens, anthropic.total_tokens), (10, 14));
        assert!((anthropic.cost_usd - 0.3).abs() < 1e-9);
        assert_eq!((openai.input_tokens, openai.total_tokens), (20, 28));
        assert_eq!((anthropic.session_count, openai.session_count), (1, 1));
        // A session that failed over before its own provider answered at
        // all has no bucket for that provider.
        stats
            .lanes
            .get_mut("openai")
            .expect("lane")
            .clone_from(&LaneUsage {
                input_tokens: 30,
                output_tokens: 12,
                total_tokens: 42,
                cost_usd: 0.5,
                ..LaneUsage::default()
            });
        let mut summary = UsageSummary::default();
        summary.add_session(&stats);
        assert_eq!(
            summary.provider_totals.keys().collect::<Vec<_>>(),
            ["openai"]
        );
    }

    #[test]
    fn retry_exhausted_counts_three_empty_sessions() {
        let attempt = SessionStats {
            turns: 3,
            provider: "stub".into(),
            ..SessionStats::default()
        };
        let summary = UsageSummary::fold(std::iter::repeat_n(TraceUsage::Stats(&attempt), 3));
        assert_eq!(summary.as_ref().map(|s| s.session_count), Some(3));
        assert_eq!(encoded(summary), golden_usage("retry_exhausted"));
    }

    #[test]
    fn subgraph_usage_counts_the_child_run() {
        let child_work = stub_session();
        let child = UsageSummary::fold([TraceUsage::Stats(&child_work)]).unwrap();
        let summary = UsageSummary::fold([TraceUsage::Child(&child)]);
        assert_eq!(encoded(summary), golden_usage("subgraph"));
    }

    #[test]
    fn tool_failure_has_no_usage() {
        assert_eq!(UsageSummary::fold([]), None);
        assert_eq!(encoded(None), golden_usage("tool_failure"));
    }

    #[test]
    fn a_child_with_no_sessions_leaves_the_summary_nil() {
        let empty = UsageSummary::default();
        assert_eq!(UsageSummary::fold([TraceUsage::Child(&empty)]), None);
    }

    #[test]
    fn stats_as_the_harness_writes_them_match_golden() {
        // The harness writes stats through a generic map without longest_turn.
        let harness_form = |stats: &SessionStats| {
            let mut generic = session_stats_value(stats).to_generic();
            if let GoValue::Object(fields) = &mut generic {
                fields.retain(|(k, _)| k != "longest_turn");
            }
            to_go_json_pretty(&generic)
        };
        let golden_stats = |fixture: &str, entry: usize| {
            let GoValue::Array(entries) = golden(fixture).get("trace_entries").unwrap().clone()
            else {
                panic!("trace_entries is not an array");
            };
            to_go_json_pretty(entries[entry].get("stats").unwrap())
        };
        let build = SessionStats {
            longest_turn: Duration::from_millis(3),
            ..stub_session()
        };
        assert_eq!(harness_form(&build), golden_stats("agent_linear", 0));
        let fork = SessionStats {
            turns: 2,
            input_tokens: 200,
            output_tokens: 100,
            total_tokens: 300,
            ..SessionStats::default()
        };
        assert_eq!(harness_form(&fork), golden_stats("parallel_fanin", 1));
    }

    #[test]
    fn session_stats_field_order_and_omissions() {
        assert_eq!(
            to_go_json_compact(&session_stats_value(&SessionStats::default())),
            r#"{"turns":0,"total_tool_calls":0,"compactions":0,"longest_turn":0,"cache_hits":0,"cache_misses":0,"input_tokens":0,"output_tokens":0,"total_tokens":0,"cost_usd":0,"reasoning_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0}"#
        );
        let full = SessionStats {
            turns: 4,
            tool_calls: BTreeMap::from([("write".to_owned(), 2), ("bash".to_owned(), 1)]),
            total_tool_calls: 3,
            files_modified: vec!["b.rs".into()],
            files_created: vec!["a.rs".into()],
            compactions: 1,
            longest_turn: Duration::from_micros(1500),
            cache_hits: 5,
            cache_misses: 6,
            input_tokens: 7,
            output_tokens: 8,
            total_tokens: 15,
            cost_usd: 0.25,
            reasoning_tokens: 9,
            cache_read_tokens: 10,
            cache_write_tokens: 11,
            provider: "anthropic".into(),
            estimated: true,
            estimate_source: "acp-chars-heuristic".into(),
            breach_verify: BreachVerify::Failed,
            // Not part of the reference's JSON.
            lanes: BTreeMap::from([("openai".to_owned(), LaneUsage::default())]),
        };
        assert_eq!(
            to_go_json_compact(&session_stats_value(&full)),
            r#"{"turns":4,"tool_calls":{"bash":1,"write":2},"total_tool_calls":3,"files_modified":["b.rs"],"files_created":["a.rs"],"compactions":1,"longest_turn":1500000,"cache_hits":5,"cache_misses":6,"input_tokens":7,"output_tokens":8,"total_tokens":15,"cost_usd":0.25,"reasoning_tokens":9,"cache_read_tokens":10,"cache_write_tokens":11,"provider":"anthropic","estimated":true,"estimate_source":"acp-chars-heuristic","breach_verify":2}"#
        );
    }

    #[test]
    fn fold_trims_providers_merges_children_and_propagates_estimates() {
        let a = SessionStats {
            input_tokens: 10,
            output_tokens: 5,
            total_tokens: 15,
            cost_usd: 0.5,
            reasoning_tokens: 1,
            cache_read_tokens: 2,
            cache_write_tokens: 3,
            provider: "  openai ".into(),
            ..SessionStats::default()
        };
        let b = SessionStats {
            input_tokens: 1,
            total_tokens: 1,
            cost_usd: 0.25,
            provider: "   ".into(),
            estimated: true,
            ..SessionStats::default()
        };
        let child_session = SessionStats {
            input_tokens: 100,
            total_tokens: 100,
            provider: "openai".into(),
            ..SessionStats::default()
        };
        let child = UsageSummary::fold([
            TraceUsage::Stats(&child_session),
            TraceUsage::Stats(&child_session),
        ])
        .unwrap();
        let summary = UsageSummary::fold([
            TraceUsage::Stats(&a),
            TraceUsage::Child(&child),
            TraceUsage::Stats(&b),
        ])
        .unwrap();
        assert_eq!(
            to_go_json_compact(&summary.to_go_value()),
            concat!(
                r#"{"total_input_tokens":211,"total_output_tokens":5,"total_tokens":216,"total_cost_usd":0.75,"#,
                r#""total_reasoning_tokens":1,"total_cache_read_tokens":2,"total_cache_write_tokens":3,"session_count":4,"#,
                r#""provider_totals":{"openai":{"input_tokens":210,"output_tokens":5,"total_tokens":215,"cost_usd":0.5,"#,
                r#""reasoning_tokens":1,"cache_read_tokens":2,"cache_write_tokens":3,"session_count":3},"#,
                r#""unknown":{"input_tokens":1,"output_tokens":0,"total_tokens":1,"cost_usd":0.25,"reasoning_tokens":0,"#,
                r#""cache_read_tokens":0,"cache_write_tokens":0,"session_count":1,"estimated":true}},"estimated":true}"#
            )
        );
    }
}
