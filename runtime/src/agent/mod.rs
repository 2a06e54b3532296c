//! The native coding agent: the turn loop ([`session`]) and its built-in
//! tools ([`tools`]), with loop detection ([`loops`]), context compaction
//! ([`compaction`]), steering ([`steering`]) and the events it reports
//! ([`events`]).
//!
//! The `codergen` handler runs one session per agent node attempt.

pub mod compaction;
pub mod events;
pub mod loops;
pub mod session;
pub mod steering;
pub mod tools;
