//! Property tests of FULLY_CONNECTED's variants against the deliberately simple scalar references of
//! `kernel_support` (which share no code with the kernels). Shapes, strides, padding, zero
//! points and multipliers are drawn at random; tensor contents come from a seeded generator.

mod kernel_support;

use edge_reflex::engine::arith::QuantizedMultiplier;
use edge_reflex::engine::kernels::fully_connected::{
    self as fc_kernel, rescale_of, Facts, FcOperands, FullyConnected, FullyConnectedDims, Variant,
};
use edge_reflex::engine::kernels::testing::fully_connected as sparse;
use edge_reflex::engine::kernels::{I32Le, Requantize, Target};
use kernel_support::*;
use proptest::prelude::*;

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
        let channels = ChannelMultipliers::of(&mults);
        let requantize = if per_channel {
            channels.per_channel()
        } else {
            Requantize::PerTensor(mults[0])
        };
        let fc = FullyConnected::new(zp_in, zp_w, out_scale, zp_out, act).unwrap();
        let dims = FullyConnectedDims { batches, depth, units };
        let bias_view = with_bias.then_some(I32Le(&bias_bytes));
        macro_rules! ops {
            ($variant_data:expr, $output:expr) => {{
                let (listed, rescales) = $variant_data;
                FcOperands {
                    input: &input, filter: &filter, listed, bias: bias_view, requantize,
                    rescales: I32Le(rescales), output: $output, dims,
                }
            }};
        }
        let mut out = vec![0i8; batches * units];
        fc.eval(Variant::Reference, ops!((&[], &[]), &mut out)).unwrap();
        // The packed variant (which falls back to the reference where its rescale does not
        // exist) gives the same bytes.
        let mut packed = vec![0i8; out.len()];
        fc.eval(Variant::Packed, ops!((&[], &[]), &mut packed)).unwrap();
        prop_assert_eq!(&packed, &out);
        // The prepared-rescale variant (per-tensor or per-unit multipliers) gives the same bytes;
        // per unit, a multiplier without the fast form is recorded as 0 and that unit alone
        // takes the reference's rescale.
        let n = if per_channel { units } else { 1 };
        let prepared: Option<Vec<i32>> = (0..n)
            .map(|u| rescale_of(mults[u], fc.output_offset).or(per_channel.then_some(0)))
            .collect();
        if let Some(prepared) = &prepared {
            let rescales = le_bytes(prepared);
            let mut fast = vec![0i8; out.len()];
            fc.eval(Variant::Prepared, ops!((&[], &rescales[..]), &mut fast)).unwrap();
            prop_assert_eq!(&fast, &out);
        }
        let multiplier = |u: usize| if per_channel { mults[u] } else { mults[0] };
        let table_bytes = sparse::table_bytes(&filter, depth, fc.filter_offset);
        if let (Some(bytes), true) = (table_bytes, depth <= 256) {
            let mut table = vec![0u8; bytes];
            let k = sparse::UnitConstants {
                input_offset: fc.input_offset,
                bias: bias_view,
                multiplier,
                output_offset: fc.output_offset,
            };
            prop_assert!(sparse::write_table(&filter, depth, fc.filter_offset, k, &mut table));
            for variant in [Variant::Sparse, Variant::SparsePacked] {
                let mut listed = vec![0i8; out.len()];
                fc.eval(variant, ops!((&table[..], &[]), &mut listed)).unwrap();
                prop_assert_eq!(&listed, &out);
            }
        }
        // What select chooses: listed weights for pruned rows, packed variants only on a DSP
        // target and only where every unit's fast rescale exists.
        let facts = Facts { dims, weights: Some(&filter), bias_constant: true, per_channel, multiplier };
        let portable = fc_kernel::select(&fc, &facts, Target::Portable);
        prop_assert!(matches!(portable, Variant::Reference | Variant::Sparse));
        let dsp = fc_kernel::select(&fc, &facts, Target::Dsp);
        prop_assert_eq!(dsp.is_sparse(), portable.is_sparse());
        if dsp == Variant::Prepared {
            prop_assert!(per_channel && prepared.is_some());
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
        // A wrong length is an error, not a panic, and nothing is written.
        let before = out.clone();
        let wrong = FullyConnectedDims { batches, depth: depth + 1, units };
        for variant in [Variant::Reference, Variant::Packed, Variant::Prepared] {
            let ops = FcOperands {
                input: &input, filter: &filter, listed: &[], bias: None, requantize,
                rescales: I32Le(&[0; 4]), output: &mut out, dims: wrong,
            };
            prop_assert!(fc.eval(variant, ops).is_err());
            prop_assert_eq!(&out, &before);
        }
    }
}

