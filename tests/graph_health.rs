//! The sensor health monitor inside the graph: absurd samples never panic and are all accounted
//! for, a stopped sensor is a dropout that empties the window, a failing health action is counted,
//! and a model whose quantization cannot work is refused when the graph is built.

use edge_reflex::action::{Action, Decision, Scores};
use edge_reflex::graph::{GraphError, Step};
use edge_reflex::health::{HealthEvent, HealthKind};
use edge_reflex::model::{Model, QuantParams, QuantParamsError, Shape};
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS};
use edge_reflex::vibration::{self, VibrationConfig, INPUT_LEN, WINDOW};
use proptest::prelude::*;

/// Remembers health events; fails on them when `fail` is set.
#[derive(Default)]
struct HealthLog {
    events: Vec<HealthEvent>,
    fail: bool,
}

impl Action for HealthLog {
    type Error = &'static str;
    fn act(&mut self, _: &Decision, _: &Scores<'_>) -> Result<(), &'static str> {
        Ok(())
    }
    fn on_health(&mut self, event: &HealthEvent) -> Result<(), &'static str> {
        self.events.push(*event);
        if self.fail {
            Err("radio down")
        } else {
            Ok(())
        }
    }
}

fn bearing() -> impl FnMut() -> [f32; 3] {
    let mut b = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    move || b.next_sample()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any bit pattern as a sample, mixed with real ones: no panic, and every sample is either
    /// in the window's count, refused as non-finite, or refused as out of range.
    #[test]
    fn any_sample_is_accounted_for(bits in prop::collection::vec(any::<[u32; 3]>(), 1..400)) {
        let config = VibrationConfig::default();
        let model = vibration::zscore_model(&config).unwrap();
        let sensor = FnSensor::new(|| Ok::<[f32; 3], ()>([0.0; 3]));
        let mut g = vibration::graph(sensor, model, HealthLog::default(), || 0u32, &config).unwrap();
        let mut real = bearing();
        let mut fed = 0u32;
        for b in &bits {
            for s in [real(), b.map(f32::from_bits)] {
                fed += 1;
                let _ = g.feed(s);
            }
        }
        let s = g.stats();
        prop_assert_eq!(s.samples + s.errors.window + s.health.out_of_range, fed);
        prop_assert!(s.score.mean.is_finite());
    }
}

#[test]
fn out_of_range_samples_are_refused_with_their_own_error() {
    let config = VibrationConfig::default();
    let model = vibration::zscore_model(&config).unwrap();
    let sensor = FnSensor::new(|| Ok::<[f32; 3], ()>([0.0; 3]));
    let mut g = vibration::graph(sensor, model, HealthLog::default(), || 0u32, &config).unwrap();
    let mut real = bearing();
    for _ in 0..10 {
        g.feed(real()).unwrap();
    }
    assert_eq!(g.feed([0.0, 1e20, 9.8]), Err(GraphError::OutOfRange));
    assert_eq!(g.feed([f32::NAN, 0.0, 9.8]), Err(GraphError::NonFiniteSample));
    assert_eq!(g.window().len(), 10);
    assert_eq!((g.stats().health.out_of_range, g.stats().errors.window), (1, 1));
    assert!(g.health().is_some_and(|h| h.is_active(HealthKind::OutOfRange)));
    // The rails of a ±2 g sensor (2047 mg) are in range.
    assert_eq!(g.feed([20.07, -20.07, 9.8]), Ok(Step::Sampled));
}

#[test]
fn missed_periods_are_a_dropout_that_empties_the_window() {
    let config = VibrationConfig::default();
    let model = vibration::zscore_model(&config).unwrap();
    let mut real = bearing();
    let sensor = FnSensor::new(move || Ok::<_, ()>(real()));
    let mut g = vibration::graph(sensor, model, HealthLog::default(), || 0u32, &config).unwrap();
    for _ in 0..100 {
        g.step().unwrap();
    }
    // An interrupt-driven caller whose data-ready line went quiet: periods with no sample.
    for _ in 0..(WINDOW - 1) {
        g.missed_period().unwrap();
    }
    assert_eq!(g.window().len(), WINDOW);
    g.missed_period().unwrap();
    assert_eq!(g.window().len(), 0, "a window never spans a gap");
    let events = &g.action_mut().events;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].kind, events[0].active, events[0].run), (HealthKind::Dropout, true, 64));
    // The next sample ends it.
    g.step().unwrap();
    let last = *g.action_mut().events.last().unwrap();
    assert_eq!((last.kind, last.active), (HealthKind::Dropout, false));
    assert_eq!(g.stats().health.dropouts, 1);
    assert_eq!(g.stats().health.events, 2);
}

#[test]
fn failed_reads_count_towards_a_dropout() {
    let config = VibrationConfig::default();
    let model = vibration::zscore_model(&config).unwrap();
    let sensor = FnSensor::new(|| Err::<[f32; 3], _>("NACK"));
    let action = HealthLog { fail: true, ..HealthLog::default() };
    let mut g = vibration::graph(sensor, model, action, || 0u32, &config).unwrap();
    for _ in 0..WINDOW {
        // The read's own error is what the step reports, even when the health action fails.
        assert_eq!(g.step(), Err(GraphError::Sensor("NACK")));
    }
    assert!(g.health().is_some_and(|h| h.is_active(HealthKind::Dropout)));
    let s = g.stats();
    assert_eq!((s.errors.sensor, s.health.dropouts, s.errors.action), (WINDOW as u32, 1, 1));
}

/// A model whose output quantization is whatever the test says.
struct BadOutput(QuantParams, [i8; INPUT_LEN]);

impl Model for BadOutput {
    type Error = ();
    fn input(&mut self) -> &mut [i8] {
        &mut self.1
    }
    fn input_quant(&self) -> QuantParams {
        VibrationConfig::default().input_quant
    }
    fn input_shape(&self) -> Shape {
        Shape::from_dims([1, 64, 3])
    }
    fn invoke(&mut self) -> Result<(), ()> {
        Ok(())
    }
    fn output(&self) -> &[i8] {
        &[0]
    }
    fn output_quant(&self) -> QuantParams {
        self.0
    }
    fn output_shape(&self) -> Shape {
        Shape::from_dims([1, 1])
    }
}

#[test]
fn a_model_whose_scores_cannot_be_read_is_refused_when_the_graph_is_built() {
    let config = VibrationConfig::default();
    for (scale, zero_point, error) in [
        (f32::NAN, 0, QuantParamsError::ScaleNotFinite),
        (0.0, 0, QuantParamsError::ScaleNotPositive),
        (-0.25, 0, QuantParamsError::ScaleNotPositive),
        (0.25, -300, QuantParamsError::ZeroPointOutOfRange),
    ] {
        let model = BadOutput(QuantParams { scale, zero_point }, [0; INPUT_LEN]);
        let sensor = FnSensor::new(|| Ok::<[f32; 3], ()>([0.0; 3]));
        let built = vibration::graph(sensor, model, HealthLog::default(), || 0u32, &config);
        assert_eq!(built.err(), Some(error));
    }
    let bad_input = VibrationConfig {
        input_quant: QuantParams { scale: f32::INFINITY, zero_point: 0 },
        ..config
    };
    assert!(vibration::zscore_model(&bad_input).is_err());
}
