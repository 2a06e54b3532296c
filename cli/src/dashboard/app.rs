//! The dashboard on a terminal, beside a running run: a thread that owns
//! the terminal and draws, a thread that reads keys, a bus subscriber that
//! hands it the run's events and an interviewer that hands it the run's
//! gates — all through one bounded channel (crossbeam), so the run's actors
//! never touch the terminal.
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

/// How often the clock ticks (spinners turn, the elapsed time moves).
const TICK: std::time::Duration = std::time::Duration::from_millis(150);

/// What the drawing thread is told.
pub enum Msg {
    /// The run's events.
    Events(Batch),
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
        let drawing = std::thread::spawn(move || run(terminal, view, &rx, &quit));
        Ok(Dashboard {
            tx,
            drawing: Some(drawing),
        })
    }

    /// The subscriber that feeds it the run's events.
    pub fn subscriber(&self) -> Recipient<Deliver> {
        Forwarder {
            tx: self.tx.clone(),
            waiting: std::collections::VecDeque::new(),
            retry_set: false,
        }
        .start()
        .recipient()
    }

    /// The interviewer that asks the run's gates on it.
    pub fn interviewer(&self) -> Arc<dyn Interviewer> {
        Arc::new(DashboardInterviewer {
            tx: self.tx.clone(),
        })
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
    execute!(std::io::stdout(), EnterAlternateScreen)?;
    Terminal::new(CrosstermBackend::new(std::io::stdout()))
}

/// Leaves raw mode and the alternate screen (harmless if not in them).
fn leave() {
    let _ = execute!(std::io::stdout(), LeaveAlternateScreen);
    let _ = disable_raw_mode();
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

/// The drawing thread: draws, then takes every message waiting before it
/// draws again (so a burst of events costs one frame); a clock ticks every
/// 150 ms for the spinners and the elapsed time.
fn run(
    mut terminal: Screen,
    mut view: RunView,
    rx: &Receiver<Msg>,
    quit: &tokio::sync::mpsc::UnboundedSender<()>,
) -> std::io::Result<()> {
    let _restore = Restore;
    let started = std::time::Instant::now();
    let ticks = crossbeam_channel::tick(TICK);
    let mut ui = Ui::default();
    let mut gates: Vec<(GateModal, oneshot::Sender<GateAnswer>)> = Vec::new();
    let mut quitting = false;
    // Each interview gate's last answers, by node.
    let mut answered: std::collections::HashMap<String, Vec<tracker_handlers::questions::Answer>> =
        std::collections::HashMap::new();
    loop {
        terminal.draw(|frame| {
            draw(frame, &view, &ui);
            if let Some((modal, _)) = gates.first() {
                modal.draw(frame, frame.area());
            }
        })?;
        let first = crossbeam_channel::select! {
            recv(rx) -> msg => match msg {
                Ok(msg) => msg,
                Err(_) => return Ok(()),
            },
            recv(ticks) -> _ => {
                ui.tick += 1;
                ui.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                ui.now_ms = unix_now_ms();
                continue;
            }
        };
        for msg in std::iter::once(first).chain(rx.try_iter()) {
            match msg {
                Msg::Events(events) => {
                    for event in events.iter() {
                        view.apply(event);
                    }
                }
                Msg::Gate(request, answer) => {
                    // A gate asked again (a loop, a retry) starts from the
                    // answers given to it last time.
                    let before = answered.get(&request.node_id).cloned().unwrap_or_default();
                    gates.push((GateModal::answered_before(request, &before), answer));
                }
                Msg::Key(key) => {
                    let ctrl_c = key.code == KeyCode::Char('c')
                        && key.modifiers.contains(KeyModifiers::CONTROL);
                    if let Some((modal, _)) = gates.first_mut().filter(|_| !ctrl_c) {
                        if let Some(answer) = modal.key(key) {
                            let (modal, reply) = gates.remove(0);
                            if !answer.answers.is_empty() {
                                answered.insert(modal.node().to_string(), answer.answers.clone());
                            }
                            let _ = reply.send(answer);
                        }
                    } else if ctrl_c
                        || (key.code == KeyCode::Char('q') && !ui.help && !ui.searching())
                    {
                        if !quitting {
                            quitting = true;
                            let _ = quit.send(());
                        }
                        // Gates still open are given up: the run is ending.
                        gates.clear();
                    } else {
                        ui.key(key, &view);
                    }
                }
                Msg::Resize | Msg::Changed => {}
                Msg::Ended => return Ok(()),
            }
        }
    }
}

/// The time now in Unix milliseconds (0 if the clock is before 1970).
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Hands the run's events to the drawing thread without ever making the run
/// wait: when the drawing thread's queue is full, batches wait here, in
/// order, and go as soon as there is room (nothing is dropped, so no state
/// change is lost).
struct Forwarder {
    tx: Sender<Msg>,
    waiting: std::collections::VecDeque<Batch>,
    retry_set: bool,
}

impl Forwarder {
    fn flush(&mut self, ctx: &mut Context<Self>) {
        while let Some(batch) = self.waiting.pop_front() {
            match self.tx.try_send(Msg::Events(batch)) {
                Ok(()) => {}
                Err(crossbeam_channel::TrySendError::Full(Msg::Events(batch))) => {
                    self.waiting.push_front(batch);
                    if !self.retry_set {
                        self.retry_set = true;
                        ctx.run_later(RETRY, |forwarder, ctx| {
                            forwarder.retry_set = false;
                            forwarder.flush(ctx);
                        });
                    }
                    return;
                }
                // The dashboard is gone: nothing to show them on.
                Err(_) => {
                    self.waiting.clear();
                    return;
                }
            }
        }
    }
}

/// How soon a forwarder whose batches wait tries again.
const RETRY: std::time::Duration = std::time::Duration::from_millis(20);

impl Actor for Forwarder {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Forwarder {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        self.waiting.push_back(msg.0);
        self.flush(ctx);
    }
}

/// Asks the run's gates on the dashboard.
struct DashboardInterviewer {
    tx: Sender<Msg>,
}

impl Interviewer for DashboardInterviewer {
    fn ask(&self, request: GateRequest) -> BoxFuture<Result<GateAnswer, GateError>> {
        let (reply, answer) = oneshot::channel();
        let tx = self.tx.clone();
        Box::pin(async move {
            // Sent from the blocking pool: a full queue must not hold up the
            // run's thread; a gate is never dropped.
            let sent =
                tokio::task::spawn_blocking(move || tx.send(Msg::Gate(request, reply)).is_ok())
                    .await;
            if !matches!(sent, Ok(true)) {
                return Err(GateError::InputClosed);
            }
            answer.await.map_err(|_| GateError::InputClosed)
        })
    }
}
