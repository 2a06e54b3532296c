//! Supervision policy and decisions, after Erlang/OTP: which exits restart a
//! child, which siblings restart with it, how often restarts may happen, how
//! long to wait, and what to do when restarts run out.
//!
//! This module decides; the actor layer acts. A [`Supervisor`] is told that a
//! child exited and why, and answers with a [`Decision`]: restart these children
//! after this delay, leave it, or escalate.
//!
//! For pipeline nodes the reasons map as follows: a node that succeeded exited
//! [`ExitReason::Normal`]; one that reported `fail`, or whose handler returned an
//! error, [`ExitReason::Failed`]; one whose code panicked, [`ExitReason::Crashed`].
//! The default node policy restarts crashes only (the reference engine dies on a
//! panic) and leaves failures to the workflow's own routing, so a run that never
//! panics behaves exactly as the reference does.
//!
//! Policies are written as `key=value` lists (the `--supervise` flag, or an
//! agent's `params: supervise:`):
//!
//! ```text
//! restart=permanent,intensity=5/1m,backoff=200ms..10s,escalate=fail-node,timeout=10m
//! ```
//!
//! `timeout` bounds one attempt: a node that hangs past it is stopped and
//! counts as an abnormal exit ([`ExitReason::TimedOut`]), restarted as a
//! crash would be.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use dippin::duration::GoDuration;

use crate::clock::WallTime;
use crate::jitter::JitterRng;

/// Which exits restart a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartType {
    /// Restarted after a crash or a failure.
    Permanent,
    /// Restarted after a crash only.
    Transient,
    /// Never restarted.
    Temporary,
}

impl RestartType {
    /// Whether a child of this type is restarted after exiting for `reason`.
    pub fn restarts_after(self, reason: ExitReason) -> bool {
        match self {
            RestartType::Permanent => reason != ExitReason::Normal,
            RestartType::Transient => {
                matches!(reason, ExitReason::Crashed | ExitReason::TimedOut)
            }
            RestartType::Temporary => false,
        }
    }
}

/// Why a child stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// It finished its job.
    Normal,
    /// It reported failure.
    Failed,
    /// Its code panicked.
    Crashed,
    /// It ran past its supervision timeout and was stopped (an abnormal exit,
    /// like a crash).
    TimedOut,
}

/// Which children restart when one does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Only the child that exited.
    OneForOne,
    /// Every child (they only make sense together).
    OneForAll,
    /// The child and every child started after it (later ones depend on it).
    RestForOne,
}

/// At most `max_restarts` restarts within `within`; one more escalates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intensity {
    /// Restarts allowed in the window.
    pub max_restarts: u32,
    /// The sliding window.
    pub within: Duration,
}

/// How long to wait before a restart: `min · 2ⁿ` for the n-th restart in the
/// window, capped at `max`, scaled by a random factor in `[1 - jitter, 1 + jitter)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub min: Duration,
    /// The largest delay.
    pub max: Duration,
    /// Relative jitter, 0 to 1.
    pub jitter: f64,
}

impl Backoff {
    /// The delay before restart number `n` (0-based), given a uniform `unit` in
    /// `[0, 1)`.
    pub fn delay(&self, n: u32, unit: f64) -> Duration {
        let base = self
            .min
            .saturating_mul(2u32.saturating_pow(n.min(31)))
            .min(self.max);
        let factor = 1.0 - self.jitter + 2.0 * self.jitter * unit.clamp(0.0, 1.0);
        base.mul_f64(factor.max(0.0)).min(self.max)
    }
}

/// What happens when a child's restarts run out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escalation {
    /// The run fails (as the reference does for a handler error).
    FailRun,
    /// The node reports `fail`, and the workflow routes it — typically through
    /// `on_failure` or a failure edge to a human gate.
    FailNode,
}

/// How one child is supervised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChildPolicy {
    /// Which exits restart it.
    pub restart: RestartType,
    /// How often it may restart.
    pub intensity: Intensity,
    /// How long to wait before each restart.
    pub backoff: Backoff,
    /// What to do when restarts run out.
    pub escalation: Escalation,
    /// How long one attempt may run before it is stopped (and counts as
    /// [`ExitReason::TimedOut`]); none: no limit.
    pub timeout: Option<Duration>,
}

impl Default for ChildPolicy {
    /// Crashes restart up to 3 times a minute, 100 ms doubling to 5 s with 20%
    /// jitter; then the run fails.
    fn default() -> ChildPolicy {
        ChildPolicy {
            restart: RestartType::Transient,
            intensity: Intensity {
                max_restarts: 3,
                within: Duration::from_secs(60),
            },
            backoff: Backoff {
                min: Duration::from_millis(100),
                max: Duration::from_secs(5),
                jitter: 0.2,
            },
            escalation: Escalation::FailRun,
            timeout: None,
        }
    }
}

