//! TensorFlow's micro_speech audio front-end ("microfrontend", the `audio_microfrontend` op),
//! bit-exact: 16 kHz `i16` audio in, 40 `u16` mel features per 20 ms frame out, and the `int8`
//! conversion the micro_speech keyword model expects.
//!
//! ```text
//! samples ─push─▶ 480-sample window (step 320) ─▶ Hann (Q12) ─▶ normalise to 15 bits
//!   ─▶ 512-point fixed-point real FFT (kissfft int16) ─▶ |X|² ─▶ 40 mel bands, √ ─▶ noise
//!   reduction ─▶ PCAN gain ─▶ log ─▶ [u16; 40] ─to_model_input─▶ [i8; 40]
//! ```
//!
//! The settings are fixed to micro_speech's (30 ms window, 20 ms step, 40 channels from 125 to
//! 7500 Hz, noise smoothing 0.025/0.06 with 10 bits, PCAN strength 0.95, offset 80, 21 gain bits,
//! log scale shift 6); the tables the C library builds from `float` math at start-up are
//! precomputed in [`tables`]. All per-frame arithmetic is integer. The front-end is stateful across
//! frames (the noise estimate, which PCAN also reads): [`MicroFrontend::reset`] starts a new
//! stream. Samples may arrive in chunks of any size; the frames do not depend on the chunking.
//!
//! ```
//! use edge_reflex::frontend::microfrontend::{to_model_input, MicroFrontend, NUM_CHANNELS};
//!
//! let mut frontend = MicroFrontend::new();
//! let audio = [0i16; 800]; // 50 ms of silence: frames at 480 and 800 samples
//! let mut frames = 0;
//! frontend.push(&audio, |features| {
//!     let mut input = [0i8; NUM_CHANNELS];
//!     to_model_input(features, &mut input);
//!     frames += 1;
//! });
//! assert_eq!(frames, 2);
//! ```
//!
//! What it does not do: other sample rates, window sizes or channel counts (the tables are for
//! micro_speech's settings), the op's frame stacking (`left_context`/`right_context`).

mod fft;
mod filterbank;
mod log_scale;
mod noise_reduction;
mod pcan;
pub mod tables;

pub use fft::{Complex16, RealFft, FFT_BINS, FFT_SIZE};

/// Audio sample rate, Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples per analysis window (30 ms).
pub const WINDOW_SAMPLES: usize = 480;
/// Samples between the starts of two frames (20 ms).
pub const STEP_SAMPLES: usize = 320;
/// Features per frame: the filterbank's mel channels.
pub const NUM_CHANNELS: usize = 40;

/// Fraction bits of the window coefficients.
const WINDOW_BITS: u32 = 12;

/// One frame of features: 40 log mel energies.
pub type Features = [u16; NUM_CHANNELS];

/// The number of frames a stream of `samples` samples yields from a fresh state:
/// `(samples - 480) / 320 + 1`, or 0 below one window.
pub const fn frames_for(samples: usize) -> usize {
    if samples < WINDOW_SAMPLES {
        0
    } else {
        (samples - WINDOW_SAMPLES) / STEP_SAMPLES + 1
    }
}

/// The micro_speech model's input value of a feature: `(f · 256 + 333) / 666 - 128`, clamped to
/// `i8` (`GenerateMicroFeatures` in TFLM's micro_speech example; the model's input scale is
/// 25.6 / 256 · 26 / 25.6 ≈ 0.1017).
pub const fn quantize_feature(feature: u16) -> i8 {
    const VALUE_SCALE: i32 = 256;
    const VALUE_DIV: i32 = 666;
    let v = (feature as i32 * VALUE_SCALE + VALUE_DIV / 2) / VALUE_DIV - 128;
    if v < -128 {
        -128
    } else if v > 127 {
        127
    } else {
        v as i8
    }
}

/// Converts one frame of features into the micro_speech model's `int8` input
/// ([`quantize_feature`] of each value).
pub fn to_model_input(features: &Features, out: &mut [i8; NUM_CHANNELS]) {
    for (o, &f) in out.iter_mut().zip(features) {
        *o = quantize_feature(f);
    }
}

