//! A gate waiting for the person at the dashboard: a modal over the run's
//! view. Choices and yes/no gates pick from a list; a freeform gate takes
//! text (Enter adds a line, Ctrl+S submits), and a freeform gate with labels
//! offers them plus "other…" for text of one's own; an interview is a
//! fullscreen form ([`super::interview`]). The prompt and options are shown printable.

use dippin::diagnostic::printable_text;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use tracker_handlers::human::{GateAnswer, GateMode, GateRequest};
use tracker_handlers::questions::Answer;
use tracker_runtime::event::Actor;

use super::interview::InterviewForm;

/// The label of the entry that switches a labelled freeform gate to text.
pub const OTHER: &str = "other…";

/// A gate on screen.
#[derive(Debug)]
pub struct GateModal {
    request: GateRequest,
    /// The options of what is being asked now (empty: text).
    options: Vec<String>,
    selected: usize,
    /// Text typed (freeform, "other…", an open question).
    text: String,
    /// Typing text rather than picking.
    typing: bool,
    /// An interview, as its fullscreen form.
    form: Option<InterviewForm>,
    /// How far a long prompt is scrolled, in rows.
    scroll: u16,
    /// How far the prompt can scroll: its wrapped rows past the room it
    /// had when last drawn (the width is known only then).
    max_scroll: std::cell::Cell<u16>,
    /// Closed without an answer (Esc).
    canceled: bool,
}

/// What separates a gate's text from the context it shows after it.
const CONTEXT_RULE: &str = "\n\n---\n";

/// How many rows PgUp and PgDn scroll a long prompt.
const SCROLL_PAGE: u16 = 10;

impl GateModal {
    /// The modal for `request`.
    pub fn new(request: GateRequest) -> GateModal {
        GateModal::answered_before(request, &[])
    }

    /// The modal for `request`, an interview's answers given `before` (to
    /// the same gate, earlier in the run) filled in.
    pub fn answered_before(request: GateRequest, before: &[Answer]) -> GateModal {
        let form = (request.mode == GateMode::Interview)
            .then(|| InterviewForm::new(request.questions.clone(), before));
        let mut modal = GateModal {
            request,
            options: Vec::new(),
            selected: 0,
            text: String::new(),
            typing: false,
            form,
            scroll: 0,
            max_scroll: std::cell::Cell::new(u16::MAX),
            canceled: false,
        };
        modal.set_options();
        modal
    }

    /// The gate's node.
    pub fn node(&self) -> &str {
        &self.request.node_id
    }

    /// The gate's run.
    pub fn run(&self) -> &str {
        &self.request.run_id
    }

    /// Whether the person closed the gate without answering (Esc on a
    /// list, or on a text gate with nothing typed).
    pub fn canceled(&self) -> bool {
        self.canceled
    }

    /// Whether Esc belongs to the modal (text being typed, an interview past
    /// its first question) rather than closing or putting it aside.
    pub fn takes_esc(&self) -> bool {
        match &self.form {
            // Exactly when Esc does not end the interview: at the first
            // question's text Esc would cancel it, so the gate is put aside.
            Some(form) => form.esc_stays(),
            None => self.is_typing(),
        }
    }

    /// Whether text is being typed (Esc then belongs to the text).
    pub fn is_typing(&self) -> bool {
        match &self.form {
            Some(form) => form.is_typing(),
            None => self.typing && !self.options.is_empty(),
        }
    }

    fn set_options(&mut self) {
        self.options = match self.request.mode {
            GateMode::Freeform if !self.request.choices.is_empty() => {
                let mut options = self.request.choices.clone();
                options.push(OTHER.into());
                options
            }
            _ => self.request.choices.clone(),
        };
        self.selected = self
            .options
            .iter()
            .position(|o| *o == self.request.default)
            .unwrap_or(0);
        self.typing = self.options.is_empty();
        self.text.clear();
    }

