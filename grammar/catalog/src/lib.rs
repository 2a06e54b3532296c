//! `tracker-catalog`: the embedded model catalog — known models, their
//! providers, prices and status.
//!
//! **Owns** the table and its lookups. **Must not depend on** any other tracker
//! crate: the language's lints (`dippin`, model names and aliases) and the
//! runtime (cost per call) both read it, so it sits below both. `dippin`
//! re-exports it as `dippin::catalog`.
//!
//! The catalog is a static table ([`models`]) of every model the linter and the
//! runtime know by name. It answers three questions:
//!
//! * *Is this model known?* — [`lookup`] matches ids case-, dot/dash- and
//!   snapshot-date-insensitively (`claude-sonnet-4.6`, `claude-sonnet-4-6` and
//!   `claude-sonnet-4-6-20250514` are the same model) and honours aliases.
//! * *Which model does this alias mean?* — [`resolve_alias`] turns
//!   `[provider/]family@latest|stable|sota` into a concrete entry.
//! * *What did this call cost?* — [`cost_usd`] prices token usage in US dollars.
//!
//! Prices are public list prices in USD per million tokens. A `None` cache price
//! means the provider publishes no separate rate; [`ModelInfo::cost_usd`] then
//! applies the runtime's overlay (cache reads at 10% of the input price, cache
//! writes at 1.25× the input price on Anthropic and free elsewhere).
//!
//! The data itself is in `table.rs`; this file holds the types and the lookups.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

mod table;

use table::MODELS;

/// A first-party LLM provider the catalog lists models for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    /// Anthropic (`claude-*`).
    Anthropic,
    /// OpenAI (`gpt-*`, `o*`).
    OpenAi,
    /// Google Gemini (`gemini-*`); the provider is spelled `gemini`, never `google`.
    Gemini,
}

impl Provider {
    /// Every catalogued provider, in display order.
    pub const ALL: [Provider; 3] = [Provider::Anthropic, Provider::OpenAi, Provider::Gemini];

    /// The provider name as written in `.dip` files (`anthropic`, `openai`, `gemini`).
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
        }
    }

    /// The provider written as `name` (exact, lowercase), if it is catalogued.
    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The leading word of this provider's model ids (`claude`, `gpt`, `gemini`).
    fn id_prefix(self) -> &'static str {
        match self {
            Provider::Anthropic => "claude",
            Provider::OpenAi => "gpt",
            Provider::Gemini => "gemini",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Providers that route to a gateway of the user's choosing: any model id is
/// accepted under them and none is priced.
pub const PASSTHROUGH_PROVIDERS: &[&str] = &["openai-compat"];

/// Whether `provider` is a passthrough provider (see [`PASSTHROUGH_PROVIDERS`]).
pub fn is_passthrough_provider(provider: &str) -> bool {
    PASSTHROUGH_PROVIDERS.contains(&provider)
}

/// Every provider name a `.dip` file may use: the catalogued ones, then the
/// passthrough ones.
pub fn provider_names() -> Vec<&'static str> {
    Provider::ALL
        .iter()
        .map(|p| p.as_str())
        .chain(PASSTHROUGH_PROVIDERS.iter().copied())
        .collect()
}

/// How capable a model is relative to its provider's line-up; `sota` aliases pick
/// the highest tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Small, fast and cheap (`haiku`, `nano`, `flash-lite`).
    Fast,
    /// The everyday workhorse (`sonnet`, `mini`, `flash`).
    Balanced,
    /// The provider's frontier line (`opus`, `gpt-5.x`, `pro`).
    Frontier,
    /// Above the frontier line (`fable`).
    Flagship,
}

/// Which concrete model an alias selector picks from a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Selector {
    /// The newest non-deprecated member of the family (previews included).
    Latest,
    /// The newest non-deprecated, non-preview member of the family.
    Stable,
    /// The most capable non-deprecated model of the family's provider.
    Sota,
}

