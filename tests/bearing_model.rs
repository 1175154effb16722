//! The committed int8 bearing classifier (`models/bearing_classifier.tflite`) through the engine:
//! bit-exact against TFLite's reference kernels on golden held-out windows and on every window of
//! the demo run, and, inside the vibration reflex, every demo fault detected with no false alarm
//! while the gate keeps at least 90% of windows away from the model.
//!
//! The golden files are written by `scripts/train_bearing_model.py` (see `models/README.md`).

use edge_reflex::action::{Decision, FnAction, Scores};
use edge_reflex::engine::{Interpreter, RunError, TfLiteModel};
use edge_reflex::graph::Step;
use edge_reflex::model::Model;
use edge_reflex::quantizer::{AffineQuantizer, Quantizer};
use edge_reflex::sensor::FnSensor;
use edge_reflex::sim::{Bearing, BearingConfig, DEMO_FAULTS, DEMO_SAMPLES};
use edge_reflex::vibration::{self, VibrationConfig, HOP, INPUT_LEN, WINDOW};
use edge_reflex::window::Window;

const MODEL: &[u8] = include_bytes!("../models/bearing_classifier.tflite");
const GOLDEN_INPUTS: &[u8] = include_bytes!("../models/bearing_classifier.samples/inputs.bin");
const GOLDEN_OUTPUTS: &[u8] = include_bytes!("../models/bearing_classifier.samples/outputs.bin");
const GOLDEN_LOGITS: &[u8] = include_bytes!("../models/bearing_classifier.samples/logits.bin");
const DEMO_OUTPUTS: &[u8] = include_bytes!("../models/bearing_classifier.samples/demo_outputs.bin");
const DEMO_LOGITS: &[u8] = include_bytes!("../models/bearing_classifier.samples/demo_logits.bin");

/// The reflex's settings for this classifier: fire at probability 0.5 (output byte >= 0).
fn classifier_config() -> VibrationConfig {
    VibrationConfig::classifier()
}

fn load() -> (TfLiteModel<'static>, Vec<u8>) {
    let model = TfLiteModel::load(MODEL).expect("the committed model loads");
    let arena = vec![0u8; model.arena_size().expect("arena size")];
    (model, arena)
}

/// Tensor index of the logit: the input of the model's final LOGISTIC.
fn logit_tensor(model: &TfLiteModel<'_>) -> usize {
    let last = model.operators().last().expect("operators");
    assert_eq!(last.name(), "LOGISTIC");
    last.input(0).expect("logistic input") as usize
}

/// Output byte and logit byte after one inference.
fn output_and_logit(interp: &Interpreter<'_, '_>, logit: usize) -> (i8, i8) {
    let out = interp.output_bytes(0).expect("output")[0] as i8;
    let logit = interp.tensor_bytes(logit).expect("logit tensor")[0] as i8;
    (out, logit)
}

#[test]
fn model_is_int8_with_the_reflex_window_shape() {
    let (model, mut arena) = load();
    assert!(model.has_int8_io());
    let interp = Interpreter::new(&model, &mut arena).expect("interpreter");
    assert_eq!(interp.input_shape().dims(), [1, WINDOW as u32, vibration::CHANNELS as u32]);
    assert_eq!(interp.input_shape().elements(), Some(INPUT_LEN));
    assert_eq!(interp.output_shape().elements(), Some(1));
    // LOGISTIC's int8 output is fixed by TFLite at scale 1/256, zero point -128: a probability.
    let q = interp.output_quant();
    assert_eq!((q.scale, q.zero_point), (1.0 / 256.0, -128));
    let names: Vec<&str> = model.operators().map(|o| o.name()).collect();
    println!("ops {names:?}, model {} bytes, arena {} bytes", MODEL.len(), arena.len());
}

#[test]
fn arena_is_exact() {
    let (model, mut arena) = load();
    let n = arena.len();
    assert!(Interpreter::new(&model, &mut arena[..n - 1])
        .is_err_and(|e| matches!(e, RunError::ArenaTooSmall { .. })));
    let mut interp = Interpreter::new(&model, &mut arena).expect("exact arena");
    interp.input().fill(0);
    assert!(Model::invoke(&mut interp).is_ok());
}

