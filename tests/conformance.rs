//! Conformance: every bit-exact case carried in `tests/data/` (`conformance`, the `core` and
//! `extended` tiers of `conformance-next`, `mlperf-tiny`) must reproduce TFLite's reference
//! outputs byte for byte through the library API. The `float` tier runs within its tolerance in
//! `tests/conformance_float.rs`, the `stretch` (LSTM) tier bit-exact in `tests/lstm.rs`. Fails
//! (does not skip) when the fixtures are missing.

mod fixtures;

use edge_reflex::engine::{Interpreter, TfLiteModel};
use fixtures::{exact_cases, json_int, samples};
use std::fs;
use std::path::Path;

/// Runs every sample of `case`; returns (bit-exact samples, total samples, first problem).
fn run_case(case: &Path) -> (usize, usize, Option<String>) {
    let bytes = fs::read(case.join("model.tflite")).expect("model file");
    let json = fs::read_to_string(case.join("case.json")).expect("case.json");
    let samples = samples(case);
    let total = samples.len();
    assert_eq!(json_int(&json, "samples"), Some(total as i64), "{}: sample count", case.display());
    assert_eq!(json_int(&json, "tolerance"), Some(0), "{}: tolerance must be 0", case.display());
    assert_eq!(json_int(&json, "model_bytes"), Some(bytes.len() as i64), "{}", case.display());
    let model = match TfLiteModel::load(&bytes) {
        Ok(m) => m,
        Err(e) => return (0, total, Some(format!("load: {e}"))),
    };
    let size = match model.arena_size() {
        Ok(n) => n,
        Err(e) => return (0, total, Some(format!("arena_size: {e}"))),
    };
    let mut arena = vec![0u8; size];
    let mut interp = match Interpreter::new(&model, &mut arena) {
        Ok(i) => i,
        Err(e) => return (0, total, Some(format!("new: {e}"))),
    };
    let mut exact = 0;
    let mut problem = None;
    for s in &samples {
        for j in 0..model.input_count() {
            let data = fs::read(s.join(format!("input{j}.bin"))).expect("input file");
            let dst = interp.input_bytes(j).expect("input tensor in arena");
            assert_eq!(dst.len(), data.len(), "{}: input {j} size", s.display());
            dst.copy_from_slice(&data);
        }
        if let Err(e) = interp.invoke() {
            problem.get_or_insert(format!("invoke: {e}"));
            continue;
        }
        let mut same = true;
        for j in 0..model.output_count() {
            let want = fs::read(s.join(format!("output{j}.bin"))).expect("output file");
            let got = interp.output_bytes(j).expect("output tensor");
            if got != want.as_slice() {
                same = false;
                let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
                problem.get_or_insert(format!(
                    "sample {}: output {j} differs in {diff} of {} bytes",
                    s.file_name().unwrap().to_string_lossy(),
                    want.len()
                ));
            }
        }
        exact += same as usize;
    }
    (exact, total, problem)
}

#[test]
fn every_case_is_bit_exact() {
    let cases = exact_cases();
    assert_eq!(cases.len(), 25 + 18 + 4, "expected 25 + 18 + 4 bit-exact cases");
    let mut failing = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let (exact, total, problem) = run_case(case);
        assert!(total > 0, "{name}: no samples");
        println!("conformance {name}: {exact}/{total} bit-exact");
        if exact != total {
            println!("    {}", problem.clone().unwrap_or_default());
            failing.push(format!("{name} ({exact}/{total}: {})", problem.unwrap_or_default()));
        }
    }
    assert!(failing.is_empty(), "not bit-exact: {}", failing.join("; "));
}
