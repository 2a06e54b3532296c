//! A run as the dashboard shows it, folded from the run's events.

use std::collections::{HashMap, VecDeque};

use dippin::diagnostic::printable_line;
use tracker_runtime::event::{EventKind, PipelineEvent};
use tracker_runtime::plan::SpawnPlan;

/// How many rows the activity log keeps — its lines and the tool output
/// under them (the oldest go first): what bounds the dashboard's memory
/// however long a run goes.
pub const LOG_LINES: usize = 10_000;

/// The longest activity line kept, in characters.
const LINE_WIDTH: usize = 400;

/// How many visits the trail keeps.
pub const TRAIL: usize = 1_000;

/// How many lines of a tool's output a result keeps.
const OUTPUT_LINES: usize = 200;

/// A tool result with more output lines than this is collapsed until
/// Ctrl+O expands it.
pub const COLLAPSED_OUTPUT: usize = 4;

/// How much of a tool call's arguments its line shows, in characters.
const ARGS_WIDTH: usize = 80;

/// A node's state, shown as its lamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lamp {
    /// Not reached yet.
    Pending,
    /// Running now.
    Running,
    /// Its agent waits for the model.
    Thinking,
    /// Its agent runs a tool.
    Tool,
    /// Going round again after a failure.
    Retrying,
    /// Finished well.
    Done,
    /// Failed.
    Failed,
    /// Waiting for a person.
    Waiting,
    /// Never reached: still pending when the run ended.
    Skipped,
}

impl Lamp {
    /// The lamp's glyph; `tick` turns the thinking spinner.
    pub fn glyph(self, tick: u64) -> &'static str {
        const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];
        match self {
            Lamp::Pending => "○",
            Lamp::Running => "◉",
            Lamp::Thinking => SPINNER[(tick % 4) as usize],
            Lamp::Tool => "»",
            Lamp::Retrying => "↻",
            Lamp::Done => "●",
            Lamp::Failed => "✖",
            Lamp::Waiting => "?",
            Lamp::Skipped => "⊘",
        }
    }

    /// Whether the node is under way.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Lamp::Running | Lamp::Thinking | Lamp::Tool | Lamp::Retrying | Lamp::Waiting
        )
    }
}

/// One node in the list.
#[derive(Clone, Debug)]
pub struct NodeRow {
    /// Its id (printable); a child workflow's nodes are `parent/child`.
    pub id: String,
    /// How deep in child workflows it is (0: the run's own).
    pub depth: usize,
    /// Its state.
    pub lamp: Lamp,
    /// How many times it started.
    pub attempts: u32,
    /// What its agents spent, in dollars.
    pub cost_usd: f64,
    /// Why it failed or goes round again; the tool it runs.
    pub note: Option<String>,
    /// When its lamp last changed (Unix milliseconds, from the event).
    pub since_ms: Option<i64>,
    /// When it started (Unix milliseconds).
    started_ms: Option<i64>,
}

impl NodeRow {
    fn new(id: &str) -> NodeRow {
        NodeRow {
            id: printable_line(id).into_owned(),
            depth: id.matches('/').count(),
            lamp: Lamp::Pending,
            attempts: 0,
            cost_usd: 0.0,
            note: None,
            since_ms: None,
            started_ms: None,
        }
    }

    /// Its row's width in characters: indentation and label.
    pub fn width(&self) -> usize {
        2 * self.depth + self.label().chars().count()
    }

    /// What the list shows: the last part of a child's id.
    pub fn label(&self) -> &str {
        self.id.rsplit('/').next().unwrap_or(&self.id)
    }
}

/// What an activity line is about, for its style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// The run or a node moved on.
    Progress,
    /// An agent called a tool, or a tool answered.
    Tool,
    /// A warning, a retry or a restart.
    Warning,
    /// A failure.
    Error,
    /// A rule between the lines of two nodes.
    Separator,
    /// An agent's answer, as it streams in.
    Text,
}

/// One activity line.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// The node it is about (shared by the node's lines).
    pub node: Option<std::sync::Arc<str>>,
    /// What it is.
    pub kind: LineKind,
    /// The text, printable and one line.
    pub text: String,
    /// A tool's output under its result line, printable, a line each
    /// (collapsed beyond [`COLLAPSED_OUTPUT`] lines until expanded).
    pub output: Vec<String>,
}

