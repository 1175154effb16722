//! Property tests of CONV_2D zero-weight skipping (`kernels::sparse_conv`): on random pruned
//! weights (most of them 0) the listed kernel gives exactly the bytes of the dense portable
//! kernel, for every geometry (border pixels, strides, dilations, SAME/VALID padding), per-channel
//! requantization, fused activations, large biases (the portable rescale) and misaligned scratch.

use edge_reflex::engine::arith::{FusedActivation, QuantizedMultiplier};
use edge_reflex::engine::kernels::conv::{Conv2d, Window};
use edge_reflex::engine::kernels::packed_conv::Shapes;
use edge_reflex::engine::kernels::sparse_conv::{self, Layout, SparseConv};
use edge_reflex::engine::kernels::{padding, I32Le, Padding, Requantize};
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
    let window = Window {
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
    k.eval_portable(&input, in_shape, &filter, f_shape, bias, requantize, &mut dense, out_shape)
        .unwrap();

    let Some(layout) = Layout::new(&k, shapes) else {
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
    let sparse = SparseConv { table: &table, layout, bounded };
    for misalign in 0..4 {
        let mut scratch = vec![0u8; layout.scratch_bytes() + misalign];
        let mut out = vec![0i8; dense.len()];
        sparse.eval(&k, &input, requantize, &mut out, shapes, &mut scratch[misalign..]).unwrap();
        prop_assert_eq!(&out, &dense);
    }
    // Too little scratch, a truncated table or a wrong output length: an error, nothing panics.
    let mut out = vec![0i8; dense.len()];
    let mut short = vec![0u8; layout.scratch_bytes().saturating_sub(8)];
    prop_assert!(sparse.eval(&k, &input, requantize, &mut out, shapes, &mut short).is_err());
    let mut scratch = vec![0u8; layout.scratch_bytes()];
    let cut = SparseConv { table: &table[..table.len().saturating_sub(1)], layout, bounded };
    if !table.is_empty() {
        prop_assert!(cut.eval(&k, &input, requantize, &mut out, shapes, &mut scratch).is_err());
    }
    let mut longer = vec![0i8; dense.len() + 1];
    prop_assert!(sparse.eval(&k, &input, requantize, &mut longer, shapes, &mut scratch).is_err());
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
        Window { stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1, pad_h: 0, pad_w: 0 };
    let k = Conv2d::new(window, 0, 0.05, 0, FusedActivation::None).unwrap();
    let shapes = Shapes { input: [1, 1, 8, 1], filter: [1, 1, 1, 1], output: [1, 1, 8, 1] };
    let layout = Layout::new(&k, shapes).unwrap();
    let mut table = vec![0u8; sparse_conv::table_bytes(1, 1)];
    assert!(sparse_conv::write_table(&[3], shapes, &layout, 0, None, &mut table));
    table[8] = 0xFE; // offset 0xFFFE bytes
    table[9] = 0xFF;
    let sparse = SparseConv { table: &table, layout, bounded: true };
    let m = QuantizedMultiplier::from_real(0.25).unwrap();
    let mut scratch = vec![0u8; layout.scratch_bytes()];
    let mut out = [0i8; 8];
    let r = sparse.eval(&k, &[1; 8], Requantize::PerTensor(m), &mut out, shapes, &mut scratch);
    assert!(r.is_err());
}
