//! Property tests of DEPTHWISE_CONV_2D's variants and pooling against the deliberately simple
//! scalar references of `kernel_support` (which share no code with the kernels). Shapes, strides, padding, zero
//! points and multipliers are drawn at random; tensor contents come from a seeded generator.

mod kernel_support;

use edge_reflex::engine::arith::QuantizedMultiplier;
use edge_reflex::engine::kernels::conv::Shapes;
use edge_reflex::engine::kernels::depthwise::{self, DepthwiseConv2d, DepthwiseOperands, Variant};
use edge_reflex::engine::kernels::pooling::{Pool, PoolKind};
use edge_reflex::engine::kernels::testing;
use edge_reflex::engine::kernels::{I32Le, Target};
use kernel_support::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Runs DEPTHWISE_CONV_2D through every variant (the reference, each packed one with scratch
/// at each alignment, too little scratch) and compares each with the scalar reference.
///
/// With `degenerate`, every third output channel (from channel 1) has no fast rescale: a
/// multiplier too small for it (shift below -22), a left shift, or a bias beyond the bound of
/// the fast form, in turn; its weights are not all zero, so the packed variants must rescale it
/// alone rather than give up.
fn check_depthwise(c: &ConvCase, multiplier: usize, degenerate: bool) -> Result<(), TestCaseError> {
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
    let mut bias = rng.bias(out_c);
    let mut mults: Vec<QuantizedMultiplier> = (0..out_c)
        .map(|_| QuantizedMultiplier::from_real(rng.scale() as f64 * 0.05).unwrap())
        .collect();
    if degenerate {
        for o in (1..out_c).step_by(3) {
            match (o / 3) % 3 {
                0 => mults[o] = QuantizedMultiplier::from_real(3e-9).unwrap(),
                1 => mults[o] = QuantizedMultiplier::from_real(1.7).unwrap(),
                _ => bias[o] = if o % 2 == 0 { i32::MAX - 7 } else { i32::MIN + 9 },
            }
        }
        let tiny = QuantizedMultiplier::from_real(3e-9).unwrap();
        let large = QuantizedMultiplier::from_real(1.7).unwrap();
        prop_assert!(tiny.shift < -22 && large.shift > 0);
    }
    let bias_bytes = le_bytes(&bias);
    let channels = ChannelMultipliers::of(&mults);
    let requantize = channels.per_channel();
    let dw = DepthwiseConv2d::new(window, multiplier, c.zp_in, 0.05, c.zp_out, c.act).unwrap();
    let shapes = Shapes { input: in_shape, filter: f_shape, output: out_shape };
    macro_rules! ops {
        ($output:expr) => {
            DepthwiseOperands {
                input: &input,
                filter: &filter,
                bias: Some(I32Le(&bias_bytes)),
                requantize,
                output: $output,
                shapes,
            }
        };
    }
    let mut out = vec![0i8; out_shape.iter().product()];
    dw.eval(Variant::Reference, ops!(&mut out), &mut []).unwrap();
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
    let folded = c.dilation == (1, 1) && (-128..=127).contains(&c.zp_in);
    prop_assert_eq!(testing::depthwise::packed_applies(&dw, shapes), three);
    prop_assert_eq!(testing::depthwise::single_channel_applies(&dw, shapes), single);
    prop_assert_eq!(testing::depthwise::folded_applies(&dw, shapes), folded);
    // What select chooses: a packed variant only on a DSP target, where its shapes suit it;
    // the folded one on a target without DSP
    // (and only where it pays: one input channel, or ten output pixels or more per class of
    // pixels whose windows keep the same taps, counted here by brute force).
    let kept = |p: usize, stride: usize, pad: usize, size: usize, taps: usize| {
        (0..taps)
            .map(|t| (p * stride + t).checked_sub(pad).is_some_and(|i| i < size))
            .collect::<Vec<_>>()
    };
    let runs = |out: usize, stride: usize, pad: usize, size: usize, taps: usize| {
        (0..out)
            .filter(|&p| {
                p == 0 || kept(p, stride, pad, size, taps) != kept(p - 1, stride, pad, size, taps)
            })
            .count()
    };
    let classes = runs(oh, c.stride.0, window.pad_h, c.in_h, c.kh)
        * runs(ow, c.stride.1, window.pad_w, c.in_w, c.kw);
    let pays = c.in_c == 1 || oh * ow >= 10 * classes;
    let portable_choice = if folded && pays { Variant::Folded } else { Variant::Reference };
    prop_assert_eq!(depthwise::select(&dw, shapes, Target::Portable), portable_choice);
    let expected_choice = if three {
        Variant::Packed
    } else if single {
        Variant::SingleChannel
    } else {
        Variant::Reference
    };
    prop_assert_eq!(depthwise::select(&dw, shapes, Target::Dsp), expected_choice);
    let variants =
        [(Variant::Packed, three), (Variant::SingleChannel, single), (Variant::Folded, folded)];
    for (variant, suits) in variants {
        let need = dw.scratch_bytes(variant, shapes);
        prop_assert_eq!(need > 0, suits);
        for misalign in 0..4 {
            let mut scratch = vec![0u8; need + misalign];
            let mut fast = vec![0i8; out.len()];
            let run = match variant {
                Variant::Packed => testing::depthwise::packed,
                Variant::Folded => testing::depthwise::folded,
                _ => testing::depthwise::single_channel,
            };
            let ran = run(&dw, &mut ops!(&mut fast), &mut scratch[misalign..]);
            prop_assert_eq!(ran, suits);
            if ran {
                prop_assert_eq!(&fast, &expected);
            }
            let mut via_eval = vec![0i8; out.len()];
            dw.eval(variant, ops!(&mut via_eval), &mut scratch[misalign..]).unwrap();
            prop_assert_eq!(&via_eval, &expected);
        }
        // Too little scratch: the reference, same results.
        let mut short = vec![0i8; out.len()];
        dw.eval(variant, ops!(&mut short), &mut [0u8; 4]).unwrap();
        prop_assert_eq!(&short, &expected);
    }
    // Inconsistent shapes are refused without writing.
    let before = out.clone();
    let wrong = Shapes { filter: [1, c.kh, c.kw, out_c + 1], ..shapes };
    for variant in [Variant::Reference, Variant::Packed, Variant::SingleChannel, Variant::Folded] {
        let ops = DepthwiseOperands {
            input: &input,
            filter: &filter,
            bias: None,
            requantize,
            output: &mut out,
            shapes: wrong,
        };
        prop_assert!(dw.eval(variant, ops, &mut []).is_err());
        prop_assert_eq!(&out, &before);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn depthwise_matches_reference(c in conv_case(), multiplier in 1usize..4, wide in 1usize..8) {
        // Up to 6 * 7 * 3 = 126 output channels: crosses the kernel's 32-channel chunks.
        let c = ConvCase { in_c: c.in_c * wide, ..c };
        check_depthwise(&c, multiplier, false)?;
    }

    #[test]
    fn depthwise_single_channel_packed_matches_reference(
        c in conv_case(), half in 1usize..5, kh in 1usize..11, kw in 1usize..9,
    ) {
        // The shapes of the single-input-channel path (a keyword spotter's first layer).
        let c = ConvCase { in_c: 1, kh, kw, dilation: (1, 1), in_h: c.in_h + kh,
            in_w: c.in_w + kw, ..c };
        check_depthwise(&c, 2 * half, false)?;
    }

    #[test]
    fn depthwise_3x3_packed_matches_reference(
        c in conv_case(), multiplier in 1usize..4, wide in 1usize..6, stride_w in 1usize..3,
    ) {
        // The shapes of the packed 3x3 path (MobileNet's depthwise layers).
        let c = ConvCase { in_c: c.in_c * wide, kh: 3, kw: 3, dilation: (1, 1),
            stride: (c.stride.0, stride_w), in_h: c.in_h + 2, in_w: c.in_w + 2, ..c };
        check_depthwise(&c, multiplier, false)?;
    }

    #[test]
    fn depthwise_degenerate_channels_stay_packed(
        c in conv_case(), multiplier in 1usize..4, wide in 1usize..6, stride_w in 1usize..3,
        half in 1usize..5, kh in 1usize..11, kw in 1usize..9, single in any::<bool>(),
    ) {
        // Weighted channels without a fast rescale, in the 3x3 and single-channel shapes: each
        // packed variant still runs (checked by `check_depthwise`) and matches the reference.
        if single {
            let c = ConvCase { in_c: 1, kh, kw, dilation: (1, 1), in_h: c.in_h + kh,
                in_w: c.in_w + kw, ..c };
            check_depthwise(&c, 2 * half, true)?;
        } else {
            let c = ConvCase { in_c: c.in_c * wide, kh: 3, kw: 3, dilation: (1, 1),
                stride: (c.stride.0, stride_w), in_h: c.in_h + 2, in_w: c.in_w + 2, ..c };
            check_depthwise(&c, multiplier, true)?;
        }
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
