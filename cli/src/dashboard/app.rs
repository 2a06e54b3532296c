//! The dashboard on a terminal, beside a running run: a thread that owns
//! the terminal and draws, a thread that reads keys, and a forwarder actor
//! that hands it the run's events and gates in the order they came (a gate
//! is never drawn over a node list that has not seen the events before it) —
//! all through one bounded channel (crossbeam), so the run's actors never
//! touch the terminal.
//!
//! The terminal is put back however the dashboard ends: when the run ends,
//! on `q` or Ctrl+C (which cancel the run first), and on a panic.

use std::io::Stdout;
use std::sync::Arc;

use actix::prelude::*;
use crossbeam_channel::{Receiver, Sender};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;
use tokio::sync::oneshot;
use tracker_actors::bus::{Batch, Deliver};
use tracker_handlers::human::{GateAnswer, GateError, GateRequest, Interviewer};
use tracker_handlers::BoxFuture;

use super::gate::GateModal;
use super::model::RunView;
use super::render::draw;
use super::ui::Ui;

/// How many messages wait for the drawing thread at most.
const QUEUE: usize = 1024;

/// The shortest time between two frames (at most 20 a second, however many
/// events come).
const FRAME: std::time::Duration = std::time::Duration::from_millis(50);

/// How often the clock ticks (spinners turn, the elapsed time moves).
const TICK: std::time::Duration = std::time::Duration::from_millis(150);

/// What the drawing thread is told.
pub enum Msg {
    /// The run's events, batch by batch.
    Events(Vec<Batch>),
    /// A gate to ask, and where its answer goes.
    Gate(GateRequest, oneshot::Sender<GateAnswer>),
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal changed size.
    Resize,
    /// Files the dashboard watches changed.
    Changed,
    /// The run has ended: put the terminal back.
    Ended,
}

/// The dashboard of one run, running.
pub struct Dashboard {
    tx: Sender<Msg>,
    /// Hands over the run's events and gates (started on first use, in the
    /// run's actor system).
    forwarder: std::sync::OnceLock<Addr<Forwarder>>,
    drawing: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Dashboard {
    /// Takes over the terminal and shows `view`; `quit` is told when the
    /// person asks to stop the run (`q`, Ctrl+C).
    pub fn start(
        view: RunView,
        quit: tokio::sync::mpsc::UnboundedSender<()>,
    ) -> std::io::Result<Dashboard> {
        let terminal = enter()?;
        let (tx, rx) = crossbeam_channel::bounded(QUEUE);
        let keys = tx.clone();
        std::thread::spawn(move || read_keys(&keys));
        let drawing = std::thread::spawn(move || {
            let _restore = Restore;
            run(terminal, view, &rx, &quit)
        });
        Ok(Dashboard {
            tx,
            forwarder: std::sync::OnceLock::new(),
            drawing: Some(drawing),
        })
    }

    /// The dashboard drawing into an off-screen `width`×`height` buffer
    /// instead of the terminal, with no keys: everything else as
    /// [`Dashboard::start`] (for benchmarks and tests).
    pub fn headless(
        view: RunView,
        quit: tokio::sync::mpsc::UnboundedSender<()>,
        width: u16,
        height: u16,
    ) -> std::io::Result<Dashboard> {
        let terminal = Terminal::new(ratatui::backend::TestBackend::new(width, height))?;
        let (tx, rx) = crossbeam_channel::bounded(QUEUE);
        let drawing = std::thread::spawn(move || run(terminal, view, &rx, &quit));
        Ok(Dashboard {
            tx,
            forwarder: std::sync::OnceLock::new(),
            drawing: Some(drawing),
        })
    }

    /// The subscriber that feeds it the run's events.
    pub fn subscriber(&self) -> Recipient<Deliver> {
        self.forwarder().recipient()
    }

    /// The interviewer that asks the run's gates on it, each after the
    /// events that came before it.
    pub fn interviewer(&self) -> Arc<dyn Interviewer> {
        Arc::new(ForwardedInterviewer {
            forwarder: self.forwarder(),
        })
    }

    fn forwarder(&self) -> Addr<Forwarder> {
        self.forwarder
            .get_or_init(|| Forwarder::new(self.tx.clone()).start())
            .clone()
    }

    /// Ends it (the run has ended) and gives the terminal back.
    pub fn finish(mut self) -> std::io::Result<()> {
        let _ = self.tx.send(Msg::Ended);
        match self.drawing.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the dashboard's thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Ended);
        if let Some(drawing) = self.drawing.take() {
            let _ = drawing.join();
        }
    }
}

/// The terminal the dashboard draws on.
pub type Screen = Terminal<CrosstermBackend<Stdout>>;

/// Raw mode and the alternate screen, with a panic hook that leaves them.
pub fn enter() -> std::io::Result<Screen> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
    enable_raw_mode()?;
    ON_SCREEN.store(true, std::sync::atomic::Ordering::SeqCst);
    execute!(std::io::stdout(), EnterAlternateScreen)?;
    Terminal::new(CrosstermBackend::new(std::io::stdout()))
}

