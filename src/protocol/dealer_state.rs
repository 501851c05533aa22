//! What only the dealer holds: the full masks it keeps for reuse by later triples (in-step reuse of an
//! opened input, or a data set masked once), by key ([`super::dealer::kept_key`]). A [`super::party::Party`]
//! has one only at the dealer.

use super::ring::Elem;
use ndarray::ArrayD;
use std::collections::HashMap;

/// The dealer's own state.
#[derive(Debug)]
pub struct DealerState<E: Elem> {
    kept: HashMap<u64, ArrayD<E>>,
}

impl<E: Elem> Default for DealerState<E> {
    fn default() -> Self {
        Self { kept: HashMap::new() }
    }
}

impl<E: Elem> DealerState<E> {
    /// Keeps `mask` under `key`.
    pub fn keep(&mut self, key: u64, mask: ArrayD<E>) {
        self.kept.insert(key, mask);
    }

    /// The mask kept under `key`.
    pub fn kept_mask(&self, key: u64) -> Option<&ArrayD<E>> {
        self.kept.get(&key)
    }

    /// Forgets the mask under `key` (frees its memory).
    pub fn release(&mut self, key: u64) {
        self.kept.remove(&key);
    }
}
