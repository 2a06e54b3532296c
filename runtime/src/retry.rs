//! Retry policies and backoff (engine-semantics §2.5a), the goal-gate retry budget
//! (§2.6) and the restart budget (§2.5b).
//!
//! | policy | max_retries | base | backoff |
//! |---|---|---|---|
//! | none | 0 | 0 | exponential |
//! | standard | 2 | 2s | exponential |
//! | aggressive | 5 | 500ms | exponential |
//! | patient | 3 | 10s | exponential |
//! | linear | 3 | 2s | linear |
//!
//! Exponential is `base·2ⁿ`, linear `base·(n+1)` (n counts from 0), each times a
//! jitter factor in `[0.75, 1.25)` and capped at 60 s. The jitter is supplied by the
//! caller — no clock or global randomness here; [`JitterRng`] produces it
//! deterministically from a seed.

use std::time::Duration;

use crate::plan::{NodeIndex, SpawnPlan};
use crate::wire_enum::wire_enum;

/// The jitter generator and its range (shared with node supervision).
pub use crate::jitter::{JitterRng, JITTER_MAX, JITTER_MIN};

/// The longest backoff: every delay is capped here, before and after jitter.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Retries a goal gate gets when neither the node's `max_retries` nor the graph's
/// `default_max_retry` is set (independent of the retry policy).
pub const DEFAULT_GOAL_GATE_RETRIES: u32 = 3;

/// Restarts a run may make when the graph sets no `max_restarts`.
pub const DEFAULT_MAX_RESTARTS: u32 = 5;

/// The policy used when neither the node nor the graph names a known one.
pub const DEFAULT_POLICY: PolicyName = PolicyName::Standard;

/// How the delay grows with the attempt number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackoffKind {
    /// `base·2ⁿ`.
    Exponential,
    /// `base·(n+1)`.
    Linear,
}

wire_enum! {
    names: as_str, parse;
    /// A built-in retry policy's name.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum PolicyName {
        /// No retries.
        None => "none",
        /// 2 retries from 2 s, exponential.
        Standard => "standard",
        /// 5 retries from 500 ms, exponential.
        Aggressive => "aggressive",
        /// 3 retries from 10 s, exponential.
        Patient => "patient",
        /// 3 retries from 2 s, linear.
        Linear => "linear",
    }
}

/// A resolved retry policy: how often a node returning `retry` is re-run and how
/// long to wait before each attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The built-in policy this started from.
    pub name: PolicyName,
    /// Retries after the first attempt (not attempts).
    pub max_retries: u32,
    /// The delay before the first retry (before jitter).
    pub base_delay: Duration,
    /// How the delay grows.
    pub backoff: BackoffKind,
}

impl RetryPolicy {
    /// The built-in policy `name`, as in the table.
    pub fn builtin(name: PolicyName) -> RetryPolicy {
        let (max_retries, base_delay, backoff) = match name {
            PolicyName::None => (0, Duration::ZERO, BackoffKind::Exponential),
            PolicyName::Standard => (2, Duration::from_secs(2), BackoffKind::Exponential),
            PolicyName::Aggressive => (5, Duration::from_millis(500), BackoffKind::Exponential),
            PolicyName::Patient => (3, Duration::from_secs(10), BackoffKind::Exponential),
            PolicyName::Linear => (3, Duration::from_secs(2), BackoffKind::Linear),
        };
        RetryPolicy {
            name,
            max_retries,
            base_delay,
            backoff,
        }
    }

    /// The policy for `node` (§2.5a): the node's `retry_policy`, else the graph's
    /// `default_retry_policy`, else `standard` — unknown names fall through to the
    /// next source. Then `max_retries` comes from the node when set (> 0), else from
    /// the graph's `default_max_retry` when it is an integer (negative reads as 0);
    /// a node `base_delay` > 0 replaces the base delay.
    pub fn resolve(plan: &SpawnPlan, node: NodeIndex) -> RetryPolicy {
        let retry = &plan.node(node).declared.retry;
        let name = PolicyName::parse(&retry.policy)
            .or_else(|| graph_attr(plan, "default_retry_policy").and_then(PolicyName::parse))
            .unwrap_or(DEFAULT_POLICY);
        let mut policy = RetryPolicy::builtin(name);
        if let Some(max) = node_or_graph_max_retries(plan, node) {
            policy.max_retries = max;
        }
        if retry.base_delay.0 > 0 {
            if let Some(base) = retry.base_delay.to_std() {
                policy.base_delay = base;
            }
        }
        policy
    }

    /// The wait before retry attempt `attempt` (0-based: the engine passes the retry
    /// count minus one), scaled by `jitter`; see [`backoff`].
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        backoff(self, attempt, jitter)
    }
}