impl Selector {
    /// The selector written after `@`, if it is one of `latest`, `stable`, `sota`.
    pub fn from_name(name: &str) -> Option<Selector> {
        match name {
            "latest" => Some(Selector::Latest),
            "stable" => Some(Selector::Stable),
            "sota" => Some(Selector::Sota),
            _ => None,
        }
    }
}

/// One catalogued model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// The canonical model id (`claude-sonnet-4-6`, `gpt-5.4`, `gemini-2.5-pro`).
    pub id: &'static str,
    /// Who serves it.
    pub provider: Provider,
    /// The product name shown to people (`Claude Sonnet 4.6`).
    pub display_name: &'static str,
    /// The family used by aliases: the id without the provider word (`claude`,
    /// `gemini`, `gpt`), the version numbers and the `preview` marker — `sonnet`
    /// for `claude-sonnet-4-6`, `flash` for `gemini-3-flash-preview`, `mini` for
    /// `gpt-5.4-mini`. Ids that are nothing but the provider word and a version
    /// (`gpt-5.4`) keep the provider word as their family (`gpt`).
    pub family: &'static str,
    /// Capability relative to the provider's other models.
    pub tier: Tier,
    /// Maximum input context, in tokens.
    pub context_window: u32,
    /// Maximum output tokens per response.
    pub max_output_tokens: u32,
    /// USD per million input tokens (cache traffic excluded).
    pub input_per_mtok: f64,
    /// USD per million output tokens (reasoning tokens included).
    pub output_per_mtok: f64,
    /// USD per million cache-read tokens, when the provider publishes a rate.
    pub cache_read_per_mtok: Option<f64>,
    /// USD per million cache-write tokens, when the provider publishes a rate.
    pub cache_write_per_mtok: Option<f64>,
    /// Accepts a reasoning effort / extended thinking.
    pub supports_reasoning: bool,
    /// Can call tools.
    pub supports_tools: bool,
    /// Accepts image input.
    pub supports_vision: bool,
    /// A preview release (skipped by `@stable`).
    pub preview: bool,
    /// Retired on the provider's first-party API (lint `DIP161`; never picked by aliases).
    pub deprecated: bool,
    /// Other ids that name this same model (matched like the id).
    pub aliases: &'static [&'static str],
}

impl ModelInfo {
    /// The effective cache-read rate in USD per million tokens: the published rate,
    /// else 10% of the input rate.
    pub fn cache_read_rate(&self) -> f64 {
        self.cache_read_per_mtok
            .unwrap_or(self.input_per_mtok * 0.1)
    }

    /// The effective cache-write rate in USD per million tokens: the published rate,
    /// else 1.25× the input rate on Anthropic and zero elsewhere.
    pub fn cache_write_rate(&self) -> f64 {
        self.cache_write_per_mtok.unwrap_or(match self.provider {
            Provider::Anthropic => self.input_per_mtok * 1.25,
            Provider::OpenAi | Provider::Gemini => 0.0,
        })
    }

    /// The USD cost of one call's usage. `input_tokens` excludes cache traffic;
    /// `output_tokens` includes reasoning tokens.
    pub fn cost_usd(
        &self,
        input_tokens: u64,
        output_tokens: u64,
        cache_read_tokens: u64,
        cache_write_tokens: u64,
    ) -> f64 {
        let per_m = |tokens: u64, rate: f64| tokens as f64 * rate / 1_000_000.0;
        per_m(input_tokens, self.input_per_mtok)
            + per_m(output_tokens, self.output_per_mtok)
            + per_m(cache_read_tokens, self.cache_read_rate())
            + per_m(cache_write_tokens, self.cache_write_rate())
    }

    /// The version numbers in the id, in order (`[4, 6]` for `claude-opus-4-6`,
    /// `[2, 5]` for `gemini-2.5-pro`); larger is newer within a family.
    pub fn version(&self) -> Vec<u32> {
        self.id
            .split('-')
            .filter(|t| is_version_token(t))
            .flat_map(|t| t.split('.'))
            .filter_map(|n| n.parse().ok())
            .collect()
    }
}

/// Whether `token` is a bare version such as `4`, `5.4` or `2.5`.
fn is_version_token(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_digit())
        && token.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Every catalogued model, newest first within each provider.
