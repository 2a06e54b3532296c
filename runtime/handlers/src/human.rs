//! The `wait.human` handler: a gate a person (or a stand-in) answers
//! (engine-semantics §5.4).
//!
//! The handler builds the question; an [`Interviewer`] answers it — the console,
//! the TUI, a webhook, or [`AutoApprove`] — and the handler turns the answer into
//! an outcome. `gate_opened` and `gate_resolved` bracket every ask.

use std::time::Duration;

use super::questions::{self, Answer, Question};
use super::{BoxFuture, ContextVars, HandlerEnv, NodeHandler};
use tracker_runtime::context;
use tracker_runtime::engine::NodeTask;
use tracker_runtime::event::{Actor, EventKind, GateDetail, GateQuestion, PipelineEvent};
use tracker_runtime::interpolate::{expand_braces, Mode};
/// Why an interviewer gave no answer (defined beside [`HandlerError`]).
pub use tracker_runtime::outcome::GateError;
use tracker_runtime::outcome::{HandlerError, NodeResult, Outcome, FAIL, SUCCESS};
use tracker_runtime::spec::{HumanSpec, KindSpec};

/// How much of a gate's prompt its `gate_opened` event carries.
const EVENT_PROMPT_LIMIT: usize = 4096;

/// What kind of answer a gate wants (defined with the node's spec).
pub use tracker_runtime::spec::GateMode;

/// The gate settings of `task`'s node.
fn gate_spec(task: &NodeTask) -> Result<&HumanSpec, HandlerError> {
    match &task.spec.kind {
        KindSpec::Human(gate) => Ok(gate),
        _ => Err(HandlerError::Config {
            node: task.node_id.clone(),
            message: format!("node {:?} is not a human gate", task.node_id),
        }),
    }
}

/// A question for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateRequest {
    /// The run.
    pub run_id: String,
    /// The gate node.
    pub node_id: String,
    /// What kind of answer is wanted.
    pub mode: GateMode,
    /// The gate's title.
    pub label: String,
    /// The full prompt.
    pub prompt: String,
    /// The options (choice, yes/no, labelled freeform); empty for plain text.
    pub choices: Vec<String>,
    /// For a choice gate, the key each option's edge routes on (its
    /// `choice:`, else its label, else its target), in the options' order:
    /// an answer may name the key instead of the option. Empty otherwise.
    pub keys: Vec<String>,
    /// The option taken when nobody picks one.
    pub default: String,
    /// The questions (interview).
    pub questions: Vec<Question>,
}

/// A typed answer that names none of a gate's options, where only they will
/// do (a choice or yes/no gate).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not one of gate {node:?}'s choices: {}", .choices.join(", "))]
pub struct NotAChoice {
    /// The gate's node.
    pub node: String,
    /// What was typed.
    pub given: String,
    /// What it could have been.
    pub choices: Vec<String>,
}

impl GateRequest {
    /// Whether an answer must be one of [`choices`](Self::choices): a choice
    /// or yes/no gate. A freeform gate's labels are suggestions.
    pub fn takes_only_choices(&self) -> bool {
        matches!(self.mode, GateMode::Choice | GateMode::YesNo) && !self.choices.is_empty()
    }

    /// The option taken when none is typed: the default, else the first.
    pub fn default_pick(&self) -> Option<&str> {
        if self.default.is_empty() {
            self.choices.first().map(String::as_str)
        } else {
            Some(&self.default)
        }
    }

