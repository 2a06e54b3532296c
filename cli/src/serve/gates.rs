//! Gates a service's runs ask: held until a client answers them over the API
//! (`tracker answer RUN NODE ANSWER`). A gate is answered once; a second
//! answer is refused, as is an answer to a gate that is not waiting.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{json, Value};
use tokio::sync::oneshot;
use tracker_handlers::human::{GateAnswer, GateError, GateRequest, Interviewer, NotAChoice};
use tracker_handlers::questions::Answer;
use tracker_handlers::BoxFuture;
use tracker_runtime::event::Actor;

/// A gate waiting for its answer.
struct Waiting {
    request: GateRequest,
    reply: oneshot::Sender<GateAnswer>,
}

/// The gates waiting across the service, and those already answered.
#[derive(Default)]
pub struct Gates {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    /// By run id, then node id.
    waiting: BTreeMap<(String, String), Waiting>,
    answered: BTreeSet<(String, String)>,
}

/// Why an answer was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The gate is not waiting, and never was answered.
    #[error("run {run:?} has no gate {node:?} waiting for an answer")]
    NotWaiting {
        /// The run.
        run: String,
        /// The gate's node.
        node: String,
    },
    /// The gate was answered already.
    #[error("gate {node:?} of run {run:?} was answered already")]
    AlreadyAnswered {
        /// The run.
        run: String,
        /// The gate's node.
        node: String,
    },
    /// The answer names none of the options of a gate that takes only them.
    #[error(transparent)]
    NotAChoice(#[from] NotAChoice),
    /// An empty answer to a gate that takes only its options and has no
    /// `default`: over the API (an unset `$ANSWER`, say) it picks nothing.
    #[error("gate {node:?} has no default, so an empty answer picks nothing: name one of {}", .choices.join(", "))]
    Empty {
        /// The gate's node.
        node: String,
        /// Its options.
        choices: Vec<String>,
    },
    /// An interview given more answers than it asks questions.
    #[error("gate {node:?} asks {asked} question(s); {given} answers given")]
    AnswerCount {
        /// The gate's node.
        node: String,
        /// Questions it asks.
        asked: usize,
        /// Answers given.
        given: usize,
    },
}

