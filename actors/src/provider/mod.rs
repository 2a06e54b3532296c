//! LLM providers as shared actors.
//!
//! One [`ProviderActor`](actor::ProviderActor) per provider and base URL
//! serves every run in the process: it caps how many requests are in flight,
//! retries transient failures with backoff, and when the provider says "slow
//! down" (429) it holds back every request to that provider, not just the one
//! that was refused. [`ProviderPool`](pool::ProviderPool) starts the actors on
//! first use and hands runs [`Completer`](tracker_runtime::llm::Completer)s
//! that talk to them. The HTTP itself is in [`transport`].

pub mod actor;
pub mod pool;
pub mod transport;

pub use actor::{ProviderActor, ProviderOptions, ProviderStats};
pub use pool::ProviderPool;
