//! CONV_2D (int8, NHWC input, OHWI weights, per-channel requantization).
//!
//! For every output position `(b, y, x)` and output channel `o`:
//! `acc = bias[o] + sum_{ky,kx,i} w[o][ky][kx][i] * (in[b][y*sh - ph + ky*dh][x*sw - pw + kx*dw][i] - zp_in)`
//! over the taps that fall inside the input (padding contributes nothing, i.e. it acts as the
//! input zero point), then `out = clamp(zp_out + M_o * acc)`. This is TFLite's
//! `reference_integer_ops::ConvPerChannel`; the weights' zero point is not used (int8 weights
//! are symmetric, the loader checks it is 0). Grouped convolutions (input depth a multiple of
//! the weights' depth) are handled as in the reference.
//!
//! The family has one portable kernel, `reference` (what a Cortex-M0 runs, and what every other
//! variant is compared with), and variants that replace it where they are proven bit-identical:
//! `packed` (the DSP instructions, five output pixels per pass) and `sparse` (pruned weights,
//! each channel's nonzero taps listed at load). [`select`] picks one [`Variant`] per target
//! once, when the operator is prepared; [`Conv2d::eval`] runs the one it is given.

mod folded;
pub(crate) mod packed;
mod reference;
pub(crate) mod sparse;

pub use super::geometry::Geometry;
pub use sparse::TapLayout;

use super::{elements, I32Le, KernelError, KernelVariant, Requantize, Target};
use crate::engine::arith::{activation_range, FusedActivation};

/// The integer parameters of one CONV_2D operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2d {
    /// Strides, dilations and padding.
    pub geometry: Geometry,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound (fused activation and int8 range).
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

/// The operand shapes of one convolution (NHWC input and output; OHWI weights for CONV_2D,
/// `[1, kh, kw, channels]` for DEPTHWISE_CONV_2D).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shapes {
    /// `[batch, height, width, channels]`.
    pub input: [usize; 4],
    /// `[out_channels, height, width, in_channels_per_group]` (CONV_2D).
    pub filter: [usize; 4],
    /// `[batch, out_height, out_width, out_channels]`.
    pub output: [usize; 4],
}

/// The operands of one CONV_2D evaluation.
#[derive(Debug)]
pub struct ConvOperands<'a> {
    /// The input, `shapes.input`.
    pub input: &'a [i8],
    /// The dense weights, `shapes.filter` (not read by the sparse variants).
    pub filter: &'a [i8],
    /// The sparse variants' table (written by `sparse::write_table` at prepare; empty for the
    /// dense variants).
    pub listed: &'a [u8],
    /// One value per output channel, or none.
    pub bias: Option<I32Le<'a>>,
    /// Covers every output channel.
    pub requantize: Requantize<'a>,
    /// The output, `shapes.output`.
    pub output: &'a mut [i8],
    /// The shapes of the three tensors.
    pub shapes: Shapes,
}

/// The kernel variants of CONV_2D; stored in the operator's record as its `u8` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Variant {
    /// The portable kernel.
    Reference = 0,
    /// The packed (DSP) kernel; it needs [`Conv2d::scratch_bytes`] of scratch, and falls back
    /// to the reference for a multiplier or bias it cannot rescale exactly.
    Packed = 1,
    /// Listed weights, portable loops.
    Sparse = 2,
    /// Listed weights, eight pixels per walk of a list (DSP).
    SparsePacked = 3,
    /// [`SparsePacked`](Self::SparsePacked) whose accumulators provably stay below `2^30`, so
    /// the channels whose multiplier allows it rescale with the fast form.
    SparsePackedBounded = 4,
    /// The portable kernel with the input zero point folded into the bias and several output
    /// pixels per walk of the weights, for targets without the DSP extension; it needs
    /// [`Conv2d::scratch_bytes`] of scratch, and falls back to the reference without it or for
    /// an input zero point outside the int8 range.
    Folded = 5,
}

