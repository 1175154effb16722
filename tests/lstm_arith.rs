//! The integer LSTM's arithmetic at its edges, against exact `i128` evaluations of TFLite's
//! reference formulas written independently of the kernel (`docs/engine.md`, LSTM section):
//!
//! - a gate's two products: each rescaled, the input product saturated to `i16` *before* the
//!   recurrent product is added and the sum saturated again (so a saturated input product
//!   cannot be pulled back by the recurrent one beyond what TFLite gives);
//! - the cell update: both products divided by a power of two with ties away from zero, the sum
//!   saturated to `i16`, then the cell clip (which maps -32768 to -32767 when the clip is
//!   32767, as TFLite's `CwiseClipping` does);
//! - the hidden value: the doubling high multiply (nearest, ties up) and the rounding division,
//!   plus the zero point, clamped to `i8`.
//!
//! The accumulators are built to land on rounding ties on purpose.

use edge_reflex::engine::arith::QuantizedMultiplier;
use edge_reflex::engine::kernels::lstm::{
    fixed16, gate_input, hidden, step, update_cell, LstmParams, LstmWeights, GATES,
};
use edge_reflex::engine::kernels::I32Le;
use proptest::prelude::*;

/// `n / 2^e` rounded to nearest, ties away from zero, exact.
fn round_away(n: i128, e: u32) -> i128 {
    let d = 1i128 << e;
    let q = (n.abs() + d / 2) / d;
    if n < 0 {
        -q
    } else {
        q
    }
}

/// TFLite's `MultiplyByQuantizedMultiplier` (double rounding), exact: `x 2^l m / 2^31` to
/// nearest with ties toward +infinity, then `/ 2^r` with ties away from zero.
fn ref_mbqm(x: i32, m: QuantizedMultiplier) -> i128 {
    let (l, r) = (m.shift.max(0) as u32, (-m.shift).max(0) as u32);
    let shifted = (x as i128) << l;
    let high = (shifted * m.multiplier as i128 + (1i128 << 30)).div_euclid(1i128 << 31);
    round_away(high, r)
}

fn sat16(x: i128) -> i128 {
    x.clamp(-32768, 32767)
}

fn multiplier() -> impl Strategy<Value = QuantizedMultiplier> {
    multiplier_up_to(4)
}

/// Multipliers with a left shift of at most `max_shift` (a product of two Q0.15 values shifted
/// left would wrap, as in C: TFLite's hidden rescale is far below 1).
fn multiplier_up_to(max_shift: i32) -> impl Strategy<Value = QuantizedMultiplier> {
    ((1i32 << 30)..i32::MAX, -20i32..=max_shift)
        .prop_map(|(multiplier, shift)| QuantizedMultiplier { multiplier, shift })
}

