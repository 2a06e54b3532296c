//! What the person at the dashboard chose to see: the selected node and
//! whether its lines are drilled into, the log's filter, zen mode, the help
//! overlay; and the keys that change them.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

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
    /// Ticks of the clock (turns spinners).
    pub tick: u64,
    /// Milliseconds since the dashboard opened (the header's clock between
    /// the run's own reports).
    pub elapsed_ms: u64,
}

impl Ui {
    /// Takes a key meant for the view (not a gate); whether it was one.
    pub fn key(&mut self, key: KeyEvent, view: &RunView) -> bool {
        if self.help {
            if matches!(key.code, KeyCode::Char('?') | KeyCode::Esc) {
                self.help = false;
            }
            return true;
        }
        let last = view.nodes.len().saturating_sub(1);
        match key.code {
            KeyCode::Up => {
                self.selected = Some(self.selected.map_or(0, |s| s.saturating_sub(1)));
            }
            KeyCode::Down => {
                self.selected = Some(self.selected.map_or(0, |s| (s + 1).min(last)));
            }
            KeyCode::Enter if self.selected.is_some() => self.drilled = true,
            KeyCode::Esc => {
                self.drilled = false;
            }
            KeyCode::Char('v') => self.filter = self.filter.next(),
            KeyCode::Char('z') => self.zen = !self.zen,
            KeyCode::Char('?') => self.help = true,
            _ => return false,
        }
        true
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
