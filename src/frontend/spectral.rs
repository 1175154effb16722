//! Spectral features of a vibration window (the kind of Edge Impulse's "spectral analysis" block):
//! per axis, the RMS, the highest spectral peaks (frequency, height) and the power in configured
//! frequency bands, optionally in decibels.
//!
//! For each axis of an `N`-sample window: the mean is removed, the RMS is taken, a window
//! function (Hann or none) is applied, `microfft` computes the real FFT, and the one-sided power
//! spectrum is `P[k] = |X[k]|² / N²` for bins `1..=N/2` (bin `k` is `k · fs / N` Hz; the DC bin
//! is left out). Peaks are local maxima of `P` (higher than the bin below, not lower than the bin
//! above), highest first. A band `[lo, hi)` sums `P[k]` over the bins whose frequency is in it.
//! With `log`, peak heights and band powers are `10 · log10(max(p, 1e-20))`.
//!
//! `N` is a power of two from 32 to 512 (checked at compile time); `P` peaks and `B` bands are
//! capacities in the type. No allocation; `f32` arithmetic. What it does not do: filtering
//! before the FFT, overlapping sub-frames (Welch averaging), or bit-exactness with any other
//! implementation (tests compare with an `f64` DFT, within a stated tolerance).

use super::real_fft::rfft;
use crate::sample::Sample;

/// The window function applied before the FFT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum WindowFunction {
    /// No window (rectangular).
    Rectangular,
    /// The periodic Hann window `0.5 - 0.5 cos(2π n / N)`.
    Hann,
}

/// What [`Spectral`] computes.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SpectralConfig<const B: usize> {
    /// The sample rate of the window, Hz.
    pub sample_rate_hz: f32,
    /// The window function.
    pub window: WindowFunction,
    /// Frequency bands `[low, high)` in Hz whose power is reported.
    pub bands: [(f32, f32); B],
    /// Report peak heights and band powers in dB (`10 · log10`) instead of linear power.
    pub log: bool,
}

/// One spectral peak.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Peak {
    /// The peak bin's frequency, Hz.
    pub frequency_hz: f32,
    /// Its power (linear, or dB with [`SpectralConfig::log`]).
    pub height: f32,
}

/// The spectral features of one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SpectralFeatures<const P: usize, const B: usize> {
    /// Root mean square of the axis after removing its mean.
    pub rms: f32,
    /// The `P` highest peaks, highest first; `found` of them are real, the rest are zero.
    pub peaks: [Peak; P],
    /// How many entries of `peaks` are real peaks.
    pub found: usize,
    /// The power in each configured band.
    pub bands: [f32; B],
}

/// The analyser: configuration, window coefficients and FFT buffer for windows of `N` samples.
#[derive(Clone, Debug)]
pub struct Spectral<const N: usize, const P: usize, const B: usize> {
    config: SpectralConfig<B>,
    coefficients: [f32; N],
    buffer: [f32; N],
}

/// The smallest power in dB mode's logarithm, so silence gives -200 dB, not `-inf`.
const LOG_FLOOR: f32 = 1e-20;

impl<const N: usize, const P: usize, const B: usize> Spectral<N, P, B> {
    const VALID_LENGTH: () = assert!(
        N == 32 || N == 64 || N == 128 || N == 256 || N == 512,
        "Spectral: N must be 32, 64, 128, 256 or 512"
    );

    /// An analyser for `config`.
    pub fn new(config: SpectralConfig<B>) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID_LENGTH;
        let mut coefficients = [1.0f32; N];
        if config.window == WindowFunction::Hann {
            for (n, c) in coefficients.iter_mut().enumerate() {
                *c = 0.5 - 0.5 * libm::cosf(2.0 * core::f32::consts::PI * n as f32 / N as f32);
            }
        }
        Spectral { config, coefficients, buffer: [0.0; N] }
    }

    /// The configuration.
    pub fn config(&self) -> &SpectralConfig<B> {
        &self.config
    }

    /// The frequency of FFT bin `k`, Hz.
    pub fn bin_frequency(&self, k: usize) -> f32 {
        k as f32 * self.config.sample_rate_hz / N as f32
    }

    /// The features of channel `axis` of a window of samples (`samples[i].channel(axis)`).
    pub fn analyze_axis<S: Sample>(
        &mut self,
        samples: &[S; N],
        axis: usize,
    ) -> SpectralFeatures<P, B> {
        let mut values = [0.0f32; N];
        for (v, s) in values.iter_mut().zip(samples) {
            *v = s.channel(axis);
        }
        self.analyze(&values)
    }

    /// The features of one axis of `N` samples.
    pub fn analyze(&mut self, samples: &[f32; N]) -> SpectralFeatures<P, B> {
        let mean = samples.iter().sum::<f32>() / N as f32;
        let mut sum_squares = 0.0f32;
        for ((b, &x), &w) in self.buffer.iter_mut().zip(samples).zip(&self.coefficients) {
            let centred = x - mean;
            sum_squares += centred * centred;
            *b = centred * w;
        }
        let rms = crate::math::sqrt(sum_squares / N as f32);

        let log = self.config.log;
        let scale = 1.0 / (N as f32 * N as f32);
        let mut power = [0.0f32; N];
        let bins = N / 2;
        let spectrum = rfft(&mut self.buffer);
        for (p, c) in power.iter_mut().zip(spectrum.iter()).take(bins).skip(1) {
            *p = (c.re * c.re + c.im * c.im) * scale;
        }
        // microfft packs the Nyquist bin's real part into bin 0's imaginary part.
        if let (Some(nyquist), Some(first)) = (power.get_mut(bins), spectrum.first()) {
            *nyquist = first.im * first.im * scale;
        }
        let to_output = |p: f32| {
            if log {
                10.0 * libm::log10f(p.max(LOG_FLOOR))
            } else {
                p
            }
        };

        let mut peaks = [Peak::default(); P];
        let mut found = 0;
        for k in 1..=bins {
            let p = power[k];
            let above_lower = k == 1 || p > power[k - 1];
            let not_below_upper = k == bins || p >= power.get(k + 1).copied().unwrap_or(0.0);
            if !(above_lower && not_below_upper) || p <= 0.0 {
                continue;
            }
            // Insert into the sorted top-P list (linear power compared, so ties keep bin order).
            let mut at = found;
            while at > 0 && peaks[at - 1].height < p {
                at -= 1;
            }
            if at >= P {
                continue;
            }
            let last = found.min(P - 1);
            peaks.copy_within(at..last, at + 1);
            peaks[at] = Peak { frequency_hz: self.bin_frequency(k), height: p };
            found = (found + 1).min(P);
        }
        for peak in &mut peaks[..found] {
            peak.height = to_output(peak.height);
        }

        let mut bands = [0.0f32; B];
        for (band, &(low, high)) in bands.iter_mut().zip(&self.config.bands) {
            let mut sum = 0.0f32;
            for (k, &p) in power.iter().enumerate().take(bins + 1).skip(1) {
                let f = self.bin_frequency(k);
                if f >= low && f < high {
                    sum += p;
                }
            }
            *band = to_output(sum);
        }

        SpectralFeatures { rms, peaks, found, bands }
    }
}