    /// The option `typed` picks: nothing is the default, then the option it
    /// names exactly, then ignoring case, then by its number (from 1), then
    /// the one option starting with it when it is a single character. Text
    /// that picks none is an error where only options will do, and is taken
    /// as typed elsewhere (a freeform gate's own words).
    pub fn resolve(&self, typed: &str) -> Result<String, NotAChoice> {
        let line = typed.trim();
        if self.choices.is_empty() {
            return Ok(typed.to_string());
        }
        if line.is_empty() {
            return Ok(self.default_pick().unwrap_or_default().to_string());
        }
        let choices = &self.choices;
        // An option's edge key names it too (`choice: approve` under the
        // label "Publish it").
        let keyed = |same: &dyn Fn(&str) -> bool| {
            self.keys
                .iter()
                .position(|k| same(k))
                .and_then(|i| choices.get(i))
        };
        let named = choices
            .iter()
            .find(|c| c.as_str() == line)
            .or_else(|| keyed(&|k| k == line))
            .or_else(|| choices.iter().find(|c| c.eq_ignore_ascii_case(line)))
            .or_else(|| keyed(&|k| k.eq_ignore_ascii_case(line)));
        let numbered = || {
            line.parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| choices.get(i))
        };
        let initial = || {
            let mut chars = line.chars();
            let (Some(first), None) = (chars.next(), chars.next()) else {
                return None;
            };
            let mut starting = choices.iter().filter(|c| {
                c.chars()
                    .next()
                    .is_some_and(|c| c.to_lowercase().eq(first.to_lowercase()))
            });
            match (starting.next(), starting.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        };
        if let Some(choice) = named.or_else(numbered).or_else(initial) {
            return Ok(choice.clone());
        }
        if self.takes_only_choices() {
            return Err(NotAChoice {
                node: self.node_id.clone(),
                given: line.to_string(),
                choices: choices.clone(),
            });
        }
        Ok(line.to_string())
    }
}

/// An answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateAnswer {
    /// The chosen option or the text typed.
    pub response: String,
    /// One answer per question (interview).
    pub answers: Vec<Answer>,
    /// Who answered.
    pub actor: Actor,
}

/// Answers gates.
pub trait Interviewer: Send + Sync {
    /// Answers `request`; an error ends the run as a handler error.
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>>;
}

/// Answers every gate at once, deterministically: the default or first option,
/// `auto-approved` for free text, the first option or `yes` for each interview
/// question (`--auto-approve`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AutoApprove;

impl AutoApprove {
    /// The answer `request` gets.
    pub fn answer(request: &GateRequest) -> GateAnswer {
        let response = request
            .default_pick()
            .unwrap_or("auto-approved")
            .to_string();
        let answers = request
            .questions
            .iter()
            .map(|q| Answer {
                answer: if let Some(first) = q.options.first() {
                    first.clone()
                } else if q.is_yes_no {
                    "yes".into()
                } else {
                    "auto-approved".into()
                },
                elaboration: String::new(),
            })
            .collect();
        GateAnswer {
            response,
            answers,
            actor: Actor::Autopilot,
        }
    }
}

impl Interviewer for AutoApprove {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>> {
        let answer = AutoApprove::answer(&request);
        Box::pin(async move { Ok(answer) })
    }
}

/// Runs `wait.human` nodes.
#[derive(Debug)]
pub struct HumanHandler;

impl NodeHandler for HumanHandler {
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async move { run_gate(task, env).await.map_err(Into::into) })
    }
}

/// One outgoing edge as a gate offers it.
struct Offer {
    /// What the person sees: the label, else the target.
    shown: String,
    /// What routing matches: the choice key, else the label, else the target.
    key: String,
}

async fn run_gate(task: NodeTask, env: HandlerEnv) -> Result<Outcome, HandlerError> {
    let id = task.node_id.clone();
    let gate = gate_spec(&task)?;
    let mode = gate.mode();
    let vars = ContextVars::of(&task, &env.plan);
    let offers: Vec<Offer> = env
        .plan
        .outgoing(task.node)
        .map(|e| Offer {
            shown: if e.label.is_empty() {
                e.to_id.clone()
            } else {
                e.label.clone()
            },
            key: e.routing_key().to_string(),
        })
        .collect();
    let labelled: Vec<&Offer> = env
        .plan
        .outgoing(task.node)
        .zip(&offers)
        .filter(|(e, _)| !e.label.is_empty())
        .map(|(_, o)| o)
        .collect();
    let default = gate.default_choice.as_str().to_string();
    let (choices, questions) = match mode {
        GateMode::Choice => {
            if offers.is_empty() {
                return Err(HandlerError::Config {
                    node: id.clone(),
                    message: format!("choice gate {id:?} has no outgoing edges to choose from"),
                });
            }
            (offers.iter().map(|o| o.shown.clone()).collect(), Vec::new())
        }
        GateMode::YesNo => (vec!["Yes".into(), "No".into()], Vec::new()),
        GateMode::Freeform => (
            labelled.iter().map(|o| o.shown.clone()).collect(),
            Vec::new(),
        ),
        GateMode::Interview => {
            let key = gate.questions_key.as_str();
            let source = if key.is_empty() {
                vars.get(context::LAST_RESPONSE)
            } else {
                vars.get(key)
            };
            (Vec::new(), questions::parse(source))
        }
    };
    let keys = if mode == GateMode::Choice {
        offers.iter().map(|o| o.key.clone()).collect()
    } else {
        Vec::new()
    };
    let request = GateRequest {
        run_id: task.run_id.clone(),
        node_id: id.clone(),
        mode,
        label: env.plan.node(task.node).declared.label.clone(),
        prompt: gate_prompt(&task, &env),
        choices,
        keys,
        default,
        questions,
    };

    // Events are made where they are sent: a named event (1.5 KB) would be
    // kept in this future, which lives as long as the gate waits.
    env.events.emit(opened_event(&task, &env, &request)).await;

    // Boxed: a gate may wait for days, and this future is as large as its
    // largest state.
    let asked = Box::pin(ask(&env, request.clone(), gate.timeout)).await;
    let result = match asked {
        Ok(Some(answer)) => Ok(answer_outcome(&task, &request, &offers, answer)),
        Ok(None) => Ok(timeout_outcome(&task, &request, &offers)),
        Err(error) => Err(error),
    };

    env.events
        .emit(resolved_event(&task, &env, mode, &result))
        .await;

    result
        .map(|(outcome, _)| outcome)
        .map_err(|source| HandlerError::Gate {
            node: id.clone(),
            source,
        })
}

