//! End-to-end tests of the `tracker` binary.
