//! The many-runs view: every run recorded under a directory of runs, one row
//! each (id, workflow, lamp and status, the node under way, progress, tokens,
//! cost, time, a mark for a gate waiting), read from their activity logs —
//! the live one while a run goes, its directory's copy once it has ended —
//! and kept current as the logs grow: only the bytes added since the last
//! look are read. (The board only shows: a line a tool forged into a live
//! log shows until the run ends and its sealed copy replaces it.)

use std::path::{Path, PathBuf};

use dippin::diagnostic::printable_line;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;
use tracker_runtime::event::PipelineEvent;

use super::many::BoardUi;
use super::model::RunView;

/// One run being watched.
pub struct WatchedRun {
    /// Its directory.
    pub dir: PathBuf,
    /// What its events say.
    pub view: RunView,
    /// The log being read: the live one while the run goes, its directory's
    /// copy once it has ended.
    source: PathBuf,
    /// How far it has been read.
    read: u64,
    /// A line not yet ended when last read.
    partial: Vec<u8>,
    /// The line being read is longer than [`LONGEST_LINE`]: it is skipped to
    /// its end.
    skipping: bool,
    /// Whether a process holds it now.
    pub live: bool,
    /// When it was first seen (its directory's time): the board's order.
    seen: std::time::SystemTime,
    /// Run by this process (`tracker run A B`): going until its log ends.
    own: bool,
    /// Until when to look for its pipeline, when it had none yet (a run
    /// seen before its `workflow.dip` was written).
    plan_until: Option<std::time::Instant>,
    /// Its `owner` file's time when last read (none: no file, or this
    /// process's own run).
    owner_seen: Option<std::time::SystemTime>,
    /// When that time was seen to change.
    owner_changed: Option<std::time::Instant>,
}

/// How long an ended run whose `owner` file changed is read from its live
/// log, for the resume to show there.
const RESUME_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The most of a log read in one look: a long log is caught up with over
/// several ticks, in memory bounded whatever its size.
const READ_PER_LOOK: u64 = 4 << 20;

/// The longest line kept to the end: no event is this long (a tool's kept
/// output is 64 KiB), so a longer one is no event, and is skipped.
const LONGEST_LINE: usize = 4 << 20;

/// How long a run seen without its pipeline is looked at again for it: one
/// whose pipeline cannot be loaded is not loaded again at every tick.
const PLAN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Every run under a directory of runs, or every run a service lists.
pub struct Board {
    /// The directory scanned for runs (none: runs are given with
    /// [`Board::track`]).
    root: Option<PathBuf>,
    /// The runs, newest first.
    pub runs: Vec<WatchedRun>,
}

impl Board {
    /// The runs under `root` (`<workdir>/.tracker/runs`), read now.
    pub fn new(root: &Path) -> Board {
        let mut board = Board {
            root: Some(root.to_path_buf()),
            runs: Vec::new(),
        };
        board.refresh();
        board
    }

    /// A board of the runs given to it (a service's).
    pub fn tracking() -> Board {
        Board {
            root: None,
            runs: Vec::new(),
        }
    }

    /// Watches the run in `dir` too, if it does not already.
    pub fn track(&mut self, dir: PathBuf) {
        if !self.runs.iter().any(|r| r.dir == dir) {
            self.runs.push(WatchedRun::new(dir));
        }
    }

    /// Watches the run in `dir`, which this process runs.
    pub fn track_own(&mut self, dir: PathBuf) {
        if !self.runs.iter().any(|r| r.dir == dir) {
            let mut run = WatchedRun::new(dir);
            run.own = true;
            self.runs.push(run);
        }
    }

    /// Reads what changed: new runs, and the lines added to each log.
    pub fn refresh(&mut self) {
        let found: Vec<PathBuf> = self
            .root
            .as_ref()
            .and_then(|root| std::fs::read_dir(root).ok())
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|dir| dir.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        for dir in found {
            self.track(dir);
        }
        for run in &mut self.runs {
            run.read_new_lines();
        }
        // Newest first, then by id.
        self.runs.sort_by(|a, b| {
            b.seen
                .cmp(&a.seen)
                .then_with(|| a.view.run_id.cmp(&b.view.run_id))
        });
    }
}

