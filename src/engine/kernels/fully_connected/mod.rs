//! FULLY_CONNECTED (int8 in, int8 weights, optional int32 bias, int8 out).
//!
//! `out[b][u] = clamp(zp_out + M_u * (bias[u] + sum_d (w[u][d] - zp_w) * (x[b][d] - zp_in)))`,
//! TFLite's `reference_integer_ops::FullyConnected` / `FullyConnectedPerChannel`, where the
//! rescale by `M_u` is the full Q0.31 multiplier with one rounding in 64-bit arithmetic (see
//! [`multiply_by_quantized_multiplier_single_rounding`](crate::engine::arith::multiply_by_quantized_multiplier_single_rounding)),
//! not the double-rounding 32-bit one the convolutions use. (TensorFlow Lite Micro uses the
//! 32-bit one here, which is why it differs from the reference by one step on some outputs.)
//!
//! `M` is one
//! multiplier for per-tensor weights (computed from the `f32` product of the input and weight
//! scales, as TFLite's `GetQuantizedConvolutionMultipler` does) or one per output unit for
//! per-channel weights. `keep_num_dims` only changes the output shape, which the loader owns:
//! here the input is `batches x depth` and the output `batches x units`, whatever their rank.
//!
//! The family has one portable kernel, `reference` (what a Cortex-M0 runs, and what every other
//! variant is compared with), and variants that replace it where they are proven bit-identical:
//! `packed` (the DSP instructions, four units per pass), `prepared` (the packed loops with each
//! unit's rescale prepared at load) and `sparse` (pruned weights, each unit's nonzero weights
//! listed at load). [`select`] picks one [`Variant`] per target once, when the operator is
//! prepared; [`FullyConnected::eval`] runs the one it is given.

mod packed;
mod prepared;
mod reference;
pub(crate) mod sparse;

use super::rescale::FcRescale;
use super::{check_bias, lane_offset_fits, I32Le, KernelError, KernelVariant, Requantize, Target};
use crate::engine::arith::{activation_range, FusedActivation, QuantizedMultiplier};

/// The sizes of one FULLY_CONNECTED evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FullyConnectedDims {
    /// Rows of the input (product of all input dimensions but the last).
    pub batches: usize,
    /// Length of each input row (the weights' second dimension).
    pub depth: usize,
    /// Output units (the weights' first dimension).
    pub units: usize,
}

