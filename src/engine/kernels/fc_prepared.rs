//! FULLY_CONNECTED with its rescales prepared at load: the fast path of the operator.
//!
//! The packed kernel of [`fully_connected`](super::fully_connected) has to turn each unit's
//! [`QuantizedMultiplier`] into the two-instruction
//! [`FcRescale`] form (and check that it exists) on every call; for a small layer, or one with a
//! multiplier per unit, that costs as much as the multiplications. Here the load step has done it
//! once ([`rescale_of`]) and the operator's record holds each unit's [`FcRescale`] rounding
//! constant beside its multiplier, so an evaluation is the dot products, one SMMLA, one shift and
//! a clamp per output.
//!
//! Two units share each pass over the input row; four depth values per step, where SXTAB16
//! applies the zero-point offsets while sign-extending and SMLAD multiplies and adds two pairs.
//! Same results as [`FullyConnected::eval_portable`], bit for bit (the property tests compare
//! them). On targets without the packed instructions ([`FAST_PATHS`] false) it runs the portable
//! kernel with the record's regular multipliers.

use super::fully_connected::{dot_with_offsets, FullyConnected, FullyConnectedDims};
use super::rescale::FcRescale;
use super::{dsp, lane_offset_fits, word, I32Le, KernelError, Requantize, FAST_PATHS};
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};

/// The [`FcRescale`] rounding constant of `m` with output zero point `output_offset`, if that
/// form exists (it does for every multiplier below 1/4 and above 2^-24, the usual range).
pub fn rescale_of(m: QuantizedMultiplier, output_offset: i32) -> Option<i32> {
    FcRescale::new(m, output_offset).map(|r| r.round)
}

impl FullyConnected {
    /// [`eval`](Self::eval) with `rescales`, the [`rescale_of`] rounding constants of
    /// `requantize` (one for per-tensor weights, or one per unit), prepared at load.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with `dims` or `rescales`
    /// covers neither one nor `units` units; nothing is written then.
    #[allow(clippy::too_many_arguments)]
    pub fn eval_rescaled(
        &self,
        dims: FullyConnectedDims,
        requantize: Requantize<'_>,
        rescales: I32Le<'_>,
        input: &[i8],
        filter: &[i8],
        bias: Option<I32Le<'_>>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        let FullyConnectedDims { batches, depth, units } = dims;
        if !(rescales.len() == 1 || rescales.len() == units) {
            return Err(KernelError::ShapeMismatch);
        }
        if !(FAST_PATHS
            && lane_offset_fits(self.input_offset)
            && lane_offset_fits(self.filter_offset))
            || depth == 0
        {
            return self.eval_portable(dims, requantize, input, filter, bias, output);
        }
        // Wrapping products: an overflowing shape cannot match real slices, and the loops below
        // stay in bounds whatever the lengths (chunked iteration).
        if input.len() != batches.wrapping_mul(depth)
            || filter.len() != units.wrapping_mul(depth)
            || output.len() != batches.wrapping_mul(units)
            || bias.is_some_and(|b| b.len() != units)
        {
            return Err(KernelError::ShapeMismatch);
        }
        if !requantize.covers(units) {
            return Err(KernelError::ShapeMismatch);
        }
        let offsets = (dsp::splat(self.input_offset), dsp::splat(self.filter_offset));
        let (lo, hi) = (self.activation_min, self.activation_max);
        let finish = |acc: i32, rescale: FcRescale| clamp_to_i8(rescale.apply(acc), lo, hi);
        for (x, out_row) in input.chunks_exact(depth).zip(output.chunks_exact_mut(units)) {
            let mut biases = words(bias.map_or(&[][..], |b| b.0), 0);
            let mut rescales = unit_rescales(requantize, rescales);
            let mut rows = filter.chunks_exact(2 * depth);
            let mut outs = out_row.chunks_exact_mut(2);
            for (w, out) in (&mut rows).zip(&mut outs) {
                let (w0, w1) = w.split_at(depth);
                let (a0, a1) = self.dot2(x, w0, w1, offsets);
                let (b0, r0) = (biases.next().unwrap_or(0), rescales.next().unwrap_or_default());
                let (b1, r1) = (biases.next().unwrap_or(0), rescales.next().unwrap_or_default());
                out[0] = finish(a0.wrapping_add(b0), r0);
                out[1] = finish(a1.wrapping_add(b1), r1);
            }
            if let (Some(out), Some(w)) =
                (outs.into_remainder().first_mut(), rows.remainder().get(..depth))
            {
                let (b, r) = (biases.next().unwrap_or(0), rescales.next().unwrap_or_default());
                *out = finish(self.dot1(x, w, offsets).wrapping_add(b), r);
            }
        }
        Ok(())
    }

