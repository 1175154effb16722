//! The last `FRAMES` feature frames, oldest first, as one contiguous model input: how a
//! front-end's frames become the input of a model that looks at a stretch of time (micro_speech
//! reads 49 frames × 40 channels).
//!
//! Pushing a frame shifts the others down by one (a copy of the whole buffer, `FRAMES · CHANNELS`
//! bytes: for micro_speech 1960 bytes per 20 ms, negligible beside the front-end), so the input is
//! always contiguous and in time order, ready to copy into the model's input tensor.

/// A sliding window of `FRAMES` frames of `CHANNELS` values.
#[derive(Clone, Debug)]
pub struct FeatureHistory<T: Copy + Default, const FRAMES: usize, const CHANNELS: usize> {
    frames: [[T; CHANNELS]; FRAMES],
    pushed: u64,
}

impl<T: Copy + Default, const FRAMES: usize, const CHANNELS: usize> Default
    for FeatureHistory<T, FRAMES, CHANNELS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Default, const FRAMES: usize, const CHANNELS: usize>
    FeatureHistory<T, FRAMES, CHANNELS>
{
    /// An empty history (every value `T::default()`).
    pub fn new() -> Self {
        FeatureHistory { frames: [[T::default(); CHANNELS]; FRAMES], pushed: 0 }
    }

    /// Appends the newest frame, dropping the oldest.
    pub fn push(&mut self, frame: &[T; CHANNELS]) {
        if FRAMES == 0 {
            return;
        }
        self.frames.copy_within(1.., 0);
        self.frames[FRAMES - 1] = *frame;
        self.pushed += 1;
    }

    /// Frames pushed since creation or the last [`clear`](Self::clear).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Whether `FRAMES` frames have been pushed (no default-valued frame left).
    pub fn is_full(&self) -> bool {
        self.pushed >= FRAMES as u64
    }

    /// Whether the history is full and this is the `every`-th frame since it filled (the first
    /// full history counts): "run the model every `every` frames". `every = 0` is never.
    pub fn is_due(&self, every: u64) -> bool {
        every != 0 && self.is_full() && (self.pushed - FRAMES as u64).is_multiple_of(every)
    }

    /// The frames, oldest first.
    pub fn frames(&self) -> &[[T; CHANNELS]; FRAMES] {
        &self.frames
    }

    /// The frames as one slice of `FRAMES · CHANNELS` values, oldest first (the model input).
    pub fn as_flat(&self) -> &[T] {
        self.frames.as_flattened()
    }

    /// Forgets every frame.
    pub fn clear(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_frames_oldest_first() {
        let mut h = FeatureHistory::<i8, 3, 2>::new();
        assert!(!h.is_full());
        for i in 1..=4i8 {
            h.push(&[i, -i]);
        }
        assert_eq!(h.as_flat(), &[2, -2, 3, -3, 4, -4]);
        assert_eq!(h.pushed(), 4);
        assert!(h.is_full());
        // Full at 3 pushes: due at 3, 5, 7, ... for every = 2.
        assert!(!h.is_due(2));
        h.push(&[5, -5]);
        assert!(h.is_due(2));
        assert!(!h.is_due(0));
        h.clear();
        assert_eq!((h.pushed(), h.as_flat()), (0, &[0i8; 6][..]));
    }

    #[test]
    fn zero_frames_is_harmless() {
        let mut h = FeatureHistory::<u16, 0, 4>::new();
        h.push(&[1, 2, 3, 4]);
        assert!(h.as_flat().is_empty());
    }
}
