//! An interview gate as a fullscreen form: a header with how many questions
//! are answered, the answers so far (`✓ Q1: … → answer`), and the question
//! at hand — a pick from its options plus "other…", yes/no (`y`/`n`), or
//! text. Tab adds an elaboration to the answer; Enter answers and moves on;
//! Esc goes back a question (at the first it cancels, handing back what was
//! answered, marked canceled); Ctrl+S submits everything; PgUp/PgDn page
//! the answers by ten. Answers given before (a retry of the same gate) are
//! filled in.

use dippin::diagnostic::printable_text;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use tracker_handlers::human::GateAnswer;
use tracker_handlers::questions::{Answer, Question, CANCELED};
use tracker_runtime::event::Actor;

use super::gate::OTHER;

/// How many answers PgUp and PgDn move.
const PAGE: usize = 10;

/// Where the keys go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// Picking one of the options.
    Pick,
    /// Typing the answer (a text question, or "other…").
    Answer,
    /// Typing an elaboration (Tab).
    Elaboration,
}

/// An interview being answered.
#[derive(Debug)]
pub struct InterviewForm {
    questions: Vec<Question>,
    /// One per question; the ones not reached yet are empty (or hold what
    /// was answered before, on a retry).
    answers: Vec<Answer>,
    /// The question at hand.
    current: usize,
    /// The option under the cursor.
    selected: usize,
    field: Field,
    /// The first answered question shown (PgUp/PgDn).
    scroll: usize,
}

impl InterviewForm {
    /// The form for `questions`, with `before` filled in (answers given to
    /// this gate earlier in the run).
    pub fn new(questions: Vec<Question>, before: &[Answer]) -> InterviewForm {
        let answers = (0..questions.len())
            .map(|i| before.get(i).cloned().unwrap_or_default())
            .collect();
        let mut form = InterviewForm {
            questions,
            answers,
            current: 0,
            selected: 0,
            field: Field::Pick,
            scroll: 0,
        };
        form.enter_question();
        form
    }

    /// The options of the question at hand (empty: text).
    fn options(&self) -> Vec<String> {
        match self.questions.get(self.current) {
            Some(q) if q.is_yes_no => vec!["yes".into(), "no".into()],
            Some(q) if !q.options.is_empty() => {
                let mut options = q.options.clone();
                options.push(OTHER.into());
                options
            }
            _ => Vec::new(),
        }
    }

    /// Arrives at the question at hand: the cursor on its answer so far.
    fn enter_question(&mut self) {
        let options = self.options();
        let answer = self
            .answers
            .get(self.current)
            .map(|a| a.answer.clone())
            .unwrap_or_default();
        match options.iter().position(|o| *o == answer) {
            Some(i) => {
                self.selected = i;
                self.field = Field::Pick;
            }
            // A text answer, or an answer of one's own to a pick.
            None if options.is_empty() => self.field = Field::Answer,
            None if !answer.is_empty() => {
                self.selected = options.len() - 1;
                self.field = Field::Answer;
            }
            None => {
                self.selected = 0;
                self.field = Field::Pick;
            }
        }
    }

    /// Whether text is being typed.
    pub fn is_typing(&self) -> bool {
        self.field != Field::Pick
    }

    fn answer_mut(&mut self) -> Option<&mut Answer> {
        self.answers.get_mut(self.current)
    }

