//! Typed node specs: what each kind of node needs to run, resolved once when
//! the plan is built.
//!
//! The language's IR already types most settings (durations, counts, flags);
//! the rest arrive as free-form `params:` entries (and, from `.dot` files, as
//! pass-through attributes) that the runtime reads: `max_concurrency`,
//! `fan_in_policy`, `injection_cap`, … A spec gathers both, applies the
//! stylesheet and the reference's precedence rules (a typed field wins over a
//! `params:` entry of the same name), and parses every value once. A value
//! that cannot be used is a [`SpecError`] naming the node, the field and where
//! the node is declared — never a silent default at run time.
//!
//! Two things stay text until a node runs, because the reference defines them
//! that way:
//!
//! * every text setting may name `$variables` (`prompt: fix $target`), expanded
//!   before each attempt ([`NodeSpec::expanded`]);
//! * a setting of any other type whose value holds a `$` is parsed only after
//!   that expansion ([`Setting::Pending`]); a bad value then fails the node
//!   with the same message a bad literal gets at load.
//!
//! The reference's string attributes ([`crate::attrs`]) remain as a derived
//! view for `simulate` and the CLI; handlers and the engine read specs.

mod agent;
pub mod fallbacks;
mod fanout;
mod human;
mod setting;
mod subgraph;
mod tool;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use dippin::ir::{Node, NodeConfig};

pub use agent::{AgentSpec, Backend, BranchOverride};
pub use fanout::{FanInSpec, JoinPolicy, JoinPolicyError, JoinSpec, ParallelSpec, PolicyName};
pub use human::{GateMode, HumanSpec, TimeoutAction};
pub use setting::{Setting, SettingError, SettingValue, Text};
pub use subgraph::{ManagerSpec, SubgraphSpec};
pub use tool::ToolSpec;

use crate::fidelity::Fidelity;
use crate::interpolate::expand_dollar_names;
use crate::supervision::ChildPolicy;

/// A setting a node declares that the runtime cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("node {node:?}: {field} {value:?} {problem}")]
pub struct SpecError {
    /// The node.
    pub node: String,
    /// The setting, under the name the reference gives it.
    pub field: String,
    /// Its value as written (after `$` expansion, for a deferred one).
    pub value: String,
    /// What is wrong with it ("is not a positive integer").
    pub problem: String,
    /// Byte offset of the node's declaration in its source, for a located
    /// report.
    pub offset: usize,
}

/// Everything the engine and a node's handler need of one node, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// Settings every kind has.
    pub common: CommonSpec,
    /// Settings of the node's kind.
    pub kind: KindSpec,
    /// Whether a setting names a `$variable` (set when the spec is built).
    names_variables: bool,
}

/// Settings every node kind has: routing after failure, declared context
/// keys, the goal-gate flag and the context fidelity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommonSpec {
    /// Must succeed before the run may exit.
    pub goal_gate: bool,
    /// Where a retry goes (empty: the node itself).
    pub retry_target: Text,
    /// Where the run goes when retries are exhausted (empty: it fails).
    pub fallback_retry_target: Text,
    /// Context keys the node declares it reads.
    pub reads: Vec<String>,
    /// Context keys the node declares it writes (from its JSON output).
    pub writes: Vec<String>,
    /// The node's own context fidelity, if it sets one.
    pub fidelity: Option<Setting<Fidelity>>,
    /// `params.supervise`: supervision settings for this node
    /// (`restart=permanent,intensity=5/60s`), checked when the plan is built.
    pub supervise: Option<String>,
    /// `params.memoize: true` (not done yet: the command line warns).
    pub memoize: bool,
}

impl CommonSpec {
    /// The node's own fidelity level, if it sets a known one.
    pub fn fidelity(&self) -> Option<Fidelity> {
        self.fidelity.as_ref().and_then(Setting::ready).copied()
    }
}

