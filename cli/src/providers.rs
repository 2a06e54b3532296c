//! The LLM providers a command can use: keys and URLs from the environment
//! and env files, tuning from `TRACKER_LLM_*` variables, and the completers
//! a run gets (the offline stub, plus a shared provider actor per
//! configured provider).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use dippin::duration::GoDuration;
use tracker_actors::provider::{ProviderOptions, ProviderPool};
use tracker_handlers::child::Subgraphs;
use tracker_handlers::codergen::provider_and_model;
use tracker_handlers::failover;
use tracker_runtime::llm::config::{self, Env};
use tracker_runtime::llm::stub::{StubCompleter, STUB_PROVIDER};
use tracker_runtime::llm::Completers;
use tracker_runtime::plan::{Handler, SpawnPlan};

/// The environment a run in `workdir` sees: the shell over the env files.
/// What loading warns about (endpoints in the workdir `.env` that may not
/// carry keys from elsewhere) goes to stderr.
pub fn load_env(workdir: &Path) -> Result<Env> {
    let env = Env::load(workdir).map_err(|e| anyhow!("reading env file {e}"))?;
    for warning in env.warnings() {
        eprintln!("warning: {warning}");
    }
    env.remember_secrets();
    Ok(env)
}

/// Provider-client tuning: `TRACKER_LLM_CONCURRENCY` (requests in flight per
/// provider), `TRACKER_LLM_MAX_RETRIES`, `TRACKER_LLM_RETRY_BASE` (a
/// duration; it doubles per retry) and `TRACKER_STREAM_IDLE_TIMEOUT` (a
/// duration).
pub fn options(env: &Env) -> Result<ProviderOptions> {
    let mut options = ProviderOptions::default();
    if let Some(text) = env.get("TRACKER_LLM_CONCURRENCY") {
        options.concurrency = number("TRACKER_LLM_CONCURRENCY", text)?.max(1) as usize;
    }
    if let Some(text) = env.get("TRACKER_LLM_MAX_RETRIES") {
        options.retry.max_retries = number("TRACKER_LLM_MAX_RETRIES", text)?
            .try_into()
            .unwrap_or(u32::MAX);
    }
    if let Some(text) = env.get("TRACKER_LLM_RETRY_BASE") {
        options.retry.base_delay = duration("TRACKER_LLM_RETRY_BASE", text)?;
    }
    if let Some(text) = env.get("TRACKER_STREAM_IDLE_TIMEOUT") {
        let idle = duration("TRACKER_STREAM_IDLE_TIMEOUT", text)?;
        // Zero would fail every call at its first wait for data.
        if idle < Duration::from_millis(1) {
            bail!("TRACKER_STREAM_IDLE_TIMEOUT={text:?}: must be at least 1ms");
        }
        options.idle_timeout = idle;
    }
    Ok(options)
}

fn number(name: &str, text: &str) -> Result<u64> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| anyhow!("{name}={text:?}: expected a whole number"))
}

fn duration(name: &str, text: &str) -> Result<Duration> {
    GoDuration::parse(text.trim())
        .ok()
        .and_then(GoDuration::to_std)
        .ok_or_else(|| anyhow!("{name}={text:?}: expected a duration such as 500ms, 2s or 10m"))
}

/// The completers a run gets: `stub`, and a shared provider actor for each
/// provider in `used` (provider → the first agent node using it). Only the
/// providers a pipeline uses are configured, so a problem with another
/// one's settings does not stop it; one it uses without a key stops the run
/// before anything starts, naming the variable to set.
pub fn completers(env: &Env, used: &BTreeMap<String, String>) -> Result<Completers> {
    let mut completers = Completers::new();
    completers.insert(STUB_PROVIDER, Arc::new(StubCompleter::offline()));
    let mut real = used.iter().filter(|(p, _)| *p != STUB_PROVIDER).peekable();
    if real.peek().is_none() {
        return Ok(completers);
    }
    completers_from(&ProviderPool::new(options(env)?), env, used)
}

/// [`completers`], from an existing pool of provider clients (a service's,
/// shared by all its runs: one run's rate limit holds the others back).
pub fn completers_from(
    pool: &Arc<ProviderPool>,
    env: &Env,
    used: &BTreeMap<String, String>,
) -> Result<Completers> {
    let mut completers = Completers::new();
    completers.insert(STUB_PROVIDER, Arc::new(StubCompleter::offline()));
    for (provider, node) in used.iter().filter(|(p, _)| *p != STUB_PROVIDER) {
        match config::resolve(provider, env) {
            Ok(Some(settings)) => completers.insert(provider.as_str(), pool.completer(settings)),
            Ok(None) => bail!(
                "agent node {node:?}: {}",
                config::missing_key_message(provider)
            ),
            Err(e) => bail!("agent node {node:?}: {e}"),
        }
    }
    Ok(completers)
}

/// The providers the agent nodes of `plan` and its child workflows use,
/// each with the first node that uses it (for error messages).
pub fn providers_used(plan: &SpawnPlan, subgraphs: &Subgraphs) -> BTreeMap<String, String> {
    let mut used = BTreeMap::new();
    for p in std::iter::once(plan).chain(subgraphs.values().map(|p| p.as_ref())) {
        for node in p.nodes.iter().filter(|n| n.handler == Handler::Codergen) {
            let Some(agent) = node.spec.agent() else {
                continue;
            };
            let (provider, _) = provider_and_model(agent, &p.graph_attrs);
            used.entry(provider).or_insert_with(|| node.id.clone());
            // Its `llm_fallbacks` lanes need their providers too (an entry
            // that is not `provider/model` is the node's error when it runs).
            let fallbacks = agent
                .fallbacks
                .get()
                .or_else(|| p.graph_attrs.get("llm_fallbacks").map(String::as_str))
                .unwrap_or("");
            for lane in failover::lanes(fallbacks).unwrap_or_default() {
                used.entry(lane.provider)
                    .or_insert_with(|| format!("{} (llm_fallbacks)", node.id));
            }
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuning_variables_are_read_and_checked() {
        let env = Env::from_pairs([
            ("TRACKER_LLM_MAX_RETRIES", "0"),
            ("TRACKER_LLM_RETRY_BASE", "10ms"),
            ("TRACKER_STREAM_IDLE_TIMEOUT", "2s"),
        ]);
        let read = options(&env).expect("valid");
        assert_eq!(read.retry.max_retries, 0);
        assert_eq!(read.retry.base_delay, Duration::from_millis(10));
        assert_eq!(read.idle_timeout, Duration::from_secs(2));
        for text in ["soon", "0", "0s", "1ns"] {
            let bad = Env::from_pairs([("TRACKER_STREAM_IDLE_TIMEOUT", text)]);
            let err = options(&bad).expect_err("refused").to_string();
            assert!(err.contains("TRACKER_STREAM_IDLE_TIMEOUT"), "{text}: {err}");
        }
    }
}
