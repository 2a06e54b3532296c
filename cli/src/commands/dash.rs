//! `tracker dash`: every run recorded under the working directory, live as
//! their activity logs grow (watched with `notify`), read-only; or, with
//! `--service`, every run of the running `tracker serve`, which it can act
//! on: answer a run's gates, cancel (`x`, `:cancel`), resume (`:resume`) and
//! submit (`:submit FILE`). Enter opens a run's own view, Esc comes back,
//! `/` filters, `s` sorts, `g` jumps to the next run waiting at a gate, `q`
//! quits.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use crossbeam_channel::{Receiver, Sender};
use dippin::diagnostic::printable_line;
use notify::{RecursiveMode, Watcher};
use tokio::sync::oneshot;
use tracker_handlers::human::{GateAnswer, GateRequest};

use crate::args::DashArgs;
use crate::dashboard::app::{enter, read_keys, Msg, Restore};
use crate::dashboard::board::{draw_many, Board, RunStatus};
use crate::dashboard::many::{Action, BoardUi};
use crate::exit;
use crate::serve::client;

/// Where the board's runs live.
pub enum Source {
    /// A running service, on this socket (none: the default one).
    Service(Option<PathBuf>),
    /// Run directories under a working directory, watched.
    Directory {
        /// Wakes the board when something under the directory changes.
        _watcher: notify::RecommendedWatcher,
    },
    /// The runs of this process (`tracker run A B`): its gates come to the
    /// board, and what the person asks goes back through `requests`.
    Process {
        /// Where cancelling is asked.
        requests: tokio::sync::mpsc::UnboundedSender<ProcessRequest>,
        /// Gates asked and not yet answered, with where each answer goes.
        gates: Vec<(GateRequest, oneshot::Sender<GateAnswer>)>,
    },
}

/// What the board asks of the process whose runs it shows.
#[derive(Debug, PartialEq, Eq)]
pub enum ProcessRequest {
    /// Cancel this run.
    Cancel(String),
    /// Cancel them all (the board was quit).
    CancelAll,
}

/// Shows the board until `q`.
pub fn run(args: &DashArgs) -> Result<u8> {
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(256);
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let (source, board) = if args.service {
        // Said plainly before the terminal is taken, if no service is there.
        let mut board = Board::tracking();
        for dir in client::run_dirs(args.socket.as_deref())? {
            board.track(dir);
        }
        board.refresh();
        (Source::Service(args.socket.clone()), board)
    } else {
        let workdir = args
            .workdir
            .as_ref()
            .map_or_else(|| cwd.clone(), |w| cwd.join(w));
        // A mistyped directory is said to be one, not shown as an empty
        // board (nor made).
        if !workdir.is_dir() {
            bail!(
                "{} is not a directory (the working directory whose runs to watch)",
                workdir.display()
            );
        }
        let root = tracker_actors::run_dir::default_root(&workdir);
        // Changes under the runs' directory wake the board; it reads what was
        // added. (Created first, if need be, so that there is something to
        // watch.)
        let _ = tracker_runtime::private_files::create_dir_all(&root);
        let watcher = watch(&root, tx.clone())?;
        (Source::Directory { _watcher: watcher }, Board::new(&root))
    };
    let keys = tx.clone();
    std::thread::spawn(move || read_keys(&keys));
    let terminal = enter().context("cannot open the dashboard")?;
    let _restore = Restore;
    show(terminal, board, source, &rx, &cwd)?;
    Ok(exit::OK)
}

/// Shows `board` on `terminal` until `q` (or, for a process's runs, until
/// they have all ended), taking keys and wake-ups from `rx`.
pub fn show<B: ratatui::backend::Backend>(
    mut terminal: ratatui::Terminal<B>,
    mut board: Board,
    mut source: Source,
    rx: &Receiver<Msg>,
    cwd: &Path,
) -> std::io::Result<()> {
    let ticks = crossbeam_channel::tick(std::time::Duration::from_millis(250));
    let mut ui = BoardUi::default();
    loop {
        terminal.draw(|frame| draw_many(frame, &board, &ui))?;
        let msg = crossbeam_channel::select! {
            recv(rx) -> msg => match msg {
                Ok(msg) => Some(msg),
                Err(_) => return Ok(()),
            },
            recv(ticks) -> _ => None,
        };
        let ticked = msg.is_none();
        if ticked {
            ui.tick(crate::dashboard::app::unix_now_ms());
            if let Source::Service(socket) = &source {
                // The service's list, for runs submitted since: once a
                // second, not on every key.
                if ui.tick % LIST_EVERY == 0 {
                    for dir in client::run_dirs(socket.as_deref()).unwrap_or_default() {
                        board.track(dir);
                    }
                }
            }
        }
        // The logs are read on the clock's ticks and when the watched
        // directory changed, not on keys.
        if ticked || matches!(msg, Some(Msg::Changed)) {
            board.refresh();
        }
        if let Source::Process { gates, .. } = &mut source {
            // Gates whose node went (a cancelled run) wait no more.
            gates.retain(|(_, reply)| !reply.is_closed());
        }
        // A gate that opened while its run is open is offered — asked of the
        // service every couple of seconds, not every tick; a directory's runs
        // are answered where they run.
        let ask_now = match &source {
            Source::Service(_) => ui.tick % GATES_EVERY == 0,
            Source::Process { .. } => true,
            Source::Directory { .. } => false,
        };
        if ticked && ask_now {
            if let Some(id) = ui.wants_gate(&board) {
                offer_gates(&source, &mut ui, &id, &board);
            }
        }
        let key = match msg {
            Some(Msg::Key(key)) => key,
            Some(Msg::Gate(request, reply)) => {
                if let Source::Process { gates, .. } = &mut source {
                    ui.flash(format!(
                        "run {} waits at gate {} (g goes to it)",
                        printable_line(&request.run_id),
                        printable_line(&request.node_id)
                    ));
                    gates.push((request, reply));
                }
                continue;
            }
            Some(Msg::Ended) => return Ok(()),
            _ => continue,
        };
        match ui.key(key, &board) {
            Action::None => {}
            Action::Quit => {
                if let Source::Process { requests, .. } = &source {
                    let _ = requests.send(ProcessRequest::CancelAll);
                }
                return Ok(());
            }
            Action::Opened(id) => offer_gates(&source, &mut ui, &id, &board),
            action => act(&mut source, &mut ui, action, cwd),
        }
    }
}