/// The streaming front-end: its window buffer, noise estimate and working memory (about 4 KiB,
/// no allocation).
#[derive(Clone, Debug)]
pub struct MicroFrontend {
    /// Samples of the window being filled; the first `used` are valid.
    input: [i16; WINDOW_SAMPLES],
    used: usize,
    /// Noise reduction's per-channel estimate (read by PCAN).
    noise_estimate: [u32; NUM_CHANNELS],
    fft: RealFft,
    fft_input: [i16; FFT_SIZE],
    spectrum: [Complex16; FFT_BINS],
}

impl Default for MicroFrontend {
    fn default() -> Self {
        Self::new()
    }
}

impl MicroFrontend {
    /// A front-end in its initial state (`FrontendPopulateState`).
    pub const fn new() -> Self {
        MicroFrontend {
            input: [0; WINDOW_SAMPLES],
            used: 0,
            noise_estimate: [0; NUM_CHANNELS],
            fft: RealFft::new(),
            fft_input: [0; FFT_SIZE],
            spectrum: [Complex16 { re: 0, im: 0 }; FFT_BINS],
        }
    }

    /// Forgets all audio: empty window, zero noise estimate (`FrontendReset`).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Samples buffered towards the next frame (0 to 479).
    pub fn buffered(&self) -> usize {
        self.used
    }

    /// Feeds samples until one frame is complete or `samples` is used up, as
    /// `FrontendProcessSamples` does: returns how many samples were consumed and the frame's
    /// features if one completed. Call again with the rest of the slice.
    pub fn process_samples(&mut self, samples: &[i16]) -> (usize, Option<Features>) {
        let take = (WINDOW_SAMPLES - self.used).min(samples.len());
        self.input[self.used..self.used + take].copy_from_slice(&samples[..take]);
        self.used += take;
        if self.used < WINDOW_SAMPLES {
            return (take, None);
        }
        let features = self.frame();
        self.input.copy_within(STEP_SAMPLES.., 0);
        self.used -= STEP_SAMPLES;
        (take, Some(features))
    }

    /// Feeds all of `samples`, calling `on_frame` with the features of every frame that completes
    /// (one every 320 samples once the first 480 have arrived).
    pub fn push(&mut self, mut samples: &[i16], mut on_frame: impl FnMut(&Features)) {
        while !samples.is_empty() {
            let (used, features) = self.process_samples(samples);
            if let Some(features) = features {
                on_frame(&features);
            }
            samples = &samples[used..];
        }
    }

    /// Computes the features of the full window in `self.input`.
    fn frame(&mut self) -> Features {
        // Window (Q12) and the largest magnitude, negated in i16 as the C does.
        let mut max_abs: i16 = 0;
        for ((out, &x), &w) in self.fft_input.iter_mut().zip(&self.input).zip(&tables::WINDOW) {
            let v = ((i32::from(x) * i32::from(w)) >> WINDOW_BITS) as i16;
            *out = v;
            let magnitude = if v < 0 { v.wrapping_neg() } else { v };
            max_abs = max_abs.max(magnitude);
        }
        // Scale the window up so its peak uses 15 bits, then zero-pad to the FFT size.
        let shift = 15 - (16 - (max_abs as u16).leading_zeros());
        for v in &mut self.fft_input[..WINDOW_SAMPLES] {
            *v = ((*v as u16 as u32) << shift) as u16 as i16;
        }
        self.fft_input[WINDOW_SAMPLES..].fill(0);
        self.fft.transform(&self.fft_input, &mut self.spectrum);

        let mut signal = [0u32; NUM_CHANNELS];
        filterbank::apply(&self.spectrum, shift, &mut signal);
        noise_reduction::apply(&mut self.noise_estimate, &mut signal);
        pcan::apply(&self.noise_estimate, &mut signal);
        let mut features = [0u16; NUM_CHANNELS];
        log_scale::apply(&signal, &mut features);
        features
    }
}