/// The integer parameters of one FULLY_CONNECTED operator.
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct FullyConnected {
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `-weights_zero_point`.
    pub filter_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound (fused activation and int8 range).
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl FullyConnected {
    /// Parameters from the zero points, the output scale and the fused activation.
    pub fn new(
        input_zero_point: i32,
        filter_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<FullyConnected, KernelError> {
        let (activation_min, activation_max) =
            activation_range(activation, output_scale, output_zero_point)?;
        Ok(FullyConnected {
            input_offset: input_zero_point.wrapping_neg(),
            filter_offset: filter_zero_point.wrapping_neg(),
            output_offset: output_zero_point,
            activation_min,
            activation_max,
        })
    }

    /// Runs the operator with `variant` (from [`select`]) on `ops.input` (`batches x depth`),
    /// the weights (`units x depth`, one row per output unit; or their sparse table), an
    /// optional bias of `units` values, writing `ops.output` (`batches x units`).
    /// `ops.requantize` is per-tensor or has `units` channels. The results are the reference's
    /// whatever the variant (a build runs its own equivalent of a variant it cannot run:
    /// [`KernelVariant::in_this_build`]).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with `ops.dims`, or the
    /// prepared rescales cover neither one nor `units` units (nothing is written then), or the
    /// sparse table lists fewer than `units` rows (the output is then unspecified).
    pub fn eval(&self, variant: Variant, mut ops: FcOperands<'_>) -> Result<(), KernelError> {
        let variant = super::KernelVariant::in_this_build(variant);
        // Each arm's guard is a constant: a variant this build does not link is not compiled.
        match variant {
            // The one run-time fallback of the packed variants: offsets or multipliers outside
            // their exact range run the reference (select does not choose them then).
            Variant::Packed if Variant::Packed.is_linked() => {
                check(&ops)?;
                if !packed::eval(self, &mut ops) {
                    reference::run(self, ops);
                }
                Ok(())
            }
            Variant::Prepared if Variant::Prepared.is_linked() => {
                check(&ops)?;
                if !prepared::eval(self, &mut ops)? {
                    reference::run(self, ops);
                }
                Ok(())
            }
            Variant::Sparse if Variant::Sparse.is_linked() => sparse::eval::<false>(self, ops),
            Variant::SparsePacked if Variant::SparsePacked.is_linked() => {
                sparse::eval::<true>(self, ops)
            }
            _ => reference::eval(self, ops),
        }
    }
}

/// The operands of one FULLY_CONNECTED evaluation.
#[derive(Debug)]
pub struct FcOperands<'a> {
    /// The input, `batches x depth`.
    pub input: &'a [i8],
    /// The dense weights, `units x depth` (not read by the sparse variants).
    pub filter: &'a [i8],
    /// The sparse variants' table (written by `sparse::write_table` at prepare; empty for the
    /// dense variants).
    pub listed: &'a [u8],
    /// One value per unit, or none.
    pub bias: Option<I32Le<'a>>,
    /// One multiplier, or one per unit.
    pub requantize: Requantize<'a>,
    /// [`Variant::Prepared`]'s rounding constants ([`rescale_of`] of each multiplier, 0 where
    /// it has none: one, or one per unit); empty for the other variants.
    pub rescales: I32Le<'a>,
    /// The output, `batches x units`.
    pub output: &'a mut [i8],
    /// The sizes.
    pub dims: FullyConnectedDims,
}

/// The kernel variants of FULLY_CONNECTED; stored in the operator's record as its `u8` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Variant {
    /// The portable kernel.
    Reference = 0,
    /// The packed (DSP) kernel for per-tensor weights, deriving the fast rescale on every call
    /// (per-channel weights run the reference under this code: they are
    /// [`Prepared`](Self::Prepared)'s).
    Packed = 1,
    /// The packed kernel with each unit's rescale prepared at load ([`FcOperands::rescales`]).
    Prepared = 2,
    /// Listed weights, portable loops.
    Sparse = 3,
    /// Listed weights, the DSP loops and the fast rescale.
    SparsePacked = 4,
}

impl Variant {
    /// True for the variants that read the listed weights.
    pub fn is_sparse(self) -> bool {
        matches!(self, Variant::Sparse | Variant::SparsePacked)
    }
}

impl super::KernelVariant for Variant {
    const FAMILY: &'static str = "fully_connected";
    const NAMES: &'static [&'static str] =
        &["reference", "packed", "prepared", "sparse", "sparse_packed"];
    const REFERENCE: Variant = Variant::Reference;

    fn portable(self) -> Variant {
        match self {
            Variant::Reference | Variant::Packed | Variant::Prepared => Variant::Reference,
            Variant::Sparse | Variant::SparsePacked => Variant::Sparse,
        }
    }

    fn dsp(self) -> Variant {
        match self {
            Variant::Sparse => Variant::SparsePacked,
            v => v,
        }
    }
}

/// What [`select`] looks at besides the parameters.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a, M> {
    /// The sizes.
    pub dims: FullyConnectedDims,
    /// The weights, if constant.
    pub weights: Option<&'a [i8]>,
    /// True if there is no bias or it is constant (a listed table folds it in).
    pub bias_constant: bool,
    /// True for one multiplier per unit.
    pub per_channel: bool,
    /// Unit `u`'s multiplier (the one the record holds).
    pub multiplier: M,
}