/// Whether [`enter`] took the terminal (and nothing gave it back since).
static ON_SCREEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Leaves raw mode and the alternate screen, if [`enter`] took them (so it
/// may be called on any way out: a console run's stdout gets no escape
/// codes).
pub fn leave() {
    if ON_SCREEN.swap(false, std::sync::atomic::Ordering::SeqCst) {
        let _ = execute!(std::io::stdout(), LeaveAlternateScreen);
        let _ = disable_raw_mode();
    }
}

/// Puts the terminal back when dropped, whatever happened.
pub struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        leave();
    }
}

/// Forwards key presses and resizes until the dashboard is gone.
pub fn read_keys(tx: &Sender<Msg>) {
    loop {
        let msg = match event::read() {
            Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
            Ok(Event::Resize(..)) => Msg::Resize,
            Ok(_) => continue,
            Err(_) => return,
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
}

/// The drawing thread: takes every message waiting, then draws — at most
/// one frame per [`FRAME`]. Once something is to be drawn it sleeps until
/// the frame is due and then takes everything that came meanwhile, so a
/// burst of events costs a wake-up and a frame per [`FRAME`], not one per
/// event. A clock ticks every 150 ms for the spinners and the elapsed time.
fn run<B: ratatui::backend::Backend>(
    mut terminal: Terminal<B>,
    view: RunView,
    rx: &Receiver<Msg>,
    quit: &tokio::sync::mpsc::UnboundedSender<()>,
) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    let ticks = crossbeam_channel::tick(TICK);
    let mut shown = Shown {
        view,
        ui: Ui::default(),
        gates: Vec::new(),
        answered: std::collections::HashMap::new(),
        quit: quit.clone(),
    };
    let mut drawn_at: Option<std::time::Instant> = None;
    let mut stale = true;
    loop {
        let wait = drawn_at.map_or(std::time::Duration::ZERO, |at| {
            FRAME.saturating_sub(at.elapsed())
        });
        if stale && wait.is_zero() {
            terminal.draw(|frame| shown.draw(frame))?;
            drawn_at = Some(std::time::Instant::now());
            stale = false;
            continue;
        }
        let ticked = if stale {
            // A frame is due soon: what comes meanwhile waits in the queue.
            crossbeam_channel::select! {
                recv(ticks) -> _ => true,
                recv(crossbeam_channel::after(wait)) -> _ => false,
            }
        } else {
            crossbeam_channel::select! {
                recv(rx) -> msg => match msg {
                    Ok(msg) => {
                        stale = true;
                        if shown.take(msg) {
                            return Ok(());
                        }
                        false
                    }
                    Err(_) => return Ok(()),
                },
                recv(ticks) -> _ => true,
            }
        };
        if ticked {
            shown.ui.tick += 1;
            shown.ui.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            shown.ui.now_ms = unix_now_ms();
            stale = true;
        }
        for msg in rx.try_iter() {
            stale = true;
            if shown.take(msg) {
                return Ok(());
            }
        }
    }
}

/// What the drawing thread shows: the run, the person's view of it, the
/// gates waiting for them.
struct Shown {
    view: RunView,
    ui: Ui,
    /// Gates waiting, first shown first, with where each answer goes.
    gates: Vec<(GateModal, oneshot::Sender<GateAnswer>)>,
    /// Each interview gate's last answers, by node.
    answered: std::collections::HashMap<String, Vec<tracker_handlers::questions::Answer>>,
    quit: tokio::sync::mpsc::UnboundedSender<()>,
}

impl Shown {
    fn draw(&self, frame: &mut ratatui::Frame<'_>) {
        draw(frame, &self.view, &self.ui);
        if let Some((modal, _)) = self.gates.first() {
            modal.draw(frame, frame.area());
        }
    }

    /// Takes one message; whether the dashboard is to close.
    fn take(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Events(events) => {
                for event in events.iter().flat_map(|batch| batch.iter()) {
                    self.view.apply(event);
                }
            }
            Msg::Gate(request, answer) => {
                // A gate asked again (a loop, a retry) starts from the
                // answers given to it last time.
                let before = self
                    .answered
                    .get(&request.node_id)
                    .cloned()
                    .unwrap_or_default();
                self.ui.yield_keys();
                self.gates
                    .push((GateModal::answered_before(request, &before), answer));
            }
            Msg::Key(key) => self.key(key),
            Msg::Resize | Msg::Changed => {}
            Msg::Ended => return true,
        }
        false
    }

    fn key(&mut self, key: KeyEvent) {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some((modal, _)) = self.gates.first_mut().filter(|_| !ctrl_c) {
            let answer = modal.key(key);
            if modal.canceled() {
                // Closed without an answer: the gate is told so.
                self.gates.remove(0);
            }
            if let Some(answer) = answer {
                let (modal, reply) = self.gates.remove(0);
                if !answer.answers.is_empty() {
                    self.answered
                        .insert(modal.node().to_string(), answer.answers.clone());
                }
                let _ = reply.send(answer);
            }
        } else if ctrl_c
            || (key.code == KeyCode::Char('q') && !self.ui.help && !self.ui.searching())
        {
            // (Asked again, it is asked once: the run's side reads one.)
            let _ = self.quit.send(());
            // Gates still open are given up: the run is ending.
            self.gates.clear();
        } else {
            self.ui.key(key, &self.view);
        }
    }
}

