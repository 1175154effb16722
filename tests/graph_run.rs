//! The run loops: the blocking loop paces steps with `DelayNs` (minus the time the step took), and
//! the async graph gives the same decisions as the blocking one, sample for sample.

use core::cell::Cell;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use edge_reflex::action::NoAction;
use edge_reflex::graph::Step;
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS};
use edge_reflex::vibration::{self, VibrationConfig};
use std::rc::Rc;

/// Polls a future that never really waits (our sensors and delays are immediate).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

struct RecordingDelay(Vec<u32>);

impl embedded_hal::delay::DelayNs for RecordingDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.0.push(ns / 1000);
    }
    fn delay_us(&mut self, us: u32) {
        self.0.push(us);
    }
}

impl embedded_hal_async::delay::DelayNs for RecordingDelay {
    async fn delay_ns(&mut self, ns: u32) {
        self.0.push(ns / 1000);
    }
    async fn delay_us(&mut self, us: u32) {
        self.0.push(us);
    }
}

#[test]
fn run_waits_the_period_minus_the_step_time_even_across_clock_wrap() {
    // The clock advances 30 µs per read and starts just before the u32 wrap.
    let now = Rc::new(Cell::new(u32::MAX - 500));
    let clock_now = now.clone();
    let clock = move || {
        let t = clock_now.get();
        clock_now.set(t.wrapping_add(30));
        t
    };
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let sensor = FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()));
    let config = VibrationConfig::default();
    let mut g = vibration::graph(
        sensor,
        vibration::zscore_model(&config).unwrap(),
        NoAction,
        clock,
        &config,
    )
    .unwrap();
    let mut delay = RecordingDelay(Vec::new());
    let mut steps = Vec::new();
    g.run(&mut delay, 1000, |r| {
        steps.push(*r.as_ref().unwrap());
        steps.len() < 100
    });
    assert_eq!(steps.len(), 100);
    assert_eq!(delay.0.len(), 99);
    // A step that only buffers reads the clock twice (start, end): 30 µs elapsed.
    // A step with a ready window also reads it for the gate: 60 µs; with an inference, 90 µs.
    for (i, wait) in delay.0.iter().enumerate() {
        let expected = match steps[i] {
            Step::Sampled => 970,
            Step::GatedOut => 940,
            Step::Inferred(_) => 910,
        };
        assert_eq!(*wait, expected, "step {i}: {:?}", steps[i]);
    }
    assert!(steps.iter().any(|s| matches!(s, Step::Inferred(_))));
}

#[test]
fn async_and_blocking_graphs_decide_identically() {
    let config = VibrationConfig::default();
    let make_sensor = || {
        let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
        FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()))
    };
    let mut blocking = vibration::graph(
        make_sensor(),
        vibration::zscore_model(&config).unwrap(),
        NoAction,
        || 0u32,
        &config,
    )
    .unwrap();
    let mut asynchronous = vibration::graph(
        make_sensor(),
        vibration::zscore_model(&config).unwrap(),
        NoAction,
        || 0u32,
        &config,
    )
    .unwrap();
    for i in 0..30_000 {
        let a = blocking.step();
        let b = block_on(asynchronous.step_async());
        assert_eq!(a, b, "sample {i}");
    }
    assert_eq!(blocking.stats(), asynchronous.stats());
    assert!(blocking.stats().anomalies > 0);

    // And the async run loop paces like the blocking one.
    let mut delay = RecordingDelay(Vec::new());
    let mut n = 0;
    block_on(asynchronous.run_async(&mut delay, 500, |_| {
        n += 1;
        n < 10
    }));
    assert_eq!(delay.0, vec![500; 9]);
}