/// The one place FULLY_CONNECTED's kernel is chosen, once, when the operator is prepared:
///
/// * pruned constant weights (rows of at most 256 values, at most half nonzero, a constant
///   bias) are listed: [`Variant::Sparse`], or [`Variant::SparsePacked`] on a DSP target;
/// * on a DSP target, with offsets that fit 16-bit lanes: [`Variant::Prepared`] for
///   per-channel weights (deriving each unit's rescale on every call would cost as much as the
///   multiplications; a unit whose multiplier is outside the fast rescale's range takes the
///   reference's rescale alone, the others keep the fast one), [`Variant::Packed`] for one
///   multiplier in that range (derived once per call, cheaper than the prepared setup on small
///   layers);
/// * otherwise the reference.
#[inline(never)]
pub fn select<M: Fn(usize) -> QuantizedMultiplier>(
    k: &FullyConnected,
    facts: &Facts<'_, M>,
    target: Target,
) -> Variant {
    let FullyConnectedDims { depth, units, .. } = facts.dims;
    let listed = !cfg!(feature = "dense-only")
        && facts.bias_constant
        && facts.weights.is_some_and(|w| {
            let nonzero = sparse::nonzero(w, k.filter_offset).unwrap_or(usize::MAX);
            sparse::worth_it(depth, nonzero, w.len())
        });
    let lanes = depth > 0
        && units > 0
        && lane_offset_fits(k.input_offset)
        && lane_offset_fits(k.filter_offset);
    let in_range =
        || (0..units).all(|u| rescale_of((facts.multiplier)(u), k.output_offset).is_some());
    match target {
        Target::Portable if listed => Variant::Sparse,
        Target::Portable => Variant::Reference,
        Target::Dsp if listed => Variant::SparsePacked,
        Target::Dsp if lanes && facts.per_channel => Variant::Prepared,
        Target::Dsp if lanes && in_range() => Variant::Packed,
        Target::Dsp => Variant::Reference,
    }
}

/// The [`FcRescale`] rounding constant of `m` with output zero point `output_offset`, if that
/// form exists (it does for every multiplier below 1/4 and above 2^-24, the usual range).
pub fn rescale_of(m: QuantizedMultiplier, output_offset: i32) -> Option<i32> {
    FcRescale::new(m, output_offset).map(|r| r.round)
}

/// The length checks every dense variant makes first.
fn check(ops: &FcOperands<'_>) -> Result<(), KernelError> {
    let FullyConnectedDims { batches, depth, units } = ops.dims;
    if Some(ops.input.len()) != batches.checked_mul(depth)
        || Some(ops.filter.len()) != units.checked_mul(depth)
        || Some(ops.output.len()) != batches.checked_mul(units)
        || !ops.requantize.covers(units)
    {
        return Err(KernelError::ShapeMismatch);
    }
    check_bias(ops.bias, units)
}

/// `sum (w + w_off) * (x + x_off)` in wrapping `i32`, as the reference kernel accumulates.
#[inline]
pub(crate) fn dot_with_offsets(w: &[i8], w_off: i32, x: &[i8], x_off: i32) -> i32 {
    w.iter().zip(x).fold(0i32, |acc, (&w, &x)| {
        acc.wrapping_add(
            (w as i32).wrapping_add(w_off).wrapping_mul((x as i32).wrapping_add(x_off)),
        )
    })
}

/// The per-tensor multiplier of FULLY_CONNECTED: `(f64)(input_scale * filter_scale) /
/// (f64)output_scale`, the product rounded to `f32` first as in TFLite's
/// `GetQuantizedConvolutionMultipler`. (Per-channel weights use
/// [`channel_multipliers`](super::channel_multipliers), whose product is in `f64`.)
pub fn per_tensor_multiplier(
    input_scale: f32,
    filter_scale: f32,
    output_scale: f32,
) -> Result<QuantizedMultiplier, KernelError> {
    let product = (input_scale * filter_scale) as f64;
    let real = product / output_scale as f64;
    Ok(QuantizedMultiplier::from_real(real)?)
}
