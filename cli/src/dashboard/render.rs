//! One frame of the one-run view: a header (workflow, run, tokens, cost,
//! time), the node list with lamps beside the activity log, and a status bar
//! (progress, outcome, keys). Any terminal size draws without panicking; what
//! does not fit is cut.

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::model::{Lamp, LineKind, RunView};

/// Draws `view` over the whole frame.
pub fn draw(frame: &mut Frame<'_>, view: &RunView) {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .split(frame.area());
    frame.render_widget(Paragraph::new(header(view)), rows[0]);
    let list_width = node_list_width(view, rows[1].width);
    let columns = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Length(list_width), Constraint::Min(0)])
        .split(rows[1]);
    draw_nodes(frame, view, columns[0]);
    draw_log(frame, view, columns[1]);
    frame.render_widget(Paragraph::new(status_bar(view)), rows[2]);
}

fn header(view: &RunView) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!(" {} ", view.workflow),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "run {} · {} tokens · ${:.4} · {}",
            view.run_id,
            view.tokens,
            view.cost_usd,
            elapsed(view.elapsed_ms)
        )),
    ])
}

fn elapsed(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// The node list's width: its longest row, at most a third of the screen.
fn node_list_width(view: &RunView, total: u16) -> u16 {
    let longest = view
        .nodes
        .iter()
        .map(|n| n.id.chars().count() + n.kind.len() + 5)
        .max()
        .unwrap_or(10);
    let longest = u16::try_from(longest).unwrap_or(u16::MAX).saturating_add(2);
    longest.min(total / 3).max(total.min(12))
}

fn lamp_style(lamp: Lamp) -> Style {
    Style::default().fg(match lamp {
        Lamp::Pending => Color::DarkGray,
        Lamp::Running => Color::Cyan,
        Lamp::Retrying | Lamp::Waiting => Color::Yellow,
        Lamp::Done => Color::Green,
        Lamp::Failed => Color::Red,
    })
}

fn draw_nodes(frame: &mut Frame<'_>, view: &RunView, area: Rect) {
    let block = Block::default().borders(Borders::RIGHT);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Keep the running node in sight in a long list.
    let height = usize::from(inner.height);
    let current = view
        .nodes
        .iter()
        .position(|n| matches!(n.lamp, Lamp::Running | Lamp::Waiting | Lamp::Retrying))
        .unwrap_or(0);
    let first = current
        .saturating_sub(height / 2)
        .min(view.nodes.len().saturating_sub(height));
    let lines: Vec<Line<'_>> = view
        .nodes
        .iter()
        .skip(first)
        .take(height)
        .map(|node| {
            Line::from(vec![
                Span::styled(format!("{} ", node.lamp.glyph()), lamp_style(node.lamp)),
                Span::raw(node.id.clone()),
                Span::styled(
                    format!(" {}", node.kind),
                    Style::default().fg(Color::DarkGray),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_log(frame: &mut Frame<'_>, view: &RunView, area: Rect) {
    let height = usize::from(area.height);
    let width = usize::from(area.width);
    let lines: Vec<Line<'_>> = view
        .log
        .iter()
        .skip(view.log.len().saturating_sub(height))
        .map(|line| {
            let style = match line.kind {
                LineKind::Progress => Style::default(),
                LineKind::Tool => Style::default().fg(Color::Blue),
                LineKind::Warning => Style::default().fg(Color::Yellow),
                LineKind::Error => Style::default().fg(Color::Red),
                LineKind::Separator => Style::default().fg(Color::DarkGray),
            };
            let text = match line.kind {
                LineKind::Separator => format!(
                    "── {} {}",
                    line.node.as_deref().unwrap_or(""),
                    "─".repeat(width)
                ),
                _ => format!(" {:<12} {}", line.node.as_deref().unwrap_or(""), line.text),
            };
            Line::styled(text, style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

fn status_bar(view: &RunView) -> Line<'static> {
    let (done, total) = view.progress();
    let state = match &view.outcome {
        Some(outcome) if outcome == "success" => Span::styled(
            " ✓ success ".to_string(),
            Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
        ),
        Some(outcome) => Span::styled(
            format!(" ✗ {outcome} "),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        None => Span::raw(" running "),
    };
    Line::from(vec![
        state,
        Span::raw(format!("· {done}/{total} nodes · q quit")),
    ])
}
