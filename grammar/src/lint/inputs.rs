//! Lints on declared pipeline inputs and their references (`DIP155`–`DIP159`).
//!
//! * `DIP155` (error) — an input's type is not one of `text number bool enum file secret`;
//! * `DIP156` (error) — `${inputs.x}` in an agent or human prompt (or the defaults prompt
//!   prefix/suffix), or `inputs.x` in an edge or `manager_loop` condition, where `x` is not
//!   declared;
//! * `DIP157` (error) — `${inputs.x}` spliced into a tool's shell command;
//! * `DIP158` (error) — a constraint that cannot hold or does not fit the input's type;
//! * `DIP159` (warning) — a `text`, `number`, `bool` or `enum` input that nothing references.
//!
//! Every text is scanned once, so the pass is linear in the size of the workflow.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{Condition, Input, NodeConfig, Workflow};
use crate::source::Span;

/// The input types the runtime knows.
const KNOWN_TYPES: [&str; 6] = ["text", "number", "bool", "enum", "file", "secret"];

/// Types whose declaration without any reference is worth a warning (`DIP159`).
/// `file` and `secret` inputs may be consumed by the runtime directly.
const REFERENCE_EXPECTED: [&str; 4] = ["text", "number", "bool", "enum"];

/// Appends this module's findings for `wf` to `out`.
pub fn lint(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    for input in &wf.inputs {
        check_type(input, out);
        check_constraints(input, out);
    }

    let declared: HashSet<&str> = wf.inputs.iter().map(|i| i.name.as_str()).collect();
    let mut scan = Scan {
        declared,
        used: HashSet::new(),
        out,
    };
    scan.workflow(wf);
    let used = scan.used;

    for input in &wf.inputs {
        if REFERENCE_EXPECTED.contains(&input.kind.as_str()) && !used.contains(input.name.as_str())
        {
            out.push(
                Diagnostic::warning(
                    Code(159),
                    format!("input \"{}\" is declared but never referenced", input.name),
                )
                .with_span(input.span)
                .with_fix(format!(
                    "use ${{inputs.{}}} in a prompt or remove the declaration",
                    input.name
                )),
            );
        }
    }
}

/// `DIP155`: the type must be a known one.
fn check_type(input: &Input, out: &mut Vec<Diagnostic>) {
    if KNOWN_TYPES.contains(&input.kind.as_str()) {
        return;
    }
    let suggestion = match input.kind.to_ascii_lowercase().as_str() {
        "string" | "str" | "textarea" => Some("text"),
        "int" | "integer" | "float" | "double" | "num" => Some("number"),
        "boolean" => Some("bool"),
        "choice" | "select" => Some("enum"),
        "path" => Some("file"),
        "password" => Some("secret"),
        lower if KNOWN_TYPES.contains(&lower) => KNOWN_TYPES.iter().copied().find(|k| *k == lower),
        _ => None,
    };
    let fix = match suggestion {
        Some(kind) => format!("write \"{}: {kind}\"", input.name),
        None => format!("use one of: {}", KNOWN_TYPES.join(", ")),
    };
    out.push(
        Diagnostic::error(
            Code(155),
            format!(
                "input \"{}\" has unknown type \"{}\"",
                input.name, input.kind
            ),
        )
        .with_span(input.span)
        .with_fix(fix),
    );
}

