//! The requantization step at its edges: accumulators built to land within `2^-20` of a
//! rounding tie (and on exact ties), for random multipliers and shifts, through the arithmetic
//! primitives, the fast forms and every kernel path that uses them, against exact `i128`
//! references of TFLite's reference formulas:
//!
//! - FULLY_CONNECTED: `(acc * M + 2^(30 - shift)) >> (31 - shift)`, the full multiplier and
//!   one rounding;
//! - CONV_2D / DEPTHWISE_CONV_2D: the doubling high multiply (nearest, ties up) and then the
//!   rounding division by `2^-shift` (ties away from zero).
//!
//! A one-step error at a tie is exactly the kind of bug the fixtures can miss (a model only hits
//! a tie by chance), so these tests go looking for ties on purpose.

use edge_reflex::engine::arith::{
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_single_rounding,
    FusedActivation, QuantizedMultiplier,
};
use edge_reflex::engine::kernels::conv::{self, Conv2d, ConvOperands, Geometry, Shapes};
use edge_reflex::engine::kernels::depthwise::{self, DepthwiseConv2d, DepthwiseOperands};
use edge_reflex::engine::kernels::fully_connected::{
    self as fc_kernel, rescale_of, FcOperands, FullyConnected, FullyConnectedDims,
};
use edge_reflex::engine::kernels::rescale::{ChannelRescale, FcRescale};
use edge_reflex::engine::kernels::testing::fully_connected as sparse;
use edge_reflex::engine::kernels::{I32Le, Requantize};
use proptest::prelude::*;

/// FULLY_CONNECTED's formula, exact.
fn ref_single(acc: i32, m: QuantizedMultiplier) -> i64 {
    let s = 31 - m.shift;
    let num = acc as i128 * m.multiplier as i128 + (1i128 << (s - 1));
    num.div_euclid(1i128 << s) as i64
}

/// The convolutions' double rounding, exact: nearest `acc*M / 2^31` (ties toward +inf), then
/// nearest `/ 2^e` (ties away from zero).
fn ref_double(acc: i32, m: QuantizedMultiplier) -> i64 {
    assert!(m.shift <= 0);
    let high = (acc as i128 * m.multiplier as i128 + (1i128 << 30)).div_euclid(1i128 << 31);
    let e = -m.shift;
    if e == 0 {
        return high as i64;
    }
    let half = 1i128 << (e - 1);
    let mag = (high.abs() + half) >> e;
    (if high < 0 { -mag } else { mag }) as i64
}

/// An accumulator and a multiplier with `acc * M / 2^s` within `2^-20` of `k + 1/2`:
/// the target is `t = k + 1/2 + delta / 2^40` (`|delta| <= 2^19`), `acc` is drawn where a
/// multiplier in `[2^30, 2^31)` can reach `t`, and `M` is the nearest multiplier. `None` if no
/// `acc` fits (then the case is skipped).
fn near_tie(k: i32, s: u32, delta: i64, pick: u64) -> Option<(i32, i32)> {
    let t = (2 * k as i128 + 1) * (1i128 << 39) + delta as i128; // t * 2^40
    let mag = t.abs();
    // |acc| in (|t| 2^(s-31), |t| 2^(s-30)), in units of 2^40.
    let lo = ((mag << s) >> 71) + 2;
    let hi = ((mag << s) >> 70) - 1;
    if lo >= hi || hi >= 1i128 << 31 {
        return None;
    }
    let acc = lo + (pick as i128) % (hi - lo);
    let num = mag << s;
    let den = acc << 40;
    let m = (num + den / 2) / den;
    if !((1i128 << 30)..(1i128 << 31)).contains(&m) {
        return None;
    }
    let acc = if t < 0 { -acc } else { acc };
    // The construction's promise, checked exactly: |acc*M - (k+1/2) 2^s| <= 2^(s-20).
    let dist = (acc * m * 2 - (2 * k as i128 + 1) * (1i128 << s)).abs();
    assert!(dist <= 1i128 << (s - 19), "acc {acc} m {m} s {s} k {k}");
    Some((acc as i32, m as i32))
}

/// An exact tie: `M = odd * 2^b` in `[2^30, 2^31)` and `acc = odd' * 2^(s-1-b)`, so that
/// `acc * M = odd * odd' * 2^(s-1)`. `None` if `acc` would not fit.
fn exact_tie(s: u32, b: u32, m_odd: u32, a_odd: i32) -> Option<(i32, i32)> {
    let b = b.min(30);
    let lo = 1u64 << (30 - b);
    let m = ((lo + (m_odd as u64 % lo)) | 1) << b;
    if !((1u64 << 30)..(1u64 << 31)).contains(&m) || s < b + 1 {
        return None;
    }
    let acc = (a_odd as i64 | 1).checked_shl(s - 1 - b)?;
    let acc = i32::try_from(acc).ok()?;
    (acc >> (s - 1 - b) == (a_odd | 1)).then_some((acc, m as i32))
}

