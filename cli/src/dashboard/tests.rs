//! The view drawn into ratatui's test backend: snapshots at the usual sizes,
//! a tiny terminal, a huge pipeline, and text that tries to drive the
//! terminal.

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tracker_runtime::event::{CostSnapshot, EventKind, EventSource, PipelineEvent};
use tracker_runtime::plan::SpawnPlan;
use tracker_runtime::time::Timestamp;

use super::model::{Lamp, RunView};
use super::render::draw;
use super::ui::{Filter, Ui};

fn plan(src: &str) -> SpawnPlan {
    let (workflow, diagnostics) = dippin::parse_dip(src);
    assert!(!diagnostics.iter().any(|d| d.is_error()), "{diagnostics:?}");
    SpawnPlan::compile(&workflow).expect("plan")
}

const FLOW: &str = "workflow Build\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Fetch\n    timeout: 10s\n    command: git pull\n  agent Write\n    prompt: Write it.\n  human Review\n    label: \"Ship it?\"\n    mode: choice\n  agent Done\n    label: Done\n  edges\n    Start -> Fetch\n    Fetch -> Write\n    Write -> Review\n    Review -> Done  label: yes\n";

fn event(kind: EventKind, node: &str, message: &str) -> PipelineEvent {
    let mut event = PipelineEvent::new(
        kind,
        EventSource::Pipeline,
        Timestamp::from_unix_millis(1_765_000_000_000, 0),
    );
    event.run_id = Some("a1b2c3d4e5f6".into());
    if !node.is_empty() {
        event.node_id = Some(node.into());
    }
    event.message = Some(message.into());
    event
}

