//! The embedded model catalog: known models, their providers, prices and status.
