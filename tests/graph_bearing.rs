//! The whole graph on the simulated bearing: every injected fault detected, no false alarm, and
//! the gate keeps at least 90% of windows away from the model.

use edge_reflex::action::{Decision, FnAction, Scores};
use edge_reflex::graph::Step;
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::vibration::{self, VibrationConfig, WINDOW};

#[test]
fn detects_every_fault_and_gates_most_windows() {
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let sensor = FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()));
    let config = VibrationConfig::default();
    let action = FnAction::new(|_: &Decision, _: &Scores<'_>| Ok::<(), ()>(()));
    let mut clock_us = 0u32;
    let mut graph = vibration::graph(
        sensor,
        vibration::zscore_model(&config).unwrap(),
        action,
        move || {
            clock_us += 1000;
            clock_us
        },
        &config,
    )
    .unwrap();
    let mut hits = [0u32; DEMO_FAULTS.len()];
    let mut false_alarms = 0;
    let mut max_normal = f32::MIN;
    let mut min_fault = f32::MAX;
    for i in 0..DEMO_SAMPLES {
        match graph.step().unwrap() {
            Step::Inferred(d) => {
                let first = (i + 1).saturating_sub(WINDOW as u32);
                let hit = DEMO_FAULTS.iter().position(|f| f.overlaps(first, i));
                match hit {
                    Some(_) => min_fault = min_fault.min(d.score),
                    None => max_normal = max_normal.max(d.score),
                }
                if d.triggered {
                    match hit {
                        Some(k) => hits[k] += 1,
                        None => false_alarms += 1,
                    }
                }
            }
            Step::Sampled | Step::GatedOut => {}
        }
    }
    let s = graph.stats();
    println!("{s:?}\nhits {hits:?} false {false_alarms} max normal z {max_normal} min fault z {min_fault}");
    assert!(hits.iter().all(|&h| h > 0), "missed a fault: {hits:?}");
    assert_eq!(false_alarms, 0);
    assert!(s.gated_fraction() >= 0.9, "gated only {}", s.gated_fraction());
}
