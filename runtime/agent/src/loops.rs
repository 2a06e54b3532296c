//! Loop detection: a model that keeps making the same call with the same
//! arguments is stuck. The reference stops a session when one tool-call
//! signature (the tool's name and its canonical JSON arguments) appears four
//! times; here the count is over the last [`WINDOW`] calls, so a long session
//! that legitimately re-reads a file now and then is not cut off.

use std::collections::VecDeque;

/// How many identical calls make a loop.
pub const LOOP_THRESHOLD: usize = 4;
/// How many recent calls are compared.
pub const WINDOW: usize = 10;

/// Recent call signatures.
#[derive(Debug, Default)]
pub struct LoopDetector {
    recent: VecDeque<String>,
}

impl LoopDetector {
    /// Records a call of `tool` with `arguments` (its JSON text; serde_json
    /// keeps object keys sorted, so equal arguments print equally); returns
    /// the call's signature when it completes a loop.
    pub fn record(&mut self, tool: &str, arguments: &str) -> Option<String> {
        let signature = format!("{tool}({arguments})");
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(signature.clone());
        let repeats = self.recent.iter().filter(|s| **s == signature).count();
        (repeats >= LOOP_THRESHOLD).then_some(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A call as the session records it: the tool and its JSON text.
    struct Call(&'static str, serde_json::Value);

    fn call(name: &'static str, args: serde_json::Value) -> Call {
        Call(name, args)
    }

    impl LoopDetector {
        fn call(&mut self, call: &Call) -> Option<String> {
            self.record(call.0, &call.1.to_string())
        }
    }

    #[test]
    fn the_fourth_identical_call_is_a_loop() {
        let mut d = LoopDetector::default();
        let same = || call("read", json!({"path": "a", "limit": 5}));
        assert_eq!(d.call(&same()), None);
        assert_eq!(d.call(&call("read", json!({"path": "b"}))), None);
        assert_eq!(d.call(&same()), None);
        assert_eq!(d.call(&same()), None);
        // Key order does not matter.
        let reordered = call("read", json!({"limit": 5, "path": "a"}));
        assert_eq!(
            d.call(&reordered).as_deref(),
            Some(r#"read({"limit":5,"path":"a"})"#)
        );
    }

    #[test]
    fn calls_spread_beyond_the_window_are_not_a_loop() {
        let mut d = LoopDetector::default();
        for round in 0..5 {
            assert_eq!(
                d.call(&call("read", json!({"path": "a"}))),
                None,
                "round {round}"
            );
            for i in 0..WINDOW {
                d.call(&call(
                    "grep_search",
                    json!({"pattern": format!("p{round}-{i}")}),
                ));
            }
        }
    }
}
