//! A streaming statistical anomaly detector: no neural net, no training step, just a baseline.
//!
//! [`ZScoreDetector`] computes one feature per window — the RMS of the window around its own
//! per-channel mean (the vibration energy, with gravity and offsets removed) — and scores it as a
//! z-score against the running mean and variance of that feature (Welford's algorithm) learned over
//! the first `warmup` inferences. While warming up it outputs 0. Afterwards windows whose |z| stays
//! under `learn_below` keep refining the baseline, so a slowly changing machine is followed but an
//! anomaly never teaches the detector that it is normal.
//!
//! It is a real [`Model`]: int8 window in (the same input a TFLite model gets), one int8 score out,
//! quantized with [`ZScoreDetector::OUTPUT_QUANT`] (0.25 σ per step). This module does not decide;
//! a [`Rule`](crate::action::Rule) such as `ScoreAtLeast { index: 0, threshold: 4.0 }` does.

use crate::math;
use crate::model::{Model, QuantParams, Shape};

/// Why the detector could not score a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ZScoreError {
    /// The channel count does not divide the input length (a configuration mistake).
    BadLayout,
}

/// Streaming z-score anomaly detector over windows of `LEN` int8 values (`samples × channels`).
///
/// ```
/// use edge_reflex::model::{Model, QuantParams, ZScoreDetector};
/// let input = QuantParams { scale: 0.1, zero_point: 0 };
/// let mut det: ZScoreDetector<8> = ZScoreDetector::new(input, 1, 4);
/// // Four normal windows of alternating ±amp teach the baseline RMS ≈ 1.0 ... 1.3.
/// for amp in [10i8, 12, 11, 13] {
///     for (i, v) in det.input().iter_mut().enumerate() { *v = if i % 2 == 0 { amp } else { -amp }; }
///     det.invoke().unwrap();
///     assert_eq!(det.output(), &[0]); // warming up
/// }
/// for (i, v) in det.input().iter_mut().enumerate() { *v = if i % 2 == 0 { 60 } else { -60 }; }
/// det.invoke().unwrap();
/// assert!(det.score() > 4.0, "a 5x louder window is an anomaly");
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
    count: u32,
    mean: f32,
    m2: f32,
    last_feature: f32,
    last_score: f32,
}

impl<const LEN: usize> ZScoreDetector<LEN> {
    /// Quantization of the single output: z in units of 0.25 σ, zero point 0 (range ±32 σ).
    pub const OUTPUT_QUANT: QuantParams = QuantParams { scale: 0.25, zero_point: 0 };

    /// A detector whose input is `LEN / channels` samples of `channels` values, quantized with
    /// `input_quant`, that learns its baseline over the first `warmup` (at least 2) windows.
    pub fn new(input_quant: QuantParams, channels: usize, warmup: u32) -> Self {
        ZScoreDetector {
            input: [0; LEN],
            output: [0],
            input_quant,
            channels: channels.max(1),
            warmup: warmup.max(2),
            learn_below: 3.0,
            min_std: input_quant.scale.abs(),
            count: 0,
            mean: 0.0,
            m2: 0.0,
            last_feature: 0.0,
            last_score: 0.0,
        }
    }

    /// After warm-up, windows with |z| below `z` keep updating the baseline (default 3).
    /// `0.0` freezes the baseline after warm-up.
    pub fn learn_below(mut self, z: f32) -> Self {
        self.learn_below = z;
        self
    }

    /// The smallest standard deviation assumed (default: one input quantization step), so a
    /// perfectly steady baseline does not make every small change infinitely anomalous.
    pub fn min_std(mut self, std: f32) -> Self {
        self.min_std = std.abs();
        self
    }

    /// `true` once the baseline is learned and scores are meaningful.
    pub fn is_warm(&self) -> bool {
        self.count >= self.warmup
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
            self.learn(x);
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
        self.output[0] = crate::quantizer::AffineQuantizer::new(q).quantize_value(self.last_score);
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
