//! One frame of the one-run view: a header (workflow, run, tokens, cost,
//! time), the pipeline's nodes with lamps and the trail beside the activity
//! log, and a status bar (progress, how the run ended, filter, keys). Any
//! terminal size draws without panicking; what does not fit is cut.

use ratatui::layout::{Alignment, Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::model::{Lamp, LineKind, RunView};
use super::ui::{Filter, Ui};

/// `area` as a one-row header, a body and a one-row status bar.
pub fn header_body_status(area: Rect) -> [Rect; 3] {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .split(area);
    [rows[0], rows[1], rows[2]]
}

/// Draws `view` as `ui` says over the whole frame.
pub fn draw(frame: &mut Frame<'_>, view: &RunView, ui: &Ui) {
    let rows = header_body_status(frame.area());
    draw_header(frame, view, ui, rows[0]);
    let list_width = if ui.zen {
        0
    } else {
        node_list_width(view, rows[1].width)
    };
    let columns = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Length(list_width), Constraint::Min(0)])
        .split(rows[1]);
    if !ui.zen {
        draw_sidebar(frame, view, ui, columns[0]);
    }
    draw_log(frame, view, ui, columns[1]);
    frame.render_widget(Paragraph::new(status_bar(view, ui)), rows[2]);
    if ui.help {
        draw_help(frame, frame.area());
    }
}

fn draw_header(frame: &mut Frame<'_>, view: &RunView, ui: &Ui, area: Rect) {
    let left = Line::from(vec![
        Span::styled(
            format!(" {} ", view.workflow),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("run {}", view.run_id)),
    ]);
    let right = Line::raw(format!(
        "{} t · ${:.4} · {} ",
        tokens(view.tokens),
        view.cost_usd,
        elapsed(view.elapsed_ms.max(ui.elapsed_ms))
    ))
    .alignment(Alignment::Right);
    frame.render_widget(Paragraph::new(left), area);
    frame.render_widget(Paragraph::new(right), area);
}

fn tokens(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else if n >= 1_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

fn elapsed(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// The sidebar's width: its longest row, at most a third of the screen.
fn node_list_width(view: &RunView, total: u16) -> u16 {
    let longest = view
        .nodes
        .iter()
        .map(|n| n.id.chars().count() + 12)
        .max()
        .unwrap_or(10);
    let longest = u16::try_from(longest).unwrap_or(u16::MAX).saturating_add(2);
    longest.min(total / 3).max(total.min(12))
}

fn lamp_style(lamp: Lamp) -> Style {
    Style::default().fg(match lamp {
        Lamp::Pending | Lamp::Skipped => Color::DarkGray,
        Lamp::Running | Lamp::Thinking | Lamp::Tool => Color::Cyan,
        Lamp::Retrying | Lamp::Waiting => Color::Yellow,
        Lamp::Done => Color::Green,
        Lamp::Failed => Color::Red,
    })
}

fn draw_sidebar(frame: &mut Frame<'_>, view: &RunView, ui: &Ui, area: Rect) {
    let block = Block::default().borders(Borders::RIGHT);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let trail = view.trail_newest_first();
    // The trail takes at most a third of the height, and only what it needs.
    let trail_height = u16::try_from(trail.len() + 1)
        .unwrap_or(u16::MAX)
        .min(inner.height / 3);
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(0), Constraint::Length(trail_height)])
        .split(inner);
    draw_nodes(frame, view, ui, parts[0]);
    let mut lines = vec![Line::styled("TRAIL", Style::default().fg(Color::DarkGray))];
    lines.extend(trail.iter().map(|(node, times)| {
        Line::raw(if *times > 1 {
            format!(" {node} ×{times}")
        } else {
            format!(" {node}")
        })
    }));
    frame.render_widget(Paragraph::new(lines), parts[1]);
}

