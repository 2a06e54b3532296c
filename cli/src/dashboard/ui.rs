//! What the person at the dashboard chose to see: the selected node and
//! whether its lines are drilled into, the log's filter, zen mode, the help
//! overlay; and the keys that change them.

use dippin::diagnostic::printable_line;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{LineKind, LogLine, RunView};

/// Which activity lines are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    /// Every line.
    #[default]
    All,
    /// Tool calls and results.
    Tools,
    /// Errors and warnings.
    Errors,
}

impl Filter {
    /// The next filter (`v` cycles them).
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::Tools,
            Filter::Tools => Filter::Errors,
            Filter::Errors => Filter::All,
        }
    }

    /// Its name, for the status bar.
    pub fn name(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Tools => "tools",
            Filter::Errors => "errors",
        }
    }

    fn keeps(self, line: &LogLine) -> bool {
        match self {
            Filter::All => true,
            Filter::Tools => line.kind == LineKind::Tool,
            Filter::Errors => matches!(line.kind, LineKind::Error | LineKind::Warning),
        }
    }
}

/// A search of the activity log (`/`).
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// What is looked for (case-insensitive).
    pub query: String,
    /// Still being typed (Enter keeps it, Esc ends the search).
    pub typing: bool,
    /// The match shown: its place among the matching lines, newest last.
    pub current: Option<usize>,
}

/// The dashboard's own state.
#[derive(Clone, Debug, Default)]
pub struct Ui {
    /// The node the selection marker is on.
    pub selected: Option<usize>,
    /// The log shows only the selected node's lines.
    pub drilled: bool,
    /// The log's filter.
    pub filter: Filter,
    /// The node list is hidden.
    pub zen: bool,
    /// The help overlay is open.
    pub help: bool,
    /// Tool output is shown whole (Ctrl+O), not collapsed.
    pub expanded: bool,
    /// The search, while there is one.
    pub search: Option<Search>,
    /// Ticks of the clock (turns spinners).
    pub tick: u64,
    /// Milliseconds since the dashboard opened (the header's clock between
    /// the run's own reports).
    pub elapsed_ms: u64,
    /// The time now (Unix milliseconds; 0: unknown), for how long a node
    /// has been thinking or in a tool.
    pub now_ms: i64,
    /// A message for the status bar, for a while.
    flash: Flash,
    /// The run was opened from a board (`tracker dash`): quitting leaves it
    /// going, where `tracker run`'s own dashboard cancels it.
    pub on_board: bool,
}

/// How many ticks (150 ms) a flash message stays: about two seconds.
const FLASH_TICKS: u64 = 13;

/// A message shown on a status row until a tick of the clock.
#[derive(Clone, Debug, Default)]
pub struct Flash(Option<(String, u64)>);

impl Flash {
    /// Shows `message` from tick `now` for `ticks` ticks.
    pub fn set(&mut self, message: String, now: u64, ticks: u64) {
        self.0 = Some((message, now + ticks));
    }

    /// The message, if it still shows at tick `now`.
    pub fn at(&self, now: u64) -> Option<&str> {
        self.0
            .as_ref()
            .filter(|(_, until)| now < *until)
            .map(|(m, _)| m.as_str())
    }
}

impl Ui {
    /// The state of a run opened from a board (see [`Ui::on_board`]).
    pub fn on_board() -> Ui {
        Ui {
            on_board: true,
            ..Ui::default()
        }
    }

    /// Takes a key meant for the view (not a gate); whether it was one.
    pub fn key(&mut self, key: KeyEvent, view: &RunView) -> bool {
        if self.help {
            if matches!(key.code, KeyCode::Char('?') | KeyCode::Esc) {
                self.help = false;
            }
            return true;
        }
        if self.searching() {
            self.search_key(key, view);
            return true;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let last = view.nodes.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('o') if ctrl => self.expanded = !self.expanded,
            KeyCode::Up => {
                self.selected = Some(self.selected.map_or(0, |s| s.saturating_sub(1)));
            }
            KeyCode::Down => {
                self.selected = Some(self.selected.map_or(0, |s| (s + 1).min(last)));
            }
            KeyCode::Enter if self.selected.is_some() => self.drilled = true,
            KeyCode::Esc if self.search.is_some() => self.search = None,
            KeyCode::Esc => {
                self.drilled = false;
            }
            KeyCode::Char('v') => self.filter = self.filter.next(),
            KeyCode::Char('z') => self.zen = !self.zen,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char('/') => {
                self.search = Some(Search {
                    typing: true,
                    ..Search::default()
                });
            }
            KeyCode::Char('n') if self.search.is_some() => self.step_match(view, true),
            KeyCode::Char('N') if self.search.is_some() => self.step_match(view, false),
            KeyCode::Char('y') => {
                let text: Vec<String> = self
                    .lines(view)
                    .iter()
                    .filter(|l| l.kind != LineKind::Separator)
                    .map(|l| {
                        format!("{} {}", l.node.as_deref().unwrap_or(""), l.text)
                            .trim_start()
                            .to_string()
                    })
                    .collect();
                let lines = text.len();
                if copy_to_clipboard(&text.join("\n")) {
                    self.flash(format!("copied {lines} lines"));
                } else {
                    self.flash("Clipboard not supported");
                }
            }
            _ => return false,
        }
        true
    }

