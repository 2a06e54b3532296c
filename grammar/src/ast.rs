//! The syntax tree the statement grammar produces: a tree of lines.
//!
//! The grammar only knows the *shapes* of Dippin lines (a field, a raw block, a
//! declaration, a fork, a join, an edge) and how indentation nests them. What a
//! line means in its section (is `timeout` a valid agent field? is `agnet` a node
//! kind?) is decided by [`crate::lower`], which can then say precisely what is wrong.

use crate::lexer::{AttrKey, Field, RawBlock};
use crate::source::Span;

/// One logical line and the lines indented beneath it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// The line itself.
    pub head: Head,
    /// Where the line is.
    pub span: Span,
    /// The indented lines under it (empty when none).
    pub body: Vec<Stmt>,
}

/// The shape of one line.
#[derive(Clone, Debug, PartialEq)]
pub enum Head {
    /// `key: value`
    Field(Field),
    /// `key:` plus a raw block.
    Block(RawBlock),
    /// Bare words: `workflow Name`, `agent Review`, `defaults`, `dip 2`.
    Words(Vec<Name>),
    /// `parallel Fan -> A, B`
    Fork {
        /// The keyword (`parallel` when well formed).
        keyword: Name,
        /// The node's id.
        id: Name,
        /// The branch targets.
        targets: Vec<Name>,
    },
    /// `fan_in Join <- A, B`
    Join {
        /// The keyword (`fan_in` when well formed).
        keyword: Name,
        /// The node's id.
        id: Name,
        /// The joined sources.
        sources: Vec<Name>,
    },
    /// `From -> To attrs…`
    Edge {
        /// The source node (or `else`).
        from: Name,
        /// The target node.
        to: Name,
        /// The attributes after the target, in source order.
        attrs: Vec<EdgeAttr>,
    },
    /// A line the grammar could not read; its error is already recorded.
    Error,
}

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The identifier.
    pub text: String,
    /// Where it is.
    pub span: Span,
}

/// A single-token attribute value: an identifier or a quoted literal.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// The value (unquoted).
    pub text: String,
    /// Whether it was quoted.
    pub quoted: bool,
    /// Where it is.
    pub span: Span,
}

/// One token of a `when` condition, as it will be re-joined into the raw text.
#[derive(Clone, Debug, PartialEq)]
pub struct CondPiece {
    /// The token's text (quoted literals re-emitted in double quotes).
    pub text: String,
    /// Where it is.
    pub span: Span,
}

/// An attribute after an edge's target.
#[derive(Clone, Debug, PartialEq)]
pub enum EdgeAttr {
    /// `when <tokens…>`
    When {
        /// The `when` keyword.
        span: Span,
        /// The condition's tokens.
        pieces: Vec<CondPiece>,
    },
    /// `on TOKEN`
    On {
        /// The `on` keyword.
        span: Span,
        /// The outcome token, if one followed.
        value: Option<Value>,
    },
    /// `label:`, `choice:`, `weight:`, `restart:` or `override:` and its value.
    Keyed {
        /// Which attribute.
        key: AttrKey,
        /// Where the key is.
        span: Span,
        /// The value, if one followed.
        value: Option<Value>,
    },
    /// `loop`, or the mistaken `loop: x`.
    Loop {
        /// Where it is.
        span: Span,
        /// A value that should not be there.
        value: Option<Value>,
    },
    /// A word that is not an edge attribute, with the value after its `:` if any.
    Unknown {
        /// The word.
        name: Name,
        /// Its value, if written `word: value`.
        value: Option<Value>,
    },
    /// `[` — Graphviz-style bracket attributes, which Dippin does not have.
    Bracket {
        /// Where the bracket is.
        span: Span,
    },
}