/// The time now in Unix milliseconds (0 if the clock is before 1970).
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Hands the run's events and gates to the drawing thread without ever
/// making the run wait. Batches are gathered for [`GATHER`] and handed over
/// together (one message, not one per batch, however busy the run); a gate
/// goes at once, after the batches that came before it. When the drawing
/// thread's queue is full they wait here, in order, and go at the next try
/// (nothing is dropped, so no state change or gate is lost).
struct Forwarder {
    tx: Sender<Msg>,
    /// Batches being gathered.
    waiting: Vec<Batch>,
    /// What is ready to hand over, in order.
    ready: std::collections::VecDeque<Msg>,
    flush_set: bool,
}

impl Forwarder {
    fn new(tx: Sender<Msg>) -> Forwarder {
        Forwarder {
            tx,
            waiting: Vec::new(),
            ready: std::collections::VecDeque::new(),
            flush_set: false,
        }
    }

    /// Hands over what waits, after [`GATHER`] unless a hand-over is
    /// already due.
    fn flush_soon(&mut self, ctx: &mut Context<Self>) {
        if !self.flush_set {
            self.flush_set = true;
            ctx.run_later(GATHER, |forwarder, ctx| {
                forwarder.flush_set = false;
                forwarder.flush(ctx);
            });
        }
    }

    /// The batches gathered so far, made ready to hand over.
    fn gathered(&mut self) {
        if !self.waiting.is_empty() {
            self.ready
                .push_back(Msg::Events(std::mem::take(&mut self.waiting)));
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        self.gathered();
        while let Some(msg) = self.ready.pop_front() {
            match self.tx.try_send(msg) {
                Ok(()) => {}
                Err(crossbeam_channel::TrySendError::Full(msg)) => {
                    // First again: the order holds.
                    self.ready.push_front(msg);
                    self.flush_soon(ctx);
                    return;
                }
                Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                    // The dashboard is gone: nothing to show them on (a
                    // gate's asker hears it was not answered).
                    self.ready.clear();
                    return;
                }
            }
        }
    }
}

/// How long a forwarder gathers batches before handing them over.
const GATHER: std::time::Duration = std::time::Duration::from_millis(10);

impl Actor for Forwarder {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Forwarder {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        self.waiting.push(msg.0);
        self.flush_soon(ctx);
    }
}

/// A gate to ask, handed over after the events that came before it.
#[derive(Message)]
#[rtype(result = "()")]
struct AskGate(GateRequest, oneshot::Sender<GateAnswer>);

impl Handler<AskGate> for Forwarder {
    type Result = ();

    fn handle(&mut self, msg: AskGate, ctx: &mut Self::Context) {
        // The batches gathered so far go first, now: the gate is not kept
        // waiting for the gathering.
        self.gathered();
        self.ready.push_back(Msg::Gate(msg.0, msg.1));
        self.flush(ctx);
    }
}

/// Asks a run's gates on its dashboard, through the forwarder of its
/// events.
struct ForwardedInterviewer {
    forwarder: Addr<Forwarder>,
}

impl Interviewer for ForwardedInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>> {
        let (reply, answer) = oneshot::channel();
        let forwarder = self.forwarder.clone();
        answer_of(
            async move { forwarder.send(AskGate(request, reply)).await.is_ok() },
            answer,
        )
    }
}

/// The answer to a gate `hand_over` gives to the dashboard (false: nobody
/// took it).
fn answer_of(
    hand_over: impl std::future::Future<Output = bool> + Send + 'static,
    answer: oneshot::Receiver<GateAnswer>,
) -> BoxFuture<Result<GateAnswer, GateError>> {
    Box::pin(async move {
        if !hand_over.await {
            return Err(GateError::InputClosed);
        }
        // Dropped unanswered: closed on the dashboard (Esc), or the
        // dashboard ended.
        answer.await.map_err(|_| GateError::Canceled)
    })
}

