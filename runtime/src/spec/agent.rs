//! An agent node's spec.

use std::time::Duration;

use dippin::ir::{AgentConfig, Branch};

use super::setting::SettingValue;
use super::{setting::Positive, Source};
use super::{Setting, SpecError, Styled, Text};
use crate::fidelity::Fidelity;

/// Which agent runs the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// tracker's own agent (`native`, or the reference's `codergen`).
    Native,
    /// Claude Code, driven as a subprocess.
    ClaudeCode,
    /// An agent speaking the Agent Client Protocol.
    Acp,
}

impl SettingValue for Backend {
    const EXPECTED: &'static str = "one of native, claude-code, acp";

    fn read(text: &str) -> Option<Backend> {
        match text.trim() {
            "" | "native" | "codergen" => Some(Backend::Native),
            "claude-code" => Some(Backend::ClaudeCode),
            "acp" => Some(Backend::Acp),
            _ => None,
        }
    }
}

/// What an agent node runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentSpec {
    /// The task (`${…}` references are expanded when the prompt is assembled).
    pub prompt: Text,
    /// Instructions added after tracker's own system prompt.
    pub system_prompt: Text,
    /// `llm_model`: the node's, else its `params:` entry, else the stylesheet's.
    pub model: Text,
    /// `llm_provider`, chosen as `model` is.
    pub provider: Text,
    /// `reasoning_effort`, chosen as `model` is (the workflow's when empty).
    pub reasoning_effort: Text,
    /// Turn limit (the default when unset).
    pub max_turns: Option<u64>,
    /// Timeout of each command the agent runs (the default when unset).
    pub command_timeout: Option<Duration>,
    /// `context_compaction` (the workflow's when empty).
    pub compaction: Text,
    /// `context_compaction_threshold` (the workflow's when unset).
    pub compaction_threshold: Option<f64>,
    /// How much of the previous node's output the prompt sees.
    pub last_response_truncate: Option<usize>,
    /// `injection_cap`: how much of the previous output a `full` prompt
    /// carries (the default when unset).
    pub injection_cap: Option<Setting<i64>>,
    /// The model's last `STATUS:` line decides the outcome.
    pub auto_status: bool,
    /// `response_format` (`json_object`, `json_schema`, else text).
    pub response_format: Text,
    /// The schema for `json_schema`.
    pub response_schema: Text,
    /// Which agent runs the session.
    pub backend: Setting<Backend>,
    /// Where the tools work, below the run's working directory.
    pub working_dir: Text,
    /// `tool_access`: when set, the session gets no tools (as the reference).
    pub tool_access: Text,
    /// `llm_fallbacks`: `provider/model` lanes to move to when the provider
    /// is out of credit (checked by [`super::fallbacks::lanes`]).
    pub fallbacks: Text,
}

