//! Property tests of CONV_2D zero-weight skipping (the `sparse` variants of `kernels::conv`): on
//! random pruned weights (most of them 0) every listed variant gives exactly the bytes of the
//! reference kernel, for every geometry (border pixels, strides, dilations, SAME/VALID padding), per-channel
//! requantization, fused activations, large biases (the portable rescale) and misaligned scratch.

use edge_reflex::engine::arith::{FusedActivation, QuantizedMultiplier};
use edge_reflex::engine::kernels::conv::{
    self, Conv2d, ConvOperands, Facts, Geometry, Shapes, TapLayout, Variant,
};
use edge_reflex::engine::kernels::testing::conv as sparse_conv;
use edge_reflex::engine::kernels::{padding, I32Le, Padding, Requantize, Target};
use proptest::prelude::*;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn i8(&mut self) -> i8 {
        self.next() as i8
    }
}

#[derive(Debug, Clone)]
struct Case {
    batches: usize,
    in_h: usize,
    in_w: usize,
    in_c: usize,
    out_c: usize,
    kh: usize,
    kw: usize,
    stride: (usize, usize),
    dilation: (usize, usize),
    same: bool,
    zp_in: i32,
    zp_out: i32,
    relu: bool,
    zero_percent: u64,
    big_bias: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (1usize..3, 1usize..8, 1usize..21, 1usize..10, 1usize..6),
        (1usize..4, 1usize..4, (1usize..3, 1usize..3), (1usize..3, 1usize..3)),
        (any::<bool>(), -128i32..128, -128i32..128, any::<bool>()),
        (50u64..100, any::<bool>(), any::<u64>()),
    )
        .prop_map(|(a, b, c, d)| Case {
            batches: a.0,
            in_h: a.1,
            in_w: a.2,
            in_c: a.3,
            out_c: a.4,
            kh: b.0,
            kw: b.1,
            stride: b.2,
            dilation: b.3,
            same: c.0,
            zp_in: c.1,
            zp_out: c.2,
            relu: c.3,
            zero_percent: d.0,
            big_bias: d.1,
            seed: d.2 | 1,
        })
}

