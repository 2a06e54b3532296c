//! `${ns.key}` and `$name` expansion: the two single-pass interpolation mechanisms of
//! spec §3.3.
//!
//! * [`expand_braces`] expands `${ctx.k}`, `${inputs.k}`, `${params.k}` and
//!   `${graph.k}` in prompts, human prompts, edge conditions, subgraph injection and
//!   (in [`Mode::ToolCommand`], which refuses LLM-controlled values) tool commands.
//! * [`expand_dollar_names`] expands `$goal`, `$params.repo`, `$llm_model`, … (the
//!   graph attributes) in every attribute of an engine-executed node.
//!
//! Both scan their input once, left to right, and never rescan what they wrote, so a
//! value containing `${ctx.secret}` or `$goal` is copied literally.
//!
//! ```
//! use std::collections::BTreeMap;
//! use tracker_runtime::context::PipelineContext;
//! use tracker_runtime::interpolate::{expand_braces, Mode, Sources};
//!
//! let mut ctx = PipelineContext::new();
//! ctx.set("outcome", "success");
//! let graph = BTreeMap::from([("goal".to_string(), "ship".to_string())]);
//! let text = expand_braces("${graph.goal}: ${ctx.outcome}", &Sources::new(&ctx, &graph), Mode::Prompt);
//! assert_eq!(text.as_deref(), Ok("ship: success"));
//! ```

use std::collections::BTreeMap;

use crate::context::PipelineContext;

/// The only `ctx.*` keys a tool command may interpolate when present: values a human
/// or the engine chose, never LLM or tool output. Declared `writes:` may not target
/// them either (§3.6).
pub const TOOL_COMMAND_SAFE_CTX_KEYS: [&str; 4] = [
    "outcome",
    "preferred_label",
    "human_response",
    "interview_answers",
];

/// Whether `key` is one of [`TOOL_COMMAND_SAFE_CTX_KEYS`].
pub fn is_tool_command_safe_ctx_key(key: &str) -> bool {
    TOOL_COMMAND_SAFE_CTX_KEYS.contains(&key)
}

/// Where `${…}` is being expanded, which decides rendering and safety.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Agent and human prompts, subgraph injection: lenient; a non-empty
    /// `${ctx.tool_stdout}`/`${ctx.tool_stderr}` (or `${ctx.<…>.tool_stdout}`) renders
    /// as a fenced markdown block.
    Prompt,
    /// Edge conditions: exactly like [`Mode::Prompt`], fenced tool output included
    /// (gotcha 8: conditions should use bare `ctx.tool_stdout`).
    Condition,
    /// Tool commands: a present `ctx.*` key outside [`TOOL_COMMAND_SAFE_CTX_KEYS`] or
    /// any present `inputs.*` key is an error; `graph.*`/`params.*` are read from the
    /// context's seeded `graph.*` copy; no fencing.
    ToolCommand,
}

/// Why `${…}` expansion refused a text. Only [`Mode::ToolCommand`] fails, and the
/// engine treats the failure as a handler error (gotcha 7).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// A tool command references a present, LLM-controllable `${ctx.<key>}`.
    #[error(
        "tool_command references unsafe variable ${{ctx.{key}}} — LLM/tool output cannot be \
         interpolated into shell commands. Safe ctx keys: outcome, preferred_label, \
         human_response, interview_answers. Write output to a file in a prior tool node and \
         read it in your command instead"
    )]
    UnsafeContextKey {
        /// The key after `ctx.`.
        key: String,
    },
    /// A tool command references a present, caller-supplied `${inputs.<key>}`.
    #[error(
        "tool_command references unsafe variable ${{inputs.{key}}} — caller-supplied inputs \
         cannot be interpolated into shell commands. Write the value to a file in a prior tool \
         node and read it in your command instead"
    )]
    UnsafeInput {
        /// The key after `inputs.`.
        key: String,
    },
}