/// The `gate_opened` event of `request`.
fn opened_event(task: &NodeTask, env: &HandlerEnv, request: &GateRequest) -> PipelineEvent {
    let id = &request.node_id;
    let mode = request.mode;
    let mut opened = env
        .event(EventKind::GateOpened, task)
        .with_gate(GateDetail {
            gate_id: Some(id.clone()),
            mode: Some(mode.as_str().into()),
            label: Some(request.label.clone()).filter(|l| !l.is_empty()),
            prompt: Some(
                tracker_runtime::text::head(&request.prompt, EVENT_PROMPT_LIMIT).to_string(),
            ),
            choices: request.choices.clone(),
            questions: request
                .questions
                .iter()
                .map(|q| GateQuestion {
                    id: q.id.clone(),
                    text: q.text.clone(),
                    options: q.options.clone(),
                    is_yes_no: q.is_yes_no,
                })
                .collect(),
            ..GateDetail::default()
        });
    opened.message = Some(format!("gate {id:?} opened ({})", mode.as_str()));
    opened
}

/// The `gate_resolved` event of gate `task` (in `mode`), answered (or
/// not) as `result` says.
fn resolved_event(
    task: &NodeTask,
    env: &HandlerEnv,
    mode: GateMode,
    result: &Result<(Outcome, bool), GateError>,
) -> PipelineEvent {
    let id = &task.node_id;
    let (response, outcome_status, actor, timed_out, error) = match result {
        Ok((outcome, timed_out)) => (
            outcome
                .context_updates
                .get(&format!("response.{id}"))
                .cloned()
                .unwrap_or_else(|| outcome.preferred_label.clone()),
            Some(outcome.status.clone()),
            outcome.actor,
            *timed_out,
            None,
        ),
        Err(error) => (String::new(), None, None, false, Some(error.to_string())),
    };
    let mut resolved = env
        .event(EventKind::GateResolved, task)
        .with_gate(GateDetail {
            gate_id: Some(id.clone()),
            mode: Some(mode.as_str().into()),
            response: Some(response).filter(|r| !r.is_empty()),
            outcome: outcome_status,
            actor,
            timed_out,
            ..GateDetail::default()
        });
    resolved.message = Some(format!("gate {id:?} resolved"));
    resolved.error = error;
    resolved
}

/// Asks, within `timeout` if one is set. `Ok(None)` means it timed out.
async fn ask(
    env: &HandlerEnv,
    request: GateRequest,
    timeout: Option<Duration>,
) -> Result<Option<GateAnswer>, GateError> {
    let asking = env.services.interviewer.ask(request);
    match timeout {
        None => asking.await.map(Some),
        Some(limit) => match tokio::time::timeout(limit, asking).await {
            Ok(answer) => answer.map(Some),
            Err(_) => Ok(None),
        },
    }
}

