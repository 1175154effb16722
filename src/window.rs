//! The second stage: a rolling buffer of the last `N` samples that is ready every `HOP` new ones.
//!
//! [`Window`] keeps its capacity in the type (`Window<S, N, HOP>`), never allocates, and hands the
//! samples out oldest-first as two slices ([`Window::as_slices`]) so the quantizer copies each sample
//! exactly once, into the model's input. It also keeps the cheap [`Features`] a gate needs (mean,
//! RMS, standard deviation, peak, peak-to-peak of each sample's [`level`](Sample::level)),
//! updated per sample rather than recomputed per window.
//!
//! It does not decide anything (that is the [`Gate`](crate::gate::Gate)) and does not read sensors.
//! A hand-written ring is used instead of `heapless::HistoryBuffer` because the running statistics
//! need the evicted sample and the hop counter at the moment of the write.

use crate::math;
use crate::sample::Sample;

/// The features of a window that gates compare against, in the sensor's units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Features {
    /// Level of the newest sample.
    pub latest: f32,
    /// Mean level.
    pub mean: f32,
    /// Root mean square of the levels.
    pub rms: f32,
    /// Population standard deviation of the levels (the "AC" part of the RMS).
    pub std_dev: f32,
    /// Largest absolute level.
    pub peak: f32,
    /// Largest level minus smallest level.
    pub peak_to_peak: f32,
}

/// Which window feature a gate looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Feature {
    /// [`Features::latest`].
    Latest,
    /// [`Features::mean`].
    Mean,
    /// [`Features::rms`].
    Rms,
    /// [`Features::std_dev`].
    StdDev,
    /// [`Features::peak`].
    Peak,
    /// [`Features::peak_to_peak`].
    PeakToPeak,
}

impl Features {
    /// The value of one feature.
    pub fn get(&self, feature: Feature) -> f32 {
        match feature {
            Feature::Latest => self.latest,
            Feature::Mean => self.mean,
            Feature::Rms => self.rms,
            Feature::StdDev => self.std_dev,
            Feature::Peak => self.peak,
            Feature::PeakToPeak => self.peak_to_peak,
        }
    }
}

/// Why a sample was not taken into the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WindowError {
    /// A channel was NaN or infinite; the window is unchanged.
    NonFinite,
}

/// A rolling buffer of the last `N` samples, ready for the model every `HOP` new samples.
///
/// ```
/// use edge_reflex::window::Window;
/// let mut w: Window<f32, 4, 2> = Window::new();
/// let ready: Vec<bool> = (1..=8).map(|i| w.push(i as f32).unwrap()).collect();
/// // Full after 4 samples, then ready every 2.
/// assert_eq!(ready, [false, false, false, true, false, true, false, true]);
/// let (older, newer) = w.as_slices();
/// assert_eq!([older, newer].concat(), [5.0, 6.0, 7.0, 8.0]);
/// assert_eq!(w.features().peak_to_peak, 3.0);
/// ```
#[derive(Clone, Debug)]
pub struct Window<S: Sample, const N: usize, const HOP: usize> {
    buf: [S; N],
    /// Index where the next sample goes (also the oldest sample once full).
    head: usize,
    len: usize,
    since_ready: usize,
    sum: f32,
    sum_sq: f32,
    pushes_since_resum: usize,
    max: f32,
    min: f32,
    extremes_stale: bool,
}

impl<S: Sample, const N: usize, const HOP: usize> Default for Window<S, N, HOP> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Sample, const N: usize, const HOP: usize> Window<S, N, HOP> {
    /// Fails to compile for `N == 0`, `HOP == 0` or `HOP > N`.
    const VALID: () = assert!(N > 0 && HOP > 0 && HOP <= N, "Window needs 0 < HOP <= N");

