//! The graph under injected faults: bus errors, NaN samples and failing actions are counted and
//! reported, never panic, and never change the decisions on the real samples. And the alarm pin
//! (an embedded-hal-mock pin) fires exactly once per injected bearing fault.

use edge_reflex::action::{Decision, FnAction, PinAlarm, Scores};
use edge_reflex::graph::{GraphError, Step};
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{
    Bearing, BearingConfig, FaultInjector, Injected, InjectedError, DEMO_FAULTS, DEMO_SAMPLES,
};
use edge_reflex::vibration::{self, VibrationConfig, WINDOW};
use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as PinTx};

fn bearing_sensor() -> impl edge_reflex::sensor::Sensor<Sample = [f32; 3], Error = ()> {
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()))
}

/// Runs the demo and returns, per real sample index, the decisions taken.
fn decisions_clean() -> Vec<(u32, Decision)> {
    let config = VibrationConfig::default();
    let model = vibration::zscore_model(&config).unwrap();
    let action = FnAction::new(|_: &Decision, _: &Scores<'_>| Ok::<(), ()>(()));
    let mut g = vibration::graph(bearing_sensor(), model, action, || 0u32, &config).unwrap();
    let mut out = Vec::new();
    for i in 0..DEMO_SAMPLES {
        if let Step::Inferred(d) = g.step().unwrap() {
            out.push((i, d));
        }
    }
    out
}

#[test]
fn bus_errors_and_nan_samples_change_nothing_but_the_counters() {
    static KINDS: [Injected; 2] = [Injected::BusError, Injected::NotANumber];
    let config = VibrationConfig::default();
    let sensor = FaultInjector::new(bearing_sensor(), 7, &KINDS);
    let action = FnAction::new(|_: &Decision, _: &Scores<'_>| Ok::<(), ()>(()));
    let mut g = vibration::graph(
        sensor,
        vibration::zscore_model(&config).unwrap(),
        action,
        || 0u32,
        &config,
    )
    .unwrap();
    let (mut real, mut bus, mut nan) = (0u32, 0u32, 0u32);
    let mut got = Vec::new();
    while real < DEMO_SAMPLES {
        match g.step() {
            Ok(step) => {
                if let Step::Inferred(d) = step {
                    got.push((real, d));
                }
                real += 1;
            }
            Err(GraphError::Sensor(InjectedError::Injected)) => bus += 1,
            Err(GraphError::NonFiniteSample) => nan += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(got, decisions_clean());
    let s = g.stats();
    assert_eq!((s.errors.sensor, s.errors.window), (bus, nan));
    assert_eq!(s.samples, DEMO_SAMPLES);
    assert!(bus > 1000 && nan > 1000, "{bus} {nan}");
}

#[test]
fn failing_action_is_counted_and_the_graph_goes_on() {
    let config = VibrationConfig::default();
    let mut calls = 0u32;
    let action = FnAction::new(move |_: &Decision, _: &Scores<'_>| {
        calls += 1;
        if calls.is_multiple_of(2) {
            Err("queue full")
        } else {
            Ok(())
        }
    });
    let mut g = vibration::graph(
        bearing_sensor(),
        vibration::zscore_model(&config).unwrap(),
        action,
        || 0u32,
        &config,
    )
    .unwrap();
    let mut failed = 0;
    let mut decided = Vec::new();
    for i in 0..DEMO_SAMPLES {
        match g.step() {
            Ok(Step::Inferred(d)) => decided.push((i, d)),
            Err(GraphError::Action("queue full")) => {
                failed += 1;
                decided.push((i, g.last_decision().unwrap()));
            }
            Ok(_) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(decided, decisions_clean());
    assert_eq!(g.stats().errors.action, failed);
    assert_eq!(g.stats().inferences as usize, decided.len());
}

#[test]
fn alarm_pin_rises_once_inside_each_fault_and_falls_after_it() {
    // Expected pin traffic: low at the first decision, then high/low once per fault episode.
    let mut expected = vec![PinTx::set(State::Low)];
    for _ in DEMO_FAULTS {
        expected.push(PinTx::set(State::High));
        expected.push(PinTx::set(State::Low));
    }
    let pin = PinMock::new(&expected);
    let config = VibrationConfig::default();
    let mut g = vibration::graph(
        bearing_sensor(),
        vibration::zscore_model(&config).unwrap(),
        PinAlarm::new(pin.clone()),
        || 0u32,
        &config,
    )
    .unwrap();
    let mut raised_at = Vec::new();
    let mut lowered_at = Vec::new();
    let mut was_high = false;
    for i in 0..DEMO_SAMPLES {
        g.step().unwrap();
        let high = g.action_mut().is_raised();
        if high && !was_high {
            raised_at.push(i);
        }
        if !high && was_high {
            lowered_at.push(i);
        }
        was_high = high;
    }
    for (k, f) in DEMO_FAULTS.iter().enumerate() {
        // Raised by a window that overlaps the episode...
        let first = raised_at[k] + 1 - WINDOW as u32;
        assert!(f.overlaps(first, raised_at[k]), "fault {k} raised at {}", raised_at[k]);
        // ...and lowered by the first calm window the model sees after it (the next heartbeat at
        // the latest), before the next episode.
        let heartbeat = config.heartbeat_every * vibration::HOP as u32;
        let end = f.start + f.len;
        assert!(
            lowered_at[k] >= end && lowered_at[k] <= end + WINDOW as u32 + heartbeat,
            "{k}: {lowered_at:?}"
        );
    }
    let mut pin = pin;
    pin.done();
}
