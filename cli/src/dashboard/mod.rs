//! The terminal dashboard (ratatui): what a run looks like while it goes.
//!
//! [`model`] folds a run's events into a [`model::RunView`] — the node list
//! with its lamps, the activity log, tokens, cost and the outcome — and
//! [`render`] draws one frame of it. Both are pure: the view is tested by
//! feeding events and drawing into ratatui's test backend, at any size.
//! [`app`] puts it on the terminal beside a running run, with [`gate`] for
//! the gates it asks.
//! Everything shown that a model or a command wrote passes through
//! [`dippin::diagnostic::printable_line`] first, so no escape sequence in it
//! reaches the terminal.

pub mod app;
pub mod board;
pub mod gate;
pub mod interview;
pub mod many;
pub mod markdown;
pub mod model;
pub mod render;
pub mod ui;

#[cfg(test)]
mod tests;
