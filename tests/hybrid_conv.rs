//! Dynamic-range ("hybrid") CONV_2D and DEPTHWISE_CONV_2D: int8 weights with float32 input,
//! bias and output, in one-operator models built byte by byte (no fixture has one), run through
//! load, plan and invoke and compared with the same arithmetic in `f64`: the input quantized per
//! batch exactly as TFLite's `SymmetricQuantizeFloats` (per-tensor CONV_2D) or
//! `AsymmetricQuantizeFloats` (per-channel CONV_2D, DEPTHWISE_CONV_2D), the window products
//! summed exactly, then `acc · s_w · s_b + bias` and the activation. Edges: an all-zero batch
//! (scale 1, zero point 0: the output is the bias), all-positive inputs (zero point -128, so
//! padding must count as the zero point, not as -128), per-channel scales, dilation, groups.

mod support;

use edge_reflex::engine::{Interpreter, LoadErrorKind, TfLiteModel};
use support::{ModelSpec, OpSpec, Tab, TensorSpec, F, FLOAT32, INT8};

const CONV_2D: i32 = 3;
const DEPTHWISE_CONV_2D: i32 = 4;

/// The geometry of a test convolution.
#[derive(Clone, Copy)]
struct Window {
    same: bool,
    stride: [usize; 2],
    dilation: [usize; 2],
    /// 0 NONE, 1 RELU, 3 RELU6.
    activation: i8,
}

/// A hybrid convolution under test.
#[derive(Clone)]
struct Case {
    depthwise: bool,
    window: Window,
    input: [usize; 4],
    /// `[out_c, kh, kw, depth]` (CONV_2D) or `[1, kh, kw, out_c]` (DEPTHWISE_CONV_2D).
    filter: [usize; 4],
    weights: Vec<i8>,
    scales: Vec<f32>,
    bias: Vec<f32>,
}

impl Case {
    fn channels(&self) -> usize {
        if self.depthwise {
            self.filter[3]
        } else {
            self.filter[0]
        }
    }

    /// Output size and leading padding along one axis (TFLite's SAME/VALID).
    fn axis(&self, input: usize, k: usize, axis: usize) -> (usize, usize) {
        let (s, d) = (self.window.stride[axis], self.window.dilation[axis]);
        let effective = (k - 1) * d + 1;
        if self.window.same {
            let out = input.div_ceil(s);
            let total = ((out - 1) * s + effective).saturating_sub(input);
            (out, total / 2)
        } else {
            ((input - effective) / s + 1, 0)
        }
    }

    fn output(&self) -> [usize; 4] {
        let (oh, _) = self.axis(self.input[1], self.filter[1], 0);
        let (ow, _) = self.axis(self.input[2], self.filter[2], 1);
        [self.input[0], oh, ow, self.channels()]
    }

    fn model(&self) -> Vec<u8> {
        let dims = |s: [usize; 4]| s.iter().map(|&d| d as i32).collect::<Vec<_>>();
        let quant_dim = if self.depthwise { 3 } else { 0 };
        let w = &self.window;
        let mut options = Tab::default()
            .with(0, F::U8(if w.same { 0 } else { 1 }))
            .with(1, F::I32(w.stride[1] as i32))
            .with(2, F::I32(w.stride[0] as i32));
        let (code, kind) = if self.depthwise {
            let multiplier = (self.channels() / self.input[3]) as i32;
            options = options
                .with(3, F::I32(multiplier))
                .with(4, F::I8(w.activation))
                .with(5, F::I32(w.dilation[1] as i32))
                .with(6, F::I32(w.dilation[0] as i32));
            (DEPTHWISE_CONV_2D, 2)
        } else {
            options = options
                .with(3, F::I8(w.activation))
                .with(4, F::I32(w.dilation[1] as i32))
                .with(5, F::I32(w.dilation[0] as i32));
            (CONV_2D, 1)
        };
        let float = |shape: Vec<i32>, data: Option<Vec<u8>>| TensorSpec {
            shape,
            dtype: FLOAT32,
            data,
            quant: None,
        };
        let zero_points = vec![0i64; self.scales.len()];
        ModelSpec {
            version: 3,
            codes: vec![(code as i8, code, 1)],
            tensors: vec![
                float(dims(self.input), None),
                TensorSpec {
                    shape: dims(self.filter),
                    dtype: INT8,
                    data: Some(self.weights.iter().map(|&v| v as u8).collect()),
                    quant: Some((self.scales.clone(), zero_points, quant_dim)),
                },
                float(vec![self.channels() as i32], Some(bytes(&self.bias))),
                float(dims(self.output()), None),
            ],
            ops: vec![OpSpec {
                opcode_index: 0,
                inputs: vec![0, 1, 2],
                outputs: vec![3],
                options: Some((kind, options)),
            }],
            inputs: vec![0],
            outputs: vec![3],
        }
        .build()
    }

