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

/// A plan made ahead of time runs the same: `from_plan` resets the state in an arena full of
/// garbage, and `reset_state` works from the plan's records.
#[test]
fn stretch_cases_are_bit_exact_from_a_prebuilt_plan_in_a_dirty_arena() {
    use edge_reflex::engine::plan::prebuilt::{self, Prebuilt};
    for c in stretch_cases() {
        let bytes = fs::read(c.join("model.tflite")).expect("model");
        let model = TfLiteModel::load(&bytes).expect("load");
        let mut work = vec![0u8; model.arena_size().expect("arena size")];
        let mut plan = vec![0u8; prebuilt::plan_len(&model, &mut work).expect("plan length")];
        prebuilt::write(&model, &mut work, &mut plan).expect("plan");
        let prebuilt = Prebuilt::new(&bytes, &plan).expect("bind plan");
        let mut arena = vec![0xA5u8; prebuilt.arena_size()];
        let mut interp = Interpreter::from_plan(prebuilt, &mut arena).expect("interpreter");
        // The first sample without an explicit reset: building the interpreter reset the state.
        let first = &samples(&c)[0];
        let input = fs::read(first.join("input0.bin")).expect("input");
        interp.input_bytes(0).expect("input tensor").copy_from_slice(&input);
        interp.invoke().expect("invoke");
        let want = fs::read(first.join("output0.bin")).expect("output");
        assert_eq!(interp.output_bytes(0).expect("output"), want.as_slice(), "{}", c.display());
        let (exact, total, problem) = run_stateful(&mut interp, &c);
        assert_eq!(exact, total, "{}: {problem:?}", c.display());
    }
}

/// The state persists between invokes (a second run of the same frame without a reset continues
/// the sequence, so it differs from the first), the reset puts every state tensor back at its
/// zero point (DTLN's second LSTM has output-state zero point -4), and the first frame's output
/// comes back after it.
#[test]
fn state_persists_between_invokes_until_reset_to_its_zero_point() {
    let c = fixtures::set_dir(CONFORMANCE_NEXT).join("tflm_dtln_noise_suppression");
    let bytes = fs::read(c.join("model.tflite")).expect("model");
    let model = TfLiteModel::load(&bytes).expect("load");
    let mut arena = vec![0u8; model.arena_size().expect("arena size")];
    let mut interp = Interpreter::new(&model, &mut arena).expect("interpreter");
    // Tensors 27/28 and 35/36: output and cell state of the two LSTMs (from the model file).
    let states: [(usize, u8); 4] = [(27, 0), (28, 0), (35, (-4i8) as u8), (36, 0)];
    for (t, fill) in states {
        let b = interp.tensor_bytes(t).expect("state tensor in the arena");
        assert!(b.iter().all(|&x| x == fill), "tensor {t} after construction");
    }
    let sample = &samples(&c)[0];
    let input = fs::read(sample.join("input0.bin")).expect("input");
    let want = fs::read(sample.join("output0.bin")).expect("output");
    interp.input_bytes(0).expect("input").copy_from_slice(&input);
    interp.invoke().expect("invoke");
    assert_eq!(interp.output_bytes(0).expect("output"), want.as_slice());
    let after_one: Vec<Vec<u8>> =
        states.iter().map(|&(t, _)| interp.tensor_bytes(t).unwrap().to_vec()).collect();
    assert!(after_one.iter().zip(states).all(|(b, (_, fill))| b.iter().any(|&x| x != fill)));
    // The input buffer is reused by later tensors during an invoke: fill it again every time.
    interp.input_bytes(0).expect("input").copy_from_slice(&input);
    interp.invoke().expect("invoke");
    assert_ne!(interp.output_bytes(0).expect("output"), want.as_slice(), "state carried over");
    interp.reset_state().expect("reset");
    for (t, fill) in states {
        assert!(interp.tensor_bytes(t).unwrap().iter().all(|&x| x == fill), "tensor {t}");
    }
    interp.input_bytes(0).expect("input").copy_from_slice(&input);
    interp.invoke().expect("invoke");
    assert_eq!(interp.output_bytes(0).expect("output"), want.as_slice(), "after reset");
}

/// A FlatBuffer field: the position of field `id` of the table at `table`, if present.
fn field(b: &[u8], table: usize, id: usize) -> Option<usize> {
    let rd32 = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let vtable = (table as i64 - rd32(table) as i64) as usize;
    let vlen = u16::from_le_bytes([b[vtable], b[vtable + 1]]) as usize;
    if 4 + 2 * id >= vlen {
        return None;
    }
    let off = u16::from_le_bytes([b[vtable + 4 + 2 * id], b[vtable + 5 + 2 * id]]) as usize;
    (off != 0).then_some(table + off)
}

