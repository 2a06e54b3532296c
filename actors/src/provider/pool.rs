//! The process's provider actors, keyed by provider and base URL, and the
//! completers runs use to reach them.

use std::sync::{Arc, OnceLock};

use actix::{Actor, Addr, Arbiter, ArbiterHandle, System};
use dashmap::DashMap;
use tracker_runtime::future::BoxFuture;
use tracker_runtime::llm::codecs;
use tracker_runtime::llm::config::ProviderSettings;
use tracker_runtime::llm::{
    Completer, ErrorKind, NoticeSink, ProviderError, Request, Response, TextSink,
};

use super::actor::{Complete, ProviderActor, ProviderOptions, ProviderStats};
use super::transport::HttpTransport;

/// One provider actor, once started, and its counters.
type Slot = (Option<Addr<ProviderActor>>, Arc<ProviderStats>);

/// Starts provider actors on first use and shares them between runs.
///
/// The actors live on an arbiter (thread) of their own, started with the
/// first of them: HTTP traffic and SSE decoding never compete with the run
/// actors' thread, and any task can reach them by address.
#[derive(Debug, Default)]
pub struct ProviderPool {
    /// The actor (once started) and its counters, by provider and base URL.
    actors: DashMap<(String, String), Slot>,
    options: ProviderOptions,
    arbiter: OnceLock<ArbiterHandle>,
}

impl ProviderPool {
    /// A pool whose actors use `options`.
    pub fn new(options: ProviderOptions) -> Arc<ProviderPool> {
        Arc::new(ProviderPool {
            actors: DashMap::new(),
            options,
            arbiter: OnceLock::new(),
        })
    }

    /// A completer for `settings`' provider. The actor behind it starts with
    /// the first request (inside the actor system).
    pub fn completer(self: &Arc<Self>, settings: ProviderSettings) -> Arc<dyn Completer> {
        Arc::new(ProviderHandle {
            pool: Arc::clone(self),
            settings,
        })
    }

    /// The counters of the actor for `provider` at `base_url`, once it runs.
    pub fn stats(&self, provider: &str, base_url: &str) -> Option<Arc<ProviderStats>> {
        self.actors
            .get(&(provider.to_string(), base_url.to_string()))
            .map(|entry| Arc::clone(&entry.1))
    }

    /// The counters of every actor started so far: provider, base URL,
    /// counters.
    pub fn all_stats(&self) -> Vec<(String, String, Arc<ProviderStats>)> {
        let mut all: Vec<_> = self
            .actors
            .iter()
            .map(|entry| {
                let (provider, base_url) = entry.key().clone();
                (provider, base_url, Arc::clone(&entry.value().1))
            })
            .collect();
        all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        all
    }

    /// The actor for `settings`, started if need be (or started again if
    /// it stopped).
    fn actor(&self, settings: &ProviderSettings) -> Result<Addr<ProviderActor>, ProviderError> {
        let key = (settings.provider.to_string(), settings.base_url.clone());
        let mut entry = self.actors.entry(key).or_default();
        let running = entry.0.as_ref().filter(|addr| addr.connected());
        if let Some(addr) = running {
            return Ok(addr.clone());
        }
        let codec = codecs::for_provider(settings.provider).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Configuration,
                settings.provider,
                "no wire format for this provider",
            )
        })?;
        if System::try_current().is_none() {
            return Err(ProviderError::new(
                ErrorKind::Configuration,
                settings.provider,
                "provider actors need a running actor system",
            ));
        }
        let transport = HttpTransport::new(codec, settings.clone(), self.options.idle_timeout)?;
        let arbiter = self.arbiter.get_or_init(|| Arbiter::new().handle());
        let actor = ProviderActor::new(transport, self.options);
        let stats = actor.stats();
        let addr = ProviderActor::start_in_arbiter(arbiter, |_| actor);
        *entry = (Some(addr.clone()), stats);
        Ok(addr)
    }
}

/// A run's way to one provider actor.
#[derive(Debug)]
struct ProviderHandle {
    pool: Arc<ProviderPool>,
    settings: ProviderSettings,
}

impl Completer for ProviderHandle {
    fn complete_noticed(
        &self,
        request: Arc<Request>,
        text: Option<TextSink>,
        notices: Option<NoticeSink>,
    ) -> BoxFuture<Result<Response, ProviderError>> {
        let provider = self.settings.provider;
        let actor = self.pool.actor(&self.settings);
        Box::pin(async move {
            let actor = actor?;
            // Held for as long as this future lives: dropping it (the run was
            // cancelled) tells the actor to abandon the request.
            let (_waiting, caller_gone) = tokio::sync::oneshot::channel();
            actor
                .send(Complete {
                    request,
                    text,
                    notices,
                    caller_gone,
                })
                .await
                .unwrap_or_else(|_| {
                    Err(ProviderError::new(
                        ErrorKind::Network,
                        provider,
                        "the provider actor stopped",
                    ))
                })
        })
    }
}