/// The prompt a person sees: the label (or `Human gate: <id>`), the node's prompt
/// with `${…}` expanded, and the previous node's output.
fn gate_prompt(task: &NodeTask, env: &HandlerEnv) -> String {
    let spec = env.plan.node(task.node);
    let mut prompt = if spec.declared.label.is_empty() {
        format!("Human gate: {}", task.node_id)
    } else {
        spec.declared.label.clone()
    };
    let body = match &task.spec.kind {
        KindSpec::Human(gate) => gate.prompt.as_str(),
        _ => "",
    };
    if !body.trim().is_empty() {
        let vars = ContextVars::of(task, &env.plan);
        let expanded =
            expand_braces(body, &vars, Mode::Prompt).unwrap_or_else(|_| body.to_string());
        prompt.push_str("\n\n");
        prompt.push_str(&expanded);
    }
    let last = task
        .context
        .get(context::LAST_RESPONSE)
        .map_or("", String::as_str);
    if !last.is_empty() {
        prompt.push_str("\n\n---\n");
        prompt.push_str(last);
    }
    prompt
}

/// The outcome of an answered gate, and whether it timed out (never, here).
fn answer_outcome(
    task: &NodeTask,
    request: &GateRequest,
    offers: &[Offer],
    answer: GateAnswer,
) -> (Outcome, bool) {
    let id = &task.node_id;
    let mut outcome = Outcome::success();
    outcome.actor = Some(answer.actor);
    match request.mode {
        GateMode::Choice => {
            outcome.preferred_label = routing_key(offers, &answer.response);
        }
        GateMode::YesNo => {
            let no = answer.response.eq_ignore_ascii_case("no");
            outcome.status = if no { FAIL } else { SUCCESS }.into();
            outcome.preferred_label = answer.response.clone();
        }
        GateMode::Freeform => {
            let matched = offers
                .iter()
                .find(|o| o.shown.eq_ignore_ascii_case(answer.response.trim()))
                .map(|o| o.key.clone())
                .or_else(|| {
                    offers
                        .iter()
                        .find(|o| o.key.eq_ignore_ascii_case(answer.response.trim()))
                        .map(|o| o.key.clone())
                });
            outcome.preferred_label = matched.unwrap_or_else(|| request.default.clone());
            outcome = outcome
                .update(context::HUMAN_RESPONSE, answer.response.clone())
                .update(format!("response.{id}"), answer.response);
        }
        GateMode::Interview => {
            let key = match &task.spec.kind {
                KindSpec::Human(gate) => gate.answers_key.get(),
                _ => None,
            }
            .unwrap_or("interview_answers");
            let summary = questions::answers_summary(&request.questions, &answer.answers);
            outcome = outcome
                .update(
                    key,
                    questions::answers_json(
                        &request.questions,
                        &answer.answers,
                        answer.response == questions::CANCELED,
                    ),
                )
                .update(context::HUMAN_RESPONSE, summary.clone())
                .update(format!("response.{id}"), summary);
        }
    }
    (outcome, false)
}

/// The routing key of the offer shown as (or keyed) `pick`, else `pick` itself.
fn routing_key(offers: &[Offer], pick: &str) -> String {
    offers
        .iter()
        .find(|o| o.shown == pick)
        .or_else(|| offers.iter().find(|o| o.key == pick))
        .map_or_else(|| pick.to_string(), |o| o.key.clone())
}

