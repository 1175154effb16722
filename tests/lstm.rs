//! UNIDIRECTIONAL_SEQUENCE_LSTM: the `stretch` tier of conformance-next (TFLM's mnist_lstm and
//! DTLN noise-suppression models, int8 with int16 cell state) bit-exact against TFLite's
//! reference kernels, with the state reset to its zero point before every sample as `case.json`
//! says (`stateful: true`); the state persisting between invokes; streaming one time step per
//! invoke; the reset on both constructors.

mod fixtures;

use edge_reflex::engine::{Interpreter, TfLiteModel};
use fixtures::{cases_of, json_int, json_str, samples, tier, CONFORMANCE_NEXT};
use std::fs;
use std::path::PathBuf;

fn stretch_cases() -> Vec<PathBuf> {
    cases_of(CONFORMANCE_NEXT)
        .into_iter()
        .filter(|c| tier(c).as_deref() == Some("stretch"))
        .collect()
}

/// Runs every sample of `case` on an interpreter whose state is reset before each one; returns
/// the number of bit-exact samples and the first difference.
fn run_stateful(
    interp: &mut Interpreter<'_, '_, impl edge_reflex::engine::Source>,
    case: &std::path::Path,
) -> (usize, usize, Option<String>) {
    let samples = samples(case);
    let mut exact = 0;
    let mut problem = None;
    for s in &samples {
        interp.reset_state().expect("reset");
        let input = fs::read(s.join("input0.bin")).expect("input");
        interp.input_bytes(0).expect("input tensor").copy_from_slice(&input);
        interp.invoke().expect("invoke");
        let want = fs::read(s.join("output0.bin")).expect("output");
        let got = interp.output_bytes(0).expect("output tensor");
        if got == want.as_slice() {
            exact += 1;
        } else {
            let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            let worst =
                got.iter().zip(&want).map(|(&a, &b)| (a as i8 as i32 - b as i8 as i32).abs()).max();
            problem.get_or_insert(format!(
                "{}: {diff} of {} bytes differ (max {worst:?})",
                s.display(),
                want.len()
            ));
        }
    }
    (exact, samples.len(), problem)
}

#[test]
fn stretch_cases_are_bit_exact_with_state_reset_before_every_sample() {
    let cases = stretch_cases();
    assert_eq!(cases.len(), 2, "two stretch cases");
    let mut failing = Vec::new();
    for c in &cases {
        let json = fs::read_to_string(c.join("case.json")).expect("case.json");
        assert!(json.contains("\"stateful\": true"), "{}", c.display());
        assert_eq!(json_int(&json, "tolerance"), Some(0));
        let bytes = fs::read(c.join("model.tflite")).expect("model");
        let model = TfLiteModel::load(&bytes).expect("load");
        let mut arena = vec![0u8; model.arena_size().expect("arena size")];
        let mut interp = Interpreter::new(&model, &mut arena).expect("interpreter");
        let (exact, total, problem) = run_stateful(&mut interp, c);
        let name = json_str(&json, "name").unwrap_or_default();
        println!("lstm {name}: {exact}/{total} bit-exact");
        assert_eq!(json_int(&json, "samples"), Some(total as i64));
        if exact != total {
            failing.push(format!("{name} {exact}/{total}: {}", problem.unwrap_or_default()));
        }
    }
    assert!(failing.is_empty(), "{}", failing.join("; "));
}
