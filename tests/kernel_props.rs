//! Property tests of the int8 kernels against deliberately simple scalar implementations.
//!
//! The references below share no code with the kernels: the fixed-point primitives are written
//! as exact rational roundings in `i128` (`floor((a*b + 2^30) / 2^31)` for the doubling high
//! multiply, round-half-away for the power-of-two division), accumulators are `i64`, and indices
//! are computed with signed arithmetic straight from the operator definitions. Shapes, strides,
//! padding, dilations, depth multipliers, zero points and multipliers are drawn at random; tensor
//! contents come from a seeded generator.

use edge_reflex::engine::arith::{
    multiply_by_quantized_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul, FusedActivation, QuantizedMultiplier,
};
use edge_reflex::engine::kernels::conv::{Conv2d, Window};
use edge_reflex::engine::kernels::depthwise::DepthwiseConv2d;
use edge_reflex::engine::kernels::elementwise::{Add, Mul};
use edge_reflex::engine::kernels::fc_prepared;
use edge_reflex::engine::kernels::fully_connected::{FullyConnected, FullyConnectedDims};
use edge_reflex::engine::kernels::layout::{batch_to_space, pad, space_to_batch, SpaceBatch};
use edge_reflex::engine::kernels::mean::Mean;
use edge_reflex::engine::kernels::pooling::{Pool, PoolKind};
use edge_reflex::engine::kernels::quantize::{Dequantize, Quantize, Requantize8};
use edge_reflex::engine::kernels::shape_ops::StridedSlice;
use edge_reflex::engine::kernels::softmax::Softmax;
use edge_reflex::engine::kernels::{
    packed_conv, packed_depthwise, padding, sparse, I32Le, Padding, Requantize,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------- simple references

/// Doubling high multiply as an exact rounding: nearest integer to a*b/2^31, ties toward +inf
/// (which is what the nudges 2^30 / 1-2^30 amount to), saturating MIN*MIN.
fn ref_srdhm(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let p = a as i128 * b as i128 + (1i128 << 30);
    p.div_euclid(1i128 << 31) as i32
}

/// x / 2^e rounded to nearest, ties away from zero.
fn ref_rdbpot(x: i32, e: i32) -> i32 {
    if e == 0 {
        return x;
    }
    let half = 1i128 << (e - 1);
    let mag = ((x as i128).abs() + half) >> e;
    (if x < 0 { -mag } else { mag }) as i32
}

fn ref_mbqm(x: i32, m: QuantizedMultiplier) -> i32 {
    let (left, right) = if m.shift > 0 { (m.shift, 0) } else { (0, -m.shift) };
    ref_rdbpot(ref_srdhm(x.wrapping_mul(1 << left), m.multiplier), right)
}

/// FULLY_CONNECTED's rescale: the full multiplier, one round-half-up division, written as an
/// exact floor division.
fn ref_single_rounding(x: i64, m: QuantizedMultiplier) -> i64 {
    let denom = 1i128 << (31 - m.shift);
    (x as i128 * m.multiplier as i128 + denom / 2).div_euclid(denom) as i64
}

fn clamp8(v: i64, lo: i32, hi: i32) -> i8 {
    v.clamp(lo as i64, hi as i64) as i8
}

/// A small deterministic generator for tensor contents.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.next() as u8 as i8).collect()
    }
    fn bias(&mut self, n: usize) -> Vec<i32> {
        (0..n).map(|_| (self.next() % 20001) as i32 - 10000).collect()
    }
    fn scale(&mut self) -> f32 {
        // log-uniform in [1e-4, 1)
        let u = (self.next() % 1_000_000) as f32 / 1_000_000.0;
        1e-4f32 * 10f32.powf(4.0 * u)
    }
}

fn le_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn activation() -> impl Strategy<Value = FusedActivation> {
    prop_oneof![
        Just(FusedActivation::None),
        Just(FusedActivation::Relu),
        Just(FusedActivation::Relu6),
        Just(FusedActivation::ReluN1To1),
    ]
}

fn padding_scheme() -> impl Strategy<Value = Padding> {
    prop_oneof![Just(Padding::Same), Just(Padding::Valid)]
}

// ---------------------------------------------------------------- fixed-point primitives

