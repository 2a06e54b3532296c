//! The catalog's data: one entry per known model, newest first within each provider,
//! built from a shared base by one constructor per provider.

use super::{ModelInfo, Provider, Tier};

/// Defaults shared by every entry; each entry overrides what differs.
const BASE: ModelInfo = ModelInfo {
    id: "",
    provider: Provider::Anthropic,
    display_name: "",
    family: "",
    tier: Tier::Balanced,
    context_window: 200_000,
    max_output_tokens: 64_000,
    input_per_mtok: 0.0,
    output_per_mtok: 0.0,
    cache_read_per_mtok: None,
    cache_write_per_mtok: None,
    supports_reasoning: true,
    supports_tools: true,
    supports_vision: true,
    preview: false,
    deprecated: false,
    aliases: &[],
};

/// An Anthropic entry: cache reads at 0.1× and writes at 1.25× the input price.
const fn claude(
    id: &'static str,
    display_name: &'static str,
    family: &'static str,
    tier: Tier,
    input: f64,
    output: f64,
) -> ModelInfo {
    ModelInfo {
        id,
        display_name,
        family,
        tier,
        input_per_mtok: input,
        output_per_mtok: output,
        cache_read_per_mtok: Some(input * 0.1),
        cache_write_per_mtok: Some(input * 1.25),
        ..BASE
    }
}

/// An OpenAI entry: cached input at the given rate, no cache-write charge.
const fn openai(
    id: &'static str,
    display_name: &'static str,
    family: &'static str,
    tier: Tier,
    prices: [f64; 3],
) -> ModelInfo {
    ModelInfo {
        id,
        provider: Provider::OpenAi,
        display_name,
        family,
        tier,
        context_window: 400_000,
        max_output_tokens: 128_000,
        input_per_mtok: prices[0],
        output_per_mtok: prices[1],
        cache_read_per_mtok: Some(prices[2]),
        cache_write_per_mtok: Some(0.0),
        ..BASE
    }
}

/// A Gemini entry: 1M-token context, cached input at 0.1× the input price.
const fn gemini(
    id: &'static str,
    display_name: &'static str,
    family: &'static str,
    tier: Tier,
    input: f64,
    output: f64,
) -> ModelInfo {
    ModelInfo {
        id,
        provider: Provider::Gemini,
        display_name,
        family,
        tier,
        context_window: 1_048_576,
        max_output_tokens: 65_536,
        input_per_mtok: input,
        output_per_mtok: output,
        cache_read_per_mtok: Some(input * 0.1),
        ..BASE
    }
}

