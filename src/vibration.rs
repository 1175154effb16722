//! A ready-made vibration reflex for predictive maintenance, written once for every board.
//!
//! [`graph`] wires a 3-axis accelerometer into the reflex with the settings the demo, the tests
//! and the board firmware share: a 64-sample window every 32 samples, a gate that passes only
//! windows whose vibration (standard deviation of the acceleration magnitude) is high — plus a
//! regular heartbeat window so the model keeps seeing what normal looks like — the model's own
//! input quantization, and a [`Rule`] on output 0. Any [`Model`] fits: the statistical
//! [`ZScoreDetector`] out of the box, or an int8 TFLite model through
//! the [engine](crate::engine).
//!
//! ```
//! use edge_reflex::action::NoAction;
//! use edge_reflex::sensor::FnSensor;
//! use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS};
//! use edge_reflex::time::NoClock;
//! use edge_reflex::vibration::{self, VibrationConfig};
//!
//! let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
//! let sensor = FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()));
//! let config = VibrationConfig::default();
//! let model = vibration::zscore_model(&config).unwrap();
//! let mut graph = vibration::graph(sensor, model, NoAction, NoClock, &config).unwrap();
//! for _ in 0..edge_reflex::sim::DEMO_SAMPLES {
//!     let _ = graph.step();
//! }
//! assert!(graph.stats().anomalies >= 1); // the first fault episode starts at sample 8000
//! assert!(graph.stats().gated_fraction() >= 0.9);
//! ```
//!
//! The spectral mode puts a [feature stage](crate::feature) between the window and the gate:
//! [`spectral_stage`] turns each window into [`SPECTRAL_FEATURES`] values (per axis, the RMS and
//! the power in [`SPECTRAL_BANDS`], in dB) and [`kmeans_model`] scores them by their distance to
//! cluster centres fitted on normal data (`reflex kmeans fit`; the bearing example's are in
//! `models/bearing_kmeans.rs`).
//!
//! This module does not read hardware; the caller passes the sensor, the action and the clock.

use crate::action::{Action, Rule};
use crate::frontend::spectral::{SpectralConfig, WindowFunction};
use crate::frontend::stage::SpectralStage;
use crate::gate::{EveryNth, GateExt, Or, Threshold};
use crate::graph::{Graph, Stages};
use crate::health::HealthConfig;
use crate::model::{
    KMeansDetector, KMeansError, Model, QuantParams, QuantParamsError, ZScoreDetector, ZScoreError,
};
use crate::quantizer::AffineQuantizer;
use crate::time::Clock;
use crate::window::{Feature, Window};

/// Samples per window.
pub const WINDOW: usize = 64;
/// New samples between two windows.
pub const HOP: usize = 32;
/// Channels per sample (X, Y, Z).
pub const CHANNELS: usize = 3;
/// Length of the model's int8 input: `WINDOW × CHANNELS`, time-major.
pub const INPUT_LEN: usize = WINDOW * CHANNELS;

/// The largest acceleration a ±2 g accelerometer reports, m/s² (2.048 g: the LIS3DH's and
/// ADXL345's rails sit just inside it).
pub const FULL_SCALE: f32 = 2.048 * 9.806_65;

/// The gate: loud windows, or every `heartbeat_every`-th window.
pub type VibrationGate = Or<Threshold, EveryNth>;

/// The reflex's type for a given sensor, model, action and clock.
pub type VibrationGraph<Sn, M, A, C> =
    Graph<Sn, [f32; 3], VibrationGate, AffineQuantizer, M, A, C, WINDOW, HOP>;

/// The settings of the vibration reflex.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VibrationConfig {
    /// Windows whose acceleration-magnitude standard deviation reaches this go to the model, m/s².
    pub gate_std_dev: f32,
    /// Every this many windows, one goes to the model whatever its level (baseline upkeep).
    pub heartbeat_every: u32,
    /// Score on output 0 at which the reflex fires.
    pub trigger_score: f32,
    /// Windows the statistical model learns from before it scores.
    pub warmup: u32,
    /// Quantization of the statistical model's input (the TFLite engine brings its own).
    pub input_quant: QuantParams,
    /// The sensor health checks: full scale, flat-line and dropout limits.
    pub health: HealthConfig,
}

