//! Evaluating edge conditions against the pipeline context.
//!
//! We evaluate the **parsed** dippin condition ([`Expr`]: `and`/`or`/`not`, `=`,
//! `!=`, `contains`, `startswith`, `endswith`, `in`) rather than re-reading the raw
//! text the way the reference's string evaluator does: that evaluator splits only on
//! `&&`/`||`, so the `and`/`or` words `.dip` files are written with are not operators
//! to it. Everything else follows the reference (engine-semantics §4):
//!
//! * a variable resolves to the exact context key first; else a `ctx.` or `context.`
//!   prefix is stripped (`ctx.internal.X` then reads the internal value `X`, falling
//!   back to the context key `internal.X`); else a bare `internal.X` reads the
//!   internal value `X`; anything unresolved is `""`, never an error;
//! * every comparison is a string comparison; `in` splits the value at commas and
//!   trims each item;
//! * an empty condition is true.
//!
//! Values come through the [`Lookup`] trait, which the pipeline context implements;
//! [`MapLookup`] (and a bare `BTreeMap<String, String>`) is the simple stand-in the
//! tests use.

use std::borrow::Cow;
use std::collections::BTreeMap;

use dippin::condition::{CmpOp, Compare, Expr};
use dippin::ir::Condition;

/// Where a condition's variables come from.
///
/// The pipeline context implements this (user values, internal values such as
/// `_run_id`, and the lenient `${ns.key}` expansion the engine applies to condition
/// text); [`MapLookup`] is a map-backed double for tests and tools.
pub trait Lookup {
    /// The user value stored under exactly `name` (e.g. `outcome`,
    /// `node.Build.outcome`), if present.
    fn lookup(&self, name: &str) -> Option<&str>;

    /// The internal value stored under `name` (`_run_id`, `_artifact_dir`), if present.
    fn internal(&self, name: &str) -> Option<&str>;

    /// Expands `${ns.key}` references in a condition's variable or value before it is
    /// used (the engine's lenient expansion, engine-semantics §2.4 step 1). The
    /// default leaves text unchanged.
    fn expand<'a>(&self, text: &'a str) -> Cow<'a, str> {
        Cow::Borrowed(text)
    }
}

impl Lookup for BTreeMap<String, String> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }

    fn internal(&self, _name: &str) -> Option<&str> {
        None
    }
}

/// A map-backed [`Lookup`]: user values plus internal values, no `${}` expansion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapLookup {
    /// User values by key.
    pub values: BTreeMap<String, String>,
    /// Internal values by key (`_run_id`, …).
    pub internal: BTreeMap<String, String>,
}

impl MapLookup {
    /// An empty lookup.
    pub fn new() -> MapLookup {
        MapLookup::default()
    }

    /// Adds (or replaces) a user value.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> MapLookup {
        self.values.insert(key.into(), value.into());
        self
    }

    /// Adds (or replaces) an internal value.
    pub fn with_internal(mut self, key: impl Into<String>, value: impl Into<String>) -> MapLookup {
        self.internal.insert(key.into(), value.into());
        self
    }
}

impl Lookup for MapLookup {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn internal(&self, name: &str) -> Option<&str> {
        self.internal.get(name).map(String::as_str)
    }
}

/// Why a condition could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConditionEvalError {
    /// The condition text did not parse. Validation rejects such workflows, so this
    /// only happens for plans built from unvalidated input.
    #[error("cannot evaluate condition {raw:?}: {message}")]
    Unparsed {
        /// The condition text.
        raw: String,
        /// The parser's message.
        message: String,
    },
}

/// Resolves a condition variable the reference's way: the exact key, then the name
/// with `ctx.`/`context.` stripped (`internal.X` inside reads the internal value),
/// then a bare `internal.X`. `None` means unresolved (it compares as `""`; the
/// engine may warn about it).
pub fn resolve<'v, L: Lookup + ?Sized>(name: &str, vars: &'v L) -> Option<&'v str> {
    if let Some(value) = vars.lookup(name) {
        return Some(value);
    }
    for prefix in ["ctx.", "context."] {
        if let Some(bare) = name.strip_prefix(prefix) {
            if let Some(value) = bare
                .strip_prefix("internal.")
                .and_then(|key| vars.internal(key))
            {
                return Some(value);
            }
            if let Some(value) = vars.lookup(bare) {
                return Some(value);
            }
        }
    }
    name.strip_prefix("internal.")
        .and_then(|key| vars.internal(key))
}