/// A run as the dashboard shows it.
#[derive(Debug)]
pub struct RunView {
    /// The workflow's name.
    pub workflow: String,
    /// The run's id.
    pub run_id: String,
    /// The nodes, in the plan's order.
    pub nodes: Vec<NodeRow>,
    index: HashMap<String, usize>,
    /// The nodes in the order they ran.
    /// (Its newest [`TRAIL`] entries: a run that loops for days keeps a
    /// bounded trail.)
    pub trail: VecDeque<String>,
    /// The activity log, oldest first.
    pub log: VecDeque<LogLine>,
    /// Its rows: each line and its output lines.
    rows: usize,
    /// Tokens used so far.
    pub tokens: u64,
    /// Dollars spent so far.
    pub cost_usd: f64,
    /// Milliseconds since the run started, as last reported.
    pub elapsed_ms: u64,
    /// How the run ended (`success`, `fail`, …), once it has.
    pub outcome: Option<String>,
    /// Why it failed, when it says.
    pub failure: Option<String>,
    /// A validation override the run went through: where, with which
    /// label, by whom (printable).
    pub overridden: Option<String>,
    /// How many nodes are done, failed or skipped (kept as lamps change, so
    /// a frame need not count them).
    finished: usize,
    /// How many of those were skipped (never reached).
    skipped: usize,
    /// When the run first started, and when it last ended (Unix ms, from
    /// its events): its time on the board, between cost reports too.
    started_ms: Option<i64>,
    ended_ms: Option<i64>,
    /// The newest event time read (a run that stopped without ending).
    last_ms: Option<i64>,
    /// The widest row (label and indentation), in characters.
    widest: usize,
    /// How long each node that finished took, in milliseconds (for the ETA).
    /// (Their sum, and how many.)
    durations: (u64, u64),
    /// The node whose lines the log shows last.
    last_node: Option<std::sync::Arc<str>>,
    /// The last line is streamed text that the next piece goes on.
    streaming: bool,
}

