//! What the person at the many-runs board chose: the selected run, a filter
//! (`/`), the sort (`s`), a run opened in its own view (Enter, Esc back), a
//! gate of the open run being answered, and the `:` command line (`cancel`,
//! `resume`, `submit FILE`). Keys become [`Action`]s the board's owner
//! carries out against wherever the runs live (a service, or this process).

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tracker_handlers::human::{GateAnswer, GateRequest};

use super::board::{Board, RunStatus, WatchedRun};
use super::gate::GateModal;
use super::ui::{Flash, Ui};

/// How the board's rows are ordered (`s` cycles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest first.
    #[default]
    Newest,
    /// Runs that need someone first, then going, then ended.
    Status,
    /// By workflow name.
    Workflow,
    /// Dearest first.
    Cost,
}

impl Sort {
    fn next(self) -> Sort {
        match self {
            Sort::Newest => Sort::Status,
            Sort::Status => Sort::Workflow,
            Sort::Workflow => Sort::Cost,
            Sort::Cost => Sort::Newest,
        }
    }

    /// Its name, for the header.
    pub fn name(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Status => "status",
            Sort::Workflow => "workflow",
            Sort::Cost => "cost",
        }
    }
}

/// What the board's owner is asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond redrawing.
    None,
    /// Leave the board.
    Quit,
    /// Cancel the run with this id.
    Cancel(String),
    /// Resume the run with this id.
    Resume(String),
    /// Submit this pipeline file, its agents on this provider if given.
    Submit {
        /// The file, relative to the board's directory.
        file: String,
        /// `--provider NAME`.
        provider: Option<String>,
    },
    /// The open run was opened: offer its waiting gates.
    Opened(String),
    /// A gate was answered.
    Answer {
        /// Its run.
        run: String,
        /// Its node.
        node: String,
        /// The answer.
        answer: GateAnswer,
    },
}

/// The board's own state.
#[derive(Debug, Default)]
pub struct BoardUi {
    /// The selected run (its directory: stays on it as rows move).
    selected: Option<PathBuf>,
    /// The run opened in its own view, and that view's state.
    pub open: Option<(PathBuf, Ui)>,
    /// Rows shown contain this (id, workflow, status or node).
    pub filter: String,
    /// The filter is being typed.
    pub filtering: bool,
    /// The rows' order.
    pub sort: Sort,
    /// The `:` command line, while it is typed.
    pub command: Option<String>,
    /// A message for the status row, and the tick it goes away at.
    flash: Flash,
    /// The open run's gate being answered.
    pub modal: Option<GateModal>,
    /// Gates put aside with Esc (run, node): not offered again until the
    /// run is opened again.
    dismissed: Vec<(String, String)>,
    /// The clock's ticks.
    pub tick: u64,
    /// The time now (Unix milliseconds; 0: unknown).
    pub now_ms: i64,
}

/// How many ticks a flash message stays (four seconds: long enough to read
/// an error).
const FLASH_TICKS: u64 = 16;

