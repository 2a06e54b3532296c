//! `tracker dash`: every run recorded under the working directory, live as
//! their activity logs grow (watched with `notify`), read-only; or, with
//! `--service`, every run of the running `tracker serve`, which it can act
//! on: answer a run's gates, cancel (`x`, `:cancel`), resume (`:resume`) and
//! submit (`:submit FILE`). Enter opens a run's own view, Esc comes back,
//! `/` filters, `s` sorts, `g` jumps to the next run waiting at a gate, `q`
//! quits.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use crossbeam_channel::Sender;
use notify::{RecursiveMode, Watcher};

use crate::args::DashArgs;
use crate::dashboard::app::{enter, read_keys, Msg, Restore};
use crate::dashboard::board::{draw_many, Board};
use crate::dashboard::many::{Action, BoardUi};
use crate::exit;
use crate::serve::client;

/// Where the board's runs live.
enum Source {
    /// A running service, on this socket (none: the default one).
    Service(Option<PathBuf>),
    /// Run directories under a working directory, watched.
    Directory {
        _watcher: notify::RecommendedWatcher,
    },
}

/// Shows the board until `q`.
pub fn run(args: &DashArgs) -> Result<u8> {
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(256);
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let (source, mut board) = if args.service {
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
    let mut terminal = enter().context("cannot open the dashboard")?;
    let _restore = Restore;
    let ticks = crossbeam_channel::tick(std::time::Duration::from_millis(250));
    let mut ui = BoardUi::default();
    loop {
        terminal.draw(|frame| draw_many(frame, &board, &ui))?;
        let msg = crossbeam_channel::select! {
            recv(rx) -> msg => msg.ok(),
            recv(ticks) -> _ => None,
        };
        if msg.is_none() {
            ui.tick += 1;
            ui.now_ms = crate::dashboard::app::unix_now_ms();
            if let Source::Service(socket) = &source {
                // The service's list, for runs submitted since (on the
                // clock's ticks, not on every key).
                for dir in client::run_dirs(socket.as_deref()).unwrap_or_default() {
                    board.track(dir);
                }
            }
        }
        board.refresh();
        if msg.is_none() {
            if let Some(id) = ui.wants_gate(&board) {
                offer_gates(&source, &mut ui, &id);
            }
        }
        let Some(Msg::Key(key)) = msg else {
            continue;
        };
        match ui.key(key, &board) {
            Action::None => {}
            Action::Quit => return Ok(exit::OK),
            Action::Opened(id) => offer_gates(&source, &mut ui, &id),
            action => act(&source, &mut ui, action, &cwd),
        }
    }
}

/// Shows the open run's waiting gate, if the service has one.
fn offer_gates(source: &Source, ui: &mut BoardUi, id: &str) {
    match source {
        Source::Service(socket) => match client::waiting_gates(socket.as_deref(), id) {
            Ok(gates) => {
                if let Some(gate) = gates.into_iter().next() {
                    ui.offer_gate(gate);
                }
            }
            Err(e) => ui.flash(format!("gates of {id}: {e}")),
        },
        Source::Directory { .. } => {
            ui.flash("a run's gates are answered where it runs (or attach with --service)");
        }
    }
}

/// Carries out `action` against the service; says how it went.
fn act(source: &Source, ui: &mut BoardUi, action: Action, cwd: &Path) {
    let Source::Service(socket) = source else {
        ui.flash("read-only: `tracker dash --service` acts on a service's runs");
        return;
    };
    let socket = socket.as_deref();
    let said = match action {
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
        Action::Submit(file) => {
            let path = cwd.join(&file);
            client::submit_file(socket, &path, cwd).map(|id| format!("submitted {file} as {id}"))
        }
        Action::Answer { run, node, answer } => client::answer_gate(socket, &run, &node, &answer)
            .map(|()| format!("answered {node} of {run}")),
        Action::None | Action::Quit | Action::Opened(_) => return,
    };
    ui.flash(said.unwrap_or_else(|e| e.to_string()));
}

/// Watches `root` for changes, each one a wake-up for the board.
fn watch(root: &Path, tx: Sender<Msg>) -> Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
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
