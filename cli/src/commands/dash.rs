//! `tracker dash`: every run recorded under the working directory, live as
//! their activity logs grow (watched with `notify`), read-only; or, with
//! `--service`, every run of the running `tracker serve`, where `x` cancels
//! the selected one. Enter opens a run's own view, Esc comes back, `g` jumps
//! to the next run waiting at a gate, `q` quits.

use anyhow::{Context as _, Result};
use crossbeam_channel::Sender;
use notify::{RecursiveMode, Watcher};
use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use crate::args::DashArgs;
use crate::dashboard::app::{enter, read_keys, Msg, Restore};
use crate::dashboard::board::{draw_board, Board};
use crate::dashboard::render::draw;
use crate::dashboard::ui::Ui;
use crate::exit;
use crate::serve::client;

/// Shows the board until `q`.
pub fn run(args: &DashArgs) -> Result<u8> {
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(256);
    let service = args.service.then_some(args.socket.as_deref());
    let (mut board, _watcher) = match service {
        Some(socket) => {
            // Said plainly before the terminal is taken, if no service is
            // there.
            let mut board = Board::tracking();
            for dir in client::run_dirs(socket)? {
                board.track(dir);
            }
            board.refresh();
            (board, None)
        }
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            let workdir = args
                .workdir
                .as_ref()
                .map_or_else(|| cwd.clone(), |w| cwd.join(w));
            let root = tracker_actors::run_dir::default_root(&workdir);
            // Changes under the runs' directory wake the board; it reads
            // what was added. (Created first, if need be, so that there is
            // something to watch.)
            let _ = tracker_runtime::private_files::create_dir_all(&root);
            let watcher = watch(&root, tx.clone())?;
            (Board::new(&root), Some(watcher))
        }
    };
    let keys = tx.clone();
    std::thread::spawn(move || read_keys(&keys));
    let mut terminal = enter().context("cannot open the dashboard")?;
    let _restore = Restore;
    let ticks = crossbeam_channel::tick(std::time::Duration::from_millis(500));
    let mut selected = 0usize;
    let mut open: Option<Ui> = None;
    loop {
        terminal.draw(|frame| match (&open, board.runs.get(selected)) {
            (Some(ui), Some(run)) => draw(frame, &run.view, ui),
            _ => draw_board(frame, &board, selected),
        })?;
        let msg = crossbeam_channel::select! {
            recv(rx) -> msg => msg.ok(),
            recv(ticks) -> _ => None,
        };
        if let (Some(socket), None) = (service, &msg) {
            // The service's list, for runs submitted since (on the clock's
            // ticks, not on every key).
            for dir in client::run_dirs(socket).unwrap_or_default() {
                board.track(dir);
            }
        }
        board.refresh();
        let Some(Msg::Key(key)) = msg else {
            continue;
        };
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl_c || (key.code == KeyCode::Char('q') && !open.as_ref().is_some_and(|ui| ui.help)) {
            return Ok(exit::OK);
        }
        match (&mut open, key.code) {
            (Some(ui), KeyCode::Esc) if !ui.drilled && !ui.help => open = None,
            (Some(ui), _) => {
                if let Some(run) = board.runs.get(selected) {
                    ui.key(key, &run.view);
                }
            }
            (None, KeyCode::Up) => selected = selected.saturating_sub(1),
            (None, KeyCode::Down) => {
                selected = (selected + 1).min(board.runs.len().saturating_sub(1));
            }
            (None, KeyCode::Enter) if !board.runs.is_empty() => open = Some(Ui::default()),
            (None, KeyCode::Char('x')) => {
                if let (Some(socket), Some(run)) = (service, board.runs.get(selected)) {
                    // The board shows the outcome as the run's log tells it.
                    let _ = client::cancel_run(socket, &run.view.run_id);
                }
            }
            (None, KeyCode::Char('g')) => {
                let n = board.runs.len();
                if let Some(next) = (1..=n)
                    .map(|k| (selected + k) % n.max(1))
                    .find(|i| board.runs[*i].status() == "waiting")
                {
                    selected = next;
                }
            }
            _ => {}
        }
    }
}

/// Watches `root` for changes, each one a wake-up for the board.
fn watch(root: &std::path::Path, tx: Sender<Msg>) -> Result<notify::RecommendedWatcher> {
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