/// Why a policy text did not parse; names the offending field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("supervision policy {field}: {message}")]
pub struct PolicyError {
    /// The field (`restart`, `intensity`, …).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl ChildPolicy {
    /// `self` with the `key=value` settings of `text` applied.
    pub fn with(mut self, text: &str) -> Result<ChildPolicy, PolicyError> {
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item.split_once('=').ok_or_else(|| PolicyError {
                field: item.to_string(),
                message: "expected key=value".into(),
            })?;
            let (key, value) = (key.trim(), value.trim());
            let err = |message: &str| PolicyError {
                field: key.to_string(),
                message: format!("{message} (got {value:?})"),
            };
            match key {
                "restart" => {
                    self.restart = match value {
                        "permanent" => RestartType::Permanent,
                        "transient" => RestartType::Transient,
                        "temporary" => RestartType::Temporary,
                        _ => return Err(err("expected permanent, transient or temporary")),
                    }
                }
                "intensity" => {
                    let (count, window) = value
                        .split_once('/')
                        .ok_or_else(|| err("expected RESTARTS/WINDOW, e.g. 3/1m"))?;
                    self.intensity = Intensity {
                        max_restarts: count
                            .trim()
                            .parse()
                            .map_err(|_| err("restart count must be a whole number"))?,
                        within: duration(window).ok_or_else(|| err("bad window duration"))?,
                    };
                }
                "backoff" => {
                    let (min, max) = value
                        .split_once("..")
                        .ok_or_else(|| err("expected MIN..MAX, e.g. 100ms..5s"))?;
                    let min = duration(min).ok_or_else(|| err("bad minimum duration"))?;
                    let max = duration(max).ok_or_else(|| err("bad maximum duration"))?;
                    if max < min {
                        return Err(err("maximum is below minimum"));
                    }
                    self.backoff.min = min;
                    self.backoff.max = max;
                }
                "jitter" => {
                    let jitter: f64 = value.parse().map_err(|_| err("expected a number"))?;
                    if !(0.0..=1.0).contains(&jitter) {
                        return Err(err("jitter must be between 0 and 1"));
                    }
                    self.backoff.jitter = jitter;
                }
                "escalate" => {
                    self.escalation = match value {
                        "fail-run" => Escalation::FailRun,
                        "fail-node" => Escalation::FailNode,
                        _ => return Err(err("expected fail-run or fail-node")),
                    }
                }
                "timeout" => {
                    let limit =
                        duration(value).ok_or_else(|| err("expected a duration, e.g. 10m"))?;
                    self.timeout = (!limit.is_zero()).then_some(limit);
                }
                other => return Err(PolicyError {
                    field: other.to_string(),
                    message:
                        "unknown setting (restart, intensity, backoff, jitter, escalate, timeout)"
                            .into(),
                }),
            }
        }
        // Restarts are counted within the window: a zero window holds none,
        // so the limit would never be reached and a crashing node would
        // restart forever. (A window shorter than the backoff is allowed, as
        // in OTP: restarts spaced wider than it are never too many.)
        if self.intensity.max_restarts > 0 && self.intensity.within.is_zero() {
            return Err(PolicyError {
                field: "intensity".into(),
                message:
                    "the window must be longer than zero, or restarts never add up to the limit"
                        .into(),
            });
        }
        Ok(self)
    }
}

fn duration(text: &str) -> Option<Duration> {
    GoDuration::parse(text.trim())
        .ok()
        .and_then(GoDuration::to_std)
}

/// Node policies for one run: a default and per-node overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SupervisionPolicy {
    /// Every node's policy unless overridden.
    pub default: ChildPolicy,
    /// Overrides by node id.
    pub nodes: HashMap<String, ChildPolicy>,
}

impl SupervisionPolicy {
    /// The policy of `node`.
    pub fn for_node(&self, node: &str) -> ChildPolicy {
        self.nodes.get(node).copied().unwrap_or(self.default)
    }

    /// Applies one `--supervise` value: `[NODE:]key=value,…`.
    pub fn apply(&mut self, spec: &str) -> Result<(), PolicyError> {
        let (node, settings) = match spec.split_once(':') {
            Some((node, rest)) if !node.contains('=') => (Some(node.trim()), rest),
            _ => (None, spec),
        };
        match node {
            Some(node) => {
                let base = self.for_node(node);
                self.nodes.insert(node.to_string(), base.with(settings)?);
            }
            None => {
                self.default = self.default.with(settings)?;
                for policy in self.nodes.values_mut() {
                    *policy = policy.with(settings)?;
                }
            }
        }
        Ok(())
    }
}