/// `DIP158`: constraints that cannot hold, or that do not apply to the input's type.
/// Inputs of an unknown type are left to `DIP155`.
fn check_constraints(input: &Input, out: &mut Vec<Diagnostic>) {
    let kind = input.kind.as_str();
    if !KNOWN_TYPES.contains(&kind) {
        return;
    }
    let name = input.name.as_str();
    let mut report = |message: String, fix: Option<String>| {
        let mut diag = Diagnostic::error(Code(158), message).with_span(input.span);
        if let Some(fix) = fix {
            diag = diag.with_fix(fix);
        }
        out.push(diag);
    };

    // options: only for enum, and an enum needs them.
    if kind == "enum" {
        if input.options.is_empty() {
            report(
                format!("enum input \"{name}\" has no options"),
                Some("add \"options: a, b, c\" to the input".to_string()),
            );
        } else if input.has_default && !input.options.contains(&input.default) {
            report(
                format!(
                    "default \"{}\" of enum input \"{name}\" is not one of its options ({})",
                    input.default,
                    input.options.join(", ")
                ),
                Some("make the default one of the options, or add it to them".to_string()),
            );
        }
    } else if !input.options.is_empty() {
        report(
            format!("input \"{name}\" has options but is of type \"{kind}\", not enum"),
            Some(format!(
                "change the type to enum or remove options from \"{name}\""
            )),
        );
    }

    // min / max: only for numbers, and they must be ordered.
    let has_bounds = !input.min.is_empty() || !input.max.is_empty();
    if kind == "number" {
        let min = bound(input, "min", &input.min, &mut report);
        let max = bound(input, "max", &input.max, &mut report);
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                report(
                    format!(
                        "number input \"{name}\" has min {} greater than max {}",
                        input.min.trim(),
                        input.max.trim()
                    ),
                    Some("swap min and max".to_string()),
                );
            }
        }
        if input.has_default && !input.default.trim().is_empty() {
            match parse_number(&input.default) {
                None => report(
                    format!(
                        "default \"{}\" of number input \"{name}\" is not a number",
                        input.default
                    ),
                    None,
                ),
                Some(value) => {
                    let below = min.is_some_and(|lo| value < lo);
                    let above = max.is_some_and(|hi| value > hi);
                    if below || above {
                        report(
                            format!(
                                "default {} of number input \"{name}\" is outside its min/max range",
                                input.default.trim()
                            ),
                            None,
                        );
                    }
                }
            }
        }
    } else if has_bounds {
        report(
            format!("input \"{name}\" has min/max but is of type \"{kind}\", not number"),
            Some(format!(
                "change the type to number or remove min/max from \"{name}\""
            )),
        );
    }

    // pattern: a valid regex, on a textual input, matched by the default.
    if !input.pattern.is_empty() {
        if matches!(kind, "text" | "secret" | "file") {
            match Regex::new(&input.pattern) {
                Err(err) => {
                    let detail = err.to_string();
                    let detail = detail
                        .lines()
                        .rev()
                        .find(|l| l.trim_start().starts_with("error:"))
                        .map(|l| l.trim().trim_start_matches("error:").trim().to_string())
                        .unwrap_or(detail);
                    report(
                        format!(
                            "pattern of input \"{name}\" is not a valid regex: {}",
                            detail.to_lowercase()
                        ),
                        None,
                    );
                }
                Ok(re) => {
                    if input.has_default
                        && !input.default.is_empty()
                        && !re.is_match(&input.default)
                    {
                        report(
                            format!(
                                "default \"{}\" of input \"{name}\" does not match its pattern",
                                input.default
                            ),
                            None,
                        );
                    }
                }
            }
        } else {
            report(
                format!("input \"{name}\" has a pattern but is of type \"{kind}\""),
                Some(format!("remove pattern from \"{name}\"")),
            );
        }
    }

    // max_length: textual inputs only, never negative.
    if input.max_length != 0 {
        if !matches!(kind, "text" | "secret" | "file") {
            report(
                format!("input \"{name}\" has max_length but is of type \"{kind}\""),
                Some(format!("remove max_length from \"{name}\"")),
            );
        } else if input.max_length < 0 {
            report(
                format!(
                    "input \"{name}\" has negative max_length {}",
                    input.max_length
                ),
                None,
            );
        } else if input.has_default
            && i64::try_from(input.default.chars().count()).unwrap_or(i64::MAX) > input.max_length
        {
            report(
                format!(
                    "default of input \"{name}\" is longer than its max_length {}",
                    input.max_length
                ),
                None,
            );
        }
    }

    // bool defaults must be booleans.
    if kind == "bool" && input.has_default && !matches!(input.default.trim(), "true" | "false") {
        report(
            format!(
                "default \"{}\" of bool input \"{name}\" is not true or false",
                input.default
            ),
            None,
        );
    }
}

/// Parses a `min`/`max` bound of a number input, reporting one that is not a number.
fn bound(
    input: &Input,
    which: &str,
    raw: &str,
    report: &mut impl FnMut(String, Option<String>),
) -> Option<f64> {
    if raw.trim().is_empty() {
        return None;
    }
    let value = parse_number(raw);
    if value.is_none() {
        report(
            format!(
                "{which} \"{raw}\" of number input \"{}\" is not a number",
                input.name
            ),
            None,
        );
    }
    value
}

/// A finite number, or `None`.
fn parse_number(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The `${…}` interpolation pattern, compiled once.
fn interpolation() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\$\{([^}]+)\}").ok())
        .as_ref()
}

/// The input names of every `${inputs.name}` in `text`, in order (repeats kept).
fn interpolated_inputs(text: &str) -> Vec<&str> {
    let Some(re) = interpolation() else {
        return Vec::new();
    };
    if !text.contains("${") {
        return Vec::new();
    }
    re.captures_iter(text)
        .filter_map(|caps| caps.get(1))
        .filter_map(|m| m.as_str().trim().strip_prefix("inputs."))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect()
}

/// The input names a condition tests (`inputs.name op value`).
fn condition_inputs(condition: &Condition) -> Vec<&str> {
    match &condition.parsed {
        Ok(expr) => expr
            .leaves()
            .into_iter()
            .filter_map(|(cmp, _)| cmp.variable.strip_prefix("inputs."))
            .filter(|name| !name.is_empty())
            .collect(),
        // Unparsable conditions are reported elsewhere (DIP010).
        Err(_) => Vec::new(),
    }
}

