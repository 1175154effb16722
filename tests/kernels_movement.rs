//! Property tests of the data-movement kernels and QUANTIZE/DEQUANTIZE against the deliberately simple scalar references of
//! `kernel_support` (which share no code with the kernels). Shapes, strides, padding, zero
//! points and multipliers are drawn at random; tensor contents come from a seeded generator.

mod kernel_support;

use edge_reflex::engine::kernels::movement::{batch_to_space, pad, space_to_batch, SpaceBatch};
use edge_reflex::engine::kernels::quantize::{Dequantize, Quantize, Requantize8};
use edge_reflex::engine::kernels::shape_ops::StridedSlice;
use kernel_support::*;
use proptest::prelude::*;

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