    /// Takes a key; the gate's answer once the form is submitted or
    /// canceled.
    pub fn key(&mut self, key: KeyEvent) -> Option<GateAnswer> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => return Some(self.finish(false)),
            KeyCode::PageDown => {
                self.scroll = (self.scroll + PAGE).min(self.current.saturating_sub(1));
                return None;
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(PAGE);
                return None;
            }
            KeyCode::Tab => {
                self.field = if self.field == Field::Elaboration {
                    if self.options().is_empty() || self.selected + 1 == self.options().len() {
                        Field::Answer
                    } else {
                        Field::Pick
                    }
                } else {
                    Field::Elaboration
                };
                return None;
            }
            KeyCode::Esc => return self.back(),
            _ => {}
        }
        match self.field {
            Field::Pick => self.pick_key(key),
            Field::Answer | Field::Elaboration => self.text_key(key, ctrl),
        }
    }

    fn pick_key(&mut self, key: KeyEvent) -> Option<GateAnswer> {
        let options = self.options();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(options.len().saturating_sub(1));
            }
            KeyCode::Char(c @ ('y' | 'n')) if options == ["yes", "no"] => {
                let pick = if c == 'y' { "yes" } else { "no" };
                return self.answer_with(pick.to_string());
            }
            KeyCode::Enter => {
                let pick = options.get(self.selected).cloned().unwrap_or_default();
                if pick == OTHER {
                    if let Some(answer) = self.answer_mut() {
                        answer.answer.clear();
                    }
                    self.field = Field::Answer;
                    return None;
                }
                return self.answer_with(pick);
            }
            _ => {}
        }
        None
    }

    fn text_key(&mut self, key: KeyEvent, ctrl: bool) -> Option<GateAnswer> {
        let elaborating = self.field == Field::Elaboration;
        if key.code == KeyCode::Enter && !elaborating {
            let typed = self
                .answers
                .get(self.current)
                .map(|a| a.answer.clone())
                .unwrap_or_default();
            return self.answer_with(typed);
        }
        let answer = self.answer_mut()?;
        let text = if elaborating {
            &mut answer.elaboration
        } else {
            &mut answer.answer
        };
        match key.code {
            KeyCode::Enter => text.push('\n'),
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !ctrl => text.push(c),
            _ => {}
        }
        None
    }

    /// Records `answer` for the question at hand and moves on; the gate's
    /// answer after the last.
    fn answer_with(&mut self, answer: String) -> Option<GateAnswer> {
        if let Some(slot) = self.answer_mut() {
            slot.answer = answer;
        }
        self.current += 1;
        if self.current >= self.questions.len() {
            return Some(self.finish(false));
        }
        self.enter_question();
        None
    }

    /// Whether Esc stays in the form (leaves text, or goes back a question)
    /// rather than ending the interview.
    pub fn esc_stays(&self) -> bool {
        (self.field != Field::Pick && !self.options().is_empty()) || self.current > 0
    }

    /// Esc: back a question (leaving text first); at the first question,
    /// the interview is canceled.
    fn back(&mut self) -> Option<GateAnswer> {
        if self.field != Field::Pick && !self.options().is_empty() {
            self.field = Field::Pick;
            return None;
        }
        if self.current == 0 {
            return Some(self.finish(true));
        }
        self.current -= 1;
        self.enter_question();
        None
    }

    /// The gate's answer: every answer given (those not reached empty).
    fn finish(&mut self, canceled: bool) -> GateAnswer {
        let mut answers = std::mem::take(&mut self.answers);
        // Questions not reached keep no answer, whatever was filled in.
        for answer in answers.iter_mut().skip(self.current + 1) {
            *answer = Answer::default();
        }
        GateAnswer {
            response: if canceled {
                CANCELED.to_string()
            } else {
                String::new()
            },
            answers,
            actor: Actor::Human,
        }
    }

    /// How many questions have an answer.
    fn answered(&self) -> usize {
        self.answers
            .iter()
            .take(self.current)
            .filter(|a| !a.answer.is_empty())
            .count()
    }

    /// Draws the form over the whole of `area`, titled with `title` and
    /// the gate's `prompt` above the questions.
    pub fn draw(&self, frame: &mut Frame<'_>, area: Rect, title: &str, prompt: &str) {
        frame.render_widget(Clear, area);
        let total = self.questions.len();
        let answered = self.answered();
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(Style::default().fg(Color::Yellow))
            .title(format!(" {title} "));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let question_height = u16::try_from(self.question_lines().len())
            .unwrap_or(u16::MAX)
            .min(inner.height.saturating_sub(3));
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(1),
                Constraint::Min(0),
                Constraint::Length(question_height),
                Constraint::Length(1),
            ])
            .split(inner);
        let filled = (answered * 20).checked_div(total).unwrap_or(0);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    format!("INTERVIEW ({answered}/{total} answered) "),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    format!("{}{}", "━".repeat(filled), "─".repeat(20 - filled)),
                    Style::default().fg(Color::Yellow),
                ),
            ])),
            rows[0],
        );
        let mut above: Vec<Line<'static>> = printable_text(prompt)
            .lines()
            .map(|l| Line::styled(l.to_string(), Style::default().fg(Color::DarkGray)))
            .collect();
        above.push(Line::raw(""));
        above.extend(
            self.questions
                .iter()
                .zip(&self.answers)
                .take(self.current)
                .enumerate()
                .skip(self.scroll)
                .map(|(i, (q, a))| {
                    let mut text = format!(
                        "✓ Q{}: {} → {}",
                        i + 1,
                        printable_text(&q.text),
                        if a.answer.is_empty() {
                            "(skipped)".into()
                        } else {
                            printable_text(&a.answer).replace('\n', " ")
                        }
                    );
                    if !a.elaboration.is_empty() {
                        text.push_str(&format!(
                            " ({})",
                            printable_text(&a.elaboration).replace('\n', " ")
                        ));
                    }
                    Line::styled(text, Style::default().fg(Color::Green))
                }),
        );
        // The newest answers stay in sight.
        let height = usize::from(rows[1].height);
        let skip = above.len().saturating_sub(height);
        frame.render_widget(
            Paragraph::new(above.into_iter().skip(skip).collect::<Vec<_>>())
                .wrap(Wrap { trim: false }),
            rows[1],
        );
        frame.render_widget(Paragraph::new(self.question_lines()), rows[2]);
        let hint = match self.field {
            Field::Pick => {
                "↑↓ choose · Enter answer · Tab elaborate · Esc back · Ctrl+S submit all"
            }
            Field::Answer => "type · Enter answer · Tab elaborate · Esc back · Ctrl+S submit all",
            Field::Elaboration => {
                "type the elaboration · Tab back to the answer · Ctrl+S submit all"
            }
        };
        frame.render_widget(
            Paragraph::new(Line::styled(hint, Style::default().fg(Color::DarkGray))),
            rows[3],
        );
    }

    /// The question at hand, its context, and its answer field.
    fn question_lines(&self) -> Vec<Line<'static>> {
        let Some(q) = self.questions.get(self.current) else {
            return Vec::new();
        };
        let answer = self.answers.get(self.current).cloned().unwrap_or_default();
        let mut lines = vec![Line::styled(
            format!(
                "Q{} of {}: {}",
                self.current + 1,
                self.questions.len(),
                printable_text(&q.text)
            ),
            Style::default().add_modifier(Modifier::BOLD),
        )];
        if !q.context.is_empty() {
            lines.push(Line::styled(
                format!("  {}", printable_text(&q.context)),
                Style::default().fg(Color::DarkGray),
            ));
        }
        let cursor = || Span::styled("▏", Style::default().fg(Color::Yellow));
        for (i, option) in self.options().iter().enumerate() {
            let text = format!(
                "{} {}",
                if i == self.selected { "▶" } else { " " },
                printable_text(option)
            );
            lines.push(if i == self.selected && self.field == Field::Pick {
                Line::styled(text, Style::default().add_modifier(Modifier::REVERSED))
            } else {
                Line::raw(text)
            });
        }
        if self.field == Field::Answer || (self.options().is_empty() && !answer.answer.is_empty()) {
            for (i, line) in answer.answer.split('\n').enumerate() {
                let mut row = Line::raw(format!("> {}", printable_text(line)));
                if i == answer.answer.matches('\n').count() && self.field == Field::Answer {
                    row.push_span(cursor());
                }
                lines.push(row);
            }
        }
        if self.field == Field::Elaboration || !answer.elaboration.is_empty() {
            let mut row = Line::styled(
                format!(
                    "+ {}",
                    printable_text(&answer.elaboration).replace('\n', " ")
                ),
                Style::default().fg(Color::Cyan),
            );
            if self.field == Field::Elaboration {
                row.push_span(cursor());
            }
            lines.push(row);
        }
        lines
    }
}
