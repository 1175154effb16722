//! The spectral mode of the vibration reflex on the simulated bearing: spectral features (the
//! graph's feature stage) scored by the k-means detector with the committed centres
//! (`models/bearing_kmeans.rs`) find every injected fault with no false alarm, and the committed
//! threshold is what `reflex kmeans fit` computes from the normal runs' features with these
//! centres (so a change to the features that would need a new fit fails here).

use edge_reflex::action::NoAction;
use edge_reflex::graph::Step;
use edge_reflex::model::Model;
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::time::NoClock;
use edge_reflex::vibration::{self, VibrationConfig, HOP, WINDOW};
use edge_reflex::window::Window;

mod bearing_kmeans {
    include!("../models/bearing_kmeans.rs");
}

/// The seeds of the normal runs the committed centres were fitted on (`bearing_monitor
/// --spectral --export-normal`).
const NORMAL_SEEDS: [u32; 4] = [101, 202, 303, 404];

#[test]
fn spectral_kmeans_finds_every_fault_without_a_false_alarm() {
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let sensor = FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()));
    let config =
        VibrationConfig { trigger_score: bearing_kmeans::THRESHOLD, ..VibrationConfig::default() };
    let model = vibration::kmeans_model(bearing_kmeans::CENTRES).unwrap();
    let mut graph = vibration::graph(sensor, model, NoAction, NoClock, &config)
        .unwrap()
        .with_features(vibration::spectral_stage(1000.0));
    let mut hits = [0u32; DEMO_FAULTS.len()];
    let mut false_alarms = 0;
    let mut max_normal = 0.0f32;
    for i in 0..DEMO_SAMPLES {
        if let Step::Inferred(d) = graph.step().unwrap() {
            let first = (i + 1).saturating_sub(WINDOW as u32);
            match DEMO_FAULTS.iter().position(|f| f.overlaps(first, i)) {
                Some(k) => hits[k] += u32::from(d.triggered),
                None => {
                    false_alarms += u32::from(d.triggered);
                    max_normal = max_normal.max(graph.model().distance());
                }
            }
        }
    }
    assert!(hits.iter().all(|&h| h > 0), "missed a fault: {hits:?}");
    assert_eq!(false_alarms, 0, "largest normal distance {max_normal}");
    assert!(max_normal < bearing_kmeans::THRESHOLD);
    assert!(graph.stats().gated_fraction() >= 0.9);
    // The model's int8 output is the distance on KMEANS_OUTPUT_QUANT's grid.
    let q = vibration::KMEANS_OUTPUT_QUANT;
    let out = graph.model().output()[0];
    let d = graph.model().distance();
    assert!(((f32::from(out) - q.zero_point as f32) * q.scale - d).abs() <= q.scale / 2.0 + 1e-4);
}

#[test]
fn committed_threshold_matches_the_normal_runs() {
    let mut max = 0.0f64;
    for seed in NORMAL_SEEDS {
        let mut bearing = Bearing::new(BearingConfig { seed, ..BearingConfig::default() }, &[]);
        let mut window = Window::<[f32; 3], WINDOW, HOP>::new();
        let mut stage = vibration::spectral_stage(1000.0);
        for _ in 0..DEMO_SAMPLES {
            if window.push(bearing.next_sample()).unwrap() {
                let (older, newer) = window.as_slices();
                let x = stage.compute(older, newer);
                let nearest = bearing_kmeans::CENTRES
                    .iter()
                    .map(|c| {
                        c.iter().zip(x).map(|(&c, &x)| (f64::from(x) - f64::from(c)).powi(2)).sum()
                    })
                    .fold(f64::INFINITY, f64::min);
                max = max.max(nearest);
            }
        }
    }
    // `reflex kmeans fit --margin 0.5` (the default) wrote the largest distance times 1.5.
    let threshold = (max.sqrt() * 1.5) as f32;
    assert!(
        (threshold - bearing_kmeans::THRESHOLD).abs() < 1e-3,
        "{threshold} vs committed {}: refit (docs/frontend.md)",
        bearing_kmeans::THRESHOLD
    );
}