fn draw_nodes(frame: &mut Frame<'_>, view: &RunView, ui: &Ui, area: Rect) {
    let height = usize::from(area.height).saturating_sub(1);
    // Keep the selection, else the node under way, in sight.
    let focus = ui
        .selected
        .or_else(|| view.nodes.iter().position(|n| n.lamp.is_active()))
        .unwrap_or(0);
    let first = focus
        .saturating_sub(height / 2)
        .min(view.nodes.len().saturating_sub(height));
    let mut lines = vec![Line::styled(
        "PIPELINE",
        Style::default().fg(Color::DarkGray),
    )];
    lines.extend(
        view.nodes
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, node)| {
                let marker = if ui.selected == Some(i) { "▸" } else { " " };
                let mut spans = vec![
                    Span::raw(marker),
                    Span::styled(
                        format!("{} ", node.lamp.glyph(ui.tick)),
                        lamp_style(node.lamp),
                    ),
                    Span::raw(node.id.clone()),
                ];
                if node.lamp == Lamp::Done && node.cost_usd > 0.001 {
                    spans.push(Span::styled(
                        format!(" ${:.2}", node.cost_usd),
                        Style::default().fg(Color::DarkGray),
                    ));
                }
                Line::from(spans)
            }),
    );
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_log(frame: &mut Frame<'_>, view: &RunView, ui: &Ui, area: Rect) {
    let title = match ui.drilled_node(view) {
        Some(node) => format!(" ACTIVITY LOG [{node}]"),
        None => " ACTIVITY LOG".to_string(),
    };
    let height = usize::from(area.height).saturating_sub(1);
    let width = usize::from(area.width);
    let shown = ui.lines(view);
    let mut lines = vec![Line::styled(title, Style::default().fg(Color::DarkGray))];
    if shown.is_empty() {
        lines.push(Line::styled(
            " awaiting activity...",
            Style::default().fg(Color::DarkGray),
        ));
    }
    lines.extend(
        shown
            .iter()
            .skip(shown.len().saturating_sub(height))
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
                        "─── {} {}",
                        line.node.as_deref().unwrap_or(""),
                        "─".repeat(width)
                    ),
                    _ => format!(" {:<12} {}", line.node.as_deref().unwrap_or(""), line.text),
                };
                Line::styled(text, style)
            }),
    );
    frame.render_widget(Paragraph::new(lines), area);
}

fn status_bar(view: &RunView, ui: &Ui) -> Line<'static> {
    let (done, total) = view.progress();
    let state = match view.outcome.as_deref() {
        Some("success") => Span::styled(
            " ● Completed ".to_string(),
            Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
        ),
        Some("budget_exceeded") => Span::styled(
            " ✖ Budget exceeded ".to_string(),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Some("paused_billing") => Span::styled(
            " ⏸ Paused — billing/quota ".to_string(),
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ),
        Some(outcome) => Span::styled(
            format!(" ✖ Failed: {} ", view.failure.as_deref().unwrap_or(outcome)),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        None => {
            let filled = (done * 20).checked_div(total).unwrap_or(0);
            Span::styled(
                format!(" {}{} ", "━".repeat(filled), "─".repeat(20 - filled)),
                Style::default().fg(Color::Yellow),
            )
        }
    };
    let filter = if ui.filter == Filter::All {
        String::new()
    } else {
        format!("[{}] ", ui.filter.name())
    };
    Line::from(vec![
        state,
        Span::raw(format!(
            "{done}/{total} {filter}· v filter  z zen  ? help  q quit"
        )),
    ])
}

fn draw_help(frame: &mut Frame<'_>, area: Rect) {
    let text = [
        "↑ ↓      select a node",
        "Enter    its lines only",
        "Esc      every node's lines",
        "v        filter: all, tools, errors",
        "z        zen: hide the node list",
        "?        this help (? or Esc closes it)",
        "q Ctrl+C cancel the run and quit",
        "",
        "At a gate: ↑ ↓ Enter pick, y/n answer yes/no,",
        "Enter new line and Ctrl+S submit text.",
    ];
    let width = 50.min(area.width);
    let height = (u16::try_from(text.len()).unwrap_or(10) + 2).min(area.height);
    let rect = Rect {
        x: area.x + area.width.saturating_sub(width) / 2,
        y: area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text.iter().map(|l| Line::raw(*l)).collect::<Vec<_>>())
            .block(Block::default().borders(Borders::ALL).title(" help ")),
        rect,
    );
}
