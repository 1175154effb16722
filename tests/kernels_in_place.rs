#![cfg(feature = "in-place")]
//! Property tests of running CONV_2D and DEPTHWISE_CONV_2D in place (`kernels::in_place`): on
//! random shapes, windows, strides, dilations, SAME/VALID padding, zero points, activations and
//! bands of 1-4 output rows, every kernel variant run in place (its output overlapping its own
//! input as the planner places it, the input in between filled with garbage) gives exactly the
//! bytes of the reference kernel run on separate input and output. Also: a placement one
//! alignment step too tight is refused before anything is written.

mod kernel_support;

use edge_reflex::engine::arith::QuantizedMultiplier;
use edge_reflex::engine::kernels::conv::{self, Conv2d, ConvOperands, Shapes, TapLayout};
use edge_reflex::engine::kernels::depthwise::{self, DepthwiseConv2d, DepthwiseOperands};
use edge_reflex::engine::kernels::in_place::{self, InPlace, Rows, Weights, ALIGN};
use edge_reflex::engine::kernels::testing::conv as sparse_conv;
use edge_reflex::engine::kernels::{I32Le, KernelError, Requantize};
use kernel_support::{conv_case, le_bytes, window_of, ConvCase, Rng};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The operands of one random case.
struct Operands {
    input: Vec<i8>,
    filter: Vec<i8>,
    bias: Vec<u8>,
    multipliers: Vec<u8>,
    shifts: Vec<i8>,
}

impl Operands {
    fn new(rng: &mut Rng, input: usize, filter: usize, channels: usize, sparse: bool) -> Self {
        let mut filter = rng.i8s(filter);
        if sparse {
            // Pruned weights: about three in four zero.
            for (i, w) in filter.iter_mut().enumerate() {
                if !(rng.next() >> (i % 7)).is_multiple_of(4) {
                    *w = 0;
                }
            }
        }
        let mults: Vec<QuantizedMultiplier> = (0..channels)
            .map(|_| QuantizedMultiplier::from_real(rng.scale() as f64 * 0.05).unwrap())
            .collect();
        Operands {
            input: rng.i8s(input),
            filter,
            bias: le_bytes(&rng.bias(channels)),
            multipliers: le_bytes(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>()),
            shifts: mults.iter().map(|m| m.shift as i8).collect(),
        }
    }

    fn requantize(&self) -> Requantize<'_> {
        Requantize::PerChannel { multipliers: I32Le(&self.multipliers), shifts: &self.shifts }
    }
}

/// Where the planner would put the input and output for `rows`: the output at the region's
/// start, the input `output_below` above it. Returns the region (input copied in, the rest
/// garbage) and the placement.
fn region_for(rows: Rows, input: &[i8], out_len: usize, seed: u64) -> (Vec<u8>, InPlace) {
    let below = in_place::output_below(rows).unwrap();
    assert_eq!(below % ALIGN, 0);
    let len = (below + input.len()).max(out_len);
    let mut rng = Rng(seed | 1);
    let mut region: Vec<u8> = rng.i8s(len).into_iter().map(|v| v as u8).collect();
    region[below..below + input.len()].copy_from_slice(bytemuck::cast_slice(input));
    (region, InPlace { input: below, output: 0 })
}