    /// Takes a key; the answer once the gate is answered.
    pub fn key(&mut self, key: KeyEvent) -> Option<GateAnswer> {
        if let Some(form) = &mut self.form {
            return form.key(key);
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::PageDown => {
                self.scroll = self
                    .scroll
                    .saturating_add(SCROLL_PAGE)
                    .min(self.max_scroll.get());
                return None;
            }
            KeyCode::PageUp => {
                self.scroll = self
                    .scroll
                    .min(self.max_scroll.get())
                    .saturating_sub(SCROLL_PAGE);
                return None;
            }
            _ => {}
        }
        if self.typing {
            match key.code {
                KeyCode::Char('s') if ctrl => return self.submit(self.text.clone()),
                KeyCode::Char(c) if !ctrl => self.text.push(c),
                KeyCode::Enter => self.text.push('\n'),
                KeyCode::Backspace => {
                    self.text.pop();
                }
                KeyCode::Esc if !self.options.is_empty() => self.typing = false,
                // A text gate: Esc sends what was typed, or closes it.
                KeyCode::Esc if !self.text.is_empty() => return self.submit(self.text.clone()),
                KeyCode::Esc => self.canceled = true,
                _ => {}
            }
            return None;
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.options.len().saturating_sub(1));
            }
            KeyCode::Esc => self.canceled = true,
            KeyCode::Char(c @ ('y' | 'n')) if self.is_yes_no() => {
                let pick = self.options[usize::from(c == 'n')].clone();
                return self.submit(pick);
            }
            KeyCode::Enter => {
                let picked = self.options.get(self.selected).cloned().unwrap_or_default();
                if picked == OTHER {
                    // What was typed before Esc went back is still there.
                    self.typing = true;
                    return None;
                }
                return self.submit(picked);
            }
            _ => {}
        }
        None
    }

    /// Whether the options are yes then no, in any case (a yes/no gate's are
    /// `Yes` and `No`; a choice gate's edges may be labelled so).
    fn is_yes_no(&self) -> bool {
        matches!(self.options.as_slice(),
            [yes, no] if yes.eq_ignore_ascii_case("yes") && no.eq_ignore_ascii_case("no"))
    }

    /// The gate's answer: `response`.
    fn submit(&mut self, response: String) -> Option<GateAnswer> {
        Some(GateAnswer {
            response,
            answers: Vec::new(),
            actor: Actor::Human,
        })
    }

    /// Draws the modal over the middle of `area` (an interview over all
    /// of it).
    pub fn draw(&self, frame: &mut Frame<'_>, area: Rect) {
        if let Some(form) = &self.form {
            let title = format!("gate {}", printable_text(&self.request.node_id));
            form.draw(frame, area, &title, &self.request.prompt);
            return;
        }
        let prompt = self.prompt_lines();
        let (modal, title) = if self.is_review() {
            // A long text is read fullscreen, scrolled with PgUp/PgDn.
            (
                area,
                format!(" review {} ", printable_text(&self.request.node_id)),
            )
        } else {
            let width = area.width.saturating_sub(4).clamp(1, 100);
            // As tall as its text (the prompt wrapped to the width), and no
            // taller than the screen.
            let text_width = usize::from(width.saturating_sub(2)).max(1);
            let prompt_rows: usize = prompt
                .iter()
                .map(|l| l.width().div_ceil(text_width).max(1))
                .sum();
            let wanted =
                prompt_rows + usize::from(self.answer_height(width.saturating_sub(2))) + 1 + 3;
            let height = u16::try_from(wanted)
                .unwrap_or(u16::MAX)
                .min(area.height.saturating_sub(2))
                .max(1);
            let modal = Rect {
                x: area.x + (area.width.saturating_sub(width)) / 2,
                y: area.y + (area.height.saturating_sub(height)) / 2,
                width: width.min(area.width),
                height: height.min(area.height),
            };
            (
                modal,
                format!(" gate {} ", printable_text(&self.request.node_id)),
            )
        };
        frame.render_widget(Clear, modal);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(Style::default().fg(Color::Yellow))
            .title(title);
        let inner = block.inner(modal);
        frame.render_widget(block, modal);
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Min(1),
                Constraint::Length(self.answer_height(inner.width)),
                Constraint::Length(1),
            ])
            .split(inner);
        let prompt = Paragraph::new(prompt).wrap(Wrap { trim: false });
        let wrapped = u16::try_from(prompt.line_count(rows[0].width)).unwrap_or(u16::MAX);
        self.max_scroll.set(wrapped.saturating_sub(rows[0].height));
        frame.render_widget(
            prompt.scroll((self.scroll.min(self.max_scroll.get()), 0)),
            rows[0],
        );
        // Typed text wraps, and its end (where the cursor is) stays in view.
        let answer = self.answer_paragraph();
        let below = u16::try_from(answer.line_count(rows[1].width))
            .unwrap_or(u16::MAX)
            .saturating_sub(rows[1].height);
        frame.render_widget(answer.scroll((below, 0)), rows[1]);
        let hint = match (self.typing, self.is_review()) {
            (true, false) => "type · Enter new line · Ctrl+S submit",
            (false, false) if self.is_yes_no() => "y yes · n no · ↑↓ choose · Enter pick",
            (false, false) => "↑↓ choose · Enter pick",
            (true, true) => "type · Enter new line · Ctrl+S submit · PgUp/PgDn scroll",
            (false, true) => "↑↓ choose · Enter pick · PgUp/PgDn scroll",
        };
        frame.render_widget(
            Paragraph::new(Line::styled(hint, Style::default().fg(Color::DarkGray))),
            rows[2],
        );
    }

    /// The gate's text and the context after it (what the node before
    /// said, after a `---` line).
    fn prompt_parts(&self) -> (&str, Option<&str>) {
        match self.request.prompt.split_once(CONTEXT_RULE) {
            Some((prompt, context)) => (prompt, Some(context)),
            None => (&self.request.prompt, None),
        }
    }

    /// Whether the gate is read fullscreen: a long text (over 20 lines or
    /// 2,000 characters), or labels with a long context (over 5 lines or
    /// 200 characters).
    fn is_review(&self) -> bool {
        let text = &self.request.prompt;
        let long = |t: &str, lines: usize, chars: usize| {
            t.lines().count() > lines || t.chars().count() > chars
        };
        long(text, 20, 2_000)
            || (!self.options.is_empty()
                && self
                    .prompt_parts()
                    .1
                    .is_some_and(|context| long(context, 5, 200)))
    }

    /// The prompt as shown: light Markdown, the context dimmed (its last
    /// five lines, unless read fullscreen).
    fn prompt_lines(&self) -> Vec<Line<'static>> {
        let (prompt, context) = self.prompt_parts();
        let mut lines = super::markdown::lines(prompt, Style::default());
        if let Some(context) = context {
            let dim = Style::default().fg(Color::DarkGray);
            let mut shown = super::markdown::lines(context, dim);
            if !self.is_review() && shown.len() > 5 {
                shown.drain(..shown.len() - 5);
                lines.push(Line::styled("…", dim));
            }
            lines.push(Line::styled("─".repeat(20), dim));
            lines.extend(shown);
        }
        lines
    }

    /// The rows the answer takes at `width` (at most 10): the options, or
    /// the typed text wrapped, and a row to grow into.
    fn answer_height(&self, width: u16) -> u16 {
        let lines = if self.typing {
            self.answer_paragraph().line_count(width) + 1
        } else {
            self.options.len()
        };
        u16::try_from(lines.min(10)).unwrap_or(10)
    }

    /// The answer as drawn: the options, or the typed text, wrapped.
    fn answer_paragraph(&self) -> Paragraph<'static> {
        let answer = Paragraph::new(self.answer_lines());
        if self.typing {
            answer.wrap(Wrap { trim: false })
        } else {
            answer
        }
    }

    fn answer_lines(&self) -> Vec<Line<'static>> {
        if self.typing {
            let mut lines: Vec<Line<'static>> = self
                .text
                .split('\n')
                .map(|l| Line::raw(format!("> {}", printable_text(l))))
                .collect();
            if let Some(last) = lines.last_mut() {
                last.push_span(Span::styled("▏", Style::default().fg(Color::Yellow)));
            }
            return lines;
        }
        self.options
            .iter()
            .enumerate()
            .map(|(i, option)| {
                let text = format!(
                    "{} {}",
                    if i == self.selected { "▶" } else { " " },
                    printable_text(option)
                );
                if i == self.selected {
                    Line::styled(text, Style::default().add_modifier(Modifier::REVERSED))
                } else {
                    Line::raw(text)
                }
            })
            .collect()
    }
}