    /// The expected outputs and, per output, the magnitude that bounds its rounding error.
    fn reference(&self, x: &[f32]) -> Vec<(f64, f64)> {
        let [n, ih, iw, ic] = self.input;
        let [_, oh, ow, oc] = self.output();
        let [_, kh, kw, _] = self.filter;
        let (_, pad_h) = self.axis(ih, kh, 0);
        let (_, pad_w) = self.axis(iw, kw, 1);
        let per_tensor = !self.depthwise && self.scales.iter().all(|&s| s == self.scales[0]);
        let per_batch = ih * iw * ic;
        let mut out = Vec::new();
        for b in 0..n {
            let row = &x[b * per_batch..(b + 1) * per_batch];
            let (q, scale, zp) = if per_tensor { symmetric(row) } else { asymmetric(row) };
            let at = |y: usize, x: usize, c: usize| q[(y * iw + x) * ic + c] as i64 - zp as i64;
            for y in 0..oh {
                for xo in 0..ow {
                    for o in 0..oc {
                        let mut acc = 0i64;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (y * self.window.stride[0] + ky * self.window.dilation[0])
                                    .checked_sub(pad_h)
                                    .filter(|&v| v < ih);
                                let ix = (xo * self.window.stride[1]
                                    + kx * self.window.dilation[1])
                                    .checked_sub(pad_w)
                                    .filter(|&v| v < iw);
                                let (Some(iy), Some(ix)) = (iy, ix) else { continue };
                                if self.depthwise {
                                    let w = self.weights[(ky * kw + kx) * oc + o] as i64;
                                    acc += w * at(iy, ix, o / (oc / ic));
                                } else {
                                    let depth = self.filter[3];
                                    let group = o / (oc / (ic / depth));
                                    for c in 0..depth {
                                        let w = self.weights[((o * kh + ky) * kw + kx) * depth + c];
                                        acc += w as i64 * at(iy, ix, group * depth + c);
                                    }
                                }
                            }
                        }
                        let s = if per_tensor { self.scales[0] } else { self.scales[o] };
                        let scaled = acc as f64 * s as f64 * scale as f64;
                        let v = scaled + self.bias[o] as f64;
                        let v = match self.window.activation {
                            1 => v.max(0.0),
                            3 => v.clamp(0.0, 6.0),
                            _ => v,
                        };
                        out.push((v, scaled.abs() + (self.bias[o] as f64).abs()));
                    }
                }
            }
        }
        out
    }
}

/// TFLite's `SymmetricQuantizeFloats` (in `f32`, as it is): the values, their scale, zero point 0.
fn symmetric(row: &[f32]) -> (Vec<i8>, f32, i32) {
    let range = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if range == 0.0 {
        return (vec![0; row.len()], 1.0, 0);
    }
    let inverse = 127.0 / range;
    let q = row.iter().map(|v| (v * inverse).round().clamp(-127.0, 127.0) as i8).collect();
    (q, range / 127.0, 0)
}

