//! Test support for the end-to-end suite: paths to the built binary and the shared corpus.