#[test]
fn fixed_point_hand_values() {
    assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
    assert_eq!(ref_srdhm(i32::MIN, i32::MIN), i32::MAX);
    assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0); // -0.5 -> 0
    assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1); // 0.5 -> 1
    assert_eq!(rounding_divide_by_pot(-5, 1), -3); // -2.5 -> -3
    assert_eq!(rounding_divide_by_pot(5, 1), 3);
    assert_eq!(rounding_divide_by_pot(-9, 3), -1); // -1.125 -> -1
    assert_eq!(rounding_divide_by_pot(-12, 3), -2); // -1.5 -> -2
                                                    // 0.3 as a multiplier: 0.6 * 2^31 rounded, shift -1.
    let m = QuantizedMultiplier::from_real(0.3).unwrap();
    assert_eq!((m.multiplier, m.shift), (1_288_490_189, -1));
    assert_eq!(m.apply(100), 30);
    assert_eq!(m.apply(-100), -30);
    assert_eq!(m.apply(5), 2); // 1.5 -> 2 (positive tie up)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn srdhm_matches_exact_rounding(a in any::<i32>(), b in any::<i32>()) {
        prop_assert_eq!(saturating_rounding_doubling_high_mul(a, b), ref_srdhm(a, b));
    }

    #[test]
    fn rounding_divide_matches_exact_rounding(x in any::<i32>(), e in 0i32..=31) {
        prop_assert_eq!(rounding_divide_by_pot(x, e), ref_rdbpot(x, e));
    }

    #[test]
    fn quantized_multiplier_is_accurate(real in 1e-9f64..1e9f64) {
        let m = QuantizedMultiplier::from_real(real).unwrap();
        if real < 2f64.powi(-32) {
            prop_assert_eq!(m.multiplier, 0);
        } else {
            prop_assert!(m.multiplier >= 1 << 30);
            let back = m.multiplier as f64 * 2f64.powi(m.shift - 31);
            prop_assert!((back - real).abs() <= real * 2f64.powi(-30), "{back} vs {real}");
        }
    }

    #[test]
    fn multiply_by_quantized_multiplier_matches(x in -(1i32 << 24)..(1 << 24), real in 1e-6f64..100.0) {
        let m = QuantizedMultiplier::from_real(real).unwrap();
        prop_assert_eq!(multiply_by_quantized_multiplier(x, m.multiplier, m.shift), ref_mbqm(x, m));
        // And it is within one step of the real product.
        let exact = x as f64 * m.multiplier as f64 * 2f64.powi(m.shift - 31);
        prop_assert!((m.apply(x) as f64 - exact).abs() <= 1.0);
    }
}

// ---------------------------------------------------------------- padding arithmetic

proptest! {
    #[test]
    fn padding_follows_tflite_formulas(
        scheme in padding_scheme(), input in 1usize..40, filter in 1usize..8,
        stride in 1usize..5, dilation in 1usize..4,
    ) {
        let effective = (filter - 1) * dilation + 1;
        let expected_out = match scheme {
            Padding::Same => input.div_ceil(stride),
            Padding::Valid => (input + 1).saturating_sub(effective).div_ceil(stride),
        };
        match padding(scheme, input, filter, stride, dilation) {
            None => prop_assert_eq!(expected_out, 0),
            Some((out, pad)) => {
                prop_assert_eq!(out, expected_out);
                let total = ((out - 1) * stride + effective).saturating_sub(input);
                prop_assert_eq!(pad, total / 2);
            }
        }
    }
}

// ---------------------------------------------------------------- FULLY_CONNECTED

proptest! {
    #[test]
    fn fully_connected_matches_reference(
        batches in 1usize..4, depth in 0usize..40, units in 1usize..10,
        zp_in in -128i32..128, zp_w in -10i32..10, zp_out in -128i32..128,
        per_channel in any::<bool>(), with_bias in any::<bool>(), act in activation(),
        seed in any::<u64>(), pruned in any::<bool>(),
    ) {
        let mut rng = Rng(seed);
        let input = rng.i8s(batches * depth);
        let mut filter = rng.i8s(units * depth);
        if pruned {
            // Three in four weights at the zero point, as a pruned model's.
            for w in filter.iter_mut() {
                if !rng.next().is_multiple_of(4) {
                    *w = zp_w as i8;
                }
            }
        }
        let bias = rng.bias(units);
        let bias_bytes = le_bytes(&bias);
        let out_scale = rng.scale();
        // Multipliers from 1e-10 to 10: the usual range, and the shifts where the fast forms
        // do not exist (multipliers of 1/4 and more, tiny ones), which must fall back exactly.
        let mults: Vec<QuantizedMultiplier> = (0..units)
            .map(|_| {
                let decade = 10f64.powi(-((rng.next() % 8) as i32));
                QuantizedMultiplier::from_real(rng.scale() as f64 * 10.0 * decade).unwrap()
            })
            .collect();
        let shifts: Vec<i8> = mults.iter().map(|m| m.shift as i8).collect();
        let mult_bytes = le_bytes(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>());
        let requantize = if per_channel {
            Requantize::PerChannel { multipliers: I32Le(&mult_bytes), shifts: &shifts }
        } else {
            Requantize::PerTensor(mults[0])
        };
        let fc = FullyConnected::new(zp_in, zp_w, out_scale, zp_out, act).unwrap();
        let dims = FullyConnectedDims { batches, depth, units };
        let bias_view = with_bias.then_some(I32Le(&bias_bytes));
        let mut out = vec![0i8; batches * units];
        fc.eval(dims, requantize, &input, &filter, bias_view, &mut out).unwrap();
        // The portable kernel and the zero-skipping one give the same bytes.
        let mut portable = vec![0i8; out.len()];
        fc.eval_portable(dims, requantize, &input, &filter, bias_view, &mut portable).unwrap();
        prop_assert_eq!(&portable, &out);
        // The prepared-rescale path (per-tensor or per-unit multipliers) gives the same bytes.
        let n = if per_channel { units } else { 1 };
        let prepared: Option<Vec<i32>> =
            (0..n).map(|u| fc_prepared::rescale_of(mults[u], fc.output_offset)).collect();
        if let Some(prepared) = prepared {
            let rescales = le_bytes(&prepared);
            let mut fast = vec![0i8; out.len()];
            fc.eval_rescaled(dims, requantize, I32Le(&rescales), &input, &filter, bias_view, &mut fast)
                .unwrap();
            prop_assert_eq!(&fast, &out);
        }
        if let (Some(bytes), true) = (sparse::table_bytes(&filter, depth, fc.filter_offset), depth <= 256) {
            let mut table = vec![0u8; bytes];
            let k = sparse::UnitConstants {
                input_offset: fc.input_offset,
                bias: bias_view,
                multiplier: |u: usize| if per_channel { mults[u] } else { mults[0] },
                output_offset: fc.output_offset,
            };
            prop_assert!(sparse::write_table(&filter, depth, fc.filter_offset, k, &mut table));
            let mut listed = vec![0i8; out.len()];
            fc.eval_sparse(dims, requantize, &input, &table, &mut listed).unwrap();
            prop_assert_eq!(&listed, &out);
        }
        for b in 0..batches {
            for u in 0..units {
                let mut acc: i64 = 0;
                for d in 0..depth {
                    acc += (filter[u * depth + d] as i64 - zp_w as i64)
                        * (input[b * depth + d] as i64 - zp_in as i64);
                }
                if with_bias { acc += bias[u] as i64; }
                let m = if per_channel { mults[u] } else { mults[0] };
                let v = ref_single_rounding(acc, m) + zp_out as i64;
                prop_assert_eq!(out[b * units + u], clamp8(v, fc.activation_min, fc.activation_max));
            }
        }
        // A wrong length is an error, not a panic.
        let wrong = fc.eval(
            FullyConnectedDims { batches, depth: depth + 1, units }, requantize, &input, &filter,
            None, &mut out,
        );
        prop_assert!(wrong.is_err());
    }
}

