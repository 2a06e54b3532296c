//! The specs of the nodes that run a child workflow: `subgraph` and
//! `stack.manager_loop`.

use std::time::Duration;

use dippin::condition::Expr;
use dippin::ir::{ManagerLoopConfig, SubgraphConfig};

use super::setting::SettingValue;
use super::{Setting, Source, SpecError, Text};

impl SettingValue for Expr {
    const EXPECTED: &'static str = "a valid condition";

    fn read(text: &str) -> Option<Expr> {
        dippin::condition::parse(text).ok()
    }
}

/// What a `subgraph` node runs.
#[derive(Clone, Debug, PartialEq)]
pub struct SubgraphSpec {
    /// The child workflow, as the loader resolved it.
    pub reference: Text,
    /// Parameters passed to the child, over its own defaults.
    pub params: Vec<(String, Text)>,
}

impl SubgraphSpec {
    pub(super) fn compile(s: &SubgraphConfig) -> SubgraphSpec {
        SubgraphSpec {
            reference: Text::new(&s.reference),
            params: s
                .params
                .iter()
                .map(|(k, v)| (k.clone(), Text::new(v)))
                .collect(),
        }
    }

    pub(super) fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        f(&mut self.reference);
        for (_, value) in &mut self.params {
            f(value);
        }
    }
}

/// What a manager loop supervises and how.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagerSpec {
    /// The child workflow.
    pub reference: Text,
    /// How often it looks at the child (the default when unset).
    pub poll_interval: Option<Duration>,
    /// How many looks before it gives up (the default when unset).
    pub max_cycles: Option<u64>,
    /// Ends the loop when true.
    pub stop_condition: Option<Setting<Expr>>,
    /// Steers the child when true.
    pub steer_condition: Option<Setting<Expr>>,
    /// What steering writes into the child's context, keys `steer.`-prefixed.
    pub steer_context: Vec<(String, Text)>,
}

impl ManagerSpec {
    pub(super) fn compile(
        m: &ManagerLoopConfig,
        source: &Source<'_>,
    ) -> Result<ManagerSpec, SpecError> {
        let condition = |field: &str, c: &Option<dippin::ir::Condition>| match c {
            Some(c) if !c.raw.is_empty() => source.setting(field, &c.raw).map(Some),
            _ => Ok(None),
        };
        let spec = ManagerSpec {
            reference: Text::new(&m.subgraph_ref),
            poll_interval: m.poll_interval.to_std().filter(|d| !d.is_zero()),
            max_cycles: u64::try_from(m.max_cycles).ok().filter(|n| *n > 0),
            stop_condition: condition("stop_condition", &m.stop_condition)?,
            steer_condition: condition("steer_condition", &m.steer_condition)?,
            steer_context: m
                .steer_context
                .iter()
                .map(|(k, v)| (format!("steer.{k}"), Text::new(v)))
                .collect(),
        };
        if spec.steer_condition.is_some() == spec.steer_context.is_empty() {
            let keys: Vec<&str> = m.steer_context.keys().map(String::as_str).collect();
            let (field, value) = match &m.steer_condition {
                Some(c) => ("steer_condition", c.raw.clone()),
                None => ("steer_context", keys.join(",")),
            };
            return Err(source.invalid(
                field,
                &value,
                "is set without the other: steer_condition and steer_context go together".into(),
            ));
        }
        Ok(spec)
    }

    pub(super) fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        f(&mut self.reference);
        for (_, value) in &mut self.steer_context {
            f(value);
        }
        for condition in [&mut self.stop_condition, &mut self.steer_condition]
            .into_iter()
            .flatten()
        {
            condition.visit(f);
        }
    }
}
