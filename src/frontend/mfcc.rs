//! Mel filterbank energies (MFE) and mel-frequency cepstral coefficients (MFCC), streaming.
//!
//! Per frame of `frame_length` samples (a new frame every `frame_stride` samples):
//!
//! 1. pre-emphasis `y[n] = x[n] - a · x[n - 1]` over the continuous stream (`a = 0` turns it off);
//! 2. a Hamming window `0.54 - 0.46 cos(2π n / (L - 1))` over the frame, zero-padded to the FFT
//!    length `FFT` (`microfft` real FFT);
//! 3. the power spectrum `P[k] = |X[k]|² / FFT`, `k = 0..=FFT/2`;
//! 4. `FILTERS` triangular filters, equally spaced on the HTK mel scale
//!    `mel(f) = 2595 log10(1 + f / 700)` from `low_hz` to `high_hz`: filter `m` rises from edge
//!    `m` to centre `m + 1` and falls to edge `m + 2` (weights 0 to 1 in Hz, by the bin's
//!    frequency `k · fs / FFT`); MFE `E[m] = ln(max(Σ w · P, 1e-10))`;
//! 5. MFCC: the orthonormal DCT-II of the MFE, `c[i] = s(i) Σ E[m] cos(π i (m + 0.5) / FILTERS)`
//!    with `s(0) = √(1 / FILTERS)`, `s(i) = √(2 / FILTERS)`, keeping `COEFFS` coefficients.
//!
//! No allocation (`FFT`, `FILTERS` and `COEFFS` are capacities in the type; the filterbank is
//! computed per bin from its edges, not stored); `f32`. Tested against an `f64` implementation of
//! the same definitions (`tests/frontend_mfcc.rs`). What it does not do: liftering, mean/variance
//! normalisation, deltas, bit-exactness with another library.

use super::real_fft::rfft;

/// What [`Mfcc`] computes.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MfccConfig {
    /// Sample rate, Hz.
    pub sample_rate_hz: f32,
    /// Samples per frame (at most the FFT length).
    pub frame_length: usize,
    /// Samples between frame starts (1 to `frame_length`).
    pub frame_stride: usize,
    /// The lowest edge of the filterbank, Hz.
    pub low_hz: f32,
    /// The highest edge of the filterbank, Hz (at most half the sample rate).
    pub high_hz: f32,
    /// The pre-emphasis coefficient `a` (0 for none; commonly 0.97).
    pub pre_emphasis: f32,
}

/// Why an [`MfccConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MfccError {
    /// `frame_length` is 0, 1 or longer than the FFT.
    FrameLength,
    /// `frame_stride` is 0 or longer than the frame.
    FrameStride,
    /// The band is empty, negative, above Nyquist, or the sample rate is not positive.
    Band,
    /// `COEFFS` is larger than `FILTERS`, or `FILTERS` is 0.
    Coefficients,
}

impl core::fmt::Display for MfccError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MfccError::FrameLength => "frame length must be 2 to the FFT length",
            MfccError::FrameStride => "frame stride must be 1 to the frame length",
            MfccError::Band => "need 0 <= low < high <= sample rate / 2",
            MfccError::Coefficients => "need 1 <= coefficients <= filters",
        })
    }
}

/// One frame's features.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MfccFrame<const FILTERS: usize, const COEFFS: usize> {
    /// Log mel filterbank energies (MFE).
    pub mfe: [f32; FILTERS],
    /// Cepstral coefficients (MFCC).
    pub mfcc: [f32; COEFFS],
}

/// The smallest filter energy before the logarithm.
const ENERGY_FLOOR: f32 = 1e-10;

/// HTK mel scale.
fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * libm::log10f(1.0 + hz / 700.0)
}

fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (libm::powf(10.0, mel / 2595.0) - 1.0)
}

/// The streaming MFE/MFCC extractor for an FFT of `FFT` points (32 to 512, a power of two).
#[derive(Clone, Debug)]
pub struct Mfcc<const FFT: usize, const FILTERS: usize, const COEFFS: usize> {
    config: MfccConfig,
    /// Filter centres in Hz (filter `m`'s edges are the centres beside it, or the band's limits).
    centres: [f32; FILTERS],
    /// The DCT-II matrix, orthonormal scale included.
    dct: [[f32; FILTERS]; COEFFS],
    window: [f32; FFT],
    /// Pre-emphasised samples of the frame being filled; the first `used` are valid.
    input: [f32; FFT],
    used: usize,
    previous: f32,
    buffer: [f32; FFT],
}

impl<const FFT: usize, const FILTERS: usize, const COEFFS: usize> Mfcc<FFT, FILTERS, COEFFS> {
    const VALID: () = assert!(
        FFT == 32 || FFT == 64 || FFT == 128 || FFT == 256 || FFT == 512,
        "Mfcc: FFT must be 32, 64, 128, 256 or 512"
    );