/// One walk over every text of a workflow: collects referenced inputs and reports
/// undeclared (`DIP156`) and shell-spliced (`DIP157`) references.
struct Scan<'a, 'o> {
    declared: HashSet<&'a str>,
    used: HashSet<&'a str>,
    out: &'o mut Vec<Diagnostic>,
}

impl<'a> Scan<'a, '_> {
    fn workflow(&mut self, wf: &'a Workflow) {
        // Texts that only count as uses.
        self.uses(interpolated_inputs(&wf.goal));
        for value in wf.vars.values() {
            self.uses(interpolated_inputs(value));
        }

        // The defaults prompt prefix/suffix become part of every agent prompt.
        let defaults_span = wf.defaults.span.unwrap_or(wf.span);
        for (field, text) in [
            ("prompt_prefix", &wf.defaults.prompt_prefix),
            ("prompt_suffix", &wf.defaults.prompt_suffix),
        ] {
            let names = interpolated_inputs(text);
            self.declared_check(&names, defaults_span, &format!("defaults {field}"));
            self.uses(names);
        }

        for node in &wf.nodes {
            let where_ = format!("node \"{}\"", node.id);
            match &node.config {
                NodeConfig::Agent(agent) => {
                    let mut names = interpolated_inputs(&agent.prompt);
                    names.extend(interpolated_inputs(&agent.system_prompt));
                    self.declared_check(&names, node.span, &where_);
                    self.uses(names);
                    self.params(agent.params.values());
                }
                NodeConfig::Human(human) => {
                    let names = interpolated_inputs(&human.prompt);
                    self.declared_check(&names, node.span, &where_);
                    self.uses(names);
                }
                NodeConfig::Tool(tool) => {
                    let names = interpolated_inputs(&tool.command);
                    let mut seen = HashSet::new();
                    for name in &names {
                        if seen.insert(*name) {
                            self.out.push(
                                Diagnostic::error(
                                    Code(157),
                                    format!(
                                        "tool node \"{}\" interpolates input \"{name}\" into its shell command",
                                        node.id
                                    ),
                                )
                                .with_span(node.span)
                                .with_help(
                                    "input values come from the user; splicing them into a shell command allows command injection",
                                )
                                .with_fix(format!(
                                    "remove ${{inputs.{name}}} from the command and let an agent or an earlier node supply the value"
                                )),
                            );
                        }
                    }
                    self.uses(names);
                }
                NodeConfig::Parallel(p) => self.params(p.params.values()),
                NodeConfig::FanIn(f) => self.params(f.params.values()),
                NodeConfig::Subgraph(s) => self.params(s.params.values()),
                NodeConfig::ManagerLoop(m) => {
                    let mut names = Vec::new();
                    for cond in [&m.stop_condition, &m.steer_condition]
                        .into_iter()
                        .flatten()
                    {
                        names.extend(condition_inputs(cond));
                    }
                    self.declared_check(&names, node.span, &where_);
                    self.uses(names);
                    self.params(m.steer_context.values());
                }
                NodeConfig::Conditional => {}
            }
        }

        for edge in &wf.edges {
            if let Some(cond) = &edge.condition {
                let names = condition_inputs(cond);
                let where_ = format!("the condition of edge \"{}\" -> \"{}\"", edge.from, edge.to);
                self.declared_check(&names, edge.span, &where_);
                self.uses(names);
            }
        }
    }

    /// Records uses found in map values.
    fn params(&mut self, values: impl Iterator<Item = &'a String>) {
        for value in values {
            self.uses(interpolated_inputs(value));
        }
    }

    /// Records `names` as used.
    fn uses(&mut self, names: Vec<&'a str>) {
        self.used.extend(names);
    }

    /// `DIP156`: each undeclared name, once per site.
    fn declared_check(&mut self, names: &[&'a str], span: Span, where_: &str) {
        let mut seen = HashSet::new();
        for name in names {
            if self.declared.contains(name) || !seen.insert(*name) {
                continue;
            }
            self.out.push(
                Diagnostic::error(
                    Code(156),
                    format!("input \"{name}\" is referenced in {where_} but not declared"),
                )
                .with_span(span)
                .with_fix(format!("declare it under inputs, e.g. \"{name}: text\"")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint_src(src: &str) -> Vec<Diagnostic> {
        let (wf, diags) = crate::parse_dip(src);
        assert!(diags.is_empty(), "parse diagnostics: {diags:?}");
        let mut out = Vec::new();
        lint(&wf, &mut out);
        out
    }

    #[test]
    fn corpus_pipeline_inputs_is_clean() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/corpus/dippin-lang/examples/pipeline_inputs.dip");
        let src = std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "the shared corpus file {} is needed by this test and could not be read ({err}); check out ../shared beside the repository",
                path.display()
            )
        });
        let diags = lint_src(&src);
        assert!(diags.is_empty(), "{diags:?}");
    }
}
