//! The console interviewer: a gate asked on the terminal. The prompt and its
//! options go to stderr, the answer is a line of stdin.

use std::io::{BufRead, Write};
use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, Mutex};
use tracker_handlers::human::{GateAnswer, GateError, GateMode, GateRequest, Interviewer};
use tracker_handlers::questions::Answer;
use tracker_handlers::BoxFuture;
use tracker_runtime::event::Actor as GateActor;

/// Lines typed on standard input, read by one thread for the whole process;
/// `None` marks the end of input.
type Lines = Arc<Mutex<mpsc::Receiver<Option<String>>>>;

fn stdin_lines() -> Lines {
    static LINES: OnceLock<Lines> = OnceLock::new();
    Arc::clone(LINES.get_or_init(|| {
        let (tx, rx) = mpsc::channel(16);
        // A plain thread: reading stdin blocks, and a blocked reader must not
        // keep the process (or a runtime's blocking pool) from exiting.
        let _ = std::thread::Builder::new()
            .name("tracker-stdin".into())
            .spawn(move || {
                for line in std::io::stdin().lock().lines() {
                    let Ok(line) = line else { break };
                    if tx.blocking_send(Some(line)).is_err() {
                        return;
                    }
                }
                let _ = tx.blocking_send(None);
            });
        Arc::new(Mutex::new(rx))
    }))
}

/// Asks on the terminal: the prompt and options go to stderr, the answer is a
/// line of stdin. One gate at a time; on a terminal, lines typed before a
/// prompt appears are not taken as its answer (piped lines always are).
#[derive(Default)]
pub struct ConsoleInterviewer {
    /// The pipeline its gates belong to, said with each (several runs in one
    /// process ask on one console).
    label: Option<String>,
}

impl ConsoleInterviewer {
    /// Asks on the console, naming `label`'s pipeline with each gate.
    pub fn labelled(label: impl Into<String>) -> ConsoleInterviewer {
        ConsoleInterviewer {
            label: Some(label.into()),
        }
    }
}

impl Interviewer for ConsoleInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>> {
        let lines = stdin_lines();
        let label = self.label.clone();
        Box::pin(async move {
            let mut lines = lines.lock().await;
            // On a terminal, what was typed before the prompt appeared is not
            // an answer to it. Piped input is: its lines are the answers, in
            // order, however early they arrive (and its end is kept).
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                while let Ok(Some(_)) = lines.try_recv() {}
            }
            ask_on_console(&request, label.as_deref(), &mut lines).await
        })
    }
}

async fn read_line(lines: &mut mpsc::Receiver<Option<String>>) -> Result<String, GateError> {
    match lines.recv().await {
        Some(Some(line)) => Ok(line),
        _ => Err(GateError::InputClosed),
    }
}

/// Writes `text` to stderr. The prompt, choices and questions come from the
/// workflow (or a model): they are shown printable, so no escape sequence in
/// them can rewrite the terminal or disguise what is being asked.
fn say(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{}", dippin::diagnostic::printable_text(text));
    let _ = err.flush();
}

async fn ask_on_console(
    request: &GateRequest,
    label: Option<&str>,
    lines: &mut mpsc::Receiver<Option<String>>,
) -> Result<GateAnswer, GateError> {
    let of = label.map(|l| format!(" of {l}")).unwrap_or_default();
    say(&format!(
        "\n── gate {} ({}){of} ──\n{}\n",
        request.node_id,
        request.mode.as_str(),
        request.prompt
    ));
    let mut answers = Vec::new();
    let response = match request.mode {
        GateMode::Interview => {
            for q in &request.questions {
                say(&format!("\n{}\n", q.text));
                if !q.options.is_empty() {
                    say(&format!("  options: {}\n", q.options.join(", ")));
                }
                say("> ");
                answers.push(Answer {
                    answer: read_line(lines).await?,
                    elaboration: String::new(),
                });
            }
            String::new()
        }
        _ if request.choices.is_empty() => {
            say("> ");
            read_line(lines).await?
        }
        _ => {
            for (i, choice) in request.choices.iter().enumerate() {
                let default = Some(choice.as_str()) == request.default_pick()
                    || request.keys.get(i).is_some_and(|k| *k == request.default);
                let mark = if default { " (default)" } else { "" };
                say(&format!("  {}. {choice}{mark}\n", i + 1));
            }
            pick_on_console(request, lines).await?
        }
    };
    Ok(GateAnswer {
        response,
        answers,
        actor: GateActor::Human,
    })
}

/// Asks until a line picks one of `request`'s options (a choice or yes/no
/// gate takes nothing else). The end of input picks the gate's default, as
/// the reference's console does; a gate without one fails rather than have
/// its first option (a yes/no gate's "Yes") taken for nobody's answer.
async fn pick_on_console(
    request: &GateRequest,
    lines: &mut mpsc::Receiver<Option<String>>,
) -> Result<String, GateError> {
    loop {
        say("> ");
        let Some(Some(line)) = lines.recv().await else {
            if request.default.is_empty() {
                return Err(GateError::InputClosed);
            }
            say(&format!(
                "\n(end of input: taking the default, {:?})\n",
                request.default
            ));
            return Ok(request.default.clone());
        };
        match request.resolve(&line) {
            Ok(pick) => return Ok(pick),
            Err(err) => say(&format!("{err}; type one of them, or its number\n")),
        }
    }
}