/// Evaluates a parsed condition. `and`/`or` short-circuit; unresolved variables
/// read as `""`.
pub fn evaluate<L: Lookup + ?Sized>(expr: &Expr, vars: &L) -> bool {
    match expr {
        Expr::Compare(cmp) => compare(cmp, vars),
        Expr::And(left, right) => evaluate(left, vars) && evaluate(right, vars),
        Expr::Or(left, right) => evaluate(left, vars) || evaluate(right, vars),
        Expr::Not(inner) => !evaluate(inner, vars),
    }
}

/// Evaluates an edge's condition: empty text is true, unparsed text is an error.
pub fn evaluate_condition<L: Lookup + ?Sized>(
    condition: &Condition,
    vars: &L,
) -> Result<bool, ConditionEvalError> {
    if condition.raw.trim().is_empty() {
        return Ok(true);
    }
    match &condition.parsed {
        Ok(expr) => Ok(evaluate(expr, vars)),
        Err(err) => Err(ConditionEvalError::Unparsed {
            raw: condition.raw.clone(),
            message: err.message.clone(),
        }),
    }
}

/// One comparison: resolve the (expanded) variable, compare with the (expanded) value.
fn compare<L: Lookup + ?Sized>(cmp: &Compare, vars: &L) -> bool {
    let name = vars.expand(&cmp.variable);
    let actual = resolve(&name, vars).unwrap_or("");
    let expected = vars.expand(&cmp.value);
    let expected = expected.as_ref();
    match cmp.op {
        CmpOp::Eq => actual == expected,
        CmpOp::Ne => actual != expected,
        CmpOp::Contains => actual.contains(expected),
        CmpOp::StartsWith => actual.starts_with(expected),
        CmpOp::EndsWith => actual.ends_with(expected),
        CmpOp::In => expected.split(',').any(|item| item.trim() == actual),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> MapLookup {
        MapLookup::new()
            .with("outcome", "success")
            .with("tool_stdout", "build ok: 3 warnings")
            .with("node.Build.outcome", "fail")
            .with("ctx.literal", "exact-wins")
            .with("literal", "stripped")
            .with("internal.shadow", "user")
            .with("empty", "")
            .with_internal("_run_id", "abc123")
    }

    fn eval<L: Lookup + ?Sized>(text: &str, vars: &L) -> bool {
        let expr = dippin::condition::parse(text)
            .unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"));
        evaluate(&expr, vars)
    }

    #[test]
    fn condition_table() {
        let v = vars();
        let cases: &[(&str, bool)] = &[
            ("ctx.outcome = success", true),
            ("ctx.outcome = fail", false),
            ("ctx.outcome == success", true),
            ("outcome = success", true),
            ("context.outcome = success", true),
            ("ctx.outcome != fail", true),
            ("ctx.outcome != success", false),
            ("ctx.tool_stdout contains warnings", true),
            ("ctx.tool_stdout contains errors", false),
            ("ctx.tool_stdout not contains errors", true),
            ("ctx.tool_stdout startswith build", true),
            ("ctx.tool_stdout startswith ok", false),
            ("ctx.tool_stdout endswith warnings", true),
            ("ctx.tool_stdout not endswith warnings", false),
            ("ctx.outcome in fail , success", true),
            ("ctx.outcome in fail,success", true),
            ("ctx.outcome in \"fail , success \"", true),
            ("ctx.outcome in fail,retry", false),
            ("ctx.outcome not in fail,retry", true),
            ("ctx.node.Build.outcome = fail", true),
            ("ctx.tool_stdout = \"build ok: 3 warnings\"", true),
            ("ctx.outcome = \"Success\"", false),
        ];
        for (text, want) in cases {
            assert_eq!(eval(text, &v), *want, "{text}");
        }
    }

    #[test]
    fn condition_boolean_words_are_operators() {
        let v = vars();
        let cases: &[(&str, bool)] = &[
            (
                "ctx.outcome = success and ctx.node.Build.outcome = fail",
                true,
            ),
            (
                "ctx.outcome = success and ctx.node.Build.outcome = success",
                false,
            ),
            ("ctx.outcome = fail or ctx.node.Build.outcome = fail", true),
            ("ctx.outcome = fail or ctx.outcome = retry", false),
            ("not ctx.outcome = fail", true),
            ("not ctx.outcome = success", false),
            (
                "ctx.outcome = fail or ctx.outcome = success and not ctx.empty = x",
                true,
            ),
            (
                "(ctx.outcome = fail or ctx.outcome = success) and ctx.empty = x",
                false,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(eval(text, &v), *want, "{text}");
        }
    }

    #[test]
    fn condition_variable_resolution_order() {
        let v = vars();
        // The exact key wins over the stripped one.
        assert_eq!(resolve("ctx.literal", &v), Some("exact-wins"));
        assert_eq!(resolve("context.literal", &v), Some("stripped"));
        // Internal values: through ctx./context. and bare.
        assert_eq!(resolve("ctx.internal._run_id", &v), Some("abc123"));
        assert_eq!(resolve("context.internal._run_id", &v), Some("abc123"));
        assert_eq!(resolve("internal._run_id", &v), Some("abc123"));
        // ctx.internal.X falls back to the user key internal.X; a bare internal.X
        // finds the user key by the exact-key rule first.
        assert_eq!(resolve("ctx.internal.shadow", &v), Some("user"));
        assert_eq!(resolve("internal.shadow", &v), Some("user"));
        // Unresolved: None, compared as "".
        assert_eq!(resolve("ctx.missing", &v), None);
        assert_eq!(resolve("internal.missing", &v), None);
        assert!(eval("ctx.missing = \"\"", &v));
        assert!(eval("ctx.missing != x", &v));
        assert!(!eval("ctx.missing = x", &v));
        assert!(eval("ctx.internal._run_id startswith abc", &v));
    }

    #[test]
    fn condition_plain_map_has_no_internal_values() {
        let mut map = BTreeMap::new();
        map.insert("outcome".to_string(), "fail".to_string());
        assert!(eval("ctx.outcome = fail", &map));
        assert!(eval("internal._run_id = \"\"", &map));
    }

    #[test]
    fn condition_expand_hook_applies_to_variable_and_value() {
        struct Expanding(MapLookup);
        impl Lookup for Expanding {
            fn lookup(&self, name: &str) -> Option<&str> {
                self.0.lookup(name)
            }
            fn internal(&self, name: &str) -> Option<&str> {
                self.0.internal(name)
            }
            fn expand<'a>(&self, text: &'a str) -> Cow<'a, str> {
                Cow::Owned(text.replace("${graph.want}", "success"))
            }
        }
        let v = Expanding(vars());
        assert!(eval("ctx.outcome = ${graph.want}", &v));
        assert!(!eval("ctx.outcome != ${graph.want}", &v));
    }

    #[test]
    fn condition_empty_is_true_and_unparsed_is_an_error() {
        let v = vars();
        assert_eq!(evaluate_condition(&Condition::new(""), &v), Ok(true));
        assert_eq!(
            evaluate_condition(&Condition::new("ctx.outcome = success"), &v),
            Ok(true)
        );
        let bad = Condition::new("ctx.outcome >= 3");
        let err = evaluate_condition(&bad, &v).expect_err("bad condition");
        assert!(matches!(err, ConditionEvalError::Unparsed { .. }));
        assert!(
            err.to_string()
                .starts_with("cannot evaluate condition \"ctx.outcome >= 3\": "),
            "{err}"
        );
    }

    #[test]
    fn condition_works_through_dyn_lookup() {
        let v = vars();
        let dynamic: &dyn Lookup = &v;
        assert!(eval("ctx.outcome = success", dynamic));
    }

    /// Evaluation recurses over the tree; the parser's operator limit keeps that
    /// shallow. Over the limit the condition is unparsed (an error, not a crash);
    /// at the limit it evaluates on a small stack.
    #[test]
    fn condition_size_is_bounded_before_evaluation() {
        let limit = dippin::condition::MAX_CONDITION_OPERATORS;
        let at_limit = vec!["ctx.outcome = fail"; limit].join(" or ") + " or ctx.outcome = success";
        let over = vec!["ctx.outcome = fail"; 200_001].join(" or ");
        let (at_limit, over) = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let v = vars();
                (
                    evaluate_condition(&Condition::new(at_limit), &v),
                    evaluate_condition(&Condition::new(over), &v),
                )
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert_eq!(at_limit, Ok(true));
        assert!(
            matches!(&over, Err(ConditionEvalError::Unparsed { message, .. }) if message.contains("too long")),
            "{:?}",
            over.as_ref()
                .map_err(|e| e.to_string().chars().take(200).collect::<String>())
        );
    }
}