/// What a supervisor does about an exit.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Leave it: the exit is normal for this child, or its type is not restarted.
    Leave,
    /// Restart these children (indexes, in start order) after `delay`; this is
    /// restart number `count` within the window.
    Restart {
        /// The children to restart.
        children: Vec<usize>,
        /// How long to wait first.
        delay: Duration,
        /// Restarts in the current window, this one included.
        count: u32,
    },
    /// Restarts ran out: `restarts` happened within the window.
    Escalate {
        /// What to do.
        escalation: Escalation,
        /// Restarts already made in the window.
        restarts: u32,
    },
}

/// Supervises children started in order, each with its own policy and its own
/// restart history.
#[derive(Debug)]
pub struct Supervisor {
    strategy: Strategy,
    children: Vec<ChildPolicy>,
    history: Vec<VecDeque<WallTime>>,
    rng: JitterRng,
}

impl Supervisor {
    /// A supervisor of `children`, restarting by `strategy`.
    pub fn new(strategy: Strategy, children: Vec<ChildPolicy>, seed: u64) -> Supervisor {
        let history = vec![VecDeque::new(); children.len()];
        Supervisor {
            strategy,
            children,
            history,
            rng: JitterRng::new(seed),
        }
    }

    /// Adds a child; returns its index.
    pub fn add_child(&mut self, policy: ChildPolicy) -> usize {
        self.children.push(policy);
        self.history.push(VecDeque::new());
        self.children.len() - 1
    }

