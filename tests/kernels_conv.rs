//! Property tests of CONV_2D's variants against the deliberately simple scalar references of
//! `kernel_support` (which share no code with the kernels). Shapes, strides, padding, zero
//! points and multipliers are drawn at random; tensor contents come from a seeded generator.

mod kernel_support;

use edge_reflex::engine::arith::QuantizedMultiplier;
use edge_reflex::engine::kernels::conv::{self, Conv2d, ConvOperands, Facts, Shapes, Variant};
use edge_reflex::engine::kernels::testing;
use edge_reflex::engine::kernels::{I32Le, Requantize, Target};
use kernel_support::*;
use proptest::prelude::*;

/// The operands of one run of a drawn case.
fn operands<'a>(
    input: &'a [i8],
    filter: &'a [i8],
    bias: &'a [u8],
    requantize: Requantize<'a>,
    output: &'a mut [i8],
    shapes: Shapes,
) -> ConvOperands<'a> {
    ConvOperands { input, filter, listed: &[], bias: Some(I32Le(bias)), requantize, output, shapes }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn conv2d_matches_reference(c in conv_case()) {
        check(c)?;
    }

    /// One group, input depths a multiple of 4 (each tap whole groups of the packed kernel's
    /// lanes, widened straight from the input) and others (patches that end inside a group),
    /// more output channels, larger inputs: padding, strides and dilations at the edges.
    #[test]
    fn packed_matches_reference_on_ungrouped_shapes(
        c in conv_case(),
        depth in prop_oneof![Just(4usize), Just(8), Just(16), Just(1), Just(3), Just(5)],
        out_c in 1usize..20,
        size in (1usize..14, 1usize..14),
    ) {
        check(ConvCase { in_c: depth, out_c, groups: 1, in_h: size.0, in_w: size.1, ..c })?;
    }
}

/// Runs drawn case `c` with the reference and the packed variant (and what `select` picks) and
/// compares them with a scalar convolution written here.
fn check(c: ConvCase) -> Result<(), TestCaseError> {
    let Some((window, oh, ow)) = window_of(&c) else {
        return Ok(());
    };
    let mut rng = Rng(c.seed);
    let fd = c.in_c / c.groups;
    let in_shape = [c.batches, c.in_h, c.in_w, c.in_c];
    let f_shape = [c.out_c, c.kh, c.kw, fd];
    let out_shape = [c.batches, oh, ow, c.out_c];
    let input = rng.i8s(in_shape.iter().product());
    // Dense weights (no zero: a small filter drawn with zeros is pruned enough for `select`
    // to list it, which tests/sparse_conv.rs covers), so the choice below is the dense one.
    let filter: Vec<i8> =
        rng.i8s(f_shape.iter().product()).into_iter().map(|w| if w == 0 { 1 } else { w }).collect();
    let bias = rng.bias(c.out_c);
    let bias_bytes = le_bytes(&bias);
    let mults: Vec<QuantizedMultiplier> = (0..c.out_c)
        .map(|_| QuantizedMultiplier::from_real(rng.scale() as f64 * 0.05).unwrap())
        .collect();
    let channels = ChannelMultipliers::of(&mults);
    let conv = Conv2d::new(window, c.zp_in, 0.05, c.zp_out, c.act).unwrap();
    let requantize = channels.per_channel();
    let shapes = Shapes { input: in_shape, filter: f_shape, output: out_shape };
    let mut out = vec![0i8; out_shape.iter().product()];
    macro_rules! ops {
        ($output:expr) => {
            operands(&input, &filter, &bias_bytes, requantize, $output, shapes)
        };
    }
    conv.eval(Variant::Reference, ops!(&mut out), &mut []).unwrap();
    // The packed variant, on a scratch buffer at every alignment: the same bytes, and it
    // does run for ungrouped convolutions (the drawn multipliers all shift right).
    let need = conv.scratch_bytes(Variant::Packed, shapes);
    for misalign in 0..4 {
        let mut scratch = vec![0u8; need + misalign];
        let mut fast = vec![0i8; out.len()];
        let ran = testing::conv::packed(&conv, &mut ops!(&mut fast), &mut scratch[misalign..]);
        prop_assert_eq!(ran, c.groups == 1 && mults.iter().all(|m| m.shift < 0));
        if ran {
            prop_assert_eq!(&fast, &out);
        }
        let mut via_eval = vec![0i8; out.len()];
        conv.eval(Variant::Packed, ops!(&mut via_eval), &mut scratch[misalign..]).unwrap();
        prop_assert_eq!(&via_eval, &out);
    }
    // Too little scratch: the packed variant falls back to the reference, same results.
    let mut short = vec![0i8; out.len()];
    conv.eval(Variant::Packed, ops!(&mut short), &mut [0u8; 8]).unwrap();
    prop_assert_eq!(&short, &out);
    // What select chooses for dense weights: the packed kernel only on a DSP target, only
    // where it can apply, and its choice gives the same bytes.
    let facts = Facts { shapes, weights: Some(&filter), bias: Some(I32Le(&bias_bytes)) };
    prop_assert_eq!(conv::select(&conv, &facts, Target::Portable), Variant::Folded);
    // The portable target's kernel, on a scratch buffer at every alignment, and with too
    // little scratch (then the reference runs): the same bytes.
    let need = conv.scratch_bytes(Variant::Folded, shapes);
    for (misalign, len) in [(0, need), (1, need), (2, need), (3, need), (0, need / 2)] {
        let mut scratch = vec![0u8; len + misalign];
        let mut folded = vec![0i8; out.len()];
        conv.eval(Variant::Folded, ops!(&mut folded), &mut scratch[misalign..]).unwrap();
        prop_assert_eq!(&folded, &out);
    }
    let chosen = conv::select(&conv, &facts, Target::Dsp);
    prop_assert!(matches!(chosen, Variant::Packed | Variant::Reference));
    prop_assert_eq!(chosen == Variant::Packed, c.groups == 1 && (-128..=127).contains(&c.zp_in));
    let mut scratch = vec![0u8; conv.scratch_bytes(chosen, shapes)];
    let mut selected = vec![0i8; out.len()];
    conv.eval(chosen, ops!(&mut selected), &mut scratch).unwrap();
    prop_assert_eq!(&selected, &out);
    // Inconsistent shapes are refused without writing.
    let before = out.clone();
    let wrong = Shapes { filter: [c.out_c, c.kh, c.kw, fd + 1], ..shapes };
    for variant in [Variant::Reference, Variant::Packed, Variant::Folded] {
        let r = conv.eval(
            variant,
            operands(&input, &filter, &bias_bytes, requantize, &mut out, wrong),
            &mut [],
        );
        prop_assert!(r.is_err());
        prop_assert_eq!(&out, &before);
    }
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
                            let iy = (y * c.stride.0 + ky * c.dilation.0) as isize
                                - window.pad_h as isize;
                            let ix = (x * c.stride.1 + kx * c.dilation.1) as isize
                                - window.pad_w as isize;
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
    Ok(())
}
