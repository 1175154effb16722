//! The front-ends as [feature stages](crate::feature) of the [`Graph`](crate::graph::Graph):
//!
//! * [`SpectralStage`]: per axis of a vibration window, its RMS and the power in configured
//!   frequency bands ([`spectral`](super::spectral)), optionally in decibels, as one vector;
//! * [`MicroSpeechStage`]: 16 kHz audio to the micro_speech model's spectrogram (the last
//!   `FRAMES` frames of 40 features), one frame per 20 ms window, bit-exact with
//!   [`microfrontend`](super::microfrontend).
//!
//! Both keep every buffer in their type: no allocation.

use super::microfrontend::{to_model_input, MicroFrontend, NUM_CHANNELS, STEP_SAMPLES};
use super::spectral::{Spectral, SpectralConfig};
use crate::feature::{Extracted, FeatureStage};
use crate::model::QuantParams;
use crate::quantizer::AffineQuantizer;
use crate::sample::Sample;

/// The smallest RMS in dB mode's logarithm, so a silent axis gives -200 dB, not `-inf`.
const RMS_FLOOR: f32 = 1e-10;

/// Spectral features of every axis of an `N`-sample window: `OUT = channels × (1 + B)` values,
/// axis by axis, each axis's RMS (around its mean) then its `B` band powers (see
/// [`spectral`](super::spectral) for the definitions). With [`SpectralConfig::log`] the RMS is
/// `20 · log10(max(rms, 1e-10))` and the band powers `10 · log10(max(p, 1e-20))`, all in dB.
///
/// `OUT` is checked against the sample's channels when the stage is first used in a graph (a
/// compile-time error in that build).
///
/// ```
/// use edge_reflex::feature::FeatureStage;
/// use edge_reflex::frontend::spectral::{SpectralConfig, WindowFunction};
/// use edge_reflex::frontend::stage::SpectralStage;
///
/// let config = SpectralConfig {
///     sample_rate_hz: 1000.0,
///     window: WindowFunction::Hann,
///     bands: [(0.0, 100.0), (100.0, 500.1)],
///     log: false,
/// };
/// let mut stage = SpectralStage::<64, 2, 3>::new(config);
/// // A 250 Hz tone of amplitude 1 (on bin 16): RMS 1/√2, all its power in the upper band
/// // (through the Hann window, bins 15 to 17: 1/64 + 1/16 + 1/64).
/// let tone: [f32; 64] =
///     core::array::from_fn(|n| (2.0 * core::f32::consts::PI * 250.0 * n as f32 / 1000.0).sin());
/// let (features, rest) = FeatureStage::<f32, 64, 32>::extract(&mut stage, &tone, &[]).unwrap();
/// assert!(rest.is_empty());
/// assert!((features[0] - core::f32::consts::FRAC_1_SQRT_2).abs() < 1e-5);
/// assert!(features[1] < 1e-6 && (features[2] - 0.09375).abs() < 1e-5);
/// ```
#[derive(Clone, Debug)]
pub struct SpectralStage<const N: usize, const B: usize, const OUT: usize> {
    spectral: Spectral<N, 1, B>,
    log: bool,
    values: [f32; N],
    out: [f32; OUT],
}

impl<const N: usize, const B: usize, const OUT: usize> SpectralStage<N, B, OUT> {
    /// A stage computing `config`'s RMS and bands on every axis (`N` as for
    /// [`Spectral`]: 32 to 512, a power of two).
    pub fn new(config: SpectralConfig<B>) -> Self {
        SpectralStage {
            spectral: Spectral::new(config),
            log: config.log,
            values: [0.0; N],
            out: [0.0; OUT],
        }
    }

    /// The analyser's configuration.
    pub fn config(&self) -> &SpectralConfig<B> {
        self.spectral.config()
    }

    /// The features of the last window (zeros before the first).
    pub fn last(&self) -> &[f32; OUT] {
        &self.out
    }

    /// The features of the window `older ++ newer` (`N` samples, oldest first; what the graph
    /// calls through [`FeatureStage::extract`], for any window hop).
    pub fn compute<S: Sample>(&mut self, older: &[S], newer: &[S]) -> &[f32; OUT] {
        #[allow(clippy::let_unit_value)]
        let () = Layout::<S, B, OUT>::VALID;
        for (axis, out) in self.out.chunks_exact_mut(1 + B).enumerate() {
            for (v, s) in self.values.iter_mut().zip(older.iter().chain(newer)) {
                *v = s.channel(axis);
            }
            let features = self.spectral.analyze(&self.values);
            let rms = if self.log {
                20.0 * libm::log10f(features.rms.max(RMS_FLOOR))
            } else {
                features.rms
            };
            out[0] = rms;
            out[1..].copy_from_slice(&features.bands);
        }
        &self.out
    }
}

/// `OUT == channels × (1 + B)`, evaluated where a stage is used with samples of type `S`.
struct Layout<S, const B: usize, const OUT: usize>(core::marker::PhantomData<S>);

impl<S: Sample, const B: usize, const OUT: usize> Layout<S, B, OUT> {
    const VALID: () =
        assert!(OUT == S::CHANNELS * (1 + B), "SpectralStage: OUT must be channels × (1 + bands)");
}