/// How many clock ticks (250 ms) between two looks at a service's run list.
const LIST_EVERY: u64 = 4;

/// How many clock ticks between two asks of a service for the open run's
/// gates.
const GATES_EVERY: u64 = 8;

/// Shows the open run's waiting gate, if it has one.
fn offer_gates(source: &Source, ui: &mut BoardUi, id: &str, board: &Board) {
    match source {
        Source::Service(socket) => match client::waiting_gates(socket.as_deref(), id) {
            Ok(gates) => {
                if let Some(gate) = gates.into_iter().next() {
                    ui.offer_gate(gate);
                }
            }
            Err(e) => ui.flash(format!("gates of {id}: {e}")),
        },
        Source::Process { gates, .. } => {
            if let Some((gate, _)) = gates.iter().find(|(g, _)| g.run_id == id) {
                ui.offer_gate(gate.clone());
            }
        }
        Source::Directory { .. } => {
            // Said of a run that waits at a gate, not of every run opened.
            let waits = board
                .runs
                .iter()
                .any(|r| r.view.run_id == id && r.status() == RunStatus::Waiting);
            if waits {
                ui.flash("its gate is answered where it runs (or attach with --service)");
            }
        }
    }
}

/// Carries out `action` where the runs live; says how it went.
fn act(source: &mut Source, ui: &mut BoardUi, action: Action, cwd: &Path) {
    let said = match source {
        Source::Directory { .. } => {
            ui.flash("read-only: `tracker dash --service` acts on a service's runs");
            return;
        }
        Source::Process { requests, gates } => match action {
            Action::Cancel(id) => {
                let _ = requests.send(ProcessRequest::Cancel(id.clone()));
                Ok(format!("cancelling {id}"))
            }
            Action::Answer { run, node, answer } => {
                match gates
                    .iter()
                    .position(|(g, _)| g.run_id == run && g.node_id == node)
                {
                    Some(i) => {
                        let (_, reply) = gates.remove(i);
                        let _ = reply.send(answer);
                        Ok(format!("answered {node} of {run}"))
                    }
                    None => Ok(format!("gate {node} of {run} no longer waits")),
                }
            }
            Action::Resume(_) | Action::Submit { .. } => Ok(
                "runs started here end with this command; resume or submit with `tracker serve`"
                    .to_string(),
            ),
            Action::None | Action::Quit | Action::Opened(_) => return,
        },
        Source::Service(socket) => {
            let socket = socket.as_deref();
            match action {
                Action::Cancel(id) => client::cancel_run(socket, &id).map(|going| {
                    if going {
                        format!("cancelling {id}")
                    } else {
                        format!("{id} had ended")
                    }
                }),
                Action::Resume(id) => {
                    client::resume_run(socket, &id).map(|new| format!("resumed {id} as {new}"))
                }
                Action::Submit { file, provider } => client::submit_file(
                    socket,
                    std::ffi::OsStr::new(&file),
                    cwd,
                    provider.as_deref(),
                )
                .map(|id| format!("submitted {file} as {id}")),
                Action::Answer { run, node, answer } => {
                    client::answer_gate(socket, &run, &node, &answer)
                        .map(|()| format!("answered {node} of {run}"))
                }
                Action::None | Action::Quit | Action::Opened(_) => return,
            }
        }
    };
    ui.flash(said.unwrap_or_else(|e: anyhow::Error| one_line(&e.to_string())));
}

/// An error for the one-row flash: its first line, and how many more there
/// are (a pipeline's diagnostics, one per line).
fn one_line(error: &str) -> String {
    let mut lines = error.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    match lines.count() {
        0 => first,
        more => format!("{first} (and {more} more; `tracker validate` shows all)"),
    }
}

/// Whether `event` changed something the board shows. Reading the runs is
/// itself an event on Linux (a directory or file opened, closed, its access
/// time set): a board woken by those would wake itself forever.
fn is_change(event: &notify::Event) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind};
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// Watches `root` for changes, each one a wake-up for the board.
fn watch(root: &Path, tx: Sender<Msg>) -> Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.as_ref().is_ok_and(|e| !is_change(e)) {
            return;
        }
        // A wake-up is enough: the board reads what changed. A full queue
        // already has one waiting.
        let _ = tx.try_send(Msg::Changed);
    })
    .context("cannot watch the runs' directory")?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", root.display()))?;
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, DataChange, EventKind, ModifyKind};

    #[test]
    fn reading_the_runs_wakes_nothing_and_changing_them_does() {
        let event = |kind| notify::Event::new(kind);
        assert!(!is_change(&event(EventKind::Access(AccessKind::Any))));
        assert!(!is_change(&event(EventKind::Access(AccessKind::Open(
            notify::event::AccessMode::Any
        )))));
        assert!(is_change(&event(EventKind::Create(CreateKind::File))));
        assert!(is_change(&event(EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        )))));
        // A file written and closed is a change (some watchers say only that).
        assert!(is_change(&event(EventKind::Access(AccessKind::Close(
            notify::event::AccessMode::Write
        )))));
    }
}