impl Variant {
    /// True for the variants that read the listed weights.
    pub fn is_sparse(self) -> bool {
        matches!(self, Variant::Sparse | Variant::SparsePacked | Variant::SparsePackedBounded)
    }
}

impl super::KernelVariant for Variant {
    const FAMILY: &'static str = "conv";
    const NAMES: &'static [&'static str] =
        &["reference", "packed", "sparse", "sparse_packed", "sparse_packed_bounded", "folded"];
    const REFERENCE: Variant = Variant::Reference;

    fn portable(self) -> Variant {
        match self {
            Variant::Reference | Variant::Packed => Variant::Reference,
            Variant::Folded => Variant::Folded,
            Variant::Sparse | Variant::SparsePacked | Variant::SparsePackedBounded => {
                Variant::Sparse
            }
        }
    }

    fn dsp(self) -> Variant {
        match self {
            Variant::Sparse => Variant::SparsePacked,
            Variant::Folded => Variant::Packed,
            v => v,
        }
    }
}

/// What [`select`] looks at besides the parameters: the shapes, and the constant weights and
/// bias when the model holds them.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// The operand shapes.
    pub shapes: Shapes,
    /// The weights, if constant.
    pub weights: Option<&'a [i8]>,
    /// The bias, if there is one and it is constant.
    pub bias: Option<I32Le<'a>>,
}

/// The one place CONV_2D's kernel is chosen, once, when the operator is prepared (CMSIS-NN's
/// `arm_convolve_wrapper_s8` does the same):
///
/// * pruned constant weights (at most half nonzero, tap offsets within 16 bits, one group) are
///   listed: [`Variant::Sparse`] on a portable target; on a DSP target
///   [`Variant::SparsePacked`] (or its bounded form), except a 1x1 layer above 20% density,
///   which runs faster dense on the packed kernel (the lists' row fill costs more than the
///   zeros save);
/// * otherwise the packed kernel on a DSP target when it can apply (one group, an int8 input
///   zero point), else the reference; on a portable target [`Variant::Folded`].
#[inline(never)]
pub fn select(k: &Conv2d, facts: &Facts<'_>, target: Target) -> Variant {
    let [_, _, _, in_c] = facts.shapes.input;
    let [channels, kh, kw, depth] = facts.shapes.filter;
    let patch = kh * kw * depth;
    let total = facts.weights.map_or(0, <[i8]>::len);
    let nonzero = facts.weights.map_or(0, sparse::nonzero);
    let listed = !cfg!(feature = "dense-only")
        && facts.weights.is_some()
        && sparse::worth_it(nonzero, total)
        && TapLayout::new(k, facts.shapes).is_some();
    let packable = depth == in_c
        && patch > 0
        && channels > 0
        && (-128..=127).contains(&k.input_offset.wrapping_neg());
    match target {
        Target::Portable if listed => Variant::Sparse,
        Target::Portable => Variant::Folded,
        Target::Dsp => {
            let dense_faster = kh * kw == 1 && nonzero.saturating_mul(5) > total;
            if listed && !(dense_faster && packable) {
                let weights = facts.weights.unwrap_or(&[]);
                if sparse::bounded(weights, patch, facts.bias) {
                    Variant::SparsePackedBounded
                } else {
                    Variant::SparsePacked
                }
            } else if packable {
                Variant::Packed
            } else {
                Variant::Reference
            }
        }
    }
}