/// The view after a run that fetched, wrote (calling a tool), and now waits
/// at its gate.
fn midway() -> RunView {
    let mut view = RunView::new(&plan(FLOW), "a1b2c3d4e5f6");
    let mut tool = event(EventKind::ToolCallStart, "Write", "");
    tool.source = EventSource::Agent;
    tool.tool_name = Some("bash".into());
    tool.capture.tool_input = Some(r#"{"command":"cargo test"}"#.into());
    let mut cost = event(EventKind::CostUpdated, "Write", "");
    cost.cost = Some(CostSnapshot {
        total_tokens: Some(1500),
        total_cost_usd: Some(0.0123),
        wall_elapsed_ms: Some(83_000),
        ..CostSnapshot::default()
    });
    for (i, e) in [
        event(EventKind::PipelineStarted, "", "pipeline started"),
        event(EventKind::StageStarted, "Start", "executing node \"Start\""),
        event(
            EventKind::StageCompleted,
            "Start",
            "node \"Start\" completed",
        ),
        event(EventKind::StageStarted, "Fetch", "executing node \"Fetch\""),
        event(
            EventKind::StageCompleted,
            "Fetch",
            "node \"Fetch\" completed",
        ),
        event(EventKind::StageStarted, "Write", "executing node \"Write\""),
        tool,
        event(
            EventKind::StageCompleted,
            "Write",
            "node \"Write\" completed",
        ),
        cost,
        event(
            EventKind::StageStarted,
            "Review",
            "executing node \"Review\"",
        ),
        event(
            EventKind::GateOpened,
            "Review",
            "gate \"Review\" waits for an answer",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        // Ten seconds apart: the nodes took 20 s each.
        let mut e = e;
        e.ts = Timestamp::from_unix_millis(1_765_000_000_000 + 10_000 * i as i64, 0);
        view.apply(&e);
    }
    view
}

/// What a `width`×`height` terminal shows after `paint`, row by row.
fn screen_of(width: u16, height: u16, paint: impl FnOnce(&mut ratatui::Frame<'_>)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(paint).expect("drawn");
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn drawn(view: &RunView, width: u16, height: u16) -> String {
    drawn_ui(view, &Ui::default(), width, height)
}

#[test]
fn the_view_folds_events_into_lamps_trail_cost_and_log() {
    let view = midway();
    let lamps: Vec<(&str, Lamp)> = view.nodes.iter().map(|n| (n.id.as_str(), n.lamp)).collect();
    assert_eq!(
        lamps,
        [
            ("Start", Lamp::Done),
            ("Fetch", Lamp::Done),
            ("Write", Lamp::Done),
            ("Review", Lamp::Waiting),
            ("Done", Lamp::Pending),
        ]
    );
    assert_eq!(view.trail, ["Start", "Fetch", "Write", "Review"]);
    assert_eq!((view.tokens, view.elapsed_ms), (1500, 83_000));
    assert_eq!(view.progress(), (3, 5));
    assert!(view.log.iter().any(|l| l.text == "▸ $ cargo test"));
}

/// `event` at `ms` past the base instant of [`event`].
fn at(ms: i64, mut event: PipelineEvent) -> PipelineEvent {
    event.ts = Timestamp::from_unix_millis(1_765_000_000_000 + ms, 0);
    event
}

#[test]
fn a_failed_run_counts_what_it_did_and_a_resume_picks_up_where_it_stopped() {
    let mut view = RunView::new(&plan(FLOW), "a1b2c3d4e5f6");
    for e in [
        at(0, event(EventKind::PipelineStarted, "", "pipeline started")),
        at(1_000, event(EventKind::StageStarted, "Start", "")),
        at(2_000, event(EventKind::StageCompleted, "Start", "")),
        at(3_000, event(EventKind::StageStarted, "Fetch", "")),
        at(4_000, event(EventKind::StageFailed, "Fetch", "")),
        at(
            8_000,
            event(EventKind::PipelineFailed, "", "pipeline failed"),
        ),
    ] {
        view.apply(&e);
    }
    // Done and failed, not the three it never reached.
    assert_eq!(view.progress(), (2, 5));
    // Its time is its span, however late it is read, cost reports or not.
    assert_eq!(view.elapsed_at(1_765_000_100_000, false), 8_000);

    let mut resumed = at(
        60_000,
        event(EventKind::PipelineStarted, "", "pipeline resumed"),
    );
    resumed.snapshot = Some(tracker_runtime::event::RunSnapshot {
        completed_nodes: vec!["Start".into()],
        current_node: Some("Fetch".into()),
        ..Default::default()
    });
    view.apply(&resumed);
    assert_eq!(view.outcome, None);
    let lamps: Vec<Lamp> = view.nodes.iter().map(|n| n.lamp).collect();
    assert_eq!(
        lamps,
        [
            Lamp::Done,
            Lamp::Failed,
            Lamp::Pending,
            Lamp::Pending,
            Lamp::Pending
        ]
    );
    // Going: its time runs on from its first start.
    assert_eq!(view.elapsed_at(1_765_000_065_000, true), 65_000);

    // A run resumed in another process: what it finished before is lit.
    let mut fresh = RunView::new(&plan(FLOW), "a1b2c3d4e5f6");
    resumed.snapshot = Some(tracker_runtime::event::RunSnapshot {
        completed_nodes: vec!["Start".into(), "Fetch".into(), "Write".into()],
        ..Default::default()
    });
    fresh.apply(&resumed);
    assert_eq!(fresh.progress(), (3, 5));
}

fn drawn_ui(view: &RunView, ui: &Ui, width: u16, height: u16) -> String {
    screen_of(width, height, |frame| draw(frame, view, ui))
}

fn press(ui: &mut Ui, view: &RunView, code: ratatui::crossterm::event::KeyCode) -> bool {
    ui.key(
        ratatui::crossterm::event::KeyEvent::new(
            code,
            ratatui::crossterm::event::KeyModifiers::NONE,
        ),
        view,
    )
}

#[test]
fn keys_select_a_node_drill_into_it_filter_zen_and_help() {
    use ratatui::crossterm::event::KeyCode;
    let view = midway();
    let mut ui = Ui::default();
    for _ in 0..3 {
        assert!(press(&mut ui, &view, KeyCode::Down));
    }
    assert_eq!(ui.selected, Some(2));
    assert!(press(&mut ui, &view, KeyCode::Enter));
    assert_eq!(ui.drilled_node(&view), Some("Write"));
    assert!(ui
        .lines(&view)
        .iter()
        .all(|l| l.node.as_deref() == Some("Write")));
    let screen = drawn_ui(&view, &ui, 80, 24);
    assert!(screen.contains("ACTIVITY LOG [Write]"), "{screen}");
    insta::assert_snapshot!("drilled_80x24", &screen);
    insta::assert_snapshot!("drilled_200x50", drawn_ui(&view, &ui, 200, 50));
    assert!(screen.contains("▸│● Write"), "{screen}");
    assert!(press(&mut ui, &view, KeyCode::Esc));
    assert_eq!(ui.drilled_node(&view), None);
    // `v` keeps only tool lines, then errors, then all again.
    assert!(press(&mut ui, &view, KeyCode::Char('v')));
    assert_eq!(ui.filter, Filter::Tools);
    let tools = ui.lines(&view);
    assert_eq!(tools.len(), 1, "{tools:?}");
    assert_eq!(tools[0].text, "▸ $ cargo test");
    press(&mut ui, &view, KeyCode::Char('v'));
    press(&mut ui, &view, KeyCode::Char('v'));
    assert_eq!(ui.filter, Filter::All);
    // Zen hides the node list; help opens over everything and `?` closes it.
    press(&mut ui, &view, KeyCode::Char('z'));
    assert!(!drawn_ui(&view, &ui, 80, 24).contains("PIPELINE"));
    insta::assert_snapshot!("zen_80x24", drawn_ui(&view, &ui, 80, 24));
    insta::assert_snapshot!("zen_200x50", drawn_ui(&view, &ui, 200, 50));
    press(&mut ui, &view, KeyCode::Char('?'));
    let help = drawn_ui(&view, &ui, 80, 24);
    assert!(help.contains("zen: hide the node list"), "{help}");
    insta::assert_snapshot!("help_80x24", help);
    insta::assert_snapshot!("help_200x50", drawn_ui(&view, &ui, 200, 50));
    assert!(help.contains("cancel the run and quit"), "{help}");
    // A run opened from a board is left going by `q`: the help says so.
    let mut on_board = Ui::on_board();
    press(&mut on_board, &view, KeyCode::Char('?'));
    let help = drawn_ui(&view, &on_board, 80, 24);
    assert!(help.contains("quit; the run goes on"), "{help}");
    assert!(!help.contains("cancel the run"), "{help}");
    assert!(
        press(&mut ui, &view, KeyCode::Char('x')),
        "help takes every key"
    );
    press(&mut ui, &view, KeyCode::Char('?'));
    assert!(!ui.help);
    assert!(
        !press(&mut ui, &view, KeyCode::Char('x')),
        "an unknown key is not taken"
    );
}

#[test]
fn costs_badge_done_nodes_and_the_trail_collapses_repeats() {
    let mut view = RunView::new(&plan(FLOW), "r");
    for (node, total) in [("Write", 0.25), ("Write", 0.25)] {
        view.apply(&event(EventKind::StageStarted, node, "go"));
        let mut cost = event(EventKind::CostUpdated, node, "");
        cost.cost = Some(CostSnapshot {
            total_cost_usd: Some(total),
            ..CostSnapshot::default()
        });
        view.apply(&cost);
    }
    view.apply(&event(EventKind::StageCompleted, "Write", "done"));
    assert_eq!(view.trail_newest_first(10), [("Write", 2)]);
    let screen = drawn_ui(&view, &Ui::default(), 80, 24);
    assert!(screen.contains("● Write $0.25"), "{screen}");
    assert!(screen.contains("Write ×2"), "{screen}");
}

#[test]
fn an_agent_thinking_or_running_a_tool_shows_on_its_lamp() {
    let mut view = midway();
    view.apply(&event(EventKind::GateResolved, "Review", "answered"));
    view.apply(&event(EventKind::StageCompleted, "Review", "done"));
    view.apply(&event(EventKind::StageStarted, "Done", "go"));
    view.apply(&event(EventKind::LlmRequestStart, "Done", "calling"));
    let done = view.nodes.iter().find(|n| n.id == "Done").expect("Done");
    assert_eq!(done.lamp, Lamp::Thinking);
    assert_ne!(
        Lamp::Thinking.glyph(0),
        Lamp::Thinking.glyph(1),
        "the spinner turns"
    );
    view.apply(&event(EventKind::ToolCallStart, "Done", ""));
    assert_eq!(view.nodes[4].lamp, Lamp::Tool);
    view.apply(&event(EventKind::ToolCallEnd, "Done", ""));
    assert_eq!(view.nodes[4].lamp, Lamp::Running);
    // A late agent event does not move a finished node.
    view.apply(&event(EventKind::StageCompleted, "Done", "done"));
    view.apply(&event(EventKind::LlmFinish, "Done", ""));
    assert_eq!(view.nodes[4].lamp, Lamp::Done);
}

#[test]
fn snapshot_80_by_24() {
    insta::assert_snapshot!(drawn(&midway(), 80, 24));
}

#[test]
fn snapshot_200_by_50() {
    insta::assert_snapshot!(drawn(&midway(), 200, 50));
}

#[test]
fn a_finished_run_says_how_it_ended() {
    let mut view = midway();
    view.apply(&event(EventKind::PipelineFailed, "", "pipeline failed"));
    let screen = drawn(&view, 80, 24);
    assert!(screen.contains("✖ Failed: pipeline_failed"), "{screen}");
    assert!(
        screen.contains("⊘ Done"),
        "a node never reached is skipped: {screen}"
    );
    // Every terminal status has its row.
    for (status, says) in [
        ("success", "● Completed"),
        ("budget_exceeded", "✖ Budget exceeded"),
        ("paused_billing", "⏸ Paused — billing/quota"),
        ("fail", "✖ Failed: fail"),
    ] {
        let mut view = midway();
        let mut end = event(EventKind::PipelineCompleted, "", "ended");
        end.terminal_status = Some(status.into());
        view.apply(&end);
        let screen = drawn(&view, 100, 24);
        assert!(screen.contains(says), "{status}: {screen}");
    }
    let mut view = midway();
    let mut overridden = event(EventKind::ValidationOverridden, "Review", "override");
    overridden.validation_override = Some(tracker_runtime::event::OverrideDetail {
        gate: Some("Review".into()),
        label: Some("ship anyway".into()),
        actor: Some(tracker_runtime::event::Actor::Human),
        subgraph_path: Vec::new(),
    });
    view.apply(&overridden);
    let mut end = event(EventKind::PipelineCompleted, "", "ended");
    end.terminal_status = Some("validation_overridden".into());
    view.apply(&end);
    let screen = drawn(&view, 120, 24);
    assert!(
        screen.contains(
            "● Completed — validation override at Review (label \"ship anyway\" by human)"
        ),
        "{screen}"
    );
}

#[test]
fn a_tiny_terminal_draws_without_panicking() {
    for (w, h) in [(20, 5), (1, 1), (0, 0), (5, 40)] {
        drawn(&midway(), w, h);
    }
}

#[test]
fn a_two_thousand_node_pipeline_keeps_the_running_node_in_sight() {
    let mut src = String::from("workflow Big\n  start: N0\n  exit: N1999\n");
    for i in 0..2000 {
        src.push_str(&format!(
            "  tool N{i}\n    timeout: 1s\n    command: true\n"
        ));
    }
    src.push_str("  edges\n");
    for i in 0..1999 {
        src.push_str(&format!("    N{i} -> N{}\n", i + 1));
    }
    let mut view = RunView::new(&plan(&src), "big");
    for i in 0..1500 {
        view.apply(&event(EventKind::StageStarted, &format!("N{i}"), "go"));
        view.apply(&event(EventKind::StageCompleted, &format!("N{i}"), "done"));
    }
    view.apply(&event(EventKind::StageStarted, "N1500", "go"));
    let screen = drawn(&view, 80, 24);
    assert!(screen.contains("◉ N1500"), "{screen}");
    assert_eq!(view.progress(), (1500, 2000));
}

#[test]
fn escape_sequences_in_output_are_shown_inert() {
    let mut view = midway();
    let mut tool = event(EventKind::ToolCallEnd, "Write", "");
    tool.tool_name = Some("bash".into());
    tool.content = Some("\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}[31mred\r\nnext\u{9b}6n".into());
    view.apply(&tool);
    let screen = drawn(&view, 120, 30);
    assert!(!screen.contains('\u{1b}'), "{screen:?}");
    assert!(!screen.contains('\u{9b}'), "{screen:?}");
    assert!(!screen.contains('\u{7}'), "{screen:?}");
    assert!(screen.contains("red"), "{screen}");
}

#[test]
fn wide_and_combining_characters_keep_the_layout() {
    let mut view = midway();
    view.apply(&event(
        EventKind::Warning,
        "Review",
        "日本語のテキスト e\u{301}te\u{301} 🎉 done",
    ));
    let screen = drawn(&view, 80, 24);
    // The node list's border stays in one column on every body row: wide
    // and combining characters in the log did not shift it.
    let border: Vec<Option<usize>> = screen
        .lines()
        .skip(1)
        .take(22)
        // (Past the node list's own path connectors in its first columns.)
        .map(|line| line.chars().skip(3).position(|c| c == '│'))
        .collect();
    assert!(border.windows(2).all(|w| w[0] == w[1]), "{screen}");
    let squeezed: String = screen.chars().filter(|c| *c != ' ').collect();
    assert!(squeezed.contains("日本語のテキスト"), "{screen}");
    assert!(squeezed.contains("🎉done"), "{screen}");
}

/// A tool result of `lines` output lines for node `node`.
fn tool_result(node: &str, tool: &str, lines: usize) -> PipelineEvent {
    let mut e = event(EventKind::ToolCallEnd, node, "");
    e.source = EventSource::Agent;
    e.tool_name = Some(tool.into());
    e.content = Some((1..=lines).map(|i| format!("output line {i}\n")).collect());
    e
}

#[test]
fn tool_results_past_four_lines_collapse_until_ctrl_o() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut view = midway();
    view.apply(&tool_result("Review", "grep_search", 3));
    view.apply(&tool_result("Review", "bash", 9));
    let mut failed = tool_result("Review", "read", 0);
    failed.error = Some("no such file".into());
    view.apply(&failed);
    let mut ui = Ui::default();
    let collapsed = drawn_ui(&view, &ui, 100, 30);
    // Three lines are short enough to show; nine wait for Ctrl+O.
    assert!(collapsed.contains("✓ grep_search"), "{collapsed}");
    assert!(collapsed.contains("output line 3"), "{collapsed}");
    assert!(
        collapsed.contains("✓ bash (9 lines, ctrl+o to expand)"),
        "{collapsed}"
    );
    assert!(!collapsed.contains("output line 9"), "{collapsed}");
    assert!(collapsed.contains("✗ read: no such file"), "{collapsed}");
    insta::assert_snapshot!("tool_output_collapsed_80x24", drawn_ui(&view, &ui, 80, 24));
    insta::assert_snapshot!(
        "tool_output_collapsed_200x50",
        drawn_ui(&view, &ui, 200, 50)
    );
    assert!(ui.key(
        KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL),
        &view
    ));
    let expanded = drawn_ui(&view, &ui, 100, 30);
    assert!(expanded.contains("output line 9"), "{expanded}");
    assert!(!expanded.contains("ctrl+o to expand"), "{expanded}");
    insta::assert_snapshot!("tool_output_expanded_80x24", drawn_ui(&view, &ui, 80, 24));
    insta::assert_snapshot!("tool_output_expanded_200x50", drawn_ui(&view, &ui, 200, 50));
}

#[test]
fn the_log_keeps_at_most_its_rows_however_long_the_run() {
    use super::model::LOG_LINES;
    let mut view = midway();
    for i in 0..30_000 {
        if i % 3 == 0 {
            view.apply(&tool_result("Review", "bash", 1 + i % 7));
        } else {
            view.apply(&event(EventKind::Warning, "Review", &format!("line {i}")));
        }
        assert!(view.log_rows() <= LOG_LINES);
    }
    let rows: usize = view.log.iter().map(|l| 1 + l.output.len()).sum();
    assert_eq!(rows, view.log_rows());
    assert!(rows > LOG_LINES - 10, "{rows}");
    // The newest stay, the oldest went.
    assert_eq!(view.log.back().map(|l| l.text.as_str()), Some("line 29999"));
    assert!(!view.log.iter().any(|l| l.text == "line 1"));
}

#[test]
fn streamed_text_grows_its_line_and_breaks_at_newlines() {
    let mut view = midway();
    let delta = |node: &str, text: &str| {
        let mut e = event(EventKind::TextDelta, node, "");
        e.source = EventSource::Agent;
        e.message = None;
        e.content = Some(text.into());
        e
    };
    view.apply(&event(
        EventKind::StageStarted,
        "Done",
        "executing node \"Done\"",
    ));
    view.apply(&delta("Done", "The plan "));
    view.apply(&delta("Done", "looks right.\nOne thing: "));
    view.apply(&delta("Done", "the \u{1b}[31mtests\nare slow."));
    let texts: Vec<&str> = view
        .log
        .iter()
        .filter(|l| l.kind == super::model::LineKind::Text)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "The plan looks right.",
            "One thing: the \u{fffd}[31mtests",
            "are slow."
        ]
    );
    // Another line between: the next piece starts a line of its own.
    view.apply(&event(EventKind::Warning, "Done", "a warning"));
    view.apply(&delta("Done", "Done."));
    assert_eq!(view.log.back().map(|l| l.text.as_str()), Some("Done."));
    let screen = drawn(&view, 80, 24);
    assert!(
        screen.contains("Done         The plan looks right."),
        "{screen}"
    );
    assert!(!screen.contains('\u{1b}'), "{screen:?}");
    // The text is all the log shows of it: the filters for tools and
    // errors leave it out.
    let mut ui = Ui::default();
    ui.filter = Filter::Tools;
    assert!(!drawn_ui(&view, &ui, 80, 24).contains("looks right"));
}