/// A gate nobody answered in time: `timeout_action: fail` fails it; otherwise
/// the default answer is taken, and without one it fails.
fn timeout_outcome(task: &NodeTask, request: &GateRequest, offers: &[Offer]) -> (Outcome, bool) {
    let fail_on_timeout =
        matches!(&task.spec.kind, KindSpec::Human(gate) if gate.fails_on_timeout());
    if fail_on_timeout || request.default.is_empty() {
        let text = if fail_on_timeout {
            "timed out"
        } else {
            "timed out (no default)"
        };
        let outcome = Outcome::with_status(FAIL).update(context::HUMAN_RESPONSE, text);
        return (outcome, true);
    }
    let mut outcome = Outcome::success().update(context::HUMAN_RESPONSE, request.default.clone());
    outcome.preferred_label = routing_key(offers, &request.default);
    (outcome, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(mode: GateMode, choices: &[&str], default: &str) -> GateRequest {
        GateRequest {
            run_id: "r".into(),
            node_id: "G".into(),
            mode,
            label: "Gate".into(),
            prompt: "?".into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            keys: Vec::new(),
            default: default.into(),
            questions: Vec::new(),
        }
    }

    #[test]
    fn auto_approve_takes_the_default_then_the_first_option() {
        assert_eq!(
            AutoApprove::answer(&request(GateMode::Choice, &["ship", "revise"], "")).response,
            "ship"
        );
        assert_eq!(
            AutoApprove::answer(&request(GateMode::Choice, &["ship", "revise"], "revise")).response,
            "revise"
        );
        assert_eq!(
            AutoApprove::answer(&request(GateMode::YesNo, &["Yes", "No"], "")).response,
            "Yes"
        );
        assert_eq!(
            AutoApprove::answer(&request(GateMode::Freeform, &[], "")).response,
            "auto-approved"
        );
        let mut interview = request(GateMode::Interview, &[], "");
        interview.questions = questions::parse(tracker_runtime::llm::stub::INTERVIEW_QUESTIONS);
        let answer = AutoApprove::answer(&interview);
        let texts: Vec<&str> = answer.answers.iter().map(|a| a.answer.as_str()).collect();
        assert_eq!(texts, ["postgres", "yes"]);
        assert_eq!(answer.actor, Actor::Autopilot);
    }

    #[test]
    fn typed_answers_resolve_to_the_option_they_name() {
        let r = request(GateMode::Choice, &["✅ Ship", "Ünsure", "revise"], "revise");
        assert_eq!(r.resolve("").as_deref(), Ok("revise"));
        assert_eq!(r.resolve("1").as_deref(), Ok("✅ Ship"));
        assert_eq!(r.resolve(" REVISE ").as_deref(), Ok("revise"));
        assert_eq!(r.resolve("ü").as_deref(), Ok("Ünsure"));
        assert_eq!(r.resolve("r").as_deref(), Ok("revise"));
        assert_eq!(r.resolve("✅").as_deref(), Ok("✅ Ship"));
        let numbers = request(GateMode::Choice, &["2", "1"], "");
        assert_eq!(
            numbers.resolve("1").as_deref(),
            Ok("1"),
            "a name before a number"
        );
        assert_eq!(
            numbers.resolve("").as_deref(),
            Ok("2"),
            "no default: the first"
        );
    }

    #[test]
    fn a_choice_or_yes_no_gate_refuses_what_names_none_of_its_options() {
        let r = request(GateMode::Choice, &["delete", "keep"], "keep");
        for wrong in ["kep", "3", "0", "x"] {
            let err = r.resolve(wrong).expect_err(wrong);
            assert_eq!(err.given, wrong);
            assert_eq!(err.choices, ["delete", "keep"]);
        }
        let ambiguous = request(GateMode::Choice, &["stop", "ship"], "");
        assert!(ambiguous.resolve("s").is_err());
        let yes_no = request(GateMode::YesNo, &["Yes", "No"], "");
        assert_eq!(yes_no.resolve("n").as_deref(), Ok("No"));
        assert_eq!(yes_no.resolve("yes").as_deref(), Ok("Yes"));
        assert!(yes_no.resolve("maybe").is_err());
    }

    #[test]
    fn an_answer_may_name_an_options_edge_key() {
        let mut r = request(GateMode::Choice, &["Publish it", "Rework"], "approve");
        r.keys = vec!["approve".into(), "rework".into()];
        assert_eq!(r.resolve("approve").as_deref(), Ok("Publish it"));
        assert_eq!(r.resolve("APPROVE").as_deref(), Ok("Publish it"));
        assert_eq!(
            r.resolve("").as_deref(),
            Ok("approve"),
            "the default as written"
        );
        assert!(r.resolve("aprove").is_err());
    }

    #[test]
    fn a_freeform_gate_takes_its_own_words() {
        let labelled = request(GateMode::Freeform, &["approve", "revise"], "");
        assert_eq!(labelled.resolve("2").as_deref(), Ok("revise"));
        assert_eq!(
            labelled.resolve("tighten the intro").as_deref(),
            Ok("tighten the intro")
        );
        let plain = request(GateMode::Freeform, &[], "");
        assert_eq!(plain.resolve("  as typed ").as_deref(), Ok("  as typed "));
    }

    #[test]
    fn modes_parse_with_choice_as_the_default() {
        assert_eq!(GateMode::parse("yes_no"), GateMode::YesNo);
        assert_eq!(GateMode::parse("whatever"), GateMode::Choice);
    }
}
