//! `tracker-runtime`: the pure core of tracker.