#[test]
fn search_highlights_matches_and_n_and_shift_n_move_between_them() {
    use ratatui::crossterm::event::KeyCode;
    let mut view = midway();
    view.apply(&event(EventKind::Warning, "Review", "the needle, first"));
    for i in 0..60 {
        view.apply(&event(EventKind::Warning, "Review", &format!("hay {i}")));
    }
    view.apply(&event(EventKind::Warning, "Review", "the NEEDLE, last"));
    let mut ui = Ui::default();
    press(&mut ui, &view, KeyCode::Char('/'));
    for c in "needle".chars() {
        press(&mut ui, &view, KeyCode::Char(c));
    }
    // `q` typed into the query does not quit; it is text.
    assert!(ui.searching());
    let typing = drawn_ui(&view, &ui, 80, 24);
    assert!(typing.contains("/needle"), "{typing}");
    press(&mut ui, &view, KeyCode::Enter);
    assert!(!ui.searching());
    assert_eq!(ui.matches(&view).len(), 2, "case-insensitive");
    // Enter goes to the newest match.
    let newest = drawn_ui(&view, &ui, 80, 24);
    assert!(newest.contains("[/needle 2/2]"), "{newest}");
    assert!(newest.contains("the NEEDLE, last"), "{newest}");
    // `N` goes back to the first, scrolled into sight above 60 lines.
    press(&mut ui, &view, KeyCode::Char('N'));
    let first = drawn_ui(&view, &ui, 80, 24);
    assert!(first.contains("the needle, first"), "{first}");
    assert!(!first.contains("the NEEDLE, last"), "{first}");
    assert!(first.contains("[/needle 1/2]"), "{first}");
    insta::assert_snapshot!("search_80x24", first);
    insta::assert_snapshot!("search_200x50", drawn_ui(&view, &ui, 200, 50));
    // `n` wraps round to the newest; Esc ends the search.
    press(&mut ui, &view, KeyCode::Char('n'));
    assert!(drawn_ui(&view, &ui, 80, 24).contains("[/needle 2/2]"));
    // A filter that leaves no match never shows a match past the count.
    press(&mut ui, &view, KeyCode::Char('v'));
    let filtered = drawn_ui(&view, &ui, 80, 24);
    assert!(filtered.contains("[/needle 0/0]"), "{filtered}");
    press(&mut ui, &view, KeyCode::Char('v'));
    press(&mut ui, &view, KeyCode::Char('v'));
    press(&mut ui, &view, KeyCode::Esc);
    assert!(ui.search.is_none());
    // Nothing matches: said for a moment.
    press(&mut ui, &view, KeyCode::Char('/'));
    press(&mut ui, &view, KeyCode::Char('Z'));
    press(&mut ui, &view, KeyCode::Enter);
    assert_eq!(ui.flash_message(), Some("no match for \"Z\""));
}