    /// Ends typing, for a modal that takes the keys from now on: a query
    /// being typed is kept as if Enter had been pressed (an empty one is
    /// dropped), and the help closes. Otherwise the search line would stay
    /// on screen while its keys (Esc above all) went to the modal.
    pub fn yield_keys(&mut self) {
        self.help = false;
        if let Some(search) = &mut self.search {
            search.typing = false;
            if search.query.is_empty() {
                self.search = None;
            }
        }
    }

    /// Whether a search query is being typed.
    pub fn searching(&self) -> bool {
        self.search.as_ref().is_some_and(|s| s.typing)
    }

    fn search_key(&mut self, key: KeyEvent, view: &RunView) {
        let Some(search) = &mut self.search else {
            return;
        };
        match key.code {
            KeyCode::Esc => self.search = None,
            KeyCode::Enter => {
                search.typing = false;
                if search.query.is_empty() {
                    self.search = None;
                } else {
                    // The newest match first.
                    search.current = None;
                    self.step_match(view, false);
                }
            }
            KeyCode::Backspace => {
                search.query.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                search.query.push(c);
            }
            _ => {}
        }
    }

    /// Moves to the next (`forward`: older to newer) or previous match,
    /// going round at the ends.
    fn step_match(&mut self, view: &RunView, forward: bool) {
        let count = self.matches(view).len();
        let Some(search) = &mut self.search else {
            return;
        };
        if count == 0 {
            search.current = None;
            let message = format!("no match for {:?}", printable_line(&search.query));
            self.flash(message);
            return;
        }
        search.current = Some(match (search.current, forward) {
            (None, _) => count - 1,
            (Some(i), true) => (i + 1) % count,
            (Some(i), false) => (i + count - 1) % count,
        });
    }

    /// The places (among [`Ui::lines`]) of the lines the search matches.
    pub fn matches(&self, view: &RunView) -> Vec<usize> {
        self.matches_in(&self.lines(view))
    }

    /// The places among `lines` of those the search matches.
    pub fn matches_in(&self, lines: &[&LogLine]) -> Vec<usize> {
        let Some(query) = self
            .search
            .as_ref()
            .map(|s| s.query.to_lowercase())
            .filter(|q| !q.is_empty())
        else {
            return Vec::new();
        };
        lines
            .iter()
            .enumerate()
            .filter(|(_, line)| {
                contains_folded(&line.text, &query)
                    || line.output.iter().any(|o| contains_folded(o, &query))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The line the log is scrolled to (its place among [`Ui::lines`]):
    /// the current match, given the `matches`; none follows the newest.
    pub fn anchor(&self, matches: &[usize]) -> Option<usize> {
        let current = self.search.as_ref()?.current?;
        matches.get(current).copied()
    }

    /// Shows `message` on the status bar for about two seconds.
    pub fn flash(&mut self, message: impl Into<String>) {
        self.flash.set(message.into(), self.tick, FLASH_TICKS);
    }

    /// The flash message, while it lasts.
    pub fn flash_message(&self) -> Option<&str> {
        self.flash.at(self.tick)
    }

    /// The node whose lines the log shows, when drilled into one.
    pub fn drilled_node<'a>(&self, view: &'a RunView) -> Option<&'a str> {
        self.selected
            .filter(|_| self.drilled)
            .and_then(|i| view.nodes.get(i))
            .map(|n| n.id.as_str())
    }

    /// The activity lines to show, oldest first.
    pub fn lines<'a>(&self, view: &'a RunView) -> Vec<&'a LogLine> {
        let node = self.drilled_node(view);
        view.log
            .iter()
            .filter(|line| node.is_none_or(|n| line.node.as_deref() == Some(n)))
            .filter(|line| {
                line.kind != LineKind::Separator || (self.filter == Filter::All && node.is_none())
            })
            .filter(|line| line.kind == LineKind::Separator || self.filter.keeps(line))
            .collect()
    }
}

/// Whether `hay` contains `needle` (lower case), ignoring case; without
/// allocating when the needle is ASCII (a frame searches every line).
fn contains_folded(hay: &str, needle: &str) -> bool {
    if needle.is_ascii() {
        let needle = needle.as_bytes();
        hay.len() >= needle.len()
            && hay
                .as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    } else {
        hay.to_lowercase().contains(needle)
    }
}

/// Copies `text` to the system clipboard with the first of `pbcopy`,
/// `wl-copy` and `xclip` there is; whether one took it.
pub fn copy_to_clipboard(text: &str) -> bool {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let tools: [(&str, &[&str]); 3] = [
        ("pbcopy", &[]),
        ("wl-copy", &[]),
        ("xclip", &["-selection", "clipboard"]),
    ];
    tools.iter().any(|(tool, args)| {
        let Ok(mut child) = Command::new(tool)
            .args(*args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return false;
        };
        let written = child
            .stdin
            .take()
            .is_some_and(|mut stdin| stdin.write_all(text.as_bytes()).is_ok());
        child.wait().is_ok_and(|status| status.success()) && written
    })
}
