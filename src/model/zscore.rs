//! A streaming statistical anomaly detector: no neural net, no training step, just a baseline.
//!
//! [`ZScoreDetector`] computes one feature per window — the RMS of the window around its own
//! per-channel mean (the vibration energy, with gravity and offsets removed) — and scores it as a
//! z-score against the running mean and variance of that feature (Welford's algorithm) learned over
//! the first `warmup` inferences. While warming up it outputs 0. Afterwards windows whose |z| stays
//! under `learn_below` keep refining the baseline, so a slowly changing machine is followed but an
//! anomaly never teaches the detector that it is normal.
//!
//! The warm-up is robust: its features are kept (at most [`ZScoreDetector::MAX_WARMUP`]) and, when
//! it ends, those whose modified z-score `|x − median| / (1.4826 · MAD)` exceeds
//! [`ZScoreDetector::WARMUP_OUTLIER_Z`] are dropped before the mean and variance are computed (the
//! MAD is floored at the minimum standard deviation). A spike, a knock or a glitch while the
//! detector learns therefore cannot inflate the baseline and hide every later fault; up to half
//! the warm-up windows can be outliers. With no outlier the baseline is exactly Welford's over all
//! warm-up windows.
//!
//! It is a real [`Model`]: int8 window in (the same input a TFLite model gets), one int8 score out,
//! quantized with [`ZScoreDetector::OUTPUT_QUANT`] (0.25 σ per step). This module does not decide;
//! a [`Rule`](crate::action::Rule) such as `ScoreAtLeast { index: 0, threshold: 4.0 }` does.

use crate::math;
use crate::model::{Model, QuantParams, QuantParamsError, Shape};

/// Why the detector could not be built or could not score a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ZScoreError {
    /// The channel count is zero or does not divide the input length (a configuration mistake).
    BadLayout,
    /// The input quantization parameters cannot quantize (refused by [`ZScoreDetector::new`]).
    BadQuant(QuantParamsError),
}

impl From<QuantParamsError> for ZScoreError {
    fn from(e: QuantParamsError) -> Self {
        ZScoreError::BadQuant(e)
    }
}

/// Capacity of the warm-up feature buffer.
const WARMUP_CAPACITY: usize = 32;

/// Streaming z-score anomaly detector over windows of `LEN` int8 values (`samples × channels`).
///
/// ```
/// use edge_reflex::model::{Model, QuantParams, ZScoreDetector};
/// let input = QuantParams { scale: 0.1, zero_point: 0 };
/// let mut det: ZScoreDetector<8> = ZScoreDetector::new(input, 1, 4).unwrap();
/// // Four normal windows of alternating ±amp teach the baseline RMS ≈ 1.0 ... 1.3.
/// for amp in [10i8, 12, 11, 13] {
///     for (i, v) in det.input().iter_mut().enumerate() { *v = if i % 2 == 0 { amp } else { -amp }; }
///     det.invoke().unwrap();
///     assert_eq!(det.output(), &[0]); // warming up
/// }
/// for (i, v) in det.input().iter_mut().enumerate() { *v = if i % 2 == 0 { 60 } else { -60 }; }
/// det.invoke().unwrap();
/// assert!(det.score() > 4.0, "a 5x louder window is an anomaly");
/// // Parameters that cannot quantize are refused where the model is built.
/// let zero = QuantParams { scale: 0.0, zero_point: 0 };
/// assert!(ZScoreDetector::<8>::new(zero, 1, 4).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct ZScoreDetector<const LEN: usize> {
    input: [i8; LEN],
    output: [i8; 1],
    input_quant: QuantParams,
    channels: usize,
    warmup: u32,
    learn_below: f32,
    min_std: f32,
    /// Windows seen while warming up (kept in `warm_features`).
    seen: u32,
    warm_features: [f32; WARMUP_CAPACITY],
    rejected: u32,
    count: u32,
    mean: f32,
    m2: f32,
    last_feature: f32,
    last_score: f32,
}

impl<const LEN: usize> ZScoreDetector<LEN> {
    /// Quantization of the single output: z in units of 0.25 σ, zero point 0 (range ±32 σ).
    pub const OUTPUT_QUANT: QuantParams = QuantParams { scale: 0.25, zero_point: 0 };

    /// The longest warm-up, in windows (their features are kept to find the outliers).
    pub const MAX_WARMUP: usize = WARMUP_CAPACITY;

    /// Warm-up windows whose modified z-score (from the median and MAD) exceeds this are left out
    /// of the baseline (the usual cut for modified z-scores).
    pub const WARMUP_OUTLIER_Z: f32 = 3.5;

