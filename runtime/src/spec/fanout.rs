//! The specs of a fan-out (`parallel`) and a fan-in.

use std::time::Duration;

use dippin::ir::{FanInConfig, ParallelConfig};

use super::agent::BranchOverride;
use super::setting::{Positive, SettingError, SettingValue};
use super::{Setting, Source, SpecError, Text};

/// How many successful branches a join needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinPolicy {
    /// At least one.
    Any,
    /// All of them.
    All,
    /// At least this many.
    Quorum(usize),
}

impl JoinPolicy {
    /// Whether `succeeded` of `total` branches is enough.
    pub fn satisfied(self, succeeded: usize, total: usize) -> bool {
        match self {
            JoinPolicy::Any => succeeded >= 1,
            JoinPolicy::All => succeeded == total,
            JoinPolicy::Quorum(n) => succeeded >= n,
        }
    }

    /// The policy's name in `fan_in_policy`.
    pub fn name(self) -> &'static str {
        match self {
            JoinPolicy::Any => "any",
            JoinPolicy::All => "all",
            JoinPolicy::Quorum(_) => "quorum",
        }
    }
}

/// Why a join policy that named a `$variable` cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JoinPolicyError {
    /// `fan_in_policy` or `quorum` spells no value.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// `fan_in_policy: quorum` without a `quorum`.
    #[error("fan_in_policy quorum needs quorum >= 1")]
    QuorumMissing,
}

/// `fan_in_policy` without its count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyName {
    /// `any` (the default).
    Any,
    /// `all`.
    All,
    /// `quorum`, with the count in `quorum`.
    Quorum,
}

impl SettingValue for PolicyName {
    const EXPECTED: &'static str = "one of any, all, quorum";

    fn read(text: &str) -> Option<PolicyName> {
        match text.trim() {
            "" | "any" => Some(PolicyName::Any),
            "all" => Some(PolicyName::All),
            "quorum" => Some(PolicyName::Quorum),
            _ => None,
        }
    }
}

/// What a `parallel` node runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ParallelSpec {
    /// The branch targets in order (empty: the node's outgoing edges, bar
    /// the join).
    pub targets: Vec<String>,
    /// What the `branch` blocks change, by position in `targets`.
    pub overrides: Vec<BranchOverride>,
    /// How many branches must succeed.
    pub join: JoinSpec,
    /// How many branches run at once (all when unset).
    pub max_concurrency: Option<Setting<Positive>>,
    /// How long each branch may run (no limit when unset).
    pub branch_timeout: Option<Setting<Duration>>,
}

impl ParallelSpec {
    pub(super) fn compile(
        p: &ParallelConfig,
        source: &Source<'_>,
    ) -> Result<ParallelSpec, SpecError> {
        let targets = if p.targets.is_empty() {
            source
                .param("parallel_targets")
                .map(csv)
                .unwrap_or_default()
        } else {
            p.targets.clone()
        };
        Ok(ParallelSpec {
            targets,
            overrides: p.branches.iter().map(BranchOverride::of).collect(),
            join: JoinSpec::compile(source)?,
            max_concurrency: source.param("max_concurrency").and_then(Source::lenient),
            branch_timeout: source.param("branch_timeout").and_then(Source::lenient),
        })
    }

    pub(super) fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        self.join.visit_text(f);
        if let Some(limit) = &mut self.max_concurrency {
            limit.visit(f);
        }
        if let Some(timeout) = &mut self.branch_timeout {
            timeout.visit(f);
        }
    }
}

/// What a fan-in joins.
#[derive(Clone, Debug, PartialEq)]
pub struct FanInSpec {
    /// The branches it waits for.
    pub sources: Vec<String>,
    /// How many of them must have succeeded.
    pub join: JoinSpec,
}

impl FanInSpec {
    pub(super) fn compile(f: &FanInConfig, source: &Source<'_>) -> Result<FanInSpec, SpecError> {
        Ok(FanInSpec {
            sources: f.sources.clone(),
            join: JoinSpec::compile(source)?,
        })
    }

    pub(super) fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        self.join.visit_text(f);
    }
}

/// A join's `fan_in_policy` and `quorum` (a fan-out and a fan-in both have
/// one).
#[derive(Clone, Debug, PartialEq)]
pub struct JoinSpec {
    /// `fan_in_policy`.
    pub policy: Setting<PolicyName>,
    /// `quorum`, for the `quorum` policy.
    pub quorum: Option<Setting<Positive>>,
}

impl JoinSpec {
    fn compile(source: &Source<'_>) -> Result<JoinSpec, SpecError> {
        let policy =
            source.setting("fan_in_policy", source.param("fan_in_policy").unwrap_or(""))?;
        let quorum_text = source.param("quorum");
        let quorum = quorum_text.and_then(Source::lenient);
        if policy == Setting::Ready(PolicyName::Quorum) && quorum.is_none() {
            return Err(source.error(
                "quorum",
                quorum_text.unwrap_or(""),
                "a positive integer (fan_in_policy quorum needs one)",
            ));
        }
        Ok(JoinSpec { policy, quorum })
    }

    /// The join policy, or what is wrong with it (possible only when a
    /// setting named a `$variable`).
    pub fn policy(&self) -> Result<JoinPolicy, JoinPolicyError> {
        Ok(match self.policy.value()? {
            PolicyName::Any => JoinPolicy::Any,
            PolicyName::All => JoinPolicy::All,
            PolicyName::Quorum => match &self.quorum {
                Some(quorum) => JoinPolicy::Quorum(quorum.value()?.0),
                None => return Err(JoinPolicyError::QuorumMissing),
            },
        })
    }

    fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        self.policy.visit(f);
        if let Some(quorum) = &mut self.quorum {
            quorum.visit(f);
        }
    }
}

/// The entries of a comma-separated list, trimmed, empty ones left out.
fn csv(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}
