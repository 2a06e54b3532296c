//! Models and providers, checked against the catalog ([`crate::catalog`]).
//!
//! * `DIP108` — an unknown model or provider, or a model under the wrong provider;
//! * `DIP119` — an unknown `reasoning_effort`;
//! * `DIP161` — a deprecated model;
//! * `DIP162` — a model alias that resolves to no eligible model.
//!
//! Each agent's effective model and provider are checked (its own, else the defaults');
//! passthrough providers and `${…}` values are left to run time.

use super::common::{closest_fix, maybe_fix};
use crate::catalog::{self, ModelInfo, Provider};
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::{AgentConfig, Node, Workflow};
use crate::lower::values::suggest;

/// Model or provider not in the catalog (or a model/provider mismatch).
pub(crate) const UNKNOWN_MODEL: Code = Code(108);

/// Unknown reasoning effort.
pub(crate) const REASONING_EFFORT: Code = Code(119);

/// Deprecated model.
pub(crate) const DEPRECATED_MODEL: Code = Code(161);

/// Model alias resolving to nothing.
pub(crate) const UNRESOLVED_ALIAS: Code = Code(162);

const REASONING_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh", "max"];

/// Appends the model findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    for node in &wf.nodes {
        if let Some(a) = node.agent() {
            model(wf, node, a, out);
            reasoning_effort(node, a, out);
        }
    }
}

/// DIP108, DIP161 and DIP162 for one agent's effective model and provider.
fn model(wf: &Workflow, node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let own_model = a.model.trim();
    let (model, inherited) = if own_model.is_empty() {
        (wf.defaults.model.trim(), true)
    } else {
        (own_model, false)
    };
    let own_provider = a.provider.trim();
    let provider = if own_provider.is_empty() {
        wf.defaults.provider.trim()
    } else {
        own_provider
    };
    let id = &node.id;
    let span = node.span;
    let from_defaults = |diag: Diagnostic| {
        if inherited {
            diag.with_help("the model is inherited from defaults")
        } else {
            diag
        }
    };

    if catalog::is_passthrough_provider(provider) {
        return; // the gateway decides which ids exist
    }
    if provider.contains("${") {
        return; // expanded at run time
    }
    let known_provider = match provider {
        "" => None,
        name => match Provider::from_name(name) {
            Some(p) => Some(p),
            None => {
                let names = catalog::provider_names();
                let fix = match name {
                    "google" => Some("provider: gemini".to_string()),
                    _ => suggest(name, names.iter().copied()).map(|s| format!("provider: {s}")),
                };
                let diag = Diagnostic::warning(
                    UNKNOWN_MODEL,
                    format!("node {id:?} uses unknown provider {provider:?}"),
                )
                .with_span(span)
                .with_help(format!("known providers: {}", names.join(", ")));
                out.push(maybe_fix(diag, fix));
                return;
            }
        },
    };
    if model.is_empty() || model.contains("${") {
        return; // nothing to check, or expanded at run time (`${params.model}`)
    }

    let mismatch = |info: &ModelInfo, p: Provider| {
        Diagnostic::warning(
            UNKNOWN_MODEL,
            format!(
                "node {id:?} uses model {model:?} with provider {:?}, but the catalog lists it under {:?}",
                p.as_str(),
                info.provider.as_str()
            ),
        )
        .with_span(span)
        .with_fix(format!("provider: {}", info.provider))
    };

    if catalog::is_alias(model) {
        // Without a provider prefix, the alias names a family of the node's provider.
        let qualified = match known_provider {
            Some(p) if !model.contains('/') => format!("{p}/{model}"),
            _ => model.to_string(),
        };
        match catalog::resolve_alias(&qualified) {
            None => out.push(from_defaults(
                Diagnostic::warning(
                    UNRESOLVED_ALIAS,
                    format!("node {id:?} model alias {model:?} resolves to no eligible model"),
                )
                .with_span(span)
                .with_help(
                    "aliases are [provider/]family@latest|stable|sota; the family may be unknown, or all its members deprecated (or previews, for @stable)",
                ),
            )),
            Some(info) => {
                if let Some(p) = known_provider.filter(|p| *p != info.provider) {
                    out.push(from_defaults(mismatch(info, p)));
                }
            }
        }
        return;
    }

    match catalog::lookup(model) {
        None => {
            let ids: Vec<&str> = match known_provider {
                Some(p) => catalog::provider_models(p).map(|m| m.id).collect(),
                None => catalog::models().iter().map(|m| m.id).collect(),
            };
            let message = match known_provider {
                Some(p) => format!(
                    "node {id:?} uses unknown model {model:?} for provider {:?}",
                    p.as_str()
                ),
                None => format!("node {id:?} uses unknown model {model:?}"),
            };
            let help = match known_provider {
                Some(p) => format!("known models for {p}: {}", ids.join(", ")),
                None => "no catalogued provider serves this model; set a provider, or use openai-compat for a custom gateway".to_string(),
            };
            let fix = suggest(&catalog::normalize(model), ids.iter().copied())
                .map(|s| format!("model: {s}"));
            let diag = Diagnostic::warning(UNKNOWN_MODEL, message)
                .with_span(span)
                .with_help(help);
            out.push(from_defaults(maybe_fix(diag, fix)));
        }
        Some(info) => {
            if let Some(p) = known_provider.filter(|p| *p != info.provider) {
                out.push(from_defaults(mismatch(info, p)));
            } else if info.deprecated {
                let replacement =
                    catalog::resolve_alias(&format!("{}/{}@stable", info.provider, info.family));
                let diag = Diagnostic::warning(
                    DEPRECATED_MODEL,
                    format!(
                        "node {id:?} uses model {model:?} (provider {:?}), which is deprecated and retired on the first-party API; pin a current model",
                        info.provider.as_str()
                    ),
                )
                .with_span(span);
                let fix = replacement.map(|m| format!("model: {}", m.id));
                out.push(from_defaults(maybe_fix(diag, fix)));
            }
        }
    }
}

/// DIP119: an unknown reasoning effort.
fn reasoning_effort(node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    let effort = &a.reasoning_effort;
    if !effort.is_empty() && !REASONING_EFFORTS.contains(&effort.as_str()) {
        let diag = Diagnostic::warning(
            REASONING_EFFORT,
            format!("node {id:?} has reasoning_effort {effort:?} which is not a recognized level"),
        )
        .with_span(node.span)
        .with_help(format!("valid levels: {}", REASONING_EFFORTS.join(", ")));
        out.push(maybe_fix(
            diag,
            closest_fix("reasoning_effort", effort, REASONING_EFFORTS),
        ));
    }
}
