//! Conformance, float tier (feature `op-float`, which the tests turn on): the float32 and
//! dynamic-range ("hybrid") cases of `conformance-next` must come within their case's tolerance
//! (`|ours - golden| <= tolerance` on every float32 output element) of TFLite's reference
//! kernels, planned on the device and from a prebuilt plan. Fails (does not skip) when the
//! fixtures are missing.

mod fixtures;

use edge_reflex::engine::plan::prebuilt::{self, Prebuilt};
use edge_reflex::engine::{DType, Interpreter, Source, TfLiteModel};
use fixtures::{cases_of, json_int, samples, tier, CONFORMANCE_NEXT};
use std::fs;
use std::path::{Path, PathBuf};

/// The float value of `"key": x` in a case.json.
fn json_float(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let end =
        rest.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn float_cases() -> Vec<PathBuf> {
    cases_of(CONFORMANCE_NEXT).into_iter().filter(|c| tier(c).as_deref() == Some("float")).collect()
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Runs every sample of `case` on `interp`; returns the largest absolute error over all
/// outputs and the number of samples within `tolerance`.
fn run_samples<S: Source>(
    case: &Path,
    interp: &mut Interpreter<'_, '_, S>,
    tolerance: f64,
) -> (f64, usize) {
    let mut worst = 0f64;
    let mut within = 0;
    for s in samples(case) {
        for j in 0..interp.input_count() {
            let data = fs::read(s.join(format!("input{j}.bin"))).expect("input file");
            let dst = interp.input_bytes(j).expect("input tensor in arena");
            assert_eq!(dst.len(), data.len(), "{}: input {j} size", s.display());
            dst.copy_from_slice(&data);
        }
        interp.invoke().unwrap_or_else(|e| panic!("{}: invoke: {e}", s.display()));
        let mut ok = true;
        for j in 0..interp.output_count() {
            assert_eq!(interp.output_info(j).map(|o| o.dtype), Some(DType::Float32));
            let want = floats(&fs::read(s.join(format!("output{j}.bin"))).expect("output file"));
            let got = floats(interp.output_bytes(j).expect("output tensor"));
            assert_eq!(got.len(), want.len(), "{}: output {j} size", s.display());
            for (g, w) in got.iter().zip(&want) {
                let e = (*g as f64 - *w as f64).abs();
                assert!(!e.is_nan(), "{}: NaN output", s.display());
                worst = worst.max(e);
                ok &= e <= tolerance;
            }
        }
        within += ok as usize;
    }
    (worst, within)
}

#[test]
fn float_tier_is_within_tolerance() {
    let cases = float_cases();
    assert_eq!(cases.len(), 2, "float32_cnn and dynamic_range_fc");
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let bytes = fs::read(case.join("model.tflite")).expect("model file");
        let json = fs::read_to_string(case.join("case.json")).expect("case.json");
        let tolerance = json_float(&json, "tolerance").expect("tolerance");
        assert!(tolerance > 0.0 && tolerance < 1e-3, "{name}: tolerance {tolerance}");
        let total = samples(case).len();
        assert_eq!(json_int(&json, "samples"), Some(total as i64), "{name}: sample count");

        let model = TfLiteModel::load(&bytes).unwrap_or_else(|e| panic!("{name}: load: {e}"));
        if name == "dynamic_range_fc" {
            // The hybrid layer quantizes its input asymmetrically; the float one has no option.
            assert!(model.asymmetric_quantize_inputs(0) && !model.asymmetric_quantize_inputs(1));
        }
        let mut arena = vec![0u8; model.arena_size().expect("arena size")];
        let mut interp = Interpreter::new(&model, &mut arena).expect("interpreter");
        let (worst, within) = run_samples(case, &mut interp, tolerance);
        println!("float {name}: {within}/{total} within {tolerance:e} (largest error {worst:e})");
        assert_eq!(within, total, "{name}: largest error {worst:e} > {tolerance:e}");

        // The same from a prebuilt plan (what a firmware runs from flash).
        let mut work = vec![0u8; model.arena_size().unwrap()];
        let mut plan = vec![0u8; prebuilt::plan_len(&model, &mut work).expect("plan length")];
        prebuilt::write(&model, &mut work, &mut plan).expect("plan");
        let prebuilt = Prebuilt::new(&bytes, &plan).expect("plan accepted");
        let mut arena = vec![0u8; prebuilt.arena_size()];
        let mut interp = Interpreter::from_plan(prebuilt, &mut arena).expect("interpreter");
        let (_, within) = run_samples(case, &mut interp, tolerance);
        assert_eq!(within, total, "{name}: prebuilt plan");
    }
}

/// A profiler is told a float operator's builtin code, as for an int8 one.
#[test]
fn the_profiler_names_float_operators_by_their_builtin_code() {
    use edge_reflex::engine::Profiler;
    struct Codes(Vec<i32>);
    impl Profiler for Codes {
        fn begin(&mut self, _: usize, code: i32) {
            self.0.push(code);
        }
    }
    let case = float_cases().into_iter().find(|c| c.ends_with("float32_cnn")).unwrap();
    let bytes = fs::read(case.join("model.tflite")).unwrap();
    let model = TfLiteModel::load(&bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut interp = Interpreter::new(&model, &mut arena).unwrap();
    let mut codes = Codes(Vec::new());
    interp.invoke_profiled(&mut codes).unwrap();
    let want: Vec<i32> = model.operators().map(|o| o.code).collect();
    assert_eq!(codes.0, want);
    assert_eq!(want, [3, 4, 40, 9], "CONV_2D, DEPTHWISE_CONV_2D, MEAN, FULLY_CONNECTED");
}