#[test]
fn a_child_workflows_nodes_are_indented_under_their_parent() {
    let flow = "workflow Outer\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  subgraph Sub\n    ref: inner.dip\n  agent Done\n    label: Done\n  edges\n    Start -> Sub\n    Sub -> Done\n";
    let mut view = RunView::new(&plan(flow), "a1b2c3d4e5f6");
    for e in [
        event(EventKind::StageStarted, "Start", ""),
        event(EventKind::StageCompleted, "Start", ""),
        event(EventKind::StageStarted, "Sub", ""),
        event(EventKind::StageStarted, "Sub/Lint", ""),
        event(EventKind::StageCompleted, "Sub/Lint", ""),
        event(EventKind::StageStarted, "Sub/Test", ""),
    ] {
        view.apply(&e);
    }
    let ids: Vec<(&str, usize)> = view
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.depth))
        .collect();
    assert_eq!(
        ids,
        [
            ("Start", 0),
            ("Sub", 0),
            ("Sub/Lint", 1),
            ("Sub/Test", 1),
            ("Done", 0)
        ]
    );
    let screen = drawn(&view, 80, 24);
    assert!(screen.contains("│  ● Lint"), "{screen}");
    assert!(screen.contains("│  ◉ Test"), "{screen}");
    // The child's rows come before the node after their parent.
    let at = |text: &str| screen.find(text).unwrap_or(usize::MAX);
    assert!(at("◉ Test") < at("○ Done"), "{screen}");
}

#[test]
fn the_eta_rows_times_and_notes_follow_the_nodes() {
    let view = midway();
    // Start and Fetch took 10 s, Write 20 s: two nodes left at the mean.
    assert_eq!(view.eta_ms(), Some(26_666));
    assert!(drawn(&view, 80, 24).contains("3/5 ETA 0m26s"));
    let mut view = midway();
    let mut thinking = event(EventKind::LlmRequestStart, "Done", "");
    thinking.source = EventSource::Agent;
    view.apply(&event(EventKind::StageStarted, "Done", ""));
    view.apply(&thinking);
    let mut ui = Ui::default();
    ui.now_ms = 1_765_000_003_400;
    let screen = drawn_ui(&view, &ui, 80, 24);
    assert!(screen.contains("Done (3.4s)"), "{screen}");
    let mut failed = event(EventKind::StageFailed, "Done", "node failed");
    failed.error = Some("exit status 2\nmore".into());
    view.apply(&failed);
    let screen = drawn_ui(&view, &ui, 80, 24);
    assert!(screen.contains("✖ Done exit status"), "{screen}");
    assert!(screen.contains("FAILED: node failed"), "{screen}");
}

mod gates {
    use super::*;
    use crate::dashboard::gate::GateModal;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use tracker_handlers::human::{GateMode, GateRequest};
    use tracker_handlers::questions::Question;