    /// `sum (w+fo)(x+io)` over one row, four values per step, in wrapping `i32`.
    #[inline(always)]
    fn dot1(&self, x: &[i8], w: &[i8], offsets: (u32, u32)) -> i32 {
        let (xo, wo) = offsets;
        let (x4, x_tail) = x.as_chunks::<4>();
        let (w4, w_tail) = w.as_chunks::<4>();
        let mut acc = 0i32;
        for (x, w) in x4.iter().zip(w4) {
            let (x, w) = (word(x), word(w));
            acc = dsp::smlad(dsp::sxtab16(xo, x), dsp::sxtab16(wo, w), acc);
            acc = dsp::smlad(dsp::sxtab16_ror8(xo, x), dsp::sxtab16_ror8(wo, w), acc);
        }
        acc.wrapping_add(dot_with_offsets(w_tail, self.filter_offset, x_tail, self.input_offset))
    }
}

/// Each unit's [`FcRescale`]: its multiplier and shift from `requantize`, its rounding constant
/// from `rounds` (one word repeated, or one per unit), as an iterator (no index checks in the
/// loop).
#[inline(always)]
fn unit_rescales<'a>(
    requantize: Requantize<'a>,
    rounds: I32Le<'a>,
) -> impl Iterator<Item = FcRescale> + 'a {
    let (round_bytes, round_rest) =
        if rounds.len() == 1 { (&[][..], rounds.get(0)) } else { (rounds.0, 0) };
    let (multipliers, shifts, fixed) = match requantize {
        Requantize::PerTensor(m) => (&[][..], &[][..], m),
        Requantize::PerChannel { multipliers, shifts } => {
            (multipliers.0, shifts, QuantizedMultiplier::default())
        }
    };
    let shifts = shifts.iter().map(|&s| s as i32).chain(core::iter::repeat(fixed.shift));
    words(multipliers, fixed.multiplier).zip(shifts).zip(words(round_bytes, round_rest)).map(
        |((multiplier, shift), round)| {
            FcRescale::with_round(QuantizedMultiplier { multiplier, shift }, round)
        },
    )
}

/// The little-endian words of `b`, then `then` forever: per-unit values as an iterator (no
/// index checks in the loop; a per-tensor value is an empty slice and the value repeated).
#[inline(always)]
fn words(b: &[u8], then: i32) -> impl Iterator<Item = i32> + '_ {
    b.as_chunks::<4>().0.iter().map(|w| i32::from_le_bytes(*w)).chain(core::iter::repeat(then))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::arith::FusedActivation;

    #[test]
    fn rescaled_path_matches_the_portable_kernel() {
        let fc = FullyConnected::new(-3, 0, 0.05, 4, FusedActivation::Relu).unwrap();
        let (depth, units) = (7, 5);
        let input: [i8; 14] = core::array::from_fn(|i| (i as i8).wrapping_mul(37).wrapping_sub(60));
        let filter: [i8; 35] =
            core::array::from_fn(|i| (i as i8).wrapping_mul(53).wrapping_add(11));
        let mut bias = [0u8; 20];
        for (b, v) in bias.chunks_exact_mut(4).zip([900i32, -1200, 0, 77, -5]) {
            b.copy_from_slice(&v.to_le_bytes());
        }
        let m = QuantizedMultiplier::from_real(0.0123).unwrap();
        let rescale = rescale_of(m, fc.output_offset).unwrap().to_le_bytes();
        let dims = FullyConnectedDims { batches: 2, depth, units };
        let (mut fast, mut portable) = ([0i8; 10], [0i8; 10]);
        let requantize = Requantize::PerTensor(m);
        let bias = Some(I32Le(&bias));
        fc.eval_rescaled(dims, requantize, I32Le(&rescale), &input, &filter, bias, &mut fast)
            .unwrap();
        fc.eval_portable(dims, requantize, &input, &filter, bias, &mut portable).unwrap();
        assert_eq!(fast, portable);
        let mut two = [0u8; 8];
        two[..4].copy_from_slice(&rescale);
        two[4..].copy_from_slice(&rescale);
        let wrong =
            fc.eval_rescaled(dims, requantize, I32Le(&two), &input, &filter, bias, &mut fast);
        assert_eq!(wrong, Err(KernelError::ShapeMismatch));
    }
}
