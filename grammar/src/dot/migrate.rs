//! Condition migration: DOT edge conditions rewritten as Dippin condition text.

/// Rewrites a DOT condition into Dippin condition text.
///
/// Bare variables get the `ctx.` prefix (`context.` becomes `ctx.`; `ctx.`, `graph.`,
/// `params.`, `inputs.` and `stack.` are kept), `&&`/`||` become `and`/`or`, `!x`
/// becomes `not x`, and tokens are re-joined with single spaces, so
/// `outcome!=fail && context.tool_stdout contains done` becomes
/// `ctx.outcome != fail and ctx.tool_stdout contains done`. Quoted values are kept as
/// written.
pub fn migrate_condition(text: &str) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Var,
        Op,
        Value,
        After,
    }
    let mut out: Vec<String> = Vec::new();
    let mut state = State::Var;
    for tok in condition_tokens(text) {
        match tok {
            CondTok::And => {
                out.push("and".into());
                state = State::Var;
            }
            CondTok::Or => {
                out.push("or".into());
                state = State::Var;
            }
            CondTok::Bang => out.push("not".into()),
            CondTok::LParen => {
                out.push("(".into());
                state = State::Var;
            }
            CondTok::RParen => {
                out.push(")".into());
                state = State::After;
            }
            CondTok::Op(op) => {
                out.push(op.into());
                state = State::Value;
            }
            CondTok::Quoted(q) => {
                out.push(q.into());
                state = match state {
                    State::Var => State::Op,
                    State::Value => State::After,
                    other => other,
                };
            }
            CondTok::Word(word) => {
                let lower = word.to_ascii_lowercase();
                if state == State::Value {
                    out.push(word.into());
                    state = State::After;
                    continue;
                }
                match lower.as_str() {
                    "and" | "or" => {
                        out.push(lower);
                        state = State::Var;
                    }
                    "not" if matches!(state, State::Var | State::Op) => out.push(lower),
                    "contains" | "startswith" | "endswith" | "in" | "matches"
                        if state == State::Op =>
                    {
                        out.push(lower);
                        state = State::Value;
                    }
                    _ if state == State::Var => {
                        out.push(qualify(word));
                        state = State::Op;
                    }
                    _ => out.push(word.into()),
                }
            }
        }
    }
    out.join(" ")
}

/// Adds the `ctx.` namespace to a bare condition variable.
fn qualify(var: &str) -> String {
    if let Some(rest) = var.strip_prefix("context.") {
        return format!("ctx.{rest}");
    }
    let namespaced = ["ctx.", "graph.", "params.", "inputs.", "stack."]
        .iter()
        .any(|p| var.starts_with(p));
    if namespaced {
        var.to_string()
    } else {
        format!("ctx.{var}")
    }
}

/// A token of a DOT condition.
enum CondTok<'a> {
    And,
    Or,
    Bang,
    LParen,
    RParen,
    Op(&'a str),
    Quoted(&'a str),
    Word(&'a str),
}

/// Splits a DOT condition into operators, parentheses, quoted values and words.
fn condition_tokens(text: &str) -> Vec<CondTok<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let start = i;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'&' if next == Some(b'&') => {
                out.push(CondTok::And);
                i += 2;
            }
            b'|' if next == Some(b'|') => {
                out.push(CondTok::Or);
                i += 2;
            }
            b'(' => {
                out.push(CondTok::LParen);
                i += 1;
            }
            b')' => {
                out.push(CondTok::RParen);
                i += 1;
            }
            b'!' if next != Some(b'=') => {
                out.push(CondTok::Bang);
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' => {
                i += if next == Some(b'=') { 2 } else { 1 };
                out.push(CondTok::Op(&text[start..i]));
            }
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    if b == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                out.push(CondTok::Quoted(&text[start..i]));
            }
            _ => {
                while i < bytes.len() {
                    let c = bytes[i];
                    let pair = bytes.get(i + 1).copied();
                    let stop = matches!(
                        c,
                        b' ' | b'\t'
                            | b'\n'
                            | b'\r'
                            | b'('
                            | b')'
                            | b'='
                            | b'!'
                            | b'<'
                            | b'>'
                            | b'"'
                            | b'\''
                    ) || (c == b'&' && pair == Some(b'&'))
                        || (c == b'|' && pair == Some(b'|'));
                    if stop {
                        break;
                    }
                    i += 1;
                }
                out.push(CondTok::Word(&text[start..i]));
            }
        }
    }
    out
}