/// The settings of each node kind.
#[derive(Clone, Debug, PartialEq)]
pub enum KindSpec {
    /// Start, exit and conditional nodes: nothing to configure.
    Plain,
    /// An LLM agent session.
    Agent(Box<AgentSpec>),
    /// A human gate.
    Human(HumanSpec),
    /// A shell command.
    Tool(ToolSpec),
    /// A fan-out.
    Parallel(ParallelSpec),
    /// A fan-in.
    FanIn(FanInSpec),
    /// A child workflow run to completion.
    Subgraph(SubgraphSpec),
    /// A supervised child pipeline.
    Manager(ManagerSpec),
}

/// Style values a matching stylesheet rule gives a node that sets none itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Styled {
    /// `llm_model`.
    pub model: Option<String>,
    /// `llm_provider`.
    pub provider: Option<String>,
    /// `reasoning_effort`.
    pub reasoning_effort: Option<String>,
}

impl NodeSpec {
    /// The spec of `node`, with `styled` values from the stylesheet; `plain`
    /// when it runs as a no-op (a bare start or exit agent).
    pub fn compile(node: &Node, plain: bool, styled: &Styled) -> Result<NodeSpec, SpecError> {
        let source = Source::new(node);
        let kind = match (&node.config, plain) {
            (_, true) | (NodeConfig::Conditional, _) => KindSpec::Plain,
            (NodeConfig::Agent(a), _) => {
                KindSpec::Agent(Box::new(AgentSpec::compile(a, styled, &source)?))
            }
            (NodeConfig::Human(h), _) => KindSpec::Human(HumanSpec::compile(h, &source)?),
            (NodeConfig::Tool(t), _) => KindSpec::Tool(ToolSpec::compile(t, &source)?),
            (NodeConfig::Parallel(p), _) => KindSpec::Parallel(ParallelSpec::compile(p, &source)?),
            (NodeConfig::FanIn(f), _) => KindSpec::FanIn(FanInSpec::compile(f, &source)?),
            (NodeConfig::Subgraph(s), _) => KindSpec::Subgraph(SubgraphSpec::compile(s)),
            (NodeConfig::ManagerLoop(m), _) => KindSpec::Manager(ManagerSpec::compile(m, &source)?),
        };
        let agent = node.agent();
        let fidelity = agent
            .map(|a| a.fidelity.as_str())
            .filter(|f| !f.is_empty())
            .or_else(|| source.param("fidelity"));
        let supervise = match source.param("supervise") {
            Some(text) => match ChildPolicy::default().with(text) {
                Ok(_) => Some(text.to_string()),
                Err(e) => {
                    return Err(source.invalid(
                        "params.supervise",
                        text,
                        format!("is invalid: {e}"),
                    ))
                }
            },
            None => None,
        };
        let common = CommonSpec {
            goal_gate: agent.is_some_and(|a| a.goal_gate)
                || source.param("goal_gate") == Some("true"),
            retry_target: Text::new(&node.retry.retry_target)
                .or_else(|| source.param("retry_target").map(Text::new)),
            fallback_retry_target: Text::new(&node.retry.fallback_target)
                .or_else(|| source.param("fallback_retry_target").map(Text::new)),
            reads: node.io.reads.clone(),
            writes: node.io.writes.clone(),
            // The reference ignores an unknown level (lint DIP114 warns at load).
            fidelity: fidelity.and_then(Source::lenient),
            supervise,
            memoize: source.param("memoize") == Some("true"),
        };
        let mut spec = NodeSpec {
            common,
            kind,
            names_variables: false,
        };
        spec.names_variables = spec.find_variables();
        Ok(spec)
    }

    /// This spec with every `$name` in its text settings expanded from `vars`,
    /// and the settings that waited for that expansion parsed: what one attempt
    /// runs with.
    pub fn expanded(&self, vars: &BTreeMap<String, String>) -> NodeSpec {
        let mut spec = self.clone();
        spec.visit_text(&mut |text| text.expand(vars));
        spec.names_variables = false;
        spec
    }

    /// Whether any of its settings names a `$variable`: only then does an
    /// attempt need its own [`expanded`](NodeSpec::expanded) copy.
    pub fn names_variables(&self) -> bool {
        self.names_variables
    }