fn params(n_input: usize, n_cell: usize) -> LstmParams {
    LstmParams { n_input, n_cell, cell_scale: -12, ..LstmParams::default() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// One gate of one cell (one input, one recurrent weight) against the exact formula, with
    /// biases large enough to saturate either product.
    #[test]
    fn gate_saturates_each_product_like_tflite(
        x in any::<i8>(), h in any::<i8>(), wx in any::<i8>(), wh in any::<i8>(),
        bx in -(1i32 << 24)..(1i32 << 24), bh in -(1i32 << 24)..(1i32 << 24),
        mx in multiplier(), mh in multiplier(),
    ) {
        let mut p = params(1, 1);
        p.input_rescale = [mx; GATES];
        p.recurrent_rescale = [mh; GATES];
        let (wx, wh) = ([wx], [wh]);
        let (bx, bh) = (bx.to_le_bytes(), bh.to_le_bytes());
        let w = LstmWeights {
            input: [&wx[..]; GATES],
            recurrent: [&wh[..]; GATES],
            input_bias: [I32Le(&bx); GATES],
            recurrent_bias: [I32Le(&bh); GATES],
        };
        let got = gate_input(&p, &w, 1, 0, &[x], &[h]);
        let acc_x = i32::from_le_bytes(bx) + wx[0] as i32 * x as i32;
        let acc_h = i32::from_le_bytes(bh) + wh[0] as i32 * h as i32;
        // TFLite adds the rescaled recurrent product to the saturated input product in i32.
        let r = ref_mbqm(acc_h, mh).clamp(i32::MIN as i128, i32::MAX as i128);
        let want = sat16(sat16(ref_mbqm(acc_x, mx)) + r);
        prop_assert_eq!(got as i128, want);
    }

    /// The cell update at and around its rounding ties, for every clip kind.
    #[test]
    fn cell_update_rounds_ties_away_and_clips(
        c in any::<i16>(), f in 0i16..=i16::MAX, i in 0i16..=i16::MAX, g in any::<i16>(),
        cell_scale in -15i32..=-9, clip in prop_oneof![Just(0i16), Just(i16::MAX), 1i16..=i16::MAX],
    ) {
        let got = update_cell(c, i, f, g, cell_scale, clip);
        let kept = round_away(f as i128 * c as i128, 15);
        let added = round_away(i as i128 * g as i128, (30 + cell_scale) as u32);
        let mut want = sat16(kept + added);
        if clip > 0 {
            want = want.clamp(-(clip as i128), clip as i128);
        }
        prop_assert_eq!(got as i128, want);
    }

    /// The hidden value: MBQM of `o * tanh(c)`, plus the zero point, clamped to int8.
    #[test]
    fn hidden_value_rescales_and_offsets(
        o in 0i16..=i16::MAX, c in any::<i16>(), m in multiplier_up_to(0), zp in -128i32..=127,
        cell_scale in -15i32..=-9,
    ) {
        let mut p = params(1, 1);
        p.hidden_rescale = m;
        p.hidden_zero_point = zp;
        p.cell_scale = cell_scale;
        let t = fixed16::tanh(c, (15 + cell_scale) as u32);
        let want = (ref_mbqm(o as i32 * t as i32, m) + zp as i128).clamp(-128, 127);
        prop_assert_eq!(hidden(&p, o, c) as i128, want);
    }
}

/// Exact ties of the cell update, exhaustively over the forget gate: `f c / 2^15` is `k + 1/2`
/// when `c = 2^14` and `f` is odd; the tie goes away from zero on both signs.
#[test]
fn cell_update_ties_go_away_from_zero() {
    for f in (1..=i16::MAX).step_by(2) {
        let up = update_cell(16384, 0, f, 0, -12, 0);
        let down = update_cell(-16384, 0, f, 0, -12, 0);
        assert_eq!(up as i32, (f as i32 + 1) / 2, "f {f}");
        assert_eq!(down as i32, -((f as i32 + 1) / 2), "f {f}");
    }
    // The clip of 32767 (TFLite's clip of 10.0 at 2^-12, the fixtures' case) maps the
    // saturated minimum to -32767.
    assert_eq!(update_cell(-32768, 0, 32767, 0, -12, i16::MAX), -32767);
    assert_eq!(update_cell(-32768, 0, 32767, 0, -12, 0), -32767);
    let saturated = update_cell(-32768, 32767, 32767, -32768, -15, 0);
    assert_eq!(saturated, -32768, "f c + i g below -32768 saturates");
    assert_eq!(update_cell(-32768, 32767, 32767, -32768, -15, i16::MAX), -32767);
}

/// A whole step with one cell against the formulas composed by hand (gate pre-activations that
/// saturate, the clip, the zero point): the kernel's fused per-cell loop computes what TFLite's
/// vector passes compute.
#[test]
fn a_step_composes_the_gates() {
    let mut p = params(2, 1);
    let unit = QuantizedMultiplier { multiplier: 1 << 30, shift: 1 };
    p.input_rescale = [unit; GATES];
    p.recurrent_rescale = [unit; GATES];
    p.hidden_rescale = QuantizedMultiplier { multiplier: 1 << 30, shift: -21 };
    p.hidden_zero_point = -4;
    p.cell_clip = 20000;
    let wx = [[100i8, -7], [127, 127], [-128, 5], [3, 3]];
    let wh = [[9i8], [-9], [50], [-1]];
    let bx: [[u8; 4]; GATES] = [1000, 40000, -300, 7].map(|b: i32| b.to_le_bytes());
    let bh: [[u8; 4]; GATES] = [0, 5, -5, 0].map(|b: i32| b.to_le_bytes());
    let w = LstmWeights {
        input: [&wx[0][..], &wx[1][..], &wx[2][..], &wx[3][..]],
        recurrent: [&wh[0][..], &wh[1][..], &wh[2][..], &wh[3][..]],
        input_bias: [I32Le(&bx[0]), I32Le(&bx[1]), I32Le(&bx[2]), I32Le(&bx[3])],
        recurrent_bias: [I32Le(&bh[0]), I32Le(&bh[1]), I32Le(&bh[2]), I32Le(&bh[3])],
    };
    let x = [90i8, -128];
    let mut h = [17i8];
    let mut c = 30000i16.to_le_bytes();
    let mut out = [0i8];
    let z: Vec<i16> = (0..GATES)
        .map(|k| {
            let ax = i32::from_le_bytes(bx[k]) + wx[k][0] as i32 * 90 + wx[k][1] as i32 * -128;
            let ah = i32::from_le_bytes(bh[k]) + wh[k][0] as i32 * 17;
            sat16(sat16(ref_mbqm(ax, unit)) + ref_mbqm(ah, unit)) as i16
        })
        .collect();
    // The forget gate's input product (35,174) saturates to 32,767 before the recurrent product
    // (-148) is added: 32,619, not the 32,767 of saturating the exact sum.
    assert_eq!(z[1], 32767 - 148);
    let (i, f) = (fixed16::logistic(z[0], 3), fixed16::logistic(z[1], 3));
    let (g, o) = (fixed16::tanh(z[2], 3), fixed16::logistic(z[3], 3));
    let kept = round_away(f as i128 * 30000, 15);
    let added = round_away(i as i128 * g as i128, 18);
    let new_c = sat16(kept + added).clamp(-20000, 20000) as i16;
    let t = fixed16::tanh(new_c, 3);
    let want_h = (ref_mbqm(o as i32 * t as i32, p.hidden_rescale) - 4).clamp(-128, 127) as i8;
    step(&p, &w, &x, &mut h, &mut c, &mut out).unwrap();
    assert_eq!(i16::from_le_bytes(c), new_c);
    assert_eq!(out, [want_h]);
    assert_eq!(h, [want_h], "the new hidden state is the output row");
}
