//! The two shapes a setting takes in a spec: text that may name `$variables`,
//! and a typed value that may have to wait for them.

use std::collections::BTreeMap;
use std::time::Duration;

use dippin::duration::GoDuration;

/// A text setting. It may name `$variables`, which [`super::NodeSpec::expanded`]
/// replaces before each attempt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// `text` as a setting.
    pub fn new(text: &str) -> Text {
        Text(text.to_string())
    }

    /// The text as it stands (expanded, in an attempt's spec).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is empty (the setting is not set).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text, or `None` when it is not set.
    pub fn get(&self) -> Option<&str> {
        Some(self.0.as_str()).filter(|t| !t.is_empty())
    }

    /// This text when set, else `other`'s.
    pub(crate) fn or_else(self, other: impl FnOnce() -> Option<Text>) -> Text {
        if self.is_empty() {
            other().unwrap_or_default()
        } else {
            self
        }
    }

    /// Replaces `$name` references from `vars`.
    pub(crate) fn expand(&mut self, vars: &BTreeMap<String, String>) {
        if self.0.contains('$') {
            self.0 = super::expand(&self.0, vars);
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(text)
    }
}

/// A value a setting can hold, read from its text.
pub trait SettingValue: Sized + Clone {
    /// What the text must be, for errors ("a positive integer").
    const EXPECTED: &'static str;

    /// The value `text` spells, if it spells one.
    fn read(text: &str) -> Option<Self>;
}

/// A typed setting: parsed when the plan is built, unless its text names a
/// `$variable`, in which case it is parsed when the node runs, after
/// expansion.
#[derive(Clone, Debug, PartialEq)]
pub enum Setting<T> {
    /// The value.
    Ready(T),
    /// Text with a `$variable`, not yet expanded.
    Pending(Text),
    /// Text that, once expanded, spells no value.
    Invalid(String),
}

impl<T: SettingValue> Setting<T> {
    /// `text` parsed, or kept for later when it holds a `$`; `None` when it
    /// holds none and spells no value.
    pub fn parse(text: &str) -> Option<Setting<T>> {
        if text.contains('$') {
            return Some(Setting::Pending(Text::new(text)));
        }
        T::read(text).map(Setting::Ready)
    }

    /// The value, or why there is none. A setting still pending (its spec
    /// was never expanded, or a `$variable` had no value) is taken as its text.
    pub fn value(&self) -> Result<&T, SettingError> {
        let unusable = |text: &str| SettingError {
            value: text.to_string(),
            expected: T::EXPECTED,
        };
        match self {
            Setting::Ready(value) => Ok(value),
            Setting::Pending(text) => Err(unusable(text.as_str())),
            Setting::Invalid(text) => Err(unusable(text)),
        }
    }

    /// The value, if it is known.
    pub fn ready(&self) -> Option<&T> {
        match self {
            Setting::Ready(value) => Some(value),
            _ => None,
        }
    }

    /// Expands a pending setting's text with `f` and parses it, unless it
    /// still names a `$variable` (a child's parameters are injected before
    /// its run expands the rest).
    pub(crate) fn visit(&mut self, f: &mut dyn FnMut(&mut Text)) {
        if let Setting::Pending(text) = self {
            f(text);
            if !text.as_str().contains('$') {
                *self = match T::read(text.as_str()) {
                    Some(value) => Setting::Ready(value),
                    None => Setting::Invalid(text.as_str().to_string()),
                };
            }
        }
    }
}

/// A setting whose text, once its `$variables` were expanded, spells no
/// value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not {expected}")]
pub struct SettingError {
    /// The expanded text.
    pub value: String,
    /// What it must be.
    pub expected: &'static str,
}

/// A count of at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Positive(pub usize);

impl SettingValue for Positive {
    const EXPECTED: &'static str = "a positive integer";

    fn read(text: &str) -> Option<Positive> {
        text.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .map(Positive)
    }
}

impl SettingValue for i64 {
    const EXPECTED: &'static str = "an integer";

    fn read(text: &str) -> Option<i64> {
        text.trim().parse().ok()
    }
}

impl SettingValue for Duration {
    const EXPECTED: &'static str = "a duration such as 30s or 5m";

    fn read(text: &str) -> Option<Duration> {
        GoDuration::parse(text.trim())
            .ok()
            .and_then(GoDuration::to_std)
            .filter(|d| !d.is_zero())
    }
}

impl SettingValue for bool {
    const EXPECTED: &'static str = "true or false";

    fn read(text: &str) -> Option<bool> {
        match text.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

impl SettingValue for crate::fidelity::Fidelity {
    const EXPECTED: &'static str =
        "a fidelity level (full, summary:high, summary:medium, summary:low, compact, truncate)";

    fn read(text: &str) -> Option<Self> {
        crate::fidelity::Fidelity::parse(text.trim())
    }
}