impl WatchedRun {
    fn new(dir: PathBuf) -> WatchedRun {
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let plan = plan_of(&dir);
        let plan_until = plan
            .is_none()
            .then(|| std::time::Instant::now() + PLAN_WAIT);
        let view = plan
            .map(|plan| RunView::new(&plan, &id))
            .unwrap_or_else(|| RunView::without_plan("?", &id));
        let seen = std::fs::metadata(&dir)
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        WatchedRun {
            seen,
            source: PathBuf::new(),
            dir,
            view,
            read: 0,
            partial: Vec::new(),
            skipping: false,
            live: false,
            own: false,
            plan_until,
            owner_seen: None,
            owner_changed: None,
        }
    }

    /// Applies the lines added to its activity log since the last read.
    fn read_new_lines(&mut self) {
        use std::io::{Read, Seek, SeekFrom};
        if self
            .plan_until
            .is_some_and(|until| std::time::Instant::now() < until)
        {
            if let Some(plan) = plan_of(&self.dir) {
                // Its pipeline is there now: its nodes are listed from the
                // start, and its log read again into the full view.
                self.view = RunView::new(&plan, &self.view.run_id);
                self.plan_until = None;
                self.source = PathBuf::new();
                self.read = 0;
                self.partial.clear();
                self.skipping = false;
            }
        }
        let copy = self.dir.join(tracker_actors::activity::ACTIVITY_FILE);
        let ended = self.view.outcome.is_some();
        // A resume takes the run's lock again, rewriting its `owner` file:
        // a change of that file's time is how an ended run is seen resumed,
        // at the cost of one `stat` (not reading it and asking the system
        // about its process at every tick).
        let owner = if self.own {
            None
        } else {
            owner_time(&self.dir)
        };
        if owner != self.owner_seen {
            self.owner_seen = owner;
            self.owner_changed = Some(std::time::Instant::now());
        }
        // The resumed run may not have said so in its log yet: it is looked
        // for there a while.
        let resuming = self
            .owner_changed
            .is_some_and(|at| at.elapsed() < RESUME_WAIT);
        if ended && !resuming && self.source == copy {
            // Ended, its sealed copy read: nothing more comes unless resumed.
            return;
        }
        // A run this process drives is live until it ends; another's while
        // the process its `owner` file names is alive.
        self.live = if self.own {
            !ended
        } else {
            owner_alive(&self.dir)
        };
        // The run directory's copy is written when the run ends; while it
        // goes (a resumed run too) the live log, outside the working
        // directory, is read.
        let live_log = || {
            let id = self.dir.file_name().unwrap_or_default();
            tracker_actors::activity::audit_base()
                .join(id)
                .join(tracker_actors::activity::ACTIVITY_FILE)
        };
        let going = self.live && (!ended || resuming);
        let path = match (going, copy.exists()) {
            (true, true) => Some(live_log()).filter(|log| log.exists()).unwrap_or(copy),
            (false, true) => copy,
            (_, false) => live_log(),
        };
        // Only a regular file, never followed through a link, and opened
        // without waiting: a FIFO planted in a run directory must not hang
        // the board.
        let Ok(mut file) = tracker_runtime::private_files::open(&path) else {
            return;
        };
        let Ok(len) = file.metadata().map(|m| m.len()) else {
            return;
        };
        if path != self.source || len < self.read {
            // Another log, or this one rewritten: read it from the start.
            self.source = path;
            if self.read > 0 {
                // (A view that has read nothing is fresh already.)
                self.view = WatchedRun::new(self.dir.clone()).view;
            }
            self.read = 0;
            self.partial.clear();
            self.skipping = false;
        }
        if len == self.read || file.seek(SeekFrom::Start(self.read)).is_err() {
            return;
        }
        let mut added = Vec::new();
        if file.take(READ_PER_LOOK).read_to_end(&mut added).is_err() {
            return;
        }
        self.read += added.len() as u64;
        let mut lines = added.split_inclusive(|b| *b == b'\n').peekable();
        while let Some(piece) = lines.next() {
            let ended = piece.ends_with(b"\n");
            if self.skipping {
                self.skipping = !ended;
                continue;
            }
            self.partial.extend_from_slice(piece);
            if !ended {
                // The last piece, not ended yet: kept for the next look,
                // unless it is already longer than any event.
                debug_assert!(lines.peek().is_none());
                if self.partial.len() > LONGEST_LINE {
                    self.partial.clear();
                    self.skipping = true;
                }
                break;
            }
            let line = String::from_utf8_lossy(&self.partial);
            if let Ok(event) = PipelineEvent::from_line(line.trim_end_matches('\n')) {
                self.view.apply(&event);
            }
            self.partial.clear();
        }
    }