    /// Child `index` exited for `reason` at `now`.
    pub fn child_exited(&mut self, index: usize, reason: ExitReason, now: WallTime) -> Decision {
        let Some(policy) = self.children.get(index).copied() else {
            return Decision::Leave;
        };
        if !policy.restart.restarts_after(reason) {
            // Not restarted (`temporary`): a crash or a timeout still goes as
            // the policy escalates it, so `fail-node` lets the workflow route
            // it; a reported failure is the workflow's as it is.
            let abnormal = matches!(reason, ExitReason::Crashed | ExitReason::TimedOut);
            if abnormal && policy.escalation == Escalation::FailNode {
                return Decision::Escalate {
                    escalation: Escalation::FailNode,
                    restarts: 0,
                };
            }
            return Decision::Leave;
        }
        let history = &mut self.history[index];
        while history
            .front()
            .is_some_and(|t| now.since(*t) > policy.intensity.within)
        {
            history.pop_front();
        }
        let made = u32::try_from(history.len()).unwrap_or(u32::MAX);
        if made >= policy.intensity.max_restarts {
            return Decision::Escalate {
                escalation: policy.escalation,
                restarts: made,
            };
        }
        history.push_back(now);
        let delay = policy.backoff.delay(made, self.rng.next_f64());
        let children = match self.strategy {
            Strategy::OneForOne => vec![index],
            Strategy::OneForAll => (0..self.children.len())
                .filter(|&i| i == index || self.children[i].restart != RestartType::Temporary)
                .collect(),
            Strategy::RestForOne => (index..self.children.len())
                .filter(|&i| i == index || self.children[i].restart != RestartType::Temporary)
                .collect(),
        };
        Decision::Restart {
            children,
            delay,
            count: made + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i128) -> WallTime {
        WallTime {
            unix_nanos: ms * 1_000_000,
            utc_offset_minutes: 0,
        }
    }

    fn policy(text: &str) -> ChildPolicy {
        ChildPolicy::default().with(text).expect("parses")
    }

    #[test]
    fn a_timeout_bounds_each_attempt_and_zero_means_none() {
        assert_eq!(policy("timeout=90s").timeout, Some(Duration::from_secs(90)));
        assert_eq!(policy("timeout=0s").timeout, None);
        assert_eq!(ChildPolicy::default().timeout, None);
        let bad = ChildPolicy::default()
            .with("timeout=soon")
            .expect_err("refused");
        assert_eq!(bad.field, "timeout");
    }

    #[test]
    fn restart_types_decide_which_exits_restart() {
        use ExitReason::*;
        assert!(RestartType::Permanent.restarts_after(Failed));
        assert!(RestartType::Permanent.restarts_after(Crashed));
        assert!(!RestartType::Permanent.restarts_after(Normal));
        assert!(RestartType::Transient.restarts_after(Crashed));
        assert!(RestartType::Transient.restarts_after(TimedOut));
        assert!(!RestartType::Transient.restarts_after(Failed));
        assert!(!RestartType::Temporary.restarts_after(TimedOut));
        assert!(!RestartType::Temporary.restarts_after(Crashed));
    }

    #[test]
    fn intensity_escalates_and_the_window_slides() {
        let mut sup = Supervisor::new(
            Strategy::OneForOne,
            vec![policy("intensity=2/10s,backoff=1ms..1ms,jitter=0")],
            1,
        );
        let restart = |d: Decision| matches!(d, Decision::Restart { .. });
        assert!(restart(sup.child_exited(0, ExitReason::Crashed, at(0))));
        assert!(restart(sup.child_exited(0, ExitReason::Crashed, at(1000))));
        assert_eq!(
            sup.child_exited(0, ExitReason::Crashed, at(2000)),
            Decision::Escalate {
                escalation: Escalation::FailRun,
                restarts: 2
            }
        );
        // Eleven seconds after the first restart, it has left the window.
        assert!(restart(sup.child_exited(
            0,
            ExitReason::Crashed,
            at(11_500)
        )));
        assert_eq!(
            sup.child_exited(0, ExitReason::Normal, at(12_000)),
            Decision::Leave
        );
    }

    #[test]
    fn strategies_pick_the_children_to_restart() {
        let p = policy("jitter=0");
        let temp = policy("restart=temporary");
        let pick = |strategy| {
            let mut sup = Supervisor::new(strategy, vec![p, p, temp, p], 7);
            match sup.child_exited(1, ExitReason::Crashed, at(0)) {
                Decision::Restart { children, .. } => children,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(pick(Strategy::OneForOne), [1]);
        assert_eq!(pick(Strategy::OneForAll), [0, 1, 3]);
        assert_eq!(pick(Strategy::RestForOne), [1, 3]);
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_within_bounds() {
        let b = Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter: 0.0,
        };
        assert_eq!(b.delay(0, 0.5), Duration::from_millis(100));
        assert_eq!(b.delay(2, 0.5), Duration::from_millis(400));
        assert_eq!(b.delay(10, 0.5), Duration::from_secs(1));
        let j = Backoff { jitter: 0.5, ..b };
        assert_eq!(j.delay(0, 0.0), Duration::from_millis(50));
        assert!(j.delay(0, 0.999) < Duration::from_millis(150));
    }

    #[test]
    fn a_zero_window_is_refused() {
        let err = ChildPolicy::default()
            .with("intensity=3/0s")
            .expect_err("zero window");
        assert_eq!(err.field, "intensity");
        assert!(err.message.contains("longer than zero"), "{err}");
        // No restarts at all: the window does not matter. One shorter than
        // the backoff is OTP's meaning, allowed.
        assert!(ChildPolicy::default().with("intensity=0/0s").is_ok());
        assert!(ChildPolicy::default()
            .with("intensity=3/1s,backoff=2s..5s")
            .is_ok());
    }

    #[test]
    fn a_temporary_child_that_crashes_escalates_as_its_policy_says() {
        let now = WallTime {
            unix_nanos: 1_764_583_200_000_000_000,
            utc_offset_minutes: 0,
        };
        let mut supervisor = Supervisor::new(Strategy::OneForOne, Vec::new(), 7);
        let node = supervisor.add_child(policy("restart=temporary,escalate=fail-node"));
        assert_eq!(
            supervisor.child_exited(node, ExitReason::Crashed, now),
            Decision::Escalate {
                escalation: Escalation::FailNode,
                restarts: 0
            }
        );
        // A reported failure is the workflow's to route, as it is.
        assert_eq!(
            supervisor.child_exited(node, ExitReason::Failed, now),
            Decision::Leave
        );
        let run = supervisor.add_child(policy("restart=temporary"));
        assert_eq!(
            supervisor.child_exited(run, ExitReason::Crashed, now),
            Decision::Leave
        );
    }

    #[test]
    fn policies_parse_with_field_errors() {
        let p = policy("restart=permanent,intensity=5/1m,backoff=200ms..10s,escalate=fail-node");
        assert_eq!(p.restart, RestartType::Permanent);
        assert_eq!(p.intensity.max_restarts, 5);
        assert_eq!(p.intensity.within, Duration::from_secs(60));
        assert_eq!(p.backoff.max, Duration::from_secs(10));
        assert_eq!(p.escalation, Escalation::FailNode);
        let err = ChildPolicy::default()
            .with("restart=sometimes")
            .expect_err("bad");
        assert_eq!(err.field, "restart");
        let err = ChildPolicy::default().with("intensity=3").expect_err("bad");
        assert_eq!(err.field, "intensity");
        assert!(ChildPolicy::default().with("colour=blue").is_err());
    }

    #[test]
    fn run_policies_apply_defaults_and_node_overrides() {
        let mut run = SupervisionPolicy::default();
        run.apply("Check:restart=permanent").expect("node");
        run.apply("intensity=1/1s").expect("default");
        assert_eq!(run.for_node("Check").restart, RestartType::Permanent);
        assert_eq!(run.for_node("Check").intensity.max_restarts, 1);
        assert_eq!(run.for_node("Other").restart, RestartType::Transient);
        assert!(run.apply("Check:restart=never").is_err());
    }
}
