//! The canonical formatter behind `tracker fmt`.
