//! `tracker-stdx`: the small extensions of the standard library every tracker
//! crate uses (as rust-analyzer's `stdx`): a boxed future, a gauge held while
//! something waits, cutting text on
//! character boundaries, enums declared with their wire names, writing files
//! nobody else can read or redirect, process groups that die with their owner,
//! and which environment variables are secrets.
//!
//! **Owns:** nothing of tracker's domain. **Must not depend on** any other
//! tracker crate; everything else may depend on it.

pub mod future;
pub mod gauge;
pub mod private_files;
pub mod process_groups;
pub mod secrets;
pub mod text;
mod wire_enum;
