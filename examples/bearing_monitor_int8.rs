//! The bearing monitor with a real int8 TFLite model: the vibration reflex of `bearing_monitor`,
//! scored by `models/bearing_classifier.tflite` through the crate's TFLite engine instead of the
//! statistical z-score model.
//!
//!     cargo run --release --example bearing_monitor_int8
//!
//! The model (two Conv1D layers, a global average and a sigmoid; see `models/README.md`) was
//! trained with TensorFlow on windows of this crate's simulator and converted with full-integer
//! post-training quantization. It is embedded with `include_bytes!`, loaded zero-copy, and runs in
//! an arena of exactly the size the engine reports. The graph quantizes each window that passes
//! the gate with the model's own input parameters and fires when the fault probability reaches 0.5.
//! One line per detected fault, then a summary. The sensor here is the simulated bearing itself,
//! sample for sample what `bearing_monitor` reads through its LIS3DH driver.
//!
//! Deterministic (only the latency figures, measured with the host's clock, vary). Exits non-zero
//! if a fault is missed, an alarm is false, or the gate passes more than 10% of windows.

use edge_reflex::action::{Decision, FnAction, Scores};
use edge_reflex::engine::{Interpreter, TfLiteModel};
use edge_reflex::graph::Step;
use edge_reflex::model::Model;
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, FaultEpisode, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::vibration::{self, VibrationConfig, HOP, WINDOW};
use std::cell::Cell;
use std::convert::Infallible;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant as HostInstant;

/// The trained classifier, in flash on a board.
static MODEL: &[u8] = include_bytes!("../models/bearing_classifier.tflite");
const SAMPLE_RATE_HZ: f32 = 1000.0;

fn seconds(sample: u32) -> f32 {
    sample as f32 / SAMPLE_RATE_HZ
}

fn main() -> ExitCode {
    let model = match TfLiteModel::load(MODEL) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("bearing_monitor_int8: model: {e}");
            return ExitCode::FAILURE;
        }
    };
    let arena_bytes = match model.arena_size() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("bearing_monitor_int8: arena size: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut arena = vec![0u8; arena_bytes];
    let interpreter = match Interpreter::new(&model, &mut arena) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("bearing_monitor_int8: interpreter: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (input_quant, output_quant) = (interpreter.input_quant(), interpreter.output_quant());
    let ops: Vec<&str> = model.operators().map(|o| o.name()).collect();

    let faults: &[FaultEpisode] = &DEMO_FAULTS;
    let mut bearing = Bearing::new(BearingConfig::default(), faults);
    let sensor = FnSensor::new(move || Ok::<_, Infallible>(bearing.next_sample()));
    let triggered_windows = Rc::new(Cell::new(0u32));
    let counter = triggered_windows.clone();
    let count = FnAction::new(move |d: &Decision, _: &Scores<'_>| {
        counter.set(counter.get() + d.triggered as u32);
        Ok::<(), Infallible>(())
    });
    let start = HostInstant::now();
    let clock = move || start.elapsed().as_micros() as u32;
    // The classifier's output is a probability: fire at 0.5 (the z-score model fires at z >= 6).
    let config = VibrationConfig { trigger_score: 0.5, ..VibrationConfig::default() };
    let mut graph = vibration::graph(sensor, interpreter, count, clock, &config);

    println!(
        "edge-reflex bearing monitor, int8 TFLite model: {} samples at {} Hz, window {} every {}, {} injected faults",
        DEMO_SAMPLES,
        SAMPLE_RATE_HZ,
        WINDOW,
        HOP,
        faults.len()
    );
    println!("model              {} bytes, operators {}", MODEL.len(), ops.join(" > "));
    println!(
        "quantization       input scale {} zero point {}, output scale {} zero point {}",
        input_quant.scale, input_quant.zero_point, output_quant.scale, output_quant.zero_point
    );
    let mut hits = vec![false; faults.len()];
    let mut false_alarms = 0u32;
    for i in 0..DEMO_SAMPLES {
        let step = match graph.step() {
            Ok(step) => step,
            Err(e) => {
                println!("t={:7.3}s  error: {e:?}", seconds(i));
                continue;
            }
        };
        let Step::Inferred(d) = step else { continue };
        if !d.triggered {
            continue;
        }
        let first = (i + 1).saturating_sub(WINDOW as u32);
        match faults.iter().position(|f| f.overlaps(first, i)) {
            Some(k) if !hits[k] => {
                hits[k] = true;
                println!(
                    "t={:7.3}s  DETECTED  p(fault)={:.3}  window {}..={}  (fault #{} injected at t={:.3}s)",
                    seconds(i),
                    d.score,
                    first,
                    i,
                    k + 1,
                    seconds(faults[k].start)
                );
            }
            Some(_) => {}
            None => {
                false_alarms += 1;
                println!("t={:7.3}s  FALSE ALARM  p(fault)={:.3}", seconds(i), d.score);
            }
        }
    }

    let s = *graph.stats();
    let detected = hits.iter().filter(|&&h| h).count();
    let misses = faults.len() - detected;
    println!();
    println!("samples            {}", s.samples);
    println!("windows            {}", s.windows);
    println!(
        "inferences         {} run, {} gated out: the gate saved {:.1}% of model runs",
        s.inferences,
        s.gated_out,
        100.0 * s.gated_fraction()
    );
    println!(
        "detections         {detected}/{} faults detected, {misses} missed, {false_alarms} false alarms ({} windows fired)",
        faults.len(),
        triggered_windows.get()
    );
    println!(
        "inference latency  mean {} µs, max {} µs (host clock, int8 engine)",
        s.latency.mean().unwrap_or(0),
        s.latency.max
    );
    println!(
        "memory             model {} bytes (flash), arena {arena_bytes} bytes (RAM)",
        MODEL.len()
    );
    println!("errors             {:?}", s.errors);

    if misses > 0 || false_alarms > 0 || s.gated_fraction() < 0.9 {
        eprintln!("bearing_monitor_int8: FAILED (missed {misses}, false alarms {false_alarms})");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