impl RunView {
    /// The view of run `run_id` of `plan`, before its first event.
    pub fn new(plan: &SpawnPlan, run_id: &str) -> RunView {
        let mut view = RunView::without_plan(&plan.name, run_id);
        view.nodes = plan
            .nodes
            .iter()
            .map(|node| NodeRow::new(&node.id))
            .collect();
        view.widest = view.nodes.iter().map(NodeRow::width).max().unwrap_or(0);
        view.index = plan
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.id.clone(), i))
            .collect();
        view
    }

    /// The view of a run whose plan is not at hand: nodes are listed as
    /// they start.
    pub fn without_plan(workflow: &str, run_id: &str) -> RunView {
        RunView {
            workflow: printable_line(workflow).into_owned(),
            run_id: printable_line(run_id).into_owned(),
            nodes: Vec::new(),
            index: HashMap::new(),
            trail: VecDeque::new(),
            log: VecDeque::new(),
            rows: 0,
            tokens: 0,
            cost_usd: 0.0,
            elapsed_ms: 0,
            outcome: None,
            failure: None,
            overridden: None,
            finished: 0,
            skipped: 0,
            started_ms: None,
            ended_ms: None,
            last_ms: None,
            widest: 0,
            durations: (0, 0),
            last_node: None,
            streaming: false,
        }
    }

    /// The node under way (the last one started and not finished).
    pub fn current(&self) -> Option<&NodeRow> {
        self.current_index().and_then(|i| self.nodes.get(i))
    }

    /// Where the node under way is in the list.
    pub fn current_index(&self) -> Option<usize> {
        self.trail
            .iter()
            .rev()
            .filter_map(|id| self.index.get(id).copied())
            .find(|i| self.nodes.get(*i).is_some_and(|n| n.lamp.is_active()))
    }

    /// The widest row of the node list, in characters.
    pub fn widest(&self) -> usize {
        self.widest
    }

    /// Whether a gate of the run waits for an answer.
    pub fn waiting_at_gate(&self) -> bool {
        self.nodes.iter().any(|n| n.lamp == Lamp::Waiting)
    }

    /// The newest `limit` entries of the trail, repeats in a row collapsed:
    /// `(node, times)`.
    pub fn trail_newest_first(&self, limit: usize) -> Vec<(&str, usize)> {
        let mut out: Vec<(&str, usize)> = Vec::new();
        for node in self.trail.iter().rev() {
            let full = out.len() == limit;
            match out.last_mut() {
                Some((last, times)) if *last == node.as_str() => *times += 1,
                _ if full => break,
                _ => out.push((node, 1)),
            }
        }
        out
    }

    /// How many nodes have finished, of how many. The nodes a run that
    /// succeeded never reached count (it is done); those of a run that
    /// failed do not (it stopped short of them).
    pub fn progress(&self) -> (usize, usize) {
        let failed = self
            .outcome
            .as_deref()
            .is_some_and(|o| !matches!(o, "success" | "validation_overridden"));
        let done = if failed {
            self.finished - self.skipped
        } else {
            self.finished
        };
        (done, self.nodes.len())
    }

    /// How long the run has taken, in milliseconds: from its first start to
    /// its end, to `now_ms` while `going`, else to its last event; never
    /// less than the last cost report said.
    pub fn elapsed_at(&self, now_ms: i64, going: bool) -> u64 {
        let until = match (self.ended_ms, going) {
            (Some(end), _) => Some(end),
            (None, true) => Some(now_ms),
            (None, false) => self.last_ms,
        };
        let span = self
            .started_ms
            .zip(until)
            .and_then(|(start, end)| u64::try_from(end - start).ok())
            .unwrap_or(0);
        span.max(self.elapsed_ms)
    }

    /// Sets row `i`'s lamp, keeping the count of finished nodes.
    fn light(&mut self, i: usize, lamp: Lamp) {
        let Some(row) = self.nodes.get_mut(i) else {
            return;
        };
        let finished = |l: Lamp| matches!(l, Lamp::Done | Lamp::Failed | Lamp::Skipped);
        match (finished(row.lamp), finished(lamp)) {
            (false, true) => self.finished += 1,
            (true, false) => self.finished -= 1,
            _ => {}
        }
        match (row.lamp == Lamp::Skipped, lamp == Lamp::Skipped) {
            (false, true) => self.skipped += 1,
            (true, false) => self.skipped -= 1,
            _ => {}
        }
        row.lamp = lamp;
    }

    /// How long the nodes not yet finished should take, from the mean of
    /// those that did (known once two have).
    pub fn eta_ms(&self) -> Option<u64> {
        let (sum, count) = self.durations;
        if count < 2 || self.outcome.is_some() {
            return None;
        }
        let mean = sum / count;
        let (done, total) = self.progress();
        Some(mean * total.saturating_sub(done) as u64)
    }

    /// How many rows the log holds (at most [`LOG_LINES`]).
    pub fn log_rows(&self) -> usize {
        self.rows
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: &PipelineEvent) {
        let node = event.node_id.as_deref().filter(|n| !n.is_empty());
        // Only the events that start or change what a node does need the
        // time (reading it is not free, and most events are not these).
        let at = if matches!(
            event.kind,
            EventKind::StageStarted
                | EventKind::StageCompleted
                | EventKind::LlmRequestStart
                | EventKind::ToolCallStart
                | EventKind::GateOpened
                | EventKind::PipelineStarted
                | EventKind::PipelineCompleted
                | EventKind::PipelineFailed
        ) {
            event.ts.unix_millis()
        } else {
            None
        };
        if at.is_some() {
            self.last_ms = at;
        }
        if let Some(cost) = &event.cost {
            self.tokens = cost.total_tokens.unwrap_or(self.tokens);
            let total = cost.total_cost_usd.unwrap_or(self.cost_usd);
            // The run's total grew by what this node spent.
            let spent = total - self.cost_usd;
            if let Some(row) = node.and_then(|n| self.row(n)) {
                row.cost_usd += spent.max(0.0);
            }
            self.cost_usd = total;
            self.elapsed_ms = cost.wall_elapsed_ms.unwrap_or(self.elapsed_ms);
        }
        match event.kind {
            EventKind::PipelineStarted => self.start(event, at),
            EventKind::StageStarted => {
                if let Some(node) = node.filter(|n| !self.index.contains_key(*n)) {
                    // A node the plan did not name (a child's, or a view
                    // built without its plan): listed as it is met.
                    self.insert_row(node);
                }
                if let Some(i) = node.and_then(|n| self.index.get(n).copied()) {
                    self.light(i, Lamp::Running);
                }
                if let Some(row) = node.and_then(|n| self.row(n)) {
                    row.attempts += 1;
                    row.note = None;
                    row.since_ms = at;
                    row.started_ms = at;
                }
                if let Some(node) = node {
                    if self.trail.len() == TRAIL {
                        self.trail.pop_front();
                    }
                    self.trail.push_back(printable_line(node).into_owned());
                }
            }
            EventKind::StageCompleted => {
                self.set_lamp(node, Lamp::Done);
                let took = node
                    .and_then(|n| self.row(n))
                    .and_then(|row| Some(at? - row.started_ms?));
                if let Some(took) = took.and_then(|t| u64::try_from(t).ok()) {
                    self.durations.0 += took;
                    self.durations.1 += 1;
                }
            }
            EventKind::StageFailed => {
                self.set_lamp(node, Lamp::Failed);
                self.set_note(node, event.error.as_deref().or(event.message.as_deref()));
            }
            EventKind::StageRetrying | EventKind::NodeRestarted => {
                self.set_lamp(node, Lamp::Retrying);
                self.set_note(node, event.error.as_deref().or(event.message.as_deref()));
            }
            EventKind::GateOpened => self.set_lamp(node, Lamp::Waiting),
            EventKind::GateResolved
            | EventKind::LlmFinish
            | EventKind::ToolCallEnd
            | EventKind::SessionEnd => {
                self.set_lamp(node, Lamp::Running);
                self.set_note(node, None);
            }
            EventKind::LlmRequestStart => self.set_lamp(node, Lamp::Thinking),
            EventKind::ToolCallStart => {
                self.set_lamp(node, Lamp::Tool);
                self.set_note(node, event.tool_name.as_deref());
            }
            EventKind::ValidationOverridden => {
                if let Some(detail) = &event.validation_override {
                    let said = format!(
                        "at {} (label \"{}\" by {})",
                        detail.gate.as_deref().unwrap_or("?"),
                        detail.label.as_deref().unwrap_or(""),
                        detail.actor.map_or("?", |a| a.wire_name())
                    );
                    self.overridden = Some(printable_line(&said).into_owned());
                }
            }
            EventKind::PipelineCompleted | EventKind::PipelineFailed => {
                self.ended_ms = at;
                self.outcome = Some(
                    event
                        .terminal_status
                        .clone()
                        .unwrap_or_else(|| event.kind.wire_name().to_string()),
                );
                self.failure = event
                    .error
                    .as_deref()
                    .map(|e| printable_line(e).into_owned());
                for i in 0..self.nodes.len() {
                    if self.nodes[i].lamp == Lamp::Pending {
                        self.light(i, Lamp::Skipped);
                    }
                }
            }
            _ => {}
        }
        if let Some(row) = node.and_then(|n| self.row(n)) {
            if matches!(
                event.kind,
                EventKind::LlmRequestStart | EventKind::ToolCallStart | EventKind::GateOpened
            ) {
                row.since_ms = at;
            }
        }
        if event.kind == EventKind::TextDelta {
            if let Some(text) = event.content.as_deref() {
                self.stream_text(node, text);
            }
        } else if let Some(kind) = line_kind(event) {
            self.push_line(node, kind, describe(event), output_of(event));
        }
    }

    /// A start, or a resume: an end seen before is over (the nodes it never
    /// reached are pending again), and the nodes the checkpoint says are
    /// done are lit as done.
    fn start(&mut self, event: &PipelineEvent, at: Option<i64>) {
        self.started_ms = self.started_ms.or(at);
        if self.outcome.take().is_some() {
            self.failure = None;
            self.ended_ms = None;
            for i in 0..self.nodes.len() {
                if self.nodes[i].lamp == Lamp::Skipped {
                    self.light(i, Lamp::Pending);
                }
            }
        }
        let done = event.snapshot.iter().flat_map(|s| &s.completed_nodes);
        for id in done {
            if let Some(i) = self.index.get(id.as_str()).copied() {
                self.light(i, Lamp::Done);
            }
        }
    }

    /// Adds streamed text: its first line goes on the text streamed just
    /// before (if nothing came between), every further line is a line of
    /// its own; a line longer than the log keeps goes on in the next.
    fn stream_text(&mut self, node: Option<&str>, text: &str) {
        for (i, piece) in text.split('\n').enumerate() {
            let piece = printable_line(piece);
            let continues = i == 0
                && self.streaming
                && self.last_node.as_deref() == node.map(|n| printable_line(n)).as_deref();
            let mut rest: &str = &piece;
            if continues {
                if let Some(last) = self.log.back_mut() {
                    let room = LINE_WIDTH.saturating_sub(last.text.chars().count());
                    let cut = rest
                        .char_indices()
                        .nth(room)
                        .map_or(rest.len(), |(at, _)| at);
                    last.text.push_str(&rest[..cut]);
                    rest = &rest[cut..];
                    if rest.is_empty() {
                        continue;
                    }
                }
            }
            loop {
                let cut = rest
                    .char_indices()
                    .nth(LINE_WIDTH)
                    .map_or(rest.len(), |(at, _)| at);
                self.push_line(node, LineKind::Text, rest[..cut].to_string(), Vec::new());
                rest = &rest[cut..];
                if rest.is_empty() {
                    break;
                }
            }
            self.streaming = true;
        }
    }

    /// Lists node `id`, met but not planned: a child's node goes after its
    /// parent's others, indented under it.
    fn insert_row(&mut self, id: &str) {
        let at = id
            .rsplit_once('/')
            .and_then(|(parent, _)| {
                let first = *self.index.get(parent)?;
                let prefix = format!("{parent}/");
                // After the parent and every node already under it.
                let last = (first + 1..self.nodes.len())
                    .take_while(|i| self.nodes[*i].id.starts_with(&prefix))
                    .last()
                    .unwrap_or(first);
                Some(last + 1)
            })
            .unwrap_or(self.nodes.len());
        let row = NodeRow::new(id);
        self.widest = self.widest.max(row.width());
        self.nodes.insert(at, row);
        if at + 1 == self.nodes.len() {
            self.index.insert(id.to_string(), at);
        } else {
            // Rows moved down: their places are renumbered (rare: only when
            // a child's node is first met).
            self.index = self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, row)| (row.id.clone(), i))
                .collect();
        }
    }

    fn set_note(&mut self, node: Option<&str>, note: Option<&str>) {
        if let Some(row) = node.and_then(|n| self.row(n)) {
            row.note = note.map(|n| {
                printable_line(n.lines().next().unwrap_or(""))
                    .chars()
                    .take(ARGS_WIDTH)
                    .collect()
            });
        }
    }

    fn row(&mut self, node: &str) -> Option<&mut NodeRow> {
        let i = *self.index.get(node)?;
        self.nodes.get_mut(i)
    }

    fn set_lamp(&mut self, node: Option<&str>, lamp: Lamp) {
        let Some(i) = node.and_then(|n| self.index.get(n).copied()) else {
            return;
        };
        let Some(row) = self.nodes.get(i) else {
            return;
        };
        // An agent's own events only move a node that is under way.
        let agent_detail = matches!(lamp, Lamp::Thinking | Lamp::Tool)
            || (lamp == Lamp::Running && row.lamp != Lamp::Waiting);
        if !agent_detail || row.lamp.is_active() {
            self.light(i, lamp);
        }
    }

    fn push_line(&mut self, node: Option<&str>, kind: LineKind, text: String, output: Vec<String>) {
        // The node's name is shared by its lines: made once per change of
        // node, not once per line.
        let node = match node {
            Some(n) if self.last_node.as_deref() == Some(printable_line(n).as_ref()) => {
                self.last_node.clone()
            }
            Some(n) => {
                let node: std::sync::Arc<str> = printable_line(n).into();
                if self.last_node.is_some() {
                    self.rows += 1;
                    self.log.push_back(LogLine {
                        node: Some(node.clone()),
                        kind: LineKind::Separator,
                        text: String::new(),
                        output: Vec::new(),
                    });
                }
                self.last_node = Some(node.clone());
                Some(node)
            }
            None => None,
        };
        self.streaming = false;
        self.rows += 1 + output.len();
        self.log.push_back(LogLine {
            node,
            kind,
            text,
            output,
        });
        while self.rows > LOG_LINES {
            match self.log.pop_front() {
                Some(old) => self.rows -= 1 + old.output.len(),
                None => break,
            }
        }
    }
}

