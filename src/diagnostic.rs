//! Diagnostic snapshots (the `serde` feature): what the model saw and said when it fired, what
//! followed, which model version said it and when, encoded with postcard into a fixed-capacity
//! store that keeps the newest ones for a gateway to collect.
//!
//! It records nothing by itself: the application (or a graph hook) builds a [`Snapshot`] from
//! the window it quantized, the samples that followed and the scores, and
//! [`push`](SnapshotStore::push)es it. No allocation: the store's capacity is in its type.

use crate::telemetry::ExportError;
use crate::time::Instant;

/// One diagnostic snapshot, borrowing its data (decoding borrows from the store: zero copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot<'a> {
    /// When the model fired.
    pub time: Instant,
    /// The version of the model that fired (see `update::Updater::boot`).
    pub model_version: u32,
    /// The model's input for that window (int8 bytes, as quantized).
    #[serde(borrow)]
    pub window: &'a [u8],
    /// The quantized samples that followed the window.
    #[serde(borrow)]
    pub following: &'a [u8],
    /// The model's output (int8 bytes).
    #[serde(borrow)]
    pub scores: &'a [u8],
}

/// The newest `SLOTS` snapshots, each encoded in at most `BYTES` bytes; pushing into a full
/// store replaces the oldest.
#[derive(Clone, Debug)]
pub struct SnapshotStore<const SLOTS: usize, const BYTES: usize> {
    slots: [[u8; BYTES]; SLOTS],
    lens: [usize; SLOTS],
    /// The slot the next push writes.
    next: usize,
    /// Snapshots held.
    count: usize,
}

impl<const SLOTS: usize, const BYTES: usize> Default for SnapshotStore<SLOTS, BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SLOTS: usize, const BYTES: usize> SnapshotStore<SLOTS, BYTES> {
    /// An empty store.
    pub const fn new() -> Self {
        SnapshotStore { slots: [[0; BYTES]; SLOTS], lens: [0; SLOTS], next: 0, count: 0 }
    }

    /// Snapshots held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Encodes `snapshot` into the store (replacing the oldest when full).
    ///
    /// Errors: [`ExportError::BufferFull`] if its encoding is longer than `BYTES` (the store is
    /// then unchanged).
    pub fn push(&mut self, snapshot: &Snapshot<'_>) -> Result<(), ExportError> {
        let Some(slot) = self.slots.get_mut(self.next) else {
            return Err(ExportError::BufferFull);
        };
        let mut scratch = [0u8; BYTES];
        let used =
            postcard::to_slice(snapshot, &mut scratch).map_err(|_| ExportError::BufferFull)?.len();
        *slot = scratch;
        self.lens[self.next] = used;
        self.next = (self.next + 1) % SLOTS;
        self.count = (self.count + 1).min(SLOTS);
        Ok(())
    }

    /// The postcard encoding of the `i`-th newest snapshot (0 is the newest), to send as is.
    pub fn encoded(&self, i: usize) -> Option<&[u8]> {
        if i >= self.count {
            return None;
        }
        let slot = (self.next + SLOTS - 1 - i) % SLOTS;
        self.slots[slot].get(..self.lens[slot])
    }

    /// The `i`-th newest snapshot, decoded (borrowing the store).
    pub fn get(&self, i: usize) -> Option<Snapshot<'_>> {
        decode(self.encoded(i)?).ok()
    }

    /// Forgets every snapshot (after a gateway collected them).
    pub fn clear(&mut self) {
        self.count = 0;
    }
}

/// Decodes a snapshot's postcard encoding (as a gateway receives it).
pub fn decode(bytes: &[u8]) -> Result<Snapshot<'_>, ExportError> {
    postcard::from_bytes(bytes).map_err(|_| ExportError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(t: u32, window: &[u8]) -> Snapshot<'_> {
        Snapshot {
            time: Instant(t),
            model_version: 7,
            window,
            following: &[1, 2, 3],
            scores: &[0x80, 0x7f],
        }
    }

    #[test]
    fn snapshots_round_trip_and_the_newest_are_kept() {
        let mut store = SnapshotStore::<3, 96>::new();
        assert!(store.is_empty() && store.get(0).is_none());
        let window = [5u8; 64];
        for t in 0..5 {
            store.push(&snapshot(t, &window)).unwrap();
        }
        assert_eq!(store.len(), 3);
        assert_eq!(store.get(0), Some(snapshot(4, &window)));
        assert_eq!(store.get(2), Some(snapshot(2, &window)));
        assert_eq!(store.get(3), None);
        let bytes = store.encoded(1).unwrap();
        assert_eq!(decode(bytes), Ok(snapshot(3, &window)));
        assert!(bytes.len() < 64 + 3 + 2 + 12);
        store.clear();
        assert!(store.is_empty());
    }

    #[test]
    fn a_snapshot_too_large_is_refused_and_the_store_unchanged() {
        let mut store = SnapshotStore::<2, 32>::new();
        store.push(&snapshot(1, &[1; 8])).unwrap();
        assert_eq!(store.push(&snapshot(2, &[1; 64])), Err(ExportError::BufferFull));
        assert_eq!(store.len(), 1);
        assert_eq!(store.get(0), Some(snapshot(1, &[1; 8])));
        assert_eq!(decode(&[0xff; 4]), Err(ExportError::Malformed));
        let mut empty = SnapshotStore::<0, 32>::new();
        assert_eq!(empty.push(&snapshot(1, &[])), Err(ExportError::BufferFull));
    }
}