/// The wait before retry attempt `attempt` (0-based) under `policy`: `base·2ⁿ` or
/// `base·(n+1)`, capped at [`MAX_BACKOFF`], times `jitter`, capped again. `jitter` is
/// meant to be in `[0.75, 1.25)` (see [`JitterRng::jitter`]); `1.0` gives the bare
/// delay. A non-finite or non-positive product is zero. As in the reference, a
/// delay is truncated to whole nanoseconds after jitter.
pub fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let base = policy.base_delay;
    let delay = match policy.backoff {
        BackoffKind::Exponential => {
            // Doubling stops once past the cap (or when there is nothing to double),
            // so even a huge attempt number costs a few dozen steps.
            let mut delay = base;
            let mut doubled = 0;
            while doubled < attempt && !delay.is_zero() && delay <= MAX_BACKOFF {
                delay = delay.saturating_mul(2);
                doubled += 1;
            }
            delay
        }
        BackoffKind::Linear => base.saturating_mul(attempt.saturating_add(1)),
    };
    let delay = delay.min(MAX_BACKOFF);
    let nanos = delay.as_nanos() as f64 * jitter;
    if !nanos.is_finite() || nanos <= 0.0 {
        return Duration::ZERO;
    }
    if nanos >= MAX_BACKOFF.as_nanos() as f64 {
        return MAX_BACKOFF;
    }
    // In range (0, 6e10): the cast truncates, as Go's `time.Duration(float64)` does.
    Duration::from_nanos(nanos as u64)
}

/// The retry budget of goal gate `node` (§2.6): the node's `max_retries` when set
/// (> 0), else the graph's `default_max_retry`, else
/// [`DEFAULT_GOAL_GATE_RETRIES`] — never the retry policy's count.
pub fn goal_gate_budget(plan: &SpawnPlan, node: NodeIndex) -> u32 {
    node_or_graph_max_retries(plan, node).unwrap_or(DEFAULT_GOAL_GATE_RETRIES)
}

/// The run's restart budget (§2.5b): the graph's `max_restarts` when it is an
/// integer (negative reads as 0), else [`DEFAULT_MAX_RESTARTS`]. One budget for the
/// whole run, shared by every edge into a completed node.
pub fn restart_budget(plan: &SpawnPlan) -> u32 {
    graph_attr(plan, "max_restarts")
        .and_then(parse_count)
        .unwrap_or(DEFAULT_MAX_RESTARTS)
}

/// The node's `max_retries` when > 0, else the graph's `default_max_retry` when it
/// parses.
fn node_or_graph_max_retries(plan: &SpawnPlan, node: NodeIndex) -> Option<u32> {
    let own = plan.node(node).declared.retry.max_retries;
    if own > 0 {
        return Some(u32::try_from(own).unwrap_or(u32::MAX));
    }
    graph_attr(plan, "default_max_retry").and_then(parse_count)
}

/// A graph attribute, if present.
fn graph_attr<'p>(plan: &'p SpawnPlan, key: &str) -> Option<&'p str> {
    plan.graph_attrs.get(key).map(String::as_str)
}