// ---------------------------------------------------------------- CONV_2D / DEPTHWISE

#[derive(Debug, Clone)]
struct ConvCase {
    batches: usize,
    in_h: usize,
    in_w: usize,
    in_c: usize,
    out_c: usize,
    groups: usize,
    kh: usize,
    kw: usize,
    stride: (usize, usize),
    dilation: (usize, usize),
    scheme: Padding,
    zp_in: i32,
    zp_out: i32,
    act: FusedActivation,
    seed: u64,
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        (1usize..3, 1usize..10, 1usize..10, 1usize..4, 1usize..4, 1usize..3),
        (1usize..4, 1usize..4, (1usize..4, 1usize..4), (1usize..3, 1usize..3)),
        (padding_scheme(), -128i32..128, -128i32..128, activation(), any::<u64>()),
    )
        .prop_map(|(a, b, c)| ConvCase {
            batches: a.0,
            in_h: a.1,
            in_w: a.2,
            in_c: a.3 * a.5,
            out_c: a.4 * a.5,
            groups: a.5,
            kh: b.0,
            kw: b.1,
            stride: b.2,
            dilation: b.3,
            scheme: c.0,
            zp_in: c.1,
            zp_out: c.2,
            act: c.3,
            seed: c.4,
        })
}

fn window_of(c: &ConvCase) -> Option<(Window, usize, usize)> {
    let (oh, ph) = padding(c.scheme, c.in_h, c.kh, c.stride.0, c.dilation.0)?;
    let (ow, pw) = padding(c.scheme, c.in_w, c.kw, c.stride.1, c.dilation.1)?;
    let w = Window {
        stride_h: c.stride.0,
        stride_w: c.stride.1,
        dilation_h: c.dilation.0,
        dilation_w: c.dilation.1,
        pad_h: ph,
        pad_w: pw,
    };
    Some((w, oh, ow))
}

/// Input value at signed position, `None` in the padding.
fn at(input: &[i8], shape: [usize; 4], b: usize, y: isize, x: isize, c: usize) -> Option<i64> {
    let [_, h, w, d] = shape;
    if y < 0 || x < 0 || y as usize >= h || x as usize >= w {
        return None;
    }
    Some(input[((b * h + y as usize) * w + x as usize) * d + c] as i64)
}