pub fn models() -> &'static [ModelInfo] {
    MODELS
}

/// The models of one provider, newest first.
pub fn provider_models(provider: Provider) -> impl Iterator<Item = &'static ModelInfo> {
    MODELS.iter().filter(move |m| m.provider == provider)
}

/// Folds a model id for comparison: trimmed, lowercase, dots as dashes.
pub fn normalize(model: &str) -> String {
    model.trim().to_ascii_lowercase().replace('.', "-")
}

/// Strips a trailing snapshot date (`-20250514` or `-2025-05-14`) from a
/// normalised id; returns the id unchanged when it has none.
fn strip_date(id: &str) -> &str {
    let bytes = id.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let n = bytes.len();
    // -YYYYMMDD
    if n > 9 && bytes[n - 9] == b'-' && digits(&bytes[n - 8..]) {
        return &id[..n - 9];
    }
    // -YYYY-MM-DD
    if n > 11
        && bytes[n - 11] == b'-'
        && digits(&bytes[n - 10..n - 6])
        && bytes[n - 6] == b'-'
        && digits(&bytes[n - 5..n - 3])
        && bytes[n - 3] == b'-'
        && digits(&bytes[n - 2..])
    {
        return &id[..n - 11];
    }
    id
}

/// Normalised ids and aliases → index into [`MODELS`].
fn index() -> &'static HashMap<String, usize> {
    static INDEX: OnceLock<HashMap<String, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HashMap::new();
        for (i, m) in MODELS.iter().enumerate() {
            map.entry(normalize(m.id)).or_insert(i);
            for alias in m.aliases {
                map.entry(normalize(alias)).or_insert(i);
            }
        }
        map
    })
}

/// The catalogued model named `model`, if any.
///
/// Matching ignores case and surrounding space, treats `.` and `-` alike
/// (`claude-sonnet-4.6` is `claude-sonnet-4-6`, `gpt-5-4` is `gpt-5.4`), honours
/// [`ModelInfo::aliases`], and finally retries without a trailing snapshot date
/// (`claude-haiku-4-5-20251001`, `gpt-4o-2024-08-06`). Family aliases such as
/// `sonnet@latest` are not ids; see [`resolve_alias`] or [`resolve`].
pub fn lookup(model: &str) -> Option<&'static ModelInfo> {
    let key = normalize(model);
    let index = index();
    index
        .get(&key)
        .or_else(|| {
            let stripped = strip_date(&key);
            (stripped.len() < key.len())
                .then(|| index.get(stripped))
                .flatten()
        })
        .map(|&i| &MODELS[i])
}

/// Whether `model` is written as a family alias (`[provider/]family@selector`).
pub fn is_alias(model: &str) -> bool {
    model.contains('@')
}

/// Resolves a family alias `[provider/]family@latest|stable|sota`.
///
/// `family` is compared like ids (case- and dot/dash-insensitively) against
/// [`ModelInfo::family`]; a leading provider word is tolerated
/// (`claude-sonnet@latest` = `sonnet@latest`). Without a provider the family
/// must belong to exactly one provider. Deprecated models are never picked.
///
/// * `latest` — the newest member of the family (previews included);
/// * `stable` — the newest member that is not a preview;
/// * `sota` — the most capable model of the family's provider: the highest
///   [`Tier`], then the newest, previews included.
///
/// Returns `None` for a malformed alias, an unknown provider, selector or family,
/// or a family with no eligible member.
pub fn resolve_alias(alias: &str) -> Option<&'static ModelInfo> {
    let (head, selector) = alias.trim().rsplit_once('@')?;
    let selector = Selector::from_name(&selector.trim().to_ascii_lowercase())?;
    let (provider, family) = match head.split_once('/') {
        Some((p, f)) => (
            Some(Provider::from_name(&p.trim().to_ascii_lowercase())?),
            f,
        ),
        None => (None, head),
    };
    let family = normalize(family);
    if family.is_empty() {
        return None;
    }
    let members = |family: &str| -> Vec<&'static ModelInfo> {
        MODELS
            .iter()
            .filter(|m| !m.deprecated && m.family == family)
            .filter(|m| provider.is_none_or(|p| m.provider == p))
            .collect()
    };
    let mut candidates = members(&family);
    if candidates.is_empty() {
        // Tolerate the provider word: `claude-sonnet`, `gemini-flash`, `gpt-mini`.
        let stripped = Provider::ALL.iter().find_map(|p| {
            family
                .strip_prefix(p.id_prefix())
                .and_then(|rest| rest.strip_prefix('-'))
        });
        candidates = members(stripped?);
    }
    let first = *candidates.first()?;
    if candidates.iter().any(|m| m.provider != first.provider) {
        return None; // ambiguous without a provider
    }
    match selector {
        Selector::Latest => newest(candidates.iter().copied(), |m| m.version()),
        Selector::Stable => newest(candidates.iter().copied().filter(|m| !m.preview), |m| {
            m.version()
        }),
        Selector::Sota => newest(
            provider_models(first.provider).filter(|m| !m.deprecated),
            |m| (m.tier, m.version()),
        ),
    }
}