impl AgentSpec {
    pub(super) fn compile(
        a: &AgentConfig,
        styled: &Styled,
        source: &Source<'_>,
    ) -> Result<AgentSpec, SpecError> {
        // A typed field wins; an empty one takes the `params:` entry of the
        // reference's name (as the reference's adapter does).
        let text =
            |typed: &str, key: &str| Text::new(typed).or_else(|| source.param(key).map(Text::new));
        let styled_text = |typed: &str, key: &str, style: &Option<String>| {
            text(typed, key).or_else(|| style.as_deref().map(Text::new))
        };
        let positive = |typed: i64, key: &str| -> Option<usize> {
            usize::try_from(typed)
                .ok()
                .filter(|n| *n > 0)
                .or_else(|| source.param(key).and_then(Positive::read).map(|p| p.0))
        };
        let backend = text(&a.backend, "backend");
        let fallbacks = text("", "llm_fallbacks");
        // Checked now, unless a `$variable` decides it: a lane that cannot
        // work is refused before the run, not when the provider runs dry.
        if !fallbacks.as_str().contains('$') {
            super::fallbacks::lanes(fallbacks.as_str())
                .map_err(|problem| source.invalid("llm_fallbacks", fallbacks.as_str(), problem))?;
        }
        Ok(AgentSpec {
            prompt: text(&a.prompt, "prompt"),
            system_prompt: text(&a.system_prompt, "system_prompt"),
            model: styled_text(&a.model, "llm_model", &styled.model),
            provider: styled_text(&a.provider, "llm_provider", &styled.provider),
            reasoning_effort: styled_text(
                &a.reasoning_effort,
                "reasoning_effort",
                &styled.reasoning_effort,
            ),
            max_turns: positive(a.max_turns, "max_turns").and_then(|n| u64::try_from(n).ok()),
            command_timeout: a
                .cmd_timeout
                .to_std()
                .filter(|d| !d.is_zero())
                .or_else(|| source.param("command_timeout").and_then(Duration::read)),
            compaction: text(&a.compaction, "context_compaction"),
            compaction_threshold: if a.compaction_threshold > 0.0 {
                // The reference carries the threshold as text with two
                // decimals; rounding the same way keeps the same sessions.
                format!("{:.2}", a.compaction_threshold).parse().ok()
            } else {
                source
                    .param("context_compaction_threshold")
                    .and_then(|t| t.trim().parse().ok())
            },
            last_response_truncate: positive(a.last_response_truncate, "last_response_truncate"),
            injection_cap: source.param("injection_cap").and_then(Source::lenient),
            auto_status: a.auto_status || source.param("auto_status") == Some("true"),
            response_format: text(&a.response_format, "response_format"),
            response_schema: text(&a.response_schema, "response_schema"),
            backend: source.setting("backend", backend.as_str())?,
            working_dir: text(&a.working_dir, "working_dir"),
            tool_access: text(&a.tool_access, "tool_access"),
            fallbacks,
        })
    }

    pub(super) fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        for text in [
            &mut self.prompt,
            &mut self.system_prompt,
            &mut self.model,
            &mut self.provider,
            &mut self.reasoning_effort,
            &mut self.compaction,
            &mut self.response_format,
            &mut self.response_schema,
            &mut self.working_dir,
            &mut self.tool_access,
            &mut self.fallbacks,
        ] {
            f(text);
        }
        if let Some(cap) = &mut self.injection_cap {
            cap.visit(f);
        }
        self.backend.visit(f);
    }
}

/// What a `parallel` node's `branch` block changes in the node it runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BranchOverride {
    /// `llm_model`.
    pub model: Option<Text>,
    /// `llm_provider`.
    pub provider: Option<Text>,
    /// `fidelity` (an unknown level is ignored, as on a node).
    pub fidelity: Option<Setting<Fidelity>>,
    /// `tool_access`.
    pub tool_access: Option<Text>,
    /// `last_response_truncate`.
    pub last_response_truncate: Option<usize>,
}

impl BranchOverride {
    pub(super) fn of(b: &Branch) -> BranchOverride {
        let text = |t: &str| Some(Text::new(t)).filter(|t| !t.is_empty());
        BranchOverride {
            model: text(&b.model),
            provider: text(&b.provider),
            fidelity: Some(b.fidelity.as_str())
                .filter(|f| !f.is_empty())
                .and_then(Source::lenient),
            tool_access: text(&b.tool_access),
            last_response_truncate: usize::try_from(b.last_response_truncate)
                .ok()
                .filter(|n| *n > 0),
        }
    }

    /// `spec` as this branch runs it.
    pub fn apply(&self, spec: &mut super::NodeSpec) {
        if let Some(fidelity) = &self.fidelity {
            spec.common.fidelity = Some(fidelity.clone());
        }
        let super::KindSpec::Agent(agent) = &mut spec.kind else {
            return;
        };
        if let Some(model) = &self.model {
            agent.model = model.clone();
        }
        if let Some(provider) = &self.provider {
            agent.provider = provider.clone();
        }
        if let Some(access) = &self.tool_access {
            agent.tool_access = access.clone();
        }
        if let Some(n) = self.last_response_truncate {
            agent.last_response_truncate = Some(n);
        }
    }
}
