//! One frame of the one-run view: a header (workflow, run, tokens, cost,
//! time), the pipeline's nodes with lamps and the trail beside the activity
//! log, and a status bar (progress, how the run ended, filter, keys). Any
//! terminal size draws without panicking; what does not fit is cut.

use ratatui::layout::{Alignment, Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use dippin::diagnostic::printable_line;

use super::model::{Lamp, LineKind, LogLine, NodeRow, RunView, COLLAPSED_OUTPUT};
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
    // The lines shown and the search's matches among them, found once a
    // frame.
    let shown = ui.lines(view);
    let matches = ui.matches_in(&shown);
    draw_log(frame, view, ui, columns[1], &shown, &matches);
    frame.render_widget(Paragraph::new(status_bar(view, ui, matches.len())), rows[2]);
    if ui.help {
        draw_help(frame, frame.area(), ui.on_board);
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
        elapsed(
            view.elapsed_at(ui.now_ms, view.outcome.is_none())
                .max(ui.elapsed_ms)
        )
    ))
    .alignment(Alignment::Right);
    frame.render_widget(Paragraph::new(left), area);
    frame.render_widget(Paragraph::new(right), area);
}

/// A token count as `950`, `12.3k` or `1.2M`.
pub fn tokens(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else if n >= 1_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

/// Milliseconds as `3m07s` (or `1h02m`).
pub fn elapsed(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// The sidebar's width: its longest row, at most a third of the screen.
fn node_list_width(view: &RunView, total: u16) -> u16 {
    let longest = if view.nodes.is_empty() {
        10
    } else {
        view.widest() + 13
    };
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
    // Only as much of the trail as could show.
    let trail = view.trail_newest_first(usize::from(inner.height));
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
    let focus = ui.selected.or_else(|| view.current_index()).unwrap_or(0);
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
                // A connector along the nodes the run went through.
                let path = if node.attempts > 0 { "│" } else { " " };
                let mut spans = vec![
                    Span::raw(marker),
                    Span::styled(path, Style::default().fg(Color::DarkGray)),
                    Span::raw("  ".repeat(node.depth)),
                    Span::styled(
                        format!("{} ", node.lamp.glyph(ui.tick)),
                        lamp_style(node.lamp),
                    ),
                    Span::raw(node.label().to_string()),
                ];
                if node.lamp == Lamp::Done && node.cost_usd > 0.001 {
                    spans.push(Span::styled(
                        format!(" ${:.2}", node.cost_usd),
                        Style::default().fg(Color::DarkGray),
                    ));
                }
                if let Some(detail) = row_detail(node, ui.now_ms) {
                    spans.push(Span::styled(format!(" {detail}"), lamp_style(node.lamp)));
                }
                Line::from(spans)
            }),
    );
    frame.render_widget(Paragraph::new(lines), area);
}

/// What a row says beside its name: the tool it runs or how long it has
/// been thinking, why it failed or goes round again.
fn row_detail(node: &NodeRow, now_ms: i64) -> Option<String> {
    let time = node
        .since_ms
        .filter(|since| now_ms >= *since && now_ms > 0)
        .map(|since| format!("({:.1}s)", (now_ms - since) as f64 / 1000.0));
    match node.lamp {
        Lamp::Tool => Some(format!(
            "{} {}",
            node.note.as_deref().unwrap_or("tool"),
            time.unwrap_or_default()
        )),
        Lamp::Thinking => time,
        Lamp::Failed | Lamp::Retrying => node.note.clone(),
        _ => None,
    }
}

fn draw_log(
    frame: &mut Frame<'_>,
    view: &RunView,
    ui: &Ui,
    area: Rect,
    shown: &[&LogLine],
    matches: &[usize],
) {
    let title = match ui.drilled_node(view) {
        Some(node) => format!(" ACTIVITY LOG [{node}]"),
        None => " ACTIVITY LOG".to_string(),
    };
    let height = usize::from(area.height).saturating_sub(1);
    let width = usize::from(area.width);
    let anchor = ui.anchor(matches);
    let mut lines = vec![Line::styled(title, Style::default().fg(Color::DarkGray))];
    if shown.is_empty() {
        lines.push(Line::styled(
            " awaiting activity...",
            Style::default().fg(Color::DarkGray),
        ));
    }
    // Rows are gathered from the line scrolled to (the newest, or the
    // search's match) back up the screen: only what is seen is styled.
    let last = anchor.unwrap_or(shown.len().saturating_sub(1));
    let styled = |i: usize, line: &LogLine| {
        let highlight = matches.binary_search(&i).is_ok();
        let current = anchor == Some(i);
        let mut block = log_rows(line, width, ui.expanded);
        for row in &mut block {
            if current {
                *row = row
                    .clone()
                    .style(Style::default().bg(Color::Yellow).fg(Color::Black));
            } else if highlight {
                *row = row
                    .clone()
                    .style(Style::default().add_modifier(Modifier::REVERSED));
            }
        }
        block
    };
    let mut rows: Vec<Line<'static>> = Vec::with_capacity(height);
    for (i, line) in shown.iter().enumerate().take(last + 1).rev() {
        if rows.len() >= height {
            break;
        }
        rows.extend(styled(i, line).into_iter().rev());
    }
    rows.truncate(height);
    rows.reverse();
    // A match near the top leaves room: the lines after it fill the screen
    // (the match stays the last line shown only when that fills it).
    for (i, line) in shown.iter().enumerate().skip(last + 1) {
        if rows.len() >= height {
            break;
        }
        rows.extend(styled(i, line));
    }
    rows.truncate(height);
    lines.extend(rows);
    frame.render_widget(Paragraph::new(lines), area);
}

