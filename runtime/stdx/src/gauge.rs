//! A gauge held while something waits: one unit of an atomic count that is
//! given back however the holder ends — returned, failed, or dropped
//! mid-`await` because its task was cancelled.

use std::sync::atomic::{AtomicUsize, Ordering};

/// One unit of `gauge`, counted while this lives.
#[derive(Debug)]
pub struct Held<'a>(&'a AtomicUsize);

impl<'a> Held<'a> {
    /// Adds one to `gauge` until the returned value is dropped.
    pub fn new(gauge: &'a AtomicUsize) -> Held<'a> {
        gauge.fetch_add(1, Ordering::SeqCst);
        Held(gauge)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_held_until_dropped() {
        let gauge = AtomicUsize::new(0);
        let first = Held::new(&gauge);
        let second = Held::new(&gauge);
        assert_eq!(gauge.load(Ordering::SeqCst), 2);
        drop(first);
        assert_eq!(gauge.load(Ordering::SeqCst), 1);
        drop(second);
        assert_eq!(gauge.load(Ordering::SeqCst), 0);
    }
}
