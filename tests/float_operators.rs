//! The float32 operators the conformance fixtures do not cover (ADD, MUL, LOGISTIC, TANH,
//! SOFTMAX, AVERAGE_POOL_2D, MAX_POOL_2D), each in a one-operator model built byte by byte, run
//! through load, plan and invoke and compared with the operator's definition in `f64`; and
//! their malformed forms refused at load.

mod support;

use edge_reflex::engine::{Interpreter, LoadErrorKind, TfLiteModel};
use support::{ModelSpec, OpSpec, Tab, TensorSpec, F, FLOAT32};

fn float(shape: &[i32]) -> TensorSpec {
    TensorSpec { shape: shape.to_vec(), dtype: FLOAT32, data: None, quant: None }
}

/// A model of one operator `code` (options `options`) over float tensors `shapes`: the last is
/// the output, the others the graph's inputs.
fn model(code: i32, options: Option<(u8, Tab)>, shapes: &[&[i32]]) -> Vec<u8> {
    let n = shapes.len() as i32;
    ModelSpec {
        version: 3,
        codes: vec![(code as i8, code, 1)],
        tensors: shapes.iter().map(|s| float(s)).collect(),
        ops: vec![OpSpec {
            opcode_index: 0,
            inputs: (0..n - 1).collect(),
            outputs: vec![n - 1],
            options,
        }],
        inputs: (0..n - 1).collect(),
        outputs: vec![n - 1],
    }
    .build()
}

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn run(model: &[u8], inputs: &[&[f32]]) -> Vec<f32> {
    let m = TfLiteModel::load(model).unwrap_or_else(|e| panic!("load: {e}"));
    let mut arena = vec![0u8; m.arena_size().unwrap()];
    let mut interp = Interpreter::new(&m, &mut arena).unwrap();
    for (j, x) in inputs.iter().enumerate() {
        interp.input_bytes(j).unwrap().copy_from_slice(&bytes(x));
    }
    interp.invoke().unwrap();
    let out = interp.output_bytes(0).unwrap();
    out.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn close(got: &[f32], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((*g as f64 - w).abs() <= tolerance, "{got:?} vs {want:?}");
    }
}

#[test]
fn add_and_mul_broadcast_and_clamp() {
    let a = [-4.0f32, 1.5, 3.0, 7.0, -0.5, 2.25];
    let b = [1.0f32, 2.0, 4.0];
    let relu6 = Some((11, Tab::default().with(0, F::I8(3))));
    let got = run(&model(0, relu6, &[&[2, 3], &[3], &[2, 3]]), &[&a, &b]);
    let want: Vec<f64> = (0..6).map(|i| (a[i] as f64 + b[i % 3] as f64).clamp(0.0, 6.0)).collect();
    close(&got, &want, 0.0);

    let column = [0.5f32, -2.0];
    let none = Some((21, Tab::default().with(0, F::I8(0))));
    let got = run(&model(18, none, &[&[2, 3], &[2, 1], &[2, 3]]), &[&a, &column]);
    let want: Vec<f64> = (0..6).map(|i| a[i] as f64 * column[i / 3] as f64).collect();
    close(&got, &want, 0.0);

    // Shapes that do not broadcast to the output: refused at load, not at invoke.
    let bad = model(0, None, &[&[2, 3], &[2], &[2, 3]]);
    let e = TfLiteModel::load(&bad).expect_err("refused");
    assert!(matches!(e.kind, LoadErrorKind::Shapes(_)), "{e}");
}

#[test]
fn logistic_tanh_and_softmax_follow_their_definitions() {
    let x = [-20.0f32, -9.5, -1.0, 0.0, 0.75, 17.0];
    let got = run(&model(14, None, &[&[1, 6], &[1, 6]]), &[&x]);
    let want: Vec<f64> = x.iter().map(|&v| 1.0 / (1.0 + (-(v as f64)).exp())).collect();
    close(&got, &want, 1e-6);
    let got = run(&model(28, None, &[&[1, 6], &[1, 6]]), &[&x]);
    let want: Vec<f64> = x.iter().map(|&v| (v as f64).tanh()).collect();
    close(&got, &want, 1e-6);

    let beta = Some((9, Tab::default().with(0, F::F32(0.5))));
    let got = run(&model(25, beta, &[&[2, 3], &[2, 3]]), &[&x]);
    let mut want = Vec::new();
    for row in x.chunks(3) {
        let max = row.iter().fold(f64::MIN, |m, &v| m.max(v as f64));
        let e: Vec<f64> = row.iter().map(|&v| ((v as f64 - max) * 0.5).exp()).collect();
        let sum: f64 = e.iter().sum();
        want.extend(e.iter().map(|v| v / sum));
    }
    close(&got, &want, 1e-6);

    // An output of another size: refused at load.
    let e = TfLiteModel::load(&model(14, None, &[&[1, 6], &[1, 5]])).expect_err("refused");
    assert!(matches!(e.kind, LoadErrorKind::Shapes(_)), "{e}");
}

#[test]
fn pooling_averages_and_maxes_the_window() {
    // 4x4 input, 2x2 windows, stride 2, VALID; RELU on the max.
    let x: Vec<f32> = (0..16).map(|i| i as f32 * 0.5 - 3.0).collect();
    let pool = |act: i8| {
        Tab::default()
            .with(0, F::I8(1))
            .with(1, F::I32(2))
            .with(2, F::I32(2))
            .with(3, F::I32(2))
            .with(4, F::I32(2))
            .with(5, F::I8(act))
    };
    let shapes: &[&[i32]] = &[&[1, 4, 4, 1], &[1, 2, 2, 1]];
    let window = |y: usize, x0: usize| {
        [y * 8 + x0 * 2, y * 8 + x0 * 2 + 1, y * 8 + x0 * 2 + 4, y * 8 + x0 * 2 + 5]
    };
    let got = run(&model(1, Some((5, pool(0))), shapes), &[&x]);
    let want: Vec<f64> = (0..4)
        .map(|o| window(o / 2, o % 2).iter().map(|&i| x[i] as f64).sum::<f64>() / 4.0)
        .collect();
    close(&got, &want, 1e-6);
    let got = run(&model(17, Some((5, pool(1))), shapes), &[&x]);
    let want: Vec<f64> = (0..4)
        .map(|o| {
            window(o / 2, o % 2).iter().map(|&i| x[i] as f64).fold(f64::MIN, f64::max).max(0.0)
        })
        .collect();
    close(&got, &want, 0.0);
}
