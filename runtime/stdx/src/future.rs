//! The boxed future every asynchronous trait in the crate returns (handlers,
//! event sinks, completers, agent tools). A leaf: it depends on nothing else
//! in the crate, so any module may use it without importing another's.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
