//! The reorder buffer: results that came back out of order, held until every earlier one is out.

use std::collections::BTreeMap;

/// Results that came back out of order, held until every earlier one is out. The pipeline's
/// tickets bound how many it can hold: at most the window, less those still being read or
/// transformed.
#[derive(Debug)]
pub struct Reorder<T> {
    next: u64,
    pending: BTreeMap<u64, T>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Reorder<T> {
    /// An empty buffer expecting sequence number 0.
    pub fn new() -> Self {
        Self {
            next: 0,
            pending: BTreeMap::new(),
        }
    }

    /// Holds the result with sequence number `seq`.
    pub fn insert(&mut self, seq: u64, value: T) {
        self.pending.insert(seq, value);
    }

    /// The next result in order, if it has come back.
    pub fn pop_next(&mut self) -> Option<T> {
        let value = self.pending.remove(&self.next)?;
        self.next += 1;
        Some(value)
    }

    /// How many results are held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reorder_buffer_gives_results_back_in_order() {
        let mut reorder = Reorder::new();
        reorder.insert(2, "c");
        reorder.insert(1, "b");
        assert_eq!(reorder.pop_next(), None);
        assert_eq!(reorder.len(), 2);
        reorder.insert(0, "a");
        assert_eq!(reorder.pop_next(), Some("a"));
        assert_eq!(reorder.pop_next(), Some("b"));
        assert_eq!(reorder.pop_next(), Some("c"));
        assert!(reorder.is_empty());
    }
}