    /// Where it stands: how it ended, else whether it waits at a gate,
    /// goes, or stopped (nobody drives it).
    pub fn status(&self) -> RunStatus<'_> {
        match &self.view.outcome {
            Some(outcome) if outcome == "success" => RunStatus::Succeeded,
            Some(outcome) => RunStatus::Ended(outcome),
            None if self.view.waiting_at_gate() && self.live => RunStatus::Waiting,
            None if self.live => RunStatus::Running,
            None => RunStatus::Stopped,
        }
    }
}

/// Where a run on the board stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus<'a> {
    /// Waiting at a gate for someone.
    Waiting,
    /// Going.
    Running,
    /// Not ended, and nobody drives it.
    Stopped,
    /// Ended otherwise than well: its terminal status.
    Ended(&'a str),
    /// Ended well.
    Succeeded,
}

impl<'a> RunStatus<'a> {
    /// Its word on the board.
    fn name(self) -> &'static str {
        match self {
            RunStatus::Waiting => "waiting",
            RunStatus::Running => "running",
            RunStatus::Stopped => "stopped",
            RunStatus::Ended(_) => "ended",
            RunStatus::Succeeded => "success",
        }
    }

    /// Its word, an ended run's own status.
    pub fn word(self) -> &'a str {
        match self {
            RunStatus::Ended(status) => status,
            other => other.name(),
        }
    }

    /// Where it sorts: those needing someone first.
    pub fn rank(self) -> u8 {
        match self {
            RunStatus::Waiting => 0,
            RunStatus::Running => 1,
            RunStatus::Stopped => 2,
            RunStatus::Ended(_) => 3,
            RunStatus::Succeeded => 4,
        }
    }

    /// Its lamp, and the lamp's colour.
    fn lamp(self) -> (&'static str, Color) {
        match self {
            RunStatus::Succeeded => ("●", Color::Green),
            RunStatus::Running => ("◉", Color::Cyan),
            RunStatus::Waiting => ("?", Color::Yellow),
            RunStatus::Stopped => ("⏸", Color::DarkGray),
            RunStatus::Ended(_) => ("✖", Color::Red),
        }
    }
}

/// The plan of the run in `dir`, from its own copy of its workflow.
fn plan_of(dir: &Path) -> Option<tracker_runtime::plan::SpawnPlan> {
    let source = crate::pipeline::PipelineSource::of_run(dir).ok()?;
    crate::load::load(&source, crate::load::Diagnostics::Quiet)
        .ok()
        .map(|loaded| loaded.plan)
}

/// When the run's `owner` file was last written.
fn owner_time(dir: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(dir.join(tracker_actors::run_lock::OWNER_FILE))
        .and_then(|m| m.modified())
        .ok()
}

/// Whether the process named in the run's `owner` file is alive.
fn owner_alive(dir: &Path) -> bool {
    // Without waiting: a FIFO in its place must not hang the board.
    tracker_runtime::private_files::read_to_string(&dir.join(tracker_actors::run_lock::OWNER_FILE))
        .ok()
        .and_then(|pid| pid.trim().parse::<u32>().ok())
        .is_some_and(|pid| pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists())
}