/// Runs `c` (a CONV_2D case) in place with every variant that applies, on bands of `band`
/// rows, and compares with the reference kernel.
fn check_conv(c: &ConvCase, band: usize, sparse: bool) -> Result<(), TestCaseError> {
    let Some((window, oh, ow)) = window_of(c) else { return Ok(()) };
    let k = Conv2d::new(window, c.zp_in, 0.05, c.zp_out, c.act).unwrap();
    let shapes = Shapes {
        input: [c.batches, c.in_h, c.in_w, c.in_c],
        filter: [c.out_c, c.kh, c.kw, c.in_c / c.groups],
        output: [c.batches, oh, ow, c.out_c],
    };
    let Some(rows) = Rows::of_conv(window, shapes) else { return Ok(()) };
    // Bands no taller than one batch's output (what `with_band` allows).
    let rows = rows.with_band(band.min(oh)).unwrap();
    let mut rng = Rng(c.seed);
    let size = |s: [usize; 4]| s.iter().product::<usize>();
    let o = Operands::new(&mut rng, size(shapes.input), size(shapes.filter), c.out_c, sparse);
    let bias = Some(I32Le(&o.bias));
    let mut expected = vec![0i8; size(shapes.output)];
    let ops = ConvOperands {
        input: &o.input,
        filter: &o.filter,
        listed: &[],
        bias,
        requantize: o.requantize(),
        output: &mut expected,
        shapes,
    };
    k.eval(conv::Variant::Reference, ops, &mut []).unwrap();
    // The listed table, where the weights can be listed.
    let mut table = vec![];
    let mut variants = vec![conv::Variant::Reference, conv::Variant::Packed];
    if let Some(layout) = TapLayout::new(&k, shapes).filter(|_| c.groups == 1) {
        table = vec![0u8; sparse_conv::table_bytes(c.out_c, sparse_conv::nonzero(&o.filter))];
        let (f, i) = (&o.filter, k.input_offset);
        prop_assert!(sparse_conv::write_table(f, shapes, &layout, i, bias, &mut table));
        variants.extend([conv::Variant::Sparse, conv::Variant::SparsePacked]);
        if sparse_conv::bounded(&o.filter, c.kh * c.kw * c.in_c, bias) {
            variants.push(conv::Variant::SparsePackedBounded);
        }
    }
    for variant in variants {
        let listed = if variant.is_sparse() { &table[..] } else { &[][..] };
        let w = Weights { filter: &o.filter, listed, bias, requantize: o.requantize(), shapes };
        let (mut region, at) = region_for(rows, &o.input, expected.len(), c.seed);
        let buffer = rows.buffer_bytes().unwrap();
        let mut scratch = vec![0u8; buffer + k.scratch_bytes(variant, shapes)];
        let eval = |k: &Conv2d, ops: ConvOperands<'_>, s: &mut [u8]| k.eval(variant, ops, s);
        let r = in_place::conv(&k, &w, rows, &mut region, at, &mut scratch, eval);
        prop_assert_eq!(r, Ok(()), "{:?} {:?} {:?}", variant, rows, at);
        let out: &[i8] = bytemuck::cast_slice(&region[..expected.len()]);
        prop_assert_eq!(out, &expected[..], "{:?} {:?}", variant, rows);
        // One alignment step tighter is refused, nothing written.
        if at.input >= ALIGN {
            let (mut region, at) = region_for(rows, &o.input, expected.len(), c.seed);
            let before = region.clone();
            let tight = InPlace { input: at.input - ALIGN, output: 0 };
            let e = in_place::conv(&k, &w, rows, &mut region, tight, &mut scratch, eval);
            prop_assert_eq!(e, Err(KernelError::ShapeMismatch));
            prop_assert_eq!(region, before);
        }
    }
    Ok(())
}

