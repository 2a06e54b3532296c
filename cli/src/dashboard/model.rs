//! A run as the dashboard shows it, folded from the run's events.

use std::collections::{HashMap, VecDeque};

use dippin::diagnostic::printable_line;
use tracker_runtime::event::{EventKind, PipelineEvent};
use tracker_runtime::plan::{Handler, SpawnPlan};

/// How many activity lines are kept (older ones are dropped).
pub const LOG_LINES: usize = 2_000;

/// The longest activity line kept, in characters.
const LINE_WIDTH: usize = 400;

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
    /// Its id (printable).
    pub id: String,
    /// Its kind's name (`tool`, `codergen`, …).
    pub kind: &'static str,
    /// Its state.
    pub lamp: Lamp,
    /// How many times it started.
    pub attempts: u32,
    /// What its agents spent, in dollars.
    pub cost_usd: f64,
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
}

/// One activity line.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// The node it is about.
    pub node: Option<String>,
    /// What it is.
    pub kind: LineKind,
    /// The text, printable and one line.
    pub text: String,
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
    pub trail: Vec<String>,
    /// The activity log, oldest first.
    pub log: VecDeque<LogLine>,
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
    /// The node whose lines the log shows last.
    last_node: Option<String>,
}

impl RunView {
    /// The view of run `run_id` of `plan`, before its first event.
    pub fn new(plan: &SpawnPlan, run_id: &str) -> RunView {
        let mut view = RunView::without_plan(&plan.name, run_id);
        view.nodes = plan
            .nodes
            .iter()
            .map(|node| NodeRow {
                id: printable_line(&node.id).into_owned(),
                kind: kind_name(node.handler),
                lamp: Lamp::Pending,
                attempts: 0,
                cost_usd: 0.0,
            })
            .collect();
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
            trail: Vec::new(),
            log: VecDeque::new(),
            tokens: 0,
            cost_usd: 0.0,
            elapsed_ms: 0,
            outcome: None,
            failure: None,
            last_node: None,
        }
    }

    /// The node under way (the last one started and not finished).
    pub fn current(&self) -> Option<&NodeRow> {
        self.trail
            .iter()
            .rev()
            .filter_map(|id| self.index.get(id).and_then(|i| self.nodes.get(*i)))
            .find(|n| n.lamp.is_active())
    }

    /// Whether a gate of the run waits for an answer.
    pub fn waiting_at_gate(&self) -> bool {
        self.nodes.iter().any(|n| n.lamp == Lamp::Waiting)
    }

    /// The trail newest first, repeats in a row collapsed: `(node, times)`.
    pub fn trail_newest_first(&self) -> Vec<(&str, usize)> {
        let mut out: Vec<(&str, usize)> = Vec::new();
        for node in self.trail.iter().rev() {
            match out.last_mut() {
                Some((last, times)) if *last == node.as_str() => *times += 1,
                _ => out.push((node, 1)),
            }
        }
        out
    }

    /// How many nodes have finished, of how many.
    pub fn progress(&self) -> (usize, usize) {
        let done = self
            .nodes
            .iter()
            .filter(|n| matches!(n.lamp, Lamp::Done | Lamp::Failed | Lamp::Skipped))
            .count();
        (done, self.nodes.len())
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: &PipelineEvent) {
        let node = event.node_id.as_deref().filter(|n| !n.is_empty());
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
            EventKind::StageStarted => {
                if let Some(node) = node.filter(|n| !self.index.contains_key(*n)) {
                    // A node the plan did not name (a child's, or a view
                    // built without its plan): listed as it is met.
                    self.index.insert(node.to_string(), self.nodes.len());
                    self.nodes.push(NodeRow {
                        id: printable_line(node).into_owned(),
                        kind: "",
                        lamp: Lamp::Pending,
                        attempts: 0,
                        cost_usd: 0.0,
                    });
                }
                if let Some(row) = node.and_then(|n| self.row(n)) {
                    row.lamp = Lamp::Running;
                    row.attempts += 1;
                }
                if let Some(node) = node {
                    self.trail.push(printable_line(node).into_owned());
                }
            }
            EventKind::StageCompleted => self.set_lamp(node, Lamp::Done),
            EventKind::StageFailed => self.set_lamp(node, Lamp::Failed),
            EventKind::StageRetrying | EventKind::NodeRestarted => {
                self.set_lamp(node, Lamp::Retrying)
            }
            EventKind::GateOpened => self.set_lamp(node, Lamp::Waiting),
            EventKind::GateResolved
            | EventKind::LlmFinish
            | EventKind::ToolCallEnd
            | EventKind::SessionEnd => self.set_lamp(node, Lamp::Running),
            EventKind::LlmRequestStart => self.set_lamp(node, Lamp::Thinking),
            EventKind::ToolCallStart => self.set_lamp(node, Lamp::Tool),
            EventKind::PipelineCompleted | EventKind::PipelineFailed => {
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
                for row in &mut self.nodes {
                    if row.lamp == Lamp::Pending {
                        row.lamp = Lamp::Skipped;
                    }
                }
            }
            _ => {}
        }
        if let Some(kind) = line_kind(event) {
            self.push_line(node, kind, describe(event));
        }
    }

    fn row(&mut self, node: &str) -> Option<&mut NodeRow> {
        let i = *self.index.get(node)?;
        self.nodes.get_mut(i)
    }

    fn set_lamp(&mut self, node: Option<&str>, lamp: Lamp) {
        if let Some(row) = node.and_then(|n| self.row(n)) {
            // An agent's own events only move a node that is under way.
            let agent_detail = matches!(lamp, Lamp::Thinking | Lamp::Tool)
                || (lamp == Lamp::Running && row.lamp != Lamp::Waiting);
            if !agent_detail || row.lamp.is_active() {
                row.lamp = lamp;
            }
        }
    }

    fn push_line(&mut self, node: Option<&str>, kind: LineKind, text: String) {
        let node = node.map(|n| printable_line(n).into_owned());
        if node.is_some() && node != self.last_node {
            if self.last_node.is_some() {
                self.log.push_back(LogLine {
                    node: node.clone(),
                    kind: LineKind::Separator,
                    text: String::new(),
                });
            }
            self.last_node.clone_from(&node);
        }
        self.log.push_back(LogLine { node, kind, text });
        while self.log.len() > LOG_LINES {
            self.log.pop_front();
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
    let mut text = match event.kind {
        EventKind::ToolCallStart => format!("→ {}", event.tool_name.as_deref().unwrap_or("tool")),
        EventKind::ToolCallEnd => format!("← {}", event.tool_name.as_deref().unwrap_or("tool")),
        _ => event.message.clone().unwrap_or_default(),
    };
    if let Some(content) = event.content.as_deref().filter(|c| !c.is_empty()) {
        if matches!(
            event.kind,
            EventKind::ToolCallStart | EventKind::ToolCallEnd
        ) {
            text.push(' ');
            text.push_str(content);
        }
    }
    if let Some(error) = &event.error {
        text.push_str(" — ");
        text.push_str(error);
    }
    printable_line(&text).chars().take(LINE_WIDTH).collect()
}

/// A node kind's short name.
fn kind_name(handler: Handler) -> &'static str {
    match handler {
        Handler::Start => "start",
        Handler::Exit => "exit",
        Handler::Conditional => "cond",
        Handler::Tool => "tool",
        Handler::Codergen => "agent",
        Handler::Human => "human",
        Handler::Parallel => "parallel",
        Handler::FanIn => "fan-in",
        Handler::Subgraph => "subgraph",
        Handler::ManagerLoop => "manager",
    }
}