    /// An extractor for `config`, or why it cannot be.
    pub fn new(config: MfccConfig) -> Result<Self, MfccError> {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID;
        if config.frame_length < 2 || config.frame_length > FFT {
            return Err(MfccError::FrameLength);
        }
        if config.frame_stride == 0 || config.frame_stride > config.frame_length {
            return Err(MfccError::FrameStride);
        }
        let nyquist = config.sample_rate_hz / 2.0;
        if !(config.sample_rate_hz > 0.0
            && config.low_hz >= 0.0
            && config.low_hz < config.high_hz
            && config.high_hz <= nyquist)
        {
            return Err(MfccError::Band);
        }
        if FILTERS == 0 || COEFFS == 0 || COEFFS > FILTERS {
            return Err(MfccError::Coefficients);
        }
        let mut centres = [0.0f32; FILTERS];
        let mel_low = hz_to_mel(config.low_hz);
        let mel_high = hz_to_mel(config.high_hz);
        for (i, c) in centres.iter_mut().enumerate() {
            let mel = mel_low + (mel_high - mel_low) * (i + 1) as f32 / (FILTERS + 1) as f32;
            *c = mel_to_hz(mel);
        }
        let mut dct = [[0.0f32; FILTERS]; COEFFS];
        let n = FILTERS as f32;
        for (i, row) in dct.iter_mut().enumerate() {
            let scale = crate::math::sqrt(if i == 0 { 1.0 } else { 2.0 } / n);
            for (m, d) in row.iter_mut().enumerate() {
                let angle = core::f32::consts::PI * i as f32 * (m as f32 + 0.5) / n;
                *d = scale * libm::cosf(angle);
            }
        }
        let mut window = [0.0f32; FFT];
        let last = (config.frame_length - 1) as f32;
        for (n, w) in window.iter_mut().take(config.frame_length).enumerate() {
            *w = 0.54 - 0.46 * libm::cosf(2.0 * core::f32::consts::PI * n as f32 / last);
        }
        Ok(Mfcc {
            config,
            centres,
            dct,
            window,
            input: [0.0; FFT],
            used: 0,
            previous: 0.0,
            buffer: [0.0; FFT],
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MfccConfig {
        &self.config
    }

    /// Forgets the stream (buffered samples and the pre-emphasis memory).
    pub fn reset(&mut self) {
        self.used = 0;
        self.previous = 0.0;
    }

    /// Feeds samples, calling `on_frame` for every frame that completes.
    pub fn push(&mut self, samples: &[f32], mut on_frame: impl FnMut(&MfccFrame<FILTERS, COEFFS>)) {
        let length = self.config.frame_length;
        for &x in samples {
            let y = x - self.config.pre_emphasis * self.previous;
            self.previous = x;
            self.input[self.used] = y;
            self.used += 1;
            if self.used == length {
                let frame = self.frame();
                on_frame(&frame);
                let stride = self.config.frame_stride;
                self.input.copy_within(stride..length, 0);
                self.used = length - stride;
            }
        }
    }

    /// The features of the full frame in `self.input`.
    fn frame(&mut self) -> MfccFrame<FILTERS, COEFFS> {
        let length = self.config.frame_length;
        for ((b, &x), &w) in self.buffer.iter_mut().zip(&self.input).zip(&self.window) {
            *b = x * w;
        }
        self.buffer[length..].fill(0.0);
        let bins = FFT / 2;
        let mut power = [0.0f32; FFT];
        let spectrum = rfft(&mut self.buffer);
        for (p, c) in power.iter_mut().zip(spectrum.iter()).take(bins) {
            *p = (c.re * c.re + c.im * c.im) / FFT as f32;
        }
        // microfft packs bin 0's real part and the Nyquist bin's real part into bin 0.
        if let Some(first) = spectrum.first() {
            power[0] = first.re * first.re / FFT as f32;
            power[bins] = first.im * first.im / FFT as f32;
        }

        let hz_per_bin = self.config.sample_rate_hz / FFT as f32;
        let mut mfe = [0.0f32; FILTERS];
        for (m, e) in mfe.iter_mut().enumerate() {
            let left = if m == 0 { self.config.low_hz } else { self.centres[m - 1] };
            let centre = self.centres[m];
            let right = self.centres.get(m + 1).copied().unwrap_or(self.config.high_hz);
            let mut sum = 0.0f32;
            for (k, &p) in power.iter().enumerate().take(bins + 1) {
                let f = k as f32 * hz_per_bin;
                let w = if f > left && f <= centre {
                    (f - left) / (centre - left)
                } else if f > centre && f < right {
                    (right - f) / (right - centre)
                } else {
                    0.0
                };
                sum += w * p;
            }
            *e = libm::logf(sum.max(ENERGY_FLOOR));
        }

        let mut mfcc = [0.0f32; COEFFS];
        for (c, row) in mfcc.iter_mut().zip(&self.dct) {
            *c = row.iter().zip(&mfe).map(|(d, e)| d * e).sum();
        }
        MfccFrame { mfe, mfcc }
    }
}