fn le_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let scheme = if c.same { Padding::Same } else { Padding::Valid };
    let Some((oh, ph)) = padding(scheme, c.in_h, c.kh, c.stride.0, c.dilation.0) else {
        return Ok(());
    };
    let Some((ow, pw)) = padding(scheme, c.in_w, c.kw, c.stride.1, c.dilation.1) else {
        return Ok(());
    };
    let window = Geometry {
        stride_h: c.stride.0,
        stride_w: c.stride.1,
        dilation_h: c.dilation.0,
        dilation_w: c.dilation.1,
        pad_h: ph,
        pad_w: pw,
    };
    let act = if c.relu { FusedActivation::Relu } else { FusedActivation::None };
    let k = Conv2d::new(window, c.zp_in, 0.05, c.zp_out, act).unwrap();
    let mut rng = Rng(c.seed);
    let in_shape = [c.batches, c.in_h, c.in_w, c.in_c];
    let f_shape = [c.out_c, c.kh, c.kw, c.in_c];
    let out_shape = [c.batches, oh, ow, c.out_c];
    let shapes = Shapes { input: in_shape, filter: f_shape, output: out_shape };
    let input: Vec<i8> = (0..in_shape.iter().product()).map(|_| rng.i8()).collect();
    let filter: Vec<i8> = (0..f_shape.iter().product::<usize>())
        .map(|_| if rng.next() % 100 < c.zero_percent { 0 } else { rng.i8() })
        .collect();
    let bias: Vec<i32> = (0..c.out_c)
        .map(|_| {
            let b = rng.next() as i32;
            if c.big_bias {
                b
            } else {
                b % 5000
            }
        })
        .collect();
    let bias_bytes = le_bytes(&bias);
    let bias = Some(I32Le(&bias_bytes));
    let mults: Vec<QuantizedMultiplier> = (0..c.out_c)
        .map(|_| {
            let real = 0.0005 + (rng.next() % 1000) as f64 * 0.0002;
            QuantizedMultiplier::from_real(real).unwrap()
        })
        .collect();
    let shifts: Vec<i8> = mults.iter().map(|m| m.shift as i8).collect();
    let mult_bytes = le_bytes(&mults.iter().map(|m| m.multiplier).collect::<Vec<_>>());
    let requantize = Requantize::PerChannel { multipliers: I32Le(&mult_bytes), shifts: &shifts };
    let mut dense = vec![0i8; out_shape.iter().product()];
    macro_rules! ops {
        ($listed:expr, $output:expr) => {
            ConvOperands {
                input: &input,
                filter: &filter,
                listed: $listed,
                bias,
                requantize,
                output: $output,
                shapes,
            }
        };
    }
    k.eval(Variant::Reference, ops!(&[], &mut dense), &mut []).unwrap();

    let Some(layout) = TapLayout::new(&k, shapes) else {
        return Ok(());
    };
    let nonzero = sparse_conv::nonzero(&filter);
    let mut table = vec![0u8; sparse_conv::table_bytes(c.out_c, nonzero)];
    prop_assert!(sparse_conv::write_table(
        &filter,
        shapes,
        &layout,
        k.input_offset,
        bias,
        &mut table
    ));
    let bounded = sparse_conv::bounded(&filter, c.kh * c.kw * c.in_c, bias);
    let variants = [Variant::Sparse, Variant::SparsePacked, Variant::SparsePackedBounded];
    // The bounded variant only for weights and bias that are (the contract of select).
    let variants = &variants[..if bounded { 3 } else { 2 }];
    let need = k.scratch_bytes(Variant::Sparse, shapes);
    prop_assert_eq!(need, layout.scratch_bytes());
    for &variant in variants {
        for misalign in 0..4 {
            let mut scratch = vec![0u8; need + misalign];
            let mut out = vec![0i8; dense.len()];
            k.eval(variant, ops!(&table, &mut out), &mut scratch[misalign..]).unwrap();
            prop_assert_eq!(&out, &dense);
        }
        // Too little scratch, a truncated table or a wrong output length: an error, nothing
        // panics.
        let mut out = vec![0i8; dense.len()];
        let mut short = vec![0u8; need.saturating_sub(8)];
        prop_assert!(k.eval(variant, ops!(&table, &mut out), &mut short).is_err());
        let mut scratch = vec![0u8; need];
        if !table.is_empty() {
            let cut = &table[..table.len() - 1];
            prop_assert!(k.eval(variant, ops!(cut, &mut out), &mut scratch).is_err());
        }
        let mut longer = vec![0i8; dense.len() + 1];
        prop_assert!(k.eval(variant, ops!(&table, &mut longer), &mut scratch).is_err());
    }
    // What select chooses for these weights: a listed variant when at most half are nonzero
    // (portable target), the bounded form only when bounded holds.
    let facts = Facts { shapes, weights: Some(&filter), bias };
    let listed = sparse_conv::worth_it(nonzero, filter.len());
    prop_assert_eq!(conv::select(&k, &facts, Target::Portable) == Variant::Sparse, listed);
    let dsp = conv::select(&k, &facts, Target::Dsp);
    if dsp == Variant::SparsePackedBounded {
        prop_assert!(bounded);
    }
    if dsp.is_sparse() {
        prop_assert!(listed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn listed_conv_matches_dense(c in case()) {
        check(&c)?;
    }
}

#[test]
fn a_corrupt_offset_is_refused() {
    // One channel, one listed tap whose offset points past the buffer.
    let window =
        Geometry { stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1, pad_h: 0, pad_w: 0 };
    let k = Conv2d::new(window, 0, 0.05, 0, FusedActivation::None).unwrap();
    let shapes = Shapes { input: [1, 1, 8, 1], filter: [1, 1, 1, 1], output: [1, 1, 8, 1] };
    let layout = TapLayout::new(&k, shapes).unwrap();
    let mut table = vec![0u8; sparse_conv::table_bytes(1, 1)];
    assert!(sparse_conv::write_table(&[3], shapes, &layout, 0, None, &mut table));
    table[8] = 0xFE; // offset 0xFFFE bytes
    table[9] = 0xFF;
    let m = QuantizedMultiplier::from_real(0.25).unwrap();
    let mut scratch = vec![0u8; layout.scratch_bytes()];
    for variant in [Variant::Sparse, Variant::SparsePacked, Variant::SparsePackedBounded] {
        let mut out = [0i8; 8];
        let ops = ConvOperands {
            input: &[1; 8],
            filter: &[3],
            listed: &table,
            bias: None,
            requantize: Requantize::PerTensor(m),
            output: &mut out,
            shapes,
        };
        assert!(k.eval(variant, ops, &mut scratch).is_err());
        assert_eq!(out, [0; 8]);
    }
}
