//! FULLY_CONNECTED with its rescales prepared at load: the fast path of the operator.
//!
//! The packed kernel has to turn each unit's
//! [`QuantizedMultiplier`] into the two-instruction
//! [`FcRescale`] form (and check that it exists) on every call; for a small layer, or one with a
//! multiplier per unit, that costs as much as the multiplications. Here the load step has done it
//! once ([`rescale_of`](super::rescale_of)) and the operator's record holds each unit's [`FcRescale`] rounding
//! constant beside its multiplier, so an evaluation is the dot products, one SMMLA, one shift and
//! a clamp per output.
//!
//! Four units share each pass over the input row; four depth values per step, where SXTAB16
//! applies the zero-point offsets while sign-extending and SMLAD multiplies and adds two pairs.
//! Same results as the reference kernel, bit for bit (the property tests compare them).

use super::packed::{list, rows};
use super::{FcOperands, FullyConnected, FullyConnectedDims};
use crate::engine::arith::QuantizedMultiplier;
use crate::engine::kernels::rescale::FcRescale;
use crate::engine::kernels::{lane_offset_fits, I32Le, KernelError, Requantize};

/// Runs the prepared kernel with `ops.rescales`, the [`rescale_of`](super::rescale_of)
/// rounding constants of `ops.requantize` (one per unit, per-channel weights; 0 for a unit
/// whose multiplier has no fast form, which then alone takes the reference's arithmetic), on
/// operands the caller checked; `Ok(false)` (nothing written) if the offsets do not fit its
/// 16-bit lanes or the weights are per-tensor (the packed variant's).
///
/// Errors: [`KernelError::ShapeMismatch`] if `rescales` covers neither one nor `units` units;
/// nothing is written then.
#[inline(never)]
pub(super) fn eval(k: &FullyConnected, ops: &mut FcOperands<'_>) -> Result<bool, KernelError> {
    let FcOperands { requantize, rescales, dims, .. } = *ops;
    let FullyConnectedDims { depth, units, .. } = dims;
    if !(rescales.len() == 1 || rescales.len() == units) {
        return Err(KernelError::ShapeMismatch);
    }
    if !(lane_offset_fits(k.input_offset) && lane_offset_fits(k.filter_offset)) || depth == 0 {
        return Ok(false);
    }
    // Per-unit rescales come from three plain slices of the same length (no chained
    // iterators in the loop); per-tensor weights are the packed variant's (one rescale per call).
    let Requantize::PerChannel { multipliers, shifts } = requantize else {
        return Ok(false);
    };
    if multipliers.len() != units || shifts.len() != units || rescales.len() != units {
        return Err(KernelError::ShapeMismatch);
    }
    rows::<true, _>(k, ops, || unit_rescales(multipliers, shifts, rescales));
    Ok(true)
}

/// Each unit's [`FcRescale`]: its multiplier and shift from the operator's per-channel lists,
/// its rounding constant from `rounds`, as one iterator over three slices of the same length (no
/// index checks in the loop).
#[inline(always)]
fn unit_rescales<'a>(
    multipliers: I32Le<'a>,
    shifts: &'a [i8],
    rounds: I32Le<'a>,
) -> impl Iterator<Item = FcRescale> + 'a {
    list(multipliers).zip(shifts).zip(list(rounds)).map(|((multiplier, &shift), round)| {
        FcRescale::with_round(QuantizedMultiplier { multiplier, shift: shift as i32 }, round)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{rescale_of, FcOperands, FullyConnected, FullyConnectedDims, Variant};
    use crate::engine::arith::{FusedActivation, QuantizedMultiplier};
    use crate::engine::kernels::{I32Le, KernelError, Requantize};

    #[test]
    fn prepared_variant_matches_the_reference() {
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
        let (mut fast, mut reference) = ([0i8; 10], [0i8; 10]);
        let requantize = Requantize::PerTensor(m);
        let bias = Some(I32Le(&bias));
        let run = |variant: Variant, rescales: &[u8], output: &mut [i8]| {
            let ops = FcOperands {
                input: &input,
                filter: &filter,
                listed: &[],
                bias,
                requantize,
                rescales: I32Le(rescales),
                output,
                dims,
            };
            fc.eval(variant, ops)
        };
        run(Variant::Prepared, &rescale, &mut fast).unwrap();
        run(Variant::Reference, &[], &mut reference).unwrap();
        assert_eq!(fast, reference);
        let mut two = [0u8; 8];
        two[..4].copy_from_slice(&rescale);
        two[4..].copy_from_slice(&rescale);
        let wrong = run(Variant::Prepared, &two, &mut fast);
        assert_eq!(wrong, Err(KernelError::ShapeMismatch));
    }
}
