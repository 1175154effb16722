//! # edge-reflex
//!
//! A sensor-to-action *reflex* for microcontrollers: samples flow through a fixed graph of stages
//! and trigger a local action in milliseconds, with no cloud round-trip.
//!
//! ```text
//! Sensor -> Window -> [Features] -> Gate -> Quantizer -> Model -> Action
//! ```
//!
//! | stage | trait / type | does |
//! |---|---|---|
//! | [`sensor`] | [`Sensor`](sensor::Sensor), [`AsyncSensor`](sensor::AsyncSensor) | reads one sample (real [`drivers`], or any closure) |
//! | [`window`] | [`Window<S, N, HOP>`](window::Window) | keeps the last `N` samples, ready every `HOP`, with running features |
//! | [`feature`] | [`FeatureStage`](feature::FeatureStage) | the window's samples as they are, or features: spectral bands, a spectrogram ([`frontend`]) |
//! | [`gate`] | [`Gate`](gate::Gate) | decides if the model runs: thresholds, hysteresis, rate limits, `and`/`or`/`not` |
//! | [`quantizer`] | [`Quantizer`](quantizer::Quantizer) | writes the window into the model's int8 input, TFLite's rounding |
//! | [`model`] | [`Model`](model::Model) | int8 in, int8 out: a [z-score detector](model::ZScoreDetector) or a TFLite model run by the [`engine`] |
//! | [`action`] | [`Rule`](action::Rule), [`Action`](action::Action) | turns scores into a decision and acts: a GPIO, a closure, both |
//!
//! The [`graph`] composes them with no dynamic dispatch and no heap, runs them blocking or async,
//! never panics on bad input (bus errors, NaN samples and failed actions are counted in [`stats`]
//! and reported per step), and keeps the telemetry counters. Beside the stages, a [`drift`] monitor
//! watches whether the machine moves away from its baseline and a [`health`] monitor whether the
//! sensor itself still tells the truth (out-of-range values, a frozen sensor, a dead axis, a
//! dropout); both raise events to the action. What the crate promises under bad input is stated,
//! with its tests, in `docs/reliability.md`.
//!
//! ## Example
//!
//! A vibration monitor on a simulated bearing: the model runs only on loud windows, and a pin goes
//! high while a fault is detected.
//!
//! ```
//! use edge_reflex::prelude::*;
//! use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS};
//! # use core::convert::Infallible;
//! # struct Led(bool);
//! # impl embedded_hal::digital::ErrorType for Led { type Error = Infallible; }
//! # impl embedded_hal::digital::OutputPin for Led {
//! #     fn set_low(&mut self) -> Result<(), Infallible> { self.0 = false; Ok(()) }
//! #     fn set_high(&mut self) -> Result<(), Infallible> { self.0 = true; Ok(()) }
//! # }
//!
//! let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
//! let sensor = FnSensor::new(move || Ok::<[f32; 3], ()>(bearing.next_sample()));
//! let input = QuantParams::new(0.15, 0)?; // a NaN, zero or negative scale is refused here
//! let model = ZScoreDetector::<{ 64 * 3 }>::new(input, 3, 8)?;
//! let mut graph = Graph::new(
//!     Stages {
//!         sensor,
//!         window: Window::<[f32; 3], 64, 32>::new(),
//!         gate: Threshold::new(Feature::StdDev, 0.15).or(EveryNth::new(24)),
//!         quantizer: AffineQuantizer::for_input_of(&model)?,
//!         model,
//!         rule: Rule::ScoreAtLeast { index: 0, threshold: 6.0 },
//!         action: PinAlarm::new(Led(false)),
//!     },
//!     NoClock,
//! );
//! let mut detections = 0;
//! for _ in 0..edge_reflex::sim::DEMO_SAMPLES {
//!     if let Ok(Step::Inferred(d)) = graph.step() {
//!         detections += d.triggered as u32;
//!     }
//! }
//! let stats = graph.stats();
//! assert!(detections > 0);
//! assert!(stats.gated_out * 10 >= stats.windows * 9); // 90% of windows never reach the model
//! # Ok::<(), ZScoreError>(())
//! ```
//!
//! ## Design rules
//!
//! * `#![no_std]`, no allocation: capacities are in types (`Window<S, N, HOP>`), the caller lends
//!   memory (the engine's arena).
//! * No panics on input: every failure is a typed error per stage.
//! * Blocking and async forms mirror each other and share the stage logic ([`Graph::feed`]).
//!
//! ## Features
//!
//! * `defmt`: `defmt::Format` on public types.
//! * `serde`: `Serialize`/`Deserialize` on statistics and configuration types.
//! * `update`: signed model updates over NOR flash (the `update` module; see `docs/updates.md`).
//!
//! See `docs/architecture.md` for the data flow and error model, `docs/engine.md` for the TFLite
//! engine, `docs/frontend.md` for the signal front-ends ([`frontend`]: the bit-exact micro_speech
//! audio front-end, spectral features, MFE/MFCC).
//!
//! [`Graph::feed`]: graph::Graph::feed
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

#[cfg(test)]
extern crate std;

pub mod action;
#[cfg(feature = "serde")]
pub mod diagnostic;
pub mod drift;
pub mod drivers;
pub mod engine;
pub mod feature;
pub mod frontend;
pub mod gate;
pub mod graph;
pub mod health;
pub mod math;
pub mod model;
pub mod power;
pub mod quantizer;
pub mod sample;
pub mod sensor;
pub mod sim;
pub mod stats;
pub mod telemetry;
pub mod time;
#[cfg(feature = "update")]
pub mod update;
pub mod vibration;
pub mod window;

/// The names most graphs need, in one `use`.
pub mod prelude {
    pub use crate::action::{Action, Decision, FnAction, NoAction, PinAlarm, Rule, Scores};
    pub use crate::feature::{FeatureStage, Raw};
    pub use crate::gate::{
        Always, Band, EveryNth, Gate, GateExt, GateInput, Hysteresis, MinInterval, Threshold,
    };
    pub use crate::graph::{Graph, GraphError, Stages, Step};
    pub use crate::model::{
        Model, QuantParams, QuantParamsError, Shape, ZScoreDetector, ZScoreError,
    };
    pub use crate::quantizer::{AffineQuantizer, Quantizer};
    pub use crate::sample::Sample;
    pub use crate::sensor::{AsyncSensor, FnSensor, Sensor};
    pub use crate::stats::Stats;
    pub use crate::time::{Clock, Instant, NoClock};
    pub use crate::window::{Feature, Features, Window};
}
