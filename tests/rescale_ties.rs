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
use edge_reflex::engine::kernels::rescale::{
    bias_limit, channel_or_constant, ChannelRescale, FcRescale,
};
use edge_reflex::engine::kernels::testing::{self, fully_connected as sparse};
use edge_reflex::engine::kernels::{I32Le, Requantize, Target};
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
    let mut scratch = vec![0u8; conv.scratch_bytes(conv::Variant::Folded, shapes)];
    let mut out = [0i8; 16];
    run(conv::Variant::Folded, &mut out, &mut scratch).unwrap();
    prop_assert_eq!(out, [expect; 16], "conv folded acc {} m {:?}", acc, m);

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
    let mut scratch = vec![0u8; dw.scratch_bytes(depthwise::Variant::Folded, shapes)];
    let mut out = [0i8; 4];
    run(depthwise::Variant::Folded, &mut out, &mut scratch).unwrap();
    prop_assert_eq!(out, [expect; 4], "depthwise folded acc {} m {:?}", acc, m);

    // One input channel, depth multiplier 4 (the folded kernel of a target without DSP).
    let dw = DepthwiseConv2d::new(window, 4, zp_in, 0.05, zp_out, FusedActivation::None).unwrap();
    let shapes = Shapes { input: [1, 3, 3, 1], filter: [1, 3, 3, 4], output: [1, 1, 1, 4] };
    let input = [zp_in as i8; 9];
    prop_assert!(testing::depthwise::folded_applies(&dw, shapes));
    let mut scratch = vec![0u8; dw.scratch_bytes(depthwise::Variant::Folded, shapes)];
    let mut out = [0i8; 4];
    let mut ops = DepthwiseOperands {
        input: &input,
        filter: &filter,
        bias,
        requantize,
        output: &mut out,
        shapes,
    };
    prop_assert!(testing::depthwise::folded(&dw, &mut ops, &mut scratch));
    prop_assert_eq!(out, [expect; 4], "depthwise folded acc {} m {:?}", acc, m);
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

/// The roles a channel plays in [`degenerate_channels_keep_the_packed_kernels`]: a multiplier
/// (as a real number) and whether its weights are all zero. Degenerate ones have a multiplier
/// whose shift is outside the fast rescale's range (`1e-9`: shift -29; `1e-11`: flushed to
/// zero) or a bias beyond the fast form's accumulator bound.
const ROLES: [(f64, bool); 8] = [
    (0.0123, false),
    (1e-9, true),
    (1e-11, true),
    (0.004, true), // in range, with a bias beyond the bound (set below)
    (0.0007, false),
    (2.9e-10, true),
    (0.02, true), // in range, zero weights, small bias: the usual fast form
    (0.3e-7, true),
];

/// Per channel: its multiplier, and a bias (huge for the role that needs it). With
/// `weighted`, channels 1 and 2 have weights (see the test) and multipliers without the fast
/// form whose outputs vary: shift -23 with a bias near `2^28`, and shift 0.
fn roles(biases: &[i32; 8], weighted: bool) -> (Vec<QuantizedMultiplier>, Vec<i32>) {
    let mut mults: Vec<QuantizedMultiplier> =
        ROLES.iter().map(|&(r, _)| QuantizedMultiplier::from_real(r).unwrap()).collect();
    let mut bias = biases.to_vec();
    bias[3] = (1 << 30) + biases[3].rem_euclid(1 << 20);
    if weighted {
        mults[1] = QuantizedMultiplier::from_real(1.3 * 2f64.powi(-24)).unwrap();
        mults[2] = QuantizedMultiplier::from_real(0.6).unwrap();
        assert_eq!((mults[1].shift, mults[2].shift), (-23, 0));
        bias[1] = (1 << 28) + biases[1];
    }
    (mults, bias)
}