proptest! {
    /// Symmetric weights (zero point 0, the usual int8 weights) take the dense DSP loop's four
    /// units per pass: long rows (an MLPerf AD layer's 640), unit counts around multiples of
    /// four, depths with and without a tail, and inputs/weights at the int8 extremes.
    #[test]
    fn four_units_per_pass_match_reference(
        batches in 1usize..3, depth in 0usize..700, units in 1usize..14,
        zp_in in -128i32..128, zp_out in -128i32..128, extremes in 0u8..3,
        per_channel in any::<bool>(), with_bias in any::<bool>(), act in activation(),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let edge = |v: i8, rng: &mut kernel_support::Rng| if rng.next().is_multiple_of(2) { v } else { -128 };
        let mut input = rng.i8s(batches * depth);
        let mut filter = rng.i8s(units * depth);
        match extremes {
            0 => {}
            1 => {
                input.iter_mut().for_each(|x| *x = edge(127, &mut rng));
                filter.iter_mut().for_each(|w| *w = edge(127, &mut rng));
            }
            _ => {
                input.fill(-128);
                filter.fill(-128);
            }
        }
        let bias = rng.bias(units);
        let bias_bytes = le_bytes(&bias);
        let mults: Vec<QuantizedMultiplier> = (0..units)
            .map(|_| QuantizedMultiplier::from_real(rng.scale() as f64 * 1e-3).unwrap())
            .collect();
        let channels = ChannelMultipliers::of(&mults);
        let requantize = if per_channel {
            channels.per_channel()
        } else {
            Requantize::PerTensor(mults[0])
        };
        let fc = FullyConnected::new(zp_in, 0, rng.scale(), zp_out, act).unwrap();
        let dims = FullyConnectedDims { batches, depth, units };
        let n = if per_channel { units } else { 1 };
        let rounds: Vec<i32> =
            (0..n).map(|u| rescale_of(mults[u], fc.output_offset).unwrap_or(0)).collect();
        let rounds = le_bytes(&rounds);
        for (variant, rescales) in [(Variant::Packed, &[][..]), (Variant::Prepared, &rounds[..])] {
            let mut out = vec![0i8; batches * units];
            let ops = FcOperands {
                input: &input, filter: &filter, listed: &[],
                bias: with_bias.then_some(I32Le(&bias_bytes)), requantize,
                rescales: I32Le(rescales), output: &mut out, dims,
            };
            fc.eval(variant, ops).unwrap();
            for b in 0..batches {
                for u in 0..units {
                    let mut acc: i64 = if with_bias { bias[u] as i64 } else { 0 };
                    for d in 0..depth {
                        acc += filter[u * depth + d] as i64
                            * (input[b * depth + d] as i64 - zp_in as i64);
                    }
                    let m = if per_channel { mults[u] } else { mults[0] };
                    let v = ref_single_rounding(acc, m) + zp_out as i64;
                    let want = clamp8(v, fc.activation_min, fc.activation_max);
                    prop_assert_eq!(out[b * units + u], want, "{:?} b {} u {}", variant, b, u);
                }
            }
        }
    }
}
