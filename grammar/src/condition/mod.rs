//! Edge conditions: tokenizer, lalrpop grammar, syntax tree and canonical printing.
//!
//! The tokenizer follows the reference: words split on spaces and tabs; a quoted
//! `"…"` or `'…'` run is one token (double quotes decode `\x` to `x`); `=`, `!`,
//! `<` and `>` break words and form operators. We also split on `(` and `)` so
//! parenthesised groups work. `<`, `>`, `<=` and `>=` lex but are not Dippin
//! operators, so using one is an "unknown operator" error.

use std::fmt;

use lalrpop_util::{lalrpop_mod, ParseError};

lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        missing_docs,
        unused_parens
    )]
    grammar,
    "/condition/grammar.rs"
);

/// A parsed condition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// `variable op value`
    Compare(Compare),
    /// `left and right`
    And(Box<Expr>, Box<Expr>),
    /// `left or right`
    Or(Box<Expr>, Box<Expr>),
    /// `not inner` (also the infix form `variable not op value`)
    Not(Box<Expr>),
}

/// One comparison.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Compare {
    /// The variable, e.g. `ctx.outcome`.
    pub variable: String,
    /// The operator.
    pub op: CmpOp,
    /// The literal compared against (always one token, unquoted).
    pub value: String,
}

/// Comparison operators. `==` parses as [`CmpOp::Eq`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=` or `==`: string equality.
    Eq,
    /// `!=`
    Ne,
    /// Substring test.
    Contains,
    /// Prefix test.
    StartsWith,
    /// Suffix test.
    EndsWith,
    /// Membership in a comma-separated list.
    In,
}

impl CmpOp {
    /// The operator as printed canonically.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Contains => "contains",
            CmpOp::StartsWith => "startswith",
            CmpOp::EndsWith => "endswith",
            CmpOp::In => "in",
        }
    }
}

/// Why a condition did not parse, in the reference's wording.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    /// The message, e.g. `expected value after "ctx.x" =, got end of input`.
    pub message: String,
}

/// Tokens of the condition language.
#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// A bare word: variable or value.
    Word(String),
    /// A quoted literal (decoded).
    Str(String),
    /// `=`
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    /// `<`, `>`, `<=`, `>=` or a lone `!`: lexed, never valid.
    BadOp(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `and`
    And,
    /// `or`
    Or,
    /// `not`
    Not,
    /// `contains`
    Contains,
    /// `startswith`
    StartsWith,
    /// `endswith`
    EndsWith,
    /// `in`
    In,
    /// A `,` standing alone (between the items of an `in` list).
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(s) | Token::BadOp(s) => s.clone(),
            Token::Str(s) => format!("{s:?}"),
            Token::Eq => "=".into(),
            Token::EqEq => "==".into(),
            Token::Ne => "!=".into(),
            Token::LParen => "(".into(),
            Token::RParen => ")".into(),
            Token::And => "and".into(),
            Token::Or => "or".into(),
            Token::Not => "not".into(),
            Token::Contains => "contains".into(),
            Token::StartsWith => "startswith".into(),
            Token::EndsWith => "endswith".into(),
            Token::In => "in".into(),
            Token::Comma => ",".into(),
        }
    }

    fn is_operator(&self) -> bool {
        matches!(
            self,
            Token::Eq
                | Token::EqEq
                | Token::Ne
                | Token::Contains
                | Token::StartsWith
                | Token::EndsWith
                | Token::In
                | Token::BadOp(_)
        )
    }
}

/// Splits condition text into spanned tokens (character offsets).
pub fn tokenize(text: &str) -> Vec<(usize, Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let next = chars.get(i + 1).copied();
        let tok = match c {
            ' ' | '\t' => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Token::LParen
            }
            ')' => {
                i += 1;
                Token::RParen
            }
            '=' | '!' | '<' | '>' => {
                let op = if next == Some('=') {
                    i += 2;
                    format!("{c}=")
                } else {
                    i += 1;
                    c.to_string()
                };
                match op.as_str() {
                    "=" => Token::Eq,
                    "==" => Token::EqEq,
                    "!=" => Token::Ne,
                    _ => Token::BadOp(op),
                }
            }
            '"' | '\'' => {
                let mut value = String::new();
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if c == '"' && chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    value.push(chars[i]);
                    i += 1;
                }
                i += 1;
                Token::Str(value)
            }
            _ => {
                while i < chars.len()
                    && !matches!(
                        chars[i],
                        ' ' | '\t' | '(' | ')' | '=' | '!' | '<' | '>' | '"' | '\''
                    )
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "contains" => Token::Contains,
                    "startswith" => Token::StartsWith,
                    "endswith" => Token::EndsWith,
                    "in" => Token::In,
                    "," => Token::Comma,
                    _ => Token::Word(word),
                }
            }
        };
        out.push((start, tok, i));
    }
    out
}

