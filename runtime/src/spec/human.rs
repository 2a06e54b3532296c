//! A human gate's spec.

use std::time::Duration;

use dippin::ir::HumanConfig;

use super::setting::SettingValue;
use super::Source;
use super::{Setting, SpecError, Text};
use crate::wire_enum::wire_enum;

wire_enum! {
    names: as_str, from_wire_name;
    /// What kind of answer a gate wants.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum GateMode {
        /// Pick one of the outgoing edges.
        Choice => "choice",
        /// Yes or no.
        YesNo => "yes_no",
        /// Free text (with labelled choices offered when the edges have labels).
        Freeform => "freeform",
        /// Answer a list of questions an agent wrote.
        Interview => "interview",
    }
}

impl GateMode {
    /// The mode named by a node's `mode` attribute. An unknown name is
    /// `choice`, as in the reference (lint DIP127 warns at load).
    pub fn parse(name: &str) -> GateMode {
        GateMode::from_wire_name(name).unwrap_or(GateMode::Choice)
    }
}

impl SettingValue for GateMode {
    const EXPECTED: &'static str = "one of choice, yes_no, freeform, interview";

    fn read(text: &str) -> Option<GateMode> {
        Some(GateMode::parse(text))
    }
}

/// What a gate nobody answers in time does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeoutAction {
    /// Take the default answer (fail without one).
    #[default]
    Default,
    /// Fail the node.
    Fail,
}

impl SettingValue for TimeoutAction {
    const EXPECTED: &'static str = "fail or default";

    fn read(text: &str) -> Option<TimeoutAction> {
        Some(if text.trim() == "fail" {
            TimeoutAction::Fail
        } else {
            TimeoutAction::Default
        })
    }
}

/// What a human gate asks and how it ends.
#[derive(Clone, Debug, PartialEq)]
pub struct HumanSpec {
    /// What kind of answer it wants.
    pub mode: Setting<GateMode>,
    /// The answer taken when nobody gives one in time.
    pub default_choice: Text,
    /// The body shown under the title.
    pub prompt: Text,
    /// Where an interview's questions come from (the last response when empty).
    pub questions_key: Text,
    /// Where an interview's answers go (`interview_answers` when empty).
    pub answers_key: Text,
    /// How long to wait for an answer (forever when unset).
    pub timeout: Option<Duration>,
    /// What a timeout does.
    pub timeout_action: Setting<TimeoutAction>,
}

impl HumanSpec {
    pub(super) fn compile(h: &HumanConfig, source: &Source<'_>) -> Result<HumanSpec, SpecError> {
        Ok(HumanSpec {
            mode: source.setting("mode", &h.mode)?,
            default_choice: Text::new(&h.default),
            prompt: Text::new(&h.prompt),
            questions_key: Text::new(&h.questions_key),
            answers_key: Text::new(&h.answers_key),
            timeout: h.timeout.to_std().filter(|d| !d.is_zero()),
            timeout_action: source.setting("timeout_action", &h.timeout_action)?,
        })
    }

    /// The mode, `choice` when it could not be read.
    pub fn mode(&self) -> GateMode {
        self.mode.ready().copied().unwrap_or(GateMode::Choice)
    }

    /// Whether a timeout fails the node.
    pub fn fails_on_timeout(&self) -> bool {
        self.timeout_action.ready() == Some(&TimeoutAction::Fail)
    }

    pub(super) fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        for text in [
            &mut self.default_choice,
            &mut self.prompt,
            &mut self.questions_key,
            &mut self.answers_key,
        ] {
            f(text);
        }
        self.mode.visit(f);
        self.timeout_action.visit(f);
    }
}