/// The catalog, newest first within each provider.
pub(super) static MODELS: &[ModelInfo] = &[
    // Anthropic.
    ModelInfo {
        context_window: 1_000_000,
        max_output_tokens: 128_000,
        ..claude(
            "claude-fable-5",
            "Claude Fable 5",
            "fable",
            Tier::Flagship,
            10.0,
            50.0,
        )
    },
    ModelInfo {
        context_window: 1_000_000,
        max_output_tokens: 128_000,
        ..claude(
            "claude-opus-5",
            "Claude Opus 5",
            "opus",
            Tier::Frontier,
            5.0,
            25.0,
        )
    },
    ModelInfo {
        context_window: 1_000_000,
        ..claude(
            "claude-sonnet-5",
            "Claude Sonnet 5",
            "sonnet",
            Tier::Balanced,
            3.0,
            15.0,
        )
    },
    ModelInfo {
        max_output_tokens: 128_000,
        ..claude(
            "claude-opus-4-8",
            "Claude Opus 4.8",
            "opus",
            Tier::Frontier,
            5.0,
            25.0,
        )
    },
    ModelInfo {
        max_output_tokens: 128_000,
        ..claude(
            "claude-opus-4-7",
            "Claude Opus 4.7",
            "opus",
            Tier::Frontier,
            5.0,
            25.0,
        )
    },
    ModelInfo {
        max_output_tokens: 128_000,
        ..claude(
            "claude-opus-4-6",
            "Claude Opus 4.6",
            "opus",
            Tier::Frontier,
            5.0,
            25.0,
        )
    },
    claude(
        "claude-sonnet-4-6",
        "Claude Sonnet 4.6",
        "sonnet",
        Tier::Balanced,
        3.0,
        15.0,
    ),
    claude(
        "claude-opus-4-5",
        "Claude Opus 4.5",
        "opus",
        Tier::Frontier,
        5.0,
        25.0,
    ),
    claude(
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        "sonnet",
        Tier::Balanced,
        3.0,
        15.0,
    ),
    claude(
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        "haiku",
        Tier::Fast,
        1.0,
        5.0,
    ),
    ModelInfo {
        max_output_tokens: 32_000,
        deprecated: true,
        ..claude(
            "claude-opus-4-1",
            "Claude Opus 4.1",
            "opus",
            Tier::Frontier,
            15.0,
            75.0,
        )
    },
    ModelInfo {
        max_output_tokens: 32_000,
        deprecated: true,
        aliases: &["claude-opus-4"],
        ..claude(
            "claude-opus-4-0",
            "Claude Opus 4",
            "opus",
            Tier::Frontier,
            15.0,
            75.0,
        )
    },
    ModelInfo {
        deprecated: true,
        aliases: &["claude-sonnet-4"],
        ..claude(
            "claude-sonnet-4-0",
            "Claude Sonnet 4",
            "sonnet",
            Tier::Balanced,
            3.0,
            15.0,
        )
    },
    ModelInfo {
        max_output_tokens: 8_192,
        supports_reasoning: false,
        deprecated: true,
        aliases: &["claude-3-5-haiku"],
        ..claude(
            "claude-haiku-3-5",
            "Claude Haiku 3.5",
            "haiku",
            Tier::Fast,
            0.8,
            4.0,
        )
    },
    // OpenAI.
    ModelInfo {
        context_window: 1_050_000,
        ..openai(
            "gpt-5.4",
            "GPT-5.4",
            "gpt",
            Tier::Frontier,
            [2.5, 15.0, 0.25],
        )
    },
    openai(
        "gpt-5.4-mini",
        "GPT-5.4 mini",
        "mini",
        Tier::Balanced,
        [0.75, 4.5, 0.075],
    ),
    openai(
        "gpt-5.4-nano",
        "GPT-5.4 nano",
        "nano",
        Tier::Fast,
        [0.2, 1.25, 0.02],
    ),
    openai(
        "gpt-5.3-codex",
        "GPT-5.3-Codex",
        "codex",
        Tier::Frontier,
        [1.75, 14.0, 0.175],
    ),
    ModelInfo {
        aliases: &["gpt-5.2-codex"],
        ..openai(
            "gpt-5.2",
            "GPT-5.2",
            "gpt",
            Tier::Frontier,
            [1.75, 14.0, 0.175],
        )
    },
    openai(
        "gpt-5.1",
        "GPT-5.1",
        "gpt",
        Tier::Frontier,
        [1.25, 10.0, 0.125],
    ),
    openai("gpt-5", "GPT-5", "gpt", Tier::Frontier, [1.25, 10.0, 0.125]),
    openai(
        "gpt-5-mini",
        "GPT-5 mini",
        "mini",
        Tier::Balanced,
        [0.25, 2.0, 0.025],
    ),
    openai(
        "gpt-5-nano",
        "GPT-5 nano",
        "nano",
        Tier::Fast,
        [0.05, 0.4, 0.005],
    ),
    ModelInfo {
        context_window: 200_000,
        max_output_tokens: 100_000,
        ..openai(
            "o4-mini",
            "o4-mini",
            "o4-mini",
            Tier::Balanced,
            [1.1, 4.4, 0.275],
        )
    },
    ModelInfo {
        context_window: 200_000,
        max_output_tokens: 100_000,
        ..openai("o3", "o3", "o3", Tier::Frontier, [2.0, 8.0, 0.5])
    },
    ModelInfo {
        context_window: 1_047_576,
        max_output_tokens: 32_768,
        supports_reasoning: false,
        ..openai("gpt-4.1", "GPT-4.1", "gpt", Tier::Balanced, [2.0, 8.0, 0.5])
    },
    ModelInfo {
        context_window: 1_047_576,
        max_output_tokens: 32_768,
        supports_reasoning: false,
        ..openai(
            "gpt-4.1-mini",
            "GPT-4.1 mini",
            "mini",
            Tier::Balanced,
            [0.4, 1.6, 0.1],
        )
    },
    ModelInfo {
        context_window: 1_047_576,
        max_output_tokens: 32_768,
        supports_reasoning: false,
        ..openai(
            "gpt-4.1-nano",
            "GPT-4.1 nano",
            "nano",
            Tier::Fast,
            [0.1, 0.4, 0.025],
        )
    },
    ModelInfo {
        context_window: 128_000,
        max_output_tokens: 16_384,
        supports_reasoning: false,
        ..openai("gpt-4o", "GPT-4o", "4o", Tier::Balanced, [2.5, 10.0, 1.25])
    },
    ModelInfo {
        context_window: 128_000,
        max_output_tokens: 16_384,
        supports_reasoning: false,
        ..openai(
            "gpt-4o-mini",
            "GPT-4o mini",
            "4o-mini",
            Tier::Fast,
            [0.15, 0.6, 0.075],
        )
    },
    ModelInfo {
        context_window: 8_192,
        max_output_tokens: 8_192,
        cache_read_per_mtok: None,
        supports_reasoning: false,
        supports_vision: false,
        deprecated: true,
        ..openai("gpt-4", "GPT-4", "gpt", Tier::Balanced, [30.0, 60.0, 0.0])
    },
    // Gemini.
    gemini(
        "gemini-3.5-flash",
        "Gemini 3.5 Flash",
        "flash",
        Tier::Balanced,
        1.5,
        9.0,
    ),
    ModelInfo {
        preview: true,
        ..gemini(
            "gemini-3.1-pro-preview",
            "Gemini 3.1 Pro Preview",
            "pro",
            Tier::Frontier,
            2.0,
            12.0,
        )
    },
    ModelInfo {
        preview: true,
        ..gemini(
            "gemini-3.1-pro-preview-customtools",
            "Gemini 3.1 Pro Preview (custom tools)",
            "pro-customtools",
            Tier::Frontier,
            2.0,
            12.0,
        )
    },
    ModelInfo {
        preview: true,
        ..gemini(
            "gemini-3-flash-preview",
            "Gemini 3 Flash Preview",
            "flash",
            Tier::Balanced,
            0.5,
            3.0,
        )
    },
    gemini(
        "gemini-2.5-pro",
        "Gemini 2.5 Pro",
        "pro",
        Tier::Frontier,
        1.25,
        10.0,
    ),
    gemini(
        "gemini-2.5-flash",
        "Gemini 2.5 Flash",
        "flash",
        Tier::Balanced,
        0.3,
        2.5,
    ),
    gemini(
        "gemini-2.5-flash-lite",
        "Gemini 2.5 Flash-Lite",
        "flash-lite",
        Tier::Fast,
        0.1,
        0.4,
    ),
];