/// The most `and`, `or` and `not` one condition may use. Every node of the tree
/// above a comparison comes from one of them, so this also bounds how deeply the
/// tree nests, and with it the recursion of everything that walks, prints,
/// evaluates or drops it: 200,000 chained `or`s would otherwise overflow the stack.
pub const MAX_CONDITION_OPERATORS: usize = 256;

/// Parses condition text.
pub fn parse(text: &str) -> Result<Expr, ConditionError> {
    let tokens = tokenize(text);
    // Checked before parsing, so an over-long condition never becomes a deep tree.
    let operators = tokens
        .iter()
        .filter(|(_, tok, _)| matches!(tok, Token::And | Token::Or | Token::Not))
        .count();
    if operators > MAX_CONDITION_OPERATORS {
        return Err(ConditionError {
            message: format!(
                "condition is too long: it uses {operators} and/or/not operators, at most {MAX_CONDITION_OPERATORS} are allowed"
            ),
        });
    }
    let parser = grammar::ExprParser::new();
    parser
        .parse(tokens.iter().cloned().map(Ok::<_, ()>))
        .map_err(|err| describe(err, &tokens))
}

/// Turns a lalrpop error into the reference's wording.
fn describe(err: ParseError<usize, Token, ()>, tokens: &[(usize, Token, usize)]) -> ConditionError {
    let message = match err {
        ParseError::UnrecognizedEof { .. } => {
            let last = tokens.last().map(|t| &t.1);
            let before = tokens.len().checked_sub(2).map(|i| &tokens[i].1);
            match (last, before) {
                (None, _) | (Some(Token::And | Token::Or | Token::Not | Token::LParen), _) => {
                    "expected variable, got end of input".to_string()
                }
                (Some(op), Some(var)) if op.is_operator() => format!(
                    "expected value after \"{}\" {}, got end of input",
                    var.text(),
                    op.text()
                ),
                (Some(var), _) => format!(
                    "expected operator after \"{}\", got end of input",
                    var.text()
                ),
            }
        }
        ParseError::UnrecognizedToken {
            token: (start, Token::BadOp(op), _),
            ..
        } => format!("unknown operator \"{op}\" at position {start}"),
        ParseError::UnrecognizedToken {
            token: (start, tok, _),
            expected,
        } => {
            if expected.iter().any(|e| e == "\"=\"") {
                format!("unknown operator \"{}\" at position {start}", tok.text())
            } else {
                format!("unexpected token \"{}\" at position {start}", tok.text())
            }
        }
        ParseError::ExtraToken {
            token: (start, tok, _),
        } => format!("unexpected token \"{}\" at position {start}", tok.text()),
        ParseError::InvalidToken { location } => format!("invalid token at position {location}"),
        ParseError::User { .. } => "invalid condition".to_string(),
    };
    ConditionError { message }
}