/// Read access to what `${…}` can name.
///
/// `ctx` is the run context's user values (`${ctx.k}` reads `k`, `${inputs.k}` reads
/// `inputs.k`); `graph` is the graph attributes without the `graph.` prefix;
/// `param` is `${params.k}`, by default the graph attribute `params.k`. In
/// [`Mode::ToolCommand`] only `ctx` is consulted (graph values come from the
/// context's `graph.*` keys).
pub trait VarSource {
    /// The context value of `key`, if present.
    fn ctx(&self, key: &str) -> Option<&str>;
    /// The graph attribute `key` (e.g. `goal`), if present.
    fn graph(&self, key: &str) -> Option<&str>;
    /// The parameter `key`: the graph attribute `params.<key>` unless overridden.
    fn param(&self, key: &str) -> Option<&str> {
        self.graph(&format!("params.{key}"))
    }
}

/// The usual [`VarSource`]: an optional context plus graph attributes, with an
/// optional explicit parameter map (subgraph injection).
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    /// The run context; `None` expands every `${ctx.…}`/`${inputs.…}` to `""`.
    pub ctx: Option<&'a PipelineContext>,
    /// Graph attributes as in [`SpawnPlan::graph_attrs`](crate::plan::SpawnPlan::graph_attrs).
    pub graph: &'a BTreeMap<String, String>,
    /// Explicit `${params.…}` values; `None` reads graph attributes `params.<key>`.
    pub params: Option<&'a BTreeMap<String, String>>,
}

impl<'a> Sources<'a> {
    /// A context and the live graph's attributes (prompts, conditions, tool commands).
    pub fn new(ctx: &'a PipelineContext, graph: &'a BTreeMap<String, String>) -> Sources<'a> {
        Sources {
            ctx: Some(ctx),
            graph,
            params: None,
        }
    }

    /// Subgraph injection (§5.7): no context, so `${ctx.…}` is erased (gotcha 10); the
    /// child's graph attributes and the resolved subgraph parameters.
    pub fn injection(
        graph: &'a BTreeMap<String, String>,
        params: &'a BTreeMap<String, String>,
    ) -> Sources<'a> {
        Sources {
            ctx: None,
            graph,
            params: Some(params),
        }
    }
}

impl VarSource for Sources<'_> {
    fn ctx(&self, key: &str) -> Option<&str> {
        self.ctx.and_then(|ctx| ctx.get(key))
    }

    fn graph(&self, key: &str) -> Option<&str> {
        self.graph.get(key).map(String::as_str)
    }

    fn param(&self, key: &str) -> Option<&str> {
        match self.params {
            Some(params) => params.get(key).map(String::as_str),
            None => self.graph(&format!("params.{key}")),
        }
    }
}

/// A bare context is a source too: its graph attributes are its seeded `graph.*` keys.
impl VarSource for PipelineContext {
    fn ctx(&self, key: &str) -> Option<&str> {
        self.get(key)
    }

    fn graph(&self, key: &str) -> Option<&str> {
        self.get(&format!("graph.{key}"))
    }
}