    /// Looks for `$variables` in a copy of the settings (they are left as
    /// they are).
    fn find_variables(&self) -> bool {
        let mut found = false;
        self.clone()
            .visit_text(&mut |text| found |= text.as_str().contains('$'));
        found
    }

    /// Rewrites every text setting with `f` (a child workflow's parameters
    /// are injected this way), parsing the settings that waited for it.
    pub fn map_text(&mut self, mut f: impl FnMut(&str) -> String) {
        self.visit_text(&mut |text| *text = Text::from(f(text.as_str())));
        self.names_variables = self.find_variables();
    }

    /// Calls `f` on every text setting, and resolves every pending one after.
    fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        let common = &mut self.common;
        f(&mut common.retry_target);
        f(&mut common.fallback_retry_target);
        if let Some(fidelity) = &mut common.fidelity {
            fidelity.visit(f);
        }
        match &mut self.kind {
            KindSpec::Plain => {}
            KindSpec::FanIn(fan_in) => fan_in.visit_text(f),
            KindSpec::Agent(a) => a.visit_text(f),
            KindSpec::Human(h) => h.visit_text(f),
            KindSpec::Tool(t) => t.visit_text(f),
            KindSpec::Parallel(p) => p.visit_text(f),
            KindSpec::Subgraph(s) => s.visit_text(f),
            KindSpec::Manager(m) => m.visit_text(f),
        }
    }

    /// The child workflow a `subgraph` or manager-loop node runs.
    pub fn child_reference(&self) -> Option<&str> {
        match &self.kind {
            KindSpec::Subgraph(s) => s.reference.get(),
            KindSpec::Manager(m) => m.reference.get(),
            _ => None,
        }
    }

    /// The agent settings, if this is an agent node.
    pub fn agent(&self) -> Option<&AgentSpec> {
        match &self.kind {
            KindSpec::Agent(a) => Some(a),
            _ => None,
        }
    }
}

/// Where a node's settings come from: its free-form `params:` entries (for
/// the kinds that have them) and its position, for errors.
pub(crate) struct Source<'n> {
    node: &'n Node,
    params: Option<&'n BTreeMap<String, String>>,
}

impl<'n> Source<'n> {
    fn new(node: &'n Node) -> Source<'n> {
        let params = match &node.config {
            NodeConfig::Agent(a) => Some(&a.params),
            NodeConfig::Parallel(p) => Some(&p.params),
            NodeConfig::FanIn(f) => Some(&f.params),
            _ => None,
        };
        Source { node, params }
    }

    /// The `params:` entry `key`, if set and not empty.
    pub(crate) fn param(&self, key: &str) -> Option<&'n str> {
        self.params
            .and_then(|p| p.get(key))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `value` of setting `field`, parsed now, or kept for after expansion
    /// when it names a `$variable`.
    pub(crate) fn setting<T: SettingValue>(
        &self,
        field: &str,
        value: &str,
    ) -> Result<Setting<T>, SpecError> {
        Setting::parse(value).ok_or_else(|| self.error(field, value, T::EXPECTED))
    }

    /// `value` parsed (or kept for after expansion), or `None` when it spells
    /// no value: for the settings the reference replaces by a default when
    /// unusable (a lint warns about them at load, at the node).
    pub(crate) fn lenient<T: SettingValue>(value: &str) -> Option<Setting<T>> {
        Setting::parse(value)
    }

    /// A [`SpecError`]: `field` of this node is not `expected`.
    pub(crate) fn error(&self, field: &str, value: &str, expected: &str) -> SpecError {
        self.invalid(field, value, format!("is not {expected}"))
    }

    /// A [`SpecError`]: `field` of this node has `problem`.
    pub(crate) fn invalid(&self, field: &str, value: &str, problem: String) -> SpecError {
        SpecError {
            node: self.node.id.clone(),
            field: field.to_string(),
            value: value.to_string(),
            problem,
            offset: self.node.span.start,
        }
    }
}

/// `vars`-expanded `$name` references in `text`.
fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    if text.contains('$') {
        expand_dollar_names(text, vars)
    } else {
        text.to_string()
    }
}