    /// A detector whose input is `LEN / channels` samples of `channels` values, quantized with
    /// `input_quant`, that learns its baseline over the first `warmup` windows (clamped to
    /// `2..=MAX_WARMUP`). Refused when `input_quant` cannot quantize ([`QuantParams::check`]) or
    /// `channels` is zero or does not divide `LEN`.
    pub fn new(
        input_quant: QuantParams,
        channels: usize,
        warmup: u32,
    ) -> Result<Self, ZScoreError> {
        input_quant.check()?;
        if channels == 0 || LEN == 0 || !LEN.is_multiple_of(channels) {
            return Err(ZScoreError::BadLayout);
        }
        Ok(ZScoreDetector {
            input: [0; LEN],
            output: [0],
            input_quant,
            channels,
            warmup: warmup.clamp(2, Self::MAX_WARMUP as u32),
            learn_below: 3.0,
            min_std: input_quant.scale,
            seen: 0,
            warm_features: [0.0; WARMUP_CAPACITY],
            rejected: 0,
            count: 0,
            mean: 0.0,
            m2: 0.0,
            last_feature: 0.0,
            last_score: 0.0,
        })
    }

    /// After warm-up, windows with |z| below `z` keep updating the baseline (default 3).
    /// `0.0` freezes the baseline after warm-up.
    pub fn learn_below(mut self, z: f32) -> Self {
        self.learn_below = z;
        self
    }

    /// The smallest standard deviation assumed (default: one input quantization step), so a
    /// perfectly steady baseline does not make every small change infinitely anomalous. A
    /// non-finite value keeps the current one.
    pub fn min_std(mut self, std: f32) -> Self {
        if std.is_finite() {
            self.min_std = std.abs();
        }
        self
    }

    /// `true` once the baseline is learned and scores are meaningful.
    pub fn is_warm(&self) -> bool {
        self.seen >= self.warmup
    }

    /// Warm-up windows left out of the baseline as outliers.
    pub fn warmup_rejected(&self) -> u32 {
        self.rejected
    }

    /// The last window's feature (AC RMS, input units).
    pub fn feature(&self) -> f32 {
        self.last_feature
    }

    /// The last z-score, unquantized.
    pub fn score(&self) -> f32 {
        self.last_score
    }

    /// Baseline mean and standard deviation of the feature.
    pub fn baseline(&self) -> (f32, f32) {
        let var = if self.count > 1 { self.m2 / (self.count - 1) as f32 } else { 0.0 };
        (self.mean, math::sqrt(var))
    }

    fn window_ac_rms(&self) -> f32 {
        let c = self.channels;
        let t = LEN / c;
        let mut sum_sq_dev = 0.0f32;
        for ch in 0..c {
            let values = self.input.iter().skip(ch).step_by(c).map(|&q| q as i32);
            let sum: i32 = values.clone().sum();
            let mean = sum as f32 / t as f32;
            sum_sq_dev += values.map(|q| (q as f32 - mean) * (q as f32 - mean)).sum::<f32>();
        }
        self.input_quant.scale * math::sqrt(sum_sq_dev / t as f32)
    }

    fn learn(&mut self, x: f32) {
        self.count = self.count.saturating_add(1);
        let delta = x - self.mean;
        self.mean += delta / self.count as f32;
        self.m2 += delta * (x - self.mean);
    }

    /// Ends the warm-up: drops the outliers among the kept features and recomputes the baseline
    /// over the others, in their original order (so with no outlier nothing changes).
    fn seal_warmup(&mut self) {
        let n = (self.seen as usize).min(Self::MAX_WARMUP);
        let kept = &self.warm_features[..n];
        let mut sorted = [0.0f32; WARMUP_CAPACITY];
        sorted[..n].copy_from_slice(kept);
        let median = median_in_place(&mut sorted[..n]);
        for v in sorted[..n].iter_mut() {
            *v = (*v - median).abs();
        }
        let mad = median_in_place(&mut sorted[..n]);
        let sigma = (1.482_6 * mad).max(self.min_std).max(f32::MIN_POSITIVE);
        let limit = Self::WARMUP_OUTLIER_Z * sigma;
        let outliers = kept.iter().filter(|&&x| (x - median).abs() > limit).count();
        if outliers == 0 {
            return;
        }
        self.rejected = outliers as u32;
        let features = self.warm_features;
        (self.count, self.mean, self.m2) = (0, 0.0, 0.0);
        for &x in features[..n].iter().filter(|&&x| (x - median).abs() <= limit) {
            self.learn(x);
        }
    }
}

/// The median of `values` (the mean of the two middle ones for an even count), sorting them;
/// 0 when empty. Insertion sort: the warm-up holds a few dozen values at most.
fn median_in_place(values: &mut [f32]) -> f32 {
    for i in 1..values.len() {
        let mut j = i;
        while j > 0 && values[j - 1] > values[j] {
            values.swap(j - 1, j);
            j -= 1;
        }
    }
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => 0.5 * (values[n / 2 - 1] + values[n / 2]),
    }
}

