//! Context compaction (`context_compaction: auto`): when a session's prompt
//! grows past a share of the model's context window, older successful tool
//! results shrink to one-line summaries. The last [`KEEP_TURNS`] assistant
//! turns and everything after them stay as they are, and failed results are
//! kept whole, since the model is most likely to need those.

use tracker_llm::{Message, Part, Role};

/// Assistant turns at the end of the conversation that are never compacted.
pub const KEEP_TURNS: usize = 5;
/// The share of the context window that triggers compaction by default.
pub const DEFAULT_THRESHOLD: f64 = 0.6;
/// The context window assumed for models the catalog does not know.
pub const FALLBACK_WINDOW: u64 = 200_000;
/// Results shorter than this are left alone: summarising saves nothing.
const MIN_COMPACTED: usize = 200;
/// How a compacted result begins.
const COMPACTED: &str = "[compacted:";

/// Whether a prompt of `prompt_tokens` should be compacted.
pub fn needed(prompt_tokens: u64, window: u64, threshold: f64) -> bool {
    window > 0 && prompt_tokens as f64 > window as f64 * threshold
}

/// Shrinks older tool results in `messages`; returns how many were shrunk.
pub fn compact(messages: &mut [Message]) -> usize {
    let assistant_turns: Vec<usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.role == Role::Assistant)
        .map(|(i, _)| i)
        .collect();
    if assistant_turns.len() <= KEEP_TURNS {
        return 0;
    }
    let keep_from = assistant_turns[assistant_turns.len() - KEEP_TURNS];
    let mut shrunk = 0;
    for message in &mut messages[..keep_from] {
        for part in &mut message.parts {
            if let Part::ToolResult(result) = part {
                let chars = result.content.chars().count();
                if !result.is_error
                    && chars >= MIN_COMPACTED
                    && !result.content.starts_with(COMPACTED)
                {
                    result.content = format!(
                        "{COMPACTED} an earlier {} result of {chars} characters was removed to save context; run the tool again if you need it]",
                        result.name
                    );
                    shrunk += 1;
                }
            }
        }
    }
    shrunk
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracker_llm::ToolResult;

    fn result(content: &str, is_error: bool) -> Message {
        Message {
            role: Role::Tool,
            parts: vec![Part::ToolResult(ToolResult {
                call_id: "c".into(),
                name: "read".into(),
                content: content.into(),
                is_error,
            })],
        }
    }

    #[test]
    fn old_successful_results_shrink_and_recent_turns_stay() {
        let big = "x".repeat(1000);
        let mut messages = vec![Message::user("task")];
        for _ in 0..7 {
            messages.push(Message::assistant("calling"));
            messages.push(result(&big, false));
        }
        messages.insert(2, result(&big, true));
        let shrunk = compact(&mut messages);
        assert_eq!(shrunk, 2, "turns 1 and 2 of 7 are older than the last 5");
        let contents: Vec<String> = messages
            .iter()
            .filter(|m| m.role == Role::Tool)
            .map(|m| match &m.parts[0] {
                Part::ToolResult(r) => r.content.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(contents[0], big, "errors are kept");
        assert!(contents[1].starts_with("[compacted"));
        assert!(contents[2].starts_with("[compacted"));
        assert!(contents[3..].iter().all(|c| *c == big));
        assert!(needed(130_000, 200_000, 0.6));
        assert!(!needed(100_000, 200_000, 0.6));
    }
}