impl Expr {
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) | Expr::Compare(_) => 3,
        }
    }

    /// Every comparison in the expression, left to right, with whether it sits under an odd
    /// number of `not`s.
    pub fn leaves(&self) -> Vec<(&Compare, bool)> {
        fn walk<'a>(e: &'a Expr, negated: bool, out: &mut Vec<(&'a Compare, bool)>) {
            match e {
                Expr::Compare(c) => out.push((c, negated)),
                Expr::And(l, r) | Expr::Or(l, r) => {
                    walk(l, negated, out);
                    walk(r, negated, out);
                }
                Expr::Not(inner) => walk(inner, !negated, out),
            }
        }
        let mut out = Vec::new();
        walk(self, false, &mut out);
        out
    }
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = !self.value.is_empty()
            && self.value.chars().all(|c| {
                !matches!(
                    c,
                    ' ' | '\t' | '(' | ')' | '=' | '!' | '<' | '>' | '"' | '\''
                )
            });
        if plain {
            write!(f, "{} {} {}", self.variable, self.op.as_str(), self.value)
        } else {
            write!(f, "{} {} {:?}", self.variable, self.op.as_str(), self.value)
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let child = |f: &mut fmt::Formatter<'_>, e: &Expr, parent: u8| {
            if e.precedence() < parent {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        };
        match self {
            Expr::Compare(c) => write!(f, "{c}"),
            Expr::And(l, r) => {
                child(f, l, 2)?;
                f.write_str(" and ")?;
                child(f, r, 3)
            }
            Expr::Or(l, r) => {
                child(f, l, 1)?;
                f.write_str(" or ")?;
                child(f, r, 2)
            }
            Expr::Not(inner) => {
                f.write_str("not ")?;
                child(f, inner, 3)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let e = parse("ctx.a = 1 or ctx.b = 2 and not ctx.c = 3").expect("parses");
        assert_eq!(e.to_string(), "ctx.a = 1 or ctx.b = 2 and not ctx.c = 3");
        match e {
            Expr::Or(_, right) => assert!(matches!(*right, Expr::And(..))),
            other => panic!("expected or at the top, got {other:?}"),
        }
    }

    #[test]
    fn infix_not_negates_the_comparison() {
        let e = parse("ctx.x not contains foo").expect("parses");
        assert_eq!(e.to_string(), "not ctx.x contains foo");
    }

    #[test]
    fn parentheses_group_and_print_only_when_needed() {
        let e = parse("(ctx.a = 1 or ctx.b = 2) and ctx.c = 3").expect("parses");
        assert_eq!(e.to_string(), "(ctx.a = 1 or ctx.b = 2) and ctx.c = 3");
    }

    #[test]
    fn operators_need_no_spaces_and_quotes_make_one_token() {
        let e = parse("ctx.x!=\"hello world\"").expect("parses");
        assert_eq!(
            e,
            Expr::Compare(Compare {
                variable: "ctx.x".into(),
                op: CmpOp::Ne,
                value: "hello world".into()
            })
        );
    }

    #[test]
    fn in_lists_may_be_split_at_commas() {
        let e = parse("ctx.tier in gold , silver").expect("parses");
        assert_eq!(e.to_string(), "ctx.tier in gold,silver");
        assert!(parse("ctx.tier = gold , silver").is_err());
    }

    #[test]
    fn errors_use_the_reference_wording() {
        let msg = |s: &str| parse(s).expect_err("should fail").message;
        assert_eq!(msg(""), "expected variable, got end of input");
        assert_eq!(
            msg("ctx.x"),
            "expected operator after \"ctx.x\", got end of input"
        );
        assert_eq!(
            msg("ctx.x ="),
            "expected value after \"ctx.x\" =, got end of input"
        );
        assert!(msg("ctx.x < 5").starts_with("unknown operator \"<\""));
        assert!(msg("ctx.x = hello world").starts_with("unexpected token \"world\""));
    }

    /// 200,000 chained `or`s or 1,000,000 `not`s used to build a tree so deep that
    /// dropping or walking it overflowed the stack; they are refused before parsing.
    #[test]
    fn huge_conditions_are_refused_without_recursing() {
        let ors = vec!["ctx.outcome = a"; 200_001].join(" or ");
        let nots = format!("{}ctx.outcome = a", "not ".repeat(1_000_000));
        let ands = vec!["ctx.outcome = a"; 200_001].join(" and ");
        // A thread with a small stack: a deep tree would overflow it at once.
        let messages = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                [ors, nots, ands]
                    .iter()
                    .map(|text| parse(text).expect_err("too long").message)
                    .collect::<Vec<_>>()
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert_eq!(
            messages[0],
            "condition is too long: it uses 200000 and/or/not operators, at most 256 are allowed"
        );
        assert!(
            messages[1].contains("uses 1000000 and/or/not operators"),
            "{}",
            messages[1]
        );
        assert!(
            messages[2].contains("uses 200000 and/or/not operators"),
            "{}",
            messages[2]
        );
    }

    #[test]
    fn conditions_up_to_the_operator_limit_parse() {
        let at_limit = vec!["ctx.outcome = a"; MAX_CONDITION_OPERATORS + 1].join(" or ");
        let e = parse(&at_limit).expect("256 operators parse");
        assert_eq!(e.to_string(), at_limit);
        let nots = format!("{}ctx.outcome = a", "not ".repeat(MAX_CONDITION_OPERATORS));
        assert!(parse(&nots).is_ok());
        let over = format!("not {at_limit}");
        assert!(parse(&over).is_err());
    }
}
