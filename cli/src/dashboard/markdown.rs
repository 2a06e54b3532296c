//! Light Markdown for the text people read at a gate: headings bold, `**`
//! bold, `` ` ``code`` ` `` and fenced blocks in their own colour, bullets as
//! `•`, rules as a line. Anything else shows as written. The text is made
//! printable first, so nothing in it reaches the terminal as a control.

use dippin::diagnostic::printable_line;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// `text` as styled lines; `base` is the style of plain text.
pub fn lines(text: &str, base: Style) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut in_code = false;
    let code = base.fg(Color::Cyan);
    for raw in text.lines() {
        let line = printable_line(raw);
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push(Line::styled(format!("  {line}"), code));
            continue;
        }
        let heading = trimmed.trim_start_matches('#');
        if trimmed.starts_with('#') && heading.starts_with(' ') {
            out.push(Line::styled(
                heading.trim().to_string(),
                base.add_modifier(Modifier::BOLD),
            ));
        } else if matches!(trimmed, "---" | "***" | "___") {
            out.push(Line::styled("─".repeat(20), base.fg(Color::DarkGray)));
        } else if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            let indent = &line[..line.len() - trimmed.len()];
            let mut spans = vec![Span::styled(format!("{indent}• "), base)];
            spans.extend(inline(item, base));
            out.push(Line::from(spans));
        } else {
            out.push(Line::from(inline(&line, base)));
        }
    }
    out
}

/// One line's inline styles: `**bold**` and `` `code` ``.
fn inline(text: &str, base: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let bold = rest.find("**");
        let code = rest.find('`');
        let (at, marker, style) = match (bold, code) {
            (Some(b), Some(c)) if c < b => (c, "`", base.fg(Color::Cyan)),
            (Some(b), _) => (b, "**", base.add_modifier(Modifier::BOLD)),
            (None, Some(c)) => (c, "`", base.fg(Color::Cyan)),
            (None, None) => break,
        };
        let after = &rest[at + marker.len()..];
        let Some(end) = after.find(marker) else {
            break;
        };
        if at > 0 {
            spans.push(Span::styled(rest[..at].to_string(), base));
        }
        spans.push(Span::styled(after[..end].to_string(), style));
        rest = &after[end + marker.len()..];
    }
    if !rest.is_empty() {
        spans.push(Span::styled(rest.to_string(), base));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn headings_bullets_code_and_bold_are_styled_not_shown_as_marks() {
        let shown = lines(
            "## The plan\n- first **step**\n  * nested `cargo test`\n---\n```\nfn main() {}\n```\nplain `x` and **y** and a lone * star",
            Style::default(),
        );
        assert_eq!(
            text(&shown),
            [
                "The plan",
                "• first step",
                "  • nested cargo test",
                "────────────────────",
                "  fn main() {}",
                "plain x and y and a lone * star",
            ]
        );
        assert!(shown[0].style.add_modifier.contains(Modifier::BOLD));
        let bold = &shown[1].spans[2];
        assert_eq!(bold.content, "step");
        assert!(bold.style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(shown[4].style.fg, Some(Color::Cyan));
    }

    #[test]
    fn unclosed_marks_and_control_characters_stay_harmless() {
        let shown = lines("half **open and `tick\n\u{1b}[2Jwiped", Style::default());
        assert_eq!(text(&shown)[0], "half **open and `tick");
        assert!(!text(&shown)[1].contains('\u{1b}'));
    }
}
