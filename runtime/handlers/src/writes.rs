//! Declared `writes:` (engine-semantics §3.6): a node that declares the context
//! keys it writes must produce them, as a JSON object in its output.
//!
//! The object is looked for in order: the whole text, the first fenced block
//! whose body is an object, the first balanced top-level `{…}`. A single
//! declared key with no object in sight takes the raw text (with a warning).
//! Missing keys, a reserved key, or no object at all fail the node and say why
//! in `writes_error`; keys the node wrote but did not declare are noted in
//! `writes_warning`.

use std::collections::BTreeMap;

use serde_json::Value;

use tracker_runtime::interpolate::TOOL_COMMAND_SAFE_CTX_KEYS;
use tracker_runtime::outcome::{Outcome, FAIL};

/// How much raw text a single undeclared-format key keeps.
const RAW_LIMIT: usize = 8192;

/// Keys no node may declare.
fn reserved(key: &str) -> bool {
    TOOL_COMMAND_SAFE_CTX_KEYS.contains(&key)
        || matches!(
            key,
            "writes_error" | "writes_warning" | "tool_marker" | "tool_marker_error" | "tool_route"
        )
        || key.starts_with("inputs.")
}

/// The declared keys of a `writes` attribute, deduplicated, in order.
pub fn declared(attr: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for key in attr.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    keys
}

/// Applies declared writes to `outcome` from `text` (an agent's response or a
/// tool's stdout).
pub fn apply(keys: &[String], text: &str, outcome: &mut Outcome) {
    if keys.is_empty() {
        return;
    }
    let fail = |outcome: &mut Outcome, message: String| {
        outcome.status = FAIL.into();
        outcome
            .context_updates
            .insert("writes_error".into(), message);
    };
    if let Some(bad) = keys.iter().find(|k| reserved(k)) {
        fail(outcome, format!("declared write key {bad:?} is reserved"));
        return;
    }
    let Some(object) = extract_object(text) else {
        if let [only] = keys {
            let mut value = tracker_runtime::text::head(text, RAW_LIMIT).to_string();
            let end = value.len();
            if end < text.len() {
                value.push_str(&format!(
                    "\n[truncated: {} of {} bytes kept]",
                    end,
                    text.len()
                ));
            }
            outcome.context_updates.insert(only.clone(), value);
            outcome.context_updates.insert(
                "writes_warning".into(),
                format!("no JSON object in the output; stored the raw text as {only:?}"),
            );
            return;
        }
        fail(
            outcome,
            format!(
                "no JSON object with the declared keys ({}) in the output",
                keys.join(", ")
            ),
        );
        return;
    };
    let mut missing: Vec<&str> = keys
        .iter()
        .filter(|k| !object.contains_key(k.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        fail(
            outcome,
            format!(
                "declared keys missing from the output: {}",
                missing.join(", ")
            ),
        );
        return;
    }
    for key in keys {
        let value = match &object[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        outcome.context_updates.insert(key.clone(), value);
    }
    let mut extras: Vec<&String> = object.keys().filter(|k| !keys.contains(k)).collect();
    if !extras.is_empty() {
        extras.sort();
        outcome.context_updates.insert(
            "writes_warning".into(),
            format!(
                "undeclared keys ignored: {}",
                extras
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

/// The first JSON object in `text`, by the cascade above.
fn extract_object(text: &str) -> Option<BTreeMap<String, Value>> {
    let parse = |s: &str| serde_json::from_str::<BTreeMap<String, Value>>(s.trim()).ok();
    if let Some(object) = parse(text) {
        return Some(object);
    }
    let mut in_fence = false;
    let mut body = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            if in_fence {
                if let Some(object) = parse(&body) {
                    return Some(object);
                }
                body.clear();
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            body.push_str(line);
            body.push('\n');
        }
    }
    first_top_level_object(text).and_then(parse)
}

/// The first balanced `{…}` in `text` that is not inside an array, skipping
/// brackets inside strings.
fn first_top_level_object(text: &str) -> Option<&str> {
    let mut arrays = 0usize;
    let mut depth = 0usize;
    let mut start = None;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if depth > 0 || arrays > 0 => in_string = true,
            '[' if depth == 0 => arrays += 1,
            ']' if depth == 0 => arrays = arrays.saturating_sub(1),
            '{' if arrays == 0 => {
                if depth == 0 {
                    start = Some(i);
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return start.map(|s| &text[s..=i]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(keys: &str, text: &str) -> Outcome {
        let mut outcome = Outcome::success();
        apply(&declared(keys), text, &mut outcome);
        outcome
    }

    #[test]
    fn objects_are_found_by_the_cascade() {
        let o = run("plan, risk", r#"{"plan": "three steps", "risk": 2}"#);
        assert_eq!(o.status, "success");
        assert_eq!(o.context_updates["plan"], "three steps");
        assert_eq!(o.context_updates["risk"], "2");
        let o = run(
            "plan",
            "Here it is:\n```json\n{\"plan\": \"x\", \"extra\": true}\n```\n",
        );
        assert_eq!(o.context_updates["plan"], "x");
        assert!(o.context_updates["writes_warning"].contains("extra"));
        let o = run("plan", "prefix {\"plan\": {\"a\": [1, \"}\"]}} suffix");
        assert_eq!(o.context_updates["plan"], r#"{"a":[1,"}"]}"#);
        // Objects inside a leading array are not the answer.
        let o = run("plan", "[{\"other\": 1}] and then {\"plan\": \"p\"}");
        assert_eq!(o.status, "success");
        assert_eq!(o.context_updates["plan"], "p");
    }

    #[test]
    fn a_single_key_takes_raw_text_and_missing_keys_fail() {
        let o = run("plan", "just prose");
        assert_eq!(o.status, "success");
        assert_eq!(o.context_updates["plan"], "just prose");
        assert!(o.context_updates.contains_key("writes_warning"));
        let o = run("a, b", "prose only");
        assert_eq!(o.status, "fail");
        let o = run("b, a, c", r#"{"a": 1}"#);
        assert_eq!(o.status, "fail");
        assert_eq!(
            o.context_updates["writes_error"],
            "declared keys missing from the output: b, c"
        );
        let o = run("outcome", r#"{"outcome": "x"}"#);
        assert_eq!(o.status, "fail");
        assert!(o.context_updates["writes_error"].contains("reserved"));
    }
}