/// Follows the offset stored at `at`.
fn deref(b: &[u8], at: usize) -> usize {
    at + u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// Element `i` position of the vector referenced at `at` (and the vector's length position).
fn element(b: &[u8], at: usize, i: usize) -> (usize, usize) {
    let v = deref(b, at);
    (v + 4 + 4 * i, v)
}

/// TFLM's mnist_lstm cut to its LSTM: the graph output is the LSTM's output (tensor 23,
/// `[1, 28, 20]`) and the operators after it are dropped; with `steps = 1` the input (tensor 0)
/// and the output take one time step (`[1, 1, 28]`, `[1, 1, 20]`). Patched in place: the same
/// weights, quantization and state tensors.
fn mnist_lstm_only(steps: i32) -> Vec<u8> {
    let mut b = fs::read(fixtures::set_dir(CONFORMANCE_NEXT).join("tflm_mnist_lstm/model.tflite"))
        .expect("model");
    let model = deref(&b, 0);
    let subgraph = deref(&b, element(&b, field(&b, model, 2).unwrap(), 0).0);
    let (out0, _) = element(&b, field(&b, subgraph, 2).unwrap(), 0);
    assert_eq!(b[out0..out0 + 4], 26i32.to_le_bytes());
    b[out0..out0 + 4].copy_from_slice(&23i32.to_le_bytes());
    let (_, ops) = element(&b, field(&b, subgraph, 3).unwrap(), 0);
    b[ops..ops + 4].copy_from_slice(&1u32.to_le_bytes());
    for t in [0usize, 23] {
        let tensor = deref(&b, element(&b, field(&b, subgraph, 0).unwrap(), t).0);
        let (time, _) = element(&b, field(&b, tensor, 0).unwrap(), 1);
        assert_eq!(b[time..time + 4], 28i32.to_le_bytes());
        b[time..time + 4].copy_from_slice(&steps.to_le_bytes());
    }
    b
}

/// Streaming: the LSTM fed one time step per invoke (state carried by the interpreter between
/// invokes) gives exactly the rows the whole-sequence run gives, and ends in the same state.
/// The fixture's LSTM takes all 28 steps at once, so the one-step model is the same file with
/// the time dimension of its input and output set to 1 (see `mnist_lstm_only`).
#[test]
fn one_step_per_invoke_equals_the_whole_sequence() {
    let whole_bytes = mnist_lstm_only(28);
    let step_bytes = mnist_lstm_only(1);
    let whole = TfLiteModel::load(&whole_bytes).expect("whole-sequence model");
    let step = TfLiteModel::load(&step_bytes).expect("one-step model");
    let mut a1 = vec![0u8; whole.arena_size().unwrap()];
    let mut a2 = vec![0u8; step.arena_size().unwrap()];
    let mut w = Interpreter::new(&whole, &mut a1).unwrap();
    let mut s = Interpreter::new(&step, &mut a2).unwrap();
    let c = fixtures::set_dir(CONFORMANCE_NEXT).join("tflm_mnist_lstm");
    for sample in samples(&c) {
        let input = fs::read(sample.join("input0.bin")).expect("input");
        w.reset_state().unwrap();
        w.input_bytes(0).unwrap().copy_from_slice(&input);
        w.invoke().unwrap();
        let rows = w.output_bytes(0).unwrap().to_vec();
        assert_eq!(rows.len(), 28 * 20);
        s.reset_state().unwrap();
        for (t, x) in input.chunks(28).enumerate() {
            s.input_bytes(0).unwrap().copy_from_slice(x);
            s.invoke().unwrap();
            let got = s.output_bytes(0).unwrap();
            assert_eq!(got, &rows[t * 20..(t + 1) * 20], "{}: step {t}", sample.display());
        }
        for state in [16, 17] {
            assert_eq!(s.tensor_bytes(state), w.tensor_bytes(state), "state tensor {state}");
        }
    }
}

/// Without `op-lstm` an LSTM model is refused at load with `OperatorNotBuilt`, whose message
/// names the operator and the feature (the tests build every family, so the refusal itself is
/// checked by CI's build without the feature; here, what it says).
#[test]
fn the_refusal_without_the_feature_names_operator_and_feature() {
    use edge_reflex::engine::model::operator::{built, code, feature};
    use edge_reflex::engine::LoadErrorKind;
    let lstm = code::UNIDIRECTIONAL_SEQUENCE_LSTM;
    assert_eq!(feature(lstm), "op-lstm");
    assert_eq!(built(lstm), cfg!(feature = "op-lstm"));
    let message = LoadErrorKind::OperatorNotBuilt(lstm).to_string();
    assert!(message.contains("UNIDIRECTIONAL_SEQUENCE_LSTM"), "{message}");
    assert!(message.contains("`op-lstm`"), "{message}");
}
