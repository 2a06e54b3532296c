//! The node actor: one per node attempt. It runs the handler in a task of its
//! own, so that a panic in handler code is caught (as the task's join error)
//! and reported like any other exit — never a silently dead actor.

use std::sync::Arc;

use actix::prelude::*;
use tracker_handlers::{HandlerEnv, NodeHandler};
use tracker_runtime::engine::NodeTask;
use tracker_runtime::outcome::NodeResult;

/// How a node attempt ended.
#[derive(Debug)]
pub enum NodeExit {
    /// The handler returned.
    Finished(Box<NodeResult>),
    /// The handler panicked; the message.
    Panicked(String),
    /// The attempt ran past its timeout and was stopped.
    TimedOut(std::time::Duration),
    /// The attempt was aborted (the run was cancelled).
    Aborted,
}

/// Runs one node attempt.
#[derive(Message)]
#[rtype(result = "NodeExit")]
pub struct ExecuteNode {
    /// The attempt.
    pub task: NodeTask,
    /// What the handler may use.
    pub env: HandlerEnv,
    /// The handler.
    pub handler: Arc<dyn NodeHandler>,
    /// How long the attempt may run (none: no limit).
    pub timeout: Option<std::time::Duration>,
}

/// Aborts the attempt: its future is dropped, which kills any process it
/// started.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Abort;

/// One node attempt.
#[derive(Default)]
pub struct NodeActor {
    abort: Option<tokio::task::AbortHandle>,
}

impl Actor for NodeActor {
    type Context = Context<Self>;
}

impl Handler<ExecuteNode> for NodeActor {
    type Result = ResponseFuture<NodeExit>;

    fn handle(&mut self, msg: ExecuteNode, _: &mut Self::Context) -> Self::Result {
        let running = tokio::spawn(msg.handler.run(msg.task, msg.env));
        let abort = running.abort_handle();
        self.abort = Some(abort.clone());
        let timeout = msg.timeout;
        Box::pin(async move {
            let joined = match timeout {
                Some(limit) => match tokio::time::timeout(limit, running).await {
                    Ok(joined) => joined,
                    Err(_) => {
                        // Dropping its future kills what it started.
                        abort.abort();
                        return NodeExit::TimedOut(limit);
                    }
                },
                None => running.await,
            };
            match joined {
                Ok(result) => NodeExit::Finished(Box::new(result)),
                Err(e) if e.is_panic() => NodeExit::Panicked(panic_message(e.into_panic())),
                Err(_) => NodeExit::Aborted,
            }
        })
    }
}

impl Handler<Abort> for NodeActor {
    type Result = ();

    fn handle(&mut self, _: Abort, ctx: &mut Self::Context) {
        if let Some(abort) = self.abort.take() {
            abort.abort();
        }
        ctx.stop();
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(text) => (*text).to_string(),
            Err(_) => "a panic with a non-text payload".to_string(),
        },
    }
}