/// The rows of one activity line: the line, then its tool output (at most
/// [`COLLAPSED_OUTPUT`] lines unless `expanded`).
fn log_rows(line: &LogLine, width: usize, expanded: bool) -> Vec<Line<'static>> {
    let style = match line.kind {
        LineKind::Progress | LineKind::Text => Style::default(),
        LineKind::Tool => Style::default().fg(Color::Blue),
        LineKind::Warning => Style::default().fg(Color::Yellow),
        LineKind::Error => Style::default().fg(Color::Red),
        LineKind::Separator => Style::default().fg(Color::DarkGray),
    };
    let node = line.node.as_deref().unwrap_or("");
    if line.kind == LineKind::Separator {
        return vec![Line::styled(
            format!("─── {node} {}", "─".repeat(width)),
            style,
        )];
    }
    let collapsed = !expanded && line.output.len() > COLLAPSED_OUTPUT;
    let text = if collapsed {
        format!(
            " {node:<12} {} ({} lines, ctrl+o to expand)",
            line.text,
            line.output.len()
        )
    } else {
        format!(" {node:<12} {}", line.text)
    };
    let mut rows = vec![Line::styled(text, style)];
    if !collapsed {
        rows.extend(line.output.iter().map(|out| {
            Line::styled(
                format!(" {:<12}   {out}", ""),
                Style::default().fg(Color::DarkGray),
            )
        }));
    }
    rows
}

fn status_bar(view: &RunView, ui: &Ui, matches: usize) -> Line<'static> {
    let (done, total) = view.progress();
    let state = match view.outcome.as_deref() {
        Some("success") => Span::styled(
            " ● Completed ".to_string(),
            Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
        ),
        Some("validation_overridden") => Span::styled(
            format!(
                " ● Completed — validation override {} ",
                view.overridden.as_deref().unwrap_or("")
            ),
            Style::default()
                .fg(Color::Yellow)
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
    if let Some(search) = ui.search.as_ref().filter(|s| s.typing) {
        return Line::from(vec![
            Span::raw(format!(" /{}", printable_line(&search.query))),
            Span::styled("▏", Style::default().fg(Color::Yellow)),
            Span::styled(
                "  Enter keep · Esc end",
                Style::default().fg(Color::DarkGray),
            ),
        ]);
    }
    let mut spans = vec![state, Span::raw(format!("{done}/{total} "))];
    if let Some(eta) = view.eta_ms() {
        spans.push(Span::raw(format!("ETA {} ", elapsed(eta))));
    }
    if ui.filter != Filter::All {
        spans.push(Span::styled(
            format!("[{}] ", ui.filter.name()),
            Style::default().fg(Color::Cyan),
        ));
    }
    if let Some(search) = &ui.search {
        let count = matches;
        // The match kept from before a filter change may be past the
        // matches the filter leaves.
        let at = search.current.map_or(0, |c| c + 1).min(count);
        spans.push(Span::styled(
            format!("[/{} {at}/{count}] ", printable_line(&search.query)),
            Style::default().fg(Color::Cyan),
        ));
    }
    match ui.flash_message() {
        Some(message) => spans.push(Span::styled(
            format!("{message} "),
            Style::default().fg(Color::Yellow),
        )),
        None => spans.push(Span::styled(
            "· v filter  z zen  / search  ? help  q quit",
            Style::default().fg(Color::DarkGray),
        )),
    }
    Line::from(spans)
}

/// The keys, in an overlay; `on_board`: the run was opened from a board,
/// whose `q` leaves it going.
fn draw_help(frame: &mut Frame<'_>, area: Rect, on_board: bool) {
    let quit = if on_board {
        "q Ctrl+C quit; the run goes on"
    } else {
        "q Ctrl+C cancel the run and quit"
    };
    let text = [
        "↑ ↓      select a node",
        "Enter    its lines only",
        "Esc      every node's lines",
        "v        filter: all, tools, errors",
        "z        zen: hide the node list",
        "/        search (Enter keeps it, Esc ends it)",
        "n N      next / previous match",
        "Ctrl+O   expand or collapse tool output",
        "y        copy the log shown",
        "?        this help (? or Esc closes it)",
        quit,
        "",
        "At a gate: ↑ ↓ Enter pick, y/n answer yes/no,",
        "Enter new line and Ctrl+S submit text,",
        "Esc closes it unanswered.",
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