/// Expands every `${ns.key}` in `text` in one left-to-right pass (§3.3).
///
/// From each `${`, the next `}` closes the reference (none: the rest is literal). An
/// empty reference or one without `.` stays literal; otherwise it splits at the first
/// `.` and `ctx`, `inputs`, `params` and `graph` are looked up in `src`; any other
/// namespace, and any missing key, expands to `""`. See [`Mode`] for the rendering
/// and safety differences.
pub fn expand_braces<S>(text: &str, src: &S, mode: Mode) -> Result<String, InterpolationError>
where
    S: VarSource + ?Sized,
{
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        out.push_str(&rest[..open]);
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let inner = &after_open[..close];
        match inner.split_once('.') {
            Some((namespace, key)) => out.push_str(&resolve(namespace, key, src, mode)?),
            None => out.push_str(&rest[open..open + 2 + close + 1]),
        }
        rest = &after_open[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The expansion of one `${namespace.key}`.
fn resolve<S>(namespace: &str, key: &str, src: &S, mode: Mode) -> Result<String, InterpolationError>
where
    S: VarSource + ?Sized,
{
    let tool = mode == Mode::ToolCommand;
    let value = match namespace {
        "ctx" => src.ctx(key),
        "inputs" => src.ctx(&format!("inputs.{key}")),
        "params" if tool => src.ctx(&format!("graph.params.{key}")),
        "params" => src.param(key),
        "graph" if tool => src.ctx(&format!("graph.{key}")),
        "graph" => src.graph(key),
        _ => None,
    };
    let Some(value) = value else {
        return Ok(String::new());
    };
    if tool {
        if namespace == "ctx" && !is_tool_command_safe_ctx_key(key) {
            return Err(InterpolationError::UnsafeContextKey {
                key: key.to_string(),
            });
        }
        if namespace == "inputs" {
            return Err(InterpolationError::UnsafeInput {
                key: key.to_string(),
            });
        }
        return Ok(value.to_string());
    }
    if namespace == "ctx" && !value.is_empty() {
        if let Some(heading) = fence_heading(key) {
            return Ok(format!("\n\n## {heading}\n\n```text\n{value}\n```\n"));
        }
    }
    Ok(value.to_string())
}

/// The fenced-block heading for tool output keys (`tool_stdout`, `node.X.tool_stdout`,
/// and the stderr equivalents), if `key` is one.
fn fence_heading(key: &str) -> Option<&'static str> {
    let is = |name: &str| {
        key == name
            || key
                .strip_suffix(name)
                .is_some_and(|head| head.ends_with('.'))
    };
    if is("tool_stdout") {
        Some("Tool Stdout")
    } else if is("tool_stderr") {
        Some("Tool Stderr")
    } else {
        None
    }
}

/// Expands `$name` references in one left-to-right pass (§3.3).
///
/// `vars` maps names **without** the `$` to values: the graph attributes, e.g.
/// [`SpawnPlan::graph_attrs`](crate::plan::SpawnPlan::graph_attrs) or
/// [`PipelineContext::graph_vars`] (`goal`, `params.repo`, `llm_model`, …). At each
/// `$` the longest name that follows is replaced (ties, which cannot both match, by
/// name); a `$` followed by no name is kept. Replacement text is never rescanned.
/// Empty names are ignored.
pub fn expand_dollar_names(text: &str, vars: &BTreeMap<String, String>) -> String {
    if vars.is_empty() || !text.contains('$') {
        return text.to_string();
    }
    // The map iterates by name; a stable sort by length puts the longest first and
    // keeps ties in name order.
    let mut names: Vec<(&str, &str)> = vars
        .iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));

    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        match names.iter().find(|(name, _)| after.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &after[name.len()..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ctx(pairs: &[(&str, &str)]) -> PipelineContext {
        let mut ctx = PipelineContext::new();
        ctx.merge(pairs.iter().copied());
        ctx
    }

    fn prompt(text: &str, ctx: &PipelineContext, graph: &BTreeMap<String, String>) -> String {
        expand_braces(text, &Sources::new(ctx, graph), Mode::Prompt)
            .expect("prompt mode is lenient")
    }

    fn tool(text: &str, ctx: &PipelineContext) -> Result<String, InterpolationError> {
        expand_braces(
            text,
            &Sources::new(ctx, &BTreeMap::new()),
            Mode::ToolCommand,
        )
    }

    // --- ${ns.key} ---

    #[test]
    fn ctx_inputs_params_and_graph_namespaces_resolve() {
        let c = ctx(&[("outcome", "success"), ("inputs.topic", "rust")]);
        let g = map(&[("goal", "ship it"), ("params.model", "m1")]);
        assert_eq!(
            prompt(
                "${ctx.outcome}|${inputs.topic}|${params.model}|${graph.goal}",
                &c,
                &g
            ),
            "success|rust|m1|ship it"
        );
    }

    #[test]
    fn consecutive_references_and_surrounding_text() {
        let c = ctx(&[("a", "A"), ("b", "B"), ("c", "C")]);
        assert_eq!(
            prompt("<${ctx.a}${ctx.b}${ctx.c}>", &c, &BTreeMap::new()),
            "<ABC>"
        );
    }

    #[test]
    fn unknown_namespace_and_missing_keys_expand_to_empty() {
        let c = ctx(&[("known", "v")]);
        let g = BTreeMap::new();
        assert_eq!(prompt("x${unknown.key}y", &c, &g), "xy");
        assert_eq!(prompt("x${ctx.missing}y", &c, &g), "xy");
        assert_eq!(prompt("x${graph.missing}y", &c, &g), "xy");
        assert_eq!(prompt("x${params.missing}y", &c, &g), "xy");
        assert_eq!(prompt("x${inputs.missing}y", &c, &g), "xy");
    }

    #[test]
    fn missing_closing_brace_leaves_the_rest_literal() {
        let c = ctx(&[("key", "v")]);
        assert_eq!(
            prompt("${ctx.key} and ${ctx.key", &c, &BTreeMap::new()),
            "v and ${ctx.key"
        );
    }

    #[test]
    fn references_without_a_dot_or_empty_stay_literal() {
        let c = ctx(&[("key", "v"), ("ctxkey", "no")]);
        let g = BTreeMap::new();
        assert_eq!(prompt("${noDot}", &c, &g), "${noDot}");
        assert_eq!(prompt("a ${} b", &c, &g), "a ${} b");
        assert_eq!(
            prompt("Bad: ${ctxkey} then Good: ${ctx.key}", &c, &g),
            "Bad: ${ctxkey} then Good: v"
        );
    }

    #[test]
    fn splits_at_the_first_dot() {
        let c = ctx(&[("node.Run.outcome", "fail")]);
        assert_eq!(
            prompt("${ctx.node.Run.outcome}", &c, &BTreeMap::new()),
            "fail"
        );
    }

    #[test]
    fn the_next_closing_brace_ends_the_reference() {
        // `${a${ctx.x}` is one reference with namespace `a${ctx`: unknown, so "".
        let c = ctx(&[("x", "X")]);
        assert_eq!(prompt("[${a${ctx.x}]", &c, &BTreeMap::new()), "[]");
    }

    #[test]
    fn expanded_values_are_not_rescanned() {
        let c = ctx(&[("user_input", "value is ${ctx.secret}"), ("secret", "LEAK")]);
        assert_eq!(
            prompt("Input: ${ctx.user_input}", &c, &BTreeMap::new()),
            "Input: value is ${ctx.secret}"
        );
    }

    #[test]
    fn plain_text_dollars_and_braces_pass_through() {
        let c = ctx(&[]);
        let g = BTreeMap::new();
        for text in ["", "Cost: $100", "if (x) { return; }", "${", "$}{"] {
            assert_eq!(prompt(text, &c, &g), text);
        }
    }

    #[test]
    fn multibyte_text_around_references_is_preserved() {
        let c = ctx(&[("k", "värde")]);
        assert_eq!(
            prompt("é ${ctx.k} ü ${x", &c, &BTreeMap::new()),
            "é värde ü ${x"
        );
    }

    #[test]
    fn tool_stdout_renders_as_a_fenced_block_in_prompt_mode() {
        let c = ctx(&[("tool_stdout", "line one\nline two")]);
        assert_eq!(
            prompt("Out: ${ctx.tool_stdout} end", &c, &BTreeMap::new()),
            "Out: \n\n## Tool Stdout\n\n```text\nline one\nline two\n```\n end"
        );
    }

    #[test]
    fn tool_stderr_and_scoped_keys_render_fenced_too() {
        let c = ctx(&[("tool_stderr", "boom"), ("node.Run.tool_stdout", "ok")]);
        let g = BTreeMap::new();
        assert_eq!(
            prompt("${ctx.tool_stderr}", &c, &g),
            "\n\n## Tool Stderr\n\n```text\nboom\n```\n"
        );
        assert_eq!(
            prompt("${ctx.node.Run.tool_stdout}", &c, &g),
            "\n\n## Tool Stdout\n\n```text\nok\n```\n"
        );
    }

    #[test]
    fn empty_tool_output_and_lookalike_keys_are_not_fenced() {
        let c = ctx(&[
            ("tool_stdout", ""),
            ("my_tool_stdout", "plain"),
            ("inputs.tool_stdout", "in"),
        ]);
        let g = BTreeMap::new();
        assert_eq!(prompt("[${ctx.tool_stdout}]", &c, &g), "[]");
        assert_eq!(prompt("${ctx.my_tool_stdout}", &c, &g), "plain");
        assert_eq!(prompt("${inputs.tool_stdout}", &c, &g), "in");
    }

    #[test]
    fn condition_mode_fences_like_prompt_mode() {
        let c = ctx(&[("tool_stdout", "PASS")]);
        let g = BTreeMap::new();
        let out = expand_braces(
            "${ctx.tool_stdout} = PASS",
            &Sources::new(&c, &g),
            Mode::Condition,
        );
        assert_eq!(
            out.as_deref(),
            Ok("\n\n## Tool Stdout\n\n```text\nPASS\n```\n = PASS")
        );
        let out = expand_braces("${ctx.outcome}", &Sources::new(&c, &g), Mode::Condition);
        assert_eq!(out.as_deref(), Ok(""));
    }

    #[test]
    fn tool_mode_rejects_a_present_unsafe_ctx_key() {
        let c = ctx(&[("last_response", "x; rm -rf /")]);
        let err = tool("echo ${ctx.last_response}", &c).expect_err("unsafe");
        assert_eq!(
            err,
            InterpolationError::UnsafeContextKey {
                key: "last_response".into()
            }
        );
        assert!(err.to_string().contains("${ctx.last_response}"), "{err}");
    }

    #[test]
    fn tool_mode_rejects_present_but_empty_unsafe_keys() {
        let c = ctx(&[("tool_stdout", "")]);
        assert_eq!(
            tool("echo ${ctx.tool_stdout}", &c),
            Err(InterpolationError::UnsafeContextKey {
                key: "tool_stdout".into()
            })
        );
    }

    #[test]
    fn tool_mode_expands_missing_unsafe_keys_to_empty() {
        let c = ctx(&[]);
        assert_eq!(
            tool("echo [${ctx.last_response}]", &c).as_deref(),
            Ok("echo []")
        );
    }

    #[test]
    fn tool_mode_allows_the_safe_keys_without_fencing() {
        let c = ctx(&[
            ("outcome", "success"),
            ("preferred_label", "Yes"),
            ("human_response", "go"),
            ("interview_answers", "a"),
        ]);
        assert_eq!(
            tool(
                "${ctx.outcome} ${ctx.preferred_label} ${ctx.human_response} ${ctx.interview_answers}",
                &c
            )
            .as_deref(),
            Ok("success Yes go a")
        );
    }

    #[test]
    fn tool_mode_rejects_present_inputs() {
        let c = ctx(&[("inputs.x", "1")]);
        assert_eq!(
            tool("echo ${inputs.x}", &c),
            Err(InterpolationError::UnsafeInput { key: "x".into() })
        );
        assert_eq!(tool("echo ${inputs.y}", &c).as_deref(), Ok("echo "));
    }

    #[test]
    fn tool_mode_reads_graph_and_params_from_the_context() {
        let mut c = PipelineContext::new();
        c.seed_graph(&map(&[("goal", "seeded"), ("params.repo", "r1")]));
        // The live graph attrs disagree: tool mode must not consult them.
        let live = map(&[("goal", "live"), ("params.repo", "r2")]);
        let out = expand_braces(
            "${graph.goal} ${params.repo} ${graph.missing}",
            &Sources::new(&c, &live),
            Mode::ToolCommand,
        );
        assert_eq!(out.as_deref(), Ok("seeded r1 "));
        assert_eq!(prompt("${graph.goal} ${params.repo}", &c, &live), "live r2");
    }

    #[test]
    fn tool_mode_stops_at_the_first_unsafe_reference() {
        let c = ctx(&[("outcome", "ok"), ("response.A", "llm")]);
        assert_eq!(
            tool("${ctx.outcome} ${ctx.response.A}", &c),
            Err(InterpolationError::UnsafeContextKey {
                key: "response.A".into()
            })
        );
    }

    #[test]
    fn injection_erases_ctx_and_uses_explicit_params() {
        let graph = map(&[("goal", "child goal"), ("params.model", "default")]);
        let params = map(&[("model", "override")]);
        let out = expand_braces(
            "${ctx.outcome}|${params.model}|${graph.goal}|${params.none}",
            &Sources::injection(&graph, &params),
            Mode::Prompt,
        );
        assert_eq!(out.as_deref(), Ok("|override|child goal|"));
    }

    #[test]
    fn a_bare_context_is_a_source_with_seeded_graph_values() {
        let mut c = PipelineContext::new();
        c.seed_graph(&map(&[("goal", "g"), ("params.p", "v")]));
        c.set("k", "x");
        let out = expand_braces("${ctx.k} ${graph.goal} ${params.p}", &c, Mode::Prompt);
        assert_eq!(out.as_deref(), Ok("x g v"));
    }

    #[test]
    fn safe_key_list_matches_the_reference() {
        assert!(is_tool_command_safe_ctx_key("human_response"));
        assert!(!is_tool_command_safe_ctx_key("tool_marker"));
        assert!(!is_tool_command_safe_ctx_key("last_response"));
    }

    // --- $name ---

    #[test]
    fn dollar_goal_expands() {
        let vars = map(&[("goal", "ship")]);
        assert_eq!(expand_dollar_names("Do: $goal.", &vars), "Do: ship.");
    }

    #[test]
    fn dollar_names_match_longest_first() {
        let vars = map(&[("goal", "G"), ("goal_extra", "E")]);
        assert_eq!(
            expand_dollar_names("$goal_extra $goal $goal_ex", &vars),
            "E G G_ex"
        );
    }

    #[test]
    fn dollar_params_names_include_the_dot() {
        let vars = map(&[("params.repo", "tracker"), ("params", "P")]);
        assert_eq!(
            expand_dollar_names("git clone $params.repo; $params.other", &vars),
            "git clone tracker; P.other"
        );
    }

    #[test]
    fn dollar_values_are_not_rescanned() {
        let vars = map(&[("goal", "reach $version"), ("version", "1")]);
        assert_eq!(
            expand_dollar_names("$goal / $version", &vars),
            "reach $version / 1"
        );
    }

    #[test]
    fn unmatched_dollars_are_left_as_is() {
        let vars = map(&[("goal", "G")]);
        assert_eq!(
            expand_dollar_names("$HOME $$goal $ $", &vars),
            "$HOME $G $ $"
        );
        assert_eq!(expand_dollar_names("no vars", &BTreeMap::new()), "no vars");
        assert_eq!(expand_dollar_names("$goal", &BTreeMap::new()), "$goal");
    }

    #[test]
    fn shell_variables_with_graph_names_are_replaced() {
        // Gotcha 9: `$version` in a tool command is the graph attribute, not the shell's.
        let vars = map(&[("version", "1"), ("llm_model", "m")]);
        assert_eq!(
            expand_dollar_names("echo $version-$llm_model $PATH", &vars),
            "echo 1-m $PATH"
        );
    }

    #[test]
    fn empty_names_are_ignored() {
        let vars = map(&[("", "EMPTY"), ("a", "A")]);
        assert_eq!(expand_dollar_names("$ $a", &vars), "$ A");
    }

    #[test]
    fn dollar_names_work_with_context_graph_vars() {
        let mut c = PipelineContext::new();
        c.seed_graph(&map(&[("goal", "ship"), ("params.repo", "r")]));
        assert_eq!(
            expand_dollar_names("$goal in $params.repo", &c.graph_vars()),
            "ship in r"
        );
    }
}