/// The model with the greatest `key`; the earliest in catalog order on ties.
fn newest<K: Ord>(
    models: impl Iterator<Item = &'static ModelInfo>,
    key: impl Fn(&ModelInfo) -> K,
) -> Option<&'static ModelInfo> {
    let mut best: Option<(&'static ModelInfo, K)> = None;
    for m in models {
        let k = key(m);
        if best.as_ref().is_none_or(|(_, bk)| k > *bk) {
            best = Some((m, k));
        }
    }
    best.map(|(m, _)| m)
}

/// Resolves a model as written in a `.dip` file: a family alias when it contains
/// `@` ([`resolve_alias`]), otherwise an id ([`lookup`]).
pub fn resolve(model: &str) -> Option<&'static ModelInfo> {
    if is_alias(model) {
        resolve_alias(model)
    } else {
        lookup(model)
    }
}

/// The USD cost of one call to `model` (see [`ModelInfo::cost_usd`]), or `None`
/// when the model is not catalogued. `model` may be an id or a family alias.
pub fn cost_usd(
    model: &str,
    input_tokens: u64,
    output_tokens: u64,
    cache_read_tokens: u64,
    cache_write_tokens: u64,
) -> Option<f64> {
    resolve(model).map(|m| {
        m.cost_usd(
            input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_write_tokens,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(m: Option<&ModelInfo>) -> Option<&'static str> {
        m.map(|m| m.id)
    }

    /// The family rule documented on [`ModelInfo::family`].
    fn derived_family(m: &ModelInfo) -> String {
        let mut tokens: Vec<&str> = m.id.split('-').collect();
        if tokens.first() == Some(&m.provider.id_prefix()) {
            tokens.remove(0);
        }
        let rest: Vec<&str> = tokens
            .into_iter()
            .filter(|t| !is_version_token(t) && *t != "preview")
            .collect();
        if rest.is_empty() {
            m.provider.id_prefix().to_string()
        } else {
            rest.join("-")
        }
    }

    #[test]
    fn table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for m in models() {
            assert!(seen.insert(normalize(m.id)), "duplicate id {}", m.id);
            for a in m.aliases {
                assert!(seen.insert(normalize(a)), "duplicate alias {a}");
            }
            assert_eq!(m.family, derived_family(m), "family of {}", m.id);
            assert_eq!(
                m.preview,
                m.id.contains("-preview"),
                "preview flag of {}",
                m.id
            );
            assert!(!m.display_name.is_empty(), "{} has no display name", m.id);
            assert!(
                m.input_per_mtok > 0.0 && m.output_per_mtok > 0.0,
                "{}",
                m.id
            );
            assert!(m.context_window > 0 && m.max_output_tokens > 0, "{}", m.id);
        }
    }

    #[test]
    fn lists_the_tracker_catalog_and_corpus_models() {
        for model in [
            "claude-opus-5",
            "claude-sonnet-5",
            "claude-fable-5",
            "claude-opus-4-8",
            "claude-opus-4-7",
            "claude-opus-4-6",
            "claude-sonnet-4-6",
            "claude-sonnet-4-5",
            "claude-haiku-4-5",
            "gpt-5.4",
            "gpt-5.4-mini",
            "gpt-5.4-nano",
            "gpt-5.2",
            "gpt-5.2-codex",
            "gpt-5.3-codex",
            "gpt-4.1",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "o3",
            "o4-mini",
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4",
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
            "gemini-3.1-pro-preview",
            "gemini-3.1-pro-preview-customtools",
            "gemini-3-flash-preview",
            "gemini-3.5-flash",
        ] {
            assert!(lookup(model).is_some(), "{model} missing");
        }
        assert_eq!(lookup("gpt-4").map(|m| m.deprecated), Some(true));
        assert_eq!(lookup("gpt-4o").map(|m| m.deprecated), Some(false));
    }

    #[test]
    fn lookup_folds_dots_dashes_case_and_dates() {
        assert_eq!(id(lookup("claude-sonnet-4.6")), Some("claude-sonnet-4-6"));
        assert_eq!(id(lookup("claude-sonnet-4-6")), Some("claude-sonnet-4-6"));
        assert_eq!(id(lookup(" Claude-Sonnet-4-6 ")), Some("claude-sonnet-4-6"));
        assert_eq!(id(lookup("gpt-5-4")), Some("gpt-5.4"));
        assert_eq!(id(lookup("gemini-2-5-pro")), Some("gemini-2.5-pro"));
        assert_eq!(
            id(lookup("claude-sonnet-4-20250514")),
            Some("claude-sonnet-4-0")
        );
        assert_eq!(
            id(lookup("claude-haiku-4-5-20251001")),
            Some("claude-haiku-4-5")
        );
        assert_eq!(id(lookup("gpt-4o-2024-08-06")), Some("gpt-4o"));
        assert_eq!(id(lookup("gpt-5.2-codex")), Some("gpt-5.2"));
        assert_eq!(
            id(lookup("claude-3-5-haiku-20241022")),
            Some("claude-haiku-3-5")
        );
    }

    #[test]
    fn lookup_rejects_unknown_and_near_misses() {
        assert!(lookup("claude-sonnet-4-7").is_none());
        assert!(lookup("claude-sonet-4-6").is_none());
        assert!(lookup("org-router/general-v3").is_none());
        assert!(lookup("").is_none());
        assert!(lookup("sonnet@latest").is_none());
        // Only a whole trailing date is stripped.
        assert!(lookup("claude-sonnet-4-6-2025").is_none());
    }

    #[test]
    fn strip_date_only_strips_dates() {
        assert_eq!(strip_date("claude-haiku-4-5-20251001"), "claude-haiku-4-5");
        assert_eq!(strip_date("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(strip_date("gpt-4o"), "gpt-4o");
        assert_eq!(strip_date("20251001"), "20251001");
    }

    #[test]
    fn aliases_pick_latest_stable_and_sota() {
        assert_eq!(id(resolve_alias("sonnet@latest")), Some("claude-sonnet-5"));
        assert_eq!(
            id(resolve_alias("anthropic/opus@stable")),
            Some("claude-opus-5")
        );
        assert_eq!(id(resolve_alias("haiku@latest")), Some("claude-haiku-4-5"));
        assert_eq!(
            id(resolve_alias("anthropic/sonnet@sota")),
            Some("claude-fable-5")
        );
        assert_eq!(
            id(resolve_alias("gemini/flash@latest")),
            Some("gemini-3.5-flash")
        );
        assert_eq!(
            id(resolve_alias("gemini/pro@latest")),
            Some("gemini-3.1-pro-preview")
        );
        assert_eq!(
            id(resolve_alias("gemini/pro@stable")),
            Some("gemini-2.5-pro")
        );
        assert_eq!(
            id(resolve_alias("flash@sota")),
            Some("gemini-3.1-pro-preview")
        );
        assert_eq!(id(resolve_alias("openai/gpt@latest")), Some("gpt-5.4"));
        assert_eq!(id(resolve_alias("mini@latest")), Some("gpt-5.4-mini"));
        assert_eq!(id(resolve_alias("codex@stable")), Some("gpt-5.3-codex"));
        assert_eq!(id(resolve_alias("openai/gpt@sota")), Some("gpt-5.4"));
        assert_eq!(
            id(resolve_alias("claude-sonnet@latest")),
            Some("claude-sonnet-5")
        );
        assert_eq!(
            id(resolve_alias(" Anthropic/Opus@Latest ")),
            Some("claude-opus-5")
        );
    }

    #[test]
    fn aliases_that_resolve_to_nothing() {
        for alias in [
            "sonnet",
            "sonnet@newest",
            "sonet@latest",
            "openai/sonnet@latest",
            "google/flash@latest",
            "@latest",
            "anthropic/@latest",
            // Its only members are previews.
            "gemini/pro-customtools@stable",
        ] {
            assert_eq!(id(resolve_alias(alias)), None, "{alias}");
        }
        assert_eq!(
            id(resolve_alias("gemini/pro-customtools@latest")),
            Some("gemini-3.1-pro-preview-customtools")
        );
    }

    #[test]
    fn deprecated_models_are_never_alias_targets() {
        for selector in ["latest", "stable", "sota"] {
            for family in ["opus", "sonnet", "haiku", "gpt"] {
                let m = resolve_alias(&format!("{family}@{selector}"));
                assert!(m.is_some_and(|m| !m.deprecated), "{family}@{selector}");
            }
        }
    }

    #[test]
    fn cost_uses_list_prices_and_cache_rates() {
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        // Sonnet: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
        assert!(close(
            cost_usd("claude-sonnet-4-6", 1_000_000, 0, 0, 0),
            3.0
        ));
        assert!(close(
            cost_usd("claude-sonnet-4.6", 0, 1_000_000, 0, 0),
            15.0
        ));
        assert!(close(
            cost_usd("claude-sonnet-4-6", 2_000, 1_000, 10_000, 4_000),
            (2_000.0 * 3.0 + 1_000.0 * 15.0 + 10_000.0 * 0.3 + 4_000.0 * 3.75) / 1e6
        ));
        // OpenAI publishes a cached-input rate and charges nothing for cache writes.
        assert!(close(cost_usd("gpt-5.4", 0, 0, 1_000_000, 1_000_000), 0.25));
        // No published cache-read rate: 10% of input.
        assert!(close(cost_usd("gpt-4", 0, 0, 1_000_000, 0), 3.0));
        assert!(close(
            cost_usd("gemini-2.5-flash", 1_000_000, 1_000_000, 0, 0),
            2.8
        ));
        // Aliases price as their target.
        assert!(close(cost_usd("haiku@latest", 1_000_000, 0, 0, 0), 1.0));
        assert_eq!(cost_usd("org-router/general-v3", 1, 1, 0, 0), None);
        assert!(close(cost_usd("o3", 0, 0, 0, 0), 0.0));
    }

    #[test]
    fn versions_order_models_within_a_family() {
        let v = |m: &str| lookup(m).map(ModelInfo::version).unwrap_or_default();
        assert_eq!(v("claude-opus-4-6"), vec![4, 6]);
        assert_eq!(v("gemini-2.5-pro"), vec![2, 5]);
        assert!(v("claude-sonnet-5") > v("claude-sonnet-4-6"));
        assert!(v("gemini-3.5-flash") > v("gemini-3-flash-preview"));
        assert!(v("gpt-5.4") > v("gpt-5"));
    }

    #[test]
    fn providers_and_passthrough() {
        assert_eq!(Provider::from_name("gemini"), Some(Provider::Gemini));
        assert_eq!(Provider::from_name("google"), None);
        assert!(is_passthrough_provider("openai-compat"));
        assert!(!is_passthrough_provider("openai"));
        assert_eq!(
            provider_names(),
            ["anthropic", "openai", "gemini", "openai-compat"]
        );
        assert!(provider_models(Provider::Gemini).all(|m| m.id.starts_with("gemini-")));
    }
}