/// Runs DEPTHWISE_CONV_2D through every path (portable, packed with scratch at each alignment,
/// too little scratch) and compares each with the reference.
fn check_depthwise(c: &ConvCase, multiplier: usize) -> Result<(), TestCaseError> {
    let Some((window, oh, ow)) = window_of(c) else {
        return Ok(());
    };
    let mut rng = Rng(c.seed);
    let out_c = c.in_c * multiplier;
    let in_shape = [c.batches, c.in_h, c.in_w, c.in_c];
    let f_shape = [1, c.kh, c.kw, out_c];
    let out_shape = [c.batches, oh, ow, out_c];
    let input = rng.i8s(in_shape.iter().product());
    let filter = rng.i8s(f_shape.iter().product());
    let bias = rng.bias(out_c);
    let bias_bytes = le_bytes(&bias);
    let mults: Vec<QuantizedMultiplier> = (0..out_c)
        .map(|_| QuantizedMultiplier::from_real(rng.scale() as f64 * 0.05).unwrap())
        .collect();
    let shifts: Vec<i8> = mults.iter().map(|m| m.shift as i8).collect();
    let mult_bytes = le_bytes(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>());
    let requantize = Requantize::PerChannel { multipliers: I32Le(&mult_bytes), shifts: &shifts };
    let dw = DepthwiseConv2d::new(window, multiplier, c.zp_in, 0.05, c.zp_out, c.act).unwrap();
    let mut out = vec![0i8; out_shape.iter().product()];
    dw.eval_portable(
        &input,
        in_shape,
        &filter,
        f_shape,
        Some(I32Le(&bias_bytes)),
        requantize,
        &mut out,
        out_shape,
    )
    .unwrap();
    let mut expected = Vec::new();
    for b in 0..c.batches {
        for y in 0..oh {
            for x in 0..ow {
                for i in 0..c.in_c {
                    for mm in 0..multiplier {
                        let o = i * multiplier + mm;
                        let mut acc = bias[o] as i64;
                        for ky in 0..c.kh {
                            for kx in 0..c.kw {
                                let iy = (y * c.stride.0 + ky * c.dilation.0) as isize
                                    - window.pad_h as isize;
                                let ix = (x * c.stride.1 + kx * c.dilation.1) as isize
                                    - window.pad_w as isize;
                                if let Some(v) = at(&input, in_shape, b, iy, ix, i) {
                                    let w = filter[(ky * c.kw + kx) * out_c + o] as i64;
                                    acc += w * (v - c.zp_in as i64);
                                }
                            }
                        }
                        let v = ref_mbqm(acc as i32, mults[o]) as i64 + c.zp_out as i64;
                        expected.push(clamp8(v, dw.activation_min, dw.activation_max));
                    }
                }
            }
        }
    }
    prop_assert_eq!(&out, &expected);
    let three = (c.kh, c.kw, c.dilation) == (3, 3, (1, 1)) && c.stride.1 <= 2;
    let single = c.in_c == 1 && out_c.is_multiple_of(2) && c.kw <= 8 && c.dilation == (1, 1);
    let packable = three || single;
    let shapes = packed_conv::Shapes { input: in_shape, filter: f_shape, output: out_shape };
    let need = dw.scratch_bytes(in_shape, f_shape, out_shape);
    prop_assert_eq!(need > 0, packable);
    for misalign in 0..4 {
        let mut scratch = vec![0u8; need + misalign];
        let mut fast = vec![0i8; out.len()];
        let ran = packed_depthwise::depthwise(
            &dw,
            &input,
            &filter,
            Some(I32Le(&bias_bytes)),
            requantize,
            &mut fast,
            shapes,
            &mut scratch[misalign..],
        );
        prop_assert_eq!(ran, packable);
        if ran {
            prop_assert_eq!(&fast, &expected);
        }
        let mut via_eval = vec![0i8; out.len()];
        dw.eval_with_scratch(
            &input,
            in_shape,
            &filter,
            f_shape,
            Some(I32Le(&bias_bytes)),
            requantize,
            &mut via_eval,
            out_shape,
            &mut scratch[misalign..],
        )
        .unwrap();
        prop_assert_eq!(&via_eval, &expected);
    }
    // Inconsistent shapes are refused without writing.
    let before = out.clone();
    prop_assert!(dw
        .eval_with_scratch(
            &input,
            in_shape,
            &filter,
            [1, c.kh, c.kw, out_c + 1],
            None,
            requantize,
            &mut out,
            out_shape,
            &mut []
        )
        .is_err());
    prop_assert_eq!(out, before);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn conv2d_matches_reference(c in conv_case()) {
        let Some((window, oh, ow)) = window_of(&c) else { return Ok(()); };
        let mut rng = Rng(c.seed);
        let fd = c.in_c / c.groups;
        let in_shape = [c.batches, c.in_h, c.in_w, c.in_c];
        let f_shape = [c.out_c, c.kh, c.kw, fd];
        let out_shape = [c.batches, oh, ow, c.out_c];
        let input = rng.i8s(in_shape.iter().product());
        let filter = rng.i8s(f_shape.iter().product());
        let bias = rng.bias(c.out_c);
        let bias_bytes = le_bytes(&bias);
        let mults: Vec<QuantizedMultiplier> = (0..c.out_c)
            .map(|_| QuantizedMultiplier::from_real(rng.scale() as f64 * 0.05).unwrap())
            .collect();
        let shifts: Vec<i8> = mults.iter().map(|m| m.shift as i8).collect();
        let mult_bytes = le_bytes(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>());
        let conv = Conv2d::new(window, c.zp_in, 0.05, c.zp_out, c.act).unwrap();
        let requantize = Requantize::PerChannel { multipliers: I32Le(&mult_bytes), shifts: &shifts };
        let mut out = vec![0i8; out_shape.iter().product()];
        conv.eval_portable(
            &input, in_shape, &filter, f_shape, Some(I32Le(&bias_bytes)), requantize,
            &mut out, out_shape,
        ).unwrap();
        // The packed path, on a scratch buffer at every alignment: the same bytes, and it does
        // run for ungrouped convolutions (the drawn multipliers all shift right).
        for misalign in 0..4 {
            let mut scratch = vec![0u8; Conv2d::scratch_bytes(f_shape) + misalign];
            let mut fast = vec![0i8; out.len()];
            let ran = packed_conv::conv(
                &conv, &input, &filter, Some(I32Le(&bias_bytes)), requantize, &mut fast,
                packed_conv::Shapes { input: in_shape, filter: f_shape, output: out_shape },
                &mut scratch[misalign..],
            );
            prop_assert_eq!(ran, c.groups == 1 && mults.iter().all(|m| m.shift < 0));
            if ran {
                prop_assert_eq!(&fast, &out);
            }
            let mut via_eval = vec![0i8; out.len()];
            conv.eval_with_scratch(
                &input, in_shape, &filter, f_shape, Some(I32Le(&bias_bytes)), requantize,
                &mut via_eval, out_shape, &mut scratch[misalign..],
            ).unwrap();
            prop_assert_eq!(&via_eval, &out);
        }
        // Too little scratch: the portable path, same results.
        let mut short = vec![0i8; out.len()];
        conv.eval_with_scratch(
            &input, in_shape, &filter, f_shape, Some(I32Le(&bias_bytes)), requantize,
            &mut short, out_shape, &mut [0u8; 8],
        ).unwrap();
        prop_assert_eq!(&short, &out);
        let per_group = c.out_c / c.groups;
        let mut expected = Vec::new();
        for b in 0..c.batches {
            for y in 0..oh {
                for x in 0..ow {
                    for o in 0..c.out_c {
                        let g = o / per_group;
                        let mut acc = bias[o] as i64;
                        for ky in 0..c.kh {
                            for kx in 0..c.kw {
                                let iy = (y * c.stride.0 + ky * c.dilation.0) as isize - window.pad_h as isize;
                                let ix = (x * c.stride.1 + kx * c.dilation.1) as isize - window.pad_w as isize;
                                for i in 0..fd {
                                    if let Some(v) = at(&input, in_shape, b, iy, ix, g * fd + i) {
                                        let w = filter[((o * c.kh + ky) * c.kw + kx) * fd + i] as i64;
                                        acc += w * (v - c.zp_in as i64);
                                    }
                                }
                            }
                        }
                        let v = ref_mbqm(acc as i32, mults[o]) as i64 + c.zp_out as i64;
                        expected.push(clamp8(v, conv.activation_min, conv.activation_max));
                    }
                }
            }
        }
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn depthwise_matches_reference(c in conv_case(), multiplier in 1usize..4, wide in 1usize..8) {
        // Up to 6 * 7 * 3 = 126 output channels: crosses the kernel's 32-channel chunks.
        let c = ConvCase { in_c: c.in_c * wide, ..c };
        check_depthwise(&c, multiplier)?;
    }

    #[test]
    fn depthwise_single_channel_packed_matches_reference(
        c in conv_case(), half in 1usize..5, kh in 1usize..11, kw in 1usize..9,
    ) {
        // The shapes of the single-input-channel path (a keyword spotter's first layer).
        let c = ConvCase { in_c: 1, kh, kw, dilation: (1, 1), in_h: c.in_h + kh,
            in_w: c.in_w + kw, ..c };
        check_depthwise(&c, 2 * half)?;
    }

    #[test]
    fn depthwise_3x3_packed_matches_reference(
        c in conv_case(), multiplier in 1usize..4, wide in 1usize..6, stride_w in 1usize..3,
    ) {
        // The shapes of the packed 3x3 path (MobileNet's depthwise layers).
        let c = ConvCase { in_c: c.in_c * wide, kh: 3, kw: 3, dilation: (1, 1),
            stride: (c.stride.0, stride_w), in_h: c.in_h + 2, in_w: c.in_w + 2, ..c };
        check_depthwise(&c, multiplier)?;
    }

    #[test]
    fn pooling_matches_reference(c in conv_case(), max in any::<bool>()) {
        let c = ConvCase { dilation: (1, 1), ..c };
        let Some((window, oh, ow)) = window_of(&c) else { return Ok(()); };
        let mut rng = Rng(c.seed);
        let in_shape = [c.batches, c.in_h, c.in_w, c.in_c];
        let out_shape = [c.batches, oh, ow, c.in_c];
        let input = rng.i8s(in_shape.iter().product());
        let kind = if max { PoolKind::Max } else { PoolKind::Average };
        let pool = Pool::new(kind, window, c.kh, c.kw, 0.05, c.zp_out, c.act).unwrap();
        let mut out = vec![0i8; out_shape.iter().product()];
        let result = pool.eval(&input, in_shape, &mut out, out_shape);
        let mut expected = Vec::new();
        let mut empty_window = false;
        for b in 0..c.batches {
            for y in 0..oh {
                for x in 0..ow {
                    for ch in 0..c.in_c {
                        let mut vals = Vec::new();
                        for ky in 0..c.kh {
                            for kx in 0..c.kw {
                                let iy = (y * c.stride.0 + ky) as isize - window.pad_h as isize;
                                let ix = (x * c.stride.1 + kx) as isize - window.pad_w as isize;
                                if let Some(v) = at(&input, in_shape, b, iy, ix, ch) {
                                    vals.push(v);
                                }
                            }
                        }
                        let v = if max {
                            vals.iter().copied().max().unwrap_or(-128)
                        } else if vals.is_empty() {
                            empty_window = true;
                            0
                        } else {
                            // Round half away from zero.
                            let (s, n) = (vals.iter().sum::<i64>(), vals.len() as i64);
                            let q = (2 * s.abs() + n) / (2 * n);
                            if s < 0 { -q } else { q }
                        };
                        expected.push(clamp8(v, pool.activation_min, pool.activation_max));
                    }
                }
            }
        }
        if empty_window {
            prop_assert!(result.is_err());
        } else {
            result.unwrap();
            prop_assert_eq!(out, expected);
        }
    }
}

// ---------------------------------------------------------------- ADD / MUL / MEAN

fn broadcast_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    prop::collection::vec((1usize..4, 0u8..3), 1..5).prop_map(|dims| {
        let out: Vec<usize> = dims.iter().map(|d| d.0).collect();
        // Each input keeps a dimension, sets it to 1, or (for input 2) drops leading ones.
        let a: Vec<usize> = dims.iter().map(|&(d, k)| if k == 1 { 1 } else { d }).collect();
        let b_full: Vec<usize> = dims.iter().map(|&(d, k)| if k == 2 { 1 } else { d }).collect();
        let drop = b_full.iter().take_while(|&&d| d == 1).count();
        (a, b_full[drop..].to_vec(), out)
    })
}