#[test]
fn golden_samples_are_bit_exact() {
    let (model, mut arena) = load();
    let logit = logit_tensor(&model);
    let mut interp = Interpreter::new(&model, &mut arena).expect("interpreter");
    let count = GOLDEN_OUTPUTS.len();
    assert!(count >= 8 && GOLDEN_INPUTS.len() == count * INPUT_LEN);
    assert_eq!(GOLDEN_LOGITS.len(), count);
    let mut mismatches = Vec::new();
    for k in 0..count {
        let input = &GOLDEN_INPUTS[k * INPUT_LEN..(k + 1) * INPUT_LEN];
        interp.input_bytes(0).expect("input").copy_from_slice(input);
        interp.invoke().expect("invoke");
        let got = output_and_logit(&interp, logit);
        let want = (GOLDEN_OUTPUTS[k] as i8, GOLDEN_LOGITS[k] as i8);
        println!(
            "golden {k:02}: output {} logit {} (reference {} {})",
            got.0, got.1, want.0, want.1
        );
        if got != want {
            mismatches.push(k);
        }
    }
    assert!(mismatches.is_empty(), "not bit-exact on golden samples {mismatches:?}");
}

/// Every window of the demo run, quantized by the crate's quantizer, against the reference
/// kernels' output and logit.
#[test]
fn demo_run_is_bit_exact() {
    let (model, mut arena) = load();
    let logit = logit_tensor(&model);
    let mut interp = Interpreter::new(&model, &mut arena).expect("interpreter");
    let quantizer = AffineQuantizer::for_input_of(&interp).expect("the model's input quantization");
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let mut window: Window<[f32; 3], WINDOW, HOP> = Window::new();
    let (mut k, mut mismatches, mut first_mismatch) = (0usize, 0usize, None);
    for _ in 0..DEMO_SAMPLES {
        if !window.push(bearing.next_sample()).expect("finite sample") {
            continue;
        }
        let (older, newer) = window.as_slices();
        quantizer.quantize(older, newer, interp.input()).expect("quantize");
        Model::invoke(&mut interp).expect("invoke");
        let got = output_and_logit(&interp, logit);
        let want = (
            *DEMO_OUTPUTS.get(k).expect("more windows than golden outputs") as i8,
            DEMO_LOGITS[k] as i8,
        );
        if got != want {
            mismatches += 1;
            first_mismatch.get_or_insert((k, got, want));
        }
        k += 1;
    }
    assert_eq!(k, DEMO_OUTPUTS.len(), "window count");
    println!("demo: {k} windows, {mismatches} mismatches");
    assert_eq!(mismatches, 0, "first (window, got, reference): {first_mismatch:?}");
}

#[test]
fn reflex_detects_every_demo_fault_without_false_alarm() {
    let (model, mut arena) = load();
    let interp = Interpreter::new(&model, &mut arena).expect("interpreter");
    let mut bearing = Bearing::new(BearingConfig::default(), &DEMO_FAULTS);
    let sensor = FnSensor::new(move || Ok::<_, ()>(bearing.next_sample()));
    let action = FnAction::new(|_: &Decision, _: &Scores<'_>| Ok::<(), ()>(()));
    let mut clock_us = 0u32;
    let clock = move || {
        clock_us += 1000;
        clock_us
    };
    let config = classifier_config();
    let mut graph = vibration::graph(sensor, interp, action, clock, &config).unwrap();
    let mut hits = [0u32; DEMO_FAULTS.len()];
    let (mut false_alarms, mut max_normal, mut inside) = (0u32, 0.0f32, 0u32);
    for i in 0..DEMO_SAMPLES {
        if let Step::Inferred(d) = graph.step().expect("step") {
            let first = (i + 1).saturating_sub(WINDOW as u32);
            match DEMO_FAULTS.iter().position(|f| f.overlaps(first, i)) {
                Some(k) => {
                    inside += 1;
                    hits[k] += d.triggered as u32;
                }
                None => {
                    max_normal = max_normal.max(d.score);
                    false_alarms += d.triggered as u32;
                }
            }
        }
    }
    let s = graph.stats();
    println!(
        "hits {hits:?} of {inside} fault windows inferred, false alarms {false_alarms}, \
         max normal score {max_normal}, gated {:.1}% ({} of {} windows)",
        100.0 * s.gated_fraction(),
        s.gated_out,
        s.windows
    );
    assert!(hits.iter().all(|&h| h > 0), "missed a fault: {hits:?}");
    assert_eq!(false_alarms, 0);
    assert!(max_normal < 0.5);
    assert!(s.gated_fraction() >= 0.9, "gated only {}", s.gated_fraction());
    assert_eq!(s.errors.total(), 0, "{:?}", s.errors);
}