/// Draws the board as `ui` has it: the table of runs, or the run opened in
/// its own view (with its gate, when one is being answered); the `:`
/// command line, the filter being typed or a flash message on the last row.
pub fn draw_many(frame: &mut Frame<'_>, board: &Board, ui: &BoardUi) {
    let area = frame.area();
    if let (Some((_, run_ui)), Some(run)) = (&ui.open, ui.open_run(board)) {
        super::render::draw(frame, &run.view, run_ui);
        if let Some(modal) = &ui.modal {
            modal.draw(frame, area);
        }
    } else {
        draw_board(frame, board, ui);
    }
    let status = super::render::header_body_status(area)[2];
    let line = if let Some(command) = &ui.command {
        Some(Line::from(vec![
            Span::raw(format!(":{}", printable_line(command))),
            Span::styled("▏", Style::default().fg(Color::Yellow)),
        ]))
    } else if ui.filtering {
        Some(Line::from(vec![
            Span::raw(format!("/{}", printable_line(&ui.filter))),
            Span::styled("▏", Style::default().fg(Color::Yellow)),
        ]))
    } else {
        ui.flash_message()
            .map(|m| Line::styled(format!(" {m}"), Style::default().fg(Color::Yellow)))
    };
    if let Some(line) = line {
        frame.render_widget(Clear, status);
        frame.render_widget(Paragraph::new(line), status);
    }
}

fn draw_board(frame: &mut Frame<'_>, board: &Board, ui: &BoardUi) {
    let rows = super::render::header_body_status(frame.area());
    let visible = ui.visible(board);
    let waiting = board
        .runs
        .iter()
        .filter(|r| r.status() == RunStatus::Waiting)
        .count();
    let mut header = vec![
        Span::styled(" RUNS ", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!(
            "{} · {waiting} waiting at a gate · sorted by {}",
            board.runs.len(),
            ui.sort.name()
        )),
    ];
    if !ui.filter.is_empty() {
        header.push(Span::styled(
            format!(
                " · [/{}] {} shown",
                printable_line(&ui.filter),
                visible.len()
            ),
            Style::default().fg(Color::Yellow),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(header)), rows[0]);
    draw_table(
        frame,
        board,
        &visible,
        ui.selected_row(board, &visible),
        rows[1],
        ui.now_ms,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            " ↑↓ select · Enter open · / filter · s sort · g next gate · x cancel · : command · q quit",
            Style::default().fg(Color::DarkGray),
        )),
        rows[2],
    );
}

fn draw_table(
    frame: &mut Frame<'_>,
    board: &Board,
    visible: &[usize],
    selected: usize,
    area: Rect,
    now_ms: i64,
) {
    let height = usize::from(area.height).saturating_sub(1);
    let first = selected.saturating_sub(height.saturating_sub(1));
    // Names get the room a wide terminal has; a narrow one keeps every
    // column.
    let name = if area.width >= 110 { 16 } else { 10 };
    let row = |cells: [&str; 8]| {
        format!(
            "{:<13} {:<name$} {:<9} {:<name$} {:>7} {:>7} {:>8} {:>6}",
            cells[0],
            cut(cells[1], name),
            cut(cells[2], 9),
            cut(cells[3], name),
            cells[4],
            cells[5],
            cells[6],
            cells[7],
        )
    };
    let mut lines = vec![Line::styled(
        format!(
            "  {}",
            row(["RUN", "WORKFLOW", "STATUS", "NODE", "DONE", "TOKENS", "COST", "TIME"])
        ),
        Style::default().fg(Color::DarkGray),
    )];
    lines.extend(
        visible
            .iter()
            .map(|i| &board.runs[*i])
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, run)| {
                let status = run.status();
                let (lamp, color) = status.lamp();
                let (done, total) = run.view.progress();
                let node = run.view.current().map(|n| n.id.as_str()).unwrap_or("");
                let text = row([
                    &run.view.run_id,
                    &run.view.workflow,
                    status.word(),
                    node,
                    &format!("{done}/{total}"),
                    &super::render::tokens(run.view.tokens),
                    &format!("${:.3}", run.view.cost_usd),
                    &super::render::elapsed(run.view.elapsed_at(now_ms, run.live)),
                ]);
                let style = if i == selected {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else if status == RunStatus::Waiting {
                    Style::default().fg(Color::Yellow)
                } else {
                    Style::default()
                };
                Line::from(vec![
                    Span::styled(format!("{lamp} "), Style::default().fg(color)),
                    Span::styled(text, style),
                ])
            }),
    );
    if visible.is_empty() {
        lines.push(Line::styled(
            if board.runs.is_empty() && board.root.is_some() {
                "  no runs recorded here yet"
            } else if board.runs.is_empty() {
                "  the service has no runs yet (`:submit FILE` starts one)"
            } else {
                "  no run matches the filter"
            },
            Style::default().fg(Color::DarkGray),
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