impl Gates {
    /// The gates of run `run` waiting now, as JSON.
    pub fn waiting(&self, run: &str) -> Vec<Value> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        of_run(&held.waiting, run)
            .filter(|((_, _), w)| !w.reply.is_closed())
            .map(|((_, node), w)| {
                json!({
                    "node_id": node,
                    "mode": w.request.mode.as_str(),
                    "label": w.request.label,
                    "prompt": w.request.prompt,
                    "choices": w.request.choices,
                    "default": w.request.default,
                    "questions": w.request.questions.iter().map(|q| q.text.clone()).collect::<Vec<_>>(),
                    // Each question whole, for a client that asks them (the
                    // dashboard): its options, and whether yes or no answers it.
                    "question_forms": w.request.questions.iter().map(|q| json!({
                        "id": q.id,
                        "text": q.text,
                        "context": q.context,
                        "options": q.options,
                        "yes_no": q.is_yes_no,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect()
    }

    /// Whether run `run` has a gate waiting.
    pub fn any_waiting(&self, run: &str) -> bool {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let any = of_run(&held.waiting, run).any(|(_, w)| !w.reply.is_closed());
        any
    }

    /// Answers gate `node` of run `run` with `response` (and, for an
    /// interview, `answers` in question order). A choice or yes/no gate takes
    /// one of its options (by name, in any case, or by number); anything else
    /// is refused and the gate goes on waiting.
    pub fn answer(
        &self,
        run: &str,
        node: &str,
        response: String,
        answers: Vec<String>,
    ) -> Result<(), AnswerError> {
        let key = (run.to_string(), node.to_string());
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        // A gate whose node went (cancelled, timed out, its run over) waits
        // no more.
        let response = match held.waiting.get(&key).filter(|w| !w.reply.is_closed()) {
            Some(w) if w.request.takes_only_choices() => {
                if response.trim().is_empty() && w.request.default.is_empty() {
                    return Err(AnswerError::Empty {
                        node: node.into(),
                        choices: w.request.choices.clone(),
                    });
                }
                w.request.resolve(&response)?
            }
            // Fewer answers are an interview left part answered (as the
            // dashboard's Esc leaves it); more are a mistake.
            Some(w)
                if !w.request.questions.is_empty() && answers.len() > w.request.questions.len() =>
            {
                return Err(AnswerError::AnswerCount {
                    node: node.into(),
                    asked: w.request.questions.len(),
                    given: answers.len(),
                });
            }
            _ => response,
        };
        let waiting = held.waiting.remove(&key).filter(|w| !w.reply.is_closed());
        let Some(waiting) = waiting else {
            return Err(if held.answered.contains(&key) {
                AnswerError::AlreadyAnswered {
                    run: run.into(),
                    node: node.into(),
                }
            } else {
                AnswerError::NotWaiting {
                    run: run.into(),
                    node: node.into(),
                }
            });
        };
        held.answered.insert(key);
        let answer = GateAnswer {
            response,
            answers: answers
                .into_iter()
                .map(|answer| Answer {
                    answer,
                    elaboration: String::new(),
                })
                .collect(),
            actor: Actor::Human,
        };
        // The node may have gone (cancelled, timed out): then nobody waits.
        let _ = waiting.reply.send(answer);
        Ok(())
    }
}

impl Gates {
    /// Forgets run `run`'s gates (it ended).
    pub fn forget(&self, run: &str) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let keys: Vec<(String, String)> =
            of_run(&held.waiting, run).map(|(k, _)| k.clone()).collect();
        for key in keys {
            held.waiting.remove(&key);
        }
        let answered: Vec<(String, String)> = held
            .answered
            .range((run.to_string(), String::new())..)
            .take_while(|(r, _)| r == run)
            .cloned()
            .collect();
        for key in answered {
            held.answered.remove(&key);
        }
    }
}

/// The interviewer of a service's runs: parks each gate in [`Gates`] until
/// it is answered.
pub struct ServiceInterviewer {
    gates: Arc<Gates>,
}

impl ServiceInterviewer {
    /// Parks gates in `gates`.
    pub fn new(gates: Arc<Gates>) -> ServiceInterviewer {
        ServiceInterviewer { gates }
    }
}

impl Interviewer for ServiceInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>> {
        let (reply, answer) = oneshot::channel();
        let key = (request.run_id.clone(), request.node_id.clone());
        {
            let mut held = self
                .gates
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // A gate asked again (a loop, a retry) may be answered again.
            held.answered.remove(&key);
            held.waiting.insert(key, Waiting { request, reply });
        }
        Box::pin(async move { answer.await.map_err(|_| GateError::InputClosed) })
    }
}

/// The gates of `run` (keys sort by run first: a range, not a scan of every
/// run's gates).
fn of_run<'a>(
    waiting: &'a BTreeMap<(String, String), Waiting>,
    run: &'a str,
) -> impl Iterator<Item = (&'a (String, String), &'a Waiting)> + 'a {
    waiting
        .range((run.to_string(), String::new())..)
        .take_while(move |((r, _), _)| r == run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracker_handlers::human::GateMode;
    use tracker_handlers::questions::Question;

    /// Parks an interview of two questions; the asker waits while the
    /// returned future is held.
    fn interview(gates: &Arc<Gates>) -> BoxFuture<Result<GateAnswer, GateError>> {
        let question = |id: &str| Question {
            id: id.into(),
            text: "why?".into(),
            context: String::new(),
            options: Vec::new(),
            is_yes_no: false,
        };
        let request = GateRequest {
            run_id: "r".into(),
            node_id: "Ask".into(),
            mode: GateMode::Interview,
            label: "Ask".into(),
            prompt: String::new(),
            choices: Vec::new(),
            keys: Vec::new(),
            default: String::new(),
            questions: vec![question("q1"), question("q2")],
        };
        ServiceInterviewer::new(Arc::clone(gates)).ask(request)
    }

    #[test]
    fn an_interview_takes_at_most_an_answer_per_question() {
        let gates = Arc::new(Gates::default());
        let _asker = interview(&gates);
        let three = vec!["a".to_string(), "b".into(), "c".into()];
        assert!(matches!(
            gates.answer("r", "Ask", String::new(), three),
            Err(AnswerError::AnswerCount {
                asked: 2,
                given: 3,
                ..
            })
        ));
        // Part answered (an interview left with Esc) is taken.
        assert_eq!(
            gates.answer("r", "Ask", String::new(), vec!["a".into()]),
            Ok(())
        );
    }
}