/// TFLite's `AsymmetricQuantizeFloats`: the range including 0 onto `[-128, 127]` in `f64`, the
/// zero point from the end that errs less, nudged and rounded; values in `f32`.
fn asymmetric(row: &[f32]) -> (Vec<i8>, f32, i32) {
    let rmin = row.iter().fold(0.0f32, |m, &v| m.min(v)) as f64;
    let rmax = row.iter().fold(0.0f32, |m, &v| m.max(v)) as f64;
    if rmin == rmax {
        return (vec![0; row.len()], 1.0, 0);
    }
    let scale = (rmax - rmin) / 255.0;
    let (from_min, from_max) = (-128.0 - rmin / scale, 127.0 - rmax / scale);
    let error_min = 128.0 + (rmin / scale).abs();
    let error_max = 127.0 + (rmax / scale).abs();
    let zp = if error_min < error_max { from_min } else { from_max };
    let zp = if zp <= -128.0 {
        -128
    } else if zp >= 127.0 {
        127
    } else {
        zp.round() as i32
    };
    let scale = scale as f32;
    let inverse = (1.0 / scale as f64) as f32;
    let q =
        row.iter().map(|&v| (zp as f32 + v * inverse).round().clamp(-128.0, 127.0) as i8).collect();
    (q, scale, zp)
}

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn run(model: &[u8], x: &[f32]) -> Vec<f32> {
    let m = TfLiteModel::load(model).unwrap_or_else(|e| panic!("load: {e}"));
    let mut arena = vec![0u8; m.arena_size().unwrap()];
    let mut interp = Interpreter::new(&m, &mut arena).unwrap();
    interp.input_bytes(0).unwrap().copy_from_slice(&bytes(x));
    interp.invoke().unwrap();
    let out = interp.output_bytes(0).unwrap();
    out.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// Runs `case` on `x` and compares with [`Case::reference`] to a few `f32` roundings.
fn check(case: &Case, x: &[f32]) -> Vec<f32> {
    let got = run(&case.model(), x);
    let want = case.reference(x);
    assert_eq!(got.len(), want.len());
    for (i, (g, (w, magnitude))) in got.iter().zip(&want).enumerate() {
        let tolerance = 4.0 * f32::EPSILON as f64 * magnitude.max(f32::MIN_POSITIVE as f64);
        assert!((*g as f64 - w).abs() <= tolerance, "output {i}: {g} vs {w} (±{tolerance})");
    }
    got
}

/// Deterministic values in about `[-1, 1)`.
fn noise(i: usize, seed: usize) -> f32 {
    let v = (i * 2_654_435_761 + seed * 40_503) % 10_007;
    v as f32 / 5_003.5 - 1.0
}

fn weights(n: usize, seed: usize) -> Vec<i8> {
    (0..n).map(|i| ((i * 37 + seed * 11) % 255) as i32 - 127).map(|v| v as i8).collect()
}

#[test]
fn per_tensor_conv_quantizes_each_batch_symmetrically() {
    let filter = [3, 3, 3, 2];
    let case = Case {
        depthwise: false,
        window: Window { same: true, stride: [2, 1], dilation: [1, 1], activation: 0 },
        input: [3, 5, 4, 2],
        filter,
        weights: weights(filter.iter().product(), 1),
        scales: vec![0.0125],
        bias: vec![0.5, -1.25, 3.0],
    };
    let per_batch = 5 * 4 * 2;
    // Batch 1 is all zero: scale 1, its outputs are the bias.
    let x: Vec<f32> = (0..3 * per_batch)
        .map(|i| if i / per_batch == 1 { 0.0 } else { noise(i, 3) * 4.0 })
        .collect();
    let got = check(&case, &x);
    let per_out = got.len() / 3;
    for (i, v) in got[per_out..2 * per_out].iter().enumerate() {
        assert_eq!(*v, case.bias[i % 3], "all-zero batch");
    }
    // The same model with RELU6 and dilation 2.
    let window = Window { same: true, stride: [1, 1], dilation: [2, 2], activation: 3 };
    check(&Case { window, ..case }, &x);
}

#[test]
fn per_channel_conv_quantizes_asymmetrically_and_pads_with_the_zero_point() {
    let filter = [4, 3, 3, 3];
    let case = Case {
        depthwise: false,
        window: Window { same: true, stride: [1, 2], dilation: [1, 1], activation: 0 },
        input: [2, 4, 5, 3],
        filter,
        weights: weights(filter.iter().product(), 2),
        scales: vec![0.02, 0.0031, 0.5, 0.000_7],
        bias: vec![-0.25, 0.0, 1.5, -3.0],
    };
    // All positive: the zero point is -128 and every padded tap must add nothing.
    let x: Vec<f32> = (0..2 * 4 * 5 * 3).map(|i| noise(i, 5).abs() * 10.0 + 0.01).collect();
    assert_eq!(asymmetric(&x[..60]).2, -128);
    let got = check(&case, &x);
    // Padding as -128 instead would differ by far more than the tolerance at the corners.
    let (q, s, zp) = asymmetric(&x[..60]);
    let corner: i64 = (0..4)
        .map(|o| {
            let mut acc = 0i64;
            for ky in 1..3 {
                for kx in 1..3 {
                    for c in 0..3 {
                        let w = case.weights[((o * 3 + ky) * 3 + kx) * 3 + c] as i64;
                        acc += w * (q[((ky - 1) * 5 + kx - 1) * 3 + c] as i64 - zp as i64);
                    }
                }
            }
            acc
        })
        .next()
        .unwrap();
    let want = corner as f64 * 0.02f32 as f64 * s as f64 - 0.25;
    assert!((got[0] as f64 - want).abs() < 1e-4, "{} vs {want}", got[0]);
    // A mixed-sign input and an all-zero second batch; RELU.
    let mut x: Vec<f32> = (0..120).map(|i| noise(i, 7) * 3.0).collect();
    x[60..].fill(0.0);
    let window = Window { activation: 1, ..case.window };
    let case = Case { window, ..case };
    let got = check(&case, &x);
    for (i, v) in got[got.len() / 2..].iter().enumerate() {
        assert_eq!(*v, case.bias[i % 4].max(0.0), "all-zero batch");
    }
}

#[test]
fn grouped_conv_runs_per_channel() {
    // 4 input channels in 2 groups of 2, 4 outputs (2 per group).
    let filter = [4, 2, 2, 2];
    let case = Case {
        depthwise: false,
        window: Window { same: false, stride: [1, 1], dilation: [1, 1], activation: 0 },
        input: [1, 3, 3, 4],
        filter,
        weights: weights(filter.iter().product(), 4),
        scales: vec![0.1, 0.2, 0.3, 0.4],
        bias: vec![0.0; 4],
    };
    let x: Vec<f32> = (0..36).map(|i| noise(i, 9)).collect();
    check(&case, &x);
    // Grouped with one scale: TFLite has no kernel for it, so it is refused at load.
    let one = Case { scales: vec![0.1], ..case };
    let e = TfLiteModel::load(&one.model()).expect_err("refused");
    assert!(matches!(e.kind, LoadErrorKind::Quantization(_)), "{e}");
}

#[test]
fn depthwise_quantizes_asymmetrically_per_channel() {
    // 3 input channels, multiplier 2, dilation 2, SAME, 2 batches (the second all zero).
    let filter = [1, 3, 3, 6];
    let case = Case {
        depthwise: true,
        window: Window { same: true, stride: [1, 1], dilation: [2, 1], activation: 0 },
        input: [2, 5, 5, 3],
        filter,
        weights: weights(filter.iter().product(), 3),
        scales: vec![0.01, 0.02, 0.003, 0.4, 0.05, 0.006],
        bias: vec![1.0, -1.0, 0.5, -0.5, 0.25, 0.0],
    };
    let mut x: Vec<f32> = (0..150).map(|i| noise(i, 11) * 2.0 + 0.7).collect();
    x[75..].fill(0.0);
    let got = check(&case, &x);
    for (i, v) in got[got.len() / 2..].iter().enumerate() {
        assert_eq!(*v, case.bias[i % 6], "all-zero batch");
    }
    // Strided, VALID, RELU6, all positive (zero point -128).
    let window = Window { same: false, stride: [2, 2], dilation: [1, 1], activation: 3 };
    let x: Vec<f32> = (0..150).map(|i| noise(i, 13).abs() * 5.0).collect();
    check(&Case { window, ..case }, &x);
}

#[test]
fn hybrid_weights_are_checked_as_tflite_checks_them() {
    let filter = [1, 2, 2, 2];
    let case = Case {
        depthwise: true,
        window: Window { same: false, stride: [1, 1], dilation: [1, 1], activation: 0 },
        input: [1, 3, 3, 2],
        filter,
        weights: weights(8, 5),
        scales: vec![0.1, 0.2],
        bias: vec![0.0; 2],
    };
    assert!(TfLiteModel::load(&case.model()).is_ok());
    // DEPTHWISE_CONV_2D with one scale for two channels: TFLite requires one per channel.
    let per_tensor = Case { scales: vec![0.1], ..case.clone() };
    let e = TfLiteModel::load(&per_tensor.model()).expect_err("refused");
    assert!(matches!(e.kind, LoadErrorKind::Quantization(_)), "{e}");
    // One channel with one scale is per channel (TFLite checks the count, not the dimension).
    let x: Vec<f32> = (0..9).map(|i| noise(i, 17)).collect();
    let single = Case {
        filter: [1, 2, 2, 1],
        input: [1, 3, 3, 1],
        weights: weights(4, 6),
        scales: vec![0.25],
        bias: vec![0.5],
        ..per_tensor
    };
    check(&single, &x);
    // A zero or negative scale.
    let bad = Case { scales: vec![0.1, 0.0], ..case };
    let e = TfLiteModel::load(&bad.model()).expect_err("refused");
    assert!(matches!(e.kind, LoadErrorKind::Quantization(_)), "{e}");
}