/// What kind of activity line an event makes, if any (bookkeeping events
/// such as checkpoints and costs make none).
fn line_kind(event: &PipelineEvent) -> Option<LineKind> {
    Some(match event.kind {
        EventKind::CheckpointSaved
        | EventKind::CostUpdated
        | EventKind::DecisionCondition
        | EventKind::DecisionOutcome
        | EventKind::LlmRequestStart
        | EventKind::TextDelta
        | EventKind::EdgeTiebreaker => return None,
        EventKind::ToolCallStart | EventKind::ToolCallEnd => LineKind::Tool,
        EventKind::StageFailed
        | EventKind::PipelineFailed
        | EventKind::CheckpointFailed
        | EventKind::BudgetExceeded
        | EventKind::SupervisorEscalated => LineKind::Error,
        EventKind::Warning
        | EventKind::StageRetrying
        | EventKind::NodeRestarted
        | EventKind::LoopRestart => LineKind::Warning,
        _ => LineKind::Progress,
    })
}

/// An event as one printable line.
fn describe(event: &PipelineEvent) -> String {
    let tool = event.tool_name.as_deref().unwrap_or("tool");
    let mut text = match event.kind {
        EventKind::ToolCallStart => format!(
            "▸ {}",
            tool_call(tool, event.capture.tool_input.as_deref().unwrap_or(""))
        ),
        EventKind::ToolCallEnd => match &event.error {
            Some(error) => format!("✗ {tool}: {error}"),
            None => format!("✓ {tool}"),
        },
        EventKind::StageFailed => format!("FAILED: {}", event.message.as_deref().unwrap_or("")),
        EventKind::StageRetrying | EventKind::NodeRestarted => {
            format!("RETRYING: {}", event.message.as_deref().unwrap_or(""))
        }
        _ => event.message.clone().unwrap_or_default(),
    };
    if let Some(error) = event
        .error
        .as_ref()
        .filter(|_| event.kind != EventKind::ToolCallEnd)
    {
        text.push_str(" — ");
        text.push_str(error);
    }
    // Most lines are printable and short already: kept as they are.
    match printable_line(&text) {
        std::borrow::Cow::Borrowed(_) if text.len() <= LINE_WIDTH => text,
        shown => shown.chars().take(LINE_WIDTH).collect(),
    }
}

