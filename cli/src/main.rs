//! The `tracker` binary.
fn main() {}