/// Runs `c` as a DEPTHWISE_CONV_2D with `multiplier` in place with every variant that applies,
/// on bands of `band` rows, and compares with the reference kernel.
fn check_depthwise(c: &ConvCase, multiplier: usize, band: usize) -> Result<(), TestCaseError> {
    let Some((window, oh, ow)) = window_of(c) else { return Ok(()) };
    let out_c = c.in_c * multiplier;
    let k = DepthwiseConv2d::new(window, multiplier, c.zp_in, 0.05, c.zp_out, c.act).unwrap();
    let shapes = Shapes {
        input: [c.batches, c.in_h, c.in_w, c.in_c],
        filter: [1, c.kh, c.kw, out_c],
        output: [c.batches, oh, ow, out_c],
    };
    let Some(rows) = Rows::of_conv(window, shapes) else { return Ok(()) };
    let rows = rows.with_band(band.min(rows.batch_rows)).unwrap();
    let mut rng = Rng(c.seed);
    let size = |s: [usize; 4]| s.iter().product::<usize>();
    let o = Operands::new(&mut rng, size(shapes.input), size(shapes.filter), out_c, false);
    let bias = Some(I32Le(&o.bias));
    let mut expected = vec![0i8; size(shapes.output)];
    let ops = DepthwiseOperands {
        input: &o.input,
        filter: &o.filter,
        bias,
        requantize: o.requantize(),
        output: &mut expected,
        shapes,
    };
    k.eval(depthwise::Variant::Reference, ops, &mut []).unwrap();
    let variants = [
        depthwise::Variant::Reference,
        depthwise::Variant::Packed,
        depthwise::Variant::SingleChannel,
    ];
    for variant in variants {
        let w =
            Weights { filter: &o.filter, listed: &[], bias, requantize: o.requantize(), shapes };
        let (mut region, at) = region_for(rows, &o.input, expected.len(), c.seed);
        let buffer = rows.buffer_bytes().unwrap();
        let mut scratch = vec![0u8; buffer + k.scratch_bytes(variant, shapes)];
        let eval =
            |k: &DepthwiseConv2d, ops: DepthwiseOperands<'_>, s: &mut [u8]| k.eval(variant, ops, s);
        in_place::depthwise(&k, &w, rows, &mut region, at, &mut scratch, eval).unwrap();
        let out: &[i8] = bytemuck::cast_slice(&region[..expected.len()]);
        prop_assert_eq!(out, &expected[..], "{:?} {:?}", variant, rows);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn conv_in_place_matches_reference(c in conv_case(), band in 1usize..5, sparse: bool) {
        check_conv(&c, band, sparse)?;
    }

    #[test]
    fn pointwise_conv_in_place_matches_reference(
        c in conv_case(), band in 1usize..5, wide in 1usize..9, sparse: bool,
    ) {
        // 1x1 stride-1 layers (several batches too), widening and narrowing.
        let c = ConvCase { kh: 1, kw: 1, stride: (1, 1), groups: 1, in_c: c.in_c * wide / c.groups,
            out_c: c.out_c * 3 / c.groups, ..c };
        check_conv(&c, band, sparse)?;
    }

    #[test]
    fn depthwise_in_place_matches_reference(
        c in conv_case(), multiplier in 1usize..4, band in 1usize..5, wide in 1usize..6,
    ) {
        let c = ConvCase { in_c: c.in_c * wide, batches: 1, ..c };
        check_depthwise(&c, multiplier, band)?;
    }

    #[test]
    fn depthwise_3x3_in_place_matches_reference(
        c in conv_case(), band in 1usize..5, stride in 1usize..3, tall in 0usize..12,
    ) {
        // The packed kernel's shapes (MobileNet's and the keyword spotter's layers).
        let c = ConvCase { kh: 3, kw: 3, dilation: (1, 1), stride: (stride, stride), batches: 1,
            in_h: c.in_h + tall, in_w: c.in_w + 3, in_c: c.in_c * 5, ..c };
        check_depthwise(&c, 1, band)?;
    }
}

#[test]
fn rows_not_of_these_shapes_are_refused() {
    let g = conv::Geometry {
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        pad_h: 1,
        pad_w: 1,
    };
    let shapes = Shapes { input: [1, 6, 4, 2], filter: [2, 3, 3, 2], output: [1, 6, 4, 2] };
    let k = Conv2d {
        geometry: g,
        input_offset: 0,
        output_offset: 0,
        activation_min: -128,
        activation_max: 127,
    };
    let rows = Rows::of_conv(g, shapes).unwrap();
    let (filter, bias, mults, shifts) =
        (vec![1i8; 36], None, le_bytes(&[1 << 30; 2]), vec![0i8; 2]);
    let requantize = Requantize::PerChannel { multipliers: I32Le(&mults), shifts: &shifts };
    let w = Weights { filter: &filter, listed: &[], bias, requantize, shapes };
    let mut region = vec![0u8; 64];
    let mut scratch = vec![0u8; 256];
    let at = InPlace { input: 16, output: 0 };
    let eval =
        |k: &Conv2d, ops: ConvOperands<'_>, s: &mut [u8]| k.eval(conv::Variant::Reference, ops, s);
    for wrong in [
        Rows { stride: 2, ..rows },
        Rows { band: 0, ..rows },
        Rows { input: 7, ..rows },
        Rows { band: 7, ..rows },
    ] {
        let e = in_place::conv(&k, &w, wrong, &mut region, at, &mut scratch, eval);
        assert_eq!(e, Err(KernelError::ShapeMismatch));
    }
    assert!(region.iter().all(|&b| b == 0));
    // The right rows run: in one band (nothing below), or in bands of two (a row below).
    assert_eq!(in_place::output_below(rows), Some(0));
    let two = Rows { band: 2, ..rows };
    assert_eq!(in_place::output_below(two), Some(16));
    for (rows, at) in [(rows, InPlace { input: 0, output: 0 }), (two, at)] {
        let mut region = vec![0u8; 64];
        let e = in_place::conv(&k, &w, rows, &mut region, at, &mut scratch, eval);
        assert_eq!(e, Ok(()));
    }
}
