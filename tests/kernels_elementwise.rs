//! Property tests of ADD, MUL, MEAN and SOFTMAX against the deliberately simple scalar references of
//! `kernel_support` (which share no code with the kernels). Shapes, strides, padding, zero
//! points and multipliers are drawn at random; tensor contents come from a seeded generator.

mod kernel_support;

use edge_reflex::engine::arith::QuantizedMultiplier;
use edge_reflex::engine::kernels::elementwise::{Add, Mul};
use edge_reflex::engine::kernels::mean::Mean;
use edge_reflex::engine::kernels::softmax::Softmax;
use kernel_support::*;
use proptest::prelude::*;

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