/// `clamp(zp + double_rounding(acc))`, exact.
fn conv_expect(acc: i64, m: QuantizedMultiplier, zp: i32, (lo, hi): (i32, i32)) -> i8 {
    let acc = i32::try_from(acc).expect("accumulators of these tests fit i32");
    (ref_double(acc, m) + zp as i64).clamp(lo as i64, hi as i64) as i8
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Channels with all-zero weights and multipliers outside the fast rescale's range (or a
    /// bias beyond its bound) beside ordinary ones: CONV_2D's and DEPTHWISE_CONV_2D's packed
    /// kernels still apply (they give such a channel its constant output) and every output
    /// equals the exact double rounding; a channel with weights and such a multiplier is
    /// rescaled alone with the portable arithmetic by CONV_2D's and DEPTHWISE_CONV_2D's packed
    /// kernels, which still apply.
    #[test]
    fn degenerate_channels_keep_the_packed_kernels(
        seed in any::<u64>(), zp_in in -128i32..=127, zp_out in -128i32..=127,
        relu6 in any::<bool>(), biases in any::<[i32; 8]>(), weighted_tiny in any::<bool>(),
    ) {
        let mut rng = seed | 1;
        let mut next = move || { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng };
        let biases = biases.map(|b| b >> 12);
        let (mults, bias) = roles(&biases, weighted_tiny);
        let channels = ROLES.len();
        let act = if relu6 { FusedActivation::Relu6 } else { FusedActivation::None };
        let mult_bytes = le(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>());
        let shifts: Vec<i8> = mults.iter().map(|m| m.shift as i8).collect();
        let requantize = Requantize::PerChannel { multipliers: I32Le(&mult_bytes), shifts: &shifts };
        let bias_bytes = le(&bias);
        let bias_view = Some(I32Le(&bias_bytes));
        let window =
            Geometry { stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1, pad_h: 0, pad_w: 0 };
        // With `weighted_tiny`, channels 1 (shift -29) and 2 (flushed to 0) get weights: no
        // fast form for them.
        let zero = |c: usize| ROLES[c].1 && !(weighted_tiny && (c == 1 || c == 2));

        // CONV_2D 1x1 over 6 pixels (one pass of five, one single pixel), depth 8.
        let conv = Conv2d::new(window, zp_in, 0.05, zp_out, act).unwrap();
        let range = (conv.activation_min, conv.activation_max);
        let depth = 8;
        let input: Vec<i8> = (0..6 * depth).map(|_| next() as i8).collect();
        let filter: Vec<i8> = (0..channels * depth)
            .map(|i| if zero(i / depth) { 0 } else { next() as i8 })
            .collect();
        let shapes = Shapes { input: [1, 2, 3, depth], filter: [channels, 1, 1, depth], output: [1, 2, 3, channels] };
        let mut expect = vec![0i8; 6 * channels];
        for p in 0..6 {
            for c in 0..channels {
                let acc = bias[c] as i64 + (0..depth).map(|d| {
                    filter[c * depth + d] as i64 * (input[p * depth + d] as i64 - zp_in as i64)
                }).sum::<i64>();
                expect[p * channels + c] = conv_expect(acc, mults[c], zp_out, range);
            }
        }
        let mut scratch = vec![0u8; conv.scratch_bytes(conv::Variant::Packed, shapes)];
        let mut out = vec![0i8; expect.len()];
        let mut ops = ConvOperands {
            input: &input, filter: &filter, listed: &[], bias: bias_view, requantize,
            output: &mut out, shapes,
        };
        // CONV_2D's packed kernel rescales such a channel alone with the portable arithmetic.
        prop_assert!(testing::conv::packed(&conv, &mut ops, &mut scratch), "conv packed applied");
        prop_assert_eq!(&out, &expect, "conv packed");
        let folded = conv.scratch_bytes(conv::Variant::Folded, shapes);
        scratch.resize(scratch.len().max(folded), 0);
        for variant in [conv::Variant::Packed, conv::Variant::Reference, conv::Variant::Folded] {
            let mut out = vec![0i8; expect.len()];
            let ops = ConvOperands {
                input: &input, filter: &filter, listed: &[], bias: bias_view, requantize,
                output: &mut out, shapes,
            };
            conv.eval(variant, ops, &mut scratch).unwrap();
            prop_assert_eq!(&out, &expect, "conv {:?}", variant);
        }

        // DEPTHWISE_CONV_2D 3x3 (depth multiplier 1) over a 4x5 input: 2x3 outputs.
        let dw = DepthwiseConv2d::new(window, 1, zp_in, 0.05, zp_out, act).unwrap();
        let range = (dw.activation_min, dw.activation_max);
        let input: Vec<i8> = (0..4 * 5 * channels).map(|_| next() as i8).collect();
        let filter: Vec<i8> = (0..9 * channels)
            .map(|i| if zero(i % channels) { 0 } else { next() as i8 })
            .collect();
        let shapes = Shapes { input: [1, 4, 5, channels], filter: [1, 3, 3, channels], output: [1, 2, 3, channels] };
        let mut expect = vec![0i8; 6 * channels];
        for (oy, ox, c) in (0..2).flat_map(|y| (0..3).flat_map(move |x| (0..channels).map(move |c| (y, x, c)))) {
            let mut acc = bias[c] as i64;
            for (ky, kx) in (0..3).flat_map(|y| (0..3).map(move |x| (y, x))) {
                let v = input[((oy + ky) * 5 + ox + kx) * channels + c] as i64 - zp_in as i64;
                acc += filter[(ky * 3 + kx) * channels + c] as i64 * v;
            }
            expect[(oy * 3 + ox) * channels + c] = conv_expect(acc, mults[c], zp_out, range);
        }
        let mut scratch = vec![0u8; dw.scratch_bytes(depthwise::Variant::Packed, shapes)];
        let mut out = vec![0i8; expect.len()];
        let mut ops = DepthwiseOperands {
            input: &input, filter: &filter, bias: bias_view, requantize, output: &mut out, shapes,
        };
        let applied = testing::depthwise::packed(&dw, &mut ops, &mut scratch);
        prop_assert!(applied, "depthwise packed applied");
        prop_assert_eq!(&out, &expect, "depthwise packed");
        // The folded kernel of a target without DSP, on every channel of the plane it copies.
        let folded = dw.scratch_bytes(depthwise::Variant::Folded, shapes);
        scratch.resize(scratch.len().max(folded), 0);
        let mut out = vec![0i8; expect.len()];
        let mut ops = DepthwiseOperands {
            input: &input, filter: &filter, bias: bias_view, requantize, output: &mut out, shapes,
        };
        prop_assert!(testing::depthwise::folded(&dw, &mut ops, &mut scratch), "folded applied");
        prop_assert_eq!(&out, &expect, "depthwise folded");
        for variant in [
            depthwise::Variant::Packed,
            depthwise::Variant::Reference,
            depthwise::Variant::Folded,
        ] {
            let mut out = vec![0i8; expect.len()];
            let ops = DepthwiseOperands {
                input: &input, filter: &filter, bias: bias_view, requantize, output: &mut out, shapes,
            };
            dw.eval(variant, ops, &mut scratch).unwrap();
            prop_assert_eq!(&out, &expect, "depthwise {:?}", variant);
        }

        // The single-input-channel DEPTHWISE_CONV_2D (depth multiplier 8), 3x3 over 3x10.
        let dw = DepthwiseConv2d::new(window, channels, zp_in, 0.05, zp_out, act).unwrap();
        let input: Vec<i8> = (0..30).map(|_| next() as i8).collect();
        let shapes = Shapes { input: [1, 3, 10, 1], filter: [1, 3, 3, channels], output: [1, 1, 8, channels] };
        let mut expect = vec![0i8; 8 * channels];
        for (ox, c) in (0..8).flat_map(|x| (0..channels).map(move |c| (x, c))) {
            let mut acc = bias[c] as i64;
            for (ky, kx) in (0..3).flat_map(|y| (0..3).map(move |x| (y, x))) {
                let v = input[ky * 10 + ox + kx] as i64 - zp_in as i64;
                acc += filter[(ky * 3 + kx) * channels + c] as i64 * v;
            }
            expect[ox * channels + c] = conv_expect(acc, mults[c], zp_out, range);
        }
        prop_assert!(testing::depthwise::single_channel_applies(&dw, shapes));
        let mut scratch = vec![0u8; dw.scratch_bytes(depthwise::Variant::SingleChannel, shapes)];
        let mut out = vec![0i8; expect.len()];
        let mut ops = DepthwiseOperands {
            input: &input, filter: &filter, bias: bias_view, requantize, output: &mut out, shapes,
        };
        let applied = testing::depthwise::single_channel(&dw, &mut ops, &mut scratch);
        prop_assert!(applied, "single-channel applied");
        prop_assert_eq!(&out, &expect, "single-channel");
        // The folded kernel of a target without DSP rescales such a channel alone too.
        let folded = dw.scratch_bytes(depthwise::Variant::Folded, shapes);
        prop_assert!(folded > 0);
        scratch.resize(scratch.len().max(folded), 0);
        let mut out = vec![0i8; expect.len()];
        let mut ops = DepthwiseOperands {
            input: &input, filter: &filter, bias: bias_view, requantize, output: &mut out, shapes,
        };
        prop_assert!(testing::depthwise::folded(&dw, &mut ops, &mut scratch), "folded applied");
        prop_assert_eq!(&out, &expect, "folded");
        for variant in [
            depthwise::Variant::SingleChannel,
            depthwise::Variant::Reference,
            depthwise::Variant::Folded,
        ] {
            let mut out = vec![0i8; expect.len()];
            let ops = DepthwiseOperands {
                input: &input, filter: &filter, bias: bias_view, requantize, output: &mut out, shapes,
            };
            dw.eval(variant, ops, &mut scratch).unwrap();
            prop_assert_eq!(&out, &expect, "single-channel {:?}", variant);
        }
    }

    /// FULLY_CONNECTED's prepared kernel with units whose multiplier has no fast form (shift
    /// -1 and above, below -23, flushed to zero) beside ordinary ones: those units alone take
    /// the reference's rescale (their rounding constant is recorded as 0), every output equals
    /// the exact single rounding, and `select` keeps the prepared kernel.
    #[test]
    fn out_of_range_units_keep_the_prepared_kernel(
        seed in any::<u64>(), zp_in in -128i32..=127, zp_out in -128i32..=127,
        biases in any::<[i32; 6]>(), batches in 1usize..3, depth in 1usize..20,
    ) {
        let mut rng = seed | 1;
        let mut next = move || { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng };
        let reals = [0.0123, 0.3, 1e-9, 1e-11, 0.7, 2.0f64.powi(-26)];
        let units = reals.len();
        let mults: Vec<QuantizedMultiplier> =
            reals.iter().map(|&r| QuantizedMultiplier::from_real(r).unwrap()).collect();
        let fc = FullyConnected::new(zp_in, 0, 0.05, zp_out, FusedActivation::Relu).unwrap();
        let input: Vec<i8> = (0..batches * depth).map(|_| next() as i8).collect();
        let filter: Vec<i8> = (0..units * depth).map(|_| next() as i8).collect();
        let bias = biases.map(|b| b >> 8);
        let bias_bytes = le(&bias);
        let mult_bytes = le(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>());
        let shifts: Vec<i8> = mults.iter().map(|m| m.shift as i8).collect();
        let rounds: Vec<i32> =
            mults.iter().map(|&m| rescale_of(m, fc.output_offset).unwrap_or(0)).collect();
        prop_assert!(rounds.contains(&0) && rounds.iter().any(|&r| r != 0));
        let round_bytes = le(&rounds);
        let dims = FullyConnectedDims { batches, depth, units };
        let requantize = Requantize::PerChannel { multipliers: I32Le(&mult_bytes), shifts: &shifts };
        let mut expect = vec![0i8; batches * units];
        for b in 0..batches {
            for u in 0..units {
                let acc = bias[u] as i64 + (0..depth).map(|d| {
                    filter[u * depth + d] as i64 * (input[b * depth + d] as i64 - zp_in as i64)
                }).sum::<i64>();
                let v = ref_single(acc as i32, mults[u]) + zp_out as i64;
                expect[b * units + u] =
                    v.clamp(fc.activation_min as i64, fc.activation_max as i64) as i8;
            }
        }
        let mut out = vec![0i8; expect.len()];
        let ops = FcOperands {
            input: &input, filter: &filter, listed: &[], bias: Some(I32Le(&bias_bytes)),
            requantize, rescales: I32Le(&round_bytes), output: &mut out, dims,
        };
        fc.eval(fc_kernel::Variant::Prepared, ops).unwrap();
        prop_assert_eq!(&out, &expect);
        let facts = fc_kernel::Facts {
            dims, weights: Some(&filter), bias_constant: true, per_channel: true,
            multiplier: |u: usize| mults[u],
        };
        let chosen = fc_kernel::select(&fc, &facts, Target::Dsp);
        prop_assert!(matches!(chosen, fc_kernel::Variant::Prepared | fc_kernel::Variant::SparsePacked));
    }
}