impl<S: Sample, const N: usize, const HOP: usize, const B: usize, const OUT: usize>
    FeatureStage<S, N, HOP> for SpectralStage<N, B, OUT>
{
    type Output = f32;

    fn extract<'a>(&'a mut self, older: &'a [S], newer: &'a [S]) -> Extracted<'a, f32> {
        Some((self.compute(older, newer), &[]))
    }
}

/// The micro_speech spectrogram as a feature stage: behind a `Window<f32, 480, 320>` of 16 kHz
/// audio (samples are `i16` values carried as `f32`, rounded and saturated to `i16`), each
/// window is one 30 ms frame of [`MicroFrontend`], its 40 features converted to the model's
/// int8 input by [`to_model_input`] and kept with the last `FRAMES` frames. Once `FRAMES`
/// frames are in (49 for micro_speech), every window gives the whole spectrogram, oldest frame
/// first, as the two halves of a ring (no frame is copied again): a gate such as
/// [`EveryNth`](crate::gate::EveryNth) decides how often the model runs.
///
/// The output values are the model's int8 inputs themselves (as `f32`), so the quantizer behind
/// this stage is [`MicroSpeechStage::quantizer`], the identity; the front-end's frames, and so
/// the model's input, are bit-exact with TensorFlow's (`tests/graph_features.rs`).
#[derive(Clone, Debug)]
pub struct MicroSpeechStage<const FRAMES: usize> {
    frontend: MicroFrontend,
    /// The last `FRAMES` frames as a ring; `next` is where the next frame goes (the oldest once
    /// full).
    frames: [[f32; NUM_CHANNELS]; FRAMES],
    next: usize,
    pushed: u64,
}

impl<const FRAMES: usize> Default for MicroSpeechStage<FRAMES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const FRAMES: usize> MicroSpeechStage<FRAMES> {
    /// A stage in its initial state (fresh front-end, no frame).
    pub const fn new() -> Self {
        MicroSpeechStage {
            frontend: MicroFrontend::new(),
            frames: [[0.0; NUM_CHANNELS]; FRAMES],
            next: 0,
            pushed: 0,
        }
    }

    /// The quantizer to put behind this stage: scale 1, zero point 0, which writes the stage's
    /// integer outputs into the model's input unchanged.
    pub const fn quantizer() -> AffineQuantizer {
        AffineQuantizer::unchecked(QuantParams { scale: 1.0, zero_point: 0 })
    }

    /// Frames computed since the start or the last reset.
    pub fn frames_pushed(&self) -> u64 {
        self.pushed
    }

    /// The last `FRAMES` frames' model input values, oldest first, as two slices (empty until
    /// `FRAMES` frames are in).
    pub fn spectrogram(&self) -> (&[f32], &[f32]) {
        if self.pushed < FRAMES as u64 {
            return (&[], &[]);
        }
        let (newer, older) = self.frames.split_at(self.next);
        (older.as_flattened(), newer.as_flattened())
    }

    fn push_frame(&mut self, frame: [f32; NUM_CHANNELS]) {
        if let Some(slot) = self.frames.get_mut(self.next) {
            *slot = frame;
            self.next = if self.next + 1 >= FRAMES { 0 } else { self.next + 1 };
        }
        self.pushed += 1;
    }
}

/// An audio sample carried as `f32` to the front-end's `i16`: rounded, saturated.
fn to_pcm(x: f32) -> i16 {
    crate::math::round(x).clamp(-32768.0, 32767.0) as i16
}

impl<const FRAMES: usize> FeatureStage<f32, { super::microfrontend::WINDOW_SAMPLES }, STEP_SAMPLES>
    for MicroSpeechStage<FRAMES>
{
    type Output = f32;

    fn extract<'a>(&'a mut self, older: &'a [f32], newer: &'a [f32]) -> Extracted<'a, f32> {
        // The front-end keeps the 160 samples its last frame shares with the next one: give it
        // only the samples it has not seen, the newest of the window.
        const WINDOW: usize = super::microfrontend::WINDOW_SAMPLES;
        let fresh = WINDOW - self.frontend.buffered();
        let skip = (older.len() + newer.len()).saturating_sub(fresh);
        let mut chunk = [0i16; WINDOW];
        let mut n = 0;
        // The unseen samples: the end of `older` (when the window's ring wraps inside them),
        // then `newer`.
        let from_older = older.get(skip..).unwrap_or(&[]);
        let from_newer = newer.get(skip.saturating_sub(older.len())..).unwrap_or(&[]);
        for (c, &x) in chunk.iter_mut().zip(from_older.iter().chain(from_newer)) {
            *c = to_pcm(x);
            n += 1;
        }
        let mut frame = None;
        self.frontend.push(&chunk[..n], |features| {
            let mut input = [0i8; NUM_CHANNELS];
            to_model_input(features, &mut input);
            frame = Some(input.map(f32::from));
        });
        if let Some(frame) = frame {
            self.push_frame(frame);
        }
        let (older, newer) = self.spectrogram();
        if older.is_empty() && newer.is_empty() {
            None
        } else {
            Some((older, newer))
        }
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}
