//! Gate routing: every human gate of every run goes through the [`GateRouter`],
//! which names whoever answers that run's gates — the console (the command
//! line's), auto-approve, and later the dashboard or a webhook. The ask itself runs in the asking node's task, so
//! a gate whose node is cancelled or times out stops asking. Gates fail closed:
//! a run with no route gets no answer ([`GateError::NoRoute`]), never an
//! approval.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;
use tracker_handlers::human::{GateAnswer, GateError, GateRequest, Interviewer};
use tracker_handlers::BoxFuture;

/// Routes gates by run.
#[derive(Default)]
pub struct GateRouter {
    routes: HashMap<String, Arc<dyn Interviewer>>,
}

impl GateRouter {
    /// A router with no routes: every gate fails until its run is routed.
    pub fn new() -> GateRouter {
        GateRouter::default()
    }
}

impl Actor for GateRouter {
    type Context = Context<Self>;
}

/// Sends run `run_id`'s gates to `interviewer`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Route {
    /// The run.
    pub run_id: String,
    /// Who answers.
    pub interviewer: Arc<dyn Interviewer>,
}

/// Forgets run `run_id`'s route (the run is over).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unroute(pub String);

/// Who answers run `run_id`'s gates, if anyone.
#[derive(Message)]
#[rtype(result = "Option<Arc<dyn Interviewer>>")]
pub struct Resolve(pub String);

impl Handler<Route> for GateRouter {
    type Result = ();

    fn handle(&mut self, msg: Route, _: &mut Self::Context) {
        self.routes.insert(msg.run_id, msg.interviewer);
    }
}

impl Handler<Unroute> for GateRouter {
    type Result = ();

    fn handle(&mut self, msg: Unroute, _: &mut Self::Context) {
        self.routes.remove(&msg.0);
    }
}

impl Handler<Resolve> for GateRouter {
    type Result = MessageResult<Resolve>;

    fn handle(&mut self, msg: Resolve, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.routes.get(&msg.0).cloned())
    }
}

/// The [`Interviewer`] handlers see: asks the router who answers, then asks them.
pub struct RoutedInterviewer {
    router: Addr<GateRouter>,
}

impl RoutedInterviewer {
    /// Asks through `router`.
    pub fn new(router: Addr<GateRouter>) -> RoutedInterviewer {
        RoutedInterviewer { router }
    }
}

impl Interviewer for RoutedInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>> {
        let router = self.router.clone();
        Box::pin(async move {
            let interviewer = router
                .send(Resolve(request.run_id.clone()))
                .await
                .map_err(|e| GateError::RouterUnavailable(e.to_string()))?
                .ok_or_else(|| GateError::NoRoute {
                    run_id: request.run_id.clone(),
                })?;
            interviewer.ask(request).await
        })
    }
}