/// Offset of output multi-index `idx` in an input of `shape` right-aligned and broadcast.
fn broadcast_offset(idx: &[usize], shape: &[usize]) -> usize {
    let skip = idx.len() - shape.len();
    let mut off = 0;
    for (d, &n) in shape.iter().enumerate() {
        let i = if n == 1 { 0 } else { idx[skip + d] };
        off = off * n + i;
    }
    off
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

proptest! {
    #[test]
    fn add_and_mul_match_reference(
        (s1, s2, so) in broadcast_shapes(),
        zp1 in -128i32..128, zp2 in -128i32..128, zpo in -128i32..128,
        act in activation(), seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let in1 = rng.i8s(s1.iter().product());
        let in2 = rng.i8s(s2.iter().product());
        let (sc1, sc2, sco) = (rng.scale(), rng.scale(), rng.scale().max(1e-3));
        let n: usize = so.iter().product();
        let add = Add::new((sc1, zp1), (sc2, zp2), (sco, zpo), act).unwrap();
        let mut out = vec![0i8; n];
        add.eval(&in1, &s1, &in2, &s2, &mut out, &so).unwrap();
        for (i, &y) in out.iter().enumerate() {
            let idx = unravel(i, &so);
            let a = in1[broadcast_offset(&idx, &s1)] as i32 - zp1;
            let b = in2[broadcast_offset(&idx, &s2)] as i32 - zp2;
            let sum = ref_mbqm(a << 20, add.input1_multiplier) + ref_mbqm(b << 20, add.input2_multiplier);
            let v = ref_mbqm(sum, add.output_multiplier) as i64 + zpo as i64;
            prop_assert_eq!(y, clamp8(v, add.activation_min, add.activation_max));
        }
        let mul = Mul::new((sc1, zp1), (sc2, zp2), (sco, zpo), act).unwrap();
        mul.eval(&in1, &s1, &in2, &s2, &mut out, &so).unwrap();
        for (i, &y) in out.iter().enumerate() {
            let idx = unravel(i, &so);
            let a = in1[broadcast_offset(&idx, &s1)] as i32 - zp1;
            let b = in2[broadcast_offset(&idx, &s2)] as i32 - zp2;
            let v = ref_mbqm(a * b, mul.output_multiplier) as i64 + zpo as i64;
            prop_assert_eq!(y, clamp8(v, mul.activation_min, mul.activation_max));
        }
        // Shapes that do not broadcast are refused: grow an output dimension where input 1
        // is not broadcast.
        let skip = so.len() - s1.len();
        if let Some(d) = (0..s1.len()).find(|&d| s1[d] > 1) {
            let mut bad = so.clone();
            bad[skip + d] += 1;
            let mut out2 = vec![0i8; bad.iter().product()];
            prop_assert!(add.eval(&in1, &s1, &in2, &s2, &mut out2, &bad).is_err());
        }
    }

    #[test]
    fn mean_matches_reference(
        shape in prop::collection::vec(1usize..5, 1..5), axes_bits in 1u8..16,
        zp_in in -128i32..128, zp_out in -128i32..128, seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let rank = shape.len();
        let axes: Vec<i32> = (0..rank).filter(|d| axes_bits & (1 << d) != 0).map(|d| {
            // Alternate positive and negative spellings of the same axis.
            if d % 2 == 0 { d as i32 } else { d as i32 - rank as i32 }
        }).collect();
        let input = rng.i8s(shape.iter().product());
        let (s_in, s_out) = (rng.scale(), rng.scale());
        let mean = Mean::new(s_in, zp_in, s_out, zp_out).unwrap();
        let kept: Vec<usize> = (0..rank).filter(|d| axes_bits & (1 << d) == 0).map(|d| shape[d]).collect();
        let mut out = vec![0i8; kept.iter().product()];
        mean.eval(&input, &shape, &axes, &mut out).unwrap();
        if axes.is_empty() {
            prop_assert_eq!(&out[..], &input[..]);
            return Ok(());
        }
        let mut sums = vec![0i64; out.len()];
        let mut count = 0i64;
        for (i, &x) in input.iter().enumerate() {
            let idx = unravel(i, &shape);
            let k: Vec<usize> = (0..rank).filter(|d| axes_bits & (1 << d) == 0).map(|d| idx[d]).collect();
            let o = if k.is_empty() { 0 } else { broadcast_offset(&k, &kept) };
            sums[o] += x as i64;
            if o == 0 { count += 1; }
        }
        // The multiplier with 1/n folded in, as TFLite derives it.
        let m = mean.multiplier;
        let log2 = 63 - (count as u64).leading_zeros() as i32;
        let k = log2.min(32).min(31 + m.shift);
        let folded = QuantizedMultiplier {
            multiplier: (((m.multiplier as i64) << k) / count) as i32,
            shift: m.shift - k,
        };
        for (o, &y) in out.iter().enumerate() {
            let centred = (sums[o] - zp_in as i64 * count) as i32;
            let v = ref_mbqm(centred, folded) as i64 + zp_out as i64;
            prop_assert_eq!(y, clamp8(v, -128, 127));
        }
        // And it is close to the real mean.
        for (o, &y) in out.iter().enumerate() {
            let real = (sums[o] - zp_in as i64 * count) as f64 / count as f64 * s_in as f64 / s_out as f64;
            let want = (real + zp_out as f64).clamp(-128.0, 127.0);
            prop_assert!((y as f64 - want).abs() <= 1.0, "{y} vs {want}");
        }
    }
}

// ---------------------------------------------------------------- SOFTMAX

proptest! {
    #[test]
    fn softmax_is_close_to_float_and_ordered(
        depth in 1usize..40, rows in 1usize..3, scale in 0.01f32..0.5, beta in 0.5f32..2.0,
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let input = rng.i8s(depth * rows);
        let sm = Softmax::new(beta, scale).unwrap();
        let mut out = vec![0i8; depth * rows];
        sm.eval(&input, &mut out, depth).unwrap();
        for (row, out_row) in input.chunks(depth).zip(out.chunks(depth)) {
            let max = *row.iter().max().unwrap() as f64;
            let exps: Vec<f64> = row.iter()
                .map(|&x| ((x as f64 - max) * scale as f64 * beta as f64).exp())
                .collect();
            let total: f64 = exps.iter().sum();
            for (i, (&e, &y)) in exps.iter().zip(out_row).enumerate() {
                let want = (e / total * 256.0 - 128.0).clamp(-128.0, 127.0);
                prop_assert!((y as f64 - want).abs() <= 1.5, "{y} vs {want}");
                for (j, &x) in row.iter().enumerate() {
                    if x < row[i] { prop_assert!(out_row[j] <= y); }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- data movement

proptest! {
    #[test]
    fn pad_places_input_inside_padding(
        shape in prop::collection::vec(1usize..4, 1..5),
        pads in prop::collection::vec((0usize..3, 0usize..3), 4),
        value in any::<i8>(), seed in any::<u64>(),
    ) {
        let rank = shape.len();
        let pads = &pads[..rank];
        let mut rng = Rng(seed);
        let input = rng.i8s(shape.iter().product());
        let out_shape: Vec<usize> = shape.iter().zip(pads).map(|(&d, &(b, a))| d + b + a).collect();
        let mut out = vec![0i8; out_shape.iter().product()];
        pad(&input, &shape, pads, value, &mut out).unwrap();
        for (i, &y) in out.iter().enumerate() {
            let idx = unravel(i, &out_shape);
            let src: Option<Vec<usize>> = idx.iter().zip(pads).zip(&shape)
                .map(|((&j, &(b, _)), &d)| j.checked_sub(b).filter(|&k| k < d))
                .collect();
            let want = match src {
                Some(s) => input[broadcast_offset(&s, &shape)],
                None => value,
            };
            prop_assert_eq!(y, want);
        }
    }

    #[test]
    fn space_to_batch_then_batch_to_space_round_trips(
        n in 1usize..3, h in 1usize..7, w in 1usize..7, c in 1usize..3,
        bh in 1usize..4, bw in 1usize..4, top in 0usize..3, left in 0usize..3,
        seed in any::<u64>(),
    ) {
        // Pad so the padded size is a multiple of the block (as TFLite requires).
        let bottom = (bh - (h + top) % bh) % bh;
        let right = (bw - (w + left) % bw) % bw;
        let (ph, pw) = ((h + top + bottom) / bh, (w + left + right) / bw);
        let mut rng = Rng(seed);
        let input = rng.i8s(n * h * w * c);
        let geometry = SpaceBatch { block_h: bh, block_w: bw, top, left };
        let mid_shape = [n * bh * bw, ph, pw, c];
        let mut mid = vec![0i8; mid_shape.iter().product()];
        space_to_batch(geometry, &input, [n, h, w, c], -7, &mut mid, mid_shape).unwrap();
        // Each batch-space element is the padded input at its block offset.
        for (i, &y) in mid.iter().enumerate() {
            let idx = unravel(i, &mid_shape);
            let (ob, oy, ox, ch) = (idx[0], idx[1], idx[2], idx[3]);
            let (b, s) = (ob % n, ob / n);
            let (sy, sx) = (s / bw, s % bw);
            let want = at(&input, [n, h, w, c], b,
                (oy * bh + sy) as isize - top as isize, (ox * bw + sx) as isize - left as isize, ch)
                .map_or(-7, |v| v as i8);
            prop_assert_eq!(y, want);
        }
        let mut back = vec![0i8; input.len()];
        batch_to_space(geometry, &mid, mid_shape, &mut back, [n, h, w, c]).unwrap();
        prop_assert_eq!(back, input);
    }

    #[test]
    fn strided_slice_matches_python_semantics(
        len in 1usize..12, begin in -14i32..14, end in -14i32..14,
        stride in prop_oneof![-3i32..0, 1i32..4], begin_masked in any::<bool>(),
        end_masked in any::<bool>(), seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let input = rng.i8s(len);
        let mut s = StridedSlice {
            rank: 1, begin: [0; 6], end: [0; 6], strides: [1; 6],
            begin_mask: begin_masked as u32, end_mask: end_masked as u32, shrink_axis_mask: 0,
        };
        s.begin[0] = begin;
        s.end[0] = end;
        s.strides[0] = stride;
        // Python's slice.indices() is the specification of begin/end/stride resolution.
        let n = len as i64;
        let (st, en, step) = (begin as i64, end as i64, stride as i64);
        let norm = |v: i64, lo: i64, hi: i64| { let v = if v < 0 { v + n } else { v }; v.clamp(lo, hi) };
        let (start, stop) = if step > 0 {
            (if begin_masked { 0 } else { norm(st, 0, n) }, if end_masked { n } else { norm(en, 0, n) })
        } else {
            (if begin_masked { n - 1 } else { norm(st, -1, n - 1) }, if end_masked { -1 } else { norm(en, -1, n - 1) })
        };
        let mut want = Vec::new();
        let mut i = start;
        while (step > 0 && i < stop) || (step < 0 && i > stop) {
            want.push(input[i as usize]);
            i += step;
        }
        prop_assert_eq!(s.output_len(&[len]).unwrap(), want.len());
        let mut out = vec![0i8; want.len()];
        s.eval(&input, &[len], &mut out).unwrap();
        prop_assert_eq!(out, want);
    }
}

// ---------------------------------------------------------------- QUANTIZE / DEQUANTIZE

proptest! {
    #[test]
    fn quantize_rounds_half_away_and_saturates(
        x in prop_oneof![-1e3f32..1e3, Just(f32::NAN), Just(f32::INFINITY), Just(-1e30f32)],
        scale in 1e-3f32..1.0, zp in -128i32..128,
    ) {
        let q = Quantize::new(scale, zp).unwrap();
        let mut out = [0i8];
        q.eval(&x.to_le_bytes(), &mut out).unwrap();
        let want = if x.is_nan() {
            zp.clamp(-128, 127)
        } else {
            let r = (x / scale) as f64; // the f32 quotient, as TFLite computes it
            let rounded = if r >= 0.0 { (r + 0.5).floor() } else { -((-r + 0.5).floor()) };
            (rounded + zp as f64).clamp(-128.0, 127.0) as i32
        };
        prop_assert_eq!(out[0] as i32, want);
    }

    #[test]
    fn requantize_and_dequantize_match_reference(
        x in any::<i8>(), s_in in 1e-3f32..1.0, s_out in 1e-3f32..1.0,
        zp_in in -128i32..128, zp_out in -128i32..128,
    ) {
        let r = Requantize8::new(s_in, zp_in, s_out, zp_out).unwrap();
        let mut out = [0i8];
        r.eval(&[x], &mut out).unwrap();
        let v = ref_mbqm(x as i32 - zp_in, r.multiplier) as i64 + zp_out as i64;
        prop_assert_eq!(out[0], clamp8(v, -128, 127));
        let d = Dequantize { scale: s_in, zero_point: zp_in };
        let mut bytes = [0u8; 4];
        d.eval(&[x], &mut bytes).unwrap();
        prop_assert_eq!(f32::from_le_bytes(bytes), (s_in as f64 * (x as i32 - zp_in) as f64) as f32);
    }
}
