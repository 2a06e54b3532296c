//! Run ids: 12 lowercase hex digits (6 random bytes), as the reference makes them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A fresh run id.
pub fn new_run_id() -> String {
    // `RandomState` is seeded from the OS's randomness; hashing the clock with
    // it gives unpredictable bits without another dependency.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// Whether `id` can name a run: a non-empty file name of letters, digits, `-`
/// and `_` (the reference makes 12 hex digits; older or hand-made runs may
/// differ), so it never leaves the directory it is joined to.
pub fn is_valid(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_run_ids() {
        assert!(is_valid("a1b2c3d4e5f6"));
        assert!(is_valid("my-run_2"));
        for bad in ["", "..", "../../..", "/tmp/x", "a/b", "a b", "x\n"] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn ids_are_twelve_hex_digits_and_differ() {
        let a = new_run_id();
        let b = new_run_id();
        assert_eq!(a.len(), 12);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }
}