/// The constant entry gives its value whatever the accumulator, in both forms the kernels use:
/// the rounded product's sign subtracted (portable loops) and the accumulator's (Cortex-M4
/// loops, emulated here); and [`channel_or_constant`] picks the fast form, the constant or
/// nothing as documented.
#[test]
fn constant_entries_at_the_edges() {
    use edge_reflex::engine::kernels::dsp;
    for value in [i8::MIN, -1, 0, 1, i8::MAX] {
        let r = ChannelRescale::constant(value);
        assert!(r.native());
        for acc2 in [i32::MIN, -(1 << 30), -2, 0, 2, 1 << 30, i32::MAX - 1] {
            assert_eq!(r.apply_doubled(acc2), value as i32);
            let native = dsp::smmulr(acc2, r.multiplier)
                .wrapping_add(r.round)
                .wrapping_sub(((acc2 as u32) >> 31) as i32)
                >> r.shift;
            assert_eq!(native, value as i32);
        }
    }
    let tiny = QuantizedMultiplier::from_real(1e-9).unwrap();
    assert_eq!(tiny.shift, -29);
    let flushed = QuantizedMultiplier::from_real(1e-11).unwrap();
    assert_eq!((flushed.multiplier, flushed.shift), (0, 0));
    let limit = bias_limit(9);
    for (m, bias, zero, expect) in [
        // Out of range with zero weights: the reference's constant.
        (
            tiny,
            3 << 29,
            true,
            Some(ChannelRescale::constant((ref_double(3 << 29, tiny) - 4) as i8)),
        ),
        (flushed, 123_456, true, Some(ChannelRescale::constant(-4))),
        // Out of range with weights: nothing.
        (tiny, 5, false, None),
        (flushed, 5, false, None),
    ] {
        let got = channel_or_constant(m, -4, bias, limit, (-128, 127), || zero).map(|(r, _)| r);
        assert_eq!(got, expect, "{m:?} bias {bias}");
    }
    // In range: the fast form with the bias, whatever the weights; beyond the bias bound with
    // zero weights: the constant, clamped to the activation range.
    let m = QuantizedMultiplier::from_real(0.004).unwrap();
    let fast = ChannelRescale::new(m, 7).unwrap();
    assert_eq!(channel_or_constant(m, 7, 99, limit, (-128, 127), || false), Some((fast, 99)));
    let big = (1 << 30) - 1;
    let want = (ref_double(big, m) + 7).clamp(-128, 100) as i8;
    assert_eq!(want, 100);
    assert_eq!(
        channel_or_constant(m, 7, big, limit, (-128, 100), || true),
        Some((ChannelRescale::constant(want), 0))
    );
    assert_eq!(channel_or_constant(m, 7, big, limit, (-128, 100), || false), None);
}