    fn request(mode: GateMode, choices: &[&str]) -> GateRequest {
        GateRequest {
            run_id: "a1b2c3d4e5f6".into(),
            node_id: "Review".into(),
            mode,
            label: "Ship it?".into(),
            prompt: "Ship it?\nThe tests pass; the docs are updated.".into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            keys: Vec::new(),
            default: String::new(),
            questions: Vec::new(),
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn drawn_with(modal: &GateModal, width: u16, height: u16) -> String {
        let view = midway();
        screen_of(width, height, |frame| {
            draw(frame, &view, &Ui::default());
            modal.draw(frame, frame.area());
        })
    }

    #[test]
    fn a_choice_gate_picks_with_the_arrows() {
        let mut modal = GateModal::new(request(GateMode::Choice, &["yes", "no", "later"]));
        insta::assert_snapshot!("choice_80x24", drawn_with(&modal, 80, 24));
        assert!(modal.key(key(KeyCode::Down)).is_none());
        insta::assert_snapshot!("choice_200x50", drawn_with(&modal, 200, 50));
        let answer = modal.key(key(KeyCode::Enter)).expect("answered");
        assert_eq!(answer.response, "no");
    }

    #[test]
    fn a_yes_no_gate_takes_y_and_n() {
        let mut modal = GateModal::new(request(GateMode::YesNo, &["yes", "no"]));
        insta::assert_snapshot!("yes_no_80x24", drawn_with(&modal, 80, 24));
        insta::assert_snapshot!("yes_no_200x50", drawn_with(&modal, 200, 50));
        let answer = modal.key(key(KeyCode::Char('n'))).expect("answered");
        assert_eq!(answer.response, "no");
        // As the handler asks it: its options are `Yes` and `No`.
        for (c, wanted) in [('y', "Yes"), ('n', "No")] {
            let mut modal = GateModal::new(request(GateMode::YesNo, &["Yes", "No"]));
            let answer = modal.key(key(KeyCode::Char(c))).expect("answered");
            assert_eq!(answer.response, wanted);
        }
    }

    #[test]
    fn a_freeform_gate_takes_lines_until_ctrl_s() {
        let mut modal = GateModal::new(request(GateMode::Freeform, &[]));
        for c in "ship it".chars() {
            assert!(modal.key(key(KeyCode::Char(c))).is_none());
        }
        assert!(modal.key(key(KeyCode::Enter)).is_none());
        for c in "today".chars() {
            modal.key(key(KeyCode::Char(c)));
        }
        insta::assert_snapshot!("freeform_80x24", drawn_with(&modal, 80, 24));
        insta::assert_snapshot!("freeform_200x50", drawn_with(&modal, 200, 50));
        let answer = modal
            .key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
            .expect("answered");
        assert_eq!(answer.response, "ship it\ntoday");
    }

    #[test]
    fn a_labelled_freeform_gate_offers_other_text() {
        let mut modal = GateModal::new(request(GateMode::Freeform, &["approve", "revise"]));
        insta::assert_snapshot!("hybrid_80x24", drawn_with(&modal, 80, 24));
        insta::assert_snapshot!("hybrid_200x50", drawn_with(&modal, 200, 50));
        modal.key(key(KeyCode::Down));
        modal.key(key(KeyCode::Down));
        assert!(
            modal.key(key(KeyCode::Enter)).is_none(),
            "other… opens the text"
        );
        for c in "docs only".chars() {
            modal.key(key(KeyCode::Char(c)));
        }
        let answer = modal
            .key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
            .expect("answered");
        assert_eq!(answer.response, "docs only");
    }

    #[test]
    fn an_interview_asks_one_question_at_a_time() {
        let gate = interview();
        let mut modal = GateModal::new(gate);
        insta::assert_snapshot!("interview_80x24", drawn_with(&modal, 80, 24));
        insta::assert_snapshot!("interview_200x50", drawn_with(&modal, 200, 50));
        modal.key(key(KeyCode::Down));
        assert!(modal.key(key(KeyCode::Enter)).is_none());
        assert!(modal.key(key(KeyCode::Char('y'))).is_none());
        for c in "no".chars() {
            modal.key(key(KeyCode::Char(c)));
        }
        let answer = modal
            .key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
            .expect("answered");
        let answers: Vec<&str> = answer.answers.iter().map(|a| a.answer.as_str()).collect();
        assert_eq!(answers, ["sqlite", "yes", "no"]);
        assert_eq!(answer.response, "");
    }

    pub(super) fn interview() -> GateRequest {
        let mut gate = request(GateMode::Interview, &[]);
        gate.questions = vec![
            Question {
                id: "q1".into(),
                text: "Which storage backend?".into(),
                context: "two candidates found".into(),
                options: vec!["postgres".into(), "sqlite".into()],
                is_yes_no: false,
            },
            Question {
                id: "q2".into(),
                text: "Proceed with the plan?".into(),
                context: String::new(),
                options: Vec::new(),
                is_yes_no: true,
            },
            Question {
                id: "q3".into(),
                text: "Anything else?".into(),
                context: String::new(),
                options: Vec::new(),
                is_yes_no: false,
            },
        ];
        gate
    }

    #[test]
    fn an_interview_elaborates_goes_back_and_cancels_with_what_was_answered() {
        use tracker_handlers::questions::{Answer, CANCELED};
        let mut modal = GateModal::new(interview());
        // Tab: an elaboration to the pick.
        modal.key(key(KeyCode::Tab));
        assert!(modal.is_typing());
        for c in "small data".chars() {
            modal.key(key(KeyCode::Char(c)));
        }
        modal.key(key(KeyCode::Tab));
        assert!(!modal.is_typing());
        modal.key(key(KeyCode::Down));
        assert!(modal.key(key(KeyCode::Enter)).is_none());
        let second = drawn_with(&modal, 80, 24);
        assert!(second.contains("INTERVIEW (1/3 answered)"), "{second}");
        assert!(
            second.contains("✓ Q1: Which storage backend? → sqlite (small data)"),
            "{second}"
        );
        assert!(
            second.contains("Q2 of 3: Proceed with the plan?"),
            "{second}"
        );
        insta::assert_snapshot!("interview_second_80x24", second);
        insta::assert_snapshot!("interview_second_200x50", drawn_with(&modal, 200, 50));
        // Esc goes back to the first question, its answer kept under the
        // cursor; Esc again cancels, handing back what was answered.
        assert!(modal.key(key(KeyCode::Esc)).is_none());
        assert!(drawn_with(&modal, 80, 24).contains("▶ sqlite"));
        let canceled = modal.key(key(KeyCode::Esc)).expect("canceled");
        assert_eq!(canceled.response, CANCELED);
        assert_eq!(canceled.answers[0].answer, "sqlite");
        assert_eq!(canceled.answers[0].elaboration, "small data");
        assert!(canceled.answers[1..].iter().all(|a| a.answer.is_empty()));

        // Asked again: the answers given before are filled in.
        let before = [
            Answer {
                answer: "postgres".into(),
                elaboration: String::new(),
            },
            Answer {
                answer: "no".into(),
                elaboration: String::new(),
            },
            Answer {
                answer: "ship friday".into(),
                elaboration: String::new(),
            },
        ];
        let mut again = GateModal::answered_before(interview(), &before);
        assert!(drawn_with(&again, 80, 24).contains("▶ postgres"));
        again.key(key(KeyCode::Enter));
        again.key(key(KeyCode::Enter));
        let answer = again.key(key(KeyCode::Enter)).expect("answered");
        let answers: Vec<&str> = answer.answers.iter().map(|a| a.answer.as_str()).collect();
        assert_eq!(answers, ["postgres", "no", "ship friday"]);
    }

    #[test]
    fn a_prompts_markdown_is_styled_and_its_context_dimmed_to_five_lines() {
        let mut gate = request(GateMode::Freeform, &[]);
        gate.prompt = format!(
            "## Ship it?\nThe check **passed**; run `cargo test` again?\n\n---\n{}",
            (1..=8)
                .map(|i| format!("context line {i}\n"))
                .collect::<String>()
        );
        // With labels, so long a context is read fullscreen (review-hybrid).
        let mut labelled = gate.clone();
        labelled.choices = vec!["approve".into(), "revise".into()];
        let review_hybrid = GateModal::new(labelled);
        let review = drawn_with(&review_hybrid, 80, 24);
        assert!(review.contains("review Review"), "{review}");
        assert!(review.contains("context line 1"), "{review}");
        assert!(review.contains("▶ approve"), "{review}");
        insta::assert_snapshot!("review_hybrid_80x24", review);
        insta::assert_snapshot!("review_hybrid_200x50", drawn_with(&review_hybrid, 200, 50));
        let modal = GateModal::new(gate);
        insta::assert_snapshot!("markdown_context_200x50", drawn_with(&modal, 200, 50));
        let screen = drawn_with(&modal, 80, 24);
        assert!(
            screen.contains("Ship it?") && !screen.contains("## Ship"),
            "{screen}"
        );
        assert!(
            screen.contains("The check passed; run cargo test again?"),
            "{screen}"
        );
        // The context: its last five lines, after a rule.
        assert!(!screen.contains("context line 3"), "{screen}");
        assert!(screen.contains("context line 4"), "{screen}");
        assert!(screen.contains("context line 8"), "{screen}");
        insta::assert_snapshot!("markdown_context_80x24", screen);
    }

    #[test]
    fn a_long_prompt_is_reviewed_fullscreen_and_scrolls() {
        let mut gate = request(GateMode::Freeform, &[]);
        gate.prompt = (1..=60)
            .map(|i| format!("- plan step {i}\n"))
            .collect::<String>();
        let mut modal = GateModal::new(gate);
        let top = drawn_with(&modal, 80, 24);
        assert!(top.contains("review Review"), "{top}");
        assert!(top.contains("• plan step 1"), "{top}");
        assert!(!top.contains("plan step 30"), "{top}");
        insta::assert_snapshot!("review_80x24", top);
        insta::assert_snapshot!("review_200x50", drawn_with(&modal, 200, 50));
        for _ in 0..3 {
            modal.key(key(KeyCode::PageDown));
        }
        let scrolled = drawn_with(&modal, 80, 24);
        assert!(scrolled.contains("plan step 31"), "{scrolled}");
        assert!(!scrolled.contains("plan step 1\n"), "{scrolled}");
        // Text is still typed below the viewport, and Ctrl+S submits it.
        for c in "ok".chars() {
            modal.key(key(KeyCode::Char(c)));
        }
        let answer = modal
            .key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
            .expect("submitted");
        assert_eq!(answer.response, "ok");
    }

    #[test]
    fn esc_sends_typed_text_or_closes_the_gate_unanswered() {
        // A text gate with text: Esc sends it.
        let mut typed = GateModal::new(request(GateMode::Freeform, &[]));
        for c in "done".chars() {
            typed.key(key(KeyCode::Char(c)));
        }
        let answer = typed.key(key(KeyCode::Esc)).expect("sent");
        assert_eq!(answer.response, "done");
        assert!(!typed.canceled());
        // Nothing typed, or a list: Esc closes it without an answer.
        let mut empty = GateModal::new(request(GateMode::Freeform, &[]));
        assert!(empty.key(key(KeyCode::Esc)).is_none());
        assert!(empty.canceled());
        let mut choice = GateModal::new(request(GateMode::Choice, &["yes", "no"]));
        assert!(choice.key(key(KeyCode::Esc)).is_none());
        assert!(choice.canceled());
        // In "other…" text, Esc goes back to the labels first.
        let mut hybrid = GateModal::new(request(GateMode::Freeform, &["yes", "no"]));
        hybrid.key(key(KeyCode::Down));
        hybrid.key(key(KeyCode::Down));
        hybrid.key(key(KeyCode::Enter));
        assert!(hybrid.is_typing());
        hybrid.key(key(KeyCode::Char('x')));
        hybrid.key(key(KeyCode::Esc));
        assert!(!hybrid.is_typing() && !hybrid.canceled());
        // And what was typed there is kept for when it is opened again.
        hybrid.key(key(KeyCode::Enter));
        let answer = hybrid
            .key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
            .expect("sent");
        assert_eq!(answer.response, "x");
    }

    #[test]
    fn a_long_prompt_of_wrapped_lines_scrolls_to_its_end_and_no_further() {
        let mut gate = request(GateMode::Choice, &["A", "B"]);
        gate.prompt = (1..=50)
            .map(|n| format!("Paragraph line {n}: {}", "lorem ipsum ".repeat(12)))
            .chain(["LAST LINE OF PROMPT".to_string()])
            .collect::<Vec<_>>()
            .join("\n");
        let mut modal = GateModal::new(gate);
        let first = drawn_with(&modal, 60, 20);
        assert!(!first.contains("LAST LINE"), "{first}");
        for _ in 0..100 {
            modal.key(key(KeyCode::PageDown));
        }
        let end = drawn_with(&modal, 60, 20);
        assert!(end.contains("LAST LINE OF PROMPT"), "{end}");
        // No further: the last line is still there, not a page of nothing.
        modal.key(key(KeyCode::PageDown));
        assert_eq!(drawn_with(&modal, 60, 20), end);
        // And back up, a page at a time from the end.
        modal.key(key(KeyCode::PageUp));
        assert!(!drawn_with(&modal, 60, 20).contains("LAST LINE"));
    }

    #[test]
    fn long_typed_text_wraps_and_its_end_stays_in_view() {
        let mut modal = GateModal::new(request(GateMode::Freeform, &[]));
        for c in "long".repeat(150).chars().chain("XYZ_END".chars()) {
            modal.key(key(KeyCode::Char(c)));
        }
        let screen = drawn_with(&modal, 80, 24);
        assert!(screen.contains("XYZ_END▏"), "{screen}");
    }

    #[test]
    fn a_gate_on_a_tiny_terminal_draws_without_panicking() {
        let modal = GateModal::new(request(GateMode::Choice, &["yes", "no"]));
        for (w, h) in [(20, 5), (1, 1), (0, 0)] {
            drawn_with(&modal, w, h);
        }
    }

    #[test]
    fn a_prompt_full_of_escape_sequences_is_shown_inert() {
        let mut gate = request(GateMode::Choice, &["yes", "\u{1b}[2Jno"]);
        gate.prompt = "\u{1b}]0;title\u{7}Ship \u{1b}[31mit?".into();
        let screen = drawn_with(&GateModal::new(gate), 80, 24);
        assert!(
            !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
            "{screen:?}"
        );
        assert!(screen.contains("Ship"), "{screen}");
    }
}

mod board {
    use super::*;
    use crate::dashboard::board::{draw_many, Board};
    use crate::dashboard::many::BoardUi;

    /// Writes `events` as run `id`'s activity log under `root`, its owner
    /// `pid`.
    fn record(root: &std::path::Path, id: &str, pid: u32, events: &[PipelineEvent]) {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).expect("run dir");
        std::fs::write(dir.join("owner"), pid.to_string()).expect("owner");
        let text: String = events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.run_id = Some(id.to_string());
                e.to_activity_line() + "\n"
            })
            .collect();
        std::fs::write(dir.join("activity.jsonl"), text).expect("log");
    }

    /// A run that ended well.
    fn record_finished(root: &std::path::Path, id: &str) {
        let mut end = event(EventKind::PipelineCompleted, "", "completed");
        end.terminal_status = Some("success".into());
        record(
            root,
            id,
            u32::MAX,
            &[
                event(EventKind::PipelineStarted, "", "started"),
                event(EventKind::StageStarted, "Build", "go"),
                event(EventKind::StageCompleted, "Build", "done"),
                end,
            ],
        );
    }

    /// A run owned by a live process (pid 1), waiting at its gate.
    fn record_waiting(root: &std::path::Path, id: &str) {
        record(
            root,
            id,
            1,
            &[
                event(EventKind::PipelineStarted, "", "started"),
                event(EventKind::StageStarted, "Ask", "go"),
                event(EventKind::GateOpened, "Ask", "waits"),
            ],
        );
    }

    fn append(root: &std::path::Path, id: &str, event: &PipelineEvent) {
        use std::io::Write;
        let mut event = event.clone();
        event.run_id = Some(id.to_string());
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join(id).join("activity.jsonl"))
            .expect("log");
        writeln!(file, "{}", event.to_activity_line()).expect("append");
    }

    #[test]
    fn the_board_lists_every_run_and_follows_what_their_logs_add() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        record_finished(root, "aaaaaaaaaaaa");
        record_waiting(root, "bbbbbbbbbbbb");
        let mut board = Board::new(root);
        let status = |board: &Board, id: &str| {
            board
                .runs
                .iter()
                .find(|r| r.view.run_id == id)
                .map(|r| r.status().word().to_string())
                .unwrap_or_default()
        };
        assert_eq!(board.runs.len(), 2);
        assert_eq!(status(&board, "aaaaaaaaaaaa"), "success");
        assert_eq!(status(&board, "bbbbbbbbbbbb"), "waiting");
        let mut terminal = Terminal::new(TestBackend::new(100, 8)).expect("terminal");
        terminal
            .draw(|frame| draw_many(frame, &board, &BoardUi::default()))
            .expect("drawn");
        let screen: String = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        assert!(screen.contains("1 waiting at a gate"), "{screen}");
        assert!(screen.contains("aaaaaaaaaaaa"), "{screen}");
        // The gate is answered and the run goes on: only the new lines are
        // read.
        append(
            root,
            "bbbbbbbbbbbb",
            &event(EventKind::GateResolved, "Ask", "yes"),
        );
        append(
            root,
            "bbbbbbbbbbbb",
            &event(EventKind::StageCompleted, "Ask", "done"),
        );
        board.refresh();
        assert_eq!(status(&board, "bbbbbbbbbbbb"), "running");
        let run = board
            .runs
            .iter()
            .find(|r| r.view.run_id == "bbbbbbbbbbbb")
            .expect("run");
        assert_eq!(run.view.progress(), (1, 1));
        // A run that appears later is listed too.
        record(
            root,
            "cccccccccccc",
            u32::MAX,
            &[event(EventKind::PipelineStarted, "", "started")],
        );
        board.refresh();
        assert_eq!(board.runs.len(), 3);
        assert_eq!(status(&board, "cccccccccccc"), "stopped");
        // Seen before its pipeline was written, it gets its name and nodes
        // once the pipeline is there.
        let find = |board: &Board| {
            let run = board.runs.iter().find(|r| r.view.run_id == "cccccccccccc");
            run.map(|r| (r.view.workflow.clone(), r.view.progress().1))
        };
        assert_eq!(find(&board), Some(("?".to_string(), 0)));
        std::fs::write(root.join("cccccccccccc").join("workflow.dip"), super::FLOW)
            .expect("pipeline");
        board.refresh();
        assert_eq!(find(&board), Some(("Build".to_string(), 5)));
    }

    #[test]
    fn a_fifo_or_an_endless_line_in_a_run_directory_neither_hangs_nor_fills_the_board() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        // A FIFO for a log and for an owner file: opening either would wait
        // for a writer that never comes.
        let planted = root.join("dddddddddddd");
        std::fs::create_dir_all(&planted).expect("run dir");
        for name in ["activity.jsonl", "owner"] {
            nix::unistd::mkfifo(&planted.join(name), nix::sys::stat::Mode::S_IRWXU).expect("fifo");
        }
        // A log whose line never ends, far longer than any event, then a
        // real event: the long line is skipped, the event read.
        record_waiting(root, "eeeeeeeeeeee");
        let log = root.join("eeeeeeeeeeee").join("activity.jsonl");
        {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&log)
                .expect("log");
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..12 {
                file.write_all(&chunk).expect("long line");
            }
            file.write_all(b"\n").expect("its end");
        }
        append(
            root,
            "eeeeeeeeeeee",
            &event(EventKind::GateResolved, "Ask", "yes"),
        );
        let mut board = Board::new(root);
        for _ in 0..4 {
            board.refresh();
        }
        assert_eq!(board.runs.len(), 2);
        let run = board
            .runs
            .iter()
            .find(|r| r.view.run_id == "eeeeeeeeeeee")
            .expect("run");
        assert_eq!(
            run.status().word(),
            "running",
            "the event after the long line"
        );
    }

    /// Three runs: one ended well, one waiting at its gate, one that
    /// stopped.
    fn three_runs(root: &std::path::Path) -> Board {
        record_finished(root, "aaaaaaaaaaaa");
        record_waiting(root, "bbbbbbbbbbbb");
        record(
            root,
            "cccccccccccc",
            u32::MAX,
            &[
                event(EventKind::PipelineStarted, "", "started"),
                event(EventKind::StageStarted, "Lint", "go"),
            ],
        );
        // One time for all three: the board's order (newest first, then by
        // id) does not hang on how fast they were written.
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_765_000_000);
        for id in ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"] {
            std::fs::File::open(root.join(id))
                .and_then(|dir| dir.set_modified(when))
                .expect("the run directory's time");
        }
        Board::new(root)
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(ui: &mut BoardUi, board: &Board, text: &str) -> Vec<Action> {
        text.chars()
            .map(|c| ui.key(key(KeyCode::Char(c)), board))
            .collect()
    }

    fn shown(ui: &BoardUi, board: &Board) -> Vec<String> {
        ui.visible(board)
            .iter()
            .map(|i| board.runs[*i].view.run_id.clone())
            .collect()
    }

    use crate::dashboard::many::{Action, Sort};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn the_board_filters_sorts_jumps_to_gates_and_takes_commands() {
        let dir = tempfile::tempdir().expect("temp dir");
        let board = three_runs(dir.path());
        let mut ui = BoardUi::default();
        assert_eq!(shown(&ui, &board).len(), 3);
        // `/` filters on what a row says: here its status.
        ui.key(key(KeyCode::Char('/')), &board);
        typed(&mut ui, &board, "wait");
        assert!(ui.filtering);
        assert_eq!(shown(&ui, &board), ["bbbbbbbbbbbb"]);
        ui.key(key(KeyCode::Enter), &board);
        assert!(!ui.filtering);
        let screen = screen_of(100, 8, |frame| draw_many(frame, &board, &ui));
        assert!(screen.contains("[/wait] 1 shown"), "{screen}");
        // Esc drops the filter.
        ui.key(key(KeyCode::Esc), &board);
        assert_eq!(shown(&ui, &board).len(), 3);
        // `s` sorts by status: the run that needs someone first.
        ui.key(key(KeyCode::Char('s')), &board);
        assert_eq!(ui.sort, Sort::Status);
        assert_eq!(
            shown(&ui, &board),
            ["bbbbbbbbbbbb", "cccccccccccc", "aaaaaaaaaaaa"]
        );
        // `g` goes to the next run waiting at a gate.
        ui.key(key(KeyCode::End), &board);
        ui.key(key(KeyCode::Char('g')), &board);
        assert_eq!(
            ui.selected_run(&board).map(|r| r.view.run_id.as_str()),
            Some("bbbbbbbbbbbb")
        );
        // `x` and `:cancel` cancel the selected run; `:cancel ID` another.
        assert_eq!(
            ui.key(key(KeyCode::Char('x')), &board),
            Action::Cancel("bbbbbbbbbbbb".into())
        );
        ui.key(key(KeyCode::Char(':')), &board);
        typed(&mut ui, &board, "resume cccccccccccc");
        let screen = screen_of(100, 8, |frame| draw_many(frame, &board, &ui));
        assert!(screen.contains(":resume cccccccccccc"), "{screen}");
        assert_eq!(
            ui.key(key(KeyCode::Enter), &board),
            Action::Resume("cccccccccccc".into())
        );
        ui.key(key(KeyCode::Char(':')), &board);
        typed(&mut ui, &board, "submit flows/x.dip");
        assert_eq!(
            ui.key(key(KeyCode::Enter), &board),
            Action::Submit {
                file: "flows/x.dip".into(),
                provider: None
            }
        );
        for line in [
            "submit flows/x.dip --provider stub",
            "submit flows/x.dip --provider=stub",
        ] {
            ui.key(key(KeyCode::Char(':')), &board);
            typed(&mut ui, &board, line);
            assert_eq!(
                ui.key(key(KeyCode::Enter), &board),
                Action::Submit {
                    file: "flows/x.dip".into(),
                    provider: Some("stub".into())
                },
                "{line}"
            );
        }
        ui.key(key(KeyCode::Char(':')), &board);
        typed(&mut ui, &board, "submit flows/x.dip --model x");
        assert_eq!(ui.key(key(KeyCode::Enter), &board), Action::None);
        assert!(ui
            .flash_message()
            .is_some_and(|m| m.contains("unknown option \"--model\"")));
        ui.key(key(KeyCode::Char(':')), &board);
        typed(&mut ui, &board, "frobnicate");
        assert_eq!(ui.key(key(KeyCode::Enter), &board), Action::None);
        assert!(ui
            .flash_message()
            .is_some_and(|m| m.contains("unknown command")));
        assert_eq!(ui.key(key(KeyCode::Char('q')), &board), Action::Quit);
    }

    #[test]
    fn an_open_runs_gate_is_answered_or_put_aside_from_the_board() {
        use tracker_handlers::human::{GateMode, GateRequest};
        let dir = tempfile::tempdir().expect("temp dir");
        let board = three_runs(dir.path());
        let mut ui = BoardUi::default();
        ui.key(key(KeyCode::Char('/')), &board);
        typed(&mut ui, &board, "bbbb");
        ui.key(key(KeyCode::Enter), &board);
        assert_eq!(
            ui.key(key(KeyCode::Enter), &board),
            Action::Opened("bbbbbbbbbbbb".into())
        );
        assert_eq!(ui.wants_gate(&board), Some("bbbbbbbbbbbb".into()));
        let gate = GateRequest {
            run_id: "bbbbbbbbbbbb".into(),
            node_id: "Ask".into(),
            mode: GateMode::Choice,
            label: "Ship?".into(),
            prompt: "Ship it?".into(),
            choices: vec!["yes".into(), "no".into()],
            keys: Vec::new(),
            default: String::new(),
            questions: Vec::new(),
        };
        ui.offer_gate(gate.clone());
        let screen = screen_of(80, 24, |frame| draw_many(frame, &board, &ui));
        assert!(screen.contains("gate Ask"), "{screen}");
        insta::assert_snapshot!("open_run_with_gate_80x24", screen);
        insta::assert_snapshot!(
            "open_run_with_gate_200x50",
            screen_of(200, 50, |frame| draw_many(frame, &board, &ui))
        );
        // Esc puts it aside: the run still waits, it is not asked again
        // until `a`.
        ui.key(key(KeyCode::Esc), &board);
        assert!(ui.modal.is_none());
        assert_eq!(ui.wants_gate(&board), None);
        assert_eq!(
            ui.key(key(KeyCode::Char('a')), &board),
            Action::Opened("bbbbbbbbbbbb".into())
        );
        ui.offer_gate(gate);
        ui.key(key(KeyCode::Down), &board);
        assert_eq!(
            ui.key(key(KeyCode::Enter), &board),
            Action::Answer {
                run: "bbbbbbbbbbbb".into(),
                node: "Ask".into(),
                answer: tracker_handlers::human::GateAnswer {
                    response: "no".into(),
                    answers: Vec::new(),
                    actor: tracker_runtime::event::Actor::Human,
                },
            }
        );
        // In an interview past its first question, Esc goes back a
        // question, the answers kept; at the first it puts the gate aside.
        let mut asked = super::gates::interview();
        asked.run_id = "bbbbbbbbbbbb".into();
        ui.offer_gate(asked);
        assert!(ui.modal.is_some(), "offered");
        assert_eq!(ui.key(key(KeyCode::Enter), &board), Action::None);
        ui.key(key(KeyCode::Esc), &board);
        assert!(ui.modal.is_some(), "back at the first question");
        ui.key(key(KeyCode::Esc), &board);
        assert!(ui.modal.is_none(), "put aside");
        // Also from the first question's text: put aside, not answered as
        // canceled.
        let mut asked = super::gates::interview();
        asked.run_id = "bbbbbbbbbbbb".into();
        asked.node_id = "Text".into();
        asked.questions[0].options.clear();
        ui.offer_gate(asked);
        assert!(ui.modal.is_some(), "offered");
        assert_eq!(ui.key(key(KeyCode::Esc), &board), Action::None);
        assert!(ui.modal.is_none(), "put aside");
        // Esc leaves the run's view for the board.
        ui.key(key(KeyCode::Esc), &board);
        assert!(ui.open.is_none());
    }

    #[test]
    fn an_open_runs_messages_show_however_long_the_board_has_been_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let board = three_runs(dir.path());
        let mut ui = BoardUi::default();
        // A minute of the clock before the run is opened.
        for _ in 0..240 {
            ui.tick(0);
        }
        ui.key(key(KeyCode::Enter), &board);
        for _ in 0..40 {
            ui.tick(0);
        }
        // A search that finds nothing says so in the run's own view.
        for code in [KeyCode::Char('/'), KeyCode::Char('Z'), KeyCode::Enter] {
            ui.key(key(code), &board);
        }
        let screen = screen_of(100, 24, |frame| draw_many(frame, &board, &ui));
        assert!(screen.contains("no match for \"Z\""), "{screen}");
    }

    #[test]
    fn the_board_at_both_sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let board = three_runs(dir.path());
        let ui = BoardUi::default();
        insta::assert_snapshot!(
            "board_80x24",
            screen_of(80, 24, |frame| draw_many(frame, &board, &ui))
        );
        insta::assert_snapshot!(
            "board_200x50",
            screen_of(200, 50, |frame| draw_many(frame, &board, &ui))
        );
        for (w, h) in [(20, 5), (1, 1), (0, 0)] {
            screen_of(w, h, |frame| draw_many(frame, &board, &ui));
        }
    }
}