/// A tool call as the log shows it: `$ cmd` for a shell command, else the
/// tool and what it works on (a pattern, a path, a task), cut to 80
/// characters.
fn tool_call(tool: &str, input: &str) -> String {
    let args: serde_json::Value = serde_json::from_str(input).unwrap_or_default();
    let field = |name: &str| args.get(name).and_then(serde_json::Value::as_str);
    let what = if let Some(command) = field("command") {
        format!("$ {command}")
    } else {
        let said: Vec<&str> = ["pattern", "path", "file_path", "task"]
            .iter()
            .filter_map(|name| field(name))
            .collect();
        if said.is_empty() {
            format!("{tool} {input}")
        } else {
            format!("{tool} {}", said.join(" "))
        }
    };
    let what = printable_line(&what);
    let mut cut: String = what.chars().take(ARGS_WIDTH).collect();
    if what.chars().count() > ARGS_WIDTH {
        cut.push('…');
    }
    cut
}

/// A tool result's output, a printable line each (its last
/// [`OUTPUT_LINES`]).
fn output_of(event: &PipelineEvent) -> Vec<String> {
    if event.kind != EventKind::ToolCallEnd {
        return Vec::new();
    }
    let Some(content) = event.content.as_deref() else {
        return Vec::new();
    };
    let lines: Vec<&str> = content.trim_end().lines().collect();
    lines[lines.len().saturating_sub(OUTPUT_LINES)..]
        .iter()
        .map(|l| printable_line(l).chars().take(LINE_WIDTH).collect())
        .collect()
}