/// An integer attribute as a count: Go's `strconv.Atoi` syntax, negative clamped to
/// 0, huge clamped to `u32::MAX`.
fn parse_count(text: &str) -> Option<u32> {
    let n: i64 = text.parse().ok()?;
    Some(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(src: &str) -> SpawnPlan {
        let (wf, diags) = dippin::parse_dip(src);
        assert!(diags.is_empty(), "{diags:?}");
        SpawnPlan::compile(&wf).expect("compiles")
    }

    /// A one-node workflow: `defaults` lines and `node` field lines for agent `N`.
    fn plan(defaults: &[&str], node: &[&str]) -> SpawnPlan {
        let mut src = String::from("workflow Q\n  start: N\n  exit: D\n");
        if !defaults.is_empty() {
            src.push_str("  defaults\n");
            for line in defaults {
                src.push_str(&format!("    {line}\n"));
            }
        }
        src.push_str("  agent N\n    prompt: n\n");
        for line in node {
            src.push_str(&format!("    {line}\n"));
        }
        src.push_str("  agent D\n    label: D\n  edges\n    N -> D\n");
        compile(&src)
    }

    fn n(plan: &SpawnPlan) -> NodeIndex {
        plan.node_index("N").expect("N")
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn retry_policy_table() {
        let cases: &[(PolicyName, u32, Duration, BackoffKind)] = &[
            (
                PolicyName::None,
                0,
                Duration::ZERO,
                BackoffKind::Exponential,
            ),
            (PolicyName::Standard, 2, secs(2.0), BackoffKind::Exponential),
            (
                PolicyName::Aggressive,
                5,
                secs(0.5),
                BackoffKind::Exponential,
            ),
            (PolicyName::Patient, 3, secs(10.0), BackoffKind::Exponential),
            (PolicyName::Linear, 3, secs(2.0), BackoffKind::Linear),
        ];
        for &(name, max, base, kind) in cases {
            let p = RetryPolicy::builtin(name);
            assert_eq!(
                (p.max_retries, p.base_delay, p.backoff),
                (max, base, kind),
                "{name}"
            );
            assert_eq!(PolicyName::parse(name.as_str()), Some(name));
        }
        assert_eq!(PolicyName::parse("Standard"), None);
        assert_eq!(PolicyName::parse("forever"), None);
    }

    #[test]
    fn retry_backoff_sequences_without_jitter() {
        let cases: &[(PolicyName, &[f64])] = &[
            (PolicyName::None, &[0.0, 0.0, 0.0]),
            (
                PolicyName::Standard,
                &[2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0],
            ),
            (
                PolicyName::Aggressive,
                &[0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0],
            ),
            (PolicyName::Patient, &[10.0, 20.0, 40.0, 60.0, 60.0]),
            (PolicyName::Linear, &[2.0, 4.0, 6.0, 8.0, 10.0]),
        ];
        for (name, want) in cases {
            let policy = RetryPolicy::builtin(*name);
            let got: Vec<Duration> = (0..want.len() as u32)
                .map(|n| policy.backoff(n, 1.0))
                .collect();
            let want: Vec<Duration> = want.iter().map(|s| secs(*s)).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn retry_backoff_caps_at_sixty_seconds() {
        let linear = RetryPolicy {
            base_delay: secs(7.0),
            ..RetryPolicy::builtin(PolicyName::Linear)
        };
        assert_eq!(linear.backoff(8, 1.0), secs(60.0));
        assert_eq!(linear.backoff(7, 1.0), secs(56.0));
        // Jitter applies to the capped delay, and the result is capped again.
        let patient = RetryPolicy::builtin(PolicyName::Patient);
        assert_eq!(patient.backoff(3, 0.75), secs(45.0));
        assert_eq!(patient.backoff(3, 1.2), MAX_BACKOFF);
        assert_eq!(patient.backoff(2, 1.25), secs(50.0));
        assert_eq!(patient.backoff(2, 1.5), MAX_BACKOFF);
        // Enormous attempt numbers neither overflow nor exceed the cap.
        assert_eq!(patient.backoff(u32::MAX, 1.0), MAX_BACKOFF);
        assert_eq!(linear.backoff(u32::MAX, 1.0), MAX_BACKOFF);
    }

    #[test]
    fn retry_backoff_scales_by_jitter() {
        let standard = RetryPolicy::builtin(PolicyName::Standard);
        assert_eq!(standard.backoff(0, 0.75), secs(1.5));
        assert_eq!(standard.backoff(1, 1.125), secs(4.5));
        assert_eq!(backoff(&standard, 0, f64::NAN), Duration::ZERO);
        assert_eq!(backoff(&standard, 0, -1.0), Duration::ZERO);
    }

    #[test]
    fn retry_jitter_rng_is_deterministic_and_in_range() {
        let mut a = JitterRng::new(42);
        let mut b = JitterRng::new(42);
        let xs: Vec<f64> = (0..8).map(|_| a.jitter()).collect();
        let ys: Vec<f64> = (0..8).map(|_| b.jitter()).collect();
        assert_eq!(xs, ys);
        let mut c = JitterRng::new(43);
        assert_ne!(xs, (0..8).map(|_| c.jitter()).collect::<Vec<f64>>());

        let mut rng = JitterRng::new(7);
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for _ in 0..100_000 {
            let j = rng.jitter();
            assert!((JITTER_MIN..JITTER_MAX).contains(&j), "{j}");
            lo = lo.min(j);
            hi = hi.max(j);
            let f = rng.next_f64();
            assert!((0.0..1.0).contains(&f), "{f}");
        }
        // The sample spreads over the whole range.
        assert!(lo < 0.76 && hi > 1.24, "{lo} {hi}");
        let standard = RetryPolicy::builtin(PolicyName::Standard);
        let d = standard.backoff(0, JitterRng::new(1).jitter());
        assert!(d >= secs(1.5) && d < secs(2.5), "{d:?}");
    }

    #[test]
    fn retry_jitter_upper_bound_is_exclusive() {
        // The largest value the 51-bit construction can produce is below 1.25.
        let top = JITTER_MIN + ((1u64 << 51) - 1) as f64 * (1.0 / (1u64 << 52) as f64);
        assert!(top < JITTER_MAX);
        // Known SplitMix64 output for seed 0 (reference vector).
        assert_eq!(JitterRng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    /// (defaults lines, node lines, policy, max_retries, base delay in seconds).
    type ResolutionCase = (
        &'static [&'static str],
        &'static [&'static str],
        PolicyName,
        u32,
        f64,
    );

    #[test]
    fn retry_policy_resolution_order() {
        let cases: &[ResolutionCase] = &[
            (&[], &[], PolicyName::Standard, 2, 2.0),
            (
                &["retry_policy: patient"],
                &[],
                PolicyName::Patient,
                3,
                10.0,
            ),
            (
                &["retry_policy: patient"],
                &["retry_policy: linear"],
                PolicyName::Linear,
                3,
                2.0,
            ),
            // Unknown names fall through: node → graph → standard.
            (
                &["retry_policy: aggressive"],
                &["retry_policy: forever"],
                PolicyName::Aggressive,
                5,
                0.5,
            ),
            (
                &["retry_policy: sometimes"],
                &["retry_policy: forever"],
                PolicyName::Standard,
                2,
                2.0,
            ),
            // max_retries: node, else graph default_max_retry, else the policy's.
            (&["max_retries: 7"], &[], PolicyName::Standard, 7, 2.0),
            (
                &["max_retries: 7"],
                &["retry_policy: none", "max_retries: 1"],
                PolicyName::None,
                1,
                0.0,
            ),
            (
                &["max_retries: 4"],
                &["retry_policy: none"],
                PolicyName::None,
                4,
                0.0,
            ),
            // base_delay overrides the policy's base.
            (
                &[],
                &["retry_policy: patient", "base_delay: 1ms"],
                PolicyName::Patient,
                3,
                0.001,
            ),
        ];
        for (defaults, node, name, max, base) in cases {
            let p = plan(defaults, node);
            let policy = RetryPolicy::resolve(&p, n(&p));
            assert_eq!(policy.name, *name, "{defaults:?} {node:?}");
            assert_eq!(policy.max_retries, *max, "{defaults:?} {node:?}");
            assert_eq!(policy.base_delay, secs(*base), "{defaults:?} {node:?}");
        }
    }

    #[test]
    fn retry_base_delay_override_drives_backoff() {
        let p = plan(&[], &["retry_policy: linear", "base_delay: 500ms"]);
        let policy = RetryPolicy::resolve(&p, n(&p));
        let got: Vec<Duration> = (0..3).map(|a| policy.backoff(a, 1.0)).collect();
        assert_eq!(got, [secs(0.5), secs(1.0), secs(1.5)]);
    }

    #[test]
    fn retry_golden_retry_exhausted_policy() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/golden/retry_exhausted.dip");
        let doc = dippin::load_file(&path).expect("fixture readable");
        let plan = SpawnPlan::compile(&doc.workflow).expect("compiles");
        let flaky = plan.node_index("Flaky").expect("Flaky");
        let policy = RetryPolicy::resolve(&plan, flaky);
        assert_eq!(policy.name, PolicyName::Standard);
        assert_eq!(policy.max_retries, 2);
        assert_eq!(policy.backoff(0, 1.0), Duration::from_millis(1));
        assert_eq!(policy.backoff(1, 1.0), Duration::from_millis(2));
    }

    #[test]
    fn retry_goal_gate_budget_ignores_the_policy() {
        let cases: &[(&[&str], &[&str], u32)] = &[
            (&[], &[], 3),
            (&[], &["retry_policy: aggressive"], 3),
            (&["max_retries: 6"], &[], 6),
            (&["max_retries: 6"], &["max_retries: 1"], 1),
        ];
        for (defaults, node, want) in cases {
            let p = plan(defaults, node);
            assert_eq!(goal_gate_budget(&p, n(&p)), *want, "{defaults:?} {node:?}");
        }
    }

    #[test]
    fn retry_restart_budget_defaults_to_five() {
        assert_eq!(restart_budget(&plan(&[], &[])), 5);
        assert_eq!(restart_budget(&plan(&["max_restarts: 2"], &[])), 2);
        let mut p = plan(&[], &[]);
        p.graph_attrs.insert("max_restarts".into(), "-1".into());
        assert_eq!(restart_budget(&p), 0);
        p.graph_attrs.insert("max_restarts".into(), "lots".into());
        assert_eq!(restart_budget(&p), 5);
    }

    #[test]
    fn retry_graph_default_max_retry_must_be_an_integer() {
        let mut p = plan(&[], &[]);
        p.graph_attrs
            .insert("default_max_retry".into(), "many".into());
        assert_eq!(RetryPolicy::resolve(&p, n(&p)).max_retries, 2);
        assert_eq!(goal_gate_budget(&p, n(&p)), 3);
    }
}
