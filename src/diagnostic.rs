//! Diagnostic snapshots (the `serde` feature): what the model saw and said when it fired, what
//! followed, which model version said it and when, encoded with postcard into a fixed-capacity
//! store that keeps the newest ones for a gateway to collect.
//!
//! The graph fills it through a [`SnapshotRecorder`] passed to
//! [`Graph::feed_recording`](crate::graph::Graph::feed_recording): when the rule fires, the
//! recorder keeps the quantized window the model saw, its scores and the time, then the next
//! samples as they arrive, and pushes the [`Snapshot`] into its [`SnapshotStore`]. An application
//! can also build snapshots itself and [`push`](SnapshotStore::push) them. No allocation: every
//! capacity is in the types.

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

/// A snapshot being taken.
#[derive(Clone, Debug)]
struct Pending<const WINDOW: usize, const FOLLOW: usize, const SCORES: usize> {
    time: Instant,
    model_version: u32,
    window: [u8; WINDOW],
    window_len: usize,
    scores: [u8; SCORES],
    scores_len: usize,
    following: [u8; FOLLOW],
    following_len: usize,
}

/// Takes diagnostic snapshots when the rule fires, for
/// [`Graph::feed_recording`](crate::graph::Graph::feed_recording): the quantized window that
/// fired (up to `WINDOW` bytes), the model's output (up to `SCORES` bytes), the time, the model
/// version, and the quantized samples that follow, until `FOLLOW` bytes of them are kept (a
/// multiple of the samples' channels; 0 stores at once). A rule that fires again while a
/// snapshot is being taken is part of its following samples. Finished snapshots go into
/// [`store`](Self::store) (the newest `SLOTS`, each encoded in at most `BYTES`).
#[derive(Clone, Debug)]
pub struct SnapshotRecorder<
    const WINDOW: usize,
    const FOLLOW: usize,
    const SCORES: usize,
    const SLOTS: usize,
    const BYTES: usize,
> {
    /// The finished snapshots, for the application to drain.
    pub store: SnapshotStore<SLOTS, BYTES>,
    model_version: u32,
    pending: Option<Pending<WINDOW, FOLLOW, SCORES>>,
    dropped: u32,
}

impl<
        const WINDOW: usize,
        const FOLLOW: usize,
        const SCORES: usize,
        const SLOTS: usize,
        const BYTES: usize,
    > SnapshotRecorder<WINDOW, FOLLOW, SCORES, SLOTS, BYTES>
{
    /// A recorder naming `model_version` in its snapshots (the version
    /// `update::Updater::boot` returned).
    pub const fn new(model_version: u32) -> Self {
        SnapshotRecorder { store: SnapshotStore::new(), model_version, pending: None, dropped: 0 }
    }

    /// Names another model version in the snapshots started from now on (after an update).
    pub fn set_model_version(&mut self, model_version: u32) {
        self.model_version = model_version;
    }

    /// Whether a snapshot is being taken (waiting for its following samples).
    pub fn is_recording(&self) -> bool {
        self.pending.is_some()
    }

    /// Snapshots dropped because a window, scores or encoding did not fit the capacities.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Starts a snapshot at `time`: `window` is filled by `quantize` (the window's bytes as the
    /// model saw them), `scores` are the model's output. Nothing if a snapshot is being taken.
    pub(crate) fn start(
        &mut self,
        time: Instant,
        window_len: usize,
        quantize: impl FnOnce(&mut [i8]) -> bool,
        scores: &[i8],
    ) {
        if self.pending.is_some() {
            return;
        }
        let mut p = Pending {
            time,
            model_version: self.model_version,
            window: [0; WINDOW],
            window_len,
            scores: [0; SCORES],
            scores_len: scores.len(),
            following: [0; FOLLOW],
            following_len: 0,
        };
        let (Some(window), Some(out)) =
            (p.window.get_mut(..window_len), p.scores.get_mut(..scores.len()))
        else {
            self.dropped = self.dropped.saturating_add(1);
            return;
        };
        out.copy_from_slice(bytemuck::cast_slice(scores));
        if !quantize(bytemuck::cast_slice_mut(window)) {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.pending = Some(p);
        if FOLLOW == 0 {
            self.finish();
        }
    }

    /// Adds one following sample: `quantize` fills its `channels` bytes.
    pub(crate) fn follow(&mut self, channels: usize, quantize: impl FnOnce(&mut [i8]) -> bool) {
        let Some(p) = self.pending.as_mut() else { return };
        let at = p.following_len;
        let Some(slot) = p.following.get_mut(at..at + channels) else {
            return self.finish();
        };
        // A sample the quantizer refuses is not kept; the snapshot waits for the next.
        if quantize(bytemuck::cast_slice_mut(slot)) {
            p.following_len += channels;
        }
        if p.following_len + channels > FOLLOW {
            self.finish();
        }
    }

    /// Pushes the pending snapshot into the store.
    fn finish(&mut self) {
        let Some(p) = self.pending.take() else { return };
        let snapshot = Snapshot {
            time: p.time,
            model_version: p.model_version,
            window: &p.window[..p.window_len],
            following: &p.following[..p.following_len],
            scores: &p.scores[..p.scores_len],
        };
        if self.store.push(&snapshot).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
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
