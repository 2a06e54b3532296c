//! Gate routing: every human gate of every run goes to the [`GateRouter`], which
//! hands it to whoever answers that run's gates — the console, auto-approve,
//! and later the TUI or a webhook.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::Arc;

use actix::prelude::*;
use tracker_runtime::event::Actor as GateActor;
use tracker_runtime::handler::human::{GateAnswer, GateMode, GateRequest, Interviewer};
use tracker_runtime::handler::questions::Answer;
use tracker_runtime::handler::BoxFuture;

/// Routes gates by run.
pub struct GateRouter {
    routes: HashMap<String, Arc<dyn Interviewer>>,
    default: Arc<dyn Interviewer>,
}

impl GateRouter {
    /// A router sending unrouted gates to `default`.
    pub fn new(default: Arc<dyn Interviewer>) -> GateRouter {
        GateRouter {
            routes: HashMap::new(),
            default,
        }
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

/// Asks a gate.
#[derive(Message)]
#[rtype(result = "Result<GateAnswer, String>")]
pub struct OpenGate(pub GateRequest);

impl Handler<Route> for GateRouter {
    type Result = ();

    fn handle(&mut self, msg: Route, _: &mut Self::Context) {
        self.routes.insert(msg.run_id, msg.interviewer);
    }
}

impl Handler<OpenGate> for GateRouter {
    type Result = ResponseFuture<Result<GateAnswer, String>>;

    fn handle(&mut self, msg: OpenGate, _: &mut Self::Context) -> Self::Result {
        let interviewer = self
            .routes
            .get(&msg.0.run_id)
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.default));
        interviewer.ask(msg.0)
    }
}

/// The [`Interviewer`] handlers see: forwards to the router.
pub struct RoutedInterviewer {
    router: Addr<GateRouter>,
}

impl RoutedInterviewer {
    /// Forwards to `router`.
    pub fn new(router: Addr<GateRouter>) -> RoutedInterviewer {
        RoutedInterviewer { router }
    }
}

impl Interviewer for RoutedInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, String>> {
        let router = self.router.clone();
        Box::pin(async move {
            router
                .send(OpenGate(request))
                .await
                .unwrap_or_else(|e| Err(format!("gate router unavailable: {e}")))
        })
    }
}

/// Asks on the terminal: the prompt and options go to stderr, the answer is a
/// line of stdin. One gate at a time.
#[derive(Default)]
pub struct ConsoleInterviewer {
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Interviewer for ConsoleInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, String>> {
        let turn = Arc::clone(&self.turn);
        Box::pin(async move {
            // Gates of parallel branches wait their turn for the terminal.
            let _turn = turn.lock_owned().await;
            tokio::task::spawn_blocking(move || ask_on_console(&request))
                .await
                .unwrap_or_else(|e| Err(format!("console gate failed: {e}")))
        })
    }
}

fn read_line() -> Result<String, String> {
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    if read == 0 {
        return Err("no answer: standard input is closed (run with --auto-approve to answer gates automatically)".into());
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn ask_on_console(request: &GateRequest) -> Result<GateAnswer, String> {
    let mut err = std::io::stderr().lock();
    let say = |err: &mut std::io::StderrLock<'_>, text: &str| {
        let _ = writeln!(err, "{text}");
    };
    say(
        &mut err,
        &format!(
            "\n── gate {} ({}) ──",
            request.node_id,
            request.mode.as_str()
        ),
    );
    say(&mut err, &request.prompt);
    let mut answers = Vec::new();
    let response = match request.mode {
        GateMode::Interview => {
            for q in &request.questions {
                say(&mut err, &format!("\n{}", q.text));
                if !q.options.is_empty() {
                    say(&mut err, &format!("  options: {}", q.options.join(", ")));
                }
                let _ = write!(err, "> ");
                let _ = err.flush();
                answers.push(Answer {
                    answer: read_line()?,
                    elaboration: String::new(),
                });
            }
            String::new()
        }
        _ if request.choices.is_empty() => {
            let _ = write!(err, "> ");
            let _ = err.flush();
            read_line()?
        }
        _ => {
            for (i, choice) in request.choices.iter().enumerate() {
                let mark = if *choice == request.default {
                    " (default)"
                } else {
                    ""
                };
                say(&mut err, &format!("  {}. {choice}{mark}", i + 1));
            }
            let _ = write!(err, "> ");
            let _ = err.flush();
            let line = read_line()?;
            let line = line.trim();
            if line.is_empty() {
                if request.default.is_empty() {
                    request.choices[0].clone()
                } else {
                    request.default.clone()
                }
            } else if let Some(choice) = line
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| request.choices.get(i))
            {
                choice.clone()
            } else if let Some(choice) = request.choices.iter().find(|c| {
                c.eq_ignore_ascii_case(line) || (c.len() > 1 && c[..1].eq_ignore_ascii_case(line))
            }) {
                choice.clone()
            } else {
                line.to_string()
            }
        }
    };
    Ok(GateAnswer {
        response,
        answers,
        actor: GateActor::Human,
    })
}