/// An interviewer that hands each gate to whatever reads `tx` (the board of
/// several runs) and waits for its answer.
pub fn interviewer_on(tx: Sender<Msg>) -> Arc<dyn Interviewer> {
    Arc::new(DashboardInterviewer { tx })
}

/// Asks the run's gates on the dashboard.
struct DashboardInterviewer {
    tx: Sender<Msg>,
}

impl Interviewer for DashboardInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>> {
        let (reply, answer) = oneshot::channel();
        let tx = self.tx.clone();
        // Sent from the blocking pool: a full queue must not hold up the
        // run's thread; a gate is never dropped.
        let sent = async move {
            let sending = move || tx.send(Msg::Gate(request, reply)).is_ok();
            matches!(tokio::task::spawn_blocking(sending).await, Ok(true))
        };
        answer_of(sent, answer)
    }
}

#[cfg(test)]
mod tests {
    use tracker_handlers::human::GateMode;
    use tracker_runtime::event::{Actor as Answerer, EventKind, EventSource, PipelineEvent};
    use tracker_runtime::time::Timestamp;

    use super::*;

    fn started(node: &str) -> Batch {
        let mut event = PipelineEvent::new(
            EventKind::StageStarted,
            EventSource::Pipeline,
            Timestamp::from_unix_millis(1_765_000_000_000, 0),
        );
        event.node_id = Some(node.into());
        Batch::new(vec![event])
    }

    fn gate() -> GateRequest {
        GateRequest {
            run_id: "a1b2c3d4e5f6".into(),
            node_id: "Gate".into(),
            mode: GateMode::Choice,
            label: "Go on?".into(),
            prompt: "Go on?".into(),
            choices: vec!["yes".into(), "no".into()],
            keys: Vec::new(),
            default: String::new(),
            questions: Vec::new(),
        }
    }

    #[test]
    fn a_gate_reaches_the_drawing_thread_after_the_events_before_it_even_with_its_queue_full() {
        actix::System::new().block_on(async {
            // Room for one message: the gate has to wait behind the events.
            let (tx, rx) = crossbeam_channel::bounded(1);
            let forwarder = Forwarder::new(tx).start();
            for node in ["Before", "Gate"] {
                forwarder
                    .send(Deliver(started(node)))
                    .await
                    .expect("delivered");
            }
            let interviewer = ForwardedInterviewer {
                forwarder: forwarder.clone(),
            };
            let asking = actix::spawn(interviewer.ask(gate()));
            // Read as the drawing thread does, off the actors' thread.
            let (first, second) = tokio::task::spawn_blocking(move || {
                (rx.recv().expect("first"), rx.recv().expect("second"))
            })
            .await
            .expect("read");
            let Msg::Events(batches) = first else {
                panic!("the gate came before the events that preceded it");
            };
            let nodes: Vec<_> = batches
                .iter()
                .flat_map(|batch| batch.iter())
                .filter_map(|event| event.node_id.clone())
                .collect();
            assert_eq!(nodes, ["Before", "Gate"]);
            let Msg::Gate(request, reply) = second else {
                panic!("the gate did not follow its events");
            };
            assert_eq!(request.node_id, "Gate");
            let answer = GateAnswer {
                response: "yes".into(),
                answers: Vec::new(),
                actor: Answerer::Human,
            };
            reply.send(answer.clone()).expect("the asker waits");
            assert_eq!(asking.await.expect("asked").expect("answered"), answer);
        });
    }

    #[test]
    fn a_gate_opening_while_a_search_is_typed_takes_the_keys_from_it() {
        let (quit, _quitting) = tokio::sync::mpsc::unbounded_channel();
        let mut shown = Shown {
            view: RunView::without_plan("Flow", "a1b2c3d4e5f6"),
            ui: Ui::default(),
            gates: Vec::new(),
            answered: std::collections::HashMap::new(),
            quit,
        };
        let key = |code| Msg::Key(KeyEvent::new(code, KeyModifiers::NONE));
        for code in [KeyCode::Char('/'), KeyCode::Char('e'), KeyCode::Char('x')] {
            shown.take(key(code));
        }
        assert!(shown.ui.searching());
        let (reply, answer) = oneshot::channel();
        shown.take(Msg::Gate(gate(), reply));
        // The search line is put away, its query kept; the modal has the keys.
        assert!(!shown.ui.searching());
        assert_eq!(
            shown.ui.search.as_ref().map(|s| s.query.as_str()),
            Some("ex")
        );
        shown.take(key(KeyCode::Down));
        shown.take(key(KeyCode::Enter));
        let mut answer = answer;
        assert_eq!(answer.try_recv().map(|a| a.response).as_deref(), Ok("no"));
    }
}