impl Conv2d {
    /// Parameters from the geometry, zero points, output scale and fused activation.
    pub fn new(
        geometry: Geometry,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<Conv2d, KernelError> {
        let (activation_min, activation_max) =
            activation_range(activation, output_scale, output_zero_point)?;
        Ok(Conv2d {
            geometry,
            input_offset: input_zero_point.wrapping_neg(),
            output_offset: output_zero_point,
            activation_min,
            activation_max,
        })
    }

    /// Bytes of scratch memory `variant` needs for `shapes` (0 for the reference).
    pub fn scratch_bytes(&self, variant: Variant, shapes: Shapes) -> usize {
        let [out_channels, h, w, depth] = shapes.filter;
        match variant {
            Variant::Reference => 0,
            Variant::Folded => folded::scratch_bytes(self, shapes),
            Variant::Packed => {
                packed::scratch_bytes(out_channels, h.saturating_mul(w).saturating_mul(depth))
            }
            Variant::Sparse | Variant::SparsePacked | Variant::SparsePackedBounded => {
                TapLayout::new(self, shapes).map_or(usize::MAX, |l| l.scratch_bytes())
            }
        }
    }

    /// Runs the convolution with `variant` (from [`select`]). Shapes are
    /// `[batch, height, width, channels]` for the input and output and
    /// `[out_channels, height, width, in_channels_per_group]` for the weights; the bias holds
    /// `out_channels` values and `requantize` covers `out_channels` channels. The results are
    /// the reference's whatever the variant (a build runs its own equivalent of a variant it
    /// cannot run: [`KernelVariant::in_this_build`]).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a slice length or dimension disagrees, the
    /// sparse table is not the one of these shapes, or `scratch` is shorter than
    /// [`scratch_bytes`](Self::scratch_bytes) for a sparse variant (checked before anything is
    /// written); [`KernelError::Unsupported`] for a zero stride or dilation.
    pub fn eval(
        &self,
        variant: Variant,
        mut ops: ConvOperands<'_>,
        scratch: &mut [u8],
    ) -> Result<(), KernelError> {
        let variant = super::KernelVariant::in_this_build(variant);
        // Each arm's guard is a constant: a variant this build does not link is not compiled.
        match variant {
            Variant::Folded if Variant::Folded.is_linked() => {
                reference::check(self, &ops)?;
                // Run-time fallback: an input zero point outside int8, or too little scratch.
                if !folded::run(self, &mut ops, scratch) {
                    reference::run(self, ops);
                }
                Ok(())
            }
            Variant::Packed if Variant::Packed.is_linked() => {
                reference::check(self, &ops)?;
                // The one run-time fallback: a multiplier or bias outside the packed kernel's
                // exact range (or too little scratch) runs the reference.
                if !packed::conv(self, &mut ops, scratch) {
                    reference::run(self, ops);
                }
                Ok(())
            }
            Variant::Sparse if Variant::Sparse.is_linked() => {
                sparse::eval::<false>(self, ops, scratch, false)
            }
            Variant::SparsePacked if Variant::SparsePacked.is_linked() => {
                sparse::eval::<true>(self, ops, scratch, false)
            }
            Variant::SparsePackedBounded if Variant::SparsePackedBounded.is_linked() => {
                sparse::eval::<true>(self, ops, scratch, true)
            }
            _ => reference::eval(self, ops),
        }
    }
}

/// The shape checks every variant makes first: slice lengths against the shapes, channels
/// against the bias and multipliers, groups.
pub(crate) fn check_shapes(k: &Conv2d, ops: &ConvOperands<'_>) -> Result<(), KernelError> {
    let Shapes { input: input_shape, filter: filter_shape, output: output_shape } = ops.shapes;
    let [batches, _, _, in_depth] = input_shape;
    let [out_depth, filter_h, filter_w, filter_depth] = filter_shape;
    let [out_batches, out_h, out_w, out_c] = output_shape;
    if elements(input_shape) != Some(ops.input.len())
        || elements(output_shape) != Some(ops.output.len())
        || out_batches != batches
        || out_c != out_depth
        || filter_depth == 0
        || !in_depth.is_multiple_of(filter_depth)
        || !ops.requantize.covers(out_depth)
    {
        return Err(KernelError::ShapeMismatch);
    }
    super::check_bias(ops.bias, out_depth)?;
    if !k.geometry.fits(out_h, out_w, filter_h, filter_w) {
        return Err(KernelError::Unsupported);
    }
    let groups = in_depth / filter_depth;
    if groups == 0 || !out_depth.is_multiple_of(groups) {
        return Err(KernelError::ShapeMismatch);
    }
    Ok(())
}
