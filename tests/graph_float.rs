//! A float32 model in the graph (feature `op-float`): the `PassThrough` quantizer hands the
//! window's samples to the model unchanged, `FloatModel` serves its float32 output as scores, and
//! the graph decides exactly as on a direct run of the interpreter over the same window.

use edge_reflex::engine::{FloatModel, FloatModelError, Interpreter, TfLiteModel};
use edge_reflex::prelude::*;
use edge_reflex::quantizer::PassThrough;
use std::cell::RefCell;

const MODEL: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance-next/float32_cnn/model.tflite");

/// Sample `i` of a deterministic two-channel signal.
fn sample(i: usize) -> [f32; 2] {
    let t = i as f32 * 0.37;
    [t.sin() * 1.5, (t * 0.5).cos() - 0.25]
}

#[test]
fn the_graph_runs_a_float_model_like_a_direct_invoke() {
    let bytes = std::fs::read(MODEL).expect("float32_cnn fixture");
    let model = TfLiteModel::load(&bytes).expect("float model loads");

    // The direct run: the 100 samples of one window, [1, 10, 10, 2] row-major.
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut direct = Interpreter::new(&model, &mut arena).unwrap();
    let input: Vec<u8> = (0..100).flat_map(sample).flat_map(f32::to_le_bytes).collect();
    direct.input_bytes(0).unwrap().copy_from_slice(&input);
    direct.invoke().unwrap();
    let want: Vec<f32> = direct
        .output_bytes(0)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(want.len(), 3);

    // The graph: the same samples through Sensor -> Window -> Gate -> PassThrough -> FloatModel.
    let grid = QuantParams::new(1.0 / 64.0, 0).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let float = FloatModel::<_, 3>::new(Interpreter::new(&model, &mut arena).unwrap(), grid)
        .expect("float32 input and output");
    assert_eq!(float.input_shape().dims(), [1, 10, 10, 2]);
    let seen = RefCell::new(Vec::new());
    let mut next = 0;
    let sensor = FnSensor::new(|| {
        next += 1;
        Ok::<[f32; 2], ()>(sample(next - 1))
    });
    let class = want.iter().enumerate().fold(0, |b, (i, v)| if *v > want[b] { i } else { b });
    let mut graph = Graph::new(
        Stages {
            sensor,
            window: Window::<[f32; 2], 100, 100>::new(),
            gate: Always,
            quantizer: PassThrough,
            model: float,
            rule: Rule::ArgMaxIs { class, min_score: f32::MIN },
            action: FnAction::new(|d: &Decision, s: &Scores<'_>| {
                seen.borrow_mut()
                    .push((*d, (0..s.len()).filter_map(|i| s.get(i)).collect::<Vec<_>>()));
                Ok::<(), ()>(())
            }),
        },
        NoClock,
    );
    let mut decisions = Vec::new();
    for _ in 0..100 {
        if let Ok(Step::Inferred(d)) = graph.step() {
            decisions.push(d);
        }
    }
    assert_eq!(decisions.len(), 1, "one full window, one inference");
    let seen = seen.borrow();
    let (decision, scores) = &seen[0];
    assert!(decision.triggered, "the argmax class of the direct run: {want:?} vs {scores:?}");
    assert_eq!(decision.class, class);
    // Scores are the float outputs on the chosen grid: within half a step of the direct run.
    for (s, w) in scores.iter().zip(&want) {
        assert!((s - w).abs() <= 1.0 / 128.0 + 1e-6, "{scores:?} vs {want:?}");
    }
    let got: Vec<f32> = graph.model().outputs().collect();
    assert_eq!(got, want, "the float outputs themselves are the direct run's, bit for bit");
}

#[test]
fn float_model_refuses_an_int8_model_and_a_bad_grid() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/conformance/tflm_hello_world/model.tflite"
    ))
    .unwrap();
    let model = TfLiteModel::load(&bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let grid = QuantParams::new(0.1, 0).unwrap();
    let r = FloatModel::<_, 1>::new(Interpreter::new(&model, &mut arena).unwrap(), grid);
    assert_eq!(r.err(), Some(FloatModelError::NotFloat32));

    let bytes = std::fs::read(MODEL).unwrap();
    let model = TfLiteModel::load(&bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let r = FloatModel::<_, 2>::new(Interpreter::new(&model, &mut arena).unwrap(), grid);
    assert_eq!(r.err(), Some(FloatModelError::TooManyOutputs { outputs: 3, capacity: 2 }));
    let bad = QuantParams { scale: 0.0, zero_point: 0 };
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let r = FloatModel::<_, 3>::new(Interpreter::new(&model, &mut arena).unwrap(), bad);
    assert!(matches!(r.err(), Some(FloatModelError::OutputQuant(_))));

    // An int8 quantizer on a float model's input does not fit (four bytes per value): refused.
    let mut arena = vec![0u8; model.arena_size().unwrap()];
    let mut float =
        FloatModel::<_, 3>::new(Interpreter::new(&model, &mut arena).unwrap(), grid).unwrap();
    let samples = [[0.5f32; 2]; 100];
    let affine = AffineQuantizer::new(QuantParams::new(0.1, 0).unwrap()).unwrap();
    assert!(affine.quantize(&samples, &[], float.input()).is_err());
    assert!(PassThrough.quantize(&samples, &[], float.input()).is_ok());
}