impl Default for VibrationConfig {
    /// Tuned on the simulated bearing of [`sim`](crate::sim): ±2 g input range, a 0.15 m/s²
    /// gate, a heartbeat every 24th window, z ≥ 6 fires after 8 warm-up windows. Health: a ±2 g
    /// accelerometer's full scale (its rails, ±2047 mg, are in range), flat after one window of
    /// exactly repeated values, stopped after one window's worth of periods without a sample.
    fn default() -> Self {
        VibrationConfig {
            gate_std_dev: 0.15,
            heartbeat_every: 24,
            trigger_score: 6.0,
            warmup: 8,
            input_quant: QuantParams { scale: 2.0 * 9.806_65 / 127.0, zero_point: 0 },
            health: HealthConfig {
                full_scale: FULL_SCALE,
                stuck_samples: WINDOW as u32,
                dropout_periods: WINDOW as u32,
                range_recovery: 1_000,
            },
        }
    }
}

impl VibrationConfig {
    /// The settings for a classifier whose output 0 is a fault probability, such as
    /// `models/bearing_classifier.tflite`: the default gate, firing at p ≥ 0.5.
    pub fn classifier() -> Self {
        VibrationConfig { trigger_score: 0.5, ..VibrationConfig::default() }
    }
}

/// The statistical model for this reflex; refused when `config.input_quant` cannot quantize.
pub fn zscore_model(config: &VibrationConfig) -> Result<ZScoreDetector<INPUT_LEN>, ZScoreError> {
    ZScoreDetector::new(config.input_quant, CHANNELS, config.warmup)
}

/// The frequency bands of the spectral mode, Hz `[low, high)`: the shaft's vibration, the
/// defect frequencies, the housing's resonances, the rest up to Nyquist (a 1 kHz sensor).
pub const SPECTRAL_BANDS: [(f32, f32); 4] =
    [(0.0, 50.0), (50.0, 150.0), (150.0, 300.0), (300.0, 501.0)];

/// Features per window in the spectral mode: per axis, the RMS then the band powers, in dB.
pub const SPECTRAL_FEATURES: usize = CHANNELS * (1 + SPECTRAL_BANDS.len());

/// The spectral mode's feature stage.
pub type VibrationSpectral = SpectralStage<WINDOW, { SPECTRAL_BANDS.len() }, SPECTRAL_FEATURES>;

/// Quantization of the spectral features (dB): steps of 0.5 dB from -94 dB to +33.5 dB.
pub const SPECTRAL_INPUT_QUANT: QuantParams = QuantParams { scale: 0.5, zero_point: 60 };

/// Quantization of the k-means distance (dB): steps of 0.25 from 0 to 63.75.
pub const KMEANS_OUTPUT_QUANT: QuantParams = QuantParams { scale: 0.25, zero_point: -128 };

/// The spectral mode's feature stage for a sensor sampled at `sample_rate_hz`: Hann window, RMS
/// and [`SPECTRAL_BANDS`] per axis, in dB.
pub fn spectral_stage(sample_rate_hz: f32) -> VibrationSpectral {
    SpectralStage::new(SpectralConfig {
        sample_rate_hz,
        window: WindowFunction::Hann,
        bands: SPECTRAL_BANDS,
        log: true,
    })
}

/// The k-means detector over the spectral features, with `centres` fitted on normal data.
pub fn kmeans_model<const K: usize>(
    centres: [[f32; SPECTRAL_FEATURES]; K],
) -> Result<KMeansDetector<SPECTRAL_FEATURES, K>, KMeansError> {
    KMeansDetector::new(SPECTRAL_INPUT_QUANT, centres, KMEANS_OUTPUT_QUANT)
}

/// The gate for this reflex.
pub fn gate(config: &VibrationConfig) -> VibrationGate {
    Threshold::new(Feature::StdDev, config.gate_std_dev).or(EveryNth::new(config.heartbeat_every))
}

/// Builds the vibration reflex around `model`, quantizing with the model's own input parameters,
/// with a sensor [health monitor](crate::health) set from `config.health`.
///
/// Refused when the model's input or output quantization cannot quantize (a NaN, infinite, zero or
/// negative scale, a zero point outside int8): such a model would score every window as the same
/// meaningless value and the alarm would never fire.
pub fn graph<Sn, M, A, C>(
    sensor: Sn,
    model: M,
    action: A,
    clock: C,
    config: &VibrationConfig,
) -> Result<VibrationGraph<Sn, M, A, C>, QuantParamsError>
where
    M: Model,
    A: Action,
    C: Clock,
{
    let quantizer = AffineQuantizer::for_input_of(&model)?;
    AffineQuantizer::for_output_of(&model)?;
    Ok(Graph::new(
        Stages {
            sensor,
            window: Window::new(),
            gate: gate(config),
            quantizer,
            model,
            rule: Rule::ScoreAtLeast { index: 0, threshold: config.trigger_score },
            action,
        },
        clock,
    )
    .with_health_monitor(config.health))
}
