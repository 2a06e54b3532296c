//! The native coding agent: the turn loop ([`session`]) and its built-in
//! tools ([`tools`]), with loop detection ([`loops`]), context compaction
//! ([`compaction`]) and steering ([`steering`]).
//!
//! The `codergen` handler runs one session per agent node attempt.

pub mod compaction;
pub mod loops;
pub mod session;
pub mod steering;
pub mod tools;