impl<const LEN: usize> Model for ZScoreDetector<LEN> {
    type Error = ZScoreError;

    fn input(&mut self) -> &mut [i8] {
        &mut self.input
    }

    fn input_quant(&self) -> QuantParams {
        self.input_quant
    }

    fn input_shape(&self) -> Shape {
        Shape::from_dims([1, (LEN / self.channels) as u32, self.channels as u32])
    }

    fn invoke(&mut self) -> Result<(), ZScoreError> {
        if LEN == 0 || !LEN.is_multiple_of(self.channels) {
            return Err(ZScoreError::BadLayout);
        }
        let x = self.window_ac_rms();
        self.last_feature = x;
        if !self.is_warm() {
            if let Some(slot) = self.warm_features.get_mut(self.seen as usize) {
                *slot = x;
            }
            self.seen = self.seen.saturating_add(1);
            self.learn(x);
            if self.is_warm() {
                self.seal_warmup();
            }
            self.last_score = 0.0;
        } else {
            let (mean, std) = self.baseline();
            let z = (x - mean) / std.max(self.min_std).max(f32::MIN_POSITIVE);
            self.last_score = z;
            if z.abs() < self.learn_below {
                self.learn(x);
            }
        }
        let q = Self::OUTPUT_QUANT;
        self.output[0] =
            crate::quantizer::AffineQuantizer::unchecked(q).quantize_value(self.last_score);
        Ok(())
    }

    fn output(&self) -> &[i8] {
        &self.output
    }

    fn output_quant(&self) -> QuantParams {
        Self::OUTPUT_QUANT
    }

    fn output_shape(&self) -> Shape {
        Shape::from_dims([1, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: QuantParams = QuantParams { scale: 0.1, zero_point: 0 };

    /// Fills the input with alternating ±`amp` (AC RMS = `amp` steps).
    fn window<const LEN: usize>(det: &mut ZScoreDetector<LEN>, amp: i8) -> f32 {
        for (i, v) in det.input().iter_mut().enumerate() {
            *v = if i % 2 == 0 { amp } else { amp.saturating_neg() };
        }
        det.invoke().unwrap();
        det.score()
    }

    #[test]
    fn refuses_bad_quantization_and_layout_where_built() {
        for scale in [f32::NAN, f32::INFINITY, 0.0, -0.1] {
            let q = QuantParams { scale, zero_point: 0 };
            assert!(matches!(ZScoreDetector::<8>::new(q, 1, 4), Err(ZScoreError::BadQuant(_))));
        }
        let q = QuantParams { scale: 0.1, zero_point: 200 };
        assert_eq!(
            ZScoreDetector::<8>::new(q, 1, 4).err(),
            Some(ZScoreError::BadQuant(QuantParamsError::ZeroPointOutOfRange))
        );
        assert_eq!(ZScoreDetector::<8>::new(Q, 3, 4).err(), Some(ZScoreError::BadLayout));
        assert_eq!(ZScoreDetector::<8>::new(Q, 0, 4).err(), Some(ZScoreError::BadLayout));
        assert_eq!(ZScoreDetector::<0>::new(Q, 1, 4).err(), Some(ZScoreError::BadLayout));
    }

    #[test]
    fn a_loud_window_while_learning_does_not_poison_the_baseline() {
        let mut robust = ZScoreDetector::<8>::new(Q, 1, 8).unwrap();
        // Eight warm-up windows around 1.0 units, one of them a 12x spike.
        for amp in [10i8, 11, 10, 120, 12, 10, 11, 10] {
            assert_eq!(window(&mut robust, amp), 0.0);
        }
        assert!(robust.is_warm());
        assert_eq!(robust.warmup_rejected(), 1);
        let (mean, std) = robust.baseline();
        assert!((mean - 1.057).abs() < 0.01 && std < 0.1, "{mean} {std}");
        // A 3x louder window is still an anomaly.
        assert!(window(&mut robust, 30) > 6.0);
    }

    #[test]
    fn without_outliers_the_baseline_is_plain_welford() {
        let amps = [10i8, 11, 10, 12, 12, 10, 11, 10];
        let mut det = ZScoreDetector::<8>::new(Q, 1, 8).unwrap();
        let mut plain = ZScoreDetector::<8>::new(Q, 1, 8).unwrap();
        for amp in amps {
            window(&mut det, amp);
            plain.learn(0.1 * amp as f32);
        }
        assert_eq!(det.warmup_rejected(), 0);
        assert_eq!(det.baseline(), plain.baseline());
    }

    #[test]
    fn warmup_is_capped_and_medians_are_right() {
        let det = ZScoreDetector::<8>::new(Q, 1, 1000).unwrap();
        assert_eq!(det.warmup, ZScoreDetector::<8>::MAX_WARMUP as u32);
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median_in_place(&mut []), 0.0);
    }
}