    /// An empty window.
    pub fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID;
        Window {
            buf: [S::default(); N],
            head: 0,
            len: 0,
            since_ready: 0,
            sum: 0.0,
            sum_sq: 0.0,
            pushes_since_resum: 0,
            max: f32::NEG_INFINITY,
            min: f32::INFINITY,
            extremes_stale: false,
        }
    }

    /// Capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Samples held (at most `N`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `true` once `N` samples have been pushed.
    pub fn is_full(&self) -> bool {
        self.len == N
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// Adds a sample, evicting the oldest when full. Returns `Ok(true)` when the window is full and
    /// `HOP` samples have arrived since it was last ready: time to consider running the model.
    /// A non-finite sample is refused and leaves the window exactly as it was.
    pub fn push(&mut self, sample: S) -> Result<bool, WindowError> {
        if !sample.is_finite() {
            return Err(WindowError::NonFinite);
        }
        let level = sample.level();
        if self.len == N {
            let evicted = self.buf[self.head].level();
            self.sum -= evicted;
            self.sum_sq -= evicted * evicted;
            if evicted >= self.max || evicted <= self.min {
                self.extremes_stale = true;
            }
        }
        let just_filled = self.len == N - 1;
        if self.len < N {
            self.len += 1;
        }
        self.buf[self.head] = sample;
        self.head = if self.head + 1 == N { 0 } else { self.head + 1 };
        self.sum += level;
        self.sum_sq += level * level;
        self.max = self.max.max(level);
        self.min = self.min.min(level);
        // Adding and subtracting floats drifts; an exact re-sum every N pushes bounds the error
        // at O(1) amortised cost.
        self.pushes_since_resum += 1;
        if self.pushes_since_resum >= N {
            self.resum();
        }
        if self.len < N {
            return Ok(false);
        }
        if just_filled {
            self.since_ready = 0;
            return Ok(true);
        }
        self.since_ready += 1;
        if self.since_ready >= HOP {
            self.since_ready = 0;
            return Ok(true);
        }
        Ok(false)
    }

    fn resum(&mut self) {
        let (a, b) = self.as_slices();
        let (mut sum, mut sum_sq) = (0.0f32, 0.0f32);
        for s in a.iter().chain(b) {
            let l = s.level();
            sum += l;
            sum_sq += l * l;
        }
        self.sum = sum;
        self.sum_sq = sum_sq;
        self.pushes_since_resum = 0;
    }

    fn refresh_extremes(&mut self) {
        let (a, b) = self.as_slices();
        let (mut max, mut min) = (f32::NEG_INFINITY, f32::INFINITY);
        for s in a.iter().chain(b) {
            let l = s.level();
            max = max.max(l);
            min = min.min(l);
        }
        self.max = max;
        self.min = min;
        self.extremes_stale = false;
    }

    /// The samples, oldest first, as two slices (the ring's two halves); `older` then `newer`.
    pub fn as_slices(&self) -> (&[S], &[S]) {
        if self.len < N {
            (&self.buf[..self.len], &[])
        } else {
            let (newer, older) = self.buf.split_at(self.head);
            (older, newer)
        }
    }

    /// The newest sample, if any.
    pub fn latest(&self) -> Option<S> {
        if self.len == 0 {
            None
        } else {
            Some(self.buf[if self.head == 0 { N - 1 } else { self.head - 1 }])
        }
    }

    /// The gate features of the current contents (all zero when empty).
    pub fn features(&mut self) -> Features {
        if self.len == 0 {
            return Features::default();
        }
        if self.extremes_stale {
            self.refresh_extremes();
        }
        let n = self.len as f32;
        let mean = self.sum / n;
        let mean_sq = (self.sum_sq / n).max(0.0);
        let var = (mean_sq - mean * mean).max(0.0);
        Features {
            latest: self.latest().map(|s| s.level()).unwrap_or(0.0),
            mean,
            rms: math::sqrt(mean_sq),
            std_dev: math::sqrt(var),
            peak: self.max.abs().max(self.min.abs()),
            peak_to_peak: self.max - self.min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn direct(values: &[f32]) -> Features {
        let n = values.len() as f32;
        let mean = values.iter().sum::<f32>() / n;
        let mean_sq = values.iter().map(|v| v * v).sum::<f32>() / n;
        let max = values.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let min = values.iter().cloned().fold(f32::INFINITY, f32::min);
        Features {
            latest: *values.last().unwrap(),
            mean,
            rms: mean_sq.sqrt(),
            std_dev: (mean_sq - mean * mean).max(0.0).sqrt(),
            peak: max.abs().max(min.abs()),
            peak_to_peak: max - min,
        }
    }

    #[test]
    fn ready_every_hop_over_many_hops_and_contents_are_the_last_n() {
        let mut w: Window<f32, 16, 5> = Window::new();
        let mut all = Vec::new();
        let mut ready_at = Vec::new();
        for i in 0..1000u32 {
            // A deterministic, wildly varying signal.
            let v = ((i.wrapping_mul(2_654_435_761) >> 16) % 2000) as f32 / 100.0 - 10.0;
            all.push(v);
            if w.push(v).unwrap() {
                ready_at.push(i);
                let (a, b) = w.as_slices();
                let got: Vec<f32> = a.iter().chain(b).copied().collect();
                assert_eq!(got, all[all.len() - 16..]);
                let want = direct(&got);
                let f = w.features();
                for (x, y) in [
                    (f.mean, want.mean),
                    (f.rms, want.rms),
                    (f.std_dev, want.std_dev),
                    (f.peak, want.peak),
                    (f.peak_to_peak, want.peak_to_peak),
                    (f.latest, want.latest),
                ] {
                    assert!(
                        (x - y).abs() <= 1e-3 * (1.0 + y.abs()),
                        "sample {i}: {f:?} vs {want:?}"
                    );
                }
            }
        }
        // First ready when full (index 15), then every 5 samples.
        assert_eq!(ready_at[0], 15);
        assert!(ready_at.windows(2).all(|p| p[1] - p[0] == 5));
        assert_eq!(ready_at.len(), 1 + (999 - 15) / 5);
    }

    #[test]
    fn nan_and_infinity_leave_the_window_untouched() {
        let mut w: Window<[f32; 3], 4, 2> = Window::new();
        for i in 0..3 {
            w.push([i as f32, 0.0, 1.0]).unwrap();
        }
        let before = w.clone();
        let f_before = w.clone().features();
        assert_eq!(w.push([f32::NAN, 0.0, 0.0]), Err(WindowError::NonFinite));
        assert_eq!(w.push([0.0, f32::NEG_INFINITY, 0.0]), Err(WindowError::NonFinite));
        assert_eq!(w.len(), before.len());
        assert_eq!(w.as_slices(), before.as_slices());
        assert_eq!(w.features(), f_before);
        // The next good sample completes the window as if nothing happened.
        assert_eq!(w.push([3.0, 0.0, 1.0]), Ok(true));
    }

    #[test]
    fn hop_equal_to_n_gives_disjoint_windows() {
        let mut w: Window<f32, 3, 3> = Window::new();
        let ready: Vec<bool> = (0..9).map(|i| w.push(i as f32).unwrap()).collect();
        assert_eq!(ready, [false, false, true, false, false, true, false, false, true]);
        let (a, b) = w.as_slices();
        assert_eq!([a, b].concat(), [6.0, 7.0, 8.0]);
    }

    #[test]
    fn extremes_follow_eviction() {
        let mut w: Window<f32, 3, 1> = Window::new();
        for v in [10.0, 1.0, 2.0, 3.0] {
            w.push(v).unwrap();
        }
        // 10 was evicted: peak and peak-to-peak come from 1, 2, 3.
        let f = w.features();
        assert_eq!((f.peak, f.peak_to_peak), (3.0, 2.0));
        assert_eq!(w.latest(), Some(3.0));
    }
}