impl BoardUi {
    /// The rows shown: indices into `board.runs`, filtered and sorted.
    pub fn visible(&self, board: &Board) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<usize> = (0..board.runs.len())
            .filter(|i| needle.is_empty() || matches_filter(&board.runs[*i], &needle))
            .collect();
        match self.sort {
            // The board keeps its runs newest first.
            Sort::Newest => {}
            Sort::Status => rows.sort_by_key(|i| board.runs[*i].status().rank()),
            Sort::Workflow => rows.sort_by(|a, b| {
                board.runs[*a]
                    .view
                    .workflow
                    .cmp(&board.runs[*b].view.workflow)
            }),
            Sort::Cost => rows.sort_by(|a, b| {
                board.runs[*b]
                    .view
                    .cost_usd
                    .total_cmp(&board.runs[*a].view.cost_usd)
            }),
        }
        rows
    }

    /// The selected row's place among `visible` (the first when none is).
    pub fn selected_row(&self, board: &Board, visible: &[usize]) -> usize {
        self.selected
            .as_ref()
            .and_then(|dir| visible.iter().position(|i| board.runs[*i].dir == *dir))
            .unwrap_or(0)
    }

    /// The selected run.
    pub fn selected_run<'a>(&self, board: &'a Board) -> Option<&'a WatchedRun> {
        let visible = self.visible(board);
        let row = self.selected_row(board, &visible);
        visible.get(row).map(|i| &board.runs[*i])
    }

    /// The run open in its own view.
    pub fn open_run<'a>(&self, board: &'a Board) -> Option<&'a WatchedRun> {
        let (dir, _) = self.open.as_ref()?;
        board.runs.iter().find(|r| r.dir == *dir)
    }

    /// The clock ticked (`now_ms`: the time now): for the board and the run
    /// open in its own view (its spinners, row times, flash messages).
    pub fn tick(&mut self, now_ms: i64) {
        self.tick += 1;
        self.now_ms = now_ms;
        if let Some((_, ui)) = &mut self.open {
            ui.tick += 1;
            ui.now_ms = now_ms;
        }
    }

    /// Shows `message` on the status row for a moment.
    pub fn flash(&mut self, message: impl Into<String>) {
        self.flash.set(message.into(), self.tick, FLASH_TICKS);
    }

    /// The flash message, while it lasts.
    pub fn flash_message(&self) -> Option<&str> {
        self.flash.at(self.tick)
    }

    /// Offers a gate of the open run: shown unless one is already, or the
    /// person put it aside.
    pub fn offer_gate(&mut self, request: GateRequest) {
        let key = (request.run_id.clone(), request.node_id.clone());
        if self.modal.is_none() && !self.dismissed.contains(&key) {
            if let Some((_, ui)) = &mut self.open {
                ui.yield_keys();
            }
            self.modal = Some(GateModal::new(request));
        }
    }

    /// Whether the open run's gate should be asked for: the run waits at
    /// one (as the board says), none is shown, none was put aside.
    pub fn wants_gate(&self, board: &Board) -> Option<String> {
        let run = self.open_run(board)?;
        let id = &run.view.run_id;
        (self.modal.is_none()
            && run.status() == RunStatus::Waiting
            && !self.dismissed.iter().any(|(r, _)| r == id))
        .then(|| id.clone())
    }

    /// Takes a key.
    pub fn key(&mut self, key: KeyEvent, board: &Board) -> Action {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        if let Some(modal) = &mut self.modal {
            if key.code == KeyCode::Esc && !modal.takes_esc() {
                // Put aside: the run keeps waiting for an answer.
                self.dismissed
                    .push((modal.run().to_string(), modal.node().to_string()));
                self.modal = None;
                self.flash("gate put aside: it still waits (a answers it)");
                return Action::None;
            }
            let Some(answer) = modal.key(key) else {
                return Action::None;
            };
            let run = modal.run().to_string();
            let node = modal.node().to_string();
            self.modal = None;
            return Action::Answer { run, node, answer };
        }
        if let Some(command) = &mut self.command {
            match key.code {
                KeyCode::Esc => self.command = None,
                KeyCode::Enter => {
                    let line = std::mem::take(command);
                    self.command = None;
                    return self.run_command(&line, board);
                }
                KeyCode::Backspace => {
                    command.pop();
                }
                KeyCode::Char(c) if !ctrl => command.push(c),
                _ => {}
            }
            return Action::None;
        }
        if self.filtering {
            match key.code {
                KeyCode::Esc => {
                    self.filtering = false;
                    self.filter.clear();
                }
                KeyCode::Enter => self.filtering = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) if !ctrl => self.filter.push(c),
                _ => {}
            }
            return Action::None;
        }
        if let Some((dir, ui)) = &mut self.open {
            let in_overlay = ui.help || ui.drilled || ui.searching();
            return match key.code {
                KeyCode::Char('q') if !in_overlay => Action::Quit,
                KeyCode::Esc if !in_overlay => {
                    self.open = None;
                    Action::None
                }
                KeyCode::Char('a') if !in_overlay => {
                    self.dismissed.clear();
                    self.open_run(board)
                        .map_or(Action::None, |r| Action::Opened(r.view.run_id.clone()))
                }
                KeyCode::Char(':') if !in_overlay => {
                    self.command = Some(String::new());
                    Action::None
                }
                _ => {
                    if let Some(run) = board.runs.iter().find(|r| r.dir == *dir) {
                        ui.key(key, &run.view);
                    }
                    Action::None
                }
            };
        }
        let visible = self.visible(board);
        let row = self.selected_row(board, &visible);
        let select = |row: usize| visible.get(row).map(|i| board.runs[*i].dir.clone());
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Up | KeyCode::Char('k') => self.selected = select(row.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = select((row + 1).min(visible.len().saturating_sub(1)));
            }
            KeyCode::Home => self.selected = select(0),
            KeyCode::End => self.selected = select(visible.len().saturating_sub(1)),
            KeyCode::Enter => {
                if let Some(run) = visible.get(row).map(|i| &board.runs[*i]) {
                    self.selected = Some(run.dir.clone());
                    self.open = Some((run.dir.clone(), Ui::on_board()));
                    self.dismissed.clear();
                    return Action::Opened(run.view.run_id.clone());
                }
            }
            KeyCode::Char('/') => {
                self.filtering = true;
                self.filter.clear();
            }
            KeyCode::Esc => self.filter.clear(),
            KeyCode::Char('s') => self.sort = self.sort.next(),
            KeyCode::Char(':') => self.command = Some(String::new()),
            KeyCode::Char('x') => {
                if let Some(run) = visible.get(row).map(|i| &board.runs[*i]) {
                    return Action::Cancel(run.view.run_id.clone());
                }
            }
            KeyCode::Char('g') => {
                // The next run waiting at a gate, after the selected one.
                let n = visible.len();
                if let Some(next) = (1..=n)
                    .map(|k| (row + k) % n)
                    .find(|r| board.runs[visible[*r]].status() == RunStatus::Waiting)
                {
                    self.selected = select(next);
                } else {
                    self.flash("no run waits at a gate");
                }
            }
            _ => {}
        }
        Action::None
    }

    /// A `:` command: `cancel [RUN]`, `resume [RUN]`, `submit FILE
    /// [--provider NAME]`, `q`.
    fn run_command(&mut self, line: &str, board: &Board) -> Action {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("");
        let arg = words.next();
        let target = || {
            arg.map(String::from).or_else(|| {
                self.open_run(board)
                    .or_else(|| self.selected_run(board))
                    .map(|r| r.view.run_id.clone())
            })
        };
        let action = match verb {
            "" => return Action::None,
            "q" | "quit" => Action::Quit,
            "cancel" => target().map_or(Action::None, Action::Cancel),
            "resume" => target().map_or(Action::None, Action::Resume),
            "submit" => match (arg, submit_options(words)) {
                (Some(file), Ok(provider)) => Action::Submit {
                    file: file.to_string(),
                    provider,
                },
                (Some(_), Err(message)) => {
                    self.flash(message);
                    return Action::None;
                }
                (None, _) => {
                    self.flash("submit what? :submit FILE.dip [--provider NAME]");
                    return Action::None;
                }
            },
            other => {
                self.flash(format!(
                    "unknown command {other:?} (cancel [run], resume [run], submit FILE [--provider NAME], q)"
                ));
                return Action::None;
            }
        };
        if action == Action::None {
            self.flash("no run selected");
        }
        action
    }
}

/// Whether `run` has `needle` (lower case) in its id, workflow, status or
/// node under way.
fn matches_filter(run: &WatchedRun, needle: &str) -> bool {
    let node = run.view.current().map(|n| n.id.as_str()).unwrap_or("");
    [
        run.view.run_id.as_str(),
        run.view.workflow.as_str(),
        run.status().word(),
        node,
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(needle))
}

/// The options after `:submit FILE`: `--provider NAME` (or `--provider=NAME`).
fn submit_options<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Option<String>, String> {
    let mut provider = None;
    while let Some(word) = words.next() {
        let name = match word.strip_prefix("--provider") {
            Some("") => words.next(),
            Some(rest) => rest.strip_prefix('='),
            None => return Err(format!("submit: unknown option {word:?} (--provider NAME)")),
        };
        match name.filter(|n| !n.is_empty()) {
            Some(name) => provider = Some(name.to_string()),
            None => return Err("submit: --provider needs a NAME".into()),
        }
    }
    Ok(provider)
}
