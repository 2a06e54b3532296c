//! `tracker-agent`: the native coding agent. The turn loop ([`session`]) and
//! its built-in tools ([`tools`]), with loop detection ([`loops`]), context
//! compaction ([`compaction`]), steering ([`steering`]), the events it reports
//! ([`events`]) — its answers' text as it streams among them ([`streaming`]), what a session adds up to ([`stats`]), and the command
//! allowlist its `bash` tool and tool nodes share ([`tool_safety`]).
//!
//! **Owns:** everything a session does between receiving a prompt and
//! returning an answer. **Must not depend on** the engine, the handlers or the
//! actors: the runtime's `codergen` handler runs one session per agent node
//! attempt and maps how it ended to an outcome. It talks to models only
//! through `tracker-llm`'s `Completer`, never a socket.

pub mod compaction;
pub mod events;
pub mod loops;
pub mod session;
pub mod stats;
pub mod steering;
pub mod streaming;
pub mod tool_safety;
pub mod tools;