/// Exact ties of the doubling high multiply for any odd `M`: `acc = 2^30 / M (mod 2^31)`, so
/// `acc * M = 2^30 (mod 2^31)`, as the non-negative residue or that minus `2^31`.
fn high_multiply_tie(m_bits: u32, negative: bool) -> (i32, i32) {
    let m = (m_bits & 0x3FFF_FFFF) | 0x4000_0001; // odd, in [2^30, 2^31)
    let mut inverse = m; // Newton's iteration for 1/m mod 2^32: each step doubles the bits.
    for _ in 0..5 {
        inverse = inverse.wrapping_mul(2u32.wrapping_sub(m.wrapping_mul(inverse)));
    }
    let acc = ((1u64 << 30) * inverse as u64 % (1u64 << 31)) as i64;
    let acc = if negative { acc - (1 << 31) } else { acc };
    assert_eq!((acc as i128 * m as i128).rem_euclid(1 << 31), 1 << 30);
    (acc as i32, m as i32)
}

fn le(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Runs one FULLY_CONNECTED output with accumulator `acc` (the bias; the input sits at its zero
/// point, so the products add nothing) through every kernel path, and checks each against the
/// exact formula.
fn check_fc(acc: i32, m: QuantizedMultiplier, zp_out: i32) -> Result<(), TestCaseError> {
    let expect = (ref_single(acc, m) + zp_out as i64).clamp(-128, 127) as i8;
    let (zp_in, zp_w, depth) = (-7, 0, 8);
    let fc = FullyConnected::new(zp_in, zp_w, 0.05, zp_out, FusedActivation::None).unwrap();
    let dims = FullyConnectedDims { batches: 1, depth, units: 2 };
    let input = [zp_in as i8; 8];
    // Unit 0 dense-ish weights, unit 1 mostly zeros (so the listed path has something to skip).
    let filter: [i8; 16] = [3, -5, 7, 1, -2, 9, 4, -8, 0, 0, 6, 0, 0, 0, 0, -1];
    let bias = le(&[acc, acc]);
    let bias = Some(I32Le(&bias));
    let requantize = Requantize::PerTensor(m);
    let mults = le(&[m.multiplier, m.multiplier]);
    let shifts = [m.shift as i8; 2];
    let per_channel = Requantize::PerChannel { multipliers: I32Le(&mults), shifts: &shifts };
    for rq in [requantize, per_channel] {
        let mut out = [0i8; 2];
        let run =
            |variant: fc_kernel::Variant, listed: &[u8], rescales: &[u8], output: &mut [i8]| {
                let ops = FcOperands {
                    input: &input,
                    filter: &filter,
                    listed,
                    bias,
                    requantize: rq,
                    rescales: I32Le(rescales),
                    output,
                    dims,
                };
                fc.eval(variant, ops)
            };
        run(fc_kernel::Variant::Packed, &[], &[], &mut out).unwrap();
        prop_assert_eq!(out, [expect; 2], "eval acc {} m {:?}", acc, m);
        run(fc_kernel::Variant::Reference, &[], &[], &mut out).unwrap();
        prop_assert_eq!(out, [expect; 2], "portable acc {} m {:?}", acc, m);
        if let Some(round) = rescale_of(m, fc.output_offset) {
            let rounds = le(&[round, round]);
            run(fc_kernel::Variant::Prepared, &[], &rounds, &mut out).unwrap();
            prop_assert_eq!(out, [expect; 2], "rescaled acc {} m {:?}", acc, m);
        }
        let bytes = sparse::table_bytes(&filter, depth, fc.filter_offset).unwrap();
        let mut table = vec![0u8; bytes];
        let k = sparse::UnitConstants {
            input_offset: fc.input_offset,
            bias,
            multiplier: |_| m,
            output_offset: fc.output_offset,
        };
        prop_assert!(sparse::write_table(&filter, depth, fc.filter_offset, k, &mut table));
        for variant in [fc_kernel::Variant::Sparse, fc_kernel::Variant::SparsePacked] {
            run(variant, &table, &[], &mut out).unwrap();
            prop_assert_eq!(out, [expect; 2], "listed acc {} m {:?}", acc, m);
        }
    }
    Ok(())
}

/// The primitives and fast forms of FULLY_CONNECTED's rescale at `acc`.
fn check_fc_arith(acc: i32, m: QuantizedMultiplier, zp_out: i32) -> Result<(), TestCaseError> {
    let want = ref_single(acc, m);
    let got = multiply_by_quantized_multiplier_single_rounding(acc, m.multiplier, m.shift);
    prop_assert_eq!(got as i64, want.clamp(i32::MIN as i64, i32::MAX as i64));
    if let Some(fast) = FcRescale::new(m, zp_out) {
        prop_assert_eq!(fast.apply(acc) as i64, want + zp_out as i64, "fast acc {} m {:?}", acc, m);
    }
    Ok(())
}

/// One output of CONV_2D (1x1, and a 3x3 DEPTHWISE_CONV_2D) with accumulator `acc` through the
/// portable and packed paths, against the exact double rounding.
fn check_conv(acc: i32, m: QuantizedMultiplier, zp_out: i32) -> Result<(), TestCaseError> {
    let expect = (ref_double(acc, m) + zp_out as i64).clamp(-128, 127) as i8;
    let zp_in = 3;
    let window =
        Geometry { stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1, pad_h: 0, pad_w: 0 };
    let mults = le(&[m.multiplier; 4]);
    let shifts = [m.shift as i8; 4];
    let requantize = Requantize::PerChannel { multipliers: I32Le(&mults), shifts: &shifts };
    let bias = le(&[acc; 4]);
    let bias = Some(I32Le(&bias));

    let conv = Conv2d::new(window, zp_in, 0.05, zp_out, FusedActivation::None).unwrap();
    let (in_shape, f_shape, out_shape) = ([1, 2, 2, 4], [4, 1, 1, 4], [1, 2, 2, 4]);
    let input = [zp_in as i8; 16];
    let filter: [i8; 16] = core::array::from_fn(|i| (i as i8).wrapping_mul(37).wrapping_sub(90));
    let shapes = Shapes { input: in_shape, filter: f_shape, output: out_shape };
    let mut out = [0i8; 16];
    let run = |variant: conv::Variant, output: &mut [i8], scratch: &mut [u8]| {
        let ops = ConvOperands {
            input: &input,
            filter: &filter,
            listed: &[],
            bias,
            requantize,
            output,
            shapes,
        };
        conv.eval(variant, ops, scratch)
    };
    run(conv::Variant::Reference, &mut out, &mut []).unwrap();
    prop_assert_eq!(out, [expect; 16], "conv portable acc {} m {:?}", acc, m);
    let mut scratch = vec![0u8; conv.scratch_bytes(conv::Variant::Packed, shapes)];
    let mut out = [0i8; 16];
    run(conv::Variant::Packed, &mut out, &mut scratch).unwrap();
    prop_assert_eq!(out, [expect; 16], "conv packed acc {} m {:?}", acc, m);

    let dw = DepthwiseConv2d::new(window, 1, zp_in, 0.05, zp_out, FusedActivation::None).unwrap();
    let (in_shape, f_shape, out_shape) = ([1, 3, 3, 4], [1, 3, 3, 4], [1, 1, 1, 4]);
    let input = [zp_in as i8; 36];
    let filter: [i8; 36] = core::array::from_fn(|i| (i as i8).wrapping_mul(53).wrapping_add(11));
    let shapes = Shapes { input: in_shape, filter: f_shape, output: out_shape };
    let run = |variant: depthwise::Variant, output: &mut [i8], scratch: &mut [u8]| {
        let ops =
            DepthwiseOperands { input: &input, filter: &filter, bias, requantize, output, shapes };
        dw.eval(variant, ops, scratch)
    };
    let mut out = [0i8; 4];
    run(depthwise::Variant::Reference, &mut out, &mut []).unwrap();
    prop_assert_eq!(out, [expect; 4], "depthwise portable acc {} m {:?}", acc, m);
    let mut scratch = vec![0u8; dw.scratch_bytes(depthwise::Variant::Packed, shapes)];
    let mut out = [0i8; 4];
    run(depthwise::Variant::Packed, &mut out, &mut scratch).unwrap();
    prop_assert_eq!(out, [expect; 4], "depthwise packed acc {} m {:?}", acc, m);
    Ok(())
}

/// The primitive and the SMMULR fast form of the double rounding at `acc`.
fn check_conv_arith(acc: i32, m: QuantizedMultiplier, zp_out: i32) -> Result<(), TestCaseError> {
    let want = ref_double(acc, m);
    prop_assert_eq!(multiply_by_quantized_multiplier(acc, m.multiplier, m.shift) as i64, want);
    if let (Some(fast), true) = (ChannelRescale::new(m, zp_out), acc.unsigned_abs() < 1 << 30) {
        prop_assert_eq!(fast.apply(acc) as i64, want + zp_out as i64, "fast acc {} m {:?}", acc, m);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// FULLY_CONNECTED near ties with outputs in the int8 range, every shift TFLite makes
    /// (`-31..=0`), through every kernel path.
    #[test]
    fn fully_connected_near_ties(
        k in -120i32..120, shift in -31i32..=0, delta in -(1i64 << 19)..=(1i64 << 19),
        pick in any::<u64>(), zp_out in -5i32..=5,
    ) {
        let s = (31 - shift) as u32;
        let Some((acc, multiplier)) = near_tie(k, s, delta, pick) else { return Ok(()) };
        let m = QuantizedMultiplier { multiplier, shift };
        check_fc_arith(acc, m, zp_out)?;
        check_fc(acc, m, zp_out)?;
    }

    /// FULLY_CONNECTED's arithmetic on exact ties and their neighbours, any magnitude.
    #[test]
    fn fully_connected_exact_ties(
        shift in -31i32..=0, b in 0u32..=30, m_odd in any::<u32>(), a_odd in any::<i32>(),
        step in -2i32..=2, zp_out in -128i32..=128,
    ) {
        let s = (31 - shift) as u32;
        let Some((acc, multiplier)) = exact_tie(s, b, m_odd, a_odd) else { return Ok(()) };
        let m = QuantizedMultiplier { multiplier, shift };
        check_fc_arith(acc.saturating_add(step), m, zp_out)?;
    }

    /// The convolutions' double rounding near the final tie (and so through the intermediate
    /// rounding too), through the portable and packed CONV_2D and DEPTHWISE_CONV_2D paths.
    #[test]
    fn convolution_near_ties(
        k in -120i32..120, shift in -31i32..=0, delta in -(1i64 << 19)..=(1i64 << 19),
        pick in any::<u64>(), zp_out in -5i32..=5,
    ) {
        let s = (31 - shift) as u32;
        let Some((acc, multiplier)) = near_tie(k, s, delta, pick) else { return Ok(()) };
        let m = QuantizedMultiplier { multiplier, shift };
        check_conv_arith(acc, m, zp_out)?;
        check_conv(acc, m, zp_out)?;
    }

    /// Exact ties of the doubling high multiply itself (`acc * M / 2^31` at `k + 1/2`) and
    /// their neighbours, then every right shift: the first rounding decides the second.
    #[test]
    fn convolution_high_multiply_ties(
        m_bits in any::<u32>(), negative in any::<bool>(), step in -2i32..=2, shift in -31i32..=0,
        zp_out in -128i32..=128,
    ) {
        let (acc, multiplier) = high_multiply_tie(m_bits, negative);
        let m = QuantizedMultiplier { multiplier, shift };
        check_conv_arith(acc.saturating_add(step), m, zp_out)?;
    }
}

/// The case from the field (issue 10): per-channel FULLY_CONNECTED, accumulator 99,642,
/// M = 1,737,964,089, shift -9, output zero point -128: the exact product is 157.501, so
/// TFLite's reference gives -128 + 158 = 30 (a 16-bit reduced multiplier gives 29).
#[test]
fn the_reported_fully_connected_case() {
    let m = QuantizedMultiplier { multiplier: 1_737_964_089, shift: -9 };
    assert_eq!(ref_single(99_642, m), 158);
    let fc = FullyConnected::new(0, 0, 0.05, -128, FusedActivation::None).unwrap();
    let dims = FullyConnectedDims { batches: 1, depth: 1, units: 1 };
    let bias = le(&[99_642]);
    let mults = le(&[m.multiplier]);
    let shifts = [m.shift as i8];
    let rq = Requantize::PerChannel { multipliers: I32Le(&mults), shifts: &shifts };
    let round = le(&[rescale_of(m, -128).unwrap()]);
    for variant in
        [fc_kernel::Variant::Reference, fc_kernel::Variant::Packed, fc_kernel::Variant::Prepared]
    {
        let mut out = [0i8];
        let ops = FcOperands {
            input: &[0],
            filter: &[1],
            listed: &[],
            bias: Some(I32Le(&bias)),
            requantize: rq,
            rescales: I32Le(&round),
            output: &mut out,
            dims,
        };
        fc.eval(variant, ops).unwrap();
        assert_eq!(out, [30], "{variant:?}");
    }
}
